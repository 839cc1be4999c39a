// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * status.c - `status` and `check`: the pinned live table of a running
 * tracer (or agent), as a table of what is registered now, or as the
 * pre-kexec verdict on it under the policy (/etc/teeshm-trace.conf).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "flags.h"
#include "idkey.h"
#include "journal.h"
#include "json_writer.h"
#include "jsonl.h"
#include "kenv.h"
#include "pinned.h"
#include "policy.h"
#include "teedev.h"
#include "teeshm_hash.h"
#include "verbs.h"

#ifndef TEESHM_CONF
#define TEESHM_CONF "/etc/teeshm-trace.conf"
#endif
/* journal MESSAGE_ID of the pre-kexec check's verdict */
#define TEESHM_CHECK_MESSAGE_ID "5f0c6e2a1b8d4e9c9a3f7d21c4e8b6a0"

static const char status_usage[] =
	"Usage: teeshm-trace status [--json] [--all]\n"
	"\n"
	"Buffers registered with the secure world now, from the live\n"
	"table a running `teeshm-trace trace` keeps: size, flags, owner\n"
	"(pid/comm, kernel allocation site), age.\n"
	"\n"
	"  -j, --json   one JSON object (hashed ids)\n"
	"  -a, --all    also buffers allocated but not registered\n"
	"  -h, --help   this text\n";

static const char check_usage[] =
	"Usage: teeshm-trace check [--json] [--config FILE]\n"
	"                          [--policy warn|block] [--journal]\n"
	"\n"
	"Verdict on the live table: would a kexec now leave buffers\n"
	"registered with the secure world, or hang (on FF-A, a process\n"
	"holding the TEE device the shutdown path waits for)?  PASS (exit\n"
	"0) when neither, but for what the policy allows; otherwise FAIL\n"
	"(exit 1) under policy block (the default), WARN (exit 0) under warn.\n"
	"\n"
	"  -j, --json            one JSON object (hashed ids)\n"
	"  -c, --config FILE     policy file (default " TEESHM_CONF
	", if present)\n"
	"  -P, --policy POLICY   warn or block, over the file's\n"
	"      --journal         also write the verdict to the journal\n"
	"      --systemd-kexec   run by systemd before its kexec: only\n"
	"                        holders systemd-shutdown spares count\n"
	"  -h, --help            this text\n";

struct report_opts {
	bool check;		/* check, else status */
	bool json, all, journal;
	bool systemd_kexec;	/* in systemd's kexec transaction (the unit) */
	struct tsp_config pol;	/* check */
};

/* The table, counted. */
struct tally {
	int nreg, npriv, norphan;
	int nblock;		/* registered, and not allowed by the policy */
	uint64_t bytes;		/* registered */
	uint64_t lost, full, missed, stale;
	struct teedev_scan dev;	/* the TEE devices' holders */
	int dev_err;		/* -errno: the holders are unknown */
	int nhang;		/* holders a kexec would wait for, not allowed */
	int nreclaim;		/* registered, unregistered by kexec's shutdown */
	const char *verdict;	/* check */
	uint64_t now;		/* boot-clock ns of the reading: ages */
};

static const char *policy_name(const struct tsp_config *pol)
{
	return pol->policy == TSP_WARN ? "warn" : "block";
}

/* The policy: the file (given, or the default if it exists), --policy. */
static int load_policy(struct report_opts *o, const char *conf,
		       bool conf_given, const char *policy)
{
	char err[300];

	tsp_config_init(&o->pol);
	if (o->check && (conf_given || !access(conf, F_OK)) &&
	    tsp_config_load(&o->pol, conf, err, sizeof(err))) {
		fprintf(stderr, "teeshm-trace: %s\n", err);
		return EXIT_USAGE;
	}
	if (!policy)
		return CLI_GO_ON;
	if (!strcmp(policy, "warn"))
		o->pol.policy = TSP_WARN;
	else if (!strcmp(policy, "block"))
		o->pol.policy = TSP_BLOCK;
	else
		return usage_error(check_usage,
				   "--policy: expected warn or block");
	return CLI_GO_ON;
}

