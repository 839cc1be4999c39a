// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tracefs.c - tracefs kprobe events (see tracefs.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "tracefs.h"

/*
 * Return probes in flight at once, per probed function.  The kernel's
 * default is the number of possible CPUs (without CONFIG_PREEMPTION), so a
 * return probe is missed whenever the function nests (5.10: tee_shm_release
 * of the message buffer inside the release of a registered shm) or more
 * tasks than CPUs sleep in it; a missed return loses a FREE or an ALLOC.
 * Only tracefs kprobe events take a maxactive ("r<N>:").
 */
#define KRETPROBE_MAXACTIVE 256

int kretprobe_maxactive(void)
{
	const char *v = getenv("TEESHM_MAXACTIVE");
	char *end;
	long n;

	if (!v)
		return KRETPROBE_MAXACTIVE;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < 1 || n > 4096)
		return 0;
	return n;
}

static const char *tracefs(void)
{
	if (!access("/sys/kernel/tracing/kprobe_events", W_OK))
		return "/sys/kernel/tracing";
	return "/sys/kernel/debug/tracing";
}

static int kprobe_events_write(const char *line)
{
	char path[128];
	int fd, n, err = 0;

	snprintf(path, sizeof(path), "%s/kprobe_events", tracefs());
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, line, strlen(line));
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

/*
 * Remove (or, left, only count) the teeshm/ events pick() chooses: how
 * many were removed (counted).
 */
static int events_walk(bool (*pick)(const char *name), bool left)
{
	char path[128], line[512], del[300];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/kprobe_events", tracefs());
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *ev = strstr(line, "teeshm/teeshm_");
		char *sp;

		if (!ev)
			continue;
		sp = strchr(ev, ' ');
		if (sp)
			*sp = '\0';
		if (!pick(ev + strlen("teeshm/")))
			continue;
		snprintf(del, sizeof(del), "-:%s\n", ev);
		if (left || !kprobe_events_write(del))
			n++;
	}
	fclose(f);
	return n;
}

int kprobe_events_remove(bool (*pick)(const char *name))
{
	return events_walk(pick, false);
}

int kprobe_events_left(bool (*pick)(const char *name))
{
	return events_walk(pick, true);
}

bool kprobe_event_stale(const char *name)
{
	char path[32];
	int pid;

	if (sscanf(name, "teeshm_%d_", &pid) != 1)
		return false;
	snprintf(path, sizeof(path), "/proc/%d", pid);
	return access(path, F_OK) != 0;
}

bool kprobe_event_agent(const char *name)
{
	return !strncmp(name, "teeshm_agent_", 13);
}

uint64_t kprobe_misses(void)
{
	char path[128], line[512], name[256];
	unsigned long long hits, miss;
	uint64_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/kprobe_profile", tracefs());
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %255s %llu %llu", name, &hits, &miss) != 3)
			continue;
		if (strncmp(name, "teeshm_", 7) || kprobe_event_stale(name))
			continue;
		n += miss;
	}
	fclose(f);
	return n;
}

/* The perf event of tracefs event name, opened: its fd, or -1. */
static int event_open(const char *name)
{
	struct perf_event_attr attr = { 0 };
	char path[256], idbuf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/events/teeshm/%s/id", tracefs(), name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, idbuf, sizeof(idbuf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	idbuf[n] = '\0';
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_TRACEPOINT;
	attr.config = strtoull(idbuf, NULL, 10);
	attr.sample_period = 1;
	attr.wakeup_events = 1;
	return syscall(__NR_perf_event_open, &attr, -1, 0, -1,
		       PERF_FLAG_FD_CLOEXEC);
}

struct bpf_link *kprobe_event_attach(struct kprobe_events *ev,
				     struct bpf_program *p, const char *fn,
				     const char *mod)
{
	bool ret = !strncmp(bpf_program__section_name(p), "kretprobe/", 10);
	char name[96], line[256], kind[16];
	struct bpf_link *l;
	int pfd, err;

	if (ev->n >= KPROBE_EVENTS_MAX) {
		errno = ENOSPC;
		return NULL;
	}
	/* the agent's events outlive it (pinned links use them) */
	if (ev->agent)
		snprintf(name, sizeof(name), "teeshm_agent_%s%s", fn,
			 ret ? "_r" : "");
	else
		snprintf(name, sizeof(name), "teeshm_%d_%s%s", getpid(), fn,
			 ret ? "_r" : "");
	if (ret)
		snprintf(kind, sizeof(kind), "r%d", kretprobe_maxactive());
	else
		snprintf(kind, sizeof(kind), "p");
	snprintf(line, sizeof(line), "%s:teeshm/%s %s%s%s\n", kind, name,
		 mod ? mod : "", mod ? ":" : "", fn);
	err = kprobe_events_write(line);
	if (err) {
		errno = -err;
		return NULL;
	}
	snprintf(ev->names[ev->n++], sizeof(ev->names[0]), "%s", name);
	pfd = event_open(name);
	if (pfd < 0)
		return NULL;
	l = bpf_program__attach_perf_event(p, pfd);
	if (!l)
		close(pfd);
	return l;
}

void kprobe_events_remove_own(struct kprobe_events *ev)
{
	char line[128];

	while (ev->n) {
		snprintf(line, sizeof(line), "-:teeshm/%s\n",
			 ev->names[--ev->n]);
		kprobe_events_write(line);
	}
}

void kprobe_events_keep(struct kprobe_events *ev)
{
	ev->n = 0;
}
