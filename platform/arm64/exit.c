/**
 * Guest exits: turn what brought a vCPU into EL2 (ESR_EL2, the vector it
 * came through, the GIC's acknowledged interrupt) into a struct trap for
 * kernel_trap(), and pick the next vCPU to enter. Called by vectors.S with
 * the vCPU's general registers, PC and PSTATE already saved.
 *
 * Nothing here logs or panics on anything a guest controls: every guest
 * action ends as a trap for the core, or is handled silently.
 *
 *   ESR_EL2.EC (DDI 0487 D13.2.37)      trap
 *   0x16 HVC (VM), 0x15 SVC (service)   TRAP_HYPERCALL (hot path, first test)
 *   0x01 WFI (HCR_EL2.TWI)              TRAP_WFI, PC advanced past it
 *   0x24/0x20 data/instruction abort,   TRAP_MEM_FAULT (IPA from HPFAR_EL2/FAR_EL2)
 *        stage-2 fault
 *   0x20 at VBAR_EL1 (= 0) + offset     TRAP_GUEST_EXCEPTION from ESR_EL1
 *   0x16/0x15 with W0 bit 31 set,        SMCCC / PSCI (smccc.c)
 *   0x17 SMC (HCR_EL2.TSC)
 *   0x07 FP/SIMD (CPTR_EL2.TFP)         load the vCPU's FP state, no trap
 *   0x18 debug register (MDCR_EL2.TDA)  reads as zero, writes ignored, no trap
 *   0x18 ID register read (HCR_EL2.TID3) the partition's view (idregs.c), no trap
 *   0x18 PMU register (MDCR_EL2.TPM)    counters read as the machine's, writes ignored
 *   anything else                       TRAP_GUEST_EXCEPTION
 */
#include <arch/cpu.h>
#include <arm64/cpu.h>
#include <arm64/sysreg.h>
#include <arm64/virq.h>
#include <kernel/console.h>
#include <kernel/ipc.h>
#include <kernel/vcpu.h>

/**
 * The length of the trapped instruction: ESR_EL2.IL is clear only for a
 * 16-bit T32 instruction, which an AArch32 EL0 of a guest can execute.
 */
#define INSN_SIZE ((esr & ESR_IL) ? 4u : 2u)

/**
 * Leaving v for next (NULL: nothing to run here, so idle until there is),
 * called by vectors.S once v's registers are all saved.
 */
struct vcpu *arm64_exit_switch(struct vcpu *next)
{
	struct arm64_cpu *cpu = arm64_this_cpu();

	if (next == NULL)
		next = arm64_idle(cpu);
	arm64_vcpu_switch(cpu, next);
	if (next->arch.vm != NULL)
		arm64_virq_refresh(cpu, next);
	if (__builtin_expect(next->arch.pending_dabt != 0, 0)) {
		next->arch.pending_dabt = 0; /* an emulator refused its access (emulate.c) */
		arm64_inject_dabt(next, next->arch.mmio_far);
	}
	if (__builtin_expect(next->arch.sysreg_pending != 0, 0))
		arm64_vcpu_apply_sysreg(next); /* a held write its monitor allowed (vmi.c) */
	return next;
}

/**
 * Complete an emulated register read into Rt of v (31: XZR, nothing). x0-x19
 * and x30 are reloaded from v on the way back; x20-x29 are not (vectors.S),
 * so a value for one of them is left pending and v is returned tagged
 * (bit 0), which makes vectors.S store x20-x29 first and apply it.
 */
static struct vcpu *exit_set_rt(struct vcpu *v, u32 rt, u64 value)
{
	if (rt >= 20u && rt <= 29u && !v->arch.regs_full) {
		v->arch.rt_pending = rt + 1u;
		v->arch.rt_value = value;
		return (struct vcpu *)((uintptr_t)v | 1u);
	}
	if (rt != 31u)
		v->arch.x[rt] = value;
	return v;
}

/**
 * The value of v's register rt for an emulated store, into *value (XZR
 * reads 0). False when it is one of x20-x29 and only the CPU holds it (the
 * exit path keeps them in place): the caller returns exit_redo(v), which
 * has vectors.S store them and exit.c run the exit again (arm64_exit_redo).
 */
