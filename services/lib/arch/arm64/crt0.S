/*
 * Partition entry at EL1h, MMU off, x0 = the argument the kernel passes.
 * The first instruction reads the cycle counter (PMCCNTR_EL0, which the
 * kernel enables and lets EL1 read), so a benchmark can report the
 * instructions from reset to here under -icount. svc_entry_counter is in
 * .data, not BSS, because BSS is cleared after the read.
 */
#define SVC_STACK_SIZE 16384

	.section .text.start, "ax"
	.global	_start
_start:
	mrs	x9, pmccntr_el0
	adrp	x10, svc_entry_counter
	str	x9, [x10, #:lo12:svc_entry_counter]
	mov	x19, x0
	adrp	x9, __bss_start
	add	x9, x9, #:lo12:__bss_start
	adrp	x10, __bss_end
	add	x10, x10, #:lo12:__bss_end
1:	cmp	x9, x10
	b.hs	2f
	stp	xzr, xzr, [x9], #16
	b	1b
2:	adrp	x9, svc_stack
	add	x9, x9, #:lo12:svc_stack
	add	sp, x9, #SVC_STACK_SIZE
	mov	x29, #0
	mov	x30, #0
	mov	x0, x19
	bl	svc_main
	sxtw	x0, w0
	bl	svc_exit
3:	b	3b

	.data
	.balign	8
	.global	svc_entry_counter
svc_entry_counter:
	.quad	0

	.bss
	.balign	16
svc_stack:
	.space	SVC_STACK_SIZE
