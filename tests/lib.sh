# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# tests/lib.sh - the host test scripts' counters and checks (sourced).
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "  PASS $*"; }
ko() { fail=$((fail + 1)); echo "  FAIL $*"; }

expect() {	# expect NAME RC PATTERN(stdout+stderr) CMD...
	local name=$1 want=$2 pat=$3 out rc
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" = "$want" ] && echo "$out" | grep -qE -- "$pat"; then
		ok "$name"
	else
		ko "$name (exit $rc, want $want; output: $(echo "$out" | head -3))"
	fi
}
