// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * jsonl.c - strict reader and writer of the JSONL trace format (jsonl.h).
 *
 * The reader is a small recursive-descent JSON parser specialised for one
 * object per line: no allocation per line, known keys decoded in place,
 * unknown keys skipped whatever their value.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "json_writer.h"

#define MAX_NEST 64

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

static void ws(struct pstate *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
				 *s->p == '\r' || *s->p == '\n'))
		s->p++;
}

static int expect(struct pstate *s, char c)
{
	ws(s);
	if (s->p >= s->end)
		return fail(s, "unexpected end of line, expected '%c'", c);
	if (*s->p != c)
		return fail(s, "expected '%c' but found '%c'", c, *s->p);
	s->p++;
	return 0;
}

/* 1 + the value of a hex digit, 0 for anything else (one load a byte) */
static const unsigned char hex1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
	['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static int hexval(char c)
{
	return (int)hex1[(unsigned char)c] - 1;
}

/* Bytes a JSON string holds as they are: not '"', '\\', control, non-ASCII */
#define P16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
static const unsigned char plain[256] = {
	P16(0), P16(0),					/* 0x00-0x1f */
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0x20: '"' */
	P16(1), P16(1),					/* 0x30-0x4f */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,	/* 0x50: '\\' */
	P16(1), P16(1),					/* 0x60-0x7f */
	P16(0), P16(0), P16(0), P16(0), P16(0), P16(0), P16(0), P16(0),
};
#undef P16

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

/*
 * Parse a JSON string.  With out, decode into out (cap bytes incl. NUL,
 * truncating); without, only validate.
 */
static int parse_string(struct pstate *s, char *out, size_t cap)
{
	size_t n = 0;

	ws(s);
	if (s->p >= s->end || *s->p != '"')
		return fail(s, "expected a string");
	s->p++;
	for (;;) {
		const char *run = s->p;
		unsigned char c;

		/* fast path: a run of plain ASCII, copied at once */
		while (s->p < s->end && plain[(unsigned char)*s->p])
			s->p++;
		if (s->p > run && out) {
			size_t k = s->p - run;

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
		if (c >= 0x80) {
			/* JSON text is UTF-8: whole sequences, or an error */
			size_t l = jw_utf8_len((const unsigned char *)s->p - 1,
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
			continue;
		}
		if (c != '\\') {
			if (out && n + 1 < cap)
				out[n++] = c;
			continue;
		}
		if (s->p >= s->end)
			return fail(s, "unterminated string");
		c = *s->p++;
		switch (c) {
		case '"': case '\\': case '/':
			break;
		case 'b':
			c = '\b';
			break;
		case 'f':
			c = '\f';
			break;
		case 'n':
			c = '\n';
			break;
		case 'r':
			c = '\r';
			break;
		case 't':
			c = '\t';
			break;
		case 'u': {
			uint32_t cp = 0;
			int i, v;

			if (s->end - s->p < 4)
				return fail(s, "bad \\u escape");
			for (i = 0; i < 4; i++) {
				v = hexval(s->p[i]);
				if (v < 0)
					return fail(s, "bad \\u escape");
				cp = cp << 4 | v;
			}
			s->p += 4;
			if (cp >= 0xd800 && cp <= 0xdbff && s->end - s->p >= 6 &&
			    s->p[0] == '\\' && s->p[1] == 'u') {
				uint32_t lo = 0;

				for (i = 0; i < 4; i++) {
					v = hexval(s->p[2 + i]);
					if (v < 0)
						return fail(s, "bad \\u escape");
					lo = lo << 4 | v;
				}
				if (lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					     (lo - 0xdc00);
					s->p += 6;
				}
			}
			/* a surrogate left unpaired is no character */
			if (cp >= 0xd800 && cp <= 0xdfff)
				return fail(s, "unpaired surrogate \\u%04X in "
					    "string", (unsigned int)cp);
			if (out)
				put_utf8(out, cap, &n, cp);
			continue;
		}
		default:
			return fail(s, "bad escape '\\%c' in string", c);
		}
		if (out && n + 1 < cap)
			out[n++] = c;
	}
	if (out)
		out[n] = '\0';
	return 0;
}

/* Integer literal (JSON number without fraction/exponent). */
static int parse_int(struct pstate *s, const char *key, bool allow_neg,
		     int64_t *sv, uint64_t *uv)
{
	bool neg = false;
	uint64_t v = 0;
	const char *start;

	ws(s);
	if (s->p < s->end && *s->p == '-') {
		neg = true;
		s->p++;
	}
	start = s->p;
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
		unsigned d = *s->p - '0';

		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, d, &v))
			return fail(s, "\"%s\": integer out of range", key);
		s->p++;
	}
	if (s->p == start)
		return fail(s, "\"%s\" must be an integer", key);
	if (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E'))
		return fail(s, "\"%s\" must be an integer", key);
	if (s->p - start > 1 && *start == '0')
		return fail(s, "\"%s\": leading zero in integer", key);
	if (neg && !allow_neg)
		return fail(s, "\"%s\" must not be negative", key);
	if (uv)
		*uv = v;
	if (sv) {
		if ((!neg && v > INT64_MAX) || (neg && v > (uint64_t)INT64_MAX + 1))
			return fail(s, "\"%s\": integer out of range", key);
		*sv = neg ? (int64_t)(0 - v) : (int64_t)v;
	}
	return 0;
}

/* Skip any JSON value (for unknown keys). */
static int skip_value(struct pstate *s)
{
	ws(s);
	if (s->p >= s->end)
		return fail(s, "unexpected end of line, expected a value");
	switch (*s->p) {
	case '"':
		return parse_string(s, NULL, 0);
	case '{':
	case '[': {
		char close = *s->p == '{' ? '}' : ']';
		bool obj = close == '}';

		if (++s->depth > MAX_NEST)
			return fail(s, "nesting too deep");
		s->p++;
		ws(s);
		if (s->p < s->end && *s->p == close) {
			s->p++;
			s->depth--;
			return 0;
		}
		for (;;) {
			if (obj && (parse_string(s, NULL, 0) || expect(s, ':')))
				return -1;
			if (skip_value(s))
				return -1;
			ws(s);
			if (s->p < s->end && *s->p == ',') {
				s->p++;
				continue;
			}
			if (expect(s, close))
				return -1;
			s->depth--;
			return 0;
		}
	}
	case 't':
		if (s->end - s->p >= 4 && !memcmp(s->p, "true", 4)) {
			s->p += 4;
			return 0;
		}
		break;
	case 'f':
		if (s->end - s->p >= 5 && !memcmp(s->p, "false", 5)) {
			s->p += 5;
			return 0;
		}
		break;
	case 'n':
		if (s->end - s->p >= 4 && !memcmp(s->p, "null", 4)) {
			s->p += 4;
			return 0;
		}
		break;
	default:
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9')) {
			if (*s->p == '-')
				s->p++;
			if (s->p >= s->end || *s->p < '0' || *s->p > '9')
				return fail(s, "bad number");
			while (s->p < s->end &&
			       ((*s->p >= '0' && *s->p <= '9') || *s->p == '.' ||
				*s->p == 'e' || *s->p == 'E' || *s->p == '+' ||
				*s->p == '-'))
				s->p++;
			return 0;
		}
	}
	return fail(s, "invalid JSON value");
}

