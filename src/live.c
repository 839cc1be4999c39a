// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * live.c - the live verbs: trace, status, check, probes.
 *
 * `trace` loads the BPF skeleton, attaches to whatever of the TEE functions
 * this kernel has, pins the in-kernel live table under TEESHM_PIN_DIR (so
 * that `status` and `check` can read it from another process), and streams
 * events through the pairing engine.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/perf_event.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cli.h"
#include "engine.h"
#include "json_writer.h"
#include "jsonl.h"
#include "ksyms.h"
#include "live.h"
#include "journal.h"
#include "policy.h"
#include "replay.h"
#include "teeshm_event.h"
#include "teeshm_hash.h"
#include "teeshm.skel.h"

#define KALLSYMS	"/proc/kallsyms"
#define ID_KEY_FILE	"/run/teeshm-trace/id-key"

static uint64_t id_key[2];
static bool id_key_given;

/* ------------------------------------------------------------ ids */

int live_set_id_key(const char *hex)
{
	char part[17];
	char *end;
	int i;

	if (strlen(hex) != 32)
		return -1;
	for (i = 0; i < 2; i++) {
		memcpy(part, hex + 16 * i, 16);
		part[16] = '\0';
		errno = 0;
		id_key[i] = strtoull(part, &end, 16);
		if (errno || *end)
			return -1;
	}
	id_key_given = true;
	return 0;
}

/*
 * The key: --id-key, else the per-boot key in /run (tmpfs, root only), else
 * a new random one saved there, so ids stay stable within a boot.
 */
static void ensure_id_key(void)
{
	char hex[40];
	FILE *f;

	if (id_key_given)
		return;
	f = fopen(ID_KEY_FILE, "r");
	if (f) {
		if (fgets(hex, sizeof(hex), f)) {
			hex[strcspn(hex, "\n")] = '\0';
			if (!live_set_id_key(hex)) {
				fclose(f);
				return;
			}
		}
		fclose(f);
	}
	if (getrandom(id_key, sizeof(id_key), 0) != sizeof(id_key)) {
		id_key[0] = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL;
		id_key[1] = (uint64_t)getpid() * 0xc2b2ae3d27d4eb4fULL;
	}
	id_key_given = true;
	mkdir("/run/teeshm-trace", 0700);
	f = fopen(ID_KEY_FILE, "wx");
	if (f) {
		fchmod(fileno(f), 0600);
		fprintf(f, "%016" PRIx64 "%016" PRIx64 "\n", id_key[0],
			id_key[1]);
		fclose(f);
	}
}

uint64_t live_id(uint64_t addr)
{
	return teeshm_hash64(id_key[0], id_key[1], addr);
}

static void jw_kid(struct jw *w, const char *k, uint64_t addr)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%016" PRIx64, live_id(addr));
	jw_kstr(w, k, buf);
}

/* ------------------------------------------------------------ probes */

enum probe_role { ROLE_CORE, ROLE_OPTIONAL, ROLE_KEXEC };

static const struct probe_fn {
	const char *fn;
	const char *what;
} probe_fns[] = {
	{ "tee_shm_alloc", "alloc (<= 5.17: ctx, size, flags)" },
	{ "tee_shm_alloc_user_buf", "alloc, user (5.18+)" },
	{ "tee_shm_alloc_kernel_buf", "alloc, kernel" },
	{ "tee_shm_alloc_priv_buf", "alloc, driver-private (5.18+)" },
	{ "tee_shm_register_user_buf", "register user memory (5.18+)" },
	{ "tee_shm_register_kernel_buf", "register kernel memory (5.18+)" },
	{ "tee_shm_register", "register memory (<= 5.17)" },
	{ "optee_shm_register", "secure-world registration (SMC ABI)" },
	{ "optee_shm_unregister", "secure-world unregistration (SMC ABI)" },
	{ "optee_ffa_shm_register", "secure-world registration (FF-A)" },
	{ "optee_ffa_shm_unregister", "secure-world unregistration (FF-A)" },
	{ "tee_shm_release", "release (<= 5.17)" },
	{ "tee_shm_put", "release: last reference" },
	{ "pool_op_free", "release without BTF: pool give-back (optee.ko)" },
	{ "kernel_kexec", "kexec begins" },
	{ "kmsg_dump", "kexec snapshot, before pstore's dmesg dump" },
	{ "machine_kexec", "kexec snapshot (crash path, fallback)" },
	{ "__crash_kexec", "crash kexec (kdump)" },
};

#define N_PROBE_FNS (sizeof(probe_fns) / sizeof(probe_fns[0]))

static const char *prog_fn(const struct bpf_program *p)
{
	const char *sec = bpf_program__section_name(p);
	const char *slash = strchr(sec, '/');

	return slash ? slash + 1 : sec;
}

struct live_env {
	struct ksyms *ks;
	int flags_gen;
	bool release_old;	/* tee_shm_release is a symbol */
	/* where struct tee_shm's layout comes from */
	bool module_btf;	/* /sys/kernel/btf/tee */
	char btf_path[256];	/* external BTF (--btf, or the per-release file) */
};

/* Per-kernel-release external BTF, e.g. cut with `bpftool gen min_core_btf` */
#ifndef TEESHM_BTF_DIR
#define TEESHM_BTF_DIR "/usr/lib/teeshm-trace/btf"
#endif
static const char *opt_btf;	/* --btf FILE */

/*
 * struct tee_shm's layout: tee.ko's own BTF (5.11+), else --btf FILE, else
 * TEESHM_BTF_DIR/RELEASE.btf if present, else none (5.10 without help:
 * pairing from arguments, see the man page).  0, or an exit code.
 */
static int env_btf(struct live_env *env)
{
	struct utsname u;

	env->module_btf = !access("/sys/kernel/btf/tee", R_OK);
	if (opt_btf) {
		if (access(opt_btf, R_OK)) {
			fprintf(stderr, "teeshm-trace: --btf %s: %s\n", opt_btf,
				strerror(errno));
			return EXIT_USAGE;
		}
		snprintf(env->btf_path, sizeof(env->btf_path), "%s", opt_btf);
		return 0;
	}
	if (env->module_btf || uname(&u))
		return 0;
	snprintf(env->btf_path, sizeof(env->btf_path), "%s/%s.btf",
		 TEESHM_BTF_DIR, u.release);
	if (access(env->btf_path, R_OK))
		env->btf_path[0] = '\0';
	return 0;
}

static const char *layout_source(const struct live_env *env)
{
	if (env->btf_path[0])
		return env->btf_path;
	if (env->module_btf)
		return "tee.ko's BTF";
	return "none: size and flags from arguments";
}

void live_set_btf(const char *path)
{
	opt_btf = path;
}

static const char tee_absent[] =
	"teeshm-trace: TEE core not present (tee.ko not loaded?)\n";

/* Load kallsyms and check the TEE core is there.  0, or an exit code. */
static int env_init(struct live_env *env)
{
	memset(env, 0, sizeof(*env));
	env->ks = ksyms_load(KALLSYMS);
	if (!env->ks) {
		fprintf(stderr, "teeshm-trace: cannot read %s: %s\n", KALLSYMS,
			strerror(errno));
		return EXIT_USAGE;
	}
	if (!ksyms_has(env->ks, "tee_shm_put") &&
	    !ksyms_has(env->ks, "tee_shm_free")) {
		fputs(tee_absent, stderr);
		ksyms_free(env->ks);
		env->ks = NULL;
		return EXIT_USAGE;
	}
	/* Generation from the symbols, not from a version string. */
	env->flags_gen = ksyms_has(env->ks, "tee_shm_alloc") ?
			 TEESHM_GEN_OLD : TEESHM_GEN_NEW;
	env->release_old = ksyms_has(env->ks, "tee_shm_release");
	return env_btf(env);
}

static void env_fini(struct live_env *env)
{
	ksyms_free(env->ks);
}

/*
 * Functions of a module that may load after the tracer starts (optee.ko
 * probes, and registers shared memory, from its init).  They are probed
 * through a tracefs "MOD:SYM" kprobe event, which the kernel arms when the
 * module comes, before its init runs.
 */
