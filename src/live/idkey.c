// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * idkey.c - keyed ids of kernel addresses (see idkey.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "idkey.h"
#include "json_writer.h"
#include "teeshm_event.h"
#include "teeshm_hash.h"

int id_key_parse(struct id_key *key, const char *hex)
{
	char part[17];
	char *end;
	int i;

	if (strlen(hex) != 32)
		return -1;
	for (i = 0; i < 2; i++) {
		memcpy(part, hex + 16 * i, 16);
		part[16] = '\0';
		errno = 0;
		key->k[i] = strtoull(part, &end, 16);
		if (errno || *end)
			return -1;
	}
	key->set = true;
	return 0;
}

void id_key_ensure(struct id_key *key)
{
	char hex[40];
	FILE *f;

	if (key->set)
		return;
	f = fopen(ID_KEY_FILE, "r");
	if (f) {
		if (fgets(hex, sizeof(hex), f)) {
			hex[strcspn(hex, "\n")] = '\0';
			if (!id_key_parse(key, hex)) {
				fclose(f);
				return;
			}
		}
		fclose(f);
	}
	if (getrandom(key->k, sizeof(key->k), 0) != sizeof(key->k)) {
		key->k[0] = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL;
		key->k[1] = (uint64_t)getpid() * 0xc2b2ae3d27d4eb4fULL;
	}
	key->set = true;
	mkdir("/run/teeshm-trace", 0700);
	f = fopen(ID_KEY_FILE, "wx");
	if (f) {
		fchmod(fileno(f), 0600);
		fprintf(f, "%016" PRIx64 "%016" PRIx64 "\n", key->k[0],
			key->k[1]);
		fclose(f);
	}
}

uint64_t id_key_hash(const struct id_key *key, uint64_t addr)
{
	return teeshm_hash64(key->k[0], key->k[1], addr);
}

void id_key_json(struct jw *w, const char *k, const struct id_key *key,
		 uint64_t addr)
{
	char buf[17];

	teeshm_id_hex(buf, id_key_hash(key, addr));
	jw_kstr(w, k, buf);
}
