#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Scenario 6: the always-on agent.  The agent attaches with the TEE core
# only, is killed (-9) while the drivers and a client register memory, and
# a new agent takes over the pinned probes; `status` must then equal the
# secure world's table (the host compares them, as in scenario 3),
# including what was registered while no agent ran.  `agent --stop` must
# leave no pin and no kprobe event behind; so must a `trace` ended by
# SIGTERM.
. /scenarios/lib.sh
KEY=000102030405060708090a0b0c0d0e0f
T="teeshm-trace --id-key $KEY"

teeshm_events() {
	grep -c teeshm /sys/kernel/tracing/kprobe_events 2>/dev/null
}

load_mod tee
check core-loaded $? "tee"

$T --verbose agent >/dev/null 2>/tmp/a1.err &
apid=$!
wait_for /tmp/a1.err tracing
check agent-attached $? "$(grep -c attached /tmp/a1.err)-probes"
grep -v attached /tmp/a1.err | sed 's/^/TBE /'
load_mod optee
check optee-loaded $? ""
kill -9 $apid
wait $apid 2>/dev/null
n=$(ls /sys/fs/bpf/teeshm/links 2>/dev/null | wc -l)
[ "$n" -gt 0 ]
check agent-killed-pins-remain $? "links=$n"

# while no agent runs: optee-rng registers its buffer, a client holds two
load_mod optee-rng
check optee-rng-loaded $? ""
teeshm-client --hold 3 --size 12288 >/tmp/client.out 2>&1 &
cpid=$!
wait_for /tmp/client.out holding

$T --verbose agent >/dev/null 2>/tmp/a2.err &
apid=$!
wait_for /tmp/a2.err tracing
grep -q "resuming" /tmp/a2.err
check agent-resumed $? "$(grep -o 'resuming [0-9]* pinned probes' /tmp/a2.err | tr ' ' '_')"
$T status --json >/tmp/status.json
check status $? ""
echo "TBS $(cat /tmp/status.json)"
teeshm-client --mark
check mark $? ""
wait "$cpid"
check client-hold $? "$(tail -n1 /tmp/client.out | tr ' ' '_')"

# stop: the agent process exits, its probes stay until --stop
kill -TERM $apid
wait $apid 2>/dev/null
n=$(ls /sys/fs/bpf/teeshm/links 2>/dev/null | wc -l)
[ "$n" -gt 0 ]
check agent-sigterm-keeps-probes $? "links=$n"

# An agent that records nothing (--quiet, no -o) takes the probes over and
# switches events off: a client's buffers (20 KiB) are paired in the live
# table all the same, and the next agent that reads finds none of them in
# the ring, but its own client's (8 KiB)
$T --verbose agent --quiet >/dev/null 2>/tmp/a3.err &
apid=$!
wait_for /tmp/a3.err tracing
grep -q "records nothing" /tmp/a3.err
check agent-quiet-events-off $? ""
teeshm-client --hold 2 --size 20480 >/tmp/client.out 2>&1 &
cpid=$!
wait_for /tmp/client.out holding
n=$($T status --json | grep -o '"size":20480' | wc -l)
wait "$cpid"
[ "$n" -gt 0 ]
check agent-quiet-table-kept $? "held=$n"
kill -TERM $apid
wait $apid 2>/dev/null
$T agent >/tmp/a4.out 2>/tmp/a4.err &
apid=$!
wait_for /tmp/a4.err tracing
teeshm-client --loops 1 --size 8192 >/dev/null 2>&1
sleep 1	# --latency: 100 ms
kill -TERM $apid
wait $apid 2>/dev/null
quiet=$(grep -c 'size=20480' /tmp/a4.out)
loud=$(grep -c 'size=8192' /tmp/a4.out)
[ "$quiet" -eq 0 ] && [ "$loud" -gt 0 ]
check agent-events-on-again $? "quiet=$quiet,reading=$loud"
$T agent --stop
rc=$?
n=$(teeshm_events)
[ "$rc" -eq 0 ] && [ "$n" -eq 0 ] && [ ! -e /sys/fs/bpf/teeshm ]
check agent-stop-clean $? "rc=$rc,kprobe_events=$n"
$T status >/dev/null 2>&1
[ $? -eq 2 ]
check status-after-stop $? ""

# a plain tracer ended by SIGTERM leaves nothing behind either (optee.ko
# loads while it runs: its probes come through tracefs events)
rmmod optee-rng && rmmod optee
$T trace >/dev/null 2>/tmp/t.err &
tpid=$!
wait_for /tmp/t.err tracing
load_mod optee
kill -TERM $tpid
wait $tpid
rc=$?
n=$(teeshm_events)
[ "$rc" -le 1 ] && [ "$n" -eq 0 ] && [ ! -e /sys/fs/bpf/teeshm ]
check trace-sigterm-clean $? "rc=$rc,kprobe_events=$n"