static bool exit_get_rt(const struct vcpu *v, u32 rt, u64 *value)
{
	if (rt >= 20u && rt <= 29u && !v->arch.regs_full)
		return false;
	*value = rt == 31u ? 0 : v->arch.x[rt];
	return true;
}

static struct vcpu *exit_redo(struct vcpu *v)
{
	v->arch.rt_pending = ARM64_RT_REDO;
	return (struct vcpu *)((uintptr_t)v | 1u);
}

/** ESR_EL2 ISS of a data abort: SRT [20:16] and WnR [6] (D13.2.37). */
#define ISS_SRT(esr) (((esr) >> 16) & 0x1fu)

/**
 * A stage-2 data abort of a VM inside its vGIC frames: emulate the access,
 * or give the guest the abort a GIC gives for an access it does not have.
 */
static struct vcpu *exit_vgic_mmio(struct vcpu *v, u64 ipa, u64 esr)
{
	u32 rt = ISS_SRT(esr);
	u64 wvalue = 0, value = 0;
	if ((esr & ISS_WNR) && !exit_get_rt(v, rt, &wvalue))
		return exit_redo(v);
	enum arm64_mmio_result r = arm64_virq_mmio(v, ipa, esr, wvalue, &value);
	if (r == ARM64_MMIO_BAD) {
		arm64_inject_dabt(v, read_sysreg(far_el2));
		return v;
	}
	v->arch.pc += 4u;
	arm64_virq_refresh(arm64_this_cpu(), v);
	if (!(esr & ISS_WNR))
		return exit_set_rt(v, rt, value);
	return v;
}

/**
 * Whether a trapped system register access is a PMU register (MDCR_EL2.TPM,
 * TPMCR; DDI 0487 D13.3): op1 3, CRn 9, CRm 12-14 (PMCR_EL0 ... PMOVSSET_EL0),
 * op1 3, CRn 14, CRm 8-15 (PMEVCNTR<n>_EL0, PMEVTYPER<n>_EL0, PMCCFILTR_EL0),
 * op1 0, CRn 9, CRm 14 (PMINTENSET/CLR_EL1, PMMIR_EL1).
 */
static bool exit_is_pmu(u64 esr)
{
	u32 op1 = ISS_SYSREG_OP1(esr), crn = ISS_SYSREG_CRN(esr), crm = ISS_SYSREG_CRM(esr);
	if (ISS_SYSREG_OP0(esr) != 3u)
		return false;
	return (op1 == 3u && crn == 9u && crm >= 12u && crm <= 14u) ||
	       (op1 == 3u && crn == 14u && crm >= 8u) || (op1 == 0u && crn == 9u && crm == 14u);
}

/**
 * What a partition reads from the PMU. The counters run for the machine
 * (the kernel enables the cycle counter, counting EL2 too, at boot) and
 * every write is ignored, so no partition can stop, reset or program them
 * for another, or signal through them. PMCCNTR_EL0 reads the machine's
 * cycle counter, a global clock like CNTVCT_EL0 (under -icount it counts
 * instructions, which the benchmarks read), and PMCR_EL0 its configuration;
 * every other PMU register reads as zero.
 */
static u64 exit_pmu_read(u64 esr)
{
	u32 op1 = ISS_SYSREG_OP1(esr), crn = ISS_SYSREG_CRN(esr), crm = ISS_SYSREG_CRM(esr);
	u32 op2 = ISS_SYSREG_OP2(esr);
	if (op1 == 3u && crn == 9u && crm == 13u && op2 == 0u)
		return read_sysreg(pmccntr_el0);
	if (op1 == 3u && crn == 9u && crm == 12u && op2 == 0u)
		return read_sysreg(pmcr_el0);
	return 0;
}

/** Into the core; vectors.S handles whatever vCPU it returns. */
static inline struct vcpu *exit_trap(struct vcpu *v, const struct trap *t)
{
	arm64_core_lock_wait();
	return kernel_trap(v, t);
}

