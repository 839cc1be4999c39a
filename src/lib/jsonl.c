// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * jsonl.c - strict reader and writer of the JSONL trace format (jsonl.h).
 *
 * The reader is a small recursive-descent JSON parser specialised for one
 * object per line: no allocation per line, known keys decoded in place,
 * unknown keys skipped whatever their value.  In front of it, a fast path
 * (fast_line()) reads a line in the shape the tracer writes in one pass and
 * hands anything else, errors included, to that parser.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "json_writer.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define MAX_NEST 64
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

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

#define ONES	0x0101010101010101ull
#define HIGHS	0x8080808080808080ull

/*
 * The end of a run of plain bytes from p: eight bytes at a time while no
 * byte of the word is '"', '\\', a control or non-ASCII (exact "has a byte
 * below / equal to" tests on the word), then byte by byte.
 */
static inline const char *scan_plain(const char *p, const char *end)
{
	while (end - p >= 8) {
		uint64_t v, q, b;

		memcpy(&v, p, 8);
		q = v ^ (ONES * '"');
		b = v ^ (ONES * '\\');
		if (((v | ((v - ONES * 0x20) & ~v)) |
		     ((q - ONES) & ~q) | ((b - ONES) & ~b)) & HIGHS)
			break;
		p += 8;
	}
	while (p < end && plain[(unsigned char)*p])
		p++;
	return p;
}

/*
 * A string with no escape and no non-ASCII byte, as it stands in the line:
 * on success sp and sn name its bytes and s->p is past it.  Returns false,
 * with s->p unmoved, for anything else (the caller decodes it the slow way,
 * which also gives the errors).
 */
