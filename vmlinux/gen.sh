#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# gen.sh - regenerate vmlinux/<arch>/vmlinux.h from real kernel BTF.
#
#   vmlinux/gen.sh arm64   from Debian's arm64 kernel image (linux-image-*-arm64):
#                          the raw arm64 Image carries the .BTF section's bytes;
#                          we locate the BTF header (magic 0xeB9F, version 1,
#                          24-byte header) and cut header + type + string
#                          sections out into a raw BTF file.
#   vmlinux/gen.sh x86     from this host's /sys/kernel/btf/vmlinux.
#
# The headers only give BPF code type names and a first guess at layouts:
# every field access is CO-RE-relocated against the running kernel's BTF at
# load time, so they need not match the target kernel's exact version.  The
# TEE types (struct tee_shm, ...) live in tee.ko's module BTF, not in
# vmlinux, and are declared in bpf/tee_types.h instead.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
arch=${1:?usage: gen.sh arm64|x86}
bpftool=$(command -v bpftool || echo /usr/sbin/bpftool)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

case $arch in
arm64)
	dir=$("$here/../scripts/fetch-debs.sh" "linux-image-${KVER:-6.1.0-56}-arm64:arm64")
	img=$(ls "$dir"/boot/vmlinuz-*)
	python3 - "$img" "$tmp/vmlinux.btf" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
off = 0
while True:
    off = data.find(b'\x9f\xeb\x01\x00', off)
    if off < 0:
        sys.exit('no BTF header found in ' + sys.argv[1])
    hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from('<IIIII', data, off + 4)
    if hdr_len == 24 and type_off == 0 and str_off == type_len and type_len > 1 << 20:
        end = off + hdr_len + str_off + str_len
        open(sys.argv[2], 'wb').write(data[off:end])
        print('BTF at 0x%x, %d bytes' % (off, end - off), file=sys.stderr)
        break
    off += 4
PY
	;;
x86)
	cp /sys/kernel/btf/vmlinux "$tmp/vmlinux.btf"
	;;
*)
	echo "gen.sh: unknown arch $arch (arm64 or x86)" >&2
	exit 2
	;;
esac
mkdir -p "$here/$arch"
"$bpftool" btf dump file "$tmp/vmlinux.btf" format c >"$here/$arch/vmlinux.h"
echo "wrote $here/$arch/vmlinux.h ($(wc -c <"$here/$arch/vmlinux.h") bytes)"
