#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# build.sh OUTDIR [smc|ffa]: the testbed's real secure world, built from
# source: OP-TEE OS 4.10.0 with the project's patches (patches/optee_os/)
# and TF-A v2.14.0 (BL1, BL2, BL31), as one QEMU flash image,
# OUTDIR/qemu_fw.bios.  smc (default): BL31 with the OP-TEE dispatcher,
# OP-TEE's own SMC ABI; ffa: OP-TEE as the S-EL1 SPMC under TF-A's SPMD,
# Linux reaches it over FF-A (TESTBED_SW=optee-ffa).  See README.md.
#
# Sources: the release trees in $TEESHM_MIRROR (default ../shared/mirror
# next to the checkout), checked against the sha256 below; without them,
# upstream at the pinned commit, checked against it.  The unpacked trees
# and the build live in ~/.cache/teeshm-trace/optee/<key>, key = hash of
# the sources, the patches and this script: a second call with nothing
# changed copies the cached image.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
out=${1:?usage: build.sh OUTDIR [smc|ffa]}
flavour=${2:-smc}
case $flavour in
smc | ffa) ;;
*) echo "optee/build.sh: flavour $flavour: expected smc or ffa" >&2; exit 2 ;;
esac

OPTEE_TAG=4.10.0
OPTEE_COMMIT=753afbbee1682f5d16fd30e87b31058a4fd4f4b8
OPTEE_SHA256=4cbe420838a96cfde52b9ad9580213b2634b0410a8ef9676974c8e25c0bf0ee8
OPTEE_URL=https://github.com/OP-TEE/optee_os
TFA_TAG=2.14.0
TFA_COMMIT=1d5aa939bc8d3d892e2ed9945fa50e36a1a924cc
TFA_SHA256=9d105b0c891d4940e40334917bbaf4f2a56e6f4c0d4eea78ecd4f142f407397c
TFA_URL=https://github.com/ARM-software/arm-trusted-firmware
# the release trees: TEESHM_MIRROR, else ../shared/mirror beside the
# checkout (or beside its parent: a CI clone one level down), else this
# workplace's /work/shared/mirror
MIRROR=${TEESHM_MIRROR:-}
if [ -z "$MIRROR" ]; then
	for d in "$TOP/../shared/mirror" "$TOP/../../shared/mirror" /work/shared/mirror; do
		if [ -f "$d/optee_os-4.10.0.tar.xz" ]; then
			MIRROR=$(cd "$d" && pwd)
			break
		fi
	done
	MIRROR=${MIRROR:-$TOP/../shared/mirror}
fi

