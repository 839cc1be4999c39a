// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * trace.c - `trace` and `agent`: attach to whatever of the TEE functions
 * this kernel has, stream the events through the pairing engine until
 * stopped, and say what was found.
 *
 * The flow is open -> configure -> load -> attach -> poll -> close.  The
 * live table is pinned under TEESHM_PIN_DIR meanwhile, for `status` and
 * `check`.  The agent's probes stay attached when it exits (pinned links),
 * and an agent that finds them attached resumes them instead of loading.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "cli.h"
#include "engine.h"
#include "flags.h"
#include "event.h"
#include "jsonl.h"
#include "kenv.h"
#include "loader.h"
#include "pinned.h"
#include "site.h"
#include "teeshm.skel.h"
#include "tracefs.h"
#include "verbs.h"

static const char trace_usage[] =
	"Usage: teeshm-trace trace [--json | --quiet] [-o FILE] [--no-console]\n"
	"                          [--max-buffers N] [--duration SECS]\n"
	"                          [--ring-size BYTES] [--latency MS]\n"
	"\n"
	"Attach to this kernel's TEE shm functions and stream events until\n"
	"SIGINT/SIGTERM (or --duration).  The live table is pinned under\n"
	TEESHM_PIN_DIR " for `status` and `check` while tracing runs.\n"
	"\n"
	"  -j, --json          one JSON object per event (hashed ids)\n"
	"  -q, --quiet         no event lines (the live table, -o and the\n"
	"                      findings at exit are unaffected)\n"
	"  -o, --output FILE   record a JSONL trace for `replay` (a new\n"
	"                      file: never overwritten; raw\n"
	"                      addresses: a local file)\n"
	"      --no-console    do not print the kexec snapshot on the console\n"
	"                      (bpf_trace_printk; needs tp_printk on the\n"
	"                      kernel command line to reach printk)\n"
	"      --max-buffers N live-table capacity (default 16384)\n"
	"      --duration SECS stop after SECS seconds\n"
	"      --ring-size B   event ring buffer bytes (power of two,\n"
	"                      default 1048576)\n"
	"      --latency MS    events reach this reader within MS ms\n"
	"                      (default 100: it is woken once per batch);\n"
	"                      0 wakes it for every event, at a context\n"
	"                      switch per event on the traced CPU\n"
	"  -h, --help          this text\n"
	"\n"
	"Exit: 0 clean, 1 findings seen while tracing, 2 usage or set-up error.\n";

static const char agent_usage[] =
	"Usage: teeshm-trace agent [--json | --quiet] [-o FILE] [--no-console]\n"
	"                          [--max-buffers N] [--ring-size BYTES]\n"
	"                          [--latency MS]\n"
	"       teeshm-trace agent --stop\n"
	"\n"
	"The always-on tracer (for a service started at early boot): like\n"
	"`trace`, but the probes and the live table stay pinned under\n"
	TEESHM_PIN_DIR " when it exits, so that `status`, `check` and\n"
	"`export` never depend on it running, and a restarted agent takes\n"
	"over the attached probes without losing a buffer.  Needs BPF perf\n"
	"links (5.15+) to outlive itself; on older kernels it says so and\n"
	"behaves like `trace`.\n"
	"\n"
	"  -j, --json          one JSON object per event (hashed ids)\n"
	"  -q, --quiet         no event lines (as the systemd unit runs it)\n"
	"  -o, --output FILE   record a JSONL trace\n"
	"      --no-console    no kexec snapshot on the console\n"
	"      --max-buffers N live-table capacity (default 16384)\n"
	"      --ring-size B   event ring buffer bytes (default 1048576)\n"
	"      --latency MS    events reach the agent within MS ms\n"
	"                      (default 100; 0: woken for every event)\n"
	"      --stop          detach the pinned probes, remove the pins and\n"
	"                      the agent's kprobe events\n"
	"  -h, --help          this text\n"
	"\n"
	"Exit: 0 clean, 1 findings seen, 2 usage or set-up error.\n";