/* The next value must be a string: a message naming the key if not. */
static int want_string(struct pstate *s, const char *key, const char *what)
{
	ws(s);
	if (s->p >= s->end || *s->p != '"')
		return fail(s, "\"%s\" must be %s", key, what);
	return 0;
}

static int parse_hex(struct pstate *s, const char *key, uint64_t *v)
{
	char buf[40];
	const char *q;
	uint64_t x = 0;
	int n = 0, d;

	if (want_string(s, key, "a hex string like \"0xffff0000\"") ||
	    parse_string(s, buf, sizeof(buf)))
		return -1;
	q = buf;
	if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X'))
		q += 2;
	for (; *q; q++, n++) {
		d = hexval(*q);
		if (d < 0 || n >= 16)
			return fail(s, "\"%s\": bad hex value \"%s\"", key, buf);
		x = x << 4 | d;
	}
	if (!n)
		return fail(s, "\"%s\": bad hex value \"%s\"", key, buf);
	*v = x;
	return 0;
}

static int parse_flags(struct pstate *s, uint32_t *flags)
{
	char name[32];
	uint32_t bit;

	*flags = 0;
	ws(s);
	if (s->p >= s->end || *s->p != '[')
		return fail(s, "\"flags\" must be an array of names");
	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 0;
	}
	for (;;) {
		if (want_string(s, "flags", "an array of names") ||
		    parse_string(s, name, sizeof(name)))
			return -1;
		bit = tse_flag_from_name(name);
		if (!bit)
			return fail(s, "\"flags\": unknown flag \"%s\"", name);
		*flags |= bit;
		ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		return expect(s, ']');
	}
}

