/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ksyms.h - /proc/kallsyms: symbol presence (which probes can attach) and
 * address -> "func+0xoff [module]" symbolisation of allocation stacks.
 */
#ifndef TEESHM_KSYMS_H
#define TEESHM_KSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ksyms;

/* Load path (normally /proc/kallsyms).  NULL with errno on failure. */
struct ksyms *ksyms_load(const char *path);
void ksyms_free(struct ksyms *ks);
/* Is there a text symbol of this exact name? */
bool ksyms_has(const struct ksyms *ks, const char *name);
/* "func+0x1c [mod]" into buf; returns false if unknown. */
bool ksyms_fmt(const struct ksyms *ks, uint64_t addr, char *buf, size_t len);
/* Symbol name at addr (no offset), NULL if unknown. */
const char *ksyms_name(const struct ksyms *ks, uint64_t addr);

#endif /* TEESHM_KSYMS_H */
