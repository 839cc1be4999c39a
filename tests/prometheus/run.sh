#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# run.sh BIN: dist/prometheus/teeshm-trace.rules.yml: promtool check rules;
# every alert with a severity, a summary and a description; every teeshm_
# metric it uses one that BIN exports (src/metrics.c); each promtool unit
# test of rules.test.yml alone (an alert firing on its figures, quiet on
# others); the fires-tests failing against rules that never fire (the
# tests can fail); and the alerts on BIN's real export of a trace.
set -u
bin=$(realpath "${1:?usage: run.sh BIN}")
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
rules=$top/dist/prometheus/teeshm-trace.rules.yml
. "$here/../lib.sh"
tmp=$(mktemp -d /tmp/teeshm-prom.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

out=$(promtool check rules "$rules" 2>&1)
[ $? = 0 ] && ok "promtool check rules: $(echo "$out" | grep -o '[0-9]* rules found')" ||
	ko "promtool check rules: $out"

n=$(grep -c '^      - alert: ' "$rules")
for k in 'severity: ' 'summary: "' 'description: >-'; do
	c=$(grep -c "^          $k" "$rules")
	[ "$c" = "$n" ] && ok "$n alerts, $c with ${k%%:*}" || ko "$n alerts, $c with ${k%%:*}"
done

# the metric names: the tool's own (its HELP lines are in src/metrics.c)
exported=$(grep -o '"teeshm_[a-z_]*"' "$top/src/metrics.c" | tr -d '"' | sort -u)
for m in $(grep -v '^ *#' "$rules" | grep -o 'teeshm_[a-z][a-z_]*' | sort -u); do
	grep -qx "$m" <<<"$exported" && ok "metric $m is exported" ||
		ko "metric $m: not in src/metrics.c"
done

# one file per test: the header (up to "tests:") and one "  - name:" block
split_tests() {	# TESTFILE DIR RULES
	awk -v dir="$2" -v rules="$3" '
		/^  - rule_files:/ { next }
		hdr && /^tests:/ { hdr = 0; next }
		NR == 1 { hdr = 1 }
		hdr { if ($0 ~ /^  - .*rules\.yml$/) $0 = "  - " rules; h = h $0 "\n"; next }
		/^  - name: / { n++; f = sprintf("%s/%02d.yml", dir, n); printf "%stests:\n", h > f }
		{ print > f }' "$1"
}
mkdir -p "$tmp/t" "$tmp/never"
split_tests "$here/rules.test.yml" "$tmp/t" "$rules"
for f in "$tmp"/t/*.yml; do
	name=$(sed -n 's/^  - name: "\(.*\)"$/\1/p' "$f")
	out=$(promtool test rules "$f" 2>&1)
	[ $? = 0 ] && ok "promtool test: $name" ||
		ko "promtool test: $name: $(echo "$out" | grep -v '^ *$' | sed -n 2,12p)"
done

# the same tests against rules whose every alert never fires: each
# "fires" test must fail, each "quiet" one pass
sed 's/^        expr: .*/        expr: vector(1) < 0/' "$rules" >"$tmp/never.rules.yml"
split_tests "$here/rules.test.yml" "$tmp/never" "$tmp/never.rules.yml"
bad=0 nf=0
for f in "$tmp"/never/*.yml; do
	name=$(sed -n 's/^  - name: "\(.*\)"$/\1/p' "$f")
	promtool test rules "$f" >/dev/null 2>&1
	rc=$?
	case $name in
	*" fires: "*) nf=$((nf + 1)); [ $rc != 0 ] || { bad=1; echo "    passed on never-firing rules: $name"; } ;;
	*) [ $rc = 0 ] || { bad=1; echo "    failed on never-firing rules: $name"; } ;;
	esac
done
[ $bad = 0 ] && [ "$nf" -ge "$n" ] && ok "never-firing rules: all $nf fires-tests fail, quiet ones pass" ||
	ko "never-firing rules: the tests did not tell ($nf fires-tests)"

# BIN's real export of a recorded trace (the export tests' mixed trace: 4
# buffers left at its kexec, one freed while registered, 4 registered at
# its end), as node_exporter would serve it for 30 minutes
fx=$top/tests/export/fixtures/mixed.jsonl
if "$bin" export --trace "$fx" --prom "$tmp/mixed.prom"; then
	ok "export --trace: $(grep -c '^teeshm_' "$tmp/mixed.prom") samples"
else
	ko "export --trace $fx"
fi
{
	echo "rule_files:"
	echo "  - $rules"
	echo "evaluation_interval: 1m"
	echo "tests:"
	echo "  - interval: 1m"
	echo "    input_series:"
	grep '^teeshm_' "$tmp/mixed.prom" | while read -r s v; do
		l='instance="board-1:9100",job="node"'
		case $s in
		*'}') s="${s%\}},$l}" ;;
		*) s="$s{$l}" ;;
		esac
		printf "      - series: '%s'\n        values: '%sx30'\n" "$s" "$v"
	done
	echo "    alert_rule_test:"
} >"$tmp/real.yml"
real_alert() {	# ALERT VALUE|- : the alert at 20m, with VALUE in its summary
	local out rc
	sed -n '/^    alert_rule_test:/q; p' "$tmp/real.yml" >"$tmp/real1.yml"
	printf '    alert_rule_test:\n      - eval_time: 20m\n        alertname: %s\n        exp_alerts: []\n' \
		"$1" >>"$tmp/real1.yml"
	out=$(promtool test rules "$tmp/real1.yml" 2>&1)
	rc=$?
	if [ "$2" = - ]; then
		[ $rc = 0 ] && ok "real export: $1 quiet" || ko "real export: $1 fired: $out"
		return
	fi
	# expected to fire: the got alert's summary names VALUE buffers
	echo "$out" | grep -q "alertname=\"$1\"" &&
		echo "$out" | grep -q "summary=\"board-1:9100: $2 " &&
		ok "real export: $1 fires ($2)" || ko "real export: $1: $(echo "$out" | head -12)"
}
real_alert TeeshmBuffersLeftAtLastKexec 4
real_alert TeeshmOrphanedBuffers 1
real_alert TeeshmRegisteredBuffersHigh -
real_alert TeeshmLiveTableFull -
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
