// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * export.c - `teeshm-trace export`: the figures `status` and `replay` show,
 * as aggregate metrics for fleet telemetry: a Prometheus textfile for
 * node_exporter's textfile collector (written atomically), one JSON object
 * per line for log shippers, or GET /metrics over HTTP.
 *
 * Only aggregates leave the machine: counts and bytes per owner class and
 * per finding kind.  No buffer address, cookie or id is exported (KASLR).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "engine.h"
#include "export.h"
#include "json_writer.h"
#include "live.h"
#include "replay.h"
#include "report.h"
#include "teeshm_event.h"

#define BOOT_ID_FILE	"/proc/sys/kernel/random/boot_id"

enum owner { OWN_KERNEL, OWN_USER, OWN__N };

static const char *const owner_names[OWN__N] = { "kernel", "user" };

/* Finding kinds are 1..N_KINDS (enum tse_finding_kind). */
#define N_KINDS TSE_FIND_REGISTERED_AT_KEXEC

struct fig {
	uint64_t buffers, bytes;
};

struct metrics {
	const char *source;		/* "live" or "trace" */
	char release[65];
	char boot_id[40];
	const char *generation;
	struct fig reg[OWN__N];		/* registered now / at end of trace */
	uint64_t tracked;		/* alive: allocated or registered */
	bool have_counters;
	uint64_t registrations, unregistrations, reg_failures, kexecs;
	bool have_kexec;		/* a kexec event, or a pstore report */
	struct fig kexec_left[OWN__N];
	bool have_kind[N_KINDS + 1];
	uint64_t findings[N_KINDS + 1];
	bool have_lost;			/* live only */
	uint64_t lost, untracked, missed;
	uint32_t seen_flags;		/* trace: to tell the generation */
};

/*
 * Owner class: user space (a buffer a client allocated or registered
 * through the TEE device) or kernel (drivers, the TEE core itself).
 */
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
	if (m->seen_flags & TSE_F_DYNAMIC)
		m->generation = gen_name(TEESHM_GEN_NEW);
	else if (m->seen_flags & old_only)
		m->generation = gen_name(TEESHM_GEN_OLD);
	else
		m->generation = gen_name(TEESHM_GEN_UNKNOWN);
}

static int from_trace(struct metrics *m, const char *path)
{
	struct tse_engine *e;
	int ret;

	ret = load_trace(path, &e);
	if (ret)
		return ret;
	from_engine(m, e);
	tse_free(e);
	return 0;
}

struct kexec_ctx {
	struct metrics *m;
	int gen;
};

static void kexec_cb(uint64_t size, uint32_t raw_flags, const char *site,
		     void *arg)
{
	struct kexec_ctx *c = arg;
	enum owner o = owner_of(tse_flags_decode(raw_flags, c->gen),
				TEESHM_API_NONE, site);

	c->m->kexec_left[o].buffers++;
	c->m->kexec_left[o].bytes += size;
	c->m->findings[TSE_FIND_REGISTERED_AT_KEXEC]++;
}

