// SPDX-License-Identifier: GPL-2.0
/*
 * teeshm.bpf.c - kernel side of teeshm-trace.
 *
 * Follows every struct tee_shm through allocation, registration with the
 * secure world, unregistration and release, keeps the live table in a hash
 * map (so the state never depends on user space keeping up), streams
 * events over a ring buffer, and at kexec - after the drivers' shutdown
 * callbacks have run - emits a snapshot of what is still registered, on the
 * ring buffer and (optionally) on the console through bpf_trace_printk.
 *
 * Which programs load is decided by user space from the running kernel's
 * symbols: a missing optional function is normal.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "teeshm_event.h"
#include "teeshm_hash.h"
#include "tee_types.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by user space before load. */
const volatile __u8 flags_gen = TEESHM_GEN_UNKNOWN;
const volatile __u64 id_key0;
const volatile __u64 id_key1;

/* Set by the crash-path probe; read by the kexec snapshot. */
__u8 crash_in_progress;
/* kernel_kexec() entered; the snapshot was taken (once per kexec). */
__u8 kexec_started;
__u8 snapshot_done;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TEESHM_LIVE_MAX);
	__type(key, u64);
	__type(value, struct teeshm_live);
} live SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TEESHM_CNT__MAX);
	__type(key, u32);
	__type(value, u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 4096);
	__uint(key_size, sizeof(u32));
	__uint(value_size, TEESHM_MAX_STACK * sizeof(u64));
} stacks SEC(".maps");

/* An allocation call in progress, per thread. */
struct alloc_call {
	u64 ctx;
	u64 caller_ip;		/* who called the allocation function */
	u64 size;
	u64 shm;		/* shm seen registering inside the call */
	u32 flags;
	s32 stack_id;
	u8 api;
	u8 flags_known;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, u32);
	__type(value, struct alloc_call);
} alloc_calls SEC(".maps");

/* A register/unregister/put call in progress, per thread. */
struct shm_call {
	u64 shm;
	u8 api;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, u32);
	__type(value, struct shm_call);
} reg_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, u32);
	__type(value, struct shm_call);
} put_calls SEC(".maps");

static __always_inline void cnt_add(u32 idx, u64 v)
{
	u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (c)
		__sync_fetch_and_add(c, v);
}

static __always_inline u32 tid(void)
{
	return (u32)bpf_get_current_pid_tgid();
}

static __always_inline struct teeshm_event *ev_new(u8 type, u8 api, u64 shm)
{
	struct teeshm_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		cnt_add(TEESHM_CNT_LOST, 1);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->type = type;
	e->api = api;
	e->shm = shm;
	e->flags_gen = flags_gen;
	e->stack_id = -1;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	return e;
}

static __always_inline void ev_send(struct teeshm_event *e)
{
	cnt_add(TEESHM_CNT_EVENTS, 1);
	bpf_ringbuf_submit(e, 0);
}

/* Read size and flags of a shm (CO-RE against tee.ko's BTF). */
static __always_inline void shm_details(u64 shm, u64 *size, u32 *flags)
{
	struct tee_shm___teeshm *s = (void *)shm;

	*size = BPF_CORE_READ(s, size);
	*flags = BPF_CORE_READ(s, flags);
}

static __always_inline u64 shm_cookie(u64 shm)
{
	struct tee_shm___teeshm *s = (void *)shm;
	u64 id = 0;

	if (bpf_core_field_exists(s->sec_world_id))
		id = BPF_CORE_READ(s, sec_world_id);
	return id ? id : shm;	/* SMC ABI: the cookie is the shm pointer */
}

/*
 * Make sure shm is in the live table, emitting its ALLOC event if it was
 * not: called at registration, which in 5.18+ happens inside the
 * allocation function, before it returns.
 */
static __always_inline void track_alloc(void *ctx, u64 shm, u8 api_hint)
{
	struct alloc_call *ac;
	struct teeshm_live l = {}, *lp;
	struct teeshm_event *e;
	u32 t = tid();

	lp = bpf_map_lookup_elem(&live, &shm);
	if (lp)
		return;
	ac = bpf_map_lookup_elem(&alloc_calls, &t);
	l.ts_alloc_ns = bpf_ktime_get_boot_ns();
	l.state = TEESHM_LIVE_ALLOCATED;
	l.flags_gen = flags_gen;
	l.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(l.comm, sizeof(l.comm));
	shm_details(shm, &l.size, &l.flags);
	if (ac) {
		ac->shm = shm;
		l.ctx = ac->ctx;
		l.stack_id = ac->stack_id;
		l.api = ac->api;
		l.caller_ip = ac->caller_ip;
	} else {
		l.stack_id = bpf_get_stackid(ctx, &stacks, 0);
		l.api = api_hint;
	}
	if (bpf_map_update_elem(&live, &shm, &l, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&live, &shm))
		cnt_add(TEESHM_CNT_LIVE_FULL, 1);
	e = ev_new(TEESHM_EV_ALLOC, l.api, shm);
	if (!e)
		return;
	e->ctx = l.ctx;
	e->size = l.size;
	e->flags = l.flags;
	e->flags_known = 1;
	e->stack_id = l.stack_id;
	e->caller_ip = l.caller_ip;
	ev_send(e);
}

