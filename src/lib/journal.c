// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * journal.c - one structured journal entry, in journald's native protocol.
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "journal.h"

int journal_send(const char *socket_path, const char *const *fields, size_t n)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t i, len = 0, off = 0;
	char *buf;
	ssize_t r;
	int fd, err = 0;

	if (!socket_path)
		socket_path = "/run/systemd/journal/socket";
	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, socket_path);
	for (i = 0; i < n; i++)
		len += strlen(fields[i]) + 1 + 8 + 1;
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const char *f = fields[i], *eq = strchr(f, '=');
		size_t kl, vl;
		uint64_t le;

		if (!eq || eq == f) {
			free(buf);
			return -EINVAL;
		}
		kl = eq - f;
		vl = strlen(eq + 1);
		if (!strchr(eq + 1, '\n')) {
			memcpy(buf + off, f, kl + 1 + vl);
			off += kl + 1 + vl;
		} else {
			/* KEY\n<64-bit LE length><value>\n */
			memcpy(buf + off, f, kl);
			off += kl;
			buf[off++] = '\n';
			le = htole64(vl);
			memcpy(buf + off, &le, 8);
			off += 8;
			memcpy(buf + off, eq + 1, vl);
			off += vl;
		}
		buf[off++] = '\n';
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		free(buf);
		return err;
	}
	r = sendto(fd, buf, off, MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   sizeof(sa));
	if (r < 0)
		err = -errno;
	else if ((size_t)r != off)
		err = -EMSGSIZE;
	close(fd);
	free(buf);
	return err;
}
