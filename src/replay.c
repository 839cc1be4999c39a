// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * replay.c - `replay` and `verify`: a recorded JSONL trace, through the
 * same engine as live tracing, reported (what was registered at the last
 * kexec and at the end, the violations), or checked invariant by
 * invariant (PASS/FAIL each).
 */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "engine.h"
#include "json_writer.h"
#include "trace_file.h"
#include "verbs.h"

/* ------------------------------------------------------------- replay */

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

/* What the report shows of an engine after tse_finish(). */
struct verdict {
	const struct tse_finding *fd;
	size_t nf, nviol;		/* findings; those not at a kexec */
	const struct tse_buf *snap;	/* registered at the last kexec */
	size_t ns;
	const struct tse_buf *orph;	/* released while registered */
	size_t no;
	struct tse_stats st;
};

static void verdict_of(struct verdict *v, const struct tse_engine *e)
{
	size_t i;

	v->nf = tse_findings(e, &v->fd);
	v->ns = tse_registered_at_last_kexec(e, &v->snap);
	v->no = tse_orphans(e, &v->orph);
	tse_get_stats(e, &v->st);
	v->nviol = 0;
	for (i = 0; i < v->nf; i++)
		if (v->fd[i].kind != TSE_FIND_REGISTERED_AT_KEXEC)
			v->nviol++;
}

static void report_json(FILE *f, const struct tse_engine *e,
			const struct verdict *v)
{
	struct end_ctx c = { NULL, f, 0 };
	struct jw w;
	size_t i;

	jw_init(&w, f);
	jw_obj_begin(&w);
	jw_ku64(&w, "events", v->st.events);
	jw_ku64(&w, "kexecs", v->st.kexecs);
	jw_key(&w, "registered_at_kexec");
	jw_arr_begin(&w);
	for (i = 0; i < v->ns; i++) {
		jw_obj_begin(&w);
		json_buf(&w, &v->snap[i]);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_key(&w, "registered_at_end");
	jw_arr_begin(&w);
	c.w = &w;
	tse_walk_live(e, json_end_cb, &c);
	for (i = 0; i < v->no; i++)
		json_end_cb(&v->orph[i], &c);
	jw_arr_end(&w);
	jw_key(&w, "violations");
	jw_arr_begin(&w);
	for (i = 0; i < v->nf; i++) {
		if (v->fd[i].kind == TSE_FIND_REGISTERED_AT_KEXEC)
			continue;
		jw_obj_begin(&w);
		jw_kstr(&w, "kind", tse_finding_name(v->fd[i].kind));
		jw_ku64(&w, "ts_ns", v->fd[i].ts_ns);
		json_buf(&w, &v->fd[i].buf);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_end_line(&w);
}

static void report_human(FILE *f, const struct tse_engine *e,
			 const struct verdict *v)
{
	const struct tse_stats *st = &v->st;
	struct end_ctx c = { NULL, f, 0 };
	size_t i;

	fprintf(f, "%" PRIu64 " events, %" PRIu64 " kexecs, %" PRIu64
		" registrations (%" PRIu64 " failed), %" PRIu64
		" unregistrations\n", st->events, st->kexecs, st->registers,
		st->register_failures, st->unregisters);
	if (st->kexecs) {
		fprintf(f, "registered at the last kexec: %zu\n", v->ns);
		if (v->ns)
			fprintf(f, "  %-18s %8s %-24s %-16s %s\n", "shm",
				"size", "flags", "comm", "caller");
		for (i = 0; i < v->ns; i++)
			human_buf(f, &v->snap[i]);
	}
	if (v->nviol) {
		fprintf(f, "violations: %zu\n", v->nviol);
		for (i = 0; i < v->nf; i++) {
			if (v->fd[i].kind == TSE_FIND_REGISTERED_AT_KEXEC)
				continue;
			fprintf(f, "  %-22s", tse_finding_name(v->fd[i].kind));
			human_buf(f, &v->fd[i].buf);
		}
	}
	tse_walk_live(e, human_end_cb, &c);
	for (i = 0; i < v->no; i++)
		human_end_cb(&v->orph[i], &c);
	fprintf(f, "verdict: %s\n", v->nviol || v->ns ? "FAIL" : "PASS");
}

/*
 * The report of an engine after tse_finish(), as the human table or one
 * JSON object.  Returns the exit code: 1 if any violation or anything
 * registered at a kexec, else 0.
 */
static int report_engine(FILE *f, const struct tse_engine *e, bool json)
{
	struct verdict v;

	verdict_of(&v, e);
	if (json)
		report_json(f, e, &v);
	else
		report_human(f, e, &v);
	return v.nviol || v.ns ? EXIT_FINDINGS : EXIT_CLEAN;
}

/* Both verbs' options: [--json] [--help].  CLI_GO_ON, or the exit code. */
static int json_opt(int argc, char **argv, const char *usage, bool *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (c != 'j')
			return usage_help_or_error(c, usage);
		*json = true;
	}
	return CLI_GO_ON;
}

/* The trace at path, or EXIT_USAGE after its message. */
static int load(const char *path, struct tse_engine **e)
{
	char err[PATH_MAX + 128];

	*e = tse_load_trace(path, err, sizeof(err));
	if (*e)
		return EXIT_CLEAN;
	fprintf(stderr, "teeshm-trace: %s\n", err);
	return EXIT_USAGE;
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

int cmd_replay(const struct cli *cli, int argc, char **argv)
{
	struct tse_engine *e;
	bool json = false;
	int ret;

	(void)cli;
	ret = json_opt(argc, argv, replay_usage, &json);
	if (ret != CLI_GO_ON)
		return ret;
	if (optind != argc - 1)
		return usage_error(replay_usage, optind >= argc ?
				   "replay: missing FILE" :
				   "replay: exactly one FILE");
	ret = load(argv[optind], &e);
	if (ret)
		return ret;
	/* the report in megabyte writes, not in st_blksize ones */
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	ret = report_engine(stdout, e, json);
	tse_free(e);
	return ret;
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

/* PASS/FAIL per invariant over an engine after tse_finish(); exit code. */
static int verify_engine(const struct tse_engine *e, bool json,
			 const char *source)
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

int cmd_verify(const struct cli *cli, int argc, char **argv)
{
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
	int ret;

	(void)cli;
	ret = json_opt(argc, argv, usage, &json);
	if (ret != CLI_GO_ON)
		return ret;
	if (optind != argc - 1)
		return usage_error(usage, "verify: exactly one FILE");
	path = argv[optind];
	ret = load(path, &e);
	if (ret)
		return ret;
	ret = verify_engine(e, json, strcmp(path, "-") ? path : "<stdin>");
	tse_free(e);
	return ret;
}
