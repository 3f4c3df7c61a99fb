/*
 * Interrupt and exception stubs of the kernel (host mode). Each of the 256
 * IDT vectors gets a 16-byte stub that makes the stack uniform (a zero
 * error code where the CPU pushes none: AMD APM vol 2 §8.2, Intel SDM
 * vol 3 §6.13), pushes its vector and joins x86_common, which saves every
 * GPR as a struct x86_frame and calls x86_interrupt(frame).
 */

	.section .text
	.balign 16
	.globl x86_isr_stubs
x86_isr_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	.if !((vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30))
	pushq $0
	.endif
	pushq $vec
	jmp x86_common
	.set vec, vec + 1
	.endr

x86_common:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi
	mov %rsp, %rbx
	and $-16, %rsp /* the ABI's call alignment, whatever the interrupted code had */
	call x86_interrupt
	mov %rbx, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp /* vector, error code */
	iretq

	.section .note.GNU-stack, "", @progbits
