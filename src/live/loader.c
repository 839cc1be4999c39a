// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * loader.c - the BPF side, from the skeleton to attached probes (see
 * loader.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "idkey.h"
#include "kenv.h"
#include "ksyms.h"
#include "loader.h"
#include "pinned.h"
#include "teeshm.skel.h"

/* libbpf's callback takes no context: the one flag it needs */
static bool libbpf_verbose;

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	if (level == LIBBPF_DEBUG || !libbpf_verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

void loader_print_libbpf(bool verbose)
{
	libbpf_verbose = verbose;
	libbpf_set_print(libbpf_print);
}

bool loader_has_foreach(void)
{
	return libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE,
				       BPF_FUNC_for_each_map_elem, NULL) > 0;
}

/* The probed function: the section name after its "kprobe/". */
static const char *prog_fn(const struct bpf_program *p)
{
	const char *sec = bpf_program__section_name(p);
	const char *slash = strchr(sec, '/');

	return slash ? slash + 1 : sec;
}

static bool is_ret(const struct bpf_program *p)
{
	const char *sec = bpf_program__section_name(p);

	return !strncmp(sec, "kretprobe/", 10) || !strncmp(sec, "fexit/", 6);
}

/* An fentry or fexit program (called from a BPF trampoline). */
static bool is_tramp(const struct bpf_program *p)
{
	const char *sec = bpf_program__section_name(p);

	return !strncmp(sec, "fentry/", 7) || !strncmp(sec, "fexit/", 6);
}

/*
 * Is fn probed from a trampoline?  Where they work and were not refused,
 * on a 5.18+ TEE core (the programs read what a 5.18+ allocation set in
 * the shm), if fn is in the kernel now (a module loaded later is armed
 * through a tracefs kprobe event, which needs no BTF) with BTF, and has
 * fentry or fexit programs.
 */
static bool fn_tramp(const struct loader *l, const struct kenv *env,
		     const char *fn)
{
	struct bpf_program *p;

	if (!l->use_tramp || env->flags_gen < TEESHM_GEN_NEW ||
	    !kenv_shm_btf(env) || !ksyms_has(env->ks, fn) ||
	    !tramp_has_btf(&l->tramp, fn))
		return false;
	bpf_object__for_each_program(p, l->skel->obj)
		if (is_tramp(p) && !strcmp(prog_fn(p), fn))
			return true;
	return false;
}

/* Does p load on this kernel, with these options? */
static bool want_prog(const struct loader *l, const struct kenv *env,
		      struct bpf_program *p)
{
	const struct teeshm_bpf *skel = l->skel;
	const char *fn = kenv_fn_target(env, prog_fn(p));
	bool foreach = l->foreach;

	if (is_tramp(p) || fn_tramp(l, env, fn))
		return is_tramp(p) && fn_tramp(l, env, fn) &&
		       (strcmp(fn, "tee_shm_put") || !env->release_old);
	/* static in optee.ko, and only needed where the layout is unknown */
	if (!strcmp(fn, "pool_op_free") &&
	    (kenv_shm_btf(env) || env->flags_gen != TEESHM_GEN_OLD))
		return false;
	if (!ksyms_has(env->ks, fn))
		return kenv_deferred(env, fn);
	if (!strcmp(fn, "tee_shm_put"))
		return !env->release_old;
	if (p == skel->progs.kexec_foreach || p == skel->progs.kmsg_foreach)
		return foreach;
	if (p == skel->progs.kexec_slots || p == skel->progs.kmsg_slots)
		return !foreach;
	return true;
}

