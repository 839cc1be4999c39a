// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ksyms.c - /proc/kallsyms reader.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksyms.h"

struct ksym {
	uint64_t addr;
	const char *name;	/* points into names */
	const char *mod;	/* "" for vmlinux */
};

struct ksyms {
	struct ksym *v;
	size_t n, cap;
	char **blocks;		/* string storage */
	size_t nblocks;
	char *cur;
	size_t left;
	bool visible;		/* not all 0 (kptr_restrict, no CAP_SYSLOG) */
};

static const char *store(struct ksyms *ks, const char *s, size_t len)
{
	char *p, **nb;

	if (len + 1 > ks->left) {
		size_t sz = 1 << 20;

		nb = realloc(ks->blocks, (ks->nblocks + 1) * sizeof(*nb));
		if (!nb)
			return NULL;
		ks->blocks = nb;
		ks->cur = malloc(sz);
		if (!ks->cur)
			return NULL;
		ks->blocks[ks->nblocks++] = ks->cur;
		ks->left = sz;
	}
	p = ks->cur;
	memcpy(p, s, len);
	p[len] = '\0';
	ks->cur += len + 1;
	ks->left -= len + 1;
	return p;
}

static int cmp_ksym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* One /proc/kallsyms line; false if it is not one. */
static bool parse_line(const char *p, unsigned long long *addr, char *type,
		       char *name, size_t nlen, char *mod, size_t mlen)
{
	unsigned long long a = 0;
	size_t n;
	int d;

	for (n = 0; n < 17; n++, p++) {
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		a = a << 4 | d;
	}
	if (!n || n > 16 || *p != ' ' || !p[1] || p[2] != ' ')
		return false;
	*addr = a;
	*type = p[1];
	p += 3;
	n = strcspn(p, " \t\n");
	if (!n || n >= nlen)
		return false;
	memcpy(name, p, n);
	name[n] = '\0';
	p += n;
	mod[0] = '\0';
	p += strspn(p, " \t");
	if (*p == '[') {
		p++;
		n = strcspn(p, "]\n");
		if (p[n] != ']' || n >= mlen)
			return false;
		memcpy(mod, p, n);
		mod[n] = '\0';
	}
	return true;
}

struct ksyms *ksyms_load(const char *path)
{
	struct ksyms *ks;
	char line[512], type, name[256], mod[128];
	unsigned long long addr;
	const char *lastmod = "";
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return NULL;
	ks = calloc(1, sizeof(*ks));
	if (!ks) {
		fclose(f);
		return NULL;
	}
	while (fgets(line, sizeof(line), f)) {
		struct ksym *s;

		/* "ADDR TYPE NAME[\t[MOD]]": text symbols only, by hand
		 * (sscanf per line costs seconds under emulation) */
		if (!parse_line(line, &addr, &type, name, sizeof(name), mod,
				sizeof(mod)))
			continue;
		if (type != 't' && type != 'T' && type != 'W' && type != 'w')
			continue;
		if (ks->n == ks->cap) {
			size_t nc = ks->cap ? ks->cap * 2 : 65536;

			s = realloc(ks->v, nc * sizeof(*s));
			if (!s)
				goto oom;
			ks->v = s;
			ks->cap = nc;
		}
		s = &ks->v[ks->n++];
		s->addr = addr;
		if (addr)
			ks->visible = true;
		s->name = store(ks, name, strlen(name));
		if (!mod[0]) {
			s->mod = "";
		} else if (!strcmp(lastmod, mod)) {
			s->mod = lastmod;
		} else {
			s->mod = store(ks, mod, strlen(mod));
			lastmod = s->mod;
		}
		if (!s->name || !s->mod)
			goto oom;
	}
	fclose(f);
	qsort(ks->v, ks->n, sizeof(*ks->v), cmp_ksym);
	return ks;
oom:
	fclose(f);
	ksyms_free(ks);
	errno = ENOMEM;
	return NULL;
}

void ksyms_free(struct ksyms *ks)
{
	size_t i;

	if (!ks)
		return;
	for (i = 0; i < ks->nblocks; i++)
		free(ks->blocks[i]);
	free(ks->blocks);
	free(ks->v);
	free(ks);
}

bool ksyms_has(const struct ksyms *ks, const char *name)
{
	size_t i;

	for (i = 0; i < ks->n; i++)
		if (!strcmp(ks->v[i].name, name))
			return true;
	return false;
}

static const struct ksym *find(const struct ksyms *ks, uint64_t addr)
{
	size_t lo = 0, hi = ks->n;

	if (!ks->visible || !ks->n || addr < ks->v[0].addr)
		return NULL;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (ks->v[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return &ks->v[lo];
}

bool ksyms_fmt(const struct ksyms *ks, uint64_t addr, char *buf, size_t len)
{
	const struct ksym *s = find(ks, addr);

	if (!s) {
		snprintf(buf, len, "0x%" PRIx64, addr);
		return false;
	}
	snprintf(buf, len, "%s+0x%" PRIx64 "%s%s%s", s->name, addr - s->addr,
		 s->mod[0] ? " [" : "", s->mod, s->mod[0] ? "]" : "");
	return true;
}

const char *ksyms_name(const struct ksyms *ks, uint64_t addr)
{
	const struct ksym *s = find(ks, addr);

	return s ? s->name : NULL;
}