static const char *const type_names[] = {
	[TSE_ALLOC] = "alloc",
	[TSE_REGISTER] = "register",
	[TSE_UNREGISTER] = "unregister",
	[TSE_FREE] = "free",
	[TSE_KEXEC] = "kexec",
};

const char *tse_type_name(int type)
{
	if (type < TSE_ALLOC || type > TSE_KEXEC)
		return NULL;
	return type_names[type];
}

enum {
	K_TS = 1 << 0, K_EVENT = 1 << 1, K_SHM = 1 << 2, K_SIZE = 1 << 3,
	K_FLAGS = 1 << 4, K_CTX = 1 << 5, K_COOKIE = 1 << 6, K_PID = 1 << 7,
	K_COMM = 1 << 8, K_RET = 1 << 9, K_CALLER = 1 << 10, K_KIND = 1 << 11,
};

static const struct {
	const char *name;
	unsigned bit;
} keys[] = {
	{ "ts_ns", K_TS }, { "event", K_EVENT }, { "shm", K_SHM },
	{ "size", K_SIZE }, { "flags", K_FLAGS }, { "ctx", K_CTX },
	{ "cookie", K_COOKIE }, { "pid", K_PID }, { "comm", K_COMM },
	{ "ret", K_RET }, { "caller", K_CALLER }, { "kind", K_KIND },
};

static int parse_member(struct pstate *s, const char *key, unsigned bit,
			struct tse_event *ev)
{
	char buf[16];
	int64_t sv;
	int i;

	switch (bit) {
	case K_TS:
		return parse_int(s, key, false, NULL, &ev->ts_ns);
	case K_EVENT:
		if (want_string(s, key, "a string") ||
		    parse_string(s, buf, sizeof(buf)))
			return -1;
		for (i = TSE_ALLOC; i <= TSE_KEXEC; i++)
			if (!strcmp(buf, type_names[i])) {
				ev->type = i;
				return 0;
			}
		return fail(s, "unknown event \"%s\" (expected alloc, register, "
			    "unregister, free or kexec)", buf);
	case K_SHM:
		return parse_hex(s, key, &ev->shm);
	case K_SIZE:
		ev->has_size = true;
		return parse_int(s, key, false, NULL, &ev->size);
	case K_FLAGS:
		ev->has_flags = true;
		return parse_flags(s, &ev->flags);
	case K_CTX:
		ev->has_ctx = true;
		return parse_hex(s, key, &ev->ctx);
	case K_COOKIE:
		ev->has_cookie = true;
		return parse_hex(s, key, &ev->cookie);
	case K_PID:
		if (parse_int(s, key, false, &sv, NULL))
			return -1;
		if (sv > INT32_MAX)
			return fail(s, "\"pid\": integer out of range");
		ev->pid = sv;
		return 0;
	case K_RET:
		if (parse_int(s, key, true, &sv, NULL))
			return -1;
		if (sv > INT32_MAX || sv < INT32_MIN)
			return fail(s, "\"ret\": integer out of range");
		ev->ret = sv;
		return 0;
	case K_COMM:
		if (want_string(s, key, "a string") ||
		    parse_string(s, ev->comm, sizeof(ev->comm)))
			return -1;
		return 0;
	case K_CALLER:
		if (want_string(s, key, "a string") ||
		    parse_string(s, ev->caller, sizeof(ev->caller)))
			return -1;
		return 0;
	case K_KIND:
		if (want_string(s, key, "a string") ||
		    parse_string(s, buf, sizeof(buf)))
			return -1;
		if (!strcmp(buf, "kexec"))
			ev->kind = TSE_KEXEC_NORMAL;
		else if (!strcmp(buf, "crash"))
			ev->kind = TSE_KEXEC_CRASH;
		else
			return fail(s, "unknown kexec kind \"%s\" (expected "
				    "kexec or crash)", buf);
		return 0;
	}
	return skip_value(s);
}

