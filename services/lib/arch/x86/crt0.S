/*
 * Partition entry on x86_64. The kernel starts a partition PVH-style
 * (docs/platform-x86.md): 32-bit protected mode, flat segments, paging off,
 * EIP = _start at guest-physical 0x100000, EBX = the kernel's argument.
 *
 * crt0 reads the instruction counter first, then enters long mode itself
 * (AMD APM vol 2 §14.6: PAE, CR3, EFER.LME, CR0.PG, then a far jump into a
 * 64-bit code segment) with an identity map of the low 4 GiB made of four
 * 1 GiB pages, prebuilt in .data so no loop runs at reset. Guest-physical
 * addresses the manifest does not map fault in the nested tables, not
 * here. Then: stack, BSS, svc_main(arg), svc_exit(result).
 *
 * A partition may have several vCPUs (EBX = the vCPU index): vCPU 0 clears
 * BSS and runs on the main stack; vCPU i (1 <= i < SVC_VCPU_MAX) waits,
 * yielding, until vCPU 0 has cleared BSS, then runs svc_main(i) on its own
 * smaller stack. A vCPU beyond that exits with -1.
 */
#define SVC_VCPU_MAX 4
#define SVC_AUX_STACK_SIZE 4096
#define PTE_P 0x1
#define PTE_W 0x2
#define PTE_PS 0x80

	.section .text.entry, "ax"
	.code32
	.globl _start
_start:
	rdtsc                    /* first instruction: svc_entry_counter */
	mov %eax, %esi
	mov %edx, %edi
	lgdt crt0_gdt_ptr
	mov %cr4, %eax
	or $0x20, %eax           /* PAE */
	mov %eax, %cr4
	mov $crt0_pml4, %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx    /* EFER: set LME */
	rdmsr
	or $0x100, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80000001, %eax     /* PG | PE */
	mov %eax, %cr0
	ljmp $0x08, $crt0_long

	.code64
crt0_long:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %ebx, %r15d          /* the argument: the vCPU index */
	test %r15d, %r15d
	jnz 2f
	lea crt0_stack_top(%rip), %rsp
	shl $32, %rdi
	mov %esi, %esi
	or %rsi, %rdi
	mov %rdi, %r8            /* the counter */
	lea __bss_start(%rip), %rdi
	lea __bss_end(%rip), %rcx
	sub %rdi, %rcx
	xor %eax, %eax
	rep stosb
	mov %r8, svc_entry_counter(%rip)
	movq $1, crt0_bss_ready(%rip) /* x86 stores are ordered: no fence needed */
3:	mov %r15d, %edi          /* svc_main(arg) */
	call svc_main
	movslq %eax, %rdi
	call svc_exit
1:	ud2
	jmp 1b

	/* vCPU r15 > 0: its own stack, once vCPU 0 has cleared BSS. */
2:	cmp $SVC_VCPU_MAX, %r15d
	jb 4f
	mov $2, %eax             /* HC_EXIT */
	mov $-1, %rdi
	vmmcall
	jmp 1b
4:	cmpq $0, crt0_bss_ready(%rip)
	jne 5f
	mov $3, %eax             /* HC_YIELD */
	xor %edi, %edi
	vmmcall
	jmp 4b
5:	mov %r15d, %eax
	shl $12, %rax            /* SVC_AUX_STACK_SIZE = 4096 */
	lea crt0_aux_stacks(%rip), %rsp
	add %rax, %rsp           /* top of slot r15 - 1 */
	jmp 3b

	.section .data
	.balign 4096
crt0_pml4:
	.quad crt0_pdpt + PTE_P + PTE_W
	.fill 511, 8, 0
crt0_pdpt:
	.quad 0x00000000 + PTE_P + PTE_W + PTE_PS
	.quad 0x40000000 + PTE_P + PTE_W + PTE_PS
	.quad 0x80000000 + PTE_P + PTE_W + PTE_PS
	.quad 0xc0000000 + PTE_P + PTE_W + PTE_PS
	.fill 508, 8, 0

crt0_bss_ready:
	.quad 0

	.balign 16
crt0_gdt:
	.quad 0
	.quad 0x00af9a000000ffff /* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff /* 0x10: data */
crt0_gdt_end:
crt0_gdt_ptr:
	.word crt0_gdt_end - crt0_gdt - 1
	.long crt0_gdt

	.section .bss
	.balign 8
	.globl svc_entry_counter
svc_entry_counter:
	.quad 0
	.balign 16
crt0_stack:
	.skip 16384
crt0_stack_top:
crt0_aux_stacks:
	.skip SVC_AUX_STACK_SIZE * (SVC_VCPU_MAX - 1)

	.section .note.GNU-stack, "", @progbits
