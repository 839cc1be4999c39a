// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * metrics.c - export's figures as text (see metrics.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "json_writer.h"
#include "metrics.h"

static const char *const owner_names[OWN__N] = { "kernel", "user" };

/* ---------------------------------------------------------- Prometheus */

/* A label value, escaped per the text exposition format. */
static void prom_label(FILE *f, const char *name, const char *v, bool first)
{
	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('"', f);
}

static void prom_head(FILE *f, const char *name, const char *type,
		      const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_owner(FILE *f, const char *name, const char *help,
		       const struct fig *v, bool bytes)
{
	int o;

	prom_head(f, name, "gauge", help);
	for (o = 0; o < OWN__N; o++)
		fprintf(f, "%s{owner=\"%s\"} %" PRIu64 "\n", name,
			owner_names[o], bytes ? v[o].bytes : v[o].buffers);
}

static void prom_one(FILE *f, const char *name, const char *type,
		     const char *help, uint64_t v)
{
	prom_head(f, name, type, help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

static void prom_write(FILE *f, const struct metrics *m)
{
	bool any = false;
	int k;

	prom_head(f, "teeshm_info", "gauge",
		  "Identity of the exporting host and the figures' source "
		  "(always 1).");
	fputs("teeshm_info{", f);
	prom_label(f, "kernel_release", m->release, true);
	prom_label(f, "boot_id", m->boot_id, false);
	prom_label(f, "tee_generation", m->generation, false);
	prom_label(f, "source", m->source, false);
	fputs("} 1\n", f);
	prom_owner(f, "teeshm_registered_buffers",
		   "Buffers registered with the secure world now (trace: at "
		   "its end).", m->reg, false);
	prom_owner(f, "teeshm_registered_bytes",
		   "Bytes registered with the secure world now (trace: at its "
		   "end).", m->reg, true);
	prom_one(f, "teeshm_tracked_buffers", "gauge",
		 "Buffers alive now, registered or not.", m->tracked);
	if (m->have_counters) {
		prom_one(f, "teeshm_registrations_total", "counter",
			 "Successful registrations with the secure world.",
			 m->registrations);
		prom_one(f, "teeshm_unregistrations_total", "counter",
			 "Successful unregistrations from the secure world.",
			 m->unregistrations);
		prom_one(f, "teeshm_registration_failures_total", "counter",
			 "Registrations the secure world refused.",
			 m->reg_failures);
		prom_one(f, "teeshm_kexecs_total", "counter",
			 "Kexecs seen.", m->kexecs);
	}
	if (m->have_kexec) {
		prom_owner(f, "teeshm_last_kexec_registered_buffers",
			   "Buffers left registered with the secure world at "
			   "the last kexec.", m->kexec_left, false);
		prom_owner(f, "teeshm_last_kexec_registered_bytes",
			   "Bytes left registered with the secure world at "
			   "the last kexec.", m->kexec_left, true);
	}
	for (k = 1; k <= N_KINDS; k++) {
		if (!m->have_kind[k])
			continue;
		if (!any)
			prom_head(f, "teeshm_findings", "gauge",
				  "Findings by kind (live: priv_registered "
				  "and free_while_registered now, "
				  "registered_at_kexec at the last kexec).");
		any = true;
		fprintf(f, "teeshm_findings{kind=\"%s\"} %" PRIu64 "\n",
			tse_finding_name(k), m->findings[k]);
	}
	if (m->have_lost) {
		prom_one(f, "teeshm_lost_events_total", "counter",
			 "Events lost (ring buffer full).", m->lost);
		prom_one(f, "teeshm_untracked_buffers_total", "counter",
			 "Buffers not tracked (live table full).",
			 m->untracked);
		prom_one(f, "teeshm_missed_probe_hits_total", "counter",
			 "Probe hits the kernel missed (events lost).",
			 m->missed);
	}
}

/* ------------------------------------------------------------- JSONL */

static void json_owner(struct jw *w, const char *key, const struct fig *v)
{
	int o;

	jw_key(w, key);
	jw_obj_begin(w);
	for (o = 0; o < OWN__N; o++) {
		jw_key(w, owner_names[o]);
		jw_obj_begin(w);
		jw_ku64(w, "buffers", v[o].buffers);
		jw_ku64(w, "bytes", v[o].bytes);
		jw_obj_end(w);
	}
	jw_obj_end(w);
}

static void json_write(FILE *f, const struct metrics *m)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	struct jw w;
	int k;

	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	jw_init(&w, f);
	jw_obj_begin(&w);
	jw_kstr(&w, "time", ts);
	jw_kstr(&w, "source", m->source);
	jw_kstr(&w, "kernel_release", m->release);
	jw_kstr(&w, "boot_id", m->boot_id);
	jw_kstr(&w, "tee_generation", m->generation);
	json_owner(&w, "registered", m->reg);
	jw_ku64(&w, "tracked", m->tracked);
	if (m->have_counters) {
		jw_ku64(&w, "registrations", m->registrations);
		jw_ku64(&w, "unregistrations", m->unregistrations);
		jw_ku64(&w, "registration_failures", m->reg_failures);
		jw_ku64(&w, "kexecs", m->kexecs);
	}
	if (m->have_kexec)
		json_owner(&w, "last_kexec_registered", m->kexec_left);
	jw_key(&w, "findings");
	jw_obj_begin(&w);
	for (k = 1; k <= N_KINDS; k++)
		if (m->have_kind[k])
			jw_ku64(&w, tse_finding_name(k), m->findings[k]);
	jw_obj_end(&w);
	if (m->have_lost) {
		jw_ku64(&w, "lost_events", m->lost);
		jw_ku64(&w, "untracked_buffers", m->untracked);
		jw_ku64(&w, "missed_probe_hits", m->missed);
	}
	jw_obj_end(&w);
	jw_end_line(&w);
}

char *metrics_render(const struct metrics *m, bool json, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	if (json)
		json_write(f, m);
	else
		prom_write(f, m);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