static int from_live(struct metrics *m)
{
	struct live_export x;
	struct kexec_ctx kc = { m, 0 };
	size_t i;
	int ret;

	ret = live_read_export(&x);
	if (ret)
		return ret;
	m->source = "live";
	m->generation = gen_name(x.flags_gen);
	m->tracked = x.n;
	m->have_kind[TSE_FIND_PRIV_REGISTERED] = true;
	m->have_kind[TSE_FIND_FREE_WHILE_REGISTERED] = true;
	for (i = 0; i < x.n; i++) {
		const struct live_export_buf *b = &x.bufs[i];
		enum owner o;

		if (b->orphaned) {
			/* registered, but no longer alive in the kernel */
			m->tracked--;
			m->findings[TSE_FIND_FREE_WHILE_REGISTERED]++;
		}
		if (!b->registered)
			continue;
		o = owner_of(b->flags, b->api, b->caller);
		m->reg[o].buffers++;
		m->reg[o].bytes += b->size;
		if (b->flags & TSE_F_PRIV)
			m->findings[TSE_FIND_PRIV_REGISTERED]++;
	}
	if (x.have_counters) {
		m->have_counters = true;
		m->registrations = x.counters[TEESHM_CNT_REGISTERS];
		m->unregistrations = x.counters[TEESHM_CNT_UNREGISTERS];
		m->reg_failures = x.counters[TEESHM_CNT_REG_FAILED];
		m->kexecs = x.counters[TEESHM_CNT_KEXECS];
		m->have_lost = true;
		m->lost = x.counters[TEESHM_CNT_LOST];
		m->untracked = x.counters[TEESHM_CNT_LIVE_FULL];
		m->missed = x.probe_misses;
	}
	free(x.bufs);
	/* The last kexec: the previous kernel's report in pstore, if any. */
	kc.gen = x.flags_gen;
	ret = last_kexec_pstore(kexec_cb, &kc);
	if (ret > 0) {
		m->have_kexec = true;
		m->have_kind[TSE_FIND_REGISTERED_AT_KEXEC] = true;
	} else if (ret < 0 && verbose) {
		fprintf(stderr, "teeshm-trace: export: pstore: %s (no last-kexec "
			"figures)\n", strerror(-ret));
	}
	return 0;
}

static int collect(struct metrics *m, const char *trace)
{
	memset(m, 0, sizeof(*m));
	identity(m);
	return trace ? from_trace(m, trace) : from_live(m);
}

/* ---------------------------------------------------------- Prometheus */

/* A label value, escaped per the text exposition format. */
static void prom_label(FILE *f, const char *name, const char *v, bool first)
{
	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('"', f);
}