/** What an EL1 exception class means, for reports. */
static const char *exit_el1_what(u32 ec)
{
	switch (ec) {
	case EC_UNKNOWN:
		return "undefined instruction";
	case EC_FP:
		return "fp/simd access trap";
	case EC_ILLEGAL:
		return "illegal execution state";
	case EC_SVC64:
		return "svc without vectors";
	case EC_SYSREG:
		return "system register access";
	case EC_IABT_LOW:
	case EC_IABT_CUR:
		return "instruction abort";
	case EC_PC_ALIGN:
		return "pc alignment fault";
	case EC_DABT_LOW:
	case EC_DABT_CUR:
		return "data abort";
	case EC_SP_ALIGN:
		return "sp alignment fault";
	case EC_SERROR:
		return "serror";
	case EC_BRK64:
		return "breakpoint";
	default:
		return "exception";
	}
}

/**
 * A stage-2 instruction abort at VBAR_EL1 + vector offset while VBAR_EL1 is
 * still the reset value 0: the guest took an exception with no vectors
 * installed. Report the original exception (ESR_EL1, FAR_EL1) and wind the
 * vCPU back to the faulting instruction (ELR_EL1, SPSR_EL1), so that its PC
 * in reports, and for a fault handler that resumes it, is the culprit.
 */
static bool exit_no_vectors(struct vcpu *v, struct trap *t)
{
	u64 vbar = read_sysreg(vbar_el1);
	u64 off = v->arch.pc - vbar;

	if (vbar != 0 || off >= 0x800u || (off & 0x7fu) != 0)
		return false;
	u64 esr = read_sysreg(esr_el1);
	u32 kind = (u32)(off >> 7) & 3u; /* sync, IRQ, FIQ, SError */
	t->kind = TRAP_GUEST_EXCEPTION;
	t->syndrome = esr;
	t->address = read_sysreg(far_el1);
	t->what = kind == 0 ? exit_el1_what((u32)(esr >> ESR_EC_SHIFT) & ESR_EC_MASK) :
	          kind == 1 ? "irq without vectors" :
	          kind == 2 ? "fiq without vectors" :
	                      "serror without vectors";
	v->arch.pc = read_sysreg(elr_el1);
	/* SPSR_EL1 is the guest's to write: never let it choose EL2 (or AArch32). */
	v->arch.pstate = arm64_pstate_for_guest(read_sysreg(spsr_el1));
	return true;
}

/** Data or instruction abort from the guest: a stage-2 fault, or something the guest caused. */
/**
 * The IPA of a stage-2 permission fault that was not on a stage-1 walk, for which HPFAR_EL2
 * is UNKNOWN (D13.2.49): the VM's own stage 1, live in the EL1 registers here, translates
 * FAR_EL2 (AT S1E0R or S1E1R by the EL it faulted at) and PAR_EL1 gives the IPA; the VM's
 * PAR_EL1 is put back. Where that walk fails (PAN, or a table changed meanwhile) *ipa keeps
 * HPFAR's value, which QEMU and many cores do fill in.
 */
static void exit_permission_ipa(const struct vcpu *v, u64 far, u64 *ipa)
{
	u64 saved = read_sysreg(par_el1);
	if ((v->arch.pstate & SPSR_M_MASK) == SPSR_M_EL0T)
		__asm__ volatile("at s1e0r, %0" ::"r"(far) : "memory");
	else
		__asm__ volatile("at s1e1r, %0" ::"r"(far) : "memory");
	isb();
	u64 par = read_sysreg(par_el1);
	write_sysreg(par_el1, saved);
	if (!(par & PAR_F))
		*ipa = (par & PAR_PA_MASK) | (far & PAGE_MASK);
}

