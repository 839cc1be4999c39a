/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * metrics.h - the figures `export` exports (aggregates only: counts and
 * bytes per owner class and per finding kind, never an address or id),
 * and their two texts: Prometheus exposition and one JSON line.
 */
#ifndef TEESHM_METRICS_H
#define TEESHM_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

/*
 * Owner class: user space (a buffer a client allocated or registered
 * through the TEE device) or kernel (drivers, the TEE core itself).
 */
enum owner { OWN_KERNEL, OWN_USER, OWN__N };

/* Finding kinds are 1..N_KINDS (enum tse_finding_kind). */
#define N_KINDS TSE_FIND_REGISTERED_AT_KEXEC

struct fig {
	uint64_t buffers, bytes;
};

struct metrics {
	const char *source;		/* "live" or "trace" */
	char release[65];
	char boot_id[40];
	const char *generation;
	struct fig reg[OWN__N];		/* registered now / at end of trace */
	uint64_t tracked;		/* alive: allocated or registered */
	bool have_counters;
	uint64_t registrations, unregistrations, reg_failures, kexecs;
	bool have_kexec;		/* a kexec event, or a pstore report */
	struct fig kexec_left[OWN__N];
	bool have_kind[N_KINDS + 1];
	uint64_t findings[N_KINDS + 1];
	bool have_lost;			/* live only */
	uint64_t lost, untracked, missed;
	uint32_t seen_flags;		/* trace: to tell the generation */
};

/* The text, malloc'ed (one write per output: an append stays one line). */
char *metrics_render(const struct metrics *m, bool json, size_t *len);

#endif /* TEESHM_METRICS_H */