static void prom_head(FILE *f, const char *name, const char *type,
		      const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_owner(FILE *f, const char *name, const char *help,
		       const struct fig *v, bool bytes)
{
	int o;

	prom_head(f, name, "gauge", help);
	for (o = 0; o < OWN__N; o++)
		fprintf(f, "%s{owner=\"%s\"} %" PRIu64 "\n", name,
			owner_names[o], bytes ? v[o].bytes : v[o].buffers);
}

static void prom_one(FILE *f, const char *name, const char *type,
		     const char *help, uint64_t v)
{
	prom_head(f, name, type, help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

static void prom_write(FILE *f, const struct metrics *m)
{
	bool any = false;
	int k;

	prom_head(f, "teeshm_info", "gauge",
		  "Identity of the exporting host and the figures' source "
		  "(always 1).");
	fputs("teeshm_info{", f);
	prom_label(f, "kernel_release", m->release, true);
	prom_label(f, "boot_id", m->boot_id, false);
	prom_label(f, "tee_generation", m->generation, false);
	prom_label(f, "source", m->source, false);
	fputs("} 1\n", f);
	prom_owner(f, "teeshm_registered_buffers",
		   "Buffers registered with the secure world now (trace: at "
		   "its end).", m->reg, false);
	prom_owner(f, "teeshm_registered_bytes",
		   "Bytes registered with the secure world now (trace: at its "
		   "end).", m->reg, true);
	prom_one(f, "teeshm_tracked_buffers", "gauge",
		 "Buffers alive now, registered or not.", m->tracked);
	if (m->have_counters) {
		prom_one(f, "teeshm_registrations_total", "counter",
			 "Successful registrations with the secure world.",
			 m->registrations);
		prom_one(f, "teeshm_unregistrations_total", "counter",
			 "Successful unregistrations from the secure world.",
			 m->unregistrations);
		prom_one(f, "teeshm_registration_failures_total", "counter",
			 "Registrations the secure world refused.",
			 m->reg_failures);
		prom_one(f, "teeshm_kexecs_total", "counter",
			 "Kexecs seen.", m->kexecs);
	}
	if (m->have_kexec) {
		prom_owner(f, "teeshm_last_kexec_registered_buffers",
			   "Buffers left registered with the secure world at "
			   "the last kexec.", m->kexec_left, false);
		prom_owner(f, "teeshm_last_kexec_registered_bytes",
			   "Bytes left registered with the secure world at "
			   "the last kexec.", m->kexec_left, true);
	}
	for (k = 1; k <= N_KINDS; k++) {
		if (!m->have_kind[k])
			continue;
		if (!any)
			prom_head(f, "teeshm_findings", "gauge",
				  "Findings by kind (live: priv_registered "
				  "and free_while_registered now, "
				  "registered_at_kexec at the last kexec).");
		any = true;
		fprintf(f, "teeshm_findings{kind=\"%s\"} %" PRIu64 "\n",
			tse_finding_name(k), m->findings[k]);
	}
	if (m->have_lost) {
		prom_one(f, "teeshm_lost_events_total", "counter",
			 "Events lost (ring buffer full).", m->lost);
		prom_one(f, "teeshm_untracked_buffers_total", "counter",
			 "Buffers not tracked (live table full).",
			 m->untracked);
		prom_one(f, "teeshm_missed_probe_hits_total", "counter",
			 "Probe hits the kernel missed (events lost).",
			 m->missed);
	}
}

/* ------------------------------------------------------------- JSONL */

static void json_owner(struct jw *w, const char *key, const struct fig *v)
{
	int o;

	jw_key(w, key);
	jw_obj_begin(w);
	for (o = 0; o < OWN__N; o++) {
		jw_key(w, owner_names[o]);
		jw_obj_begin(w);
		jw_ku64(w, "buffers", v[o].buffers);
		jw_ku64(w, "bytes", v[o].bytes);
		jw_obj_end(w);
	}
	jw_obj_end(w);
}

static void json_write(FILE *f, const struct metrics *m)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	struct jw w;
	int k;

	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	jw_init(&w, f);
	jw_obj_begin(&w);
	jw_kstr(&w, "time", ts);
	jw_kstr(&w, "source", m->source);
	jw_kstr(&w, "kernel_release", m->release);
	jw_kstr(&w, "boot_id", m->boot_id);
	jw_kstr(&w, "tee_generation", m->generation);
	json_owner(&w, "registered", m->reg);
	jw_ku64(&w, "tracked", m->tracked);
	if (m->have_counters) {
		jw_ku64(&w, "registrations", m->registrations);
		jw_ku64(&w, "unregistrations", m->unregistrations);
		jw_ku64(&w, "registration_failures", m->reg_failures);
		jw_ku64(&w, "kexecs", m->kexecs);
	}
	if (m->have_kexec)
		json_owner(&w, "last_kexec_registered", m->kexec_left);
	jw_key(&w, "findings");
	jw_obj_begin(&w);
	for (k = 1; k <= N_KINDS; k++)
		if (m->have_kind[k])
			jw_ku64(&w, tse_finding_name(k), m->findings[k]);
	jw_obj_end(&w);
	if (m->have_lost) {
		jw_ku64(&w, "lost_events", m->lost);
		jw_ku64(&w, "untracked_buffers", m->untracked);
		jw_ku64(&w, "missed_probe_hits", m->missed);
	}
	jw_obj_end(&w);
	jw_end_line(&w);
}

/* Render into memory: one write per output, so an append stays one line. */
static char *render(const struct metrics *m, bool json, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	if (json)
		json_write(f, m);
	else
		prom_write(f, m);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ------------------------------------------------------------- files */

static int write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/* FILE.tmp.PID in FILE's directory, fsync, rename over FILE. */
static int write_atomic(const char *path, const char *data, size_t len)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, dfd, err;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >=
	    (int)sizeof(tmp)) {
		fprintf(stderr, "teeshm-trace: export: --prom: file name too "
			"long\n");
		return EXIT_USAGE;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "teeshm-trace: export: cannot write %s: %s\n",
			path, strerror(errno));
		return EXIT_USAGE;
	}
	if (write_all(fd, data, len) || fsync(fd)) {
		err = errno;
		close(fd);
		unlink(tmp);
		fprintf(stderr, "teeshm-trace: export: writing %s: %s\n", tmp,
			strerror(err));
		return EXIT_USAGE;
	}
	if (close(fd) || rename(tmp, path)) {
		err = errno;
		unlink(tmp);
		fprintf(stderr, "teeshm-trace: export: cannot write %s: %s\n",
			path, strerror(err));
		return EXIT_USAGE;
	}
	/* The rename itself, durable. */
	snprintf(dir, sizeof(dir), "%s", path);
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

static int write_append(const char *path, const char *data, size_t len)
{
	int fd, err;

	if (!strcmp(path, "-")) {
		if (write_all(STDOUT_FILENO, data, len)) {
			fprintf(stderr, "teeshm-trace: export: standard output: "
				"%s\n", strerror(errno));
			return EXIT_USAGE;
		}
		return 0;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, data, len)) {
		err = errno;
		if (fd >= 0)
			close(fd);
		fprintf(stderr, "teeshm-trace: export: cannot write %s: %s\n",
			path, strerror(err));
		return EXIT_USAGE;
	}
	if (close(fd)) {
		fprintf(stderr, "teeshm-trace: export: cannot write %s: %s\n",
			path, strerror(errno));
		return EXIT_USAGE;
	}
	return 0;
}

