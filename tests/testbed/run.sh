#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# run.sh SCENARIO [--kexecs N] [--timeout S] [--append "ARGS"] [--out DIR]
# Boot the testbed (stock Debian arm64 kernel on the project's EL3 secure
# world) with one scenario; the kernel console goes to DIR/console.log, the
# secure world's UART to DIR/secure.log.  Exit status: QEMU's (0 = the
# guest powered off through PSCI), 124 on timeout.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
scenario=${1:?usage: run.sh SCENARIO [--kexecs N] [--timeout S] [--append ARGS] [--out DIR]}
shift
kexecs=0 timeout=240 append= dir=
while [ $# -gt 0 ]; do
	case $1 in
	--kexecs) kexecs=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--out) dir=$2; shift 2 ;;
	*) die "run.sh: unknown option $1" ;;
	esac
done
img=${TESTBED_IMG:-$OUT}
dir=${dir:-$OUT/runs/$scenario}
fw=${TESTBED_FW:-$FWOUT/fw.bin}
[ -f "$fw" ] || die "no firmware ($fw): run make testbed"
[ -f "$img/initrd.cpio" ] || die "no initramfs: run make testbed"
mkdir -p "$dir"
bootargs="console=ttyAMA0 rdinit=/init tp_printk panic=-1 teeshm.scenario=$scenario teeshm.boot=1 teeshm.kexecs=$kexecs $append"
"$(dirname "$0")/mkdtb.sh" "$dir/guest.dtb" "$img/initrd.cpio" "$bootargs" $DTB_OPTS
start=$(date +%s.%N)
set +e
timeout "$timeout" qemu-system-aarch64 $QEMU_MACHINE -semihosting \
	-display none -monitor none \
	-bios "$fw" \
	-device loader,file="$img/Image",addr=0x40200000,force-raw=on \
	-device loader,file="$img/initrd.cpio",addr=$INITRD_ADDR,force-raw=on \
	-device loader,file="$dir/guest.dtb",addr=0x4f000000,force-raw=on \
	-serial file:"$dir/console.log" -serial file:"$dir/secure.log" \
	</dev/null
rc=$?
set -e
end=$(date +%s.%N)
printf 'testbed: %s: qemu exit %d after %.1fs; logs in %s\n' "$scenario" "$rc" \
	"$(echo "$end - $start" | bc)" "$dir" >&2
exit $rc
