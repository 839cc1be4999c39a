#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The overhead benchmark in the systemd guest (bench/overhead.sh): a
# TEE-heavy libteec loop (allocate, register, invoke, release) timed
# untraced, under teeshm-trace, under a bpftrace script on the same
# functions, and under ftrace kprobe events with a reader; interleaved,
# REPS times.  Prints "TBB ..." lines for the host; then powers off.
LOOPS=${LOOPS:-300}
REPS=${REPS:-5}
for w in $(cat /proc/cmdline); do
	case $w in
	teeshm.loops=*) LOOPS=${w#*=} ;;
	teeshm.reps=*) REPS=${w#*=} ;;
	# quick: teeshm-trace's modes only (no bpftrace, ftrace or sweep)
	teeshm.quick=1) QUICK=1 ;;
	# the modes timed, in their order (mode_* below)
	teeshm.modes=*) MODES=${w#*=} ;;
	# 0: the timings only (no kernel memory, probe costs or capacity sweep)
	teeshm.extras=*) EXTRAS=${w#*=} ;;
	esac
done
if [ -n "${QUICK:-}" ]; then
	MODES=${MODES:-none,teeshm,teeshm-kernel,teeshm-agent}
else
	MODES=${MODES:-none,teeshm,teeshm-kernel,teeshm-agent,bpftrace,ftrace}
fi
T=/usr/sbin/teeshm-trace
FNS="tee_shm_alloc_user_buf tee_shm_alloc_kernel_buf tee_shm_alloc_priv_buf
tee_shm_register_user_buf tee_shm_register_kernel_buf optee_shm_register
optee_shm_unregister tee_shm_put"
now() { date +%s%N; }
# under -icount guest time counts instructions: bpftrace's compile takes
# minutes of it (WAIT_TENTHS)
# (FILE is emptied before its writer starts: the background shell's
# redirection may come after wait_for has read the previous run's)
wait_for() {	# FILE PATTERN [TENTHS]
	local i=0
	while ! grep -q "$2" "$1" 2>/dev/null && [ $i -lt "${3:-600}" ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
# the loop's wall time, then the client thread's CPU time over its rounds
# (what the probes add to it, without the other guest threads' time)
run_loop() {
	local s e out
	# let the previous mode's teardown finish first: freeing its maps
	# and trampolines runs in RCU callbacks, in softirqs charged to
	# whichever thread they interrupt (the next loop read 6 % slower)
	sleep 3
	s=$(now)
	out=$(teeshm-client --cpu --loops "$LOOPS" --size 4096 2>&1) || echo "TBB error client"
	e=$(now)
	echo "$((e - s)) $(echo "$out" | grep -o 'cpu_ns=[0-9]*')"
}
# CPU time (ticks) a process has used: utime + stime
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# the same functions, the work a user would write: pair entry and return
# per thread, keep a table of live buffers
BT='
kprobe:tee_shm_alloc_user_buf, kprobe:tee_shm_alloc_kernel_buf,
kprobe:tee_shm_alloc_priv_buf, kprobe:tee_shm_register_user_buf,
kprobe:tee_shm_register_kernel_buf { @size[tid] = arg1; }
kretprobe:tee_shm_alloc_user_buf, kretprobe:tee_shm_alloc_kernel_buf,
kretprobe:tee_shm_alloc_priv_buf, kretprobe:tee_shm_register_user_buf,
kretprobe:tee_shm_register_kernel_buf { @live[retval] = @size[tid]; delete(@size[tid]); }
kprobe:optee_shm_register { @reg[tid] = arg1; }
kretprobe:optee_shm_register { if (retval == 0) { @registered[@reg[tid]] = 1; } delete(@reg[tid]); }
kprobe:optee_shm_unregister { delete(@registered[arg1]); }
kprobe:tee_shm_put { @put[tid] = arg0; }
kretprobe:tee_shm_put { delete(@put[tid]); }
'
# the same with BPF trampolines (bpftrace >= 0.21, a kernel with them):
# fexit sees the arguments with the return value, no entry table needed
BT_FENTRY='
fexit:tee:tee_shm_alloc_user_buf, fexit:tee:tee_shm_alloc_kernel_buf,
fexit:tee:tee_shm_alloc_priv_buf { @live[retval] = args.size; }
fexit:tee:tee_shm_register_user_buf { @live[retval] = args.length; }
fexit:tee:tee_shm_register_kernel_buf { @live[retval] = args.length; }
fexit:optee:optee_shm_register { if (retval == 0) { @registered[args.shm] = 1; } }
fentry:optee:optee_shm_unregister { delete(@registered[args.shm]); }
fentry:tee:tee_shm_put { @put[tid] = args.shm; }
fexit:tee:tee_shm_put { delete(@put[tid]); }
'
# the same, also keeping each registered buffer's kernel stack (its site,
# as teeshm-trace keeps it for the kexec report)
BT_FENTRY_STACK=$(echo "$BT_FENTRY" | sed 's/@registered\[args.shm\] = 1;/@registered[args.shm] = kstack;/')
# the floor: programs that do nothing, on the points teeshm-trace's
# kernel side uses under fentry (tee_shm_put at entry only); what the
# trampolines and program entry alone cost a round
BT_EMPTY='
fentry:tee:tee_shm_alloc_user_buf, fentry:tee:tee_shm_alloc_kernel_buf,
fentry:tee:tee_shm_alloc_priv_buf, fentry:tee:tee_shm_register_user_buf,
fentry:tee:tee_shm_register_kernel_buf, fentry:optee:optee_shm_register,
fentry:optee:optee_shm_unregister, fentry:tee:tee_shm_put { }
fexit:tee:tee_shm_alloc_user_buf, fexit:tee:tee_shm_alloc_kernel_buf,
fexit:tee:tee_shm_alloc_priv_buf, fexit:tee:tee_shm_register_user_buf,
fexit:tee:tee_shm_register_kernel_buf, fexit:optee:optee_shm_register,
fexit:optee:optee_shm_unregister { }
'

modprobe optee && modprobe optee-rng
systemctl stop teeshm-trace-agent.service
$T agent --stop >/dev/null
echo "TBB begin loops=$LOOPS reps=$REPS"
# the kernel's real memory per live-table slot: vmalloc'd pages and slab
# with a tracer whose table has room for 100 000, then 1 000 000 buffers,
# against none: the same per slot (it is preallocated)
kmem() {
	awk '/^VmallocUsed:/ { v = $2 } /^Slab:/ { s = $2 } END { print v + s }' /proc/meminfo
}
[ "${EXTRAS:-1}" = 0 ] && KMEM_SLOTS= || KMEM_SLOTS="100000 1000000"
for slots in $KMEM_SLOTS; do
	sync
	m0=$(kmem)
	: >/tmp/m.err
	$T trace --no-console --quiet --max-buffers $slots >/dev/null 2>>/tmp/m.err &
	p=$!
	wait_for /tmp/m.err tracing
	m1=$(kmem)
	kill -INT $p
	wait $p
	# the kernel frees a map in deferred work after its last reference goes
	sleep 3
	m2=$(kmem)
	echo "TBB kmem slots=$slots before_kb=$m0 tracing_kb=$m1 after_kb=$m2"
done
# --- the modes: each times one client loop (rep $1) ----------------------
mode_none() {
	echo "TBB time mode=none rep=$1 ns=$(run_loop)"
}

# trace, streaming every event (to /dev/null)
mode_teeshm() {
	local r=$1 s p w0 w1 c0 c1 f
	s=$(now)
	: >/tmp/t.err
	$T -v trace --no-console >/dev/null 2>>/tmp/t.err &
	p=$!
	wait_for /tmp/t.err tracing
	echo "TBB attach mode=teeshm rep=$r ns=$(($(now) - s))"
	w0=$(awk '/^voluntary_ctxt_switches:/ { print $2 }' /proc/$p/status)
	c0=$(cpu_ticks $p)
	echo "TBB time mode=teeshm rep=$r ns=$(run_loop)"
	c1=$(cpu_ticks $p)
	w1=$(awk '/^voluntary_ctxt_switches:/ { print $2 }' /proc/$p/status)
	echo "TBB cpu mode=teeshm rep=$r ticks=$((c1 - c0)) hz=$(getconf CLK_TCK)"
	if [ "$r" = 1 ]; then
		# kernel memory per live-table slot: the preallocated hash map
		for f in /proc/$p/fdinfo/*; do
			if grep -q "^max_entries:.16384" "$f" && grep -q "^map_type:.1$" "$f"; then
				echo "TBB mem live_memlock=$(sed -n 's/^memlock:.//p' "$f") entries=16384"
			fi
		done
		echo "TBB mem tool_rss_kb=$(awk '/^VmRSS:/ { print $2 }' /proc/$p/status)"
	fi
	kill -INT $p
	wait $p
	# how often the reader was woken, against the events it read
	echo "TBB wakeups rep=$r n=$((w1 - w0)) events=$(sed -n 's/^teeshm-trace: \([0-9]*\) events.*/\1/p' /tmp/t.err)"
	sed -n 's/^teeshm-trace: read in \(.*\)/TBB reads rep='"$r"' \1/p' /tmp/t.err
}

# The kernel side alone, probes attached by ATTACH (auto, kprobe or
# fentry): an agent's pinned probes, the agent killed, nothing reads.
# With events on (the agent's default), or OPTS --quiet: as the agent of
# the systemd unit leaves them, no events written.
kernel_side() {	# NAME ATTACH REP [OPTS]
	local p try
	# a figure of nothing attached would read as free: attach again once
	for try in 1 2; do
		: >/tmp/a.err
		$T -v agent --attach "$2" ${4:-} >/dev/null 2>>/tmp/a.err &
		p=$!
		wait_for /tmp/a.err tracing
		kill -9 $p
		wait $p 2>/dev/null
		[ "$(ls /sys/fs/bpf/teeshm/links 2>/dev/null | wc -l)" -gt 0 ] && break
		echo "TBB note $1 rep=$3: no probe attached (try $try): $(tail -n1 /tmp/a.err)"
		$T agent --stop >/dev/null 2>&1
	done
	[ "$(ls /sys/fs/bpf/teeshm/links 2>/dev/null | wc -l)" -gt 0 ] ||
		echo "TBB error $1 rep=$3: no probe attached"
	[ "$3" = 1 ] && sed -n 's/^teeshm-trace: probe \(.*\)/TBB attached mode='"$1"' \1/p' /tmp/a.err
	echo "TBB time mode=$1 rep=$3 ns=$(run_loop)"
	$T agent --stop >/dev/null
}
mode_teeshm_kernel() { kernel_side teeshm-kernel auto "$1"; }
mode_kernel_fentry() { kernel_side kernel-fentry fentry "$1"; }
mode_kernel_kprobe() { kernel_side kernel-kprobe kprobe "$1"; }
mode_kernel_quiet() { kernel_side kernel-quiet fentry "$1" --quiet; }

# as deployed: the systemd unit's agent (--quiet)
mode_teeshm_agent() {
	local p c0
	: >/tmp/a.err
	$T agent --quiet >/dev/null 2>>/tmp/a.err &
	p=$!
	wait_for /tmp/a.err tracing
	c0=$(cpu_ticks $p)
	echo "TBB time mode=teeshm-agent rep=$1 ns=$(run_loop)"
	echo "TBB cpu mode=teeshm-agent rep=$1 ticks=$(($(cpu_ticks $p) - c0)) hz=$(getconf CLK_TCK)"
	kill -TERM $p
	wait $p
	$T agent --stop >/dev/null
}

bpftrace_mode() {	# NAME SCRIPT REP
	local s p
	s=$(now)
	# 0.17 to 0.23 print "Attaching N probes..." on standard output
	# (later ones "Attached N probes" on standard error): read both
	: >/tmp/bt.err
	bpftrace -e "$2" >>/tmp/bt.err 2>&1 &
	p=$!
	wait_for /tmp/bt.err 'Attach\|ERROR' 6000
	sleep 1	# "Attaching N probes..." comes before the last attach
	echo "TBB attach mode=$1 rep=$3 ns=$(($(now) - s))"
	grep -q "^ERROR" /tmp/bt.err && echo "TBB error $1: $(grep -m1 ^ERROR /tmp/bt.err)"
	grep -q Attach /tmp/bt.err ||
		echo "TBB error $1 rep=$3: bpftrace never attached: $(tail -c 300 /tmp/bt.err | tr '\n' ' ')"
	echo "TBB time mode=$1 rep=$3 ns=$(run_loop)"
	kill -INT $p
	wait $p
}
mode_bpftrace() { bpftrace_mode bpftrace "$BT" "$1"; }
mode_bpftrace_fentry() { bpftrace_mode bpftrace-fentry "$BT_FENTRY" "$1"; }
mode_bpftrace_stack() { bpftrace_mode bpftrace-stack "$BT_FENTRY_STACK" "$1"; }
mode_empty_fentry() { bpftrace_mode empty-fentry "$BT_EMPTY" "$1"; }

mode_ftrace() {
	local s c f ev=/sys/kernel/tracing/kprobe_events
	s=$(now)
	for f in $FNS; do
		echo "p:bench/${f} $f a0=%x0 a1=%x1" >>$ev
		echo "r:bench/${f}_r $f ret=\$retval" >>$ev
	done
	echo 1 >/sys/kernel/tracing/events/bench/enable
	cat /sys/kernel/tracing/trace_pipe >/dev/null &
	c=$!
	echo "TBB attach mode=ftrace rep=$1 ns=$(($(now) - s))"
	echo "TBB time mode=ftrace rep=$1 ns=$(run_loop)"
	echo 0 >/sys/kernel/tracing/events/bench/enable
	kill $c
	wait $c 2>/dev/null
	for f in $FNS; do
		echo "-:bench/${f}" >>$ev
		echo "-:bench/${f}_r" >>$ev
	done
}

# interleaved: every mode once per repetition, the untraced loop first
for r in $(seq 1 "$REPS"); do
	for m in $(echo "$MODES" | tr , ' '); do
		"mode_$(echo "$m" | tr - _)" "$r"
	done
done
# where the kernel side's time goes: runs and cost of each probe over one
# loop (the kernel's BPF run statistics, on for this run only)
# streaming every event (trace), then as the agent leaves them (--quiet:
# no events)
echo 1 >/proc/sys/kernel/bpf_stats_enabled
for how in "trace --no-console" "agent --quiet"; do
	: >/tmp/v.err
	$T -v $how >/dev/null 2>>/tmp/v.err &
	p=$!
	wait_for /tmp/v.err tracing
	run_loop >/dev/null
	kill -INT $p
	wait $p
	sed -n 's/^teeshm-trace: probe \([^:]*\): \([0-9]*\) runs, \([0-9]*\) ns each$/TBB probe verb='"${how%% *}"' name=\1 runs=\2 ns=\3/p' /tmp/v.err
done
echo 0 >/proc/sys/kernel/bpf_stats_enabled

# live-table capacity sweep: the cost per event must not grow with it
{ [ -n "${QUICK:-}" ] || [ "${EXTRAS:-1}" = 0 ]; } && REPS=0
for r in $(seq 1 "$REPS"); do
	for cap in 10 1000 100000; do
		: >/tmp/t.err
		$T trace --no-console --max-buffers $cap >/dev/null 2>>/tmp/t.err &
		p=$!
		wait_for /tmp/t.err tracing
		echo "TBB time mode=teeshm-cap$cap rep=$r ns=$(run_loop)"
		if [ "$r" = 1 ]; then
			for f in /proc/$p/fdinfo/*; do
				if grep -q "^max_entries:.$cap$" "$f" && grep -q "^map_type:.1$" "$f"; then
					echo "TBB mem cap=$cap memlock=$(sed -n 's/^memlock:.//p' "$f")"
				fi
			done
		fi
		kill -INT $p
		wait $p
	done
done
echo "TBB end"
sync
echo o >/proc/sysrq-trigger
