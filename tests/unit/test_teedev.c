// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_teedev.c - who holds the TEE devices, and does the shutdown path
 * wait for them: on a made-up /sys and /proc whose fds point at real
 * character devices (/dev/null and /dev/zero stand for tee0, teepriv0).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>

#include "teedev.h"

static char root[64];

static void put(const char *rel, const char *text, size_t len)
{
	char p[256], *s;
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (s = strchr(p + strlen(root) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

static void link_to(const char *target, const char *rel)
{
	char p[256], *s;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (s = strchr(p + strlen(root) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	assert_int_equal(symlink(target, p), 0);
}

static void devnum(const char *rel, const char *dev)
{
	struct stat st;
	char line[32];

	assert_int_equal(stat(dev, &st), 0);
	snprintf(line, sizeof(line), "%u:%u\n", major(st.st_rdev),
		 minor(st.st_rdev));
	put(rel, line, strlen(line));
}

static void proc(const char *pid, const char *comm, const char *argv0)
{
	char rel[64], c[32];

	snprintf(rel, sizeof(rel), "proc/%s/comm", pid);
	snprintf(c, sizeof(c), "%s\n", comm);
	put(rel, c, strlen(c));
	snprintf(rel, sizeof(rel), "proc/%s/cmdline", pid);
	put(rel, argv0, strlen(argv0) + 1);
	snprintf(rel, sizeof(rel), "proc/%s/maps", pid);
	put(rel, "", 0);
	snprintf(rel, sizeof(rel), "proc/%s/fd/.keep", pid);
	put(rel, "", 0);
}

/* 7.3 on FF-A: two devices, a supplicant, a client's shm, a mapping */
static int setup(void **state)
{
	static const char map[] =
		"7f0000-7f1000 rw-s 00000000 00:0f 1234   anon_inode:tee_shm\n";
	char rel[64], target[256];

	(void)state;
	snprintf(root, sizeof(root), "/tmp/teedev-XXXXXX");
	assert_non_null(mkdtemp(root));
	devnum("sys/class/tee/tee0/dev", "/dev/null");
	devnum("sys/class/tee/teepriv0/dev", "/dev/zero");
	/* the TEE devices have no parent: optee is bound on the FF-A bus */
	snprintf(target, sizeof(target), "%s/sys/devices/arm-ffa-1", root);
	put("sys/devices/arm-ffa-1/.keep", "", 0);
	link_to(target, "sys/bus/arm_ffa/drivers/optee/arm-ffa-1");
	put("sys/bus/arm_ffa/drivers/optee/bind", "", 0);
	put("sys/bus/platform/drivers/arm-ffa/.keep", "", 0);
	proc("1", "systemd", "/sbin/init");
	link_to("/dev/full", "proc/1/fd/0");
	link_to("/etc/hostname", "proc/1/fd/1");
	proc("412", "tee-supplicant", "/usr/sbin/tee-supplicant");
	link_to("/dev/zero", "proc/412/fd/3");
	proc("500", "client", "./client");
	link_to("anon_inode:tee_shm", "proc/500/fd/4");
	proc("600", "mapper", "@mapper");
	snprintf(rel, sizeof(rel), "proc/600/maps");
	put(rel, map, strlen(map));
	put("proc/self/.keep", "", 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd);
}

static const struct teedev_holder *holder(const struct teedev_scan *s,
					  int pid)
{
	int i;

	for (i = 0; i < s->nholders && i < TEEDEV_MAX_HOLDERS; i++)
		if (s->h[i].pid == pid)
			return &s->h[i];
	return NULL;
}

static void test_ffa_holders(void **state)
{
	const struct teedev_holder *h;
	struct teedev_scan s;

	(void)state;
	assert_int_equal(teedev_scan(&s, root), 0);
	assert_int_equal(s.ndev, 2);
	assert_true(s.ffa);
	assert_true(s.unreg_at_kexec);
	assert_int_equal(s.nholders, 3);
	assert_true(teedev_kexec_hangs(&s));
	h = holder(&s, 412);
	assert_non_null(h);
	assert_string_equal(h->comm, "tee-supplicant");
	assert_string_equal(h->what, "/dev/teepriv0");
	assert_false(h->spared);
	h = holder(&s, 500);
	assert_non_null(h);
	assert_string_equal(h->what, "tee_shm");
	h = holder(&s, 600);
	assert_non_null(h);
	assert_string_equal(h->what, "tee_shm (mapped)");
	assert_true(h->spared);
	assert_null(holder(&s, 1));
}

/* The same holders, and nothing that waits for them at kexec. */
static void scan_no_hang(bool ffa)
{
	struct teedev_scan s;

	assert_int_equal(teedev_scan(&s, root), 0);
	assert_int_equal(s.ffa, ffa);
	assert_false(s.unreg_at_kexec);
	assert_int_equal(s.nholders, 3);
	assert_false(teedev_kexec_hangs(&s));
}

/* 6.12's FF-A core is no platform driver: nothing waits at kexec */
static void test_ffa_no_platform_shutdown(void **state)
{
	char p[256];

	(void)state;
	snprintf(p, sizeof(p), "%s/sys/bus/platform/drivers/arm-ffa/.keep",
		 root);
	assert_int_equal(unlink(p), 0);
	*strrchr(p, '/') = '\0';
	assert_int_equal(rmdir(p), 0);
	scan_no_hang(true);
	put("sys/bus/platform/drivers/arm-ffa/.keep", "", 0);
}

/* SMC ABI: optee is a platform driver; nothing bound on the FF-A bus */
static void test_smc(void **state)
{
	char p[256];

	(void)state;
	snprintf(p, sizeof(p), "%s/sys/bus/arm_ffa/drivers/optee/arm-ffa-1",
		 root);
	assert_int_equal(unlink(p), 0);
	scan_no_hang(false);
}

/* No TEE device: nothing to hold; no /proc: an error, not "none" */
static void test_no_device_no_proc(void **state)
{
	struct teedev_scan s;
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "mv %s/proc %s/proc.gone", root, root);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(teedev_scan(&s, root), -ENOENT);
	snprintf(cmd, sizeof(cmd), "mv %s/proc.gone %s/proc && "
		 "rm -rf %s/sys/class/tee", root, root, root);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(teedev_scan(&s, root), 0);
	assert_int_equal(s.ndev, 0);
	assert_int_equal(s.nholders, 0);
	assert_false(teedev_kexec_hangs(&s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ffa_holders),
		cmocka_unit_test(test_ffa_no_platform_shutdown),
		cmocka_unit_test(test_smc),
		cmocka_unit_test(test_no_device_no_proc),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