static void exit_abort(struct vcpu *v, u64 esr, u32 ec, struct trap *t)
{
	u32 fsc = (u32)esr & ISS_FSC_MASK;
	u32 type = FSC_TYPE(fsc);

	/* A VM without vectors; a service (EL0) has no EL1 state to report from. */
	if (ec == EC_IABT_LOW && v->arch.vm != NULL && exit_no_vectors(v, t))
		return;
	if (type != FSC_TRANSLATION && type != FSC_ACCESS_FLAG && type != FSC_PERMISSION) {
		t->kind = TRAP_GUEST_EXCEPTION;
		t->what = ec == EC_IABT_LOW ? "external instruction abort" : "external data abort";
		t->address = read_sysreg(far_el2);
		return;
	}
	/* HPFAR_EL2.FIPA holds IPA[47:12] in bits [43:4] (D13.2.49); FAR_EL2 the page offset. */
	u64 hpfar = read_sysreg(hpfar_el2), far = read_sysreg(far_el2);
	t->kind = TRAP_MEM_FAULT;
	t->what = NULL;
	t->address = ((hpfar >> 4) << 12) | (far & PAGE_MASK);
	if (type == FSC_PERMISSION && !(esr & ISS_S1PTW) && !(esr & ISS_FNV) && v->arch.vm != NULL)
		exit_permission_ipa(v, far, &t->address);
	if (ec == EC_IABT_LOW)
		t->access = IPC_ACCESS_EXEC;
	else if ((esr & ISS_WNR) && !(esr & ISS_S1PTW))
		t->access = IPC_ACCESS_WRITE;
	else
		t->access = IPC_ACCESS_READ;
}

/** Which watchable register (IPC_VMI_REG_*) op0 3, op1 0, crn, crm, op2 name; -1: none. */
static int exit_vm_control_reg(u32 crn, u32 crm, u32 op2)
{
	if (crn == 1u && crm == 0u && op2 == 0u)
		return IPC_VMI_REG_SCTLR;
	if (crn == 2u && crm == 0u && op2 <= 2u)
		return (int)(IPC_VMI_REG_TTBR0 + op2); /* TTBR0, TTBR1, TCR */
	return -1;
}

/** The current value of a watchable register of the VM loaded here. */
static u64 exit_vm_control_read(int reg)
{
	switch (reg) {
	case IPC_VMI_REG_SCTLR:
		return read_sysreg(sctlr_el1);
	case IPC_VMI_REG_TTBR0:
		return read_sysreg(ttbr0_el1);
	case IPC_VMI_REG_TTBR1:
		return read_sysreg(ttbr1_el1);
	default:
		return read_sysreg(tcr_el1);
	}
}

/**
 * A VM's write of an EL1 VM control while HCR_EL2.TVM traps them (D13.2.48: SCTLR, TTBR0/1,
 * TCR, ESR, FAR, AFSR0/1, MAIR, AMAIR, CONTEXTIDR), set because its monitor watches some of
 * them (kernel/vmi.c). A watched one goes to the core held (TRAP_REG_WRITE); any other is
 * written here at once, the VM's EL1 registers being loaded on this CPU. False if the access
 * is none of them; else *next is the vCPU to enter.
 */
static bool exit_vm_control(struct vcpu *v, u64 esr, struct vcpu **next)
{
	u32 crn = ISS_SYSREG_CRN(esr), crm = ISS_SYSREG_CRM(esr), op2 = ISS_SYSREG_OP2(esr);
	u64 value;
	if (!exit_get_rt(v, ISS_SYSREG_RT(esr), &value)) {
		*next = exit_redo(v);
		return true;
	}
	int reg = exit_vm_control_reg(crn, crm, op2);
	if (reg >= 0 && (v->arch.vmi_regs & (1u << reg))) {
		struct trap t;
		trap_init(&t, TRAP_REG_WRITE, esr, "register write");
		t.address = (u64)reg;
		t.value = value;
		t.arch_info = exit_vm_control_read(reg);
		*next = exit_trap(v, &t);
		if (*next == v && v->arch.sysreg_pending != 0)
			arm64_vcpu_apply_sysreg(v); /* done at once: nobody watches it any more */
		return true;
	}
	if (reg >= 0) {
		v->arch.sysreg_value = value;
		v->arch.sysreg_pending = (u32)reg + 1u;
		arm64_vcpu_apply_sysreg(v);
	} else if (crn == 5u && crm == 2u && op2 == 0u) {
		write_sysreg(esr_el1, value);
	} else if (crn == 5u && crm == 1u && op2 == 0u) {
		write_sysreg(afsr0_el1, value);
	} else if (crn == 5u && crm == 1u && op2 == 1u) {
		write_sysreg(afsr1_el1, value);
	} else if (crn == 6u && crm == 0u && op2 == 0u) {
		write_sysreg(far_el1, value);
	} else if (crn == 10u && crm == 2u && op2 == 0u) {
		write_sysreg(mair_el1, value);
	} else if (crn == 10u && crm == 3u && op2 == 0u) {
		write_sysreg(amair_el1, value);
	} else if (crn == 13u && crm == 0u && op2 == 1u) {
		write_sysreg(contextidr_el1, value);
	} else {
		return false; /* not a VM control: the caller goes on with the other cases */
	}
	v->arch.pc += 4u;
	*next = v;
	return true;
}

