#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# lib.sh - shared settings of the testbed scripts (sourced).
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${TEESHM_CACHE:-$HOME/.cache/teeshm-trace}
# The guest kernel generation: 6.1 (bookworm, default), 5.10 (bullseye),
# 6.12 (trixie) or 7.3 (trixie-backports).
# Firmware and test client are shared (FWOUT); image and runs are per kernel.
TESTBED_KERNEL=${TESTBED_KERNEL:-6.1}
FWOUT=$TOP/build/testbed
# The secure world: optee (real OP-TEE OS 4.10 + TF-A built from source,
# optee/build.sh; the default), optee-ffa (the same OP-TEE as the S-EL1
# SPMC under TF-A's SPMD: Linux reaches it over FF-A; optee/build.sh ffa)
# or emu (the project's emulated firmware, fw/: kept for the fault builds
# UNREG_BUSY and CAPACITY).  All log the same "TSW" lines on the secure
# UART (QEMU's second serial).
TESTBED_SW=${TESTBED_SW:-optee}
case $TESTBED_SW in
optee) SW_DEFAULT=$FWOUT/optee/qemu_fw.bios SW_NAME="OP-TEE OS 4.10.0 + TF-A 2.14.0" ;;
optee-ffa)
	SW_DEFAULT=$FWOUT/optee-ffa/qemu_fw.bios
	SW_NAME="OP-TEE OS 4.10.0 (S-EL1 SPMC, FF-A) + TF-A 2.14.0 (SPMD)"
	;;
emu) SW_DEFAULT=$FWOUT/fw.bin SW_NAME="the emulated OP-TEE (tests/testbed/fw)" ;;
*)
	echo "testbed: TESTBED_SW=$TESTBED_SW: expected optee, optee-ffa or emu" >&2
	exit 2
	;;
esac
case $TESTBED_KERNEL in
6.1)
	# Debian kernel ABI; when the archive no longer serves it, use what
	# linux-image-arm64 points to.
	KVER=${TESTBED_KVER:-6.1.0-56}
	KSUITE=
	DTB_OPTS=
	OUT=${TESTBED_OUT:-$FWOUT}
	NO_PSTORE=
	;;
5.10)
	KVER=${TESTBED_KVER:-5.10.0-32}
	KSUITE=bullseye
	# 5.10 maps QEMU's disabled secure-only memory node as RAM
	DTB_OPTS=--no-secram
	OUT=${TESTBED_OUT:-$TOP/build/testbed-5.10}
	# no kmsg_dump(SHUTDOWN) at kexec, no PSTORE_CONSOLE: no pstore record
	NO_PSTORE=--no-pstore
	;;
6.12)
	# Debian 13 (trixie), its security suite
	KVER=${TESTBED_KVER:-6.12.118+deb13}
	KSUITE=trixie-security
	DTB_OPTS=
	OUT=${TESTBED_OUT:-$TOP/build/testbed-6.12}
	# the report reaches pstore through kmsg_dump_desc() (kmsg_dump() is
	# an inline wrapper of it from 6.12 on): last-kexec reads it back
	NO_PSTORE=
	;;
7.3)
	# trixie-backports: the image package is a meta package; the kernel
	# is in linux-binary-unsigned-*, the modules in linux-modules-*
	KVER=${TESTBED_KVER:-7.3.4+deb13}
	KSUITE=trixie-backports
	DTB_OPTS=
	OUT=${TESTBED_OUT:-$TOP/build/testbed-7.3}
	NO_PSTORE=
	;;
*)
	echo "testbed: TESTBED_KERNEL=$TESTBED_KERNEL: expected 6.1, 5.10, 6.12 or 7.3" >&2
	exit 2
	;;
esac
FETCH=$TOP/scripts/fetch-debs.sh
# -nic none: no network (and no need for the iPXE option ROM)
QEMU_MACHINE="-M virt,secure=on,acpi=off -cpu cortex-a57 -smp 1 -m ${TESTBED_MEM:-1G} -nic none ${TESTBED_QEMU_OPTS:-}"
# where the initramfs is loaded (a large one goes above the DTB at 0x4f000000)
INITRD_ADDR=${TESTBED_INITRD_ADDR:-0x48000000}

kernel_pkg() {	# the package holding the kernel image
	if [ "$TESTBED_KERNEL" = 7.3 ]; then
		echo "linux-binary-unsigned-$KVER-arm64:arm64"
	elif [ -n "$KSUITE" ]; then
		echo "linux-image-$KVER-arm64:arm64"
	elif apt-cache show "linux-image-$KVER-arm64:arm64" >/dev/null 2>&1; then
		echo "linux-image-$KVER-arm64:arm64"
	else
		apt-cache depends linux-image-arm64:arm64 |
			sed -n 's/.*Depends: \(linux-image-[0-9].*-arm64\).*/\1:arm64/p' |
			head -n1
	fi
}

kernel_mod_pkg() {	# the package holding the modules, when another one
	[ "$TESTBED_KERNEL" = 7.3 ] && echo "linux-modules-$KVER-arm64:arm64"
	return 0
}

# With dir (fetch.sh's package -> unpacked directory) filled by the caller:
# the kernel's raw Image copied to IMAGE, KMODS its modules' directory
# (under /lib to 6.1, /usr/lib in trixie's merged /usr; 7.3's in their own
# package).
kernel_unpacked() {	# IMAGE
	local kimg kmodp kmodd d
	kimg=${dir[$(kernel_pkg | sed 's/:.*//')]}
	kmodp=$(kernel_mod_pkg)
	kmodd=$kimg
	[ -z "$kmodp" ] || kmodd=${dir[${kmodp%%:*}]}
	KMODS=
	for d in "$kmodd"/lib/modules/* "$kmodd"/usr/lib/modules/*; do
		[ -d "$d/kernel" ] && { KMODS=$d; break; }
	done
	[ -n "$KMODS" ] || die "no modules in $kmodd"
	if ls "$kimg"/boot/vmlinuz-* >/dev/null 2>&1; then
		cp "$kimg"/boot/vmlinuz-* "$1"
	else
		# 7.3: linux-binary-unsigned's raw Image
		cp "$kimg"/usr/lib/modules/*/vmlinuz.unsigned "$1"
	fi
}

die() {
	echo "testbed: $*" >&2
	exit 1
}
