#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# mkinitramfs.sh OUTDIR - build the guest: OUTDIR/Image (the stock Debian
# arm64 kernel), OUTDIR/payload.cpio (busybox, the TEE modules, kexec-tools,
# libteec/tee-supplicant, teeshm-trace, the test client, the scenarios) and
# OUTDIR/initrd.cpio = payload + /boot/{Image,payload.cpio}, so that a guest
# can kexec into the same kernel and initramfs again (guest/kexec-next).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
out=${1:?usage: mkinitramfs.sh OUTDIR}
mkdir -p "$out"
root=$out/root
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,run,boot,lib,usr/bin,usr/lib,root,modules,scenarios}

declare -A dir
while read -r name d; do
	dir[${name%%:*}]=$d
done < <("$(dirname "$0")/fetch.sh")

kernel_unpacked "$out/Image"
kmods=$KMODS
kver=$(basename "$kmods")

# busybox and its applets
cp "${dir[busybox-static]}/bin/busybox" "$root/bin/busybox"
for a in sh ash mount umount mkdir rmdir cat echo ls cp mv rm ln sleep dd \
	 od hexdump grep egrep sed awk cut tr head tail wc sort uniq poweroff \
	 reboot insmod rmmod lsmod ps kill uname dmesg sync date printf test \
	 [ [[ true false chmod find xargs cpio mktemp env seq expr tee stat \
	 basename dirname timeout pidof pgrep pkill killall touch free df du \
	 cmp md5sum sha256sum readlink realpath wait; do
	ln -sf busybox "$root/bin/$a"
done

# the TEE modules and ramoops (pstore), uncompressed (trixie's are .ko.xz),
# each with the modules it needs (modinfo's depends, e.g. 5.10's rng-core,
# 7.3's ffa-core), in load order in /modules/NAME.deps (guest: load_mod)
mods=$kmods/kernel
declare -A modfile	# module name ('-' as '_') -> its file
while read -r f; do
	b=$(basename "$f" .xz)
	b=${b%.ko}
	modfile[${b//-/_}]=$f
done < <(find "$mods" -name '*.ko' -o -name '*.ko.xz')
copy_mod() {	# NAME: copy it and what it needs; print what it needs, in order
	local f d b
	f=${modfile[${1//-/_}]:-}
	[ -n "$f" ] || die "module $1 not in $kmods"
	for d in $(modinfo -F depends "$f" | tr ',' ' '); do
		copy_mod "$d"
		b=$(basename "${modfile[${d//-/_}]}" .xz)
		echo "${b%.ko}"
	done
	b=$(basename "$f" .xz)
	case $f in
	*.xz) xz -dc "$f" >"$root/modules/$b" ;;
	*) cp "$f" "$root/modules/$b" ;;
	esac
}
# the FF-A driver (7.3: ffa-module, the FF-A bus is ffa-core) for the FF-A
# secure world (TESTBED_SW=optee-ffa), where the kernel has it
ffa=
[ -z "${modfile[ffa_module]:-}" ] || ffa=ffa-module
for m in tee optee optee-rng reed_solomon ramoops $ffa; do
	copy_mod "$m" | awk '!seen[$0]++' >"$root/modules/$m.deps"
done
echo "$kver" >"$root/modules/kver"

# dynamically linked programs: copy them and, recursively, what they need
libdirs=()
for d in "${dir[@]}"; do
	for l in lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu; do
		[ -d "$d/$l" ] && libdirs+=("$d/$l")
	done
done
find_lib() {
	local d
	for d in "${libdirs[@]}"; do
		[ -e "$d/$1" ] && { echo "$d/$1"; return 0; }
	done
	return 1
}
declare -A copied
copy_needed() {
	local f=$1 n p
	for n in $(readelf -d "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		[ -n "${copied[$n]:-}" ] && continue
		p=$(find_lib "$n") || die "library $n (needed by $(basename "$f")) not found in the fetched packages"
		cp -L "$p" "$root/lib/$n"
		copied[$n]=1
		copy_needed "$p"
	done
}
cp -L "$(find_lib ld-linux-aarch64.so.1)" "$root/lib/ld-linux-aarch64.so.1"
cp "${dir[kexec-tools]}/sbin/kexec" "$root/sbin/kexec"
cp "${dir[tee-supplicant]}/usr/sbin/tee-supplicant" "$root/sbin/tee-supplicant"
for f in "$root/sbin/kexec" "$root/sbin/tee-supplicant"; do
	copy_needed "$f"
done
if [ -x "$FWOUT/client/teeshm-client" ]; then
	cp "$FWOUT/client/teeshm-client" "$root/usr/bin/"
	copy_needed "$root/usr/bin/teeshm-client"
fi
[ -e "$root/lib/libteec.so.1" ] || cp -L "$(find_lib libteec.so.1)" "$root/lib/"
# static: the trusted keys user (kernel/AUDIT-7.3.md)
[ -x "$FWOUT/client/trusted-key" ] && cp "$FWOUT/client/trusted-key" "$root/usr/bin/"

# the tool (static) if built
if [ -x "$TOP/build/arm64/teeshm-trace" ]; then
	cp "$TOP/build/arm64/teeshm-trace" "$root/usr/bin/"
fi

# a kernel whose tee.ko has no BTF (5.10): the external BTF the tool
# looks for (btf/mkbtf.sh; scenarios can remove it: teeshm.btf=none)
if ! readelf -S "$root/modules/tee.ko" | grep -q '\.BTF'; then
	"$TOP/btf/mkbtf.sh" "$KVER" "$TOP/build/arm64/teeshm.bpf.o" \
		"$root/usr/lib/teeshm-trace/btf/$kver.btf"
fi

# scenarios and init
cp "$TOP"/tests/testbed/guest/init "$root/init"
cp "$TOP"/tests/testbed/guest/scenarios/*.sh "$root/scenarios/"
chmod +x "$root/init" "$root"/scenarios/*.sh
# modules overriding the stock ones (kernel/ builds): MODDIR=dir of .ko
if [ -n "${MODDIR:-}" ]; then
	for k in "$MODDIR"/*.ko; do
		cp "$k" "$root/modules/"
		echo "$(basename "$k")" >>"$root/modules/overridden"
	done
fi

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$out/payload.cpio"
boot=$out/boot-root
rm -rf "$boot"
mkdir -p "$boot/boot"
cp "$out/Image" "$boot/boot/Image"
cp "$out/payload.cpio" "$boot/boot/payload.cpio"
(cd "$boot" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$out/boot.cpio"
cat "$out/payload.cpio" "$out/boot.cpio" >"$out/initrd.cpio"
rm -rf "$boot" "$out/boot.cpio"
echo "testbed: kernel $kver, payload $(du -m "$out/payload.cpio" | cut -f1) MiB, initrd $(du -m "$out/initrd.cpio" | cut -f1) MiB"
