/*
 * The emulation path's VM side in assembly (issue 10): a VM's load or store
 * to a range of the manifest that a service emulates, from the data abort to
 * the ERET into that service, with no C frame (seL4's shape, as fastpath.S
 * for two services). The sync vector (vectors.S) branches here after its
 * save_guest for any exit whose ESR_EL2.EC has its top bit set (0x20-0x3f,
 * the aborts; this takes a lower-EL data abort, 0x24, alone): x0 and
 * x19 hold the vCPU (x0-x19, x30, PC and PSTATE stored in it), x1 this CPU's
 * struct arm64_cpu, x2 ESR_EL2; x20-x29 are still only the VM's own
 * registers (vectors.S's lazy save).
 *
 * It does exactly what the C path does for the common case, and only that:
 *
 *   exit.c exit_dabt     a valid syndrome (ISV, not on a stage-1 walk), a
 *                        translation fault, the IPA from HPFAR_EL2 and
 *                        FAR_EL2, outside the VM's vGIC frames
 *                        (arm64_virq_is_mmio), mmio_far
 *   trap.c               the kernel lock (tried once here), the VM still
 *   kernel_trap_mmio     running; next with no VCPU_AFTER_* work (the
 *                        preemption, fresh and relax ends are the C path's)
 *   emulate.c            the first of the partition's manifest ranges
 *   emul_access          (CFG_EMULATED_MMIO) that holds the whole access
 *                        (emul_holds), whose service is not stopped (its receiver)
 *   emul_send            v->mmio (address, arch_info, size, write, serial
 *                        + 1), v->kmsg (IPC_LABEL_MMIO, the six words, the
 *                        range's badge from emul_setup)
 *   ipc.c                kernel_sender, kmsg_endpoint; the endpoint's first
 *   ipc_kernel_call      receiver popped (it must be a service placed on
 *                        this CPU, as the VM is), queued_on cleared, the VM
 *                        BLOCKED_FAULT, the reply right, sched_donate,
 *                        sched_switch_to
 *   vcpu.c               the VM -> service hop under the same conditions
 *   arm64_exit_switch_   (this CPU loaded with the VM, no FP state live, FP
 *   from_vm              traps set, no VM's leftovers here yet, no single
 *                        step, no reset or abort pending for next, next not
 *                        held by another CPU): the VM's EL0-visible
 *                        registers saved and its EL1 and GIC state left here
 *                        (vm_owner, gic_owner), loaded and live_on, the
 *                        stage 2, the services' controls, SP_EL0/TPIDR_EL0,
 *                        ICH_HCR_EL2, HCR_EL2, hop_hcr
 *
 * The range is found first, from what boot set and nothing changes (the
 * manifest, the partitions' ids, emul_setup's badges); everything else is
 * checked under the kernel lock before anything changes; the IPC's stores
 * are made under it, the hop's after it, as the C path makes them. The service is entered with the message straight from the registers
 * (x0 STATUS_OK, x1 the badge, x2 the label, x3-x8 the six words; its saved
 * x0-x8 are not written, as fastpath.S does) and the rest of its registers
 * from its saved state. The VM's x20-x29 are stored before the message is
 * built, so a store whose source is one of them reads it as the C path
 * would after exit_redo.
 *
 * Anything else (another syndrome, the vGIC's frames, a service's own fault,
 * the lock held by another CPU, a stopped VM, an address in no manifest range
 * (the run-time routes, faults), a stopped service, no receiver, a receiver
 * on another CPU or with work pending, a hop the C switch must make) goes to
 * arm64_guest_sync exactly as the vector would have sent it: nothing changed,
 * the lock released or the exclusive monitor cleared, x0 and x1 set again,
 * x20-x29 untouched.
 */
#include <arm64/cpu.h>
#include <arch_vcpu.h>
#include "asm_offsets.h"

