#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Scenarios 3 and 4: teeshm-trace in the guest.  Every boot: load the TEE
# core, start the tracer, bind optee-rng (teeshm.supplicant=1: start
# tee-supplicant, which holds /dev/teepriv0), hold client shared memory while
# `status --json` runs and the secure world dumps its table (the host
# compares the two), then kexec into the same kernel, until
# teeshm.kexecs kexecs are done.  The tracer's kexec snapshot reaches the
# console (bpf_trace_printk + tp_printk); the secure world lists what each
# kernel left registered when the next one probes.
. /scenarios/lib.sh
KEY=000102030405060708090a0b0c0d0e0f
T="teeshm-trace --id-key $KEY"
kexecs=0 hold=4
for w in $(cat /proc/cmdline); do
	case $w in
	teeshm.kexecs=*) kexecs=${w#*=} ;;
	teeshm.hold=*) hold=${w#*=} ;;
	# fault: return probes with this few instances (the kernel misses some)
	teeshm.maxactive=*) export TEESHM_MAXACTIVE=${w#*=} ;;
	# none: run without the external BTF (5.10: pairing from arguments)
	teeshm.btf=none) rm -rf /usr/lib/teeshm-trace/btf; nobtf=1 ;;
	# a process (tee-supplicant) holds /dev/teepriv0 at the kexec (1),
	# or until just before it (stop)
	teeshm.supplicant=*) supplicant=${w#*=} ;;
	# more TEE clients to load after optee-rng (kernel/AUDIT-7.3.md):
	# comma-separated module names, from /modules (MODDIR builds)
	teeshm.clients=*) clients=$(echo "${w#*=}" | tr ',' ' ') ;;
	esac
done

[ -x /usr/bin/teeshm-trace ]
check tool-present $? ""
# pstore: the console record of this kernel survives the kexec
load_mod reed_solomon && load_mod ramoops
check ramoops $? "$(ls /sys/fs/pstore | tr '\n' ',')"
if [ "$TB_BOOT" -gt 1 ]; then
	$T last-kexec --json >/tmp/last.json 2>/tmp/last.err
	echo "TBL rc=$? $(cat /tmp/last.json) $(cat /tmp/last.err)"
fi
# the tracer starts with the TEE core only: optee.ko registers shared
# memory from its probe, and the tracer must see that
load_mod tee
check core-loaded $? "tee"

$T --verbose trace -o /tmp/trace.jsonl >/tmp/trace.out 2>/tmp/trace.err &
i=0
while ! grep -q "tracing" /tmp/trace.err 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.2
	i=$((i + 1))
done
grep -q tracing /tmp/trace.err
check tracer-attached $? "$(grep -c attached /tmp/trace.err)-probes"
grep -v "attached" /tmp/trace.err | sed 's/^/TBE /'
# where struct tee_shm's layout came from: tee.ko's BTF (5.11+), else the
# external file, else none (teeshm.btf=none)
if [ -e /sys/kernel/btf/tee ]; then
	want="tee.ko's BTF"
elif [ -n "${nobtf:-}" ]; then
	want="none: size and flags from arguments"
else
	want="/usr/lib/teeshm-trace/btf/$(uname -r).btf"
fi
grep -qF "layout: $want;" /tmp/trace.err
check layout-source $? "$(echo "$want" | tr ' ' '_')"

load_mod optee
check optee-loaded $? ""
load_mod optee-rng
check optee-rng-loaded $? ""
dd if=/dev/hwrng bs=32 count=1 2>/dev/null | wc -c >/dev/null
for m in ${clients:-}; do
	load_mod "$m"
	check "client-loaded-$m" $? ""
	# bound: its TEE bus driver has a device (the secure side answered
	# the probe)
	n=$(ls -d /sys/module/"$(echo "$m" | tr - _)"/drivers/tee:*/optee-ta-* 2>/dev/null | wc -l)
	[ "$n" -gt 0 ]
	check "client-bound-$m" $? "$n"
done
# what the clients serve (rtc-optee: an RTC read through the secure world;
# the SCMI OP-TEE transport: the SCMI core's probe over it)
if [ -n "${clients:-}" ]; then
	for r in /sys/class/rtc/rtc*; do
		[ -e "$r/name" ] && echo "TBX rtc $(basename "$r") $(cat "$r/name") $(cat "$r/date" "$r/time" 2>&1 | tr '\n' ' ')"
	done
	dmesg | grep -i "scmi" | sed 's/^/TBX /'
	# trusted keys (TEE source): seal a new key, unseal its blob; each
	# call registers the key or blob and unregisters it before returning
	if loaded trusted && [ -x /usr/bin/trusted-key ]; then
		trusted-key 32 >/tmp/tk.out 2>&1
		check trusted-key $? "$(tr ' ' '_' </tmp/tk.out)"
	fi
