/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef TEESHM_REPORT_H
#define TEESHM_REPORT_H

#include <stdbool.h>

#include "engine.h"

int cmd_last_kexec(int argc, char **argv);
int cmd_verify(int argc, char **argv);
/* PASS/FAIL per invariant over an engine after tse_finish(); exit code. */
int verify_engine(const struct tse_engine *e, bool json, const char *source);

#endif /* TEESHM_REPORT_H */
