// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * jsonl_parse.c - the JSONL reader's general parser: a small recursive-
 * descent JSON parser specialised for one object per line, and the one
 * that gives the errors.  No allocation per line, known keys decoded in
 * place, unknown keys skipped whatever their value.  It reads what the
 * fast path (jsonl_fast.c) gives up on, with the same readers
 * (jsonl_read.h): a line that both read, both read the same.
 */
#include <stdarg.h>
#include <stdio.h>

#include "jsonl.h"
#include "jsonl_read.h"
#include "json_writer.h"

#define MAX_NEST	64

/* ------------------------------------------------------------ JSON */

struct pstate {
	const char *p, *end;
	char *err;
	size_t errlen;
	int depth;
};

static int fail(struct pstate *s, const char *fmt, ...)
{
	va_list ap;

	if (s->err && s->errlen && !s->err[0]) {
		va_start(ap, fmt);
		vsnprintf(s->err, s->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static inline void ws(struct pstate *s)
{
	/* the common case, no white space, costs one compare */
	if (s->p < s->end && (unsigned char)*s->p > ' ')
		return;
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
				 *s->p == '\r' || *s->p == '\n'))
		s->p++;
}

static inline int expect(struct pstate *s, char c)
{
	if (s->p < s->end && *s->p == c) {
		s->p++;
		return 0;
	}
	ws(s);
	if (s->p >= s->end)
		return fail(s, "unexpected end of line, expected '%c'", c);
	if (*s->p != c)
		return fail(s, "expected '%c' but found '%c'", c, *s->p);
	s->p++;
	return 0;
}

/* After an item of a list: 1 past a ',', 0 past the closing c, or -1 */
static int list_next(struct pstate *s, char c)
{
	ws(s);
	if (s->p < s->end && *s->p == ',') {
		s->p++;
		return 1;
	}
	return expect(s, c);
}

static void put_utf8(char *out, size_t cap, size_t *n, uint32_t cp)
{
	char b[4];
	size_t k, l;

	if (cp < 0x80) {
		b[0] = cp;
		l = 1;
	} else if (cp < 0x800) {
		b[0] = 0xc0 | (cp >> 6);
		b[1] = 0x80 | (cp & 0x3f);
		l = 2;
	} else if (cp < 0x10000) {
		b[0] = 0xe0 | (cp >> 12);
		b[1] = 0x80 | ((cp >> 6) & 0x3f);
		b[2] = 0x80 | (cp & 0x3f);
		l = 3;
	} else {
		b[0] = 0xf0 | (cp >> 18);
		b[1] = 0x80 | ((cp >> 12) & 0x3f);
		b[2] = 0x80 | ((cp >> 6) & 0x3f);
		b[3] = 0x80 | (cp & 0x3f);
		l = 4;
	}
	if (*n + l >= cap)	/* truncate on a character boundary */
		return;
	for (k = 0; k < l; k++)
		out[(*n)++] = b[k];
}

/* A \u escape's code point (s->p past the "\u"), a surrogate pair as one */
static int parse_u_escape(struct pstate *s, uint32_t *cp)
{
	uint64_t hi, lo;

	if (s->end - s->p < 4 || !read_hex(s->p, 4, &hi))
		return fail(s, "bad \\u escape");
	s->p += 4;
	if (hi >= 0xd800 && hi <= 0xdbff && s->end - s->p >= 6 &&
	    s->p[0] == '\\' && s->p[1] == 'u') {
		if (!read_hex(s->p + 2, 4, &lo))
			return fail(s, "bad \\u escape");
		if (lo >= 0xdc00 && lo <= 0xdfff) {
			hi = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
			s->p += 6;
		}
	}
	/* a surrogate left unpaired is no character */
	if (hi >= 0xd800 && hi <= 0xdfff)
		return fail(s, "unpaired surrogate \\u%04X in string",
			    (unsigned int)hi);
	*cp = hi;
	return 0;
}

/* The escape after a '\\' (s->p past it): the code point it stands for */
static int parse_escape(struct pstate *s, uint32_t *cp)
{
	unsigned char c;

	if (s->p >= s->end)
		return fail(s, "unterminated string");
	c = *s->p++;
	switch (c) {
	case '"': case '\\': case '/':
		*cp = c;
		return 0;
	case 'b':
		*cp = '\b';
		return 0;
	case 'f':
		*cp = '\f';
		return 0;
	case 'n':
		*cp = '\n';
		return 0;
	case 'r':
		*cp = '\r';
		return 0;
	case 't':
		*cp = '\t';
		return 0;
	case 'u':
		return parse_u_escape(s, cp);
	}
	return fail(s, "bad escape '\\%c' in string", c);
}

/*
 * Parse a JSON string.  With out, decode into out (cap bytes incl. NUL,
 * truncating); without, only validate.
 */
static int parse_string(struct pstate *s, char *out, size_t cap)
{
	size_t n = 0, k, l;
	uint32_t cp = 0;
	unsigned char c;

	ws(s);
	if (s->p >= s->end || *s->p != '"')
		return fail(s, "expected a string");
	s->p++;
	for (;;) {
		const char *run = s->p;

		/* a run of plain bytes, copied at once */
		s->p = scan_plain(s->p, s->end);
		if (s->p > run && out) {
			k = s->p - run;
			if (n + k >= cap)
				k = n + 1 < cap ? cap - 1 - n : 0;
			memcpy(out + n, run, k);
			n += k;
		}
		if (s->p >= s->end)
			return fail(s, "unterminated string");
		c = *s->p++;
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(s, "control character in string");
		if (c == '\\') {
			if (parse_escape(s, &cp))
				return -1;
			if (out)
				put_utf8(out, cap, &n, cp);
			continue;
		}
		/* JSON text is UTF-8: whole sequences, or an error */
		l = jw_utf8_len((const unsigned char *)s->p - 1,
				s->end - s->p + 1);
		if (!l)
			return fail(s, "invalid UTF-8 in string");
		if (out && n + l < cap) {
			memcpy(out + n, s->p - 1, l);
			n += l;
		} else if (out) {
			cap = n + 1;	/* full: no partial sequence */
		}
		s->p += l - 1;
	}
	if (out)
		out[n] = '\0';
	return 0;
}

/* Skip any JSON value (for unknown keys). */
static int skip_value(struct pstate *s);

static int skip_container(struct pstate *s)
{
	char close = *s->p == '{' ? '}' : ']';
	int r;

	if (++s->depth > MAX_NEST)
		return fail(s, "nesting too deep");
	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		s->depth--;
		return 0;
	}
	do {
		if (close == '}' &&
		    (parse_string(s, NULL, 0) || expect(s, ':')))
			return -1;
		if (skip_value(s))
			return -1;
	} while ((r = list_next(s, close)) > 0);
	if (!r)
		s->depth--;
	return r;
}

