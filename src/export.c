// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * export.c - `teeshm-trace export`: the figures `status` and `replay` show,
 * as aggregate metrics for fleet telemetry: a Prometheus textfile for
 * node_exporter's textfile collector (written atomically), one JSON object
 * per line for log shippers, or GET /metrics over HTTP.  This file: where
 * the figures come from (a trace, or the live table and pstore); their
 * texts are metrics.c's, their destinations sinks.c's.
 *
 * Only aggregates leave the machine: counts and bytes per owner class and
 * per finding kind.  No buffer address, cookie or id is exported (KASLR).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>

#include "cli.h"
#include "engine.h"
#include "kenv.h"
#include "kexec_report.h"
#include "metrics.h"
#include "pinned.h"
#include "sinks.h"
#include "teeshm_event.h"
#include "trace_file.h"
#include "verbs.h"

#define BOOT_ID_FILE	"/proc/sys/kernel/random/boot_id"

/* The owner class of a buffer (metrics.h). */
static enum owner owner_of(uint32_t flags, int api, const char *caller)
{
	if (flags & (TSE_F_USER_MAPPED | TSE_F_DMA_BUF))
		return OWN_USER;
	if (api == TEESHM_API_ALLOC_USER_BUF ||
	    api == TEESHM_API_REGISTER_USER_BUF)
		return OWN_USER;
	if (caller && !strncmp(caller, "tee_ioctl", 9))
		return OWN_USER;
	return OWN_KERNEL;
}

static const char *gen_name(int gen)
{
	switch (gen) {
	case TEESHM_GEN_OLD:
		return "<=5.17";
	case TEESHM_GEN_NEW:
		return "5.18+";
	case TEESHM_GEN_PROTMEM:
		return "protmem";
	}
	return "unknown";
}

static void identity(struct metrics *m)
{
	struct utsname u;
	FILE *f;

	snprintf(m->release, sizeof(m->release), "unknown");
	snprintf(m->boot_id, sizeof(m->boot_id), "unknown");
	if (!uname(&u))
		snprintf(m->release, sizeof(m->release), "%s", u.release);
	f = fopen(BOOT_ID_FILE, "r");
	if (f) {
		if (fgets(m->boot_id, sizeof(m->boot_id), f))
			m->boot_id[strcspn(m->boot_id, "\n")] = '\0';
		else
			snprintf(m->boot_id, sizeof(m->boot_id), "unknown");
		fclose(f);
	}
}

/* ------------------------------------------------------------ sources */

static void trace_registered(struct metrics *m, const struct tse_buf *b)
{
	enum owner o = owner_of(b->flags, TEESHM_API_NONE, b->caller);

	m->seen_flags |= b->flags;
	m->reg[o].buffers++;
	m->reg[o].bytes += b->size;
}

static int trace_walk(const struct tse_buf *b, void *arg)
{
	struct metrics *m = arg;

	m->tracked++;
	m->seen_flags |= b->flags;
	if (b->registered)
		trace_registered(m, b);
	return 0;
}

static void from_engine(struct metrics *m, const struct tse_engine *e)
{
	const uint32_t old_only = TSE_F_MAPPED | TSE_F_DMA_BUF |
				  TSE_F_EXT_DMA_BUF | TSE_F_REGISTER |
				  TSE_F_KERNEL_MAPPED;
	const struct tse_finding *fd;
	const struct tse_buf *snap;
	struct tse_stats st;
	size_t nf, ns, i;
	int k;

	m->source = "trace";
	tse_get_stats(e, &st);
	tse_walk_live(e, trace_walk, m);
	/* released while registered: still registered at the end */
	ns = tse_orphans(e, &snap);
	for (i = 0; i < ns; i++)
		trace_registered(m, &snap[i]);
	m->have_counters = true;
	m->registrations = st.registers;
	m->unregistrations = st.unregisters;
	m->reg_failures = st.register_failures;
	m->kexecs = st.kexecs;
	ns = tse_registered_at_last_kexec(e, &snap);
	m->have_kexec = st.kexecs > 0;
	for (i = 0; i < ns; i++) {
		enum owner o = owner_of(snap[i].flags, TEESHM_API_NONE,
					snap[i].caller);

		m->kexec_left[o].buffers++;
		m->kexec_left[o].bytes += snap[i].size;
		m->seen_flags |= snap[i].flags;
	}
	nf = tse_findings(e, &fd);
	for (k = 1; k <= N_KINDS; k++)
		m->have_kind[k] = true;
	for (i = 0; i < nf; i++) {
		if (fd[i].kind >= 1 && fd[i].kind <= N_KINDS)
			m->findings[fd[i].kind]++;
		m->seen_flags |= fd[i].buf.flags;
	}
	/* The trace holds canonical flags: the generation shows in them. */
	if (m->seen_flags & TSE_F_DMA_MEM)
		m->generation = gen_name(TEESHM_GEN_PROTMEM);
	else if (m->seen_flags & TSE_F_DYNAMIC)
		m->generation = gen_name(TEESHM_GEN_NEW);
	else if (m->seen_flags & old_only)
		m->generation = gen_name(TEESHM_GEN_OLD);
	else
		m->generation = gen_name(TEESHM_GEN_UNKNOWN);
}

