#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# fuzz.sh FUZZER [RUNS]: the long libFuzzer run over the JSONL reader and
# the engine (default 10 000 000 executions), seeded with the replay cases,
# under ASan/UBSan.  Prints executions, time, coverage and the verdict; a
# crash leaves its input in bench/fuzz-artifacts/.  Not a test.
set -u
fz=${1:?usage: fuzz.sh FUZZER [RUNS]}
runs=${2:-10000000}
top=$(cd "$(dirname "$0")/.." && pwd)
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
cp "$top"/tests/replay/cases/*.jsonl "$corpus/"
mkdir -p "$top/bench/fuzz-artifacts"
s=$(date +%s)
"$fz" -runs="$runs" -max_len=4096 -seed=1 -print_final_stats=1 \
	-artifact_prefix="$top/bench/fuzz-artifacts/" "$corpus" >"$corpus.log" 2>&1
rc=$?
e=$(date +%s)
grep -E "^Done|stat::number_of_executed_units|stat::peak_rss_mb|cov:" "$corpus.log" | tail -4
echo "fuzz: $runs runs in $((e - s)) s, exit $rc ($([ $rc -eq 0 ] && echo clean || echo CRASH: see bench/fuzz-artifacts))"
rm -f "$corpus.log"
exit $rc
