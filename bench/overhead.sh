#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# overhead.sh [LOOPS] [REPS]: the cost of tracing, in the testbed guest.
# A libteec client loop (LOOPS rounds of allocate, register, invoke,
# release; default 300) is timed untraced, under `teeshm-trace trace`, under
# a bpftrace script doing the same pairing on the same functions, and under
# ftrace kprobe events with a reader; interleaved, REPS times (default 5).
# Prints medians and ratios to the untraced run (one QEMU run: ratios, not
# TCG's absolute times, are the figures), time to attach, and the kernel
# memory per live-table slot.  bench/RESULTS.md records them.  Not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/testbed/lib.sh
loops=${1:-300}
reps=${2:-5}
# QUICK=1: teeshm-trace's modes only, for a quick look; MODES=a,b,...: these
# (bench/guest/run.sh's mode_*), EXTRAS=0: no memory figures or sweep;
# TESTBED_KERNEL: the guest's kernel (tests/testbed/lib.sh)
quick="${QUICK:+teeshm.quick=1}${MODES:+ teeshm.modes=$MODES}${EXTRAS:+ teeshm.extras=$EXTRAS}"
img=$TOP/build/bench-systemd-$TESTBED_KERNEL
# the secure worlds, client, tool, and 6.1's busybox guest (the systemd
# image's kexec payload): not every image make testbed builds
make -s -C tests/testbed demo KERNEL=6.1 >/dev/null
GUEST_DIR=$TOP/bench/guest EXTRA_PKGS=bpftrace tests/testbed/systemd/mkimage.sh "$img"
dir=$img/run
TESTBED_IMG=$img TESTBED_MEM=3G TESTBED_INITRD_ADDR=0x80000000 \
	tests/testbed/run.sh bench --timeout 7200 --out "$dir" \
	--append "teeshm.loops=$loops teeshm.reps=$reps $quick"
python3 - "$dir/console.log" "$loops" <<'PY'
import re, statistics, sys
lines = open(sys.argv[1], errors="replace").read().splitlines()
loops = int(sys.argv[2])
t, a, mem, cpu = {}, {}, {}, {}
for l in lines:
    m = re.search(r"TBB (time|attach) mode=(\S+) rep=\d+ ns=(\d+)", l)
    if m:
        (t if m.group(1) == "time" else a).setdefault(m.group(2), []).append(int(m.group(3)))
    m = re.search(r"TBB time mode=(\S+) rep=\d+ ns=\d+ cpu_ns=(\d+)", l)
    if m:
        cpu.setdefault(m.group(1), []).append(int(m.group(2)))
    m = re.search(r"TBB mem live_memlock=(\d+) entries=(\d+)", l)
    if m:
        mem["slot"] = int(m.group(1)) / int(m.group(2))
    m = re.search(r"TBB mem tool_rss_kb=(\d+)", l)
    if m:
        mem["rss_kb"] = int(m.group(1))
    m = re.search(r"TBB kmem slots=(\d+) before_kb=(\d+) tracing_kb=(\d+) after_kb=(\d+)", l)
    if m:
        mem.setdefault("kmem", []).append([int(x) for x in m.groups()])
    if "TBB error" in l:
        sys.exit("benchmark error: " + l)
if "none" not in t:
    sys.exit("no timings in the guest log")
base = statistics.median(t["none"])
print("client loop: %d rounds, %d repetitions, medians [min-max] (TCG)" % (loops, len(t["none"])))
print("  %-15s %24s %22s %10s" % ("mode", "loop ms", "ratio to untraced", "attach ms"))
order = ["none", "teeshm", "teeshm-agent", "teeshm-kernel", "kernel-fentry", "kernel-quiet",
         "kernel-kprobe", "empty-fentry", "bpftrace", "bpftrace-fentry", "bpftrace-stack", "ftrace"]