struct trace_opts {
	struct loader_opts bpf;	/* max_buffers, ring_size, latency, console */
	bool json;
	bool quiet;		/* --quiet: no event lines */
	const char *out;	/* -o FILE */
	unsigned long duration;	/* seconds, 0: until a signal */
};

struct tracer {
	struct trace_opts o;
	bool verbose;
	struct id_key key;
	struct kenv env;
	struct site_cache sites;
	struct loader loader;
	struct tse_engine *eng;
	FILE *rec;		/* -o FILE */
	/* the maps read: the loader's, or (resumed) an agent's pinned ones */
	struct pinned_maps maps;
	bool resumed;		/* agent: took over pinned probes */
	int nresumed;
	bool pinned;		/* our maps are pinned: unpinned at exit */
	bool keep;		/* agent: probes stay attached at exit */
	struct ring_buffer *rb;
	int epfd, sigfd;
	uint64_t read_until;	/* boot-clock ns: a read stops after it */
	unsigned long nevents, nreads;
};

/* stdio buffers of the recording and of stdout: stdout's lives to exit */
static char rec_buf[1 << 16], out_buf[1 << 16];

/* ------------------------------------------------------------ options */

/* An unsigned number, all of arg; false if not one. */
static bool number(const char *arg, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(arg, &end, 10);
	return !errno && !*end;
}

/* CLI_GO_ON, or the exit code (--help, a usage error). */
static int parse_opts(struct trace_opts *o, const char *usage, int argc,
		      char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' },
		{ "no-console", no_argument, NULL, 'C' },
		{ "max-buffers", required_argument, NULL, 'm' },
		{ "duration", required_argument, NULL, 'd' },
		{ "ring-size", required_argument, NULL, 'R' },
		{ "latency", required_argument, NULL, 'L' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long *ring = &o->bpf.ring_size, *max = &o->bpf.max_buffers;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "jo:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'C':
			o->bpf.console = false;
			break;
		case 'm':
			if (!number(optarg, max) || !*max || *max > (1UL << 24))
				return usage_error(usage,
					"--max-buffers: expected 1..16777216");
			break;
		case 'R':
			if (!number(optarg, ring) || *ring < 4096 ||
			    *ring > (1UL << 30) || (*ring & (*ring - 1)))
				return usage_error(usage,
					"--ring-size: expected a power of two "
					"from 4096 to 1073741824 bytes");
			break;
		case 'L':
			if (!number(optarg, &o->bpf.latency_ms) || !*optarg ||
			    o->bpf.latency_ms > 10000)
				return usage_error(usage,
					"--latency: expected milliseconds "
					"from 0 to 10000");
			break;
		case 'd':
			if (!number(optarg, &o->duration) || !o->duration)
				return usage_error(usage,
					"--duration: expected whole seconds > 0");
			break;
		default:
			return usage_help_or_error(c, usage);
		}
	}
	if (optind != argc)
		return usage_error(usage, "trace: unexpected argument");
	if (o->quiet && o->json)
		return usage_error(usage, "--quiet prints no events: "
				   "--json has nothing to format");
	return CLI_GO_ON;
}

/* What is refused before anything is touched: CLI_GO_ON, or EXIT_USAGE. */
static int preflight(const struct trace_opts *o)
{
	if (o->out && !access(o->out, F_OK)) {
		fprintf(stderr, "teeshm-trace: %s exists (a recording is never "
			"overwritten: remove it or choose another name)\n",
			o->out);
		return EXIT_USAGE;
	}
	if (!kretprobe_maxactive()) {
		fprintf(stderr, "teeshm-trace: TEESHM_MAXACTIVE=%s: expected "
			"a number of return-probe instances, 1 to 4096\n",
			getenv("TEESHM_MAXACTIVE"));
		return EXIT_USAGE;
	}
	return CLI_GO_ON;
}

/* -------------------------------------------------------------- setup */

