// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * argcache-model.c - the optee argument cache of patches/0002 under
 * concurrent callers, in user space.
 *
 * kernel/check.sh cuts optee_shm_arg_cache_init() ... optee_free_msg_arg()
 * out of call.c with the 6.1 series applied (extracted.c, included below,
 * unchanged) and builds this file around it with ASan/UBSan: list, mutex
 * and bitmap helpers, and a model of struct tee_shm whose pages are never
 * really freed, so that a use after free shows. Threads take message
 * arguments (sometimes nested, as optee_open_session() does when it closes
 * a session under its own argument), hold them across yields, check them
 * and free them, while the main thread runs optee_shm_arg_cache_shutdown()
 * (twice) in the middle of it. The main thread first fills three pages
 * and frees their arguments, so that there are idle registered pages for
 * the shutdown to free itself, besides the ones in use.
 *
 * Fails (exit 1, or an abort) if a page is freed while an argument in it
 * is in use, freed twice, or an argument is clobbered; if a registered page
 * is allocated after the shutdown returned, or an argument taken after it
 * is in a registered page or at a non-zero offset; or if, once every call
 * returned, a page that was registered is still registered.
 *
 * usage: argcache-model THREADS
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef uint32_t u32;
typedef unsigned long u_long;
typedef unsigned int u_int;

#define PAGE_SIZE		4096UL
#define BIT(n)			(1UL << (n))
#define DECLARE_BITMAP(n, bits)	unsigned long n[((bits) + 63) / 64]
#define GFP_KERNEL		0
#define kzalloc(s, f)		calloc(1, s)
#define kzalloc_obj(o)		calloc(1, sizeof(o))	/* 7.x */
#define kfree			free
#define pr_err(...)		do { fprintf(stderr, "pr_err: " __VA_ARGS__); abort(); } while (0)
#define IS_ERR(p)		((unsigned long)(p) >= (unsigned long)-4095)
#define ERR_PTR(e)		((void *)(long)(e))
#define EINVAL			22
#define ENOMEM			12
#define container_of(p, t, m)	((t *)((char *)(p) - offsetof(t, m)))

struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD(n)		struct list_head n = { &n, &n }
#define list_entry(p, t, m)	container_of(p, t, m)
#define list_first_entry(p, t, m) list_entry((p)->next, t, m)
#define list_for_each_entry(pos, head, m)					\
	for (pos = list_entry((head)->next, __typeof__(*pos), m);		\
	     &pos->m != (head);							\
	     pos = list_entry(pos->m.next, __typeof__(*pos), m))
#define list_for_each_entry_safe(pos, n, head, m)				\
	for (pos = list_entry((head)->next, __typeof__(*pos), m),		\
	     n = list_entry(pos->m.next, __typeof__(*pos), m);			\
	     &pos->m != (head);							\
	     pos = n, n = list_entry(n->m.next, __typeof__(*n), m))

static void INIT_LIST_HEAD(struct list_head *l)
{
	l->next = l;
	l->prev = l;
}

static void list_add(struct list_head *n, struct list_head *h)
{
	n->next = h->next;
	n->prev = h;
	h->next->prev = n;
	h->next = n;
}

static void __list_del(struct list_head *e)
{
	e->next->prev = e->prev;
	e->prev->next = e->next;
}

static void list_del(struct list_head *e)
{
	__list_del(e);
	e->next = NULL;
	e->prev = NULL;
}

static void list_del_init(struct list_head *e)
{
	__list_del(e);
	INIT_LIST_HEAD(e);
}

static void list_move(struct list_head *e, struct list_head *h)
{
	__list_del(e);
	list_add(e, h);
}

static int list_empty(const struct list_head *h)
{
	return h->next == h;
}

struct mutex {
	pthread_mutex_t m;
};

static void mutex_init(struct mutex *m)
{
	pthread_mutex_init(&m->m, NULL);
}

static void mutex_destroy(struct mutex *m)
{
	(void)m;
}

static void mutex_lock(struct mutex *m)
{
	pthread_mutex_lock(&m->m);
}

static void mutex_unlock(struct mutex *m)
{
	pthread_mutex_unlock(&m->m);
}

static int test_bit(u_long b, const unsigned long *m)
{
	return (m[b / 64] >> (b % 64)) & 1;
}

static void set_bit(u_long b, unsigned long *m)
{
	m[b / 64] |= 1UL << (b % 64);
}

static void clear_bit(u_long b, unsigned long *m)
{
	m[b / 64] &= ~(1UL << (b % 64));
}

static u_long find_first_bit(const unsigned long *m, u_long n)
{
	u_long i;

	for (i = 0; i < n && !test_bit(i, m); i++)
		;
	return i;
}

static u_long find_first_zero_bit(const unsigned long *m, u_long n)
{
	u_long i;

	for (i = 0; i < n && test_bit(i, m); i++)
		;
	return i;
}

static bool bitmap_empty(const unsigned long *m, u_long n)
{
	return find_first_bit(m, n) == n;
}

/* optee_msg.h's layout: 32-byte header, 32-byte parameters */
struct optee_msg_param {
	uint64_t attr;
	uint64_t u[3];
};

struct optee_msg_arg {
	u32 cmd, func, session, cancel_id, pad, ret, ret_origin, num_params;
	struct optee_msg_param params[];
};

#define OPTEE_MSG_GET_ARG_SIZE(n) \
	(sizeof(struct optee_msg_arg) + (n) * sizeof(struct optee_msg_param))