static int write_out(const struct metrics *m, const char *path, bool json)
{
	size_t len;
	char *text = render(m, json, &len);
	int ret;

	if (!text) {
		fprintf(stderr, "teeshm-trace: out of memory\n");
		return EXIT_USAGE;
	}
	if (json)
		ret = write_append(path, text, len);
	else if (!strcmp(path, "-"))
		ret = write_append(path, text, len);
	else
		ret = write_atomic(path, text, len);
	free(text);
	return ret;
}

/* -------------------------------------------------------------- HTTP */

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * "ADDR:PORT", "[V6ADDR]:PORT" or ":PORT" (every address).  Numeric
 * addresses only: no resolver (the arm64 binary is static).
 */
static int parse_listen(const char *arg, struct sockaddr_storage *ss,
			socklen_t *len)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	char host[INET6_ADDRSTRLEN + 2], *port, *end;
	unsigned long p;
	size_t n;

	if (snprintf(host, sizeof(host), "%s", arg) >= (int)sizeof(host))
		return -1;
	port = strrchr(host, ':');
	if (!port || !isdigit((unsigned char)port[1]))
		return -1;
	*port++ = '\0';
	errno = 0;
	p = strtoul(port, &end, 10);
	if (errno || *end || p > 65535)
		return -1;
	memset(ss, 0, sizeof(*ss));
	n = strlen(host);
	if (host[0] == '[') {
		if (n < 3 || host[n - 1] != ']')
			return -1;
		host[n - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(p);
		*len = sizeof(*s6);
		return inet_pton(AF_INET6, host + 1, &s6->sin6_addr) == 1 ? 0 : -1;
	}
	s4->sin_family = AF_INET;
	s4->sin_port = htons(p);
	*len = sizeof(*s4);
	if (!n) {
		s4->sin_addr.s_addr = htonl(INADDR_ANY);
		return 0;
	}
	return inet_pton(AF_INET, host, &s4->sin_addr) == 1 ? 0 : -1;
}

static int listen_on(const struct sockaddr_storage *ss, socklen_t len,
		     const char *arg)
{
	char host[INET6_ADDRSTRLEN];
	struct sockaddr_storage got;
	socklen_t gl = sizeof(got);
	int fd, one = 1, err;
	bool v6;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) || listen(fd, 16))
		goto fail;
	if (getsockname(fd, (struct sockaddr *)&got, &gl))
		goto fail;
	v6 = got.ss_family == AF_INET6;
	inet_ntop(got.ss_family, v6 ?
		  (void *)&((struct sockaddr_in6 *)&got)->sin6_addr :
		  (void *)&((struct sockaddr_in *)&got)->sin_addr,
		  host, sizeof(host));
	fprintf(stderr, "teeshm-trace: serving http://%s%s%s:%u/metrics\n",
		v6 ? "[" : "", host, v6 ? "]" : "",
		ntohs(v6 ? ((struct sockaddr_in6 *)&got)->sin6_port :
			   ((struct sockaddr_in *)&got)->sin_port));
	return fd;
