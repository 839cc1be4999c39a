// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_moddep.c - modules.dep: does optee.ko need ffa-core (its FF-A ABI)?
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "moddep.h"

static int needs(const char *text, const char *mod, const char *dep)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;

	assert_non_null(f);
	r = moddep_needs(f, mod, dep);
	fclose(f);
	return r;
}

/* Debian 7.3's lines (xz modules), 6.1's, and a guest's own */
static const char dep73[] =
	"kernel/drivers/tee/tee.ko.xz:\n"
	"kernel/drivers/tee/optee/optee.ko.xz: kernel/drivers/tee/tee.ko.xz "
	"kernel/drivers/firmware/arm_ffa/ffa-core.ko.xz\n"
	"kernel/drivers/char/hw_random/optee-rng.ko.xz: kernel/drivers/tee/tee.ko.xz\n";
static const char dep61[] =
	"kernel/drivers/firmware/arm_ffa/ffa-module.ko: kernel/drivers/firmware/arm_ffa/ffa-core.ko\n"
	"kernel/drivers/tee/optee/optee.ko: kernel/drivers/tee/tee.ko\n";

static void test_ffa(void **state)
{
	(void)state;
	assert_int_equal(needs(dep73, "optee", "ffa-core"), 1);
	assert_int_equal(needs(dep61, "optee", "ffa-core"), 0);
	/* '-' and '_' alike; a module not listed; a prefix is not a name */
	assert_int_equal(needs(dep73, "optee", "ffa_core"), 1);
	assert_int_equal(needs(dep73, "optee_rng", "tee"), 1);
	assert_int_equal(needs(dep61, "optee-rng", "tee"), -1);
	assert_int_equal(needs(dep61, "opt", "tee"), -1);
	assert_int_equal(needs("/modules/optee.ko: /modules/ffa-core.ko "
			       "/modules/tee.ko\n", "optee", "ffa-core"), 1);
	assert_int_equal(needs("", "optee", "ffa-core"), -1);
}

/* A line longer than any buffer is read whole. */
static void test_long_line(void **state)
{
	static char text[20000];
	size_t n;

	(void)state;
	n = snprintf(text, sizeof(text), "kernel/drivers/tee/optee/optee.ko:");
	while (n < sizeof(text) - 64)
		n += snprintf(text + n, sizeof(text) - n, " kernel/x/m%zu.ko", n);
	snprintf(text + n, sizeof(text) - n, " kernel/ffa-core.ko\n");
	assert_int_equal(needs(text, "optee", "ffa-core"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ffa),
		cmocka_unit_test(test_long_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