static inline bool span_string(struct pstate *s, const char **sp, size_t *sn)
{
	const char *q;

	if (s->p >= s->end || *s->p != '"')
		return false;
	q = scan_plain(s->p + 1, s->end);
	if (q >= s->end || *q != '"')
		return false;
	*sp = s->p + 1;
	*sn = q - (s->p + 1);
	s->p = q + 1;
	return true;
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
		s->p = scan_plain(s->p, s->end);
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

/* Eight decimal digits at p: v = v * 10^8 + their value; false if not. */
static inline bool digits8(const char *p, uint64_t *v)
{
	uint64_t x;

	memcpy(&x, p, 8);
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	/* every byte 0x30-0x39: high nibble 3, and no carry out when +6 */
	if ((x & ONES * 0xf0) != ONES * 0x30 ||
	    ((x + ONES * 0x06) & ONES * 0xf0) != ONES * 0x30)
		return false;
	x -= ONES * '0';
	x = x * 10 + (x >> 8);		/* pairs, in every other byte */
	x = ((x & 0x000000ff000000ffull) * (100 + (1000000ull << 32)) +
	     ((x >> 16) & 0x000000ff000000ffull) * (1 + (10000ull << 32))) >> 32;
	*v = *v * 100000000 + x;
	return true;
}

/* Integer literal (JSON number without fraction/exponent). */
static int parse_int(struct pstate *s, const char *key, bool allow_neg,
		     int64_t *sv, uint64_t *uv)
{
	bool neg = false;
	uint64_t v = 0;
	const char *start, *lim, *p = s->p;

	/*
	 * The usual: up to 18 digits, no sign, no leading zero, then ',' or
	 * '}' (no overflow possible); anything else goes the long way.
	 */
	if (p < s->end && (unsigned)(*p - '0') < 10) {
		lim = s->end - p > 18 ? p + 18 : s->end;
		if (*p == '0') {
			p++;
		} else {
			while (lim - p >= 8 && digits8(p, &v))
				p += 8;
			while (p < lim && (unsigned)(*p - '0') < 10)
				v = v * 10 + (unsigned)(*p++ - '0');
		}
		if (p < s->end && (*p == ',' || *p == '}')) {
			s->p = p;
			if (uv)
				*uv = v;
			if (sv)
				*sv = (int64_t)v;
			return 0;
		}
		v = 0;
	}
	ws(s);
	if (s->p < s->end && *s->p == '-') {
		neg = true;
		s->p++;
	}
	start = s->p;
	/* 19 digits cannot overflow 64 bits: check only past them */
	lim = s->end - s->p > 19 ? s->p + 19 : s->end;
	while (lim - s->p >= 8 && digits8(s->p, &v))
		s->p += 8;
	while (s->p < lim && (unsigned)(*s->p - '0') < 10)
		v = v * 10 + (unsigned)(*s->p++ - '0');
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

static int parse_hex_slow(struct pstate *s, const char *key, uint64_t *v);

/* Each byte of x (all below 0x80) in [lo, hi]: its high bit set, else 0. */
#define IN_RANGE(x, lo, hi) \
	(((x) + ONES * (0x80 - (lo))) & ~((x) + ONES * (0x7f - (hi))) & HIGHS)

/* Eight hex digits at p (first the most significant) into *out. */
static inline bool hex8(const char *p, uint32_t *out)
{
	uint64_t v, x, letter;

	memcpy(&v, p, 8);
	if (v & HIGHS)
		return false;
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	x = v | ((v & ONES * 0x40) >> 1);	/* 'A'-'F' to 'a'-'f' */
	letter = IN_RANGE(x, 'a', 'f');
	if ((IN_RANGE(x, '0', '9') | letter) != HIGHS)
		return false;
	/* digit values, first digit in the low byte */
	x = (x & ONES * 0x0f) + (letter >> 7) * 9;
	/* pairs of digits into bytes, pairs of bytes into halves, ... */
	x = ((x & 0x000f000f000f000full) << 4) |
	    ((x >> 8) & 0x000f000f000f000full);
	x = ((x & 0x000000ff000000ffull) << 8) |
	    ((x >> 16) & 0x000000ff000000ffull);
	*out = (uint32_t)(((x & 0xffff) << 16) | ((x >> 32) & 0xffff));
	return true;
}

/* A hex string read in place; anything unusual goes the slow way. */
static int parse_hex(struct pstate *s, const char *key, uint64_t *v)
{
	const char *q, *start = s->p;
	uint64_t x = 0;
	int n = 0, d;

	ws(s);
	if (s->end - s->p < 3 || s->p[0] != '"')
		goto slow;
	q = s->p + 1;
	if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X'))
		q += 2;
	if (s->end - q > 16 && q[16] == '"') {
		/* the usual width, a kernel pointer: two words of digits */
		uint32_t hi, lo;

		if (!hex8(q, &hi) || !hex8(q + 8, &lo))
			goto slow;
		s->p = q + 17;
		*v = (uint64_t)hi << 32 | lo;
		return 0;
	}
	while (q < s->end && (d = hex1[(unsigned char)*q]) && n < 16) {
		x = x << 4 | (d - 1);
		q++;
		n++;
	}
	if (!n || q >= s->end || *q != '"')
		goto slow;
	s->p = q + 1;
	*v = x;
	return 0;
slow:
	s->p = start;
	return parse_hex_slow(s, key, v);
}

static int parse_hex_slow(struct pstate *s, const char *key, uint64_t *v)
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
		const char *sp;
		size_t sn;

		ws(s);
		if (span_string(s, &sp, &sn)) {
			bit = tse_flag_from_name_n(sp, sn);
			if (!bit)
				return fail(s, "\"flags\": unknown flag \"%.*s\"",
					    sn > 31 ? 31 : (int)sn, sp);
			*flags |= bit;
			goto next;
		}
		if (want_string(s, "flags", "an array of names") ||
		    parse_string(s, name, sizeof(name)))
			return -1;
		bit = tse_flag_from_name(name);
		if (!bit)
			return fail(s, "\"flags\": unknown flag \"%s\"", name);
		*flags |= bit;
next:
		ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		return expect(s, ']');
	}
}

static const char *const type_names[] = {
	[TEESHM_EV_ALLOC] = "alloc",
	[TEESHM_EV_REGISTER] = "register",
	[TEESHM_EV_UNREGISTER] = "unregister",
	[TEESHM_EV_FREE] = "free",
	[TEESHM_EV_KEXEC] = "kexec",
};

const char *tse_type_name(int type)
{
	if (type < TEESHM_EV_ALLOC || type > TEESHM_EV_KEXEC)
		return NULL;
	return type_names[type];
}

enum {
	K_TS = 1 << 0, K_EVENT = 1 << 1, K_SHM = 1 << 2, K_SIZE = 1 << 3,
	K_FLAGS = 1 << 4, K_CTX = 1 << 5, K_COOKIE = 1 << 6, K_PID = 1 << 7,
	K_COMM = 1 << 8, K_RET = 1 << 9, K_CALLER = 1 << 10, K_KIND = 1 << 11,
};

/* The known keys; known_key() below spells the same names for speed. */
#define KEY(n, b) { n, sizeof(n) - 1, b }
static const struct {
	const char *name;
	size_t len;
	unsigned bit;
} keys[] = {
	KEY("ts_ns", K_TS), KEY("event", K_EVENT), KEY("shm", K_SHM),
	KEY("size", K_SIZE), KEY("flags", K_FLAGS), KEY("ctx", K_CTX),
	KEY("cookie", K_COOKIE), KEY("pid", K_PID), KEY("comm", K_COMM),
	KEY("ret", K_RET), KEY("caller", K_CALLER), KEY("kind", K_KIND),
};
#undef KEY

