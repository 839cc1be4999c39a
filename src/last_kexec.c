// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * last_kexec.c - `last-kexec`: the previous kernel's kexec report, read
 * back from pstore after the reboot (or from a saved console log).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "json_writer.h"
#include "kexec_report.h"
#include "verbs.h"

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

static void print_json(const struct kx_report *r, const char *source)
{
	struct jw w;
	size_t i;

	jw_init(&w, stdout);
	jw_obj_begin(&w);
	jw_kstr(&w, "kind", r->kind);
	jw_kstr(&w, "source", source);
	jw_kbool(&w, "complete", r->complete);
	jw_ku64(&w, "lost_events", r->lost);
	jw_key(&w, "registered");
	jw_arr_begin(&w);
	for (i = 0; i < r->n; i++) {
		const struct kx_entry *e = &r->v[i];

		jw_obj_begin(&w);
		jw_kstr(&w, "id", e->id);
		jw_ku64(&w, "size", e->size);
		jw_ku64(&w, "raw_flags", e->flags);
		if (e->pid >= 0)
			jw_ks64(&w, "pid", e->pid);
		if (e->site[0])
			jw_kstr(&w, "site", e->site);
		if (e->orphaned)
			jw_kbool(&w, "orphaned", true);
		if (e->handle) {
			char h[19];

			/* hex, as the secure world logs it */
			snprintf(h, sizeof(h), "0x%" PRIx64, e->handle);
			jw_kstr(&w, "ffa_handle", h);
		}
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_end_line(&w);
}

static void print_human(const struct kx_report *r)
{
	size_t i;

	printf("previous kernel's %s: %zu buffer%s registered with the secure "
	       "world%s\n", r->kind, r->n, r->n == 1 ? "" : "s",
	       r->complete ? "" : " (report cut short)");
	for (i = 0; i < r->n; i++) {
		printf("  id %s %8" PRIu64 " bytes  flags 0x%x  %s%s",
		       r->v[i].id, r->v[i].size, r->v[i].flags,
		       r->v[i].site[0] ? r->v[i].site : "",
		       r->v[i].orphaned ? " (released while registered)" : "");
		if (r->v[i].handle)
			printf("  FF-A handle 0x%" PRIx64, r->v[i].handle);
		putchar('\n');
	}
	if (r->lost)
		printf("warning: %" PRIu64 " events were lost before the "
		       "kexec\n", r->lost);
}

/* The report of path, or of pstore; *source: where it was read. */
static int read_report(struct kx_report *r, const char *path,
		       const char **source, char *chosen, size_t len)
{
	FILE *f;
	int err;

	if (!path) {
		err = kx_parse_pstore(r, chosen, len);
		*source = chosen[0] ? chosen : PSTORE_DIR;
		return err;
	}
	*source = path;
	f = fopen(path, "r");
	if (!f) {
		memset(r, 0, sizeof(*r));
		return -errno;
	}
	err = kx_parse(f, r);
	fclose(f);
	return err;
}

int cmd_last_kexec(const struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *source;
	char chosen[512] = "";
	struct kx_report r;
	bool json = false;
	int c, err;

	(void)cli;
	optind = 0;
	while ((c = getopt_long(argc, argv, "jf:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'f':
			path = optarg;
			break;
		default:
			return usage_help_or_error(c, usage);
		}
	}
	if (optind != argc)
		return usage_error(usage, "last-kexec: unexpected argument");
	err = read_report(&r, path, &source, chosen, sizeof(chosen));
	if (err) {
		fprintf(stderr, "teeshm-trace: %s: %s\n", source,
			strerror(-err));
		kx_free(&r);
		return EXIT_USAGE;
	}
	if (!r.found) {
		fprintf(stderr, "teeshm-trace: no kexec report in %s (was the "
			"previous kernel traced, and booted with tp_printk?)\n",
			source);
		return EXIT_USAGE;
	}
	if (json)
		print_json(&r, source);
	else
		print_human(&r);
	if (!r.complete || r.declared != r.n)
		fprintf(stderr, "teeshm-trace: the report in %s is incomplete "
			"(%zu of %u entries)\n", source, r.n, r.declared);
	c = r.n ? EXIT_FINDINGS : EXIT_CLEAN;
	kx_free(&r);
	return c;
}
