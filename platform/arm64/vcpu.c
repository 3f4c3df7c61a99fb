/**
 * vCPU state: the reset state of a partition's vCPU, and switching the EL1
 * system registers and FP/SIMD registers when a CPU changes vCPU.
 *
 * Invariant: a vCPU's EL1/FP state is in a CPU's registers only while that
 * CPU holds it: as its loaded vCPU (struct arm64_cpu.loaded), or, for a VM
 * that handed the CPU to a service, as the owner of the EL1 registers or GIC
 * state left there (vm_owner, gic_owner). vcpu_arch.live_on names the CPU
 * while it holds any of them. Another CPU that wants the vCPU (the core moved
 * it there) kicks the holder and waits; a CPU gives up what it holds of a
 * vCPU placed elsewhere whenever it looks (arm64_vcpu_release_moved: idle, an
 * interrupt exit, its own wait). The general registers, PC and PSTATE are
 * saved on every exit by vectors.S, so the kernel core can read and write
 * them (arch_vcpu_reg) whatever CPU it runs on.
 */
#include <arch/vcpu.h>
#include <arm64/cpu.h>
#include <arm64/sysreg.h>
#include <arm64/virq.h>
#include <kernel/partition.h>
#include <kernel/vcpu.h>
#include <plat/cpu.h>

_Static_assert(offsetof(struct vcpu, arch) == 0, "vectors.S: arch first in struct vcpu");
_Static_assert(offsetof(struct vcpu_arch, pc) == ARM64_VCPU_PC_OFFSET, "vectors.S: pc offset");
_Static_assert(offsetof(struct vcpu_arch, pstate) == ARM64_VCPU_PSTATE_OFFSET, "vectors.S: pstate");
_Static_assert(offsetof(struct vcpu_arch, rt_pending) == ARM64_VCPU_RT_PENDING_OFFSET,
               "vectors.S: rt_pending");
_Static_assert(offsetof(struct vcpu_arch, rt_value) == ARM64_VCPU_RT_VALUE_OFFSET,
               "vectors.S: rt_value");
_Static_assert(offsetof(struct vcpu_arch, hcr) == ARM64_VCPU_HCR_OFFSET, "vectors.S: hcr");
_Static_assert(offsetof(struct vcpu_arch, vttbr) == ARM64_VCPU_VTTBR_OFFSET, "vectors.S: vttbr");
_Static_assert(offsetof(struct vcpu_arch, live_on) == ARM64_VCPU_LIVE_ON_OFFSET, "vectors.S");
_Static_assert(sizeof(((struct vcpu_arch *)0)->live_on) == 4, "vectors.S: a word");
_Static_assert(offsetof(struct vcpu_arch, fp_live) == ARM64_VCPU_FP_LIVE_OFFSET, "vectors.S");
_Static_assert(sizeof(((struct vcpu_arch *)0)->fp_live) == 4, "vectors.S: a word");
_Static_assert(offsetof(struct vcpu_arch, reset_pending) == ARM64_VCPU_RESET_PENDING_OFFSET,
               "vectors.S: reset_pending");
_Static_assert(sizeof(((struct vcpu_arch *)0)->reset_pending) == 4, "vectors.S: a word");
_Static_assert(offsetof(struct vcpu_arch, vm) == ARM64_VCPU_VM_OFFSET, "vectors.S: vm");
_Static_assert(offsetof(struct vcpu_arch, pending_dabt) == ARM64_VCPU_PENDING_DABT_OFFSET,
               "vectors.S: pending_dabt");
_Static_assert(sizeof(((struct vcpu_arch *)0)->pending_dabt) == 4, "vectors.S: a word");
_Static_assert(offsetof(struct vcpu_arch, el1.tpidr_el0) == ARM64_VCPU_TPIDR_EL0_OFFSET,
               "vectors.S: el1.tpidr_el0");
_Static_assert(offsetof(struct vcpu_arch, el1.sp_el0) == ARM64_VCPU_SP_EL0_OFFSET,
               "vectors.S: el1.sp_el0");

/** HCR_EL2 while a VM runs (D13.2.46). */
#define HCR_GUEST                                                                          \
	(HCR_VM | HCR_SWIO | HCR_FMO | HCR_IMO | HCR_AMO | HCR_FB | HCR_BSU_IS | HCR_TWI | \
	 HCR_TSC | HCR_TACR | HCR_TLOR | HCR_RW | HCR_TID3)

/**
 * HCR_EL2 while a service runs: EL0 with TGE (every exception it takes, SVC
 * included, comes to EL2; the EL1&0 stage 1 is off) and DC (its accesses are
 * normal write-back memory), so its address space is its stage-2 table
 * alone. WFE traps too: a service has nothing to wait for but the kernel.
 */
#define HCR_SERVICE (HCR_GUEST | HCR_TGE | HCR_DC | HCR_TWE)

