// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cli.c - the global options and the dispatch to a verb (see cli.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef TEESHM_VERSION
#define TEESHM_VERSION "0.1"
#endif

static void usage(FILE *f, const struct cli_verb *verbs, size_t n)
{
	size_t i;

	fprintf(f,
		"Usage: teeshm-trace [--verbose] [--id-key HEX] [--btf FILE] VERB [OPTIONS]\n"
		"       teeshm-trace --version | --help\n"
		"\n"
		"Trace TEE shared memory (struct tee_shm) through allocation,\n"
		"registration with the secure world, release and kexec.\n"
		"\n"
		"Verbs:\n");
	for (i = 0; i < n; i++)
		fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f,
		"\n"
		"  VERB --help shows a verb's options.\n"
		"\n"
		"Global options:\n"
		"  -v, --verbose      say which probes attached, and why not\n"
		"  -k, --id-key HEX   32 hex digits: key of the hashed buffer ids in\n"
		"                     JSON output and the kexec console report\n"
		"                     (default: random, made once per boot)\n"
		"  -b, --btf FILE     BTF with struct tee_shm for kernels whose\n"
		"                     tee.ko has none (5.10); default\n"
		"                     /usr/lib/teeshm-trace/btf/RELEASE.btf if present\n"
		"  -V, --version      print the version\n"
		"  -h, --help         this text\n"
		"\n"
		"Exit: 0 clean, 1 findings, 2 usage or input error.\n");
}

int usage_error(const char *text, const char *msg)
{
	if (msg)
		fprintf(stderr, "teeshm-trace: %s\n", msg);
	fputs(text, stderr);
	return EXIT_USAGE;
}

int usage_help_or_error(int c, const char *text)
{
	if (c != 'h')
		return usage_error(text, NULL);
	fputs(text, stdout);
	return EXIT_CLEAN;
}

int cli_main(const struct cli_verb *verbs, size_t n, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "id-key", required_argument, NULL, 'k' },
		{ "btf", required_argument, NULL, 'b' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { 0 };
	size_t i;
	int c;

	/* '+': stop at the verb, its options are its own */
	while ((c = getopt_long(argc, argv, "+vk:b:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			cli.verbose = true;
			break;
		case 'k':
			if (id_key_parse(&cli.key, optarg)) {
				fprintf(stderr, "teeshm-trace: --id-key: expected "
					"32 hex digits, got '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'b':
			cli.btf = optarg;
			break;
		case 'V':
			printf("teeshm-trace %s\n", TEESHM_VERSION);
			return EXIT_CLEAN;
		case 'h':
			usage(stdout, verbs, n);
			return EXIT_CLEAN;
		default:
			usage(stderr, verbs, n);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "teeshm-trace: missing VERB\n");
		usage(stderr, verbs, n);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "help")) {
		usage(stdout, verbs, n);
		return EXIT_CLEAN;
	}
	for (i = 0; i < n; i++) {
		if (!strcmp(argv[optind], verbs[i].name)) {
			/* the verb sees argv[0] = its own name */
			return verbs[i].fn(&cli, argc - optind, argv + optind);
		}
	}
	fprintf(stderr, "teeshm-trace: unknown verb '%s' (try --help)\n",
		argv[optind]);
	return EXIT_USAGE;
}
