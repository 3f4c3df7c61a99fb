/*
 * Partition entry, x0 = the argument the kernel passes. A VM enters at EL1h
 * with its MMU off and x1 = 0; a service at EL0 (under HCR_EL2.TGE: no
 * stage 1, so addresses are IPAs too) with x0 = its vCPU index and x1 = 1,
 * and calls the kernel with SVC instead of HVC (svc_el0, svc_arch.h).
 * The first instruction reads the cycle counter (PMCCNTR_EL0; the kernel
 * answers the read), so a benchmark can report the instructions from reset
 * to here under -icount. svc_entry_counter and svc_el0 are in .data, not
 * BSS, because BSS is cleared after they are written.
 *
 * A partition may have several vCPUs; a VM's MPIDR_EL1.Aff0 (the kernel sets
 * it to the vCPU's index), a service's x0, says which one this is: vCPU 0 clears BSS and runs on the
 * main stack; vCPU i (1 <= i < SVC_VCPU_MAX) waits, yielding, until vCPU 0
 * has cleared BSS, then runs on its own smaller stack. A vCPU beyond that
 * exits with -1. svc_main gets x0 as the kernel gave it: a service's vCPU
 * index, a VM's device tree (vCPU 0) or CPU_ON context id.
 */
#define SVC_STACK_SIZE 16384
#define SVC_VCPU_MAX 4
#define SVC_AUX_STACK_SIZE 4096

	.section .text.start, "ax"
	.global	_start
_start:
	mrs	x9, pmccntr_el0
	mov	x19, x0			/* svc_main's argument */
	mov	x20, x0			/* a service: the vCPU index */
	cbnz	x1, 8f
	mrs	x20, mpidr_el1
	and	x20, x20, #0xff		/* a VM: the vCPU index */
8:	adrp	x10, svc_el0
	str	w1, [x10, #:lo12:svc_el0]
	cbnz	x20, 4f
	adrp	x10, svc_entry_counter
	str	x9, [x10, #:lo12:svc_entry_counter]
	adrp	x9, __bss_start
	add	x9, x9, #:lo12:__bss_start
	adrp	x10, __bss_end
	add	x10, x10, #:lo12:__bss_end
1:	cmp	x9, x10
	b.hs	2f
	stp	xzr, xzr, [x9], #16
	b	1b
2:	adrp	x9, svc_bss_ready
	add	x9, x9, #:lo12:svc_bss_ready
	mov	x10, #1
	stlr	x10, [x9]
	adrp	x9, svc_stack
	add	x9, x9, #:lo12:svc_stack
	add	sp, x9, #SVC_STACK_SIZE
5:	mov	x29, #0
	mov	x30, #0
	mov	x0, x19
	bl	svc_main
	sxtw	x0, w0
	bl	svc_exit
3:	b	3b

	/* vCPU x20 > 0: its own stack, once vCPU 0 has cleared BSS. */
4:	cmp	x20, #SVC_VCPU_MAX
	b.lo	6f
	mov	x0, #2			/* HC_EXIT */
	mov	x1, #-1
	bl	svc_trap
	b	3b
6:	adrp	x9, svc_bss_ready
	add	x9, x9, #:lo12:svc_bss_ready
	ldar	x10, [x9]
	cbnz	x10, 7f
	mov	x0, #3			/* HC_YIELD */
	mov	x1, #0
	bl	svc_trap
	b	6b
7:	adrp	x9, svc_aux_stacks
	add	x9, x9, #:lo12:svc_aux_stacks
	mov	x10, #SVC_AUX_STACK_SIZE
	madd	x9, x20, x10, x9	/* top of slot x20 - 1 */
	mov	sp, x9
	b	5b

/* The hypercall instruction this partition uses, for the code above: x0-x8 in and out. */
svc_trap:
	adrp	x9, svc_el0
	ldr	w9, [x9, #:lo12:svc_el0]
	cbz	w9, 1f
	svc	#0
	ret
1:	hvc	#0
	ret

	.data
	.balign	8
	.global	svc_el0
svc_el0:
	.word	0
	.word	0
	.global	svc_entry_counter
svc_entry_counter:
	.quad	0
svc_bss_ready:
	.quad	0

	.bss
	.balign	16
svc_stack:
	.space	SVC_STACK_SIZE
svc_aux_stacks:
	.space	SVC_AUX_STACK_SIZE * (SVC_VCPU_MAX - 1)
