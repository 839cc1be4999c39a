#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# demo.sh: the main job.  Boots Debian's stock arm64 kernel on real OP-TEE
# OS 4.10 + TF-A (TESTBED_SW=emu: the project's emulated secure world;
# TESTBED_KERNEL=5.10, 6.12 or 7.3: bullseye's, trixie's or trixie-backports'
# kernel; make demo KERNEL=...), runs teeshm-trace while the TEE
# drivers load and a libteec client works, kexecs, and prints what the tool
# reported at the kexec next to what the secure world saw left behind.
# Exit 0 when the tool's report and the secure world agree.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$TOP"
dir=$OUT/runs/demo
echo "== booting the testbed (stock $(kernel_pkg | sed 's/:.*//') on $SW_NAME), tracing, kexec"
tests/testbed/run.sh trace --kexecs 1 --out "$dir" || die "the guest did not power off cleanly (see $dir/console.log)"
b1=$(awk '/TBR begin scenario=trace boot=2/{exit} {print}' "$dir/console.log")
echo
echo "== teeshm-trace status in the first kernel (a client holds two buffers)"
echo "$b1" | sed -n 's/^TBH //p'
echo
echo "== teeshm-trace check, just before kexec"
echo "$b1" | sed -n 's/^TBC //p'
echo
echo "== the tracer's kexec report (console, after every driver's shutdown)"
echo "$b1" | grep -o "teeshm-trace: kexec-.*"
echo
echo "== the secure world's log when the next kernel probed"
grep -E "^TSW (boot n=2|stale)" "$dir/secure.log"
echo
echo "== report vs. secure world"
python3 tests/testbed/verify.py kexec "$dir" --tool "$TOP/build/teeshm-trace" \
	--kexecs 1 --label "$(kernel_pkg | sed 's/linux-\(image\|binary-unsigned\)-//; s/-arm64.*//') stock" \
	$NO_PSTORE