/* A string value into out (cap bytes incl. NUL, truncated as parse_string) */
static int get_string(struct pstate *s, const char *key, char *out, size_t cap)
{
	const char *sp;
	size_t sn;

	ws(s);
	if (span_string(s, &sp, &sn)) {
		if (sn >= cap)
			sn = cap - 1;
		memcpy(out, sp, sn);
		out[sn] = '\0';
		return 0;
	}
	if (want_string(s, key, "a string") || parse_string(s, out, cap))
		return -1;
	return 0;
}

static int type_from_name(const char *name, size_t n)
{
	/* by length, then one fixed-size compare (inlined) */
	switch (n) {
	case 4:
		return memcmp(name, "free", 4) ? -1 : TEESHM_EV_FREE;
	case 5:
		if (!memcmp(name, "alloc", 5))
			return TEESHM_EV_ALLOC;
		return memcmp(name, "kexec", 5) ? -1 : TEESHM_EV_KEXEC;
	case 8:
		return memcmp(name, "register", 8) ? -1 : TEESHM_EV_REGISTER;
	case 10:
		return memcmp(name, "unregister", 10) ? -1 : TEESHM_EV_UNREGISTER;
	}
	return -1;
}

static int parse_member(struct pstate *s, const char *key, unsigned bit,
			struct tse_event *ev)
{
	const char *sp;
	char buf[16];
	int64_t sv;
	size_t sn;
	int i;

	switch (bit) {
	case K_TS:
		return parse_int(s, key, false, NULL, &ev->ts_ns);
	case K_EVENT:
		ws(s);
		if (span_string(s, &sp, &sn)) {
			i = type_from_name(sp, sn);
			if (i >= 0) {
				ev->type = i;
				return 0;
			}
			if (sn >= sizeof(buf))
				sn = sizeof(buf) - 1;
			memcpy(buf, sp, sn);
			buf[sn] = '\0';
			goto bad_event;
		}
		if (get_string(s, key, buf, sizeof(buf)))
			return -1;
		i = type_from_name(buf, strlen(buf));
		if (i >= 0) {
			ev->type = i;
			return 0;
		}
bad_event:
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
		return get_string(s, key, ev->comm, sizeof(ev->comm));
	case K_CALLER:
		return get_string(s, key, ev->caller, sizeof(ev->caller));
	case K_KIND:
		if (get_string(s, key, buf, sizeof(buf)))
			return -1;
		if (!strcmp(buf, "kexec"))
			ev->kind = TEESHM_KEXEC_NORMAL;
		else if (!strcmp(buf, "crash"))
			ev->kind = TEESHM_KEXEC_CRASH;
		else
			return fail(s, "unknown kexec kind \"%s\" (expected "
				    "kexec or crash)", buf);
		return 0;
	}
	return skip_value(s);
}

/*
 * A known key spelled plainly, matched where it stands by its first letter
 * and one fixed-size compare of name and closing quote.  Returns its bit
 * with s->p past the quote, or 0 (s->p unmoved: the general path decides).
 */
static inline unsigned known_key(struct pstate *s, const char **name)
{
	const char *p = s->p + 1;
	size_t room = s->end - p;

#define KK(lit, b) do {							\
	if (room >= sizeof(lit) && !memcmp(p, lit "\"", sizeof(lit))) {	\
		s->p = p + sizeof(lit);					\
		*name = lit;						\
		return b;						\
	}								\
} while (0)
	if (!room)
		return 0;
	switch (*p) {
	case 't':
		KK("ts_ns", K_TS);
		break;
	case 'e':
		KK("event", K_EVENT);
		break;
	case 's':
		KK("shm", K_SHM);
		KK("size", K_SIZE);
		break;
	case 'f':
		KK("flags", K_FLAGS);
		break;
	case 'c':
		KK("comm", K_COMM);
		KK("caller", K_CALLER);
		KK("ctx", K_CTX);
		KK("cookie", K_COOKIE);
		break;
	case 'p':
		KK("pid", K_PID);
		break;
	case 'r':
		KK("ret", K_RET);
		break;
	case 'k':
		KK("kind", K_KIND);
		break;
	}
#undef KK
	return 0;
}

