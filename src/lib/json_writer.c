// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * json_writer.c - streaming JSON writer (see json_writer.h).
 */
#include <inttypes.h>
#include <string.h>

#include "json_writer.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/*
 * Output collects in w->buf and goes to the stream in one write when the
 * buffer fills and whenever a top-level value is complete (depth 0, or
 * jw_end_line()): callers never see a value half-written, and stdio is
 * called once per value rather than once per character.
 */
static void jw_flush(struct jw *w)
{
	if (w->n) {
		fwrite(w->buf, 1, w->n, w->f);
		w->n = 0;
	}
}

/* n (at most 16) bytes: two overlapping fixed-size copies, no call */
static inline void copy16(char *d, const void *s, size_t n)
{
	const char *c = s;
	uint64_t a, b;
	uint32_t x, y;

	if (n >= 8) {
		memcpy(&a, c, 8);
		memcpy(&b, c + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4) {
		memcpy(&x, c, 4);
		memcpy(&y, c + n - 4, 4);
		memcpy(d, &x, 4);
		memcpy(d + n - 4, &y, 4);
	} else if (n) {
		d[0] = c[0];
		d[n / 2] = c[n / 2];
		d[n - 1] = c[n - 1];
	}
}

static void jw_put_slow(struct jw *w, const void *p, size_t len)
{
	jw_flush(w);
	if (len > sizeof(w->buf)) {
		fwrite(p, 1, len, w->f);
		return;
	}
	memcpy(w->buf, p, len);
	w->n = len;
}

static inline void jw_put(struct jw *w, const void *p, size_t len)
{
	if (__builtin_expect(w->n + len > sizeof(w->buf), 0)) {
		jw_put_slow(w, p, len);
		return;
	}
	if (len <= 16)
		copy16(w->buf + w->n, p, len);
	else
		memcpy(w->buf + w->n, p, len);
	w->n += len;
}

static inline void jw_putc(struct jw *w, char c)
{
	if (w->n == sizeof(w->buf))
		jw_flush(w);
	w->buf[w->n++] = c;
}

/* after a value: a complete top-level one goes out */
static inline void jw_done(struct jw *w)
{
	if (!w->depth)
		jw_flush(w);
}

void jw_init(struct jw *w, FILE *f)
{
	memset(w, 0, offsetof(struct jw, buf));	/* not the buffer */
	w->f = f;
	w->first[0] = true;
}

/* Separator before a value (or a key). */
static void pre_value(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (!w->first[w->depth])
		jw_putc(w, ',');
	w->first[w->depth] = false;
}

static void open(struct jw *w, char c)
{
	pre_value(w);
	jw_putc(w, c);
	if (w->depth < JW_MAX_DEPTH - 1)
		w->depth++;
	w->first[w->depth] = true;
}

static void close(struct jw *w, char c)
{
	if (w->depth)
		w->depth--;
	jw_putc(w, c);
	jw_done(w);
}

void jw_obj_begin(struct jw *w)
{
	open(w, '{');
}

void jw_obj_end(struct jw *w)
{
	close(w, '}');
}

void jw_arr_begin(struct jw *w)
{
	open(w, '[');
}

void jw_arr_end(struct jw *w)
{
	close(w, ']');
}

size_t jw_utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Bytes written as they are: printable ASCII but '"' and '\\' */
#define R16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
static const unsigned char as_is[256] = {
	R16(0), R16(0),					/* 0x00-0x1f */
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0x20: '"' */
	R16(1), R16(1),					/* 0x30-0x4f */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,	/* 0x50: '\\' */
	R16(1),						/* 0x60-0x6f */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,	/* 0x7f */
	R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0),
};
#undef R16

#define ONES	0x0101010101010101ull
#define HIGHS	0x8080808080808080ull

/*
 * How many bytes from s on are written as they are: eight at a time while
 * no byte of the word is a control, '"', '\\', 0x7f or non-ASCII (the
 * lowest byte flagged is exact: borrows only go up), then byte by byte.
 */
static inline size_t as_is_run(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (n - i >= 8) {
		uint64_t v, q, b, d, m;

		memcpy(&v, s + i, 8);
		q = v ^ (ONES * '"');
		b = v ^ (ONES * '\\');
		d = v ^ (ONES * 0x7f);
		m = (v | ((v - ONES * 0x20) & ~v) | ((q - ONES) & ~q) |
		     ((b - ONES) & ~b) | ((d - ONES) & ~d)) & HIGHS;
		if (m) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			return i + (__builtin_ctzll(m) >> 3);
#else
			break;
#endif
		}
		i += 8;
	}
	while (i < n && as_is[s[i]])
		i++;
	return i;
}

