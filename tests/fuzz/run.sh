#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# run.sh FUZZER [RUNS]: a short libFuzzer run seeded with the replay cases;
# passes when it ends without a crash or a sanitizer report.
set -u
fz=${1:?usage: run.sh FUZZER [RUNS]}
runs=${2:-200000}
here=$(cd "$(dirname "$0")" && pwd)
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
cp "$here"/../replay/cases/*.jsonl "$corpus/"
out=$("$fz" -runs="$runs" -max_len=4096 -seed=1 "$corpus" 2>&1)
rc=$?
echo "$out" | grep -E "^Done|ERROR|SUMMARY" | head -5
if [ $rc -eq 0 ] && echo "$out" | grep -q "^Done $runs runs"; then
	echo "1 passed, 0 failed"
else
	echo "$out" | tail -30
	echo "0 passed, 1 failed"
	exit 1
fi
