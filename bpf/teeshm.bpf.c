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
/*
 * The only CO-RE-relocated type is struct tee_shm (bpf/tee_types.h marks
 * it itself).  Registers (struct user_pt_regs / pt_regs) are the arch ABI:
 * no relocation, so an external BTF (--btf) need hold the TEE types only.
 */
#define BPF_NO_PRESERVE_ACCESS_INDEX
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
/* log2 of the kernel's page size (registration extents come in pages) */
const volatile __u8 page_shift = 12;
/* < 5.13, no bpf_for_each_map_elem: keep registered buffers in snap_slots */
const volatile __u8 use_slots;
/*
 * The allocation functions are followed by fexit programs only (see
 * alloc_fexit): no call record; a registration, whatever probes it, reads
 * what the record held from the shm.
 */
const volatile __u8 alloc_tramp;
/* the kexec report on the console too (bpf_trace_printk), not only events */
const volatile __u8 console_report;
/*
 * Reader wakeups.  0: the ring buffer's own rule (wake a reader that has
 * caught up: one wakeup per event when it keeps up).  Otherwise the reader
 * polls every wake_ns and is woken only when wake_ns have passed since the
 * last wakeup or wake_bytes wait: on a busy TEE, a wakeup per batch.
 */
const volatile __u64 wake_ns;
const volatile __u64 wake_bytes = 1 << 16;
__u64 last_wake_ns;

/* TEE_SHM_* bits this program sets itself (old generation, no BTF) */
#define OLD_SHM_REGISTER	(1U << 3)
#define OLD_SHM_POOL		(1U << 5)
/* 5.18+ (tee_core.h) */
#define NEW_SHM_DYNAMIC		(1U << 0)
#define NEW_SHM_USER_MAPPED	(1U << 1)
#define NEW_SHM_POOL		(1U << 2)
#define NEW_SHM_PRIV		(1U << 3)

/*
 * Is struct tee_shm's layout known?  From tee.ko's module BTF (5.11+), or
 * from an external BTF file (teeshm-trace --btf).  When it is not (5.10),
 * size and flags come from the functions' arguments and the release is
 * recognised by its effects (see shm_put_enter).
 */
#define SHM_BTF	bpf_core_type_exists(struct tee_shm___teeshm)

/* Set by the crash-path probe; read by the kexec snapshot. */
__u8 crash_in_progress;
/* kernel_kexec() entered; the snapshot was taken (once per kexec). */
__u8 kexec_started;
__u8 snapshot_done;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/*
 * Non-zero: nobody reads events (an agent that records nothing), so none
 * is written; the live table and the counters are kept all the same.  A
 * map, not a constant: an agent that takes the probes over sets it again.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u32);
} events_off SEC(".maps");

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

/* registered buffers by slot, and the free slots (use_slots only) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TEESHM_SNAP_SLOTS);
	__type(key, u32);
	__type(value, u64);
} snap_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, TEESHM_SNAP_SLOTS);
	__type(value, u32);
} free_slots SEC(".maps");

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
	u8 active;		/* a call is in progress */
};

/*
 * Per-thread call state (alloc_calls, reg_calls, put_calls) is kept in LRU
 * maps and reused in place: one insert per thread, then lookups only.  An
 * insert and a delete per call cost a bucket lock and a free-list trip
 * each, on every put of every buffer.  Threads that are gone age out.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, u32);
	__type(value, struct alloc_call);
} alloc_calls SEC(".maps");

/* A register/unregister/put call in progress, per thread. */
struct shm_call {
	u64 shm;
	u64 tctx;		/* struct tee_context * of the call */
	u64 pages;		/* registration: number of pages */
	u8 api;
	u8 released;		/* put without BTF: the shm was torn down */
	u8 active;		/* reg_calls: a call is in progress */
	u8 made;		/* alloc_tramp: first seen at this call */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, u32);
	__type(value, struct shm_call);
} reg_calls SEC(".maps");

/*
 * Puts in progress per thread, innermost last: a release can put other
 * buffers (closing a context frees its message buffer) before it returns.
 */
#define PUT_DEPTH 4
struct put_stack {
	u32 depth;
	u32 pad;
	struct shm_call e[PUT_DEPTH];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, u32);
	__type(value, struct put_stack);
} put_calls SEC(".maps");

/*
 * An index into put_stack.e that 5.10's verifier can bound: mask it after
 * a compiler barrier, so clang cannot fold the mask into an earlier check.
 */
static __always_inline u32 put_idx(u32 d)
{
	asm volatile("" : "+r"(d));
	return d & (PUT_DEPTH - 1);
}

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

/*
 * The value of key in map, inserted as init if absent (libbpf-tools'
 * maps.bpf.h): the per-thread call state is reused in place.  NULL if
 * the map is full.
 */
static __always_inline void *lookup_or_init(void *map, const void *key,
					    const void *init)
{
	void *v = bpf_map_lookup_elem(map, key);
	long err;

	if (v)
		return v;
	err = bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	if (err && err != -17)	/* -EEXIST: another insert won */
		return NULL;
	return bpf_map_lookup_elem(map, key);
}

static __always_inline bool events_are_off(void)
{
	u32 zero = 0, *off = bpf_map_lookup_elem(&events_off, &zero);

	return off && *off;
}

