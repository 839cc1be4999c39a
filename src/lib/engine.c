// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * engine.c - pairing engine: alloc -> register -> unregister -> free per
 * struct tee_shm address, findings, kexec snapshots.
 *
 * Storage: live buffers sit in a dense array; an open-addressing index
 * (linear probing, backward-shift deletion) maps shm -> dense slot.  Freeing
 * moves the last dense entry into the hole, so memory stays proportional to
 * the live set and every event is O(1).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

struct strtab {			/* interned caller strings */
	char **v;
	uint32_t *idx;		/* open-addressing index into v, +1 */
	size_t n, cap, icap;
};

/*
 * An index slot keeps the key's hash next to the dense index: probing
 * compares hashes in the index's own cache lines and touches bufs once, on
 * the hit (with hundreds of thousands of live buffers, each touch is a
 * miss).  The home slot comes from the hash alone (home()), so the 32 bits
 * kept also rehash and delete without touching bufs; 8 bytes a slot.  Any
 * capacity works (not only powers of two): the index is kept at most 3/4
 * full and grows by half, 10.7 to 16 bytes per live buffer.
 */
struct islot {
	uint32_t hash;		/* low 32 bits of mix64(shm) */
	uint32_t i;		/* dense index + 1, 0 = empty */
};

struct tse_engine {
	struct tse_buf *bufs;	/* dense, live buffers */
	size_t nbufs, capbufs;
	struct islot *index;	/* open addressing over bufs */
	size_t icap;

	struct tse_finding *finds;
	size_t nfinds, capfinds;

	struct tse_buf *snap;	/* registered at the last kexec */
	size_t nsnap, capsnap;

	/* released while registered: the secure world still holds them */
	struct tse_buf *orphans;
	size_t norphans, caporphans;