/**
 * Reset. A VM: EL1h, D/A/I/F masked, MMU off, x0 = arg. VBAR_EL1 = 0, an
 * IPA no partition maps (images load at 0x100000), so an exception a VM
 * takes before installing vectors becomes a stage-2 instruction abort at
 * VBAR+offset that exit.c recognises and reports. A service: EL0t, x0 =
 * arg (its vCPU index), x1 = 1, which tells the runtime it runs at EL0 and
 * calls the kernel with SVC (docs/abi.md). The VTTBR value is the
 * partition's for good and is kept (a power-on resets this way too).
 */
static void vcpu_reset_state(struct vcpu_arch *a, enum partition_type type, u64 entry, u64 arg)
{
	u32 live = a->live_on, fp_live = a->fp_live, vmi_regs = a->vmi_regs;
	u64 vttbr = a->vttbr, cntvoff = a->cntvoff;
	struct arm64_vm *vm = a->vm;
	u32 vm_cpu = a->vm_cpu;

	*a = (struct vcpu_arch){ 0 };
	a->vttbr = vttbr;
	a->cntvoff = cntvoff;
	a->vm = vm;
	a->vm_cpu = vm_cpu;
	a->live_on = live;
	a->fp_live = fp_live;
	a->x[0] = arg;
	a->pc = entry;
	if (type == PARTITION_SERVICE) {
		a->x[1] = 1;
		a->pstate = SPSR_M_EL0T;
		a->hcr = HCR_SERVICE;
		return;
	}
	a->pstate = SPSR_EL1H_MASKED;
	a->hcr = HCR_GUEST | (vmi_regs != 0 ? HCR_TVM : 0);
	a->vmi_regs = vmi_regs;
	a->el1.sctlr = SCTLR_EL1_RES1;
	a->el1.cpacr = CPACR_FPEN;
	a->el1.vbar = 0;
	a->el1.spsr = SPSR_EL1H_MASKED;
}

void arch_vcpu_reset(struct vcpu_arch *a, enum partition_type type, u64 entry, u64 arg,
                     paddr_t s2_root, u32 vmid)
{
	vcpu_reset_state(a, type, entry, arg);
	/* VTTBR_EL2: BADDR is the root table, VMID in bits [63:48] (DDI 0487 D13.2.151). */
	a->vttbr = s2_root.pa | ((u64)vmid << 48);
}

void arch_vcpu_power_on(struct vcpu_arch *a, enum partition_type type, u64 entry, u64 arg)
{
	a->reset_type = type;
	a->reset_entry = entry;
	a->reset_arg = arg;
	a->reset_pending = 1;
}

/**
 * Whether the CPUs implement SME (ID_AA64PFR1_EL1.SME, DDI 0487 D19.2.65):
 * then TPIDR2_EL0 exists, is usable at EL1 and EL0 (CPTR_EL2.TSM traps the
 * SME state, not it), and is switched like TPIDR_EL0. Set at boot.
 */
bool arm64_has_sme;

/**
 * Whether the CPUs implement RAS (ID_AA64PFR0_EL1.RAS). Then, with
 * HCR_EL2.AMO, a partition's DISR_EL1 accesses reach VDISR_EL2 (DDI 0487
 * D13.2.147), which nothing else switches: it is saved and restored with
 * the EL1 registers, or one partition could write it and another read it.
 * Set at boot.
 */
bool arm64_has_ras;

/**
 * How many ICH_AP0Rn/AP1Rn_EL2 registers the virtual interface has: 1, 2
 * or 4 for 5, 6 or 7 preemption bits (ARM IHI 0069, ICH_VTR_EL2.PREbits and
 * ICH_AP0R<n>_EL2). Set at boot.
 */
u32 arm64_ich_apr_count = 1;

/**
 * A VM's side of the GIC CPU interface: with HCR_EL2.IMO its ICC_*
 * accesses reach the virtual interface, whose state is ICH_VMCR_EL2 (PMR,
 * BPR, group enables) and the active priorities ICH_AP0Rn/AP1Rn_EL2.
 * Services (EL0) cannot reach it.
 */
static void gic_save(struct arm64_el1_regs *r)
{
	r->vmcr = read_sysreg(S3_4_C12_C11_7); /* ICH_VMCR_EL2 */
	r->ap0r[0] = (u32)read_sysreg(S3_4_C12_C8_0);
	r->ap1r[0] = (u32)read_sysreg(S3_4_C12_C9_0);
	if (arm64_ich_apr_count < 2u)
		return;
	r->ap0r[1] = (u32)read_sysreg(S3_4_C12_C8_1);
	r->ap1r[1] = (u32)read_sysreg(S3_4_C12_C9_1);
	if (arm64_ich_apr_count < 4u)
		return;
	r->ap0r[2] = (u32)read_sysreg(S3_4_C12_C8_2);
	r->ap1r[2] = (u32)read_sysreg(S3_4_C12_C9_2);
	r->ap0r[3] = (u32)read_sysreg(S3_4_C12_C8_3);
	r->ap1r[3] = (u32)read_sysreg(S3_4_C12_C9_3);
}

