// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * replay.c - `teeshm-trace replay FILE [--json]`: offline analysis of a
 * recorded JSONL trace with the same engine as live tracing.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json_writer.h"
#include "jsonl.h"
#include "replay.h"

static void json_buf(struct jw *w, const struct tse_buf *b)
{
	jw_khex(w, "shm", b->shm);
	jw_ku64(w, "size", b->size);
	tse_flags_json(w, b->flags);
	if (b->registered || b->cookie)
		jw_khex(w, "cookie", b->cookie);
	if (b->pid >= 0)
		jw_ks64(w, "pid", b->pid);
	if (b->comm[0])
		jw_kstr(w, "comm", b->comm);
	if (b->caller[0])
		jw_kstr(w, "caller", b->caller);
	jw_kbool(w, "registered", b->registered);
	if (b->freed)	/* released while registered: an orphan */
		jw_kbool(w, "freed", true);
	jw_kbool(w, "seen_alloc", b->seen_alloc);
}

struct end_ctx {
	struct jw *w;
	FILE *f;
	size_t n;
};

static int json_end_cb(const struct tse_buf *b, void *arg)
{
	struct end_ctx *c = arg;

	if (!b->registered)
		return 0;
	jw_obj_begin(c->w);
	json_buf(c->w, b);
	jw_obj_end(c->w);
	c->n++;
	return 0;
}

static void human_buf(FILE *f, const struct tse_buf *b)
{
	char fl[160];

	fprintf(f, "  0x%016" PRIx64 " %8" PRIu64 " %-24s %-16s %s%s\n",
		b->shm, b->size, tse_flags_str(b->flags, fl, sizeof(fl)),
		b->comm[0] ? b->comm : "-", b->caller[0] ? b->caller : "",
		b->freed ? " (freed while registered)" : "");
}

static int human_end_cb(const struct tse_buf *b, void *arg)
{
	struct end_ctx *c = arg;

	if (!b->registered)
		return 0;
	if (!c->n++)
		fprintf(c->f, "registered at end of trace:\n");
	human_buf(c->f, b);
	return 0;
}

