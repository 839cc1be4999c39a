#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# run-scenarios.sh: the testbed scenarios, each booted for real and checked
# against the secure world's log (verify.py).
#   1 boot    optee.ko probes with dynamic shm, optee-rng binds, hwrng reads
#   2 client  a libteec client allocates, registers, uses, frees shm
#   3 live    teeshm-trace's live table equals the secure world's table
#   4 kexec   the next kernel boots and the secure world lists what the old
#             one left registered; it equals the tool's kexec report
#   5 capacity a secure world with room for 2 registrations refuses the
#             third with OUT_OF_MEMORY, as OP-TEE does
#   6 agent   the agent killed (-9) and restarted while the drivers and a
#             client register: its status equals the secure world; stop and
#             SIGTERM leave no pin and no kprobe event behind
#   7 systemd a systemd-booted Debian guest: the arm64 Debian package,
#             `systemctl kexec` with the pre-kexec check, policy warn/block
#   8 faults  no capabilities (the message names them), a ring buffer
#             overflow (lost, counted, reported; the table still right), a
#             full live table (never PASS: UNKNOWN), rmmod under the tracer
#   9 orphan  a secure world that answers one unregistration per kernel
#             BUSY (keeps it): the kernel frees the shm anyway; status,
#             check and the kexec report keep it, and equal the secure world
#  10 missed  5.10, return probes with one instance: the kernel misses the
#             nested ones; counted, and `check` never says PASS
#  11 agent-nopin 5.10 (no pinned links): an agent killed with -9 leaves
#             its kprobe events; the next one defines them again with its
#             return-probe instances, and --stop leaves none
#  12 differential the kexec scenario on the emulated secure world: per
#             boot, the same sequence of registrations and unregistrations
#             (sizes, order, which one each unregistration undoes) as on
#             real OP-TEE
#  13 attach  6.12: the kexec scenario under --attach kprobe, fentry and
#             auto, one per boot: equal verdicts and reports, each == OP-TEE
#  14 ffa     7.3 on the FF-A secure world (TESTBED_SW=optee-ffa: OP-TEE as
#             the S-EL1 SPMC under TF-A's SPMD): optee.ko binds over FF-A
#             (boot), the kexec scenario (client, tool, report == OP-TEE's
#             list, 1 kexec; tee-supplicant held /dev/teepriv0 and `check`
#             named it, then it was stopped and `check` found no holder),
#             and with tee-supplicant holding /dev/teepriv0 (`check` names
#             it) the kexec hangs in shutdown: the run's time limit ends it
#             and the hung task report is checked (ffa-held)
#  15 systemd-ffa the systemd guest on 7.3 over FF-A (TESTBED_KERNELS=
#             7.3-systemd-ffa, make testbed-systemd-ffa): Debian's
#             tee-supplicant.service holds /dev/teepriv0 at `systemctl
#             kexec`; systemd stops it before the pre-kexec check and
#             kernel_kexec, the kexec completes, OP-TEE reclaimed every
#             share (warn); a /dev/tee0 holder that systemd-shutdown spares
#             (argv[0] '@') makes the check unit stop the kexec (block)
# Every scenario runs on real OP-TEE (TESTBED_SW=optee) but those that need
# a fault build of the emulated firmware (5 capacity, 9 orphan) and 12.
# on Debian's 6.1 (bookworm) and 5.10 (bullseye) kernels; 5.10 runs 3 and 4
# twice: with the external BTF for tee.ko, and without (teeshm.btf=none).
# On trixie's 6.12 and trixie-backports' 7.3 (the CI budget): 4 only, with
# 2 kexecs (make kexec-matrix-full runs 10 on every kernel), 13 and 9 on
# 6.12 and 14 on 7.3.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$TOP"
pass=0 fail=0
tool=$TOP/build/teeshm-trace

