/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * trace_file.h - a recorded JSONL trace, read whole into a new engine.
 */
#ifndef TEESHM_TRACE_FILE_H
#define TEESHM_TRACE_FILE_H

#include <stddef.h>

#include "engine.h"

/*
 * Read the trace at path ("-": standard input) into a new engine, finished
 * (tse_finish).  NULL on error, with the message in err ("FILE:LINE: what",
 * "FILE: why", or "out of memory"; errlen: PATH_MAX and some).
 */
struct tse_engine *tse_load_trace(const char *path, char *err, size_t errlen);

#endif /* TEESHM_TRACE_FILE_H */
