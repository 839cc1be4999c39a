/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * event.h - one ring-buffer event (struct teeshm_event): decoded once into
 * the engine's form (flags canonical, allocation site symbolised), and
 * printed as `trace` streams it, one line or one JSON object.
 */
#ifndef TEESHM_LIVE_EVENT_H
#define TEESHM_LIVE_EVENT_H

#include <stdbool.h>

#include "engine.h"
#include "teeshm_event.h"

struct id_key;
struct site_cache;

/* e into o: the raw fields, the decoded flags and, on an alloc, its site. */
void event_decode(const struct teeshm_event *e, struct site_cache *sites,
		  struct tse_event *o);

/*
 * The event as `trace` prints it on stdout: a line with the raw address,
 * or (json) an object with keyed ids (see the man page, TRACE OUTPUT).
 * o is e decoded.
 */
void event_print(const struct teeshm_event *e, const struct tse_event *o,
		 bool json, const struct id_key *key);

#endif /* TEESHM_LIVE_EVENT_H */