int loader_open(struct loader *l, const struct kenv *env,
		const struct id_key *key, const struct loader_opts *o)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo,
		    .btf_custom_path = env->btf_path[0] ? env->btf_path : NULL);
	struct teeshm_bpf *skel;
	struct bpf_program *p;

	memset(l, 0, sizeof(*l));
	l->o = *o;
	l->events.agent = o->agent;
	if (o->attach != ATTACH_KPROBE) {
		tramp_probe(&l->tramp);
		if (!l->tramp.works && o->attach == ATTACH_FENTRY) {
			fprintf(stderr, "teeshm-trace: --attach=fentry: BPF "
				"trampolines unavailable here: %s (use "
				"--attach=kprobe or auto)\n", l->tramp.why);
			tramp_free(&l->tramp);
			return -1;
		}
		l->use_tramp = l->tramp.works;
	}
	l->skel = skel = teeshm_bpf__open_opts(&oo);
	if (!skel) {
		fprintf(stderr, "teeshm-trace: cannot open the BPF object: %s\n",
			strerror(errno));
		return -1;
	}
	skel->rodata->flags_gen = env->flags_gen;
	skel->rodata->id_key0 = key->k[0];
	skel->rodata->id_key1 = key->k[1];
	bpf_map__set_max_entries(skel->maps.live, o->max_buffers);
	if (o->ring_size)
		bpf_map__set_max_entries(skel->maps.events, o->ring_size);
	/* wake the reader per batch: at latency_ms, or a quarter ring */
	skel->rodata->wake_ns = o->latency_ms * 1000000ULL;
	skel->rodata->wake_bytes = bpf_map__max_entries(skel->maps.events) / 4;
	l->foreach = loader_has_foreach();
	skel->rodata->use_slots = !l->foreach;
	skel->rodata->console_report = o->console;
	skel->rodata->page_shift = __builtin_ctzl(sysconf(_SC_PAGESIZE));
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, want_prog(l, env, p));
	/* tee.ko's allocation functions, on fexit together or not at all */
	skel->rodata->alloc_tramp = fn_tramp(l, env, "tee_shm_alloc_kernel_buf");
	if (o->verbose)
		fprintf(stderr, "teeshm-trace: attach: %s (%s)\n",
			o->attach == ATTACH_KPROBE ?
			"kprobes (--attach=kprobe)" : l->use_tramp ?
			"fentry/fexit where a function has BTF and is loaded, "
			"else kprobes" : "kprobes",
			o->attach == ATTACH_KPROBE ? "trampolines not tried" :
			l->tramp.why);
	return 0;
}

/* Does a return (ret) or an entry program load for fn (t: its target)? */
static bool loads(const struct loader *l, const struct kenv *env,
		  const char *t, bool ret)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, l->skel->obj)
		if (bpf_program__autoload(p) && is_ret(p) == ret &&
		    !strcmp(kenv_fn_target(env, prog_fn(p)), t))
			return true;
	return false;
}

const char *loader_mechanism(const struct loader *l, const struct kenv *env,
			     const char *fn)
{
	const char *t = kenv_fn_target(env, fn);
	struct bpf_program *p;

	/* the mechanism of the programs that load for it */
	bpf_object__for_each_program(p, l->skel->obj) {
		if (!bpf_program__autoload(p) ||
		    strcmp(kenv_fn_target(env, prog_fn(p)), t))
			continue;
		/*
		 * tee_shm_put has no fexit (see f_shm_put_enter), the
		 * allocation functions no fentry (see alloc_fexit)
		 */
		if (is_tramp(p))
			return !loads(l, env, t, false) ? "fexit" :
			       loads(l, env, t, true) ? "fentry/fexit" : "fentry";
		if (kenv_deferred(env, t))
			return "kprobe (tracefs event, armed when its module "
			       "loads)";
		return "kprobe";
	}
	return NULL;
}

int loader_load(struct loader *l, const struct kenv *env)
{
	int err = teeshm_bpf__load(l->skel);
	uint32_t i;
	int qfd;

	if (err) {
		if (errno == EPERM || err == -EPERM)
			fprintf(stderr, "teeshm-trace: loading BPF needs "
				"CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)\n");
		else
			fprintf(stderr, "teeshm-trace: loading the BPF programs "
				"failed: %s (run with --verbose for the "
				"verifier log)\n", strerror(-err));
		return -1;
	}
	if (!l->foreach) {
		/* all snapshot slots start free */
		qfd = bpf_map__fd(l->skel->maps.free_slots);
		for (i = 0; i < TEESHM_SNAP_SLOTS; i++)
			bpf_map_update_elem(qfd, NULL, &i, BPF_ANY);
	}
	if (l->o.verbose)
		fprintf(stderr, "teeshm-trace: struct tee_shm layout: %s; "
			"kexec snapshot: %s\n", kenv_layout(env),
			l->foreach ? "bpf_for_each_map_elem" :
			"slot array (no bpf_for_each_map_elem)");
	if (l->o.verbose && kenv_deferred(env, "optee_shm_register"))
		fprintf(stderr, "teeshm-trace: optee.ko's FF-A functions: %s\n",
			env->optee_ffa_why);
	return 0;
}

/*
 * A return probe: through tracefs for its instances; without tracefs, as a
 * perf kprobe with the kernel's default (said once: its misses are not
 * counted anywhere).
 */
static struct bpf_link *attach_ret(struct loader *l, struct bpf_program *p,
				   const char *fn)
{
	struct bpf_link *link = kprobe_event_attach(&l->events, p, fn, NULL);

	if (link)
		return link;
	if (!l->ret_warned) {
		fprintf(stderr, "teeshm-trace: return probes attached without "
			"tracefs kprobe events (%s): the kernel's default "
			"instances, and their misses are not counted\n",
			strerror(errno));
		l->ret_warned = true;
	}
	return bpf_program__attach_kprobe(p, true, fn);
}

static struct bpf_link *attach_one(struct loader *l, const struct kenv *env,
				   struct bpf_program *p)
{
	const char *fn = kenv_fn_target(env, prog_fn(p));

