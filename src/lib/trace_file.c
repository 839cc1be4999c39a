// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * trace_file.c - a recorded JSONL trace, read whole into a new engine.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "jsonl.h"
#include "trace_file.h"

struct tse_engine *tse_load_trace(const char *path, char *err, size_t errlen)
{
	struct tse_engine *e;
	const char *name = path;
	char msg[512];		/* a trace's message: as long as it ever was */
	FILE *f = stdin;

	if (strcmp(path, "-")) {
		f = fopen(path, "r");
		if (!f) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return NULL;
		}
	} else {
		name = "<stdin>";
	}
	e = tse_new();
	if (!e) {
		snprintf(err, errlen, "out of memory");
	} else if (tse_jsonl_feed_file(f, name, e, NULL, msg, sizeof(msg))) {
		snprintf(err, errlen, "%s", msg);
		tse_free(e);
		e = NULL;
	} else {
		tse_finish(e);
	}
	if (f != stdin)
		fclose(f);
	return e;
}