static void gic_restore(const struct arm64_el1_regs *r)
{
	write_sysreg(S3_4_C12_C11_7, r->vmcr);
	write_sysreg(S3_4_C12_C8_0, r->ap0r[0]);
	write_sysreg(S3_4_C12_C9_0, r->ap1r[0]);
	if (arm64_ich_apr_count < 2u)
		return;
	write_sysreg(S3_4_C12_C8_1, r->ap0r[1]);
	write_sysreg(S3_4_C12_C9_1, r->ap1r[1]);
	if (arm64_ich_apr_count < 4u)
		return;
	write_sysreg(S3_4_C12_C8_2, r->ap0r[2]);
	write_sysreg(S3_4_C12_C9_2, r->ap1r[2]);
	write_sysreg(S3_4_C12_C8_3, r->ap0r[3]);
	write_sysreg(S3_4_C12_C9_3, r->ap1r[3]);
}

/**
 * A VM's EL1 registers that nothing at EL0 uses or sees under TGE: the
 * stage-1 controls, vectors, exception state, EL1 stack and thread pointer,
 * and two IMPLEMENTATION DEFINED fault status registers. When a VM hands
 * the CPU to a service (EL0), they stay in the registers for its return
 * (struct arm64_cpu.vm_owner); anything else saves them.
 */
static void el1_save(struct arm64_el1_regs *r)
{
	r->ttbr0 = read_sysreg(ttbr0_el1);
	r->ttbr1 = read_sysreg(ttbr1_el1);
	r->tcr = read_sysreg(tcr_el1);
	r->mair = read_sysreg(mair_el1);
	r->amair = read_sysreg(amair_el1);
	r->contextidr = read_sysreg(contextidr_el1);
	r->afsr0 = read_sysreg(afsr0_el1);
	r->afsr1 = read_sysreg(afsr1_el1);
	r->vbar = read_sysreg(vbar_el1);
	r->tpidr_el1 = read_sysreg(tpidr_el1);
	r->sp_el1 = read_sysreg(sp_el1);
	r->elr = read_sysreg(elr_el1);
	r->spsr = read_sysreg(spsr_el1);
	r->esr = read_sysreg(esr_el1);
	r->far = read_sysreg(far_el1);
	r->par = read_sysreg(par_el1);
	r->csselr = read_sysreg(csselr_el1);
	r->cntv_cval = read_sysreg(cntv_cval_el0);
	if (arm64_has_ras)
		r->vdisr = read_sysreg(S3_4_C12_C1_1); /* VDISR_EL2 */
}

static void el1_restore(const struct arm64_el1_regs *r)
{
	write_sysreg(ttbr0_el1, r->ttbr0);
	write_sysreg(ttbr1_el1, r->ttbr1);
	write_sysreg(tcr_el1, r->tcr);
	write_sysreg(mair_el1, r->mair);
	write_sysreg(amair_el1, r->amair);
	write_sysreg(contextidr_el1, r->contextidr);
	write_sysreg(afsr0_el1, r->afsr0);
	write_sysreg(afsr1_el1, r->afsr1);
	write_sysreg(vbar_el1, r->vbar);
	write_sysreg(tpidr_el1, r->tpidr_el1);
	write_sysreg(sp_el1, r->sp_el1);
	write_sysreg(elr_el1, r->elr);
	write_sysreg(spsr_el1, r->spsr);
	write_sysreg(esr_el1, r->esr);
	write_sysreg(far_el1, r->far);
	write_sysreg(par_el1, r->par);
	write_sysreg(csselr_el1, r->csselr);
	write_sysreg(cntv_cval_el0, r->cntv_cval);
	if (arm64_has_ras)
		write_sysreg(S3_4_C12_C1_1, r->vdisr);
}

/**
 * A VM's registers that act on, or can be read or written from, EL0 under
 * TGE: they are switched on every change of partition, so that no service
 * runs under a VM's controls or sees its thread pointers (HCR_EL2 and
 * VTTBR_EL2 are switched by the caller). Leaving, its virtual timer is
 * silenced: the next vCPU must not get its interrupt.
 */
static void el0_save(struct arm64_el1_regs *r)
{
	r->sctlr = read_sysreg(sctlr_el1);
	r->cntkctl = read_sysreg(cntkctl_el1);
	r->cpacr = read_sysreg(cpacr_el1);
	r->sp_el0 = read_sysreg(sp_el0);
	r->tpidr_el0 = read_sysreg(tpidr_el0);
	r->tpidrro_el0 = read_sysreg(tpidrro_el0);
	r->cntv_ctl = read_sysreg(cntv_ctl_el0);
	if (arm64_has_sme)
		r->tpidr2 = read_sysreg(S3_3_C13_C0_5); /* TPIDR2_EL0 */
	write_sysreg(cntv_ctl_el0, 0);
}

