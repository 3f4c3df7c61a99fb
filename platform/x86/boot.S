/*
 * Reset path of the x86_64 kernel: the multiboot headers, the 32-bit entry
 * that a multiboot loader jumps to, and the switch to long mode.
 *
 * A multiboot1 loader (QEMU -kernel) enters in 32-bit protected mode with
 * paging off, EAX = 0x2BADB002 and EBX = the multiboot information
 * (Multiboot Specification 0.6.96 §3.2); a multiboot2 loader (GRUB2) the
 * same with EAX = 0x36D76289 (Multiboot2 Specification §3.3). Both headers
 * ask for the whole file to be loaded at its link address (address fields,
 * load_end_addr = 0), which brings the boot package appended by tools/pack
 * along.
 *
 * Long mode needs PAE paging before EFER.LME and CR0.PG are set (AMD APM
 * vol 2 §14.6, Intel SDM vol 3 §10.8.5): the low 4 GiB are identity mapped
 * with 2 MiB pages, the top 16 MiB (IOAPIC, local APIC) uncacheable.
 */
#include <x86/layout.h>

#define MB1_MAGIC 0x1badb002
#define MB1_FLAGS 0x00010002 /* memory map wanted, address fields valid */
#define MB2_MAGIC 0xe85250d6
#define MB2_LENGTH (mb2_header_end - mb2_header)

#define PTE_P 0x001
#define PTE_W 0x002
#define PTE_PWT 0x008
#define PTE_PCD 0x010
#define PTE_PS 0x080

	.section .multiboot, "a"
	.balign 8
mb1_header:
	.long MB1_MAGIC
	.long MB1_FLAGS
	.long -(MB1_MAGIC + MB1_FLAGS)
	.long mb1_header     /* header_addr */
	.long __image_start  /* load_addr */
	.long 0              /* load_end_addr: the whole file */
	.long 0              /* bss_end_addr: the kernel zeroes its own BSS */
	.long x86_entry32    /* entry_addr */

	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long 0 /* i386 */
	.long MB2_LENGTH
	.long -(MB2_MAGIC + MB2_LENGTH)
	/* address tag */
	.word 2, 0
	.long 24
	.long mb2_header
	.long __image_start
	.long 0
	.long 0
	/* entry address tag */
	.word 3, 0
	.long 12
	.long x86_entry32
	.long 0 /* pad to 8 */
	/* end tag */
	.word 0, 0
	.long 8
mb2_header_end:

	.section .text.entry, "ax"
	.code32
	.globl x86_entry32
x86_entry32:
	cli
	cld
	mov %eax, %ebp /* loader magic; EBX holds the information pointer */

	/*
	 * Nothing below touches the BSS until the loader's information is
	 * saved: the BSS lies below the image (linker.ld), where the loader,
	 * which does not know about it, may have put that information. The
	 * page tables and the first stack are in .data for that reason.
	 */
	/* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages. */
	mov $x86_boot_pdpt, %eax
	or $(PTE_P | PTE_W), %eax
	mov %eax, x86_boot_pml4
	mov $x86_boot_pd, %eax
	or $(PTE_P | PTE_W), %eax
	xor %ecx, %ecx
1:	mov %eax, x86_boot_pdpt(, %ecx, 8)
	add $4096, %eax
	inc %ecx
	cmp $4, %ecx
	jne 1b

	mov $(PTE_P | PTE_W | PTE_PS), %eax
	xor %ecx, %ecx
2:	mov %eax, %edx
	cmp $2040, %ecx /* 0xff000000 and up: APIC MMIO, uncacheable */
	jb 3f
	or $(PTE_PCD | PTE_PWT), %edx
3:	mov %edx, x86_boot_pd(, %ecx, 8)
	add $0x200000, %eax
	inc %ecx
	cmp $2048, %ecx
	jne 2b

	mov $x86_boot_pml4, %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $0x220, %eax /* PAE, OSFXSR: FXSAVE/FXRSTOR include the XMM registers */
	mov %eax, %cr4
	mov $0xc0000080, %ecx /* EFER */
	rdmsr
	or $0x900, %eax /* LME | NXE */
	wrmsr
	mov %cr0, %eax
	or $0x80010001, %eax /* PG | WP | PE */
	mov %eax, %cr0

	lgdt x86_gdt_ptr
	ljmp $0x08, $entry64

	.code64
entry64:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	lea x86_early_stack_top(%rip), %rsp
	mov %ebp, %edi /* x86_save_boot_info(magic, info): copy it into .data */
	mov %ebx, %esi
	call x86_save_boot_info

	/* Now the BSS can be zeroed, and its stack used. */
	lea __bss_start(%rip), %rdi
	lea __bss_end(%rip), %rcx
	sub %rdi, %rcx
	shr $3, %rcx
	xor %eax, %eax
	rep stosq
	lea x86_stacks + X86_STACK_SIZE(%rip), %rsp
	mov %ebp, %edi /* x86_main(magic) */
	call x86_main
4:	cli
	hlt
	jmp 4b

/*
 * The GDT: 64-bit code, data, then one 16-byte TSS descriptor per CPU that
 * x86_cpu_init() fills in (selector 0x18 + 16 * cpu).
 */
	.section .data
	.balign 16
	.globl x86_gdt
x86_gdt:
	.quad 0
	.quad 0x00af9a000000ffff /* 0x08: code, 64-bit, DPL 0 */
	.quad 0x00cf92000000ffff /* 0x10: data */
	.fill 2 * X86_CPU_MAX, 8, 0
x86_gdt_end:
	.globl x86_gdt_ptr
x86_gdt_ptr:
	.word x86_gdt_end - x86_gdt - 1
	.quad x86_gdt

	/* Boot page tables and the first stack: in the image, not the BSS (above). */
	.section .data
	.balign 4096
	.globl x86_boot_pml4
x86_boot_pml4:
	.skip 4096
x86_boot_pdpt:
	.skip 4096
x86_boot_pd:
	.skip 4 * 4096
	.balign 16
x86_early_stack:
	.skip 4096
x86_early_stack_top:

	.section .note.GNU-stack, "", @progbits
