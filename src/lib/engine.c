// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * engine.c - pairing engine: alloc -> register -> unregister -> free per
 * struct tee_shm address, findings, kexec snapshots.
 *
 * Storage: live buffers sit in a dense array of 64-byte records (struct
 * rec: struct tse_buf with its strings interned), kept in chunks of CHUNK
 * records; an open-addressing index (linear probing, backward-shift
 * deletion) maps shm -> dense slot.  Freeing moves the last dense entry
 * into the hole, so memory stays proportional to the live set and every
 * event is O(1).  A struct tse_buf is made from a record only when one is
 * handed out (findings, snapshots, orphans, tse_walk_live()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "strtab.h"

/*
 * One live buffer: struct tse_buf with comm and caller as ids in the
 * engine's string tables.  64 bytes, one cache line: with hundreds of
 * thousands of live buffers it is most of the engine's memory.
 */
struct rec {
	uint64_t shm;
	uint64_t cookie;
	uint64_t size;
	uint64_t ts_alloc_ns;
	uint64_t ts_reg_ns;
	int32_t pid;
	uint32_t generation;
	uint32_t comm;		/* id in e->comms */
	uint32_t caller;	/* id in e->callers */
	uint32_t flags;
	bool registered;
	bool freed;
	bool seen_alloc;
	bool failed_register;
};

_Static_assert(sizeof(struct rec) == 64, "struct rec is one cache line");

/*
 * Records come in chunks of CHUNK (8 KiB): no array is ever copied to
 * grow, and the storage beyond the live set is at most two chunks (one
 * unused chunk is kept when the set shrinks, against churn at a chunk's
 * edge), not the up to 2x of a doubled array.
 */
#define CHUNK_SHIFT	7
#define CHUNK		(1u << CHUNK_SHIFT)

/*
 * An index slot keeps the key's hash next to the dense index: probing
 * compares hashes in the index's own cache lines and touches a record
 * once, on the hit (with hundreds of thousands of live buffers, each touch
 * is a miss).  The home slot comes from the hash alone (home()), so the 32
 * bits kept also rehash and delete without touching records; 8 bytes a
 * slot.  Any capacity works (not only powers of two): the index is kept at
 * most 3/4 full and grows by half, 10.7 to 16 bytes per live buffer.
 */
struct islot {
	uint32_t hash;		/* low 32 bits of mix64(shm) */
	uint32_t i;		/* dense index + 1, 0 = empty */
};

struct tse_engine {
	struct rec **chunks;	/* dense, live buffers: rec_at() */
	size_t nbufs, nchunks, capchunks;
	struct islot *index;	/* open addressing over the records */
	size_t icap;

	struct tse_finding *finds;
	size_t nfinds, capfinds;

	struct tse_buf *snap;	/* registered at the last kexec */
	size_t nsnap, capsnap;

	/* released while registered: the secure world still holds them */
	struct tse_buf *orphans;
	size_t norphans, caporphans;

	struct strtab comms, callers;
	struct tse_stats st;
	uint32_t next_gen;
	bool finished;
};

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

/* ------------------------------------------------------------- index */

static inline uint32_t hash_of(uint64_t shm)
{
	return (uint32_t)mix64(shm);
}

/* Home slot of hash h in an index of icap slots: h scaled to [0, icap). */
static inline size_t home(uint32_t h, size_t icap)
{
	return ((uint64_t)h * icap) >> 32;
}

static inline size_t next_slot(size_t j, size_t icap)
{
	return ++j == icap ? 0 : j;
}

static inline struct rec *rec_at(const struct tse_engine *e, size_t i)
{
	return &e->chunks[i >> CHUNK_SHIFT][i & (CHUNK - 1)];
}

static struct rec *lookup(const struct tse_engine *e, uint64_t shm,
			  size_t *slot)
{
	uint32_t h = hash_of(shm);
	struct rec *r;
	size_t j;

	if (!e->icap)
		return NULL;
	j = home(h, e->icap);
	while (e->index[j].i) {
		if (e->index[j].hash == h) {
			r = rec_at(e, e->index[j].i - 1);
			if (r->shm == shm) {
				if (slot)
					*slot = j;
				return r;
			}
		}
		j = next_slot(j, e->icap);
	}
	return NULL;
}

static int index_resize(struct tse_engine *e, size_t icap)
{
	struct islot *ni;
	size_t i, j;

	if (icap > (1ULL << 32))	/* home() scales 32 bits */
		return -ENOMEM;
	ni = calloc(icap, sizeof(*ni));
	if (!ni)
		return -ENOMEM;
	for (i = 0; i < e->icap; i++) {
		if (!e->index[i].i)
			continue;
		j = home(e->index[i].hash, icap);
		while (ni[j].i)
			j = next_slot(j, icap);
		ni[j] = e->index[i];
	}
	free(e->index);
	e->index = ni;
	e->icap = icap;
	return 0;
}

static struct rec *insert(struct tse_engine *e, uint64_t shm)
{
	struct rec *r;
	uint32_t h;
	size_t j;

	/* at most 3/4 full; grown by half (256, 384, 576, ...) */
	if ((e->nbufs + 1) * 4 > e->icap * 3 &&
	    index_resize(e, e->icap ? e->icap + e->icap / 2 : 256))
		return NULL;
	if (e->nbufs == e->nchunks * CHUNK) {
		if (grow((void **)&e->chunks, &e->capchunks, e->nchunks + 1,
			 sizeof(*e->chunks)))
			return NULL;
		r = aligned_alloc(sizeof(*r), CHUNK * sizeof(*r));
		if (!r)
			return NULL;
		e->chunks[e->nchunks++] = r;
	}
	h = hash_of(shm);
	j = home(h, e->icap);
	while (e->index[j].i)
		j = next_slot(j, e->icap);
	r = rec_at(e, e->nbufs);
	memset(r, 0, sizeof(*r));
	r->shm = shm;
	r->pid = -1;
	r->generation = ++e->next_gen;
	e->index[j].hash = h;
	e->index[j].i = ++e->nbufs;
	return r;
}

/* Remove the buffer at index slot s (backward-shift deletion). */
static void remove_slot(struct tse_engine *e, size_t s)
{
	size_t di = e->index[s].i - 1, last = e->nbufs - 1, j, k, h;

	/* move the last dense entry into the hole */
	if (di != last) {
		struct rec *lr = rec_at(e, last);
		size_t ls = home(hash_of(lr->shm), e->icap);

		while (e->index[ls].i != last + 1)
			ls = next_slot(ls, e->icap);
		*rec_at(e, di) = *lr;
		e->index[ls].i = di + 1;
	}
	e->nbufs--;
	/* a second unused chunk goes: one is kept against churn */
	if (e->nbufs + 2 * CHUNK <= e->nchunks * CHUNK)
		free(e->chunks[--e->nchunks]);

	/*
	 * Close the gap in the probe sequence.  Positions are cyclic (the
	 * probe wraps from icap - 1 to 0, whatever icap is): the entry at k
	 * may fill the hole at j unless its home lies cyclically in (j, k].
	 */
	j = s;
	for (;;) {
		e->index[j].i = 0;
		k = j;
		for (;;) {
			k = next_slot(k, e->icap);
			if (!e->index[k].i)
				return;
			h = home(e->index[k].hash, e->icap);
			/* can the entry at k move to j? */
			if (j <= k ? (h <= j || h > k) :
				     (h <= j && h > k))
				break;
		}
		e->index[j] = e->index[k];
		j = k;
	}
}

/* ---------------------------------------------------------- findings */

/* The struct tse_buf of record r, as handed out. */
static void to_buf(const struct tse_engine *e, const struct rec *r,
		   struct tse_buf *b)
{
	const char *comm = strtab_str(&e->comms, r->comm);

	b->shm = r->shm;
	b->cookie = r->cookie;
	b->size = r->size;
	b->flags = r->flags;
	b->registered = r->registered;
	b->freed = r->freed;
	b->seen_alloc = r->seen_alloc;
	b->failed_register = r->failed_register;
	b->pid = r->pid;
	b->generation = r->generation;
	b->ts_alloc_ns = r->ts_alloc_ns;
	b->ts_reg_ns = r->ts_reg_ns;
	memset(b->comm, 0, sizeof(b->comm));
	memcpy(b->comm, comm, strnlen(comm, sizeof(b->comm) - 1));
	b->caller = strtab_str(&e->callers, r->caller);
}

/* A new finding, its buf left for the caller to fill; NULL: no memory. */
static struct tse_finding *new_finding(struct tse_engine *e, int kind,
				       uint64_t ts)
{
	struct tse_finding *f;

	if (grow((void **)&e->finds, &e->capfinds, e->nfinds + 1,
		 sizeof(*e->finds)))
		return NULL;
	f = &e->finds[e->nfinds++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->ts_ns = ts;
	f->kexec_index = e->st.kexecs ? e->st.kexecs - 1 : 0;
	return f;
}

static int add_finding(struct tse_engine *e, int kind, uint64_t ts,
		       const struct rec *r)
{
	struct tse_finding *f = new_finding(e, kind, ts);

	if (!f)
		return -ENOMEM;
	to_buf(e, r, &f->buf);
	return 0;
}

const char *tse_finding_name(int kind)
{
	switch (kind) {
	case TSE_FIND_PRIV_REGISTERED:
		return "priv_registered";
	case TSE_FIND_DOUBLE_REGISTER:
		return "double_register";
	case TSE_FIND_UNREGISTER_UNKNOWN:
		return "unregister_unknown";
	case TSE_FIND_FREE_WHILE_REGISTERED:
		return "free_while_registered";
	case TSE_FIND_FAILED_REGISTER:
		return "failed_register";
	case TSE_FIND_REGISTERED_AT_KEXEC:
		return "registered_at_kexec";
	}
	return "unknown";
}

/* ------------------------------------------------------------ events */

static int note_details(struct tse_engine *e, struct rec *b,
			const struct tse_event *ev)
{
	char comm[TEESHM_COMM_LEN];

	if (ev->has_size)
		b->size = ev->size;
	if (ev->has_flags)
		b->flags = ev->flags;
	if (ev->pid >= 0 && b->pid < 0)
		b->pid = ev->pid;
	if (ev->comm[0] && !b->comm) {
		memcpy(comm, ev->comm, sizeof(comm));
		comm[sizeof(comm) - 1] = '\0';
		if (strtab_intern(&e->comms, comm, &b->comm))
			return -ENOMEM;
	}
	if (ev->caller[0] && !b->caller &&
	    strtab_intern(&e->callers, ev->caller, &b->caller))
		return -ENOMEM;
	return 0;
}

/*
 * b, registered, is gone from the kernel's view (released, or released
 * unseen): nothing can unregister it now, so it stays registered in every
 * later snapshot (the address may come back as a new buffer at once).
 */
static int add_orphan(struct tse_engine *e, struct rec *b)
{
	if (grow((void **)&e->orphans, &e->caporphans, e->norphans + 1,
		 sizeof(*e->orphans)))
		return -ENOMEM;
	b->freed = true;
	to_buf(e, b, &e->orphans[e->norphans++]);
	return 0;
}

static int on_alloc(struct tse_engine *e, const struct tse_event *ev)
{
	struct rec *b;
	size_t s;

	e->st.allocs++;
	b = lookup(e, ev->shm, &s);
	if (b) {
		/*
		 * Released unseen (lost events): a new incarnation.  Still
		 * registered as far as is known, the old one may be held:
		 * an orphan, as the BPF side keeps it (never a wrong PASS).
		 */
		if (b->registered && add_orphan(e, b))
			return -ENOMEM;
		remove_slot(e, s);
	}
	b = insert(e, ev->shm);
	if (!b)
		return -ENOMEM;
	b->seen_alloc = true;
	b->ts_alloc_ns = ev->ts_ns;
	return note_details(e, b, ev);
}

static int on_register(struct tse_engine *e, const struct tse_event *ev)
{
	struct rec *b = lookup(e, ev->shm, NULL);
	int err = 0;

	if (!b) {
		b = insert(e, ev->shm);
		if (!b)
			return -ENOMEM;
		b->ts_alloc_ns = ev->ts_ns;
	}
	err = note_details(e, b, ev);
	if (ev->ret) {
		e->st.register_failures++;
		b->failed_register = true;
		return err;
	}
	e->st.registers++;
	b->failed_register = false;
	if (b->registered)
		err = err ?: add_finding(e, TSE_FIND_DOUBLE_REGISTER,
					 ev->ts_ns, b);
	b->registered = true;
	b->ts_reg_ns = ev->ts_ns;
	b->cookie = ev->has_cookie ? ev->cookie : ev->shm;
	if (b->flags & TSE_F_PRIV)
		err = err ?: add_finding(e, TSE_FIND_PRIV_REGISTERED,
					 ev->ts_ns, b);
	return err;
}

static int on_unregister(struct tse_engine *e, const struct tse_event *ev)
{
	struct rec *b = lookup(e, ev->shm, NULL);
	struct rec tmp;

	if (ev->ret) {
		e->st.unregister_failures++;
		return 0;
	}
	e->st.unregisters++;
	if (!b || !b->registered) {
		if (!b) {
			memset(&tmp, 0, sizeof(tmp));
			tmp.shm = ev->shm;
			tmp.pid = ev->pid;
			b = &tmp;
		}
		return add_finding(e, TSE_FIND_UNREGISTER_UNKNOWN, ev->ts_ns,
				   b);
	}
	b->registered = false;
	b->failed_register = false;
	return 0;
}

static int on_free(struct tse_engine *e, const struct tse_event *ev)
{
	struct rec *b;
	size_t s;
	int err = 0;

	e->st.frees++;
	b = lookup(e, ev->shm, &s);
	if (!b)
		return 0;
	if (b->registered) {
		b->freed = true;
		err = add_finding(e, TSE_FIND_FREE_WHILE_REGISTERED, ev->ts_ns,
				  b);
		if (!err)
			err = add_orphan(e, b);
	}
	remove_slot(e, s);
	return err;
}

static int cmp_buf(const void *a, const void *b)
{
	const struct tse_buf *x = a, *y = b;

	return x->shm < y->shm ? -1 : x->shm > y->shm;
}

static int on_kexec(struct tse_engine *e, const struct tse_event *ev)
{
	struct tse_finding *f;
	size_t i;

	e->st.kexecs++;
	e->nsnap = 0;
	for (i = 0; i < e->nbufs; i++) {
		const struct rec *r = rec_at(e, i);

		if (!r->registered)
			continue;
		if (grow((void **)&e->snap, &e->capsnap, e->nsnap + 1,
			 sizeof(*e->snap)))
			return -ENOMEM;
		to_buf(e, r, &e->snap[e->nsnap++]);
	}
	if (e->norphans) {
		if (grow((void **)&e->snap, &e->capsnap,
			 e->nsnap + e->norphans, sizeof(*e->snap)))
			return -ENOMEM;
		memcpy(e->snap + e->nsnap, e->orphans,
		       e->norphans * sizeof(*e->snap));
		e->nsnap += e->norphans;
	}
	if (e->nsnap)
		qsort(e->snap, e->nsnap, sizeof(*e->snap), cmp_buf);
	for (i = 0; i < e->nsnap; i++) {
		f = new_finding(e, TSE_FIND_REGISTERED_AT_KEXEC, ev->ts_ns);
		if (!f)
			return -ENOMEM;
		f->buf = e->snap[i];
	}
	return 0;
}

int tse_feed(struct tse_engine *e, const struct tse_event *ev)
{
	e->st.events++;
	switch (ev->type) {
	case TEESHM_EV_ALLOC:
		return on_alloc(e, ev);
	case TEESHM_EV_REGISTER:
		return on_register(e, ev);
	case TEESHM_EV_UNREGISTER:
		return on_unregister(e, ev);
	case TEESHM_EV_FREE:
		return on_free(e, ev);
	case TEESHM_EV_KEXEC:
		return on_kexec(e, ev);
	}
	e->st.events--;
	return -EINVAL;
}

void tse_finish(struct tse_engine *e)
{
	struct rec **v, *r;
	size_t i, n = 0;

	if (e->finished)
		return;
	e->finished = true;
	v = malloc((e->nbufs ? e->nbufs : 1) * sizeof(*v));
	if (!v)
		return;
	for (i = 0; i < e->nbufs; i++) {
		r = rec_at(e, i);
		if (r->failed_register && !r->registered)
			v[n++] = r;
	}
	/* deterministic order: by address */
	for (i = 1; i < n; i++) {
		struct rec *t = v[i];
		size_t j = i;

		while (j && v[j - 1]->shm > t->shm) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = t;
	}
	for (i = 0; i < n; i++)
		add_finding(e, TSE_FIND_FAILED_REGISTER, v[i]->ts_reg_ns ?
			    v[i]->ts_reg_ns : v[i]->ts_alloc_ns, v[i]);
	free(v);
}

/* -------------------------------------------------------------- query */

struct tse_engine *tse_new(void)
{
	return calloc(1, sizeof(struct tse_engine));
}

void tse_free(struct tse_engine *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->nchunks; i++)
		free(e->chunks[i]);
	free(e->chunks);
	free(e->index);
	free(e->finds);
	free(e->snap);
	free(e->orphans);
	strtab_free(&e->comms);
	strtab_free(&e->callers);
	free(e);
}

size_t tse_findings(const struct tse_engine *e, const struct tse_finding **out)
{
	*out = e->finds;
	return e->nfinds;
}

size_t tse_orphans(const struct tse_engine *e, const struct tse_buf **out)
{
	*out = e->orphans;
	return e->norphans;
}

size_t tse_registered_at_last_kexec(const struct tse_engine *e,
				    const struct tse_buf **out)
{
	*out = e->snap;
	return e->nsnap;
}

static int cmp_recp(const void *a, const void *b)
{
	const struct rec *x = *(const struct rec * const *)a;
	const struct rec *y = *(const struct rec * const *)b;

	return x->shm < y->shm ? -1 : x->shm > y->shm;
}

/* cb gets a struct tse_buf of its own, valid during the call. */
void tse_walk_live(const struct tse_engine *e, tse_walk_fn cb, void *arg)
{
	const struct rec **v;
	struct tse_buf b;
	size_t i;

	if (!e->nbufs)
		return;
	v = malloc(e->nbufs * sizeof(*v));
	if (!v) {		/* unsorted, but complete */
		for (i = 0; i < e->nbufs; i++) {
			to_buf(e, rec_at(e, i), &b);
			if (cb(&b, arg))
				return;
		}
		return;
	}
	for (i = 0; i < e->nbufs; i++)
		v[i] = rec_at(e, i);
	qsort(v, e->nbufs, sizeof(*v), cmp_recp);
	for (i = 0; i < e->nbufs; i++) {
		to_buf(e, v[i], &b);
		if (cb(&b, arg))
			break;
	}
	free(v);
}

void tse_get_stats(const struct tse_engine *e, struct tse_stats *st)
{
	size_t i;

	*st = e->st;
	st->live = e->nbufs;
	st->registered_now = 0;
	st->registered_bytes = 0;
	for (i = 0; i < e->nbufs; i++) {
		const struct rec *r = rec_at(e, i);

		if (r->registered) {
			st->registered_now++;
			st->registered_bytes += r->size;
		}
	}
	st->orphans = e->norphans;
	for (i = 0; i < e->norphans; i++) {
		st->registered_now++;
		st->registered_bytes += e->orphans[i].size;
	}
}
