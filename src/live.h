/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * live.h - the live verbs (BPF side attached): trace, status, check, probes.
 */
#ifndef TEESHM_LIVE_H
#define TEESHM_LIVE_H

#include <stdint.h>

int cmd_trace(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_probes(int argc, char **argv);
int cmd_id(int argc, char **argv);

/* --id-key: 32 hex digits.  Returns 0 or -1. */
int live_set_id_key(const char *hex);
/* Keyed hash id of a kernel address (for anything that may leave the machine). */
uint64_t live_id(uint64_t addr);

/* Where `trace` pins the live table for status/check. */
#define TEESHM_PIN_DIR "/sys/fs/bpf/teeshm"

#endif /* TEESHM_LIVE_H */
