// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * teeshm-client - a libteec client of the testbed's test TA
 * (tests/testbed/fw/README.md): allocates and registers shared memory
 * through /dev/tee0, invokes with memrefs in and out, checks the result,
 * releases.
 *
 *   teeshm-client [--loops N] [--size BYTES] [--hold SECS] [--cpu]
 *   teeshm-client --mark
 *
 * --mark only asks the secure world to log its registration table (a sync
 * point between the guest's view and the secure log).
 * --hold keeps both shared-memory blocks allocated (registered with the
 * secure world) for SECS seconds before releasing them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tee_client_api.h>

static const TEEC_UUID test_ta = {
	0x5ee5b0d1, 0x7e5e, 0x4c0a,
	{ 0x9a, 0x5e, 0x74, 0x65, 0x65, 0x73, 0x68, 0xa1 } };

#define CMD_TRANSFORM	0
#define CMD_ADD		1
#define CMD_MARK	2

static int fail(const char *what, TEEC_Result r, uint32_t origin)
{
	fprintf(stderr, "teeshm-client: %s: 0x%08x (origin %u)\n", what, r,
		origin);
	return 1;
}

static int one_round(TEEC_Context *ctx, TEEC_Session *sess, size_t size,
		     unsigned int hold)
{
	TEEC_SharedMemory in = { 0 }, out = { 0 };
	TEEC_Operation op = { 0 };
	unsigned char *user;
	uint32_t origin = 0;
	TEEC_Result r;
	size_t i;
	int ret = 1;

	/* allocated by the TEE subsystem (tee_shm_alloc_user_buf) */
	in.size = size;
	in.flags = TEEC_MEM_INPUT;
	r = TEEC_AllocateSharedMemory(ctx, &in);
	if (r != TEEC_SUCCESS)
		return fail("TEEC_AllocateSharedMemory", r, 0);
	/* the client's own memory, registered (tee_shm_register_user_buf) */
	user = aligned_alloc(4096, size);
	if (!user)
		goto out_in;
	out.buffer = user;
	out.size = size;
	out.flags = TEEC_MEM_OUTPUT;
	r = TEEC_RegisterSharedMemory(ctx, &out);
	if (r != TEEC_SUCCESS) {
		fail("TEEC_RegisterSharedMemory", r, 0);
		goto out_user;
	}
	for (i = 0; i < size; i++)
		((unsigned char *)in.buffer)[i] = (unsigned char)(i * 7);
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_WHOLE, TEEC_MEMREF_WHOLE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].memref.parent = &in;
	op.params[1].memref.parent = &out;
	r = TEEC_InvokeCommand(sess, CMD_TRANSFORM, &op, &origin);
	if (r != TEEC_SUCCESS) {
		fail("TEEC_InvokeCommand(transform)", r, origin);
		goto out_reg;
	}
	for (i = 0; i < size; i++) {
		if (user[i] != (unsigned char)(i * 7 + 1)) {
			fprintf(stderr, "teeshm-client: byte %zu: 0x%02x, "
				"expected 0x%02x\n", i, user[i],
				(unsigned char)(i * 7 + 1));
			goto out_reg;
		}
	}
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_VALUE_OUTPUT,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].value.a = 40;
	op.params[0].value.b = 2;
	r = TEEC_InvokeCommand(sess, CMD_ADD, &op, &origin);
	if (r != TEEC_SUCCESS || op.params[1].value.a != 42) {
		fail("TEEC_InvokeCommand(add)", r, origin);
		goto out_reg;
	}
	if (hold) {
		printf("teeshm-client: holding 2 shared-memory blocks for %us\n",
		       hold);
		fflush(stdout);
		sleep(hold);
	}
	ret = 0;
out_reg:
	TEEC_ReleaseSharedMemory(&out);
out_user:
	free(user);
out_in:
	TEEC_ReleaseSharedMemory(&in);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned long loops = 1, size = 8192, hold = 0;
	TEEC_Context ctx;
	TEEC_Session sess;
	uint32_t origin = 0;
	TEEC_Result r;
	unsigned long i;
	int a, ret = 0, mark = 0, cpu = 0;
	struct timespec c0, c1;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--loops") && a + 1 < argc)
			loops = strtoul(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--size") && a + 1 < argc)
			size = strtoul(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--hold") && a + 1 < argc)
			hold = strtoul(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--mark"))
			mark = 1;
		else if (!strcmp(argv[a], "--cpu"))
			cpu = 1;
		else {
			fprintf(stderr, "usage: teeshm-client [--loops N] "
				"[--size BYTES] [--hold SECS] [--cpu] | --mark\n");
			return 2;
		}
	}
	if (!size || size > (1ul << 22)) {
		fprintf(stderr, "teeshm-client: --size: 1..4194304\n");
		return 2;
	}
	r = TEEC_InitializeContext(NULL, &ctx);
	if (r != TEEC_SUCCESS)
		return fail("TEEC_InitializeContext", r, 0);
	r = TEEC_OpenSession(&ctx, &sess, &test_ta, TEEC_LOGIN_PUBLIC, NULL,
			     NULL, &origin);
	if (r != TEEC_SUCCESS) {
		TEEC_FinalizeContext(&ctx);
		return fail("TEEC_OpenSession", r, origin);
	}
	if (mark) {
		TEEC_Operation op = { 0 };

		op.paramTypes = TEEC_PARAM_TYPES(TEEC_NONE, TEEC_NONE,
						 TEEC_NONE, TEEC_NONE);
		r = TEEC_InvokeCommand(&sess, CMD_MARK, &op, &origin);
		TEEC_CloseSession(&sess);
		TEEC_FinalizeContext(&ctx);
		return r == TEEC_SUCCESS ? 0 : fail("mark", r, origin);
	}
	/*
	 * --cpu: the rounds' CPU time (the kernel's, the secure world's
	 * and the probes' included: all run on this thread), not the wall
	 * time other guest threads also take: the benchmark's figure
	 */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	for (i = 0; i < loops && !ret; i++)
		ret = one_round(&ctx, &sess, size, i == 0 ? hold : 0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	if (cpu)
		printf("cpu_ns=%lld\n", (c1.tv_sec - c0.tv_sec) * 1000000000LL +
		       c1.tv_nsec - c0.tv_nsec);
	TEEC_CloseSession(&sess);
	TEEC_FinalizeContext(&ctx);
	printf("teeshm-client: %lu round%s of %lu bytes: %s\n", i,
	       i == 1 ? "" : "s", size, ret ? "FAILED" : "ok");
	return ret;
}