/* The general parser: any JSON, and the errors */
static int parse_line(const char *line, size_t len, struct tse_event *ev,
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
			const char *kp, *kname = key;
			size_t kn = 0;

			ws(&s);
			if (s.p < s.end && *s.p == '"' &&
			    (bit = known_key(&s, &kname))) {
				/* the usual spelling: matched in place */
			} else if (span_string(&s, &kp, &kn)) {
				/* as it stands: no copy */
				if (kn >= sizeof(key))
					kn = sizeof(key) - 1;
				memcpy(key, kp, kn);
				key[kn] = '\0';
			} else if (parse_string(&s, key, sizeof(key))) {
				/* keys longer than any known one are unknown */
				return -1;
			} else {
				kn = strlen(key);
			}
			if (expect(&s, ':'))
				return -1;
			for (i = 0; i < ARRAY_SIZE(keys) && kname == key; i++)
				if (key[0] == keys[i].name[0] &&
				    keys[i].len == kn &&
				    !memcmp(key, keys[i].name, kn)) {
					bit = keys[i].bit;
					break;
				}
			if (bit & seen)
				return fail(&s, "duplicate key \"%s\"", kname);
			seen |= bit;
			if (parse_member(&s, kname, bit, ev))
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
	if (ev->type != TEESHM_EV_KEXEC && !(seen & K_SHM))
		return fail(&s, "missing \"shm\" on a %s event",
			    type_names[ev->type]);
	return 1;
}

/* ------------------------------------------------------------- fast path */

/*
 * The usual line, as the tracer writes it: no white space, known keys once
 * each, plain strings, hex as "0x..." of up to 16 digits, integers of up to
 * 16 digits.  fast_line() reads such a line in one pass and returns the end
 * of its object; on anything else it gives up (NULL) and the general parser
 * above reads the line from its start, with the same result or the error.
 * It may read up to FAST_SLACK bytes past end (the caller makes them
 * readable), but accepts only what it read before end.
 */
#define FAST_SLACK	64

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__

static inline uint64_t ld8(const char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* A string literal of up to 8 bytes as ld8() reads it (a constant) */
#define LB(s, i)	(sizeof(s) > (i) + 1 ? \
			 (uint64_t)(unsigned char)(s)[i] << (8 * (i)) : 0)
#define LIT(s)		(LB(s, 0) | LB(s, 1) | LB(s, 2) | LB(s, 3) | \
			 LB(s, 4) | LB(s, 5) | LB(s, 6) | LB(s, 7))
#define MASK(n)		((n) >= 8 ? ~0ull : (1ull << (8 * (n))) - 1)
/* w starts with the literal s */
#define HAS(w, s)	(((w) & MASK(sizeof(s) - 1)) == LIT(s))

/* How many of the bytes of w, from the first, are decimal digits */
static inline unsigned int ndigits8(uint64_t w)
{
	uint64_t non = ~(IN_RANGE(w & ~HIGHS, '0', '9') & ~w) & HIGHS;

	return non ? __builtin_ctzll(non) >> 3 : 8;
}

/* The value of the first n (1 to 8) bytes of w, all decimal digits */
static inline uint64_t digits_val(uint64_t w, unsigned int n)
{
	/* the digits to the top, zeros (leading zero digits) below */
	uint64_t x = (w - ONES * '0') << (8 * (8 - n));

	x = x * 10 + (x >> 8);
	return ((x & 0x000000ff000000ffull) * (100 + (1000000ull << 32)) +
		((x >> 16) & 0x000000ff000000ffull) *
		(1 + (10000ull << 32))) >> 32;
}

static const uint64_t pow10[9] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
};

/* 1 to 16 digits without a leading zero: the end, or NULL */
static inline __attribute__((always_inline))
const char *fast_uint(const char *p, uint64_t *v)
{
	unsigned int n;

#ifdef __SSE2__
	/* the digits among 16 bytes at once (signed compares, as hex16) */
	const __m128i x = _mm_loadu_si128((const __m128i *)p);

	n = __builtin_ctz(~(unsigned int)_mm_movemask_epi8(_mm_and_si128(
		_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
		_mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)))));
#else
	n = ndigits8(ld8(p));
	if (n == 8)
		n += ndigits8(ld8(p + 8));
#endif
	if (!n || (n > 1 && *p == '0') ||
	    (n == 16 && (unsigned int)(p[16] - '0') < 10))
		return NULL;
	if (n <= 8) {
		*v = digits_val(ld8(p), n);
	} else {
		*v = digits_val(ld8(p), 8) * pow10[n - 8] +
		     digits_val(ld8(p + 8), n - 8);
	}
	return p + n;
}

