#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# run-group.sh GROUP CMD [ARGS...] | run-group.sh GROUP --each BIN1 BIN2 ...
# run-group.sh --total
#
# Runs one test group, prints its wall time and its pass/fail counts, and
# adds them to build/test-totals.  A command counts its own tests: cmocka's
# "[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)" lines, or a line
# "N passed, N failed".  A command that exits non-zero without printing any
# failure counts as one failure.
set -u
totals=build/test-totals
mkdir -p build

if [ "${1:-}" = "--total" ]; then
	p=0 f=0 b=0
	[ -f "$totals" ] && read -r p f <"$totals"
	echo "==== all groups"
	# a group whose make failed (make test's loop named it): its own
	# failures are counted already, a build that failed before it ran is
	# one more; either way the run does not pass
	if [ -s build/test-broken ]; then
		b=$(wc -l <build/test-broken)
		echo "groups that failed: $(paste -sd' ' build/test-broken)"
	fi
	[ "$f" -eq 0 ] && [ "$b" -gt 0 ] && f=$b
	echo "total: $p passed, $f failed"
	[ "$f" -eq 0 ]
	exit
fi

group=$1
shift
start=$(date +%s.%N)
gp=0 gf=0

run_one() {
	local out rc p f
	out=$(mktemp)
	CMOCKA_MESSAGE_OUTPUT=stdout "$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -n1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -n1)
	if [ -z "$p$f" ]; then
		p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$out" | tail -n1)
		f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$out" | tail -n1)
	fi
	p=${p:-0} f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "run-group: '$*' exited $rc" >&2
		f=1
	fi
	gp=$((gp + p)) gf=$((gf + f))
	rm -f "$out"
}

echo "==== group $group"
if [ "${1:-}" = "--each" ]; then
	shift
	for b in "$@"; do run_one "$b"; done
else
	run_one "$@"
fi
end=$(date +%s.%N)
secs=$(echo "$end - $start" | bc 2>/dev/null || echo "?")
echo "group $group took ${secs}s"
echo "$group: $gp passed, $gf failed"
p=0 f=0
[ -f "$totals" ] && read -r p f <"$totals"
echo "$((p + gp)) $((f + gf))" >"$totals"
[ "$gf" -eq 0 ]
