/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * start.S - EL3 entry, exception vectors, SMC entry and the drop to the
 * normal-world kernel at EL1h.
 */
#define KERNEL_ENTRY	0x40200000
#define DTB_ADDR	0x4f000000
#define SCR_VALUE	0x431	/* RW | RES1(5:4) | NS; SMD=0: SMC enabled */
#define SPSR_EL1H	0x3c5	/* EL1h, D A I F masked */

	.section .text.start, "ax"
	.global _start
_start:
	ldr	x0, =vectors
	msr	vbar_el3, x0
	ldr	x0, =__stack_top
	mov	sp, x0
	/* the state lives in .bss: zero it only on a cold boot */
	ldr	x0, =__bss_start
	ldr	x1, =__bss_end
1:	cmp	x0, x1
	b.hs	2f
	str	xzr, [x0], #8
	b	1b
2:	msr	cptr_el3, xzr
	isb
	bl	fw_cold_boot

	mov	x0, #SCR_VALUE
	msr	scr_el3, x0
	mov	x0, #SPSR_EL1H
	msr	spsr_el3, x0
	ldr	x0, =KERNEL_ENTRY
	msr	elr_el3, x0
	msr	sctlr_el1, xzr
	isb
	ldr	x0, =DTB_ADDR
	mov	x1, xzr
	mov	x2, xzr
	mov	x3, xzr
	eret

/* Save x0-x30 into a frame on the EL3 stack, call fn(frame), restore. */
.macro	SAVE_AND_CALL fn
	sub	sp, sp, #256
	stp	x0, x1, [sp, #0]
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x19, [sp, #144]
	stp	x20, x21, [sp, #160]
	stp	x22, x23, [sp, #176]
	stp	x24, x25, [sp, #192]
	stp	x26, x27, [sp, #208]
	stp	x28, x29, [sp, #224]
	str	x30, [sp, #240]
	mov	x0, sp
	bl	\fn
	ldp	x0, x1, [sp, #0]
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x19, [sp, #144]
	ldp	x20, x21, [sp, #160]
	ldp	x22, x23, [sp, #176]
	ldp	x24, x25, [sp, #192]
	ldp	x26, x27, [sp, #208]
	ldp	x28, x29, [sp, #224]
	ldr	x30, [sp, #240]
	add	sp, sp, #256
	eret
.endm

.macro	VENTRY label
	.balign	0x80
	b	\label
.endm

	.balign	0x800
vectors:
	VENTRY	unexpected	/* current EL, SP0 */
	VENTRY	unexpected
	VENTRY	unexpected
	VENTRY	unexpected
	VENTRY	unexpected	/* current EL, SPx */
	VENTRY	unexpected
	VENTRY	unexpected
	VENTRY	unexpected
	VENTRY	lower_sync	/* lower EL, AArch64 */
	VENTRY	unexpected
	VENTRY	unexpected
	VENTRY	unexpected
	VENTRY	unexpected	/* lower EL, AArch32 */
	VENTRY	unexpected
	VENTRY	unexpected
	VENTRY	unexpected

lower_sync:
	SAVE_AND_CALL fw_sync_lower

unexpected:
	ldr	x0, =__stack_top
	mov	sp, x0
	mrs	x0, esr_el3
	mrs	x1, elr_el3
	mrs	x2, far_el3
	bl	fw_unexpected
3:	wfi
	b	3b
