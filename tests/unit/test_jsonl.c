// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_jsonl.c - the JSONL trace reader/writer and the JSON writer.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine.h"
#include "json_writer.h"
#include "jsonl.h"

static int parse(const char *line, struct tse_event *ev, char *err)
{
	return tse_jsonl_parse_line(line, strlen(line), ev, err, 256);
}

static void test_parse_alloc(void **state)
{
	struct tse_event ev;
	char err[256];

	(void)state;
	assert_int_equal(parse("{\"ts_ns\":12,\"event\":\"alloc\","
			       "\"shm\":\"0xffff000012345600\",\"size\":4096,"
			       "\"flags\":[\"DYNAMIC\",\"POOL\",\"PRIV\"],"
			       "\"ctx\":\"0xabc\",\"pid\":7,\"comm\":\"insmod\","
			       "\"caller\":\"optee_rng_init+0x30 [optee_rng]\"}",
			       &ev, err), 1);
	assert_int_equal(ev.type, TEESHM_EV_ALLOC);
	assert_int_equal(ev.ts_ns, 12);
	assert_int_equal(ev.shm, 0xffff000012345600ULL);
	assert_true(ev.has_size);
	assert_int_equal(ev.size, 4096);
	assert_true(ev.has_flags);
	assert_int_equal(ev.flags, TSE_F_DYNAMIC | TSE_F_POOL | TSE_F_PRIV);
	assert_true(ev.has_ctx);
	assert_int_equal(ev.ctx, 0xabc);
	assert_int_equal(ev.pid, 7);
	assert_string_equal(ev.comm, "insmod");
	assert_string_equal(ev.caller, "optee_rng_init+0x30 [optee_rng]");
	assert_false(ev.has_cookie);
}

static void test_parse_minimal_and_defaults(void **state)
{
	struct tse_event ev;
	char err[256];

	(void)state;
	assert_int_equal(parse("  {\"event\":\"kexec\",\"ts_ns\":0}  ", &ev,
			       err), 1);
	assert_int_equal(ev.type, TEESHM_EV_KEXEC);
	assert_int_equal(ev.kind, TEESHM_KEXEC_NORMAL);
	assert_int_equal(ev.pid, -1);
	assert_int_equal(parse("{\"event\":\"kexec\",\"ts_ns\":5,"
			       "\"kind\":\"crash\"}", &ev, err), 1);
	assert_int_equal(ev.kind, TEESHM_KEXEC_CRASH);
	assert_int_equal(parse("{\"event\":\"register\",\"ts_ns\":1,"
			       "\"shm\":\"ff\",\"ret\":-12}", &ev, err), 1);
	assert_int_equal(ev.ret, -12);
	assert_int_equal(ev.shm, 0xff);
	/* blank lines */
	assert_int_equal(parse("", &ev, err), 0);
	assert_int_equal(parse(" \t\r", &ev, err), 0);
}

static void test_unknown_keys_ignored(void **state)
{
	struct tse_event ev;
	char err[256];

	(void)state;
	assert_int_equal(parse("{\"x\":{\"a\":[1,2,{\"b\":null}],\"c\":\"}\"},"
			       "\"event\":\"free\",\"y\":-1.5e3,\"z\":true,"
			       "\"ts_ns\":3,\"w\":[],\"v\":{},\"u\":false,"
			       "\"shm\":\"0x10\",\"a_very_long_unknown_key_name\":"
			       "\"\\u00e9\\n\"}", &ev, err), 1);
	assert_int_equal(ev.type, TEESHM_EV_FREE);
	assert_int_equal(ev.shm, 0x10);
}

struct bad {
	const char *line;
	const char *msg;	/* substring of the error */
};

