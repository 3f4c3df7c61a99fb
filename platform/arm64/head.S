/*
 * Entry from the boot loader (QEMU's -kernel) and from PSCI CPU_ON.
 *
 * The image starts with the arm64 Image header of the Linux boot protocol
 * (Documentation/arch/arm64/booting.rst): QEMU recognises the "ARM\x64"
 * magic at offset 0x38, loads the whole file at a 2 MiB aligned RAM base
 * plus text_offset, and enters the first instruction at EL2 with the
 * physical address of its device tree in x0, MMU and caches off.
 *
 * The boot CPU: enable the PMU cycle counter (so partitions can count
 * instructions from reset), take CPU 0's stack, build and enable the EL2
 * identity map, clear BSS, set the EL2 controls, and call arm64_boot_main.
 * A secondary CPU (PSCI CPU_ON, context = its index) does the same without
 * building tables or clearing BSS, and calls arm64_secondary_main.
 */
#include <arm64/cpu.h>

/* MAIR_EL2 (DDI 0487 D13.2.95): index 0 Device-nGnRE, index 1 Normal WB RW-allocate. */
#define MAIR_VALUE 0xff04
/* TCR_EL2 (E2H=0, D13.2.131): T0SZ=16 (48-bit VA), IRGN0=ORGN0=WB, SH0=inner, TG0=4K, RES1 31/23. */
#define TCR_VALUE ((1 << 31) | (1 << 23) | (3 << 12) | (1 << 10) | (1 << 8) | 16)
/* SCTLR_EL2 (E2H=0, D13.2.119): RES1 bits, then M, C, SA, I. Alignment checks (A) stay off. */
#define SCTLR_EL2_VALUE (0x30c50830 | (1 << 0) | (1 << 2) | (1 << 3) | (1 << 12))
/*
 * CPTR_EL2 (E2H=0, D13.2.33): RES1 bits; TFP=0 so FP/SIMD does not trap at
 * boot (libfdt uses v0/v1); TZ (bit 8) traps SVE. vcpu.c sets TFP once
 * guests run, to switch their FP state lazily.
 */
#define CPTR_EL2_VALUE 0x33ff

	.section .text.head, "ax"
	.global _start
_start:
	b	arm64_entry		/* code0 */
	.long	0			/* code1 */
	.quad	0x80000			/* text_offset */
	.quad	__image_size		/* image_size: kernel plus the package budget (kernel.ld) */
	.quad	0xa			/* flags: little endian, 4 KiB pages, anywhere in RAM */
	.quad	0			/* res2 */
	.quad	0			/* res3 */
	.quad	0			/* res4 */
	.ascii	"ARM\x64"		/* magic, offset 0x38 */
	.long	0			/* res5 */

arm64_entry:
	/*
	 * The cycle counter first: PMCCFILTR_EL0.NSH counts EL2 too, PMCR_EL0.E
	 * enables, PMCNTENSET_EL0 bit 31 selects the cycle counter (D13.3).
	 */
	mov	x9, #(1 << 27)
	msr	pmccfiltr_el0, x9
	mov	x9, #(1 << 31)
	msr	pmcntenset_el0, x9
	mrs	x9, pmcr_el0
	orr	x9, x9, #1
	msr	pmcr_el0, x9

	mov	x19, x0				/* the firmware DTB */
	msr	daifset, #0xf
	mrs	x9, CurrentEL
	cmp	x9, #(2 << 2)
	b.ne	not_el2

	adrp	x9, arm64_stacks
	add	x9, x9, #:lo12:arm64_stacks
	mov	x10, #ARM64_STACK_SIZE
	add	sp, x9, x10			/* CPU 0's stack */
	bl	arm64_mmu_build			/* MMU off: only aligned stores */
	bl	mmu_on

	/*
	 * BSS; the image carries it as zeros, but a warm boot need not. With
	 * the MMU on, DC ZVA zeroes a whole block per instruction (DCZID_EL0
	 * gives its size, 4 << BS bytes, and DZP forbids it); BSS is 4 KiB
	 * aligned (kernel.ld), so only the tail may need 16-byte stores.
	 */
	adrp	x9, __bss_start
	add	x9, x9, #:lo12:__bss_start
	adrp	x10, __bss_end
	add	x10, x10, #:lo12:__bss_end
	mrs	x11, dczid_el0
	tbnz	x11, #4, 2f			/* DZP: no DC ZVA */
	and	x11, x11, #0xf
	mov	x12, #4
	lsl	x12, x12, x11			/* block size in bytes */
	sub	x13, x10, x12, lsl #2		/* last start with 4 whole blocks left */
