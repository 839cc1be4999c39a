#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# arm64.sh X86-BIN ARM64-BIN: the arm64 build (no SSE2: the parser's and
# the JSON writer's word-at-a-time paths) under qemu-aarch64-static: the
# replay golden tests, then a generated 200 000-event trace, whole and
# damaged, replayed by both builds: the same report, the same messages,
# the same exit codes.
set -u
x86=$(realpath "${1:?usage: arm64.sh X86-BIN ARM64-BIN}")
arm=$(realpath "${2:?usage: arm64.sh X86-BIN ARM64-BIN}")
here=$(cd "$(dirname "$0")" && pwd)
qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64)
if [ -z "$qemu" ]; then
	echo "qemu-aarch64-static not found (apt-get install qemu-user-static)"
	echo "0 passed, 1 failed"
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "  PASS $*"; }
ko() { fail=$((fail + 1)); echo "  FAIL $*"; }

out=$(RUNNER=$qemu "$here/run.sh" "$arm")
echo "$out" | grep "FAIL" | head -10
p=$(echo "$out" | tail -n1 | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
f=$(echo "$out" | tail -n1 | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
pass=$((pass + ${p:-0})) fail=$((fail + ${f:-1}))

gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$tmp/gen_trace" "$here/../../bench/gen_trace.c"
"$tmp/gen_trace" 200000 >"$tmp/t.jsonl"
# damaged copies: a bad timestamp deep in the file, a truncated last line,
# CRLF line ends, white space the fast path does not take
sed '150000s/"ts_ns":[0-9]*/"ts_ns":-1/' "$tmp/t.jsonl" >"$tmp/bad-ts.jsonl"
head -c -20 "$tmp/t.jsonl" >"$tmp/truncated.jsonl"
sed 's/$/\r/' "$tmp/t.jsonl" >"$tmp/crlf.jsonl"
sed '1000,2000s/,"/, "/' "$tmp/t.jsonl" >"$tmp/spaces.jsonl"
for t in t bad-ts truncated crlf spaces; do
	for fmt in --json ""; do
		"$x86" replay $fmt "$tmp/$t.jsonl" >"$tmp/x.out" 2>"$tmp/x.err"
		xrc=$?
		"$qemu" "$arm" replay $fmt "$tmp/$t.jsonl" >"$tmp/a.out" 2>"$tmp/a.err"
		arc=$?
		if [ $xrc = $arc ] && cmp -s "$tmp/x.out" "$tmp/a.out" &&
		   cmp -s "$tmp/x.err" "$tmp/a.err"; then
			ok "$t ${fmt:-table}: exit $arc, same output as x86_64"
		else
			ko "$t ${fmt:-table}: exit $arc (x86_64 $xrc)"
			diff "$tmp/x.err" "$tmp/a.err" | head -4
		fi
	done
done
# the damaged trace is refused where it is damaged, by both builds
"$qemu" "$arm" replay "$tmp/bad-ts.jsonl" 2>&1 >/dev/null | grep -q "bad-ts.jsonl:150000: .*ts_ns" &&
	ok "bad-ts: the message names line 150000 and ts_ns" ||
	ko "bad-ts: no line 150000 and ts_ns in the message"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