/* Some byte of v is a control, '"', '\\', 0x7f or non-ASCII */
static inline bool word_special(uint64_t v)
{
	uint64_t q = v ^ (ONES * '"'), b = v ^ (ONES * '\\'),
		 d = v ^ (ONES * 0x7f);

	return (v | ((v - ONES * 0x20) & ~v) | ((q - ONES) & ~q) |
		((b - ONES) & ~b) | ((d - ONES) & ~d)) & HIGHS;
}

/* Every byte of s[0..n) is written as it is (overlapping word loads) */
static inline bool all_as_is(const char *s, size_t n)
{
	uint64_t v;
	uint32_t x, y;
	size_t i;

	if (n >= 8) {
		for (i = 0; i + 8 <= n; i += 8) {
			memcpy(&v, s + i, 8);
			if (word_special(v))
				return false;
		}
		if (i == n)
			return true;
		memcpy(&v, s + n - 8, 8);
	} else if (n >= 4) {
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		v = x | (uint64_t)y << 32;
	} else if (n) {
		v = ONES * 'a' << 24 | (unsigned char)s[0] |
		    (unsigned char)s[n / 2] << 8 | (unsigned char)s[n - 1] << 16;
	} else {
		return true;
	}
	return !word_special(v);
}

#ifdef __SSE2__
/* Some byte of x is a control, '"', '\\', 0x7f or non-ASCII */
static inline bool vec_special(__m128i x)
{
	/* signed: the bytes from 0x80 up are below 0x20 too */
	__m128i m = _mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)),
				 _mm_cmpeq_epi8(x, _mm_set1_epi8('"')));

	m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8('\\')));
	m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f)));
	return _mm_movemask_epi8(m);
}
#endif

/* all_as_is() for the short strings (keys, names): one test of 16 bytes */
static inline __attribute__((always_inline))
bool short_as_is(const char *s, size_t n)
{
#ifdef __SSE2__
	uint64_t a, b;
	uint32_t x, y;

	if (n >= 8 && n <= 16) {
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
	} else if (n >= 4 && n < 8) {
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		a = x | (uint64_t)y << 32;
		b = a;
	} else {
		return all_as_is(s, n);
	}
	return !vec_special(_mm_set_epi64x(b, a));
#else
	return all_as_is(s, n);
#endif
}

/* The usual string: nothing to escape, room in buf; false if not. */
static inline bool put_plain(struct jw *w, const char *s, size_t n)
{
	char *d;

	if (w->n + n + 2 > sizeof(w->buf) || !short_as_is(s, n))
		return false;
	d = w->buf + w->n;
	d[0] = '"';
	if (n <= 16)
		copy16(d + 1, s, n);
	else
		memcpy(d + 1, s, n);
	d[n + 1] = '"';
	w->n += n + 2;
	return true;
}

/* A string, quoted and escaped (no separator before it) */
static void str_body(struct jw *w, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, l;

	if (put_plain(w, str, n))
		return;
	jw_putc(w, '"');
	while (i < n) {
		unsigned char c = s[i];
		size_t run = i + as_is_run(s + i, n - i);

		/* a run of bytes that need no escape, written at once */
		if (run > i) {
			jw_put(w, s + i, run - i);
			i = run;
			continue;
		}
		switch (c) {
		case '"':
			jw_put(w, "\\\"", 2);
			break;
		case '\\':
			jw_put(w, "\\\\", 2);
			break;
		case '\n':
			jw_put(w, "\\n", 2);
			break;
		case '\r':
			jw_put(w, "\\r", 2);
			break;
		case '\t':
			jw_put(w, "\\t", 2);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				char u[8];

				snprintf(u, sizeof(u), "\\u%04x", c);
				jw_put(w, u, 6);
			} else if (c >= 0x80) {
				l = jw_utf8_len(s + i, n - i);
				if (!l) {
					jw_put(w, "\\ufffd", 6);
				} else {
					jw_put(w, s + i, l);
					i += l - 1;
				}
			} else {
				jw_putc(w, c);
			}
		}
		i++;
	}
	jw_putc(w, '"');
}

void jw_strn(struct jw *w, const char *str, size_t n)
{
	pre_value(w);
	str_body(w, str, n);
	jw_done(w);
}

/*
 * The usual key: a plain key of up to 16 bytes, room for
 * it and for more bytes of value.  Separator, key and ':' go at once; the
 * value follows with no separator (after_key stays false).  False: the
 * general way.
 */
static inline __attribute__((always_inline))
bool key_fast(struct jw *w, const char *key, size_t n, size_t more)
{
	char *d;

	if (w->after_key || n > 16 ||
	    w->n + n + 4 + more > sizeof(w->buf) || !short_as_is(key, n))
		return false;
	d = w->buf + w->n;
	if (!w->first[w->depth])
		*d++ = ',';
	w->first[w->depth] = false;
	*d++ = '"';
	copy16(d, key, n);
	d += n;
	*d++ = '"';
	*d++ = ':';
	w->n = d - w->buf;
	return true;
}

