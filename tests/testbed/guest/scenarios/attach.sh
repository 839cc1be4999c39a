#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Scenario 13: the trace scenario (trace.sh: the same drivers, client
# workload, status, check and kexec) under each attach mechanism, one per
# boot: boot 1 --attach kprobe, boot 2 --attach fentry, later boots auto.
# The host compares the boots' verdicts and reports (verify.py attach) and
# each against the secure world (verify.py kexec, live).  Which mechanism
# each probe got is printed as TBA lines.
case $TB_BOOT in
1) mech=kprobe ;;
2) mech=fentry ;;
*) mech=auto ;;
esac
echo "TBA boot=$TB_BOOT attach=$mech"
# teeshm-trace's trace verb, with --attach, for trace.sh
mkdir -p /tmp/attach-bin
cat >/tmp/attach-bin/teeshm-trace <<WRAP
#!/bin/sh
for a in "\$@"; do
	[ "\$a" = trace ] && exec /usr/bin/teeshm-trace "\$@" --attach $mech
done
exec /usr/bin/teeshm-trace "\$@"
WRAP
chmod +x /tmp/attach-bin/teeshm-trace
export PATH=/tmp/attach-bin:$PATH
# once attached: each probe's mechanism (trace --verbose)
(
	i=0
	while ! grep -q tracing /tmp/trace.err 2>/dev/null && [ $i -lt 150 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	grep -E "attach: |probe .* attached" /tmp/trace.err | sed 's/^/TBA /'
	/usr/bin/teeshm-trace probes 2>&1 | sed 's/^/TBA probes: /'
	# where trampolines do not work, forcing them is refused (exit 2)
	if /usr/bin/teeshm-trace probes | grep -q "^BPF trampolines.*: no"; then
		/usr/bin/teeshm-trace trace --attach fentry --duration 1 \
			>/dev/null 2>/tmp/forced.err
		echo "TBA forced-fentry rc=$? $(cat /tmp/forced.err)"
	fi
) &
. /scenarios/trace.sh
