/**
 * System register access and the register bits the arm64 platform uses.
 * Every constant names its register and the section of the Arm ARM
 * (ARM DDI 0487) that defines it, so a reader can check it against the spec.
 */
#ifndef ARM64_SYSREG_H
#define ARM64_SYSREG_H

#include <kernel/types.h>

/** Read a system register by name (MRS). */
#define read_sysreg(reg)                                               \
	({                                                             \
		u64 sysreg_val_;                                       \
		__asm__ volatile("mrs %0, " #reg : "=r"(sysreg_val_)); \
		sysreg_val_;                                           \
	})

/** Write a system register by name (MSR). */
#define write_sysreg(reg, v) __asm__ volatile("msr " #reg ", %0" ::"r"((u64)(v)) : "memory")

static inline void isb(void)
{
	__asm__ volatile("isb" ::: "memory");
}
static inline void dsb_ish(void)
{
	__asm__ volatile("dsb ish" ::: "memory");
}
static inline void dsb_ishst(void)
{
	__asm__ volatile("dsb ishst" ::: "memory");
}
static inline void dsb_sy(void)
{
	__asm__ volatile("dsb sy" ::: "memory");
}

/* HCR_EL2, DDI 0487 D13.2.46. */
#define HCR_VM (UINT64_C(1) << 0)   /**< stage-2 translation on */
#define HCR_SWIO (UINT64_C(1) << 1) /**< set/way invalidate -> clean+invalidate */
#define HCR_FMO (UINT64_C(1) << 3)  /**< physical FIQs to EL2 */
#define HCR_IMO (UINT64_C(1) << 4)  /**< physical IRQs to EL2 */
#define HCR_AMO (UINT64_C(1) << 5)  /**< SErrors to EL2 */
#define HCR_BSU_IS (UINT64_C(1) << 10)
#define HCR_FB (UINT64_C(1) << 9)    /**< broadcast TLB/IC maintenance */
#define HCR_DC (UINT64_C(1) << 12)   /**< EL1 MMU off => normal WB memory */
#define HCR_TWI (UINT64_C(1) << 13)  /**< trap WFI */
#define HCR_TWE (UINT64_C(1) << 14)  /**< trap WFE */
#define HCR_TID3 (UINT64_C(1) << 18) /**< trap ID group 3 reads (idregs.c) */
#define HCR_TSC (UINT64_C(1) << 19)  /**< trap SMC: guests never reach firmware */
#define HCR_TACR (UINT64_C(1) << 21) /**< trap ACTLR_EL1: IMPLEMENTATION DEFINED, not switched */
#define HCR_TVM (UINT64_C(1) << 26)  /**< trap writes of the EL1 VM controls */
#define HCR_TGE (UINT64_C(1) << 27)  /**< EL0 alone, its exceptions to EL2 (services) */
#define HCR_TRVM (UINT64_C(1) << 30) /**< trap reads of the EL1 VM controls */
#define HCR_RW (UINT64_C(1) << 31)   /**< EL1 is AArch64 */
#define HCR_TLOR (UINT64_C(1) << 35) /**< trap the LORegion registers, not switched */

/* ESR_ELx exception classes, DDI 0487 D13.2.37. */
#define ESR_EC_SHIFT 26u
#define ESR_EC_MASK 0x3fu
#define ESR_IL (UINT64_C(1) << 25)
#define EC_UNKNOWN 0x00u
#define EC_WFX 0x01u
#define EC_FP 0x07u
#define EC_ILLEGAL 0x0eu
#define EC_SVC64 0x15u
#define EC_HVC64 0x16u
#define EC_SMC64 0x17u
#define EC_SYSREG 0x18u
#define EC_IABT_LOW 0x20u
#define EC_IABT_CUR 0x21u
#define EC_PC_ALIGN 0x22u
#define EC_DABT_LOW 0x24u
#define EC_DABT_CUR 0x25u
#define EC_SP_ALIGN 0x26u
#define EC_SERROR 0x2fu
#define EC_BRK64 0x3cu
#define EC_SOFTSTEP_LOW 0x32u       /**< a software step of a lower EL completed */
#define MDSCR_SS (UINT64_C(1) << 0) /**< MDSCR_EL1.SS: software step enabled */
#define MDCR_TDE (UINT64_C(1) << 8) /**< MDCR_EL2.TDE: debug exceptions to EL2 */
#define SPSR_SS (UINT64_C(1) << 21) /**< PSTATE.SS: step the next instruction */

/* Data/instruction abort ISS, DDI 0487 D13.2.37 (ISS encoding for aborts). */
#define ISS_WNR (UINT64_C(1) << 6)               /**< the access was a write */
#define ISS_ISV (UINT64_C(1) << 24)              /**< SAS, SSE, SRT, SF and AR are valid */
#define ISS_SAS(esr) (((esr) >> 22) & 3u)        /**< access size: 1 << SAS bytes */
#define ISS_SSE (UINT64_C(1) << 21)              /**< a load sign-extends */
#define ISS_SF (UINT64_C(1) << 15)               /**< the register is 64-bit (Xt, not Wt) */
#define ISS_S1PTW (UINT64_C(1) << 7)             /**< stage-2 fault on a stage-1 walk */
#define ISS_FNV (UINT64_C(1) << 10)              /**< FAR_EL2 is not valid */
#define PAR_F UINT64_C(1)                        /**< PAR_EL1: the AT walk failed */
#define PAR_PA_MASK UINT64_C(0x0000fffffffff000) /**< PAR_EL1.PA, bits [47:12] */
#define ISS_FSC_MASK 0x3fu
#define FSC_TYPE(fsc) ((fsc)&0x3cu)
#define FSC_TRANSLATION 0x04u
#define FSC_ACCESS_FLAG 0x08u
#define FSC_PERMISSION 0x0cu

/* SPSR_EL2 for an AArch64 EL1h entry with D, A, I, F masked (DDI 0487 C5.2.19). */
#define SPSR_EL1H_MASKED 0x3c5u

/*
 * The PSTATE bits a partition may own in the SPSR_EL2 it is entered with
 * (DDI 0487 C5.2.19, SPSR_EL2 for an exception from AArch64): N, Z, C, V,
 * TCO, DIT, UAO, PAN, SS, IL, SSBS, BTYPE and D, A, I, F: each acts only at
 * the partition's own exception level. Everything else (the mode M[4:0],
 * ALLINT, the RES0 bits) is the kernel's to choose.
 */
#define SPSR_GUEST_BITS                                                                            \
	((UINT64_C(0xf) << 28) | (UINT64_C(1) << 25) | (UINT64_C(1) << 24) | (UINT64_C(1) << 23) | \
	 (UINT64_C(1) << 22) | (UINT64_C(3) << 20) | (UINT64_C(1) << 12) | (UINT64_C(3) << 10) |   \
	 (UINT64_C(0xf) << 6))
#define SPSR_M_MASK UINT64_C(0x1f)
#define SPSR_M_EL0T UINT64_C(0x0)
#define SPSR_M_EL1T UINT64_C(0x4)
#define SPSR_M_EL1H UINT64_C(0x5)

/**
 * A PSTATE for entering a partition, built from one it may have written
 * (SPSR_EL1 when it had no vectors): only the bits in SPSR_GUEST_BITS are
 * kept, and the mode is AArch64 EL0t, EL1t or EL1h, never EL2 or AArch32;
 * any other mode becomes EL1h. Every ERET into a partition goes through
 * this or through SPSR_EL2 as the hardware wrote it on an exit from a lower
 * EL (docs/platform-arm64.md, "Entering a partition").
 */
static inline u64 arm64_pstate_for_guest(u64 spsr)
{
	u64 m = spsr & SPSR_M_MASK;
	if (m != SPSR_M_EL0T && m != SPSR_M_EL1T)
		m = SPSR_M_EL1H;
	return (spsr & SPSR_GUEST_BITS) | m;
}

/* SCTLR_EL1 reset value for a partition: RES1 bits only, MMU and caches off (D13.2.118). */
#define SCTLR_EL1_RES1 UINT64_C(0x30d00800)

/* CPACR_EL1.FPEN = 0b11: FP/SIMD does not trap at EL1/EL0 (D13.2.32). */
#define CPACR_FPEN (UINT64_C(3) << 20)

/**
 * The EL1 registers that still act on EL0 under TGE (E2H = 0), with the
 * values every service runs with (DDI 0487 D13.2.118, D13.8.x, D13.2.32):
 * SCTLR_EL1: stack alignment checked (SA0), DC ZVA and CTR_EL0 usable (DZE,
 * UCT), WFI/WFE not trapped to EL1 (nTWI, nTWE: HCR_EL2 traps them), no
 * cache maintenance, no DAIF access, no pointer authentication (so a
 * service can never sign with a VM's keys), little-endian;
 * CNTKCTL_EL1: the physical counter readable, no timer, no virtual counter
 * (its offset is a VM's); CPACR_EL1: FP/SIMD not trapped at EL1 (CPTR_EL2
 * traps it for the lazy switch). vcpu.c writes them; so does emulpath.S (asm_offsets.c).
 */
#define SCTLR_SERVICE                                                                      \
	(SCTLR_EL1_RES1 | (UINT64_C(1) << 4) | (UINT64_C(1) << 14) | (UINT64_C(1) << 15) | \
	 (UINT64_C(1) << 16) | (UINT64_C(1) << 18))
#define CNTKCTL_SERVICE UINT64_C(1)

/*
 * CPTR_EL2 (E2H=0, D13.2.33): RES1 bits 13:12 and 9:0 (TZ, bit 8, traps
 * SVE, whose state nobody switches), plus TFP (bit 10), which traps FP/SIMD
 * at EL0-EL2 so that a vCPU's FP state is loaded only when it uses it.
 */
#define CPTR_EL2_BASE UINT64_C(0x33ff)
#define CPTR_TFP (UINT64_C(1) << 10)

/* CNTHCTL_EL2 (E2H=0): EL1 may read the physical counter, the EL1 physical timer traps (D13.8.x). */
#define CNTHCTL_EL1PCTEN (UINT64_C(1) << 0)

/* MDCR_EL2.HPMN is bits [4:0]; TPM (bit 6) and TPMCR (bit 5) are set: PMU accesses trap (exit.c). */
#define MDCR_HPMN_MASK 0x1fu

/*
 * ICH_HCR_EL2 (ARM IHI 0069, register ICH_HCR_EL2): TC (10), TALL0 (11), TALL1 (12) trap every
 * EL1 access to the ICC_* and ICV_* registers; En (0) stays 0 until the vGIC.
 */
#define ICH_HCR_TRAP_ALL ((UINT64_C(1) << 10) | (UINT64_C(1) << 11) | (UINT64_C(1) << 12))

/* ISS of a trapped MSR/MRS (EC 0x18, D13.2.37): Op0, Rt and the direction. */
#define ISS_SYSREG_OP0(iss) (((iss) >> 20) & 3u)
#define ISS_SYSREG_RT(iss) (((iss) >> 5) & 0x1fu)
#define ISS_SYSREG_READ(iss) (((iss)&1u) != 0)
#define ISS_SYSREG_OP1(iss) (((iss) >> 14) & 7u)
#define ISS_SYSREG_CRN(iss) (((iss) >> 10) & 0xfu)
#define ISS_SYSREG_CRM(iss) (((iss) >> 1) & 0xfu)
#define ISS_SYSREG_OP2(iss) (((iss) >> 17) & 7u)

/* CNTV_CTL_EL0 and CNTP_CTL_EL0 (DDI 0487 D13.8.17, D13.8.13): the same bits. */
#define CNTV_ENABLE 1u
#define CNTV_IMASK 2u
#define CNTV_ISTATUS 4u

#endif /* ARM64_SYSREG_H */
