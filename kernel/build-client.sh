#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# build-client.sh VARIANT OUTDIR: the in-tree TEE clients that Debian's 7.3
# arm64 kernel does not build (kernel/AUDIT-7.3.md), built out of tree from
# trixie-backports' linux-source-7.3 against linux-headers-7.3.4+deb13-arm64,
# i.e. with Debian's config, in build.sh's build tree.
#   stock    as the source has them (a client Debian builds: Debian's module)
#   patched  with kernel/patches/series-7.3-clients (one file name a line),
#            every client built from the source
#   sources  (no OUTDIR) print the directory the clients' sources are in
# The clients: rtc-optee.ko (drivers/rtc/rtc-optee.c, CONFIG_RTC_DRV_OPTEE,
# not set in Debian's config; every symbol it needs is in the kernel or
# tee.ko, CONFIG_RTC_CLASS=y) and scmi_transport_optee.ko
# (drivers/firmware/arm_scmi/transports/optee.c, =m in Debian's config; the
# SCMI core it plugs into is built in), trusted.ko (security/keys/
# trusted-keys, trusted_core.c and trusted_tee.c: CONFIG_TRUSTED_KEYS not
# set; the keys core it needs is built in, CONFIG_KEYS=y).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
KGEN=${KGEN:-7.3}
[ "$KGEN" = 7.3 ] || { echo "build-client.sh: KGEN=7.3 only" >&2; exit 2; }
KVER=7.3.4+deb13
variant=${1:?usage: build-client.sh stock|patched OUTDIR | sources}
case $variant in stock|patched|sources) ;; *)
	echo "build-client.sh: unknown variant '$variant' (stock, patched, sources)" >&2; exit 2 ;;
esac
[ "$variant" = sources ] ||
	out=$(mkdir -p "${2:?usage: build-client.sh VARIANT OUTDIR}" && cd "$2" && pwd)
cache=${TEESHM_CACHE:-$HOME/.cache/teeshm-trace}
tree=$cache/kbuild-$KVER
hdr=$tree/usr/src/linux-headers-$KVER-arm64
# the clients: module name, its source in linux-source-7.3, and whether
# Debian's 7.3 arm64 package has it (its module is then the stock one)
# and the other files of a module of several
clients=("rtc-optee drivers/rtc/rtc-optee.c no"
	 "scmi_transport_optee drivers/firmware/arm_scmi/transports/optee.c yes"
	 "trusted security/keys/trusted-keys/trusted_core.c no trusted_tee.c")
# trusted.ko with the TEE source only (CONFIG_TRUSTED_KEYS_TEE, as Kconfig's
# default when TRUSTED_KEYS is set with TEE; TPM, CAAM, DCP, PKWM off)
declare -A ccflags=([trusted]="-DCONFIG_TRUSTED_KEYS_TEE=1")
# what else their sources include from the tree (optee.c: "../common.h")
headers=("drivers/firmware/arm_scmi/*.h")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# build.sh assembles the build tree (and a modpost for this host) once
if [ "$variant" != sources ] && { [ ! -f "$tree/.done" ] || [ ! -f "$tree/.modpost" ]; }; then
	KGEN=7.3 "$here/build.sh" stock "$work/optee" >/dev/null
fi
srcdir=$("$top/scripts/fetch-debs.sh" -s trixie-backports "linux-source-$KGEN")
tarball=$srcdir/usr/src/linux-source-$KGEN.tar.xz
# the clients' sources, unpacked once per tarball (source.sh takes only the
# TEE drivers)
members=()
for c in "${clients[@]}"; do
	set -- $c
	members+=("linux-source-$KGEN/$2")
	for o in "${@:4}"; do
		members+=("linux-source-$KGEN/$(dirname "$2")/$o")
	done
done
for h in "${headers[@]}"; do
	members+=("linux-source-$KGEN/$h")
done
key=$({ stat -c '%n %s %Y' "$(readlink -f "$tarball")"; echo "${members[*]}"; } |
	sha256sum | cut -c1-16)
src=$cache/src/linux-source-$KGEN-clients-$key
if [ ! -f "$src/.done" ]; then
	rm -rf "$src"
	mkdir -p "$src"
	tar -C "$src" --strip-components=1 --wildcards -xf "$tarball" "${members[@]}"
	touch "$src/.done"
fi
# sources: where the clients' sources are unpacked (check.sh applies the
# series there)
[ "$variant" = sources ] && { echo "$src"; exit 0; }
cp -a "$src"/. "$work/"
if [ "$variant" = patched ]; then
	list=$here/patches/series-$KGEN-clients
	while read -r p; do
		patch -d "$work" -p1 --quiet <"$here/patches/$p"
	done < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list")
fi
for c in "${clients[@]}"; do
	set -- $c
	m=$1 f=$2 debian=$3
	shift 3
	rm -f "$out/$m.ko"
	if [ "$variant" = stock ] && [ "$debian" = yes ]; then
		# Debian's own module, uncompressed for busybox insmod
		mods=$("$top/scripts/fetch-debs.sh" -s trixie-backports \
			"linux-modules-$KVER-arm64:arm64")
		xz -dc "$mods/usr/lib/modules/$KVER-arm64/kernel/${f%/*}/$m.ko.xz" >"$out/$m.ko"
		echo "$variant: $m.ko (Debian's) $(modinfo -F vermagic "$out/$m.ko")"
		continue
	fi
	# built where the source lies, so that its relative includes resolve
	d=$work/$(dirname "$f")
	echo "obj-m += $m.o" >>"$d/Kbuild"
	objs=$(for o in "$f" "$@"; do basename "$o" .c; done | sed 's/$/.o/' | tr '\n' ' ')
	[ "$objs" = "$m.o " ] || echo "$m-y := $objs" >>"$d/Kbuild"
	[ -z "${ccflags[$m]:-}" ] || echo "ccflags-y += ${ccflags[$m]}" >>"$d/Kbuild"
	# gcc 12 for Debian's gcc 14: see build.sh
	make -s -C "$hdr" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
		CC=aarch64-linux-gnu-gcc M="$d" -j"${JOBS:-2}" modules
	cp "$d/$m.ko" "$out/"
	echo "$variant: $m.ko $(modinfo -F vermagic "$out/$m.ko")"
done
