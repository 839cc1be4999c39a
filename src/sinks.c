// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sinks.c - where export's text goes (see sinks.h).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "sinks.h"

/* ------------------------------------------------------------- files */

static int write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/* FILE.tmp.PID in FILE's directory, fsync, rename over FILE. */
int sink_replace(const char *path, const char *data, size_t len)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, dfd, err;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >=
	    (int)sizeof(tmp)) {
		fprintf(stderr, "teeshm-trace: export: --prom: file name too "
			"long\n");
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "teeshm-trace: export: cannot write %s: %s\n",
			path, strerror(errno));
		return -1;
	}
	if (write_all(fd, data, len) || fsync(fd)) {
		err = errno;
		close(fd);
		unlink(tmp);
		fprintf(stderr, "teeshm-trace: export: writing %s: %s\n", tmp,
			strerror(err));
		return -1;
	}
	if (close(fd) || rename(tmp, path)) {
		err = errno;
		unlink(tmp);
		fprintf(stderr, "teeshm-trace: export: cannot write %s: %s\n",
			path, strerror(err));
		return -1;
	}
	/* The rename itself, durable. */
	snprintf(dir, sizeof(dir), "%s", path);
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

int sink_append(const char *path, const char *data, size_t len)
{
	int fd, err;

	if (!strcmp(path, "-")) {
		if (write_all(STDOUT_FILENO, data, len)) {
			fprintf(stderr, "teeshm-trace: export: standard output: "
				"%s\n", strerror(errno));
			return -1;
		}
		return 0;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, data, len)) {
		err = errno;
		if (fd >= 0)
			close(fd);
		fprintf(stderr, "teeshm-trace: export: cannot write %s: %s\n",
			path, strerror(err));
		return -1;
	}
	if (close(fd)) {
		fprintf(stderr, "teeshm-trace: export: cannot write %s: %s\n",
			path, strerror(errno));
		return -1;
	}
	return 0;
}

/* -------------------------------------------------------------- HTTP */

/* the signal handler's word to the accept loop */
static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * "ADDR:PORT", "[V6ADDR]:PORT" or ":PORT" (every address).  Numeric
 * addresses only: no resolver (the arm64 binary is static).
 */
int sink_parse_listen(const char *arg, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	char host[INET6_ADDRSTRLEN + 2], *port, *end;
	unsigned long p;
	size_t n;

	if (snprintf(host, sizeof(host), "%s", arg) >= (int)sizeof(host))
		return -1;
	port = strrchr(host, ':');
	if (!port || !isdigit((unsigned char)port[1]))
		return -1;
	*port++ = '\0';
	errno = 0;
	p = strtoul(port, &end, 10);
	if (errno || *end || p > 65535)
		return -1;
	memset(ss, 0, sizeof(*ss));
	n = strlen(host);
	if (host[0] == '[') {
		if (n < 3 || host[n - 1] != ']')
			return -1;
		host[n - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(p);
		*len = sizeof(*s6);
		return inet_pton(AF_INET6, host + 1, &s6->sin6_addr) == 1 ? 0 : -1;
	}
	s4->sin_family = AF_INET;
	s4->sin_port = htons(p);
	*len = sizeof(*s4);
	if (!n) {
		s4->sin_addr.s_addr = htonl(INADDR_ANY);
		return 0;
	}
	return inet_pton(AF_INET, host, &s4->sin_addr) == 1 ? 0 : -1;
}

int sink_listen(const struct sockaddr_storage *ss, socklen_t len,
		const char *arg)
{
	char host[INET6_ADDRSTRLEN];
	struct sockaddr_storage got;
	socklen_t gl = sizeof(got);
	int fd, one = 1, err;
	bool v6;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) || listen(fd, 16))
		goto fail;
	if (getsockname(fd, (struct sockaddr *)&got, &gl))
		goto fail;
	v6 = got.ss_family == AF_INET6;
	inet_ntop(got.ss_family, v6 ?
		  (void *)&((struct sockaddr_in6 *)&got)->sin6_addr :
		  (void *)&((struct sockaddr_in *)&got)->sin_addr,
		  host, sizeof(host));
	fprintf(stderr, "teeshm-trace: serving http://%s%s%s:%u/metrics\n",
		v6 ? "[" : "", host, v6 ? "]" : "",
		ntohs(v6 ? ((struct sockaddr_in6 *)&got)->sin6_port :
			   ((struct sockaddr_in *)&got)->sin_port));
	return fd;
fail:
	err = errno;
	if (fd >= 0)
		close(fd);
	fprintf(stderr, "teeshm-trace: export: --listen %s: %s\n", arg,
		strerror(err));
	return -1;
}

static void http_reply(int c, const char *status, const char *type,
		       const char *body, size_t len, bool head)
{
	char hdr[256];
	int n;

	n = snprintf(hdr, sizeof(hdr),
		     "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		     status, type, len);
	if (write_all(c, hdr, n) || head)
		return;
	write_all(c, body, len);
}

static void http_text(int c, const char *status, const char *body, bool head)
{
	http_reply(c, status, "text/plain; charset=utf-8", body, strlen(body),
		   head);
}

static void http_one(int c, sink_body_fn fn, void *arg)
{
	char req[4096], method[16], target[1024];
	struct timeval tv = { 5, 0 };
	size_t got = 0, len;
	ssize_t n;
	char *body;
	bool head;
	int err;

	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (got < sizeof(req) - 1) {
		n = read(c, req + got, sizeof(req) - 1 - got);
		if (n <= 0)
			break;
		got += n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[got] = '\0';
	if (sscanf(req, "%15s %1023s HTTP/", method, target) != 2) {
		http_text(c, "400 Bad Request", "bad request\n", false);
		return;
	}
	head = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !head) {
		http_text(c, "405 Method Not Allowed", "only GET and HEAD\n",
			  false);
		return;
	}
	target[strcspn(target, "?")] = '\0';
	if (strcmp(target, "/metrics")) {
		http_text(c, "404 Not Found", "try /metrics\n", head);
		return;
	}
	err = fn(arg, &body, &len);
	if (err == -EAGAIN) {
		http_text(c, "503 Service Unavailable", "live source "
			  "unavailable (see the exporter's stderr)\n", head);
		return;
	}
	if (err) {
		http_text(c, "500 Internal Server Error", "out of memory\n",
			  head);
		return;
	}
	http_reply(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8",
		   body, len, head);
	free(body);
}

void sink_serve(int fd, sink_body_fn fn, void *arg)
{
	struct sigaction sa = { 0 };
	int c;

	sa.sa_handler = on_stop;	/* no SA_RESTART: accept() returns */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	while (!stop) {
		c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		http_one(c, fn, arg);
		close(c);
	}
	close(fd);
}

