#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# install-deps.sh - install, from Debian's archive, everything teeshm-trace's
# build, tests and testbed need on a Debian 12 (bookworm) x86_64 machine.
# Run it as root, or as a user who may use sudo: it asks sudo itself (a
# minimal Debian has no sudo, and root needs none).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null; then
		echo "install-deps.sh: needs root: run it as root (sudo is not installed)" >&2
		exit 2
	fi
	exec sudo "$0" "$@"
fi

pkgs=(
	build-essential pkg-config git bc cpio xz-utils zstd file python3
	clang-16 llvm-16 libclang-rt-16-dev bpftool libbpf-dev libelf-dev zlib1g-dev libcmocka-dev
	gcc-aarch64-linux-gnu
	libbpf-dev:arm64 libelf-dev:arm64 zlib1g-dev:arm64 libzstd-dev:arm64
	libc6-dev:arm64 optee-client-dev:arm64
	qemu-system-arm device-tree-compiler busybox-static:arm64
	linux-source-6.1 flex bison libssl-dev groff-base
	jq valgrind dwarves
	python3-pyelftools python3-cryptography
	mmdebstrap qemu-user-static binfmt-support arch-test kmod
	prometheus prometheus-node-exporter curl
	debhelper lintian crossbuild-essential-arm64
)

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	dpkg --add-architecture arm64
fi
apt-get update -q
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
