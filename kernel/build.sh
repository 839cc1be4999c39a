#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# build.sh VARIANT OUTDIR - build Debian's TEE modules out of tree for arm64,
# against the matching linux-headers-*-arm64, on an x86_64 host.
#
# KGEN=6.1 (the default): bookworm's 6.1, linux-source-6.1 from the host (or, when
#   the host's is another upload than the kernel's, that version from the archive)
#   stock     optee.ko and optee-rng.ko from linux-source-6.1 as Debian ships them
#   seed-bug  optee.ko with kernel/seed-bug/*.patch (TESTING ONLY: registers
#             driver-private shared memory, the 2021 seed bug)
#   patched   the fix series kernel/patches/series-6.1 (0001 optee-rng.ko,
#             0002 optee.ko): both modules
#
# KGEN=5.10: bullseye's 5.10, every package through scripts/fetch-debs.sh -s bullseye
#   stock     optee.ko and optee-rng.ko from linux-source-5.10 as Debian ships them
#   revert    optee.ko with kernel/seed-bug-5.10/0001-*.patch (TESTING ONLY:
#             "tee: Correct inappropriate usage of TEE_SHM_DMA_BUF flag" reverted)
#   seed-bug  optee.ko with kernel/seed-bug-5.10/0002-*.patch alone (TESTING
#             ONLY: call.c, core.c, rpc.c allocations registered)
#   patched   the fix series kernel/patches/series-5.10 (0001 only: 5.10's
#             optee has no argument cache): optee-rng.ko
#
# KGEN=6.12: trixie's 6.12.118+deb13 (suite trixie-security), KGEN=7.3:
# trixie-backports' 7.3.4+deb13; every package through scripts/fetch-debs.sh -s
#   stock     optee.ko and optee-rng.ko from linux-source-GEN as Debian ships them
#   patched   the fix series kernel/patches/series-GEN: optee.ko and optee-rng.ko
#
# The "patched" variant applies the patches named in kernel/patches/series-$KGEN
# (one file name a line, in order; '#' starts a comment) and builds each
# module they touch: optee.ko for drivers/tee/optee, optee-rng.ko for
# drivers/char/hw_random/optee-rng.c.
#
# The headers package's scripts/ point at linux-kbuild-$KGEN; we assemble the
# tree in the cache with the amd64 linux-kbuild-$KGEN (the same helper
# programs, built for this host), so nothing arm64 runs here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
KGEN=${KGEN:-6.1}
case $KGEN in
6.1) variants="stock|seed-bug|patched" KVER=${KVER:-6.1.0-56} suite=() ;;
5.10) variants="stock|revert|seed-bug|patched" KVER=${KVER:-5.10.0-32} suite=(-s bullseye) ;;
6.12) variants="stock|patched" KVER=${KVER:-6.12.118+deb13} suite=(-s trixie-security) ;;
7.3) variants="stock|patched" KVER=${KVER:-7.3.4+deb13} suite=(-s trixie-backports) ;;
*) echo "build.sh: unknown KGEN '$KGEN' (6.1, 5.10, 6.12, 7.3)" >&2; exit 2 ;;
esac
# the kbuild package: linux-kbuild-GEN to 6.1, linux-kbuild-KVER from trixie on
case $KGEN in
6.1|5.10) kbuild=linux-kbuild-$KGEN ;;
*) kbuild=linux-kbuild-$KVER ;;
esac
variant=${1:?usage: [KGEN=6.1|5.10|6.12|7.3] build.sh $variants OUTDIR}
out=$(mkdir -p "${2:?usage: build.sh VARIANT OUTDIR}" && cd "$2" && pwd)
cache=${TEESHM_CACHE:-$HOME/.cache/teeshm-trace}
fetch=$top/scripts/fetch-debs.sh
jobs=${JOBS:-2}

case "|$variants|" in *"|$variant|"*) ;; *)
	echo "build.sh: unknown variant '$variant' for KGEN=$KGEN (${variants//|/, })" >&2
	exit 2 ;;
esac

