#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# fetch.sh - download (cached) the Debian arm64 packages the guest is made
# of, and print "NAME DIR" for each.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kpkg=$(kernel_pkg)
[ -n "$kpkg" ] || die "no arm64 kernel package in the archive"
pkgs=(
	busybox-static:arm64 libc6:arm64 libgcc-s1:arm64
	kexec-tools:arm64 zlib1g:arm64 libxenmisc4.17:arm64 libxencall1:arm64
	libxendevicemodel1:arm64 libxenevtchn1:arm64 libxenforeignmemory1:arm64
	libxengnttab1:arm64 libxenhypfs1:arm64 libxenstore4:arm64
	libxentoolcore1:arm64 libxentoollog1:arm64 libyajl2:arm64
	libext2fs2:arm64 libfdt1:arm64 libuuid1:arm64 liblzma5:arm64
	libzstd1:arm64 libteec1:arm64 tee-supplicant:arm64
)
dirs=$("$FETCH" "${pkgs[@]}")
paste -d' ' <(printf '%s\n' "${pkgs[@]}") <(echo "$dirs")
# the kernel (and its modules' package), from its own suite
for p in "$kpkg" $(kernel_mod_pkg); do
	echo "$p $("$FETCH" ${KSUITE:+-s "$KSUITE"} "$p")"
done
