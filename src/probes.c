// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * probes.c - `probes`: the functions teeshm-trace probes, and whether
 * this kernel has them.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "flags.h"
#include "kenv.h"
#include "ksyms.h"
#include "loader.h"
#include "teeshm_event.h"
#include "verbs.h"

static const struct probe_fn {
	const char *fn;
	const char *what;
} probe_fns[] = {
	{ "tee_shm_alloc", "alloc (<= 5.17: ctx, size, flags)" },
	{ "tee_shm_alloc_user_buf", "alloc, user (5.18+)" },
	{ "tee_shm_alloc_kernel_buf", "alloc, kernel" },
	{ "tee_shm_alloc_priv_buf", "alloc, driver-private (5.18+)" },
	{ "tee_shm_register_user_buf", "register user memory (5.18+)" },
	{ "tee_shm_register_kernel_buf", "register kernel memory (5.18+)" },
	{ "tee_shm_register", "register memory (<= 5.17)" },
	{ "optee_shm_register", "secure-world registration (SMC ABI)" },
	{ "optee_shm_unregister", "secure-world unregistration (SMC ABI)" },
	{ "optee_ffa_shm_register", "secure-world registration (FF-A)" },
	{ "optee_ffa_shm_unregister", "secure-world unregistration (FF-A)" },
	{ "tee_shm_release", "release (<= 5.17)" },
	{ "tee_shm_put", "release: last reference" },
	{ "pool_op_free", "release without BTF: pool give-back (optee.ko)" },
	{ "kernel_kexec", "kexec begins" },
	{ "kmsg_dump", "kexec snapshot, before pstore's dmesg dump" },
	{ "kmsg_dump_desc", "the same, 6.12+ (kmsg_dump() is inline)" },
	{ "machine_kexec", "kexec snapshot (crash path, fallback)" },
	{ "__crash_kexec", "crash kexec (kdump)" },
};

#define N_PROBE_FNS (sizeof(probe_fns) / sizeof(probe_fns[0]))

static void print_fn(const struct kenv *env, const struct probe_fn *p)
{
	bool has = ksyms_has(env->ks, p->fn);

	if (has && !strcmp(p->fn, "tee_shm_put") && env->release_old)
		printf("%-28s %-8s %s (unused: tee_shm_release is probed)\n",
		       p->fn, "yes", p->what);
	else if (!has && !strncmp(p->fn, "optee_ffa_", 10) &&
		 kenv_fn_module(p->fn) && !kenv_deferred(env, p->fn) &&
		 env->optee_ffa == 0)
		printf("%-28s %-8s %s (not in optee.ko: %s)\n", p->fn, "no",
		       p->what, env->optee_ffa_why);
	else if (!has && kenv_deferred(env, p->fn))
		printf("%-28s %-8s %s (armed when %s.ko loads)\n", p->fn,
		       "later", p->what, kenv_fn_module(p->fn));
	else
		printf("%-28s %-8s %s\n", p->fn, has ? "yes" : "no", p->what);
}

int cmd_probes(const struct cli *cli, int argc, char **argv)
{
	static const char usage[] =
		"Usage: teeshm-trace probes\n"
		"\n"
		"List the functions teeshm-trace probes and whether this kernel\n"
		"has them (from /proc/kallsyms).  `trace --verbose` says which\n"
		"actually attached.\n";
	struct kenv env;
	size_t i;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return EXIT_CLEAN;
	}
	if (argc > 1)
		return usage_error(usage, "probes takes no arguments");
	if (kenv_init(&env, cli->btf))
		return EXIT_USAGE;
	printf("flag layout: %s (detected from symbols: %s)\n",
	       tse_flags_gen_name(env.flags_gen),
	       env.flags_gen == TEESHM_GEN_OLD ? "tee_shm_alloc present" :
	       env.flags_gen == TEESHM_GEN_PROTMEM ?
	       "tee_shm_alloc_dma_mem present" : "no tee_shm_alloc");
	printf("struct tee_shm layout: %s\n", kenv_layout(&env));
	printf("%-28s %-8s %s\n", "function", "present", "role");
	for (i = 0; i < N_PROBE_FNS; i++)
		print_fn(&env, &probe_fns[i]);
	printf("kexec snapshot: %s\n", loader_has_foreach() ?
	       "in kernel (bpf_for_each_map_elem)" :
	       "in kernel, from a slot array (no bpf_for_each_map_elem, or no "
	       "permission to probe)");
	kenv_fini(&env);
	return EXIT_CLEAN;
}
