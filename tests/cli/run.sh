#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# run.sh BIN: command-line behaviour on a host without a TEE (this CI host:
# no tee.ko).  Kernel-side attachment is tested in the QEMU testbed.
set -u
bin=${1:?usage: run.sh BIN}
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

expect "--version" 0 "^teeshm-trace " "$bin" --version
expect "--help lists verbs" 0 "^  replay " "$bin" --help
expect "no verb" 2 "missing VERB" "$bin"
expect "unknown verb" 2 "unknown verb 'frobnicate'" "$bin" frobnicate
expect "unknown global option" 2 "Usage" "$bin" --frob
expect "bad --id-key" 2 "32 hex digits" "$bin" --id-key 1234 status
for v in trace agent status check probes replay verify last-kexec id export; do
	expect "$v --help" 0 "Usage: teeshm-trace .*$v" "$bin" $v --help
done
expect "trace: bad option" 2 "Usage: teeshm-trace trace" "$bin" trace --bogus
expect "trace: bad --max-buffers" 2 "max-buffers" "$bin" trace --max-buffers 0
expect "trace: bad --duration" 2 "duration" "$bin" trace --duration x
expect "trace: --ring-size not a power of two" 2 "--ring-size: expected a power of two" \
	"$bin" trace --ring-size 5000
expect "agent: --ring-size too small" 2 "--ring-size: expected a power of two" \
	"$bin" agent --ring-size 1024
expect "trace: --quiet with --json" 2 "--quiet prints no events" \
	"$bin" trace --quiet --json
expect "trace: --latency not a number" 2 "--latency: expected milliseconds" \
	"$bin" trace --latency 1s
expect "agent: --latency too large" 2 "--latency: expected milliseconds" \
	"$bin" agent --latency 10001
expect "check: bad --policy" 2 "--policy: expected warn or block" "$bin" check --policy sometimes
expect "check: missing --config" 2 "/nonexistent.conf: No such file" "$bin" check --config /nonexistent.conf
printf 'policy=block\ncolour=blue\n' >"$tmp/bad.conf"
expect "check: bad config line" 2 "bad.conf:2: unknown key 'colour'" "$bin" check --config "$tmp/bad.conf"
expect "status: --policy is check-only" 2 "Usage: teeshm-trace status" "$bin" status --policy warn
expect "status: --systemd-kexec is check-only" 2 "Usage: teeshm-trace status" "$bin" status --systemd-kexec
echo '{"ts_ns":1,"event":"kexec"}' >"$tmp/rec.jsonl"
expect "trace -o: an existing recording is kept" 2 "rec.jsonl exists .*never overwritten" \
	"$bin" trace -o "$tmp/rec.jsonl"
if [ "$(cat "$tmp/rec.jsonl")" = '{"ts_ns":1,"event":"kexec"}' ]; then
	ok "trace -o: the recording is intact"
else
	ko "trace -o: the recording was changed"
fi
expect "agent: bad option" 2 "Usage: teeshm-trace agent" "$bin" agent --bogus
expect "agent: --stop with more" 2 "--stop takes no other option" "$bin" agent --stop --json
expect "status: extra argument" 2 "unexpected argument" "$bin" status extra
expect "check: --all is status-only" 2 "Usage: teeshm-trace check" "$bin" check --all
expect "id: not hex" 2 "not a hex address" "$bin" --id-key 000102030405060708090a0b0c0d0e0f id 0xzz
expect "id: SipHash-2-4 vector" 0 "^0x0706050403020100 93f5f5799a932462$" \
	"$bin" --id-key 07060504030201000f0e0d0c0b0a0908 id 0x0706050403020100
if [ -e /sys/module/tee ] || grep -q " tee_shm_put" /proc/kallsyms 2>/dev/null; then
	echo "  (this host has a TEE core: skipping the no-TEE checks)"
else
	for v in trace status check probes; do
		out=$("$bin" $v 2>&1)
		rc=$?
		if [ $rc = 2 ] && [ "$(echo "$out" | wc -l)" = 1 ] &&
		   [ "$out" = "teeshm-trace: TEE core not present (tee.ko not loaded?)" ]; then
			ok "$v without TEE: one line, exit 2"
		else
			ko "$v without TEE (exit $rc): $out"
		fi
	done
fi
fx=$(dirname "$0")/fixtures
expect "last-kexec: leak found" 1 "optee_rng_init\+0x30/0x70 \[optee_rng\]" \
	"$bin" last-kexec --file "$fx/console-leak.log"
