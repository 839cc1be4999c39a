#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Scenario 11 (5.10): the agent where BPF links cannot be pinned.  Killed
# with -9, its tracefs kprobe events stay behind (nothing can remove them
# then); the next agent must define them again, with its return probes'
# instances (no fallback to the kernel's default), and `agent --stop`
# must leave no event behind.
. /scenarios/lib.sh
T=teeshm-trace

TR=/sys/kernel/tracing
[ -w $TR/kprobe_events ] || TR=/sys/kernel/debug/tracing

teeshm_events() {
	grep -c teeshm_agent_ $TR/kprobe_events 2>/dev/null
}

load_tee
check tee-loaded $? ""

$T --verbose agent >/dev/null 2>/tmp/a1.err &
apid=$!
wait_for /tmp/a1.err tracing
n1=$(grep -c attached /tmp/a1.err)
grep -q "without tracefs" /tmp/a1.err
[ $? -ne 0 ] && [ "$n1" -gt 0 ]
check agent-attached $? "$n1-probes"
grep -v attached /tmp/a1.err | sed 's/^/TBE /'
kill -9 $apid
wait $apid 2>/dev/null
e=$(teeshm_events)
[ "$e" -gt 0 ]
check agent-killed-events-left $? "kprobe_events=$e"

$T --verbose agent >/dev/null 2>/tmp/a2.err &
apid=$!
wait_for /tmp/a2.err tracing
n2=$(grep -c attached /tmp/a2.err)
grep -q "without tracefs" /tmp/a2.err
[ $? -ne 0 ] && [ "$n2" -eq "$n1" ]
check agent-restart-tracefs $? "$n2-probes"
grep -v attached /tmp/a2.err | sed 's/^/TBE /'
teeshm-client --loops 2 --size 4096 >/dev/null 2>&1
check client $? ""
m=$(grep -h "teeshm_agent_.*_r " $TR/kprobe_profile | awk '{ s += $2 } END { print s + 0 }')
[ "$m" -gt 0 ]
check agent-restart-return-probes-hit $? "hits=$m"
kill -TERM $apid
wait $apid 2>/dev/null
$T agent --stop >/dev/null
rc=$?
e=$(teeshm_events)
[ "$rc" -eq 0 ] && [ "$e" -eq 0 ]
check agent-stop-clean $? "rc=$rc,kprobe_events=$e"
