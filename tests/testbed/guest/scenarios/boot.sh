#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Scenario 1: optee.ko probes with dynamic shared memory, optee-rng binds,
# /dev/hwrng gives bytes.
. /scenarios/lib.sh
load_tee
check modules-loaded $? "$(lsmod | awk 'NR>1{printf "%s,", $1}')"
dmesg | grep -q "optee: dynamic shared memory is enabled"
check optee-dynamic-shm $? "$(dmesg | grep -m1 'optee:' | tr ' ' '_')"
sleep 1
[ -e /sys/bus/tee/drivers/optee-rng ] && ls /sys/bus/tee/drivers/optee-rng | grep -q optee-ta
check optee-rng-bound $? "$(ls /sys/bus/tee/devices 2>/dev/null | tr '\n' ',')"
cur=$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)
n=$(dd if=/dev/hwrng bs=64 count=1 2>/dev/null | wc -c)
[ "$n" -eq 64 ]
check hwrng-bytes $? "rng_current=$cur,bytes=$n,sample=$(dd if=/dev/hwrng bs=8 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')"
