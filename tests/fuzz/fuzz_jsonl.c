// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_jsonl.c - libFuzzer target: the JSONL reader, the writer (round
 * trip) and the pairing engine, on arbitrary input.  Differential: the
 * whole-file reader (tse_jsonl_feed_file: its fast path for lines written
 * the usual way, and the general parser for the rest) must leave an engine
 * in the same state as tse_jsonl_parse_line() line by line, and fail at
 * the same line.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "jsonl.h"

/* The live buffers of an engine, in tse_walk_live() order. */
struct live_list {
	struct tse_buf *v;
	size_t n, cap;
};

static int walk(const struct tse_buf *b, void *arg)
{
	struct live_list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct tse_buf *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			abort();
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *b;
	return 0;
}

static bool same_buf(const struct tse_buf *a, const struct tse_buf *b)
{
	return a->shm == b->shm && a->cookie == b->cookie &&
	       a->size == b->size && a->flags == b->flags &&
	       a->registered == b->registered && a->freed == b->freed &&
	       a->seen_alloc == b->seen_alloc &&
	       a->failed_register == b->failed_register &&
	       a->pid == b->pid && a->generation == b->generation &&
	       a->ts_alloc_ns == b->ts_alloc_ns &&
	       a->ts_reg_ns == b->ts_reg_ns &&
	       !strcmp(a->comm, b->comm) && !strcmp(a->caller, b->caller);
}

/* Two engines fed the same events: the same state, or abort(). */
static void same_engine(struct tse_engine *a, struct tse_engine *b)
{
	const struct tse_finding *fa, *fb;
	const struct tse_buf *sa, *sb;
	struct live_list la = { 0 }, lb = { 0 };
	struct tse_stats ta, tb;
	size_t n, i;

	tse_get_stats(a, &ta);
	tse_get_stats(b, &tb);
	if (memcmp(&ta, &tb, sizeof(ta)))
		abort();
	n = tse_findings(a, &fa);
	if (n != tse_findings(b, &fb))
		abort();
	for (i = 0; i < n; i++)
		if (fa[i].kind != fb[i].kind || fa[i].ts_ns != fb[i].ts_ns ||
		    !same_buf(&fa[i].buf, &fb[i].buf))
			abort();
	n = tse_registered_at_last_kexec(a, &sa);
	if (n != tse_registered_at_last_kexec(b, &sb))
		abort();
	for (i = 0; i < n; i++)
		if (!same_buf(&sa[i], &sb[i]))
			abort();
	tse_walk_live(a, walk, &la);
	tse_walk_live(b, walk, &lb);
	if (la.n != lb.n)
		abort();
	for (i = 0; i < la.n; i++)
		if (!same_buf(&la.v[i], &lb.v[i]))
			abort();
	free(la.v);
	free(lb.v);
}

static void roundtrip(const struct tse_event *ev)
{
	struct tse_event back;
	char buf[1024], err[256];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	size_t len;

	if (!f)
		return;
	tse_jsonl_write(f, ev);
	fclose(f);
	len = strnlen(buf, sizeof(buf));
	if (len && buf[len - 1] == '\n')
		len--;
	if (tse_jsonl_parse_line(buf, len, &back, err, sizeof(err)) != 1)
		abort();	/* what we write, we must read */
	if (back.type != ev->type || back.ts_ns != ev->ts_ns ||
	    (ev->type != TEESHM_EV_KEXEC && back.shm != ev->shm) ||
	    back.size != ev->size || back.flags != ev->flags ||
	    back.ret != ev->ret || back.pid != ev->pid ||
	    strcmp(back.comm, ev->comm) || strcmp(back.caller, ev->caller))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tse_engine *e = tse_new(), *e2 = tse_new();
	const char *p = (const char *)data, *end = p + size, *nl;
	struct tse_event ev;
	char err[256];
	unsigned long lines = 0, flines = 0;
	bool failed = false;
	FILE *f;
	int r;

	if (!e || !e2)
		abort();
	/* line by line, up to the first bad line (as a reader stops) */
	while (p < end) {
		nl = memchr(p, '\n', end - p);
		if (!nl)
			nl = end;
		lines++;
		if (nl - p > TSE_JSONL_MAX_LINE) {
			failed = true;
			break;
		}
		r = tse_jsonl_parse_line(p, nl - p, &ev, err, sizeof(err));
		if (r < 0) {
			failed = true;
			break;
		}
		if (r == 1) {
			roundtrip(&ev);
			if (tse_feed(e, &ev))
				abort();
		}
		p = nl + 1;
	}
	/* the whole-file reader on the same bytes */
	f = size ? fmemopen((void *)data, size, "r") : NULL;
	if (f) {
		r = tse_jsonl_feed_file(f, "fuzz", e2, &flines, err,
					sizeof(err));
		fclose(f);
		if ((r < 0) != failed || (failed && flines != lines))
			abort();
		same_engine(e, e2);
	}
	tse_finish(e);
	tse_finish(e2);
	if (f)
		same_engine(e, e2);
	tse_free(e);
	tse_free(e2);
	return 0;
}
