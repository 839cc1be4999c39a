// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * jsonl_fast.c - the JSONL reader's fast path: a line in the shape the
 * tracer writes (tse_jsonl_write(): no white space, known keys once each,
 * plain strings, no fraction or exponent) read in one pass, each member
 * tried where the writer puts it, with the readers of jsonl_read.h.  On
 * anything else, errors included, it gives up, and the general parser
 * (jsonl_parse.c) reads the line from its start: the same result, or the
 * error.
 * It may read up to JSONL_SLACK bytes past end, but takes nothing from
 * them.
 */
#include "jsonl_read.h"

/* Inlined where each is used: the calls cost more than the reading */
#define FAST	static inline __attribute__((always_inline))

/* Decimal digits, no sign, no leading zero: the end, or NULL */
FAST const char *fast_uint(const char *p, uint64_t *v)
{
	const char *q = read_digits(p, v);

	if (!q || q == p || (*p == '0' && q - p > 1))
		return NULL;
	return q;
}

FAST const char *fast_pid(const char *p, struct tse_event *ev)
{
	uint64_t v;

	p = fast_uint(p, &v);
	if (!p || v > INT32_MAX)
		return NULL;
	ev->pid = v;
	return p;
}

FAST const char *fast_ret(const char *p, struct tse_event *ev)
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

/* A hex string: the end, or NULL */
FAST const char *fast_hex(const char *p, const char *end, uint64_t *v)
{
	const char *q;

	/* the usual first: a kernel pointer, "0x" and 16 digits */
	if ((ld8(p) & MASK8(3)) == LIT8("\"0x", 0) && p[19] == '"' &&
	    read_hex(p + 3, 16, v))
		return p + 20;
	q = plain_string(p, end);
	if (!q || !hex_string(p + 1, q - (p + 1), v))
		return NULL;
	return q + 1;
}

/* A plain string into out (cap bytes, cut): the end, or NULL */
FAST const char *fast_copy(const char *p, const char *end, char *out,
			   size_t cap)
{
	const char *q = plain_string(p, end);

	if (!q)
		return NULL;
	copy_plain(out, cap, p + 1, q - (p + 1));
	return q + 1;
}

/* A name of t, quoted: its entry, *pp moved past it; NULL if not one */
FAST const struct name *fast_name(const char **pp, const struct names *t)
{
	const struct name *e;

	if (**pp != '"' || !(e = name_find(t, *pp + 1)))
		return NULL;
	*pp += e->len + 2;
	return e;
}

/* A name of t, quoted, its value into *val: the end, or NULL */
FAST const char *fast_named(const char *p, const struct names *t, int *val)
{
	const struct name *e = fast_name(&p, t);

	if (!e)
		return NULL;
	*val = e->val;
	return p;
}

FAST const char *fast_flags(const char *p, const char *end,
			    struct tse_event *ev)
{
	const struct name *e;

	ev->has_flags = true;
	if (*p++ != '[')
		return NULL;
	if (*p == ']')
		return p + 1;
	while (p < end && (e = fast_name(&p, &jsonl_flags))) {
		ev->flags |= e->val;
		if (*p == ']')
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
	return NULL;
}

/* The value of key k at p: its end, or NULL */
FAST const char *fast_value(unsigned int k, const char *p, const char *end,
			    struct tse_event *ev)
{
	switch (k) {
	case K_TS:
		return fast_uint(p, &ev->ts_ns);
	case K_EVENT:
		return fast_named(p, &jsonl_events, &ev->type);
	case K_SHM:
		return fast_hex(p, end, &ev->shm);
	case K_SIZE:
		ev->has_size = true;
		return fast_uint(p, &ev->size);
	case K_FLAGS:
		return fast_flags(p, end, ev);
	case K_CTX:
		ev->has_ctx = true;
		return fast_hex(p, end, &ev->ctx);
	case K_COOKIE:
		ev->has_cookie = true;
		return fast_hex(p, end, &ev->cookie);
	case K_PID:
		return fast_pid(p, ev);
	case K_COMM:
		return fast_copy(p, end, ev->comm, sizeof(ev->comm));
	case K_RET:
		return fast_ret(p, ev);
	case K_CALLER:
		return fast_copy(p, end, ev->caller, sizeof(ev->caller));
	case K_KIND:
		return fast_named(p, &jsonl_kinds, &ev->kind);
	}
	return NULL;
}

/* After the object's '}': its end, if it has what every event needs */
static const char *fast_close(const char *p, const char *end,
			      const struct tse_event *ev, unsigned int seen)
{
	if (p >= end || !(seen & 1u << K_EVENT) || !(seen & 1u << K_TS) ||
	    (ev->type != TEESHM_EV_KEXEC && !(seen & 1u << K_SHM)))
		return NULL;
	return p + 1;
}

const char *jsonl_fast_line(const char *p, const char *end,
			    struct tse_event *ev)
{
	const struct name *e;
	unsigned int seen = 0, k;

	if (*p++ != '{')
		return NULL;
	event_init(ev);
	/*
	 * The members in the writer's order, each tried once where it would
	 * stand (unrolled: each test is one compare of constants).  The
	 * first one out of that order goes on below.
	 */
#pragma GCC unroll 16
	for (k = 0; k < N_KEYS; k++) {
		if (!match_at(&key_names[k].member, p))
			continue;
		p = fast_value(k, p + key_names[k].name.len + 3, end, ev);
		if (!p || p >= end)
			return NULL;
		seen |= 1u << k;
		if (*p == '}')
			return fast_close(p, end, ev, seen);
		if (*p++ != ',')
			return NULL;
	}
	/* the rest in any order, by name, once each */
	for (;;) {
		if (p >= end || *p != '"' ||
		    !(e = name_find(&jsonl_keys, p + 1)) ||
		    p[e->len + 2] != ':' || (seen & 1u << e->val))
			return NULL;
		seen |= 1u << e->val;
		p = fast_value(e->val, p + e->len + 3, end, ev);
		if (!p || p >= end)
			return NULL;
		if (*p == '}')
			return fast_close(p, end, ev, seen);
		if (*p++ != ',')
			return NULL;
	}
}
