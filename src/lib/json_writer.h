/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * json_writer.h - the project's one streaming JSON writer.
 *
 * Compact output (one line per top-level value when jw_end_line() is used),
 * strings escaped per RFC 8259; bytes that are not valid UTF-8 are written
 * as U+FFFD so the output is always valid JSON.
 */
#ifndef TEESHM_JSON_WRITER_H
#define TEESHM_JSON_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define JW_MAX_DEPTH 32

struct jw {
	FILE *f;
	int depth;
	bool first[JW_MAX_DEPTH];	/* no member written yet at depth */
	bool after_key;
	size_t n;			/* bytes waiting in buf */
	char buf[1024];
};

void jw_init(struct jw *w, FILE *f);
void jw_obj_begin(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_keyn(struct jw *w, const char *key, size_t n);
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
void jw_hex(struct jw *w, uint64_t v);	/* "0x..." string */
/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
size_t jw_utf8_len(const unsigned char *s, size_t n);
/* End of one top-level value: newline. */
void jw_end_line(struct jw *w);

/* A key and its ':' (a literal's length is known when compiled) */
static inline void jw_key(struct jw *w, const char *key)
{
	jw_keyn(w, key, strlen(key));
}

/* key + value at once (k of kn bytes) */
void jw_kstrn(struct jw *w, const char *k, size_t kn, const char *v, size_t n);
void jw_ku64n(struct jw *w, const char *k, size_t kn, uint64_t v);
void jw_ks64n(struct jw *w, const char *k, size_t kn, int64_t v);
void jw_khexn(struct jw *w, const char *k, size_t kn, uint64_t v);
void jw_kbooln(struct jw *w, const char *k, size_t kn, bool v);

/* key + value shorthands */
static inline void jw_kstr(struct jw *w, const char *k, const char *v)
{
	jw_kstrn(w, k, strlen(k), v ? v : "", v ? strlen(v) : 0);
}

static inline void jw_ku64(struct jw *w, const char *k, uint64_t v)
{
	jw_ku64n(w, k, strlen(k), v);
}

static inline void jw_ks64(struct jw *w, const char *k, int64_t v)
{
	jw_ks64n(w, k, strlen(k), v);
}

static inline void jw_khex(struct jw *w, const char *k, uint64_t v)
{
	jw_khexn(w, k, strlen(k), v);
}

static inline void jw_kbool(struct jw *w, const char *k, bool v)
{
	jw_kbooln(w, k, strlen(k), v);
}

#endif /* TEESHM_JSON_WRITER_H */