static const char *fn_module(const char *fn)
{
	if (!strcmp(fn, "pool_op_free"))
		return "optee";
	return strncmp(fn, "optee_", 6) ? NULL : "optee";
}

/* The layout of struct tee_shm is known (module or external BTF). */
static bool shm_btf(const struct live_env *env)
{
	return env->module_btf || env->btf_path[0];
}

static bool module_loaded(const char *mod)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/module/%s", mod);
	return !access(path, F_OK);
}

static bool deferred(const struct live_env *env, const char *fn)
{
	const char *mod = fn_module(fn);

	return mod && !ksyms_has(env->ks, fn) && !module_loaded(mod);
}

static bool want_prog(const struct live_env *env, struct teeshm_bpf *skel,
		      struct bpf_program *p, bool console, bool foreach)
{
	const char *fn = prog_fn(p);

	/* static in optee.ko, and only needed where the layout is unknown */
	if (!strcmp(fn, "pool_op_free") &&
	    (shm_btf(env) || env->flags_gen != TEESHM_GEN_OLD))
		return false;
	if (!ksyms_has(env->ks, fn))
		return deferred(env, fn);
	if (!strcmp(fn, "tee_shm_put"))
		return !env->release_old;
	if (p == skel->progs.kexec_console || p == skel->progs.kmsg_console)
		return foreach && console;
	if (p == skel->progs.kexec_quiet || p == skel->progs.kmsg_quiet)
		return foreach && !console;
	if (p == skel->progs.kexec_console_slots ||
	    p == skel->progs.kmsg_console_slots)
		return !foreach && console;
	if (p == skel->progs.kexec_quiet_slots ||
	    p == skel->progs.kmsg_quiet_slots)
		return !foreach && !console;
	if (p == skel->progs.kexec_basic || p == skel->progs.kmsg_basic)
		return false;
	return true;
}

/* ------------------------------------------------------------ output */

static const char *ev_name(int type)
{
	switch (type) {
	case TEESHM_EV_ALLOC:
		return "alloc";
	case TEESHM_EV_REGISTER:
		return "register";
	case TEESHM_EV_UNREGISTER:
		return "unregister";
	case TEESHM_EV_FREE:
		return "free";
	case TEESHM_EV_KEXEC:
		return "kexec";
	case TEESHM_EV_SNAPSHOT:
		return "kexec-registered";
	}
	return "?";
}

/* Frames of the TEE core itself are not the allocation site. */
static bool tee_internal(const char *name)
{
	static const char *const prefixes[] = {
		"tee_shm_", "shm_alloc_helper", "register_shm_helper",
		"optee_pool_op", "pool_op_", "optee_shm_", "optee_ffa_shm_",
		"__tee_shm", "tee_dyn_shm",
	};
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static void stack_caller(int stacks_fd, const struct ksyms *ks, int stack_id,
			 uint64_t caller_ip, char *buf, size_t len)
{
	uint64_t ips[TEESHM_MAX_STACK] = {};
	uint32_t key = stack_id;
	const char *name;
	int i;

	buf[0] = '\0';
	if (caller_ip && ks) {
		name = ksyms_name(ks, caller_ip);
		if (name && !tee_internal(name)) {
			ksyms_fmt(ks, caller_ip, buf, len);
			return;
		}
	}
	if (stack_id < 0 || stacks_fd < 0 || !ks ||
	    bpf_map_lookup_elem(stacks_fd, &key, ips))
		return;
	for (i = 0; i < TEESHM_MAX_STACK && ips[i]; i++) {
		name = ksyms_name(ks, ips[i]);
		if (name && tee_internal(name))
			continue;
		ksyms_fmt(ks, ips[i], buf, len);
		return;
	}
}

/*
 * Allocation sites repeat (a handful of call paths): each is symbolised
 * once, and found again by its caller address and stack id.  Stack ids are
 * stable (the stack map never reuses one); a kallsyms reload (a module came
 * or went) starts a new generation.
 */
#define SITE_CACHE 64

struct site {
	uint64_t ip;
	int32_t stack_id;
	uint32_t gen;
	char caller[TSE_CALLER_LEN];
};

struct tracer {
	unsigned long modules_sum;	/* of /proc/modules, at the ksyms load */
	uint32_t ks_gen;		/* generation of env.ks */
	bool ks_checked;		/* modules looked at in this batch */
	struct site sites[SITE_CACHE];
	struct teeshm_bpf *skel;
	struct live_env env;
	struct tse_engine *eng;
	FILE *rec;		/* -o FILE */
	bool json;
	bool quiet;		/* --quiet: no event lines */
	uint64_t read_until;	/* boot-clock ns: this read stops after it */
	int stacks_fd;
	unsigned long nevents;
};

/*
 * A cheap fingerprint of the loaded modules: each one's name and load
 * address, the first and last fields of /proc/modules.  Not the whole
 * line: a module's use count moves whenever /dev/tee0 is opened or closed,
 * and kallsyms would be read again for nothing.
 */
static unsigned long modules_sum(void)
{
	unsigned long h = 5381;
	FILE *f = fopen("/proc/modules", "r");
	char line[512], *sp, *last;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		sp = strchr(line, ' ');
		last = strrchr(line, ' ');
		for (char *p = line; *p && p != sp; p++)
			h = h * 33 + (unsigned char)*p;
		for (char *p = last ? last : line; *p; p++)
			h = h * 33 + (unsigned char)*p;
	}
	fclose(f);
	return h;
}

/* Symbols of a module loaded after the tracer started: reload kallsyms. */
static void ksyms_refresh(struct tracer *t)
{
	unsigned long sum = modules_sum();
	struct ksyms *ks;

	if (sum == t->modules_sum)
		return;
	ks = ksyms_load(KALLSYMS);
	if (!ks)
		return;
	ksyms_free(t->env.ks);
	t->env.ks = ks;
	t->modules_sum = sum;
	t->ks_gen++;
}

/* The caller of an allocation, from the cache or symbolised once. */
static void site_caller(struct tracer *t, const struct teeshm_event *e,
			char *buf, size_t len)
{
	struct site *c;
	uint64_t h = e->caller_ip ^ ((uint64_t)(uint32_t)e->stack_id << 32);

	h ^= h >> 29;
	h *= 0x9e3779b97f4a7c15ull;
	c = &t->sites[h >> 58];		/* 64 entries */
	if (c->gen == t->ks_gen && c->ip == e->caller_ip &&
	    c->stack_id == e->stack_id) {
		snprintf(buf, len, "%s", c->caller);
		return;
	}
	/* a new site: a module loaded since may hold it (once per batch) */
	if (!t->ks_checked) {
		t->ks_checked = true;
		ksyms_refresh(t);
	}
	stack_caller(t->stacks_fd, t->env.ks, e->stack_id, e->caller_ip,
		     buf, len);
	c->ip = e->caller_ip;
	c->stack_id = e->stack_id;
	c->gen = t->ks_gen;
	snprintf(c->caller, sizeof(c->caller), "%s", buf);
}

static void to_tse(struct tracer *t, const struct teeshm_event *e,
		   struct tse_event *o)
{
	memset(o, 0, sizeof(*o));
	o->ts_ns = e->ts_ns;
	/* (a snapshot is never fed: the engine takes its own at a kexec) */
	o->type = e->type;
	o->shm = e->shm;
	o->ret = e->ret;
	o->pid = e->pid;
	o->kind = e->kind == TEESHM_KEXEC_CRASH ? TEESHM_KEXEC_CRASH :
						  TEESHM_KEXEC_NORMAL;
	memcpy(o->comm, e->comm, sizeof(o->comm));
	o->comm[sizeof(o->comm) - 1] = '\0';
	if (e->flags_known) {
		o->has_size = o->has_flags = true;
		o->size = e->size;
		o->flags = tse_flags_decode(e->flags, e->flags_gen);
	}
	if (e->ctx) {
		o->has_ctx = true;
		o->ctx = e->ctx;
	}
	if (e->type == TEESHM_EV_REGISTER || e->type == TEESHM_EV_UNREGISTER) {
		o->has_cookie = true;
		o->cookie = e->cookie;
	}
	if (e->type == TEESHM_EV_ALLOC)
		site_caller(t, e, o->caller, sizeof(o->caller));
}