static void test_errors(void **state)
{
	static const struct bad bad[] = {
		{ "{\"ts_ns\":1,\"shm\":\"0x1\"}", "missing \"event\"" },
		{ "{\"event\":\"alloc\",\"shm\":\"0x1\"}", "missing \"ts_ns\"" },
		{ "{\"event\":\"alloc\",\"ts_ns\":1}", "missing \"shm\"" },
		{ "{\"event\":\"allc\",\"ts_ns\":1,\"shm\":\"0x1\"}",
		  "unknown event \"allc\"" },
		{ "{\"event\":\"alloc\",\"ts_ns\":1,\"shm\":\"0xzz\"}",
		  "bad hex value" },
		{ "{\"event\":\"alloc\",\"ts_ns\":1,\"shm\":12}", "hex string" },
		{ "{\"event\":\"alloc\",\"ts_ns\":1,\"shm\":\"0x11112222333344445\"}",
		  "bad hex value" },
		{ "{\"event\":\"alloc\",\"ts_ns\":\"1\",\"shm\":\"0x1\"}",
		  "\"ts_ns\" must be an integer" },
		{ "{\"event\":\"alloc\",\"ts_ns\":1.5,\"shm\":\"0x1\"}",
		  "\"ts_ns\" must be an integer" },
		{ "{\"event\":\"alloc\",\"ts_ns\":-1,\"shm\":\"0x1\"}",
		  "must not be negative" },
		{ "{\"event\":\"alloc\",\"ts_ns\":99999999999999999999,\"shm\":\"0x1\"}",
		  "out of range" },
		{ "{\"event\":\"alloc\",\"ts_ns\":1,\"shm\":\"0x1\",\"flags\":[\"NOPE\"]}",
		  "unknown flag \"NOPE\"" },
		/* found by the fuzzer: a lone surrogate did not round-trip */
		{ "{\"event\":\"alloc\",\"ts_ns\":1,\"shm\":\"0x1\",\"comm\":\"a\\uDADDb\"}",
		  "unpaired surrogate \\uDADD" },
		{ "{\"event\":\"alloc\",\"ts_ns\":1,\"shm\":\"0x1\",\"comm\":\"\\uDC00\"}",
		  "unpaired surrogate \\uDC00" },
		{ "{\"event\":\"alloc\",\"ts_ns\":1,\"shm\":\"0x1\",\"flags\":\"PRIV\"}",
		  "array of names" },
		{ "{\"event\":\"alloc\",\"ts_ns\":1,\"shm\":\"0x1\"} x",
		  "trailing characters" },
		{ "{\"event\":\"alloc\",\"ts_ns\":1,\"ts_ns\":2,\"shm\":\"0x1\"}",
		  "duplicate key \"ts_ns\"" },
		{ "[1,2]", "not a JSON object" },
		{ "{\"event\":\"alloc\",\"ts_ns\":1,\"shm\":\"0x1\"",
		  "unexpected end" },
		{ "{\"event\":\"kexec\",\"ts_ns\":1,\"kind\":\"reboot\"}",
		  "unknown kexec kind" },
		{ "{\"event\":\"kexec\",\"ts_ns\":1,\"x\":tru}", "invalid JSON" },
		{ "{\"event\":\"kexec\",\"ts_ns\":1,\"x\":\"a\\qb\"}", "bad escape" },
		{ "{\"event\":\"register\",\"ts_ns\":1,\"shm\":\"0x1\",\"ret\":3000000000}",
		  "out of range" },
		{ "{\"event\":\"kexec\",\"ts_ns\":01}", "leading zero" },
		{ "{\"event\":\"kexec\",\"ts_ns\":1,\"comm\":\"a\x9e\"}",
		  "invalid UTF-8" },
		{ "{\"event\":\"kexec\",\"ts_ns\":1,\"x\":\"\xc3\"}",
		  "invalid UTF-8" },
	};
	struct tse_event ev;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (parse(bad[i].line, &ev, err) != -1)
			fail_msg("accepted: %s", bad[i].line);
		if (!strstr(err, bad[i].msg))
			fail_msg("'%s': error '%s' lacks '%s'", bad[i].line,
				 err, bad[i].msg);
	}
}

/* Truncation keeps whole UTF-8 sequences: comm holds 15 bytes. */
static void test_truncate_utf8(void **state)
{
	struct tse_event ev;
	char err[256];

	(void)state;
	assert_int_equal(parse("{\"event\":\"kexec\",\"ts_ns\":1,"
			       "\"comm\":\"abcdefghijklm\xc3\xa9\xc3\xa9\"}",
			       &ev, err), 1);
	assert_string_equal(ev.comm, "abcdefghijklm\xc3\xa9");
	assert_int_equal(parse("{\"event\":\"kexec\",\"ts_ns\":1,"
			       "\"comm\":\"abcdefghijklmn\xc3\xa9xyz\"}",
			       &ev, err), 1);
	assert_string_equal(ev.comm, "abcdefghijklmn");
}

static void test_long_line(void **state)
{
	size_t n = TSE_JSONL_MAX_LINE + 100;
	char *line = malloc(n + 1);
	struct tse_event ev;
	char err[256];

	(void)state;
	memset(line, ' ', n);
	memcpy(line, "{\"event\":\"kexec\",\"ts_ns\":1}", 27);
	line[n] = '\0';
	assert_int_equal(tse_jsonl_parse_line(line, n, &ev, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "longer than"));
	free(line);
}

