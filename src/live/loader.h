/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * loader.h - the BPF side, from the skeleton to attached probes: open it,
 * configure it for this kernel and these options, load it, attach every
 * program this kernel has a function for, and detach (or, for the agent,
 * leave attached through pinned links).
 */
#ifndef TEESHM_LOADER_H
#define TEESHM_LOADER_H

#include <stdbool.h>

#include "tracefs.h"
#include "tramp.h"

struct bpf_link;
struct id_key;
struct kenv;
struct teeshm_bpf;

#define LOADER_MAX_LINKS KPROBE_EVENTS_MAX

struct loader_opts {
	unsigned long max_buffers;	/* live-table capacity */
	unsigned long ring_size;	/* ring buffer bytes, 0: default */
	unsigned long latency_ms;	/* wake the reader at this age */
	bool console;			/* kexec report on the console */
	int attach;			/* enum attach_mode (--attach) */
	bool agent;			/* links pinned: they outlive us */
	bool verbose;
};

struct loader {
	struct loader_opts o;
	struct teeshm_bpf *skel;
	bool foreach;		/* bpf_for_each_map_elem, else snapshot slots */
	struct tramp tramp;	/* BPF trampolines here (not probed: kprobe) */
	bool use_tramp;		/* fentry/fexit where a function allows */
	struct bpf_link *links[LOADER_MAX_LINKS];
	int nlinks;
	int link_pin_err;	/* agent: errno of the link that did not pin */
	bool ret_warned;	/* said once: return probes without tracefs */
	struct kprobe_events events;
};

/* libbpf's messages on stderr with verbose, none without. */
void loader_print_libbpf(bool verbose);
/* Has this kernel bpf_for_each_map_elem for kprobes? */
bool loader_has_foreach(void);

/*
 * Open the skeleton and configure it: constants, map sizes, which programs
 * load.  Each step returns 0, or -1 after a message.
 */
int loader_open(struct loader *l, const struct kenv *env,
		const struct id_key *key, const struct loader_opts *o);
int loader_load(struct loader *l, const struct kenv *env);
/* Attach what loaded (agent: and pin the links).  Fails if nothing did. */
int loader_attach(struct loader *l, const struct kenv *env);
/*
 * Detach and free everything; keep: leave the probes attached (their
 * links are pinned) and their tracefs events defined.
 */
void loader_close(struct loader *l, bool keep);
/* Runs and run time of each program (kernel.bpf_stats_enabled). */
void loader_costs(const struct loader *l);
/*
 * How fn is probed after loader_open: "fentry", "kprobe", "kprobe
 * (tracefs, when MOD loads)" - or NULL if it is not (absent, unused).
 */
const char *loader_mechanism(const struct loader *l, const struct kenv *env,
			     const char *fn);
/* Calls the trampoline programs skipped (a program re-entered on a CPU). */
unsigned long long loader_tramp_misses(const struct loader *l);

#endif /* TEESHM_LOADER_H */