tally() {	# VERIFY-OUTPUT: print its checks, add its closing counts
	local p f
	echo "$1" | sed '$d'
	p=$(echo "$1" | tail -n1 | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed/\1/p')
	f=$(echo "$1" | tail -n1 | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed/\2/p')
	pass=$((pass + ${p:-0})) fail=$((fail + ${f:-1}))
}

scenario() {	# NAME VERIFY-KIND RUN-ARGS... (EXPECT_RC: 124, the run must
		# end by its time limit: a hang)
	local name=$1 kind=$2 t0 rc
	shift 2
	t0=$(date +%s)
	echo "== scenario $name"
	if [ ! -f "${TESTBED_FW:-$SW_DEFAULT}" ] || [ ! -f "${TESTBED_IMG:-$OUT}/initrd.cpio" ]; then
		echo "  testbed not built (make testbed)                 FAIL"
		fail=$((fail + 1))
		return
	fi
	echo "   (secure world: $SW_NAME)"
	tests/testbed/run.sh "$@" --out "$OUT/runs/$name"
	rc=$?
	if [ "${EXPECT_RC:-0}" = 124 ]; then
		if [ $rc -eq 124 ]; then
			echo "  the guest hung: the time limit ended it (expected)   PASS"
			pass=$((pass + 1))
		else
			echo "  qemu exit status $rc, expected the time limit (124)   FAIL"
			fail=$((fail + 1))
		fi
	elif [ $rc -eq 124 ]; then
		echo "  the guest hung: the time limit ended the run   FAIL"
		tail -n 20 "$OUT/runs/$name/console.log" | sed 's/^/    | /'
		fail=$((fail + 1))
	elif [ $rc -ne 0 ]; then
		echo "  qemu exit status $rc (0 = guest powered off)   FAIL"
		tail -n 20 "$OUT/runs/$name/console.log" | sed 's/^/    | /'
		fail=$((fail + 1))
	fi
	out=$(python3 tests/testbed/verify.py "$kind" "$OUT/runs/$name" \
		--tool "$tool" $VERIFY_ARGS)
	tally "$out"
	echo "   ($(($(date +%s) - t0))s)"
}

diff_worlds() {	# OPTEE-RUN EMU-RUN: scenario 12's comparison
	local out
	echo "== differential: $1 (OP-TEE) vs $2 (emulated)"
	out=$(python3 tests/testbed/verify.py differential "$1" --other "$2")
	tally "$out"
}

# Every scenario on each kernel generation (TESTBED_KERNELS, default all
# four; 6.12 and 7.3 run the truth check alone), with the same teeshm-trace
# binary.
busy_fw=$FWOUT/fw-busy/fw.bin
make -s -C tests/testbed/fw O="$FWOUT/fw-busy" UNREG_BUSY=1 >/dev/null || busy_fw=
for kern in ${TESTBED_KERNELS:-6.1 5.10 6.12 7.3}; do
	if [ "$kern" = 7.3-systemd-ffa ]; then
		# 15: the systemd guest (make -C tests/testbed
		# image-systemd-7.3) over FF-A; the next kernel is 7.3's
		# busybox guest, so its runs live with 7.3's
		export TESTBED_KERNEL=7.3
		. tests/testbed/lib.sh
		echo "==== kernel 7.3, systemd guest, FF-A ($(kernel_pkg | sed 's/:.*//'))"
		for pol in warn block; do
			hold=
			[ $pol = warn ] || hold=teeshm.holder=1
			TESTBED_SW=optee-ffa TESTBED_FW=$FWOUT/optee-ffa/qemu_fw.bios \
			SW_NAME="OP-TEE OS 4.10.0 as the S-EL1 SPMC (FF-A) + TF-A 2.14.0 (SPMD)" \
			TESTBED_IMG=$TOP/build/testbed-systemd-7.3 TESTBED_MEM=2G \
			TESTBED_INITRD_ADDR=0x50000000 VERIFY_ARGS="--policy $pol" \
				scenario systemd-ffa-$pol systemd systemd --timeout 240 \
				--append "teeshm.policy=$pol $hold"
		done
		continue
	fi
	export TESTBED_KERNEL=$kern
	. tests/testbed/lib.sh
	echo "==== kernel $kern ($(kernel_pkg | sed 's/:.*//'))"
	case $kern in
	6.12|7.3)
		# 4: the trace and kexec truth check, 2 kexecs, the report
		# read back from pstore after each
		VERIFY_ARGS="--kexecs 2 --label $kern-stock --expect some $NO_PSTORE" \
			scenario kexec kexec trace --kexecs 2
		if [ "$kern" = 6.12 ]; then
			# 13: the same workload and kexec under --attach kprobe,
			# fentry, auto (one per boot): equal verdicts and reports,
			# each == OP-TEE (hold: the client's buffers live through
			# status and the mark).  6.12 only: the CI budget; 7.3
			# attaches the same way (README)
			VERIFY_ARGS="--kexecs 2 --label $kern-attach" \
				scenario attach kexec attach --kexecs 2 \
				--append teeshm.hold=12
			tally "$(python3 tests/testbed/verify.py attach "$OUT/runs/attach")"
			# (not `verify.py live` here: under a loaded host the
			# client's hold can end between status and OP-TEE's dump;
			# scenario 3 compares the live table on 6.1 and 5.10)
			# 9 under fentry: a release is seen at its put's entry
			# and its unregistration's return, with no return
			# program on tee_shm_put: the BUSY one is kept
			if [ -n "$busy_fw" ]; then
				TESTBED_SW=emu SW_NAME="emulated, UNREG_BUSY=1" \
				TESTBED_FW=$busy_fw \
				VERIFY_ARGS="--kexecs 1 --expect-orphan --expect some" \
					scenario orphan kexec trace --kexecs 1
			fi
		fi
		if [ "$kern" = 7.3 ]; then
			# 14: FF-A (the kexec report == OP-TEE's list, 10
			# kexecs stock and patched: make kexec-matrix-full)
			ffa_fw=$FWOUT/optee-ffa/qemu_fw.bios
			ffa_name="OP-TEE OS 4.10.0 as the S-EL1 SPMC (FF-A) + TF-A 2.14.0 (SPMD)"
			TESTBED_SW=optee-ffa TESTBED_FW=$ffa_fw SW_NAME=$ffa_name VERIFY_ARGS="" \
				scenario ffa-boot boot boot
			TESTBED_SW=optee-ffa TESTBED_FW=$ffa_fw SW_NAME=$ffa_name \
				VERIFY_ARGS="--kexecs 1 --label $kern-ffa-stock --expect none" \
				scenario ffa-kexec kexec trace --kexecs 1 \
				--append teeshm.supplicant=stop
			# a process holds /dev/teepriv0 at kexec: the kexec
			# hangs in shutdown for good; 90 s is the boot, the
			# workload and the hung task report after 10 s
			TESTBED_SW=optee-ffa TESTBED_FW=$ffa_fw SW_NAME=$ffa_name \
				EXPECT_RC=124 VERIFY_ARGS="" \
				scenario ffa-held kexec-hang trace --kexecs 1 --timeout 90 \
				--append teeshm.supplicant=1
		fi
		continue
		;;
	esac
	VERIFY_ARGS="" scenario boot boot boot
	VERIFY_ARGS="" scenario client client client
	VERIFY_ARGS="" scenario live live trace --kexecs 0
	if [ "$kern" = 5.10 ]; then
		# no kmsg_dump(SHUTDOWN) at kexec, no PSTORE_CONSOLE: no pstore record
		VERIFY_ARGS="--kexecs 1 --label 5.10-stock --no-pstore" \
			scenario kexec kexec trace --kexecs 1
		# without the external BTF: pairing from arguments must agree too
		VERIFY_ARGS="" scenario live-nobtf live trace --kexecs 0 \
			--append teeshm.btf=none
		VERIFY_ARGS="--kexecs 1 --label 5.10-stock-nobtf --no-pstore" \
			scenario kexec-nobtf kexec trace --kexecs 1 --append teeshm.btf=none
		# 10: one return-probe instance: the nested release is missed
		VERIFY_ARGS="--kexecs 1 --expect-misses --no-pstore" \
			scenario missed kexec trace --kexecs 1 --append teeshm.maxactive=1
		VERIFY_ARGS="" scenario agent-nopin agent-nopin agent-nopin
	else
		VERIFY_ARGS="--kexecs 1 --label 6.1-stock" scenario kexec kexec trace --kexecs 1
		# the secure world's bookkeeping is finite: room for 2 registrations
		if make -s -C tests/testbed/fw O="$FWOUT/fw-cap2" CAPACITY=2 >/dev/null; then
			TESTBED_SW=emu SW_NAME="emulated, CAPACITY=2" TESTBED_FW=$FWOUT/fw-cap2/fw.bin \
				VERIFY_ARGS="" scenario capacity capacity client
		else
			echo "  firmware with CAPACITY=2 did not build   FAIL"
			fail=$((fail + 1))
		fi
		# the agent killed and restarted: pinned probes and table intact
		# (BPF perf links can be pinned from 5.15: not on 5.10)
		VERIFY_ARGS="" scenario agent live agent
		# 8 faults: no capabilities, ring buffer overflow, live table
		# full, the TEE modules removed under the tracer
		VERIFY_ARGS="" scenario faults live faults
		# 7 a systemd-booted Debian guest (tests/testbed/systemd): the
		# agent unit from early boot, `systemctl kexec`, the pre-kexec
		# check unit under policy warn (kexec goes on) and block (stopped)
		for pol in warn block; do
			TESTBED_IMG=$TOP/build/testbed-systemd TESTBED_MEM=2G \
			TESTBED_INITRD_ADDR=0x50000000 VERIFY_ARGS="--policy $pol" \
				scenario systemd-$pol systemd systemd --timeout 180 \
				--append teeshm.policy=$pol
		done
	fi
	# 9: the kernel frees a buffer the secure world kept (BUSY)
	if [ -n "$busy_fw" ]; then
		extra=
		[ "$kern" = 5.10 ] && extra=--no-pstore
		TESTBED_SW=emu SW_NAME="emulated, UNREG_BUSY=1" TESTBED_FW=$busy_fw \
			VERIFY_ARGS="--kexecs 1 --expect-orphan --expect some $extra" \
			scenario orphan kexec trace --kexecs 1
	else
		echo "  firmware with UNREG_BUSY=1 did not build   FAIL"
		fail=$((fail + 1))
	fi
	# 12: the emulated secure world against real OP-TEE: the kexec
	# scenario once more on the emulation; per boot, the same sequence
	# of registrations and unregistrations (sizes, order) as on OP-TEE
	extra=
	[ "$kern" = 5.10 ] && extra=--no-pstore
	TESTBED_SW=emu SW_NAME=emulated TESTBED_FW=$FWOUT/fw.bin \
		VERIFY_ARGS="--kexecs 1 --label $kern-stock-emu $extra" \
		scenario kexec-emu kexec trace --kexecs 1
	diff_worlds "$OUT/runs/kexec" "$OUT/runs/kexec-emu"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
