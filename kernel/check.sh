#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# check.sh: the kernel patches' checks.
# 6.1 (bookworm), with linux-source-6.1: checkpatch --strict on
# kernel/patches/*.patch and kernel/seed-bug/*.patch; every commit a patch's
# message cites is the one of kernel/patches/upstream-commits (id and subject);
# the series kernel/patches/series-6.1 applies in order without fuzz or
# offset, and its argument cache passes kernel/test/argcache-model.c (user
# space, ASan/UBSan, 1, 8 and 48 threads); KGEN=6.1 build.sh patched builds (in a temporary directory), its
# modules' vermagic equals Debian's optee.ko's and every modversions CRC they
# import is the one of the headers' Module.symvers.
# 5.10 (bullseye), with linux-source-5.10: checkpatch --strict on the series
# kernel/patches/series-5.10 and on kernel/seed-bug-5.10/*.patch; the series
# applies in order without fuzz (made against 6.1: line offsets are allowed
# and printed), each seed-bug-5.10 patch alone without fuzz or offset;
# the stock, revert, seed-bug and patched variants build, with vermagic and
# modversions checked as for 6.1; the stock optee.ko defines and imports the
# same global symbols as Debian's.
# 6.12 (trixie) and 7.3 (trixie-backports), each with its linux-source-GEN:
# checkpatch --strict on kernel/patches/series-GEN, the series applies
# without fuzz or offset, the argument-cache model on its call.c, build.sh
# patched (cached in ~/.cache/teeshm-trace/kmod by a hash of its inputs),
# vermagic, modversions (7.3 has none) and every function 8-byte aligned.
# 7.3's other clients (kernel/AUDIT-7.3.md): the same for series-7.3-clients,
# on the sources build-client.sh unpacks, and build-client.sh patched.
# Modules already built under build/ (kexec-matrix builds
# build/kernel/GEN-VARIANT): vermagic against Debian's optee.ko of their own
# generation; build/kernel/5.10-*/ and build/kernel-5.10/*/ hold 5.10 modules,
# build/kernel/6.12-*/ and 7.3-*/ theirs, the other build/kernel/*/ 6.1 ones.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
cache=${TEESHM_CACHE:-$HOME/.cache/teeshm-trace}
KVER=${KVER:-6.1.0-56}
KVER510=${KVER510:-5.10.0-32}
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { pass=$((pass + 1)); echo "  PASS $*"; }
ko() { fail=$((fail + 1)); echo "  FAIL $*"; }

