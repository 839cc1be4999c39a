/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * live.h - the live verbs (BPF side attached): trace, status, check, probes.
 */
#ifndef TEESHM_LIVE_H
#define TEESHM_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "teeshm_event.h"

int cmd_trace(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_probes(int argc, char **argv);
int cmd_id(int argc, char **argv);

/* --btf FILE: external BTF with struct tee_shm (kernels without module BTF). */
void live_set_btf(const char *path);
/* --id-key: 32 hex digits.  Returns 0 or -1. */
int live_set_id_key(const char *hex);
/* Keyed hash id of a kernel address (for anything that may leave the machine). */
uint64_t live_id(uint64_t addr);

/* One row of the live table, for `export` (no address leaves live.c). */
struct live_export_buf {
	uint64_t size;
	uint32_t flags;		/* canonical TSE_F_* */
	uint8_t api;		/* enum teeshm_api of the allocation */
	bool registered;
	bool orphaned;		/* released while registered (still is) */
	char caller[TSE_CALLER_LEN];	/* allocation site; registered only */
};

struct live_export {
	struct live_export_buf *bufs;	/* malloc'ed; free() it */
	size_t n;
	int flags_gen;			/* enum teeshm_flags_gen */
	bool have_counters;
	uint64_t counters[TEESHM_CNT__MAX];	/* enum teeshm_counter */
	uint64_t probe_misses;		/* kprobe hits the kernel missed */
};

/*
 * Read the pinned live table and counters as `status` does.  Returns 0, or
 * an exit code after printing the same one-line message as `status`.
 */
int live_read_export(struct live_export *x);

/* Where `trace` pins the live table for status/check. */
#define TEESHM_PIN_DIR "/sys/fs/bpf/teeshm"

#endif /* TEESHM_LIVE_H */
