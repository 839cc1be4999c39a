// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * event.c - ring-buffer events, decoded and printed (see event.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "event.h"
#include "idkey.h"
#include "json_writer.h"
#include "jsonl.h"
#include "site.h"

void event_decode(const struct teeshm_event *e, struct site_cache *sites,
		  struct tse_event *o)
{
	memset(o, 0, sizeof(*o));
	o->ts_ns = e->ts_ns;
	o->type = e->type;
	o->shm = e->shm;
	o->ret = e->ret;
	o->pid = e->pid;
	/* (on a snapshot, kind says "orphaned"; the engine never sees one) */
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
		site_cache_find(sites, e->caller_ip, e->stack_id, o->caller,
				sizeof(o->caller));
}

/* The JSONL name, and the snapshot's own (it is no JSONL event). */
static const char *ev_name(int type)
{
	const char *name = tse_type_name(type);

	if (type == TEESHM_EV_SNAPSHOT)
		return "kexec-registered";
	return name ? name : "?";
}

static bool has_ret(const struct teeshm_event *e)
{
	return e->type == TEESHM_EV_REGISTER || e->type == TEESHM_EV_UNREGISTER;
}

static void print_json(const struct teeshm_event *e, const struct tse_event *o,
		       const struct id_key *key)
{
	struct jw w;

	jw_init(&w, stdout);
	jw_obj_begin(&w);
	jw_ku64(&w, "ts_ns", e->ts_ns);
	jw_kstr(&w, "event", ev_name(e->type));
	if (e->type != TEESHM_EV_KEXEC)
		id_key_json(&w, "id", key, e->shm);
	if (o->has_flags) {
		jw_ku64(&w, "size", o->size);
		tse_flags_json(&w, o->flags);
	}
	if (has_ret(e)) {
		id_key_json(&w, "cookie_id", key, e->cookie);
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
}

static void print_line(const struct teeshm_event *e, const struct tse_event *o)
{
	char fl[160];

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
	if (has_ret(e))
		printf(" ret=%d", e->ret);
	printf(" pid=%u comm=%s", e->pid, o->comm);
	if (o->caller[0])
		printf(" caller=%s", o->caller);
	putchar('\n');
}

void event_print(const struct teeshm_event *e, const struct tse_event *o,
		 bool json, const struct id_key *key)
{
	if (json)
		print_json(e, o, key);
	else
		print_line(e, o);
}
