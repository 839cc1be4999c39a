/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * kexec_report.h - the kexec report the BPF side prints at a kexec
 * ("teeshm-trace: kexec-begin ..." lines, see the man page), read back
 * from a console log or, after the reboot, from pstore.
 */
#ifndef TEESHM_KEXEC_REPORT_H
#define TEESHM_KEXEC_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PSTORE_DIR "/sys/fs/pstore"

struct kx_entry {
	char id[17];		/* keyed id, 16 hex digits */
	uint64_t size;
	uint32_t flags;		/* raw TEE_SHM_* bits of that kernel */
	int32_t pid;		/* -1 if no site line */
	bool orphaned;		/* released while registered */
	uint64_t handle;	/* FF-A global handle, 0 if none */
	char site[128];		/* "" if no site line */
};

struct kx_report {
	bool found;		/* a kexec-begin line */
	bool complete;		/* and its kexec-end line */
	char kind[8];		/* "kexec" or "crash" */
	uint64_t lost;		/* lost= of kexec-end */
	unsigned int declared;	/* registered= of kexec-end */
	struct kx_entry *v;	/* what was registered */
	size_t n, cap;
};

/* The last report in f (complete or not).  0, -ENOMEM or -EIO. */
int kx_parse(FILE *f, struct kx_report *r);
/*
 * The newest pstore record (dmesg or console) that holds a report, its
 * path into chosen ("" if none).  0 (r->found says if there was one), or
 * -errno if PSTORE_DIR cannot be read.
 */
int kx_parse_pstore(struct kx_report *r, char *chosen, size_t len);
void kx_free(struct kx_report *r);

#endif /* TEESHM_KEXEC_REPORT_H */