/* The kernel, the recording, the engine, the id key.  0 or -1. */
static int tracer_init(struct tracer *t, const struct cli *cli,
		       const struct trace_opts *o)
{
	memset(t, 0, sizeof(*t));
	t->o = *o;
	t->verbose = cli->verbose;
	t->key = cli->key;
	t->maps = (struct pinned_maps){ -1, -1, -1 };
	t->epfd = t->sigfd = -1;
	if (kenv_init(&t->env, cli->btf))
		return -1;
	site_cache_init(&t->sites, &t->env);
	if (o->out) {
		/* "x": never overwrite a recording */
		t->rec = fopen(o->out, "wx");
		if (!t->rec) {
			fprintf(stderr, "teeshm-trace: %s: %s%s\n", o->out,
				strerror(errno), errno == EEXIST ?
				" (a recording is never overwritten: remove it "
				"or choose another name)" : "");
			return -1;
		}
		/*
		 * Written out after each batch of events (poll_events).  The
		 * buffer is ours: glibc ignores the size when it allocates one.
		 */
		setvbuf(t->rec, rec_buf, _IOFBF, sizeof(rec_buf));
	}
	t->eng = tse_new();
	if (!t->eng)
		return -1;
	id_key_ensure(&t->key);
	loader_print_libbpf(t->verbose);
	return 0;
}

/* Agent: a previous agent's probes are still attached: take them over. */
static int tracer_resume(struct tracer *t)
{
	if (pinned_open_maps(&t->maps)) {
		fprintf(stderr, "teeshm-trace: agent: %d pinned probes but the "
			"maps under %s are incomplete; run `teeshm-trace agent "
			"--stop` first\n", t->nresumed, TEESHM_PIN_DIR);
		return -1;
	}
	t->resumed = t->keep = true;
	t->sites.stacks_fd = t->maps.stacks;
	if (t->verbose)
		fprintf(stderr, "teeshm-trace: agent: resuming %d pinned probes "
			"and the live table under %s\n", t->nresumed,
			TEESHM_PIN_DIR);
	return 0;
}

/* Attached: pin the maps for the readers (agent: keep the links). */
static void tracer_pin(struct tracer *t)
{
	struct teeshm_bpf *skel = t->loader.skel;
	int err;

	if (t->o.bpf.agent) {
		if (t->loader.link_pin_err)
			fprintf(stderr, "teeshm-trace: agent: this kernel's "
				"kprobe links cannot be pinned (%s; BPF perf "
				"links are 5.15+): the probes end with the "
				"agent\n", strerror(t->loader.link_pin_err));
		else
			t->keep = true;
	}
	err = pinned_pin_maps(skel, t->o.bpf.agent);
	if (err && t->verbose)
		fprintf(stderr, "teeshm-trace: live table not pinned under %s: "
			"%s (status/check will not see it)\n", TEESHM_PIN_DIR,
			strerror(-err));
	t->pinned = !err;
	t->sites.stacks_fd = bpf_map__fd(skel->maps.stacks);
	t->maps.events = bpf_map__fd(skel->maps.events);
	t->maps.counters = bpf_map__fd(skel->maps.counters);
}

/* -------------------------------------------------------------- poll */

#define READ_STOP (-ECANCELED)

static uint64_t now_boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct tracer *t = ctx;
	const struct teeshm_event *e = data;
	struct tse_event o;

	if (len < sizeof(*e))
		return 0;
	t->nevents++;
	event_decode(e, &t->sites, &o);
	if (!t->o.quiet)
		event_print(e, &o, t->o.json, &t->key);
	/* (the engine takes its own snapshot at KEXEC) */
	if (e->type != TEESHM_EV_SNAPSHOT) {
		tse_feed(t->eng, &o);
		if (t->rec)
			tse_jsonl_write(t->rec, &o);
	}
	/*
	 * An event newer than this read: stop here (it is handled).  libbpf
	 * reads on while events keep coming, so on a busy TEE the reader
	 * would never go back to sleep.
	 */
	return e->ts_ns > t->read_until ? READ_STOP : 0;
}

