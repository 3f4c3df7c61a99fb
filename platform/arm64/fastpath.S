/*
 * The IPC fastpath in assembly: HC_CALL and HC_REPLY_RECV between two
 * services on one CPU, with no C frame (seL4's shape). The sync vector
 * (vectors.S) branches here for any exit whose x0 is HC_CALL or
 * HC_REPLY_RECV before it saves anything: x0 holds the vCPU, x1 this CPU's
 * struct arm64_cpu, the stack prev's x0 and x1; x2-x8 still hold the
 * message words, x9-x30 prev's own registers. This saves x9-x19, x30, ELR
 * and SPSR first; prev's x0-x8 only on the ways back to C.
 *
 * It does exactly what exit_ipc's C fastpath (kernel/ipc.c ipc_fast) and
 * the service -> service hop of guest_exit_switch (vectors.S) do for the
 * two commonest cases, and only those:
 *
 *   HC_CALL        the endpoint capability (slot, type, send) and the
 *                  label's kernel bit; the endpoint's first receiver is a
 *                  service placed on this CPU with no VCPU_AFTER_* work:
 *                  it is popped, the caller BLOCKED_REPLY with the badge
 *                  kept as send_badge, the reply right, the donation
 *                  (sched_donate), the receiver current (sched_switch_to)
 *   HC_REPLY_RECV  the caller is a service's call (BLOCKED_REPLY, a service
 *                  on this CPU with no VCPU_AFTER_* work); the capability
 *                  (recv) and label; no sender queued on the endpoint: the
 *                  reply right taken, `replied` set, sched_return, the
 *                  server queued as a receiver, the caller current
 *   HC_REPLY_RECV  the caller is a VM's emulated access (BLOCKED_FAULT, its
 *                  IPC_LABEL_MMIO message) answered IPC_MMIO_DONE: the same,
 *                  with emul_reply's completion, then the hop to the VM here
 *                  (vm_hop_check, vm_hop) or in C (guest_exit_switch)
 *
 * and then, between two services, the hop: the same checks as guest_exit_switch (the CPU loaded
 * with prev, no live FP, no reset or abort pending for next, the service
 * controls and FP traps in place, no virtual interface work, the same
 * HCR_EL2, next not held by another CPU), all made under the kernel lock
 * before anything changes. The message is never copied: x2-x8 pass in the
 * registers, x0 becomes STATUS_OK and x1 the badge (0 on a reply), and next's
 * other registers come from its saved state.
 *
 * Anything else, or the kernel lock held by another CPU (it is only tried),
 * goes unchanged to the C fastpath (ipc_fast) and the hypercall path (a
 * service's HC_CALL or HC_REPLY_RECV), as arm64_guest_sync would send it, or to
 * arm64_guest_sync (anything else), which handle
 * every case as before (a VM's call or answer, other kernel messages, fault,
 * abort and introspection answers, queues, another CPU, errors).
 *
 * Offsets and constants come from asm_offsets.h, generated at build time
 * from the C structs (asm_offsets.c, tools/asm-offsets).
 */
#include <arm64/cpu.h>
#include <arch_vcpu.h>
#include "asm_offsets.h"

