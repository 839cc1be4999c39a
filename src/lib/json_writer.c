// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * json_writer.c - streaming JSON writer (see json_writer.h).
 */
#include <inttypes.h>
#include <string.h>

#include "json_writer.h"

void jw_init(struct jw *w, FILE *f, bool pretty)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->pretty = pretty;
	w->first[0] = true;
}

static void indent(struct jw *w)
{
	int i;

	if (!w->pretty)
		return;
	fputc('\n', w->f);
	for (i = 0; i < w->depth; i++)
		fputs("  ", w->f);
}

/* Separator before a value (or a key). */
static void pre_value(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (!w->first[w->depth])
		fputc(',', w->f);
	if (w->depth)
		indent(w);
	w->first[w->depth] = false;
}

static void open(struct jw *w, char c)
{
	pre_value(w);
	fputc(c, w->f);
	if (w->depth < JW_MAX_DEPTH - 1)
		w->depth++;
	w->first[w->depth] = true;
}

static void close(struct jw *w, char c)
{
	bool empty = w->first[w->depth];

	if (w->depth)
		w->depth--;
	if (!empty)
		indent(w);
	fputc(c, w->f);
}

void jw_obj_begin(struct jw *w)
{
	open(w, '{');
}

void jw_obj_end(struct jw *w)
{
	close(w, '}');
}

void jw_arr_begin(struct jw *w)
{
	open(w, '[');
}

void jw_arr_end(struct jw *w)
{
	close(w, ']');
}

size_t jw_utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void jw_strn(struct jw *w, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, l;

	pre_value(w);
	fputc('"', w->f);
	while (i < n) {
		unsigned char c = s[i];
		size_t run = i;

		/* a run of bytes that need no escape, written at once */
		while (run < n && s[run] >= 0x20 && s[run] < 0x7f &&
		       s[run] != '"' && s[run] != '\\')
			run++;
		if (run > i) {
			fwrite(s + i, 1, run - i, w->f);
			i = run;
			continue;
		}
		switch (c) {
		case '"':
			fputs("\\\"", w->f);
			break;
		case '\\':
			fputs("\\\\", w->f);
			break;
		case '\n':
			fputs("\\n", w->f);
			break;
		case '\r':
			fputs("\\r", w->f);
			break;
		case '\t':
			fputs("\\t", w->f);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				fprintf(w->f, "\\u%04x", c);
			} else if (c >= 0x80) {
				l = jw_utf8_len(s + i, n - i);
				if (!l) {
					fputs("\\ufffd", w->f);
				} else {
					fwrite(s + i, 1, l, w->f);
					i += l - 1;
				}
			} else {
				fputc(c, w->f);
			}
		}
		i++;
	}
	fputc('"', w->f);
}

void jw_str(struct jw *w, const char *s)
{
	jw_strn(w, s ? s : "", s ? strlen(s) : 0);
}

void jw_key(struct jw *w, const char *key)
{
	jw_str(w, key);
	fputc(':', w->f);
	if (w->pretty)
		fputc(' ', w->f);
	w->after_key = true;
}

void jw_u64(struct jw *w, uint64_t v)
{
	char b[20];
	int i = sizeof(b);

	pre_value(w);
	do {
		b[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	fwrite(b + i, 1, sizeof(b) - i, w->f);
}

void jw_s64(struct jw *w, int64_t v)
{
	pre_value(w);
	fprintf(w->f, "%" PRId64, v);
}

void jw_bool(struct jw *w, bool v)
{
	pre_value(w);
	fputs(v ? "true" : "false", w->f);
}

void jw_null(struct jw *w)
{
	pre_value(w);
	fputs("null", w->f);
}

void jw_hex(struct jw *w, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char b[20];
	int i = sizeof(b);

	pre_value(w);
	b[--i] = '"';
	do {
		b[--i] = digits[v & 15];
		v >>= 4;
	} while (v);
	b[--i] = 'x';
	b[--i] = '0';
	b[--i] = '"';
	fwrite(b + i, 1, sizeof(b) - i, w->f);
}

void jw_end_line(struct jw *w)
{
	fputc('\n', w->f);
	w->depth = 0;
	w->first[0] = true;
	w->after_key = false;
}
