// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_jsonl.c - libFuzzer target: the JSONL reader, the writer (round
 * trip) and the pairing engine, on arbitrary input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "jsonl.h"

static int walk(const struct tse_buf *b, void *arg)
{
	(void)b;
	++*(size_t *)arg;
	return 0;
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
	    (ev->type != TSE_KEXEC && back.shm != ev->shm) ||
	    back.size != ev->size || back.flags != ev->flags ||
	    back.ret != ev->ret || back.pid != ev->pid ||
	    strcmp(back.comm, ev->comm) || strcmp(back.caller, ev->caller))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tse_engine *e = tse_new();
	const char *p = (const char *)data, *end = p + size, *nl;
	struct tse_event ev;
	const struct tse_finding *f;
	const struct tse_buf *snap;
	char err[256];
	size_t n = 0;

	if (!e)
		return 0;
	while (p < end) {
		nl = memchr(p, '\n', end - p);
		if (!nl)
			nl = end;
		if (tse_jsonl_parse_line(p, nl - p, &ev, err, sizeof(err)) == 1) {
			roundtrip(&ev);
			tse_feed(e, &ev);
		} else if (!err[0] && nl > p) {
			/* rejected or blank: blank only if all white space */
		}
		p = nl + 1;
	}
	tse_finish(e);
	tse_findings(e, &f);
	tse_registered_at_last_kexec(e, &snap);
	tse_walk_live(e, walk, &n);
	tse_free(e);
	return 0;
}