/** Every synchronous exit but a hypercall (HVC, or a service's SVC). */
static __attribute__((noinline)) struct vcpu *exit_sync_slow(struct vcpu *v, u64 esr)
{
	u32 ec = (u32)(esr >> ESR_EC_SHIFT) & ESR_EC_MASK;
	struct trap t;
	trap_init(&t, TRAP_GUEST_EXCEPTION, esr, "trapped instruction");

	switch (ec) {
	case EC_WFX:
		v->arch.pc += INSN_SIZE;
		/* A VM's WFI waits for its interrupts; WFE, and a service's WFI, yield. */
		if (v->arch.vm != NULL && !(esr & 1u))
			return arm64_virq_wfi(v);
		t.kind = TRAP_WFI;
		t.what = NULL;
		break;
	case EC_SOFTSTEP_LOW:
		/* A VM its monitor single-steps executed one instruction (vcpu.c step_sync). */
		if (!v->arch.vmi_step)
			return v;          /* the stepping ended meanwhile */
		v->arch.pstate |= SPSR_SS; /* the next instruction too, until it ends */
		t.kind = TRAP_STEP;
		t.what = NULL;
		break;
	case EC_FP:
		/* CPTR_EL2.TFP: the vCPU's first FP/SIMD use since it was entered. */
		arm64_vcpu_fp_load(arm64_this_cpu(), v);
		return v;
	case EC_SMC64:
		/* SMC traps before executing (ELR = the SMC): step over it, answer as firmware. */
		v->arch.pc += INSN_SIZE;
		return arm64_smccc(v);
	case EC_IABT_LOW:
	case EC_DABT_LOW:
		exit_abort(v, esr, ec, &t);
		if (t.kind == TRAP_MEM_FAULT && ec == EC_DABT_LOW &&
		    arm64_virq_is_mmio(v, t.address))
			return exit_vgic_mmio(v, t.address, esr);
		/*
		 * Emulated ranges are never mapped, so only a translation fault can be an
		 * access to one; a permission fault (a monitor's rights, kernel/vmi.c) goes to
		 * the core as the memory fault it is.
		 */
		if (t.kind == TRAP_MEM_FAULT && ec == EC_DABT_LOW && (esr & ISS_ISV) &&
		    (esr & ISS_WNR) && !(esr & ISS_S1PTW) &&
		    FSC_TYPE((u32)esr & ISS_FSC_MASK) == FSC_PERMISSION) {
			/*
			 * A store a page's rights refused: decoded too, in case its page's writes
			 * go to a device model (kernel/dm.c); it stays the memory fault it is.
			 */
			u32 rt = ISS_SRT(esr);
			if (!exit_get_rt(v, rt, &t.value))
				return exit_redo(v);
			t.size = 1u << ISS_SAS(esr);
			t.arch_info = ARM64_MMIO_INFO_ESR(esr);
			v->arch.mmio_far = read_sysreg(far_el2);
		}
		if (t.kind == TRAP_MEM_FAULT && ec == EC_DABT_LOW && (esr & ISS_ISV) &&
		    !(esr & ISS_S1PTW) && FSC_TYPE((u32)esr & ISS_FSC_MASK) != FSC_PERMISSION) {
			/*
			 * A load or store the syndrome describes: the core hands it to
			 * the range's emulator, or treats it as the fault it is. Its
			 * register, x20-x29 included, must be in v before anything
			 * another CPU does can complete it (exit_redo).
			 */
			u32 rt = ISS_SRT(esr);
			if (rt >= 20u && rt <= 29u && !v->arch.regs_full)
				return exit_redo(v);
			t.kind = TRAP_MMIO;
			t.size = 1u << ISS_SAS(esr);
			t.value = rt == 31u ? 0 : v->arch.x[rt];
			t.arch_info = ARM64_MMIO_INFO_ESR(esr);
			v->arch.mmio_far = read_sysreg(far_el2);
		}
		break;
	case EC_SYSREG:
		if (ISS_SYSREG_OP0(esr) == 2u) {
			/*
			 * Debug registers (Op0 = 2, trapped by MDCR_EL2.TDA/TDOSA/TDRA):
			 * not switched between partitions, so one partition's
			 * watchpoints could fire in another. Reads as zero, ignores writes.
			 */
			v->arch.pc += INSN_SIZE;
			if (ISS_SYSREG_READ(esr))
				return exit_set_rt(v, ISS_SYSREG_RT(esr), 0);
			return v;
		}
		/* ICC_SGI1R/ASGI1R/SGI0R_EL1 (op0 3, op1 0, CRn 12, CRm 11, op2 5-7) trap under IMO. */
		if (v->arch.vm != NULL && ISS_SYSREG_OP0(esr) == 3u && ISS_SYSREG_OP1(esr) == 0u &&
		    ISS_SYSREG_CRN(esr) == 12u && ISS_SYSREG_CRM(esr) == 11u &&
		    ISS_SYSREG_OP2(esr) >= 5u && !ISS_SYSREG_READ(esr)) {
			u64 value;
			if (!exit_get_rt(v, ISS_SYSREG_RT(esr), &value))
				return exit_redo(v);
			v->arch.pc += INSN_SIZE;
			arm64_virq_sgi(arm64_this_cpu(), v, ISS_SYSREG_OP2(esr), value);
			return v;
		}
		/* CNTP_TVAL/CTL/CVAL_EL0 (op0 3, op1 3, CRn 14, CRm 2): a VM's emulated physical timer. */
		if (v->arch.vm != NULL && ISS_SYSREG_OP0(esr) == 3u && ISS_SYSREG_OP1(esr) == 3u &&
		    ISS_SYSREG_CRN(esr) == 14u && ISS_SYSREG_CRM(esr) == 2u &&
		    ISS_SYSREG_OP2(esr) <= 2u) {
			u64 value = 0;
			bool read = ISS_SYSREG_READ(esr);
			if (!read && !exit_get_rt(v, ISS_SYSREG_RT(esr), &value))
				return exit_redo(v);
			v->arch.pc += INSN_SIZE;
			struct arm64_cpu *cpu = arm64_this_cpu();
			u64 r = arm64_virq_ptimer_access(cpu, v, ISS_SYSREG_OP2(esr), read, value);
			arm64_virq_refresh(cpu, v);
			return read ? exit_set_rt(v, ISS_SYSREG_RT(esr), r) : v;
		}
		/* MDCR_EL2.TPM/TPMCR: the PMU is the machine's, not a partition's. */
		if (exit_is_pmu(esr)) {
			v->arch.pc += INSN_SIZE;
			if (ISS_SYSREG_READ(esr))
				return exit_set_rt(v, ISS_SYSREG_RT(esr), exit_pmu_read(esr));
			return v;
		}
		/* HCR_EL2.TID3: what the partition may know of the CPU (idregs.c). */
		if (arm64_idreg_is_read(esr)) {
			v->arch.pc += INSN_SIZE;
			return exit_set_rt(v, ISS_SYSREG_RT(esr), arm64_idreg_read(esr));
		}
		/* HCR_EL2.TVM, set while a monitor watches some of them (after the frequent PMU). */
		if (v->arch.vm != NULL && (v->arch.hcr & HCR_TVM) && !ISS_SYSREG_READ(esr) &&
		    ISS_SYSREG_OP0(esr) == 3u && ISS_SYSREG_OP1(esr) == 0u) {
			struct vcpu *next;
			if (exit_vm_control(v, esr, &next))
				return next;
		}
		t.what = v->arch.vm == NULL ? "system register access" :
		                              "trapped system register access";
		break;
	default:
		/* A service's own exceptions come here (TGE): say what it did. */
		if (v->arch.vm == NULL)
			t.what = exit_el1_what(ec);
		break;
	}
	return exit_trap(v, &t);
}