/* ---------------------------------------------------------- allocation */

/*
 * The return address at a function's entry.  libbpf 1.1's
 * BPF_KPROBE_READ_RET_IP dereferences the link register on arm64 (it reads
 * the instruction there); the address is the register itself.
 */
static __always_inline u64 entry_ret_ip(void *ctx)
{
	u64 ip = 0;

#if defined(__TARGET_ARCH_arm64)
	ip = PT_REGS_RET((struct pt_regs *)ctx);
#else
	BPF_KPROBE_READ_RET_IP(ip, (struct pt_regs *)ctx);
#endif
	return ip;
}

static __always_inline int alloc_enter(void *ctx, u8 api, u64 tctx, u64 size,
				       u32 flags, bool flags_known)
{
	struct alloc_call ac = {};
	u32 t = tid();

	ac.api = api;
	ac.ctx = tctx;
	ac.size = size;
	ac.flags = flags;
	ac.flags_known = flags_known;
	ac.stack_id = bpf_get_stackid(ctx, &stacks, 0);
	/*
	 * At function entry the unwinder starts from the caller's frame
	 * record and misses the caller itself (arm64: it is only in LR):
	 * keep the return address.
	 */
	ac.caller_ip = entry_ret_ip(ctx);
	bpf_map_update_elem(&alloc_calls, &t, &ac, BPF_ANY);
	return 0;
}

static __always_inline int alloc_exit(void *ctx, u64 ret)
{
	struct alloc_call *ac;
	struct teeshm_event *e;
	u32 t = tid();
	u64 inner;

	ac = bpf_map_lookup_elem(&alloc_calls, &t);
	if (!ac)
		return 0;
	inner = ac->shm;
	if (ret >= (u64)-4095) {
		/*
		 * Failed: a shm that registered inside the call (and whose
		 * registration then failed) was kfree()d without passing
		 * the release path.
		 */
		if (inner) {
			bpf_map_delete_elem(&live, &inner);
			e = ev_new(TEESHM_EV_FREE, ac->api, inner);
			if (e) {
				e->ret = (s32)ret;
				ev_send(e);
			}
		}
	} else if (ret) {
		struct teeshm_live *l;

		track_alloc(ctx, ret, ac->api);
		/* in a kretprobe the pc is the real return address */
		l = bpf_map_lookup_elem(&live, &ret);
		if (l && !l->caller_ip)
			l->caller_ip = PT_REGS_IP((struct pt_regs *)ctx);
	}
	bpf_map_delete_elem(&alloc_calls, &t);
	return 0;
}

SEC("kprobe/tee_shm_alloc")
int BPF_KPROBE(shm_alloc_enter, void *tctx, size_t size, u32 flags)
{
	return alloc_enter(ctx, TEESHM_API_SHM_ALLOC, (u64)tctx, size, flags,
			   true);
}

SEC("kretprobe/tee_shm_alloc")
int BPF_KRETPROBE(shm_alloc_exit, void *ret)
{
	return alloc_exit(ctx, (u64)ret);
}

SEC("kprobe/tee_shm_alloc_user_buf")
int BPF_KPROBE(alloc_user_enter, void *tctx, size_t size)
{
	return alloc_enter(ctx, TEESHM_API_ALLOC_USER_BUF, (u64)tctx, size, 0,
			   false);
}

SEC("kretprobe/tee_shm_alloc_user_buf")
int BPF_KRETPROBE(alloc_user_exit, void *ret)
{
	return alloc_exit(ctx, (u64)ret);
}

SEC("kprobe/tee_shm_alloc_kernel_buf")
int BPF_KPROBE(alloc_kernel_enter, void *tctx, size_t size)
{
	return alloc_enter(ctx, TEESHM_API_ALLOC_KERNEL_BUF, (u64)tctx, size,
			   0, false);
}