# OP-TEE OS for QEMU v8 as the testbed runs it (tests/testbed/optee/README.md)
OPTEE_FLAGS=(
	PLATFORM=vexpress-qemu_armv8a CFG_ARM64_core=y
	CROSS_COMPILE=aarch64-linux-gnu- CROSS_COMPILE_core=aarch64-linux-gnu-
	CROSS_COMPILE_ta_arm64=aarch64-linux-gnu- CFG_USER_TA_TARGETS=ta_arm64
	CFG_ARM_GICV3=n CFG_CORE_DYN_SHM=y
	# the default reserved window 0x42000000-0x42200000 lies inside
	# Debian's 32 MiB Image at 0x40200000
	CFG_CORE_RESERVED_SHM=n
	CFG_HWRNG_PTA=y CFG_HWRNG_QUALITY=1024
	# test only: QEMU has no secure TRNG (patches/optee_os/0002)
	CFG_HWRNG_PTA_INSECURE_SOFTWARE_PRNG=y
	# the testbed's ground truth and test PTA (patches/optee_os/0001, 0003)
	CFG_SHM_REG_LOG=y CFG_TEESHM_TEST_PTA=y
	CFG_TEE_CORE_LOG_LEVEL=2 CFG_WERROR=y
)
# issue 18, the TEE client audit (kernel/AUDIT-7.3.md): the secure
# counterparts of in-tree Linux TEE clients.  The RTC PTA (rtc-optee) on a
# test-only RTC (patches/optee_os/0005: QEMU virt has no secure RTC), the
# SCMI PTA (the SCMI OP-TEE transport) on a test-only SCMI server (0006:
# one channel, base protocol only), and the trusted keys early TA
# (trusted_tee).  Linux only binds to them when such a client is loaded
# (the SCMI transport also needs a DT node: mkdtb.sh --scmi-optee): the
# testbed's other scenarios load none.
OPTEE_FLAGS+=(
	CFG_DRIVERS_RTC=y CFG_RTC_PTA=y CFG_TEST_RTC=y
	CFG_SCMI_MSG_DRIVERS=y CFG_SCMI_MSG_SHM_MSG=y CFG_SCMI_PTA=y
	CFG_TEST_SCMI_SERVER=y
	CFG_IN_TREE_EARLY_TAS=trusted_keys/f04a0fe7-1f5d-4b9b-abf7-619b85b4ce8c
)
TFA_FLAGS=(
	PLAT=qemu QEMU_USE_GIC_DRIVER=QEMU_GICV2 SPD=opteed
	BL32_RAM_LOCATION=tdram CROSS_COMPILE=aarch64-linux-gnu-
	# Debian's Image is preloaded by QEMU; BL31 enters it with x0 = DTB
	ARM_LINUX_KERNEL_AS_BL33=1 PRELOADED_BL33_BASE=0x40200000
)
# FF-A: OP-TEE is the SPM Core at S-EL1 (it gives CFG_CORE_FFA), BL31
# runs the SPM Dispatcher instead of opteed and hands OP-TEE the SPMC
# manifest (TOS_FW_CONFIG, spmc-el1-manifest.dts) in x0.  The flags are
# those OP-TEE's own build repo uses for its QEMU v8 SPMC_AT_EL=1.
manifest=$here/spmc-el1-manifest.dts
if [ "$flavour" = ffa ]; then
	# the release tree is no git tree: OP-TEE's build makes its commit
	# an int 0x0, which thread_spmc.c shifts by 32 (-Werror); give it
	# the pinned commit, as a git tree would
	OPTEE_FLAGS+=(CFG_CORE_SEL1_SPMC=y TEE_IMPL_GIT_SHA1=0x${OPTEE_COMMIT:0:16}ULL)
	TFA_FLAGS=("${TFA_FLAGS[@]/#SPD=opteed/SPD=spmd}"
		SPMD_SPM_AT_SEL2=0 SPMC_OPTEE=1 CTX_INCLUDE_EL2_REGS=0
		ENABLE_SME_FOR_NS=0 ENABLE_SME_FOR_SWD=0
		QEMU_TOS_FW_CONFIG_DTS="$manifest")
fi

t0=$(date +%s)
say() { echo "optee/build.sh: $*" >&2; }
fail() { echo "optee/build.sh: $*" >&2; exit 1; }

for t in aarch64-linux-gnu-gcc make sha256sum; do
	command -v "$t" >/dev/null || fail "missing $t: run scripts/install-deps.sh"
done
# OP-TEE's build scripts need pyelftools and cryptography: Debian's python
PY=/usr/bin/python3
"$PY" -c 'import elftools, cryptography' 2>/dev/null ||
	fail "Debian's python3 lacks pyelftools or cryptography: apt-get install python3-pyelftools python3-cryptography"

# fetch NAME TAG COMMIT SHA256 URL DEST: DEST/NAME-TAG, verified
fetch() {
	local name=$1 tag=$2 commit=$3 sum=$4 url=$5 dest=$6 tarball got
	tarball=$MIRROR/$name-$tag.tar.xz
	[ -d "$dest/$name-$tag" ] && return 0
	mkdir -p "$dest"
	if [ -f "$tarball" ]; then
		got=$(sha256sum "$tarball" | cut -d' ' -f1)
		[ "$got" = "$sum" ] ||
			fail "$tarball: sha256 $got, expected $sum (a different or damaged file)"
		tar -C "$dest" -xf "$tarball"
	elif command -v git >/dev/null &&
		git -c advice.detachedHead=false clone -q --depth 1 \
			--revision="$commit" "$url" "$dest/$name-$tag" 2>/dev/null ||
		{ git init -q "$dest/$name-$tag" &&
		  git -C "$dest/$name-$tag" fetch -q --depth 1 "$url" "$commit" 2>/dev/null &&
		  git -C "$dest/$name-$tag" checkout -q FETCH_HEAD; }; then
		got=$(git -C "$dest/$name-$tag" rev-parse HEAD)
		[ "$got" = "$commit" ] ||
			{ rm -rf "${dest:?}/$name-$tag"; fail "$url: got commit $got, expected $commit"; }
	else
		rm -rf "${dest:?}/$name-$tag"
		fail "no source for $name $tag: put $name-$tag.tar.xz (sha256 $sum) in $MIRROR (or set TEESHM_MIRROR), or allow git to reach $url (commit $commit)"
	fi
}

