#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# replay.sh [N]: replay throughput on a generated trace of N events (default
# 10 000 000): events/s of `teeshm-trace replay --json` (best of 3, one
# core), callgrind instructions per event (200 000 events), and the same
# pairing done the obvious other way, with jq, on 1 000 000 events.
# Prints the figures; bench/RESULTS.md records them.  Not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000000}
tmp=${TMPDIR:-/tmp}/teeshm-bench
mkdir -p "$tmp"
make -s
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$tmp/gen_trace" bench/gen_trace.c
[ -f "$tmp/trace-$n.jsonl" ] || "$tmp/gen_trace" "$n" >"$tmp/trace-$n.jsonl"
events=$(wc -l <"$tmp/trace-$n.jsonl")
bytes=$(stat -c %s "$tmp/trace-$n.jsonl")
best=
for i in 1 2 3; do
	s=$(date +%s.%N)
	taskset -c 0 build/teeshm-trace replay --json "$tmp/trace-$n.jsonl" >/dev/null || [ $? -eq 1 ]
	e=$(date +%s.%N)
	t=$(echo "$e - $s" | bc)
	if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
done
echo "replay: $events events ($((bytes / 1048576)) MiB) in ${best}s: $(echo "$events / $best" | bc) events/s"
if command -v valgrind >/dev/null; then
	"$tmp/gen_trace" 200000 >"$tmp/trace-200k.jsonl"
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" \
		build/teeshm-trace replay --json "$tmp/trace-200k.jsonl" >/dev/null 2>"$tmp/cg.err" || true
	ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tmp/cg.err")
	ev200=$(wc -l <"$tmp/trace-200k.jsonl")
	echo "callgrind: $ir instructions for $ev200 events: $((ir / ev200)) per event"
fi
if command -v jq >/dev/null; then
	"$tmp/gen_trace" 1000000 >"$tmp/trace-1m.jsonl"
	s=$(date +%s.%N)
	# the alternative: jq pairs register/unregister by shm and lists what
	# stays registered (no kexec snapshots, no other findings)
	taskset -c 0 jq -n -c 'reduce inputs as $e ({};
		if $e.event == "register" and ($e.ret // 0) == 0 then .[$e.shm] = $e
		elif $e.event == "unregister" and ($e.ret // 0) == 0 then del(.[$e.shm])
		elif $e.event == "free" then del(.[$e.shm]) else . end) | length' \
		"$tmp/trace-1m.jsonl" >/dev/null
	e=$(date +%s.%N)
	s2=$(date +%s.%N)
	taskset -c 0 build/teeshm-trace replay --json "$tmp/trace-1m.jsonl" >/dev/null || true
	e2=$(date +%s.%N)
	jt=$(echo "$e - $s" | bc)
	tt=$(echo "$e2 - $s2" | bc)
	echo "jq: 1000000-event trace in ${jt}s; teeshm-trace replay: ${tt}s; ratio $(echo "scale=1; $jt / $tt" | bc)x"
fi
