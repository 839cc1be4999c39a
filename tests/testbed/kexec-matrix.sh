#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# kexec-matrix.sh [N]: the truth check of the kexec report, N kexecs in one
# guest run (default 10) for each subject, on each kernel generation
# (TESTBED_KERNELS, default "6.1 5.10"):
#   stock     Debian's optee.ko and optee-rng.ko as packaged
#   seed-bug  optee.ko registering its driver-private buffers (testing only)
#   revert    5.10: optee.ko with the seed thread's patch reverted
#   patched   the project's fixes (kernel/patches/series-GEN: optee-rng.ko,
#             and from 6.1 on optee.ko's argument cache)
# 6.12 and 7.3 (make kexec-matrix-full) have stock and patched.  7.3-ffa:
# 7.3's stock and patched modules (ffa-stock, ffa-patched) on the FF-A
# secure world (TESTBED_SW=optee-ffa), where optee.ko's shutdown reclaims
# every share (no tee-supplicant holds the device in this scenario).
# 7.3-clients (kernel/AUDIT-7.3.md): TEE clients beyond optee-rng
# (kernel/build-client.sh: rtc-optee and trusted.ko's TEE source, which
# Debian does not build, and the SCMI OP-TEE transport, with its DT node;
# the guest seals and unseals a trusted key), loaded after optee-rng:
# clients-stock on Debian's modules (rtc-optee from the source as is),
# clients-patched with series-7.3 and series-7.3-clients.
# At every kexec the set of (id, size) the tool reports on the console must
# equal the secure world's list of what that kernel left registered.  The
# secure world is real OP-TEE OS 4.10 + TF-A (TESTBED_SW=optee, the
# default); TESTBED_SW=emu runs the same matrix on the emulated firmware.
#
# First every subject's modules and guest image are built, one after the
# other (subjects of a kernel share its kbuild tree); then the guest runs,
# each a single-threaded QEMU, go through KEXEC_MATRIX_JOBS slots at once
# (default: the number of CPUs).  Each run logs to a file of its own,
# printed whole when it ends, and leaves its counts in a state file.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$TOP"
n=${1:-10}
pass=0 fail=0
rows=()
regs=()
sites=()
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

subjects=()
for kern in ${TESTBED_KERNELS:-6.1 5.10}; do
	case $kern in
	6.1)
		# seed-bug: on a secure world with RPC_ARG (OP-TEE 4.x) 6.1
		# allocates no driver-private buffer in this scenario (the
		# argument cache is a registered kernel buffer), so the seed
		# bug registers nothing more than stock (README)
		subjects+=("6.1 stock --expect some"
			   "6.1 seed-bug --expect some"
			   "6.1 patched --expect none")
		;;
	5.10)
		subjects+=("5.10 stock --expect some"
			   "5.10 revert --expect some"
			   "5.10 seed-bug --expect some"
			   "5.10 patched --expect none")
		;;
	6.12|7.3)
		subjects+=("$kern stock --expect some"
			   "$kern patched --expect none")
		;;
	7.3-ffa)
		subjects+=("7.3 ffa-stock --expect none"
			   "7.3 ffa-patched --expect none")
		;;
	7.3-clients)
		# more TEE clients (kernel/AUDIT-7.3.md, kernel/build-client.sh),
		# loaded after optee-rng: stock on stock optee.ko/optee-rng.ko,
		# patched on series-7.3's
		subjects+=("7.3 clients-stock --expect some"
			   "7.3 clients-patched --expect none")
		;;
	*)
		echo "kexec-matrix: no subjects for kernel $kern   FAIL"
		fail=$((fail + 1))
		;;
	esac
done

img_of() {	# KERNEL NAME: the subject's guest image directory
	TESTBED_KERNEL=$1
	. tests/testbed/lib.sh
	if [ "${2#ffa-}" = stock ]; then
		echo "$OUT"
	else
		echo "$OUT/img-${2#ffa-}"
	fi
}

sw_of() {	# NAME: the secure world (ffa-*: the same modules over FF-A)
	case $1 in
	ffa-*) echo optee-ffa ;;
	*) echo "${TESTBED_SW:-optee}" ;;
	esac
}