/* SIGINT and SIGTERM as a file: the poll loop sees them, no flag needed. */
static int signals_fd(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	/* blocked to the end: one arriving after the loop changes nothing */
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -1;
	return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

/*
 * Edge-triggered: woken by the probes' wakeups only (once per batch, see
 * --latency), and otherwise every latency_ms.  libbpf's own
 * level-triggered poll would return at once whenever an event has arrived
 * since the last read, so the reader would chase every event on the
 * traced CPU, wakeups or not.
 */
static int poll_init(struct tracer *t)
{
	struct epoll_event ring = { .events = EPOLLIN | EPOLLET,
				    .data.fd = t->maps.events };
	struct epoll_event sig = { .events = EPOLLIN };

	t->rb = ring_buffer__new(t->maps.events, on_event, t, NULL);
	if (!t->rb) {
		fprintf(stderr, "teeshm-trace: ring buffer: %s\n",
			strerror(errno));
		return -1;
	}
	t->sigfd = signals_fd();
	if (t->sigfd < 0) {
		fprintf(stderr, "teeshm-trace: signals: %s\n", strerror(errno));
		return -1;
	}
	if (!t->o.json)
		fprintf(stderr, "teeshm-trace: tracing (%d probes, %s flag "
			"layout); Ctrl-C to stop\n",
			t->resumed ? t->nresumed : t->loader.nlinks,
			tse_flags_gen_name(t->env.flags_gen));
	sig.data.fd = t->sigfd;
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (t->epfd < 0 ||
	    epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->maps.events, &ring) ||
	    epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->sigfd, &sig)) {
		fprintf(stderr, "teeshm-trace: epoll on the ring buffer: %s\n",
			strerror(errno));
		return -1;
	}
	/* one write per batch of events, not per line */
	setvbuf(stdout, out_buf, _IOFBF, sizeof(out_buf));
	return 0;
}

/* Read batch after batch until a signal or --duration; then the rest. */
static void poll_events(struct tracer *t)
{
	unsigned long latency_ms = t->o.bpf.latency_ms;
	time_t deadline = t->o.duration ? time(NULL) + t->o.duration : 0;
	struct epoll_event ev[2];
	bool stop = false;
	int i, n, err;

	while (!stop) {
		site_cache_batch(&t->sites);
		n = epoll_wait(t->epfd, ev, 2, latency_ms ? latency_ms : 200);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "teeshm-trace: ring buffer poll: %s\n",
				strerror(errno));
			break;
		}
		for (i = 0; i < n; i++)
			stop |= ev[i].data.fd == t->sigfd;
		t->read_until = now_boot_ns();
		err = ring_buffer__consume(t->rb);
		if (err > 0 || err == READ_STOP)
			t->nreads++;
		if (err == READ_STOP)
			err = 0;
		fflush(stdout);
		if (t->rec)
			fflush(t->rec);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "teeshm-trace: ring buffer: %s\n",
				strerror(-err));
			break;
		}
		if (deadline && time(NULL) >= deadline)
			break;
	}
	/* the rest, whatever its age */
	t->read_until = UINT64_MAX;
	ring_buffer__consume(t->rb);
	fflush(stdout);
}

/* ------------------------------------------------------------- report */

