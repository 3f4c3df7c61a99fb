/**
 * The arm64 vCPU state, embedded by value as the first member of struct vcpu.
 *
 *   offset  field          saved/restored
 *   0x000   x[0..30]       on every exit/entry (platform/arm64/vectors.S)
 *   0x0f8   pc             ELR_EL2, every exit/entry
 *   0x100   pstate         SPSR_EL2, every exit/entry
 *   0x108   rt_pending     an emulated write to x20-x29 (exit.c), applied by vectors.S
 *   0x108   hcr ...        written when the vCPU changes on a CPU
 *   ...     el1            saved/restored when the vCPU changes on a CPU
 *   ...     fp             loaded on first use after entry, saved on leaving
 *
 * The assembly uses the offsets above; platform/arm64/vcpu.c checks them
 * with _Static_assert. The EL1 system registers and the FP/SIMD registers
 * are switched only when a CPU changes vCPU, so the hypercall round trip
 * back into the same vCPU touches only the general registers.
 */
#ifndef ARCH_VCPU_ARM64_H
#define ARCH_VCPU_ARM64_H

#define ARM64_VCPU_PC_OFFSET 0xf8
#define ARM64_VCPU_PSTATE_OFFSET 0x100
#define ARM64_VCPU_RT_PENDING_OFFSET 0x108
#define ARM64_VCPU_RT_VALUE_OFFSET 0x110
/* Used by vectors.S's hop between two services (checked in vcpu.c). */
#define ARM64_VCPU_HCR_OFFSET 280
#define ARM64_VCPU_VTTBR_OFFSET 288
#define ARM64_VCPU_LIVE_ON_OFFSET 296
#define ARM64_VCPU_FP_LIVE_OFFSET 328
#define ARM64_VCPU_RESET_PENDING_OFFSET 304
#define ARM64_VCPU_VM_OFFSET 352
#define ARM64_VCPU_PENDING_DABT_OFFSET 308
#define ARM64_VCPU_SP_EL0_OFFSET 480
#define ARM64_VCPU_TPIDR_EL0_OFFSET 488
/**
 * rt_pending value asking vectors.S to store x20-x29 and have exit.c run
 * the trapped instruction again (arm64_exit_redo): an emulated store or
 * SGI whose source register is one of x20-x29.
 */
#define ARM64_RT_REDO 64

/*
 * struct trap.arch_info of a TRAP_MMIO: the target register, SSE, SF, the direction and the
 * instruction length where the data abort's syndrome has them (SRT [20:16], SSE [21], SF [15],
 * WnR [6], IL [25]: 4 bytes if set, else 2), so that the emulation path stores ESR_EL2 itself
 * (emulpath.S) and exit.c keeps the syndrome's own bits (ARM64_MMIO_INFO_ESR); other bits are
 * ignored.
 */
#define ARM64_MMIO_INFO(rt, sse, sf, len) \
	(((u64)(rt) << 16) | ((u64)(sse) << 21) | ((u64)(sf) << 15) | ((u64)((len) == 4u) << 25))
#define ARM64_MMIO_INFO_BITS (ARM64_MMIO_INFO(0x1fu, 1u, 1u, 4u) | ARM64_MMIO_WRITE_FLAG)
#define ARM64_MMIO_INFO_ESR(esr) ((u64)(esr)&ARM64_MMIO_INFO_BITS)
#define ARM64_MMIO_WRITE_FLAG ((u64)1 << 6)
#define ARM64_MMIO_RT(i) ((u32)((i) >> 16) & 0x1fu)
#define ARM64_MMIO_SSE(i) ((((i) >> 21) & 1u) != 0)
#define ARM64_MMIO_SF(i) ((((i) >> 15) & 1u) != 0)
#define ARM64_MMIO_LEN(i) (2u + 2u * ((u32)((i) >> 25) & 1u))

#ifndef __ASSEMBLER__

#include <kernel/types.h>

/** The EL1 system registers a partition owns (DDI 0487 D13.2). */
struct arm64_el1_regs {
	u64 sctlr, ttbr0, ttbr1, tcr, mair, amair, vbar, contextidr;
	u64 tpidr_el1, sp_el0, tpidr_el0, tpidrro_el0, sp_el1, elr,
	        spsr; /* sp_el0, tpidr_el0: a pair */
	u64 esr, far, afsr0, afsr1, par, cpacr, cntkctl, csselr;
	u64 cntv_ctl, cntv_cval;
	u64 vmcr; /**< ICH_VMCR_EL2: the guest's view of ICC_PMR/BPR/IGRPEN (virtual interface) */
	u32 ap0r[4], ap1r[4]; /**< ICH_AP0Rn/AP1Rn_EL2: the virtual interface's active priorities */
	u64 tpidr2;           /**< TPIDR2_EL0, when the CPU has SME */
	u64 vdisr;            /**< VDISR_EL2 (the guest's DISR_EL1 under HCR_EL2.AMO), with RAS */
};

