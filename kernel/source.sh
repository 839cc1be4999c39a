#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# source.sh TARBALL: the parts of a linux-source tarball that kernel/ uses,
# unpacked once per tarball into the cache; prints that directory.
# Unpacking a 150 MB linux-source-*.tar.xz reads all of it (about a minute
# on 2 busy cores); build.sh and check.sh need the same few paths again and
# again: the TEE drivers, optee-rng.c, checkpatch and what it reads, and
# modpost's sources.
set -euo pipefail
tarball=${1:?usage: source.sh TARBALL}
cache=${TEESHM_CACHE:-$HOME/.cache/teeshm-trace}
[ -f "$tarball" ] || { echo "source.sh: no $tarball" >&2; exit 1; }
top=$(tar -tf "$tarball" 2>/dev/null | head -n1 | cut -d/ -f1) || true
[ -n "$top" ] || { echo "source.sh: $tarball is not a linux-source tarball" >&2; exit 1; }
# one directory per tarball: its name and size and mtime
key=$(stat -c '%n %s %Y' "$(readlink -f "$tarball")" | sha256sum | cut -c1-16)
dir=$cache/src/$top-$key
if [ ! -f "$dir/.done" ]; then
	rm -rf "$dir"
	mkdir -p "$dir"
	# a member a generation lacks (scripts/include before 6.x) is only
	# reported by tar; those every generation has are checked after
	tar -C "$dir" --strip-components=1 -xf "$tarball" --wildcards \
		"$top/drivers/tee/*" "$top/drivers/char/hw_random/optee-rng.c" \
		"$top/scripts/checkpatch.pl" "$top/scripts/spelling.txt" \
		"$top/scripts/const_structs.checkpatch" "$top/scripts/mod/*" \
		"$top/scripts/include/*" "$top/include/linux/*" 2>/dev/null || true
	for f in drivers/tee/optee/call.c drivers/char/hw_random/optee-rng.c \
		scripts/checkpatch.pl scripts/mod/modpost.c include/linux/tee_drv.h; do
		[ -f "$dir/$f" ] || { echo "source.sh: $f not in $tarball" >&2; exit 1; }
	done
	touch "$dir/.done"
fi
echo "$dir"