/** A physical interrupt while the guest ran (HCR_EL2.IMO routes them here). */
static struct vcpu *exit_irq(struct vcpu *v)
{
	struct arm64_cpu *cpu = arm64_this_cpu();
	u32 intid = arm64_gic_ack();

	if (intid == arm64_vtimer_ppi && v->arch.vm != NULL && cpu->loaded == v &&
	    arm64_virq_vtimer_fast(v))
		return v; /* the guest's timer, listed again */
	if (intid >= 1020u)
		return v; /* spurious: already gone */
	if (intid == arm64_hw.uart_intid && intid != 0) {
		/* Typed bytes: into the console's input ring, its holder signalled; then EOI. */
		console_input_poll();
		arm64_gic_eoi(intid);
		return v;
	}
	if (arm64_virq_irq(cpu, v, intid))
		return v; /* a guest's: in its list registers already */
	struct trap t;
	trap_init(&t, TRAP_IRQ, intid, NULL);
	arm64_gic_eoi(intid);
	if (intid == arm64_timer_intid()) {
		if (!arm64_timer_expired(cpu)) {
			/* Only the guest's emulated physical timer, perhaps. */
			if (v->arch.vm != NULL)
				arm64_virq_refresh(cpu, v);
			return v;
		}
		t.kind = TRAP_TIMER;
	}
	struct vcpu *next = exit_trap(v, &t);
	/* A kick may also ask for what a VM moved elsewhere left here (vcpu.c). */
	arm64_vcpu_release_moved(cpu);
	/* Back into the same vCPU: another CPU may have pended something for it (the kick). */
	if (next == v)
		arm64_virq_refresh(cpu, v);
	return next;
}

