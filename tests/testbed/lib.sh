#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# lib.sh - shared settings of the testbed scripts (sourced).
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${TEESHM_CACHE:-$HOME/.cache/teeshm-trace}
OUT=${TESTBED_OUT:-$TOP/build/testbed}
# Debian kernel ABI; when the archive no longer serves it, use what
# linux-image-arm64 points to.
KVER=${KVER:-6.1.0-56}
FETCH=$TOP/scripts/fetch-debs.sh
# -nic none: no network (and no need for the iPXE option ROM)
QEMU_MACHINE="-M virt,secure=on,acpi=off -cpu cortex-a57 -smp 1 -m 1G -nic none"

kernel_pkg() {
	if apt-cache show "linux-image-$KVER-arm64:arm64" >/dev/null 2>&1; then
		echo "linux-image-$KVER-arm64:arm64"
	else
		apt-cache depends linux-image-arm64:arm64 |
			sed -n 's/.*Depends: \(linux-image-[0-9].*-arm64\).*/\1:arm64/p' |
			head -n1
	fi
}

die() {
	echo "testbed: $*" >&2
	exit 1
}