	if (is_tramp(p))
		return bpf_program__attach(p);
	if (kenv_deferred(env, fn))
		return kprobe_event_attach(&l->events, p, fn,
					   kenv_fn_module(fn));
	if (is_ret(p))
		return attach_ret(l, p, fn);
	if (!strcmp(fn, "pool_op_free"))	/* a static name: optee.ko's */
		return bpf_program__attach_kprobe(p, false,
						  "optee:pool_op_free");
	return bpf_program__attach_kprobe(p, false, fn);
}

/* The mechanism of an attached program, for --verbose. */
static const char *mech_name(const struct bpf_program *p)
{
	const char *sec = bpf_program__section_name(p);

	if (!strncmp(sec, "fexit/", 6))
		return "fexit (no instances: a return cannot be missed)";
	if (!strncmp(sec, "fentry/", 7))
		return "fentry";
	if (!strncmp(sec, "kretprobe/", 10))
		return "kretprobe (misses counted)";
	return "kprobe";
}

/* The agent's links outlive it, pinned; the first that cannot be says why. */
static void pin_link(struct loader *l, struct bpf_link *link,
		     const struct bpf_program *p)
{
	int err;

	if (!l->o.agent || l->link_pin_err)
		return;
	err = pinned_pin_link(link, bpf_program__name(p));
	if (err)
		l->link_pin_err = -err;
}

int loader_attach(struct loader *l, const struct kenv *env)
{
	struct bpf_program *p;
	struct bpf_link *link;
	const char *fn;
	int pass;

	kprobe_events_remove(kprobe_event_stale);
	/*
	 * An agent's events with no pinned link left: the agent is gone (on
	 * 5.10, where links cannot be pinned, one killed with -9 leaves them,
	 * and its next start could not define them again).  Events in use,
	 * an agent still running there, are not removed: the kernel refuses.
	 */
	if (!pinned_agent_links())
		kprobe_events_remove(kprobe_event_agent);
	/*
	 * kretprobes first: a kprobe added later on the same function runs
	 * before the kretprobe's entry handler rewrites the return address,
	 * so the entry programs see the real caller.
	 */
	for (pass = 0; pass < 2; pass++) {
		bpf_object__for_each_program(p, l->skel->obj) {
			if (!bpf_program__autoload(p) || is_ret(p) != !pass)
				continue;
			link = attach_one(l, env, p);
			fn = kenv_fn_target(env, prog_fn(p));
			if (!link) {
				fprintf(stderr, "teeshm-trace: probe %s (%s) did "
					"not attach: %s\n", fn,
					bpf_program__name(p), strerror(errno));
				continue;
			}
			pin_link(l, link, p);
			if (l->nlinks < LOADER_MAX_LINKS)
				l->links[l->nlinks++] = link;
			if (l->o.verbose)
				fprintf(stderr, "teeshm-trace: probe %-26s "
					"%-20s %s %s\n", fn,
					bpf_program__name(p),
					kenv_deferred(env, fn) ?
					"attached (armed when its module loads)" :
					"attached", mech_name(p));
		}
	}
	if (!l->nlinks) {
		fprintf(stderr, "teeshm-trace: no probe attached (kprobes "
			"unavailable?)\n");
		return -1;
	}
	return 0;
}

void loader_close(struct loader *l, bool keep)
{
	while (l->nlinks) {
		/* kept: the pins hold the probes, the links go */
		if (keep)
			bpf_link__disconnect(l->links[l->nlinks - 1]);
		bpf_link__destroy(l->links[--l->nlinks]);
	}
	if (keep)
		kprobe_events_keep(&l->events);
	kprobe_events_remove_own(&l->events);
	teeshm_bpf__destroy(l->skel);
	l->skel = NULL;
	tramp_free(&l->tramp);
}

unsigned long long loader_tramp_misses(const struct loader *l)
{
	unsigned long long n = 0;
	struct bpf_program *p;

	if (!l->skel)
		return 0;
	bpf_object__for_each_program(p, l->skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(p);

		if (!is_tramp(p) || fd < 0 ||
		    bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		n += info.recursion_misses;
	}
	return n;
}

void loader_costs(const struct loader *l)
{
	struct bpf_program *p;
	unsigned long shown = 0;

	bpf_object__for_each_program(p, l->skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(p);

		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) ||
		    !info.run_cnt)
			continue;
		fprintf(stderr, "teeshm-trace: probe %s: %llu runs, %llu ns "
			"each\n", bpf_program__name(p),
			(unsigned long long)info.run_cnt,
			(unsigned long long)(info.run_time_ns / info.run_cnt));
		shown++;
	}
	if (!shown)
		fprintf(stderr, "teeshm-trace: per-probe runs and cost: "
			"sysctl kernel.bpf_stats_enabled=1 while tracing\n");
}
