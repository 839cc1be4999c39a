#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Scenario 1: optee.ko probes with dynamic shared memory (or, on the FF-A
# secure world, over FF-A), optee-rng binds, /dev/hwrng gives bytes.
. /scenarios/lib.sh
load_tee
check modules-loaded $? "$(lsmod | awk 'NR>1{printf "%s,", $1}')"
if [ "$TB_SW" = optee-ffa ]; then
	# over FF-A: the FF-A driver found the SPMC and optee.ko bound to
	# its FF-A device (no SMC-path lines: optee never says "FF-A")
	dmesg | grep -q "ARM FF-A: .*version" &&
		dmesg | grep -q "optee: initialized driver" &&
		ls /sys/bus/arm_ffa/drivers/optee 2>/dev/null | grep -q "^arm-ffa-"
	check optee-ffa $? "$(ls /sys/bus/arm_ffa/devices 2>/dev/null | tr '\n' ','),$(dmesg | grep -m1 'ARM FF-A: Firmware' | cut -d']' -f2 | tr ' ' '_')"
else
	dmesg | grep -q "optee: dynamic shared memory is enabled"
	check optee-dynamic-shm $? "$(dmesg | grep -m1 'optee:' | tr ' ' '_')"
fi
sleep 1
[ -e /sys/bus/tee/drivers/optee-rng ] && ls /sys/bus/tee/drivers/optee-rng | grep -q optee-ta
check optee-rng-bound $? "$(ls /sys/bus/tee/devices 2>/dev/null | tr '\n' ',')"
cur=$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)
n=$(dd if=/dev/hwrng bs=64 count=1 2>/dev/null | wc -c)
[ "$n" -eq 64 ]
check hwrng-bytes $? "rng_current=$cur,bytes=$n,sample=$(dd if=/dev/hwrng bs=8 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')"