fi
if [ -n "${supplicant:-}" ]; then
	# tee-supplicant opens the supplicant's device and keeps it open
	# through the kexec (on FF-A, 7.3's shutdown path waits for it);
	# a task blocked 10 s is reported (the default 120 s outlasts the
	# host's time limit)
	mkdir -p /var/lib/tee /data/tee
	tee-supplicant -d
	i=0
	while ! ls -l /proc/$(pidof tee-supplicant)/fd 2>/dev/null | grep -q teepriv0 &&
		[ $i -lt 50 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	ls -l /proc/$(pidof tee-supplicant)/fd 2>/dev/null | grep -q teepriv0
	check supplicant-holds-teepriv0 $? "pid=$(pidof tee-supplicant)"
	echo 10 >/proc/sys/kernel/hung_task_timeout_secs
	# the pre-kexec check names the holder where the kexec would wait
	# for it (FF-A on 7.x), and finds no hang over the SMC ABI; systemd's
	# kexec kills it first (--systemd-kexec: it does not count)
	$T check --json >/tmp/hold.json
	rc=$?
	$T check --systemd-kexec --json >/tmp/hold-sd.json
	$T check | grep -A3 "kexec would hang" | sed 's/^/TBV /'
	if [ "$TB_SW" = optee-ffa ]; then
		[ $rc -eq 1 ] && grep -q '"kexec_hangs":true,"kexec_hang_holders":1' /tmp/hold.json &&
			grep -q '"pid":[0-9]*,"comm":"tee-supplicant","holds":"/dev/teepriv0"' /tmp/hold.json &&
			grep -q '"kexec_hang_holders":0' /tmp/hold-sd.json
	else
		grep -q '"kexec_hangs":false,"kexec_hang_holders":0' /tmp/hold.json
	fi
	check check-names-holder $? "rc=$rc,$(grep -o '"tee_transport":"[a-z]*","kexec_unregisters_tee":[a-z]*,"kexec_hangs":[a-z]*,"kexec_hang_holders":[0-9]*' /tmp/hold.json | tr -d '"')"
	if [ "$supplicant" = stop ]; then
		# released: nothing holds the device, the kexec completes
		kill "$(pidof tee-supplicant)"
		i=0
		while pidof tee-supplicant >/dev/null && [ $i -lt 50 ]; do
			sleep 0.2
			i=$((i + 1))
		done
		# FF-A: what is registered now, the kexec unregisters: PASS
		$T check --json >/tmp/hold.json
		rc=$?
		grep -q '"kexec_hangs":false,"kexec_hang_holders":0,' /tmp/hold.json &&
			grep -q '"tee_holders":\[\]' /tmp/hold.json &&
			{ [ "$TB_SW" != optee-ffa ] || { [ $rc -eq 0 ] &&
				grep -q '"unregistered_by_kexec":[1-9]' /tmp/hold.json; }; }
		check check-released $? "rc=$rc,$(grep -o '"kexec_hangs":[a-z]*\|"unregistered_by_kexec":[0-9]*' /tmp/hold.json | tr -d '"' | tr '\n' ,)"
	fi
fi

if [ -x /usr/bin/teeshm-client ]; then
	teeshm-client --hold "$hold" --size 12288 >/tmp/client.out 2>&1 &
	cpid=$!
	i=0
	while ! grep -q holding /tmp/client.out 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.2
		i=$((i + 1))
	done
fi
# the tool's live table and the secure world's, at the same moment
$T status --json >/tmp/status.json
check status $? ""
echo "TBS $(cat /tmp/status.json)"
# fleet telemetry from the same live table (the host runs promtool on it)
$T export --prom /tmp/teeshm.prom
check export $? ""
sed 's/^/TBP /' /tmp/teeshm.prom
teeshm-client --mark
check mark $? ""
$T --verbose status | sed 's/^/TBH /'
grep -E " optee_rng_init| set_current_rng" /proc/kallsyms | sed 's/^/TBK /'
[ -n "${cpid:-}" ] && wait "$cpid"
check client-hold $? "$(tail -n1 /tmp/client.out | tr ' ' '_')"
# after the client's release: what is left registered (orphans: released
# by the kernel while the secure world kept them)
echo "TBO $($T status --json)"
# hits and misses of the tracer's kprobe events (a missed return probe
# loses an event)
for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
	[ -r $d/kprobe_profile ] || continue
	grep teeshm $d/kprobe_profile | sed 's/^ */TBM /'
	break
done

$T check >/tmp/check.out
crc=$?
echo "TBC rc=$crc $(tail -n1 /tmp/check.out)"
# policy: warn lets it go (exit 0, WARN); block with the leaking owner
# allowed passes; a policy file with a bad line is refused, naming it
$T check --policy warn >/tmp/cw.out
rc=$?
if [ $crc -eq 1 ]; then
	[ $rc -eq 0 ] && grep -q "^WARN: " /tmp/cw.out
else
	[ $rc -eq 0 ] && grep -q "^PASS: " /tmp/cw.out
fi
check check-policy-warn $? "rc=$rc,$(tail -n1 /tmp/cw.out | cut -d: -f1)"
# allow the module of every allocation site registered now: PASS
printf "policy=block\nallow_owner=[optee]\n" >/tmp/allow.conf
# a holder is allowed by its name (FF-A: tee-supplicant still holds it)
pidof tee-supplicant >/dev/null && echo allow_owner=tee-supplicant >>/tmp/allow.conf
$T status --json | grep -o '"caller":"[^"]*\[[^]]*\]"' |
	sed 's/.*\(\[[^]]*\]\)"$/allow_owner=\1/' | sort -u >>/tmp/allow.conf
$T check --config /tmp/allow.conf >/tmp/ca.out
rc=$?
[ $rc -eq 0 ] && grep -q "^PASS: " /tmp/ca.out
check check-policy-allow-owner $? "rc=$rc,$(tr '\n' ',' </tmp/allow.conf),$(tail -n1 /tmp/ca.out | cut -c1-40 | tr ' ' '_')"
printf 'policy=block\nallow_owner=[optee_rng]\nwhatever\n' >/tmp/bad.conf
$T check --config /tmp/bad.conf >/dev/null 2>/tmp/cb.err
rc=$?
[ $rc -eq 2 ] && grep -q "bad.conf:3: expected key=value" /tmp/cb.err
check check-policy-bad-file $? "rc=$rc"

if [ "$TB_BOOT" -le "$kexecs" ]; then
	sed 's/^/TBJ /' /tmp/trace.jsonl
	echo "TBR kexec from=$TB_BOOT"
	kexec_next
	check kexec 1 "kexec -e returned"
fi
