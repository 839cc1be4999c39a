/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * fw.h - constants of the platform (QEMU virt, secure=on), of PSCI and of
 * the OP-TEE SMC/message ABI as Linux's optee driver speaks it, and the
 * firmware's small runtime (UART, log, system registers).
 */
#ifndef FW_H
#define FW_H

typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long u64;
typedef long s64;

#define NULL ((void *)0)

/* Build options (make CAPACITY=N) */
#ifndef FW_DEFAULT_CAPACITY
#define FW_DEFAULT_CAPACITY	64	/* registrations OP-TEE can book-keep */
#endif
#define FW_MAX_REGS		256
#define FW_MAX_PAGES		1024	/* 4 MiB per registration */
#define FW_MAX_SESSIONS		32
#define FW_PAGE			4096
#define FW_RESET_EXIT_CODE	0x52	/* QEMU exit status on SYSTEM_RESET */

/* QEMU virt */
#define NW_RAM_BASE		0x40000000UL
/* the largest guest the testbed boots: -m 3G (RAM up to 4 GiB) */
#define NW_RAM_SIZE		0xc0000000UL
#define SECURE_UART		0x09040000UL
#define GICD_BASE		0x08000000UL
#define GICC_BASE		0x08010000UL
#define GICD_CTLR		0x000
#define GICD_TYPER		0x004
#define GICD_IGROUPR		0x080
#define GICC_CTLR		0x000
#define GICC_PMR		0x004

/* SMC Calling Convention, PSCI 1.0 */
#define SMCCC_NOT_SUPPORTED	((u64)(s64)-1)
#define PSCI_VERSION		0x84000000
#define PSCI_CPU_ON_64		0xc4000003
#define PSCI_AFFINITY_INFO_64	0xc4000004
#define PSCI_MIGRATE_INFO_TYPE	0x84000006
#define PSCI_SYSTEM_OFF		0x84000008
#define PSCI_SYSTEM_RESET	0x84000009
#define PSCI_FEATURES		0x8400000a
#define PSCI_NOT_SUPPORTED	((u64)(s64)-1)
#define PSCI_ALREADY_ON		((u64)(s64)-4)
#define ESR_EC_SMC64		0x17

/* OP-TEE SMC ABI: fast calls 0xb2000000 | n, yielding calls 0x32000000 | n */
#define OPTEE_SMC_FAST(n)	(0xb2000000u | (n))
#define OPTEE_SMC_STD(n)	(0x32000000u | (n))
/* the "general" queries belong to owner 63 (trusted OS end): 0xbf00ffxx */
#define OPTEE_SMC_GENERAL(n)	(0xbf000000u | (n))
#define OPTEE_SMC_CALLS_COUNT		OPTEE_SMC_GENERAL(0xff00)
#define OPTEE_SMC_CALLS_UID		OPTEE_SMC_GENERAL(0xff01)
#define OPTEE_SMC_CALLS_REVISION	OPTEE_SMC_GENERAL(0xff03)
#define OPTEE_SMC_GET_OS_UUID		OPTEE_SMC_FAST(0)
#define OPTEE_SMC_GET_OS_REVISION	OPTEE_SMC_FAST(1)
#define OPTEE_SMC_GET_SHM_CONFIG	OPTEE_SMC_FAST(7)
#define OPTEE_SMC_EXCHANGE_CAPABILITIES	OPTEE_SMC_FAST(9)
#define OPTEE_SMC_DISABLE_SHM_CACHE	OPTEE_SMC_FAST(10)
#define OPTEE_SMC_ENABLE_SHM_CACHE	OPTEE_SMC_FAST(11)
#define OPTEE_SMC_CALL_WITH_ARG		OPTEE_SMC_STD(4)
#define OPTEE_SMC_CALL_WITH_RPC_ARG	OPTEE_SMC_STD(18)
#define OPTEE_SMC_CALL_WITH_REGD_ARG	OPTEE_SMC_STD(19)

#define SMC_RETURN_OK		0x0
#define SMC_RETURN_EBADADDR	0x4
#define SMC_RETURN_EBADCMD	0x5
#define SMC_RETURN_ENOTAVAIL	0x7

#define OPTEE_NSEC_CAP_UNIPROCESSOR	(1u << 0)
#define OPTEE_SEC_CAP_DYNAMIC_SHM	(1u << 2)
#define OPTEE_SEC_CAP_MEMREF_NULL	(1u << 4)
#define OPTEE_SEC_CAP_RPC_ARG		(1u << 6)
/* OP-TEE's THREAD_RPC_MAX_NUM_PARAMS: the RPC arg after a call's arg */
#define OPTEE_RPC_NUM_PARAMS		4