/**
 * An interrupt exit that goes back into the same vCPU relaxes: a hint on real cores; under
 * QEMU's -icount round robin, what gives the other CPUs a turn while this guest spins with
 * only its own timer's interrupts (docs/platform-arm64.md: without it, a Linux guest's busy
 * loop on one CPU starved the other three, one of them inside the console lock). Not when the
 * exit switched vCPUs: that would put QEMU's switch inside the next vCPU's measured run.
 */
static struct vcpu *exit_irq_relaxed(struct vcpu *v)
{
	struct vcpu *next = exit_irq(v);
	if (next == v)
		arch_cpu_relax();
	return next;
}

/** A hypercall while another CPU holds the kernel lock: wait (YIELD), then enter. */
static __attribute__((noinline)) struct vcpu *exit_hypercall_contended(struct vcpu *v)
{
	arm64_core_lock_wait_slow();
	return kernel_trap_hypercall(v);
}

/**
 * The hot path: a hypercall, a tail call into the core's hypercall entry
 * (which needs no struct trap), with no stack frame of its own. The
 * syndrome still goes into the per-CPU trap, whose rest arm64_cpu_init()
 * set once.
 */
static inline struct vcpu *exit_hypercall(struct vcpu *v, struct arm64_cpu *cpu, u64 esr)
{
	cpu->trap.syndrome = esr;
	if (__builtin_expect(kernel_lock_looks_busy(), 0))
		return exit_hypercall_contended(v);
	return kernel_trap_hypercall(v);
}

struct vcpu *arm64_exit_hypercall(struct vcpu *v, struct arm64_cpu *cpu, u64 esr)
{
	return exit_hypercall(v, cpu, esr);
}

/**
 * HC_CALL and HC_REPLY_RECV: the core's IPC fastpath (kernel/ipc.c ipc_fast), else the
 * hypercall path. Out of line, so that arm64_guest_sync stays a chain of tail calls
 * with no stack frame for every other exit.
 */
static __attribute__((noinline)) struct vcpu *exit_ipc(struct vcpu *v, struct arm64_cpu *cpu,
                                                       u64 esr)
{
	struct vcpu *next = ipc_fast(v);
	if (next != NULL)
		return next;
	return exit_hypercall(v, cpu, esr);
}

