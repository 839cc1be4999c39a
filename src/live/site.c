// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * site.c - allocation sites, symbolised (see site.h).
 */
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>

#include "kenv.h"
#include "ksyms.h"
#include "site.h"
#include "teeshm_event.h"

/*
 * Frames of the TEE core itself are not the allocation site, nor is a BPF
 * trampoline (a traced function called from a traced function: fentry
 * sees the trampoline as its caller).
 */
static bool tee_internal(const char *name)
{
	static const char *const prefixes[] = {
		"tee_shm_", "shm_alloc_helper", "register_shm_helper",
		"optee_pool_op", "pool_op_", "optee_shm_", "optee_ffa_shm_",
		"__tee_shm", "tee_dyn_shm", "bpf_trampoline_",
	};
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

void site_find(int stacks_fd, const struct ksyms *ks, int stack_id,
	       uint64_t caller_ip, char *buf, size_t len)
{
	uint64_t ips[TEESHM_MAX_STACK] = {};
	uint32_t key = stack_id;
	const char *name;
	int i;

	buf[0] = '\0';
	if (caller_ip && ks) {
		name = ksyms_name(ks, caller_ip);
		if (name && !tee_internal(name)) {
			ksyms_fmt(ks, caller_ip, buf, len);
			return;
		}
	}
	if (stack_id < 0 || stacks_fd < 0 || !ks ||
	    bpf_map_lookup_elem(stacks_fd, &key, ips))
		return;
	for (i = 0; i < TEESHM_MAX_STACK && ips[i]; i++) {
		name = ksyms_name(ks, ips[i]);
		if (name && tee_internal(name))
			continue;
		ksyms_fmt(ks, ips[i], buf, len);
		return;
	}
}

/*
 * A cheap fingerprint of the loaded modules: each one's name and load
 * address, the first and last fields of /proc/modules.  Not the whole
 * line: a module's use count moves whenever /dev/tee0 is opened or closed,
 * and kallsyms would be read again for nothing.
 */
static unsigned long modules_sum(void)
{
	unsigned long h = 5381;
	FILE *f = fopen("/proc/modules", "r");
	char line[512], *sp, *last;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		sp = strchr(line, ' ');
		last = strrchr(line, ' ');
		for (char *p = line; *p && p != sp; p++)
			h = h * 33 + (unsigned char)*p;
		for (char *p = last ? last : line; *p; p++)
			h = h * 33 + (unsigned char)*p;
	}
	fclose(f);
	return h;
}

void site_cache_init(struct site_cache *c, struct kenv *env)
{
	memset(c, 0, sizeof(*c));
	c->env = env;
	c->stacks_fd = -1;
	c->ks_gen = 1;		/* no cached site is of it yet */
	c->modules_sum = modules_sum();
}

void site_cache_batch(struct site_cache *c)
{
	c->ks_checked = false;
}

/* Symbols of a module loaded after the tracer started: reload kallsyms. */
static void ksyms_refresh(struct site_cache *c)
{
	unsigned long sum = modules_sum();
	struct ksyms *ks;

	if (sum == c->modules_sum)
		return;
	ks = ksyms_load(KALLSYMS);
	if (!ks)
		return;
	ksyms_free(c->env->ks);
	c->env->ks = ks;
	c->modules_sum = sum;
	c->ks_gen++;
}

void site_cache_find(struct site_cache *c, uint64_t caller_ip,
		     int32_t stack_id, char *buf, size_t len)
{
	struct site *s;
	uint64_t h = caller_ip ^ ((uint64_t)(uint32_t)stack_id << 32);

	h ^= h >> 29;
	h *= 0x9e3779b97f4a7c15ull;
	s = &c->sites[h >> 58];		/* 64 entries */
	if (s->gen == c->ks_gen && s->ip == caller_ip &&
	    s->stack_id == stack_id) {
		snprintf(buf, len, "%s", s->caller);
		return;
	}
	/* a new site: a module loaded since may hold it (once per batch) */
	if (!c->ks_checked) {
		c->ks_checked = true;
		ksyms_refresh(c);
	}
	site_find(c->stacks_fd, c->env->ks, stack_id, caller_ip, buf, len);
	s->ip = caller_ip;
	s->stack_id = stack_id;
	s->gen = c->ks_gen;
	snprintf(s->caller, sizeof(s->caller), "%s", buf);
}