static int skip_literal(struct pstate *s, const char *lit, size_t n)
{
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n))
		return fail(s, "invalid JSON value");
	s->p += n;
	return 0;
}

static int skip_value(struct pstate *s)
{
	ws(s);
	if (s->p >= s->end)
		return fail(s, "unexpected end of line, expected a value");
	switch (*s->p) {
	case '"':
		return parse_string(s, NULL, 0);
	case '{':
	case '[':
		return skip_container(s);
	case 't':
		return skip_literal(s, "true", 4);
	case 'f':
		return skip_literal(s, "false", 5);
	case 'n':
		return skip_literal(s, "null", 4);
	}
	if (*s->p != '-' && (*s->p < '0' || *s->p > '9'))
		return fail(s, "invalid JSON value");
	if (*s->p == '-')
		s->p++;
	if (s->p >= s->end || *s->p < '0' || *s->p > '9')
		return fail(s, "bad number");
	while (s->p < s->end &&
	       ((*s->p >= '0' && *s->p <= '9') || *s->p == '.' ||
		*s->p == 'e' || *s->p == 'E' || *s->p == '+' || *s->p == '-'))
		s->p++;
	return 0;
}

/* ------------------------------------------------------------ members */

/* "a, b or c": the names of v[0] to v[n - 1], for a message */
static const char *name_list(const struct name *v, size_t n, char *buf,
			     size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s",
				!i ? "" : i + 1 < n ? ", " : " or ", v[i].s);
	return buf;
}

/* The next value must be a string: a message naming the key if not. */
static int want_string(struct pstate *s, const char *key, const char *what)
{
	ws(s);
	if (s->p >= s->end || *s->p != '"')
		return fail(s, "\"%s\" must be %s", key, what);
	return 0;
}