/* CLI_GO_ON, or the exit code (--help, a usage or policy error). */
static int parse_opts(struct report_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "config", required_argument, NULL, 'c' },
		{ "policy", required_argument, NULL, 'P' },
		{ "journal", no_argument, NULL, 'J' },
		{ "systemd-kexec", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *usage = o->check ? check_usage : status_usage;
	const char *conf = TEESHM_CONF, *policy = NULL;
	bool conf_given = false;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, o->check ? "jc:P:h" : "jah", opts,
				NULL)) != -1) {
		if (!o->check && (c == 'c' || c == 'P' || c == 'J' || c == 'S'))
			return usage_error(usage, NULL);
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 'c':
			conf = optarg;
			conf_given = true;
			break;
		case 'P':
			policy = optarg;
			break;
		case 'J':
			o->journal = true;
			break;
		case 'S':
			o->systemd_kexec = true;
			break;
		case 'a':
			if (o->check)
				return usage_error(usage, NULL);
			o->all = true;
			break;
		default:
			return usage_help_or_error(c, usage);
		}
	}
	if (optind != argc)
		return usage_error(usage, "unexpected argument");
	return load_policy(o, conf, conf_given, policy);
}

/*
 * A holder a kexec would wait for: not allowed by the policy, and, in
 * systemd's kexec transaction, one that systemd-shutdown will not kill
 * before the kexec (argv[0] '@').
 */
static bool holder_counts(const struct report_opts *o,
			  const struct teedev_holder *h)
{
	return !tsp_allowed(&o->pol, "", h->comm) &&
	       (!o->systemd_kexec || h->spared);
}

static void count(struct tally *n, const struct live_table *t,
		  const struct kenv *env, const struct report_opts *o)
{
	const struct tsp_config *pol = &o->pol;
	int i;

	memset(n, 0, sizeof(*n));
	n->dev_err = teedev_scan(&n->dev, "");
	for (i = 0; i < t->n; i++) {
		const struct live_row *r = &t->rows[i];

		if (r->v.state != TEESHM_LIVE_REGISTERED)
			continue;
		n->nreg++;
		n->norphan += r->v.orphaned;
		n->bytes += r->v.size;
		if (tse_flags_decode(r->v.flags, env->flags_gen) & TSE_F_PRIV)
			n->npriv++;
		/*
		 * Where kexec's shutdown path removes the TEE device (FF-A,
		 * 7.x), it unregisters every buffer still owned: only an
		 * orphan (nothing owns it) is left
		 */
		if (n->dev.unreg_at_kexec && !r->v.orphaned)
			n->nreclaim++;
		else if (!tsp_allowed(pol, r->caller, r->v.comm))
			n->nblock++;
	}
	n->lost = t->counters[TEESHM_CNT_LOST];
	n->full = t->counters[TEESHM_CNT_LIVE_FULL];
	n->stale = t->counters[TEESHM_CNT_STALE];
	n->missed = t->probe_misses;
	if (teedev_kexec_hangs(&n->dev)) {
		for (i = 0; i < n->dev.nholders && i < TEEDEV_MAX_HOLDERS; i++)
			n->nhang += holder_counts(o, &n->dev.h[i]);
		/* holders beyond those kept: nothing says they may stay */
		if (n->dev.nholders > TEEDEV_MAX_HOLDERS)
			n->nhang += n->dev.nholders - TEEDEV_MAX_HOLDERS;
	}
	/*
	 * A buffer the live table had no room for is unknown, and so is one
	 * whose probe the kernel missed: no clean verdict can be given then
	 * (lost ring-buffer events do not matter here: the table is kept in
	 * the kernel).
	 */
	if (n->nblock || n->nhang)
		n->verdict = pol->policy == TSP_WARN ? "WARN" : "FAIL";
	else if (n->full || n->missed ||
		 (n->dev_err && n->dev.unreg_at_kexec))
		n->verdict = "UNKNOWN";
	else
		n->verdict = "PASS";
}

