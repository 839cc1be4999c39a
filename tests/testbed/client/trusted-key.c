// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * trusted-key: the testbed's user of Linux's trusted keys (busybox has no
 * keyctl).  Creates a trusted key ("new LEN": random bytes from the key
 * source, sealed by it), reads its sealed blob, loads the blob into a second
 * key ("load": unsealed by the source) and reads that one back: with the
 * TEE source each step is a call to OP-TEE's trusted keys TA with
 * registered kernel memory.  Prints one line; exit 0 when both keys read
 * back the same blob.
 *
 * usage: trusted-key [LEN]   (key length in bytes, default 32)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#define KEY_SPEC_USER_KEYRING	-4
#define KEYCTL_READ		11

static long add_key(const char *type, const char *desc, const char *payload)
{
	return syscall(__NR_add_key, type, desc, payload, strlen(payload),
		       KEY_SPEC_USER_KEYRING);
}

static long read_key(long id, char *buf, size_t len)
{
	return syscall(__NR_keyctl, KEYCTL_READ, id, buf, len, 0);
}

int main(int argc, char **argv)
{
	static char blob[16384], back[16384], cmd[16400];
	int len = argc > 1 ? atoi(argv[1]) : 32;
	long k1, k2, n1, n2;

	snprintf(cmd, sizeof(cmd), "new %d", len);
	k1 = add_key("trusted", "teeshm-k1", cmd);
	if (k1 < 0) {
		perror("trusted-key: add_key new");
		return 1;
	}
	n1 = read_key(k1, blob, sizeof(blob) - 1);
	if (n1 <= 0 || n1 >= (long)sizeof(blob)) {
		perror("trusted-key: read new");
		return 1;
	}
	blob[n1] = '\0';
	snprintf(cmd, sizeof(cmd), "load %s", blob);
	k2 = add_key("trusted", "teeshm-k2", cmd);
	if (k2 < 0) {
		perror("trusted-key: add_key load");
		return 1;
	}
	n2 = read_key(k2, back, sizeof(back) - 1);
	if (n2 != n1 || memcmp(blob, back, n1)) {
		fprintf(stderr, "trusted-key: the loaded key reads back another blob\n");
		return 1;
	}
	printf("trusted-key: sealed %d bytes into a %ld-byte blob, loaded it back\n",
	       len, n1 / 2);
	return 0;
}
