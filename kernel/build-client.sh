#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# build-client.sh VARIANT OUTDIR: the in-tree TEE clients that Debian's 7.3
# arm64 kernel does not build (kernel/AUDIT-7.3.md), built out of tree from
# trixie-backports' linux-source-7.3 against linux-headers-7.3.4+deb13-arm64,
# i.e. with Debian's config, in build.sh's build tree.
#   stock    as the source has them
#   patched  with kernel/patches/series-7.3-clients (one file name a line)
# The clients: rtc-optee.ko (drivers/rtc/rtc-optee.c, CONFIG_RTC_DRV_OPTEE,
# not set in Debian's config).  Every symbol it needs is in the kernel or
# tee.ko (CONFIG_RTC_CLASS=y).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
KGEN=${KGEN:-7.3}
[ "$KGEN" = 7.3 ] || { echo "build-client.sh: KGEN=7.3 only" >&2; exit 2; }
KVER=7.3.4+deb13
variant=${1:?usage: build-client.sh stock|patched OUTDIR}
case $variant in stock|patched) ;; *)
	echo "build-client.sh: unknown variant '$variant' (stock, patched)" >&2; exit 2 ;;
esac
out=$(mkdir -p "${2:?usage: build-client.sh VARIANT OUTDIR}" && cd "$2" && pwd)
cache=${TEESHM_CACHE:-$HOME/.cache/teeshm-trace}
tree=$cache/kbuild-$KVER
hdr=$tree/usr/src/linux-headers-$KVER-arm64
# the clients: module name, then its source in linux-source-7.3
clients=("rtc-optee drivers/rtc/rtc-optee.c")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# build.sh assembles the build tree (and a modpost for this host) once
if [ ! -f "$tree/.done" ] || [ ! -f "$tree/.modpost" ]; then
	KGEN=7.3 "$here/build.sh" stock "$work/optee" >/dev/null
fi
srcdir=$("$top/scripts/fetch-debs.sh" -s trixie-backports "linux-source-$KGEN")
tarball=$srcdir/usr/src/linux-source-$KGEN.tar.xz
# the clients' sources, unpacked once per tarball (source.sh takes only the
# TEE drivers)
key=$(stat -c '%n %s %Y' "$(readlink -f "$tarball")" | sha256sum | cut -c1-16)
src=$cache/src/linux-source-$KGEN-clients-$key
if [ ! -f "$src/.done" ]; then
	rm -rf "$src"
	mkdir -p "$src"
	members=()
	for c in "${clients[@]}"; do
		members+=("linux-source-$KGEN/${c#* }")
	done
	tar -C "$src" --strip-components=1 -xf "$tarball" "${members[@]}"
	touch "$src/.done"
fi
for c in "${clients[@]}"; do
	mkdir -p "$work/$(dirname "${c#* }")"
	cp "$src/${c#* }" "$work/${c#* }"
done
if [ "$variant" = patched ]; then
	list=$here/patches/series-$KGEN-clients
	while read -r p; do
		patch -d "$work" -p1 --quiet <"$here/patches/$p"
	done < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list")
fi
for c in "${clients[@]}"; do
	m=${c%% *} f=${c#* }
	d=$work/mod-$m
	mkdir -p "$d"
	cp "$work/$f" "$d/"
	echo "obj-m := $m.o" >"$d/Kbuild"
	# gcc 12 for Debian's gcc 14: see build.sh
	make -s -C "$hdr" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
		CC=aarch64-linux-gnu-gcc M="$d" -j"${JOBS:-2}" modules
	rm -f "$out/$m.ko"
	cp "$d/$m.ko" "$out/"
	echo "$variant: $m.ko $(modinfo -F vermagic "$out/$m.ko")"
done
