#!/bin/sh
# fetch-debs.sh - download Debian packages into the cache and unpack each one.
#
# usage: scripts/fetch-debs.sh [-s SUITE] [-n] PKG[:ARCH][=VERSION]...
#   Prints, one per line, the directory each package was unpacked into:
#   $TEESHM_CACHE/x/<package>_<version>_<arch>/
#   With -n, nothing is unpacked and the .deb's path is printed instead
#   (for large packages of which a caller needs one file).
#   =VERSION asks for that version (the archive keeps a few); without it,
#   the candidate.
#
# Packages come from the Debian archive the host's apt is set up for.  With
# -s SUITE (e.g. bullseye) a private apt configuration under the cache is used
# so that the host's sources are left alone.  Nothing is installed.
set -eu

cache=${TEESHM_CACHE:-$HOME/.cache/teeshm-trace}
suite=
noextract=
if [ "${1:-}" = "-s" ]; then
	suite=$2
	shift 2
fi
if [ "${1:-}" = "-n" ]; then
	noextract=1
	shift
fi
[ $# -gt 0 ] || { echo "usage: $0 [-s SUITE] PKG[:ARCH]..." >&2; exit 2; }

debs=$cache/debs
mkdir -p "$debs" "$cache/x"

aptopts=
if [ -n "$suite" ]; then
	root=$cache/apt-$suite
	mkdir -p "$root/lists/partial" "$root/archives/partial" "$root/etc/preferences.d"
	: >"$root/status"
	# a -security suite is served from debian-security; a -backports or
	# -security suite needs its base suite beside it
	case $suite in
	*-security)
		echo "deb [arch=arm64,amd64] http://deb.debian.org/debian-security $suite main"
		echo "deb [arch=arm64,amd64] http://deb.debian.org/debian ${suite%-security} main"
		;;
	*-backports)
		echo "deb [arch=arm64,amd64] http://deb.debian.org/debian $suite main"
		echo "deb [arch=arm64,amd64] http://deb.debian.org/debian ${suite%-backports} main"
		;;
	*) echo "deb [arch=arm64,amd64] http://deb.debian.org/debian $suite main" ;;
	esac >"$root/sources.list"
	aptopts="-o Dir::Etc::SourceList=$root/sources.list \
-o Dir::Etc::SourceParts=/nonexistent -o Dir::State::Lists=$root/lists \
-o Dir::State::Status=$root/status -o Dir::Cache=$root \
-o Dir::Etc::Preferences=/nonexistent -o Dir::Etc::PreferencesParts=$root/etc/preferences.d \
-o APT::Architectures::=amd64 -o APT::Architectures::=arm64"
	stamp=$root/lists/.updated
	if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +720)" ]; then
		# shellcheck disable=SC2086
		apt-get $aptopts update >&2
		touch "$stamp"
	fi
fi

# one apt-cache call for all: "package:arch version" per record
names=
for p in "$@"; do
	names="$names ${p%%=*}"
done
# shellcheck disable=SC2086
index=$(apt-cache $aptopts show --no-all-versions $names 2>/dev/null | awk '
	/^Package: / { p = $2 }
	/^Architecture: / { a = $2 }
	/^Version: / { v = $2 }
	/^$/ { if (p != "") print p ":" a " " v; p = "" }
	END { if (p != "") print p ":" a " " v }')
host=$(dpkg --print-architecture)

for p in "$@"; do
	want=
	case $p in
	*=*) want=${p#*=} p=${p%%=*} ;;
	esac
	name=${p%%:*}
	arch=${p#*:}
	[ "$arch" != "$p" ] || arch=$host
	ver=$want
	[ -n "$ver" ] || ver=$(echo "$index" | awk -v a="$name:$arch" -v b="$name:all" \
		'$1 == a || $1 == b { print $2; exit }')
	[ -n "$ver" ] || { echo "fetch-debs: no package $p in the archive" >&2; exit 1; }
	fver=$(echo "$ver" | sed 's/:/%3a/')
	deb=$debs/${name}_${fver}_${arch}.deb
	[ -f "$deb" ] || [ -f "$debs/${name}_${fver}_all.deb" ] || (
		cd "$debs" &&
		# shellcheck disable=SC2086
		apt-get $aptopts download "$p=$ver" >&2
	)
	[ -f "$deb" ] || deb=$debs/${name}_${fver}_all.deb
	[ -f "$deb" ] || { echo "fetch-debs: download of $p failed" >&2; exit 1; }
	if [ -n "$noextract" ]; then
		echo "$deb"
		continue
	fi
	dir=$cache/x/${name}_${ver}_${arch}
	if [ ! -f "$dir/.done" ]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		dpkg-deb -x "$deb" "$dir"
		touch "$dir/.done"
	fi
	echo "$dir"
done
