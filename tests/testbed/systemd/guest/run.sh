#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The systemd guest's scenario (boot 1): the agent attached from early
# boot; load the TEE drivers, let a client come and go, write the policy
# (teeshm.policy=warn|block on the kernel command line), then
# `systemctl kexec` into the busybox guest.  The pre-kexec check unit
# decides; `guard` reports if the kexec did not happen.  On the FF-A
# secure world (teeshm.sw=optee-ffa, 7.3): the FF-A driver first, and
# Debian's tee-supplicant.service holding /dev/teepriv0 when the kexec
# starts; teeshm.holder=1: a holder that systemd spares too.
KEY=000102030405060708090a0b0c0d0e0f
policy=warn sw=optee holder=
for w in $(cat /proc/cmdline); do
	case $w in
	teeshm.policy=*) policy=${w#*=} ;;
	teeshm.sw=*) sw=${w#*=} ;;
	teeshm.holder=*) holder=${w#*=} ;;
	esac
done
holds() {	# PID DEV: it has /dev/DEV open
	for f in /proc/"$1"/fd/*; do
		[ "$(readlink "$f")" = "/dev/$2" ] && return 0
	done
	return 1
}
check() {	# NAME RESULT(0=pass) DETAIL
	if [ "$2" -eq 0 ]; then r=PASS; else r=FAIL; fi
	echo "TBR check scenario=systemd boot=1 name=$1 result=$r detail=$3"
}

if [ "${1:-}" = guard ]; then
	i=0
	while [ ! -e /run/teeshm-testbed.kexec ] && [ $i -lt 300 ]; do
		sleep 1
		i=$((i + 1))
	done
	sleep 25
	echo "TBR check scenario=systemd boot=1 name=kexec-happened result=FAIL detail=still-in-boot-1"
	# JSON: a field may hold several lines (TEESHM_SITES, one site a line)
	journalctl -o json MESSAGE_ID=5f0c6e2a1b8d4e9c9a3f7d21c4e8b6a0 |
		sed 's/^/TBJJ /'
	echo "TBR end scenario=systemd boot=1"
	# the spared holder (teeshm.holder=1) would make the power-off wait
	# too, on FF-A: the same shutdown path
	systemctl stop teeshm-testbed-holder.service
	sync
	echo o >/proc/sysrq-trigger
	exit 0
fi

echo "TBR begin scenario=systemd boot=1"
# installed from the arm64 Debian package, units enabled by its postinst
st=$(dpkg-query -W -f='${Status} ${Version}' teeshm-trace 2>&1)
case $st in "install ok installed "*) r=0 ;; *) r=1 ;; esac
check package-installed $r "$(echo "$st" | tr ' ' '_')"
[ "$(dpkg-query -S /usr/sbin/teeshm-trace 2>/dev/null)" = "teeshm-trace: /usr/sbin/teeshm-trace" ] &&
	grep -qx /etc/teeshm-trace.conf /var/lib/dpkg/info/teeshm-trace.conffiles
check package-files $? "binary_and_conffile"
e1=$(systemctl is-enabled teeshm-trace-agent.service)
e2=$(systemctl is-enabled teeshm-trace-kexec-check.service)
[ "$e1" = enabled ] && [ "$e2" = enabled ] &&
	[ -L /etc/systemd/system/systemd-kexec.service.requires/teeshm-trace-kexec-check.service ]
check package-units-enabled $? "agent=${e1}_kexec-check=$e2"
systemctl is-active --quiet teeshm-trace-agent.service
check agent-active $? "$(systemctl show -p ActiveState --value teeshm-trace-agent.service)"
i=0
while [ ! -d /sys/fs/bpf/teeshm/links ] && [ $i -lt 50 ]; do
	sleep 0.2
	i=$((i + 1))
done
n=$(ls /sys/fs/bpf/teeshm/links 2>/dev/null | wc -l)
[ "$n" -gt 0 ]
check agent-pinned $? "links=$n"
# why not: the agent once more, in the foreground, its verifier log's end
[ "$n" -gt 0 ] || timeout 20 teeshm-trace --verbose agent 2>&1 | grep -v "^;" |
	tail -n 30 | sed 's/^/TBD agent: /'
# over FF-A optee.ko binds to the device the FF-A driver makes when it
# finds the SPMC (not a dependency of optee.ko: udev would load it by its
# alias on a real system)
if [ "$sw" = optee-ffa ]; then
	modprobe ffa-module
	check ffa-driver-loaded $? "$(dmesg | grep -m1 'ARM FF-A: Firmware' | cut -d']' -f2 | tr ' ' '_')"
fi
modprobe optee && modprobe optee-rng
check drivers-loaded $? ""
[ "$sw" != optee-ffa ] || {
	[ -e /sys/bus/arm_ffa/drivers/optee/arm-ffa-1 ]
	check optee-over-ffa $? "$(ls /sys/bus/arm_ffa/devices 2>/dev/null | tr '\n' ',')"
}
if [ -f /usr/lib/systemd/system/tee-supplicant.service ]; then
	# Debian's unit, as shipped (enabled by the package): at boot it ran
	# before /dev/teepriv0 existed (no udev here to load optee early);
	# started again now that the device is there
	echo "TBR tee-supplicant at boot: $(systemctl is-enabled tee-supplicant.service)" \
		"$(systemctl show -p ActiveState -p Result --value tee-supplicant.service | paste -sd/)"
	systemctl restart tee-supplicant.service
	pid=$(systemctl show -p MainPID --value tee-supplicant.service)
	i=0
	while ! holds "$pid" teepriv0 && [ $i -lt 50 ]; do
		sleep 0.2
		i=$((i + 1))
		pid=$(systemctl show -p MainPID --value tee-supplicant.service)
	done
	holds "$pid" teepriv0
	check supplicant-unit-holds-teepriv0 $? "pid=$pid,$(systemctl is-active tee-supplicant.service)"
fi
if [ "$holder" = 1 ]; then
	systemctl start teeshm-testbed-holder.service
	pid=$(systemctl show -p MainPID --value teeshm-testbed-holder.service)
	argv0=$(tr '\0' '\n' <"/proc/$pid/cmdline" | head -n1)
	holds "$pid" tee0 && [ "${argv0#@}" != "$argv0" ]
	rc=$?
	check holder-spared-holds-tee0 $rc "pid=$pid,argv0=$argv0"
	[ $rc -eq 0 ] || journalctl -b -u teeshm-testbed-holder.service -o cat | tail -n 10 |
		sed 's/^/TBD holder: /'
fi
# what the check says now, and as the pre-kexec unit will judge it
# (--systemd-kexec: only holders that systemd-shutdown spares count)
teeshm-trace check --json | sed 's/^/TBV now /'
teeshm-trace check --systemd-kexec --json | sed 's/^/TBV systemd-kexec /'
# a task blocked 10 s is reported (the default 120 s outlasts the run)
echo 10 >/proc/sys/kernel/hung_task_timeout_secs
dd if=/dev/hwrng bs=32 count=1 2>/dev/null | wc -c >/dev/null
teeshm-client --hold 1 --size 12288 >/tmp/client.out 2>&1
check client $? "$(tail -n1 /tmp/client.out | tr ' ' '_')"
teeshm-trace --id-key $KEY status | sed 's/^/TBH /'
printf 'policy=%s\n' "$policy" >/etc/teeshm-trace.conf
echo "TBR policy=$policy"
# the next kernel: the busybox guest, whose optee probe shows the secure
# world's list of what this kernel left registered (teeshm.sw: over FF-A
# it loads the FF-A driver first)
kexec -l --no-checks /boot/Image --initrd=/boot/next.cpio \
	--append="console=ttyAMA0 rdinit=/init tp_printk panic=-1 teeshm.scenario=boot teeshm.boot=2 teeshm.kexecs=0 teeshm.sw=$sw"
check kexec-loaded $? ""
touch /run/teeshm-testbed.kexec
echo "TBR kexec from=1"
systemctl --no-block kexec