static void print_event(const struct tracer *t, const struct teeshm_event *e,
			const struct tse_event *o)
{
	char fl[160];
	struct jw w;

	if (t->json) {
		jw_init(&w, stdout);
		jw_obj_begin(&w);
		jw_ku64(&w, "ts_ns", e->ts_ns);
		jw_kstr(&w, "event", ev_name(e->type));
		if (e->type != TEESHM_EV_KEXEC)
			jw_kid(&w, "id", e->shm);
		if (o->has_flags) {
			jw_ku64(&w, "size", o->size);
			tse_flags_json(&w, o->flags);
		}
		if (e->type == TEESHM_EV_REGISTER ||
		    e->type == TEESHM_EV_UNREGISTER) {
			jw_kid(&w, "cookie_id", e->cookie);
			jw_ks64(&w, "ret", e->ret);
		}
		jw_ks64(&w, "pid", e->pid);
		jw_kstr(&w, "comm", o->comm);
		if (o->caller[0])
			jw_kstr(&w, "caller", o->caller);
		if (e->type == TEESHM_EV_KEXEC)
			jw_kstr(&w, "kind", e->kind ? "crash" : "kexec");
		jw_obj_end(&w);
		jw_end_line(&w);
		return;
	}
	printf("%6" PRIu64 ".%06" PRIu64 " %-16s", e->ts_ns / 1000000000,
	       (e->ts_ns / 1000) % 1000000, ev_name(e->type));
	if (e->type == TEESHM_EV_KEXEC) {
		printf(" kind=%s\n", e->kind ? "crash" : "kexec");
		return;
	}
	printf(" shm=0x%" PRIx64, e->shm);
	if (o->has_flags)
		printf(" size=%" PRIu64 " flags=%s", o->size,
		       tse_flags_str(o->flags, fl, sizeof(fl)));
	if (e->type == TEESHM_EV_REGISTER || e->type == TEESHM_EV_UNREGISTER)
		printf(" ret=%d", e->ret);
	printf(" pid=%u comm=%s", e->pid, o->comm);
	if (o->caller[0])
		printf(" caller=%s", o->caller);
	putchar('\n');
}

#define READ_STOP (-ECANCELED)

static uint64_t now_boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int handle_event(void *ctx, void *data, size_t len)
{
	struct tracer *t = ctx;
	const struct teeshm_event *e = data;
	struct tse_event o;

	if (len < sizeof(*e))
		return 0;
	t->nevents++;
	to_tse(t, e, &o);
	if (!t->quiet)
		print_event(t, e, &o);
	if (e->type != TEESHM_EV_SNAPSHOT) {
		/* (the engine takes its own snapshot at KEXEC) */
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

/*
 * What each probe cost while tracing: the kernel counts runs and run time
 * per program while kernel.bpf_stats_enabled is 1.
 */
static void probe_costs(struct teeshm_bpf *skel)
{
	struct bpf_program *p;
	unsigned long shown = 0;

	bpf_object__for_each_program(p, skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(p);

		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) ||
		    !info.run_cnt)
			continue;
		fprintf(stderr, "teeshm-trace: probe %s: %llu runs, %llu ns "
			"each\n", bpf_program__name(p),
			(unsigned long long)info.run_cnt,
			(unsigned long long)(info.run_time_ns / info.run_cnt));
		shown++;
	}
	if (!shown)
		fprintf(stderr, "teeshm-trace: per-probe runs and cost: "
			"sysctl kernel.bpf_stats_enabled=1 while tracing\n");
}

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	if (level == LIBBPF_DEBUG || (!verbose && level == LIBBPF_INFO))
		return 0;
	if (!verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static uint64_t counter(int fd, uint32_t idx)
{
	uint64_t v = 0;

	bpf_map_lookup_elem(fd, &idx, &v);
	return v;
}

#define MAX_LINKS 64

/* ------------------------------------------- deferred (tracefs) kprobes */

static const char *tracefs(void)
{
	if (!access("/sys/kernel/tracing/kprobe_events", W_OK))
		return "/sys/kernel/tracing";
	return "/sys/kernel/debug/tracing";
}

static int kprobe_events_write(const char *line)
{
	char path[128];
	int fd, n, err = 0;

	snprintf(path, sizeof(path), "%s/kprobe_events", tracefs());
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, line, strlen(line));
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

/* Remove events left by a tracer that was killed. */
/*
 * Remove the teeshm/ kprobe events whose name pick() chooses; returns how
 * many were removed.
 */
static int kprobe_events_remove(bool (*pick)(const char *name))
{
	char path[128], line[512], del[300];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/kprobe_events", tracefs());
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *ev = strstr(line, "teeshm/teeshm_");
		char *sp;

		if (!ev)
			continue;
		sp = strchr(ev, ' ');
		if (sp)
			*sp = '\0';
		if (!pick(ev + strlen("teeshm/")))
			continue;
		snprintf(del, sizeof(del), "-:%s\n", ev);
		if (!kprobe_events_write(del))
			n++;
	}
	fclose(f);
	return n;
}

/* teeshm_<pid>_fn of a tracer that is gone */
static bool stale_event(const char *name)
{
	char path[32];
	int pid;

	if (sscanf(name, "teeshm_%d_", &pid) != 1)
		return false;
	snprintf(path, sizeof(path), "/proc/%d", pid);
	return access(path, F_OK) != 0;
}

/* The agent's tracefs kprobe events (removed once its links are gone). */
static bool agent_event(const char *name)
{
	return !strncmp(name, "teeshm_agent_", 13);
}

static void kprobe_events_cleanup_stale(void)
{
	kprobe_events_remove(stale_event);
}

#ifndef TEESHM_CONF
#define TEESHM_CONF "/etc/teeshm-trace.conf"
#endif
/* journal MESSAGE_ID of the pre-kexec check's verdict */
#define TEESHM_CHECK_MESSAGE_ID "5f0c6e2a1b8d4e9c9a3f7d21c4e8b6a0"

/* `agent`: maps and links stay pinned when it exits (see cmd_agent). */
static bool agent_mode;
#define TEESHM_LINK_DIR TEESHM_PIN_DIR "/links"

static char deferred_events[MAX_LINKS][96];
static int ndeferred;

/*
 * Return probes in flight at once, per probed function.  The kernel's
 * default is the number of possible CPUs (without CONFIG_PREEMPTION), so a
 * return probe is missed whenever the function nests (5.10: tee_shm_release
 * of the message buffer inside the release of a registered shm) or more
 * tasks than CPUs sleep in it; a missed return loses a FREE or an ALLOC.
 * Only tracefs kprobe events take a maxactive ("r<N>:").
 */
#define KRETPROBE_MAXACTIVE 256

/*
 * TEESHM_MAXACTIVE=N overrides it (tests make it miss on purpose): 1 to
 * 4096 (the kernel's limit), else 0 (the caller refuses it).
 */
static int kretprobe_maxactive(void)
{
	const char *v = getenv("TEESHM_MAXACTIVE");
	char *end;
	long n;

	if (!v)
		return KRETPROBE_MAXACTIVE;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < 1 || n > 4096)
		return 0;
	return n;
}

/*
 * Probe hits the kernel missed on the live tracer's or the agent's kprobe
 * events (kprobe_profile: return probes without a free instance, and
 * probes hit inside another probe): each is an event lost.
 */
static uint64_t probe_misses(void)
{
	char path[128], line[512], name[256];
	unsigned long long hits, miss;
	uint64_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/kprobe_profile", tracefs());
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %255s %llu %llu", name, &hits, &miss) != 3)
			continue;
		if (strncmp(name, "teeshm_", 7) || stale_event(name))
			continue;
		n += miss;
	}
	fclose(f);
	return n;
}

/*
 * Attach p to fn through a tracefs kprobe event: a function of a module
 * not loaded yet (armed when it loads: "mod:fn"), and every return probe
 * (for its maxactive).  The event is removed at exit (the agent's stay).
 */
