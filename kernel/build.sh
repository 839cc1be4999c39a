#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# build.sh VARIANT OUTDIR - build Debian's 6.1 TEE modules out of tree for
# arm64, against the matching linux-headers-*-arm64, on an x86_64 host.
#
#   stock     optee.ko and optee-rng.ko from linux-source-6.1 as Debian ships them
#   seed-bug  optee.ko with kernel/seed-bug/*.patch (TESTING ONLY: registers
#             driver-private shared memory, the 2021 seed bug)
#   patched   optee-rng.ko with kernel/patches/*.patch (the fix series)
#
# The headers package's scripts/ point at linux-kbuild-6.1; we assemble the
# tree in the cache with the amd64 linux-kbuild-6.1 (the same helper
# programs, built for this host), so nothing arm64 runs here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
variant=${1:?usage: build.sh stock|seed-bug|patched OUTDIR}
out=$(mkdir -p "${2:?usage: build.sh VARIANT OUTDIR}" && cd "$2" && pwd)
cache=${TEESHM_CACHE:-$HOME/.cache/teeshm-trace}
KVER=${KVER:-6.1.0-56}
fetch=$top/scripts/fetch-debs.sh
jobs=${JOBS:-2}

case $variant in stock|seed-bug|patched) ;; *)
	echo "build.sh: unknown variant '$variant' (stock, seed-bug, patched)" >&2
	exit 2 ;;
esac

# --- the build tree ---------------------------------------------------------
tree=$cache/kbuild-$KVER
hdr=$tree/usr/src/linux-headers-$KVER-arm64
if [ ! -f "$tree/.done" ]; then
	dirs=$("$fetch" "linux-headers-$KVER-arm64:arm64" \
		"linux-headers-$KVER-common" linux-kbuild-6.1:amd64)
	rm -rf "$tree"
	mkdir -p "$tree/usr/src" "$tree/usr/lib"
	for d in $dirs; do
		[ -d "$d/usr/src" ] && cp -a "$d"/usr/src/. "$tree/usr/src/"
		[ -d "$d/usr/lib/linux-kbuild-6.1" ] &&
			cp -a "$d/usr/lib/linux-kbuild-6.1" "$tree/usr/lib/"
	done
	# its Makefile includes the common tree by absolute path
	sed -i "s|^include /usr/src/|include $tree/usr/src/|" "$hdr/Makefile"
	touch "$tree/.done"
fi

# --- the sources --------------------------------------------------------------
imgver=$(apt-cache show --no-all-versions "linux-image-$KVER-arm64:arm64" 2>/dev/null |
	sed -n 's/^Version: //p' | head -n1)
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || true)
if [ -n "$imgver" ] && [ "$imgver" != "$srcver" ]; then
	echo "build.sh: linux-source-6.1 is $srcver, the kernel is $imgver" >&2
	exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -C "$work" --strip-components=1 -xf /usr/src/linux-source-6.1.tar.xz \
	linux-source-6.1/drivers/tee/optee \
	linux-source-6.1/drivers/char/hw_random/optee-rng.c
apply() {
	local p
	for p in "$@"; do
		patch -d "$work" -p1 --quiet <"$p"
	done
}
case $variant in
seed-bug) apply "$here"/seed-bug/*.patch ;;
patched) apply "$here"/patches/*.patch ;;
esac
mkdir -p "$work/rng"
mv "$work/drivers/char/hw_random/optee-rng.c" "$work/rng/"
echo 'obj-m := optee-rng.o' >"$work/rng/Kbuild"

build() {
	make -s -C "$hdr" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
		M="$1" -j"$jobs" modules
}
case $variant in
stock)
	build "$work/drivers/tee/optee"
	build "$work/rng"
	cp "$work/drivers/tee/optee/optee.ko" "$work/rng/optee-rng.ko" "$out/"
	;;
seed-bug)
	build "$work/drivers/tee/optee"
	cp "$work/drivers/tee/optee/optee.ko" "$out/"
	;;
patched)
	build "$work/rng"
	cp "$work/rng/optee-rng.ko" "$out/"
	;;
esac
for k in "$out"/*.ko; do
	echo "$variant: $(basename "$k") $(modinfo -F vermagic "$k")"
done