/** FP/SIMD registers: q0..q31 as pairs of doublewords, then FPSR and FPCR. */
struct arm64_fp_regs {
	u64 q[64];
	u64 fpsr, fpcr;
};

struct vcpu_arch {
	u64 x[31];  /**< general registers x0..x30 */
	u64 pc;     /**< ELR_EL2: where the vCPU resumes */
	u64 pstate; /**< SPSR_EL2: the vCPU's PSTATE */
	/**
	 * An emulated register read whose target is one of x20-x29 (rt), which
	 * the return into the same vCPU does not reload (vectors.S): 0, or
	 * rt + 1 with its value; vectors.S stores x20-x29, applies it and
	 * re-enters with every register (exit.c: exit_set_rt).
	 */
	u64 rt_pending;
	u64 rt_value;
	u64 hcr;   /**< HCR_EL2 while this vCPU runs (TGE and DC for services) */
	u64 vttbr; /**< VTTBR_EL2 while it runs: its partition's stage-2 root and VMID */
	/**
	 * CPU index + 1 while this vCPU's EL1/FP state lives in that CPU's
	 * registers, 0 once it is saved here. Another CPU waits for 0 before
	 * loading it, which closes the window between the kernel lock's release
	 * and the save on the CPU that ran it last.
	 */
	u32 live_on;
	/** Its model changed: refill the list registers before entry (after live_on: one load). */
	u32 lr_dirty;
	/*
	 * The rare work an entry must do, together so that the assembly paths test them with
	 * two loads (emulpath.S, fastpath.S): reset_pending, pending_dabt, sysreg_pending and
	 * vmi_step one 16-byte block, then ptimer_ctl and ptimer_line one doubleword.
	 */
	/**
	 * A start (arch_vcpu_power_on) waiting to be applied: the reset happens
	 * when a CPU next loads the vCPU, after the CPU that ran it last saved
	 * its state, so that the save cannot overwrite the fresh state.
	 */
	u32 reset_pending;
	/** An emulator refused its access: inject the data abort when it is next entered. */
	u32 pending_dabt;
	/** A held write its monitor allowed: IPC_VMI_REG_* + 1 (the value: sysreg_value), applied at entry. */
	u32 sysreg_pending;
	/** Single-stepped for its monitor (arch_vcpu_set_step; vcpu.c step_sync). */
	u32 vmi_step;
	/**
	 * The EL1 physical timer a VM sees, emulated (CNTHCTL_EL2.EL1PCEN = 0
	 * traps it): CNTP_CTL_EL0's ENABLE and IMASK, and CNTP_CVAL_EL0 in
	 * physical counter ticks (virq.c).
	 */
	u32 ptimer_ctl;
	u32 ptimer_line; /**< the level its PPI was last given */
	/**
	 * Whether this vCPU's FP/SIMD state is in the registers of the CPU it
	 * runs on. It is loaded lazily, on the vCPU's first FP/SIMD
	 * instruction after it is entered (CPTR_EL2.TFP traps it), and saved
	 * when the CPU leaves the vCPU; services, built without FP/SIMD, never
	 * pay for either.
	 */
	u32 fp_live;
	u32 reset_type;
	u64 reset_entry, reset_arg;
	/** The VM's virtual GIC (platform/arm64/virq.c); NULL for a service. */
	struct arm64_vm *vm;
	u32 vm_cpu; /**< this vCPU's index in it */
	u64 lr_hcr; /**< ICH_HCR_EL2 for it, as its last fill asked (virq.c) */
	/**
	 * 1 while exit.c re-runs a trapped access with every register stored
	 * (x20-x29 too): see ARM64_RT_REDO.
	 */
	u32 regs_full;
	u64 cntvoff; /**< CNTVOFF_EL2 while it runs: the partition's virtual counter offset */
	u64 ptimer_cval;
	/** The virtual address of its emulated access in flight (FAR_EL2), for an abort. */
	u64 mmio_far;
	struct arm64_el1_regs el1;
	struct arm64_fp_regs fp __attribute__((aligned(16)));
	/* Last, away from the offsets vectors.S uses: */
	/** Registers whose writes its monitor watches (1 << IPC_VMI_REG_*; HCR_EL2.TVM). */
	u32 vmi_regs;
	u64 sysreg_value; /**< the value of the held write sysreg_pending names */
	/** SCTLR, TCR, TTBR0, TTBR1 (_EL1) when it last stopped for its monitor (vmi_pause). */
	u64 vmi_paused_regs[4];
};

/** Logical hypercall register i (ipc/abi.h): r0..r8 are x0..x8. */
static inline u64 arch_vcpu_reg(const struct vcpu_arch *a, u32 i)
{
	return i < 9u ? a->x[i] : 0;
}

static inline void arch_vcpu_set_reg(struct vcpu_arch *a, u32 i, u64 v)
{
	if (i < 9u)
		a->x[i] = v;
}

static inline u64 arch_vcpu_pc(const struct vcpu_arch *a)
{
	return a->pc;
}

#endif /* __ASSEMBLER__ */
#endif /* ARCH_VCPU_ARM64_H */
