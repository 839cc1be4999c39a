// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * teedev.c - the TEE devices at kexec (see teedev.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "teedev.h"

struct devs {
	int n;
	dev_t rdev[TEEDEV_MAX];
	char name[TEEDEV_MAX][16];
};

/* A path into buf; "" if it does not fit (then nothing is found there). */
static __attribute__((format(printf, 3, 4)))
const char *pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		buf[0] = '\0';
	return buf;
}

/* The first line of a small file, without its newline; false if none. */
static bool read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

/*
 * Is a TEE driver bound to an FF-A device?  The TEE devices have no parent
 * (tee_device_alloc(..., NULL, ...)): the FF-A bus's drivers say it.
 */
static bool tee_on_ffa(const char *root)
{
	static const char *const drivers[] = { "optee", "tstee" };
	char p[PATH_MAX];
	struct dirent *e;
	bool found = false;
	size_t i;
	DIR *d;

	for (i = 0; !found && i < sizeof(drivers) / sizeof(drivers[0]); i++) {
		d = opendir(pathf(p, sizeof(p), "%s/sys/bus/arm_ffa/drivers/%s",
				  root, drivers[i]));
		if (!d)
			continue;
		while (!found && (e = readdir(d)))
			found = !strncmp(e->d_name, "arm-ffa-", 8);
		closedir(d);
	}
	return found;
}

/* /sys/class/tee: each device's number, and whether one is FF-A's */
static void find_devs(struct teedev_scan *s, struct devs *d, const char *root)
{
	char p[PATH_MAX], dir[PATH_MAX], line[32];
	unsigned int maj, min;
	struct dirent *e;
	DIR *cls;

	cls = opendir(pathf(p, sizeof(p), "%s/sys/class/tee", root));
	if (!cls)
		return;
	while ((e = readdir(cls)) && d->n < TEEDEV_MAX) {
		if (e->d_name[0] == '.')
			continue;
		pathf(dir, sizeof(dir), "%s/sys/class/tee/%s", root,
			 e->d_name);
		pathf(p, sizeof(p), "%s/dev", dir);
		if (!read_line(p, line, sizeof(line)) ||
		    sscanf(line, "%u:%u", &maj, &min) != 2)
			continue;
		d->rdev[d->n] = makedev(maj, min);
		snprintf(d->name[d->n], sizeof(d->name[0]), "%.15s",
			 e->d_name);
		d->n++;
	}
	closedir(cls);
	s->ndev = d->n;
	s->ffa = d->n && tee_on_ffa(root);
	/* 7.x: the FF-A core is the platform driver "arm-ffa", whose
	 * .shutdown (ffa_remove) unregisters every FF-A device */
	s->unreg_at_kexec = s->ffa &&
		!access(pathf(p, sizeof(p), "%s/sys/bus/platform/drivers/arm-ffa",
			     root), F_OK);
}

/* What fd (in the dir dfd) holds, if a TEE device or shm: into what. */
static bool fd_holds(int dfd, const char *fd, const struct devs *d,
		     char *what, size_t len)
{
	char link[PATH_MAX];
	struct stat st;
	ssize_t n;
	int i;

	if (!fstatat(dfd, fd, &st, 0) && S_ISCHR(st.st_mode))
		for (i = 0; i < d->n; i++)
			if (st.st_rdev == d->rdev[i]) {
				snprintf(what, len, "/dev/%s", d->name[i]);
				return true;
			}
	/* a tee_shm file (5.18+: anon_inode:tee_shm) holds the device too */
	n = readlinkat(dfd, fd, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	if (!strstr(link, "tee_shm"))
		return false;
	snprintf(what, len, "tee_shm");
	return true;
}

/* A tee_shm mapping outlives its closed file. */
static bool maps_hold(const char *path)
{
	char line[512];
	bool found = false;
	size_t n;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		n = strcspn(line, "\n");
		line[n] = '\0';
		found = n >= 7 && !strcmp(line + n - 7, "tee_shm");
	}
	fclose(f);
	return found;
}

/* Does process pid hold a TEE device?  -errno if unreadable. */
static int proc_holds(const char *root, const char *pid, const struct devs *d,
		      char *what, size_t len)
{
	char p[PATH_MAX];
	struct dirent *e;
	bool held = false;
	DIR *fds;

	pathf(p, sizeof(p), "%s/proc/%s/fd", root, pid);
	fds = opendir(p);
	if (!fds)
		return -errno;
	while (!held && (e = readdir(fds)))
		if (e->d_name[0] != '.')
			held = fd_holds(dirfd(fds), e->d_name, d, what, len);
	closedir(fds);
	if (!held) {
		pathf(p, sizeof(p), "%s/proc/%s/maps", root, pid);
		held = maps_hold(p);
		if (held)
			snprintf(what, len, "tee_shm (mapped)");
	}
	return held;
}

static void add_holder(struct teedev_scan *s, const char *root,
		       const char *pid, const char *what)
{
	struct teedev_holder *h;
	char p[PATH_MAX], arg0[2] = "";
	FILE *f;

	if (s->nholders++ >= TEEDEV_MAX_HOLDERS)
		return;
	h = &s->h[s->nholders - 1];
	h->pid = atoi(pid);
	snprintf(h->what, sizeof(h->what), "%s", what);
	pathf(p, sizeof(p), "%s/proc/%s/comm", root, pid);
	if (!read_line(p, h->comm, sizeof(h->comm)))
		snprintf(h->comm, sizeof(h->comm), "?");
	pathf(p, sizeof(p), "%s/proc/%s/cmdline", root, pid);
	f = fopen(p, "re");
	if (f) {
		h->spared = fread(arg0, 1, 1, f) == 1 && arg0[0] == '@';
		fclose(f);
	}
}

int teedev_scan(struct teedev_scan *s, const char *root)
{
	char p[PATH_MAX], what[sizeof(s->h[0].what)];
	struct devs d = { 0 };
	struct dirent *e;
	DIR *proc;
	int r;

	memset(s, 0, sizeof(*s));
	find_devs(s, &d, root);
	if (!d.n)
		return 0;
	proc = opendir(pathf(p, sizeof(p), "%s/proc", root));
	if (!proc)
		return -errno;
	while ((e = readdir(proc))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		r = proc_holds(root, e->d_name, &d, what, sizeof(what));
		/* gone meanwhile, or a kernel thread: nothing held */
		if (r == -EACCES || r == -EPERM) {
			closedir(proc);
			return r;
		}
		if (r > 0)
			add_holder(s, root, e->d_name, what);
	}
	closedir(proc);
	return 0;
}
