// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_engine.c - the pairing engine, including the seed thread's
 * scenarios (TEE_SHM_PRIV, the rpc.c/call.c allocations, kexec).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine.h"
#include "teeshm_event.h"
#include "teeshm_hash.h"

static uint64_t ts;

static struct tse_event ev(int type, uint64_t shm)
{
	struct tse_event e;

	memset(&e, 0, sizeof(e));
	e.type = type;
	e.shm = shm;
	e.pid = -1;
	e.ts_ns = ++ts;
	return e;
}

static void feed(struct tse_engine *e, int type, uint64_t shm, uint64_t size,
		 uint32_t flags, int32_t ret)
{
	struct tse_event x = ev(type, shm);

	if (type == TEESHM_EV_ALLOC) {
		x.has_size = x.has_flags = true;
		x.size = size;
		x.flags = flags;
	}
	x.ret = ret;
	assert_int_equal(tse_feed(e, &x), 0);
}

static size_t count_kind(struct tse_engine *e, int kind)
{
	const struct tse_finding *f;
	size_t n = tse_findings(e, &f), i, c = 0;

	for (i = 0; i < n; i++)
		c += f[i].kind == kind;
	return c;
}

static const struct tse_finding *first_kind(struct tse_engine *e, int kind)
{
	const struct tse_finding *f;
	size_t n = tse_findings(e, &f), i;

	for (i = 0; i < n; i++)
		if (f[i].kind == kind)
			return &f[i];
	return NULL;
}

static size_t nfindings(struct tse_engine *e)
{
	const struct tse_finding *f;

	return tse_findings(e, &f);
}

static uint64_t kexecs(struct tse_engine *e)
{
	struct tse_stats st;

	tse_get_stats(e, &st);
	return st.kexecs;
}

/* 5.10 pre-patch logic: DMA_BUF buffers registered, unregistered, freed. */
static void test_dmabuf_clean(void **state)
{
	struct tse_engine *e = tse_new();
	uint32_t fl = TSE_F_MAPPED | TSE_F_DMA_BUF | TSE_F_POOL;
	uint64_t a;

	(void)state;
	for (a = 0x1000; a < 0x1000 + 16 * 0x100; a += 0x100) {
		feed(e, TEESHM_EV_ALLOC, a, 4096, fl, 0);
		feed(e, TEESHM_EV_REGISTER, a, 0, 0, 0);
	}
	for (a = 0x1000; a < 0x1000 + 16 * 0x100; a += 0x100) {
		feed(e, TEESHM_EV_UNREGISTER, a, 0, 0, 0);
		feed(e, TEESHM_EV_FREE, a, 0, 0, 0);
	}
	feed(e, TEESHM_EV_KEXEC, 0, 0, 0, 0);
	tse_finish(e);
	assert_int_equal(nfindings(e), 0);
	assert_int_equal(kexecs(e), 1);
	tse_free(e);
}

/*
 * The seed's bug: with registration no longer gated on DMA_BUF, the
 * driver-private allocations of rpc.c / call.c (PRIV) got registered.
 */
static void test_priv_registered(void **state)
{
	struct tse_engine *e = tse_new();
	const struct tse_finding *f;

	(void)state;
	feed(e, TEESHM_EV_ALLOC, 0xa000, 4096, TSE_F_MAPPED | TSE_F_PRIV, 0);
	feed(e, TEESHM_EV_REGISTER, 0xa000, 0, 0, 0);
	feed(e, TEESHM_EV_ALLOC, 0xb000, 4096, TSE_F_MAPPED | TSE_F_PRIV, 0);
	feed(e, TEESHM_EV_REGISTER, 0xb000, 0, 0, 0);
	feed(e, TEESHM_EV_UNREGISTER, 0xb000, 0, 0, 0);
	feed(e, TEESHM_EV_FREE, 0xb000, 0, 0, 0);
	tse_finish(e);
	assert_int_equal(count_kind(e, TSE_FIND_PRIV_REGISTERED), 2);
	f = first_kind(e, TSE_FIND_PRIV_REGISTERED);
	assert_non_null(f);
	assert_int_equal(f->buf.shm, 0xa000);
	assert_true(f->buf.flags & TSE_F_PRIV);
	tse_free(e);
}

/* PRIV buffers allocated and freed without registration: clean. */
static void test_priv_not_registered_is_clean(void **state)
{
	struct tse_engine *e = tse_new();

	(void)state;
	feed(e, TEESHM_EV_ALLOC, 0xa000, 4096, TSE_F_POOL | TSE_F_PRIV, 0);
	feed(e, TEESHM_EV_FREE, 0xa000, 0, 0, 0);
	feed(e, TEESHM_EV_KEXEC, 0, 0, 0, 0);
	tse_finish(e);
	assert_int_equal(nfindings(e), 0);
	tse_free(e);
}

