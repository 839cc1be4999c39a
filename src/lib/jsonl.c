// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * jsonl.c - strict reader and writer of the JSONL trace format (jsonl.h):
 * its entry points, and its names filed for the readers.
 *
 * A line is read by the fast path (jsonl_fast.c) when it has the shape the
 * tracer writes, else by the general parser (jsonl_parse.c), which also
 * gives the errors; both with the readers of jsonl_read.h.  A file is read
 * a megabyte at a time, its usual lines where they stand.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "jsonl.h"
#include "jsonl_read.h"
#include "json_writer.h"

/* ------------------------------------------------------------ names */

struct names jsonl_keys, jsonl_events, jsonl_kinds, jsonl_flags;

static struct name flag_entries[32];

static void file_name(struct names *t, const struct name *e)
{
	unsigned int h = name_hash(e->at.w[0]);

	while (t->slot[h])
		h = (h + 1) % NAME_SLOTS;
	t->slot[h] = e;
}

/* What NAME() makes when compiled, made when running (for the flags) */
static void name_set(struct name *e, const char *s, size_t len, uint32_t val)
{
	char b[16] = "";

	memcpy(b, s, len);
	b[len] = '"';
	e->at.w[0] = ld8(b);
	e->at.w[1] = ld8(b + 8);
	e->at.m[0] = MASK8((int)len + 1);
	e->at.m[1] = MASK8((int)len - 7);
	e->s = s;
	e->len = len;
	e->val = val;
}

/* Filed once, before main(); the flags' names are flags.c's */
__attribute__((constructor)) static void names_init(void)
{
	size_t i, n = 0;

	for (i = 0; i < N_KEYS; i++)
		file_name(&jsonl_keys, &key_names[i].name);
	for (i = 0; i < ARRAY_SIZE(event_names); i++)
		file_name(&jsonl_events, &event_names[i]);
	for (i = 0; i < ARRAY_SIZE(kind_names); i++)
		file_name(&jsonl_kinds, &kind_names[i]);
	for (i = 0; i < 32; i++) {
		const char *s = tse_flag_name(1u << i);

		/* one of another length would not be found: no flag has one */
		if (!s || strlen(s) < 2 || strlen(s) > 15)
			continue;
		name_set(&flag_entries[n], s, strlen(s), 1u << i);
		file_name(&jsonl_flags, &flag_entries[n++]);
	}
}

const char *tse_type_name(int type)
{
	if (type < TEESHM_EV_ALLOC || type > TEESHM_EV_KEXEC)
		return NULL;
	return event_names[type - TEESHM_EV_ALLOC].s;
}

const char *tse_api_name(int api)
{
	static const char *const names[] = {
		[TEESHM_API_SHM_ALLOC] = "tee_shm_alloc",
		[TEESHM_API_ALLOC_USER_BUF] = "tee_shm_alloc_user_buf",
		[TEESHM_API_ALLOC_KERNEL_BUF] = "tee_shm_alloc_kernel_buf",
		[TEESHM_API_ALLOC_PRIV_BUF] = "tee_shm_alloc_priv_buf",
		[TEESHM_API_REGISTER_USER_BUF] = "tee_shm_register_user_buf",
		[TEESHM_API_REGISTER_KERNEL_BUF] = "tee_shm_register_kernel_buf",
		[TEESHM_API_SHM_REGISTER] = "tee_shm_register",
	};

	if (api < 0 || api >= (int)(sizeof(names) / sizeof(names[0])))
		return NULL;
	return names[api];
}

/* ------------------------------------------------------------ a line */

/* A line up to this long is copied on the stack, a longer one to the heap */
#define PAD_LINE	512

static bool blank(const char *p, size_t n)
{
	for (; n; p++, n--)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			return false;
	return true;
}

