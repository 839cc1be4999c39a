#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# run.sh BIN: replay golden tests (RUNNER=CMD: BIN runs under CMD).  For each tests/replay/cases/NAME.jsonl:
# `BIN replay NAME.jsonl --json` must exit with NAME.exit, print exactly
# NAME.json (if present) and, on stderr, a line containing NAME.err (if
# present).  Then the human output and usage errors.
set -u
bin=$(realpath "${1:?usage: run.sh BIN}")
# RUNNER: a command to run BIN under (qemu-aarch64-static for the arm64
# build, whose parser has no SSE2: its word-at-a-time paths)
if [ -n "${RUNNER:-}" ]; then
	wrap=$(mktemp)
	trap 'rm -f "$wrap"' EXIT
	printf '#!/bin/sh\nexec %s %s "$@"\n' "$RUNNER" "$bin" >"$wrap"
	chmod +x "$wrap"
	bin=$wrap
fi
cd "$(dirname "$0")/cases"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "  PASS $*"; }
ko() { fail=$((fail + 1)); echo "  FAIL $*"; }

for t in *.jsonl; do
	n=${t%.jsonl}
	out=$("$bin" replay "$t" --json 2>/tmp/replay-err.$$)
	rc=$?
	want=$(cat "$n.exit")
	[ "$rc" = "$want" ] && ok "$n: exit $rc" || ko "$n: exit $rc, want $want"
	if [ -f "$n.json" ]; then
		[ "$out" = "$(cat "$n.json")" ] && ok "$n: json" ||
			{ ko "$n: json"; diff <(echo "$out") "$n.json" | head -5; }
	fi
	if [ -f "$n.err" ]; then
		grep -qF "$(cat "$n.err")" /tmp/replay-err.$$ && [ -z "$out" ] &&
			ok "$n: message" ||
			{ ko "$n: message"; cat /tmp/replay-err.$$; }
	fi
done
rm -f /tmp/replay-err.$$

# human table
out=$("$bin" replay rng-leak.jsonl)
echo "$out" | grep -q "registered at the last kexec: 1" &&
	echo "$out" | grep -q "optee_rng_init+0x30 \[optee_rng\]" &&
	echo "$out" | grep -q "^verdict: FAIL" && ok "human table" || ko "human table"
out=$("$bin" replay clean.jsonl)
echo "$out" | grep -q "^verdict: PASS" && ok "human PASS" || ko "human PASS"
# standard input
"$bin" replay - --json <clean.jsonl | grep -q '"events":5' && ok "stdin" || ko "stdin"
# usage errors
"$bin" replay >/dev/null 2>&1; [ $? = 2 ] && ok "no FILE: exit 2" || ko "no FILE"
"$bin" replay a b >/dev/null 2>&1; [ $? = 2 ] && ok "two FILEs: exit 2" || ko "two FILEs"
"$bin" replay --bogus x >/dev/null 2>&1; [ $? = 2 ] && ok "bad option: exit 2" || ko "bad option"
err=$("$bin" replay /nonexistent/t.jsonl 2>&1); rc=$?
[ $rc = 2 ] && echo "$err" | grep -q "/nonexistent/t.jsonl" && ok "missing file" || ko "missing file"
"$bin" replay --help | grep -q "Usage: teeshm-trace replay" && ok "--help" || ko "--help"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
