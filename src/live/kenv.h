/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * kenv.h - the running kernel as the live verbs need it: its symbols, the
 * TEE core's presence, the generation of the TEE_SHM_* flags, where the
 * layout of struct tee_shm comes from, and which functions are in a module
 * that may load later.
 */
#ifndef TEESHM_KENV_H
#define TEESHM_KENV_H

#include <stdbool.h>

#define KALLSYMS	"/proc/kallsyms"

struct kenv {
	struct ksyms *ks;
	int flags_gen;		/* enum teeshm_flags_gen, from the symbols */
	bool release_old;	/* tee_shm_release is a symbol */
	/*
	 * optee.ko has the FF-A ABI (1), has not (0), or unknown (-1): its
	 * optee_ffa_* functions are armed before it loads only if it may.
	 */
	int optee_ffa;
	const char *optee_ffa_why;	/* where that came from, in words */
	/* where struct tee_shm's layout comes from */
	bool module_btf;	/* /sys/kernel/btf/tee */
	char btf_path[256];	/* external BTF: --btf, or the release's */
};

/*
 * Read kallsyms, check the TEE core is there, find the layout (btf: the
 * --btf FILE, or NULL).  0, or -1 after a one-line message.
 */
int kenv_init(struct kenv *env, const char *btf);
void kenv_fini(struct kenv *env);

/* Where struct tee_shm's layout comes from, in words. */
const char *kenv_layout(const struct kenv *env);
/* The layout of struct tee_shm is known (module or external BTF). */
bool kenv_shm_btf(const struct kenv *env);
/* The module fn is in if it may load after the tracer starts, or NULL. */
const char *kenv_fn_module(const char *fn);
/* fn is in a module not loaded yet: probed when it loads. */
bool kenv_deferred(const struct kenv *env, const char *fn);
/*
 * The function that stands for fn in this kernel: kmsg_dump() is an inline
 * wrapper of kmsg_dump_desc() since 6.12 (same first argument).
 */
const char *kenv_fn_target(const struct kenv *env, const char *fn);

#endif /* TEESHM_KENV_H */
