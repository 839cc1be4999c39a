/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * flags.h - TEE_SHM_* flags: the kernel's bits (two layouts, by kernel
 * generation) decoded once into canonical bits, and their names.
 */
#ifndef TEESHM_FLAGS_H
#define TEESHM_FLAGS_H

#include <stddef.h>
#include <stdint.h>

struct jw;

/*
 * Canonical, generation-independent flag bits.  Kernel bits are mapped onto
 * these by tse_flags_decode(); JSONL names are these names without the
 * TEE_SHM_ prefix.
 */
enum tse_flag {
	TSE_F_MAPPED = 1u << 0,
	TSE_F_DMA_BUF = 1u << 1,
	TSE_F_EXT_DMA_BUF = 1u << 2,
	TSE_F_REGISTER = 1u << 3,
	TSE_F_USER_MAPPED = 1u << 4,
	TSE_F_POOL = 1u << 5,
	TSE_F_KERNEL_MAPPED = 1u << 6,
	TSE_F_PRIV = 1u << 7,
	TSE_F_DYNAMIC = 1u << 8,
	TSE_F_DMA_MEM = 1u << 9,	/* protected memory, lent (7.3) */
};

/* Map raw TEE_SHM_* bits of kernel generation gen (enum teeshm_flags_gen). */
uint32_t tse_flags_decode(uint32_t raw, int gen);
/* The layout of generation gen in words ("<= 5.17", "5.18+", ...). */
const char *tse_flags_gen_name(int gen);
/* The name of one canonical bit (TSE_F_PRIV: "PRIV"), NULL if none. */
const char *tse_flag_name(uint32_t bit);
/* Canonical bit for a name ("PRIV"), 0 if unknown. */
uint32_t tse_flag_from_name(const char *name);
/* "DYNAMIC|POOL" (or "-" when empty) into buf; returns buf. */
char *tse_flags_str(uint32_t flags, char *buf, size_t len);
/* "flags":["POOL","DYNAMIC"]: the key and the names, in canonical order. */
void tse_flags_json(struct jw *w, uint32_t flags);

#endif /* TEESHM_FLAGS_H */
