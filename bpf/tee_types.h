/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tee_types.h - the TEE types the BPF side reads, as CO-RE local
 * definitions.  They live in tee.ko's module BTF (not vmlinux), and their
 * layout differs between kernel generations; libbpf matches these by name
 * (the ___teeshm suffix is ignored) and relocates every field access
 * against the running kernel's module BTF.
 */
#ifndef TEESHM_TEE_TYPES_H
#define TEESHM_TEE_TYPES_H

struct tee_shm___teeshm {
	void *ctx;
	int id;
	size_t size;
	u32 flags;
	refcount_t refcount;		/* 5.18+ (older: dma-buf refcount) */
	u64 sec_world_id;		/* 5.16+, FF-A cookie */
} __attribute__((preserve_access_index));

#endif /* TEESHM_TEE_TYPES_H */
