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
	/* Generation from the symbols, not from a version string. */
	env->flags_gen = ksyms_has(env->ks, "tee_shm_alloc") ?
			 TEESHM_GEN_OLD : TEESHM_GEN_NEW;
	env->release_old = ksyms_has(env->ks, "tee_shm_release");
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

	return mod && !ksyms_has(env->ks, fn) && !module_loaded(mod);
}