static void el0_restore(const struct arm64_el1_regs *r)
{
	write_sysreg(sctlr_el1, r->sctlr);
	write_sysreg(cntkctl_el1, r->cntkctl);
	write_sysreg(cpacr_el1, r->cpacr);
	write_sysreg(sp_el0, r->sp_el0);
	write_sysreg(tpidr_el0, r->tpidr_el0);
	write_sysreg(tpidrro_el0, r->tpidrro_el0);
	if (arm64_has_sme)
		write_sysreg(S3_3_C13_C0_5, r->tpidr2);
	write_sysreg(cntv_ctl_el0, r->cntv_ctl);
}

/** The controls every service runs under, and no VM's thread pointers (see SCTLR_SERVICE). */
static void service_controls(void)
{
	write_sysreg(sctlr_el1, SCTLR_SERVICE);
	write_sysreg(cntkctl_el1, CNTKCTL_SERVICE);
	write_sysreg(cpacr_el1, CPACR_FPEN);
	write_sysreg(tpidrro_el0, 0);
	if (arm64_has_sme)
		write_sysreg(S3_3_C13_C0_5, 0);
}

/** v's state is saved once this CPU holds nothing of it: another CPU may load it. */
static void vcpu_unhold(const struct arm64_cpu *cpu, struct vcpu *v)
{
	if (v != NULL && v != cpu->loaded && v != cpu->vm_owner && v != cpu->gic_owner)
		__atomic_store_n(&v->arch.live_on, 0, __ATOMIC_RELEASE);
}

/** Save the EL1 registers a VM left in the CPU (vm_owner), if any. */
static void vcpu_flush_vm(struct arm64_cpu *cpu)
{
	struct vcpu *v = cpu->vm_owner;
	if (v != NULL) {
		el1_save(&v->arch.el1);
		cpu->vm_owner = NULL;
		vcpu_unhold(cpu, v);
	}
}

/** Save the GIC interface state and list registers a VM left in the CPU (gic_owner). */
static void vcpu_flush_gic(struct arm64_cpu *cpu)
{
	struct vcpu *v = cpu->gic_owner;
	if (v != NULL) {
		gic_save(&v->arch.el1);
		arm64_virq_save(v);
		cpu->gic_owner = NULL;
		vcpu_unhold(cpu, v);
	}
}

void arm64_vcpu_release_moved(struct arm64_cpu *cpu)
{
	if (cpu->vm_owner != NULL && cpu->vm_owner->cpu != cpu->index)
		vcpu_flush_vm(cpu);
	if (cpu->gic_owner != NULL && cpu->gic_owner->cpu != cpu->index)
		vcpu_flush_gic(cpu);
}

/**
 * A VM leaves the CPU. Handing it to a service (its emulator, a policy),
 * which runs at EL0 and reaches neither its EL1 registers nor the GIC
 * interface, it leaves both in the CPU for its return (vm_owner,
 * gic_owner); for anything else they are saved.
 */
static void vcpu_leave_vm(struct arm64_cpu *cpu, struct vcpu *prev, const struct vcpu *next)
{
	el0_save(&prev->arch.el1);
	/* Left here only while it stays placed here: a VM the core moved is saved whole. */
	if (next != NULL && next->arch.vm == NULL && prev->cpu == cpu->index) {
		cpu->guest_deadline_ns = 0; /* its emulated timer waits for its return */
		cpu->vm_owner = prev;
		cpu->gic_owner = prev;
	} else {
		el1_save(&prev->arch.el1);
		gic_save(&prev->arch.el1);
		arm64_virq_save(prev);
	}
}

/** Enter a VM's registers: what it left here (vm_owner, gic_owner) is reused. */
static u64 vcpu_load_vm(struct arm64_cpu *cpu, struct vcpu *next)
{
	u64 ich_hcr;
	if (cpu->vm_owner != next) {
		vcpu_flush_vm(cpu);
		el1_restore(&next->arch.el1);
		/* A service cannot read MPIDR_EL1: back from one, VMPIDR_EL2 is still next's. */
		write_sysreg(vmpidr_el2, (UINT64_C(1) << 31) | next->index);
	}
	cpu->vm_owner = NULL;
	el0_restore(&next->arch.el1);
	cpu->service_controls = false;
	if (cpu->gic_owner == next) {
		ich_hcr = arm64_virq_resume(next);
	} else {
		vcpu_flush_gic(cpu);
		gic_restore(&next->arch.el1);
		ich_hcr = arm64_virq_load(next);
	}
	cpu->gic_owner = NULL;
	return ich_hcr;
}

/**
 * Make next (may be NULL: going idle) this CPU's loaded vCPU: save the one
 * loaded now, wait until next's state is saved wherever it ran last, load
 * it, and point VTTBR_EL2 at its partition's stage 2 if that changed. A
 * service's own state is its general registers, SP_EL0 and TPIDR_EL0: a hop
 * between a VM and a service switches about a dozen system registers.
 */
/**
 * MDSCR_EL1.SS and MDCR_EL2.TDE set while a single-stepped VM runs on this CPU, clear for
 * anything else: a service (at EL0 under TGE) or another VM would otherwise take a software
 * step exception at once (SS set, PSTATE.SS clear: active-pending).
 */
