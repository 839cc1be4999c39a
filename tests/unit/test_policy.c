// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_policy.c - /etc/teeshm-trace.conf parsing, owner matching, and the
 * journal entry's wire format (journald's native protocol), received on a
 * real AF_UNIX datagram socket.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <endian.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "journal.h"
#include "policy.h"

static char path[64];

static const char *write_conf(const char *text)
{
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/teeshm-conf-%d", (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_defaults_and_sample(void **state)
{
	struct tsp_config c;
	char err[256];

	(void)state;
	tsp_config_init(&c);
	assert_int_equal(c.policy, TSP_BLOCK);
	assert_int_equal(c.nallow, 0);
	/* the shipped sample parses */
	assert_int_equal(tsp_config_load(&c, "dist/teeshm-trace.conf", err,
					 sizeof(err)), 0);
	assert_int_equal(c.policy, TSP_WARN);
}

static void test_parse(void **state)
{
	struct tsp_config c;
	char err[256];

	(void)state;
	tsp_config_init(&c);
	assert_int_equal(tsp_config_load(&c, write_conf(
		"# comment\n\n  policy = block \nallow_owner=[optee_rng]\n"
		"allow_owner=tee-supplicant\npolicy=warn\n"), err,
		sizeof(err)), 0);
	assert_int_equal(c.policy, TSP_WARN);	/* last one counts */
	assert_int_equal(c.nallow, 2);
	assert_string_equal(c.allow[0], "[optee_rng]");
	assert_string_equal(c.allow[1], "tee-supplicant");
	unlink(path);
}

static void test_errors_name_the_line(void **state)
{
	struct tsp_config c;
	char err[256];

	(void)state;
	tsp_config_init(&c);
	assert_int_equal(tsp_config_load(&c, write_conf("policy=warn\n"
		"policy=sometimes\n"), err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: policy: expected warn or block, got 'sometimes'"));
	assert_int_equal(tsp_config_load(&c, write_conf("colour=blue\n"),
					 err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":1: unknown key 'colour'"));
	assert_int_equal(tsp_config_load(&c, write_conf("just words\n"),
					 err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":1: expected key=value"));
	assert_int_equal(tsp_config_load(&c, write_conf("allow_owner=\n"),
					 err, sizeof(err)), -1);
	assert_non_null(strstr(err, "allow_owner"));
	unlink(path);
	assert_int_equal(tsp_config_load(&c, "/nonexistent/teeshm.conf", err,
					 sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/teeshm.conf: No such file"));
}

static void test_allowed(void **state)
{
	struct tsp_config c;

	(void)state;
	tsp_config_init(&c);
	assert_false(tsp_allowed(&c, "optee_rng_init+0x30/0x70 [optee_rng]",
				 "insmod"));
	snprintf(c.allow[c.nallow++], TSP_NAME_LEN, "[optee_rng]");
	assert_true(tsp_allowed(&c, "optee_rng_init+0x30 [optee_rng]", "x"));
	assert_false(tsp_allowed(&c, "tee_ioctl+0xd0 [tee]", "client"));
	assert_false(tsp_allowed(&c, "optee_rng_init+0x30 [optee_rng2]", "x"));
	tsp_config_init(&c);
	snprintf(c.allow[c.nallow++], TSP_NAME_LEN, "optee_rng_init");
	assert_true(tsp_allowed(&c, "optee_rng_init+0x30 [optee_rng]", "x"));
	assert_false(tsp_allowed(&c, "optee_rng_initx+0x30 [m]", "x"));
	assert_false(tsp_allowed(&c, "optee_rng+0x30 [m]", "x"));
	tsp_config_init(&c);
	snprintf(c.allow[c.nallow++], TSP_NAME_LEN, "tee-supplicant");
	assert_true(tsp_allowed(&c, "tee_ioctl+0xd0 [tee]", "tee-supplicant"));
	assert_false(tsp_allowed(&c, "tee_ioctl+0xd0 [tee]", "tee-supplicant2"));
	assert_false(tsp_allowed(&c, "", "other"));
}

static void test_journal_wire_format(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *fields[] = {
		"MESSAGE=teeshm-trace: FAIL: 1 buffer",
		"PRIORITY=3",
		"TEESHM_DETAIL=line one\nline two",
	};
	char buf[512], expect[512];
	size_t off = 0;
	uint64_t le;
	ssize_t n;
	int fd;

	(void)state;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/teeshm-journal-%d",
		 (int)getpid());
	unlink(sa.sun_path);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(journal_send(sa.sun_path, fields, 3), 0);
	n = recv(fd, buf, sizeof(buf), 0);
	/* single-line values as KEY=value\n; the two-line one in binary form */
	off += sprintf(expect, "MESSAGE=teeshm-trace: FAIL: 1 buffer\nPRIORITY=3\n"
		       "TEESHM_DETAIL\n");
	le = htole64(strlen("line one\nline two"));
	memcpy(expect + off, &le, 8);
	off += 8;
	off += sprintf(expect + off, "line one\nline two\n");
	assert_int_equal(n, off);
	assert_memory_equal(buf, expect, off);
	/* a field without '=' is refused, nothing sent */
	fields[1] = "PRIORITY";
	assert_int_equal(journal_send(sa.sun_path, fields, 3), -EINVAL);
	close(fd);
	unlink(sa.sun_path);
	/* no journald listening: an error, not a crash */
	assert_true(journal_send(sa.sun_path, fields, 1) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_sample),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_errors_name_the_line),
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_journal_wire_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
