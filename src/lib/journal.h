/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * journal.h - one structured journal entry (the pre-kexec check's verdict).
 * No libsystemd: journald's native datagram protocol, written by hand.
 */
#ifndef TEESHM_JOURNAL_H
#define TEESHM_JOURNAL_H

#include <stddef.h>

/*
 * Send one entry to journald (native protocol, one datagram).  fields are
 * "KEY=value" strings; values may contain newlines.  socket_path NULL means
 * /run/systemd/journal/socket.  0, or -errno.
 */
int journal_send(const char *socket_path, const char *const *fields, size_t n);

#endif /* TEESHM_JOURNAL_H */