patches=("$here"/patches/optee_os/*.patch)
key=$(cat "$0" "${patches[@]}" | sha256sum | cut -c1-16)
# the FF-A image: a key of its own, covering its manifest
[ "$flavour" = smc ] ||
	key=$( (echo "$key $flavour"; cat "$manifest") | sha256sum | cut -c1-16)
work=$CACHE/optee/$key
src=$CACHE/optee/src
if [ -f "$work/qemu_fw.bios" ]; then
	mkdir -p "$out"
	cp "$work/qemu_fw.bios" "$work/config.txt" "$out/"
	say "cached $work/qemu_fw.bios (0s)"
	exit 0
fi

fetch optee_os "$OPTEE_TAG" "$OPTEE_COMMIT" "$OPTEE_SHA256" "$OPTEE_URL" "$src"
fetch trusted-firmware-a "$TFA_TAG" "$TFA_COMMIT" "$TFA_SHA256" "$TFA_URL" "$src"

rm -rf "$work.tmp"
mkdir -p "$work.tmp"
cp -a "$src/optee_os-$OPTEE_TAG" "$work.tmp/optee_os"
cp -a "$src/trusted-firmware-a-$TFA_TAG" "$work.tmp/tf-a"
for p in "${patches[@]}"; do
	patch -d "$work.tmp/optee_os" -p1 --quiet --forward <"$p" ||
		fail "$(basename "$p") does not apply to OP-TEE OS $OPTEE_TAG"
done

jobs=$(nproc)
t1=$(date +%s)
PATH=/usr/bin:$PATH make -C "$work.tmp/optee_os" -j"$jobs" O=out "${OPTEE_FLAGS[@]}" \
	>"$work.tmp/optee_os.log" 2>&1 ||
	{ tail -n 30 "$work.tmp/optee_os.log" >&2; fail "OP-TEE OS build failed (log: $work.tmp/optee_os.log)"; }
t2=$(date +%s)
say "OP-TEE OS $OPTEE_TAG built in $((t2 - t1))s"
o=$work.tmp/optee_os/out/core
PATH=/usr/bin:$PATH make -C "$work.tmp/tf-a" -j"$jobs" "${TFA_FLAGS[@]}" \
	BL32="$o/tee-header_v2.bin" BL32_EXTRA1="$o/tee-pager_v2.bin" \
	BL32_EXTRA2="$o/tee-pageable_v2.bin" all fip qemu_fw.bios \
	>"$work.tmp/tf-a.log" 2>&1 ||
	{ tail -n 30 "$work.tmp/tf-a.log" >&2; fail "TF-A build failed (log: $work.tmp/tf-a.log)"; }
t3=$(date +%s)
say "TF-A $TFA_TAG built in $((t3 - t2))s"
cp "$work.tmp/tf-a/build/qemu/release/qemu_fw.bios" "$work.tmp/"
{
	echo "OP-TEE OS $OPTEE_TAG ($OPTEE_COMMIT) + $(cd "$here" && ls patches/optee_os | tr '\n' ' ')"
	echo "TF-A $TFA_TAG ($TFA_COMMIT), $flavour"
	echo "optee_os: ${OPTEE_FLAGS[*]}"
	echo "tf-a: ${TFA_FLAGS[*]/#QEMU_TOS_FW_CONFIG_DTS=*/QEMU_TOS_FW_CONFIG_DTS=spmc-el1-manifest.dts}"
} >"$work.tmp/config.txt"
# keep the image and logs, drop the trees (about 300 MB)
rm -rf "$work.tmp/optee_os" "$work.tmp/tf-a"
rm -rf "$work"
mv "$work.tmp" "$work"
mkdir -p "$out"
cp "$work/qemu_fw.bios" "$work/config.txt" "$out/"
say "secure world built in $(($(date +%s) - t0))s: $out/qemu_fw.bios"
