#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# kexec-matrix.sh [N]: the truth check of the kexec report, N kexecs in one
# guest run (default 10) for each subject, on each kernel generation
# (TESTBED_KERNELS, default "6.1 5.10"):
#   stock     Debian's optee.ko and optee-rng.ko as packaged
#   seed-bug  optee.ko registering its driver-private buffers (testing only)
#   revert    5.10: optee.ko with the seed thread's patch reverted
#   patched   optee-rng.ko with the project's fix (kernel/patches)
# At every kexec the set of (id, size) the tool reports on the console must
# equal the secure world's list of what that kernel left registered.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$TOP"
n=${1:-10}
pass=0 fail=0
rows=()
regs=()

subject() {	# KERNEL NAME VERIFY-ARGS...
	local kern=$1 name=$2 img dir t0 out p f extra=
	shift 2
	export TESTBED_KERNEL=$kern
	. tests/testbed/lib.sh
	img=$OUT/img-$name dir=$OUT/runs/matrix-$name
	t0=$(date +%s)
	echo "== subject $kern $name: $n kexecs"
	if [ "$name" = stock ]; then
		img=$OUT
	else
		KGEN=$kern kernel/build.sh "$name" "$TOP/build/kernel/$kern-$name" >/dev/null ||
			{ echo "  module build failed   FAIL"; fail=$((fail + 1)); return; }
		MODDIR=$TOP/build/kernel/$kern-$name tests/testbed/mkinitramfs.sh "$img" >/dev/null ||
			{ echo "  image build failed   FAIL"; fail=$((fail + 1)); return; }
	fi
	# 5.10 writes no pstore record at kexec (see run-scenarios.sh)
	[ "$kern" = 5.10 ] && extra=--no-pstore
	TESTBED_IMG=$img tests/testbed/run.sh trace --kexecs "$n" --timeout $((120 + 60 * n)) \
		--append "teeshm.hold=2" --out "$dir" ||
		{ echo "  qemu did not power off cleanly   FAIL"; fail=$((fail + 1)); }
	out=$(python3 tests/testbed/verify.py kexec "$dir" --tool "$TOP/build/teeshm-trace" \
		--kexecs "$n" --label "$kern $name" $extra "$@")
	echo "$out" | sed '$d'
	p=$(echo "$out" | tail -n1 | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed/\1/p')
	f=$(echo "$out" | tail -n1 | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed/\2/p')
	pass=$((pass + ${p:-0})) fail=$((fail + ${f:-1}))
	[ -f "$dir/matrix.tsv" ] && rows+=("$(cat "$dir/matrix.tsv")")
	# every registration the secure world accepted in the run, leaked or not
	regs+=("$(printf '%s %s\t%s\t%s' "$kern" "$name" \
		"$(grep -c '^TSW reg .* ret=0x0 ' "$dir/secure.log" 2>/dev/null)" \
		"$(grep -c '^TSW unreg .* ret=0x0 ' "$dir/secure.log" 2>/dev/null)")")
	echo "   ($(($(date +%s) - t0))s)"
}

lane() {	# KERNEL: its subjects one after the other
	case $1 in
	6.1)
		subject 6.1 stock --expect some
		subject 6.1 seed-bug --expect some --expect-priv
		subject 6.1 patched --expect none
		;;
	5.10)
		subject 5.10 stock --expect some
		subject 5.10 revert --expect some
		subject 5.10 seed-bug --expect some
		subject 5.10 patched --expect none
		;;
	*)
		echo "kexec-matrix: no subjects for kernel $1   FAIL"
		fail=$((fail + 1))
		;;
	esac
}

# The kernels' lanes share nothing (own kbuild tree, image and run
# directories) and each QEMU is single-threaded: run up to JOBS lanes at
# once (KEXEC_MATRIX_JOBS, default: the number of CPUs).  Each lane logs
# to its own file, printed whole when it ends, and leaves its counts in a
# state file read back here.
jobs=${KEXEC_MATRIX_JOBS:-$(nproc)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kerns=(${TESTBED_KERNELS:-6.1 5.10})
running=()
t_all=$(date +%s)
finish() {	# KERNEL: print a finished lane's log
	echo "== lane $1 (finished after $(($(date +%s) - t_all))s)"
	cat "$tmp/lane-$1.log"
}
for kern in "${kerns[@]}"; do
	(
		pass=0 fail=0 rows=() regs=()
		lane "$kern"
		declare -p pass fail rows regs >"$tmp/lane-$kern.state"
	) >"$tmp/lane-$kern.log" 2>&1 &
	running+=("$!:$kern")
	echo "== lane $kern started ($jobs at a time)"
	while [ "${#running[@]}" -ge "$jobs" ]; do
		wait -n
		still=()
		for r in "${running[@]}"; do
			if kill -0 "${r%%:*}" 2>/dev/null; then
				still+=("$r")
			else
				finish "${r#*:}"
			fi
		done
		running=("${still[@]}")
	done
done
for r in "${running[@]}"; do
	wait "${r%%:*}"
	finish "${r#*:}"
done
for kern in "${kerns[@]}"; do
	if [ ! -f "$tmp/lane-$kern.state" ]; then
		echo "lane $kern ended without its counts   FAIL"
		fail=$((fail + 1))
		continue
	fi
	lp=$pass lf=$fail lrows=("${rows[@]}") lregs=("${regs[@]}")
	. "$tmp/lane-$kern.state"
	pass=$((lp + pass)) fail=$((lf + fail))
	rows=("${lrows[@]}" "${rows[@]}") regs=("${lregs[@]}" "${regs[@]}")
done
echo
echo "== kexec truth table (tool report vs secure world, per subject)"
printf '  %-16s %-7s %-22s %-28s %s\n' "kernel subject" kexecs "leaks reported (tool)" "stale entries (secure world)" verdict
printf '%s\n' "${rows[@]}" | awk -F'\t' '
	{ k[$1]++; t[$1] += $3; s[$1] += $4; if ($5 != "yes") bad[$1]++; if (!($1 in o)) { o[$1] = ++m; name[m] = $1 } }
	END { for (i = 1; i <= m; i++) { x = name[i]
		printf "  %-16s %-7d %-22d %-28d %s\n", x, k[x], t[x], s[x],
			bad[x] ? "DISAGREE" : (t[x] ? "leaks, tool == secure world" : "clean, tool == secure world") } }'
echo
echo "== registrations the secure world accepted / released over each whole run"
printf '%s\n' "${regs[@]}" | awk -F'\t' '{ printf "  %-16s %6d registered %6d unregistered\n", $1, $2, $3 }'
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
