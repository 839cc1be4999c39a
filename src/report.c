// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * report.c - `last-kexec`: the previous kernel's kexec report, read back
 * from pstore after the reboot; `verify`: the invariants, PASS/FAIL each.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "json_writer.h"
#include "jsonl.h"
#include "replay.h"
#include "report.h"

#define PSTORE_DIR "/sys/fs/pstore"

struct kx_entry {
	char id[17];
	uint64_t size;
	uint32_t flags;
	int32_t pid;
	bool orphaned;		/* released while registered */
	char site[128];
};

struct kx_report {
	bool found, complete;
	char kind[8];
	uint64_t lost;
	unsigned int declared;	/* registered= of kexec-end */
	struct kx_entry *v;
	size_t n, cap;
};

/* The entry of an id as printed (older kernels' printk: no zero padding). */
static struct kx_entry *kx_find(struct kx_report *r, const char *raw)
{
	char id[17];
	size_t i;

	snprintf(id, sizeof(id), "%016llx", strtoull(raw, NULL, 16));
	for (i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].id, id))
			return &r->v[i];
	return NULL;
}

/*
 * Parse the last complete-or-not kexec report in f: the lines the BPF side
 * prints (see the man page), wherever they stand in a console line.
 */
static int kx_parse(FILE *f, struct kx_report *r)
{
	char line[1024], id[17], kind[8], site[128];
	unsigned long long size, lost;
	unsigned int flags, reg, pid;
	const char *p;

	memset(r, 0, sizeof(*r));
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, "teeshm-trace: kexec-");
		if (!p)
			continue;
		p += strlen("teeshm-trace: kexec-");
		if (sscanf(p, "begin kind=%7s", kind) == 1) {
			free(r->v);
			memset(r, 0, sizeof(*r));
			r->found = true;
			snprintf(r->kind, sizeof(r->kind), "%s", kind);
		} else if (!r->found) {
			continue;
		} else if (sscanf(p, "registered id=%16[0-9a-f] size=%llu flags=0x%x",
				  id, &size, &flags) == 3) {
			struct kx_entry *e;

			if (r->n == r->cap) {
				size_t nc = r->cap ? r->cap * 2 : 16;

				e = realloc(r->v, nc * sizeof(*e));
				if (!e)
					return -ENOMEM;
				r->v = e;
				r->cap = nc;
			}
			e = &r->v[r->n++];
			memset(e, 0, sizeof(*e));
			/* older kernels' printk has no field width: pad here */
			snprintf(e->id, sizeof(e->id), "%016llx",
				 strtoull(id, NULL, 16));
			e->size = size;
			e->flags = flags;
			e->pid = -1;
		} else if (sscanf(p, "site id=%16[0-9a-f] pid=%u site=%127[^\r\n]",
				  id, &pid, site) == 3) {
			struct kx_entry *e = kx_find(r, id);

			if (e) {
				e->pid = pid;
				snprintf(e->site, sizeof(e->site), "%s", site);
			}
		} else if (sscanf(p, "orphan id=%16[0-9a-f]", id) == 1) {
			struct kx_entry *e = kx_find(r, id);

			if (e)
				e->orphaned = true;
		} else if (sscanf(p, "end registered=%u lost=%llu", &reg,
				  &lost) == 2) {
			r->complete = true;
			r->declared = reg;
			r->lost = lost;
		}
	}
	return ferror(f) ? -EIO : 0;
}

/*
 * The newest pstore record (dmesg or console; not a still-compressed
 * .enc.z) that holds a report.  The record's time is the file's mtime.
 */
static int kx_parse_pstore(struct kx_report *best, char *chosen, size_t len)
{
	struct kx_report r;
	struct dirent *de;
	struct timespec newest = { 0, 0 };
	char path[512];
	struct stat st;
	DIR *d;
	FILE *f;
	int err;

	memset(best, 0, sizeof(*best));
	d = opendir(PSTORE_DIR);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (strncmp(de->d_name, "dmesg-", 6) &&
		    strncmp(de->d_name, "console-", 8))
			continue;
		if (n > 6 && !strcmp(de->d_name + n - 6, ".enc.z"))
			continue;
		snprintf(path, sizeof(path), PSTORE_DIR "/%s", de->d_name);
		if (stat(path, &st))
			continue;
		f = fopen(path, "r");
		if (!f)
			continue;
		err = kx_parse(f, &r);
		fclose(f);
		if (err || !r.found) {
			free(r.v);
			continue;
		}
		if (best->found && (st.st_mtim.tv_sec < newest.tv_sec ||
				    (st.st_mtim.tv_sec == newest.tv_sec &&
				     st.st_mtim.tv_nsec <= newest.tv_nsec))) {
			free(r.v);
			continue;
		}
		free(best->v);
		*best = r;
		newest = st.st_mtim;
		snprintf(chosen, len, "%s", path);
	}
	closedir(d);
	return 0;
}

