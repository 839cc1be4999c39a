#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# run.sh DIR: the Debian packages `make deb` left in DIR (amd64, and arm64
# built cross): lintian (no error, no warning; debian/*.lintian-overrides
# say why for any tag they hide), the files, the conffile, the units with
# the installed binary's path, enabled and not started by the maintainer
# scripts, the binaries (architecture, dynamic libbpf, the version of
# debian/changelog).  Installing the arm64 package and the kexec with it:
# the testbed's systemd guest (make testbed-test).
set -u
dir=$(realpath "${1:?usage: run.sh DIR}")
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/../lib.sh"
check() {	# check NAME CMD...: pass if CMD succeeds
	local name=$1
	shift
	if "$@"; then ok "$name"; else ko "$name"; fi
}
tmp=$(mktemp -d /tmp/teeshm-package.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)

want_files='./usr/sbin/teeshm-trace
./usr/share/man/man8/teeshm-trace.8.gz
./usr/share/bash-completion/completions/teeshm-trace
./etc/teeshm-trace.conf
./lib/systemd/system/teeshm-trace-agent.service
./lib/systemd/system/teeshm-trace-kexec-check.service
./lib/systemd/system-shutdown/teeshm-trace
./usr/share/doc/teeshm-trace/copyright'

for arch in amd64 arm64; do
	deb=$dir/teeshm-trace_${version}_$arch.deb
	changes=$dir/teeshm-trace_${version}_$arch.changes
	if [ ! -f "$deb" ]; then
		ko "$arch: $deb missing (make deb DEB_ARCH=$arch)"
		continue
	fi
	ok "$arch: $(basename "$deb") built"
	# lintian on the .changes: the .deb, its dbgsym and the .buildinfo
	lintian -I --fail-on error,warning \
		"$changes" >"$tmp/lintian.$arch" 2>&1
	rc=$?
	tags=$(grep -E "^[EWIP]: " "$tmp/lintian.$arch" | cut -c1 | sort | uniq -c | xargs)
	if [ $rc = 0 ] && ! grep -q '^[EW]:' "$tmp/lintian.$arch"; then
		ok "$arch: lintian: no error, no warning (${tags:-no tag})"
	else
		ko "$arch: lintian (exit $rc): $(grep '^[EW]:' "$tmp/lintian.$arch" | head -5)"
	fi
	root=$tmp/root-$arch
	mkdir -p "$root/DEBIAN"
	dpkg-deb -x "$deb" "$root" && dpkg-deb -e "$deb" "$root/DEBIAN"
	dpkg-deb -c "$deb" | awk '{print $6}' >"$tmp/files.$arch"
	missing=$(grep -vxFf "$tmp/files.$arch" <<<"$want_files")
	[ -z "$missing" ] && ok "$arch: installs the binary, man page, completion, conffile, units, shutdown hook" ||
		ko "$arch: missing from the package: $missing"
	check "$arch: /etc/teeshm-trace.conf is a conffile" \
		grep -qx /etc/teeshm-trace.conf "$root/DEBIAN/conffiles"
	check "$arch: the conffile is dist/'s (policy=warn)" \
		cmp -s "$root/etc/teeshm-trace.conf" "$top/dist/teeshm-trace.conf"
	check "$arch: units run /usr/sbin/teeshm-trace (no @SBINDIR@ left)" bash -c '
		grep -qx "ExecStart=/usr/sbin/teeshm-trace agent --quiet" "$1/teeshm-trace-agent.service" &&
		grep -qx "ExecStart=/usr/sbin/teeshm-trace check --journal --systemd-kexec" "$1/teeshm-trace-kexec-check.service" &&
		grep -q "^/usr/sbin/teeshm-trace check" "$2" && [ -x "$2" ] &&
		! grep -rq @SBINDIR@ "$1" "$2"' _ "$root/lib/systemd/system" \
		"$root/lib/systemd/system-shutdown/teeshm-trace"
	check "$arch: the kexec check is RequiredBy systemd-kexec.service" \
		grep -qx "RequiredBy=systemd-kexec.service" \
		"$root/lib/systemd/system/teeshm-trace-kexec-check.service"
	check "$arch: postinst enables the agent and the kexec check" bash -c '
		grep -q "deb-systemd-helper enable .teeshm-trace-agent.service." "$1" &&
		grep -q "deb-systemd-helper enable .teeshm-trace-kexec-check.service." "$1"' \
		_ "$root/DEBIAN/postinst"
	# started later than the TEE drivers the agent would miss buffers
	check "$arch: the maintainer scripts start no unit" bash -c \
		'! grep -qE "deb-systemd-invoke (start|restart)|systemctl.*start" "$1"/DEBIAN/*' _ "$root"
	check "$arch: prerm detaches the agent's probes on removal" \
		grep -q "teeshm-trace agent --stop" "$root/DEBIAN/prerm"
	check "$arch: Depends on libbpf1 (linked dynamically)" bash -c \
		'dpkg-deb -f "$1" Depends | grep -q "libbpf1"' _ "$deb"
	case $arch in
	amd64) elf="x86-64" run=() ;;
	arm64) elf="ARM aarch64" run=(qemu-aarch64-static) ;;
	esac
	check "$arch: the binary is $elf, dynamically linked" bash -c \
		'file -b "$1" | grep -q "$2.*dynamically linked"' _ "$root/usr/sbin/teeshm-trace" "$elf"
	out=$("${run[@]}" "$root/usr/sbin/teeshm-trace" --version 2>&1)
	[ "$out" = "teeshm-trace $version" ] && ok "$arch: --version says $version" ||
		ko "$arch: --version: $out (want teeshm-trace $version)"
done
# dpkg-buildpackage in the source tree must leave nothing git would see
check "the package build leaves the checkout clean (.gitignore)" bash -c '
	cd "$1" && t=$(mktemp -d) && mkdir -p "$t/debian" && trap "rm -rf $t" EXIT &&
	for f in build/x teeshm-trace/x .debhelper/x debhelper-build-stamp files \
		teeshm-trace.substvars teeshm-trace.postinst.debhelper tmp/x; do
		[ "$(git check-ignore -q "debian/$f"; echo $?)" = 0 ] || { echo "    not ignored: debian/$f"; exit 1; }
	done' _ "$top"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