for mode in order + sorted(set(t) - set(order)):
    if mode in t and not mode.startswith("teeshm-cap"):
        v = t[mode]
        md = statistics.median(v)
        at = "%.0f" % (statistics.median(a[mode]) / 1e6) if mode in a else "-"
        # the spread: the ratio's median and its range over the repetitions
        print("  %-15s %8.1f [%6.1f-%6.1f] %8.3fx [%.3f-%.3f] %10s" % (
            mode, md / 1e6, min(v) / 1e6, max(v) / 1e6, md / base,
            min(v) / base, max(v) / base, at))
if "none" in cpu:
    # the client thread's CPU time over its rounds: the probes run on it,
    # other guest threads (the hwrng thread, the agent, journald) do not
    base = statistics.median(cpu["none"])
    print("client thread CPU time over the rounds, medians [min-max]:")
    print("  %-15s %24s %22s" % ("mode", "CPU ms", "ratio to untraced"))
    for mode in order + sorted(set(cpu) - set(order)):
        if mode in cpu and not mode.startswith("teeshm-cap"):
            v = cpu[mode]
            md = statistics.median(v)
            print("  %-15s %8.1f [%6.1f-%6.1f] %8.3fx [%.3f-%.3f]" % (
                mode, md / 1e6, min(v) / 1e6, max(v) / 1e6, md / base,
                min(v) / base, max(v) / base))
for l in lines:
    m = re.search(r"TBB attached mode=(\S+) (.*)", l)
    if m:
        print("  %s: probe %s" % m.groups())
caps = {}
for l in lines:
    m = re.search(r"TBB mem cap=(\d+) memlock=(\d+)", l)
    if m:
        caps[int(m.group(1))] = int(m.group(2))
sweep = [m for m in ["teeshm-cap10", "teeshm-cap1000", "teeshm-cap100000"] if m in t]
if sweep:
    print("live-table capacity sweep (loop ms, ratio to untraced, kernel bytes per slot):")
    for mode in sweep:
        cap = int(mode[len("teeshm-cap"):])
        md = statistics.median(t[mode])
        print("  %-8d %12.1f %9.3fx %10s" % (cap, md / 1e6, md / base,
              "%.0f" % (caps[cap] / cap) if cap in caps else "-"))
for l in lines:
    m = re.search(r"TBB cpu mode=(\S+) rep=(\d+) ticks=(\d+) hz=(\d+)", l)
    if m:
        print("%s reader CPU over the loop (rep %s): %d ms" % (m.group(1), m.group(2), int(m.group(3)) * 1000 // int(m.group(4))))
for l in lines:
    m = re.search(r"TBB wakeups rep=(\d+) n=(\d+) events=(\d+)", l)
    if m:
        print("teeshm-trace reader (rep %s): %s wakeups for %s events over the loop" % m.groups())
probes = {}
for l in lines:
    m = re.search(r"TBB probe (?:verb=(\S+) )?name=(\S+) runs=(\d+) ns=(\d+)", l)
    if m:
        probes.setdefault(m.group(1) or "trace", []).append(
            (m.group(2), int(m.group(3)), int(m.group(4))))
for verb, runs_of in probes.items():
    print("probe runs per client round and BPF run time under `%s` "
          "(kernel.bpf_stats_enabled, TCG ns):" % verb)
    for name, runs, ns in sorted(runs_of, key=lambda x: -x[1] * x[2]):
        print("  %-24s %8.1f runs/round %8d ns/run" % (name, runs / loops, ns))
    print("  %-24s %8.1f us/round" % ("total", sum(r * n for _, r, n in runs_of) / loops / 1000))
if "slot" in mem:
    print("kernel live table: %.0f bytes per slot (memlock of the preallocated hash map / entries)" % mem["slot"])
for n, b, tr, af in mem.get("kmem", []):
    print("kernel memory of a %d-slot live table: %d KiB (vmalloc + slab while tracing, "
          "against before): %.0f bytes per slot; %d KiB left 3 s after the tracer exits"
          % (n, tr - b, (tr - b) * 1024.0 / n, af - b))
if "rss_kb" in mem:
    print("teeshm-trace trace RSS: %d KiB" % mem["rss_kb"])
PY