	struct strtab callers;
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

/* ------------------------------------------------------------ strings */

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static int strtab_rehash(struct strtab *t, size_t icap)
{
	uint32_t *ni = calloc(icap, sizeof(*ni));
	size_t i, j;

	if (!ni)
		return -ENOMEM;
	for (i = 0; i < t->n; i++) {
		j = str_hash(t->v[i]) & (icap - 1);
		while (ni[j])
			j = (j + 1) & (icap - 1);
		ni[j] = i + 1;
	}
	free(t->idx);
	t->idx = ni;
	t->icap = icap;
	return 0;
}

static const char *strtab_intern(struct strtab *t, const char *s)
{
	size_t j;
	char *c;

	if (!s || !*s)
		return "";
	if ((t->n + 1) * 2 > t->icap &&
	    strtab_rehash(t, t->icap ? t->icap * 2 : 64))
		return NULL;
	j = str_hash(s) & (t->icap - 1);
	while (t->idx[j]) {
		if (!strcmp(t->v[t->idx[j] - 1], s))
			return t->v[t->idx[j] - 1];
		j = (j + 1) & (t->icap - 1);
	}
	if (grow((void **)&t->v, &t->cap, t->n + 1, sizeof(*t->v)))
		return NULL;
	c = strdup(s);
	if (!c)
		return NULL;
	t->v[t->n] = c;
	t->idx[j] = ++t->n;
	return c;
}

static void strtab_free(struct strtab *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	free(t->idx);
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

static struct tse_buf *lookup(const struct tse_engine *e, uint64_t shm,
			      size_t *slot)
{
	uint32_t h = hash_of(shm);
	size_t j;

	if (!e->icap)
		return NULL;
	j = home(h, e->icap);
	while (e->index[j].i) {
		if (e->index[j].hash == h &&
		    e->bufs[e->index[j].i - 1].shm == shm) {
			if (slot)
				*slot = j;
			return &e->bufs[e->index[j].i - 1];
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

static struct tse_buf *insert(struct tse_engine *e, uint64_t shm)
{
	struct tse_buf *b;
	uint32_t h;
	size_t j;

	/* at most 3/4 full; grown by half (256, 384, 576, ...) */
	if ((e->nbufs + 1) * 4 > e->icap * 3 &&
	    index_resize(e, e->icap ? e->icap + e->icap / 2 : 256))
		return NULL;
	if (grow((void **)&e->bufs, &e->capbufs, e->nbufs + 1,
		 sizeof(*e->bufs)))
		return NULL;
	h = hash_of(shm);
	j = home(h, e->icap);
	while (e->index[j].i)
		j = next_slot(j, e->icap);
	b = &e->bufs[e->nbufs];
	memset(b, 0, sizeof(*b));
	b->shm = shm;
	b->pid = -1;
	b->caller = "";
	b->generation = ++e->next_gen;
	e->index[j].hash = h;
	e->index[j].i = ++e->nbufs;
	return b;
}

/* Remove the buffer at index slot s (backward-shift deletion). */
static void remove_slot(struct tse_engine *e, size_t s)
{
	size_t di = e->index[s].i - 1, last = e->nbufs - 1, j, k, h;

	/* move the last dense entry into the hole */
	if (di != last) {
		size_t ls = home(hash_of(e->bufs[last].shm), e->icap);

		while (e->index[ls].i != last + 1)
			ls = next_slot(ls, e->icap);
		e->bufs[di] = e->bufs[last];
		e->index[ls].i = di + 1;
	}
	e->nbufs--;

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

static int add_finding(struct tse_engine *e, int kind, uint64_t ts,
		       const struct tse_buf *b)
{
	struct tse_finding *f;

	if (grow((void **)&e->finds, &e->capfinds, e->nfinds + 1,
		 sizeof(*e->finds)))
		return -ENOMEM;
	f = &e->finds[e->nfinds++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->ts_ns = ts;
	f->kexec_index = e->st.kexecs ? e->st.kexecs - 1 : 0;
	f->buf = *b;
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

static int note_details(struct tse_engine *e, struct tse_buf *b,
			const struct tse_event *ev)
{
	if (ev->has_size)
		b->size = ev->size;
	if (ev->has_flags)
		b->flags = ev->flags;
	if (ev->pid >= 0 && b->pid < 0)
		b->pid = ev->pid;
	if (ev->comm[0] && !b->comm[0])
		memcpy(b->comm, ev->comm, sizeof(b->comm));
	if (ev->caller[0] && !b->caller[0]) {
		b->caller = strtab_intern(&e->callers, ev->caller);
		if (!b->caller) {
			b->caller = "";
			return -ENOMEM;
		}
	}
	return 0;
}

/*
 * b, registered, is gone from the kernel's view (released, or released
 * unseen): nothing can unregister it now, so it stays registered in every
 * later snapshot (the address may come back as a new buffer at once).
 */
static int add_orphan(struct tse_engine *e, struct tse_buf *b)
{
	if (grow((void **)&e->orphans, &e->caporphans, e->norphans + 1,
		 sizeof(*e->orphans)))
		return -ENOMEM;
	b->freed = true;
	e->orphans[e->norphans++] = *b;
	return 0;
}

static int on_alloc(struct tse_engine *e, const struct tse_event *ev)
{
	struct tse_buf *b;
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
	struct tse_buf *b = lookup(e, ev->shm, NULL);
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
	struct tse_buf *b = lookup(e, ev->shm, NULL);
	struct tse_buf tmp;

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
			tmp.caller = "";
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
	struct tse_buf *b;
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
	size_t i;
	int err;

	e->st.kexecs++;
	e->nsnap = 0;
	for (i = 0; i < e->nbufs; i++) {
		if (!e->bufs[i].registered)
			continue;
		if (grow((void **)&e->snap, &e->capsnap, e->nsnap + 1,
			 sizeof(*e->snap)))
			return -ENOMEM;
		e->snap[e->nsnap++] = e->bufs[i];
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
		err = add_finding(e, TSE_FIND_REGISTERED_AT_KEXEC, ev->ts_ns,
				  &e->snap[i]);
		if (err)
			return err;
	}
	return 0;
}

int tse_feed(struct tse_engine *e, const struct tse_event *ev)
{
	e->st.events++;
	switch (ev->type) {
	case TSE_ALLOC:
		return on_alloc(e, ev);
	case TSE_REGISTER:
		return on_register(e, ev);
	case TSE_UNREGISTER:
		return on_unregister(e, ev);
	case TSE_FREE:
		return on_free(e, ev);
	case TSE_KEXEC:
		return on_kexec(e, ev);
	}
	e->st.events--;
	return -EINVAL;
}

void tse_finish(struct tse_engine *e)
{
	struct tse_buf **v;
	size_t i, n = 0;

	if (e->finished)
		return;
	e->finished = true;
	v = malloc((e->nbufs ? e->nbufs : 1) * sizeof(*v));
	if (!v)
		return;
	for (i = 0; i < e->nbufs; i++)
		if (e->bufs[i].failed_register && !e->bufs[i].registered)
			v[n++] = &e->bufs[i];
	/* deterministic order: by address */
	for (i = 1; i < n; i++) {
		struct tse_buf *t = v[i];
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
	if (!e)
		return;
	free(e->bufs);
	free(e->index);
	free(e->finds);
	free(e->snap);
	free(e->orphans);
	strtab_free(&e->callers);
	free(e);
}

size_t tse_findings(const struct tse_engine *e, const struct tse_finding **out)
{
	*out = e->finds;
	return e->nfinds;
}

size_t tse_kexec_count(const struct tse_engine *e)
{
	return e->st.kexecs;
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

static int cmp_bufp(const void *a, const void *b)
{
	const struct tse_buf *x = *(const struct tse_buf * const *)a;
	const struct tse_buf *y = *(const struct tse_buf * const *)b;

	return x->shm < y->shm ? -1 : x->shm > y->shm;
}

void tse_walk_live(const struct tse_engine *e, tse_walk_fn cb, void *arg)
{
	const struct tse_buf **v;
	size_t i;

	if (!e->nbufs)
		return;
	v = malloc(e->nbufs * sizeof(*v));
	if (!v) {		/* unsorted, but complete */
		for (i = 0; i < e->nbufs; i++)
			if (cb(&e->bufs[i], arg))
				return;
		return;
	}
	for (i = 0; i < e->nbufs; i++)
		v[i] = &e->bufs[i];
	qsort(v, e->nbufs, sizeof(*v), cmp_bufp);
	for (i = 0; i < e->nbufs; i++)
		if (cb(v[i], arg))
			break;
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
		if (e->bufs[i].registered) {
			st->registered_now++;
			st->registered_bytes += e->bufs[i].size;
		}
	}
	st->orphans = e->norphans;
	for (i = 0; i < e->norphans; i++) {
		st->registered_now++;
		st->registered_bytes += e->orphans[i].size;
	}
}

size_t tse_buf_mem(void)
{
	/* per live buffer: dense slot + two index slots (load 1/2, just grown) */
	return sizeof(struct tse_buf) + 2 * sizeof(struct islot);
}