/*
 * A string, as it stands when plain, else decoded into buf (cap bytes, at
 * least 16, cut as parse_string() cuts): its *sn bytes at *sp, then a '"'
 * (the name and hex readers look for it).  A decoded NUL ends it, as it
 * always has.  With key, a value that is no string is "key must be what".
 */
static int get_span(struct pstate *s, const char *key, const char *what,
		    char *buf, size_t cap, const char **sp, size_t *sn)
{
	const char *q;

	ws(s);
	q = plain_string(s->p, s->end);
	if (q) {
		*sp = s->p + 1;
		*sn = q - *sp;
		s->p = q + 1;
		return 0;
	}
	if ((key && want_string(s, key, what)) || parse_string(s, buf, cap))
		return -1;
	*sp = buf;
	*sn = strlen(buf);
	buf[*sn] = '"';
	return 0;
}

/* How much of a span a message shows: as much as a buffer of cap held */
static int cut(size_t n, size_t cap)
{
	return n < cap ? (int)n : (int)cap - 1;
}

/* A string value into out (cap bytes incl. NUL, cut) */
static int get_string(struct pstate *s, const char *key, char *out,
		      size_t cap)
{
	const char *sp;
	size_t sn;

	if (get_span(s, key, "a string", out, cap, &sp, &sn))
		return -1;
	if (sp == out)
		out[sn] = '\0';
	else
		copy_plain(out, cap, sp, sn);
	return 0;
}

/* A string value naming one of v[0..n) (filed in t): its value in *val */
static int get_name(struct pstate *s, const char *key, const char *what,
		    const struct names *t, const struct name *v, size_t n,
		    int *val)
{
	char buf[16] = "", list[80];
	const struct name *e;
	const char *sp;
	size_t sn;

	if (get_span(s, key, "a string", buf, sizeof(buf), &sp, &sn))
		return -1;
	e = name_lookup(t, sp, sn);
	if (!e)
		return fail(s, "unknown %s \"%.*s\" (expected %s)", what,
			    cut(sn, sizeof(buf)), sp,
			    name_list(v, n, list, sizeof(list)));
	*val = e->val;
	return 0;
}

static int get_hex(struct pstate *s, const char *key, uint64_t *v)
{
	char buf[40] = "";
	const char *sp;
	size_t sn;

	if (get_span(s, key, "a hex string like \"0xffff0000\"", buf,
		     sizeof(buf), &sp, &sn))
		return -1;
	if (hex_string(sp, sn, v))
		return 0;
	return fail(s, "\"%s\": bad hex value \"%.*s\"", key,
		    cut(sn, sizeof(buf)), sp);
}

/* An integer (no fraction, no exponent, no leading zero) and its sign */
static int get_int(struct pstate *s, const char *key, bool *neg,
		   uint64_t *v)
{
	const char *q;

	ws(s);
	*neg = s->p < s->end && *s->p == '-';
	s->p += *neg;
	q = read_digits(s->p, v);
	if (!q)
		return fail(s, "\"%s\": integer out of range", key);
	if (q == s->p || *q == '.' || *q == 'e' || *q == 'E')
		return fail(s, "\"%s\" must be an integer", key);
	if (q - s->p > 1 && *s->p == '0')
		return fail(s, "\"%s\": leading zero in integer", key);
	s->p = q;
	return 0;
}

static int get_uint(struct pstate *s, const char *key, uint64_t max,
		    uint64_t *v)
{
	bool neg;

	if (get_int(s, key, &neg, v))
		return -1;
	if (neg)
		return fail(s, "\"%s\" must not be negative", key);
	if (*v > max)
		return fail(s, "\"%s\": integer out of range", key);
	return 0;
}

static int get_s32(struct pstate *s, const char *key, int32_t *v)
{
	uint64_t u;
	bool neg;

	if (get_int(s, key, &neg, &u))
		return -1;
	if (u > (uint64_t)INT32_MAX + neg)
		return fail(s, "\"%s\": integer out of range", key);
	*v = neg ? -(int64_t)u : (int64_t)u;
	return 0;
}

