/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * teedev.h - the TEE devices at kexec: does the kernel's shutdown path
 * unregister them, and who holds them open.
 *
 * On 7.x with OP-TEE over FF-A, arm_ffa is a platform driver whose
 * .shutdown removes the FF-A devices: optee_ffa_remove() ->
 * optee_remove_common() -> tee_device_unregister(), which waits until
 * every user of the device is gone (an open /dev/tee0 or /dev/teepriv0, a
 * tee_shm file or mapping).  A process still holding one at kexec never
 * lets go: the kexec hangs for good.  Over the SMC ABI optee's .shutdown
 * only disables the shm cache; nothing waits.
 */
#ifndef TEESHM_TEEDEV_H
#define TEESHM_TEEDEV_H

#include <stdbool.h>

#define TEEDEV_MAX		8	/* TEE devices looked at */
#define TEEDEV_MAX_HOLDERS	32	/* holders kept (all are counted) */
#define TEEDEV_COMM_LEN		16

struct teedev_holder {
	int pid;
	bool spared;		/* argv[0] starts with '@': systemd-shutdown
				 * does not kill it */
	char comm[TEEDEV_COMM_LEN];
	char what[24];		/* the first thing held: "/dev/teepriv0",
				 * "tee_shm" */
};

struct teedev_scan {
	int ndev;		/* TEE devices (/sys/class/tee) */
	bool ffa;		/* one sits on the FF-A bus */
	bool unreg_at_kexec;	/* the shutdown path unregisters it (FF-A
				 * core's platform shutdown) */
	int nholders;		/* processes holding a TEE device */
	struct teedev_holder h[TEEDEV_MAX_HOLDERS];
};

/*
 * Look at root's /sys and /proc (root "" is the machine; tests give a
 * directory).  0, or -errno when /proc cannot be read (the holders would
 * be unknown); no TEE device is not an error (ndev 0).
 */
int teedev_scan(struct teedev_scan *s, const char *root);

/* Would a kexec now wait forever for a holder? */
static inline bool teedev_kexec_hangs(const struct teedev_scan *s)
{
	return s->unreg_at_kexec && s->nholders;
}

#endif /* TEESHM_TEEDEV_H */