static __attribute__((noinline)) void step_write(struct arm64_cpu *cpu, bool want)
{
	u64 mdscr = read_sysreg(mdscr_el1), mdcr = read_sysreg(mdcr_el2);
	write_sysreg(mdscr_el1, want ? (mdscr | MDSCR_SS) : (mdscr & ~MDSCR_SS));
	write_sysreg(mdcr_el2, want ? (mdcr | MDCR_TDE) : (mdcr & ~MDCR_TDE));
	cpu->step_live = want;
}

static inline void step_sync(struct arm64_cpu *cpu, const struct vcpu *next)
{
	bool want = next != NULL && next->arch.vm != NULL && next->arch.vmi_step;
	if (__builtin_expect(want != cpu->step_live, 0))
		step_write(cpu, want);
}

/** step_sync for a VM next (the emulation path's hop back): one compare. */
static inline void step_sync_vm(struct arm64_cpu *cpu, const struct vcpu *next)
{
	if (__builtin_expect((next->arch.vmi_step != 0) != cpu->step_live, 0))
		step_write(cpu, next->arch.vmi_step != 0);
}

/** step_sync for a service next: never stepped. */
static inline void step_sync_off(struct arm64_cpu *cpu)
{
	if (__builtin_expect(cpu->step_live, 0))
		step_write(cpu, false);
}

void arm64_vcpu_switch(struct arm64_cpu *cpu, struct vcpu *next)
{
	struct vcpu *prev = cpu->loaded;

	if (prev == next) {
		if (next == NULL)
			return;
		if (!next->arch.reset_pending) {
			/*
			 * Back from idle into it: its view or its traps may have changed meanwhile,
			 * and a held register write may be due (vmi.c).
			 */
			if (next->arch.vttbr != cpu->vttbr) {
				write_sysreg(vttbr_el2, next->arch.vttbr);
				cpu->vttbr = next->arch.vttbr;
			}
			if (next->arch.hcr != cpu->hcr) {
				write_sysreg(hcr_el2, next->arch.hcr);
				cpu->hcr = next->arch.hcr;
				arm64_hop_note(cpu);
			}
			if (next->arch.sysreg_pending != 0)
				arm64_vcpu_apply_sysreg(next);
			step_sync(cpu, next);
			return;
		}
		arm64_vcpu_switch(cpu, NULL); /* save it, then load it afresh below */
		prev = NULL;
	}
	if (prev != NULL) {
		if (prev->arch.vm != NULL) {
			vcpu_leave_vm(cpu, prev, next);
		} else {
			prev->arch.el1.sp_el0 = read_sysreg(sp_el0);
			prev->arch.el1.tpidr_el0 = read_sysreg(tpidr_el0);
		}
		if (prev->arch.fp_live) {
			/* It ran with FP untrapped, so EL2 may still touch the registers. */
			arm64_fp_save(&prev->arch.fp);
			prev->arch.fp_live = 0;
			write_sysreg(cptr_el2, CPTR_EL2_BASE | CPTR_TFP);
			cpu->fp_trapping = true;
		}
	}
	cpu->loaded = next;
	vcpu_unhold(cpu, prev); /* unless it left its EL1 or GIC state here (vm_owner) */
	if (next == NULL)
		return;
	u32 me = cpu->index + 1u, holder = __atomic_load_n(&next->arch.live_on, __ATOMIC_ACQUIRE);
	if (holder != 0 && holder != me) {
		/* Moved here from the CPU that still holds it: ask that CPU to let it go. */
		plat_cpu_kick(holder - 1u);
		do {
			arm64_vcpu_release_moved(cpu); /* it may be waiting for one of ours */
			__asm__ volatile("yield");
		} while (__atomic_load_n(&next->arch.live_on, __ATOMIC_ACQUIRE) != 0);
	}
	next->arch.live_on = me;
	if (next->arch.reset_pending) {
		/* Whatever of it is still in the registers goes first; then it starts afresh. */
		if (cpu->vm_owner == next)
			vcpu_flush_vm(cpu);
		if (cpu->gic_owner == next)
			vcpu_flush_gic(cpu);
		vcpu_reset_state(&next->arch, (enum partition_type)next->arch.reset_type,
		                 next->arch.reset_entry, next->arch.reset_arg);
	}
	u64 ich_hcr = 0;
	if (next->arch.vm != NULL) {
		/* Another partition: its stage 2 and its virtual counter offset. */
		if (next->arch.vttbr != cpu->vttbr) {
			if (next->arch.cntvoff != cpu->cntvoff) {
				write_sysreg(cntvoff_el2, next->arch.cntvoff);
				cpu->cntvoff = next->arch.cntvoff;
			}
			write_sysreg(vttbr_el2, next->arch.vttbr);
			cpu->vttbr = next->arch.vttbr;
		}
		ich_hcr = vcpu_load_vm(cpu, next);
	} else {
		/* A service reads no virtual counter: CNTVOFF_EL2 stays the last VM's. */
		if (next->arch.vttbr != cpu->vttbr) {
			write_sysreg(vttbr_el2, next->arch.vttbr);
			cpu->vttbr = next->arch.vttbr;
		}
		if (!cpu->service_controls) {
			service_controls();
			cpu->service_controls = true;
		}
		write_sysreg(sp_el0, next->arch.el1.sp_el0);
		write_sysreg(tpidr_el0, next->arch.el1.tpidr_el0);
	}
	if (ich_hcr != cpu->ich_hcr) {
		write_sysreg(S3_4_C12_C11_0, ich_hcr); /* ICH_HCR_EL2 */
		cpu->ich_hcr = ich_hcr;
	}
	if (!cpu->fp_trapping) {
		write_sysreg(cptr_el2, CPTR_EL2_BASE | CPTR_TFP);
		cpu->fp_trapping = true;
	}
	if (next->arch.hcr != cpu->hcr) {
		write_sysreg(hcr_el2, next->arch.hcr);
		cpu->hcr = next->arch.hcr;
	}
	/* arm64_hop_note, known here: a service's controls, FP traps, no ICH_HCR, its HCR; a VM's. */
	cpu->hop_hcr = next->arch.vm == NULL ? next->arch.hcr : 0;
	step_sync(cpu, next);
	isb();
}