#define OPTEE_SHM_ARG_ALLOC_PRIV	BIT(0)
#define OPTEE_SHM_ARG_SHARED		BIT(1)

struct optee_shm_arg_cache {
	u32 flags;
	struct mutex mutex;
	struct list_head shm_args;
};

struct optee {
	struct optee_shm_arg_cache shm_arg_cache;
	unsigned int rpc_param_count;
};

struct tee_device {
	struct optee *optee;
};

struct tee_context {
	struct tee_device *teedev;
};

static struct optee *tee_get_drvdata(struct tee_device *d)
{
	return d->optee;
}

/* A page of shared memory: registered or private; never really freed */
struct tee_shm {
	bool registered;
	bool freed;
	atomic_int users;
	char page[PAGE_SIZE];
};

static pthread_t main_thread;
static atomic_bool shutdown_done;
static atomic_int registered_now, registered_total, unregistered_total;
static atomic_int freed_by_caller, late_registrations, late_bad;

static struct tee_shm *tee_shm_alloc_kernel_buf(struct tee_context *c, size_t s)
{
	struct tee_shm *shm = calloc(1, sizeof(*shm));

	(void)c;
	(void)s;
	shm->registered = true;
	atomic_fetch_add(&registered_now, 1);
	atomic_fetch_add(&registered_total, 1);
	if (atomic_load(&shutdown_done))
		atomic_fetch_add(&late_registrations, 1);
	return shm;
}

static struct tee_shm *tee_shm_alloc_priv_buf(struct tee_context *c, size_t s)
{
	(void)c;
	(void)s;
	return calloc(1, sizeof(struct tee_shm));
}

static void *tee_shm_get_va(struct tee_shm *shm, size_t offs)
{
	return shm->page + offs;
}

static void tee_shm_free(struct tee_shm *shm)
{
	if (atomic_load(&shm->users)) {
		fprintf(stderr, "FAIL: page freed while an argument in it is in use\n");
		abort();
	}
	if (shm->freed) {
		fprintf(stderr, "FAIL: page freed twice\n");
		abort();
	}
	shm->freed = true;
	if (shm->registered) {
		/* the pool's free unregisters it */
		atomic_fetch_sub(&registered_now, 1);
		atomic_fetch_add(&unregistered_total, 1);
		if (!pthread_equal(pthread_self(), main_thread))
			atomic_fetch_add(&freed_by_caller, 1);
	}
}

#include "extracted.c"

static struct optee optee;
static struct tee_device teedev = { &optee };
static struct tee_context ctx = { &teedev };
static atomic_bool stop;

static void one_call(unsigned int *seed, int depth)
{
	bool after = atomic_load(&shutdown_done);
	struct optee_shm_arg_entry *entry;
	struct optee_msg_arg *ma;
	struct tee_shm *shm;
	u_int offs;
	int i;

	ma = optee_get_msg_arg(&ctx, 6, &entry, &shm, &offs);
	if (IS_ERR(ma))
		abort();
	atomic_fetch_add(&shm->users, 1);
	if (after && (shm->registered || offs))
		atomic_fetch_add(&late_bad, 1);
	ma->cmd = 0x1234 + depth;
	for (i = 0; i < 50; i++)
		sched_yield();
	if (!depth && rand_r(seed) % 2)
		one_call(seed, depth + 1);
	if (shm->freed || ma->cmd != 0x1234u + depth) {
		fprintf(stderr, "FAIL: argument clobbered or its page freed\n");
		abort();
	}
	atomic_fetch_sub(&shm->users, 1);
	optee_free_msg_arg(&ctx, entry, offs);
}

static void *worker(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;

	while (!atomic_load(&stop))
		one_call(&seed, 0);
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 24;
	struct {
		struct optee_shm_arg_entry *entry;
		struct optee_msg_arg *ma;
		struct tee_shm *shm;
		u_int offs;
	} pre[30];
	pthread_t t[256];
	int i, before;

	if (n < 1 || n > 256)
		return 2;
	main_thread = pthread_self();
	/* OP-TEE 4.10: RPC_ARG with 4 RPC parameters, 10 arguments a page */
	optee.rpc_param_count = 4;
	optee_shm_arg_cache_init(&optee, OPTEE_SHM_ARG_SHARED);
	for (i = 0; i < 30; i++)
		pre[i].ma = optee_get_msg_arg(&ctx, 6, &pre[i].entry, &pre[i].shm,
					      &pre[i].offs);
	for (i = 0; i < 30; i++)
		optee_free_msg_arg(&ctx, pre[i].entry, pre[i].offs);
	for (i = 0; i < n; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1));
	usleep(200000);
	before = atomic_load(&registered_total);
	optee_shm_arg_cache_shutdown(&optee);
	atomic_store(&shutdown_done, true);
	optee_shm_arg_cache_shutdown(&optee);
	usleep(200000);
	atomic_store(&stop, true);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	printf("%d threads: %d pages registered before shutdown: %d idle then (freed by it), %d in use (freed by their last caller); %d still registered; after shutdown %d registrations, %d arguments in a registered page or at an offset\n",
	       n, before, atomic_load(&unregistered_total) - atomic_load(&freed_by_caller),
	       atomic_load(&freed_by_caller), atomic_load(&registered_now),
	       atomic_load(&late_registrations), atomic_load(&late_bad));
	return atomic_load(&registered_now) || atomic_load(&late_registrations) ||
	       atomic_load(&late_bad) || atomic_load(&registered_total) != before;
}