static struct bpf_link *attach_tracefs(struct bpf_program *p, const char *fn,
				       bool later)
{
	bool ret = !strncmp(bpf_program__section_name(p), "kretprobe/", 10);
	struct perf_event_attr attr = { 0 };
	char name[96], line[256], path[256], idbuf[32], kind[16];
	struct bpf_link *l;
	int fd, pfd, err;
	ssize_t n;

	if (ndeferred >= MAX_LINKS) {
		errno = ENOSPC;
		return NULL;
	}
	/* the agent's events outlive it (pinned links use them) */
	if (agent_mode)
		snprintf(name, sizeof(name), "teeshm_agent_%s%s", fn,
			 ret ? "_r" : "");
	else
		snprintf(name, sizeof(name), "teeshm_%d_%s%s", getpid(), fn,
			 ret ? "_r" : "");
	if (ret)
		snprintf(kind, sizeof(kind), "r%d", kretprobe_maxactive());
	else
		snprintf(kind, sizeof(kind), "p");
	snprintf(line, sizeof(line), "%s:teeshm/%s %s%s%s\n", kind, name,
		 later ? fn_module(fn) : "", later ? ":" : "", fn);
	err = kprobe_events_write(line);
	if (err) {
		errno = -err;
		return NULL;
	}
	snprintf(deferred_events[ndeferred++], sizeof(deferred_events[0]),
		 "%s", name);
	snprintf(path, sizeof(path), "%s/events/teeshm/%s/id", tracefs(), name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, idbuf, sizeof(idbuf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	idbuf[n] = '\0';
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_TRACEPOINT;
	attr.config = strtoull(idbuf, NULL, 10);
	attr.sample_period = 1;
	attr.wakeup_events = 1;
	pfd = syscall(__NR_perf_event_open, &attr, -1, 0, -1,
		      PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return NULL;
	l = bpf_program__attach_perf_event(p, pfd);
	if (!l)
		close(pfd);
	return l;
}

/*
 * A return probe: through tracefs for its instances; without tracefs, as a
 * perf kprobe with the kernel's default (said once: its misses are not
 * counted anywhere).
 */
static struct bpf_link *attach_ret(struct bpf_program *p)
{
	static bool warned;
	struct bpf_link *l = attach_tracefs(p, prog_fn(p), false);

	if (l)
		return l;
	if (!warned) {
		fprintf(stderr, "teeshm-trace: return probes attached without "
			"tracefs kprobe events (%s): the kernel's default "
			"instances, and their misses are not counted\n",
			strerror(errno));
		warned = true;
	}
	return bpf_program__attach(p);
}

static void deferred_cleanup(void)
{
	char line[128];

	while (ndeferred) {
		snprintf(line, sizeof(line), "-:teeshm/%s\n",
			 deferred_events[--ndeferred]);
		kprobe_events_write(line);
	}
}

static const char *pin_names[] = { "live", "counters", "stacks", "events" };

/* Number of pinned agent links (0 if none). */
static int agent_links(void)
{
	struct dirent *d;
	DIR *dir = opendir(TEESHM_LINK_DIR);
	int n = 0;

	if (!dir)
		return 0;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

static void unpin_maps(void)
{
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(pin_names) / sizeof(pin_names[0]); i++) {
		snprintf(path, sizeof(path), TEESHM_PIN_DIR "/%s",
			 pin_names[i]);
		unlink(path);
	}
}

static void unpin_all(void)
{
	char path[300];
	struct dirent *d;
	DIR *dir;

	dir = opendir(TEESHM_LINK_DIR);
	while (dir && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), TEESHM_LINK_DIR "/%s", d->d_name);
		unlink(path);
	}
	if (dir)
		closedir(dir);
	rmdir(TEESHM_LINK_DIR);
	unpin_maps();
	rmdir(TEESHM_PIN_DIR);
}

static int pin_all(struct teeshm_bpf *skel)
{
	struct bpf_map *maps[] = { skel->maps.live, skel->maps.counters,
				   skel->maps.stacks, skel->maps.events };
	char path[128];
	size_t i;

	if (!agent_mode && agent_links())	/* an agent's: not ours */
		return -EBUSY;
	unpin_maps();	/* stale pins of a tracer that was killed */
	if (mkdir(TEESHM_PIN_DIR, 0700) && errno != EEXIST)
		return -errno;
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		snprintf(path, sizeof(path), TEESHM_PIN_DIR "/%s",
			 pin_names[i]);
		if (bpf_map__pin(maps[i], path))
			return -errno;
	}
	return 0;
}

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

/* stdio buffers of the recording and of the event lines (see cmd_trace) */
static char rec_buf[1 << 16], out_buf[1 << 16];