static int from_trace(struct metrics *m, const char *path)
{
	char err[PATH_MAX + 128];
	struct tse_engine *e;

	e = tse_load_trace(path, err, sizeof(err));
	if (!e) {
		fprintf(stderr, "teeshm-trace: %s\n", err);
		return EXIT_USAGE;
	}
	from_engine(m, e);
	tse_free(e);
	return 0;
}

/* The live table's rows, counted by owner; the findings it shows. */
static void from_rows(struct metrics *m, const struct live_table *t, int gen)
{
	enum owner o;
	uint32_t flags;
	int i;

	m->tracked = t->n;
	m->have_kind[TSE_FIND_PRIV_REGISTERED] = true;
	m->have_kind[TSE_FIND_FREE_WHILE_REGISTERED] = true;
	for (i = 0; i < t->n; i++) {
		const struct live_row *r = &t->rows[i];

		if (r->v.orphaned) {
			/* registered, but no longer alive in the kernel */
			m->tracked--;
			m->findings[TSE_FIND_FREE_WHILE_REGISTERED]++;
		}
		if (r->v.state != TEESHM_LIVE_REGISTERED)
			continue;
		flags = tse_flags_decode(r->v.flags, gen);
		o = owner_of(flags, r->v.api, r->caller);
		m->reg[o].buffers++;
		m->reg[o].bytes += r->v.size;
		if (flags & TSE_F_PRIV)
			m->findings[TSE_FIND_PRIV_REGISTERED]++;
	}
}

/* The last kexec: the previous kernel's report in pstore, if any. */
static void from_pstore(struct metrics *m, int gen, bool verbose)
{
	struct kx_report r;
	char chosen[512];
	enum owner o;
	size_t i;
	int err;

	err = kx_parse_pstore(&r, chosen, sizeof(chosen));
	if (err && verbose)
		fprintf(stderr, "teeshm-trace: export: pstore: %s (no last-kexec "
			"figures)\n", strerror(-err));
	if (!err && r.found) {
		m->have_kexec = true;
		m->have_kind[TSE_FIND_REGISTERED_AT_KEXEC] = true;
		for (i = 0; i < r.n; i++) {
			o = owner_of(tse_flags_decode(r.v[i].flags, gen),
				     TEESHM_API_NONE, r.v[i].site);
			m->kexec_left[o].buffers++;
			m->kexec_left[o].bytes += r.v[i].size;
			m->findings[TSE_FIND_REGISTERED_AT_KEXEC]++;
		}
	}
	kx_free(&r);
}

/* The live table (as `status` reads it), its counters, and pstore. */
static int from_live(struct metrics *m, const struct cli *cli)
{
	const uint64_t *cnt;
	struct live_table t;
	struct kenv env;
	int gen;

	if (kenv_init(&env, cli->btf))
		return EXIT_USAGE;
	if (live_table_read(&t)) {
		kenv_fini(&env);
		return EXIT_USAGE;
	}
	live_table_sites(&t, env.ks, false);
	gen = env.flags_gen;
	m->source = "live";
	m->generation = gen_name(gen);
	from_rows(m, &t, gen);
	if (t.have_counters) {
		cnt = t.counters;
		m->have_counters = true;
		m->registrations = cnt[TEESHM_CNT_REGISTERS];
		m->unregistrations = cnt[TEESHM_CNT_UNREGISTERS];
		m->reg_failures = cnt[TEESHM_CNT_REG_FAILED];
		m->kexecs = cnt[TEESHM_CNT_KEXECS];
		m->have_lost = true;
		m->lost = cnt[TEESHM_CNT_LOST];
		m->untracked = cnt[TEESHM_CNT_LIVE_FULL];
		m->missed = t.probe_misses;
	}
	live_table_free(&t);
	kenv_fini(&env);
	from_pstore(m, gen, cli->verbose);
	return 0;
}

/* The figures, from a trace or live.  0, or an exit code after a message. */
static int collect(struct metrics *m, const char *trace, const struct cli *cli)
{
	memset(m, 0, sizeof(*m));
	identity(m);
	return trace ? from_trace(m, trace) : from_live(m, cli);
}

/* ------------------------------------------------------------ outputs */

static int write_out(const struct metrics *m, const char *path, bool json)
{
	size_t len;
	char *text = metrics_render(m, json, &len);
	int err;

	if (!text) {
		fprintf(stderr, "teeshm-trace: out of memory\n");
		return EXIT_USAGE;
	}
	if (json || !strcmp(path, "-"))
		err = sink_append(path, text, len);
	else
		err = sink_replace(path, text, len);
	free(text);
	return err ? EXIT_USAGE : EXIT_CLEAN;
}

