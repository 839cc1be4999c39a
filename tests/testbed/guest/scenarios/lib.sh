#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Helpers for guest scenarios (sourced).  Results are console lines
#   TBR check scenario=S name=N result=PASS|FAIL detail=...
# that the host-side runner collects.

check() {	# check NAME RESULT(0=pass) DETAIL
	if [ "$2" -eq 0 ]; then r=PASS; else r=FAIL; fi
	echo "TBR check scenario=$TB_SCENARIO boot=$TB_BOOT name=$1 result=$r detail=$3"
}

loaded() {	# loaded NAME: the module is in the kernel
	grep -q "^$(echo "$1" | tr - _) " /proc/modules
}

# the secure world the host booted (run.sh: teeshm.sw=optee|optee-ffa|emu)
TB_SW=optee
for w in $(cat /proc/cmdline); do
	case $w in
	teeshm.sw=*) TB_SW=${w#*=} ;;
	esac
done

load_mod() {	# load_mod NAME: insmod what it needs (NAME.deps), then it
	# over FF-A optee.ko binds to the FF-A device that the FF-A driver
	# (ffa-module, not a dependency of optee.ko) makes when it finds
	# the SPMC: load it first (elsewhere it fails: no SPMC answers)
	if [ "$1" = optee ] && [ "$TB_SW" = optee-ffa ] && ! loaded ffa_module; then
		load_mod ffa-module || return 1
	fi
	for d in $(cat "/modules/$1.deps" 2>/dev/null); do
		loaded "$d" || insmod "/modules/$d.ko" || return 1
	done
	insmod "/modules/$1.ko"
}

# modules.dep as a Debian system has it, from /modules/NAME.deps: the tool
# reads optee.ko's dependencies there (FF-A functions armed only if it has
# FF-A, i.e. needs ffa-core)
md=/lib/modules/$(uname -r)
if [ ! -e "$md/modules.dep" ]; then
	mkdir -p "$md"
	for f in /modules/*.deps; do
		m=$(basename "$f" .deps)
		echo "/modules/$m.ko: $(sed 's|.*|/modules/&.ko|' "$f" | tr '\n' ' ')"
	done >"$md/modules.dep"
fi

load_tee() {	# insmod the TEE stack (overrides from kernel/ builds win)
	for m in tee optee optee-rng; do
		load_mod $m || return 1
	done
}

# kexec into the same kernel and initramfs with teeshm.boot=N+1
kexec_next() {
	next=$((TB_BOOT + 1))
	cmdline=$(sed "s/teeshm.boot=[0-9]*/teeshm.boot=$next/" /proc/cmdline)
	echo "TBT kexec-prepare $(cut -d' ' -f1 /proc/uptime)"
	echo boot/Image boot/payload.cpio | tr ' ' '\n' |
		(cd / && cpio -o -H newc 2>/dev/null) >/tmp/boot.cpio
	cat /boot/payload.cpio /tmp/boot.cpio >/tmp/next.cpio
	rm -f /tmp/boot.cpio
	echo "TBT kexec-load $(cut -d' ' -f1 /proc/uptime)"
	# --no-checks: purgatory would SHA-256 every segment with the MMU off,
	# about 30 s under TCG
	kexec -l --no-checks /boot/Image --initrd=/tmp/next.cpio \
		--append="$cmdline" ||
		return 1
	echo "TBT kexec-exec $(cut -d' ' -f1 /proc/uptime)"
	sync
	kexec -e
}

wait_for() {	# wait_for FILE PATTERN: up to 20 s for PATTERN in FILE
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	grep -q "$2" "$1"
}
