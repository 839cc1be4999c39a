/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * idkey.h - keyed ids of kernel addresses: what leaves the machine in place
 * of a struct tee_shm address (KASLR), in JSON output and the kexec report.
 */
#ifndef TEESHM_IDKEY_H
#define TEESHM_IDKEY_H

#include <stdbool.h>
#include <stdint.h>

struct jw;

/* The per-boot key, made by the first live verb that needs one. */
#define ID_KEY_FILE	"/run/teeshm-trace/id-key"

struct id_key {
	uint64_t k[2];		/* SipHash-2-4 k0, k1 */
	bool set;
};

/* 32 hex digits (k0 then k1).  0, or -1 (key unchanged but unset). */
int id_key_parse(struct id_key *key, const char *hex);
/*
 * Make sure key is set: as given, else the per-boot key in ID_KEY_FILE,
 * else a new random one, saved there so that ids stay stable in a boot.
 */
void id_key_ensure(struct id_key *key);
/* Keyed id of addr. */
uint64_t id_key_hash(const struct id_key *key, uint64_t addr);
/* "k":"<16 hex digits>", the keyed id of addr. */
void id_key_json(struct jw *w, const char *k, const struct id_key *key,
		 uint64_t addr);

#endif /* TEESHM_IDKEY_H */