static void test_roundtrip(void **state)
{
	struct tse_event in, out;
	char buf[4096], err[256];
	FILE *f;
	size_t len;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.type = TEESHM_EV_REGISTER;
	in.ts_ns = 18446744073709551615ULL;
	in.shm = 0xffff0000094e2500ULL;
	in.has_size = in.has_flags = in.has_ctx = in.has_cookie = true;
	in.size = 4096;
	in.flags = TSE_F_DYNAMIC | TSE_F_POOL;
	in.ctx = 0xffff000009534600ULL;
	in.cookie = 0x1234;
	in.ret = -22;
	in.pid = 112;
	strcpy(in.comm, "we\"ird\\\n");
	strcpy(in.caller, "optee_rng_init+0x30 [optee_rng]");
	f = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(tse_jsonl_write(f, &in), 0);
	fclose(f);
	len = strlen(buf);
	assert_true(len > 0 && buf[len - 1] == '\n');
	assert_int_equal(tse_jsonl_parse_line(buf, len - 1, &out, err,
					      sizeof(err)), 1);
	assert_int_equal(out.type, in.type);
	assert_int_equal(out.ts_ns, in.ts_ns);
	assert_int_equal(out.shm, in.shm);
	assert_int_equal(out.size, in.size);
	assert_int_equal(out.flags, in.flags);
	assert_int_equal(out.ctx, in.ctx);
	assert_int_equal(out.cookie, in.cookie);
	assert_int_equal(out.ret, in.ret);
	assert_int_equal(out.pid, in.pid);
	assert_string_equal(out.comm, in.comm);
	assert_string_equal(out.caller, in.caller);
}

static void test_feed_file_error_location(void **state)
{
	const char *text =
		"{\"event\":\"alloc\",\"ts_ns\":1,\"shm\":\"0x1\",\"size\":1,\"flags\":[]}\n"
		"\n"
		"{\"event\":\"register\",\"ts_ns\":2,\"shm\":\"0x1\"}\n"
		"{\"event\":\"nope\",\"ts_ns\":3,\"shm\":\"0x1\"}\n";
	struct tse_engine *e = tse_new();
	struct tse_stats st;
	unsigned long lines;
	char err[512];
	FILE *f;

	(void)state;
	f = fmemopen((void *)text, strlen(text), "r");
	assert_int_equal(tse_jsonl_feed_file(f, "t.jsonl", e, &lines, err,
					     sizeof(err)), -1);
	fclose(f);
	assert_int_equal(lines, 4);
	assert_non_null(strstr(err, "t.jsonl:4: unknown event \"nope\""));
	/* what came before the bad line was fed */
	tse_get_stats(e, &st);
	assert_int_equal(st.events, 2);
	assert_int_equal(st.registered_now, 1);
	tse_free(e);
}

/*
 * The reader's word-at-a-time paths (hex pointers, long integers, keys and
 * names as they stand) against a plain reference, on random values built
 * around the edges: widths 15-17 and 19-21, the bytes either side of each
 * digit range, upper case, escapes.
 */
static const char hexish[] = "0123456789abcdefABCDEF/:@G`gxX ";

static bool ref_hex(const char *v, uint64_t *out)
{
	uint64_t x = 0;
	int n = 0;

	if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X'))
		v += 2;
	for (; *v; v++, n++) {
		int d;

		if (*v >= '0' && *v <= '9')
			d = *v - '0';
		else if (*v >= 'a' && *v <= 'f')
			d = *v - 'a' + 10;
		else if (*v >= 'A' && *v <= 'F')
			d = *v - 'A' + 10;
		else
			return false;
		if (n >= 16)
			return false;
		x = x << 4 | d;
	}
	*out = x;
	return n > 0;
}