int cmd_trace(int argc, char **argv)
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
	struct tracer t = { .stacks_fd = -1, .ks_gen = 1 };
	int epfd = -1;
	unsigned long nreads = 0;	/* batches read */
	unsigned long latency_ms = 100;
	struct bpf_link *links[MAX_LINKS];
	struct ring_buffer *rb = NULL;
	bool pinned = false;
	int pinned_err = 0, nlinks = 0;
	/* agent: links pinned (they outlive us), or resumed from pins */
	bool keep = false, resumed = false;
	int link_pin_err = 0, nresumed = 0;
	int events_fd = -1, counters_fd = -1;
	const char *usage_text = agent_mode ? agent_usage : trace_usage;
	struct bpf_program *p;
	const char *out = NULL;
	bool console = true, foreach;
	unsigned long maxbuf = TEESHM_LIVE_MAX, duration = 0, ring = 0;
	time_t deadline = 0;
	char *end;
	int c, err, ret = EXIT_USAGE, pass;

	optind = 0;
	while ((c = getopt_long(argc, argv, "jo:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			t.json = true;
			break;
		case 'q':
			t.quiet = true;
			break;
		case 'o':
			out = optarg;
			break;
		case 'C':
			console = false;
			break;
		case 'm':
			errno = 0;
			maxbuf = strtoul(optarg, &end, 10);
			if (errno || *end || !maxbuf || maxbuf > (1UL << 24))
				return usage_error(usage_text,
					"--max-buffers: expected 1..16777216");
			break;
		case 'R':
			errno = 0;
			ring = strtoul(optarg, &end, 10);
			if (errno || *end || ring < 4096 || ring > (1UL << 30) ||
			    (ring & (ring - 1)))
				return usage_error(usage_text,
					"--ring-size: expected a power of two "
					"from 4096 to 1073741824 bytes");
			break;
		case 'L':
			errno = 0;
			latency_ms = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || latency_ms > 10000)
				return usage_error(usage_text,
					"--latency: expected milliseconds "
					"from 0 to 10000");
			break;
		case 'd':
			errno = 0;
			duration = strtoul(optarg, &end, 10);
			if (errno || *end || !duration)
				return usage_error(usage_text,
					"--duration: expected whole seconds > 0");
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_CLEAN;
		default:
			return usage_error(usage_text, NULL);
		}
	}
	if (optind != argc)
		return usage_error(usage_text, "trace: unexpected argument");
	if (t.quiet && t.json)
		return usage_error(usage_text, "--quiet prints no events: "
				   "--json has nothing to format");

	if (out && !access(out, F_OK)) {
		fprintf(stderr, "teeshm-trace: %s exists (a recording is never "
			"overwritten: remove it or choose another name)\n", out);
		return EXIT_USAGE;
	}
	if (!kretprobe_maxactive()) {
		fprintf(stderr, "teeshm-trace: TEESHM_MAXACTIVE=%s: expected "
			"a number of return-probe instances, 1 to 4096\n",
			getenv("TEESHM_MAXACTIVE"));
		return EXIT_USAGE;
	}
	err = env_init(&t.env);
	if (err)
		return err;
	t.modules_sum = modules_sum();
	if (out) {
		/* "x": never overwrite a recording */
		t.rec = fopen(out, "wx");
		if (!t.rec) {
			fprintf(stderr, "teeshm-trace: %s: %s%s\n", out,
				strerror(errno), errno == EEXIST ?
				" (a recording is never overwritten: remove it "
				"or choose another name)" : "");
			goto out;
		}
		/*
		 * Written out after each batch of events (below).  The buffer
		 * is ours: glibc ignores the size when it allocates one.
		 */
		setvbuf(t.rec, rec_buf, _IOFBF, sizeof(rec_buf));
	}
	t.eng = tse_new();
	if (!t.eng)
		goto out;
	ensure_id_key();
	libbpf_set_print(libbpf_print);
	if (agent_mode && (nresumed = agent_links()) > 0) {
		/* a previous agent's probes are still attached: take over */
		char path[128];

		snprintf(path, sizeof(path), TEESHM_PIN_DIR "/events");
		events_fd = bpf_obj_get(path);
		snprintf(path, sizeof(path), TEESHM_PIN_DIR "/counters");
		counters_fd = bpf_obj_get(path);
		snprintf(path, sizeof(path), TEESHM_PIN_DIR "/stacks");
		t.stacks_fd = bpf_obj_get(path);
		if (events_fd < 0 || counters_fd < 0 || t.stacks_fd < 0) {
			fprintf(stderr, "teeshm-trace: agent: %d pinned probes "
				"but the maps under %s are incomplete; run "
				"`teeshm-trace agent --stop` first\n", nresumed,
				TEESHM_PIN_DIR);
			goto out;
		}
		resumed = keep = true;
		if (verbose)
			fprintf(stderr, "teeshm-trace: agent: resuming %d "
				"pinned probes and the live table under %s\n",
				nresumed, TEESHM_PIN_DIR);
		goto run;
	}

	{
		LIBBPF_OPTS(bpf_object_open_opts, oo,
			    .btf_custom_path = t.env.btf_path[0] ?
					       t.env.btf_path : NULL);

		t.skel = teeshm_bpf__open_opts(&oo);
	}
	if (!t.skel) {
		fprintf(stderr, "teeshm-trace: cannot open the BPF object: %s\n",
			strerror(errno));
		goto out;
	}
	t.skel->rodata->flags_gen = t.env.flags_gen;
	t.skel->rodata->id_key0 = id_key[0];
	t.skel->rodata->id_key1 = id_key[1];
	bpf_map__set_max_entries(t.skel->maps.live, maxbuf);
	if (ring)
		bpf_map__set_max_entries(t.skel->maps.events, ring);
	/* wake the reader per batch: at latency_ms, or a quarter ring */
	t.skel->rodata->wake_ns = latency_ms * 1000000ULL;
	t.skel->rodata->wake_bytes =
		bpf_map__max_entries(t.skel->maps.events) / 4;
	foreach = libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE,
					  BPF_FUNC_for_each_map_elem, NULL) > 0;
	t.skel->rodata->use_slots = !foreach;
	t.skel->rodata->page_shift = __builtin_ctzl(sysconf(_SC_PAGESIZE));
	bpf_object__for_each_program(p, t.skel->obj)
		bpf_program__set_autoload(p, want_prog(&t.env, t.skel, p,
						       console, foreach));

	err = teeshm_bpf__load(t.skel);
	if (err) {
		if (errno == EPERM || err == -EPERM)
			fprintf(stderr, "teeshm-trace: loading BPF needs "
				"CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)\n");
		else
			fprintf(stderr, "teeshm-trace: loading the BPF programs "
				"failed: %s (run with --verbose for the "
				"verifier log)\n", strerror(-err));
		goto out;
	}
	if (!foreach) {
		/* all snapshot slots start free */
		int qfd = bpf_map__fd(t.skel->maps.free_slots);
		uint32_t i;

		for (i = 0; i < TEESHM_SNAP_SLOTS; i++)
			bpf_map_update_elem(qfd, NULL, &i, BPF_ANY);
	}
	if (verbose)
		fprintf(stderr, "teeshm-trace: struct tee_shm layout: %s; "
			"kexec snapshot: %s\n", layout_source(&t.env),
			foreach ? "bpf_for_each_map_elem" :
			"slot array (no bpf_for_each_map_elem)");
	kprobe_events_cleanup_stale();
	/*
	 * An agent's events with no pinned link left: the agent is gone (on
	 * 5.10, where links cannot be pinned, one killed with -9 leaves them,
	 * and its next start could not define them again).  Events in use,
	 * an agent still running there, are not removed: the kernel refuses.
	 */
	if (!agent_links())
		kprobe_events_remove(agent_event);
	/*
	 * kretprobes first: a kprobe added later on the same function runs
	 * before the kretprobe's entry handler rewrites the return address,
	 * so the entry programs see the real caller.
	 */
	for (pass = 0; pass < 2; pass++) {
		bpf_object__for_each_program(p, t.skel->obj) {
			bool ret = !strncmp(bpf_program__section_name(p),
					    "kretprobe/", 10);
			struct bpf_link *l;

			if (!bpf_program__autoload(p) || ret != !pass)
				continue;
			if (deferred(&t.env, prog_fn(p)))
				l = attach_tracefs(p, prog_fn(p), true);
			else if (ret)
				l = attach_ret(p);
			else if (!strcmp(prog_fn(p), "pool_op_free"))
				/* a static name: the one in optee.ko */
				l = bpf_program__attach_kprobe(p, false,
						"optee:pool_op_free");
			else
				l = bpf_program__attach(p);
			if (!l) {
				fprintf(stderr, "teeshm-trace: probe %s (%s) did "
					"not attach: %s\n", prog_fn(p),
					bpf_program__name(p), strerror(errno));
				continue;
			}
			if (agent_mode && !link_pin_err) {
				char lp[160];

				mkdir(TEESHM_PIN_DIR, 0700);
				mkdir(TEESHM_LINK_DIR, 0700);
				snprintf(lp, sizeof(lp), TEESHM_LINK_DIR "/%s",
					 bpf_program__name(p));
				if (bpf_link__pin(l, lp))
					link_pin_err = errno ? errno : EINVAL;
			}
			if (nlinks < MAX_LINKS)
				links[nlinks++] = l;
			if (verbose)
				fprintf(stderr, "teeshm-trace: probe %-26s "
					"%-20s %s\n", prog_fn(p),
					bpf_program__name(p),
					deferred(&t.env, prog_fn(p)) ?
					"attached (armed when its module loads)" :
					"attached");
		}
	}
	if (!nlinks) {
		fprintf(stderr, "teeshm-trace: no probe attached (kprobes "
			"unavailable?)\n");
		goto out;
	}
	if (agent_mode) {
		if (link_pin_err)
			fprintf(stderr, "teeshm-trace: agent: this kernel's "
				"kprobe links cannot be pinned (%s; BPF perf "
				"links are 5.15+): the probes end with the "
				"agent\n", strerror(link_pin_err));
		else
			keep = true;
	}
	if ((err = pin_all(t.skel))) {
		pinned_err = -err;
		if (verbose)
			fprintf(stderr, "teeshm-trace: live table not pinned "
				"under %s: %s (status/check will not see it)\n",
				TEESHM_PIN_DIR, strerror(pinned_err));
	} else {
		pinned = true;
	}
	t.stacks_fd = bpf_map__fd(t.skel->maps.stacks);
	events_fd = bpf_map__fd(t.skel->maps.events);
	counters_fd = bpf_map__fd(t.skel->maps.counters);
