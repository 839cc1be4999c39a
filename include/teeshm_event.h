/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * teeshm_event.h - the one event ABI shared by the BPF programs (bpf/) and
 * the user-space frontend (src/).
 *
 * Included by BPF code after vmlinux.h, and by C code after <stdint.h>.
 * Only fixed-width types; every struct is naturally aligned and padded by
 * hand so the layout is identical for the BPF target, x86_64 and arm64.
 */
#ifndef TEESHM_EVENT_H
#define TEESHM_EVENT_H

#ifndef __VMLINUX_H__
#include <stdint.h>
typedef uint8_t teeshm_u8;
typedef uint16_t teeshm_u16;
typedef int16_t teeshm_s16;
typedef uint32_t teeshm_u32;
typedef int32_t teeshm_s32;
typedef uint64_t teeshm_u64;
#else
typedef __u8 teeshm_u8;
typedef __u16 teeshm_u16;
typedef __s16 teeshm_s16;
typedef __u32 teeshm_u32;
typedef __s32 teeshm_s32;
typedef __u64 teeshm_u64;
#endif

#define TEESHM_COMM_LEN		16
#define TEESHM_MAX_STACK	16	/* frames kept per allocation site */
#define TEESHM_LIVE_MAX		16384	/* default live-table capacity */
/*
 * Kernels without bpf_for_each_map_elem (< 5.13) take the kexec snapshot
 * from a slot array of registered buffers: at most this many at once.
 */
#define TEESHM_SNAP_SLOTS	1024

/* Event types (struct teeshm_event.type) */
enum teeshm_ev_type {
	TEESHM_EV_ALLOC = 1,	/* a struct tee_shm came into being */
	TEESHM_EV_REGISTER = 2,	/* registration with the secure world */
	TEESHM_EV_UNREGISTER = 3, /* unregistration from the secure world */
	TEESHM_EV_FREE = 4,	/* release completed (after any unregister) */
	TEESHM_EV_KEXEC = 5,	/* machine_kexec reached: snapshot follows */
	TEESHM_EV_SNAPSHOT = 6,	/* one live buffer at the kexec snapshot */
	TEESHM_EV__MAX,
};

/* Which kernel function produced the event (struct teeshm_event.api) */
enum teeshm_api {
	TEESHM_API_NONE = 0,
	TEESHM_API_SHM_ALLOC,		/* tee_shm_alloc (<= 5.17) */
	TEESHM_API_ALLOC_USER_BUF,	/* tee_shm_alloc_user_buf */
	TEESHM_API_ALLOC_KERNEL_BUF,	/* tee_shm_alloc_kernel_buf */
	TEESHM_API_ALLOC_PRIV_BUF,	/* tee_shm_alloc_priv_buf */
	TEESHM_API_REGISTER_USER_BUF,	/* tee_shm_register_user_buf */
	TEESHM_API_REGISTER_KERNEL_BUF,	/* tee_shm_register_kernel_buf */
	TEESHM_API_SHM_REGISTER,	/* tee_shm_register (<= 5.17) */
	TEESHM_API_OPTEE_REGISTER,	/* optee_shm_register (SMC ABI) */
	TEESHM_API_OPTEE_UNREGISTER,	/* optee_shm_unregister (SMC ABI) */
	TEESHM_API_FFA_REGISTER,	/* optee_ffa_shm_register */
	TEESHM_API_FFA_UNREGISTER,	/* optee_ffa_shm_unregister */
	TEESHM_API_SHM_RELEASE,		/* tee_shm_release (return) */
	TEESHM_API_KEXEC,		/* machine_kexec */
	TEESHM_API__MAX,
};

/* Kernel generation of the TEE_SHM_* bit layout (teeshm_event.flags_gen) */
enum teeshm_flags_gen {
	TEESHM_GEN_UNKNOWN = 0,
	TEESHM_GEN_OLD = 1,	/* <= 5.17: MAPPED DMA_BUF ... KERNEL_MAPPED PRIV */
	TEESHM_GEN_NEW = 2,	/* >= 5.18: DYNAMIC USER_MAPPED POOL PRIV */
	TEESHM_GEN_PROTMEM = 3,	/* protected memory (7.3): NEW + DMA_BUF DMA_MEM */
};

/* Kind of kexec (teeshm_event.kind on TEESHM_EV_KEXEC) */
enum teeshm_kexec_kind {
	TEESHM_KEXEC_NORMAL = 0,
	TEESHM_KEXEC_CRASH = 1,
};

