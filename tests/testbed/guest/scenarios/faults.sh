#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Scenario 8: faults.  A tracer without capabilities; a live table too
# small (the check must never say PASS with buffers it could not track); a
# ring buffer overflowing while the tracer is stopped (events lost, counted,
# reported; the live table still equals the secure world: the host checks
# the TBS/mark pair as in scenario 3); the TEE modules removed while
# tracing (the tracer carries on and exits cleanly, no probe left behind).
. /scenarios/lib.sh
KEY=000102030405060708090a0b0c0d0e0f
T="teeshm-trace --id-key $KEY"

json_num() {	# FILE KEY
	sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" "$1"
}

load_mod tee
check core-loaded $? "tee"

# 1 no capabilities: a clear message naming them, exit 2
# (root of a new user namespace: no capability in the initial one)
unshare -U -r $T trace >/dev/null 2>/tmp/nocap.err
rc=$?
[ $rc -eq 2 ] && grep -q "CAP_BPF" /tmp/nocap.err
check no-capabilities $? "rc=$rc,$(head -n1 /tmp/nocap.err | tr ' ' '_' | cut -c1-80)"

# 2 a 4 KiB ring buffer and a stopped reader: events are lost
$T trace --ring-size 4096 >/dev/null 2>/tmp/ring.err &
tpid=$!
wait_for /tmp/ring.err tracing
load_mod optee
load_mod optee-rng
kill -STOP $tpid
teeshm-client --loops 20 --size 4096 >/tmp/c2.out 2>&1
check client-loops $? "$(tail -n1 /tmp/c2.out | tr ' ' '_')"
teeshm-client --hold 3 --size 12288 >/tmp/c3.out 2>&1 &
cpid=$!
wait_for /tmp/c3.out holding
$T status --json >/tmp/status.json
lost=$(json_num /tmp/status.json lost_events)
[ "${lost:-0}" -gt 0 ]
check ring-overflow-counted $? "lost=$lost"
# the table is kept in the kernel: still equal to the secure world's
echo "TBS $(cat /tmp/status.json)"
teeshm-client --mark
check mark $? ""
wait $cpid
kill -CONT $tpid
kill -TERM $tpid
wait $tpid
grep -q "[1-9][0-9]* lost" /tmp/ring.err
check ring-overflow-reported $? "$(grep -o '[0-9]* lost' /tmp/ring.err | tr ' ' '_')"

# 3 a live table with room for one buffer
$T trace --max-buffers 1 >/dev/null 2>/tmp/small.err &
tpid=$!
wait_for /tmp/small.err tracing
teeshm-client --hold 1 --size 12288 >/tmp/c1.out 2>&1 &
c1=$!
wait_for /tmp/c1.out holding
$T status --json >/tmp/small.json
full=$(json_num /tmp/small.json untracked_live_full)
[ "${full:-0}" -gt 0 ]
check live-full-counted $? "untracked=$full"
printf 'policy=block\nallow_owner=[optee_rng]\nallow_owner=teeshm-client\n' >/tmp/allowall.conf
$T check --config /tmp/allowall.conf >/tmp/small.check
rc=$?
[ $rc -eq 1 ] && grep -q "^UNKNOWN: " /tmp/small.check
check live-full-never-pass $? "rc=$rc,$(head -c 60 /tmp/small.check | tr ' ' '_')"
wait $c1
kill -TERM $tpid
wait $tpid

# 4 the TEE modules go away under the tracer
$T trace >/dev/null 2>/tmp/rm.err &
tpid=$!
wait_for /tmp/rm.err tracing
rmmod optee-rng && rmmod optee && rmmod tee
check modules-removed $? ""
sleep 1
kill -0 $tpid
check tracer-survives-rmmod $? ""
kill -TERM $tpid
wait $tpid
rc=$?
n=$(grep -c teeshm /sys/kernel/tracing/kprobe_events 2>/dev/null)
[ $rc -le 1 ] && [ "$n" -eq 0 ] && [ ! -e /sys/fs/bpf/teeshm ]
check rmmod-clean-exit $? "rc=$rc,kprobe_events=$n"