int report_engine(FILE *f, const struct tse_engine *e, bool json,
		  const char *source)
{
	const struct tse_finding *fd;
	const struct tse_buf *snap, *orph;
	struct tse_stats st;
	size_t nf, ns, no, i, nviol = 0;
	struct end_ctx c = { NULL, f, 0 };
	struct jw w;

	nf = tse_findings(e, &fd);
	ns = tse_registered_at_last_kexec(e, &snap);
	no = tse_orphans(e, &orph);
	tse_get_stats(e, &st);
	for (i = 0; i < nf; i++)
		if (fd[i].kind != TSE_FIND_REGISTERED_AT_KEXEC)
			nviol++;

	if (json) {
		jw_init(&w, f);
		jw_obj_begin(&w);
		if (source)
			jw_kstr(&w, "source", source);
		jw_ku64(&w, "events", st.events);
		jw_ku64(&w, "kexecs", st.kexecs);
		jw_key(&w, "registered_at_kexec");
		jw_arr_begin(&w);
		for (i = 0; i < ns; i++) {
			jw_obj_begin(&w);
			json_buf(&w, &snap[i]);
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
		jw_key(&w, "registered_at_end");
		jw_arr_begin(&w);
		c.w = &w;
		tse_walk_live(e, json_end_cb, &c);
		for (i = 0; i < no; i++)
			json_end_cb(&orph[i], &c);
		jw_arr_end(&w);
		jw_key(&w, "violations");
		jw_arr_begin(&w);
		for (i = 0; i < nf; i++) {
			if (fd[i].kind == TSE_FIND_REGISTERED_AT_KEXEC)
				continue;
			jw_obj_begin(&w);
			jw_kstr(&w, "kind", tse_finding_name(fd[i].kind));
			jw_ku64(&w, "ts_ns", fd[i].ts_ns);
			json_buf(&w, &fd[i].buf);
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
		jw_obj_end(&w);
		jw_end_line(&w);
	} else {
		fprintf(f, "%s%s%" PRIu64 " events, %" PRIu64 " kexecs, %"
			PRIu64 " registrations (%" PRIu64 " failed), %" PRIu64
			" unregistrations\n", source ? source : "",
			source ? ": " : "", st.events, st.kexecs,
			st.registers, st.register_failures, st.unregisters);
		if (st.kexecs) {
			fprintf(f, "registered at the last kexec: %zu\n", ns);
			if (ns)
				fprintf(f, "  %-18s %8s %-24s %-16s %s\n", "shm",
					"size", "flags", "comm", "caller");
			for (i = 0; i < ns; i++)
				human_buf(f, &snap[i]);
		}
		if (nviol) {
			fprintf(f, "violations: %zu\n", nviol);
			for (i = 0; i < nf; i++) {
				if (fd[i].kind == TSE_FIND_REGISTERED_AT_KEXEC)
					continue;
				fprintf(f, "  %-22s", tse_finding_name(fd[i].kind));
				human_buf(f, &fd[i].buf);
			}
		}
		tse_walk_live(e, human_end_cb, &c);
		for (i = 0; i < no; i++)
			human_end_cb(&orph[i], &c);
		fprintf(f, "verdict: %s\n", nviol || ns ? "FAIL" : "PASS");
	}
	return nviol || ns ? 1 : 0;
}

int load_trace(const char *path, struct tse_engine **out)
{
	struct tse_engine *e;
	const char *name = path;
	char err[512];
	FILE *f = stdin;
	int ret = EXIT_CLEAN;

	if (strcmp(path, "-")) {
		f = fopen(path, "r");
		if (!f) {
			fprintf(stderr, "teeshm-trace: %s: %s\n", path,
				strerror(errno));
			return EXIT_USAGE;
		}
	} else {
		name = "<stdin>";
	}
	e = tse_new();
	if (!e) {
		fprintf(stderr, "teeshm-trace: out of memory\n");
		ret = EXIT_USAGE;
	} else if (tse_jsonl_feed_file(f, name, e, NULL, err, sizeof(err))) {
		fprintf(stderr, "teeshm-trace: %s\n", err);
		tse_free(e);
		e = NULL;
		ret = EXIT_USAGE;
	} else {
		tse_finish(e);
	}
	if (f != stdin)
		fclose(f);
	*out = e;
	return ret;
}

static const char replay_usage[] =
	"Usage: teeshm-trace replay FILE [--json]\n"
	"\n"
	"Analyse a recorded JSONL trace (from `teeshm-trace trace -o FILE`,\n"
	"or written by hand; FILE - reads standard input) with the same\n"
	"engine as live tracing.\n"
	"\n"
	"  -j, --json   one JSON object: registered_at_kexec, registered_at_end,\n"
	"               violations\n"
	"  -h, --help   this text\n"
	"\n"
	"Exit: 0 clean, 1 violations or buffers registered at a kexec,\n"
	"2 usage error or malformed trace (FILE:LINE: what).\n";

/* stdout's buffer (glibc takes no size without one); lives until exit */
static char outbuf[1 << 20];

int cmd_replay(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tse_engine *e;
	bool json = false;
	int c, ret;

	optind = 0;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(replay_usage, stdout);
			return EXIT_CLEAN;
		default:
			return usage_error(replay_usage, NULL);
		}
	}
	if (optind != argc - 1)
		return usage_error(replay_usage, optind >= argc ?
				   "replay: missing FILE" :
				   "replay: exactly one FILE");
	ret = load_trace(argv[optind], &e);
	if (ret)
		return ret;
	/* the report in megabyte writes, not in st_blksize ones */
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	ret = report_engine(stdout, e, json, NULL);
	tse_free(e);
	return ret;
}