void jw_keyn(struct jw *w, const char *key, size_t n)
{
	if (key_fast(w, key, n, 0)) {
		w->after_key = true;
		return;
	}
	pre_value(w);
	str_body(w, key, n);
	jw_putc(w, ':');
	w->after_key = true;
}

/* a scalar value, already formatted: s[0..len) */
static inline void raw_value(struct jw *w, const char *s, size_t len)
{
	pre_value(w);
	jw_put(w, s, len);
	jw_done(w);
}

/* key and a formatted scalar value: at once the usual way, else in turn */
static inline __attribute__((always_inline))
void kraw(struct jw *w, const char *k, size_t kn, const char *s,
	  size_t len)
{
	if (!key_fast(w, k, kn, len)) {
		jw_keyn(w, k, kn);
		pre_value(w);
	}
	jw_put(w, s, len);
	jw_done(w);
}

/* v in decimal, ending at end: the first digit */
static inline char *dec(char *end, uint64_t v)
{
	do {
		*--end = '0' + v % 10;
		v /= 10;
	} while (v);
	return end;
}

/* v in decimal, with its sign, ending at end: the first byte */
static inline char *sdec(char *end, int64_t v)
{
	char *s = dec(end, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);

	if (v < 0)
		*--s = '-';
	return s;
}

void jw_bool(struct jw *w, bool v)
{
	raw_value(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(struct jw *w)
{
	pre_value(w);
	jw_put(w, "null", 4);
	jw_done(w);
}

/* The eight hex digits of x, the most significant in the lowest byte */
static inline uint64_t hex_digits8(uint32_t x)
{
	uint64_t v = x;

	/* a nibble a byte, the least significant nibble lowest */
	v = (v | v << 16) & 0x0000ffff0000ffffull;
	v = (v | v << 8) & 0x00ff00ff00ff00ffull;
	v = (v | v << 4) & 0x0f0f0f0f0f0f0f0full;
	/* '0'-'9', and 'a'-'f' for the nibbles from 10 (which carry into 0x10) */
	v += ONES * '0' + (((v + ONES * 6) >> 4) & ONES) * ('a' - '0' - 10);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* "0x..." of v into b[20]: the first byte */
static inline char *hex_str(char *b, uint64_t v)
{
	uint64_t hi = hex_digits8(v >> 32), lo = hex_digits8(v);
	int nd = v ? (67 - __builtin_clzll(v)) / 4 : 1;

	memcpy(b + 3, &hi, 8);
	memcpy(b + 11, &lo, 8);
	b[19 - nd - 3] = '"';
	b[19 - nd - 2] = '0';
	b[19 - nd - 1] = 'x';
	b[19] = '"';
	return b + 16 - nd;
}

void jw_hex(struct jw *w, uint64_t v)
{
	char b[20], *s = hex_str(b, v);

	raw_value(w, s, b + sizeof(b) - s);
}

/* key + value at once, the usual way; else key, then value */
void jw_kstrn(struct jw *w, const char *k, size_t kn, const char *v, size_t n)
{
	char *d;

	if (n <= 64 && (n <= 16 ? short_as_is(v, n) : all_as_is(v, n)) &&
	    key_fast(w, k, kn, n + 2)) {
		d = w->buf + w->n;
		*d++ = '"';
		if (n <= 16)
			copy16(d, v, n);
		else
			memcpy(d, v, n);
		d[n] = '"';
		w->n += n + 2;
		jw_done(w);
		return;
	}
	jw_keyn(w, k, kn);
	jw_strn(w, v, n);
}

void jw_ku64n(struct jw *w, const char *k, size_t kn, uint64_t v)
{
	char b[20], *s = dec(b + sizeof(b), v);

	kraw(w, k, kn, s, b + sizeof(b) - s);
}

void jw_ks64n(struct jw *w, const char *k, size_t kn, int64_t v)
{
	char b[21], *s = sdec(b + sizeof(b), v);

	kraw(w, k, kn, s, b + sizeof(b) - s);
}

void jw_khexn(struct jw *w, const char *k, size_t kn, uint64_t v)
{
	char b[20], *s = hex_str(b, v);

	kraw(w, k, kn, s, b + sizeof(b) - s);
}

void jw_kbooln(struct jw *w, const char *k, size_t kn, bool v)
{
	kraw(w, k, kn, v ? "true" : "false", v ? 4 : 5);
}

void jw_end_line(struct jw *w)
{
	jw_putc(w, '\n');
	jw_flush(w);
	w->depth = 0;
	w->first[0] = true;
	w->after_key = false;
}