static __always_inline struct teeshm_event *ev_new(u8 type, u8 api, u64 shm)
{
	struct teeshm_event *e;

	if (events_are_off())
		return NULL;
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
	u64 flags = 0;

	cnt_add(TEESHM_CNT_EVENTS, 1);
	if (wake_ns) {
		u64 now = e->ts_ns;

		if (e->type == TEESHM_EV_KEXEC || e->type == TEESHM_EV_SNAPSHOT ||
		    now - last_wake_ns >= wake_ns ||
		    bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wake_bytes) {
			last_wake_ns = now;
			flags = BPF_RB_FORCE_WAKEUP;
		} else {
			flags = BPF_RB_NO_WAKEUP;
		}
	}
	bpf_ringbuf_submit(e, flags);
}

/*
 * Size and flags of a shm: read from the shm (CO-RE against tee.ko's BTF)
 * where its layout is known, else from the allocation call's arguments
 * plus what that function adds unconditionally.  Returns 1 if known.
 */
static __always_inline u8 shm_details(u64 shm, struct alloc_call *ac,
				      u64 *size, u32 *flags)
{
	struct tee_shm___teeshm *s = (void *)shm;

	if (SHM_BTF) {
		*size = BPF_CORE_READ(s, size);
		*flags = BPF_CORE_READ(s, flags);
		return 1;
	}
	if (!ac)
		return 0;
	*size = ac->size;
	*flags = ac->flags;
	if (flags_gen == TEESHM_GEN_OLD && ac->api == TEESHM_API_SHM_ALLOC)
		*flags |= OLD_SHM_POOL;
	if (flags_gen == TEESHM_GEN_OLD && ac->api == TEESHM_API_SHM_REGISTER)
		*flags |= OLD_SHM_REGISTER;
	return ac->flags_known;
}

/* Snapshot slots (kernels without bpf_for_each_map_elem). */
static __always_inline void slot_get(struct teeshm_live *l, u64 shm)
{
	u32 idx;
	u64 *p;

	if (!use_slots || l->slot)
		return;
	if (bpf_map_pop_elem(&free_slots, &idx)) {
		cnt_add(TEESHM_CNT_SNAP_FULL, 1);
		return;
	}
	p = bpf_map_lookup_elem(&snap_slots, &idx);
	if (!p)
		return;
	*p = shm;
	l->slot = idx + 1;
}

