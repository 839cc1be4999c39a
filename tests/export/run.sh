#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# run.sh BIN: `teeshm-trace export` (figures from traces, promtool, a real
# node_exporter scraping the textfile, the HTTP endpoint, atomic writes, no
# kernel address in any output), `make install`, and the bash completion.
# Runs on a host without a TEE (the live source must fail as `status` does).
set -u
bin=$(realpath "${1:?usage: run.sh BIN}")
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
fx=$here/fixtures
cases=$top/tests/replay/cases
. "$(dirname "$0")/../lib.sh"
check() {	# check NAME CMD...: pass if CMD succeeds
	local name=$1
	shift
	if "$@"; then ok "$name"; else ko "$name"; fi
}

tmp=$(mktemp -d /tmp/teeshm-export.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT


# Every line of file $2 is a line of file $1.
has_lines() {
	local l missing=0
	while IFS= read -r l; do
		grep -qxF -- "$l" "$1" || { echo "    missing: $l"; missing=1; }
	done <"$2"
	return $missing
}

# A free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ---------------------------------------------------------- figures
cat >"$tmp/mixed.want" <<'EOF'
# TYPE teeshm_info gauge
# TYPE teeshm_registered_buffers gauge
teeshm_registered_buffers{owner="kernel"} 2
teeshm_registered_buffers{owner="user"} 2
teeshm_registered_bytes{owner="kernel"} 8192
teeshm_registered_bytes{owner="user"} 20480
teeshm_tracked_buffers 4
# TYPE teeshm_registrations_total counter
teeshm_registrations_total 6
teeshm_unregistrations_total 2
teeshm_registration_failures_total 1
teeshm_kexecs_total 1
teeshm_last_kexec_registered_buffers{owner="kernel"} 2
teeshm_last_kexec_registered_buffers{owner="user"} 2
teeshm_last_kexec_registered_bytes{owner="kernel"} 8192
teeshm_last_kexec_registered_bytes{owner="user"} 20480
teeshm_findings{kind="priv_registered"} 1
teeshm_findings{kind="double_register"} 1
teeshm_findings{kind="unregister_unknown"} 1
teeshm_findings{kind="free_while_registered"} 1
teeshm_findings{kind="failed_register"} 1
teeshm_findings{kind="registered_at_kexec"} 4
EOF
# (the PRIV buffer freed while registered stays registered: the secure
# world holds it, at the end and at the kexec)
out=$("$bin" export --trace "$fx/mixed.jsonl" --prom "$tmp/mixed.prom" 2>&1)
rc=$?
[ $rc = 0 ] && [ -z "$out" ] && ok "export --trace --prom: exit 0, silent" ||
	ko "export --trace --prom (exit $rc): $out"
check "mixed trace: Prometheus figures" has_lines "$tmp/mixed.prom" "$tmp/mixed.want"
release=$(uname -r)
boot_id=$(cat /proc/sys/kernel/random/boot_id)
check "mixed trace: identity on teeshm_info" grep -qxF \
	"teeshm_info{kernel_release=\"$release\",boot_id=\"$boot_id\",tee_generation=\"5.18+\",source=\"trace\"} 1" \
	"$tmp/mixed.prom"
check "mixed trace: HELP and TYPE for every metric" bash -c '
	f=$1
	for m in $(grep -v "^#" "$f" | sed "s/[{ ].*//" | sort -u); do
		grep -q "^# HELP $m " "$f" && grep -q "^# TYPE $m " "$f" || exit 1
	done' _ "$tmp/mixed.prom"
check "mixed trace: no lost-event metrics offline" \
	bash -c '! grep -q teeshm_lost_events "$1"' _ "$tmp/mixed.prom"

cat >"$tmp/rng.want" <<'EOF'
teeshm_registered_buffers{owner="kernel"} 1
teeshm_registered_buffers{owner="user"} 0
teeshm_registered_bytes{owner="kernel"} 4096
teeshm_registrations_total 1
teeshm_kexecs_total 1
teeshm_last_kexec_registered_buffers{owner="kernel"} 1
teeshm_last_kexec_registered_buffers{owner="user"} 0
teeshm_last_kexec_registered_bytes{owner="kernel"} 4096
teeshm_findings{kind="registered_at_kexec"} 1
teeshm_findings{kind="priv_registered"} 0
EOF
"$bin" export --trace "$cases/rng-leak.jsonl" --prom "$tmp/rng.prom"
check "optee-rng leak: one kernel buffer left at kexec" has_lines "$tmp/rng.prom" "$tmp/rng.want"
"$bin" export --trace "$cases/end-only.jsonl" --prom "$tmp/end.prom"
check "trace without kexec: no last-kexec metric" \
	bash -c '! grep -q teeshm_last_kexec "$1" && grep -qx "teeshm_kexecs_total 0" "$1"' \
	_ "$tmp/end.prom"
"$bin" export --trace - --prom "$tmp/stdin.prom" <"$fx/mixed.jsonl"
check "--trace - reads standard input" cmp -s "$tmp/stdin.prom" "$tmp/mixed.prom"

# JSON lines: the same figures
"$bin" export --trace "$fx/mixed.jsonl" --jsonl "$tmp/m.jsonl"
check "jsonl: the same figures" jq -e --arg r "$release" --arg b "$boot_id" '
	.source == "trace" and .kernel_release == $r and .boot_id == $b and
	.tee_generation == "5.18+" and
	.registered == {kernel: {buffers: 2, bytes: 8192},
			user: {buffers: 2, bytes: 20480}} and
	.tracked == 4 and .registrations == 6 and .unregistrations == 2 and
	.registration_failures == 1 and .kexecs == 1 and
	.last_kexec_registered == .registered and
	.findings == {priv_registered: 1, double_register: 1,
		      unregister_unknown: 1, free_while_registered: 1,
		      failed_register: 1, registered_at_kexec: 4} and
	(.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$"))' "$tmp/m.jsonl" >/dev/null
"$bin" export --trace "$cases/rng-leak.jsonl" --jsonl "$tmp/m.jsonl"
check "jsonl: appends, one object per line" bash -c '
	[ "$(wc -l <"$1")" = 2 ] &&
	[ "$(jq -c .findings.registered_at_kexec "$1" | tr "\n" " ")" = "4 1 " ]' \
	_ "$tmp/m.jsonl"
out=$("$bin" export --trace "$fx/mixed.jsonl" --jsonl -)
check "jsonl -: one line on standard output" bash -c \
	'[ "$(echo "$1" | wc -l)" = 1 ] && echo "$1" | jq -e ".registrations == 6" >/dev/null' \
	_ "$out"
"$bin" export --trace "$fx/mixed.jsonl" --prom "$tmp/both.prom" --jsonl "$tmp/both.jsonl"
check "--prom and --jsonl together" bash -c \
	'cmp -s "$1" "$2" && jq -e ".tracked == 4" "$3" >/dev/null' \
	_ "$tmp/both.prom" "$tmp/mixed.prom" "$tmp/both.jsonl"

# ---------------------------------------------------------- promtool
for f in mixed rng end; do
	out=$(promtool check metrics <"$tmp/$f.prom" 2>&1)
	rc=$?
	[ $rc = 0 ] && [ -z "$out" ] && ok "promtool check metrics: $f" ||
		ko "promtool check metrics: $f (exit $rc): $out"
done

# ---------------------------------------------------------- atomic write
mkdir "$tmp/tf"
"$bin" export --trace "$cases/rng-leak.jsonl" --prom "$tmp/tf/teeshm.prom"
ino1=$(stat -c %i "$tmp/tf/teeshm.prom")
"$bin" export --trace "$fx/mixed.jsonl" --prom "$tmp/tf/teeshm.prom"
ino2=$(stat -c %i "$tmp/tf/teeshm.prom")
check "atomic: replaced by rename (new inode), content complete" bash -c \
	'[ "$1" != "$2" ] && cmp -s "$3" "$4"' _ "$ino1" "$ino2" \
	"$tmp/tf/teeshm.prom" "$tmp/mixed.prom"
check "atomic: no temporary file left" \
	bash -c '[ "$(ls -A "$1")" = teeshm.prom ]' _ "$tmp/tf"
check "atomic: file mode 0644 or narrower (umask)" bash -c \
	'm=$(stat -c %a "$1"); [ $((8#$m & 8#7133)) = 0 ]' _ "$tmp/tf/teeshm.prom"
mkdir "$tmp/tf/isdir.prom"
expect "atomic: target is a directory" 2 "cannot write .*isdir.prom: Is a directory" \
	"$bin" export --trace "$fx/mixed.jsonl" --prom "$tmp/tf/isdir.prom"
check "atomic: failed write leaves no temporary file" \
	bash -c '[ -z "$(ls -A "$1" | grep tmp)" ]' _ "$tmp/tf"
expect "atomic: missing directory" 2 "cannot write /nonexistent-dir/t.prom: No such file" \
	"$bin" export --trace "$fx/mixed.jsonl" --prom /nonexistent-dir/t.prom

# ---------------------------------------------------------- node_exporter
port=$(free_port)
prometheus-node-exporter --collector.disable-defaults --collector.textfile \
	--collector.textfile.directory="$tmp/tf" \
	--web.listen-address="127.0.0.1:$port" >"$tmp/ne.log" 2>&1 &
ne=$!
pids+=("$ne")
scraped=
for _ in $(seq 50); do
	scraped=$(curl -sf "http://127.0.0.1:$port/metrics") && break
	sleep 0.1
done
kill "$ne" 2>/dev/null
wait "$ne" 2>/dev/null
echo "$scraped" >"$tmp/scraped"
check "node_exporter scraped the textfile without error" \
	grep -qx 'node_textfile_scrape_error 0' "$tmp/scraped"
check "node_exporter serves the teeshm_ figures" has_lines "$tmp/scraped" \
	<(grep -v '^#' "$tmp/mixed.want")
check "node_exporter serves teeshm_info" grep -q \
	"^teeshm_info{boot_id=\"$boot_id\",kernel_release=\"$release\",source=\"trace\",tee_generation=\"5.18+\"} 1$" \
	"$tmp/scraped"

# ---------------------------------------------------------- --listen
"$bin" export --trace "$fx/mixed.jsonl" --listen 127.0.0.1:0 2>"$tmp/listen.err" &
lp=$!
pids+=("$lp")
url=
for _ in $(seq 50); do
	url=$(sed -n 's/^teeshm-trace: serving \(http:.*\)$/\1/p' "$tmp/listen.err")
	[ -n "$url" ] && break
	sleep 0.1
done
curl -sf "$url" >"$tmp/http.prom"
check "--listen: GET /metrics serves the textfile's figures" \
	has_lines "$tmp/http.prom" "$tmp/mixed.want"
out=$(promtool check metrics <"$tmp/http.prom" 2>&1) && [ -z "$out" ] &&
	ok "--listen: promtool accepts the body" || ko "--listen: promtool: $out"
check "--listen: Prometheus text content type" bash -c \
	'curl -sfI "$1" | grep -qi "^content-type: text/plain; version=0.0.4"' _ "$url"
code=$(curl -s -o /dev/null -w '%{http_code}' "${url%/metrics}/nope")
[ "$code" = 404 ] && ok "--listen: other paths 404" || ko "--listen: /nope gave $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url")
[ "$code" = 405 ] && ok "--listen: POST 405" || ko "--listen: POST gave $code"
kill "$lp"
wait "$lp"
rc=$?
[ $rc = 0 ] && ok "--listen: SIGTERM stops it, exit 0" || ko "--listen: exit $rc after SIGTERM"
expect "--listen: bad address" 2 "export: --listen: expected numeric ADDR:PORT .*got 'nope'" \
	"$bin" export --trace "$fx/mixed.jsonl" --listen nope
expect "--listen: bad port" 2 "got '127.0.0.1:99999'" \
	"$bin" export --trace "$fx/mixed.jsonl" --listen 127.0.0.1:99999

# ---------------------------------------------------------- no kernel address
# The fixtures are full of 0xffff... addresses; none may leave in any output.
addr_re='0x[0-9a-f]{8,}|ffff[0-9a-f]{12}'
check "fixtures do hold kernel addresses (the grep can fail)" \
	grep -qiE "$addr_re" "$fx/mixed.jsonl"
leaks=$(cat "$tmp/mixed.prom" "$tmp/rng.prom" "$tmp/m.jsonl" "$tmp/both.jsonl" \
	"$tmp/http.prom" | grep -ioE "$addr_re")
[ -z "$leaks" ] && ok "no kernel address in any exported output" ||
	ko "kernel addresses exported: $leaks"
leaks=
for a in $(grep -oE '0xffff[0-9a-f]{12}' "$fx/mixed.jsonl" | sort -u); do
	d=$(python3 -c "print(int('$a', 16))")
	grep -qF -e "${a#0x}" -e "$d" "$tmp/mixed.prom" "$tmp/m.jsonl" && leaks="$leaks $a"
done
[ -z "$leaks" ] && ok "no fixture address, hex or decimal, in the output" ||
	ko "fixture addresses exported:$leaks"

# ---------------------------------------------------------- bad arguments
expect "--help" 0 "^Usage: teeshm-trace export" "$bin" export --help
expect "nothing to write" 2 "export: nothing to write" "$bin" export --trace "$fx/mixed.jsonl"
expect "unknown option" 2 "Usage: teeshm-trace export" "$bin" export --bogus
expect "unexpected argument" 2 "export: unexpected argument 'extra'" \
	"$bin" export --prom "$tmp/x.prom" extra
expect "empty --prom" 2 "export: --prom: empty file name" "$bin" export --prom ""
expect "--prom - and --jsonl -" 2 "both write to standard output" \
	"$bin" export --trace "$fx/mixed.jsonl" --prom - --jsonl -
expect "missing trace file" 2 "/nonexistent.jsonl: No such file" \
	"$bin" export --trace /nonexistent.jsonl --prom "$tmp/x.prom"
expect "malformed trace: FILE:LINE" 2 "bad-event.jsonl:3: unknown event" \
	"$bin" export --trace "$cases/bad-event.jsonl" --prom "$tmp/x.prom" --jsonl "$tmp/x.jsonl"
check "malformed trace: nothing written" bash -c \
	'[ ! -e "$1" ] && [ ! -e "$2" ] && [ -z "$(ls "$3" | grep tmp)" ]' \
	_ "$tmp/x.prom" "$tmp/x.jsonl" "$tmp"

# ---------------------------------------------------------- live, no TEE
if [ -e /sys/module/tee ] || grep -q " tee_shm_put" /proc/kallsyms 2>/dev/null; then
	echo "  (this host has a TEE core: skipping the no-TEE check)"
else
	want=$("$bin" status 2>&1)
	out=$("$bin" export --prom "$tmp/live.prom" 2>&1)
	rc=$?
	if [ $rc = 2 ] && [ "$(echo "$out" | wc -l)" = 1 ] && [ "$out" = "$want" ] &&
	   [ ! -e "$tmp/live.prom" ]; then
		ok "live export without TEE: as status, one line, exit 2, no file"
	else
		ko "live export without TEE (exit $rc): $out"
	fi
fi

# ---------------------------------------------------------- make install
dest=$tmp/dest
out=$(make -s -C "$top" install DESTDIR="$dest" PREFIX=/usr 2>&1)
rc=$?
got=$(cd "$dest" 2>/dev/null && find . \( -type f -o -type l \) | sort)
want=$(printf '%s\n' ./etc/teeshm-trace.conf.sample \
	./usr/lib/systemd/system-shutdown/teeshm-trace \
	./usr/lib/systemd/system/teeshm-trace-agent.service \
	./usr/lib/systemd/system/teeshm-trace-kexec-check.service \
	./usr/sbin/teeshm-trace \
	./usr/share/bash-completion/completions/teeshm-trace \
	./usr/share/man/man8/teeshm-trace.8 | LC_ALL=C sort)
[ $rc = 0 ] && [ "$got" = "$want" ] && ok "make install: exactly the expected files" ||
	ko "make install (exit $rc): $out; got: $got"
check "make install: modes 0755 binary, 0644 the rest" bash -c '
	[ "$(stat -c %a "$1/usr/sbin/teeshm-trace")" = 755 ] &&
	[ "$(stat -c %a "$1/usr/share/man/man8/teeshm-trace.8")" = 644 ] &&
	[ "$(stat -c %a "$1/etc/teeshm-trace.conf.sample")" = 644 ]' _ "$dest"
check "make install: units name the installed binary, hook executable" bash -c '
	grep -qx "ExecStart=/usr/sbin/teeshm-trace agent --quiet" "$1/usr/lib/systemd/system/teeshm-trace-agent.service" &&
	grep -qx "ExecStart=/usr/sbin/teeshm-trace check --journal --systemd-kexec" "$1/usr/lib/systemd/system/teeshm-trace-kexec-check.service" &&
	grep -qx "Before=systemd-kexec.service" "$1/usr/lib/systemd/system/teeshm-trace-kexec-check.service" &&
	! grep -rq @SBINDIR@ "$1/usr/lib/systemd" &&
	[ "$(stat -c %a "$1/usr/lib/systemd/system-shutdown/teeshm-trace")" = 755 ] &&
	sh -n "$1/usr/lib/systemd/system-shutdown/teeshm-trace"' _ "$dest"
if command -v systemd-analyze >/dev/null; then
	check "systemd-analyze verify: the units" bash -c '
		cd "$1/usr/lib/systemd/system" &&
		systemd-analyze verify --man=no \
			--root="$1" teeshm-trace-agent.service \
			teeshm-trace-kexec-check.service 2>&1 |
			grep -v "not executable\|No such file" | grep . && exit 1 || exit 0' _ "$dest"
fi
check "make install: the installed binary runs" bash -c \
	'"$1/usr/sbin/teeshm-trace" --version | grep -q "^teeshm-trace "' _ "$dest"
out=$(make -s -C "$top" install DESTDIR="$tmp/dest2" 2>&1)
check "make install: PREFIX defaults to /usr/local" test \
	-x "$tmp/dest2/usr/local/sbin/teeshm-trace" -a \
	-f "$tmp/dest2/usr/local/share/man/man8/teeshm-trace.8" -a \
	-f "$tmp/dest2/etc/teeshm-trace.conf.sample"
check "sample config documents policy and allow_owner" bash -c \
	'grep -qx "policy=warn" "$1" && grep -q "^# policy=warn|block" "$1" &&
	 grep -q "^#allow_owner=" "$1"' _ "$top/dist/teeshm-trace.conf"

# ---------------------------------------------------------- bash completion
comp=$top/dist/bash-completion/teeshm-trace
complete_words() {	# complete_words WORD... : COMPREPLY for the last word
	bash -c '
		source "$1" || exit 1
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_teeshm_trace
		printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$@"
}
has_all() {	# has_all "LIST" WORD...: every WORD is a line of LIST
	local list=$1 w
	shift
	for w in "$@"; do
		echo "$list" | grep -qxF -- "$w" || { echo "    missing: $w"; return 1; }
	done
}
check "completion: registered for teeshm-trace" bash -c \
	'source "$1" && complete -p teeshm-trace | grep -q "_teeshm_trace"' _ "$comp"
r=$(complete_words teeshm-trace "")
check "completion: every verb" has_all "$r" trace status check probes replay \
	verify last-kexec id export
nverbs=$("$bin" --help | sed -n '/^Verbs:/,/^$/p' | grep -cE '^  [a-z]')
[ "$(echo "$r" | grep -vx help | wc -l)" = "$nverbs" ] &&
	ok "completion: the verb list matches --help ($nverbs)" ||
	ko "completion: verbs $(echo "$r" | tr '\n' ' ') vs --help's $nverbs"
r=$(complete_words teeshm-trace ex)
[ "$r" = export ] && ok "completion: 'ex' -> export" || ko "completion: 'ex' -> '$r'"
r=$(complete_words teeshm-trace --)
check "completion: global options" has_all "$r" --verbose --id-key --version --help
r=$(complete_words teeshm-trace export --)
check "completion: export options" has_all "$r" --trace --prom --jsonl --listen --help
r=$(complete_words teeshm-trace --verbose --id-key 00 trace --)
check "completion: trace options after global options" has_all "$r" --json \
	--output --no-console --max-buffers --duration
r=$(complete_words teeshm-trace status -)
check "completion: status options" has_all "$r" -j --json -a --all
r=$(complete_words teeshm-trace last-kexec --f)
[ "$r" = --file ] && ok "completion: last-kexec --f -> --file" || ko "completion: last-kexec --f -> '$r'"
touch "$tmp/comp-trace.jsonl"
r=$(complete_words teeshm-trace export --trace "$tmp/comp-tr")
[ "$r" = "$tmp/comp-trace.jsonl" ] && ok "completion: file names after --trace" ||
	ko "completion: --trace FILE -> '$r'"
# every long option a verb's --help shows is offered (--id-key: global)
for v in trace status check probes replay verify last-kexec id export; do
	r=$(complete_words teeshm-trace "$v" --)
	miss=
	for o in $("$bin" "$v" --help | grep -E '^(Usage:| +-)' | grep -oE -- '--[a-z][a-z-]+' | grep -vx -- --id-key | sort -u); do
		echo "$r" | grep -qxF -- "$o" || miss="$miss $o"
	done
	[ -z "$miss" ] && ok "completion: $v offers its --help options" ||
		ko "completion: $v lacks$miss"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