/** Every exit but a synchronous one, from vectors.S. */
struct vcpu *arm64_guest_exit(struct vcpu *v, u64 kind)
{
	if (kind == ARM64_EXIT_IRQ)
		return exit_irq_relaxed(v);
	if (kind == ARM64_EXIT_FIQ) {
		/* Group 0 interrupts are not used; report it as an interrupt, not the guest's fault. */
		struct trap t = { .kind = TRAP_IRQ, .syndrome = 1023u, .what = "fiq" };
		return exit_trap(v, &t);
	}
	struct trap t = { .kind = TRAP_GUEST_EXCEPTION,
		          .syndrome = read_sysreg(esr_el2),
		          .what = "serror" };
	return exit_trap(v, &t);
}

/**
 * From vectors.S, with every register of v stored (x20-x29 too): finish an
 * exit that needed them. An emulated load into x20-x29 (exit_set_rt) is
 * written; an exit that needed the value of one of them (exit_redo) runs
 * again, now that v holds it. Returns the vCPU to enter with every register.
 */
struct vcpu *arm64_exit_complete(struct vcpu *v)
{
	u64 pending = v->arch.rt_pending;
	v->arch.rt_pending = 0;
	if (pending != ARM64_RT_REDO) {
		v->arch.x[pending - 1u] = v->arch.rt_value;
		return v;
	}
	v->arch.regs_full = 1;
	struct vcpu *next = exit_sync_slow(v, read_sysreg(esr_el2));
	v->arch.regs_full = 0;
	if (next != v)
		next = arm64_exit_switch(next);
	return next;
}

/**
 * The emulation path's exit: a stage-2 translation fault on a load or
 * store the syndrome describes (ISV, not on a stage-1 walk), outside the
 * vGIC's frames, whose register is already in v. It goes to the core as a
 * TRAP_MMIO at once; the core turns one outside every emulated range into
 * the memory fault it is. Anything unusual takes exit_sync_slow.
 */
static __attribute__((noinline)) struct vcpu *exit_dabt(struct vcpu *v, struct arm64_cpu *cpu,
                                                        u64 esr)
{
	u32 rt = ISS_SRT(esr);
	if ((esr & (ISS_ISV | ISS_S1PTW)) != ISS_ISV ||
	    FSC_TYPE((u32)esr & ISS_FSC_MASK) != FSC_TRANSLATION || (rt >= 20u && rt <= 29u))
		return exit_sync_slow(v, esr);
	u64 far = read_sysreg(far_el2);
	struct trap *t = &cpu->mmio_trap;
	t->address = ((read_sysreg(hpfar_el2) >> 4) << 12) | (far & PAGE_MASK);
	if (v->arch.vm != NULL && arm64_virq_is_mmio(v, t->address))
		return exit_sync_slow(v, esr);
	t->syndrome = esr;
	t->size = 1u << ISS_SAS(esr);
	if (esr & ISS_WNR) {
		t->access = IPC_ACCESS_WRITE;
		t->value = rt == 31u ? 0 : v->arch.x[rt];
	} else {
		t->access = IPC_ACCESS_READ;
		t->value = 0;
	}
	t->arch_info = ARM64_MMIO_INFO_ESR(esr);
	v->arch.mmio_far = far;
	arm64_core_lock_wait();
	return kernel_trap_mmio(v, t);
}

/** A synchronous exit, from its own vector slot (cpu = TPIDR_EL2); hypercalls first. */
struct vcpu *arm64_guest_sync(struct vcpu *v, struct arm64_cpu *cpu)
{
	u64 esr = read_sysreg(esr_el2);
	u64 ec = (esr >> ESR_EC_SHIFT) & ESR_EC_MASK;

	/* HVC from a VM, SVC from a service (EL0 under TGE): EC 0x16 or 0x15. */
	if (__builtin_expect(ec - EC_SVC64 > 1u, 0)) {
		if (ec == EC_DABT_LOW)
			return exit_dabt(v, cpu, esr);
		return exit_sync_slow(v, esr);
	}
	/* An SMCCC function ID (bit 31 of W0) is firmware's, not the hypervisor ABI's. */
	if (__builtin_expect((v->arch.x[0] & 0x80000000u) != 0, 0))
		return arm64_smccc(v);
	/* HC_CALL or HC_REPLY_RECV (8, 9): the IPC fastpath first. */
	if (v->arch.x[0] - HC_CALL <= 1u)
		return exit_ipc(v, cpu, esr);
	return exit_hypercall(v, cpu, esr);
}