/* A buffer still registered at kexec: the optee-rng case. */
static void test_registered_at_kexec(void **state)
{
	struct tse_engine *e = tse_new();
	const struct tse_buf *snap;
	const struct tse_finding *f;
	struct tse_event x;

	(void)state;
	x = ev(TEESHM_EV_ALLOC, 0xc000);
	x.has_size = x.has_flags = true;
	x.size = 4096;
	x.flags = TSE_F_DYNAMIC | TSE_F_POOL;
	strcpy(x.caller, "optee_rng_init+0x30 [optee_rng]");
	strcpy(x.comm, "insmod");
	assert_int_equal(tse_feed(e, &x), 0);
	feed(e, TEESHM_EV_REGISTER, 0xc000, 0, 0, 0);
	feed(e, TEESHM_EV_ALLOC, 0xd000, 8192, TSE_F_DYNAMIC, 0);
	feed(e, TEESHM_EV_REGISTER, 0xd000, 0, 0, 0);
	feed(e, TEESHM_EV_UNREGISTER, 0xd000, 0, 0, 0);
	feed(e, TEESHM_EV_FREE, 0xd000, 0, 0, 0);
	feed(e, TEESHM_EV_KEXEC, 0, 0, 0, 0);
	assert_int_equal(tse_registered_at_last_kexec(e, &snap), 1);
	assert_int_equal(snap[0].shm, 0xc000);
	assert_int_equal(snap[0].size, 4096);
	assert_string_equal(snap[0].caller, "optee_rng_init+0x30 [optee_rng]");
	assert_string_equal(snap[0].comm, "insmod");
	assert_int_equal(snap[0].cookie, 0xc000);
	f = first_kind(e, TSE_FIND_REGISTERED_AT_KEXEC);
	assert_non_null(f);
	assert_int_equal(f->kexec_index, 0);
	tse_finish(e);
	assert_int_equal(count_kind(e, TSE_FIND_REGISTERED_AT_KEXEC), 1);
	assert_int_equal(nfindings(e), 1);
	tse_free(e);
}

/* Snapshot at each kexec; the last one wins for registered_at_last_kexec. */
static void test_two_kexecs(void **state)
{
	struct tse_engine *e = tse_new();
	const struct tse_buf *snap;
	const struct tse_finding *f;
	size_t n, i;

	(void)state;
	feed(e, TEESHM_EV_ALLOC, 0x1000, 4096, TSE_F_DYNAMIC, 0);
	feed(e, TEESHM_EV_REGISTER, 0x1000, 0, 0, 0);
	feed(e, TEESHM_EV_KEXEC, 0, 0, 0, 0);
	feed(e, TEESHM_EV_UNREGISTER, 0x1000, 0, 0, 0);
	feed(e, TEESHM_EV_FREE, 0x1000, 0, 0, 0);
	feed(e, TEESHM_EV_KEXEC, 0, 0, 0, 0);
	assert_int_equal(tse_registered_at_last_kexec(e, &snap), 0);
	assert_int_equal(kexecs(e), 2);
	n = tse_findings(e, &f);
	for (i = 0; i < n; i++)
		assert_int_equal(f[i].kexec_index, 0);
	assert_int_equal(count_kind(e, TSE_FIND_REGISTERED_AT_KEXEC), 1);
	tse_free(e);
}

/* Address reuse: no false finding; a leak on the 2nd incarnation is its own. */
static void test_address_reuse(void **state)
{
	struct tse_engine *e = tse_new();
	const struct tse_buf *snap;
	uint32_t gen1;

	(void)state;
	feed(e, TEESHM_EV_ALLOC, 0x5000, 4096, TSE_F_DYNAMIC, 0);
	feed(e, TEESHM_EV_REGISTER, 0x5000, 0, 0, 0);
	feed(e, TEESHM_EV_UNREGISTER, 0x5000, 0, 0, 0);
	feed(e, TEESHM_EV_FREE, 0x5000, 0, 0, 0);
	feed(e, TEESHM_EV_KEXEC, 0, 0, 0, 0);
	assert_int_equal(tse_registered_at_last_kexec(e, &snap), 0);
	feed(e, TEESHM_EV_ALLOC, 0x5000, 16384, TSE_F_DYNAMIC | TSE_F_POOL, 0);
	feed(e, TEESHM_EV_REGISTER, 0x5000, 0, 0, 0);
	feed(e, TEESHM_EV_KEXEC, 0, 0, 0, 0);
	assert_int_equal(tse_registered_at_last_kexec(e, &snap), 1);
	assert_int_equal(snap[0].size, 16384);
	gen1 = snap[0].generation;
	assert_true(gen1 >= 2);
	assert_int_equal(count_kind(e, TSE_FIND_DOUBLE_REGISTER), 0);
	assert_int_equal(count_kind(e, TSE_FIND_REGISTERED_AT_KEXEC), 1);
	tse_free(e);
}

