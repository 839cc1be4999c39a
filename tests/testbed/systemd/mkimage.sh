#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# mkimage.sh OUTDIR - a systemd-booted Debian arm64 guest (bookworm; trixie
# for TESTBED_KERNEL=6.12 or 7.3, with Debian's tee-supplicant and its unit
# on 7.3, and the FF-A driver ffa-module: TESTBED_SW=optee-ffa) for the
# testbed: OUTDIR/Image (the stock kernel) and OUTDIR/initrd.cpio, a root
# file system made from Debian's packages by mmdebstrap (qemu-user-static
# through binfmt_misc; cached in ~/.cache/teeshm-trace/sysroot), with
# teeshm-trace installed from its arm64 Debian package (`make deb
# DEB_ARCH=arm64`, build/deb, which this script runs) by dpkg -i, whose
# maintainer scripts enable the units, the TEE modules under /lib/modules,
# the test client, and the testbed's own unit (guest/teeshm-testbed.service)
# that drives the scenario.  The kernel kexecs into /boot/Image with the
# busybox guest (/boot/next.cpio, mkinitramfs.sh's payload) as its
# initramfs, whose optee probe makes the secure world list what was left.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
out=${1:?usage: mkimage.sh OUTDIR}
# the arm64 package, (re)built as the user when the tree changed
[ "$(id -u)" -eq 0 ] && [ -n "${SUDO_UID:-}" ] ||
	make -s -C "$TOP" deb DEB_ARCH=arm64 >&2
# Debian's root file system (root's files, device nodes) and the package's
# maintainer scripts, run chrooted: root, or sudo for a user (the image is
# then given back to that user)
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || die "the systemd guest needs root (or sudo)"
	exec sudo TEESHM_CACHE="$CACHE" EXTRA_PKGS="${EXTRA_PKGS:-}" \
		${TESTBED_AGENT_ATTACH+TESTBED_AGENT_ATTACH="$TESTBED_AGENT_ATTACH"} GUEST_DIR="${GUEST_DIR:-}" TESTBED_KERNEL="$TESTBED_KERNEL" "$0" "$@"
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
# the package (the newest of debian/changelog's version) and what it needs
version=$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)
deb=$TOP/build/deb/teeshm-trace_${version}_arm64.deb
[ -f "$deb" ] || die "no $deb (make deb DEB_ARCH=arm64)"
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' |
	sed 's/|.*//; s/(.*)//; s/:any//; s/[[:space:]]//g' | grep . | sort | paste -sd,)
# the Debian release the kernel comes from (6.12, 7.3: trixie's); trixie
# has libteec2 only: the test client's libteec.so.1 is bookworm's (below)
# 7.3 (FF-A): tee-supplicant as Debian ships it, with its own
# tee-supplicant.service (enabled by its postinst): does `systemctl kexec`
# stop it before kernel_kexec, where an FF-A kexec waits for every holder
# of /dev/teepriv0?
supp=
case $TESTBED_KERNEL in
7.3) suite=trixie libteec='' supp=tee-supplicant, ;;
6.12) suite=trixie libteec= ;;
*) suite=bookworm libteec=libteec1, ;;
esac
pkgs="systemd,systemd-sysv,dbus,kmod,kexec-tools,$libteec$supp$deps${EXTRA_PKGS:+,$EXTRA_PKGS}"
# GUEST_DIR: the driving unit(s) and run.sh (bench/ brings its own)
guest=${GUEST_DIR:-$here/guest}
sysroot=$CACHE/sysroot/$suite-arm64-$(echo "$pkgs" | md5sum | cut -c1-8)

# --- the Debian root file system (cached) -------------------------------------
# foreign-architecture maintainer scripts (mmdebstrap's, the package's)
# run under qemu-aarch64-static
if ! arch-test arm64 >/dev/null 2>&1; then
	mountpoint -q /proc/sys/fs/binfmt_misc ||
		mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
	update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
	arch-test arm64 >/dev/null ||
		die "cannot run arm64 binaries here (binfmt_misc + qemu-user-static)"
