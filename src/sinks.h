/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sinks.h - where export's text goes: a file replaced atomically (a
 * collector never reads half of one), a file appended to or standard
 * output ("-"), or the answer to HTTP GET /metrics.  Each says what went
 * wrong on stderr.
 */
#ifndef TEESHM_SINKS_H
#define TEESHM_SINKS_H

#include <stddef.h>
#include <sys/socket.h>

/* Replace path with data (path.tmp.PID, fsync, rename).  0 or -1. */
int sink_replace(const char *path, const char *data, size_t len);
/* Append data to path, in one write ("-": standard output).  0 or -1. */
int sink_append(const char *path, const char *data, size_t len);

/*
 * "ADDR:PORT", "[V6ADDR]:PORT" or ":PORT" (every address) into ss.  0, or
 * -1 if it is not one.
 */
int sink_parse_listen(const char *arg, struct sockaddr_storage *ss,
		      socklen_t *len);
/* A listening socket on ss (its address said on stderr), or -1. */
int sink_listen(const struct sockaddr_storage *ss, socklen_t len,
		const char *arg);

/*
 * The body of GET /metrics, malloc'ed, into *body: 0, -EAGAIN if the
 * source is unavailable (503), another -errno (500).
 */
typedef int (*sink_body_fn)(void *arg, char **body, size_t *len);
/*
 * Answer HTTP on the listening socket fd, one connection at a time, until
 * SIGINT or SIGTERM; fd is closed then.
 */
void sink_serve(int fd, sink_body_fn fn, void *arg);

#endif /* TEESHM_SINKS_H */