/* The loads and stores below assume these widths and layouts; a change stops the build. */
.if VCPU_STATE_SIZE != 4 || VCPU_CPU_SIZE != 4 || VCPU_ID_SIZE != 4 || VCPU_AFTER_SIZE != 1
.error "emulpath.S: a struct vcpu field changed width"
.endif
.if VCPU_INDEX_SIZE != 4 || VCPU_KMSG_ENDPOINT_SIZE != 4 || VCPU_MMIO_SIZE_SIZE != 4
.error "emulpath.S: a struct vcpu field changed width"
.endif
.if VCPU_MMIO_WRITE_SIZE != 1 || VCPU_MMIO_SERIAL_SIZE != 4 || VCPU_KERNEL_SENDER_SIZE != 1
.error "emulpath.S: a struct vcpu field changed width"
.endif
.if VCPU_LIVE_ON_SIZE != 4 || VCPU_FP_LIVE_SIZE != 4 || VCPU_RESET_PENDING_SIZE != 4 || VCPU_PENDING_DABT_SIZE != 4
.error "emulpath.S: a struct vcpu_arch field changed width"
.endif
.if VCPU_MMIO_ARCH_INFO != VCPU_MMIO_ADDRESS + 8 || VCPU_MMIO_ADDRESS < VCPU_KMSG_LABEL || VCPU_MMIO_SERIAL - VCPU_KMSG_LABEL > 500
.error "emulpath.S: mmio.address and mmio.arch_info must be a pair, mmio just after kmsg"
.endif
.if VCPU_KMSG_WORDS != VCPU_KMSG_LABEL + 8 || VCPU_KMSG_BADGE != VCPU_KMSG_WORDS + 48
.error "emulpath.S: struct kernel_msg changed"
.endif
.if EMUL_MMIO_SIZE_OFF != EMUL_MMIO_IPA + 8 || EMUL_MMIO_ENDPOINT_SIZE != 8 || EMUL_MMIO_INDEX_SIZE != 8
.error "emulpath.S: struct emul_mmio_range's ipa and size must be a pair, endpoint and index doublewords"
.endif
.if EMUL_MMIO_ENDPOINT_PTR != EMUL_MMIO_ENDPOINT + 8 || EMUL_MMIO_BADGE != EMUL_MMIO_INDEX + 8
.error "emulpath.S: struct emul_mmio_range's endpoint pair and index/badge pair changed"
.endif
.if PARTITION_EMUL_COUNT != PARTITION_EMUL_FIRST + 4 || PARTITION_EMUL_FIRST_SIZE != 4 || PARTITION_STOPPED_SIZE != 1 || PARTITION_EMUL_FIRST > 252
.error "emulpath.S: partition.emul_first and emul_count must be a pair of words near the top"
.endif
.if ARM64_CPU_GIC_OWNER != ARM64_CPU_VM_OWNER + 8 || ARM64_CPU_STEP_LIVE_SIZE != 1 || ARM64_CPU_STEP_LIVE != ARM64_CPU_FP_TRAPPING + 1
.error "emulpath.S: struct arm64_cpu changed"
.endif
.if ARM64_CPU_FP_TRAPPING_SIZE != 1 || ARM64_CPU_SERVICE_CONTROLS_SIZE != 1 || ARM64_CPU_HAS_SME_SIZE != 1
.error "emulpath.S: struct arm64_cpu changed"
.endif
.if VCPU_TPIDR_EL0 != VCPU_SP_EL0 + 8 || VCPU_PC != ARM64_VCPU_PC_OFFSET || VCPU_PSTATE != VCPU_PC + 8
.error "emulpath.S: sp_el0/tpidr_el0 and pc/pstate must be pairs"
.endif
.if VCPU_STATE_RUNNING != 1 || VCPU_X != 0 || KERNEL_LOCK_SIZE != 4 || SCHED_RUN_ON_SIZE != 4
.error "emulpath.S: VCPU_RUNNING 1, the saved registers first, a word lock and run_on"
.endif
.if EC_DABT_LOW_ASM < 0x20 || EC_DABT_LOW_ASM > 0x3f
.error "emulpath.S: the vector sends only ECs 0x20-0x3f here"
.endif
.if ISS_SSE_BIT != 21 || ISS_SF_BIT != 15 || ESR_IL_BIT != 25 || ABI_MMIO_SERIAL_SHIFT != 32
.error "emulpath.S: the syndrome's SRT/SSE, SF and IL, or the serial's place"
.endif

	.text
	.global	arm64_emul_fast