/* Sixteen hex digits at p (first the most significant) into *v */
static inline bool hex16(const char *p, uint64_t *v)
{
#ifdef __SSE2__
	const __m128i x = _mm_loadu_si128((const __m128i *)p);
	const __m128i l = _mm_or_si128(x, _mm_set1_epi8(0x20));
	__m128i digit, letter, d;
	uint64_t r;

	/* signed compares: bytes from 0x80 up are below everything */
	digit = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
			      _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)));
	letter = _mm_and_si128(_mm_cmpgt_epi8(l, _mm_set1_epi8('a' - 1)),
			       _mm_cmplt_epi8(l, _mm_set1_epi8('f' + 1)));
	if (_mm_movemask_epi8(_mm_or_si128(digit, letter)) != 0xffff)
		return false;
	/* digit values: low nibble, + 9 for a letter */
	d = _mm_add_epi8(_mm_and_si128(x, _mm_set1_epi8(0x0f)),
			 _mm_and_si128(letter, _mm_set1_epi8(9)));
	/* each pair into its low byte, the first digit high */
	d = _mm_and_si128(_mm_or_si128(_mm_slli_epi16(d, 4),
				       _mm_srli_epi16(d, 8)),
			  _mm_set1_epi16(0xff));
	_mm_storel_epi64((__m128i *)&r, _mm_packus_epi16(d, d));
	*v = __builtin_bswap64(r);
	return true;
#else
	uint32_t hi, lo;

	if (!hex8(p, &hi) || !hex8(p + 8, &lo))
		return false;
	*v = (uint64_t)hi << 32 | lo;
	return true;
#endif
}

/* "0x" and 1 to 16 hex digits, quoted: the end, or NULL */
static inline const char *fast_hex(const char *p, uint64_t *v)
{
	uint64_t x = 0;
	int n = 0, d;

	if (!HAS(ld8(p), "\"0x"))
		return NULL;
	p += 3;
	if (p[16] == '"' && hex16(p, v))
		return p + 17;
	while (n < 16 && (d = hex1[(unsigned char)p[n]])) {
		x = x << 4 | (d - 1);
		n++;
	}
	if (!n || p[n] != '"')
		return NULL;
	*v = x;
	return p + n + 1;
}

/*
 * A string of plain bytes at p (at its opening quote): its bytes are
 * [p + 1, *q) and the closing quote at *q, before end; false if not.
 */
static inline bool fast_str(const char *p, const char *end, const char **q)
{
	const char *s = p + 1;

	if (*p != '"')
		return false;
#ifdef __SSE2__
	for (;;) {
		const __m128i x = _mm_loadu_si128((const __m128i *)s);
		/* signed: the bytes from 0x80 up are below 0x20 too */
		unsigned int m = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(
			_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)),
			_mm_cmpeq_epi8(x, _mm_set1_epi8('"'))),
			_mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))));

		if (m) {
			s += __builtin_ctz(m);
			break;
		}
		s += 16;
		if (s >= end)
			return false;
	}
#else
	for (;;) {
		uint64_t v = ld8(s), a = v ^ (ONES * '"'), b = v ^ (ONES * '\\');
		uint64_t m = (v | ((v - ONES * 0x20) & ~v) |
			      ((a - ONES) & ~a) | ((b - ONES) & ~b)) & HIGHS;

		/* the lowest byte flagged is exact (borrows only go up) */
		if (m) {
			s += __builtin_ctzll(m) >> 3;
			break;
		}
		s += 8;
		if (s >= end)
			return false;
	}
#endif
	if (s >= end || *s != '"')
		return false;
	*q = s;
	return true;
}

/* A flag name at p (its opening quote): its bit, p moved past; 0 if not */
static inline uint32_t fast_flag(const char **pp)
{
	const char *p = *pp;
	uint64_t w = ld8(p + 1);
	uint32_t bit = 0;
	int l = 0;

	switch (p[1]) {
	case 'P':
		if (HAS(w, "POOL\""))
			bit = TSE_F_POOL, l = 4;
		else if (HAS(w, "PRIV\""))
			bit = TSE_F_PRIV, l = 4;
		break;
	case 'D':
		if (w == LIT("DYNAMIC\""))
			bit = TSE_F_DYNAMIC, l = 7;
		else if (w == LIT("DMA_BUF\""))
			bit = TSE_F_DMA_BUF, l = 7;
		break;
	case 'M':
		if (HAS(w, "MAPPED\""))
			bit = TSE_F_MAPPED, l = 6;
		break;
	case 'R':
		if (w == LIT("REGISTER") && p[9] == '"')
			bit = TSE_F_REGISTER, l = 8;
		break;
	case 'U':
		if (w == LIT("USER_MAP") && HAS(ld8(p + 9), "PED\""))
			bit = TSE_F_USER_MAPPED, l = 11;
		break;
	case 'E':
		if (w == LIT("EXT_DMA_") && HAS(ld8(p + 9), "BUF\""))
			bit = TSE_F_EXT_DMA_BUF, l = 11;
		break;
	case 'K':
		if (w == LIT("KERNEL_M") && HAS(ld8(p + 9), "APPED\""))
			bit = TSE_F_KERNEL_MAPPED, l = 13;
		break;
	}
	*pp = p + l + 2;
	return bit;
}