/**
 * The emulation path's two hops, from vectors.S after a guest exit that leaves the loaded
 * vCPU for next: the steps arm64_exit_switch and arm64_vcpu_switch take for a VM handing its
 * CPU to a service placed with it, and for the service handing it back, without their tests
 * for every other case. Anything unusual (FP state live, a reset or an abort pending, a VM the
 * core moved, a vCPU held by another CPU, a VM whose state is not the one left here) takes
 * arm64_exit_switch, which these call instead. Both return the vCPU to enter.
 */
struct vcpu *arm64_exit_switch_from_vm(struct vcpu *next)
{
	struct arm64_cpu *cpu = arm64_this_cpu();
	struct vcpu *prev = cpu->loaded;
	u32 me = cpu->index + 1u;
	if (next == NULL || prev == NULL || next->arch.vm != NULL || prev->arch.vm == NULL ||
	    prev->arch.fp_live || next->arch.reset_pending || next->arch.pending_dabt ||
	    prev->cpu != cpu->index || !cpu->fp_trapping || cpu->vm_owner != NULL ||
	    cpu->gic_owner != NULL)
		return arm64_exit_switch(next);
	u32 holder = __atomic_load_n(&next->arch.live_on, __ATOMIC_ACQUIRE);
	if (holder != 0 && holder != me)
		return arm64_exit_switch(next);
	/* vcpu_leave_vm for a service next: its EL1 and GIC state stay here (vm_owner). */
	el0_save(&prev->arch.el1);
	cpu->guest_deadline_ns = 0;
	cpu->vm_owner = prev;
	cpu->gic_owner = prev;
	cpu->loaded = next;
	next->arch.live_on = me;
	if (next->arch.vttbr != cpu->vttbr) {
		write_sysreg(vttbr_el2, next->arch.vttbr);
		cpu->vttbr = next->arch.vttbr;
	}
	if (!cpu->service_controls) {
		service_controls();
		cpu->service_controls = true;
	}
	write_sysreg(sp_el0, next->arch.el1.sp_el0);
	write_sysreg(tpidr_el0, next->arch.el1.tpidr_el0);
	if (cpu->ich_hcr != 0) {
		write_sysreg(S3_4_C12_C11_0,
		             0); /* ICH_HCR_EL2: a service has no virtual interface */
		cpu->ich_hcr = 0;
	}
	if (next->arch.hcr != cpu->hcr) {
		write_sysreg(hcr_el2, next->arch.hcr);
		cpu->hcr = next->arch.hcr;
	}
	cpu->hop_hcr = cpu->hcr; /* arm64_hop_note: a service's controls, FP traps, no ICH_HCR */
	step_sync_off(cpu);      /* a service next: never stepped */
	isb();
	return next;
}