static int get_flags(struct pstate *s, const char *key, uint32_t *flags)
{
	const struct name *e;
	const char *sp;
	char buf[32];
	size_t sn;
	int r;

	*flags = 0;
	ws(s);
	if (s->p >= s->end || *s->p != '[')
		return fail(s, "\"%s\" must be an array of names", key);
	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 0;
	}
	do {
		memset(buf, 0, sizeof(buf));
		if (get_span(s, key, "an array of names", buf, sizeof(buf),
			     &sp, &sn))
			return -1;
		e = name_lookup(&jsonl_flags, sp, sn);
		if (!e)
			return fail(s, "\"%s\": unknown flag \"%.*s\"", key,
				    cut(sn, sizeof(buf)), sp);
		*flags |= e->val;
	} while ((r = list_next(s, ']')) > 0);
	return r;
}

/* The value of the known key k into ev */
static int get_member(struct pstate *s, const struct name *k,
		      struct tse_event *ev)
{
	uint64_t v;

	switch (k->val) {
	case K_TS:
		return get_uint(s, k->s, UINT64_MAX, &ev->ts_ns);
	case K_EVENT:
		return get_name(s, k->s, "event", &jsonl_events, event_names,
				ARRAY_SIZE(event_names), &ev->type);
	case K_SHM:
		return get_hex(s, k->s, &ev->shm);
	case K_SIZE:
		ev->has_size = true;
		return get_uint(s, k->s, UINT64_MAX, &ev->size);
	case K_FLAGS:
		ev->has_flags = true;
		return get_flags(s, k->s, &ev->flags);
	case K_CTX:
		ev->has_ctx = true;
		return get_hex(s, k->s, &ev->ctx);
	case K_COOKIE:
		ev->has_cookie = true;
		return get_hex(s, k->s, &ev->cookie);
	case K_PID:
		if (get_uint(s, k->s, INT32_MAX, &v))
			return -1;
		ev->pid = v;
		return 0;
	case K_COMM:
		return get_string(s, k->s, ev->comm, sizeof(ev->comm));
	case K_RET:
		return get_s32(s, k->s, &ev->ret);
	case K_CALLER:
		return get_string(s, k->s, ev->caller, sizeof(ev->caller));
	case K_KIND:
		return get_name(s, k->s, "kexec kind", &jsonl_kinds, kind_names,
				ARRAY_SIZE(kind_names), &ev->kind);
	}
	return skip_value(s);
}

/* The members after '{', up to and with the closing '}' */
static int get_members(struct pstate *s, struct tse_event *ev,
		       unsigned int *seen)
{
	const struct name *k;
	const char *sp;
	char key[24];
	size_t sn;
	int r;

	do {
		/* a key longer than any known one is cut: unknown anyway */
		memset(key, 0, sizeof(key));
		if (get_span(s, NULL, NULL, key, sizeof(key), &sp, &sn) ||
		    expect(s, ':'))
			return -1;
		k = name_lookup(&jsonl_keys, sp, sn);
		if (k && (*seen & 1u << k->val))
			return fail(s, "duplicate key \"%s\"", k->s);
		if (k)
			*seen |= 1u << k->val;
		if (k ? get_member(s, k, ev) : skip_value(s))
			return -1;
	} while ((r = list_next(s, '}')) > 0);
	return r;
}

int jsonl_general_line(const char *line, size_t len, struct tse_event *ev,
		       char *err, size_t errlen)
{
	struct pstate s = { line, line + len, err, errlen, 0 };
	unsigned int seen = 0;

	ws(&s);
	if (s.p == s.end)
		return 0;
	event_init(ev);
	if (*s.p != '{')
		return fail(&s, "not a JSON object");
	s.p++;
	ws(&s);
	if (s.p < s.end && *s.p == '}')
		s.p++;
	else if (get_members(&s, ev, &seen))
		return -1;
	ws(&s);
	if (s.p != s.end)
		return fail(&s, "trailing characters after the object");
	if (!(seen & 1u << K_EVENT))
		return fail(&s, "missing \"%s\"", key_names[K_EVENT].name.s);
	if (!(seen & 1u << K_TS))
		return fail(&s, "missing \"%s\"", key_names[K_TS].name.s);
	if (ev->type != TEESHM_EV_KEXEC && !(seen & 1u << K_SHM))
		return fail(&s, "missing \"%s\" on a %s event",
			    key_names[K_SHM].name.s, tse_type_name(ev->type));
	return 1;
}