/*
 * One event on the ring buffer.  shm/ctx are raw kernel addresses: they
 * stay on the machine; exporters hash them (see src/).
 */
struct teeshm_event {
	teeshm_u64 ts_ns;	/* bpf_ktime_get_boot_ns() */
	teeshm_u64 shm;		/* struct tee_shm * */
	teeshm_u64 ctx;		/* struct tee_context * */
	teeshm_u64 cookie;	/* secure-world id/cookie where known */
	teeshm_u64 size;	/* bytes */
	teeshm_u64 caller_ip;	/* return address of the allocation call */
	teeshm_u32 flags;	/* raw TEE_SHM_* bits, layout per flags_gen */
	teeshm_u32 pid;		/* tgid */
	teeshm_s32 ret;		/* return code (0 ok, -errno) */
	teeshm_s32 stack_id;	/* allocation-site stack id, -1 if none */
	teeshm_u8 type;		/* enum teeshm_ev_type */
	teeshm_u8 api;		/* enum teeshm_api */
	teeshm_u8 flags_gen;	/* enum teeshm_flags_gen */
	teeshm_u8 kind;		/* enum teeshm_kexec_kind on kexec; on a
				 * snapshot: 1 if orphaned (see below) */
	teeshm_u8 flags_known;	/* 1 if flags/size were read from the shm */
	teeshm_u8 pad[3];
	char comm[TEESHM_COMM_LEN];
};

/*
 * State of a buffer in the in-kernel live table (BPF hash map keyed by the
 * struct tee_shm pointer).
 *
 * Orphans: a shm the kernel released while it was still registered (its
 * unregistration failed, or was never tried) stays registered in the
 * secure world, and nothing can unregister it any more.  Its entry moves
 * to an odd key (struct tee_shm pointers are 8-byte aligned; the address
 * may be reused by a new shm at once) with orphaned = 1 and state still
 * REGISTERED, so every reader of the table counts it, and the kexec
 * snapshot reports it.
 */
enum teeshm_live_state {
	TEESHM_LIVE_ALLOCATED = 1,
	TEESHM_LIVE_REGISTERED = 2,
};

struct teeshm_live {
	teeshm_u64 shm;		/* struct tee_shm * (an orphan's key is not) */
	teeshm_u64 caller_ip;	/* return address of the allocation call */
	teeshm_u64 ts_ns;	/* entered its state: allocated, registered */
	teeshm_u64 cookie;
	teeshm_u64 size;
	teeshm_u32 flags;
	teeshm_u32 pid;
	teeshm_s16 stack_id;	/* < 4096 entries in the stack map, or -errno */
	teeshm_u16 slot;	/* snapshot slot + 1 (old kernels), 0 none */
	teeshm_u8 state;	/* enum teeshm_live_state */
	teeshm_u8 api;
	teeshm_u8 orphaned;	/* released while registered (see above) */
	teeshm_u8 releasing;	/* its last reference is being put (fentry) */
	char comm[TEESHM_COMM_LEN];
};

/*
 * 72 bytes: with the hash map's 48-byte element header and the 8-byte key
 * an element is 128 bytes (one kmalloc-128 object, two cache lines).
 */
_Static_assert(sizeof(struct teeshm_live) == 72, "teeshm_live: 72 bytes");
_Static_assert(TEESHM_SNAP_SLOTS < 65535, "slot + 1 fits 16 bits");


/* Indexes of the counters array map */
enum teeshm_counter {
	TEESHM_CNT_EVENTS = 0,	/* events submitted */
	TEESHM_CNT_LOST,	/* ring buffer full: event dropped */
	TEESHM_CNT_LIVE_FULL,	/* live table full: buffer untracked */
	TEESHM_CNT_REGISTERS,
	TEESHM_CNT_UNREGISTERS,
	TEESHM_CNT_REG_FAILED,
	TEESHM_CNT_KEXECS,
	TEESHM_CNT_SNAP_FULL,	/* no snapshot slot left: kexec report partial */
	TEESHM_CNT_ORPHANS,	/* released while registered (kept as orphans) */
	TEESHM_CNT_STALE,	/* unregistered entry replaced: release unseen */
	TEESHM_CNT__MAX,
};

#endif /* TEESHM_EVENT_H */