int tse_jsonl_parse_line(const char *line, size_t len, struct tse_event *ev,
			 char *err, size_t errlen)
{
	char pad[PAD_LINE + JSONL_SLACK], *buf = pad;
	int r;

	if (!err || !errlen)
		errlen = 0;
	else
		err[0] = '\0';
	if (len > TSE_JSONL_MAX_LINE) {
		if (blank(line, len))
			return 0;
		if (errlen)
			snprintf(err, errlen, "line longer than %d bytes",
				 TSE_JSONL_MAX_LINE);
		return -1;
	}
	/* the readers may look past the end: zeros there, then */
	if (len > PAD_LINE && !(buf = malloc(len + JSONL_SLACK))) {
		if (errlen)
			snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(buf, line, len);
	memset(buf + len, 0, JSONL_SLACK);
	if (jsonl_fast_line(buf, buf + len, ev) == buf + len)
		r = 1;
	else
		r = jsonl_general_line(buf, len, ev, err, errlen);
	if (buf != pad)
		free(buf);
	return r;
}

/* ------------------------------------------------------------ writer */

/* A key's name and length, as the writer's calls take them */
#define KEY_SN(k)	key_names[k].name.s, key_names[k].name.len

int tse_jsonl_write(FILE *f, const struct tse_event *ev)
{
	const char *type = tse_type_name(ev->type) ?: "?";
	const struct name *kind;
	struct jw w;

	jw_init(&w, f);
	jw_obj_begin(&w);
	jw_ku64n(&w, KEY_SN(K_TS), ev->ts_ns);
	jw_kstrn(&w, KEY_SN(K_EVENT), type, strlen(type));
	if (ev->type != TEESHM_EV_KEXEC)
		jw_khexn(&w, KEY_SN(K_SHM), ev->shm);
	if (ev->has_size)
		jw_ku64n(&w, KEY_SN(K_SIZE), ev->size);
	if (ev->has_flags)
		tse_flags_json(&w, ev->flags);
	if (ev->has_ctx)
		jw_khexn(&w, KEY_SN(K_CTX), ev->ctx);
	if (ev->has_cookie)
		jw_khexn(&w, KEY_SN(K_COOKIE), ev->cookie);
	if (ev->pid >= 0)
		jw_ks64n(&w, KEY_SN(K_PID), ev->pid);
	if (ev->comm[0])
		jw_kstrn(&w, KEY_SN(K_COMM), ev->comm, strlen(ev->comm));
	if (ev->type == TEESHM_EV_REGISTER ||
	    ev->type == TEESHM_EV_UNREGISTER || ev->ret)
		jw_ks64n(&w, KEY_SN(K_RET), ev->ret);
	if (ev->caller[0])
		jw_kstrn(&w, KEY_SN(K_CALLER), ev->caller, strlen(ev->caller));
	if (ev->type == TEESHM_EV_KEXEC) {
		kind = &kind_names[ev->kind == TEESHM_KEXEC_CRASH ?
				   TEESHM_KEXEC_CRASH : TEESHM_KEXEC_NORMAL];
		jw_kstrn(&w, KEY_SN(K_KIND), kind->s, kind->len);
	}
	jw_obj_end(&w);
	jw_end_line(&w);
	return ferror(f) ? -1 : 0;
}

/* ------------------------------------------------------------ file */

/*
 * Read a megabyte at a time; a line never straddles more than a move.  The
 * first read takes less: most files (and every fuzzer input) fit in it, and
 * a megabyte allocated per file costs more than reading a small one.
 */
#define READ_CHUNK (1 << 20)
#define FIRST_CHUNK (1 << 12)

struct reader {
	FILE *f;
	const char *name;
	char *buf, *start;	/* start: the first line not read yet */
	size_t fill, cap;
	unsigned long ln;	/* lines read */
	bool eof;
};

/*
 * No newline in what is left: move it to the front and read more.  0, or
 * -1 with the message in err (a line too long, a read error).
 */
static int refill(struct reader *r, char *err, size_t errlen)
{
	size_t n = r->buf + r->fill - r->start, cap = READ_CHUNK +
		   TSE_JSONL_MAX_LINE + 1;
	char *buf;

	if (n > TSE_JSONL_MAX_LINE) {
		snprintf(err, errlen, "%s:%lu: line longer than %d bytes",
			 r->name, r->ln + 1, TSE_JSONL_MAX_LINE);
		return -1;
	}
	memmove(r->buf, r->start, n);
	r->start = r->buf;
	if (r->fill && r->cap < cap) {
		/* more than the first read: a large file, read it in chunks */
		buf = realloc(r->buf, cap + JSONL_SLACK);
		if (!buf) {
			snprintf(err, errlen, "%s: out of memory", r->name);
			return -1;
		}
		memset(buf + r->cap, 0, cap - r->cap + JSONL_SLACK);
		r->buf = r->start = buf;
		r->cap = cap;
	}
	r->fill = n;
	n = fread(r->buf + r->fill, 1, r->cap - r->fill, r->f);
	if (!n) {
		if (ferror(r->f)) {
			snprintf(err, errlen, "%s: read error: %s", r->name,
				 strerror(errno));
			return -1;
		}
		r->eof = true;
	}
	r->fill += n;
	return 0;
}

/*
 * The usual line read where it stands, with its line end (CRLF: the '\r'
 * is the line's trailing white space): the end, or NULL if it is not one.
 */
static const char *fast_in_place(struct reader *r, struct tse_event *ev)
{
	const char *end = r->buf + r->fill, *q;

	if (r->start >= end)
		return NULL;
	q = jsonl_fast_line(r->start, end, ev);
	if (!q)
		return NULL;
	if (q < end) {
		if (*q == '\r' && q + 1 < end && q[1] == '\n')
			q++;
		if (*q != '\n')
			return NULL;
	} else if (!r->eof) {
		return NULL;
	}
	if (q - r->start > TSE_JSONL_MAX_LINE)
		return NULL;
	return q < end ? q + 1 : q;
}

/* What next_line() found */
enum {
	READ_FILE_ERROR = -2, READ_LINE_ERROR, READ_BLANK, READ_EVENT, READ_END
};

/*
 * The next line, into ev: READ_EVENT, READ_BLANK, READ_LINE_ERROR (the
 * message in msg); or READ_END of the file, READ_FILE_ERROR (in err).
 */
static int next_line(struct reader *r, struct tse_event *ev, char *msg,
		     size_t msglen, char *err, size_t errlen)
{
	const char *q;
	char *nl;
	int got;

	while (!(q = fast_in_place(r, ev))) {
		nl = memchr(r->start, '\n', r->buf + r->fill - r->start);
		if (!nl && !r->eof) {
			if (refill(r, err, errlen))
				return READ_FILE_ERROR;
			continue;
		}
		if (!nl && r->start == r->buf + r->fill)
			return READ_END;
		if (!nl)
			nl = r->buf + r->fill;	/* the last, no newline */
		got = tse_jsonl_parse_line(r->start, nl - r->start, ev, msg,
					   msglen);
		r->start = nl < r->buf + r->fill ? nl + 1 : nl;
		r->ln++;
		return got;
	}
	r->start = (char *)q;
	r->ln++;
	return READ_EVENT;
}

int tse_jsonl_feed_file(FILE *f, const char *name, struct tse_engine *e,
			unsigned long *lines, char *err, size_t errlen)
{
	struct reader r = { .f = f, .name = name };
	struct tse_event ev;
	char msg[256];
	int got;

	/* zeroed: the fast path reads (never uses) bytes past the data */
	r.cap = FIRST_CHUNK + TSE_JSONL_MAX_LINE + 1;
	r.buf = calloc(1, r.cap + JSONL_SLACK);
	if (!r.buf) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	r.start = r.buf;
	for (;;) {
		got = next_line(&r, &ev, msg, sizeof(msg), err, errlen);
		if (got == READ_END || got == READ_FILE_ERROR)
			break;
		if (got == READ_LINE_ERROR) {
			snprintf(err, errlen, "%s:%lu: %s", name, r.ln, msg);
			break;
		}
		if (got == READ_EVENT && tse_feed(e, &ev)) {
			snprintf(err, errlen, "%s:%lu: out of memory", name,
				 r.ln);
			got = READ_FILE_ERROR;
			break;
		}
	}
	free(r.buf);
	if (lines)
		*lines = r.ln;
	return got == READ_END ? 0 : -1;
}
