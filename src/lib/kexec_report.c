// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * kexec_report.c - the kexec report, read back (see kexec_report.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kexec_report.h"

/* The entry of an id as printed (older kernels' printk: no zero padding). */
static struct kx_entry *kx_find(struct kx_report *r, const char *raw)
{
	char id[17];
	size_t i;

	snprintf(id, sizeof(id), "%016llx", strtoull(raw, NULL, 16));
	for (i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].id, id))
			return &r->v[i];
	return NULL;
}

static struct kx_entry *kx_add(struct kx_report *r)
{
	struct kx_entry *e;

	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 16;

		e = realloc(r->v, nc * sizeof(*e));
		if (!e)
			return NULL;
		r->v = e;
		r->cap = nc;
	}
	e = &r->v[r->n++];
	memset(e, 0, sizeof(*e));
	e->pid = -1;
	return e;
}

/* One report line, p after "teeshm-trace: kexec-".  0 or -ENOMEM. */
static int kx_line(struct kx_report *r, const char *p)
{
	char id[17], kind[8], site[128];
	unsigned long long size, lost, handle;
	unsigned int flags, reg, pid;
	struct kx_entry *e;

	if (sscanf(p, "begin kind=%7s", kind) == 1) {
		free(r->v);
		memset(r, 0, sizeof(*r));
		r->found = true;
		snprintf(r->kind, sizeof(r->kind), "%s", kind);
	} else if (!r->found) {
		return 0;
	} else if (sscanf(p, "registered id=%16[0-9a-f] size=%llu flags=0x%x",
			  id, &size, &flags) == 3) {
		e = kx_add(r);
		if (!e)
			return -ENOMEM;
		/* older kernels' printk has no field width: pad here */
		snprintf(e->id, sizeof(e->id), "%016llx",
			 strtoull(id, NULL, 16));
		e->size = size;
		e->flags = flags;
	} else if (sscanf(p, "site id=%16[0-9a-f] pid=%u site=%127[^\r\n]",
			  id, &pid, site) == 3) {
		e = kx_find(r, id);
		if (e) {
			e->pid = pid;
			snprintf(e->site, sizeof(e->site), "%s", site);
		}
	} else if (sscanf(p, "handle id=%16[0-9a-f] handle=0x%llx", id,
			  &handle) == 2) {
		e = kx_find(r, id);
		if (e)
			e->handle = handle;
	} else if (sscanf(p, "orphan id=%16[0-9a-f]", id) == 1) {
		e = kx_find(r, id);
		if (e)
			e->orphaned = true;
	} else if (sscanf(p, "end registered=%u lost=%llu", &reg,
			  &lost) == 2) {
		r->complete = true;
		r->declared = reg;
		r->lost = lost;
	}
	return 0;
}

/* The lines the BPF side prints, wherever they stand in a console line. */
int kx_parse(FILE *f, struct kx_report *r)
{
	const char *tag = "teeshm-trace: kexec-";
	char line[1024];
	const char *p;

	memset(r, 0, sizeof(*r));
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, tag);
		if (p && kx_line(r, p + strlen(tag)))
			return -ENOMEM;
	}
	return ferror(f) ? -EIO : 0;
}

void kx_free(struct kx_report *r)
{
	free(r->v);
	r->v = NULL;
	r->n = r->cap = 0;
}

/* A pstore record that may hold a report (not a still-compressed one). */
static bool record(const char *name)
{
	size_t n = strlen(name);

	if (strncmp(name, "dmesg-", 6) && strncmp(name, "console-", 8))
		return false;
	return !(n > 6 && !strcmp(name + n - 6, ".enc.z"));
}

static bool newer(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/* The record's time is the file's mtime. */
int kx_parse_pstore(struct kx_report *best, char *chosen, size_t len)
{
	struct kx_report r;
	struct dirent *de;
	struct timespec newest = { 0, 0 };
	char path[512];
	struct stat st;
	DIR *d;
	FILE *f;
	int err;

	memset(best, 0, sizeof(*best));
	d = opendir(PSTORE_DIR);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!record(de->d_name))
			continue;
		snprintf(path, sizeof(path), PSTORE_DIR "/%s", de->d_name);
		if (stat(path, &st))
			continue;
		f = fopen(path, "r");
		if (!f)
			continue;
		err = kx_parse(f, &r);
		fclose(f);
		if (err || !r.found ||
		    (best->found && !newer(&st.st_mtim, &newest))) {
			kx_free(&r);
			continue;
		}
		kx_free(best);
		*best = r;
		newest = st.st_mtim;
		snprintf(chosen, len, "%s", path);
	}
	closedir(d);
	return 0;
}
