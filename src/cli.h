/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cli.h - the command line every verb shares: exit codes, the global
 * options, usage errors, and the verb table's shape.
 */
#ifndef TEESHM_CLI_H
#define TEESHM_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "idkey.h"

/* Exit codes: a contract (man page, EXIT STATUS). */
#define EXIT_CLEAN	0
#define EXIT_FINDINGS	1
#define EXIT_USAGE	2

/* The global options (before the verb), as every verb sees them. */
struct cli {
	bool verbose;		/* -v: which probes attached, libbpf's words */
	const char *btf;	/* --btf FILE, or NULL */
	struct id_key key;	/* --id-key HEX (key.set), else unset */
};

/* A verb: argv[0] is its own name, argv[1..] its options. */
struct cli_verb {
	const char *name;
	int (*fn)(const struct cli *cli, int argc, char **argv);
	const char *summary;
};

/* Parse the global options and run the verb named next.  Exit code. */
int cli_main(const struct cli_verb *verbs, size_t n, int argc, char **argv);

/* Print msg (if any) and usage on stderr; returns EXIT_USAGE. */
int usage_error(const char *usage, const char *msg);
/*
 * The end of a verb's option switch: c is 'h' (--help: usage on stdout,
 * EXIT_CLEAN) or an option the verb does not take (a usage error).
 */
int usage_help_or_error(int c, const char *usage);

/* A verb's option parser's "no exit code: go on". */
#define CLI_GO_ON (-1)

#endif /* TEESHM_CLI_H */
