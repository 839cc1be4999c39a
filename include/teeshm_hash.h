/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * teeshm_hash.h - keyed hash of kernel addresses, identical in BPF and C.
 *
 * SipHash-2-4 of one 64-bit word under a 128-bit key.  Used wherever a
 * buffer identity can leave the machine (JSON of live verbs, exports, the
 * kexec console report): a raw struct tee_shm address would disclose the
 * kernel's layout (KASLR).  Include after teeshm_event.h.
 */
#ifndef TEESHM_HASH_H
#define TEESHM_HASH_H

#define TEESHM_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

#define TEESHM_SIPROUND(v0, v1, v2, v3)					\
	do {								\
		v0 += v1; v1 = TEESHM_ROTL(v1, 13); v1 ^= v0;		\
		v0 = TEESHM_ROTL(v0, 32);				\
		v2 += v3; v3 = TEESHM_ROTL(v3, 16); v3 ^= v2;		\
		v0 += v3; v3 = TEESHM_ROTL(v3, 21); v3 ^= v0;		\
		v2 += v1; v1 = TEESHM_ROTL(v1, 17); v1 ^= v2;		\
		v2 = TEESHM_ROTL(v2, 32);				\
	} while (0)

static inline teeshm_u64 teeshm_hash64(teeshm_u64 k0, teeshm_u64 k1,
				       teeshm_u64 m)
{
	teeshm_u64 v0 = 0x736f6d6570736575ULL ^ k0;
	teeshm_u64 v1 = 0x646f72616e646f6dULL ^ k1;
	teeshm_u64 v2 = 0x6c7967656e657261ULL ^ k0;
	teeshm_u64 v3 = 0x7465646279746573ULL ^ k1;
	teeshm_u64 b = 8ULL << 56;	/* message length 8 */

	v3 ^= m;
	TEESHM_SIPROUND(v0, v1, v2, v3);
	TEESHM_SIPROUND(v0, v1, v2, v3);
	v0 ^= m;
	v3 ^= b;
	TEESHM_SIPROUND(v0, v1, v2, v3);
	TEESHM_SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	TEESHM_SIPROUND(v0, v1, v2, v3);
	TEESHM_SIPROUND(v0, v1, v2, v3);
	TEESHM_SIPROUND(v0, v1, v2, v3);
	TEESHM_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/*
 * An id as every verb spells it: 16 hex digits, zero-padded, and a NUL.
 * Written out because the kexec console report formats it in BPF, and
 * 5.10's bpf_trace_printk has no field widths (%016llx).
 */
static inline void teeshm_id_hex(char buf[17], teeshm_u64 id)
{
	int i;

	for (i = 15; i >= 0; i--) {
		unsigned int d = id & 15;

		buf[i] = d < 10 ? '0' + d : 'a' + d - 10;
		id >>= 4;
	}
	buf[16] = '\0';
}

#endif /* TEESHM_HASH_H */
