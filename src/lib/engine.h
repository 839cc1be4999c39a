/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * engine.h - the pairing engine: a library with no libbpf dependency, used
 * by live tracing, replay and the unit tests alike.
 *
 * Input is a stream of normalised events (struct tse_event), whatever their
 * source (ring buffer, JSONL trace).  Per buffer it follows
 * alloc -> register -> unregister -> free, survives address reuse, and
 * reports findings.
 */
#ifndef TEESHM_ENGINE_H
#define TEESHM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flags.h"
#include "teeshm_event.h"

#define TSE_CALLER_LEN	128

/*
 * One event, whatever its source; its vocabulary is the ABI's
 * (teeshm_event.h), its flags are decoded (flags.h).
 */
struct tse_event {
	uint64_t ts_ns;
	int type;		/* enum teeshm_ev_type, but SNAPSHOT */
	uint64_t shm;
	uint64_t ctx;
	uint64_t cookie;
	uint64_t size;
	uint32_t flags;		/* canonical TSE_F_* */
	int32_t ret;		/* register/unregister: non-zero = failed */
	int32_t pid;		/* -1 if unknown */
	int kind;		/* enum teeshm_kexec_kind, on a kexec */
	bool has_size, has_flags, has_ctx, has_cookie;
	char comm[TEESHM_COMM_LEN];	/* "" if unknown */
	char caller[TSE_CALLER_LEN];	/* allocation site, "" if unknown */
};

enum tse_finding_kind {
	TSE_FIND_PRIV_REGISTERED = 1,	/* a PRIV buffer was registered */
	TSE_FIND_DOUBLE_REGISTER,	/* registered while registered */
	TSE_FIND_UNREGISTER_UNKNOWN,	/* unregister of a buffer not registered */
	TSE_FIND_FREE_WHILE_REGISTERED,	/* released while still registered */
	TSE_FIND_FAILED_REGISTER,	/* failed registration left without cleanup */
	TSE_FIND_REGISTERED_AT_KEXEC,	/* still registered at a kexec */
};

/* JSON/CLI name: "priv_registered", ... */
const char *tse_finding_name(int kind);

/*
 * Everything the engine knows about one buffer (one incarnation of an
 * address), as handed out.  The engine keeps live buffers more compactly
 * (64 bytes each, strings interned) and makes a tse_buf when asked.
 */
struct tse_buf {
	uint64_t shm;
	uint64_t cookie;
	uint64_t size;
	uint32_t flags;
	bool registered;
	bool freed;
	bool seen_alloc;	/* false: first seen at register (trace began late) */
	bool failed_register;	/* last registration attempt failed */
	int32_t pid;
	uint32_t generation;	/* incarnation of this address (address reuse) */
	uint64_t ts_alloc_ns;
	uint64_t ts_reg_ns;
	char comm[TEESHM_COMM_LEN];
	const char *caller;	/* interned by the engine, "" if unknown */
};

struct tse_finding {
	int kind;		/* enum tse_finding_kind */
	uint64_t ts_ns;
	uint64_t kexec_index;	/* for REGISTERED_AT_KEXEC: which kexec (0-based) */
	struct tse_buf buf;	/* state of the buffer when found */
};

struct tse_engine;

struct tse_engine *tse_new(void);
void tse_free(struct tse_engine *e);

/*
 * Feed one event.  Returns 0, -EINVAL for an event that is malformed in
 * itself (unknown type), or -ENOMEM.  Findings are recorded, not returned.
 *
 * Semantics, per buffer (keyed by shm address):
 * - alloc on an address still alive: the previous incarnation was released
 *   unseen (lost events); a new incarnation starts, without a finding.  If
 *   the previous one was registered it becomes an orphan (below): nothing
 *   says it was unregistered.
 * - register, ret == 0: registered.  PRIV set -> priv_registered; already
 *   registered -> double_register.  A register on an unknown address
 *   creates the buffer (seen_alloc = false: the trace began late).
 * - register, ret != 0: the attempt is remembered (failed_register); it is
 *   cleaned up by a later successful register, an unregister, or the free.
 * - unregister of an address not registered -> unregister_unknown; with
 *   ret != 0 the buffer stays registered.
 * - free: the release completed; registered at that point ->
 *   free_while_registered, and the buffer becomes an orphan: still
 *   registered in the secure world, with nothing left to unregister it, it
 *   is in every later kexec snapshot (freed = true).  Free of an unknown
 *   address is ignored.
 * - kexec: every buffer registered now -> registered_at_kexec.
 * - tse_finish(): a buffer still alive whose last registration failed and
 *   was never cleaned up -> failed_register.
 */
int tse_feed(struct tse_engine *e, const struct tse_event *ev);

/*
 * End of input: buffers whose last registration failed and were never
 * cleaned up become TSE_FIND_FAILED_REGISTER.  Call once before reading
 * the final findings.
 */
void tse_finish(struct tse_engine *e);

/* Findings, in the order they were found. */
size_t tse_findings(const struct tse_engine *e, const struct tse_finding **out);

/*
 * Buffers registered at the last kexec event (a copy taken when it was fed),
 * sorted by shm.  Returns the count; *out valid until the next tse_feed().
 */
size_t tse_registered_at_last_kexec(const struct tse_engine *e,
				    const struct tse_buf **out);

/*
 * Orphans: buffers released while registered (freed = true), in the order
 * they were released.  Returns the count; *out valid until the next
 * tse_feed().
 */
size_t tse_orphans(const struct tse_engine *e, const struct tse_buf **out);

/*
 * Walk the buffers alive now (not freed), sorted by shm; cb returns non-zero
 * to stop.  b is the engine's copy for this call: valid until cb returns.
 */
typedef int (*tse_walk_fn)(const struct tse_buf *b, void *arg);
void tse_walk_live(const struct tse_engine *e, tse_walk_fn cb, void *arg);

/* Statistics */
struct tse_stats {
	uint64_t events;
	uint64_t allocs, registers, unregisters, frees, kexecs;
	uint64_t register_failures, unregister_failures;
	uint64_t live, registered_now, registered_bytes;	/* with orphans */
	uint64_t orphans;	/* released while registered */
};
void tse_get_stats(const struct tse_engine *e, struct tse_stats *st);

#endif /* TEESHM_ENGINE_H */