/* The loads below assume these widths; a changed struct stops the build. */
.if VCPU_STATE_SIZE != 4 || VCPU_CPU_SIZE != 4 || VCPU_ID_SIZE != 4 || VCPU_AFTER_SIZE != 1
.error "fastpath.S: a struct vcpu field changed width"
.endif
.if VCPU_KERNEL_SENDER_SIZE != 1 || VCPU_LIVE_ON_SIZE != 4 || VCPU_FP_LIVE_SIZE != 4
.error "fastpath.S: a struct vcpu field changed width"
.endif
.if VCPU_RESET_PENDING_SIZE != 4 || VCPU_PENDING_DABT_SIZE != 4 || PARTITION_REPLIED_SIZE != 1
.error "fastpath.S: a field changed width"
.endif
.if CAP_RIGHTS != CAP_TYPE + 4 || CAP_RIGHTS_SIZE != 4 || CAP_OBJECT_SIZE != 4
.error "fastpath.S: struct cap changed"
.endif
.if MEMO_ENDPOINT != MEMO_SLOT + 8 || MEMO_BADGE != MEMO_ENDPOINT + 8 || ABI_CAP_SLOT_COUNT > 32
.error "fastpath.S: struct ipc_memo changed, or a slot count the chain's immediate cannot hold"
.endif
.if SCHED_RUN_ON_SIZE != 4 || KERNEL_LOCK_SIZE != 4 || VCPU_X != 0
.error "fastpath.S: run_on, the kernel lock or the saved registers changed"
.endif
.if VCPU_PC != ARM64_VCPU_PC_OFFSET || VCPU_PSTATE != VCPU_PC + 8
.error "fastpath.S: pc and pstate must be a pair"
.endif
.if ENDPOINT_RECEIVERS_TAIL != ENDPOINT_RECEIVERS_HEAD + 8 || VCPU_STATE_RUNNING != 1
.error "fastpath.S: the receivers' head and tail must be a pair, VCPU_RUNNING 1"
.endif
.if VCPU_MMIO_WRITE_SIZE != 1 || VCPU_MMIO_SIZE_SIZE != 4 || ABI_MMIO_DONE != 0
.error "fastpath.S: the emulated access's fields changed"
.endif
.if VCPU_LR_DIRTY_SIZE != 4 || VCPU_PTIMER_CTL_SIZE != 4 || VCPU_PTIMER_LINE_SIZE != 4
.error "fastpath.S: a struct vcpu_arch field changed width"
.endif
.if VCPU_SYSREG_PENDING_SIZE != 4 || VCPU_VMI_STEP_SIZE != 4 || ARM64_CPU_STEP_LIVE_SIZE != 1
.error "fastpath.S: a field changed width"
.endif
.if ARM64_CPU_SERVICE_CONTROLS_SIZE != 1
.error "fastpath.S: service_controls changed width"
.endif
/* The rare work in two loads (arch_vcpu.h), live_on and lr_dirty in one. */
.if VCPU_PENDING_DABT != VCPU_RESET_PENDING + 4 || VCPU_SYSREG_PENDING != VCPU_RESET_PENDING + 8 || VCPU_VMI_STEP != VCPU_RESET_PENDING + 12 || VCPU_RESET_PENDING % 8 != 0
.error "fastpath.S: reset_pending, pending_dabt, sysreg_pending, vmi_step must be one aligned block"
.endif
.if VCPU_PTIMER_LINE != VCPU_PTIMER_CTL + 4 || VCPU_PTIMER_CTL % 8 != 0 || PTIMER_ENABLE_BIT != 0
.error "fastpath.S: ptimer_ctl and ptimer_line must be an aligned pair, ENABLE bit 0"
.endif
.if VCPU_LR_DIRTY != VCPU_LIVE_ON + 4 || VCPU_LIVE_ON % 8 != 0
.error "fastpath.S: live_on and lr_dirty must be an aligned pair"
.endif
.if VCPU_TPIDR_EL0 != VCPU_SP_EL0 + 8
.error "fastpath.S: sp_el0 and tpidr_el0 must be a pair"
.endif

/*
 * x14 = the endpoint capability in slot x12 of prev's (x19) table, with
 * right \right; otherwise to 8f (unlock and take the C path). The label
 * (x2) must not carry the kernel bit. x15 = its endpoint, x16 = its badge (send only),
 * x13 = prev's partition.
 */
