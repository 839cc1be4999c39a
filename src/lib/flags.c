// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flags.c - TEE_SHM_* flag decoding per kernel generation, and names.
 */
#include <stdio.h>
#include <string.h>

#include "flags.h"
#include "json_writer.h"
#include "teeshm_event.h"

/* Raw bit -> canonical bit, per generation (include/linux/tee_drv.h). */
static const uint32_t gen_old[] = {
	TSE_F_MAPPED,		/* BIT(0) TEE_SHM_MAPPED */
	TSE_F_DMA_BUF,		/* BIT(1) TEE_SHM_DMA_BUF */
	TSE_F_EXT_DMA_BUF,	/* BIT(2) TEE_SHM_EXT_DMA_BUF */
	TSE_F_REGISTER,		/* BIT(3) TEE_SHM_REGISTER */
	TSE_F_USER_MAPPED,	/* BIT(4) TEE_SHM_USER_MAPPED */
	TSE_F_POOL,		/* BIT(5) TEE_SHM_POOL */
	TSE_F_KERNEL_MAPPED,	/* BIT(6) TEE_SHM_KERNEL_MAPPED */
	TSE_F_PRIV,		/* BIT(7) TEE_SHM_PRIV (5.10.y backport) */
};

static const uint32_t gen_new[] = {
	TSE_F_DYNAMIC,		/* BIT(0) TEE_SHM_DYNAMIC */
	TSE_F_USER_MAPPED,	/* BIT(1) TEE_SHM_USER_MAPPED */
	TSE_F_POOL,		/* BIT(2) TEE_SHM_POOL */
	TSE_F_PRIV,		/* BIT(3) TEE_SHM_PRIV */
};

/*
 * Kernels with protected memory (tee_shm_alloc_dma_mem, tee_shm_register_fd;
 * 7.3): include/linux/tee_core.h adds two bits to the 5.18 layout.
 */
static const uint32_t gen_protmem[] = {
	TSE_F_DYNAMIC,		/* BIT(0) TEE_SHM_DYNAMIC */
	TSE_F_USER_MAPPED,	/* BIT(1) TEE_SHM_USER_MAPPED */
	TSE_F_POOL,		/* BIT(2) TEE_SHM_POOL */
	TSE_F_PRIV,		/* BIT(3) TEE_SHM_PRIV */
	TSE_F_DMA_BUF,		/* BIT(4) TEE_SHM_DMA_BUF: tee_shm_register_fd */
	TSE_F_DMA_MEM,		/* BIT(5) TEE_SHM_DMA_MEM: tee_shm_alloc_dma_mem */
};

uint32_t tse_flags_decode(uint32_t raw, int gen)
{
	const uint32_t *map;
	size_t n, i;
	uint32_t out = 0;

	switch (gen) {
	case TEESHM_GEN_OLD:
		map = gen_old;
		n = sizeof(gen_old) / sizeof(gen_old[0]);
		break;
	case TEESHM_GEN_NEW:
		map = gen_new;
		n = sizeof(gen_new) / sizeof(gen_new[0]);
		break;
	case TEESHM_GEN_PROTMEM:
		map = gen_protmem;
		n = sizeof(gen_protmem) / sizeof(gen_protmem[0]);
		break;
	default:
		return 0;
	}
	for (i = 0; i < n; i++)
		if (raw & (1u << i))
			out |= map[i];
	return out;
}

const char *tse_flags_gen_name(int gen)
{
	switch (gen) {
	case TEESHM_GEN_OLD:
		return "<= 5.17";
	case TEESHM_GEN_NEW:
		return "5.18+";
	case TEESHM_GEN_PROTMEM:
		return "5.18+ with protected memory (DMA_BUF, DMA_MEM)";
	}
	return "unknown";
}

#define FN(b, n) { b, n, sizeof(n) - 1 }
static const struct {
	uint32_t bit;
	const char *name;
	size_t len;
} flag_names[] = {
	FN(TSE_F_MAPPED, "MAPPED"),
	FN(TSE_F_DMA_BUF, "DMA_BUF"),
	FN(TSE_F_EXT_DMA_BUF, "EXT_DMA_BUF"),
	FN(TSE_F_REGISTER, "REGISTER"),
	FN(TSE_F_USER_MAPPED, "USER_MAPPED"),
	FN(TSE_F_POOL, "POOL"),
	FN(TSE_F_KERNEL_MAPPED, "KERNEL_MAPPED"),
	FN(TSE_F_PRIV, "PRIV"),
	FN(TSE_F_DYNAMIC, "DYNAMIC"),
	FN(TSE_F_DMA_MEM, "DMA_MEM"),
};
#undef FN

#define N_FLAG_NAMES (sizeof(flag_names) / sizeof(flag_names[0]))

const char *tse_flag_name(uint32_t bit)
{
	size_t i;

	for (i = 0; i < N_FLAG_NAMES; i++)
		if (flag_names[i].bit == bit)
			return flag_names[i].name;
	return NULL;
}

uint32_t tse_flag_from_name(const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0; i < N_FLAG_NAMES; i++)
		if (flag_names[i].len == len && flag_names[i].name[0] == name[0] &&
		    !memcmp(flag_names[i].name, name, len))
			return flag_names[i].bit;
	return 0;
}

char *tse_flags_str(uint32_t flags, char *buf, size_t len)
{
	size_t i, off = 0;
	int n;

	if (!len)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < N_FLAG_NAMES; i++) {
		if (!(flags & flag_names[i].bit))
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? "|" : "",
			     flag_names[i].name);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += n;
	}
	if (!off)
		snprintf(buf, len, "-");
	return buf;
}

void tse_flags_json(struct jw *w, uint32_t flags)
{
	size_t i;

	jw_key(w, "flags");
	jw_arr_begin(w);
	for (i = 0; i < N_FLAG_NAMES; i++)
		if (flags & flag_names[i].bit)
			jw_strn(w, flag_names[i].name, flag_names[i].len);
	jw_arr_end(w);
}
