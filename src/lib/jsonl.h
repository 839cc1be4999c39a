/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * jsonl.h - the JSONL trace format (the user-facing contract; documented in
 * man/teeshm-trace.8): one JSON object per line,
 *
 *   ts_ns   integer, always
 *   event   "alloc" | "register" | "unregister" | "free" | "kexec", always
 *   shm     hex string "0x...", on alloc/register/unregister/free
 *   size    integer bytes (on alloc; optional elsewhere)
 *   flags   array of names without TEE_SHM_ (on alloc; optional elsewhere)
 *   ctx, cookie  hex strings (optional)
 *   pid, ret     integers (optional; ret != 0 on (un)register = failed)
 *   comm, caller strings (optional; truncated to 15 and 127 bytes)
 *   kind    "kexec" | "crash" (optional, on kexec)
 * Unknown keys are ignored, whatever their value.
 */
#ifndef TEESHM_JSONL_H
#define TEESHM_JSONL_H

#include <stdio.h>

#include "engine.h"

#define TSE_JSONL_MAX_LINE	65536

/*
 * Parse one line (without its newline) into ev.  Returns 1 for an event, 0
 * for a blank line, -1 on error with a message in err (no location).
 */
int tse_jsonl_parse_line(const char *line, size_t len, struct tse_event *ev,
			 char *err, size_t errlen);

/* Write ev as one JSONL line.  Returns 0 or -1 (I/O error). */
int tse_jsonl_write(FILE *f, const struct tse_event *ev);

/* Name of an event type ("alloc"), NULL if invalid. */
const char *tse_type_name(int type);

/*
 * The allocation function an enum teeshm_api names
 * ("tee_shm_alloc_user_buf"), NULL if it names none.
 */
const char *tse_api_name(int api);

/*
 * Read a whole trace from f and feed every event to e.  name is used in
 * messages ("FILE:LINE: what").  Returns 0, or -1 with the message in err.
 * Lines read before an error have been fed.
 */
int tse_jsonl_feed_file(FILE *f, const char *name, struct tse_engine *e,
			unsigned long *lines, char *err, size_t errlen);

#endif /* TEESHM_JSONL_H */
