#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# check.sh: the project's OP-TEE patches in OP-TEE's style: each passes
# checkpatch with OP-TEE's own settings (its .checkpatch.conf and
# typedefs.checkpatch; the script from Debian's linux-source-6.1, as
# OP-TEE uses the kernel's), and applies to the pinned OP-TEE OS tree
# without fuzz.  Needs the unpacked tree build.sh leaves in the cache.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
src=$CACHE/optee/src/optee_os-4.10.0
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "  PASS $*"; }
ko() { fail=$((fail + 1)); echo "  FAIL $*"; }

if [ ! -f "$src/.checkpatch.conf" ]; then
	ko "no OP-TEE OS tree at $src (run make testbed)"
	echo "$pass passed, $fail failed"
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -C "$tmp" --strip-components=1 -xf /usr/src/linux-source-6.1.tar.xz \
	linux-source-6.1/scripts/checkpatch.pl linux-source-6.1/scripts/spelling.txt \
	linux-source-6.1/scripts/const_structs.checkpatch ||
	ko "unpack checkpatch.pl from /usr/src/linux-source-6.1.tar.xz"
cp -a "$src" "$tmp/tree"
for p in "$here"/patches/optee_os/*.patch; do
	n=$(basename "$p")
	# run in the tree: checkpatch reads OP-TEE's .checkpatch.conf from
	# there (--strict --quiet and its ignores); quiet: silent when clean
	out=$(cd "$src" && perl "$tmp/scripts/checkpatch.pl" \
		--typedefsfile typedefs.checkpatch "$p" 2>/dev/null)
	if [ $? -eq 0 ] && ! echo "$out" | grep -q "ERROR\|WARNING\|CHECK"; then
		ok "checkpatch (OP-TEE's settings) $n"
	else
		ko "checkpatch (OP-TEE's settings) $n"
		echo "$out" | sed 's/^/    /'
	fi
	if out=$(patch -d "$tmp/tree" -p1 --forward -F0 <"$p" 2>&1) &&
		! echo "$out" | grep -q "offset\|fuzz"; then
		ok "applies to OP-TEE OS 4.10.0 without fuzz or offset: $n"
	else
		ko "applies to OP-TEE OS 4.10.0: $n"
		echo "$out" | sed 's/^/    /'
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
