#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# run.sh SCENARIO [--kexecs N] [--timeout S] [--append "ARGS"] [--out DIR]
# Boot the testbed (stock Debian arm64 kernel on the secure world that
# TESTBED_SW selects: optee, the default, optee-ffa or emu) with one
# scenario; the kernel console goes to DIR/console.log, the secure
# world's UART to DIR/secure.log.  TESTBED_DTB_OPTS: more mkdtb.sh
# options (--scmi-optee).  Exit status: QEMU's (0 = the
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
fw=${TESTBED_FW:-$SW_DEFAULT}
[ -f "$fw" ] || die "no secure world ($fw, TESTBED_SW=$TESTBED_SW): run make testbed"
[ -f "$img/initrd.cpio" ] || die "no initramfs: run make testbed"
mkdir -p "$dir"
bootargs="console=ttyAMA0 rdinit=/init tp_printk panic=-1 teeshm.scenario=$scenario teeshm.boot=1 teeshm.kexecs=$kexecs teeshm.sw=$TESTBED_SW $append"
if [ "$TESTBED_SW" != emu ]; then
	# TF-A adds /psci and OP-TEE /firmware/optee (not with FF-A) to the
	# DTB that QEMU places at the start of RAM; BL31 enters the Image
	# with x0 = it
	"$(dirname "$0")/mkdtb.sh" "$dir/guest.dtb" "$img/initrd.cpio" "$bootargs" \
		--no-firmware-nodes $DTB_OPTS ${TESTBED_DTB_OPTS:-}
	swargs=(-bios "$fw" -dtb "$dir/guest.dtb")
else
	# the emulated firmware enters the Image with x0 = 0x4f000000
	"$(dirname "$0")/mkdtb.sh" "$dir/guest.dtb" "$img/initrd.cpio" "$bootargs" $DTB_OPTS ${TESTBED_DTB_OPTS:-}
	swargs=(-semihosting -bios "$fw"
		-device loader,file="$dir/guest.dtb",addr=0x4f000000,force-raw=on)
fi
start=$(date +%s.%N)
set +e
timeout "$timeout" qemu-system-aarch64 $QEMU_MACHINE \
	-display none -monitor none "${swargs[@]}" \
	-device loader,file="$img/Image",addr=0x40200000,force-raw=on \
	-device loader,file="$img/initrd.cpio",addr=$INITRD_ADDR,force-raw=on \
	-serial file:"$dir/console.log" -serial file:"$dir/secure.log" \
	</dev/null
rc=$?
set -e
end=$(date +%s.%N)
printf 'testbed: %s (%s): qemu exit %d after %.1fs; logs in %s\n' "$scenario" "$TESTBED_SW" "$rc" \
	"$(echo "$end - $start" | bc)" "$dir" >&2
exit $rc
