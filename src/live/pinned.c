// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pinned.c - the pinned maps and links (see pinned.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ksyms.h"
#include "pinned.h"
#include "site.h"
#include "teeshm.skel.h"
#include "tracefs.h"

static const char *const pin_names[] = { "live", "counters", "stacks",
					 "events", "events_off" };

#define N_PINS (sizeof(pin_names) / sizeof(pin_names[0]))

int pinned_agent_links(void)
{
	struct dirent *d;
	DIR *dir = opendir(TEESHM_LINK_DIR);
	int n = 0;

	if (!dir)
		return 0;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

static void unpin_maps(void)
{
	char path[128];
	size_t i;

	for (i = 0; i < N_PINS; i++) {
		snprintf(path, sizeof(path), TEESHM_PIN_DIR "/%s",
			 pin_names[i]);
		unlink(path);
	}
}

void pinned_unpin_all(void)
{
	char path[300];
	struct dirent *d;
	DIR *dir;

	dir = opendir(TEESHM_LINK_DIR);
	while (dir && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), TEESHM_LINK_DIR "/%s", d->d_name);
		unlink(path);
	}
	if (dir)
		closedir(dir);
	rmdir(TEESHM_LINK_DIR);
	unpin_maps();
	rmdir(TEESHM_PIN_DIR);
}

int pinned_pin_maps(struct teeshm_bpf *skel, bool agent)
{
	/* in the order of pin_names */
	struct bpf_map *maps[N_PINS] = { skel->maps.live, skel->maps.counters,
					 skel->maps.stacks, skel->maps.events,
					 skel->maps.events_off };
	char path[128];
	size_t i;

	if (!agent && pinned_agent_links())	/* an agent's: not ours */
		return -EBUSY;
	unpin_maps();	/* stale pins of a tracer that was killed */
	if (mkdir(TEESHM_PIN_DIR, 0700) && errno != EEXIST)
		return -errno;
	for (i = 0; i < N_PINS; i++) {
		snprintf(path, sizeof(path), TEESHM_PIN_DIR "/%s",
			 pin_names[i]);
		if (bpf_map__pin(maps[i], path))
			return -errno;
	}
	return 0;
}

int pinned_pin_link(struct bpf_link *l, const char *name)
{
	char path[160];

	mkdir(TEESHM_PIN_DIR, 0700);
	mkdir(TEESHM_LINK_DIR, 0700);
	snprintf(path, sizeof(path), TEESHM_LINK_DIR "/%s", name);
	if (bpf_link__pin(l, path))
		return errno ? -errno : -EINVAL;
	return 0;
}

int pinned_open_maps(struct pinned_maps *m)
{
	m->events = bpf_obj_get(TEESHM_PIN_DIR "/events");
	m->counters = bpf_obj_get(TEESHM_PIN_DIR "/counters");
	m->stacks = bpf_obj_get(TEESHM_PIN_DIR "/stacks");
	m->events_off = bpf_obj_get(TEESHM_PIN_DIR "/events_off");
	if (m->events >= 0 && m->counters >= 0 && m->stacks >= 0 &&
	    m->events_off >= 0)
		return 0;
	pinned_close_maps(m);
	return -1;
}

void pinned_close_maps(struct pinned_maps *m)
{
	if (m->events >= 0)
		close(m->events);
	if (m->counters >= 0)
		close(m->counters);
	if (m->stacks >= 0)
		close(m->stacks);
	if (m->events_off >= 0)
		close(m->events_off);
	m->events = m->counters = m->stacks = m->events_off = -1;
}

int pinned_events_off(int events_off_fd, bool off)
{
	uint32_t zero = 0, v = off;

	return bpf_map_update_elem(events_off_fd, &zero, &v, BPF_ANY);
}

uint64_t pinned_counter(int counters_fd, uint32_t idx)
{
	uint64_t v = 0;

	bpf_map_lookup_elem(counters_fd, &idx, &v);
	return v;
}

static int cmp_row(const void *a, const void *b)
{
	const struct live_row *x = a, *y = b;

	return x->shm < y->shm ? -1 : x->shm > y->shm;
}

/* The live map's entries into t->rows.  0, or -1 after a message. */
static int read_rows(struct live_table *t)
{
	const char *path = TEESHM_PIN_DIR "/live";
	uint64_t key, next, *kp = NULL;
	struct live_row *v = NULL;
	int fd, n = 0, cap = 0;

	fd = bpf_obj_get(path);
	if (fd < 0) {
		if (errno == EPERM || errno == EACCES)
			fprintf(stderr, "teeshm-trace: %s: %s (needs root or "
				"CAP_BPF)\n", path, strerror(errno));
		else
			fprintf(stderr, "teeshm-trace: no live table at %s "
				"(start `teeshm-trace trace` first)\n",
				TEESHM_PIN_DIR);
		return -1;
	}
	while (!bpf_map_get_next_key(fd, kp, &next)) {
		if (n == cap) {
			struct live_row *nv;

			cap = cap ? cap * 2 : 256;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				close(fd);
				fprintf(stderr, "teeshm-trace: out of memory\n");
				return -1;
			}
			v = nv;
		}
		key = next;
		kp = &key;
		if (bpf_map_lookup_elem(fd, &key, &v[n].v))
			continue;	/* released meanwhile */
		/* an orphan's key is not its address (teeshm_event.h) */
		v[n].shm = v[n].v.orphaned ? v[n].v.shm : key;
		v[n].caller[0] = '\0';
		n++;
	}
	close(fd);
	qsort(v, n, sizeof(*v), cmp_row);
	t->rows = v;
	t->n = n;
	return 0;
}

int live_table_read(struct live_table *t)
{
	uint32_t i;
	int cfd;

	memset(t, 0, sizeof(*t));
	t->stacks_fd = -1;
	if (read_rows(t))
		return -1;
	t->stacks_fd = bpf_obj_get(TEESHM_PIN_DIR "/stacks");
	cfd = bpf_obj_get(TEESHM_PIN_DIR "/counters");
	if (cfd >= 0) {
		for (i = 0; i < TEESHM_CNT__MAX; i++)
			t->counters[i] = pinned_counter(cfd, i);
		t->have_counters = true;
		close(cfd);
	}
	t->probe_misses = kprobe_misses();
	return 0;
}

void live_table_sites(struct live_table *t, const struct ksyms *ks, bool all)
{
	int i;

	for (i = 0; i < t->n; i++) {
		struct live_row *r = &t->rows[i];

		if (all || r->v.state == TEESHM_LIVE_REGISTERED)
			site_find(t->stacks_fd, ks, r->v.stack_id,
				  r->v.caller_ip, r->caller, sizeof(r->caller));
	}
}

void live_table_free(struct live_table *t)
{
	if (t->stacks_fd >= 0)
		close(t->stacks_fd);
	free(t->rows);
	t->rows = NULL;
	t->stacks_fd = -1;
}
