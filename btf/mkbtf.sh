#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# mkbtf.sh KVER BPF_OBJ OUT.btf - external BTF for a Debian arm64 kernel
# whose tee.ko carries none (5.10: no CONFIG_DEBUG_INFO_BTF_MODULES).
#
# tee.ko's DWARF comes from Debian's linux-image-KVER-arm64-dbg (only that
# file is unpacked, once, into the cache); pahole encodes it as BTF, and
# `bpftool gen min_core_btf` keeps what BPF_OBJ's CO-RE relocations use
# (struct tee_shm: size, flags, refcount - a few hundred bytes).  The tool
# finds the result as /usr/lib/teeshm-trace/btf/KVER-arm64.btf, or takes
# it with --btf.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kver=${1:?usage: mkbtf.sh KVER BPF_OBJ OUT.btf}
obj=${2:?usage: mkbtf.sh KVER BPF_OBJ OUT.btf}
out=${3:?usage: mkbtf.sh KVER BPF_OBJ OUT.btf}
cache=${TEESHM_CACHE:-$HOME/.cache/teeshm-trace}
suite=${KSUITE:-bullseye}
full=$cache/btf/$kver/tee.btf
command -v pahole >/dev/null || { echo "mkbtf: pahole missing (apt install dwarves)" >&2; exit 1; }
if [ ! -s "$full" ]; then
	deb=$("$top/scripts/fetch-debs.sh" -s "$suite" -n "linux-image-$kver-arm64-dbg:arm64")
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	dpkg-deb --fsys-tarfile "$deb" |
		tar -C "$tmp" -x --wildcards '*/kernel/drivers/tee/tee.ko'
	ko=$(find "$tmp" -name tee.ko | head -n1)
	[ -n "$ko" ] || { echo "mkbtf: no tee.ko in $deb" >&2; exit 1; }
	mkdir -p "$(dirname "$full")"
	pahole --btf_encode_detached="$full.tmp" "$ko" >&2
	mv "$full.tmp" "$full"
fi
mkdir -p "$(dirname "$out")"
bpftool gen min_core_btf "$full" "$out" "$obj"
echo "mkbtf: $out ($(stat -c %s "$out") bytes) from $kver's tee.ko DWARF" >&2
