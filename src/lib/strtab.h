/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * strtab.h - interned strings: the engine keeps each process name and
 * allocation site once, and a 32-bit id of it per buffer.
 */
#ifndef TEESHM_STRTAB_H
#define TEESHM_STRTAB_H

#include <stddef.h>
#include <stdint.h>

struct strtab {			/* id 0 is "" */
	char **v;		/* id - 1 -> string */
	uint32_t *idx;		/* open-addressing index: ids */
	size_t n, cap, icap;
	uint32_t last;		/* id interned last: often the next one */
};

/* The id of s (0 for ""), interned if new; 0 and -ENOMEM when it fails. */
int strtab_intern(struct strtab *t, const char *s, uint32_t *id);
void strtab_free(struct strtab *t);

static inline const char *strtab_str(const struct strtab *t, uint32_t id)
{
	return id ? t->v[id - 1] : "";
}

#endif /* TEESHM_STRTAB_H */