/*
 * An alloc on a live address: the old one was released unseen.  Nothing
 * said it was unregistered: it stays registered, as an orphan; an old one
 * that was not registered is simply gone.
 */
static void test_alloc_on_live_address(void **state)
{
	struct tse_engine *e = tse_new();
	const struct tse_buf *orph;
	struct tse_stats st;

	(void)state;
	feed(e, TEESHM_EV_ALLOC, 0x6000, 4096, TSE_F_DYNAMIC, 0);
	feed(e, TEESHM_EV_REGISTER, 0x6000, 0, 0, 0);
	feed(e, TEESHM_EV_ALLOC, 0x6000, 8192, TSE_F_DYNAMIC, 0);
	feed(e, TEESHM_EV_REGISTER, 0x6000, 0, 0, 0);
	feed(e, TEESHM_EV_ALLOC, 0x7000, 4096, TSE_F_DYNAMIC, 0);
	feed(e, TEESHM_EV_ALLOC, 0x7000, 4096, TSE_F_DYNAMIC, 0);
	tse_finish(e);
	assert_int_equal(count_kind(e, TSE_FIND_DOUBLE_REGISTER), 0);
	assert_int_equal(count_kind(e, TSE_FIND_FREE_WHILE_REGISTERED), 0);
	tse_get_stats(e, &st);
	assert_int_equal(st.live, 2);
	assert_int_equal(st.orphans, 1);
	assert_int_equal(st.registered_now, 2);
	assert_int_equal(tse_orphans(e, &orph), 1);
	assert_int_equal(orph[0].size, 4096);
	assert_true(orph[0].freed);
	tse_free(e);
}

static void test_failed_register_left(void **state)
{
	struct tse_engine *e = tse_new();
	const struct tse_finding *f;
	struct tse_stats st;

	(void)state;
	feed(e, TEESHM_EV_ALLOC, 0x7000, 4096, TSE_F_DYNAMIC, 0);
	feed(e, TEESHM_EV_REGISTER, 0x7000, 0, 0, -12);
	feed(e, TEESHM_EV_KEXEC, 0, 0, 0, 0);
	assert_int_equal(count_kind(e, TSE_FIND_REGISTERED_AT_KEXEC), 0);
	tse_finish(e);
	tse_finish(e);	/* idempotent */
	assert_int_equal(count_kind(e, TSE_FIND_FAILED_REGISTER), 1);
	f = first_kind(e, TSE_FIND_FAILED_REGISTER);
	assert_int_equal(f->buf.shm, 0x7000);
	tse_get_stats(e, &st);
	assert_int_equal(st.register_failures, 1);
	assert_int_equal(st.registers, 0);
	tse_free(e);
}

static void test_failed_register_cleaned(void **state)
{
	struct tse_engine *e = tse_new();

	(void)state;
	/* freed after the failure */
	feed(e, TEESHM_EV_ALLOC, 0x7000, 4096, TSE_F_DYNAMIC, 0);
	feed(e, TEESHM_EV_REGISTER, 0x7000, 0, 0, -22);
	feed(e, TEESHM_EV_FREE, 0x7000, 0, 0, 0);
	/* retried successfully, then released properly */
	feed(e, TEESHM_EV_ALLOC, 0x8000, 4096, TSE_F_DYNAMIC, 0);
	feed(e, TEESHM_EV_REGISTER, 0x8000, 0, 0, -16);
	feed(e, TEESHM_EV_REGISTER, 0x8000, 0, 0, 0);
	feed(e, TEESHM_EV_UNREGISTER, 0x8000, 0, 0, 0);
	feed(e, TEESHM_EV_FREE, 0x8000, 0, 0, 0);
	tse_finish(e);
	assert_int_equal(nfindings(e), 0);
	tse_free(e);
}

static void test_double_register(void **state)
{
	struct tse_engine *e = tse_new();

	(void)state;
	feed(e, TEESHM_EV_ALLOC, 0x9000, 4096, TSE_F_DYNAMIC, 0);
	feed(e, TEESHM_EV_REGISTER, 0x9000, 0, 0, 0);
	feed(e, TEESHM_EV_REGISTER, 0x9000, 0, 0, 0);
	assert_int_equal(count_kind(e, TSE_FIND_DOUBLE_REGISTER), 1);
	tse_free(e);
}