static void test_fast_paths_agree(void **state)
{
	char line[256], v[40], err[256];
	struct tse_event ev;
	unsigned seed = 12345;
	int i, j, len, r;

	(void)state;
	for (i = 0; i < 200000; i++) {
		uint64_t want;
		bool ok;

		seed = seed * 1103515245 + 12345;
		len = 14 + (seed >> 16) % 6;
		j = 0;
		if ((seed >> 8) & 1) {
			v[j++] = '0';
			v[j++] = (seed >> 9) & 1 ? 'x' : 'X';
		}
		for (; j < len; j++) {
			seed = seed * 1103515245 + 12345;
			/* mostly digits, now and then an edge byte */
			v[j] = hexish[(seed >> 16) % ((seed >> 12) & 7 ? 22 : 31)];
		}
		v[j] = '\0';
		ok = ref_hex(v, &want);
		snprintf(line, sizeof(line), "{\"ts_ns\":1,\"event\":\"free\","
			 "\"shm\":\"%s\"}", v);
		r = parse(line, &ev, err);
		if (ok) {
			assert_int_equal(r, 1);
			assert_true(ev.shm == want);
		} else {
			assert_int_equal(r, -1);
			assert_non_null(strstr(err, "bad hex value"));
		}
	}
	for (i = 0; i < 200000; i++) {
		unsigned __int128 want = 0;
		bool ok;

		seed = seed * 1103515245 + 12345;
		len = 1 + (seed >> 16) % 22;
		for (j = 0; j < len; j++) {
			seed = seed * 1103515245 + 12345;
			v[j] = (seed >> 16) % 64 ? (char)('0' + (seed >> 20) % 10)
						 : "/:a"[(seed >> 24) % 3];
			want = want * 10 + (unsigned)(v[j] - '0');
		}
		v[len] = '\0';
		ok = strspn(v, "0123456789") == (size_t)len &&
		     !(len > 1 && v[0] == '0') && want <= UINT64_MAX;
		snprintf(line, sizeof(line), "{\"ts_ns\":%s,\"event\":\"kexec\"}",
			 v);
		r = parse(line, &ev, err);
		if (ok) {
			assert_int_equal(r, 1);
			assert_true(ev.ts_ns == (uint64_t)want);
		} else {
			assert_int_equal(r, -1);
		}
	}
	/* keys and names spelled with escapes mean the same */
	assert_int_equal(parse("{\"ts\\u005fns\":5,\"ev\\u0065nt\":"
			       "\"\\u0066ree\",\"sh\\u006d\":\"0x\\u0041\"}",
			       &ev, err), 1);
	assert_int_equal(ev.ts_ns, 5);
	assert_int_equal(ev.type, TEESHM_EV_FREE);
	assert_true(ev.shm == 0xa);
	/* a known key's prefix or extension is another key */
	assert_int_equal(parse("{\"ts_nsx\":5,\"ts_n\":6,\"ts_ns\":7,"
			       "\"event\":\"kexec\"}", &ev, err), 1);
	assert_int_equal(ev.ts_ns, 7);
	assert_int_equal(parse("{\"ts_ns\":7,\"event\":\"kexec\","
			       "\"ts\\u005fns\":8}", &ev, err), -1);
	assert_non_null(strstr(err, "duplicate key \"ts_ns\""));
	assert_int_equal(parse("{\"ts_ns\":7,\"event\":\"registe\"}", &ev,
			       err), -1);
	assert_non_null(strstr(err, "unknown event \"registe\""));
	assert_int_equal(parse("{\"ts_ns\":7,\"event\":\"kexec \"}", &ev,
			       err), -1);
	assert_int_equal(parse("{\"ts_ns\":7,\"event\":\"alloc\",\"shm\":"
			       "\"0x1\",\"flags\":[\"POOL\",\"POOLS\"]}", &ev,
			       err), -1);
	assert_non_null(strstr(err, "unknown flag \"POOLS\""));
	/* a caller longer than the field is cut, plain or not */
	memset(v, 'a', 39);
	v[39] = '\0';
	snprintf(line, sizeof(line), "{\"ts_ns\":1,\"event\":\"free\","
		 "\"shm\":\"0x1\",\"comm\":\"%s\"}", v);
	assert_int_equal(parse(line, &ev, err), 1);
	assert_int_equal(strlen(ev.comm), sizeof(ev.comm) - 1);
}

/*
 * A line in the usual shape is read by the fast path; the same line after
 * a space goes the general way: both must say the same, event or error.
 */
