/*
 * The EL2 exception vectors (DDI 0487 D1.10.2: VBAR_EL2 + 0x000 current EL
 * with SP_EL0, 0x200 current EL with SP_ELx, 0x400 lower EL AArch64, 0x600
 * lower EL AArch32; sync, IRQ, FIQ, SError 0x80 apart), and the vCPU entry.
 *
 * While a guest runs, SP_EL2 is this CPU's stack top and TPIDR_EL2 points at
 * its struct arm64_cpu, which holds the running vCPU at ARM64_CPU_CURRENT
 * and the stack top at ARM64_CPU_STACK_TOP; the vCPU's
 * struct vcpu_arch is the first member of struct vcpu. A guest exit stores
 * x0-x19, x30, ELR_EL2 and SPSR_EL2 into it, keeps the vCPU pointer in x19,
 * and calls arm64_guest_sync(vcpu) (synchronous exits, the hypercall path,
 * which fits in its vector slot) or arm64_guest_exit(vcpu, kind) on the
 * empty stack; both return the vCPU to enter. If that is the same vCPU,
 * only those registers are reloaded: x20-x29 never left the CPU (the C
 * code preserves them, AAPCS64). Otherwise x20-x29 are stored too,
 * arm64_exit_switch() switches the EL1/FP state (vcpu.c) or idles, and the
 * new vCPU is entered with every register. So a hypercall back into the
 * same vCPU moves 21 registers each way and nothing else.
 *
 * An exception taken from EL2 itself is a kernel bug: the vectors push a
 * struct arm64_frame and call arm64_kernel_fault, which reports and stops.
 */
#include <arm64/cpu.h>
#include <arch_vcpu.h>
#include "asm_offsets.h"

.if ARM64_VCPU_TPIDR_EL0_OFFSET != ARM64_VCPU_SP_EL0_OFFSET + 8
.error "vectors.S: sp_el0 and tpidr_el0 must be a pair"
.endif