static void test_unregister_unknown(void **state)
{
	struct tse_engine *e = tse_new();
	const struct tse_finding *f;

	(void)state;
	feed(e, TEESHM_EV_UNREGISTER, 0xdead00, 0, 0, 0);
	feed(e, TEESHM_EV_ALLOC, 0x9000, 4096, TSE_F_DYNAMIC, 0);
	feed(e, TEESHM_EV_UNREGISTER, 0x9000, 0, 0, 0);
	assert_int_equal(count_kind(e, TSE_FIND_UNREGISTER_UNKNOWN), 2);
	f = first_kind(e, TSE_FIND_UNREGISTER_UNKNOWN);
	assert_int_equal(f->buf.shm, 0xdead00);
	/* a failed unregister keeps the buffer registered, no finding */
	feed(e, TEESHM_EV_REGISTER, 0x9000, 0, 0, 0);
	feed(e, TEESHM_EV_UNREGISTER, 0x9000, 0, 0, -5);
	feed(e, TEESHM_EV_KEXEC, 0, 0, 0, 0);
	assert_int_equal(count_kind(e, TSE_FIND_UNREGISTER_UNKNOWN), 2);
	assert_int_equal(count_kind(e, TSE_FIND_REGISTERED_AT_KEXEC), 1);
	tse_free(e);
}

static void test_free_while_registered(void **state)
{
	struct tse_engine *e = tse_new();
	struct tse_stats st;

	(void)state;
	feed(e, TEESHM_EV_ALLOC, 0x9000, 4096, TSE_F_DYNAMIC, 0);
	feed(e, TEESHM_EV_REGISTER, 0x9000, 0, 0, 0);
	feed(e, TEESHM_EV_FREE, 0x9000, 0, 0, 0);
	assert_int_equal(count_kind(e, TSE_FIND_FREE_WHILE_REGISTERED), 1);
	tse_get_stats(e, &st);
	assert_int_equal(st.live, 0);
	/* free of an address never seen: ignored */
	feed(e, TEESHM_EV_FREE, 0x12345, 0, 0, 0);
	assert_int_equal(nfindings(e), 1);
	tse_free(e);
}

/*
 * Released while registered: the secure world still holds it, so it stays
 * in every later snapshot and in the registered count (an orphan), even
 * when its address comes back as a new buffer at once.
 */
static void test_orphan_in_snapshot(void **state)
{
	struct tse_engine *e = tse_new();
	const struct tse_buf *snap, *orph;
	struct tse_stats st;
	size_t i, n;
	int orphans = 0, fresh = 0;

	(void)state;
	feed(e, TEESHM_EV_ALLOC, 0x9000, 8192, TSE_F_DYNAMIC, 0);
	feed(e, TEESHM_EV_REGISTER, 0x9000, 0, 0, 0);
	feed(e, TEESHM_EV_UNREGISTER, 0x9000, 0, 0, -16);	/* busy: kept */
	feed(e, TEESHM_EV_FREE, 0x9000, 0, 0, 0);
	assert_int_equal(count_kind(e, TSE_FIND_FREE_WHILE_REGISTERED), 1);
	/* the address comes back, registered and released cleanly */
	feed(e, TEESHM_EV_ALLOC, 0x9000, 4096, TSE_F_DYNAMIC, 0);
	feed(e, TEESHM_EV_REGISTER, 0x9000, 0, 0, 0);
	tse_get_stats(e, &st);
	assert_int_equal(st.live, 1);
	assert_int_equal(st.orphans, 1);
	assert_int_equal(st.registered_now, 2);
	assert_int_equal(st.registered_bytes, 8192 + 4096);
	feed(e, TEESHM_EV_KEXEC, 0, 0, 0, 0);
	n = tse_registered_at_last_kexec(e, &snap);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++) {
		assert_int_equal(snap[i].shm, 0x9000);
		if (snap[i].freed) {
			orphans++;
			assert_int_equal(snap[i].size, 8192);
		} else {
			fresh++;
			assert_int_equal(snap[i].size, 4096);
		}
	}
	assert_int_equal(orphans, 1);
	assert_int_equal(fresh, 1);
	feed(e, TEESHM_EV_UNREGISTER, 0x9000, 0, 0, 0);
	feed(e, TEESHM_EV_FREE, 0x9000, 0, 0, 0);
	/* only the orphan is left, at the next kexec too */
	feed(e, TEESHM_EV_KEXEC, 0, 0, 0, 0);
	n = tse_registered_at_last_kexec(e, &snap);
	assert_int_equal(n, 1);
	assert_true(snap[0].freed);
	assert_int_equal(tse_orphans(e, &orph), 1);
	assert_int_equal(orph[0].size, 8192);
	assert_int_equal(count_kind(e, TSE_FIND_FREE_WHILE_REGISTERED), 1);
	tse_free(e);
}