run:
	rb = ring_buffer__new(events_fd, handle_event, &t, NULL);
	if (!rb) {
		fprintf(stderr, "teeshm-trace: ring buffer: %s\n",
			strerror(errno));
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (duration)
		deadline = time(NULL) + duration;
	if (!t.json)
		fprintf(stderr, "teeshm-trace: tracing (%d probes, %s flag "
			"layout); Ctrl-C to stop\n",
			resumed ? nresumed : nlinks,
			t.env.flags_gen == TEESHM_GEN_OLD ? "<= 5.17" : "5.18+");
	/*
	 * Edge-triggered: woken by the probes' wakeups only (once per batch,
	 * see --latency), and otherwise every latency_ms.  libbpf's own
	 * level-triggered poll would return at once whenever an event has
	 * arrived since the last read, so the reader would chase every event
	 * on the traced CPU, wakeups or not.
	 */
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0 ||
	    epoll_ctl(epfd, EPOLL_CTL_ADD, events_fd, &(struct epoll_event){
			.events = EPOLLIN | EPOLLET })) {
		fprintf(stderr, "teeshm-trace: epoll on the ring buffer: %s\n",
			strerror(errno));
		goto out;
	}
	/* one write per batch of events, not per line */
	setvbuf(stdout, out_buf, _IOFBF, sizeof(out_buf));
	while (!exiting) {
		struct epoll_event ev;

		t.ks_checked = false;
		if (epoll_wait(epfd, &ev, 1, latency_ms ? latency_ms : 200) < 0 &&
		    errno != EINTR) {
			fprintf(stderr, "teeshm-trace: ring buffer poll: %s\n",
				strerror(errno));
			break;
		}
		t.read_until = now_boot_ns();
		err = ring_buffer__consume(rb);
		if (err > 0 || err == READ_STOP)
			nreads++;
		if (err == READ_STOP)
			err = 0;
		fflush(stdout);
		if (t.rec)
			fflush(t.rec);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "teeshm-trace: ring buffer: %s\n",
				strerror(-err));
			break;
		}
		if (deadline && time(NULL) >= deadline)
			break;
	}
	/* the rest, whatever its age */
	t.read_until = UINT64_MAX;
	ring_buffer__consume(rb);
	fflush(stdout);
	{
		int cfd = counters_fd;
		uint64_t lost = counter(cfd, TEESHM_CNT_LOST);
		uint64_t full = counter(cfd, TEESHM_CNT_LIVE_FULL);
		uint64_t missed = probe_misses();
		uint64_t stale = counter(cfd, TEESHM_CNT_STALE);
		const struct tse_finding *fd;
		size_t nf, i, nviol = 0;

		tse_finish(t.eng);
		nf = tse_findings(t.eng, &fd);

		if (lost || full || missed || verbose)
			fprintf(stderr, "teeshm-trace: %lu events, %" PRIu64
				" lost (ring buffer full), %" PRIu64
				" untracked (live table full), %" PRIu64
				" probe hits missed by the kernel\n", t.nevents,
				lost, full, missed);
		if (stale)
			fprintf(stderr, "teeshm-trace: %" PRIu64 " live-table "
				"entries outlived their buffer (a release not "
				"seen) and were replaced\n", stale);
		if (verbose) {
			struct rusage ru;

			getrusage(RUSAGE_SELF, &ru);
			fprintf(stderr, "teeshm-trace: read in %lu batches; "
				"reader CPU %ld ms\n", nreads,
				(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
				(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000);
		}
		for (i = 0; i < nf; i++) {
			if (fd[i].kind == TSE_FIND_REGISTERED_AT_KEXEC)
				continue;
			nviol++;
			fprintf(stderr, "teeshm-trace: finding %s shm=0x%"
				PRIx64 " size=%" PRIu64 "\n",
				tse_finding_name(fd[i].kind), fd[i].buf.shm,
				fd[i].buf.size);
		}
		if (verbose && t.skel)
			probe_costs(t.skel);
		const struct tse_buf *snap;
		size_t nsnap = tse_registered_at_last_kexec(t.eng, &snap);

		ret = nviol || nsnap ? EXIT_FINDINGS : EXIT_CLEAN;
	}
out:
	if (epfd >= 0)
		close(epfd);
	ring_buffer__free(rb);
	if (keep) {
		/* the pins hold the probes and the maps: leave them attached */
		while (nlinks) {
			bpf_link__disconnect(links[--nlinks]);
			bpf_link__destroy(links[nlinks]);
		}
		ndeferred = 0;
		if (!t.json)
			fprintf(stderr, "teeshm-trace: agent exits; its probes "
				"stay attached (pinned under %s)\n",
				TEESHM_PIN_DIR);
	} else {
		if (pinned)
			unpin_all();
		while (nlinks)
			bpf_link__destroy(links[--nlinks]);
	}
	deferred_cleanup();
	if (resumed) {
		close(events_fd);
		close(counters_fd);
		close(t.stacks_fd);
	}
	if (t.rec)
		fclose(t.rec);
	teeshm_bpf__destroy(t.skel);
	tse_free(t.eng);
	env_fini(&t.env);
	return ret;
}

int cmd_agent(int argc, char **argv)
{
	int i, n;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--stop")) {
			if (argc != 2)
				return usage_error(agent_usage,
					"--stop takes no other option");
			n = agent_links();
			unpin_all();
			n += kprobe_events_remove(agent_event);
			if (access(TEESHM_PIN_DIR, F_OK) == 0) {
				fprintf(stderr, "teeshm-trace: agent --stop: %s "
					"still exists\n", TEESHM_PIN_DIR);
				return EXIT_USAGE;
			}
			printf("teeshm-trace: agent stopped (%d pins and "
			       "events removed)\n", n);
			return EXIT_CLEAN;
		}
	}
	agent_mode = true;
	return cmd_trace(argc, argv);
}

/* ------------------------------------------------------ status, check */

struct live_row {
	uint64_t shm;
	struct teeshm_live v;
	char caller[TSE_CALLER_LEN];	/* symbolised once, where shown */
};

static int cmp_row(const void *a, const void *b)
{
	const struct live_row *x = a, *y = b;

	return x->shm < y->shm ? -1 : x->shm > y->shm;
}

/* Read the pinned live table.  Returns the row count, or -1 (message printed). */
static int read_live(struct live_row **rows, int *stacks_fd, uint64_t *lost,
		     uint64_t *full, uint64_t *missed, uint64_t *stale)
{
	char path[128];
	uint64_t key, next, *kp = NULL;
	struct live_row *v = NULL;
	int fd, cfd, n = 0, cap = 0;

	snprintf(path, sizeof(path), TEESHM_PIN_DIR "/live");
	fd = bpf_obj_get(path);
	if (fd < 0) {
		if (errno == EPERM || errno == EACCES)
			fprintf(stderr, "teeshm-trace: %s: %s (needs root or "
				"CAP_BPF)\n", path, strerror(errno));
		else
			fprintf(stderr, "teeshm-trace: no live table at %s "
				"(start `teeshm-trace trace` first)\n",
				TEESHM_PIN_DIR);
		return -1;
	}
	while (!bpf_map_get_next_key(fd, kp, &next)) {
		if (n == cap) {
			struct live_row *nv;

			cap = cap ? cap * 2 : 256;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				close(fd);
				fprintf(stderr, "teeshm-trace: out of memory\n");
				return -1;
			}
			v = nv;
		}
		key = next;
		kp = &key;
		if (bpf_map_lookup_elem(fd, &key, &v[n].v))
			continue;	/* released meanwhile */
		/* an orphan's key is not its address (teeshm_event.h) */
		v[n].shm = v[n].v.orphaned ? v[n].v.shm : key;
		n++;
	}
	close(fd);
	qsort(v, n, sizeof(*v), cmp_row);
	*rows = v;
	snprintf(path, sizeof(path), TEESHM_PIN_DIR "/stacks");
	*stacks_fd = bpf_obj_get(path);
	snprintf(path, sizeof(path), TEESHM_PIN_DIR "/counters");
	cfd = bpf_obj_get(path);
	*lost = cfd >= 0 ? counter(cfd, TEESHM_CNT_LOST) : 0;
	*full = cfd >= 0 ? counter(cfd, TEESHM_CNT_LIVE_FULL) : 0;
	*stale = cfd >= 0 ? counter(cfd, TEESHM_CNT_STALE) : 0;
	if (cfd >= 0)
		close(cfd);
	*missed = probe_misses();
	return n;
}

/*
 * The check's structured journal entry: verdict, policy, counts, and the
 * allocation sites (symbols, never addresses) of what is registered.
 */