static void test_usual_shape_agrees(void **state)
{
	static const char *const lines[] = {
		"{\"ts_ns\":1234567890,\"event\":\"alloc\",\"shm\":\"0xffff000008001900\",\"size\":16384,\"flags\":[\"POOL\",\"DYNAMIC\"],\"pid\":132,\"comm\":\"client\",\"caller\":\"tee_ioctl+0xd0 [tee]\"}",
		"{\"ts_ns\":5,\"event\":\"register\",\"shm\":\"0xffff000008001900\",\"cookie\":\"0xffff000008001900\",\"ret\":0}",
		"{\"ts_ns\":5,\"event\":\"unregister\",\"shm\":\"0x1\",\"ret\":-22}",
		"{\"ts_ns\":5,\"event\":\"unregister\",\"shm\":\"0x1\",\"ret\":-2147483648}",
		"{\"ts_ns\":5,\"event\":\"unregister\",\"shm\":\"0x1\",\"ret\":-2147483649}",
		"{\"ts_ns\":5,\"event\":\"unregister\",\"shm\":\"0x1\",\"ret\":2147483647}",
		"{\"ts_ns\":5,\"event\":\"unregister\",\"shm\":\"0x1\",\"ret\":2147483648}",
		"{\"ts_ns\":5,\"event\":\"unregister\",\"shm\":\"0x1\",\"ret\":-0}",
		"{\"ts_ns\":5,\"event\":\"unregister\",\"shm\":\"0x1\",\"ret\":-}",
		"{\"ts_ns\":5,\"event\":\"unregister\",\"shm\":\"0x1\",\"ret\":-01}",
		"{\"ts_ns\":5,\"event\":\"free\",\"shm\":\"0x1\",\"pid\":2147483647}",
		"{\"ts_ns\":5,\"event\":\"free\",\"shm\":\"0x1\",\"pid\":2147483648}",
		"{\"ts_ns\":5,\"event\":\"free\",\"shm\":\"0x1\",\"pid\":-1}",
		"{\"ts_ns\":0,\"event\":\"free\",\"shm\":\"0x0\"}",
		"{\"ts_ns\":00,\"event\":\"free\",\"shm\":\"0x0\"}",
		"{\"ts_ns\":12345678,\"event\":\"free\",\"shm\":\"0x0\"}",
		"{\"ts_ns\":123456789,\"event\":\"free\",\"shm\":\"0x0\"}",
		"{\"ts_ns\":1234567890123456,\"event\":\"free\",\"shm\":\"0x0\"}",
		"{\"ts_ns\":12345678901234567,\"event\":\"free\",\"shm\":\"0x0\"}",
		"{\"ts_ns\":18446744073709551615,\"event\":\"free\",\"shm\":\"0x0\"}",
		"{\"ts_ns\":18446744073709551616,\"event\":\"free\",\"shm\":\"0x0\"}",
		"{\"ts_ns\":1.5,\"event\":\"free\",\"shm\":\"0x0\"}",
		"{\"ts_ns\":1,\"event\":\"free\",\"shm\":\"0X0\"}",
		"{\"ts_ns\":1,\"event\":\"free\",\"shm\":\"ff\"}",
		"{\"ts_ns\":1,\"event\":\"free\",\"shm\":\"0x\"}",
		"{\"ts_ns\":1,\"event\":\"free\",\"shm\":\"0xFFFFffff0000aAbB\"}",
		"{\"ts_ns\":1,\"event\":\"free\",\"shm\":\"0xffff00000800190g\"}",
		"{\"ts_ns\":1,\"event\":\"free\",\"shm\":\"0x11112222333344445\"}",
		"{\"ts_ns\":1,\"event\":\"free\",\"shm\":\"0x1\",\"shm\":\"0x2\"}",
		"{\"ts_ns\":1,\"event\":\"free\"}",
		"{\"ts_ns\":1,\"event\":\"kexec\"}",
		"{\"ts_ns\":1,\"event\":\"kexec\",\"kind\":\"crash\"}",
		"{\"ts_ns\":1,\"event\":\"kexec\",\"kind\":\"crush\"}",
		"{\"event\":\"kexec\"}",
		"{\"ts_ns\":1}",
		"{\"ts_ns\":1,\"event\":\"frees\",\"shm\":\"0x1\"}",
		"{\"ts_ns\":1,\"event\":\"unregistered\",\"shm\":\"0x1\"}",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1\",\"flags\":[]}",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1\",\"flags\":[\"MAPPED\",\"DMA_BUF\",\"EXT_DMA_BUF\",\"REGISTER\",\"USER_MAPPED\",\"POOL\",\"KERNEL_MAPPED\",\"PRIV\",\"DYNAMIC\"]}",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1\",\"flags\":[\"POOL\",]}",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1\",\"flags\":[\"POOLS\"]}",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1\",\"flags\":[\"REGISTERS\"]}",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1\",\"comm\":\"123456789012345\"}",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1\",\"comm\":\"1234567890123456\"}",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1\",\"comm\":\"\"}",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1\",\"comm\":\"a\\\"b\"}",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1\",\"comm\":\"a\tb\"}",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1\",\"comm\":\"\xc3\xa9\"}",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1\",\"caller\":\"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\"}",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1\",\"caller\":\"a\",\"x\":1}",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1\",\"ctx\":\"0xabc\",\"size\":0}",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1\"}x",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1\"",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1\",}",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1\",\"comm\":\"abc",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1\",\"comm\":\"abc\"",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1\",\"size\":12",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x12345678123456781",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1234567812345678",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1\",\"flags\":[\"POOL\"",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1\",\"flags\":[\"POOL",
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1\",\"kind\":\"kexec",
		"{\"ts_ns\":1,\"event\":\"al",
		"{\"ts_ns\":1,\"eve",
		"{\"ts_ns\":1",
		"{\"ts_ns\"",
		"{",
		"{}",
		/* out of the tracer's order: the members after go by name */
		"{\"event\":\"free\",\"ts_ns\":5,\"shm\":\"0x1\"}",
		"{\"ts_ns\":1,\"shm\":\"0x1\",\"event\":\"free\"}",
		"{\"ts_ns\":1,\"event\":\"free\",\"size\":1,\"shm\":\"0x1\"}",
		"{\"ts_ns\":1,\"event\":\"free\",\"shm\":\"0x1\",\"ts_ns\":2}",
		"{\"ts_ns\":1,\"event\":\"free\",\"shm\":\"0x1\",\"caller\":\"a\",\"comm\":\"b\",\"pid\":3}",
		"{\"ts_ns\":1,\"event\":\"free\",\"shm\":\"0x1\",\"caller\":\"a\",\"caller\":\"b\"}",
		"{\"kind\":\"crash\",\"event\":\"kexec\",\"ts_ns\":1}",
		"{\"ts_ns\":1,\"event\":\"kexec\",\"kind\":\"crash\",\"kind\":\"kexec\"}",
	};
	struct tse_event a, b;
	char line[512], ea[256], eb[256];
	size_t i;
	int ra, rb;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		snprintf(line, sizeof(line), " %s", lines[i]);
		ea[0] = eb[0] = '\0';
		ra = tse_jsonl_parse_line(lines[i], strlen(lines[i]), &a, ea,
					  sizeof(ea));
		rb = tse_jsonl_parse_line(line, strlen(line), &b, eb,
					  sizeof(eb));
		if (ra != rb || strcmp(ea, eb))
			fail_msg("'%s': %d '%s', general %d '%s'", lines[i],
				 ra, ea, rb, eb);
		if (ra != 1)
			continue;
		if (a.ts_ns != b.ts_ns || a.type != b.type || a.shm != b.shm ||
		    a.size != b.size || a.has_size != b.has_size ||
		    a.flags != b.flags || a.has_flags != b.has_flags ||
		    a.ctx != b.ctx || a.has_ctx != b.has_ctx ||
		    a.cookie != b.cookie || a.has_cookie != b.has_cookie ||
		    a.pid != b.pid || a.ret != b.ret || a.kind != b.kind ||
		    strcmp(a.comm, b.comm) || strcmp(a.caller, b.caller))
			fail_msg("'%s': read otherwise the general way",
				 lines[i]);
	}
}