# --- the build tree ---------------------------------------------------------
tree=$cache/kbuild-$KVER
hdr=$tree/usr/src/linux-headers-$KVER-arm64
if [ ! -f "$tree/.done" ]; then
	dirs=$("$fetch" ${suite[@]+"${suite[@]}"} "linux-headers-$KVER-arm64:arm64" \
		"linux-headers-$KVER-common" "$kbuild:amd64")
	rm -rf "$tree"
	mkdir -p "$tree/usr/src" "$tree/usr/lib"
	for d in $dirs; do
		[ -d "$d/usr/src" ] && cp -a "$d"/usr/src/. "$tree/usr/src/"
		[ -d "$d/usr/lib/$kbuild" ] &&
			cp -a "$d/usr/lib/$kbuild" "$tree/usr/lib/"
	done
	# its Makefile includes the common tree (and 7.3's names its output
	# directory) by absolute path
	sed -i -e "s|^include /usr/src/|include $tree/usr/src/|" \
		-e "s|^KBUILD_OUTPUT=/usr/src/|KBUILD_OUTPUT=$tree/usr/src/|" "$hdr/Makefile"
	# 6.12, 7.3: no module BTF (pahole 1.24 here lacks the features
	# Debian's config asks for); without vmlinux kbuild skips it, as the
	# 6.1 and 5.10 headers, which carry none, do
	rm -f "$hdr/vmlinux"
	# 6.12, 7.3: Debian built them with gcc 14; we build with gcc 12,
	# which has no -fmin-function-alignment.  The two symbols that say
	# so are set as kbuild sets them for gcc 12: the Makefile asks for
	# -falign-functions, and __cold is empty, so that no function lands
	# unaligned in .text.unlikely (ftrace's call ops need 8-byte-aligned
	# functions; check.sh checks every function's alignment)
	for f in "$hdr/include/generated/autoconf.h" "$hdr/include/config/auto.conf"; do
		sed -i -e '/CONFIG_CC_HAS_MIN_FUNCTION_ALIGNMENT[ =]/d' \
			-e '/CONFIG_CC_HAS_SANE_FUNCTION_ALIGNMENT[ =]/d' "$f"
	done
	touch "$tree/.done"
fi

# --- the sources --------------------------------------------------------------
if [ "$KGEN" = 6.1 ]; then
	tarball=/usr/src/linux-source-6.1.tar.xz
	imgver=$(apt-cache show --no-all-versions "linux-image-$KVER-arm64:arm64" 2>/dev/null |
		sed -n 's/^Version: //p' | head -n1)
	srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || true)
	what="the kernel"
	if [ -n "$imgver" ] && [ "$imgver" != "$srcver" ]; then
		# the host's linux-source-6.1 is another upload (a security
		# update whose arm64 kernel is not built yet, or an older one):
		# the kernel's own version, from the archive, cached
		srcdir=$cache/linux-source-6.1_$imgver
		if [ ! -f "$srcdir/.done" ]; then
			deb=$("$fetch" -n "linux-source-6.1=$imgver")
			rm -rf "$srcdir"
			mkdir -p "$srcdir"
			dpkg-deb --fsys-tarfile "$deb" |
				tar -C "$srcdir" -x ./usr/src/linux-source-6.1.tar.xz
			touch "$srcdir/.done"
		fi
		tarball=$srcdir/usr/src/linux-source-6.1.tar.xz
		srcver=$imgver
	fi
else
	# fetch-debs.sh prints $cache/x/PACKAGE_VERSION_ARCH; the headers
	# package comes from the same upload as linux-image-$KVER-arm64
	dirs=$("$fetch" "${suite[@]}" "linux-source-$KGEN" "linux-headers-$KVER-arm64:arm64")
	srcdir=$(echo "$dirs" | sed -n 1p)
	tarball=$srcdir/usr/src/linux-source-$KGEN.tar.xz
	srcver=$(basename "$srcdir" | cut -d_ -f2)
	imgver=$(basename "$(echo "$dirs" | sed -n 2p)" | cut -d_ -f2)
	what="linux-headers-$KVER-arm64"
fi
if [ -n "$imgver" ] && [ "$imgver" != "$srcver" ]; then
	echo "build.sh: linux-source-$KGEN is $srcver, $what is $imgver" >&2
	exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# the parts of the tarball used here, unpacked once (source.sh)
src=$("$here/source.sh" "$tarball")

