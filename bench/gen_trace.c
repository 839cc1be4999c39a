// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * gen_trace N [LIVE] - write a synthetic JSONL trace of about N events to
 * standard output: LIVE buffers in flight, each cycling through alloc,
 * register, unregister, free, with addresses reused from a pool; a kexec
 * every million events; a few buffers left registered.  Deterministic.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int main(int argc, char **argv)
{
	unsigned long long n = argc > 1 ? strtoull(argv[1], NULL, 0) : 1000000;
	unsigned long live = argc > 2 ? strtoul(argv[2], NULL, 0) : 1000;
	unsigned long long ev = 0, ts = 1000;
	uint64_t *state, *addr;
	unsigned long i;

	if (!live)
		return 2;
	state = calloc(live, sizeof(*state));
	addr = calloc(live, sizeof(*addr));
	if (!state || !addr)
		return 1;
	while (ev < n) {
		i = next() % live;
		ts += 1 + next() % 1000;
		switch (state[i]) {
		case 0:
			addr[i] = 0xffff000008000000ULL + (next() % (live * 4)) * 0x80;
			printf("{\"ts_ns\":%llu,\"event\":\"alloc\",\"shm\":\"0x%" PRIx64
			       "\",\"size\":%u,\"flags\":[\"POOL\",\"DYNAMIC\"],"
			       "\"pid\":%lu,\"comm\":\"client\",\"caller\":"
			       "\"tee_ioctl+0xd0 [tee]\"}\n", ts, addr[i],
			       4096u << (next() % 3), 100 + i % 50);
			break;
		case 1:
			printf("{\"ts_ns\":%llu,\"event\":\"register\",\"shm\":\"0x%"
			       PRIx64 "\",\"cookie\":\"0x%" PRIx64 "\",\"ret\":0}\n",
			       ts, addr[i], addr[i]);
			break;
		case 2:
			printf("{\"ts_ns\":%llu,\"event\":\"unregister\",\"shm\":\"0x%"
			       PRIx64 "\",\"ret\":0}\n", ts, addr[i]);
			break;
		case 3:
			printf("{\"ts_ns\":%llu,\"event\":\"free\",\"shm\":\"0x%"
			       PRIx64 "\"}\n", ts, addr[i]);
			break;
		}
		state[i] = (state[i] + 1) % 4;
		if (++ev % 1000000 == 0)
			printf("{\"ts_ns\":%llu,\"event\":\"kexec\",\"kind\":\"kexec\"}\n",
			       ++ts);
	}
	free(state);
	free(addr);
	return 0;
}