/* A scrape of GET /metrics. */
struct scrape {
	const struct cli *cli;
	const char *trace;
	const struct metrics *fixed;	/* a trace's: computed once */
};

static int scrape_body(void *arg, char **body, size_t *len)
{
	const struct scrape *s = arg;
	struct metrics m;

	if (s->fixed)
		m = *s->fixed;
	else if (collect(&m, s->trace, s->cli))
		return -EAGAIN;
	*body = metrics_render(&m, false, len);
	return *body ? 0 : -ENOMEM;
}

/* ---------------------------------------------------------------- verb */

static const char export_usage[] =
	"Usage: teeshm-trace export [--trace FILE] [--prom FILE] [--jsonl FILE]\n"
	"                           [--listen ADDR:PORT]\n"
	"\n"
	"Aggregate metrics for fleet telemetry: buffers and bytes registered\n"
	"with the secure world (by owner class, kernel or user), registrations,\n"
	"unregistrations and failures, buffers left registered at the last\n"
	"kexec, findings by kind, lost events, and the host's identity.  No\n"
	"buffer address or id is exported.  The source is the live table a\n"
	"running `teeshm-trace trace` keeps (and the last kexec report in\n"
	"pstore), or a recorded trace.\n"
	"\n"
	"  -t, --trace FILE        compute the figures from a JSONL trace\n"
	"                          (- for standard input) instead\n"
	"  -p, --prom FILE         Prometheus textfile for node_exporter's\n"
	"                          textfile collector, replaced atomically\n"
	"                          (- for standard output)\n"
	"  -J, --jsonl FILE        append one JSON object (one line) to FILE\n"
	"                          (- for standard output)\n"
	"  -l, --listen ADDR:PORT  then serve the Prometheus text at\n"
	"                          GET /metrics until SIGINT/SIGTERM\n"
	"  -h, --help              this text\n"
	"\n"
	"Exit: 0 written (findings are in the metrics), 2 usage error, source\n"
	"unavailable (as `status`), malformed trace, or a write error.\n";

int cmd_export(const struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "trace", required_argument, NULL, 't' },
		{ "prom", required_argument, NULL, 'p' },
		{ "jsonl", required_argument, NULL, 'J' },
		{ "listen", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *trace = NULL, *prom = NULL, *jsonl = NULL, *listen_arg = NULL;
	struct sockaddr_storage ss;
	struct scrape sc = { cli, NULL, NULL };
	socklen_t sl = 0;
	struct metrics m;
	char msg[320];
	int c, ret, fd;

	optind = 0;
	while ((c = getopt_long(argc, argv, "t:p:J:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			trace = optarg;
			break;
		case 'p':
			prom = optarg;
			break;
		case 'J':
			jsonl = optarg;
			break;
		case 'l':
			listen_arg = optarg;
			break;
		default:
			return usage_help_or_error(c, export_usage);
		}
	}
	if (optind != argc) {
		snprintf(msg, sizeof(msg), "export: unexpected argument '%s'",
			 argv[optind]);
		return usage_error(export_usage, msg);
	}
	if (!prom && !jsonl && !listen_arg)
		return usage_error(export_usage, "export: nothing to write: "
				   "give --prom FILE, --jsonl FILE or "
				   "--listen ADDR:PORT");
	if ((trace && !*trace) || (prom && !*prom) || (jsonl && !*jsonl)) {
		snprintf(msg, sizeof(msg), "export: --%s: empty file name",
			 trace && !*trace ? "trace" : prom && !*prom ? "prom" :
			 "jsonl");
		return usage_error(export_usage, msg);
	}
	if (prom && jsonl && !strcmp(prom, "-") && !strcmp(jsonl, "-"))
		return usage_error(export_usage, "export: --prom - and "
				   "--jsonl - would both write to standard "
				   "output");
	if (listen_arg && sink_parse_listen(listen_arg, &ss, &sl)) {
		snprintf(msg, sizeof(msg), "export: --listen: expected "
			 "numeric ADDR:PORT (e.g. 127.0.0.1:9471, [::1]:9471), got "
			 "'%.200s'", listen_arg);
		return usage_error(export_usage, msg);
	}

	ret = collect(&m, trace, cli);
	if (!ret && prom)
		ret = write_out(&m, prom, false);
	if (!ret && jsonl)
		ret = write_out(&m, jsonl, true);
	if (ret || !listen_arg)
		return ret;
	fd = sink_listen(&ss, sl, listen_arg);
	if (fd < 0)
		return EXIT_USAGE;
	/* A trace does not change: computed once.  Live: at every scrape. */
	sc.trace = trace;
	sc.fixed = trace ? &m : NULL;
	sink_serve(fd, scrape_body, &sc);
	return EXIT_CLEAN;
}