series() { # GEN: the patches of kernel/patches/series-GEN, in order
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/patches/series-$1" |
		while read -r p; do echo "$here/patches/$p"; done
}
checkpatch() { # SCRIPT PATCH LABEL
	local out
	# Without the kernel's git history checkpatch reports every commit a
	# message cites as unknown (UNKNOWN_COMMIT_ID); commits() checks them.
	out=$(cd "$tmp" && perl "$1" --strict --no-tree --ignore UNKNOWN_COMMIT_ID "$2" 2>&1)
	if grep -q "total: 0 errors, 0 warnings, 0 checks" <<<"$out"; then
		ok "checkpatch --strict $3"
	else
		ko "checkpatch --strict $3"; echo "$out"
	fi
}
commits() { # PATCH LABEL: its message's commit references are upstream's
	local id subj
	while IFS=$'\t' read -r id subj; do
		if awk -v id="$id" -v s="$subj" 'index($1, id) == 1 &&
			substr($0, length($1) + 2) == s { f = 1 } END { exit !f }' \
			"$here/patches/upstream-commits"; then
			ok "$2 cites commit $id (\"$subj\"): in upstream-commits"
		else
			ko "$2 cites commit $id (\"$subj\"): not in upstream-commits"
		fi
	done < <(perl -0777 -ne 's/\n---\n.*//s; s/\s+/ /g;
		print "$1\t$2\n" while /\b(?:commit|Fixes:) ([0-9a-f]{12,40}) \("(.*?)"\)/gi' "$1")
}
applies() { # [-o] SRCDIR LABEL PATCH...: each on the previous, no fuzz,
	# no offset (-o: offsets allowed, said; for patches made against another
	# generation's sources, as git am takes them)
	local offset='' src label p out hunks
	[ "$1" = -o ] && { offset=1; shift; }
	src=$1 label=$2
	shift 2
	rm -rf "$tmp/apply" && cp -a "$src" "$tmp/apply"
	for p in "$@"; do
		if out=$(patch -d "$tmp/apply" -p1 --fuzz=0 --no-backup-if-mismatch <"$p" 2>&1); then
			hunks=$(echo "$out" | grep "^Hunk" | grep -v "succeeded at [0-9]* (offset -\?[0-9]* lines\?)\.$")
			if ! grep -q "^Hunk" <<<"$out"; then
				ok "applies cleanly to $label: $(basename "$p")"
				continue
			elif [ -n "$offset" ] && [ -z "$hunks" ]; then
				ok "applies without fuzz to $label: $(basename "$p") ($(echo "$out" |
					sed -n 's/^Hunk #\([0-9]*\) succeeded at .*(offset \(.*\))\.$/hunk \1 offset \2/p' |
					paste -sd, - | sed 's/,/, /g'))"
				continue
			fi
		fi
		ko "applies cleanly to $label: $(basename "$p")"; echo "$out"
	done
}
modules() { # LABEL DIR WANT SYMVERS [none]: vermagic and modversions of DIR/*.ko
	local k n got bad nv
	for k in "$2"/*.ko; do
		n=$1/$(basename "$k")
		got=$(modinfo -F vermagic "$k")
		if [ -n "$3" ] && [ "$got" = "$3" ]; then
			ok "vermagic $n: $got"
		else
			ko "vermagic $n: '$got', Debian's '$3'"
		fi
		# modversions: every import's CRC is the one the kernel exports
		bad=$(modprobe --dump-modversions "$k" | while read -r crc sym; do
			awk -v c="$crc" -v s="$sym" '$1 == c && $2 == s { f = 1 } END { exit !f }' \
				"$4" || echo "$sym($crc)"
		done)
		nv=$(modprobe --dump-modversions "$k" | wc -l)
		if [ "${5:-}" = none ]; then
			# the kernel has no CONFIG_MODVERSIONS (7.3): nor has the module
			if [ "$nv" -eq 0 ]; then
				ok "modversions $n: none, as the kernel (CONFIG_MODVERSIONS not set)"
			else
				ko "modversions $n: $nv CRCs, the kernel has no CONFIG_MODVERSIONS"
			fi
		elif [ -s "$4" ] && [ "$nv" -gt 0 ] && [ -z "$bad" ]; then
			ok "modversions $n: $nv CRCs resolve in Module.symvers"
		else
			ko "modversions $n: unresolved: ${bad:-no Module.symvers or no __versions}"
		fi
	done
}
model() { # [GEN]: the argument cache of $tmp/apply's call.c under concurrent callers
	local d=$tmp/model c=$tmp/apply/drivers/tee/optee/call.c out n gen=${1:-6.1}
	rm -rf "$d" && mkdir -p "$d"
	{
		sed -n '/^#define MAX_ARG_PARAM_COUNT/,/^};/p' "$c"
		sed -n '/^void optee_shm_arg_cache_init/,/^int optee_open_session/p' "$c" | sed '$d'
	} >"$d/extracted.c"
	if ! out=$(gcc -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		-Wall -Wextra -Werror -Wno-unused-function -pthread -I"$d" \
		"$here/test/argcache-model.c" -o "$d/model" 2>&1); then
		ko "test/argcache-model.c builds around series-$gen's call.c"; echo "$out"
		return
	fi
	for n in 1 8 48; do
		if out=$(ASAN_OPTIONS=detect_leaks=0 "$d/model" $n 2>&1); then
			ok "argcache-model ($gen): $out"
		else
			ko "argcache-model ($gen), $n threads"; echo "$out"
		fi
	done
}
build() { # GEN KVER VARIANT: KGEN=GEN build.sh VARIANT into $tmp/k-GEN/VARIANT
	local t0
	t0=$(date +%s)
	if KGEN=$1 KVER=$2 "$here/build.sh" "$3" "$tmp/k-$1/$3" >"$tmp/build.log" 2>&1; then
		ok "KGEN=$1 build.sh $3 ($(($(date +%s) - t0)) s)"
	else
		ko "KGEN=$1 build.sh $3"; cat "$tmp/build.log"; return 1
	fi
}

unpack() { # DIR TARBALL: its checkpatch, TEE driver and optee-rng.c in DIR
	local s
	if ! s=$("$here/source.sh" "$2"); then
		ko "unpack $2"
		return 1
	fi
	mkdir -p "$1/scripts" "$1/drivers/tee" "$1/drivers/char/hw_random"
	cp "$s"/scripts/{checkpatch.pl,spelling.txt,const_structs.checkpatch} "$1/scripts/"
	cp -a "$s/drivers/tee/optee" "$1/drivers/tee/"
	cp "$s/drivers/char/hw_random/optee-rng.c" "$1/drivers/char/hw_random/"
}

# --- 6.1 (bookworm) -------------------------------------------------------------
unpack "$tmp/6.1" /usr/src/linux-source-6.1.tar.xz
for p in "$here"/patches/*.patch "$here"/seed-bug/*.patch; do
	n=${p#"$here"/}
	checkpatch "$tmp/6.1/scripts/checkpatch.pl" "$p" "$n"
	commits "$p" "$n"
done
mapfile -t s61 < <(series 6.1)
applies "$tmp/6.1" "linux-source-6.1 (series-6.1)" "${s61[@]}"
model
dirs=$("$top/scripts/fetch-debs.sh" "linux-image-$KVER-arm64:arm64" 2>"$tmp/fetch.err") ||
	cat "$tmp/fetch.err"
want61=$(modinfo -F vermagic "$dirs/lib/modules/$KVER-arm64/kernel/drivers/tee/optee/optee.ko" 2>/dev/null)
symvers61=$cache/kbuild-$KVER/usr/src/linux-headers-$KVER-arm64/Module.symvers
build 6.1 "$KVER" patched &&
	modules 6.1/patched "$tmp/k-6.1/patched" "$want61" "$symvers61"

# --- 5.10 (bullseye) ------------------------------------------------------------
dirs=$("$top/scripts/fetch-debs.sh" -s bullseye linux-source-5.10 \
	"linux-image-$KVER510-arm64:arm64" 2>"$tmp/fetch.err") || cat "$tmp/fetch.err"
src510=$(echo "$dirs" | sed -n 1p)/usr/src/linux-source-5.10.tar.xz
deb510=$(echo "$dirs" | sed -n 2p)/lib/modules/$KVER510-arm64/kernel
unpack "$tmp/5.10" "$src510"
mapfile -t s510 < <(series 5.10)
for p in "${s510[@]}" "$here"/seed-bug-5.10/*.patch; do
	checkpatch "$tmp/5.10/scripts/checkpatch.pl" "$p" "(5.10) ${p#"$here"/}"
done
# the series is made against linux-source-6.1: offsets allowed
applies -o "$tmp/5.10" "linux-source-5.10 (series-5.10)" "${s510[@]}"
for p in "$here"/seed-bug-5.10/*.patch; do
	# each one alone on the pristine sources
	applies "$tmp/5.10" "linux-source-5.10 (alone)" "$p"
done
want510=$(modinfo -F vermagic "$deb510/drivers/tee/optee/optee.ko" 2>/dev/null)
symvers510=$cache/kbuild-$KVER510/usr/src/linux-headers-$KVER510-arm64/Module.symvers
for v in stock revert seed-bug patched; do
	build 5.10 "$KVER510" "$v" &&
		modules "5.10/$v" "$tmp/k-5.10/$v" "$want510" "$symvers510"
done
syms() { # kind file: U = imports, D = defined globals
	if [ "$1" = U ]; then
		aarch64-linux-gnu-nm -u "$2" | awk '{ print $NF }'
	else
		aarch64-linux-gnu-nm -g --defined-only "$2" | awk '{ print $2, $3 }'
	fi | sort
}
k=$tmp/k-5.10/stock/optee.ko d=$deb510/drivers/tee/optee/optee.ko
for kind in U D; do
	diff=
	what=$([ $kind = U ] && echo "undefined" || echo "defined global")
	if [ -f "$k" ] && [ -f "$d" ] && [ -n "$(syms $kind "$d")" ] &&
		diff=$(diff <(syms $kind "$d") <(syms $kind "$k")); then
		ok "5.10/stock/optee.ko $what symbols = Debian's ($(syms $kind "$d" | wc -l))"
	else
		ko "5.10/stock/optee.ko $what symbols differ from Debian's"; echo "${diff:-}"
	fi
done

# --- 6.12 (trixie) and 7.3 (trixie-backports) ---------------------------------
aligned() { # LABEL KO: every function in a .text section 8-byte aligned, as
	# Debian's gcc 14 builds (-fmin-function-alignment; ftrace's call ops)
	local bad
	bad=$(awk 'NR == FNR { if (match($0, /^ *\[ *[0-9]+\] /)) {
			n = substr($0, RSTART, RLENGTH); gsub(/[^0-9]/, "", n)
			split(substr($0, RSTART + RLENGTH), f, " ")
			name[n] = f[1]; al[n] = f[10] } next }
		$4 == "FUNC" && ($7 in name) && name[$7] ~ /^\.text/ && name[$7] !~ /trampoline/ &&
		(al[$7] < 8 || $2 !~ /[08]$/) { print $8 }' \
		<(readelf -SW "$2") <(readelf -sW "$2"))
	# (grep -c reads all: with pipefail, grep -q's early exit fails readelf)
	if [ -z "$bad" ] && [ "$(readelf -sW "$2" | grep -c " FUNC ")" -gt 0 ]; then
		ok "function alignment $1: every function 8-byte aligned"
	else
		ko "function alignment $1: not 8-byte aligned: $bad"
	fi
}
cached_build() { # GEN KVER VARIANT: build() once per inputs, kept in the cache
	local key c=$cache/kmod k
	key=$( (cat "$here/build.sh" "$here/patches/series-$1"; echo "$2 $3"
		series "$1" | xargs cat) | sha256sum | cut -c1-16)
	c=$cache/kmod/$1-$3-$key
	if [ -f "$c/.done" ] && [ -f "$cache/kbuild-$2/.done" ]; then
		mkdir -p "$tmp/k-$1/$3" && cp "$c"/*.ko "$tmp/k-$1/$3/"
		ok "KGEN=$1 build.sh $3 (cached: $c)"
		return
	fi
	build "$1" "$2" "$3" || return 1
	rm -rf "$c" && mkdir -p "$c" && cp "$tmp/k-$1/$3"/*.ko "$c/" && touch "$c/.done"
}
KVER612=${KVER612:-6.12.118+deb13}
KVER73=${KVER73:-7.3.4+deb13}
declare -A wantgen
for gen in 6.12 7.3; do
	if [ "$gen" = 6.12 ]; then
		kv=$KVER612 suite=trixie-security modpkg=linux-image-$kv-arm64:arm64
	else
		kv=$KVER73 suite=trixie-backports modpkg=linux-modules-$kv-arm64:arm64
	fi
	dirs=$("$top/scripts/fetch-debs.sh" -s "$suite" "linux-source-$gen" "$modpkg" \
		2>"$tmp/fetch.err") || cat "$tmp/fetch.err"
	src=$(echo "$dirs" | sed -n 1p)/usr/src/linux-source-$gen.tar.xz
	deb=$(echo "$dirs" | sed -n 2p)/usr/lib/modules/$kv-arm64/kernel
	unpack "$tmp/$gen" "$src"
	mapfile -t sg < <(series "$gen")
	for p in "${sg[@]}"; do
		checkpatch "$tmp/$gen/scripts/checkpatch.pl" "$p" "($gen) ${p#"$here"/}"
		# patches/*.patch were checked above
		[ "$(dirname "$p")" = "$here/patches" ] || commits "$p" "${p#"$here"/}"
	done
	# made against linux-source-GEN itself: no fuzz, no offset
	applies "$tmp/$gen" "linux-source-$gen (series-$gen)" "${sg[@]}"
	model "$gen"
	xz -dc "$deb/drivers/tee/optee/optee.ko.xz" >"$tmp/$gen/optee.ko" 2>/dev/null
	want=$(modinfo -F vermagic "$tmp/$gen/optee.ko" 2>/dev/null)
	wantgen[$gen]=$want
	hdrs=$cache/kbuild-$kv/usr/src/linux-headers-$kv-arm64
	if cached_build "$gen" "$kv" patched; then
		# the build tree, and its .config, exist once build.sh has run
		# (cached or now; on a new machine, only now)
		mv=
		grep -q '^CONFIG_MODVERSIONS=y' "$hdrs/.config" 2>/dev/null || mv=none
		modules "$gen/patched" "$tmp/k-$gen/patched" "$want" "$hdrs/Module.symvers" $mv
		for k in "$tmp/k-$gen/patched"/*.ko; do
			aligned "$gen/patched/$(basename "$k")" "$k"
		done
	fi
done

# --- 7.3's other TEE clients (kernel/AUDIT-7.3.md, build-client.sh) ------------
mapfile -t sc < <(series 7.3-clients)
for p in "${sc[@]}"; do
	checkpatch "$tmp/7.3/scripts/checkpatch.pl" "$p" "(7.3) ${p#"$here"/}"
	commits "$p" "${p#"$here"/}"
done
if s=$("$here/build-client.sh" sources 2>"$tmp/src.err"); then
	mkdir -p "$tmp/7.3-clients" && cp -a "$s"/. "$tmp/7.3-clients/"
	applies "$tmp/7.3-clients" "linux-source-7.3 (series-7.3-clients)" "${sc[@]}"
else
	ko "the clients' sources (build-client.sh sources)"; cat "$tmp/src.err"
fi
if "$here/build-client.sh" patched "$tmp/k-7.3/clients" >"$tmp/build.log" 2>&1; then
	ok "build-client.sh patched"
	modules 7.3/clients "$tmp/k-7.3/clients" "${wantgen[7.3]}" \
		"$cache/kbuild-$KVER73/usr/src/linux-headers-$KVER73-arm64/Module.symvers" none
	for k in "$tmp/k-7.3/clients"/*.ko; do
		aligned "7.3/clients/$(basename "$k")" "$k"
	done
else
	ko "build-client.sh patched"; cat "$tmp/build.log"
fi

# --- modules built under build/, each against its own generation ----------------
for k in "$top"/build/kernel/*/*.ko "$top"/build/kernel-5.10/*/*.ko; do
	[ -e "$k" ] || continue
	n=${k#"$top"/}
	case $n in
	build/kernel/5.10-*|build/kernel-5.10/*) gen=5.10 want=$want510 ;;
	build/kernel/6.12-*) gen=6.12 want=${wantgen[6.12]} ;;
	build/kernel/7.3-*) gen=7.3 want=${wantgen[7.3]} ;;
	*) gen=6.1 want=$want61 ;;
	esac
	got=$(modinfo -F vermagic "$k")
	if [ -n "$want" ] && [ "$got" = "$want" ]; then
		ok "vermagic $n ($gen): $got"
	else
		ko "vermagic $n ($gen): '$got', Debian's '$want'"
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