/*
 * Both ways agree on a line, and read it as want (NULL: an error) or with
 * the error containing msg.
 */
static void both_ways(const char *line, int want, const char *msg)
{
	struct tse_event a, b;
	char spaced[4096], ea[256], eb[256];
	int ra, rb;

	snprintf(spaced, sizeof(spaced), " %s", line);
	ra = tse_jsonl_parse_line(line, strlen(line), &a, ea, sizeof(ea));
	rb = tse_jsonl_parse_line(spaced, strlen(spaced), &b, eb, sizeof(eb));
	if (ra != want || rb != want || strcmp(ea, eb))
		fail_msg("'%s': %d '%s', general %d '%s', want %d", line, ra,
			 ea, rb, eb, want);
	if (msg && !strstr(ea, msg))
		fail_msg("'%s': error '%s' lacks '%s'", line, ea, msg);
	if (want == 1 && (a.type != b.type || a.flags != b.flags ||
			  a.kind != b.kind || strcmp(a.caller, b.caller)))
		fail_msg("'%s': read otherwise the general way", line);
}

/* Every name the format knows is read, as the writer spells it, both ways */
static void test_every_name(void **state)
{
	struct tse_event ev;
	char line[512], err[256];
	const char *name;
	int i;

	(void)state;
	/* the flags' names are flags.c's */
	for (i = 0; i < 32; i++) {
		name = tse_flag_name(1u << i);
		if (!name)
			continue;
		snprintf(line, sizeof(line), "{\"ts_ns\":1,\"event\":\"alloc\","
			 "\"shm\":\"0x1\",\"flags\":[\"%s\"]}", name);
		both_ways(line, 1, NULL);
		assert_int_equal(parse(line, &ev, err), 1);
		assert_int_equal(ev.flags, 1u << i);
		/* a name's prefix or extension is no name */
		snprintf(line, sizeof(line), "{\"ts_ns\":1,\"event\":\"alloc\","
			 "\"shm\":\"0x1\",\"flags\":[\"%.*s\"]}",
			 (int)strlen(name) - 1, name);
		both_ways(line, -1, "unknown flag");
		snprintf(line, sizeof(line), "{\"ts_ns\":1,\"event\":\"alloc\","
			 "\"shm\":\"0x1\",\"flags\":[\"%sS\"]}", name);
		both_ways(line, -1, "unknown flag");
	}
	for (i = TEESHM_EV_ALLOC; i <= TEESHM_EV_KEXEC; i++) {
		snprintf(line, sizeof(line), "{\"ts_ns\":1,\"event\":\"%s\","
			 "\"shm\":\"0x1\"}", tse_type_name(i));
		both_ways(line, 1, NULL);
		assert_int_equal(parse(line, &ev, err), 1);
		assert_int_equal(ev.type, i);
	}
	assert_null(tse_type_name(0));
	assert_null(tse_type_name(TEESHM_EV_KEXEC + 1));
	both_ways("{\"ts_ns\":1,\"event\":\"kexec\",\"kind\":\"crash\"}", 1,
		  NULL);
	/* the messages list the names from the same tables */
	both_ways("{\"ts_ns\":1,\"event\":\"nope\",\"shm\":\"0x1\"}", -1,
		  "unknown event \"nope\" (expected alloc, register, "
		  "unregister, free or kexec)");
	both_ways("{\"ts_ns\":1,\"event\":\"kexec\",\"kind\":\"nope\"}", -1,
		  "unknown kexec kind \"nope\" (expected kexec or crash)");
}

