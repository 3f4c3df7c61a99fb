/*
 * dt-guest's entry: the arm64 Image header (Linux's
 * Documentation/arch/arm64/booting.rst: code0/code1, text_offset,
 * image_size, flags, the "ARM\x64" magic at 0x38), the boot CPU's entry
 * (x0 = the device tree, MMU off), the entry of the CPUs PSCI CPU_ON starts
 * (x0 = the context id: the CPU's index), the identity map that both turn on,
 * and the EL1 exception vectors.
 */
#define STACK_SIZE 0x2000
#define CPU_MAX 8

	.section .head, "ax"
	.global	_start
_start:
	b	primary_entry		/* code0 */
	.long	0			/* code1 */
	.quad	0			/* text_offset: the image goes at the start of RAM's 2 MiB block */
	.quad	_image_end - _start	/* image_size, with the BSS */
	.quad	0xa			/* flags: little-endian, 4 KiB pages, anywhere in RAM */
	.quad	0, 0, 0			/* res2, res3, res4 */
	.ascii	"ARM\x64"		/* magic */
	.long	0			/* res5: no PE header */

	.text
primary_entry:
	mov	x19, x0
	adrp	x1, stacks
	add	x1, x1, #:lo12:stacks
	add	sp, x1, #STACK_SIZE
	bl	mmu_on
	/* The BSS (the stacks too, unused yet) is zeroed with the MMU on: cacheable stores. */
	adrp	x1, __bss_start
	add	x1, x1, #:lo12:__bss_start
	adrp	x2, __bss_end
	add	x2, x2, #:lo12:__bss_end
1:	cmp	x1, x2
	b.hs	2f
	stp	xzr, xzr, [x1], #16
	b	1b
2:	mov	x0, x19
	bl	dt_main
3:	wfi
	b	3b

/* A CPU started by PSCI CPU_ON: x0 = its index (the context id), MMU off. */
	.global	secondary_entry
secondary_entry:
	mov	x19, x0
	cmp	x19, #CPU_MAX
	b.hs	3b
	adrp	x1, stacks
	add	x1, x1, #:lo12:stacks
	add	x2, x19, #1
	mov	x3, #STACK_SIZE
	madd	x1, x2, x3, x1
	add	sp, x1, #0
	bl	mmu_on
	mov	x0, x19
	bl	secondary_main
	b	3b

/*
 * The identity map (identity_l1 below) through TTBR0_EL1 with 4 KiB pages
 * and 32-bit addresses (T0SZ 32: the walk starts at level 1, a 1 GiB block
 * per entry), the vectors and FP/SIMD on. Uses x0-x2.
 */
mmu_on:
	mov	x0, #0xff00		/* MAIR: attr0 Device-nGnRnE, attr1 Normal write-back */
	msr	mair_el1, x0
	ldr	x0, =0x803520		/* TCR: T0SZ 32, walks inner/outer WB, inner shareable, EPD1 */
	msr	tcr_el1, x0
	adrp	x0, identity_l1
	msr	ttbr0_el1, x0
	adrp	x0, vectors
	add	x0, x0, #:lo12:vectors
	msr	vbar_el1, x0
	mov	x0, #(3 << 20)		/* CPACR_EL1.FPEN: libfdt may use SIMD registers */
	msr	cpacr_el1, x0
	dsb	ish
	tlbi	vmalle1
	dsb	ish
	isb
	ldr	x0, =0x30d01805		/* SCTLR_EL1: RES1 bits, M, C, I */
	msr	sctlr_el1, x0
	isb
	ret

	.macro	vector kind
	.balign	0x80
	b	\kind
	.endm

	.macro	unexpected_vector num
	.balign	0x80
	mov	x0, #\num
	mrs	x1, esr_el1
	mrs	x2, elr_el1
	mrs	x3, far_el1
	b	unexpected
	.endm

	.balign	0x800
vectors:
	unexpected_vector 0	/* current EL, SP_EL0 */
	unexpected_vector 1
	unexpected_vector 2
	unexpected_vector 3
	unexpected_vector 4	/* current EL, SP_ELx: sync */
	vector	irq_entry	/* IRQ */
	unexpected_vector 6
	unexpected_vector 7
	unexpected_vector 8	/* lower EL: never, it has no EL0 */
	unexpected_vector 9
	unexpected_vector 10
	unexpected_vector 11
	unexpected_vector 12
	unexpected_vector 13
	unexpected_vector 14
	unexpected_vector 15

/* An IRQ at EL1: the caller-saved registers around irq_handler() (built -mgeneral-regs-only). */
irq_entry:
	sub	sp, sp, #192
	stp	x0, x1, [sp, #0]
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x29, [sp, #144]
	mrs	x0, elr_el1
	mrs	x1, spsr_el1
	stp	x30, x0, [sp, #160]
	str	x1, [sp, #176]
	bl	irq_handler
	ldr	x1, [sp, #176]
	ldp	x30, x0, [sp, #160]
	msr	elr_el1, x0
	msr	spsr_el1, x1
	ldp	x0, x1, [sp, #0]
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x29, [sp, #144]
	add	sp, sp, #192
	eret

	.data
	.balign	4096
/* Level 1: 0-1 GiB device (never executable), 1-2 GiB normal memory (RAM at 0x40000000). */
identity_l1:
	.quad	0x0060000000000401
	.quad	0x0000000040000705
	.quad	0
	.quad	0

	.bss
	.balign	16
stacks:
	.space	STACK_SIZE * (CPU_MAX + 1)