1:	cmp	x9, x13
	b.hi	4f
	dc	zva, x9
	add	x9, x9, x12
	dc	zva, x9
	add	x9, x9, x12
	dc	zva, x9
	add	x9, x9, x12
	dc	zva, x9
	add	x9, x9, x12
	b	1b
4:	add	x13, x9, x12			/* then single blocks */
	cmp	x13, x10
	b.hi	2f
	dc	zva, x9
	mov	x9, x13
	b	4b
2:	cmp	x9, x10
	b.hs	3f
	stp	xzr, xzr, [x9], #16
	b	2b
3:
	bl	el2_setup
	mov	x0, x19
	bl	arm64_boot_main
not_el2:
	wfe
	b	not_el2

/* PSCI CPU_ON target: x0 = this CPU's index (the context_id we passed). */
	.global arm64_secondary_entry
arm64_secondary_entry:
	mov	x9, #(1 << 27)
	msr	pmccfiltr_el0, x9
	mov	x19, x0
	msr	daifset, #0xf
	adrp	x9, arm64_stacks
	add	x9, x9, #:lo12:arm64_stacks
	mov	x10, #ARM64_STACK_SIZE
	madd	x9, x19, x10, x9
	add	sp, x9, x10
	bl	mmu_on
	bl	el2_setup
	mov	x0, x19
	bl	arm64_secondary_main
	b	not_el2

/* Turn the EL2 stage-1 MMU on with the tables arm64_mmu_build wrote. */
mmu_on:
	ldr	x9, =MAIR_VALUE
	msr	mair_el2, x9
	mrs	x10, id_aa64mmfr0_el1
	and	x10, x10, #7			/* PARange */
	cmp	x10, #5
	mov	x11, #5
	csel	x10, x10, x11, ls		/* at most 48 bits: our tables cover 48 */
	ldr	x9, =TCR_VALUE
	orr	x9, x9, x10, lsl #16		/* PS */
	msr	tcr_el2, x9
	adrp	x9, arm64_pt_l0
	msr	ttbr0_el2, x9
	dsb	sy
	isb
	tlbi	alle2
	dsb	ish
	isb
	ldr	x9, =SCTLR_EL2_VALUE
	msr	sctlr_el2, x9
	isb
	ret

/* EL2 controls every CPU needs before C code and before any guest. */
el2_setup:
	adrp	x9, arm64_el2_vectors
	add	x9, x9, #:lo12:arm64_el2_vectors
	msr	vbar_el2, x9
	mov	x9, #CPTR_EL2_VALUE
	msr	cptr_el2, x9
	/* Stage 2 off until a guest is entered; EL1 is AArch64. */
	mov	x9, #(1 << 31)
	msr	hcr_el2, x9
	/*
	 * MDCR_EL2 (D13.2.99): HPMN = PMCR_EL0.N; TPM and TPMCR trap every
	 * PMU register access from EL0/EL1 (exit.c: the counters read as the
	 * machine's, nothing is written), and TDA, TDOSA and TDRA the debug
	 * registers: neither is switched between partitions.
	 */
	mrs	x9, pmcr_el0
	ubfx	x9, x9, #11, #5
	orr	x9, x9, #(7 << 9)
	orr	x9, x9, #(3 << 5)
	msr	mdcr_el2, x9
	msr	pmuserenr_el0, xzr
	/* CNTHCTL_EL2: EL1 may read the physical counter; EL1 physical timer traps. */
	mov	x9, #1
	msr	cnthctl_el2, x9
	msr	cntvoff_el2, xzr
	isb
	ret

	.section .bss.stacks, "aw", %nobits
	.balign 16
	.global arm64_stacks
arm64_stacks:
	.space	ARM64_STACK_SIZE * ARM64_CPU_MAX
