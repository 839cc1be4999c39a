/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tramp.h - BPF trampolines (fentry/fexit) on this kernel: do they attach
 * to the TEE core's functions, found by attaching a program that does
 * nothing, and which functions have the BTF an fentry program needs
 * (vmlinux's, or tee.ko's and optee.ko's module BTF).
 */
#ifndef TEESHM_TRAMP_H
#define TEESHM_TRAMP_H

#include <stdbool.h>

struct btf;

/* --attach: the mechanism asked for */
enum attach_mode {
	ATTACH_AUTO,	/* fentry/fexit where they work, else kprobes */
	ATTACH_KPROBE,	/* kprobes and kretprobes only */
	ATTACH_FENTRY,	/* fentry/fexit, or refuse to start */
};

struct tramp {
	bool works;		/* a trampoline attached to tee_shm_put */
	char why[160];		/* why not, in words (or how it was found) */
	struct btf *vmlinux;	/* BTF to look functions up in */
	struct btf *mods[2];	/* tee, optee (split BTF), NULL if absent */
};

/* Probe this kernel (needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN). */
void tramp_probe(struct tramp *t);
/* Has fn a BTF function record fentry can attach by? */
bool tramp_has_btf(const struct tramp *t, const char *fn);
void tramp_free(struct tramp *t);

/* "auto", "kprobe", "fentry" -> mode; -1 if none of them. */
int attach_mode_parse(const char *s);

#endif /* TEESHM_TRAMP_H */