/* A plain string at p into out (cap 16 or 128), truncated; end or NULL */
static inline const char *fast_copy(const char *p, const char *end,
				    char *out, size_t cap)
{
	const char *q;
	size_t n;

	if (!fast_str(p, end, &q))
		return NULL;
	n = q - (p + 1);
	/* whole words: what follows the NUL does not matter */
	if (n < 16) {
		memcpy(out, p + 1, 16);
	} else if (cap >= 32 && n < 32) {
		memcpy(out, p + 1, 32);
	} else {
		if (n >= cap)
			n = cap - 1;
		memcpy(out, p + 1, n);
	}
	out[n] = '\0';
	return q + 1;
}

/* The value of "event": the end, or NULL */
static inline const char *fast_event(const char *p, struct tse_event *ev)
{
	uint64_t w = ld8(p + 1);

	if (*p != '"')
		return NULL;
	switch (p[1]) {
	case 'a':
		if (!HAS(w, "alloc\""))
			return NULL;
		ev->type = TEESHM_EV_ALLOC;
		return p + 7;
	case 'r':
		if (w != LIT("register") || p[9] != '"')
			return NULL;
		ev->type = TEESHM_EV_REGISTER;
		return p + 10;
	case 'u':
		if (w != LIT("unregist") || !HAS(ld8(p + 9), "er\""))
			return NULL;
		ev->type = TEESHM_EV_UNREGISTER;
		return p + 12;
	case 'f':
		if (!HAS(w, "free\""))
			return NULL;
		ev->type = TEESHM_EV_FREE;
		return p + 6;
	case 'k':
		if (!HAS(w, "kexec\""))
			return NULL;
		ev->type = TEESHM_EV_KEXEC;
		return p + 7;
	}
	return NULL;
}

/* The value of "flags": the end, or NULL */
static inline __attribute__((always_inline))
const char *fast_flags(const char *p, const char *end,
		       struct tse_event *ev)
{
	uint32_t f;

	ev->has_flags = true;
	if (*p != '[')
		return NULL;
	if (*++p == ']')
		return p + 1;
	for (;;) {
		if (p >= end || *p != '"')
			return NULL;
		f = fast_flag(&p);
		if (!f)
			return NULL;
		ev->flags |= f;
		if (*p == ']')
			return p + 1;
		if (*p != ',')
			return NULL;
		p++;
	}
}

static inline const char *fast_pid(const char *p, struct tse_event *ev)
{
	uint64_t v;

	p = fast_uint(p, &v);
	if (!p || v > INT32_MAX)
		return NULL;
	ev->pid = v;
	return p;
}

static inline __attribute__((always_inline))
const char *fast_ret(const char *p, struct tse_event *ev)
{
	bool neg = *p == '-';
	uint64_t v;

	/* the usual: 0 (a success) */
	if (*p == '0' && (unsigned int)(p[1] - '0') >= 10) {
		ev->ret = 0;
		return p + 1;
	}
	p = fast_uint(p + neg, &v);
	if (!p || v > (uint64_t)INT32_MAX + neg)
		return NULL;
	ev->ret = neg ? -(int64_t)v : (int64_t)v;
	return p;
}

static inline const char *fast_kind(const char *p, struct tse_event *ev)
{
	uint64_t w = ld8(p);

	if (HAS(w, "\"kexec\""))
		ev->kind = TEESHM_KEXEC_NORMAL;
	else if (HAS(w, "\"crash\""))
		ev->kind = TEESHM_KEXEC_CRASH;
	else
		return NULL;
	return p + 7;
}

/* w (the 8 bytes at p) and p[8] spell the literal s ("\"key\":") */
#define KEY_AT(w, p, s)	(HAS(w, s) && (sizeof(s) <= 9 || (p)[8] == LB9(s)))
#define LB9(s)		(sizeof(s) > 9 ? (s)[8] : 0)

static const char *fast_line(const char *p, const char *end,
			     struct tse_event *ev)
{
	unsigned int seen = 0, bit;
	uint64_t w;