/* What the counters say was lost or replaced (stderr). */
static void report_losses(const struct tracer *t)
{
	int cfd = t->maps.counters;
	uint64_t lost = pinned_counter(cfd, TEESHM_CNT_LOST);
	uint64_t full = pinned_counter(cfd, TEESHM_CNT_LIVE_FULL);
	uint64_t missed = kprobe_misses();
	uint64_t stale = pinned_counter(cfd, TEESHM_CNT_STALE);
	struct rusage ru;

	if (lost || full || missed || t->verbose)
		fprintf(stderr, "teeshm-trace: %lu events, %" PRIu64
			" lost (ring buffer full), %" PRIu64
			" untracked (live table full), %" PRIu64
			" probe hits missed by the kernel\n", t->nevents,
			lost, full, missed);
	if (stale)
		fprintf(stderr, "teeshm-trace: %" PRIu64 " live-table entries "
			"outlived their buffer (a release not seen) and were "
			"replaced\n", stale);
	if (t->verbose) {
		getrusage(RUSAGE_SELF, &ru);
		fprintf(stderr, "teeshm-trace: read in %lu batches; reader CPU "
			"%ld ms\n", t->nreads,
			(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
			(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000);
	}
}

/* The findings (stderr); the exit code they make. */
static int tracer_report(struct tracer *t)
{
	const struct tse_finding *fd;
	const struct tse_buf *snap;
	size_t nf, nsnap, i, nviol = 0;

	tse_finish(t->eng);
	nf = tse_findings(t->eng, &fd);
	report_losses(t);
	for (i = 0; i < nf; i++) {
		if (fd[i].kind == TSE_FIND_REGISTERED_AT_KEXEC)
			continue;
		nviol++;
		fprintf(stderr, "teeshm-trace: finding %s shm=0x%" PRIx64
			" size=%" PRIu64 "\n", tse_finding_name(fd[i].kind),
			fd[i].buf.shm, fd[i].buf.size);
	}
	if (t->verbose && t->loader.skel)
		loader_costs(&t->loader);
	nsnap = tse_registered_at_last_kexec(t->eng, &snap);
	return nviol || nsnap ? EXIT_FINDINGS : EXIT_CLEAN;
}

/* -------------------------------------------------------------- close */

static void tracer_close(struct tracer *t)
{
	if (t->epfd >= 0)
		close(t->epfd);
	if (t->sigfd >= 0)
		close(t->sigfd);
	ring_buffer__free(t->rb);
	if (t->keep) {
		/* the pins hold the probes and the maps: leave them attached */
		loader_close(&t->loader, true);
		if (!t->o.json)
			fprintf(stderr, "teeshm-trace: agent exits; its probes "
				"stay attached (pinned under %s)\n",
				TEESHM_PIN_DIR);
	} else {
		if (t->pinned)
			pinned_unpin_all();
		loader_close(&t->loader, false);
	}
	if (t->resumed)
		pinned_close_maps(&t->maps);
	if (t->rec)
		fclose(t->rec);
	tse_free(t->eng);
	kenv_fini(&t->env);
}

/* --------------------------------------------------------------- verbs */

static int trace_run(const struct cli *cli, const struct trace_opts *o)
{
	struct tracer t;
	int ret = EXIT_USAGE;

	if (tracer_init(&t, cli, o))
		goto out;
	if (o->bpf.agent && (t.nresumed = pinned_agent_links()) > 0) {
		if (tracer_resume(&t))
			goto out;
	} else {
		/* open (and configure), load, attach */
		if (loader_open(&t.loader, &t.env, &t.key, &o->bpf) ||
		    loader_load(&t.loader, &t.env) ||
		    loader_attach(&t.loader, &t.env))
			goto out;
		tracer_pin(&t);
	}
	if (poll_init(&t))
		goto out;
	poll_events(&t);
	ret = tracer_report(&t);
out:
	tracer_close(&t);
	return ret;
}

static int trace_main(const struct cli *cli, bool agent, int argc,
		      char **argv)
{
	struct trace_opts o = {
		.bpf = { .max_buffers = TEESHM_LIVE_MAX, .latency_ms = 100,
			 .console = true, .agent = agent,
			 .verbose = cli->verbose },
	};
	int ret;

	ret = parse_opts(&o, agent ? agent_usage : trace_usage, argc, argv);
	if (ret == CLI_GO_ON)
		ret = preflight(&o);
	if (ret == CLI_GO_ON)
		ret = trace_run(cli, &o);
	return ret;
}

int cmd_trace(const struct cli *cli, int argc, char **argv)
{
	return trace_main(cli, false, argc, argv);
}

/* agent --stop: detach the pinned probes, remove their events. */
static int agent_stop(void)
{
	int n = pinned_agent_links();

	pinned_unpin_all();
	n += kprobe_events_remove(kprobe_event_agent);
	if (access(TEESHM_PIN_DIR, F_OK) == 0) {
		fprintf(stderr, "teeshm-trace: agent --stop: %s still exists\n",
			TEESHM_PIN_DIR);
		return EXIT_USAGE;
	}
	printf("teeshm-trace: agent stopped (%d pins and events removed)\n",
	       n);
	return EXIT_CLEAN;
}

int cmd_agent(const struct cli *cli, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--stop"))
			continue;
		if (argc != 2)
			return usage_error(agent_usage,
					   "--stop takes no other option");
		return agent_stop();
	}
	return trace_main(cli, true, argc, argv);
}
