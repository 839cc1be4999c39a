// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * main.c - teeshm-trace: the verb table.
 */
#include "cli.h"
#include "verbs.h"

static const struct cli_verb verbs[] = {
	{ "trace", cmd_trace, "stream TEE shm events live; -o records a trace" },
	{ "agent", cmd_agent, "always-on tracer: probes and live table stay pinned" },
	{ "status", cmd_status, "buffers registered with the secure world now" },
	{ "check", cmd_check, "verdict on the live table (pre-kexec check)" },
	{ "probes", cmd_probes, "which probes this kernel offers" },
	{ "replay", cmd_replay, "analyse a recorded JSONL trace" },
	{ "verify", cmd_verify, "PASS/FAIL per invariant over a trace" },
	{ "last-kexec", cmd_last_kexec, "the previous kernel's kexec report (pstore)" },
	{ "id", cmd_id, "keyed id of a kernel address (correlate logs)" },
	{ "export", cmd_export, "metrics: Prometheus textfile, JSON lines, /metrics" },
};

int main(int argc, char **argv)
{
	return cli_main(verbs, sizeof(verbs) / sizeof(verbs[0]), argc, argv);
}