SEC("kretprobe/tee_shm_alloc_kernel_buf")
int BPF_KRETPROBE(alloc_kernel_exit, void *ret)
{
	return alloc_exit(ctx, (u64)ret);
}

SEC("kprobe/tee_shm_alloc_priv_buf")
int BPF_KPROBE(alloc_priv_enter, void *tctx, size_t size)
{
	return alloc_enter(ctx, TEESHM_API_ALLOC_PRIV_BUF, (u64)tctx, size, 0,
			   false);
}

SEC("kretprobe/tee_shm_alloc_priv_buf")
int BPF_KRETPROBE(alloc_priv_exit, void *ret)
{
	return alloc_exit(ctx, (u64)ret);
}

SEC("kprobe/tee_shm_register_user_buf")
int BPF_KPROBE(reg_user_enter, void *tctx, unsigned long addr, size_t len)
{
	return alloc_enter(ctx, TEESHM_API_REGISTER_USER_BUF, (u64)tctx, len,
			   0, false);
}

SEC("kretprobe/tee_shm_register_user_buf")
int BPF_KRETPROBE(reg_user_exit, void *ret)
{
	return alloc_exit(ctx, (u64)ret);
}

SEC("kprobe/tee_shm_register_kernel_buf")
int BPF_KPROBE(reg_kernel_enter, void *tctx, void *addr, size_t len)
{
	return alloc_enter(ctx, TEESHM_API_REGISTER_KERNEL_BUF, (u64)tctx, len,
			   0, false);
}

SEC("kretprobe/tee_shm_register_kernel_buf")
int BPF_KRETPROBE(reg_kernel_exit, void *ret)
{
	return alloc_exit(ctx, (u64)ret);
}

SEC("kprobe/tee_shm_register")
int BPF_KPROBE(shm_register_enter, void *tctx, unsigned long addr, size_t len,
	       u32 flags)
{
	return alloc_enter(ctx, TEESHM_API_SHM_REGISTER, (u64)tctx, len, flags,
			   true);
}

SEC("kretprobe/tee_shm_register")
int BPF_KRETPROBE(shm_register_exit, void *ret)
{
	return alloc_exit(ctx, (u64)ret);
}

/* -------------------------------------------- secure-world registration */

static __always_inline int reg_enter(void *ctx, u64 shm, u8 api)
{
	struct shm_call c = { .shm = shm, .api = api };
	u32 t = tid();

	track_alloc(ctx, shm, TEESHM_API_NONE);
	bpf_map_update_elem(&reg_calls, &t, &c, BPF_ANY);
	return 0;
}

static __always_inline int reg_exit(s32 ret, bool reg)
{
	struct teeshm_live *l;
	struct teeshm_event *e;
	struct shm_call *c;
	u32 t = tid();
	u64 shm;
	u8 api;

	c = bpf_map_lookup_elem(&reg_calls, &t);
	if (!c)
		return 0;
	shm = c->shm;
	api = c->api;
	bpf_map_delete_elem(&reg_calls, &t);

	l = bpf_map_lookup_elem(&live, &shm);
	if (reg) {
		cnt_add(ret ? TEESHM_CNT_REG_FAILED : TEESHM_CNT_REGISTERS, 1);
		if (!ret && l) {
			l->state = TEESHM_LIVE_REGISTERED;
			l->ts_reg_ns = bpf_ktime_get_boot_ns();
			l->cookie = shm_cookie(shm);
		}
	} else if (!ret) {
		cnt_add(TEESHM_CNT_UNREGISTERS, 1);
		if (l)
			l->state = TEESHM_LIVE_ALLOCATED;
	}
	e = ev_new(reg ? TEESHM_EV_REGISTER : TEESHM_EV_UNREGISTER, api, shm);
	if (!e)
		return 0;
	e->ret = ret;
	e->cookie = shm;
	if (l) {
		e->size = l->size;
		e->flags = l->flags;
		e->ctx = l->ctx;
		if (l->cookie)
			e->cookie = l->cookie;
		e->flags_known = 1;
	}
	ev_send(e);
	return 0;
}

SEC("kprobe/optee_shm_register")
int BPF_KPROBE(optee_reg_enter, void *tctx, void *shm)
{
	return reg_enter(ctx, (u64)shm, TEESHM_API_OPTEE_REGISTER);
}

SEC("kretprobe/optee_shm_register")
int BPF_KRETPROBE(optee_reg_exit, int ret)
{
	return reg_exit(ret, true);
}

