// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * id.c - `id`: the keyed id of kernel addresses, to correlate a
 * secure-world log (raw cookies) with the tool's output.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "idkey.h"
#include "teeshm_event.h"
#include "teeshm_hash.h"
#include "verbs.h"

int cmd_id(const struct cli *cli, int argc, char **argv)
{
	static const char usage[] =
		"Usage: teeshm-trace --id-key HEX id ADDR...\n"
		"\n"
		"Print the keyed id of each kernel address (0x...), as JSON\n"
		"output and the kexec console report show them: to correlate a\n"
		"secure-world log (raw cookies) with a report, on the machine\n"
		"that holds the key.  Without --id-key the per-boot key in\n"
		ID_KEY_FILE " is used.\n";
	struct id_key key = cli->key;
	char *end, id[17];
	int i;

	if (argc < 2)
		return usage_error(usage, "id: missing ADDR");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, stdout);
		return EXIT_CLEAN;
	}
	if (!key.set && access(ID_KEY_FILE, R_OK)) {
		fprintf(stderr, "teeshm-trace: id: no --id-key and no per-boot "
			"key in %s\n", ID_KEY_FILE);
		return EXIT_USAGE;
	}
	for (i = 1; i < argc; i++) {
		errno = 0;
		strtoull(argv[i], &end, 16);
		if (errno || *end || end == argv[i]) {
			fprintf(stderr, "teeshm-trace: id: '%s' is not a hex "
				"address\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	id_key_ensure(&key);
	for (i = 1; i < argc; i++) {
		teeshm_id_hex(id, id_key_hash(&key, strtoull(argv[i], NULL, 16)));
		printf("%s %s\n", argv[i], id);
	}
	return EXIT_CLEAN;
}