static __always_inline void slot_put(struct teeshm_live *l)
{
	u32 idx;
	u64 *p;

	if (!use_slots || !l->slot)
		return;
	idx = l->slot - 1;
	p = bpf_map_lookup_elem(&snap_slots, &idx);
	if (p)
		*p = 0;
	bpf_map_push_elem(&free_slots, &idx, 0);
	l->slot = 0;
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
 * The kernel released shm while the secure world still holds it: keep the
 * entry, under an odd key (see teeshm_event.h), with its snapshot slot.
 * No room: counted as untracked, so no verdict can be PASS.
 */
static __always_inline void orphan(u64 shm, struct teeshm_live *l)
{
	struct teeshm_live o = *l;
	u64 key = shm | 1, *p;
	u32 idx;

	o.orphaned = 1;
	o.shm = shm;
	if (bpf_map_update_elem(&live, &key, &o, BPF_NOEXIST)) {
		/* this address was orphaned before (FF-A: new cookie) */
		key = (bpf_ktime_get_boot_ns() << 1) | 1;
		if (bpf_map_update_elem(&live, &key, &o, BPF_NOEXIST)) {
			cnt_add(TEESHM_CNT_LIVE_FULL, 1);
			slot_put(l);
			return;
		}
	}
	cnt_add(TEESHM_CNT_ORPHANS, 1);
	if (use_slots && l->slot) {
		idx = l->slot - 1;
		p = bpf_map_lookup_elem(&snap_slots, &idx);
		if (p)
			*p = key;
	}
}

/*
 * 5.18+: the allocation function a shm being registered comes from, told
 * by the flags and id it set before the registration (tee_shm.c): what
 * the entry program's call record said, where there is none.
 */
static __always_inline u8 shm_api(u64 shm, u32 flags)
{
	struct tee_shm___teeshm *s = (void *)shm;

	if (flags & NEW_SHM_PRIV)
		return TEESHM_API_ALLOC_PRIV_BUF;
	if (flags & NEW_SHM_POOL)	/* only a user buffer has an id */
		return BPF_CORE_READ(s, id) >= 0 ? TEESHM_API_ALLOC_USER_BUF :
						   TEESHM_API_ALLOC_KERNEL_BUF;
	if (flags & NEW_SHM_USER_MAPPED)
		return TEESHM_API_REGISTER_USER_BUF;
	if (flags & NEW_SHM_DYNAMIC)
		return TEESHM_API_REGISTER_KERNEL_BUF;
	return TEESHM_API_NONE;
}

static __always_inline s32 stack_id(void *ctx, bool tramp);

/*
 * Make sure shm is in the live table, emitting its ALLOC event if it was
 * not: called at registration, which in 5.18+ happens inside the
 * allocation function, before it returns.  lp: shm's entry, looked up by
 * the caller (NULL: none).  True if it made the entry.
 */
static __always_inline bool track_alloc(void *ctx, bool tramp, u64 shm,
					struct teeshm_live *lp, u8 api_hint,
					u64 tctx, struct alloc_call *ac,
					bool at_reg)
{
	struct teeshm_live l = {};
	struct teeshm_event *e;
	u32 t = tid();
	u8 known;

	/*
	 * Nobody reads events (agent --quiet): a driver-private buffer
	 * (optee.ko's message and RPC buffers, which it does not register)
	 * enters the table only if it is registered, then.  Four of them
	 * come and go in every TEE call: most of an agent's cost.
	 */
	if (!lp && !at_reg && api_hint == TEESHM_API_ALLOC_PRIV_BUF &&
	    events_are_off())
		return false;
	/*
	 * At registration: this thread's allocation call, if any.  With
	 * the allocations on fexit there is none (see alloc_fexit): what it
	 * would say is read from the shm.
	 */
	if (at_reg && !alloc_tramp)
		ac = bpf_map_lookup_elem(&alloc_calls, &t);
	if (ac && !ac->active)
		ac = NULL;
	if (lp) {
		/*
		 * Known, or made by this call; or registered: a registered
		 * entry is never dropped here (see below).  With the
		 * allocations on fexit (5.18+) a shm registers once, inside
		 * its allocation: an unregistered entry there is an older
		 * buffer's.
		 */
		if (lp->state == TEESHM_LIVE_REGISTERED ||
		    (!(alloc_tramp && at_reg) && (!ac || ac->shm == shm)))
			return false;
		/*
		 * An allocation call returns (or registers) a shm whose
		 * address holds an unregistered entry it did not make: the
		 * release of the earlier shm was not seen (a return probe
		 * the kernel missed).  The new one must not inherit its
		 * allocation site.  A registered entry stays: a nested
		 * allocation whose return was missed leaves this thread's
		 * call record to the inner call, so "not made by this call"
		 * cannot be told apart from "registered by this call" then.
		 */
		cnt_add(TEESHM_CNT_STALE, 1);
		slot_put(lp);
		bpf_map_delete_elem(&live, &shm);
	}
	l.ts_ns = bpf_ktime_get_boot_ns();
	l.shm = shm;
	l.state = TEESHM_LIVE_ALLOCATED;
	l.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(l.comm, sizeof(l.comm));
	known = shm_details(shm, ac, &l.size, &l.flags);
	if (ac) {
		ac->shm = shm;
		if (at_reg && ac->stack_id < 0)	/* not taken at entry */
			ac->stack_id = stack_id(ctx, tramp);
		l.stack_id = ac->stack_id;
		l.api = ac->api;
		l.caller_ip = ac->caller_ip;
	} else {
		/* from a trampoline: the stack of a registered buffer only */
		l.stack_id = tramp && !at_reg ? -1 : stack_id(ctx, tramp);
		l.api = api_hint;
		if (alloc_tramp && at_reg)
			l.api = shm_api(shm, l.flags);
	}
	if (bpf_map_update_elem(&live, &shm, &l, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&live, &shm))
		cnt_add(TEESHM_CNT_LIVE_FULL, 1);
	e = ev_new(TEESHM_EV_ALLOC, l.api, shm);
	if (!e)
		return true;
	e->ctx = ac ? ac->ctx : tctx;
	e->size = l.size;
	e->flags = l.flags;
	e->flags_known = known;
	e->stack_id = l.stack_id;
	e->caller_ip = l.caller_ip;
	ev_send(e);
	return true;
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

/*
 * fentry/fexit run from a BPF trampoline, which on arm64 pushes two frame
 * records before the program runs: the traced function's (its return
 * address just after the trampoline call, a few bytes into the function)
 * and its caller's.  A stack taken in the program therefore starts with
 * the program and the trampoline; the traced function's frame is found by
 * its address (bpf_get_func_ip), and the caller is the frame after it.
 * Stacks are taken from the traced function on, as a kprobe's start at
 * the probed function.
 */
#define TRAMP_FRAMES 6

static __always_inline u32 tramp_skip(void *ctx, u64 *caller)
{
	u64 ips[TRAMP_FRAMES] = {}, fn = bpf_get_func_ip(ctx);
	u32 i;

	*caller = 0;
	if (bpf_get_stack(ctx, ips, sizeof(ips), 0) <= 0)
		return 0;
	for (i = 0; i < TRAMP_FRAMES - 1; i++) {
		if (ips[i] >= fn && ips[i] < fn + 32) {
			*caller = ips[i + 1];
			return i;
		}
	}
	return 0;
}

/*
 * Frames above the traced function in a trampoline program: the same for
 * every program of this kernel, found once (0: not yet).
 */
__u32 tramp_frames;

static __always_inline s32 stack_id(void *ctx, bool tramp)
{
	u64 caller;
	u32 skip;

	if (!tramp)
		return bpf_get_stackid(ctx, &stacks, 0);
	skip = tramp_frames;
	if (!skip) {
		skip = tramp_skip(ctx, &caller);
		if (skip)
			tramp_frames = skip;
	}
	return bpf_get_stackid(ctx, &stacks, skip & BPF_F_SKIP_FIELD_MASK);
}

static __always_inline int alloc_enter(void *ctx, u8 api, u64 tctx, u64 size,
				       u32 flags, bool flags_known)
{
	struct alloc_call ac = {}, *p;
	u32 t = tid();

	ac.active = 1;
	ac.api = api;
	ac.ctx = tctx;
	ac.size = size;
	ac.flags = flags;
	ac.flags_known = flags_known;
	/*
	 * At function entry the unwinder starts from the caller's frame
	 * record and misses the caller itself (arm64: it is only in LR):
	 * keep the return address.
	 */
	ac.stack_id = bpf_get_stackid(ctx, &stacks, 0);
	ac.caller_ip = entry_ret_ip(ctx);
	p = lookup_or_init(&alloc_calls, &t, &ac);
	if (p)
		*p = ac;
	return 0;
}

static __always_inline int alloc_exit(void *ctx, u64 ret)
{
	struct alloc_call *ac;
	struct teeshm_event *e;
	struct teeshm_live *l;
	u32 t = tid();
	u64 inner;

	ac = bpf_map_lookup_elem(&alloc_calls, &t);
	if (!ac || !ac->active)
		return 0;
	inner = ac->shm;
	if (ret >= (u64)-4095) {
		/*
		 * Failed: a shm that registered inside the call (and whose
		 * registration then failed) was kfree()d without passing
		 * the release path.
		 */
		if (inner) {
			struct teeshm_live *il = bpf_map_lookup_elem(&live, &inner);

			if (il)
				slot_put(il);
			bpf_map_delete_elem(&live, &inner);
			e = ev_new(TEESHM_EV_FREE, ac->api, inner);
			if (e) {
				e->ret = (s32)ret;
				ev_send(e);
			}
		}
	} else if (ret) {
		track_alloc(ctx, false, ret, bpf_map_lookup_elem(&live, &ret),
			    ac->api, 0, ac, false);
		/* in a kretprobe the pc is the real return address */
		l = bpf_map_lookup_elem(&live, &ret);
		if (l && !l->caller_ip)
			l->caller_ip = PT_REGS_IP((struct pt_regs *)ctx);
	}
	ac->active = 0;
	return 0;
}

/*
 * From a trampoline (5.18+, struct tee_shm known from BTF) the return
 * program has the call's arguments with its result: no entry program,
 * no per-thread call record.  A buffer registered inside the call is in
 * the table already (reg_enter: what the record told is read from the
 * shm there); its caller is found here, where the allocation function's
 * frame is.  A failed call whose registration failed: see reg_exit.
 */
static __always_inline int alloc_fexit(void *ctx, u8 api, u64 tctx, u64 ret)
{
	struct teeshm_live *l;

	if (!ret || ret >= (u64)-4095)
		return 0;
	l = bpf_map_lookup_elem(&live, &ret);
	if (l && l->state == TEESHM_LIVE_REGISTERED) {
		/* the stack walk for a registered buffer only */
		if (!l->caller_ip)
			tramp_skip(ctx, &l->caller_ip);
		return 0;
	}
	if (l) {
		/*
		 * An unregistered entry at a new buffer's address: the old
		 * buffer's release was not seen.  Not inherited.
		 */
		cnt_add(TEESHM_CNT_STALE, 1);
		slot_put(l);
		bpf_map_delete_elem(&live, &ret);
	}
	track_alloc(ctx, true, ret, NULL, api, tctx, NULL, false);
	return 0;
}

SEC("kprobe/tee_shm_alloc")
int BPF_KPROBE(shm_alloc_enter, void *tctx, size_t size, u32 flags)
{
	return alloc_enter(ctx, TEESHM_API_SHM_ALLOC, (u64)tctx,
			   size, flags, true);
}

SEC("kretprobe/tee_shm_alloc")
int BPF_KRETPROBE(shm_alloc_exit, void *ret)
{
	return alloc_exit(ctx, (u64)ret);
}

SEC("kprobe/tee_shm_alloc_user_buf")
int BPF_KPROBE(alloc_user_enter, void *tctx, size_t size)
{
	return alloc_enter(ctx, TEESHM_API_ALLOC_USER_BUF, (u64)tctx,
			   size, 0, false);
}

SEC("kretprobe/tee_shm_alloc_user_buf")
int BPF_KRETPROBE(alloc_user_exit, void *ret)
{
	return alloc_exit(ctx, (u64)ret);
}

SEC("kprobe/tee_shm_alloc_kernel_buf")
int BPF_KPROBE(alloc_kernel_enter, void *tctx, size_t size)
{
	return alloc_enter(ctx, TEESHM_API_ALLOC_KERNEL_BUF, (u64)tctx,
			   size, 0, false);
}

SEC("kretprobe/tee_shm_alloc_kernel_buf")
int BPF_KRETPROBE(alloc_kernel_exit, void *ret)
{
	return alloc_exit(ctx, (u64)ret);
}

SEC("kprobe/tee_shm_alloc_priv_buf")
int BPF_KPROBE(alloc_priv_enter, void *tctx, size_t size)
{
	return alloc_enter(ctx, TEESHM_API_ALLOC_PRIV_BUF, (u64)tctx,
			   size, 0, false);
}

SEC("kretprobe/tee_shm_alloc_priv_buf")
int BPF_KRETPROBE(alloc_priv_exit, void *ret)
{
	return alloc_exit(ctx, (u64)ret);
}

SEC("kprobe/tee_shm_register_user_buf")
int BPF_KPROBE(reg_user_enter, void *tctx, unsigned long addr, size_t len)
{
	return alloc_enter(ctx, TEESHM_API_REGISTER_USER_BUF, (u64)tctx,
			   len, 0, false);
}

SEC("kretprobe/tee_shm_register_user_buf")
int BPF_KRETPROBE(reg_user_exit, void *ret)
{
	return alloc_exit(ctx, (u64)ret);
}

SEC("kprobe/tee_shm_register_kernel_buf")
int BPF_KPROBE(reg_kernel_enter, void *tctx, void *addr, size_t len)
{
	return alloc_enter(ctx, TEESHM_API_REGISTER_KERNEL_BUF,
			   (u64)tctx, len, 0, false);
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
	return alloc_enter(ctx, TEESHM_API_SHM_REGISTER, (u64)tctx,
			   len, flags, true);
}

SEC("kretprobe/tee_shm_register")
int BPF_KRETPROBE(shm_register_exit, void *ret)
{
	return alloc_exit(ctx, (u64)ret);
}

/* -------------------------------------------- secure-world registration */

/* This thread's (un)register call in progress: written in place. */
static __always_inline void reg_call_set(u32 t, struct shm_call *c)
{
	struct shm_call *p;

	c->active = 1;
	p = lookup_or_init(&reg_calls, &t, c);
	if (p)
		*p = *c;
}

static __always_inline int reg_enter(void *ctx, bool tramp, void *tctx,
				     u64 shm, u8 api, u64 pages)
{
	struct shm_call c = { .shm = shm, .tctx = (u64)tctx, .api = api,
			      .pages = pages };

	c.made = track_alloc(ctx, tramp, shm, bpf_map_lookup_elem(&live, &shm),
			     TEESHM_API_NONE, (u64)tctx, NULL, true) &&
		 alloc_tramp;
	reg_call_set(tid(), &c);
	return 0;
}

static __always_inline int release_done(u64 shm, u8 api);

static __always_inline int reg_exit(s32 ret, bool reg)
{
	struct teeshm_live *l;
	struct teeshm_event *e;
	struct shm_call *c;
	u32 t = tid();
	u64 shm, pages, tctx;
	u8 api, releasing, made;

	c = bpf_map_lookup_elem(&reg_calls, &t);
	if (!c || !c->active)
		return 0;
	shm = c->shm;
	api = c->api;
	pages = c->pages;
	tctx = c->tctx;
	made = c->made;
	c->active = 0;

	l = bpf_map_lookup_elem(&live, &shm);
	releasing = !reg && l && l->releasing;
	if (reg) {
		cnt_add(ret ? TEESHM_CNT_REG_FAILED : TEESHM_CNT_REGISTERS, 1);
		if (!ret && l) {
			l->state = TEESHM_LIVE_REGISTERED;
			l->ts_ns = bpf_ktime_get_boot_ns();
			l->cookie = shm_cookie(shm);
			/*
			 * Without BTF: a pool buffer is whole pages, and what
			 * is registered is its size; the old REGISTER bit
			 * says "registered in the secure world".
			 */
			if (!SHM_BTF && pages &&
			    l->api == TEESHM_API_SHM_ALLOC)
				l->size = pages << page_shift;
			if (!SHM_BTF && flags_gen == TEESHM_GEN_OLD)
				l->flags |= OLD_SHM_REGISTER;
			slot_get(l, shm);
		}
	} else if (!ret) {
		cnt_add(TEESHM_CNT_UNREGISTERS, 1);
		if (l) {
			l->state = TEESHM_LIVE_ALLOCATED;
			l->ts_ns = bpf_ktime_get_boot_ns();
			slot_put(l);
		}
	}
	e = ev_new(reg ? TEESHM_EV_REGISTER : TEESHM_EV_UNREGISTER, api, shm);
	if (e) {
		e->ret = ret;
		e->cookie = shm;
		e->ctx = tctx;
		if (l) {
			e->size = l->size;
			e->flags = l->flags;
			if (l->cookie)
				e->cookie = l->cookie;
			e->flags_known = 1;
		}
		ev_send(e);
	}
	/* the release's unregistration (see f_shm_put_enter): done now */
	if (releasing)
		release_done(shm, TEESHM_API_SHM_RELEASE);
	/*
	 * With the allocations on fexit: a buffer first seen at a
	 * registration that failed is kfree()d by the allocation call that
	 * registered it, with no release (5.18+: tee_dyn_shm_alloc_helper,
	 * register_shm_helper).  With kprobes, the allocation's return
	 * program sees this.
	 */
	if (reg && ret && made && l) {
		api = l->api;
		bpf_map_delete_elem(&live, &shm);
		e = ev_new(TEESHM_EV_FREE, api, shm);
		if (e) {
			e->ret = ret;
			ev_send(e);
		}
	}
	return 0;
}

SEC("kprobe/optee_shm_register")
int BPF_KPROBE(optee_reg_enter, void *tctx, void *shm, void *pages,
	       size_t num_pages)
{
	return reg_enter(ctx, false, tctx, (u64)shm, TEESHM_API_OPTEE_REGISTER,
			 num_pages);
}

SEC("kretprobe/optee_shm_register")
int BPF_KRETPROBE(optee_reg_exit, int ret)
{
	return reg_exit(ret, true);
}

/* Without BTF: a put that tears the shm down is its release. */
static __always_inline void put_teardown(u64 shm)
{
	struct put_stack *ps;
	u32 t = tid(), d;

	if (SHM_BTF)
		return;
	ps = bpf_map_lookup_elem(&put_calls, &t);
	if (!ps || !ps->depth || ps->depth > PUT_DEPTH)
		return;
	d = put_idx(ps->depth - 1);
	if (ps->e[d].shm == shm)
		ps->e[d].released = 1;
}

static __always_inline int unreg_enter(void *tctx, void *shm, u8 api)
{
	struct shm_call c = { .shm = (u64)shm, .tctx = (u64)tctx, .api = api };

	put_teardown((u64)shm);
	reg_call_set(tid(), &c);
	return 0;
}

SEC("kprobe/optee_shm_unregister")
int BPF_KPROBE(optee_unreg_enter, void *tctx, void *shm)
{
	return unreg_enter(tctx, shm, TEESHM_API_OPTEE_UNREGISTER);
}

/* optee.ko's dynamic pool gives a buffer back (<= 5.17: pool_op_free). */
SEC("kprobe/pool_op_free")
int BPF_KPROBE(pool_free_enter, void *poolm, void *shm)
{
	put_teardown((u64)shm);
	return 0;
}

SEC("kretprobe/optee_shm_unregister")
int BPF_KRETPROBE(optee_unreg_exit, int ret)
{
	return reg_exit(ret, false);
}

SEC("kprobe/optee_ffa_shm_register")
int BPF_KPROBE(ffa_reg_enter, void *tctx, void *shm, void *pages,
	       size_t num_pages)
{
	return reg_enter(ctx, false, tctx, (u64)shm, TEESHM_API_FFA_REGISTER,
			 num_pages);
}

SEC("kretprobe/optee_ffa_shm_register")
int BPF_KRETPROBE(ffa_reg_exit, int ret)
{
	return reg_exit(ret, true);
}

SEC("kprobe/optee_ffa_shm_unregister")
int BPF_KPROBE(ffa_unreg_enter, void *tctx, void *shm)
{
	return unreg_enter(tctx, shm, TEESHM_API_FFA_UNREGISTER);
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
	if (l) {
		if (l->state == TEESHM_LIVE_REGISTERED)
			orphan(shm, l);
		else
			slot_put(l);
		bpf_map_delete_elem(&live, &shm);
	}
	return 0;
}

/*
 * 5.18+: tee_shm_release() is static and inlined into tee_shm_put(); the
 * put that drops the last reference releases (and unregisters) the shm
 * before returning.  The reference count is read at entry.
 */
static __always_inline void put_push(u64 shm, u8 released)
{
	struct put_stack *ps, zero = {};
	u32 t = tid(), d;

	ps = lookup_or_init(&put_calls, &t, &zero);
	if (!ps)
		return;
	d = ps->depth;
	ps->depth = d + 1;
	if (d < PUT_DEPTH) {
		d = put_idx(d);
		ps->e[d].shm = shm;
		ps->e[d].released = released;
		ps->e[d].api = TEESHM_API_SHM_RELEASE;
	}
}

static __always_inline int put_pop(void)
{
	struct put_stack *ps;
	u32 t = tid(), d;
	u64 shm = 0;
	u8 released = 0;

	ps = bpf_map_lookup_elem(&put_calls, &t);
	if (!ps || !ps->depth)
		return 0;
	d = --ps->depth;
	if (d < PUT_DEPTH) {
		u32 i = put_idx(d);

		shm = ps->e[i].shm;
		released = ps->e[i].released;
	}
	if (!released || !shm)
		return 0;
	return release_done(shm, TEESHM_API_SHM_RELEASE);
}

static __always_inline int put_enter(void *shm)
{
	struct tee_shm___teeshm *s = shm;
	u8 released = 0;

	if (SHM_BTF && bpf_core_field_exists(s->refcount))
		/* 5.18+: the put that drops the last reference releases */
		released = shm && BPF_CORE_READ(s, refcount.refs.counter) == 1;
	/*
	 * Without BTF (5.10): no reference count to read; the put is the
	 * release if the shm is unregistered or given back to the pool
	 * during it (put_teardown); tee_shm_release() is inlined here.
	 */
	put_push((u64)shm, released);
	return 0;
}

SEC("kprobe/tee_shm_put")
int BPF_KPROBE(shm_put_enter, void *shm)
{
	return put_enter(shm);
}

SEC("kretprobe/tee_shm_put")
int BPF_KRETPROBE(shm_put_exit)
{
	return put_pop();
}

/* Kernels where tee_shm_release(shm) is a function of its own. */
SEC("kprobe/tee_shm_release")
int BPF_KPROBE(shm_release_enter, void *shm)
{
	put_push((u64)shm, 1);
	return 0;
}

SEC("kretprobe/tee_shm_release")
int BPF_KRETPROBE(shm_release_exit)
{
	return put_pop();
}

/* ------------------------------------------------ fentry / fexit */

/*
 * The same handlers called from BPF trampolines, where the kernel has them
 * (ftrace direct calls: arm64 6.4+, x86 5.5+) and the function has BTF:
 * no breakpoint trap per call.  Kernels of 5.18 and later only (the
 * functions of older ones stay on kprobes).  User space loads either these
 * or the kprobes of a function, never both; not autoloaded, so that the
 * object loads where BTF or the helpers they use are missing (5.10).
 * An fexit program runs when its call returns, from the trampoline that
 * called the function: unlike a kretprobe it needs no instance, so no
 * return can be missed.
 */
/*
 * Allocation functions: a return program only (alloc_fexit), which has
 * the arguments too.
 */
SEC("fexit/tee_shm_alloc_user_buf")
int BPF_PROG(f_alloc_user_exit, void *tctx, size_t size, void *ret)
{
	return alloc_fexit(ctx, TEESHM_API_ALLOC_USER_BUF, (u64)tctx,
			   (u64)ret);
}

SEC("fexit/tee_shm_alloc_kernel_buf")
int BPF_PROG(f_alloc_kernel_exit, void *tctx, size_t size, void *ret)
{
	return alloc_fexit(ctx, TEESHM_API_ALLOC_KERNEL_BUF, (u64)tctx,
			   (u64)ret);
}

SEC("fexit/tee_shm_alloc_priv_buf")
int BPF_PROG(f_alloc_priv_exit, void *tctx, size_t size, void *ret)
{
	return alloc_fexit(ctx, TEESHM_API_ALLOC_PRIV_BUF, (u64)tctx,
			   (u64)ret);
}

SEC("fexit/tee_shm_register_user_buf")
int BPF_PROG(f_reg_user_exit, void *tctx, unsigned long addr, size_t len,
	     void *ret)
{
	return alloc_fexit(ctx, TEESHM_API_REGISTER_USER_BUF, (u64)tctx,
			   (u64)ret);
}

SEC("fexit/tee_shm_register_kernel_buf")
int BPF_PROG(f_reg_kernel_exit, void *tctx, void *addr, size_t len,
	     void *ret)
{
	return alloc_fexit(ctx, TEESHM_API_REGISTER_KERNEL_BUF, (u64)tctx,
			   (u64)ret);
}

SEC("fentry/optee_shm_register")
int BPF_PROG(f_optee_reg_enter, void *tctx, void *shm, void *pages,
	     size_t num_pages)
{
	return reg_enter(ctx, true, tctx, (u64)shm, TEESHM_API_OPTEE_REGISTER,
			 num_pages);
}

SEC("fexit/optee_shm_register")
int BPF_PROG(f_optee_reg_exit, void *tctx, void *shm, void *pages,
	     size_t num_pages, unsigned long start, int ret)
{
	return reg_exit(ret, true);
}

SEC("fentry/optee_shm_unregister")
int BPF_PROG(f_optee_unreg_enter, void *tctx, void *shm)
{
	return unreg_enter(tctx, shm, TEESHM_API_OPTEE_UNREGISTER);
}

SEC("fexit/optee_shm_unregister")
int BPF_PROG(f_optee_unreg_exit, void *tctx, void *shm, int ret)
{
	return reg_exit(ret, false);
}

SEC("fentry/optee_ffa_shm_register")
int BPF_PROG(f_ffa_reg_enter, void *tctx, void *shm, void *pages,
	     size_t num_pages)
{
	return reg_enter(ctx, true, tctx, (u64)shm, TEESHM_API_FFA_REGISTER,
			 num_pages);
}

SEC("fexit/optee_ffa_shm_register")
int BPF_PROG(f_ffa_reg_exit, void *tctx, void *shm, void *pages,
	     size_t num_pages, unsigned long start, int ret)
{
	return reg_exit(ret, true);
}

SEC("fentry/optee_ffa_shm_unregister")
int BPF_PROG(f_ffa_unreg_enter, void *tctx, void *shm)
{
	return unreg_enter(tctx, shm, TEESHM_API_FFA_UNREGISTER);
}

SEC("fexit/optee_ffa_shm_unregister")
int BPF_PROG(f_ffa_unreg_exit, void *tctx, void *shm, int ret)
{
	return reg_exit(ret, false);
}

/*
 * From a trampoline, no return program: a buffer is put about ten times
 * per TEE call (every parameter reference), and a return program would
 * run for each.  Only the put of the last reference matters: an
 * unregistered buffer is released there and then; a registered one is
 * released by the unregistration that put does (tee_shm_release() ->
 * the pool's free or the driver's shm_unregister), at its return
 * (reg_exit): unregistered, or kept as an orphan if that failed.
 */
SEC("fentry/tee_shm_put")
int BPF_PROG(f_shm_put_enter, struct tee_shm___teeshm *shm)
{
	struct teeshm_live *l;
	u64 key = 0;

	/* a direct load: the argument is typed (BTF), no probe read */
	if (!shm || shm->refcount.refs.counter != 1)
		return 0;
	/*
	 * The address as a number: the verifier keeps shm a pointer through
	 * casts, and an orphan's key (the address | 1) is arithmetic on it.
	 */
	bpf_get_func_arg(ctx, 0, &key);
	l = bpf_map_lookup_elem(&live, &key);
	if (!l)
		return 0;
	if (l->state == TEESHM_LIVE_REGISTERED) {
		l->releasing = 1;
		return 0;
	}
	return release_done(key, TEESHM_API_SHM_RELEASE);
}

/* --------------------------------------------------------------- kexec */

/* Snapshot state: one kexec at a time, on one CPU. */
__u32 snap_count;

static __always_inline void snap_emit(u64 shm, struct teeshm_live *l)
{
	struct teeshm_event *e;

	if (l->state != TEESHM_LIVE_REGISTERED)
		return;
	if (l->orphaned)
		shm = l->shm;	/* the key is not the address */
	snap_count++;
	e = ev_new(TEESHM_EV_SNAPSHOT, TEESHM_API_KEXEC, shm);
	if (e) {
		e->kind = l->orphaned;
		e->size = l->size;
		e->flags = l->flags;
		e->cookie = l->cookie;
		e->stack_id = l->stack_id;
		e->caller_ip = l->caller_ip;
		e->pid = l->pid;
		e->flags_known = 1;
		__builtin_memcpy(e->comm, l->comm, sizeof(e->comm));
		ev_send(e);
	}
	if (console_report) {
		char id[17];

		teeshm_id_hex(id, teeshm_hash64(id_key0, id_key1, shm));
		/*
		 * Formats that 5.10's bpf_trace_printk takes too: one %s (the
		 * id, 16 digits as `teeshm-trace id` prints it: 5.10 has no
		 * field widths), %pB (symbol+offset of a return address,
		 * never the raw address).
		 */
		bpf_printk("teeshm-trace: kexec-registered id=%s size=%llu flags=0x%x",
			   id, l->size, l->flags);
		if (l->caller_ip)
			bpf_printk("teeshm-trace: kexec-site id=%s pid=%u site=%pB",
				   id, l->pid, (void *)l->caller_ip);
		if (l->orphaned)
			bpf_printk("teeshm-trace: kexec-orphan id=%s", id);
		/*
		 * FF-A: the global handle the secure world logs the share
		 * under (not an address; under the SMC ABI the cookie is the
		 * shm's address, which is never printed).
		 */
		if (l->cookie && l->cookie != shm)
			bpf_printk("teeshm-trace: kexec-handle id=%s handle=0x%llx",
				   id, l->cookie);
	}
}

static long snap_one(void *map, u64 *key, struct teeshm_live *l, void *unused)
{
	snap_emit(*key, l);
	return 0;
}

/*
 * One snapshot slot (kernels without bpf_for_each_map_elem).  A global
 * function: the verifier checks it once, not once per loop iteration.
 */
__noinline int snap_slot(u32 i)
{
	struct teeshm_live *l;
	u64 *p, shm;

	p = bpf_map_lookup_elem(&snap_slots, &i);
	if (!p || !*p)
		return 0;
	shm = *p;
	l = bpf_map_lookup_elem(&live, &shm);
	if (l)
		snap_emit(shm, l);
	return 0;
}

/*
 * The report of what is registered at kexec: the KEXEC event, then one
 * SNAPSHOT per registered buffer (and the console lines).  foreach walks
 * the live table with bpf_for_each_map_elem, else the snapshot slots.
 *
 * Why two programs per probe point, not a const volatile switch: a program
 * that merely contains bpf_for_each_map_elem - its callback's address is a
 * BPF_PSEUDO_FUNC ld_imm64 - is refused by 5.10 whatever branch it sits
 * in: resolve_pseudo_ldimm64() checks every instruction before any branch
 * is pruned ("unrecognized bpf_ld_imm64 insn"), and pseudo-func
 * ld_imm64 came in 5.13 with the helper.  Everything else is one program
 * configured before load (console_report).
 */
static __always_inline int kexec_event(bool foreach)
{
	struct teeshm_event *e;
	u8 kind = crash_in_progress ? TEESHM_KEXEC_CRASH : TEESHM_KEXEC_NORMAL;
	u32 i;

	cnt_add(TEESHM_CNT_KEXECS, 1);
	e = ev_new(TEESHM_EV_KEXEC, TEESHM_API_KEXEC, 0);
	if (e) {
		e->kind = kind;
		ev_send(e);
	}
	snap_count = 0;
	if (console_report)
		bpf_printk("teeshm-trace: kexec-begin kind=%s",
			   kind ? "crash" : "kexec");
	if (foreach) {
		bpf_for_each_map_elem(&live, snap_one, NULL, 0);
	} else {
		for (i = 0; i < TEESHM_SNAP_SLOTS; i++)
			snap_slot(i);
	}
	if (console_report) {
		u64 *lost, *full;
		u32 li = TEESHM_CNT_LOST, fi = TEESHM_CNT_SNAP_FULL;

		lost = bpf_map_lookup_elem(&counters, &li);
		full = bpf_map_lookup_elem(&counters, &fi);
		/* a buffer without a snapshot slot is missing from the report */
		bpf_printk("teeshm-trace: kexec-end registered=%u lost=%llu",
			   snap_count, (lost ? *lost : 0) + (full ? *full : 0));
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
 * machine_kexec() takes it if kmsg_dump() did not.  User space loads the
 * foreach or the slots program of each pair.
 */
#define KMSG_DUMP_SHUTDOWN_REASON 4

static __always_inline int at_kmsg_dump(int reason, bool foreach)
{
	if (!kexec_started || snapshot_done ||
	    reason != KMSG_DUMP_SHUTDOWN_REASON)
		return 0;
	snapshot_done = 1;
	return kexec_event(foreach);
}

static __always_inline int at_machine_kexec(bool foreach)
{
	if (snapshot_done)
		return 0;
	snapshot_done = 1;
	return kexec_event(foreach);
}

SEC("kprobe/kernel_kexec")
int BPF_KPROBE(kexec_enter)
{
	kexec_started = 1;
	snapshot_done = 0;
	return 0;
}

SEC("kprobe/kmsg_dump")
int BPF_KPROBE(kmsg_foreach, int reason)
{
	return at_kmsg_dump(reason, true);
}

SEC("kprobe/kmsg_dump")
int BPF_KPROBE(kmsg_slots, int reason)
{
	return at_kmsg_dump(reason, false);
}

SEC("kprobe/machine_kexec")
int BPF_KPROBE(kexec_foreach)
{
	return at_machine_kexec(true);
}

SEC("kprobe/machine_kexec")
int BPF_KPROBE(kexec_slots)
{
	return at_machine_kexec(false);
}

SEC("kprobe/__crash_kexec")
int BPF_KPROBE(crash_enter)
{
	crash_in_progress = 1;
	return 0;
}