# --- modpost for this host (6.12, 7.3) -----------------------------------------
# trixie's amd64 linux-kbuild is built against glibc 2.38 (__isoc23_strtoul):
# its modpost does not run on bookworm's glibc.  Rebuild it, once, from the
# same linux-source; its target-side headers (elfconfig.h, from an arm64
# empty.o, and devicetable-offsets.h) come from the headers tree's kbuild,
# as kbuild makes them.
kb=$tree/usr/lib/$kbuild/scripts/mod
if [ -f "$kb/modpost.real-lsb-64" ] && [ ! -f "$tree/.modpost" ] &&
	[[ $("$kb/modpost.real-lsb-64" -h 2>&1) == *"version \`GLIBC_"* ]]; then
	mkdir -p "$work/src/scripts"
	cp -a "$src/scripts/mod" "$src/scripts/include" "$work/src/scripts/"
	ln -s "$src/include" "$work/src/include"
	m=$work/src/scripts/mod
	rm "$m/Makefile"
	echo 'always-y := devicetable-offsets.s empty.o' >"$m/Kbuild"
	make -s -C "$hdr" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- CC=aarch64-linux-gnu-gcc \
		M="$m" devicetable-offsets.s empty.o
	{
		echo "#ifndef __DEVICETABLE_OFFSETS_H__"
		echo "#define __DEVICETABLE_OFFSETS_H__"
		sed -ne 's:^[[:space:]]*\.ascii[[:space:]]*"\(.*\)".*:\1:;
			/^->/{s:->#\(.*\):/* \1 */:;
			s:^->\([^ ]*\) [\$#]*\([^ ]*\) \(.*\):#define \1 \2 /* \3 */:;
			s:->::; p;}' "$m/devicetable-offsets.s"
		echo "#endif"
	} >"$m/devicetable-offsets.h"
	gcc -O2 -o "$m/mk_elfconfig" "$m/mk_elfconfig.c"
	"$m/mk_elfconfig" <"$m/empty.o" >"$m/elfconfig.h"
	gcc -O2 -I"$m" -I"$work/src/scripts/include" -o "$m/modpost" "$m/modpost.c" "$m/file2alias.c" \
		"$m/sumversion.c" "$m/symsearch.c"
	cp "$m/modpost" "$kb/modpost.real-lsb-64"
	touch "$tree/.modpost"
fi
mkdir -p "$work/drivers/tee" "$work/drivers/char/hw_random"
cp -a "$src/drivers/tee/optee" "$work/drivers/tee/"
cp "$src/drivers/char/hw_random/optee-rng.c" "$work/drivers/char/hw_random/"
apply() {
	local p
	for p in "$@"; do
		patch -d "$work" -p1 --quiet <"$p"
	done
}
touches() { # PATH: does one of the patches change it?
	grep -q "^+++ b/$1" "${series[@]}"
}
series=()
if [ "$variant" = patched ]; then
	list=$here/patches/series-$KGEN
	[ -f "$list" ] || { echo "build.sh: no $list" >&2; exit 1; }
	while read -r p; do
		series+=("$here/patches/$p")
	done < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list")
	[ ${#series[@]} -gt 0 ] || { echo "build.sh: $list names no patch" >&2; exit 1; }
fi
case $KGEN/$variant in
6.1/seed-bug) apply "$here"/seed-bug/*.patch ;;
*/patched) apply "${series[@]}" ;;
5.10/revert) apply "$here"/seed-bug-5.10/0001-*.patch ;;
5.10/seed-bug) apply "$here"/seed-bug-5.10/0002-*.patch ;;
esac
mkdir -p "$work/rng"
mv "$work/drivers/char/hw_random/optee-rng.c" "$work/rng/"
echo 'obj-m := optee-rng.o' >"$work/rng/Kbuild"

# 6.1: Debian built it with gcc 12, as ours.  5.10: Debian built it with
# gcc-10 (its .kernelvariables name aarch64-linux-gnu-gcc-10); we build with
# gcc 12, so CC is given here.
# 6.12 and 7.3: Debian built them with gcc 14 (see the build tree above).
mkvars=()
[ "$KGEN" = 6.1 ] || mkvars=(CC=aarch64-linux-gnu-gcc)
build() {
	make -s -C "$hdr" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
		${mkvars[@]+"${mkvars[@]}"} M="$1" -j"$jobs" modules
}
# OUTDIR holds this variant's modules only
rm -f "$out/optee.ko" "$out/optee-rng.ko"
case $variant in
stock)
	build "$work/drivers/tee/optee"
	build "$work/rng"
	cp "$work/drivers/tee/optee/optee.ko" "$work/rng/optee-rng.ko" "$out/"
	;;
seed-bug|revert)
	build "$work/drivers/tee/optee"
	cp "$work/drivers/tee/optee/optee.ko" "$out/"
	;;
patched)
	if touches drivers/tee/optee/; then
		build "$work/drivers/tee/optee"
		cp "$work/drivers/tee/optee/optee.ko" "$out/"
	fi
	if touches drivers/char/hw_random/optee-rng.c; then
		build "$work/rng"
		cp "$work/rng/optee-rng.ko" "$out/"
	fi
	;;
esac
for k in "$out"/*.ko; do
	echo "$variant: $(basename "$k") $(modinfo -F vermagic "$k")"
done