fi
if [ ! -f "$sysroot/.done" ]; then
	rm -rf "$sysroot" "$sysroot.tmp"
	mkdir -p "$(dirname "$sysroot")"
	mmdebstrap --quiet --arch=arm64 --variant=minbase --include="$pkgs" \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--aptopt='Acquire::Languages "none"' \
		"$suite" "$sysroot.tmp" http://deb.debian.org/debian >&2
	rm -rf "$sysroot.tmp"/var/lib/apt/lists/* "$sysroot.tmp"/var/cache/apt/*
	mv "$sysroot.tmp" "$sysroot"
	touch "$sysroot/.done"
fi

# --- the guest ---------------------------------------------------------------
root=$out/root
rm -rf "$root"
cp -a "$sysroot" "$root"
rm -f "$root/.done"
declare -A dir
while read -r name d; do
	dir[${name%%:*}]=$d
done < <("$TOP/tests/testbed/fetch.sh")
kernel_unpacked "$out/Image"
kmods=$KMODS
kver=$(basename "$kmods")
mkdir -p "$root/boot"
cp "$out/Image" "$root/boot/Image"
# the next kernel's initramfs: the busybox guest (scenario boot); on 7.3
# 7.3's (its modules, ffa-module loaded first on teeshm.sw=optee-ffa), else
# 6.1's as ever (bench/'s 6.12 guest never kexecs)
next=$FWOUT/payload.cpio
[ "$TESTBED_KERNEL" != 7.3 ] || next=$OUT/payload.cpio
[ -f "$next" ] || die "no $next: run make testbed first"
cp "$next" "$root/boot/next.cpio"
# as packaged (trixie's are .ko.xz: kmod reads them); 7.3's optee needs
# ffa-core, and over FF-A the FF-A driver ffa-module
for m in drivers/tee/tee drivers/tee/optee/optee drivers/char/hw_random/optee-rng \
	 drivers/firmware/arm_ffa/ffa-core drivers/firmware/arm_ffa/ffa-module; do
	for f in "$kmods/kernel/$m.ko" "$kmods/kernel/$m.ko.xz"; do
		[ -f "$f" ] && install -D -m 0644 "$f" \
			"$root/lib/modules/$kver/kernel/${f#"$kmods"/kernel/}"
	done
done
cp "$kmods/modules.builtin"* "$root/lib/modules/$kver/" 2>/dev/null || true
if [ -z "$libteec" ]; then
	cp -a "${dir[libteec1]}"/usr/lib/aarch64-linux-gnu/libteec.so.1* \
		"$root/usr/lib/aarch64-linux-gnu/"
fi
depmod -b "$root" "$kver"
# teeshm-trace as a Debian system installs it: its package, whose
# postinst enables the agent and the kexec check (deb-systemd-helper)
cp "$deb" "$root/tmp/"
chroot "$root" dpkg -i "/tmp/$(basename "$deb")" >&2
rm -f "$root/tmp/$(basename "$deb")"
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
# the testbed hashes ids with a known key (verify.py): the agent gets it
mkdir -p "$root/etc/systemd/system/teeshm-trace-agent.service.d"
# (TESTBED_AGENT_ATTACH=kprobe|fentry: the agent's --attach; default auto)
attach=${TESTBED_AGENT_ATTACH-}
cat >"$root/etc/systemd/system/teeshm-trace-agent.service.d/testbed.conf" <<UNIT
[Service]
ExecStart=
ExecStart=/usr/sbin/teeshm-trace --id-key 000102030405060708090a0b0c0d0e0f agent --quiet${attach:+ --attach $attach}
UNIT
# the testbed's unit and script
install -m 0755 "$FWOUT/client/teeshm-client" "$root/usr/bin/teeshm-client"
install -D -m 0755 "$guest/run.sh" "$root/usr/lib/teeshm-testbed/run.sh"
for u in "$guest"/*.service; do
	install -m 0644 "$u" "$root/etc/systemd/system/"
	ln -sf "/etc/systemd/system/$(basename "$u")" \
		"$root/etc/systemd/system/multi-user.target.wants/"
done
# (on-demand/: units run.sh starts, not enabled)
for u in "$guest"/on-demand/*.service; do
	[ ! -f "$u" ] || install -m 0644 "$u" "$root/etc/systemd/system/"
done
ln -sf /usr/lib/systemd/system/multi-user.target \
	"$root/etc/systemd/system/default.target"
# no login prompts; a fixed host name
ln -sf /dev/null "$root/etc/systemd/system/serial-getty@.service"
ln -sf /dev/null "$root/etc/systemd/system/getty@.service"
echo teeshm-testbed >"$root/etc/hostname"
# the kernel runs /init from the initramfs: systemd, as the real system
ln -sf /usr/lib/systemd/systemd "$root/init"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$out/initrd.cpio"
rm -rf "$root"
[ -z "${SUDO_UID:-}" ] || chown -R "$SUDO_UID:$SUDO_GID" "$out"
echo "testbed: systemd guest (kernel $kver), initrd $(du -m "$out/initrd.cpio" | cut -f1) MiB" >&2