/* Trace started late: register without alloc, seen_alloc false. */
static void test_register_without_alloc(void **state)
{
	struct tse_engine *e = tse_new();
	const struct tse_buf *snap;
	struct tse_event x = ev(TEESHM_EV_REGISTER, 0xe000);

	(void)state;
	x.has_size = true;
	x.size = 4096;
	x.has_cookie = true;
	x.cookie = 0x77;
	assert_int_equal(tse_feed(e, &x), 0);
	feed(e, TEESHM_EV_KEXEC, 0, 0, 0, 0);
	assert_int_equal(tse_registered_at_last_kexec(e, &snap), 1);
	assert_false(snap[0].seen_alloc);
	assert_int_equal(snap[0].cookie, 0x77);
	assert_int_equal(snap[0].size, 4096);
	tse_free(e);
}

static void test_bad_event_type(void **state)
{
	struct tse_engine *e = tse_new();
	struct tse_event x = ev(99, 0x1);
	struct tse_stats st;

	(void)state;
	assert_int_equal(tse_feed(e, &x), -22);
	tse_get_stats(e, &st);
	assert_int_equal(st.events, 0);
	tse_free(e);
}

struct walk_ctx {
	uint64_t last;
	size_t n;
	bool sorted;
};

static int walk_cb(const struct tse_buf *b, void *arg)
{
	struct walk_ctx *c = arg;

	if (c->n && b->shm <= c->last)
		c->sorted = false;
	c->last = b->shm;
	c->n++;
	return 0;
}

/* 100 000 live buffers: insertion, lookup, removal with backward shift. */
static void test_many_buffers(void **state)
{
	struct tse_engine *e = tse_new();
	struct walk_ctx wc = { 0, 0, true };
	const struct tse_buf *snap;
	struct tse_stats st;
	uint64_t i, a;

	(void)state;
	for (i = 0; i < 100000; i++) {
		a = 0xffff000000000000ULL + i * 0x80;
		feed(e, TEESHM_EV_ALLOC, a, 4096, TSE_F_DYNAMIC, 0);
		feed(e, TEESHM_EV_REGISTER, a, 0, 0, 0);
	}
	/* release every other one */
	for (i = 0; i < 100000; i += 2) {
		a = 0xffff000000000000ULL + i * 0x80;
		feed(e, TEESHM_EV_UNREGISTER, a, 0, 0, 0);
		feed(e, TEESHM_EV_FREE, a, 0, 0, 0);
	}
	tse_get_stats(e, &st);
	assert_int_equal(st.live, 50000);
	assert_int_equal(st.registered_now, 50000);
	assert_int_equal(st.registered_bytes, 50000ULL * 4096);
	feed(e, TEESHM_EV_KEXEC, 0, 0, 0, 0);
	assert_int_equal(tse_registered_at_last_kexec(e, &snap), 50000);
	assert_int_equal(snap[0].shm, 0xffff000000000000ULL + 0x80);
	tse_walk_live(e, walk_cb, &wc);
	assert_int_equal(wc.n, 50000);
	assert_true(wc.sorted);
	assert_int_equal(nfindings(e), 50000);
	tse_free(e);
}

/*
 * The index against a plain array: 200 000 random alloc, register,
 * unregister and free events over a pool of addresses, the live set grown
 * past 50 000 (every resize of the index and the storage on the way up),
 * shrunk by a third or more, then stirred.  After every event the findings
 * and orphans match the model's; every 5 000 events, and at the end, the
 * live buffers do, field by field (incarnation, comm, caller included).
 * 3000 of the addresses hash (with the engine's hash) into the last
 * 1/4096 of the index: a cluster that wraps around its end.
 */
#define REF_POOL	100000
#define REF_HOT		3000	/* the last REF_HOT addresses of the pool */
#define REF_OPS		200000

struct ref_buf {
	bool live, registered, seen_alloc;
	uint64_t size, cookie;
	uint32_t flags;
	int32_t pid;
	uint32_t generation;
	char comm[TEESHM_COMM_LEN];
	char caller[TSE_CALLER_LEN];
};

struct ref {
	struct ref_buf *b;
	size_t live, registered;
	uint64_t registered_bytes;
	size_t findings, orphans;
	uint64_t orphan_bytes;
	uint32_t gen;
};

struct ref_walk {
	const struct ref *r;
	size_t k, n;
};

static uint64_t ref_rng = 0x2545f4914f6cdd1dULL;

static uint64_t ref_next(void)
{
	ref_rng ^= ref_rng << 13;
	ref_rng ^= ref_rng >> 7;
	ref_rng ^= ref_rng << 17;
	return ref_rng;
}

static uint64_t ref_addrs[REF_POOL];

static uint64_t ref_addr(size_t k)
{
	return ref_addrs[k];
}

/* engine.c's mix64(): the index's home slot scales its low 32 bits */
static uint32_t ref_hash(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return (uint32_t)x;
}

/* ascending, as the walk goes */
static void ref_make_addrs(void)
{
	uint64_t a = 0xffff800000000000ULL;
	size_t k;

	for (k = 0; k < REF_POOL - REF_HOT; k++)
		ref_addrs[k] = 0xffff000008000000ULL + k * 0x80;
	for (; k < REF_POOL; k++) {
		while (ref_hash(a) < 0xfff00000u)
			a += 0x80;
		ref_addrs[k] = a;
		a += 0x80;
	}
}