struct vcpu *arm64_exit_switch_to_vm(struct vcpu *next)
{
	struct arm64_cpu *cpu = arm64_this_cpu();
	struct vcpu *prev = cpu->loaded;
	u32 me = cpu->index + 1u;
	if (next == NULL || prev == NULL || next->arch.vm == NULL || prev->arch.vm != NULL ||
	    prev->arch.fp_live || next->arch.reset_pending || cpu->vm_owner != next ||
	    cpu->gic_owner != next || !cpu->fp_trapping ||
	    __atomic_load_n(&next->arch.live_on, __ATOMIC_ACQUIRE) != me)
		return arm64_exit_switch(next);
	prev->arch.el1.sp_el0 = read_sysreg(sp_el0);
	prev->arch.el1.tpidr_el0 = read_sysreg(tpidr_el0);
	cpu->loaded = next;
	vcpu_unhold(cpu, prev);
	if (next->arch.vttbr != cpu->vttbr) {
		if (next->arch.cntvoff != cpu->cntvoff) {
			write_sysreg(cntvoff_el2, next->arch.cntvoff);
			cpu->cntvoff = next->arch.cntvoff;
		}
		write_sysreg(vttbr_el2, next->arch.vttbr);
		cpu->vttbr = next->arch.vttbr;
	}
	/* vcpu_load_vm for the VM whose EL1 and GIC state were left here. */
	cpu->vm_owner = NULL;
	el0_restore(&next->arch.el1);
	cpu->service_controls = false;
	u64 ich_hcr = arm64_virq_resume(next);
	cpu->gic_owner = NULL;
	if (ich_hcr != cpu->ich_hcr) {
		write_sysreg(S3_4_C12_C11_0, ich_hcr); /* ICH_HCR_EL2 */
		cpu->ich_hcr = ich_hcr;
	}
	if (next->arch.hcr != cpu->hcr) {
		write_sysreg(hcr_el2, next->arch.hcr);
		cpu->hcr = next->arch.hcr;
	}
	cpu->hop_hcr = 0; /* arm64_hop_note: a VM's controls */
	step_sync_vm(cpu, next);
	isb();
	/* arm64_exit_switch's end: what the service pended for it, an abort it answered. */
	arm64_virq_refresh(cpu, next);
	if (__builtin_expect(next->arch.pending_dabt != 0, 0)) {
		next->arch.pending_dabt = 0;
		arm64_inject_dabt(next, next->arch.mmio_far);
	}
	if (__builtin_expect(next->arch.sysreg_pending != 0, 0))
		arm64_vcpu_apply_sysreg(next); /* a held write its monitor allowed (vmi.c) */
	return next;
}

/**
 * The running vCPU used FP/SIMD while CPTR_EL2.TFP trapped it (ESR_EL2.EC
 * 0x07): untrap, load its FP state, and let it retry the instruction (ELR
 * still points at it). Its state stays live until the CPU leaves it.
 */
void arm64_vcpu_fp_load(struct arm64_cpu *cpu, struct vcpu *v)
{
	write_sysreg(cptr_el2, CPTR_EL2_BASE);
	isb();
	cpu->fp_trapping = false;
	cpu->hop_hcr = 0; /* arm64_hop_note: FP not trapped */
	arm64_fp_restore(&v->arch.fp);
	v->arch.fp_live = 1;
}

/**
 * Inject a synchronous external data abort at far into v, whose EL1 state
 * is loaded here: what a bus error from a device looks like to a guest.
 * ESR_EL1.EC is a data abort from the guest's own EL or from EL0
 * (DDI 0487 D13.2.36), DFSC 0x10; the exception enters EL1h at VBAR_EL1's
 * slot for where it came from, with D, A, I, F masked.
 */
void arm64_inject_dabt(struct vcpu *v, u64 far)
{
	u64 pstate = v->arch.pstate, m = pstate & SPSR_M_MASK;
	bool from_el0 = m == SPSR_M_EL0T;
	u64 ec = from_el0 ? EC_DABT_LOW : EC_DABT_CUR;
	write_sysreg(esr_el1, (ec << ESR_EC_SHIFT) | ESR_IL | 0x10u);
	write_sysreg(far_el1, far);
	write_sysreg(elr_el1, v->arch.pc);
	write_sysreg(spsr_el1, pstate);
	u64 slot = from_el0 ? 0x400u : m == SPSR_M_EL1H ? 0x200u : 0x000u;
	v->arch.pc = read_sysreg(vbar_el1) + slot;
	v->arch.pstate = SPSR_EL1H_MASKED;
}

void arch_vcpu_mmio_complete(struct vcpu_arch *a, u64 arch_info, u32 size, bool write, u64 value)
{
	u32 rt = ARM64_MMIO_RT(arch_info);
	if (!write && rt != 31u) {
		if (size < 8u) {
			u32 bits = size * 8u;
			value &= (UINT64_C(1) << bits) - 1u;
			if (ARM64_MMIO_SSE(arch_info) && ((value >> (bits - 1u)) & 1u))
				value |= ~UINT64_C(0) << bits;
		}
		if (!ARM64_MMIO_SF(arch_info))
			value &= 0xffffffffu;
		a->x[rt] = value; /* every register is in a: exit.c made sure (exit_redo) */
	}
	a->pc += ARM64_MMIO_LEN(arch_info);
}

void arch_vcpu_mmio_abort(struct vcpu_arch *a, u64 arch_info, u64 address)
{
	(void)arch_info;
	(void)address;
	/*
	 * Its EL1 registers may still be live on the CPU it last ran on: the
	 * abort is injected when a CPU next enters it (arm64_exit_switch).
	 */
	a->pending_dabt = 1;
}

