// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * memory.c - user-space bytes per tracked buffer: the pairing engine holding
 * N live, registered buffers (as `trace` and `agent` do), measured as the
 * heap in use (mallinfo2) over N, for N from 10 to 1 000 000 (N = 10 is
 * mostly the engine's fixed cost; the figure per buffer means N >= 1000).
 * The kernel's share is measured in the testbed guest (bench/overhead.sh).
 * Not a test.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static size_t heap(void)
{
	struct mallinfo2 m = mallinfo2();

	return m.uordblks + m.hblkhd;	/* small blocks + mmapped ones */
}

int main(void)
{
	static const size_t ns[] = {
		10, 1000, 3000, 10000, 30000, 100000, 300000, 1000000,
	};
	size_t i, k;

	printf("%10s %14s %16s\n", "buffers", "heap bytes", "bytes per buffer");
	for (k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		struct tse_engine *e;
		struct tse_event ev;
		size_t before = heap(), after;

		e = tse_new();
		if (!e)
			return 1;
		for (i = 0; i < ns[k]; i++) {
			memset(&ev, 0, sizeof(ev));
			ev.ts_ns = i;
			ev.shm = 0xffff000008000000ULL + i * 0x80;
			ev.pid = 100;
			ev.size = 4096;
			ev.has_size = ev.has_flags = true;
			ev.flags = TSE_F_DYNAMIC | TSE_F_POOL;
			strcpy(ev.comm, "teeshm-client");
			strcpy(ev.caller, "tee_ioctl+0xd0 [tee]");
			ev.type = TEESHM_EV_ALLOC;
			if (tse_feed(e, &ev))
				return 1;
			ev.type = TEESHM_EV_REGISTER;
			if (tse_feed(e, &ev))
				return 1;
		}
		after = heap();
		printf("%10zu %14zu %16.1f\n", ns[k], after - before,
		       (double)(after - before) / ns[k]);
		tse_free(e);
	}
	return 0;
}