build() {	# KERNEL NAME: modules and image (not for stock)
	local kern=$1 name=${2#ffa-} img
	[ "$name" = stock ] && return 0
	img=$(img_of "$kern" "$name")
	case $name in
	clients-*)
		# optee.ko/optee-rng.ko of the same variant (stock: Debian's),
		# and the clients
		rm -f "$TOP/build/kernel/$kern-$name"/*.ko
		{ [ "$name" = clients-stock ] ||
			KGEN=$kern kernel/build.sh "${name#clients-}" "$TOP/build/kernel/$kern-$name" >/dev/null; } &&
			KGEN=$kern kernel/build-client.sh "${name#clients-}" "$TOP/build/kernel/$kern-$name" >/dev/null &&
			TESTBED_KERNEL=$kern MODDIR=$TOP/build/kernel/$kern-$name \
			tests/testbed/mkinitramfs.sh "$img" >/dev/null
		return
		;;
	esac
	KGEN=$kern kernel/build.sh "$name" "$TOP/build/kernel/$kern-$name" >/dev/null &&
		TESTBED_KERNEL=$kern MODDIR=$TOP/build/kernel/$kern-$name \
		tests/testbed/mkinitramfs.sh "$img" >/dev/null
}

left_at_kexec() {	# LABEL CONSOLE-LOG: "LABEL<TAB>site<TAB>size<TAB>flags<TAB>count"
	# from the tool's kexec report lines; flags named in the kernel's layout
	# (5.10's, or the one of 5.18 on: DYNAMIC USER_MAPPED POOL PRIV, 7.x
	# adding DMA_BUF DMA_MEM)
	awk -v label="$1" '
	BEGIN {
		if (label ~ /^5\.10 /) split("MAPPED DMA_BUF EXT_DMA_BUF REGISTER USER_MAPPED POOL KERNEL_MAPPED PRIV", fn, " ")
		else split("DYNAMIC USER_MAPPED POOL PRIV DMA_BUF DMA_MEM", fn, " ")
	}
	function field(name,   i) {
		for (i = 1; i <= NF; i++)
			if (index($i, name "=") == 1)
				return substr($i, length(name) + 2)
		return ""
	}
	function named(hex,   v, i, b, out) {
		v = 0
		hex = tolower(substr(hex, 3))
		for (i = 1; i <= length(hex); i++)
			v = v * 16 + index("0123456789abcdef", substr(hex, i, 1)) - 1
		out = ""
		for (b = 1; v > 0; b++) {
			if (v % 2)
				out = (out == "" ? "" : out "|") (b in fn ? fn[b] : "bit" (b - 1))
			v = int(v / 2)
		}
		return out
	}
	{ sub(/\r$/, "") }
	/teeshm-trace: kexec-registered / { id = field("id"); ids[id] = 1; size[id] = field("size"); flags[id] = field("flags") }
	/teeshm-trace: kexec-site / { id = field("id"); site[id] = field("site"); if ($NF ~ /^\[/) site[id] = site[id] " " $NF }
	/teeshm-trace: kexec-end / {
		for (id in ids)
			n[(id in site ? site[id] : "?") "\t" size[id] "\t" flags[id] " " named(flags[id])]++
		split("", ids); split("", site)
	}
	END { for (k in n) printf "%s\t%s\t%d\n", label, k, n[k] }' "$2" | sort
}

run() {	# KERNEL NAME VERIFY-ARGS...: one guest run, its checks, its counts
	local kern=$1 name=$2 img dir t0 out p f extra= extra_args
	shift 2
	pass=0 fail=0 rows=() regs=() sites=()
	export TESTBED_KERNEL=$kern TESTBED_SW
	TESTBED_SW=$(sw_of "$name")
	. tests/testbed/lib.sh
	img=$(img_of "$kern" "$name") dir=$OUT/runs/matrix-$name
	t0=$(date +%s)
	echo "== subject $kern $name: $n kexecs on $SW_NAME"
	# no pstore report to read back on 5.10 (lib.sh)
	extra=$NO_PSTORE
	# the audit's clients (kernel/AUDIT-7.3.md); the SCMI transport needs
	# its DT node
	local dtb_opts=${TESTBED_DTB_OPTS:-}
	case $name in
	clients-*)
		extra_args=" teeshm.clients=rtc-optee,scmi_transport_optee,trusted"
		dtb_opts="$dtb_opts --scmi-optee"
		;;
	*) extra_args= ;;
	esac
	# the time limit is a guard against a hung guest, not a measure
	TESTBED_DTB_OPTS=$dtb_opts TESTBED_IMG=$img tests/testbed/run.sh trace --kexecs "$n" --timeout $((120 + 60 * n)) \
		--append "teeshm.hold=2$extra_args" --out "$dir"
	case $? in
	0) ;;
	124) echo "  the guest hung: the time limit ended the run   FAIL"; fail=$((fail + 1)) ;;
	*) echo "  qemu did not power off cleanly   FAIL"; fail=$((fail + 1)) ;;
	esac
	out=$(python3 tests/testbed/verify.py kexec "$dir" --tool "$TOP/build/teeshm-trace" \
		--kexecs "$n" --label "$kern $name" $extra "$@")
	echo "$out" | sed '$d'
	p=$(echo "$out" | tail -n1 | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed/\1/p')
	f=$(echo "$out" | tail -n1 | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed/\2/p')
	pass=$((pass + ${p:-0})) fail=$((fail + ${f:-1}))
	[ -f "$dir/matrix.tsv" ] && rows+=("$(cat "$dir/matrix.tsv")")
	# what the tool reported left at the kexecs: site, size, flags, counted
	sites+=("$(left_at_kexec "$kern $name" "$dir/console.log")")
	# every registration the secure world accepted in the run, leaked or not
	regs+=("$(printf '%s %s\t%s\t%s' "$kern" "$name" \
		"$(grep -c '^TSW reg .* ret=0x0 ' "$dir/secure.log" 2>/dev/null)" \
		"$(grep -c '^TSW unreg .* ret=0x0 ' "$dir/secure.log" 2>/dev/null)")")
	echo "   ($(($(date +%s) - t0))s)"
}

t_all=$(date +%s)
built=()
for i in "${!subjects[@]}"; do
	set -- ${subjects[$i]}
	t0=$(date +%s)
	if build "$1" "$2"; then
		built+=("$i")
		[ "${2#ffa-}" = stock ] || echo "== built $1 $2 ($(($(date +%s) - t0))s)"
	else
		echo "== subject $1 $2: module or image build failed   FAIL"
		fail=$((fail + 1))
	fi
done

jobs=${KEXEC_MATRIX_JOBS:-$(nproc)}
running=()
finish() {	# I: print a finished run's log
	echo "== run ${subjects[$1]%% --*} (done after $(($(date +%s) - t_all))s)"
	cat "$tmp/run-$1.log"
}
reap() {	# wait until fewer than $1 runs are going
	local still r
	while [ "${#running[@]}" -ge "$1" ] && [ "${#running[@]}" -gt 0 ]; do
		wait -n
		still=()
		for r in "${running[@]}"; do
			if kill -0 "${r%%:*}" 2>/dev/null; then
				still+=("$r")
			else
				wait "${r%%:*}"
				finish "${r#*:}"
			fi
		done
		running=("${still[@]}")
	done
}
echo "== $((${#built[@]})) guest runs, $jobs at a time"
for i in "${built[@]}"; do
	reap "$jobs"
	(
		run ${subjects[$i]}
		declare -p pass fail rows regs sites >"$tmp/run-$i.state"
	) >"$tmp/run-$i.log" 2>&1 &
	running+=("$!:$i")
done
reap 1
for i in "${built[@]}"; do
	if [ ! -f "$tmp/run-$i.state" ]; then
		echo "run ${subjects[$i]%% --*} ended without its counts   FAIL"
		fail=$((fail + 1))
		continue
	fi
	lp=$pass lf=$fail lrows=("${rows[@]}") lregs=("${regs[@]}") lsites=("${sites[@]}")
	. "$tmp/run-$i.state"
	pass=$((lp + pass)) fail=$((lf + fail))
	rows=("${lrows[@]}" "${rows[@]}") regs=("${lregs[@]}" "${regs[@]}")
	sites=("${lsites[@]}" "${sites[@]}")
done
echo
echo "== kexec truth table (tool report vs secure world, per subject)"
printf '  %-16s %-7s %-22s %-28s %s\n' "kernel subject" kexecs "leaks reported (tool)" "stale entries (secure world)" verdict
printf '%s\n' "${rows[@]}" | awk -F'\t' '
	NF { k[$1]++; t[$1] += $3; s[$1] += $4; if ($5 != "yes") bad[$1]++; if (!($1 in o)) { o[$1] = ++m; name[m] = $1 } }
	END { for (i = 1; i <= m; i++) { x = name[i]
		printf "  %-16s %-7d %-22d %-28d %s\n", x, k[x], t[x], s[x],
			bad[x] ? "DISAGREE" : (t[x] ? "leaks, tool == secure world" : "clean, tool == secure world") } }'
echo
echo "== registrations the secure world accepted / released over each whole run"
printf '%s\n' "${regs[@]}" | awk -F'\t' 'NF { printf "  %-16s %6d registered %6d unregistered\n", $1, $2, $3 }'
echo
echo "== what each subject left at its kexecs (the tool's report: site, size, flags; how many times)"
printf '%s\n' "${sites[@]}" | awk -F'\t' 'NF { printf "  %-16s %-44s %6s  %-22s %d\n", $1, $2, $3, $4, $5 }'
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
