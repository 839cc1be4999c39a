// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * kenv.c - the running kernel as the live verbs need it (see kenv.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "kenv.h"
#include "ksyms.h"
#include "teeshm_event.h"

/* Per-kernel-release external BTF, e.g. cut with `bpftool gen min_core_btf` */
#ifndef TEESHM_BTF_DIR
#define TEESHM_BTF_DIR "/usr/lib/teeshm-trace/btf"
#endif

/*
 * struct tee_shm's layout: tee.ko's own BTF (5.11+), else --btf FILE, else
 * TEESHM_BTF_DIR/RELEASE.btf if present, else none (5.10 without help:
 * pairing from arguments, see the man page).  0, or -1 after a message.
 */
static int find_btf(struct kenv *env, const char *btf)
{
	struct utsname u;

	env->module_btf = !access("/sys/kernel/btf/tee", R_OK);
	if (btf) {
		if (access(btf, R_OK)) {
			fprintf(stderr, "teeshm-trace: --btf %s: %s\n", btf,
				strerror(errno));
			return -1;
		}
		snprintf(env->btf_path, sizeof(env->btf_path), "%s", btf);
		return 0;
	}
	if (env->module_btf || uname(&u))
		return 0;
	snprintf(env->btf_path, sizeof(env->btf_path), "%s/%s.btf",
		 TEESHM_BTF_DIR, u.release);
	if (access(env->btf_path, R_OK))
		env->btf_path[0] = '\0';
	return 0;
}

/* The basename of path without ".ko" and a compression suffix is mod. */
static bool is_module(const char *path, const char *mod)
{
	const char *b = strrchr(path, '/');
	size_t n = strlen(mod);

	b = b ? b + 1 : path;
	return !strncmp(b, mod, n) && !strncmp(b + n, ".ko", 3);
}

/*
 * optee.ko's dependencies in modules.dep: FF-A's core module among them
 * means its FF-A ABI is built (ffa_abi.o, CONFIG_ARM_FFA_TRANSPORT=m).
 * 1, 0, or -1 if optee.ko is not listed.
 */
static int optee_needs_ffa_core(FILE *f)
{
	char line[1024], *tok, *save;

	while (fgets(line, sizeof(line), f)) {
		tok = strtok_r(line, ": \n", &save);
		if (!tok || !is_module(tok, "optee"))
			continue;
		while ((tok = strtok_r(NULL, " \n", &save)))
			if (is_module(tok, "ffa-core") ||
			    is_module(tok, "ffa_core"))
				return 1;
		return 0;
	}
	return -1;
}

/*
 * Whether optee.ko, not loaded yet, has optee_ffa_*: an FF-A bus that is
 * there (FF-A built in, or ffa-core loaded), else optee.ko's line in
 * modules.dep, else unknown (armed: a kernel without them then logs
 * "Failed to re-register probe" when optee.ko loads, harmlessly).
 */
static void find_optee_ffa(struct kenv *env)
{
	struct utsname u;
	char path[300];
	FILE *f;

	env->optee_ffa = -1;
	env->optee_ffa_why = "unknown: armed in case";
	if (!access("/sys/bus/arm_ffa", F_OK)) {
		env->optee_ffa = 1;
		env->optee_ffa_why = "an FF-A bus is registered";
		return;
	}
	if (uname(&u))
		return;
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.dep",
		 u.release);
	f = fopen(path, "r");
	if (!f)
		return;
	env->optee_ffa = optee_needs_ffa_core(f);
	fclose(f);
	if (env->optee_ffa == 1)
		env->optee_ffa_why = "optee.ko needs ffa-core (modules.dep)";
	else if (!env->optee_ffa)
		env->optee_ffa_why = "optee.ko without FF-A (modules.dep: no "
				     "ffa-core, no FF-A bus)";
	else
		env->optee_ffa_why = "unknown (optee.ko not in modules.dep): "
				     "armed in case";
}

int kenv_init(struct kenv *env, const char *btf)
{
	int err;

	memset(env, 0, sizeof(*env));
	env->ks = ksyms_load(KALLSYMS);
	if (!env->ks) {
		fprintf(stderr, "teeshm-trace: cannot read %s: %s\n", KALLSYMS,
			strerror(errno));
		return -1;
	}
	if (!ksyms_has(env->ks, "tee_shm_put") &&
	    !ksyms_has(env->ks, "tee_shm_free")) {
		fputs("teeshm-trace: TEE core not present (tee.ko not "
		      "loaded?)\n", stderr);
		ksyms_free(env->ks);
		env->ks = NULL;
		return -1;
	}
	/*
	 * Generation from the symbols, not from a version string (the bits
	 * are #defines: no BTF has them).  tee_shm_alloc went in 5.18;
	 * tee_shm_alloc_dma_mem came with TEE_SHM_DMA_BUF and TEE_SHM_DMA_MEM
	 * (protected memory) and is exported whatever the configuration (a
	 * stub without TEE_DMABUF_HEAPS): its presence is the header's.
	 */
	if (ksyms_has(env->ks, "tee_shm_alloc"))
		env->flags_gen = TEESHM_GEN_OLD;
	else if (ksyms_has(env->ks, "tee_shm_alloc_dma_mem"))
		env->flags_gen = TEESHM_GEN_PROTMEM;
	else
		env->flags_gen = TEESHM_GEN_NEW;
	env->release_old = ksyms_has(env->ks, "tee_shm_release");
	find_optee_ffa(env);
	err = find_btf(env, btf);
	if (err)
		kenv_fini(env);
	return err;
}

void kenv_fini(struct kenv *env)
{
	ksyms_free(env->ks);
	env->ks = NULL;
}

const char *kenv_layout(const struct kenv *env)
{
	if (env->btf_path[0])
		return env->btf_path;
	if (env->module_btf)
		return "tee.ko's BTF";
	return "none: size and flags from arguments";
}

bool kenv_shm_btf(const struct kenv *env)
{
	return env->module_btf || env->btf_path[0];
}

/*
 * Functions of a module that may load after the tracer starts (optee.ko
 * probes, and registers shared memory, from its init).  They are probed
 * through a tracefs "MOD:SYM" kprobe event, which the kernel arms when the
 * module comes, before its init runs.
 */
const char *kenv_fn_module(const char *fn)
{
	if (!strcmp(fn, "pool_op_free"))
		return "optee";
	return strncmp(fn, "optee_", 6) ? NULL : "optee";
}

static bool module_loaded(const char *mod)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/module/%s", mod);
	return !access(path, F_OK);
}

bool kenv_deferred(const struct kenv *env, const char *fn)
{
	const char *mod = kenv_fn_module(fn);

	if (!mod || ksyms_has(env->ks, fn) || module_loaded(mod))
		return false;
	/* nothing armed for a function the module cannot have */
	return strncmp(fn, "optee_ffa_", 10) || env->optee_ffa != 0;
}

const char *kenv_fn_target(const struct kenv *env, const char *fn)
{
	if (!strcmp(fn, "kmsg_dump") && !ksyms_has(env->ks, fn) &&
	    ksyms_has(env->ks, "kmsg_dump_desc"))
		return "kmsg_dump_desc";
	return fn;
}
