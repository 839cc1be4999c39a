/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * jsonl_read.h - what the JSONL reader's two parsers share (jsonl_parse.c,
 * the general one; jsonl_fast.c, the fast path): the names the format
 * knows, spelled once, and the one reader of each kind of value (plain
 * strings, integers, hex, names).  Private to src/lib/jsonl*.c.
 *
 * A reader may look up to JSONL_SLACK bytes past the end of its line, so
 * that it can test 16 bytes at once (SSE2 on x86_64, two words elsewhere):
 * its callers make them readable (the file reader's buffer, or a copy of
 * the line with zeros after it) and take a result only from bytes before
 * the end.
 */
#ifndef TEESHM_JSONL_READ_H
#define TEESHM_JSONL_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define JSONL_SLACK	64

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ words */

/* Eight bytes at p, the first in the low byte whatever the byte order */
static inline uint64_t ld8(const char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

#define ONES	0x0101010101010101ull
#define HIGHS	0x8080808080808080ull

/* Each byte of x (all below 0x80) in [lo, hi]: its high bit set, else 0 */
#define IN_RANGE(x, lo, hi) \
	(((x) + ONES * (0x80 - (lo))) & ~((x) + ONES * (0x7f - (hi))) & HIGHS)

/* Bytes o to o + 7 of the string literal s, as ld8() reads them */
#define LB(s, i)	(sizeof(s) > (i) + 1 ? \
			 (uint64_t)(unsigned char)(s)[i] << (8 * ((i) & 7)) : 0)
#define LIT8(s, o)	(LB(s, o) | LB(s, o + 1) | LB(s, o + 2) | \
			 LB(s, o + 3) | LB(s, o + 4) | LB(s, o + 5) | \
			 LB(s, o + 6) | LB(s, o + 7))
/* The low n bytes of a word, n of any sign and size */
#define MASK8(n)	((n) >= 8 ? ~0ull : (n) <= 0 ? 0 : \
			 (1ull << (8 * ((n) & 7))) - 1)

/* ------------------------------------------------------------ strings */

/*
 * The end of the run of plain bytes at p, at most end: bytes a JSON string
 * holds as they are (not '"', '\\', a control or non-ASCII).
 */
static inline const char *scan_plain(const char *p, const char *end)
{
	for (;;) {
#ifdef __SSE2__
		const __m128i x = _mm_loadu_si128((const __m128i *)p);
		/* signed: the bytes from 0x80 up are below 0x20 too */
		unsigned int m = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(
			_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)),
			_mm_cmpeq_epi8(x, _mm_set1_epi8('"'))),
			_mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))));

		if (m) {
			p += __builtin_ctz(m);
			break;
		}
		p += 16;
#else
		uint64_t v = ld8(p), m;
		uint64_t a = v ^ (ONES * '"'), b = v ^ (ONES * '\\');

		m = (v | ((v - ONES * 0x20) & ~v) | ((a - ONES) & ~a) |
		     ((b - ONES) & ~b)) & HIGHS;

		/* the lowest byte flagged is exact (borrows only go up) */
		if (m) {
			p += __builtin_ctzll(m) >> 3;
			break;
		}
		p += 8;
#endif
		if (p >= end)
			break;
	}
	return p < end ? p : end;
}

/* A string of plain bytes at p (its opening quote): its closing one, or NULL */
static inline const char *plain_string(const char *p, const char *end)
{
	const char *q;

	if (p >= end || *p != '"')
		return NULL;
	q = scan_plain(p + 1, end);
	return q < end && *q == '"' ? q : NULL;
}

/*
 * The n plain bytes at s into out (cap at least 16), cut to cap - 1, then
 * a NUL.  Short ones as whole words: what follows the NUL does not matter.
 */
static inline void copy_plain(char *out, size_t cap, const char *s, size_t n)
{
	if (n < 16) {
		memcpy(out, s, 16);
	} else if (cap >= 32 && n < 32) {
		memcpy(out, s, 32);
	} else {
		if (n >= cap)
			n = cap - 1;
		memcpy(out, s, n);
	}
	out[n] = '\0';
}

/* ------------------------------------------------------------ integers */