/* "OP-TEE message API" UID and the OP-TEE OS UUID, as 4 words */
#define OPTEE_MSG_UID_0		0x384fb3e0
#define OPTEE_MSG_UID_1		0xe7f811e3
#define OPTEE_MSG_UID_2		0xaf630002
#define OPTEE_MSG_UID_3		0xa5d5c51b
#define OPTEE_OS_UUID_0		0x486178e0
#define OPTEE_OS_UUID_1		0xe7f811e3
#define OPTEE_OS_UUID_2		0xbc5e0002
#define OPTEE_OS_UUID_3		0xa5d5c51b

/* struct optee_msg_arg: 8 words of header, then 32-byte params */
#define MSG_ARG_CMD		0
#define MSG_ARG_FUNC		4
#define MSG_ARG_SESSION		8
#define MSG_ARG_RET		20
#define MSG_ARG_RET_ORIGIN	24
#define MSG_ARG_NUM_PARAMS	28
#define MSG_ARG_HDR		32
#define MSG_PARAM_SIZE		32
#define MSG_ARG_SIZE(np)	(MSG_ARG_HDR + (u64)(np) * MSG_PARAM_SIZE)
/* OPTEE_MSG_MAX_NUM_PARAMS: an arg fills at most one 4 KiB page */
#define MSG_MAX_NUM_PARAMS	((FW_PAGE - MSG_ARG_HDR) / MSG_PARAM_SIZE)

#define MSG_CMD_OPEN_SESSION	0
#define MSG_CMD_INVOKE_COMMAND	1
#define MSG_CMD_CLOSE_SESSION	2
#define MSG_CMD_CANCEL		3
#define MSG_CMD_REGISTER_SHM	4
#define MSG_CMD_UNREGISTER_SHM	5

#define MSG_ATTR_TYPE_MASK	0xff
#define MSG_ATTR_RMEM_INPUT	0x5
#define MSG_ATTR_RMEM_INOUT	0x7
#define MSG_ATTR_TMEM_INPUT	0x9
#define MSG_ATTR_TMEM_OUTPUT	0xa
#define MSG_ATTR_TMEM_INOUT	0xb
#define MSG_ATTR_META		(1u << 8)
#define MSG_ATTR_NONCONTIG	(1u << 9)

/* GlobalPlatform TEE client API results */
#define TEEC_SUCCESS			0x00000000
#define TEEC_ERROR_BAD_STATE		0xffff0007
#define TEEC_ERROR_BAD_PARAMETERS	0xffff0006
#define TEEC_ERROR_ITEM_NOT_FOUND	0xffff0008
#define TEEC_ERROR_NOT_SUPPORTED	0xffff000a
#define TEEC_ERROR_OUT_OF_MEMORY	0xffff000c
#define TEEC_ERROR_BUSY			0xffff000d
#define TEEC_ERROR_SHORT_BUFFER		0xffff0010
#define TEEC_ORIGIN_TEE			3
#define TEEC_ORIGIN_TRUSTED_APP		4

/* Semihosting */
#define SEMIHOST_SYS_EXIT		0x18
#define ADP_STOPPED_APPLICATION_EXIT	0x20026
#define ADP_STOPPED_RUN_TIME_ERROR	0x20023

static inline u32 mmio_rd32(u64 a)
{
	return *(volatile u32 *)a;
}

static inline void mmio_wr32(u64 a, u32 v)
{
	*(volatile u32 *)a = v;
}

#define SYSREG_RD(name)							\
	static inline u64 read_##name(void)				\
	{								\
		u64 v;							\
		__asm__ volatile("mrs %0, " #name : "=r"(v));		\
		return v;						\
	}
SYSREG_RD(esr_el3)
SYSREG_RD(elr_el3)
SYSREG_RD(far_el3)

static inline u64 read_cntfrq(void)
{
	u64 v;

	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
	return v;
}

static inline void write_cntfrq(u64 v)
{
	__asm__ volatile("msr cntfrq_el0, %0" : : "r"(v));
}

static inline u64 read_cntpct(void)
{
	u64 v;

	__asm__ volatile("isb; mrs %0, cntpct_el0" : "=r"(v));
	return v;
}

static inline void semihosting_call(u64 op, u64 arg)
{
	register u64 x0 __asm__("x0") = op;
	register u64 x1 __asm__("x1") = arg;

	__asm__ volatile("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
}

/* uart.c */
void uart_putc(char c);
void uart_puts(const char *s);
void logf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* fw.c */
void fw_cold_boot(void);
void fw_sync_lower(u64 *x);
void fw_unexpected(u64 esr, u64 elr, u64 far);
void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);

#endif /* FW_H */