/* The allocation functions' names: only those of an allocation */
static void test_api_names(void **state)
{
	(void)state;
	assert_string_equal(tse_api_name(TEESHM_API_ALLOC_PRIV_BUF),
			    "tee_shm_alloc_priv_buf");
	assert_string_equal(tse_api_name(TEESHM_API_REGISTER_KERNEL_BUF),
			    "tee_shm_register_kernel_buf");
	assert_string_equal(tse_api_name(TEESHM_API_SHM_REGISTER),
			    "tee_shm_register");
	assert_null(tse_api_name(TEESHM_API_NONE));
	assert_null(tse_api_name(TEESHM_API_OPTEE_REGISTER));
	assert_null(tse_api_name(TEESHM_API__MAX));
	assert_null(tse_api_name(-1));
}

/* Lines longer than a stack copy (512 bytes) are read the same */
static void test_long_lines_both_ways(void **state)
{
	char line[4096], big[1400];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(line, sizeof(line), "{\"ts_ns\":1,\"event\":\"free\","
		 "\"shm\":\"0x1\",\"caller\":\"%s\"}", big);
	both_ways(line, 1, NULL);
	snprintf(line, sizeof(line), "{\"ts_ns\":1,\"event\":\"free\","
		 "\"shm\":\"0x1\",\"x\":\"%s\"}", big);
	both_ways(line, 1, NULL);
	snprintf(line, sizeof(line), "{\"ts_ns\":1,\"event\":\"free\","
		 "\"shm\":\"0x1\",\"x\":\"%s\",\"ts_ns\":2}", big);
	both_ways(line, -1, "duplicate key \"ts_ns\"");
	snprintf(line, sizeof(line), "{\"ts_ns\":1,\"event\":\"free\","
		 "\"shm\":\"0x1\",\"x\":\"%s", big);
	both_ways(line, -1, "unterminated string");
	snprintf(line, sizeof(line), "{\"ts_ns\":1,\"event\":\"free\","
		 "\"x\":\"%s\",\"shm\":\"0x%s\"}", big, big);
	both_ways(line, -1, "bad hex value");
}

/* The file reader: usual lines, a last one without newline, CRLF, blanks */
static void test_feed_file_usual(void **state)
{
	const char *text =
		"{\"ts_ns\":1,\"event\":\"alloc\",\"shm\":\"0x1\",\"size\":1,\"flags\":[\"PRIV\"]}\n"
		"{\"ts_ns\":2,\"event\":\"register\",\"shm\":\"0x1\",\"ret\":0}\r\n"
		"\n"
		"{\"ts_ns\":3,\"event\":\"alloc\",\"shm\":\"0x2\",\"size\":2} \n"
		"{\"ts_ns\":4,\"event\":\"register\",\"shm\":\"0x2\",\"ret\":0}\n"
		"{\"ts_ns\":5,\"event\":\"kexec\",\"kind\":\"crash\"}";
	struct tse_engine *e = tse_new();
	struct tse_stats st;
	unsigned long lines;
	char err[512];
	FILE *f;

	(void)state;
	f = fmemopen((void *)text, strlen(text), "r");
	assert_int_equal(tse_jsonl_feed_file(f, "t.jsonl", e, &lines, err,
					     sizeof(err)), 0);
	fclose(f);
	assert_int_equal(lines, 6);
	tse_get_stats(e, &st);
	assert_int_equal(st.events, 5);
	assert_int_equal(st.kexecs, 1);
	assert_int_equal(st.registered_now, 2);
	tse_free(e);
}

