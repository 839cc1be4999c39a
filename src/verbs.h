/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * verbs.h - the verbs, one file each (or a pair that share their work):
 * only main.c's table calls them; no verb calls another.
 */
#ifndef TEESHM_VERBS_H
#define TEESHM_VERBS_H

struct cli;

/* trace.c: the live tracer, and the always-on one */
int cmd_trace(const struct cli *cli, int argc, char **argv);
int cmd_agent(const struct cli *cli, int argc, char **argv);
/* status.c: the live table now, and the pre-kexec verdict on it */
int cmd_status(const struct cli *cli, int argc, char **argv);
int cmd_check(const struct cli *cli, int argc, char **argv);
/* probes.c */
int cmd_probes(const struct cli *cli, int argc, char **argv);
/* replay.c: a recorded trace, reported, or checked invariant by invariant */
int cmd_replay(const struct cli *cli, int argc, char **argv);
int cmd_verify(const struct cli *cli, int argc, char **argv);
/* last_kexec.c */
int cmd_last_kexec(const struct cli *cli, int argc, char **argv);
/* id.c */
int cmd_id(const struct cli *cli, int argc, char **argv);
/* export.c */
int cmd_export(const struct cli *cli, int argc, char **argv);

#endif /* TEESHM_VERBS_H */