arm64_emul_fast:
	/*
	 * exit.c exit_dabt, in one test: a lower-EL data abort (EC), a valid
	 * syndrome (ISV), not on a stage-1 walk (S1PTW), a translation fault (the
	 * FSC's type); a permission fault (introspection) and the rest go to C.
	 */
	ldr	x3, =(ESR_FAST_WANT << 32) | ESR_FAST_MASK	/* both in one literal */
	and	w4, w2, w3
	cmp	x4, x3, lsr #32
	b.ne	arm64_guest_sync_c
	ldr	x4, [x19, #VCPU_VM]
	cbz	x4, 9f				/* a service's own fault */
	/*
	 * x3 = the IPA: HPFAR_EL2.FIPA (IPA[51:12] in bits [47:4], bits [3:0] RES0;
	 * the NS bit, 63, shifted out), FAR_EL2's page offset.
	 */
	mrs	x3, hpfar_el2
	mrs	x6, far_el2
	lsl	x3, x3, #PAGE_SHIFT_ASM - 4
	bfxil	x3, x6, #0, #PAGE_SHIFT_ASM
	/*
	 * x9 = the access's size, 1 << SAS. w30 = 1 from here on (the lock's
	 * value, VCPU_RUNNING, true): the VM's x30 is saved.
	 */
	mov	w30, #1
	ubfx	w9, w2, #22, #2
	lsl	w9, w30, w9

	/*
	 * emul_find's manifest half: the first of the VM's partition's MMIO ranges
	 * (its run of kernel.emul_mmio, emul_setup) that holds [x3, x3 + x9)
	 * (emul_holds); x13 = it, x7 = the offset in it. None: 9f (the run-time
	 * routes, or a fault: C). The runs are set at boot and never change: read
	 * before the lock, which a miss (a route: dm_route_round_trip) then does
	 * not pay for. No range can lie in the virtual GIC's frames (the manifest
	 * check refuses one over the kernel's models, boot_kept.view), so these
	 * accesses are never the vGIC's (arm64_virq_is_mmio, which C tests first).
	 */
	ldr	x12, [x19, #VCPU_PART]
	ldp	w13, w14, [x12, #PARTITION_EMUL_FIRST]	/* and emul_count */
	cbz	w14, 9f
	ldr	x15, =kernel + KERNEL_EMUL_MMIO
	add	x13, x15, x13, lsl #EMUL_MMIO_SHIFT
1:	ldp	x15, x16, [x13, #EMUL_MMIO_IPA]		/* and size */
	sub	x7, x3, x15			/* the offset (huge below the range) */
	adds	x15, x7, x9			/* offset + len, carry if it wrapped */
	ccmp	x15, x16, #2, cc		/* then offset + len <= size; a wrap: "hi" */
	b.ls	3f
	add	x13, x13, #1 << EMUL_MMIO_SHIFT
	subs	w14, w14, #1
	b.ne	1b
	b	9f

3:
	/*
	 * The kernel lock, tried once (held elsewhere: 7f, the C path waits for it);
	 * everything after it is read under it. x18 = the lock; w30 is 1.
	 */
	ldr	x18, [x1, #ARM64_CPU_KERNEL_LOCK]
0:	ldaxr	w10, [x18]
	cbnz	w10, 7f
	stxr	w11, w30, [x18]
	cbnz	w11, 0b
	/*
	 * The range's endpoint (x10) and its first receiver (x17). No test of
	 * the service's `stopped` (emul_access's): only the range's service
	 * receives on its endpoint (the manifest check), and a service that
	 * stopped for good has no vCPU queued there (ipc_cancel), so a receiver
	 * here is a running service's; a missing one is C's to handle.
	 */
	ldp	x16, x10, [x13, #EMUL_MMIO_ENDPOINT]	/* and its address */
	ldr	x17, [x10, #ENDPOINT_RECEIVERS_HEAD]
	cbz	x17, 8f

	/*
	 * The VM still running (not stopped from another CPU meanwhile), and
	 * next (x17) a service placed on this CPU, as the VM (x19) is, with no
	 * VCPU_AFTER_* work, and the hop needs nothing of the full switch
	 * (arm64_exit_switch_from_vm's conditions): this CPU loaded with the VM,
	 * no FP state of it live and FP traps set, no VM's EL1 or GIC state left
	 * here (vm_owner, gic_owner), no single-step, no reset or abort pending for
	 * next, and next not held by another CPU. w11 = live_on's name for this
	 * CPU, x14 = next's live_on.
	 */
	ldr	w11, [x1, #ARM64_CPU_INDEX]
	ldr	w12, [x17, #VCPU_CPU]
	ldr	w15, [x19, #VCPU_CPU]
	/* One chain of compares: each runs only while all before it held (eq). */
	cmp	w12, w11
	ccmp	w15, w11, #0, eq
	ldr	w15, [x19, #VCPU_STATE]
	ccmp	w15, #VCPU_STATE_RUNNING, #0, eq
	ldr	x12, [x17, #VCPU_VM]
	ldrb	w15, [x17, #VCPU_AFTER]
	orr	x12, x12, x15
	ldr	x15, [x17, #VCPU_RESET_PENDING]	/* and pending_dabt */
	orr	x12, x12, x15
	ccmp	x12, #0, #0, eq
	ldr	x15, [x1, #ARM64_CPU_LOADED]
	ccmp	x15, x19, #0, eq
	ldp	x15, x4, [x1, #ARM64_CPU_VM_OWNER]	/* and gic_owner */
	orr	x15, x15, x4
	ccmp	x15, #0, #0, eq
	/*
	 * FP traps set (so no FP state of the VM live: fp_live is set only with
	 * them off, fastpath.S) and no single-step: fp_trapping 1, step_live 0.
	 */
	ldrh	w15, [x1, #ARM64_CPU_FP_TRAPPING]	/* and step_live */
	ccmp	w15, #1, #0, eq
	b.ne	8f
	add	w11, w11, #1			/* live_on's name for this CPU */
	add	x14, x17, #VCPU_LIVE_ON
	ldar	w12, [x14]
	cmp	w12, #0
	ccmp	w12, w11, #4, ne
	b.ne	8f				/* held by another CPU: the C path waits */

	/*
	 * Taken. The VM's x20-x29 first (the hop needs them; a store may read one),
	 * then emul_send: the access in v->mmio, a new serial number, the message
	 * built where the kernel keeps it, in x3-x8 too: x3 the address, x4 size
	 * and write, x5 the value stored (0 for a load), x6 index and serial, x7
	 * the offset, x8 the range's index. x16 = its badge.
	 */
	stp	x20, x21, [x19, #160]
	stp	x22, x23, [x19, #176]
	stp	x24, x25, [x19, #192]
	stp	x26, x27, [x19, #208]
	stp	x28, x29, [x19, #224]
	str	x6, [x19, #VCPU_MMIO_FAR]
	str	w16, [x19, #VCPU_KMSG_ENDPOINT]
	ldp	x8, x16, [x13, #EMUL_MMIO_INDEX]	/* and the badge */
	add	x13, x19, #VCPU_KMSG_LABEL	/* v->kmsg, with v->mmio near it */
	stp	x3, x2, [x13, #VCPU_MMIO_ADDRESS - VCPU_KMSG_LABEL]	/* and arch_info: the syndrome */
	ubfx	w15, w2, #ISS_WNR_BIT, #1
	str	w9, [x13, #VCPU_MMIO_SIZE - VCPU_KMSG_LABEL]
	strb	w15, [x13, #VCPU_MMIO_WRITE - VCPU_KMSG_LABEL]
	orr	w4, w9, w15, lsl #ABI_MMIO_WRITE_SHIFT
	mov	x5, #0
	cbz	w15, 4f
	ubfx	w12, w2, #16, #5		/* a store: Xt, or 0 for XZR */
	cmp	w12, #31
	b.eq	4f
	ldr	x5, [x19, x12, lsl #3]
4:	ldr	w12, [x13, #VCPU_MMIO_SERIAL - VCPU_KMSG_LABEL]
	add	w12, w12, #1
	str	w12, [x13, #VCPU_MMIO_SERIAL - VCPU_KMSG_LABEL]
	ldr	w6, [x19, #VCPU_INDEX]
	orr	x6, x6, x12, lsl #ABI_MMIO_SERIAL_SHIFT
	mov	x2, #ABI_LABEL_MMIO
	stp	x2, x3, [x13]			/* the label, words[0] */
	stp	x4, x5, [x13, #16]
	stp	x6, x7, [x13, #32]
	stp	x8, x16, [x13, #48]		/* words[5], the badge */

	/* ipc_kernel_call, ipc_call_invoke: the receiver popped (vcpu_queue_pop), the call. */
	strb	w30, [x19, #VCPU_KERNEL_SENDER]
	ldr	x12, [x17, #VCPU_NEXT]
	str	x12, [x10, #ENDPOINT_RECEIVERS_HEAD]
	cbnz	x12, 5f
	str	xzr, [x10, #ENDPOINT_RECEIVERS_TAIL]
5:	str	xzr, [x17, #VCPU_NEXT]
	str	xzr, [x17, #VCPU_QUEUED_ON]
	mov	w12, #VCPU_STATE_BLOCKED_FAULT
	str	w12, [x19, #VCPU_STATE]
	str	x19, [x17, #VCPU_CALLER]
	/* sched_donate: next runs on the VM's context, run_on[v] - 1 or v's own. */
	ldr	x12, [x1, #ARM64_CPU_SCHED_RUN_ON]
	ldr	w13, [x19, #VCPU_ID]
	ldr	w15, [x12, x13, lsl #2]
	add	w13, w13, #1
	cmp	w15, #SCHED_NONE
	csel	w15, w13, w15, eq
	ldr	w13, [x17, #VCPU_ID]
	str	w15, [x12, x13, lsl #2]
	/* sched_switch_to, then the lock is released. */
	str	w30, [x17, #VCPU_STATE]		/* VCPU_RUNNING */
	ldr	x12, [x1, #ARM64_CPU_SCHED_CURRENT]
	str	x17, [x12]
	stlr	wzr, [x18]

	/*
	 * The hop, as arm64_exit_switch_from_vm makes it: el0_save (the VM's
	 * registers that act on EL0 or are visible there; CNTV_CTL_EL0 silenced),
	 * no VM timer deadline, the VM's EL1 and GIC state left here, next loaded
	 * and held (live_on), its stage 2, the services' controls, its SP_EL0 and
	 * TPIDR_EL0, no virtual interface, its HCR_EL2 (hop_hcr with it). The
	 * ERET synchronizes the writes (SCTLR_EL2.EOS, head.S), as fastpath.S's.
	 */
	mrs	x12, sctlr_el1
	mrs	x13, cntkctl_el1
	str	x12, [x19, #VCPU_EL1_SCTLR]
	str	x13, [x19, #VCPU_EL1_CNTKCTL]
	mrs	x12, cpacr_el1
	str	x12, [x19, #VCPU_EL1_CPACR]
	mrs	x12, sp_el0
	mrs	x13, tpidr_el0
	stp	x12, x13, [x19, #VCPU_SP_EL0]	/* and TPIDR_EL0 */
	mrs	x12, tpidrro_el0
	str	x12, [x19, #VCPU_EL1_TPIDRRO_EL0]
	mrs	x12, cntv_ctl_el0
	str	x12, [x19, #VCPU_EL1_CNTV_CTL]
	ldrb	w15, [x1, #ARM64_CPU_HAS_SME]
	cbz	w15, 6f
	mrs	x12, S3_3_C13_C0_5		/* TPIDR2_EL0: saved, and none for the service */
	str	x12, [x19, #VCPU_EL1_TPIDR2]
	msr	S3_3_C13_C0_5, xzr
6:	msr	cntv_ctl_el0, xzr
	str	xzr, [x1, #ARM64_CPU_GUEST_DEADLINE_NS]
	stp	x19, x19, [x1, #ARM64_CPU_VM_OWNER]	/* and gic_owner */
	str	x17, [x1, #ARM64_CPU_LOADED]
	str	w11, [x14]
	ldr	x12, [x17, #VCPU_VTTBR]		/* a service's, never the VM's: written */
	msr	vttbr_el2, x12
	str	x12, [x1, #ARM64_CPU_VTTBR]
	/* A VM ran, so service_controls is false (every load of a VM clears it). */
	ldr	x12, =SCTLR_SERVICE_ASM		/* vcpu.c service_controls */
	msr	sctlr_el1, x12
	mov	x12, #CNTKCTL_SERVICE_ASM
	msr	cntkctl_el1, x12
	mov	x12, #CPACR_FPEN_ASM
	msr	cpacr_el1, x12
	msr	tpidrro_el0, xzr		/* (TPIDR2_EL0 cleared above, with SME) */
	strb	w30, [x1, #ARM64_CPU_SERVICE_CONTROLS]
	ldp	x12, x13, [x17, #VCPU_SP_EL0]
	msr	sp_el0, x12
	msr	tpidr_el0, x13
	msr	S3_4_C12_C11_0, xzr		/* ICH_HCR_EL2: a service has no virtual interface */
	str	xzr, [x1, #ARM64_CPU_ICH_HCR]
	ldr	x12, [x17, #VCPU_HCR]
	msr	hcr_el2, x12			/* a service's, never the VM's (TGE) */
	str	x12, [x1, #ARM64_CPU_HCR]
	str	x12, [x1, #ARM64_CPU_HOP_HCR]
	str	x17, [x1, #ARM64_CPU_CURRENT]

	/* Enter next: x0 status, x1 badge, x2 label, x3-x8 the words, the rest its own. */
	ldp	x9, x10, [x17, #VCPU_PC]
	msr	elr_el2, x9
	msr	spsr_el2, x10
	mov	x0, #ABI_STATUS_OK
	mov	x1, x16
	ldr	x9, [x17, #72]
	ldp	x10, x11, [x17, #80]
	ldp	x12, x13, [x17, #96]
	ldp	x14, x15, [x17, #112]
	ldp	x18, x19, [x17, #144]
	ldp	x20, x21, [x17, #160]
	ldp	x22, x23, [x17, #176]
	ldp	x24, x25, [x17, #192]
	ldp	x26, x27, [x17, #208]
	ldp	x28, x29, [x17, #224]
	ldr	x30, [x17, #240]
	ldp	x16, x17, [x17, #128]
	eret
	dsb	nsh				/* no straight-line speculation past ERET */
	isb

	/*
	 * Not taken: nothing changed. The lock released (8), or the exclusive
	 * monitor cleared (7); then arm64_guest_sync as the vector calls it (x0
	 * the vCPU and x1 this CPU, which nothing above changed before the ERET's
	 * path), which reads the syndrome again.
	 */
7:	clrex
	b	arm64_guest_sync_c
8:	stlr	wzr, [x18]
9:	b	arm64_guest_sync_c

	.ltorg