.macro endpoint_cap right
	cmp	x12, #ABI_CAP_SLOT_COUNT
	b.hs	8f
	ldr	x13, [x19, #VCPU_PART]
	mov	x15, #CAP_SIZE
	madd	x14, x12, x15, x13
	ldp	w9, w10, [x14, #PARTITION_CAPS + CAP_TYPE]
	cmp	w9, #ABI_CAP_ENDPOINT
	b.ne	8f
	tst	w10, #\right
	b.eq	8f
	tbnz	x2, #ABI_LABEL_KERNEL_BIT, 8f
	ldr	w9, [x14, #PARTITION_CAPS + CAP_OBJECT]
	.if \right == ABI_RIGHT_EP_SEND		/* a call's badge; a reply carries none */
	ldr	x16, [x14, #PARTITION_CAPS + CAP_BADGE]
	.endif
	ldr	x15, [x1, #ARM64_CPU_ENDPOINTS]
	add	x15, x15, x9, lsl #ENDPOINT_SHIFT
.endm

/*
 * endpoint_cap through prev's partition's memo of it (struct ipc_memo, one
 * for calls, one for answers): the same x15 (and x16 for a call) and x13 as
 * the lookup gives, in 7 instructions instead of 15, when the slot is the one
 * the memo was made for; else the lookup (the proved cap_lookup's checks, as
 * endpoint_cap makes them), which makes the memo anew, out of the hot line.
 * A memo holds only what a lookup found under the kernel lock and is
 * forgotten under it at every change to the table (partition_caps_changed),
 * so a hit is the lookup's answer. A forgotten memo's slot is CAP_SLOT_COUNT
 * or more, which no call's slot passes: the slot is tested against the
 * count as well (in one chain: a mismatch reads as "hi").
 */
.macro endpoint_memo right, memo
	ldr	x13, [x19, #VCPU_PART]
	ldr	x9, [x13, #\memo + MEMO_SLOT]
	cmp	x9, x12
	ccmp	x12, #ABI_CAP_SLOT_COUNT - 1, #2, eq
	b.hi	.Lmemo_miss\@
	.if \right == ABI_RIGHT_EP_SEND
	ldp	x15, x16, [x13, #\memo + MEMO_ENDPOINT]	/* and the badge */
	.else
	ldr	x15, [x13, #\memo + MEMO_ENDPOINT]
	.endif
.Lmemo_hit\@:
	tbnz	x2, #ABI_LABEL_KERNEL_BIT, 8f
	.subsection 1
.Lmemo_miss\@:
	endpoint_cap \right
	.if \right == ABI_RIGHT_EP_SEND
	stp	x12, x15, [x13, #\memo + MEMO_SLOT]	/* and the endpoint */
	str	x16, [x13, #\memo + MEMO_BADGE]
	.else
	stp	x12, x15, [x13, #\memo + MEMO_SLOT]
	.endif
	b	.Lmemo_hit\@
	.subsection 0
.endm

/*
 * next (x17) is a service placed on this CPU, as prev (x19) is, with no
 * VCPU_AFTER_* work, and the hop from prev to it needs nothing of the full
 * switch (the checks of vectors.S guest_exit_switch); otherwise to 8f.
 * w11 = live_on's name for this CPU, x14 = next's live_on. prev is a service:
 * only a service's SVC comes here (svc_only). This CPU's state is one word,
 * hop_hcr (arm64_hop_note: the service controls and FP traps in place, no
 * virtual interface work, else 0); next's HCR_EL2 equal to it is the same
 * HCR_EL2 and makes next a service (TGE set, which no VM runs with). FP
 * traps in place mean no FP state live in the registers: the loaded vCPU's
 * fp_live is set only with the traps off (arm64_vcpu_fp_load), and every
 * switch that sets them again saves it first (vcpu.c).
 */
.macro hop_check
	ldr	w9, [x17, #VCPU_CPU]
	ldr	w10, [x19, #VCPU_CPU]
	ldr	w11, [x1, #ARM64_CPU_INDEX]
	cmp	w9, w11				/* a chain: each compare only while all held */
	ccmp	w10, w11, #0, eq
	ldr	x9, [x17, #VCPU_HCR]
	ldr	x10, [x1, #ARM64_CPU_HOP_HCR]
	ccmp	x9, x10, #0, eq
	ldrb	w9, [x17, #VCPU_AFTER]
	ldr	x10, [x17, #VCPU_RESET_PENDING]	/* and pending_dabt */
	orr	x9, x9, x10
	ccmp	x9, #0, #0, eq
	ldr	x10, [x1, #ARM64_CPU_LOADED]
	ccmp	x10, x19, #0, eq
	b.ne	8f
	add	w11, w11, #1			/* live_on's name for this CPU */
	add	x14, x17, #VCPU_LIVE_ON
	ldar	w9, [x14]
	cmp	w9, #0
	ccmp	w9, w11, #4, ne
	b.ne	8f				/* held by another CPU: the C path waits */
.endm

/*
 * Only a service's SVC (EC 0x15 under TGE): not a VM's HVC, not a fault;
 * else to 9f with x9-x17 untouched (x18 is saved).
 */
.macro svc_only
	mrs	x18, esr_el2
	lsr	x18, x18, #ESR_EC_SHIFT_ASM
	cmp	x18, #EC_SVC64_ASM
	b.ne	9f
.endm

/*
 * The kernel lock, tried once (spin_trylock: held elsewhere, to 7f); then
 * prev must still run (not stopped from another CPU meanwhile: to 8f).
 * x18 = the lock, w30 = 1 (also VCPU_RUNNING: prev's x30 is saved).
 */
.macro lock_running
	ldr	x18, [x1, #ARM64_CPU_KERNEL_LOCK]
	mov	w30, #1
0:	ldaxr	w9, [x18]
	cbnz	w9, 7f
	stxr	w11, w30, [x18]
	cbnz	w11, 0b
	ldr	w9, [x19, #VCPU_STATE]
	cmp	w9, #VCPU_STATE_RUNNING
	b.ne	8f
.endm

/*
 * Whether the hop from the service prev (x19) back to the VM next (x17),
 * whose emulated access it answered, can be the assembly's (vm_hop): what
 * arm64_exit_switch_to_vm tests (vcpu.c), and what it would do beyond the
 * plain loads: x12 = 0 if so, else nonzero (the C hop). The service's state
 * in place (hop_hcr: its controls, FP traps, so no FP live, no virtual
 * interface work); next's EL1 and GIC state still in this CPU (vm_owner,
 * gic_owner: only ever a VM, so next is one), prev loaded, next's virtual
 * counter offset the CPU's; no reset, abort, held register write or single
 * step for it (its step_sync a no-op); its emulated physical timer off with
 * its line low (ptimer_update: nothing to arm); its live_on this CPU's (w11
 * = this CPU's index); its list registers clean (arm64_virq_refresh: a no-op;
 * a change after this test is told by a kick, as after the C hop's).
 */
.macro vm_hop_check
	/* One chain of compares: each runs only while all before it held (eq). */
	ldp	x9, x10, [x1, #ARM64_CPU_VM_OWNER]	/* and gic_owner */
	cmp	x9, x17
	ccmp	x10, x17, #0, eq
	ldr	x9, [x1, #ARM64_CPU_LOADED]
	ccmp	x9, x19, #0, eq
	ldr	x9, [x17, #VCPU_CNTVOFF]
	ldr	x10, [x1, #ARM64_CPU_CNTVOFF]
	ccmp	x9, x10, #0, eq
	/* reset_pending, pending_dabt, sysreg_pending, vmi_step; ptimer_ctl's ENABLE, ptimer_line */
	ldp	x9, x10, [x17, #VCPU_RESET_PENDING]
	orr	x9, x9, x10
	ccmp	x9, #0, #0, eq
	ldr	x10, [x17, #VCPU_PTIMER_CTL]
	and	x10, x10, #0xffffffff00000001
	ccmp	x10, #0, #0, eq
	ldrb	w10, [x1, #ARM64_CPU_STEP_LIVE]
	ccmp	w10, #0, #0, eq
	/* live_on this CPU's (w11 + 1) and lr_dirty 0: one doubleword, acquired */
	add	w10, w11, #1
	add	x9, x17, #VCPU_LIVE_ON
	ldar	x9, [x9]
	ccmp	x9, x10, #0, eq
	/* Last, hop_hcr non-zero: after it ne means all held (Z set on any failure). */
	ldr	x9, [x1, #ARM64_CPU_HOP_HCR]
	ccmp	x9, #0, #4, eq
	cset	x12, eq
.endm

/*
 * The hop vm_hop_check allowed, after the unlock: arm64_exit_switch_to_vm's
 * steps for it (prev's x20-x29 and EL0 registers saved, prev released, the
 * stage 2, the VM's EL0-visible registers back, its virtual interface's
 * ICH_HCR_EL2, its HCR_EL2), then next (x17) entered with every register.
 * Its other EL1 and GIC state never left the CPU (vm_owner, gic_owner).
 */
.macro vm_hop
	stp	x20, x21, [x19, #160]
	stp	x22, x23, [x19, #176]
	stp	x24, x25, [x19, #192]
	stp	x26, x27, [x19, #208]
	stp	x28, x29, [x19, #224]
	mrs	x9, sp_el0
	mrs	x10, tpidr_el0
	stp	x9, x10, [x19, #VCPU_SP_EL0]
	str	x17, [x1, #ARM64_CPU_LOADED]
	add	x9, x19, #VCPU_LIVE_ON
	stlr	wzr, [x9]			/* vcpu_unhold: next, not prev, owns what stays */
	ldr	x9, [x17, #VCPU_VTTBR]		/* a VM's, never a service's: written */
	msr	vttbr_el2, x9
	str	x9, [x1, #ARM64_CPU_VTTBR]
	ldr	x9, [x17, #VCPU_SCTLR]
	msr	sctlr_el1, x9
	ldr	x9, [x17, #VCPU_CNTKCTL]
	msr	cntkctl_el1, x9
	ldr	x9, [x17, #VCPU_CPACR]
	msr	cpacr_el1, x9
	ldp	x9, x10, [x17, #VCPU_SP_EL0]
	msr	sp_el0, x9
	msr	tpidr_el0, x10
	ldr	x9, [x17, #VCPU_TPIDRRO_EL0]
	msr	tpidrro_el0, x9
	ldrb	w9, [x1, #ARM64_CPU_HAS_SME]
	cbz	w9, 32f
	ldr	x9, [x17, #VCPU_TPIDR2]
	msr	S3_3_C13_C0_5, x9		/* TPIDR2_EL0 */
32:	ldr	x9, [x17, #VCPU_CNTV_CTL]
	msr	cntv_ctl_el0, x9
	strb	wzr, [x1, #ARM64_CPU_SERVICE_CONTROLS]
	/* guest_deadline_ns: the 0 the hop to the service left (the VM's timer is off) */
	stp	xzr, xzr, [x1, #ARM64_CPU_VM_OWNER]	/* and gic_owner */
	ldr	x9, [x17, #VCPU_LR_HCR]
	msr	S3_4_C12_C11_0, x9		/* ICH_HCR_EL2 (a service's is 0) */
	str	x9, [x1, #ARM64_CPU_ICH_HCR]
	ldr	x9, [x17, #VCPU_HCR]
	msr	hcr_el2, x9			/* a VM's, never a service's (TGE) */
	str	x9, [x1, #ARM64_CPU_HCR]
	str	xzr, [x1, #ARM64_CPU_HOP_HCR]	/* arm64_hop_note: a VM's controls */
	str	x17, [x1, #ARM64_CPU_CURRENT]
	ldp	x9, x10, [x17, #VCPU_PC]
	msr	elr_el2, x9
	msr	spsr_el2, x10
	ldp	x0, x1, [x17, #0]
	ldp	x2, x3, [x17, #16]
	ldp	x4, x5, [x17, #32]
	ldp	x6, x7, [x17, #48]
	ldp	x8, x9, [x17, #64]
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
	eret					/* synchronizes the writes above: SCTLR_EL2.EOS (head.S) */
	dsb	nsh
	isb
.endm

/* prev's (x19) x0-x8 as save_guest stores them: x0, \x1 (its x1) and x2-x8. */
.macro save_message x1
	stp	x0, \x1, [x19, #0]
	stp	x2, x3, [x19, #16]
	stp	x4, x5, [x19, #32]
	stp	x6, x7, [x19, #48]
	str	x8, [x19, #64]
.endm

	.text
	.global	arm64_ipc_fast
arm64_ipc_fast:
	/*
	 * From the vector, before it saved anything: x0 = prev, x1 = this CPU,
	 * prev's x0 and x1 on the stack. Saved now: what every hypercall keeps
	 * (x18, x19, x30, PC, PSTATE). A service's SVC may lose x9-x17 (the
	 * AAPCS64's temporaries, docs/abi.md), so they are free here once the
	 * exit is known to be one (svc_only); anything else (a VM's HVC) gets them
	 * saved at 9f before C. Not saved either: x0-x8, which the answer that
	 * wakes prev (a message, a reply, STATUS_PEER_STOPPED: kernel/ipc.c)
	 * writes whole; a way back to C saves them first (10f, 9f).
	 */
	stp	x18, x19, [x0, #144]
	str	x30, [x0, #240]
	mrs	x18, elr_el2
	mrs	x19, spsr_el2
	stp	x18, x19, [x0, #VCPU_PC]
	mov	x19, x0
	b.eq	2f				/* the vector's test: x0 - HC_CALL == 1 */
	/* HC_CALL: prev calls the endpoint's first receiver (x17). */
	svc_only
	ldp	x0, x12, [sp], #16		/* x0 = the call's number, x12 = its slot */
	lock_running
	endpoint_memo ABI_RIGHT_EP_SEND, PARTITION_MEMO_CALL
	ldr	x17, [x15, #ENDPOINT_RECEIVERS_HEAD]
	cbz	x17, 8f
	hop_check
	ldr	x9, [x17, #VCPU_NEXT]		/* vcpu_queue_pop */
	cbnz	x9, 3f
	stp	xzr, xzr, [x15, #ENDPOINT_RECEIVERS_HEAD]	/* and the tail: empty now */
11:	str	xzr, [x17, #VCPU_NEXT]
	str	xzr, [x17, #VCPU_QUEUED_ON]
	strb	wzr, [x19, #VCPU_KERNEL_SENDER]
	str	x16, [x19, #VCPU_SEND_BADGE]
	mov	w9, #VCPU_STATE_BLOCKED_REPLY
	str	w9, [x19, #VCPU_STATE]
	str	x19, [x17, #VCPU_CALLER]
	/* sched_donate: next runs on prev's context, run_on[prev] - 1 or prev's own. */
	ldr	x10, [x1, #ARM64_CPU_SCHED_RUN_ON]
	ldr	w9, [x19, #VCPU_ID]
	ldr	w13, [x10, x9, lsl #2]
	add	w9, w9, #1
	cmp	w13, #SCHED_NONE
	csel	w13, w9, w13, eq
	ldr	w9, [x17, #VCPU_ID]
	str	w13, [x10, x9, lsl #2]
	b	5f

	/*
	 * HC_REPLY_RECV: prev answers its caller (x17) and waits on the endpoint
	 * again. The caller and its state are read once, under the lock: a
	 * partition's call here, an emulated access's answer at 20f, anything else
	 * (a fault report, an introspection event, ...) unlocked to the C fastpath.
	 */
2:	svc_only
	ldp	x0, x12, [sp], #16
	lock_running
	ldr	x17, [x19, #VCPU_CALLER]
	cbz	x17, 8f
	ldr	w9, [x17, #VCPU_STATE]
	cmp	w9, #VCPU_STATE_BLOCKED_FAULT
	b.eq	20f				/* a kernel message's answer: an emulated access? */
	cmp	w9, #VCPU_STATE_BLOCKED_REPLY
	b.ne	8f
	endpoint_memo ABI_RIGHT_EP_RECV, PARTITION_MEMO_ANSWER
	ldr	x9, [x15, #ENDPOINT_SENDERS_HEAD]
	cbnz	x9, 8f
	hop_check
	str	xzr, [x19, #VCPU_CALLER]
	strb	w30, [x13, #PARTITION_REPLIED]	/* progress, for a restartable server */
	/* sched_return: prev runs on its own context again. */
	ldr	x10, [x1, #ARM64_CPU_SCHED_RUN_ON]
	ldr	w9, [x19, #VCPU_ID]
	str	wzr, [x10, x9, lsl #2]
	mov	w9, #VCPU_STATE_BLOCKED_RECV
	str	w9, [x19, #VCPU_STATE]
	str	x15, [x19, #VCPU_QUEUED_ON]
	str	xzr, [x19, #VCPU_NEXT]		/* vcpu_queue_push */
	ldr	x9, [x15, #ENDPOINT_RECEIVERS_TAIL]
	cbnz	x9, 6f
	stp	x19, x19, [x15, #ENDPOINT_RECEIVERS_HEAD]	/* and the tail: prev alone */
12:	mov	x16, #0				/* a reply carries no badge */

	/*
	 * sched_switch_to(cpu, next), then the lock is released. The message
	 * (x2-x8) never left the registers: nothing of prev's saved state is read
	 * after the unlock, from when another CPU may deliver a message into it
	 * (a reply puts prev on the receivers' queue).
	 */
5:	str	w30, [x17, #VCPU_STATE]	/* VCPU_RUNNING */
	ldr	x10, [x1, #ARM64_CPU_SCHED_CURRENT]
	str	x17, [x10]
	stlr	wzr, [x18]

	/*
	 * The hop, as guest_exit_switch does it: prev's x20-x29 and EL0
	 * registers saved, then its live_on released (a VM's leftovers, vm_owner
	 * and gic_owner, are only ever a VM: never prev) and next's taken (w11,
	 * x14).
	 */
	stp	x20, x21, [x19, #160]
	stp	x22, x23, [x19, #176]
	stp	x24, x25, [x19, #192]
	stp	x26, x27, [x19, #208]
	stp	x28, x29, [x19, #224]
	mrs	x9, sp_el0
	mrs	x10, tpidr_el0
	stp	x9, x10, [x19, #VCPU_SP_EL0]
	str	x17, [x1, #ARM64_CPU_LOADED]
	add	x9, x19, #VCPU_LIVE_ON
	stlr	wzr, [x9]
	str	w11, [x14]
	ldr	x9, [x17, #VCPU_VTTBR]
	ldr	x10, [x1, #ARM64_CPU_VTTBR]
	cmp	x9, x10
	b.eq	4f
	msr	vttbr_el2, x9
	str	x9, [x1, #ARM64_CPU_VTTBR]
4:	ldp	x9, x10, [x17, #VCPU_SP_EL0]
	msr	sp_el0, x9
	msr	tpidr_el0, x10
	str	x17, [x1, #ARM64_CPU_CURRENT]
	/* Enter next: x0 status, x1 badge, x2-x8 the message, the rest its own. */
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
	eret					/* synchronizes the writes above: SCTLR_EL2.EOS (head.S) */
	dsb	nsh				/* no straight-line speculation past ERET */
	isb

	/*
	 * HC_REPLY_RECV answering an emulated access (the caller x17 BLOCKED_FAULT
	 * with its IPC_LABEL_MMIO kernel message, answered IPC_MMIO_DONE): what
	 * ipc_fast_reply_recv does for it, emul_reply's completion
	 * (arch_vcpu_mmio_complete: the value, x4, into the target register with
	 * the access's size, sign extension and width, none for a write or XZR;
	 * the PC past the instruction), then the hop to the VM as the C path
	 * takes it (vectors.S guest_exit_switch: arm64_exit_switch_to_vm).
	 * Anything else (an introspection event, a fault report, an abort
	 * answer, ...) to 8f, the C fastpath, unchanged.
	 */
20:	ldrb	w9, [x17, #VCPU_KERNEL_SENDER]	/* emul_waiting */
	cbz	w9, 8f
	ldr	x9, [x17, #VCPU_KMSG_LABEL]
	eor	x9, x9, #ABI_LABEL_MMIO
	orr	x9, x9, x3			/* and word 0 IPC_MMIO_DONE (0), not an abort */
	cbnz	x9, 8f
	endpoint_memo ABI_RIGHT_EP_RECV, PARTITION_MEMO_ANSWER
	ldr	x9, [x15, #ENDPOINT_SENDERS_HEAD]
	cbnz	x9, 8f
	ldr	w9, [x17, #VCPU_CPU]
	ldr	w10, [x19, #VCPU_CPU]
	ldr	w11, [x1, #ARM64_CPU_INDEX]
	cmp	w9, w11
	ccmp	w10, w11, #0, eq
	ldrb	w9, [x17, #VCPU_AFTER]
	ccmp	w9, #0, #0, eq
	b.ne	8f
	vm_hop_check				/* x12 = 0: the hop back in assembly too */
	/*
	 * Taken: nothing goes back to C now, so x2-x8 are free. arch_info holds
	 * the syndrome's SRT, SSE, SF, WnR and IL (ARM64_MMIO_INFO_ESR).
	 */
	ldr	x10, [x17, #VCPU_MMIO_ARCH_INFO]
	tbnz	x10, #MMIO_WNR_BIT, 22f		/* a write: no register */
	ubfx	w11, w10, #MMIO_RT_SHIFT, #5
	cmp	w11, #31
	b.eq	22f				/* XZR */
	ldr	w9, [x17, #VCPU_MMIO_SIZE]
	lsl	w9, w9, #3			/* the access's bits, 8 to 64 */
	neg	w6, w9				/* 64 - bits: shifts count modulo 64 (0 for 64) */
	lsl	x5, x4, x6
	lsr	x4, x5, x6			/* the value's own bits */
	tbz	x10, #MMIO_SSE_BIT, 21f
	asr	x4, x5, x6			/* sign-extended */
21:	tbnz	x10, #MMIO_SF_BIT, 23f
	mov	w4, w4				/* a W register */
23:	str	x4, [x17, x11, lsl #3]		/* its x[rt]: every one is saved (VCPU_X 0) */
22:	ubfx	x9, x10, #MMIO_IL_BIT, #1	/* the length: 2 + 2 * IL */
	ldr	x5, [x17, #VCPU_PC]
	add	x5, x5, x9, lsl #1
	add	x5, x5, #2
	str	x5, [x17, #VCPU_PC]
	strb	wzr, [x17, #VCPU_KERNEL_SENDER]
	str	xzr, [x19, #VCPU_CALLER]
	strb	w30, [x13, #PARTITION_REPLIED]	/* progress, for a restartable server */
	/* sched_return, then prev waits on the endpoint again (as above). */
	ldr	x10, [x1, #ARM64_CPU_SCHED_RUN_ON]
	ldr	w9, [x19, #VCPU_ID]
	str	wzr, [x10, x9, lsl #2]
	mov	w9, #VCPU_STATE_BLOCKED_RECV
	str	w9, [x19, #VCPU_STATE]
	str	x15, [x19, #VCPU_QUEUED_ON]
	str	xzr, [x19, #VCPU_NEXT]		/* vcpu_queue_push */
	ldr	x9, [x15, #ENDPOINT_RECEIVERS_TAIL]
	cbnz	x9, 26f
	stp	x19, x19, [x15, #ENDPOINT_RECEIVERS_HEAD]	/* and the tail: prev alone */
	/* sched_switch_to, the unlock, and the hop: x0 = next, x19 = prev, x20-x29 prev's. */
25:	str	w30, [x17, #VCPU_STATE]	/* VCPU_RUNNING */
	ldr	x10, [x1, #ARM64_CPU_SCHED_CURRENT]
	str	x17, [x10]
	stlr	wzr, [x18]
	cbnz	x12, 27f			/* the C hop */
	vm_hop
27:	mov	x0, x17
	b	arm64_guest_exit_switch		/* vectors.S (x0 = next, x19 = prev) */
26:	str	x19, [x9, #VCPU_NEXT]
	str	x19, [x15, #ENDPOINT_RECEIVERS_TAIL]
	b	25b

	/* The queues' other cases, out of the way: a receiver behind next, a tail. */
3:	str	x9, [x15, #ENDPOINT_RECEIVERS_HEAD]
	b	11b
6:	str	x19, [x9, #VCPU_NEXT]
	str	x19, [x15, #ENDPOINT_RECEIVERS_TAIL]
	b	12b

	/*
	 * Not taken: nothing changed. prev's x0-x8 (x0 and x2-x8 unchanged, x1
	 * in x12) go into its saved state as the vector's save_guest would have
	 * stored them; then a service's call or answer goes on to the C fastpath
	 * and the hypercall path, as arm64_guest_sync's exit_ipc would send it.
	 * Its x9-x17 are not saved: an SVC may lose them (docs/abi.md), and the
	 * way back enters it with the values it last had saved, its own. Anything
	 * else (9f: a VM's HVC, whose every register is kept) goes to
	 * arm64_guest_sync (vectors.S) with x9-x17 saved too.
	 */
7:	clrex
	b	10f
8:	stlr	wzr, [x18]
10:	save_message x12
	mov	x0, x19
	bl	ipc_fast			/* kernel/ipc.c: the C fastpath (x19 survives) */
	cbnz	x0, arm64_guest_exit_return
	mov	x0, x19
	mrs	x1, tpidr_el2
	mrs	x2, esr_el2
	bl	arm64_exit_hypercall
	b	arm64_guest_exit_return
9:	ldp	x0, x18, [sp], #16		/* x18 = prev's x1 (its own is saved) */
	str	x9, [x19, #72]
	stp	x10, x11, [x19, #80]
	stp	x12, x13, [x19, #96]
	stp	x14, x15, [x19, #112]
	stp	x16, x17, [x19, #128]
	save_message x18
	mov	x0, x19
	b	arm64_guest_sync_c
