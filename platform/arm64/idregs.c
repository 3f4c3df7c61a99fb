/**
 * What a partition sees of the CPU: the ID registers (ARM DDI 0487 D19.2,
 * "ID group 3": op0 = 3, op1 = 0, CRn = 0, CRm = 1..7), read through
 * HCR_EL2.TID3. A guest OS probes them to decide which features to use; it
 * must see only what a partition may use without a trap that ends it, or
 * a stock kernel would enable a feature and then fault. So every field of
 * a feature the hypervisor does not give partitions reads as "not
 * implemented":
 *
 *   register           hidden fields (value 0)                    why
 *   ID_AA64PFR0_EL1    EL2, EL3, SVE, RAS, SEL2, MPAM, AMU        no EL2/EL3 for guests; SVE trapped
 *                                                                 (CPTR_EL2); RAS/MPAM/AMU not switched
 *   ID_AA64PFR1_EL1    MTE, RAS_frac, MPAM_frac, SME, NMI         MTE (HCR_EL2.ATA = 0), SME trapped
 *   ID_AA64ZFR0_EL1    all                                        SVE trapped
 *   ID_AA64SMFR0_EL1   all                                        SME trapped
 *   ID_AA64DFR0_EL1    PMUVer, PMSVer, TraceVer, TraceFilt,       the PMU is not the guest's (issue 8),
 *                      TraceBuffer, BRBE, MTPMU; BRPs = WRPs = 0  debug registers read as zero
 *                      (one of each, the minimum); DebugVer 6
 *   ID_AA64DFR1_EL1    all
 *   ID_AA64ISAR1_EL1   APA, API, GPA, GPI                         pointer authentication keys are not
 *   ID_AA64ISAR2_EL1   APA3, GPA3, WFxT                           switched (HCR_EL2.APK/API = 0)
 *   ID_AA64MMFR0_EL1   PARange at most the stage-2 IPA size (48)
 *   ID_AA64MMFR1_EL1   VH, LO                                     no EL2; LORegions trapped
 *   ID_AA64MMFR2_EL1   NV                                         no EL2
 *
 * Everything else of group 3 reads as the hardware's value, and the
 * reserved encodings of the group read as zero, as the architecture says.
 */
#include <arm64/cpu.h>
#include <arm64/sysreg.h>

/** A 4-bit ID field at shift, cleared. */
#define FIELD(shift) (UINT64_C(0xf) << (shift))

/** The hardware value of ID group 3 register (crm, op2); every one is readable at EL2. */
static u64 idregs_hw(u32 crm, u32 op2)
{
#define ID_CASE(m, o)      \
	case (m)*8u + (o): \
		return read_sysreg(S3_0_C0_C##m##_##o)
	switch (crm * 8u + op2) {
		ID_CASE(1, 0);
		ID_CASE(1, 1);
		ID_CASE(1, 2);
		ID_CASE(1, 3);
		ID_CASE(1, 4);
		ID_CASE(1, 5);
		ID_CASE(1, 6);
		ID_CASE(1, 7);
		ID_CASE(2, 0);
		ID_CASE(2, 1);
		ID_CASE(2, 2);
		ID_CASE(2, 3);
		ID_CASE(2, 4);
		ID_CASE(2, 5);
		ID_CASE(2, 6);
		ID_CASE(2, 7);
		ID_CASE(3, 0);
		ID_CASE(3, 1);
		ID_CASE(3, 2);
		ID_CASE(3, 3);
		ID_CASE(3, 4);
		ID_CASE(3, 5);
		ID_CASE(3, 6);
		ID_CASE(3, 7);
		ID_CASE(4, 0);
		ID_CASE(4, 1);
		ID_CASE(4, 2);
		ID_CASE(4, 3);
		ID_CASE(4, 4);
		ID_CASE(4, 5);
		ID_CASE(4, 6);
		ID_CASE(4, 7);
		ID_CASE(5, 0);
		ID_CASE(5, 1);
		ID_CASE(5, 2);
		ID_CASE(5, 3);
		ID_CASE(5, 4);
		ID_CASE(5, 5);
		ID_CASE(5, 6);
		ID_CASE(5, 7);
		ID_CASE(6, 0);
		ID_CASE(6, 1);
		ID_CASE(6, 2);
		ID_CASE(6, 3);
		ID_CASE(6, 4);
		ID_CASE(6, 5);
		ID_CASE(6, 6);
		ID_CASE(6, 7);
		ID_CASE(7, 0);
		ID_CASE(7, 1);
		ID_CASE(7, 2);
		ID_CASE(7, 3);
		ID_CASE(7, 4);
		ID_CASE(7, 5);
		ID_CASE(7, 6);
		ID_CASE(7, 7);
	default:
		return 0;
	}
#undef ID_CASE
}

u64 arm64_idreg_for_guest(u32 crm, u32 op2, u64 hw)
{
	switch (crm * 8u + op2) {
	case 4u * 8u + 0u: /* ID_AA64PFR0_EL1 */
		return hw & ~(FIELD(8) | FIELD(12) | FIELD(28) | FIELD(32) | FIELD(36) | FIELD(40) |
		              FIELD(44));
	case 4u * 8u + 1u: /* ID_AA64PFR1_EL1 */
		return hw & ~(FIELD(8) | FIELD(12) | FIELD(16) | FIELD(24) | FIELD(36));
	case 4u * 8u + 4u: /* ID_AA64ZFR0_EL1 */
	case 4u * 8u + 5u: /* ID_AA64SMFR0_EL1 */
	case 5u * 8u + 1u: /* ID_AA64DFR1_EL1 */
		return 0;
	case 5u * 8u + 0u: { /* ID_AA64DFR0_EL1 */
		u64 v = hw & ~(FIELD(4) | FIELD(8) | FIELD(12) | FIELD(20) | FIELD(28) | FIELD(32) |
		               FIELD(40) | FIELD(44) | FIELD(48) | FIELD(52));
		return (v & ~FIELD(0)) | 6u; /* DebugVer: Armv8.0 debug, the minimum */
	}
	case 6u * 8u + 1u: /* ID_AA64ISAR1_EL1 */
		return hw & ~(FIELD(4) | FIELD(8) | FIELD(24) | FIELD(28));
	case 6u * 8u + 2u: /* ID_AA64ISAR2_EL1 */
		return hw & ~(FIELD(0) | FIELD(8) | FIELD(12));
	case 7u * 8u + 0u: { /* ID_AA64MMFR0_EL1: PARange [3:0], 5 = 48 bits */
		u64 pa = hw & 0xfu;
		return (hw & ~UINT64_C(0xf)) | (pa > 5u ? 5u : pa);
	}
	case 7u * 8u + 1u: /* ID_AA64MMFR1_EL1 */
		return hw & ~(FIELD(8) | FIELD(16));
	case 7u * 8u + 2u: /* ID_AA64MMFR2_EL1 */
		return hw & ~FIELD(24);
	default:
		return hw;
	}
}

bool arm64_idreg_is_read(u64 esr)
{
	return ISS_SYSREG_OP0(esr) == 3u && ISS_SYSREG_OP1(esr) == 0u &&
	       ISS_SYSREG_CRN(esr) == 0u && ISS_SYSREG_CRM(esr) != 0u && ISS_SYSREG_READ(esr);
}

u64 arm64_idreg_read(u64 esr)
{
	u32 crm = ISS_SYSREG_CRM(esr), op2 = ISS_SYSREG_OP2(esr);
	return crm <= 7u ? arm64_idreg_for_guest(crm, op2, idregs_hw(crm, op2)) : 0;
}