	if (*p != '{')
		return NULL;
	memset(ev, 0, offsetof(struct tse_event, comm));
	ev->pid = -1;
	ev->comm[0] = '\0';
	ev->caller[0] = '\0';
	p++;
	/*
	 * The members in the order the tracer writes them (jsonl_write()),
	 * each tried once where it would stand: no dispatch, no duplicate.
	 * The first one out of that order goes on in the loop below.
	 */
#define MEMBER(s, b, parse) do {					\
	w = ld8(p);							\
	if (KEY_AT(w, p, s)) {						\
		p += sizeof(s) - 1;					\
		p = parse;						\
		if (!p || p >= end)					\
			return NULL;					\
		seen |= b;						\
		if (*p == '}')						\
			goto close;					\
		if (*p != ',')						\
			return NULL;					\
		p++;							\
	}								\
} while (0)
	MEMBER("\"ts_ns\":", K_TS, fast_uint(p, &ev->ts_ns));
	MEMBER("\"event\":", K_EVENT, fast_event(p, ev));
	MEMBER("\"shm\":", K_SHM, fast_hex(p, &ev->shm));
	MEMBER("\"size\":", K_SIZE, (ev->has_size = true,
				     fast_uint(p, &ev->size)));
	MEMBER("\"flags\":", K_FLAGS, fast_flags(p, end, ev));
	MEMBER("\"ctx\":", K_CTX, (ev->has_ctx = true,
				   fast_hex(p, &ev->ctx)));
	MEMBER("\"cookie\":", K_COOKIE, (ev->has_cookie = true,
					 fast_hex(p, &ev->cookie)));
	MEMBER("\"pid\":", K_PID, fast_pid(p, ev));
	MEMBER("\"comm\":", K_COMM, fast_copy(p, end, ev->comm,
					      sizeof(ev->comm)));
	MEMBER("\"ret\":", K_RET, fast_ret(p, ev));
	MEMBER("\"caller\":", K_CALLER, fast_copy(p, end, ev->caller,
						  sizeof(ev->caller)));
	MEMBER("\"kind\":", K_KIND, fast_kind(p, ev));
#undef MEMBER
	/* any order: by first letter, once each */
	for (;;) {
		if (p >= end || *p != '"')
			return NULL;
		w = ld8(p + 1);
		switch (p[1]) {
		case 't':
			if (!HAS(w, "ts_ns\":"))
				return NULL;
			bit = K_TS;
			p = fast_uint(p + 8, &ev->ts_ns);
			break;
		case 'e':
			if (!HAS(w, "event\":"))
				return NULL;
			bit = K_EVENT;
			p = fast_event(p + 8, ev);
			break;
		case 's':
			if (HAS(w, "shm\":")) {
				bit = K_SHM;
				p = fast_hex(p + 6, &ev->shm);
			} else if (HAS(w, "size\":")) {
				bit = K_SIZE;
				ev->has_size = true;
				p = fast_uint(p + 7, &ev->size);
			} else {
				return NULL;
			}
			break;
		case 'f':
			if (!HAS(w, "flags\":"))
				return NULL;
			bit = K_FLAGS;
			p = fast_flags(p + 8, end, ev);
			break;
		case 'c':
			if (HAS(w, "comm\":")) {
				bit = K_COMM;
				p = fast_copy(p + 7, end, ev->comm,
					      sizeof(ev->comm));
			} else if (w == LIT("caller\":")) {
				bit = K_CALLER;
				p = fast_copy(p + 9, end, ev->caller,
					      sizeof(ev->caller));
			} else if (HAS(w, "ctx\":")) {
				bit = K_CTX;
				ev->has_ctx = true;
				p = fast_hex(p + 6, &ev->ctx);
			} else if (w == LIT("cookie\":")) {
				bit = K_COOKIE;
				ev->has_cookie = true;
				p = fast_hex(p + 9, &ev->cookie);
			} else {
				return NULL;
			}
			break;
		case 'p':
			if (!HAS(w, "pid\":"))
				return NULL;
			bit = K_PID;
			p = fast_pid(p + 6, ev);
			break;
		case 'r':
			if (!HAS(w, "ret\":"))
				return NULL;
			bit = K_RET;
			p = fast_ret(p + 6, ev);
			break;
		case 'k':
			if (!HAS(w, "kind\":"))
				return NULL;
			bit = K_KIND;
			p = fast_kind(p + 7, ev);
			break;
		default:
			return NULL;
		}
		if (!p || (seen & bit))
			return NULL;
		seen |= bit;
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p != '}')
			return NULL;
		break;
	}
close:
	p++;
	if (p > end || !(seen & K_EVENT) || !(seen & K_TS) ||
	    (ev->type != TEESHM_EV_KEXEC && !(seen & K_SHM)))
		return NULL;
	return p;
}

#else	/* big-endian: the general parser only */

static const char *fast_line(const char *p, const char *end,
			     struct tse_event *ev)
{
	(void)p;
	(void)end;
	(void)ev;
	return NULL;
}

#endif