static uint64_t now_boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t age_ns(const struct teeshm_live *l, uint64_t now)
{
	return now > l->ts_ns ? now - l->ts_ns : 0;
}

/* The TEE device at kexec: transport, and who would make the kexec wait. */
static void json_holders(struct jw *w, const struct tally *n)
{
	int i;

	jw_kstr(w, "tee_transport", !n->dev.ndev ? "none" :
				    n->dev.ffa ? "ffa" : "smc");
	jw_kbool(w, "kexec_unregisters_tee", n->dev.unreg_at_kexec);
	jw_kbool(w, "kexec_hangs", teedev_kexec_hangs(&n->dev));
	/* those that count: not allowed, not killed by systemd first */
	jw_ku64(w, "kexec_hang_holders", n->nhang);
	jw_ku64(w, "unregistered_by_kexec", n->nreclaim);
	if (n->dev_err)
		jw_kstr(w, "tee_holders_error", strerror(-n->dev_err));
	jw_key(w, "tee_holders");
	jw_arr_begin(w);
	for (i = 0; i < n->dev.nholders && i < TEEDEV_MAX_HOLDERS; i++) {
		jw_obj_begin(w);
		jw_ku64(w, "pid", n->dev.h[i].pid);
		jw_kstr(w, "comm", n->dev.h[i].comm);
		jw_kstr(w, "holds", n->dev.h[i].what);
		if (n->dev.h[i].spared)
			jw_kbool(w, "spared_by_systemd_shutdown", true);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

/* The JSON object up to its "buffers" array, opened. */
static void json_head(struct jw *w, const struct report_opts *o,
		      const struct tally *n, const struct live_table *t)
{
	jw_init(w, stdout);
	jw_obj_begin(w);
	if (o->check) {
		jw_kstr(w, "verdict", n->verdict);
		jw_kstr(w, "policy", policy_name(&o->pol));
		jw_ku64(w, "allowed", n->nreg - n->nreclaim - n->nblock);
	}
	jw_ku64(w, "registered", n->nreg);
	jw_ku64(w, "registered_bytes", n->bytes);
	jw_ku64(w, "priv_registered", n->npriv);
	jw_ku64(w, "orphaned", n->norphan);
	jw_ku64(w, "tracked", t->n - n->norphan);
	jw_ku64(w, "lost_events", n->lost);
	jw_ku64(w, "untracked_live_full", n->full);
	jw_ku64(w, "probe_misses", n->missed);
	jw_ku64(w, "stale_entries", n->stale);
	json_holders(w, n);
	jw_key(w, "buffers");
	jw_arr_begin(w);
}

static void row_json(struct jw *w, const struct live_row *r, uint32_t flags,
		     const struct id_key *key, uint64_t now)
{
	const struct teeshm_live *l = &r->v;

	jw_obj_begin(w);
	id_key_json(w, "id", key, r->shm);
	id_key_json(w, "cookie_id", key, l->cookie ? l->cookie : r->shm);
	jw_ku64(w, "size", l->size);
	tse_flags_json(w, flags);
	jw_kstr(w, "state", l->state == TEESHM_LIVE_REGISTERED ? "registered" :
							       "allocated");
	if (l->orphaned)
		jw_kbool(w, "orphaned", true);
	/* FF-A's cookie is the share's global handle, the SMC ABI's the shm */
	if (l->state == TEESHM_LIVE_REGISTERED)
		jw_kstr(w, "abi", l->cookie && l->cookie != l->shm ? "ffa" :
								     "smc");
	if (tse_api_name(l->api))
		jw_kstr(w, "allocated_by", tse_api_name(l->api));
	jw_ku64(w, "pid", l->pid);
	jw_kstr(w, "comm", l->comm);
	if (r->caller[0])
		jw_kstr(w, "caller", r->caller);
	jw_ku64(w, "age_ns", age_ns(l, now));
	jw_obj_end(w);
}

/*
 * The first column: the raw address on a terminal (a local display), else
 * the keyed id.  The check unit's output goes to the journal, which may
 * leave the machine (KASLR).
 */
static void row_line(const struct live_row *r, uint32_t flags, uint64_t now,
		     const struct id_key *key, bool raw, bool verbose)
{
	const struct teeshm_live *l = &r->v;
	char fl[160], owner[40], who[20];

	if (raw)
		snprintf(who, sizeof(who), "0x%016" PRIx64, r->shm);
	else
		teeshm_id_hex(who, id_key_hash(key, r->shm));
	snprintf(owner, sizeof(owner), "%u/%.16s", l->pid, l->comm);
	printf("%-18s %8" PRIu64 " %-22s %-10s %-16s %8.1f %s",
	       who, l->size, tse_flags_str(flags, fl, sizeof(fl)),
	       l->orphaned ? "orphaned" :
	       l->state == TEESHM_LIVE_REGISTERED ? "registered" : "allocated",
	       owner, age_ns(l, now) / 1e9, r->caller[0] ? r->caller : "-");
	if (verbose && raw)
		printf(" (ret ip 0x%" PRIx64 ", stack %d)", l->caller_ip,
		       l->stack_id);
	putchar('\n');
}

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/*
 * What would make a kexec now hang: the processes holding a TEE device
 * that the shutdown path unregisters (FF-A on 7.x).
 */
static void print_holders(const struct report_opts *o, const struct tally *n)
{
	const struct teedev_scan *d = &n->dev;
	int i;

	if (d->unreg_at_kexec && n->dev_err)
		printf("%s: who holds the TEE devices cannot be known (/proc: "
		       "%s); on FF-A a holder makes kexec hang\n",
		       o->check && !n->nblock ? "UNKNOWN" : "warning",
		       strerror(-n->dev_err));
	if (!teedev_kexec_hangs(d))
		return;
	if (o->check && !n->nhang)
		printf("PASS: %d process%s hold%s a TEE device that kexec's "
		       "shutdown path waits for, none that counts (allowed by "
		       "policy, or killed by systemd-shutdown first)\n",
		       d->nholders, d->nholders == 1 ? "" : "es",
		       d->nholders == 1 ? "s" : "");
	else
		printf("%s: kexec would hang: %d process%s hold%s a TEE device, "
		       "and kexec's shutdown path (arm-ffa, optee_ffa_remove) "
		       "waits in tee_device_unregister() for every user\n",
		       o->check ? n->verdict : "warning", d->nholders,
		       d->nholders == 1 ? "" : "es",
		       d->nholders == 1 ? "s" : "");
	for (i = 0; i < d->nholders && i < TEEDEV_MAX_HOLDERS; i++)
		printf("  pid %d (%s) holds %s%s\n", d->h[i].pid,
		       d->h[i].comm, d->h[i].what,
		       o->check && !holder_counts(o, &d->h[i]) ?
		       (d->h[i].spared || !o->systemd_kexec ?
			" (allowed by policy)" :
			" (systemd-shutdown kills it before the kexec)") :
		       d->h[i].spared ? " (argv[0] '@': systemd-shutdown "
					"does not kill it)" : "");
}

/* The lines under the table: the verdict (check), or the totals. */
static void print_summary(const struct report_opts *o, const struct tally *n,
			  const struct live_table *t)
{
	if (o->check && !n->nblock && n->full)
		printf("UNKNOWN: %" PRIu64 " buffer%s untracked (live table "
		       "full, see --max-buffers): %d registered buffer%s seen, "
		       "the rest cannot be known\n", n->full, plural(n->full),
		       n->nreg, plural(n->nreg));
	else if (o->check && !n->nblock && n->missed)
		printf("UNKNOWN: the kernel missed %" PRIu64 " probe hit%s "
		       "(events lost): %d registered buffer%s seen, the rest "
		       "cannot be known\n", n->missed, plural(n->missed),
		       n->nreg, plural(n->nreg));
	else if (o->check)
		printf("%s%s%d buffer%s (%" PRIu64 " bytes) registered with the "
		       "secure world%s%s%s%s\n",
		       /* a hang alone: the line below has the verdict */
		       n->nhang && !n->nblock ? "" : n->verdict,
		       n->nhang && !n->nblock ? "" : ": ", n->nreg,
		       plural(n->nreg), n->bytes,
		       n->nreclaim ? ", which kexec's shutdown path unregisters "
				     "(arm-ffa removes optee; not orphans)" : "",
		       n->npriv ? ", driver-private (PRIV) among them" : "",
		       n->norphan ? ", orphaned ones (released while "
				    "registered) among them" : "",
		       n->nreg - n->nreclaim > n->nblock ? " (some allowed by policy)" : "");
	else
		printf("%d registered, %" PRIu64 " bytes; %d tracked\n",
		       n->nreg, n->bytes, t->n - n->norphan);
	print_holders(o, n);
	if (n->norphan && !o->check)
		printf("%d of them orphaned: released by the kernel while "
		       "registered, the secure world holds %s until it "
		       "reboots\n", n->norphan,
		       n->norphan == 1 ? "it" : "them");
	/* (an UNKNOWN verdict has said it already) */
	if ((n->lost || n->full || n->missed) &&
	    !(o->check && !strcmp(n->verdict, "UNKNOWN")))
		printf("warning: %" PRIu64 " events lost, %" PRIu64 " buffers "
		       "untracked (live table full), %" PRIu64 " probe hits "
		       "missed by the kernel: the table may be incomplete\n",
		       n->lost, n->full, n->missed);
}

/* The table (the buffers registered, or all), then the verdict or totals. */
static void print_report(const struct report_opts *o, const struct tally *n,
			 const struct live_table *t, const struct kenv *env,
			 const struct id_key *key, bool verbose)
{
	bool raw = isatty(STDOUT_FILENO);
	struct jw w;
	uint32_t flags;
	int i;

	if (o->json)
		json_head(&w, o, n, t);
	else if (!o->check || n->nreg)
		printf("%-18s %8s %-22s %-10s %-16s %8s %s\n", raw ? "shm" : "id",
		       "size",
		       "flags", "state", "owner", "age_s", "allocation site");
	for (i = 0; i < t->n; i++) {
		const struct live_row *r = &t->rows[i];

		if (r->v.state != TEESHM_LIVE_REGISTERED && !o->all)
			continue;
		flags = tse_flags_decode(r->v.flags, env->flags_gen);
		if (o->json)
			row_json(&w, r, flags, key, n->now);
		else
			row_line(r, flags, n->now, key, raw, verbose);
	}
	if (o->json) {
		jw_arr_end(&w);
		jw_obj_end(&w);
		jw_end_line(&w);
	} else {
		print_summary(o, n, t);
	}
}

/*
 * The check's structured journal entry: verdict, policy, counts, and the
 * allocation sites (symbols, never addresses) of what is registered.
 */
static void check_journal(const struct report_opts *o, const struct tally *n,
			  const struct live_table *t)
{
	const struct tsp_config *pol = &o->pol;
	char msg[320], pr[16], v[32], po[32], r[32], b[48], nb[32], hg[32];
	char sites[2048] = "TEESHM_SITES=", holders[1024] = "TEESHM_HOLDERS=";
	const char *fields[12];
	size_t off = strlen(sites), hoff = strlen(holders);
	int i, err, nf = 10;

	for (i = 0; i < t->n && off < sizeof(sites) - 2; i++) {
		const struct live_row *row = &t->rows[i];

		if (row->v.state != TEESHM_LIVE_REGISTERED)
			continue;
		off += snprintf(sites + off, sizeof(sites) - off, "%s%s %" PRIu64
				" %.16s", off > 13 ? "\n" : "",
				row->caller[0] ? row->caller : "-",
				row->v.size, row->v.comm);
	}
	/*
	 * The processes a kexec would wait for, "pid comm what" a line each:
	 * those that count (not allowed by the policy, not killed first by
	 * systemd-shutdown), as TEESHM_KEXEC_HANG counts them.
	 */
	for (i = 0; n->nhang && i < n->dev.nholders &&
		    i < TEEDEV_MAX_HOLDERS && hoff < sizeof(holders) - 2; i++) {
		if (!holder_counts(o, &n->dev.h[i]))
			continue;
		hoff += snprintf(holders + hoff, sizeof(holders) - hoff,
				 "%s%d %s %s", hoff > 15 ? "\n" : "",
				 n->dev.h[i].pid, n->dev.h[i].comm,
				 n->dev.h[i].what);
	}
	snprintf(msg, sizeof(msg), "MESSAGE=teeshm-trace: pre-kexec check %s: "
		 "%d buffer%s (%" PRIu64 " bytes) registered with the secure "
		 "world, %d not allowed (policy %s)%s", n->verdict, n->nreg,
		 plural(n->nreg), n->bytes, n->nblock, policy_name(pol),
		 n->nhang ? "; kexec would hang: a process holds the TEE "
		 "device" : "");
	snprintf(pr, sizeof(pr), "PRIORITY=%d",
		 !strcmp(n->verdict, "FAIL") ? 3 :
		 !strcmp(n->verdict, "WARN") ? 4 : 6);
	snprintf(v, sizeof(v), "TEESHM_VERDICT=%s", n->verdict);
	snprintf(po, sizeof(po), "TEESHM_POLICY=%s", policy_name(pol));
	snprintf(r, sizeof(r), "TEESHM_REGISTERED=%d", n->nreg);
	snprintf(b, sizeof(b), "TEESHM_REGISTERED_BYTES=%" PRIu64, n->bytes);
	snprintf(nb, sizeof(nb), "TEESHM_NOT_ALLOWED=%d", n->nblock);
	snprintf(hg, sizeof(hg), "TEESHM_KEXEC_HANG=%d", n->nhang);
	fields[0] = msg;
	fields[1] = pr;
	fields[2] = "SYSLOG_IDENTIFIER=teeshm-trace";
	fields[3] = "MESSAGE_ID=" TEESHM_CHECK_MESSAGE_ID;
	fields[4] = v;
	fields[5] = po;
	fields[6] = r;
	fields[7] = b;
	fields[8] = nb;
	fields[9] = hg;
	if (n->nreg)
		fields[nf++] = sites;
	if (n->nhang)
		fields[nf++] = holders;
	err = journal_send(getenv("TEESHM_JOURNAL_SOCKET"), fields, nf);
	if (err)
		fprintf(stderr, "teeshm-trace: journal: %s (verdict not "
			"logged there)\n", strerror(-err));
}

static int exit_code(const struct report_opts *o, const struct tally *n)
{
	if (!o->check)
		return EXIT_CLEAN;
	if (!strcmp(n->verdict, "FAIL") ||
	    (!strcmp(n->verdict, "UNKNOWN") && o->pol.policy == TSP_BLOCK))
		return EXIT_FINDINGS;
	return EXIT_CLEAN;
}

static int live_report(const struct cli *cli, bool check, int argc,
		       char **argv)
{
	struct report_opts o = { .check = check };
	struct id_key key = cli->key;
	struct live_table t;
	struct kenv env;
	struct tally n;
	uint64_t now;
	int ret;

	ret = parse_opts(&o, argc, argv);
	if (ret != CLI_GO_ON)
		return ret;
	if (kenv_init(&env, cli->btf))
		return EXIT_USAGE;
	if (live_table_read(&t)) {
		kenv_fini(&env);
		return EXIT_USAGE;
	}
	id_key_ensure(&key);
	now = now_boot_ns();
	live_table_sites(&t, env.ks, o.all);
	count(&n, &t, &env, &o);
	n.now = now;
	print_report(&o, &n, &t, &env, &key, cli->verbose);
	if (o.check && o.journal)
		check_journal(&o, &n, &t);
	live_table_free(&t);
	kenv_fini(&env);
	return exit_code(&o, &n);
}

int cmd_status(const struct cli *cli, int argc, char **argv)
{
	return live_report(cli, false, argc, argv);
}

int cmd_check(const struct cli *cli, int argc, char **argv)
{
	return live_report(cli, true, argc, argv);
}
