/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * policy.h - the pre-kexec check's policy (/etc/teeshm-trace.conf).
 */
#ifndef TEESHM_POLICY_H
#define TEESHM_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#define TSP_MAX_ALLOW	32
#define TSP_NAME_LEN	64

enum tsp_policy { TSP_BLOCK = 0, TSP_WARN = 1 };

struct tsp_config {
	enum tsp_policy policy;
	size_t nallow;
	char allow[TSP_MAX_ALLOW][TSP_NAME_LEN];
};

/* Defaults: block (check exits 1 on findings), nothing allowed. */
void tsp_config_init(struct tsp_config *c);

/*
 * Parse a config file.  0 on success; -1 with err ("FILE:LINE: what") on a
 * bad line or an unreadable file.  A missing file is an error here: callers
 * decide whether a missing default file is fine.
 */
int tsp_config_load(struct tsp_config *c, const char *path, char *err,
		    size_t errlen);

/*
 * Does an allow_owner entry match this buffer?  caller is the allocation
 * site "func+0xoff [module]" (may be empty), comm the process name.
 * Entries: "[module]", a function name, or a comm.
 */
bool tsp_allowed(const struct tsp_config *c, const char *caller,
		 const char *comm);

#endif /* TEESHM_POLICY_H */
