/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * site.h - allocation sites, symbolised: the kernel function that asked for
 * a buffer ("func+0xoff [module]"), from the return address of the
 * allocation call or, when that is inside the TEE core, from the first
 * frame of its stack outside it.
 */
#ifndef TEESHM_SITE_H
#define TEESHM_SITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

struct kenv;
struct ksyms;

/* The site into buf ("" if unknown); stacks_fd: the stack map, or -1. */
void site_find(int stacks_fd, const struct ksyms *ks, int stack_id,
	       uint64_t caller_ip, char *buf, size_t len);

/*
 * While tracing, sites repeat (a handful of call paths): each is symbolised
 * once, and found again by its caller address and stack id.  Stack ids are
 * stable (the stack map never reuses one); a kallsyms reload (a module came
 * or went) starts a new generation.
 */
#define SITE_CACHE 64

struct site_cache {
	struct kenv *env;	/* its kallsyms are reloaded as modules come */
	int stacks_fd;		/* the stack map, -1 until there is one */
	unsigned long modules_sum;	/* /proc/modules at the ksyms load */
	uint32_t ks_gen;		/* generation of env->ks */
	bool ks_checked;		/* modules looked at in this batch */
	struct site {
		uint64_t ip;
		int32_t stack_id;
		uint32_t gen;
		char caller[TSE_CALLER_LEN];
	} sites[SITE_CACHE];
};

void site_cache_init(struct site_cache *c, struct kenv *env);
/* A new batch of events: kallsyms may be read again, once. */
void site_cache_batch(struct site_cache *c);
/* The site of an allocation, from the cache or symbolised once. */
void site_cache_find(struct site_cache *c, uint64_t caller_ip,
		     int32_t stack_id, char *buf, size_t len);

#endif /* TEESHM_SITE_H */