/* How many of the bytes of w, from the first, are decimal digits */
static inline unsigned int ndigits8(uint64_t w)
{
	uint64_t non = ~(IN_RANGE(w & ~HIGHS, '0', '9') & ~w) & HIGHS;

	return non ? __builtin_ctzll(non) >> 3 : 8;
}

/* How many of the 16 bytes at p, from the first, are decimal digits */
static inline unsigned int ndigits16(const char *p)
{
#ifdef __SSE2__
	const __m128i x = _mm_loadu_si128((const __m128i *)p);

	/* signed compares: the bytes from 0x80 up are below '0' */
	return __builtin_ctz(~(unsigned int)_mm_movemask_epi8(_mm_and_si128(
		_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
		_mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)))));
#else
	unsigned int n = ndigits8(ld8(p));

	return n < 8 ? n : 8 + ndigits8(ld8(p + 8));
#endif
}

/* The value of the first n (1 to 8) bytes of w, all decimal digits (0: any) */
static inline uint64_t digits_val(uint64_t w, unsigned int n)
{
	/* the digits to the top, zeros (leading zero digits) below */
	uint64_t x = (w - ONES * '0') << ((8 * (8 - n)) & 63);

	x = x * 10 + (x >> 8);		/* pairs, in every other byte */
	return ((x & 0x000000ff000000ffull) * (100 + (1000000ull << 32)) +
		((x >> 16) & 0x000000ff000000ffull) *
		(1 + (10000ull << 32))) >> 32;
}

static const uint64_t pow10_8[9] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
};

/*
 * The integer reader: the decimal digits at p, their value in *v.  Returns
 * their end (p if there are none: *v is then any), or NULL if the value
 * passes 64 bits.  Sign, leading zeros and what may follow are the caller's.
 */
static inline const char *read_digits(const char *p, uint64_t *v)
{
	unsigned int n = ndigits16(p);
	uint64_t x;

	if (n > 8)
		x = digits_val(ld8(p), 8) * pow10_8[n - 8] +
		    digits_val(ld8(p + 8), n - 8);
	else
		x = digits_val(ld8(p), n);
	p += n;
	/* past sixteen (rare): one at a time, checked */
	for (; n == 16 && (unsigned int)(*p - '0') < 10; p++)
		if (__builtin_mul_overflow(x, 10, &x) ||
		    __builtin_add_overflow(x, (unsigned int)(*p - '0'), &x))
			return NULL;
	*v = x;
	return p;
}

/* ------------------------------------------------------------ hex */