static void ref_note(struct ref_buf *b, const struct tse_event *x)
{
	if (x->has_size)
		b->size = x->size;
	if (x->has_flags)
		b->flags = x->flags;
	if (x->pid >= 0 && b->pid < 0)
		b->pid = x->pid;
	if (x->comm[0] && !b->comm[0])
		strcpy(b->comm, x->comm);
	if (x->caller[0] && !b->caller[0])
		strcpy(b->caller, x->caller);
}

static void ref_new(struct ref *r, struct ref_buf *b)
{
	memset(b, 0, sizeof(*b));
	b->live = true;
	b->pid = -1;
	b->generation = ++r->gen;
	r->live++;
}

static void ref_orphan(struct ref *r, struct ref_buf *b)
{
	r->orphans++;
	r->orphan_bytes += b->size;
	r->registered--;
	r->registered_bytes -= b->size;
}

static void ref_apply(struct ref *r, size_t k, const struct tse_event *x)
{
	struct ref_buf *b = &r->b[k];

	switch (x->type) {
	case TEESHM_EV_ALLOC:
		if (b->live) {
			if (b->registered)
				ref_orphan(r, b);
			r->live--;
		}
		ref_new(r, b);
		b->seen_alloc = true;
		ref_note(b, x);
		break;
	case TEESHM_EV_REGISTER:
		if (!b->live)
			ref_new(r, b);
		ref_note(b, x);
		b->cookie = x->shm;
		if (b->registered) {
			r->findings++;	/* double_register */
		} else {
			b->registered = true;
			r->registered++;
			r->registered_bytes += b->size;
		}
		break;
	case TEESHM_EV_UNREGISTER:
		if (!b->live || !b->registered) {
			r->findings++;	/* unregister_unknown */
		} else {
			b->registered = false;
			r->registered--;
			r->registered_bytes -= b->size;
		}
		break;
	case TEESHM_EV_FREE:
		if (!b->live)
			break;
		if (b->registered) {
			r->findings++;	/* free_while_registered */
			ref_orphan(r, b);
		}
		b->live = false;
		r->live--;
		break;
	}
}

static int ref_walk_cb(const struct tse_buf *b, void *arg)
{
	struct ref_walk *w = arg;
	const struct ref_buf *m;

	while (w->k < REF_POOL && !w->r->b[w->k].live)
		w->k++;
	assert_true(w->k < REF_POOL);
	m = &w->r->b[w->k];
	assert_int_equal(b->shm, ref_addr(w->k));
	assert_int_equal(b->registered, m->registered);
	assert_int_equal(b->seen_alloc, m->seen_alloc);
	assert_false(b->freed);
	assert_int_equal(b->size, m->size);
	assert_int_equal(b->pid, m->pid);
	assert_int_equal(b->generation, m->generation);
	assert_int_equal(b->cookie, m->cookie);
	assert_int_equal(b->flags, m->flags);
	assert_string_equal(b->comm, m->comm);
	assert_string_equal(b->caller, m->caller);
	w->k++;
	w->n++;
	return 0;
}

static void ref_check(struct tse_engine *e, const struct ref *r)
{
	struct ref_walk w = { r, 0, 0 };
	struct tse_stats st;

	tse_get_stats(e, &st);
	assert_int_equal(st.live, r->live);
	assert_int_equal(st.orphans, r->orphans);
	assert_int_equal(st.registered_now, r->registered + r->orphans);
	assert_int_equal(st.registered_bytes,
			 r->registered_bytes + r->orphan_bytes);
	tse_walk_live(e, ref_walk_cb, &w);
	assert_int_equal(w.n, r->live);
}