static void test_json_writer(void **state)
{
	char buf[512];
	struct jw w;
	FILE *f;

	(void)state;
	f = fmemopen(buf, sizeof(buf), "w");
	jw_init(&w, f);
	jw_obj_begin(&w);
	jw_kstr(&w, "s", "a\"b\\c\n\x01\xff\xc3\xa9");
	jw_ku64(&w, "u", 18446744073709551615ULL);
	jw_ks64(&w, "i", -5);
	jw_ks64(&w, "m", INT64_MIN);
	jw_ks64(&w, "z", 0);
	jw_khex(&w, "h", 0);
	jw_khex(&w, "x", UINT64_MAX);
	jw_key(&w, "a");
	jw_arr_begin(&w);
	jw_arr_end(&w);
	jw_key(&w, "b");
	jw_arr_begin(&w);
	jw_bool(&w, true);
	jw_null(&w);
	jw_hex(&w, 0xff);
	jw_obj_begin(&w);
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_end_line(&w);
	fclose(f);
	assert_string_equal(buf,
		"{\"s\":\"a\\\"b\\\\c\\n\\u0001\\ufffd\xc3\xa9\","
		"\"u\":18446744073709551615,\"i\":-5,"
		"\"m\":-9223372036854775808,\"z\":0,\"h\":\"0x0\","
		"\"x\":\"0xffffffffffffffff\",\"a\":[],"
		"\"b\":[true,null,\"0xff\",{}]}\n");
}

/* Reference escaping, one byte at a time, for the writer's word-wise runs */
static size_t ref_escape(const unsigned char *s, size_t n, char *out)
{
	size_t i, o = 0, l;

	out[o++] = '"';
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = c;
		} else if (c == '\n') {
			o += sprintf(out + o, "\\n");
		} else if (c == '\r') {
			o += sprintf(out + o, "\\r");
		} else if (c == '\t') {
			o += sprintf(out + o, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			o += sprintf(out + o, "\\u%04x", c);
		} else if (c >= 0x80) {
			l = jw_utf8_len(s + i, n - i);
			if (!l) {
				o += sprintf(out + o, "\\ufffd");
			} else {
				memcpy(out + o, s + i, l);
				o += l;
				i += l - 1;
			}
		} else {
			out[o++] = c;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
	return o;
}

static void test_json_writer_escapes(void **state)
{
	static const unsigned char edge[] = "aZ~ \x1f\x7f\"\\\n\t\x01\x80\xc3\xa9";
	unsigned char s[80];
	char want[1024], got[4096], key[4096];
	unsigned seed = 777;
	struct jw w;
	size_t n, i;
	int k;
	FILE *f;

	(void)state;
	for (k = 0; k < 20000; k++) {
		seed = seed * 1103515245 + 12345;
		n = (seed >> 16) % sizeof(s);
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			s[i] = (seed >> 16) % 8 ? 'a' + (seed >> 20) % 26
				: edge[(seed >> 20) % (sizeof(edge) - 1)];
		}
		ref_escape(s, n, want);
		f = fmemopen(got, sizeof(got), "w");
		jw_init(&w, f);
		jw_obj_begin(&w);
		jw_keyn(&w, (const char *)s, n);
		jw_strn(&w, (const char *)s, n);
		jw_kstrn(&w, "k", 1, (const char *)s, n);
		jw_kstrn(&w, (const char *)s, n, "v", 1);
		jw_obj_end(&w);
		jw_end_line(&w);
		fclose(f);
		snprintf(key, sizeof(key), "{%s:%s,\"k\":%s,%s:\"v\"}\n",
			 want, want, want, want);
		if (strcmp(got, key))
			fail_msg("wrote %s, want %s", got, key);
	}
	/* hex of every width */
	for (k = 0; k < 20000; k++) {
		uint64_t v;

		seed = seed * 1103515245 + 12345;
		v = ((uint64_t)seed << 32 | (seed * 2654435761u)) >> (k % 64);
		f = fmemopen(got, sizeof(got), "w");
		jw_init(&w, f);
		jw_hex(&w, v);
		jw_end_line(&w);
		fclose(f);
		snprintf(want, sizeof(want), "\"0x%" PRIx64 "\"\n", v);
		if (strcmp(got, want))
			fail_msg("wrote %s, want %s", got, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_alloc),
		cmocka_unit_test(test_parse_minimal_and_defaults),
		cmocka_unit_test(test_unknown_keys_ignored),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_truncate_utf8),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_feed_file_error_location),
		cmocka_unit_test(test_fast_paths_agree),
		cmocka_unit_test(test_usual_shape_agrees),
		cmocka_unit_test(test_feed_file_usual),
		cmocka_unit_test(test_every_name),
		cmocka_unit_test(test_long_lines_both_ways),
		cmocka_unit_test(test_api_names),
		cmocka_unit_test(test_json_writer),
		cmocka_unit_test(test_json_writer_escapes),
	};

	return cmocka_run_group_tests_name("jsonl", tests, NULL, NULL);
}
