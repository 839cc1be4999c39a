#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# check.sh: checkpatch --strict on the series (and the seed-bug patch), from
# linux-source-6.1; vermagic of built modules against the stock ones.
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
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