void arch_vcpu_set_stage2(struct vcpu_arch *a, paddr_t s2_root, u32 vmid)
{
	/* Loaded by the next full switch into it (arm64_vcpu_switch compares cpu->vttbr). */
	a->vttbr = s2_root.pa | ((u64)vmid << 48);
}

/** VMs run AArch64 only (HCR_EL2.RW): every instruction is 4 bytes. */
bool arch_vcpu_skip_insn(struct vcpu_arch *a, u64 arch_info)
{
	(void)arch_info;
	a->pc += 4u;
	return true;
}

bool arch_vcpu_decode_store(struct vcpu_arch *a, struct trap *t)
{
	(void)a;
	return t->size != 0 && (t->access & IPC_ACCESS_WRITE) != 0; /* exit.c decoded it */
}

/** FAR_EL2 still holds the abort's address: the core handles it before any other exit. */
u32 arch_vcpu_fault_info(const struct vcpu_arch *a, u64 syndrome, u64 *gla)
{
	(void)a;
	u32 flags = (syndrome & ISS_S1PTW) ? IPC_VMI_IN_GPT : 0u;
	if (syndrome & ISS_FNV)
		return flags;
	*gla = read_sysreg(far_el2);
	return flags | IPC_VMI_GLA_VALID;
}

/** HCR_EL2.TVM traps writes of SCTLR, TTBR0/1, TCR and the other VM controls (D13.2.48). */
u32 arch_vmi_regs_supported(void)
{
	return (1u << IPC_VMI_REG_SCTLR) | (1u << IPC_VMI_REG_TTBR0) | (1u << IPC_VMI_REG_TTBR1) |
	       (1u << IPC_VMI_REG_TCR);
}

/** A VM's HCR value is loaded when it is next switched in (arm64_vcpu_switch). */
void arch_vcpu_trap_regs(struct vcpu_arch *a, u32 mask)
{
	if (a->vm == NULL)
		return;
	a->vmi_regs = mask;
	a->hcr = mask != 0 ? (a->hcr | HCR_TVM) : (a->hcr & ~HCR_TVM);
}

void arch_vcpu_reg_write_done(struct vcpu_arch *a, u32 reg, u64 value, bool commit)
{
	a->pc += 4u;
	if (commit) {
		a->sysreg_value = value;
		a->sysreg_pending = reg + 1u;
	}
}

void arm64_vcpu_apply_sysreg(struct vcpu *v)
{
	struct vcpu_arch *a = &v->arch;
	u64 value = a->sysreg_value;
	switch (a->sysreg_pending - 1u) {
	case IPC_VMI_REG_SCTLR:
		write_sysreg(sctlr_el1, value);
		break;
	case IPC_VMI_REG_TTBR0:
		write_sysreg(ttbr0_el1, value);
		break;
	case IPC_VMI_REG_TTBR1:
		write_sysreg(ttbr1_el1, value);
		break;
	case IPC_VMI_REG_TCR:
		write_sysreg(tcr_el1, value);
		break;
	default:
		break;
	}
	a->sysreg_pending = 0;
}

/**
 * At the exit that stops it for its monitor, the VM's EL1 registers are this CPU's. Later
 * they may stay here (vm_owner) while the monitor asks from another CPU, which cannot read
 * them: the four a walk needs are kept now.
 */
void arch_vcpu_vmi_pause(struct vcpu_arch *a)
{
	a->vmi_paused_regs[0] = read_sysreg(sctlr_el1);
	a->vmi_paused_regs[1] = read_sysreg(tcr_el1);
	a->vmi_paused_regs[2] = read_sysreg(ttbr0_el1);
	a->vmi_paused_regs[3] = read_sysreg(ttbr1_el1);
}

void arch_vcpu_vmi_regs(const struct vcpu_arch *a, u64 out[4])
{
	for (u32 i = 0; i < 4u; i++)
		out[i] = a->vmi_paused_regs[i];
}

/** arm64 has no MSRs: its system registers are MONITOR_REGS' business. */
bool arch_vmi_msr_supported(u32 msr)
{
	(void)msr;
	return false;
}

bool arch_vcpu_trap_msrs(struct vcpu_arch *a, const u32 *msrs, u32 n)
{
	(void)a;
	(void)msrs;
	return n == 0;
}

void arch_vcpu_vmi_set_regs(struct vcpu_arch *a, u64 pc, const u64 gpr[3])
{
	a->pc = pc;
	for (u32 i = 0; i < 3u; i++)
		a->x[i] = gpr[i];
}

/**
 * A software step (D2.12): PSTATE.SS in the SPSR it is entered with, MDSCR_EL1.SS and
 * MDCR_EL2.TDE while it runs (step_sync, on every switch path), so that after one instruction
 * a Software Step exception comes to EL2 (exit.c: TRAP_STEP).
 */
bool arch_vcpu_set_step(struct vcpu_arch *a, bool on)
{
	if (a->vm == NULL)
		return !on;
	a->vmi_step = on;
	a->pstate = on ? (a->pstate | SPSR_SS) : (a->pstate & ~SPSR_SS);
	return true;
}
