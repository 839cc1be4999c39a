/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef TEESHM_REPLAY_H
#define TEESHM_REPLAY_H

#include <stdbool.h>
#include <stdio.h>

#include "engine.h"

int cmd_replay(int argc, char **argv);

/*
 * Read a JSONL trace (path, or "-" for standard input) into a new engine,
 * finished.  Returns 0, or EXIT_USAGE after printing "FILE:LINE: what".
 */
int load_trace(const char *path, struct tse_engine **out);

/*
 * The verdict of an engine after tse_finish(), as the human table or one
 * JSON object.  Returns the exit code: 1 if any violation or anything
 * registered at a kexec, else 0.  raw: show shm addresses (local output).
 */
int report_engine(FILE *f, const struct tse_engine *e, bool json,
		  const char *source);

#endif /* TEESHM_REPLAY_H */
