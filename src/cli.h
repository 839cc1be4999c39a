/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cli.h - helpers shared by the verbs.
 */
#ifndef TEESHM_CLI_H
#define TEESHM_CLI_H

#include <stdbool.h>

/* Exit codes: a contract (man page, EXIT STATUS). */
#define EXIT_CLEAN	0
#define EXIT_FINDINGS	1
#define EXIT_USAGE	2

extern bool verbose;

/* Print msg (if any) and usage on stderr; returns EXIT_USAGE. */
int usage_error(const char *usage, const char *msg);

#endif /* TEESHM_CLI_H */
