/*
 * Application processor start-up code. x86_smp_start() copies it to
 * X86_AP_TRAMPOLINE (below 1 MiB, in the reserved low memory) and points
 * the Startup IPI there (vector = address >> 12; Intel SDM vol 3 §9.4.4,
 * AMD APM vol 2 §15.27.8 does the same on AMD). An AP arrives in real
 * mode at CS:IP = vector:0000 and goes 16 -> 32 -> 64-bit like boot.S,
 * with its own small GDT and the boot CPU's page tables, then jumps to
 * x86_ap_main() on a stack it claims for itself (ap_claimed).
 *
 * All addresses inside are X86_AP_TRAMPOLINE + (label - ap_trampoline).
 */
#include <x86/layout.h>

#define AP(label) (X86_AP_TRAMPOLINE + ((label) - ap_trampoline))

	.section .text
	.globl ap_trampoline, ap_trampoline_end, ap_cr3
	.code16
ap_trampoline:
	cli
	cld
	xor %ax, %ax
	mov %ax, %ds
	lgdtl AP(ap_gdt_ptr)
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x18, $AP(ap_pm32)

	.code32
ap_pm32:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %cr4, %eax
	or $0x220, %eax /* PAE, OSFXSR: FXSAVE/FXRSTOR include the XMM registers */
	mov %eax, %cr4
	mov AP(ap_cr3), %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx /* EFER */
	rdmsr
	or $0x900, %eax /* LME | NXE */
	wrmsr
	mov %cr0, %eax
	or $0x80010001, %eax /* PG | WP | PE */
	mov %eax, %cr0
	ljmp $0x08, $AP(ap_lm64)

	.code64
ap_lm64:
	/*
	 * Every AP that gets here claims a stack of its own, whether the boot
	 * CPU still waits for it or gave up on it (x86_ap_main decides which):
	 * a late AP must not take the stack of the one started after it.
	 * Stack 0 is the boot CPU's; an AP past the last stack parks.
	 */
	mov $1, %eax
	lock xadd %eax, AP(ap_claimed)
	cmp $(X86_CPU_MAX - 1), %eax
	jae 1f
	inc %eax
	imul $X86_STACK_SIZE, %rax, %rax
	movabs $(x86_stacks + X86_STACK_SIZE), %rsp
	add %rax, %rsp
	movabs $x86_ap_main, %rax
	call *%rax
1:	cli
	hlt
	jmp 1b

	.balign 8
ap_gdt:
	.quad 0
	.quad 0x00af9a000000ffff /* 0x08: 64-bit code, the same selector as the kernel's */
	.quad 0x00cf92000000ffff /* 0x10: data */
	.quad 0x00cf9a000000ffff /* 0x18: 32-bit code, for the step through protected mode */
ap_gdt_end:
ap_gdt_ptr:
	.word ap_gdt_end - ap_gdt - 1
	.long AP(ap_gdt)
	.balign 8
ap_cr3:
	.long 0
ap_claimed: /* stacks taken by APs so far */
	.long 0
ap_trampoline_end:

	.section .note.GNU-stack, "", @progbits