SEC("kprobe/optee_shm_unregister")
int BPF_KPROBE(optee_unreg_enter, void *tctx, void *shm)
{
	struct shm_call c = { .shm = (u64)shm,
			      .api = TEESHM_API_OPTEE_UNREGISTER };
	u32 t = tid();

	bpf_map_update_elem(&reg_calls, &t, &c, BPF_ANY);
	return 0;
}

SEC("kretprobe/optee_shm_unregister")
int BPF_KRETPROBE(optee_unreg_exit, int ret)
{
	return reg_exit(ret, false);
}

SEC("kprobe/optee_ffa_shm_register")
int BPF_KPROBE(ffa_reg_enter, void *tctx, void *shm)
{
	return reg_enter(ctx, (u64)shm, TEESHM_API_FFA_REGISTER);
}

SEC("kretprobe/optee_ffa_shm_register")
int BPF_KRETPROBE(ffa_reg_exit, int ret)
{
	return reg_exit(ret, true);
}

SEC("kprobe/optee_ffa_shm_unregister")
int BPF_KPROBE(ffa_unreg_enter, void *tctx, void *shm)
{
	struct shm_call c = { .shm = (u64)shm,
			      .api = TEESHM_API_FFA_UNREGISTER };
	u32 t = tid();

	bpf_map_update_elem(&reg_calls, &t, &c, BPF_ANY);
	return 0;
}

SEC("kretprobe/optee_ffa_shm_unregister")
int BPF_KRETPROBE(ffa_unreg_exit, int ret)
{
	return reg_exit(ret, false);
}

/* ------------------------------------------------------------- release */

static __always_inline int release_done(u64 shm, u8 api)
{
	struct teeshm_event *e;
	struct teeshm_live *l;

	l = bpf_map_lookup_elem(&live, &shm);
	e = ev_new(TEESHM_EV_FREE, api, shm);
	if (e) {
		if (l) {
			e->size = l->size;
			e->flags = l->flags;
			e->flags_known = 1;
		}
		ev_send(e);
	}
	if (l)
		bpf_map_delete_elem(&live, &shm);
	return 0;
}

/*
 * 5.18+: tee_shm_release() is static and inlined into tee_shm_put(); the
 * put that drops the last reference releases (and unregisters) the shm
 * before returning.  The reference count is read at entry.
 */
SEC("kprobe/tee_shm_put")
int BPF_KPROBE(shm_put_enter, void *shm)
{
	struct tee_shm___teeshm *s = shm;
	struct shm_call c = { .shm = (u64)shm, .api = TEESHM_API_SHM_RELEASE };
	u32 t = tid();
	int refs = 0;

	if (!shm || !bpf_core_field_exists(s->refcount))
		return 0;
	refs = BPF_CORE_READ(s, refcount.refs.counter);
	if (refs == 1)
		bpf_map_update_elem(&put_calls, &t, &c, BPF_ANY);
	return 0;
}

SEC("kretprobe/tee_shm_put")
int BPF_KRETPROBE(shm_put_exit)
{
	struct shm_call *c;
	u32 t = tid();
	u64 shm;

	c = bpf_map_lookup_elem(&put_calls, &t);
	if (!c)
		return 0;
	shm = c->shm;
	bpf_map_delete_elem(&put_calls, &t);
	return release_done(shm, TEESHM_API_SHM_RELEASE);
}

/* <= 5.17: tee_shm_release(shm) is the dma-buf release / free path. */
SEC("kprobe/tee_shm_release")
int BPF_KPROBE(shm_release_enter, void *shm)
{
	struct shm_call c = { .shm = (u64)shm, .api = TEESHM_API_SHM_RELEASE };
	u32 t = tid();

	bpf_map_update_elem(&put_calls, &t, &c, BPF_ANY);
	return 0;
}

SEC("kretprobe/tee_shm_release")
int BPF_KRETPROBE(shm_release_exit)
{
	struct shm_call *c;
	u32 t = tid();
	u64 shm;

	c = bpf_map_lookup_elem(&put_calls, &t);
	if (!c)
		return 0;
	shm = c->shm;
	bpf_map_delete_elem(&put_calls, &t);
	return release_done(shm, TEESHM_API_SHM_RELEASE);
}

/* --------------------------------------------------------------- kexec */

struct snap_ctx {
	u32 count;
	u8 console;
};

static long snap_one(void *map, u64 *key, struct teeshm_live *l,
		     struct snap_ctx *sc)
{
	struct teeshm_event *e;

