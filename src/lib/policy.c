// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * policy.c - /etc/teeshm-trace.conf: the pre-kexec check's policy.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

void tsp_config_init(struct tsp_config *c)
{
	memset(c, 0, sizeof(*c));
	c->policy = TSP_BLOCK;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int tsp_config_load(struct tsp_config *c, const char *path, char *err,
		    size_t errlen)
{
	char line[512], *k, *v, *eq;
	unsigned int lineno = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path,
				 lineno);
			goto bad;
		}
		k = trim(line);
		if (!*k || *k == '#')
			continue;
		eq = strchr(k, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%u: expected key=value, "
				 "got '%.60s'", path, lineno, k);
			goto bad;
		}
		*eq = '\0';
		k = trim(k);
		v = trim(eq + 1);
		if (!strcmp(k, "policy")) {
			if (!strcmp(v, "warn")) {
				c->policy = TSP_WARN;
			} else if (!strcmp(v, "block")) {
				c->policy = TSP_BLOCK;
			} else {
				snprintf(err, errlen, "%s:%u: policy: expected "
					 "warn or block, got '%.60s'", path,
					 lineno, v);
				goto bad;
			}
		} else if (!strcmp(k, "allow_owner")) {
			if (!*v || strlen(v) >= TSP_NAME_LEN) {
				snprintf(err, errlen, "%s:%u: allow_owner: "
					 "expected a name of 1..%d characters",
					 path, lineno, TSP_NAME_LEN - 1);
				goto bad;
			}
			if (c->nallow == TSP_MAX_ALLOW) {
				snprintf(err, errlen, "%s:%u: allow_owner: more "
					 "than %d entries", path, lineno,
					 TSP_MAX_ALLOW);
				goto bad;
			}
			snprintf(c->allow[c->nallow++], TSP_NAME_LEN, "%s", v);
		} else {
			snprintf(err, errlen, "%s:%u: unknown key '%.60s'",
				 path, lineno, k);
			goto bad;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto bad;
	}
	fclose(f);
	return 0;
bad:
	fclose(f);
	return -1;
}

bool tsp_allowed(const struct tsp_config *c, const char *caller,
		 const char *comm)
{
	const char *mod = caller ? strchr(caller, '[') : NULL;
	size_t i, fl = 0;

	if (caller)
		fl = strcspn(caller, "+ ");
	for (i = 0; i < c->nallow; i++) {
		const char *a = c->allow[i];

		if (a[0] == '[') {
			if (mod && !strncmp(mod, a, strlen(a)))
				return true;
		} else if (caller && fl && strlen(a) == fl &&
			   !strncmp(caller, a, fl)) {
			return true;
		} else if (comm && !strcmp(comm, a)) {
			return true;
		}
	}
	return false;
}
