/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef TEESHM_REPORT_H
#define TEESHM_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"

int cmd_last_kexec(int argc, char **argv);
/*
 * The newest kexec report in pstore, as `last-kexec` finds it: cb once per
 * buffer it lists (raw TEE_SHM_* flags, allocation site or "").  Returns 1
 * if a report was found, 0 if none, -errno if pstore cannot be read.
 */
typedef void (*last_kexec_fn)(uint64_t size, uint32_t raw_flags,
			      const char *site, void *arg);
int last_kexec_pstore(last_kexec_fn cb, void *arg);
int cmd_verify(int argc, char **argv);
/* PASS/FAIL per invariant over an engine after tse_finish(); exit code. */
int verify_engine(const struct tse_engine *e, bool json, const char *source);

#endif /* TEESHM_REPORT_H */