int tse_jsonl_parse_line(const char *line, size_t len, struct tse_event *ev,
			 char *err, size_t errlen)
{
	struct pstate s = { line, line + len, err, errlen, 0 };
	unsigned seen = 0;
	char key[24];
	size_t i;

	if (err && errlen)
		err[0] = '\0';
	ws(&s);
	if (s.p == s.end)
		return 0;
	if (len > TSE_JSONL_MAX_LINE)
		return fail(&s, "line longer than %d bytes", TSE_JSONL_MAX_LINE);
	memset(ev, 0, offsetof(struct tse_event, comm));
	ev->pid = -1;
	ev->comm[0] = '\0';
	ev->caller[0] = '\0';
	if (*s.p != '{')
		return fail(&s, "not a JSON object");
	s.p++;
	ws(&s);
	if (s.p < s.end && *s.p == '}') {
		s.p++;
	} else {
		for (;;) {
			unsigned bit = 0;

			/* keys longer than any known one are unknown */
			if (parse_string(&s, key, sizeof(key)))
				return -1;
			if (expect(&s, ':'))
				return -1;
			for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
				if (key[0] == keys[i].name[0] &&
				    !strcmp(key, keys[i].name)) {
					bit = keys[i].bit;
					break;
				}
			if (bit & seen)
				return fail(&s, "duplicate key \"%s\"", key);
			seen |= bit;
			if (parse_member(&s, key, bit, ev))
				return -1;
			ws(&s);
			if (s.p < s.end && *s.p == ',') {
				s.p++;
				continue;
			}
			if (expect(&s, '}'))
				return -1;
			break;
		}
	}
	ws(&s);
	if (s.p != s.end)
		return fail(&s, "trailing characters after the object");
	if (!(seen & K_EVENT))
		return fail(&s, "missing \"event\"");
	if (!(seen & K_TS))
		return fail(&s, "missing \"ts_ns\"");
	if (ev->type != TSE_KEXEC && !(seen & K_SHM))
		return fail(&s, "missing \"shm\" on a %s event",
			    type_names[ev->type]);
	return 1;
}

int tse_jsonl_write(FILE *f, const struct tse_event *ev)
{
	const char *names[16];
	struct jw w;
	uint32_t i, n;

	jw_init(&w, f, false);
	jw_obj_begin(&w);
	jw_ku64(&w, "ts_ns", ev->ts_ns);
	jw_kstr(&w, "event", tse_type_name(ev->type) ?: "?");
	if (ev->type != TSE_KEXEC)
		jw_khex(&w, "shm", ev->shm);
	if (ev->has_size)
		jw_ku64(&w, "size", ev->size);
	if (ev->has_flags) {
		jw_key(&w, "flags");
		jw_arr_begin(&w);
		n = tse_flags_each(ev->flags, names, 16);
		for (i = 0; i < n; i++)
			jw_str(&w, names[i]);
		jw_arr_end(&w);
	}
	if (ev->has_ctx)
		jw_khex(&w, "ctx", ev->ctx);
	if (ev->has_cookie)
		jw_khex(&w, "cookie", ev->cookie);
	if (ev->pid >= 0)
		jw_ks64(&w, "pid", ev->pid);
	if (ev->comm[0])
		jw_kstr(&w, "comm", ev->comm);
	if (ev->type == TSE_REGISTER || ev->type == TSE_UNREGISTER || ev->ret)
		jw_ks64(&w, "ret", ev->ret);
	if (ev->caller[0])
		jw_kstr(&w, "caller", ev->caller);
	if (ev->type == TSE_KEXEC)
		jw_kstr(&w, "kind",
			ev->kind == TSE_KEXEC_CRASH ? "crash" : "kexec");
	jw_obj_end(&w);
	jw_end_line(&w);
	return ferror(f) ? -1 : 0;
}

int tse_jsonl_feed_file(FILE *f, const char *name, struct tse_engine *e,
			unsigned long *lines, char *err, size_t errlen)
{
	char msg[256];
	struct tse_event ev;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long ln = 0;
	int r, ret = 0;

	while ((len = getline(&line, &cap, f)) >= 0) {
		ln++;
		if (len && line[len - 1] == '\n')
			len--;
		r = tse_jsonl_parse_line(line, len, &ev, msg, sizeof(msg));
		if (r < 0) {
			snprintf(err, errlen, "%s:%lu: %s", name, ln, msg);
			ret = -1;
			break;
		}
		if (!r)
			continue;
		if (tse_feed(e, &ev)) {
			snprintf(err, errlen, "%s:%lu: out of memory", name, ln);
			ret = -1;
			break;
		}
	}
	if (!ret && ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", name,
			 strerror(errno));
		ret = -1;
	}
	free(line);
	if (lines)
		*lines = ln;
	return ret;
}
