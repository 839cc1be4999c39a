#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# check.sh: checkpatch --strict on the series (and the seed-bug patch), from
# linux-source-6.1; vermagic of built modules against the stock ones.
# 5.10 (bullseye): checkpatch --strict on kernel/seed-bug-5.10/*.patch from
# linux-source-5.10, each patch applies alone without fuzz or offset, the three
# KGEN=5.10 variants build (in a temporary directory), their vermagic equals
# Debian's optee.ko's, every modversions CRC they import is the one of the
# headers' Module.symvers, and the stock optee.ko defines and imports the same
# global symbols as Debian's.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
cache=${TEESHM_CACHE:-$HOME/.cache/teeshm-trace}
KVER=${KVER:-6.1.0-56}
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -C "$tmp" --strip-components=1 -xf /usr/src/linux-source-6.1.tar.xz \
	linux-source-6.1/scripts/checkpatch.pl linux-source-6.1/scripts/spelling.txt \
	linux-source-6.1/scripts/const_structs.checkpatch
for p in "$here"/patches/*.patch "$here"/seed-bug/*.patch; do
	out=$(perl "$tmp/scripts/checkpatch.pl" --strict --no-tree "$p" 2>&1)
	if echo "$out" | grep -q "total: 0 errors, 0 warnings, 0 checks"; then
		pass=$((pass + 1)); echo "  PASS checkpatch --strict $(basename "$p")"
	else
		fail=$((fail + 1)); echo "  FAIL checkpatch --strict $(basename "$p")"; echo "$out"
	fi
done
stock=$(ls -d "$cache"/x/linux-image-"$KVER"-arm64_*/lib/modules/*/kernel/drivers/tee/optee/optee.ko 2>/dev/null | head -n1)
want=$(modinfo -F vermagic "$stock" 2>/dev/null)
for k in "$top"/build/kernel/*/*.ko; do
	[ -e "$k" ] || continue
	got=$(modinfo -F vermagic "$k")
	if [ -n "$want" ] && [ "$got" = "$want" ]; then
		pass=$((pass + 1)); echo "  PASS vermagic ${k#"$top"/}: $got"
	else
		fail=$((fail + 1)); echo "  FAIL vermagic ${k#"$top"/}: '$got', stock '$want'"
	fi
done
# --- 5.10 (bullseye) ------------------------------------------------------------
ok() { pass=$((pass + 1)); echo "  PASS $*"; }
ko() { fail=$((fail + 1)); echo "  FAIL $*"; }
KVER510=${KVER510:-5.10.0-32}
dirs=$("$top/scripts/fetch-debs.sh" -s bullseye linux-source-5.10 \
	"linux-image-$KVER510-arm64:arm64" 2>"$tmp/fetch.err") || cat "$tmp/fetch.err"
src510=$(echo "$dirs" | sed -n 1p)/usr/src/linux-source-5.10.tar.xz
deb510=$(echo "$dirs" | sed -n 2p)/lib/modules/$KVER510-arm64/kernel
mkdir -p "$tmp/5.10"
tar -C "$tmp/5.10" --strip-components=1 -xf "$src510" \
	linux-source-5.10/scripts/checkpatch.pl linux-source-5.10/scripts/spelling.txt \
	linux-source-5.10/scripts/const_structs.checkpatch linux-source-5.10/drivers/tee/optee ||
	ko "unpack $src510"
for p in "$here"/seed-bug-5.10/*.patch; do
	n=seed-bug-5.10/$(basename "$p")
	out=$(perl "$tmp/5.10/scripts/checkpatch.pl" --strict --no-tree "$p" 2>&1)
	if echo "$out" | grep -q "total: 0 errors, 0 warnings, 0 checks"; then
		ok "checkpatch --strict (5.10) $n"
	else
		ko "checkpatch --strict (5.10) $n"; echo "$out"
	fi
	# each one alone on the pristine sources: no fuzz, no offset
	rm -rf "$tmp/apply" && cp -a "$tmp/5.10" "$tmp/apply"
	if out=$(patch -d "$tmp/apply" -p1 --fuzz=0 --no-backup-if-mismatch <"$p" 2>&1) &&
		! echo "$out" | grep -q "^Hunk"; then
		ok "applies cleanly to linux-source-5.10: $n"
	else
		ko "applies cleanly to linux-source-5.10: $n"; echo "$out"
	fi
done
want=$(modinfo -F vermagic "$deb510/drivers/tee/optee/optee.ko" 2>/dev/null)
symvers=$cache/kbuild-$KVER510/usr/src/linux-headers-$KVER510-arm64/Module.symvers
for v in stock revert seed-bug; do
	t0=$(date +%s)
	if KGEN=5.10 KVER=$KVER510 "$here/build.sh" "$v" "$tmp/k510/$v" >"$tmp/build.log" 2>&1; then
		ok "KGEN=5.10 build.sh $v ($(($(date +%s) - t0)) s)"
	else
		ko "KGEN=5.10 build.sh $v"; cat "$tmp/build.log"; continue
	fi
	for k in "$tmp/k510/$v"/*.ko; do
		n=5.10/$v/$(basename "$k")
		got=$(modinfo -F vermagic "$k")
		if [ -n "$want" ] && [ "$got" = "$want" ]; then
			ok "vermagic $n: $got"
		else
			ko "vermagic $n: '$got', Debian's '$want'"
		fi
		# modversions: every import's CRC is the one the kernel exports
		bad=$(modprobe --dump-modversions "$k" | while read -r crc sym; do
			awk -v c="$crc" -v s="$sym" '$1 == c && $2 == s { f = 1 } END { exit !f }' \
				"$symvers" || echo "$sym($crc)"
		done)
		nv=$(modprobe --dump-modversions "$k" | wc -l)
		if [ -s "$symvers" ] && [ "$nv" -gt 0 ] && [ -z "$bad" ]; then
			ok "modversions $n: $nv CRCs resolve in Module.symvers"
		else
			ko "modversions $n: unresolved: ${bad:-no Module.symvers or no __versions}"
		fi
	done
done
syms() { # kind file: U = imports, D = defined globals
	if [ "$1" = U ]; then
		aarch64-linux-gnu-nm -u "$2" | awk '{ print $NF }'
	else
		aarch64-linux-gnu-nm -g --defined-only "$2" | awk '{ print $2, $3 }'
	fi | sort
}
k=$tmp/k510/stock/optee.ko d=$deb510/drivers/tee/optee/optee.ko
for kind in U D; do
	diff=
	what=$([ $kind = U ] && echo "undefined" || echo "defined global")
	if [ -f "$k" ] && [ -f "$d" ] && [ -n "$(syms $kind "$d")" ] &&
		diff=$(diff <(syms $kind "$d") <(syms $kind "$k")); then
		ok "5.10/stock/optee.ko $what symbols = Debian's ($(syms $kind "$d" | wc -l))"
	else
		ko "5.10/stock/optee.ko $what symbols differ from Debian's"; echo "${diff:-}"
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