/* 1 + the value of a hex digit, 0 for anything else */
static const unsigned char hex1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
	['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

#ifndef __SSE2__
/* Eight hex digits at p (first the most significant) into *out */
static inline bool hex8(const char *p, uint32_t *out)
{
	uint64_t x = ld8(p), letter;

	if (x & HIGHS)
		return false;
	x |= (x & ONES * 0x40) >> 1;		/* 'A'-'F' to 'a'-'f' */
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
#endif

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

/*
 * The hex reader: the value of the n hex digits at p (0 < n <= 16), false
 * if one is not a digit.  Sixteen, a kernel pointer, are read at once.
 */
static inline bool read_hex(const char *p, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (n == 16)
		return hex16(p, v);
	for (i = 0; i < n; i++) {
		unsigned int d = hex1[(unsigned char)p[i]];

		if (!d)
			return false;
		x = x << 4 | (d - 1);
	}
	*v = x;
	return true;
}

/* A hex string's n bytes at s: "0x" (or "0X") and 1 to 16 digits, or those */
static inline bool hex_string(const char *s, size_t n, uint64_t *v)
{
	if (n >= 2 && s[0] == '0' && (s[1] | 0x20) == 'x') {
		s += 2;
		n -= 2;
	}
	return n - 1 < 16 && read_hex(s, n, v);
}

/* ------------------------------------------------------------ names */

/* Up to 16 bytes to find where they stand: as words, and the bytes counted */
struct match {
	uint64_t w[2], m[2];
};

#define MATCH(lit)	{ { LIT8(lit, 0), LIT8(lit, 8) }, \
			  { MASK8((int)sizeof(lit) - 1), \
			    MASK8((int)sizeof(lit) - 9) } }

static inline bool match_at(const struct match *x, const char *p)
{
	return !(((ld8(p) ^ x->w[0]) & x->m[0]) |
		 ((ld8(p + 8) ^ x->w[1]) & x->m[1]));
}

/*
 * A name the format knows (a key, an event, a kexec kind, a flag), of 2 to
 * 15 bytes, found where it stands by the name and its closing quote.
 */
struct name {
	struct match at;
	const char *s;
	unsigned int len;
	uint32_t val;
};

#define NAME(str, v)	{ MATCH(str "\""), str, sizeof(str) - 1, v }

/* The names of one kind, filed by name_hash() (built once, jsonl.c) */
#define NAME_SLOTS	64

struct names {
	const struct name *slot[NAME_SLOTS];	/* NULL: free */
};

extern struct names jsonl_keys, jsonl_events, jsonl_kinds, jsonl_flags;

/* Where a name is filed: a hash of its first three bytes */
static inline unsigned int name_hash(uint64_t w)
{
	return (uint32_t)(w << 8) * 0x9e3779b1u >> 26;
}

/* The name of t that stands at p, with its closing quote; NULL if none */
static inline const struct name *name_find(const struct names *t,
					   const char *p)
{
	unsigned int h = name_hash(ld8(p));
	const struct name *e;

	while ((e = t->slot[h])) {
		if (match_at(&e->at, p))
			return e;
		h = (h + 1) % NAME_SLOTS;
	}
	return NULL;
}

/* The name of t that the n bytes at p spell (a '"' after them), or NULL */
static inline const struct name *name_lookup(const struct names *t,
					     const char *p, size_t n)
{
	const struct name *e = name_find(t, p);

	return e && e->len == n ? e : NULL;
}

/* ------------------------------------------------------------ the format */

/*
 * The members of an event line, in the order tse_jsonl_write() puts them
 * (the fast path tries them so); bit k of a line's seen keys is key k.
 */
enum {
	K_TS, K_EVENT, K_SHM, K_SIZE, K_FLAGS, K_CTX, K_COOKIE, K_PID, K_COMM,
	K_RET, K_CALLER, K_KIND, N_KEYS
};

/* A key, and as the writer spells it in a line: '"', name, '"', ':' */
struct key {
	struct name name;
	struct match member;
};

#define KEY(str, k)	{ NAME(str, k), MATCH("\"" str "\":") }

/* Here, not in jsonl.c: the fast path compiles its key tests from them */
static const struct key key_names[N_KEYS] = {
	KEY("ts_ns", K_TS), KEY("event", K_EVENT), KEY("shm", K_SHM),
	KEY("size", K_SIZE), KEY("flags", K_FLAGS), KEY("ctx", K_CTX),
	KEY("cookie", K_COOKIE), KEY("pid", K_PID), KEY("comm", K_COMM),
	KEY("ret", K_RET), KEY("caller", K_CALLER), KEY("kind", K_KIND),
};

/* enum tse_type's names, in its order; enum tse_kexec_kind's */
static const struct name event_names[] = {
	NAME("alloc", TEESHM_EV_ALLOC), NAME("register", TEESHM_EV_REGISTER),
	NAME("unregister", TEESHM_EV_UNREGISTER), NAME("free", TEESHM_EV_FREE),
	NAME("kexec", TEESHM_EV_KEXEC),
};

static const struct name kind_names[] = {
	NAME("kexec", TEESHM_KEXEC_NORMAL), NAME("crash", TEESHM_KEXEC_CRASH),
};

/* An event before its members are read: every optional one absent */
static inline void event_init(struct tse_event *ev)
{
	memset(ev, 0, offsetof(struct tse_event, comm));
	ev->pid = -1;
	ev->comm[0] = '\0';
	ev->caller[0] = '\0';
}

/*
 * The fast path (jsonl_fast.c): a line in the shape the tracer writes, at p
 * (end: where the data ends), read in one pass.  Returns the end of its
 * object, or NULL for anything else: the general parser then decides.
 */
const char *jsonl_fast_line(const char *p, const char *end,
			    struct tse_event *ev);

/*
 * The general parser (jsonl_parse.c): the len bytes at line, zeros after
 * them.  As tse_jsonl_parse_line(), for a line of at most
 * TSE_JSONL_MAX_LINE bytes.
 */
int jsonl_general_line(const char *line, size_t len, struct tse_event *ev,
		       char *err, size_t errlen);

#endif /* TEESHM_JSONL_READ_H */
