// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * moddep.c - modules.dep read (see moddep.h).
 */
#include <stdlib.h>
#include <string.h>

#include "moddep.h"

/* path's file is mod.ko[.xz|.zst|.gz]: '-' and '_' alike. */
static int is_module(const char *path, const char *mod)
{
	const char *b = strrchr(path, '/');
	size_t i;

	b = b ? b + 1 : path;
	for (i = 0; mod[i]; i++) {
		char c = b[i] == '-' ? '_' : b[i];
		char m = mod[i] == '-' ? '_' : mod[i];

		if (c != m)
			return 0;
	}
	return !strncmp(b + i, ".ko", 3) && (!b[i + 3] || b[i + 3] == '.');
}

int moddep_needs(FILE *f, const char *mod, const char *dep)
{
	char *line = NULL, *tok, *save;
	size_t cap = 0;
	int r = -1;

	/* whole lines, however long */
	while (r < 0 && getline(&line, &cap, f) >= 0) {
		tok = strtok_r(line, ": \n", &save);
		if (!tok || !is_module(tok, mod))
			continue;
		r = 0;
		while ((tok = strtok_r(NULL, " \n", &save)))
			if (is_module(tok, dep))
				r = 1;
	}
	free(line);
	return r;
}