int last_kexec_pstore(last_kexec_fn cb, void *arg)
{
	char chosen[512];
	struct kx_report r;
	size_t i;
	int err;

	err = kx_parse_pstore(&r, chosen, sizeof(chosen));
	if (err) {
		free(r.v);
		return err;
	}
	if (!r.found)
		return 0;
	for (i = 0; i < r.n; i++)
		cb(r.v[i].size, r.v[i].flags, r.v[i].site, arg);
	free(r.v);
	return 1;
}

int cmd_last_kexec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char usage[] =
		"Usage: teeshm-trace last-kexec [--json] [--file FILE]\n"
		"\n"
		"The kexec report of the previous kernel, read back after the\n"
		"reboot from pstore (the newest dmesg or console record in\n"
		PSTORE_DIR " that holds one), or from FILE (a saved console log).\n"
		"The previous kernel must have been traced and booted with\n"
		"tp_printk; ramoops must keep shutdown dumps (max-reason >= 4).\n"
		"\n"
		"  -j, --json       one JSON object\n"
		"  -f, --file FILE  read FILE instead of pstore\n"
		"  -h, --help       this text\n"
		"\n"
		"Exit: 0 nothing was registered at the kexec, 1 buffers were,\n"
		"2 no report found, or usage error.\n";
	const char *path = NULL;
	char chosen[512] = "";
	struct kx_report r;
	bool json = false;
	struct jw w;
	size_t i;
	FILE *f;
	int c, err;

	optind = 0;
	while ((c = getopt_long(argc, argv, "jf:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'f':
			path = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_CLEAN;
		default:
			return usage_error(usage, NULL);
		}
	}
	if (optind != argc)
		return usage_error(usage, "last-kexec: unexpected argument");
	if (path) {
		f = fopen(path, "r");
		if (!f) {
			fprintf(stderr, "teeshm-trace: %s: %s\n", path,
				strerror(errno));
			return EXIT_USAGE;
		}
		err = kx_parse(f, &r);
		fclose(f);
	} else {
		err = kx_parse_pstore(&r, chosen, sizeof(chosen));
		path = chosen[0] ? chosen : PSTORE_DIR;
	}
	if (err) {
		fprintf(stderr, "teeshm-trace: %s: %s\n", path, strerror(-err));
		free(r.v);
		return EXIT_USAGE;
	}
	if (!r.found) {
		fprintf(stderr, "teeshm-trace: no kexec report in %s (was the "
			"previous kernel traced, and booted with tp_printk?)\n",
			path);
		return EXIT_USAGE;
	}
	if (json) {
		jw_init(&w, stdout);
		jw_obj_begin(&w);
		jw_kstr(&w, "kind", r.kind);
		jw_kstr(&w, "source", path);
		jw_kbool(&w, "complete", r.complete);
		jw_ku64(&w, "lost_events", r.lost);
		jw_key(&w, "registered");
		jw_arr_begin(&w);
		for (i = 0; i < r.n; i++) {
			jw_obj_begin(&w);
			jw_kstr(&w, "id", r.v[i].id);
			jw_ku64(&w, "size", r.v[i].size);
			jw_ku64(&w, "raw_flags", r.v[i].flags);
			if (r.v[i].pid >= 0)
				jw_ks64(&w, "pid", r.v[i].pid);
			if (r.v[i].site[0])
				jw_kstr(&w, "site", r.v[i].site);
			if (r.v[i].orphaned)
				jw_kbool(&w, "orphaned", true);
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
		jw_obj_end(&w);
		jw_end_line(&w);
	} else {
		printf("previous kernel's %s: %zu buffer%s registered with the "
		       "secure world%s\n", r.kind, r.n, r.n == 1 ? "" : "s",
		       r.complete ? "" : " (report cut short)");
		for (i = 0; i < r.n; i++)
			printf("  id %s %8" PRIu64 " bytes  flags 0x%x  %s%s\n",
			       r.v[i].id, r.v[i].size, r.v[i].flags,
			       r.v[i].site[0] ? r.v[i].site : "",
			       r.v[i].orphaned ? " (released while registered)"
					       : "");
		if (r.lost)
			printf("warning: %" PRIu64 " events were lost before "
			       "the kexec\n", r.lost);
	}
	if (!r.complete || r.declared != r.n)
		fprintf(stderr, "teeshm-trace: the report in %s is incomplete "
			"(%zu of %u entries)\n", path, r.n, r.declared);
	c = r.n ? EXIT_FINDINGS : EXIT_CLEAN;
	free(r.v);
	return c;
}

/* ------------------------------------------------------------- verify */

struct invariant {
	const char *name;
	int kind;		/* finding kind that breaks it */
};

static const struct invariant invariants[] = {
	{ "PRIV buffers never registered", TSE_FIND_PRIV_REGISTERED },
	{ "every registration unregistered before release",
	  TSE_FIND_FREE_WHILE_REGISTERED },
	{ "nothing registered at kexec", TSE_FIND_REGISTERED_AT_KEXEC },
	{ "no failed registration left behind", TSE_FIND_FAILED_REGISTER },
	{ "no double registration", TSE_FIND_DOUBLE_REGISTER },
	{ "no unregistration of unknown buffers",
	  TSE_FIND_UNREGISTER_UNKNOWN },
};

#define N_INV (sizeof(invariants) / sizeof(invariants[0]))

int verify_engine(const struct tse_engine *e, bool json, const char *source)
{
	const struct tse_finding *fd;
	size_t nf = tse_findings(e, &fd), i, j, cnt;
	bool any = false;
	struct jw w;

	if (json) {
		jw_init(&w, stdout);
		jw_obj_begin(&w);
		jw_kstr(&w, "source", source);
		jw_key(&w, "invariants");
		jw_arr_begin(&w);
	} else {
		printf("%s:\n", source);
	}
	for (i = 0; i < N_INV; i++) {
		for (j = 0, cnt = 0; j < nf; j++)
			cnt += fd[j].kind == invariants[i].kind;
		any |= cnt > 0;
		if (json) {
			jw_obj_begin(&w);
			jw_kstr(&w, "invariant", invariants[i].name);
			jw_kstr(&w, "finding", tse_finding_name(invariants[i].kind));
			jw_kstr(&w, "result", cnt ? "FAIL" : "PASS");
			jw_ku64(&w, "count", cnt);
			jw_obj_end(&w);
		} else {
			printf("  %-4s %-48s", cnt ? "FAIL" : "PASS",
			       invariants[i].name);
			if (cnt)
				printf(" (%zu %s)", cnt,
				       tse_finding_name(invariants[i].kind));
			putchar('\n');
		}
	}
	if (json) {
		jw_arr_end(&w);
		jw_kstr(&w, "verdict", any ? "FAIL" : "PASS");
		jw_obj_end(&w);
		jw_end_line(&w);
	} else {
		printf("verdict: %s\n", any ? "FAIL" : "PASS");
	}
	return any ? EXIT_FINDINGS : EXIT_CLEAN;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char usage[] =
		"Usage: teeshm-trace verify [--json] FILE\n"
		"\n"
		"Check the invariants over a recorded JSONL trace (FILE, or - for\n"
		"standard input) and print PASS or FAIL for each:\n"
		"  PRIV buffers never registered; every registration unregistered\n"
		"  before release; nothing registered at kexec; no failed\n"
		"  registration left behind; no double registration; no\n"
		"  unregistration of unknown buffers.\n"
		"For the live table use `check`; for the last kexec, `last-kexec`.\n"
		"\n"
		"Exit: 0 all PASS, 1 any FAIL, 2 usage error or malformed trace.\n";
	struct tse_engine *e;
	bool json = false;
	const char *path;
	int c, ret;

	optind = 0;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_CLEAN;
		default:
			return usage_error(usage, NULL);
		}
	}
	if (optind != argc - 1)
		return usage_error(usage, "verify: exactly one FILE");
	path = argv[optind];
	ret = load_trace(path, &e);
	if (ret)
		return ret;
	ret = verify_engine(e, json, strcmp(path, "-") ? path : "<stdin>");
	tse_free(e);
	return ret;
}
