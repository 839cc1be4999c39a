// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tramp.c - BPF trampolines on this kernel (see tramp.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "tramp.h"

/* The probe's target: in tee.ko, which every supported kernel has. */
#define PROBE_FN	"tee_shm_put"
#define PROBE_MOD	"tee"

int attach_mode_parse(const char *s)
{
	if (!strcmp(s, "auto"))
		return ATTACH_AUTO;
	if (!strcmp(s, "kprobe"))
		return ATTACH_KPROBE;
	if (!strcmp(s, "fentry"))
		return ATTACH_FENTRY;
	return -1;
}

/* The fd of the kernel's BTF object of module mod, or -1. */
static int module_btf_fd(const char *mod)
{
	__u32 id = 0;

	while (!bpf_btf_get_next_id(id, &id)) {
		struct bpf_btf_info info = {};
		__u32 len = sizeof(info);
		char name[64] = "";
		int fd = bpf_btf_get_fd_by_id(id);

		if (fd < 0)
			continue;
		info.name = (__u64)(unsigned long)name;
		info.name_len = sizeof(name);
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    info.kernel_btf && !strcmp(name, mod))
			return fd;
		close(fd);
	}
	return -1;
}

/*
 * Load and attach an fentry program that returns 0 on PROBE_FN, detach it.
 * 0, or -errno of the step that failed (step says which).
 */
static int try_fentry(int btf_id, int obj_fd, const char **step)
{
	/* r0 = 0; exit */
	const struct bpf_insn insns[] = {
		{ .code = 0xb7, .dst_reg = 0, .imm = 0 },
		{ .code = 0x95 },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o,
		    .expected_attach_type = BPF_TRACE_FENTRY,
		    .attach_btf_id = btf_id, .attach_btf_obj_fd = obj_fd);
	int pfd, lfd, err = 0;

	*step = "load";
	pfd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "teeshm_probe", "GPL",
			    insns, 2, &o);
	if (pfd < 0)
		return -errno;
	*step = "attach";
	lfd = bpf_raw_tracepoint_open(NULL, pfd);
	if (lfd < 0)
		err = -errno;
	else
		close(lfd);
	close(pfd);
	return err;
}

void tramp_probe(struct tramp *t)
{
	const char *step = "";
	int id, fd, err;

	memset(t, 0, sizeof(*t));
	t->vmlinux = btf__load_vmlinux_btf();
	if (!t->vmlinux) {
		snprintf(t->why, sizeof(t->why), "no kernel BTF");
		return;
	}
	t->mods[0] = btf__load_module_btf("tee", t->vmlinux);
	t->mods[1] = btf__load_module_btf("optee", t->vmlinux);
	if (!t->mods[0]) {
		snprintf(t->why, sizeof(t->why), "tee.ko has no BTF");
		return;
	}
	id = btf__find_by_name_kind(t->mods[0], PROBE_FN, BTF_KIND_FUNC);
	fd = module_btf_fd(PROBE_MOD);
	if (id < 0 || fd < 0) {
		snprintf(t->why, sizeof(t->why), "%s not in tee.ko's BTF",
			 PROBE_FN);
		if (fd >= 0)
			close(fd);
		return;
	}
	err = try_fentry(id, fd, &step);
	close(fd);
	t->works = !err;
	if (err == -524)	/* ENOTSUPP: no trampoline for kernel text */
		snprintf(t->why, sizeof(t->why), "no BPF trampoline for kernel "
			 "functions (%s: not supported; arm64 has them from "
			 "6.4, with ftrace direct calls)", step);
	else if (err)
		snprintf(t->why, sizeof(t->why), "an fentry program did not "
			 "%s: %s", step, strerror(-err));
	else
		snprintf(t->why, sizeof(t->why), "an fentry program attaches "
			 "to %s", PROBE_FN);
}

bool tramp_has_btf(const struct tramp *t, const char *fn)
{
	size_t i;

	if (!t->vmlinux)
		return false;
	if (btf__find_by_name_kind(t->vmlinux, fn, BTF_KIND_FUNC) >= 0)
		return true;
	for (i = 0; i < sizeof(t->mods) / sizeof(t->mods[0]); i++)
		if (t->mods[i] &&
		    btf__find_by_name_kind(t->mods[i], fn, BTF_KIND_FUNC) >= 0)
			return true;
	return false;
}

void tramp_free(struct tramp *t)
{
	size_t i;

	for (i = 0; i < sizeof(t->mods) / sizeof(t->mods[0]); i++)
		btf__free(t->mods[i]);
	btf__free(t->vmlinux);
	memset(t, 0, sizeof(*t));
}
