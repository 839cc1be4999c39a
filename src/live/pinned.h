/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pinned.h - what lives under TEESHM_PIN_DIR: the maps a tracer pins (the
 * live table, counters, stacks, events) so that status, check and export
 * read them from another process, and the agent's pinned links, which
 * keep its probes attached after it exits.
 */
#ifndef TEESHM_PINNED_H
#define TEESHM_PINNED_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "teeshm_event.h"

struct bpf_link;
struct ksyms;
struct teeshm_bpf;

#define TEESHM_PIN_DIR	"/sys/fs/bpf/teeshm"
#define TEESHM_LINK_DIR	TEESHM_PIN_DIR "/links"

/* ----------------------------------------------- the writer's side */

/*
 * Pin the maps (stale pins of a tracer that was killed are replaced).
 * 0, or -EBUSY if an agent's links are pinned and agent is false (its
 * maps, not ours), or -errno.
 */
int pinned_pin_maps(struct teeshm_bpf *skel, bool agent);
/* Pin an agent's link under TEESHM_LINK_DIR as name.  0 or -errno. */
int pinned_pin_link(struct bpf_link *l, const char *name);
/* Number of pinned agent links (0 if none). */
int pinned_agent_links(void);
/* Remove every pin, links and maps, and the directories. */
void pinned_unpin_all(void);

/* The maps a resumed agent reads (fds to close), from their pins. */
struct pinned_maps {
	int events, counters, stacks;
	int events_off;		/* non-zero: no event is written */
};
/* 0, or -1 if one is missing (the others are closed again). */
int pinned_open_maps(struct pinned_maps *m);
void pinned_close_maps(struct pinned_maps *m);

/* Events written (off: none) by the probes of this events_off map. */
int pinned_events_off(int events_off_fd, bool off);
/* One entry of a counters map (0 if it cannot be read). */
uint64_t pinned_counter(int counters_fd, uint32_t idx);

/* ----------------------------------------------- the readers' side */

struct live_row {
	uint64_t shm;		/* the buffer (an orphan's key is not) */
	struct teeshm_live v;
	char caller[TSE_CALLER_LEN];	/* "" unless symbolised */
};

/* The pinned live table, as a reader sees it. */
struct live_table {
	struct live_row *rows;	/* sorted by shm */
	int n;
	int stacks_fd;		/* -1 if not pinned */
	uint64_t counters[TEESHM_CNT__MAX];	/* enum teeshm_counter */
	bool have_counters;
	uint64_t probe_misses;	/* kprobe hits the kernel missed */
};

/*
 * Read the pinned live table, the counters and the kernel's probe misses.
 * 0, or -1 after a one-line message (no table, no permission, memory).
 */
int live_table_read(struct live_table *t);
/* Symbolise the allocation site of the registered rows (all: every row). */
void live_table_sites(struct live_table *t, const struct ksyms *ks,
		      bool all);
void live_table_free(struct live_table *t);

#endif /* TEESHM_PINNED_H */