static void check_journal(const char *verdict, const struct tsp_config *pol,
			  int nreg, int nblock, uint64_t bytes,
			  const struct live_row *rows, int n)
{
	char msg[256], pr[16], v[32], po[32], r[32], b[48], nb[32];
	char sites[2048] = "TEESHM_SITES=";
	const char *fields[10];
	size_t off = strlen(sites);
	int i, err;

	for (i = 0; i < n && off < sizeof(sites) - 2; i++) {
		if (rows[i].v.state != TEESHM_LIVE_REGISTERED)
			continue;
		off += snprintf(sites + off, sizeof(sites) - off, "%s%s %" PRIu64
				" %.16s", off > 13 ? "\n" : "",
				rows[i].caller[0] ? rows[i].caller : "-",
				rows[i].v.size,
				rows[i].v.comm);
	}
	snprintf(msg, sizeof(msg), "MESSAGE=teeshm-trace: pre-kexec check %s: "
		 "%d buffer%s (%" PRIu64 " bytes) registered with the secure "
		 "world, %d not allowed (policy %s)", verdict, nreg,
		 nreg == 1 ? "" : "s", bytes, nblock,
		 pol->policy == TSP_WARN ? "warn" : "block");
	snprintf(pr, sizeof(pr), "PRIORITY=%d", !strcmp(verdict, "FAIL") ? 3 :
		 !strcmp(verdict, "WARN") ? 4 : 6);
	snprintf(v, sizeof(v), "TEESHM_VERDICT=%s", verdict);
	snprintf(po, sizeof(po), "TEESHM_POLICY=%s",
		 pol->policy == TSP_WARN ? "warn" : "block");
	snprintf(r, sizeof(r), "TEESHM_REGISTERED=%d", nreg);
	snprintf(b, sizeof(b), "TEESHM_REGISTERED_BYTES=%" PRIu64, bytes);
	snprintf(nb, sizeof(nb), "TEESHM_NOT_ALLOWED=%d", nblock);
	fields[0] = msg;
	fields[1] = pr;
	fields[2] = "SYSLOG_IDENTIFIER=teeshm-trace";
	fields[3] = "MESSAGE_ID=" TEESHM_CHECK_MESSAGE_ID;
	fields[4] = v;
	fields[5] = po;
	fields[6] = r;
	fields[7] = b;
	fields[8] = nb;
	fields[9] = sites;
	err = journal_send(getenv("TEESHM_JOURNAL_SOCKET"), fields,
			       nreg ? 10 : 9);
	if (err)
		fprintf(stderr, "teeshm-trace: journal: %s (verdict not "
			"logged there)\n", strerror(-err));
}

static int live_report(int argc, char **argv, bool is_check)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "config", required_argument, NULL, 'c' },
		{ "policy", required_argument, NULL, 'P' },
		{ "journal", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
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
		"registered with the secure world?  PASS (exit 0) when none is\n"
		"registered but those the policy allows; otherwise FAIL (exit 1)\n"
		"under policy block (the default), WARN (exit 0) under warn.\n"
		"\n"
		"  -j, --json            one JSON object (hashed ids)\n"
		"  -c, --config FILE     policy file (default " TEESHM_CONF
		", if present)\n"
		"  -P, --policy POLICY   warn or block, over the file's\n"
		"      --journal         also write the verdict to the journal\n"
		"  -h, --help            this text\n";
	const char *usage = is_check ? check_usage : status_usage;
	struct live_env env;
	struct live_row *rows = NULL;
	uint64_t lost = 0, full = 0, missed = 0, stale = 0, now, bytes = 0;
	bool json = false, all = false, journal = false, conf_given = false;
	int c, n, i, stacks_fd = -1, nreg = 0, npriv = 0, ret, nblock = 0;
	int norphan = 0;
	const char *conf = TEESHM_CONF, *policy_opt = NULL, *verdict;
	struct tsp_config pol;
	char perr[300];
	char fl[160];
	struct jw w;

	optind = 0;
	while ((c = getopt_long(argc, argv, is_check ? "jc:P:h" : "jah", opts,
				NULL)) != -1) {
		if (!is_check && (c == 'c' || c == 'P' || c == 'J'))
			return usage_error(usage, NULL);
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'c':
			conf = optarg;
			conf_given = true;
			break;
		case 'P':
			policy_opt = optarg;
			break;
		case 'J':
			journal = true;
			break;
		case 'a':
			if (is_check)
				return usage_error(usage, NULL);
			all = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_CLEAN;
		default:
			return usage_error(usage, NULL);
		}
	}
	if (optind != argc)
		return usage_error(usage, "unexpected argument");
	tsp_config_init(&pol);
	if (is_check && (conf_given || !access(conf, F_OK)) &&
	    tsp_config_load(&pol, conf, perr, sizeof(perr))) {
		fprintf(stderr, "teeshm-trace: %s\n", perr);
		return EXIT_USAGE;
	}
	if (policy_opt) {
		if (!strcmp(policy_opt, "warn"))
			pol.policy = TSP_WARN;
		else if (!strcmp(policy_opt, "block"))
			pol.policy = TSP_BLOCK;
		else
			return usage_error(usage,
				"--policy: expected warn or block");
	}
	ret = env_init(&env);
	if (ret)
		return ret;
	n = read_live(&rows, &stacks_fd, &lost, &full, &missed, &stale);
	if (n < 0) {
		env_fini(&env);
		return EXIT_USAGE;
	}
	ensure_id_key();
	now = now_boot_ns();
	for (i = 0; i < n; i++) {
		if (rows[i].v.state == TEESHM_LIVE_REGISTERED || all)
			stack_caller(stacks_fd, env.ks, rows[i].v.stack_id,
				     rows[i].v.caller_ip, rows[i].caller,
				     sizeof(rows[i].caller));
		if (rows[i].v.state != TEESHM_LIVE_REGISTERED)
			continue;
		nreg++;
		norphan += rows[i].v.orphaned;
		bytes += rows[i].v.size;
		if (tse_flags_decode(rows[i].v.flags, env.flags_gen) &
		    TSE_F_PRIV)
			npriv++;
		if (!tsp_allowed(&pol, rows[i].caller, rows[i].v.comm))
			nblock++;
	}
	/*
	 * A buffer the live table had no room for is unknown, and so is one
	 * whose probe the kernel missed: no clean verdict can be given then
	 * (lost ring-buffer events do not matter here: the table is kept in
	 * the kernel).
	 */
	if (nblock)
		verdict = pol.policy == TSP_WARN ? "WARN" : "FAIL";
	else if (full || missed)
		verdict = "UNKNOWN";
	else
		verdict = "PASS";
	if (json) {
		jw_init(&w, stdout);
		jw_obj_begin(&w);
		if (is_check) {
			jw_kstr(&w, "verdict", verdict);
			jw_kstr(&w, "policy", pol.policy == TSP_WARN ? "warn"
								     : "block");
			jw_ku64(&w, "allowed", nreg - nblock);
		}
		jw_ku64(&w, "registered", nreg);
		jw_ku64(&w, "registered_bytes", bytes);
		jw_ku64(&w, "priv_registered", npriv);
		jw_ku64(&w, "orphaned", norphan);
		jw_ku64(&w, "tracked", n - norphan);
		jw_ku64(&w, "lost_events", lost);
		jw_ku64(&w, "untracked_live_full", full);
		jw_ku64(&w, "probe_misses", missed);
		jw_ku64(&w, "stale_entries", stale);
		jw_key(&w, "buffers");
		jw_arr_begin(&w);
	} else if (!is_check || nreg) {
		printf("%-18s %8s %-22s %-10s %-16s %8s %s\n", "shm", "size",
		       "flags", "state", "owner", "age_s", "allocation site");
	}
	for (i = 0; i < n; i++) {
		const struct teeshm_live *l = &rows[i].v;
		bool reg = l->state == TEESHM_LIVE_REGISTERED;
		uint32_t cf = tse_flags_decode(l->flags, env.flags_gen);
		uint64_t since = l->ts_ns;
		char owner[40];

		const char *caller = rows[i].caller;

		if (!reg && !all)
			continue;
		snprintf(owner, sizeof(owner), "%u/%.16s", l->pid, l->comm);
		if (json) {
			jw_obj_begin(&w);
			jw_kid(&w, "id", rows[i].shm);
			jw_kid(&w, "cookie_id", l->cookie ? l->cookie :
							    rows[i].shm);
			jw_ku64(&w, "size", l->size);
			tse_flags_json(&w, cf);
			jw_kstr(&w, "state", reg ? "registered" : "allocated");
			if (l->orphaned)
				jw_kbool(&w, "orphaned", true);
			jw_ku64(&w, "pid", l->pid);
			jw_kstr(&w, "comm", l->comm);
			if (caller[0])
				jw_kstr(&w, "caller", caller);
			jw_ku64(&w, "age_ns", now > since ? now - since : 0);
			jw_obj_end(&w);
		} else {
			printf("0x%016" PRIx64 " %8" PRIu64 " %-22s %-10s "
			       "%-16s %8.1f %s", rows[i].shm, l->size,
			       tse_flags_str(cf, fl, sizeof(fl)),
			       l->orphaned ? "orphaned" : reg ? "registered" :
			       "allocated", owner,
			       now > since ? (now - since) / 1e9 : 0.0,
			       caller[0] ? caller : "-");
			if (verbose)
				printf(" (ret ip 0x%" PRIx64 ", stack %d)",
				       l->caller_ip, l->stack_id);
			putchar('\n');
		}
	}
	if (json) {
		jw_arr_end(&w);
		jw_obj_end(&w);
		jw_end_line(&w);
	} else {
		if (is_check && !nblock && full)
			printf("UNKNOWN: %" PRIu64 " buffer%s untracked (live "
			       "table full, see --max-buffers): %d registered "
			       "buffer%s seen, the rest cannot be known\n", full,
			       full == 1 ? "" : "s", nreg, nreg == 1 ? "" : "s");
		else if (is_check && !nblock && missed)
			printf("UNKNOWN: the kernel missed %" PRIu64 " probe "
			       "hit%s (events lost): %d registered buffer%s "
			       "seen, the rest cannot be known\n", missed,
			       missed == 1 ? "" : "s", nreg,
			       nreg == 1 ? "" : "s");
		else if (is_check)
			printf("%s: %d buffer%s (%" PRIu64 " bytes) registered "
			       "with the secure world%s%s%s\n",
			       verdict, nreg, nreg == 1 ? "" : "s",
			       bytes, npriv ? ", driver-private (PRIV) among them"
					    : "",
			       norphan ? ", orphaned ones (released while "
					 "registered) among them" : "",
			       nreg > nblock ? " (some allowed by policy)" : "");
		else
			printf("%d registered, %" PRIu64 " bytes; %d tracked\n",
			       nreg, bytes, n - norphan);
		if (norphan && !is_check)
			printf("%d of them orphaned: released by the kernel "
			       "while registered, the secure world holds %s "
			       "until it reboots\n", norphan,
			       norphan == 1 ? "it" : "them");
		/* (an UNKNOWN verdict has said it already) */
		if ((lost || full || missed) &&
		    !(is_check && !strcmp(verdict, "UNKNOWN")))
			printf("warning: %" PRIu64 " events lost, %" PRIu64
			       " buffers untracked (live table full), %" PRIu64
			       " probe hits missed by the kernel: the table "
			       "may be incomplete\n", lost, full, missed);
	}
	if (is_check && journal)
		check_journal(verdict, &pol, nreg, nblock, bytes, rows, n);
	if (stacks_fd >= 0)
		close(stacks_fd);
	free(rows);
	env_fini(&env);
	if (!is_check)
		return EXIT_CLEAN;
	if (!strcmp(verdict, "FAIL") ||
	    (!strcmp(verdict, "UNKNOWN") && pol.policy == TSP_BLOCK))
		return EXIT_FINDINGS;
	return EXIT_CLEAN;
}