	if (l->state != TEESHM_LIVE_REGISTERED)
		return 0;
	sc->count++;
	e = ev_new(TEESHM_EV_SNAPSHOT, TEESHM_API_KEXEC, *key);
	if (e) {
		e->size = l->size;
		e->flags = l->flags;
		e->cookie = l->cookie;
		e->ctx = l->ctx;
		e->stack_id = l->stack_id;
		e->caller_ip = l->caller_ip;
		e->pid = l->pid;
		e->flags_known = 1;
		__builtin_memcpy(e->comm, l->comm, sizeof(e->comm));
		ev_send(e);
	}
	if (sc->console) {
		u64 id = teeshm_hash64(id_key0, id_key1, *key);

		bpf_printk("teeshm-trace: kexec-registered id=%016llx size=%llu flags=0x%x",
			   id, l->size, l->flags);
		/* %pS: symbol+offset, never the raw address */
		if (l->caller_ip)
			bpf_printk("teeshm-trace: kexec-site id=%016llx pid=%u site=%pS",
				   id, l->pid, (void *)l->caller_ip);
	}
	return 0;
}

static __always_inline int kexec_event(u8 console, bool snapshot)
{
	struct snap_ctx sc = { .console = console };
	struct teeshm_event *e;
	u8 kind = crash_in_progress ? TEESHM_KEXEC_CRASH : TEESHM_KEXEC_NORMAL;

	cnt_add(TEESHM_CNT_KEXECS, 1);
	e = ev_new(TEESHM_EV_KEXEC, TEESHM_API_KEXEC, 0);
	if (e) {
		e->kind = kind;
		ev_send(e);
	}
	if (!snapshot)
		return 0;
	if (console)
		bpf_printk("teeshm-trace: kexec-begin kind=%s",
			   kind ? "crash" : "kexec");
	bpf_for_each_map_elem(&live, snap_one, &sc, 0);
	if (console) {
		u64 *lost;
		u32 i = TEESHM_CNT_LOST;

		lost = bpf_map_lookup_elem(&counters, &i);
		bpf_printk("teeshm-trace: kexec-end registered=%u lost=%llu",
			   sc.count, lost ? *lost : 0);
	}
	return 0;
}

/*
 * The snapshot is taken after every driver's shutdown callback:
 * - normal kexec: kernel_kexec() -> kernel_restart_prepare()
 *   (device_shutdown()) -> machine_shutdown() -> kmsg_dump(SHUTDOWN) ->
 *   machine_kexec().  At kmsg_dump(SHUTDOWN) the report lands in the log
 *   that pstore's dmesg record saves right after.
 * - crash kexec (kdump): __crash_kexec() -> machine_crash_shutdown() ->
 *   machine_kexec(), without kmsg_dump.
 * machine_kexec() takes it if kmsg_dump() did not.  Three flavours of each
 * program; user space loads one.
 */
#define KMSG_DUMP_SHUTDOWN_REASON 4

static __always_inline int at_kmsg_dump(int reason, u8 console, bool snapshot)
{
	if (!kexec_started || snapshot_done ||
	    reason != KMSG_DUMP_SHUTDOWN_REASON)
		return 0;
	snapshot_done = 1;
	return kexec_event(console, snapshot);
}

static __always_inline int at_machine_kexec(u8 console, bool snapshot)
{
	if (snapshot_done)
		return 0;
	snapshot_done = 1;
	return kexec_event(console, snapshot);
}

SEC("kprobe/kernel_kexec")
int BPF_KPROBE(kexec_enter)
{
	kexec_started = 1;
	snapshot_done = 0;
	return 0;
}

SEC("kprobe/kmsg_dump")
int BPF_KPROBE(kmsg_console, int reason)
{
	return at_kmsg_dump(reason, 1, true);
}

SEC("kprobe/kmsg_dump")
int BPF_KPROBE(kmsg_quiet, int reason)
{
	return at_kmsg_dump(reason, 0, true);
}

SEC("kprobe/kmsg_dump")
int BPF_KPROBE(kmsg_basic, int reason)
{
	return at_kmsg_dump(reason, 0, false);
}

SEC("kprobe/machine_kexec")
int BPF_KPROBE(kexec_console)
{
	return at_machine_kexec(1, true);
}

SEC("kprobe/machine_kexec")
int BPF_KPROBE(kexec_quiet)
{
	return at_machine_kexec(0, true);
}

SEC("kprobe/machine_kexec")
int BPF_KPROBE(kexec_basic)
{
	return at_machine_kexec(0, false);
}

SEC("kprobe/__crash_kexec")
int BPF_KPROBE(crash_enter)
{
	crash_in_progress = 1;
	return 0;
}