fail:
	err = errno;
	if (fd >= 0)
		close(fd);
	fprintf(stderr, "teeshm-trace: export: --listen %s: %s\n", arg,
		strerror(err));
	return -1;
}

static void http_reply(int c, const char *status, const char *type,
		       const char *body, size_t len, bool head)
{
	char hdr[256];
	int n;

	n = snprintf(hdr, sizeof(hdr),
		     "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		     status, type, len);
	if (write_all(c, hdr, n) || head)
		return;
	write_all(c, body, len);
}

static void http_text(int c, const char *status, const char *body, bool head)
{
	http_reply(c, status, "text/plain; charset=utf-8", body, strlen(body),
		   head);
}

static void http_one(int c, const char *trace, const struct metrics *fixed)
{
	char req[4096], method[16], target[1024];
	struct timeval tv = { 5, 0 };
	struct metrics m;
	size_t got = 0, len;
	ssize_t n;
	char *body;
	bool head;

	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (got < sizeof(req) - 1) {
		n = read(c, req + got, sizeof(req) - 1 - got);
		if (n <= 0)
			break;
		got += n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[got] = '\0';
	if (sscanf(req, "%15s %1023s HTTP/", method, target) != 2) {
		http_text(c, "400 Bad Request", "bad request\n", false);
		return;
	}
	head = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !head) {
		http_text(c, "405 Method Not Allowed", "only GET and HEAD\n",
			  false);
		return;
	}
	target[strcspn(target, "?")] = '\0';
	if (strcmp(target, "/metrics")) {
		http_text(c, "404 Not Found", "try /metrics\n", head);
		return;
	}
	if (fixed) {
		m = *fixed;
	} else if (collect(&m, trace)) {
		http_text(c, "503 Service Unavailable", "live source "
			  "unavailable (see the exporter's stderr)\n", head);
		return;
	}
	body = render(&m, false, &len);
	if (!body) {
		http_text(c, "500 Internal Server Error", "out of memory\n",
			  head);
		return;
	}
	http_reply(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8",
		   body, len, head);
	free(body);
}

/* Single-threaded: one connection at a time, until SIGINT/SIGTERM. */
static int serve(int fd, const char *trace, const struct metrics *fixed)
{
	struct sigaction sa = { 0 };
	int c;

	sa.sa_handler = on_stop;	/* no SA_RESTART: accept() returns */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	while (!stop) {
		c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		http_one(c, trace, fixed);
		close(c);
	}
	close(fd);
	return EXIT_CLEAN;
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

int cmd_export(int argc, char **argv)
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
		case 'h':
			fputs(export_usage, stdout);
			return EXIT_CLEAN;
		default:
			return usage_error(export_usage, NULL);
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
	if (listen_arg && parse_listen(listen_arg, &ss, &sl)) {
		snprintf(msg, sizeof(msg), "export: --listen: expected "
			 "numeric ADDR:PORT (e.g. 127.0.0.1:9471, [::1]:9471), got "
			 "'%.200s'", listen_arg);
		return usage_error(export_usage, msg);
	}

	ret = collect(&m, trace);
	if (!ret && prom)
		ret = write_out(&m, prom, false);
	if (!ret && jsonl)
		ret = write_out(&m, jsonl, true);
	if (ret || !listen_arg)
		return ret;
	fd = listen_on(&ss, sl, listen_arg);
	if (fd < 0)
		return EXIT_USAGE;
	/* A trace does not change: computed once.  Live: at every scrape. */
	return serve(fd, trace, trace ? &m : NULL);
}
