// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * strtab.c - interned strings (see strtab.h): an array of strings and an
 * open-addressing index of their ids (linear probing, at most half full).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strtab.h"

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static int strtab_rehash(struct strtab *t, size_t icap)
{
	uint32_t *ni = calloc(icap, sizeof(*ni));
	size_t i, j;

	if (!ni)
		return -ENOMEM;
	for (i = 0; i < t->n; i++) {
		j = str_hash(t->v[i]) & (icap - 1);
		while (ni[j])
			j = (j + 1) & (icap - 1);
		ni[j] = i + 1;
	}
	free(t->idx);
	t->idx = ni;
	t->icap = icap;
	return 0;
}

/* Room for one more string. */
static int strtab_grow(struct strtab *t)
{
	size_t nc = t->cap ? t->cap * 2 : 64;
	char **nv;

	if (t->n < t->cap)
		return 0;
	nv = realloc(t->v, nc * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	t->v = nv;
	t->cap = nc;
	return 0;
}

int strtab_intern(struct strtab *t, const char *s, uint32_t *id)
{
	size_t j;
	char *c;

	*id = 0;
	if (!s || !*s)
		return 0;
	if (t->last && !strcmp(t->v[t->last - 1], s)) {
		*id = t->last;
		return 0;
	}
	if (t->n >= UINT32_MAX - 1)
		return -ENOMEM;
	if ((t->n + 1) * 2 > t->icap &&
	    strtab_rehash(t, t->icap ? t->icap * 2 : 64))
		return -ENOMEM;
	j = str_hash(s) & (t->icap - 1);
	while (t->idx[j]) {
		if (!strcmp(t->v[t->idx[j] - 1], s)) {
			*id = t->last = t->idx[j];
			return 0;
		}
		j = (j + 1) & (t->icap - 1);
	}
	if (strtab_grow(t))
		return -ENOMEM;
	c = strdup(s);
	if (!c)
		return -ENOMEM;
	t->v[t->n] = c;
	t->idx[j] = ++t->n;
	*id = t->last = t->n;
	return 0;
}

void strtab_free(struct strtab *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	free(t->idx);
}
