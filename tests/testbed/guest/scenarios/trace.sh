#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Scenario 3/4: teeshm-trace in the guest.  Boot 1: trace while optee-rng
# binds (and the test client runs, if present), compare the tool's live
# table with the secure world (host side, from the lines printed here), then
# kexec.  Boot 2..N: the secure world lists what the previous kernel left
# registered (secure.log); kexec again until teeshm.kexecs is reached.
. /scenarios/lib.sh
KEY=000102030405060708090a0b0c0d0e0f
T="teeshm-trace --id-key $KEY"
kexecs=0
for w in $(cat /proc/cmdline); do
	case $w in teeshm.kexecs=*) kexecs=${w#*=} ;; esac
done

[ -x /usr/bin/teeshm-trace ]
check tool-present $? "build/arm64/teeshm-trace in the initramfs"
insmod /modules/tee.ko && insmod /modules/optee.ko
check core-loaded $? "tee,optee"
$T probes >/tmp/probes.txt 2>&1
check probes $? "$(grep -c ' yes ' /tmp/probes.txt)-present"
sed 's/^/TBP /' /tmp/probes.txt

$T --verbose trace -o /tmp/trace.jsonl >/tmp/trace.out 2>/tmp/trace.err &
tpid=$!
i=0
while ! grep -q "tracing" /tmp/trace.err 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.2
	i=$((i + 1))
done
grep -q tracing /tmp/trace.err
check tracer-attached $? "$(grep -c attached /tmp/trace.err)-probes"
sed 's/^/TBE /' /tmp/trace.err

insmod /modules/optee-rng.ko
check optee-rng-loaded $? ""
sleep 1
if [ -x /usr/bin/teeshm-client ]; then
	teeshm-client --loops 3 >/tmp/client.out 2>&1
	check client $? "$(tail -n1 /tmp/client.out | tr ' ' '_')"
fi
dd if=/dev/hwrng bs=32 count=1 2>/dev/null | wc -c >/dev/null

$T status --json >/tmp/status.json
check status $? ""
echo "TBS $(cat /tmp/status.json)"
$T check >/tmp/check.out
rc=$?
echo "TBC rc=$rc $(tail -n1 /tmp/check.out)"
sed 's/^/TBO /' /tmp/trace.out
sed 's/^/TBJ /' /tmp/trace.jsonl

if [ "$TB_BOOT" -le "$kexecs" ]; then
	echo "TBR kexec from=$TB_BOOT"
	kexec_next
	check kexec 1 "kexec -e returned"
fi