static void test_index_against_reference(void **state)
{
	static const char *const comms[] = { "", "insmod", "tee-supplicant",
					     "xtest" };
	static const char *const callers[] = { "", "tee_ioctl+0xd0 [tee]",
		"optee_rng_init+0x30 [optee_rng]", "ffa_probe+0x1c4 [optee]" };
	struct tse_engine *e = tse_new();
	const struct tse_buf *orph;
	struct ref r = { 0 };
	size_t i, k, peak = 0, low = SIZE_MAX;
	unsigned int p;

	(void)state;
	ref_make_addrs();
	r.b = calloc(REF_POOL, sizeof(*r.b));
	assert_non_null(r.b);
	assert_non_null(e);
	for (i = 0; i < REF_OPS; i++) {
		struct tse_event x;
		uint64_t v = ref_next();

		/* grow, shrink, then stir */
		if (i < 100000)
			p = 95;
		else if (i < 160000)
			p = 2;
		else
			p = 50;
		k = (v >> 8) % REF_POOL;
		x = ev(TEESHM_EV_ALLOC, ref_addr(k));
		if (!r.b[k].live) {
			x.type = v % 100 < p ? TEESHM_EV_ALLOC :
				 v % 100 < p + 3 ? TEESHM_EV_REGISTER :
				 v % 2 ? TEESHM_EV_FREE : TEESHM_EV_UNREGISTER;
		} else if (v % 100 < p) {
			if (!r.b[k].registered)
				x.type = v % 7 ? TEESHM_EV_REGISTER :
						 TEESHM_EV_UNREGISTER;
			else
				x.type = v % 11 ? TEESHM_EV_REGISTER :
						  TEESHM_EV_ALLOC;
		} else {
			x.type = r.b[k].registered && v % 2 ?
				 TEESHM_EV_UNREGISTER : TEESHM_EV_FREE;
		}
		if (x.type == TEESHM_EV_ALLOC) {
			x.has_size = x.has_flags = true;
			x.size = 4096u << ((v >> 40) % 4);
			x.flags = TSE_F_DYNAMIC;
		}
		if (x.type == TEESHM_EV_ALLOC || x.type == TEESHM_EV_REGISTER) {
			x.pid = (v >> 20) % 3 ? (int32_t)((v >> 24) % 1000) : -1;
			strcpy(x.comm, comms[(v >> 32) % 4]);
			strcpy(x.caller, callers[(v >> 36) % 4]);
		}
		ref_apply(&r, k, &x);
		assert_int_equal(tse_feed(e, &x), 0);
		assert_int_equal(nfindings(e), r.findings);
		assert_int_equal(tse_orphans(e, &orph), r.orphans);
		if (r.live > peak)
			peak = r.live;
		if (i >= 100000 && r.live < low)
			low = r.live;
		if (i % 5000 == 4999)
			ref_check(e, &r);
	}
	ref_check(e, &r);
	assert_true(peak > 50000);
	assert_true(low < peak * 2 / 3);
	tse_free(e);
	free(r.b);
}

/*
 * Backward-shift deletion where the probe sequence wraps around the end of
 * the index: keys homed on its last slot (hash >= 0xfffff000: the last slot
 * of any index up to 2^20 slots) and on its first (hash < 0x1000), put in
 * and taken out in random orders.  After each removal every key still
 * there must be found (a failed register of a key not found would create
 * a buffer) and the one taken out must not.
 */
static void test_index_wraparound(void **state)
{
	uint64_t keys[8], a;
	struct tse_stats st;
	size_t n = 0, i, j, run, order[8];

	(void)state;
	for (a = 0x1000; n < 5; a += 0x80)
		if (ref_hash(a) >= 0xfffff000u)
			keys[n++] = a;
	for (a = 0x1000; n < 8; a += 0x80)
		if (ref_hash(a) < 0x1000u)
			keys[n++] = a;
	for (run = 0; run < 500; run++) {
		struct tse_engine *e = tse_new();

		assert_non_null(e);
		for (i = 0; i < n; i++)
			order[i] = i;
		for (i = n - 1; i > 0; i--) {
			j = ref_next() % (i + 1);
			a = order[i];
			order[i] = order[j];
			order[j] = a;
		}
		for (i = 0; i < n; i++)
			feed(e, TEESHM_EV_ALLOC, keys[order[i]], 4096, 0, 0);
		for (i = n - 1; i > 0; i--) {
			j = ref_next() % (i + 1);
			a = order[i];
			order[i] = order[j];
			order[j] = a;
		}
		for (i = 0; i < n; i++) {
			feed(e, TEESHM_EV_FREE, keys[order[i]], 0, 0, 0);
			for (j = i + 1; j < n; j++)
				feed(e, TEESHM_EV_REGISTER, keys[order[j]], 0,
				     0, -1);
			tse_get_stats(e, &st);
			assert_int_equal(st.live, n - i - 1);
			feed(e, TEESHM_EV_REGISTER, keys[order[i]], 0, 0, -1);
			tse_get_stats(e, &st);
			assert_int_equal(st.live, n - i);
			feed(e, TEESHM_EV_FREE, keys[order[i]], 0, 0, 0);
		}
		tse_free(e);
	}
}

/* The id as the kexec report's BPF spells it equals %016llx, leading zeros. */
static void test_id_hex(void **state)
{
	static const uint64_t v[] = {
		0, 1, 0x0661a1821979aa85ULL, 0x00000000ffffffffULL,
		0x0fffffffffffffffULL, 0xdc1f293cec587625ULL, ~0ULL,
	};
	char got[17], want[24];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		teeshm_id_hex(got, v[i]);
		snprintf(want, sizeof(want), "%016llx", (unsigned long long)v[i]);
		assert_string_equal(got, want);
	}
}

