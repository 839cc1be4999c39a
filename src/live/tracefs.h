/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tracefs.h - tracefs kprobe events: how a function of a module not loaded
 * yet is probed (the kernel arms "MOD:FN" when the module comes), and how
 * return probes get enough instances (only tracefs events take a
 * maxactive), with the kernel's misses read back from kprobe_profile.
 */
#ifndef TEESHM_TRACEFS_H
#define TEESHM_TRACEFS_H

#include <stdbool.h>
#include <stdint.h>

struct bpf_link;
struct bpf_program;

#define KPROBE_EVENTS_MAX 64

/* The events one tracer defined: removed when it ends, unless kept. */
struct kprobe_events {
	bool agent;	/* named teeshm_agent_*: they outlive this process */
	int n;
	char names[KPROBE_EVENTS_MAX][96];
};

/*
 * Return-probe instances per function: 256, or TEESHM_MAXACTIVE=N (1 to
 * 4096).  0 if TEESHM_MAXACTIVE is not such a number.
 */
int kretprobe_maxactive(void);

/*
 * Define a kprobe event on fn (in module mod once it loads, if mod is not
 * NULL; a return probe if p's section says so) and attach p to it.  NULL
 * with errno on failure.
 */
struct bpf_link *kprobe_event_attach(struct kprobe_events *ev,
				     struct bpf_program *p, const char *fn,
				     const char *mod);
/* Remove the events ev defined (their links must be gone). */
void kprobe_events_remove_own(struct kprobe_events *ev);
/* Leave the events ev defined in place (pinned links use them). */
void kprobe_events_keep(struct kprobe_events *ev);

/* Remove the teeshm/ events pick() chooses; returns how many. */
int kprobe_events_remove(bool (*pick)(const char *name));
/* How many teeshm/ events pick() chooses are defined. */
int kprobe_events_left(bool (*pick)(const char *name));
/* teeshm_<pid>_fn of a tracer that is gone */
bool kprobe_event_stale(const char *name);
/* the agent's (teeshm_agent_fn) */
bool kprobe_event_agent(const char *name);

/*
 * Probe hits the kernel missed on the tracers' and the agent's events
 * (return probes without a free instance, probes hit inside another
 * probe): each is an event lost.
 */
uint64_t kprobe_misses(void);

#endif /* TEESHM_TRACEFS_H */
