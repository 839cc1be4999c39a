/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * moddep.h - modules.dep: what a module needs, read before it is loaded
 * (a kernel built with optee.ko's FF-A ABI makes it need ffa-core).
 */
#ifndef TEESHM_MODDEP_H
#define TEESHM_MODDEP_H

#include <stdio.h>

/*
 * Does module mod (its file "mod.ko", compressed or not) need module dep,
 * by modules.dep f?  Names match with '-' and '_' alike, as modprobe's
 * do.  1, 0, or -1 if mod is not listed.
 */
int moddep_needs(FILE *f, const char *mod, const char *dep);

#endif /* TEESHM_MODDEP_H */