static void test_flags_decode(void **state)
{
	(void)state;
	/* 6.1: DYNAMIC|POOL = 0x5 (the optee-rng buffer) */
	assert_int_equal(tse_flags_decode(0x5, TEESHM_GEN_NEW),
			 TSE_F_DYNAMIC | TSE_F_POOL);
	assert_int_equal(tse_flags_decode(0x8, TEESHM_GEN_NEW), TSE_F_PRIV);
	assert_int_equal(tse_flags_decode(0x2, TEESHM_GEN_NEW),
			 TSE_F_USER_MAPPED);
	/* 5.10: MAPPED|DMA_BUF = 0x3, PRIV = BIT(7) */
	assert_int_equal(tse_flags_decode(0x3, TEESHM_GEN_OLD),
			 TSE_F_MAPPED | TSE_F_DMA_BUF);
	assert_int_equal(tse_flags_decode(0x80, TEESHM_GEN_OLD), TSE_F_PRIV);
	assert_int_equal(tse_flags_decode(0x28, TEESHM_GEN_OLD),
			 TSE_F_REGISTER | TSE_F_POOL);
	assert_int_equal(tse_flags_decode(0x1, TEESHM_GEN_UNKNOWN), 0);
	/*
	 * 7.3 (protected memory): the 5.18 bits, then DMA_BUF = BIT(4)
	 * (tee_shm_register_fd) and DMA_MEM = BIT(5) (tee_shm_alloc_dma_mem);
	 * the 5.18 layout has no bit 4 or 5
	 */
	assert_int_equal(tse_flags_decode(0x5, TEESHM_GEN_PROTMEM),
			 TSE_F_DYNAMIC | TSE_F_POOL);
	assert_int_equal(tse_flags_decode(0x10, TEESHM_GEN_PROTMEM),
			 TSE_F_DMA_BUF);
	assert_int_equal(tse_flags_decode(0x20, TEESHM_GEN_PROTMEM),
			 TSE_F_DMA_MEM);
	assert_int_equal(tse_flags_decode(0x3f, TEESHM_GEN_PROTMEM),
			 TSE_F_DYNAMIC | TSE_F_USER_MAPPED | TSE_F_POOL |
			 TSE_F_PRIV | TSE_F_DMA_BUF | TSE_F_DMA_MEM);
	assert_int_equal(tse_flags_decode(0x30, TEESHM_GEN_NEW), 0);
	/* 5.10's bit 5 is POOL, 7.3's DMA_MEM */
	assert_int_equal(tse_flags_decode(0x20, TEESHM_GEN_OLD), TSE_F_POOL);
	assert_string_equal(tse_flags_gen_name(TEESHM_GEN_PROTMEM),
			    "5.18+ with protected memory (DMA_BUF, DMA_MEM)");
}

static void test_flag_names(void **state)
{
	char buf[128];

	(void)state;
	assert_string_equal(tse_flags_str(TSE_F_DYNAMIC | TSE_F_POOL, buf,
					  sizeof(buf)), "POOL|DYNAMIC");
	assert_string_equal(tse_flags_str(0, buf, sizeof(buf)), "-");
	assert_int_equal(tse_flag_from_name("PRIV"), TSE_F_PRIV);
	assert_int_equal(tse_flag_from_name("priv"), 0);
	assert_int_equal(tse_flag_from_name("NOPE"), 0);
	assert_string_equal(tse_flags_str(TSE_F_EXT_DMA_BUF, buf, sizeof(buf)),
			    "EXT_DMA_BUF");
	assert_string_equal(tse_flags_str(1u << 30, buf, sizeof(buf)), "-");
	assert_string_equal(tse_finding_name(TSE_FIND_FAILED_REGISTER),
			    "failed_register");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dmabuf_clean),
		cmocka_unit_test(test_priv_registered),
		cmocka_unit_test(test_priv_not_registered_is_clean),
		cmocka_unit_test(test_registered_at_kexec),
		cmocka_unit_test(test_two_kexecs),
		cmocka_unit_test(test_address_reuse),
		cmocka_unit_test(test_alloc_on_live_address),
		cmocka_unit_test(test_failed_register_left),
		cmocka_unit_test(test_failed_register_cleaned),
		cmocka_unit_test(test_double_register),
		cmocka_unit_test(test_unregister_unknown),
		cmocka_unit_test(test_free_while_registered),
		cmocka_unit_test(test_orphan_in_snapshot),
		cmocka_unit_test(test_register_without_alloc),
		cmocka_unit_test(test_bad_event_type),
		cmocka_unit_test(test_many_buffers),
		cmocka_unit_test(test_index_against_reference),
		cmocka_unit_test(test_index_wraparound),
		cmocka_unit_test(test_flags_decode),
		cmocka_unit_test(test_flag_names),
		cmocka_unit_test(test_id_hex),
	};

	return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