expect "last-kexec --json" 1 '^\{"kind":"kexec","source":"[^"]*console-leak.log","complete":true,"lost_events":0,"registered":\[\{"id":"836064f63908d3b2","size":4096,"raw_flags":5,"pid":118,"site":"optee_rng_init\+0x30/0x70 \[optee_rng\]"\}\]\}$' \
	"$bin" last-kexec --json --file "$fx/console-leak.log"
expect "trace: --attach names a mechanism" 2 "--attach: expected auto, kprobe or fentry" \
	"$bin" trace --attach uprobe
expect "agent: --attach names a mechanism" 2 "--attach: expected auto, kprobe or fentry" \
	"$bin" agent --attach=
expect "trace --help: --attach" 0 "--attach M +how functions are probed" "$bin" trace --help
expect "trace: bad TEESHM_MAXACTIVE" 2 "TEESHM_MAXACTIVE=0x10: expected a number of return-probe instances, 1 to 4096" \
	env TEESHM_MAXACTIVE=0x10 "$bin" trace
expect "agent: TEESHM_MAXACTIVE out of range" 2 "TEESHM_MAXACTIVE=5000: expected" \
	env TEESHM_MAXACTIVE=5000 "$bin" agent
# an orphan (released while registered), ids unpadded as 5.10 prints them
expect "last-kexec: orphan marked" 1 '"id":"000000009f3a1b2c","size":4096,"raw_flags":5,"pid":118,"site":"optee_enumerate_devices\+0x124/0x2a0 \[optee\]","orphaned":true' \
	"$bin" last-kexec --json --file "$fx/console-orphan.log"
expect "last-kexec: orphan in the table" 1 "id 000000009f3a1b2c .*\(released while registered\)" \
	"$bin" last-kexec --file "$fx/console-orphan.log"
# ids as the kexec report prints them since issue 19 (16 digits, leading
# zeros), and as 5.10-era reports printed them (unpadded, above): both read
expect "last-kexec: padded ids" 1 '"registered":\[\{"id":"0661a1821979aa85","size":4096,"raw_flags":5,"pid":119,"site":"optee_get_msg_arg\+0x1b0/0x240 \[optee\]"\},\{"id":"dc1f293cec587625"' \
	"$bin" last-kexec --json --file "$fx/console-padded.log"
# FF-A: the share's global handle, as OP-TEE logs it
expect "last-kexec --json: FF-A handle" 1 '"id":"2f4c1a9e07b3d516","size":8192,"raw_flags":5,"pid":1,"site":"optee_rng_probe\+0x98/0x1d0 \[optee_rng\]","ffa_handle":"0x8000000000000002"\}' \
	"$bin" last-kexec --json --file "$fx/console-ffa.log"
expect "last-kexec: FF-A handle in the table" 1 "id 2f4c1a9e07b3d516 .*FF-A handle 0x8000000000000002$" \
	"$bin" last-kexec --file "$fx/console-ffa.log"
expect "last-kexec: the last report wins" 0 "crash: 0 buffers" \
	"$bin" last-kexec --file "$fx/console-clean.log"
expect "last-kexec: no report" 2 "no kexec report in .*console-none.log" \
	"$bin" last-kexec --file "$fx/console-none.log"
expect "last-kexec: missing file" 2 "/nonexistent: No such file" \
	"$bin" last-kexec --file /nonexistent
expect "last-kexec: bad option" 2 "Usage: teeshm-trace last-kexec" "$bin" last-kexec --bogus
rc=$(dirname "$0")/../replay/cases
expect "verify: clean trace" 0 "PASS +nothing registered at kexec" "$bin" verify "$rc/clean.jsonl"
expect "verify: optee-rng leak" 1 "FAIL +nothing registered at kexec +\(1 registered_at_kexec\)" \
	"$bin" verify "$rc/rng-leak.jsonl"
expect "verify: seed bug" 1 "FAIL +PRIV buffers never registered" "$bin" verify "$rc/seed-priv.jsonl"
expect "verify: failed registration" 1 "FAIL +no failed registration left behind" \
	"$bin" verify "$rc/reuse-failed.jsonl"
expect "verify --json" 1 '"verdict":"FAIL"' "$bin" verify --json "$rc/rng-leak.jsonl"
expect "verify: malformed" 2 "bad-event.jsonl:3: unknown event" "$bin" verify "$rc/bad-event.jsonl"
expect "verify: no FILE" 2 "exactly one FILE" "$bin" verify

man=$(dirname "$0")/../../man/teeshm-trace.8
w=$(groff -ww -man -Tutf8 "$man" 2>&1 >/dev/null)
[ -z "$w" ] && ok "man page renders without warnings" || ko "man page: $w"
for v in trace agent status check probes replay verify last-kexec id export; do
	grep -q "^\.B $v" "$man" && ok "man page documents $v" || ko "man page lacks $v"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