.macro kernel_vector num
	.balign	0x80
	sub	sp, sp, #ARM64_FRAME_SIZE
	stp	x0, x1, [sp, #0]
	mov	x1, #\num
	b	kernel_fault_common
.endm

/*
 * Store x2-x19, x30 (x0/x1 are on the stack), ELR_EL2, SPSR_EL2 into the
 * vCPU at x0, and keep the vCPU in x19. Uses x2 and x3 only: x1 passes on.
 */
.macro save_guest
	stp	x2, x3, [x0, #16]
	stp	x4, x5, [x0, #32]
	stp	x6, x7, [x0, #48]
	stp	x8, x9, [x0, #64]
	stp	x10, x11, [x0, #80]
	stp	x12, x13, [x0, #96]
	stp	x14, x15, [x0, #112]
	stp	x16, x17, [x0, #128]
	stp	x18, x19, [x0, #144]
	str	x30, [x0, #240]
	ldp	x2, x3, [sp], #16
	stp	x2, x3, [x0, #0]
	mrs	x2, elr_el2
	mrs	x3, spsr_el2
	stp	x2, x3, [x0, #ARM64_VCPU_PC_OFFSET]
	mov	x19, x0
.endm

/*
 * The hot path, whole in its 32-instruction slot. An exit with x0 = HC_CALL
 * or HC_REPLY_RECV tries the assembly IPC fastpath first (fastpath.S), before
 * anything is saved: it saves what it needs itself, and what it does not
 * before it comes back to arm64_guest_sync_c when it does not apply. The flags
 * of the test, whose Z tells HC_REPLY_RECV from HC_CALL, go with it. After
 * save_guest, an exit whose EC has its top bit set (0x20-0x3f: the aborts,
 * a lower-EL data abort 0x24 among them) goes to the emulation path's VM
 * side (emulpath.S), which comes back to arm64_guest_sync_c when it does not
 * apply; every other exit pays the 3 instructions of that test.
 */
.macro guest_sync_vector
	.balign	0x80
	stp	x0, x1, [sp, #-16]!
	sub	x1, x0, #ABI_HC_CALL
	cmp	x1, #ABI_HC_REPLY_RECV - ABI_HC_CALL
	mrs	x1, tpidr_el2
	ldr	x0, [x1, #ARM64_CPU_CURRENT]
	b.ls	arm64_ipc_fast			/* (x0 vcpu, x1 this CPU; Z: HC_REPLY_RECV) */
	save_guest
	mrs	x2, esr_el2
	tst	w2, #1 << 31			/* EC 0x20-0x3f: aborts among them */
	b.ne	arm64_emul_fast			/* (x0 = x19 vcpu, x1 this CPU, x2 ESR_EL2) */
	bl	arm64_guest_sync		/* (vcpu, this CPU) */
	b	guest_exit_return
.endm

.macro guest_vector kind
	.balign	0x80
	stp	x0, x1, [sp, #-16]!
	mov	x1, #\kind
	b	guest_exit_common
.endm

	.text
	.balign	0x800
	.global	arm64_el2_vectors
arm64_el2_vectors:
	kernel_vector 0		/* current EL, SP_EL0: sync */
	kernel_vector 1
	kernel_vector 2
	kernel_vector 3
	kernel_vector 4		/* current EL, SP_EL2: sync */
	kernel_vector 5		/* IRQ: never, EL2 runs with PSTATE.I set */
	kernel_vector 6
	kernel_vector 7
	guest_sync_vector		/* lower EL, AArch64 */
	guest_vector ARM64_EXIT_IRQ
	guest_vector ARM64_EXIT_FIQ
	guest_vector ARM64_EXIT_SERROR
	guest_vector ARM64_EXIT_SERROR	/* lower EL, AArch32: HCR_EL2.RW=1, never */
	guest_vector ARM64_EXIT_SERROR
	guest_vector ARM64_EXIT_SERROR
	guest_vector ARM64_EXIT_SERROR

guest_exit_common:
	mrs	x0, tpidr_el2
	ldr	x0, [x0, #ARM64_CPU_CURRENT]
	save_guest
	bl	arm64_guest_exit
	b	guest_exit_return

/*
 * fastpath.S's ways back when it does not apply: into arm64_guest_sync (x0
 * the vCPU, = x19; x1 this CPU), or with the vCPU to enter in x0.
 */
	.global	arm64_guest_sync_c
arm64_guest_sync_c:
	bl	arm64_guest_sync
	.global	arm64_guest_exit_return
arm64_guest_exit_return:
guest_exit_return:
	tbnz	x0, #0, guest_exit_set_rt
	cmp	x0, x19
	b.ne	guest_exit_switch
	/* Back into the same vCPU: reload what the C code may have changed. */
	ldp	x2, x3, [x0, #ARM64_VCPU_PC_OFFSET]
	msr	elr_el2, x2
	msr	spsr_el2, x3
	ldp	x2, x3, [x0, #16]
	ldp	x4, x5, [x0, #32]
	ldp	x6, x7, [x0, #48]
	ldp	x8, x9, [x0, #64]
	ldp	x10, x11, [x0, #80]
	ldp	x12, x13, [x0, #96]
	ldp	x14, x15, [x0, #112]
	ldp	x16, x17, [x0, #128]
	ldp	x18, x19, [x0, #144]
	ldr	x30, [x0, #240]
	ldp	x0, x1, [x0, #0]
	eret
	dsb	nsh			/* no straight-line speculation past ERET */
	isb

/*
 * The same vCPU, tagged (bit 0) by exit.c: an emulated register read went to
 * one of x20-x29, which the C code kept intact and the return above would
 * not reload, or an emulated write needs one of them. Store them, let
 * exit.c finish (arm64_exit_complete), enter with everything.
 */
guest_exit_set_rt:
	stp	x20, x21, [x19, #160]
	stp	x22, x23, [x19, #176]
	stp	x24, x25, [x19, #192]
	stp	x26, x27, [x19, #208]
	stp	x28, x29, [x19, #224]
	mov	x0, x19
	bl	arm64_exit_complete	/* apply it, or run the exit again (ARM64_RT_REDO) */
	b	arm64_vcpu_enter

/*
 * Another vCPU (or none): complete the old one's (x19) saved state with
 * x20-x29 before anything can let another CPU load it (vcpu.c clears its
 * live_on only after this), then switch and enter the new one.
 *
 * The hop between two services (a call, a reply: x19 and x0 both services)
 * takes a short cut when nothing unusual is pending: it does here what
 * arm64_exit_switch and arm64_vcpu_switch would do for it, and only that
 * (SP_EL0 and TPIDR_EL0 saved and loaded, the stage 2, loaded and live_on).
 * Anything else takes the C path: a VM on either side, no next vCPU, FP
 * state live in the registers, a reset or an abort pending for next, next
 * still held by another CPU, the service controls not loaded or the GIC's
 * virtual interface or FP not in a service's state, another HCR_EL2.
 */
	.global	arm64_guest_exit_switch		/* (fastpath.S: an emulated access's answer) */
arm64_guest_exit_switch:
guest_exit_switch:
	stp	x20, x21, [x19, #160]
	stp	x22, x23, [x19, #176]
	stp	x24, x25, [x19, #192]
	stp	x26, x27, [x19, #208]
	stp	x28, x29, [x19, #224]
	cbz	x0, 9f				/* idle */
	ldr	x2, [x19, #ARM64_VCPU_VM_OFFSET]
	cbnz	x2, 7f				/* a VM leaves: first, the emulation path's hop */
	ldr	x2, [x0, #ARM64_VCPU_VM_OFFSET]
	cbnz	x2, 8f				/* a VM comes back */
	mrs	x1, tpidr_el2
	ldr	x2, [x1, #ARM64_CPU_LOADED]
	cmp	x2, x19
	b.ne	9f
	ldr	w2, [x19, #ARM64_VCPU_FP_LIVE_OFFSET]
	ldr	w3, [x0, #ARM64_VCPU_RESET_PENDING_OFFSET]
	orr	w2, w2, w3
	ldr	w3, [x0, #ARM64_VCPU_PENDING_DABT_OFFSET]
	orr	w2, w2, w3
	ldr	x3, [x1, #ARM64_CPU_ICH_HCR]
	orr	x2, x2, x3
	cbnz	x2, 9f
	ldrb	w2, [x1, #ARM64_CPU_SERVICE_CONTROLS]
	ldrb	w3, [x1, #ARM64_CPU_FP_TRAPPING]
	and	w2, w2, w3
	cbz	w2, 9f
	ldr	x2, [x0, #ARM64_VCPU_HCR_OFFSET]
	ldr	x3, [x1, #ARM64_CPU_HCR]
	cmp	x2, x3
	b.ne	9f
	ldr	w4, [x1, #ARM64_CPU_INDEX]
	add	w4, w4, #1			/* live_on's name for this CPU */
	add	x5, x0, #ARM64_VCPU_LIVE_ON_OFFSET
	ldar	w2, [x5]
	cmp	w2, #0
	ccmp	w2, w4, #4, ne
	b.ne	9f				/* held by another CPU: it must let go first */
	/* prev's own registers, then it is no longer this CPU's (live_on released). */
	mrs	x2, sp_el0
	mrs	x3, tpidr_el0
	stp	x2, x3, [x19, #ARM64_VCPU_SP_EL0_OFFSET]	/* and TPIDR_EL0 */
	str	x0, [x1, #ARM64_CPU_LOADED]
	ldr	x2, [x1, #ARM64_CPU_VM_OWNER]
	ldr	x3, [x1, #ARM64_CPU_GIC_OWNER]
	cmp	x2, x19
	ccmp	x3, x19, #4, ne
	b.eq	1f
	add	x2, x19, #ARM64_VCPU_LIVE_ON_OFFSET
	stlr	wzr, [x2]
1:	str	w4, [x5]
	ldr	x2, [x0, #ARM64_VCPU_VTTBR_OFFSET]
	ldr	x3, [x1, #ARM64_CPU_VTTBR]
	cmp	x2, x3
	b.eq	2f
	msr	vttbr_el2, x2
	str	x2, [x1, #ARM64_CPU_VTTBR]
2:	ldp	x2, x3, [x0, #ARM64_VCPU_SP_EL0_OFFSET]
	msr	sp_el0, x2
	msr	tpidr_el0, x3
	isb
	b	arm64_vcpu_enter
7:	ldr	x2, [x0, #ARM64_VCPU_VM_OFFSET]
	cbnz	x2, 9f				/* VM -> VM: the full switch */
	bl	arm64_exit_switch_from_vm	/* vcpu.c; or arm64_exit_switch */
	b	arm64_vcpu_enter
8:	bl	arm64_exit_switch_to_vm
	b	arm64_vcpu_enter
9:	bl	arm64_exit_switch
	/* fall through: enter the vCPU it returned */

/* _Noreturn void arm64_vcpu_enter(struct vcpu *v): v's EL1 state must be loaded. */
	.global	arm64_vcpu_enter
arm64_vcpu_enter:
	mrs	x1, tpidr_el2
	str	x0, [x1, #ARM64_CPU_CURRENT]
	ldr	x2, [x1, #ARM64_CPU_STACK_TOP]
	mov	sp, x2
	ldp	x2, x3, [x0, #ARM64_VCPU_PC_OFFSET]
	msr	elr_el2, x2
	msr	spsr_el2, x3
	ldp	x2, x3, [x0, #16]
	ldp	x4, x5, [x0, #32]
	ldp	x6, x7, [x0, #48]
	ldp	x8, x9, [x0, #64]
	ldp	x10, x11, [x0, #80]
	ldp	x12, x13, [x0, #96]
	ldp	x14, x15, [x0, #112]
	ldp	x16, x17, [x0, #128]
	ldp	x18, x19, [x0, #144]
	ldp	x20, x21, [x0, #160]
	ldp	x22, x23, [x0, #176]
	ldp	x24, x25, [x0, #192]
	ldp	x26, x27, [x0, #208]
	ldp	x28, x29, [x0, #224]
	ldr	x30, [x0, #240]
	ldp	x0, x1, [x0, #0]
	eret
	dsb	nsh
	isb

kernel_fault_common:
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
	add	x2, sp, #ARM64_FRAME_SIZE
	stp	x30, x2, [sp, #240]
	mrs	x2, elr_el2
	mrs	x3, spsr_el2
	stp	x2, x3, [sp, #256]
	mrs	x2, esr_el2
	mrs	x3, far_el2
	stp	x2, x3, [sp, #272]
	mov	x0, sp
	bl	arm64_kernel_fault
1:	wfe
	b	1b