int cmd_status(int argc, char **argv)
{
	return live_report(argc, argv, false);
}

int cmd_check(int argc, char **argv)
{
	return live_report(argc, argv, true);
}

/* ------------------------------------------------------------ probes */

int cmd_probes(int argc, char **argv)
{
	static const char usage[] =
		"Usage: teeshm-trace probes\n"
		"\n"
		"List the functions teeshm-trace probes and whether this kernel\n"
		"has them (from /proc/kallsyms).  `trace --verbose` says which\n"
		"actually attached.\n";
	struct live_env env;
	size_t i;
	int ret;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return EXIT_CLEAN;
	}
	if (argc > 1)
		return usage_error(usage, "probes takes no arguments");
	ret = env_init(&env);
	if (ret)
		return ret;
	printf("flag layout: %s (detected from symbols)\n",
	       env.flags_gen == TEESHM_GEN_OLD ? "<= 5.17 (tee_shm_alloc present)"
					       : "5.18+ (no tee_shm_alloc)");
	printf("struct tee_shm layout: %s\n", layout_source(&env));
	printf("%-28s %-8s %s\n", "function", "present", "role");
	for (i = 0; i < N_PROBE_FNS; i++) {
		bool has = ksyms_has(env.ks, probe_fns[i].fn);

		if (has && !strcmp(probe_fns[i].fn, "tee_shm_put") &&
		    env.release_old)
			printf("%-28s %-8s %s (unused: tee_shm_release is "
			       "probed)\n", probe_fns[i].fn, "yes",
			       probe_fns[i].what);
		else if (!has && deferred(&env, probe_fns[i].fn))
			printf("%-28s %-8s %s (armed when %s.ko loads)\n",
			       probe_fns[i].fn, "later", probe_fns[i].what,
			       fn_module(probe_fns[i].fn));
		else
			printf("%-28s %-8s %s\n", probe_fns[i].fn,
			       has ? "yes" : "no", probe_fns[i].what);
	}
	printf("kexec snapshot: %s\n",
	       libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE,
				       BPF_FUNC_for_each_map_elem, NULL) > 0 ?
	       "in kernel (bpf_for_each_map_elem)" :
	       "in kernel, from a slot array (no bpf_for_each_map_elem, or no permission to probe)");
	env_fini(&env);
	return EXIT_CLEAN;
}

/* ---------------------------------------------------------------- id */

int cmd_id(int argc, char **argv)
{
	static const char usage[] =
		"Usage: teeshm-trace --id-key HEX id ADDR...\n"
		"\n"
		"Print the keyed id of each kernel address (0x...), as JSON\n"
		"output and the kexec console report show them: to correlate a\n"
		"secure-world log (raw cookies) with a report, on the machine\n"
		"that holds the key.  Without --id-key the per-boot key in\n"
		ID_KEY_FILE " is used.\n";
	char *end;
	int i;

	if (argc < 2)
		return usage_error(usage, "id: missing ADDR");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, stdout);
		return EXIT_CLEAN;
	}
	if (!id_key_given && access(ID_KEY_FILE, R_OK)) {
		fprintf(stderr, "teeshm-trace: id: no --id-key and no per-boot "
			"key in %s\n", ID_KEY_FILE);
		return EXIT_USAGE;
	}
	for (i = 1; i < argc; i++) {
		errno = 0;
		strtoull(argv[i], &end, 16);
		if (errno || *end || end == argv[i]) {
			fprintf(stderr, "teeshm-trace: id: '%s' is not a hex "
				"address\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	ensure_id_key();
	for (i = 1; i < argc; i++)
		printf("%s %016" PRIx64 "\n", argv[i],
		       live_id(strtoull(argv[i], NULL, 16)));
	return EXIT_CLEAN;
}

/* ------------------------------------------------------------ export */

int live_read_export(struct live_export *x)
{
	struct live_env env;
	struct live_row *rows = NULL;
	uint64_t lost, full, stale;
	int n, i, stacks_fd = -1, cfd, ret;

	memset(x, 0, sizeof(*x));
	ret = env_init(&env);
	if (ret)
		return ret;
	n = read_live(&rows, &stacks_fd, &lost, &full, &x->probe_misses,
		      &stale);
	if (n < 0) {
		env_fini(&env);
		return EXIT_USAGE;
	}
	x->flags_gen = env.flags_gen;
	x->bufs = calloc(n ? n : 1, sizeof(*x->bufs));
	if (!x->bufs) {
		fprintf(stderr, "teeshm-trace: out of memory\n");
		ret = EXIT_USAGE;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct teeshm_live *l = &rows[i].v;
		struct live_export_buf *b = &x->bufs[i];

		b->size = l->size;
		b->flags = tse_flags_decode(l->flags, env.flags_gen);
		b->api = l->api;
		b->registered = l->state == TEESHM_LIVE_REGISTERED;
		b->orphaned = l->orphaned;
		if (b->registered)
			stack_caller(stacks_fd, env.ks, l->stack_id,
				     l->caller_ip, b->caller, sizeof(b->caller));
	}
	x->n = n;
	cfd = bpf_obj_get(TEESHM_PIN_DIR "/counters");
	if (cfd >= 0) {
		for (i = 0; i < TEESHM_CNT__MAX; i++)
			x->counters[i] = counter(cfd, i);
		x->have_counters = true;
		close(cfd);
	}
out:
	if (stacks_fd >= 0)
		close(stacks_fd);
	free(rows);
	env_fini(&env);
	return ret;
}