int tse_jsonl_parse_line(const char *line, size_t len, struct tse_event *ev,
			 char *err, size_t errlen)
{
	char pad[512 + FAST_SLACK];

	/* a usual line, copied where the fast path may read past its end */
	if (len <= 512) {
		memcpy(pad, line, len);
		memset(pad + len, 0, FAST_SLACK);
		if (fast_line(pad, pad + len, ev) == pad + len) {
			if (err && errlen)
				err[0] = '\0';
			return 1;
		}
	}
	return parse_line(line, len, ev, err, errlen);
}

int tse_jsonl_write(FILE *f, const struct tse_event *ev)
{
	struct jw w;

	jw_init(&w, f);
	jw_obj_begin(&w);
	jw_ku64(&w, "ts_ns", ev->ts_ns);
	jw_kstr(&w, "event", tse_type_name(ev->type) ?: "?");
	if (ev->type != TEESHM_EV_KEXEC)
		jw_khex(&w, "shm", ev->shm);
	if (ev->has_size)
		jw_ku64(&w, "size", ev->size);
	if (ev->has_flags)
		tse_flags_json(&w, ev->flags);
	if (ev->has_ctx)
		jw_khex(&w, "ctx", ev->ctx);
	if (ev->has_cookie)
		jw_khex(&w, "cookie", ev->cookie);
	if (ev->pid >= 0)
		jw_ks64(&w, "pid", ev->pid);
	if (ev->comm[0])
		jw_kstr(&w, "comm", ev->comm);
	if (ev->type == TEESHM_EV_REGISTER ||
	    ev->type == TEESHM_EV_UNREGISTER || ev->ret)
		jw_ks64(&w, "ret", ev->ret);
	if (ev->caller[0])
		jw_kstr(&w, "caller", ev->caller);
	if (ev->type == TEESHM_EV_KEXEC)
		jw_kstr(&w, "kind",
			ev->kind == TEESHM_KEXEC_CRASH ? "crash" : "kexec");
	jw_obj_end(&w);
	jw_end_line(&w);
	return ferror(f) ? -1 : 0;
}

/* Read a megabyte at a time; a line never straddles more than a move. */
#define READ_CHUNK (1 << 20)

int tse_jsonl_feed_file(FILE *f, const char *name, struct tse_engine *e,
			unsigned long *lines, char *err, size_t errlen)
{
	const size_t cap = READ_CHUNK + TSE_JSONL_MAX_LINE + 1;
	char msg[256];
	struct tse_event ev;
	char *buf, *start, *nl;
	size_t fill = 0, n;
	unsigned long ln = 0;
	bool eof = false;
	int r, ret = 0;

	/* zeroed: the fast path reads (never uses) bytes past the data */
	buf = calloc(1, cap + FAST_SLACK);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	start = buf;
	for (;;) {
		/* a usual line whole in buf: read where it stands */
		if (start < buf + fill) {
			const char *q = fast_line(start, buf + fill, &ev);

			/* CRLF: the '\r' is the line's trailing white space */
			if (q && (q < buf + fill ? *q == '\n' ||
				  (q[0] == '\r' && q + 1 < buf + fill &&
				   q[1] == '\n' && ++q) : eof) &&
			    q - start <= TSE_JSONL_MAX_LINE) {
				ln++;
				start = (char *)q + (q < buf + fill);
				if (tse_feed(e, &ev)) {
					snprintf(err, errlen, "%s:%lu: out of "
						 "memory", name, ln);
					ret = -1;
					break;
				}
				continue;
			}
		}
		nl = memchr(start, '\n', buf + fill - start);
		if (!nl) {
			n = buf + fill - start;
			if (eof) {
				if (!n)
					break;
				nl = buf + fill;	/* last line, no newline */
			} else if (n > TSE_JSONL_MAX_LINE) {
				snprintf(err, errlen, "%s:%lu: line longer than "
					 "%d bytes", name, ln + 1,
					 TSE_JSONL_MAX_LINE);
				ret = -1;
				break;
			} else {
				memmove(buf, start, n);
				start = buf;
				fill = n;
				n = fread(buf + fill, 1, cap - fill, f);
				if (!n) {
					if (ferror(f)) {
						snprintf(err, errlen,
							 "%s: read error: %s",
							 name, strerror(errno));
						ret = -1;
						break;
					}
					eof = true;
				}
				fill += n;
				continue;
			}
		}
		ln++;
		r = tse_jsonl_parse_line(start, nl - start, &ev, msg,
					 sizeof(msg));
		start = nl < buf + fill ? nl + 1 : nl;
		if (r < 0) {
			snprintf(err, errlen, "%s:%lu: %s", name, ln, msg);
			ret = -1;
			break;
		}
		if (r && tse_feed(e, &ev)) {
			snprintf(err, errlen, "%s:%lu: out of memory", name, ln);
			ret = -1;
			break;
		}
	}
	free(buf);
	if (lines)
		*lines = ln;
	return ret;
}
