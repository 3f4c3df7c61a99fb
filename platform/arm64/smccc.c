/**
 * The firmware interface partitions see: SMC Calling Convention 1.1 and
 * PSCI 1.1 (ARM DEN 0028, ARM DEN 0022), over HVC #0 and SMC #0.
 *
 * HVC is shared with the hypervisor's own ABI (ipc/abi.h): a function ID
 * has bit 31 set (fast call, the only kind a guest OS issues), and the
 * hypervisor's call numbers are all below 32, so bit 31 of W0 tells them
 * apart with one test on the hypercall path (exit.c). SMC is always SMCCC.
 *
 *   function                         answer
 *   SMCCC_VERSION                    1.1
 *   SMCCC_ARCH_FEATURES(fid)         0 for SMCCC_ARCH_FEATURES, else NOT_SUPPORTED
 *   PSCI_VERSION                     1.1
 *   PSCI_FEATURES(fid)               0 for each PSCI function below and for SMCCC_VERSION
 *                                    (DEN 0022 5.1.14: how a caller learns SMCCC >= 1.1
 *                                    is there), else NOT_SUPPORTED
 *   CPU_SUSPEND (32/64)              a WFI: SUCCESS once the vCPU runs again
 *   CPU_OFF                          the vCPU powers off (returns only by CPU_ON)
 *   CPU_ON (32/64)                   target = MPIDR Aff0 (the vCPU index, VMPIDR_EL2), entry,
 *                                    context id in x0 at entry; INVALID_PARAMETERS,
 *                                    ALREADY_ON, INVALID_ADDRESS (entry outside the
 *                                    partition's executable memory)
 *   AFFINITY_INFO (32/64)            level 0 only: ON or OFF
 *   MIGRATE_INFO_TYPE                2 (no Trusted OS to migrate)
 *   SYSTEM_OFF                       stops this partition only, cleanly
 *   SYSTEM_RESET                     stops this partition (restart: later)
 *   anything else                    NOT_SUPPORTED
 *
 * The core (kernel/vcpu_power.c) does the power changes; this file only
 * decodes and encodes. Nothing here trusts a register beyond its range
 * check, logs, or panics.
 */
#include <arm64/cpu.h>
#include <kernel/vcpu.h>
#include <kernel/vcpu_power.h>

#define SMCCC_VERSION 0x80000000u
#define SMCCC_ARCH_FEATURES 0x80000001u
#define PSCI_VERSION 0x84000000u
#define PSCI_CPU_SUSPEND 0x84000001u
#define PSCI_CPU_OFF 0x84000002u
#define PSCI_CPU_ON 0x84000003u
#define PSCI_AFFINITY_INFO 0x84000004u
#define PSCI_MIGRATE_INFO_TYPE 0x84000006u
#define PSCI_SYSTEM_OFF 0x84000008u
#define PSCI_SYSTEM_RESET 0x84000009u
#define PSCI_FEATURES 0x8400000au
#define PSCI_64 0x40000000u /* the SMC64 bit: xC4... forms of the calls with 64-bit arguments */

#define PSCI_SUCCESS 0
#define PSCI_NOT_SUPPORTED (-1)
#define PSCI_INVALID_PARAMETERS (-2)
#define PSCI_ALREADY_ON (-4)
#define PSCI_INVALID_ADDRESS (-9)
#define PSCI_AFF_ON 0
#define PSCI_AFF_OFF 1

#define VERSION_1_1 0x10001

/**
 * Whether PSCI_FEATURES answers SUCCESS for fid: the PSCI functions this file
 * implements, and SMCCC_VERSION, which PSCI 1.0 callers probe before they
 * call it (Linux assumes SMCCC 1.0 otherwise and never asks
 * SMCCC_ARCH_FEATURES).
 */
static bool smccc_psci_known(u32 fid)
{
	switch (fid) {
	case SMCCC_VERSION:
	case PSCI_VERSION:
	case PSCI_CPU_SUSPEND:
	case PSCI_CPU_SUSPEND | PSCI_64:
	case PSCI_CPU_OFF:
	case PSCI_CPU_ON:
	case PSCI_CPU_ON | PSCI_64:
	case PSCI_AFFINITY_INFO:
	case PSCI_AFFINITY_INFO | PSCI_64:
	case PSCI_MIGRATE_INFO_TYPE:
	case PSCI_SYSTEM_OFF:
	case PSCI_SYSTEM_RESET:
	case PSCI_FEATURES:
		return true;
	default:
		return false;
	}
}

/**
 * The vCPU index an MPIDR names: VMPIDR_EL2 gives vCPU i the affinity
 * Aff0 = i with Aff1..Aff3 zero (vcpu.c), so anything else names no vCPU.
 */
static bool smccc_mpidr_index(u64 mpidr, u32 *index)
{
	if ((mpidr & ~UINT64_C(0xff)) != 0)
		return false;
	*index = (u32)mpidr;
	return true;
}

/** Ask the core; the answer goes to v's x0 only if v is still the one to run. */
static struct vcpu *smccc_power(struct vcpu *v, const struct power_req *req, int64_t *ret)
{
	enum power_result r;
	arm64_core_lock_wait();
	struct vcpu *next = kernel_power(v, req, &r);
	switch (r) {
	case POWER_OK:
		*ret = req->op == POWER_AFFINITY_INFO ? PSCI_AFF_ON : PSCI_SUCCESS;
		break;
	case POWER_IS_OFF:
		*ret = PSCI_AFF_OFF;
		break;
	case POWER_ALREADY_ON:
		*ret = PSCI_ALREADY_ON;
		break;
	case POWER_BAD_ENTRY:
		*ret = PSCI_INVALID_ADDRESS;
		break;
	case POWER_NO_SUCH_VCPU:
	default:
		*ret = PSCI_INVALID_PARAMETERS;
		break;
	}
	return next;
}

struct vcpu *arm64_smccc(struct vcpu *v)
{
	u32 fid = (u32)v->arch.x[0];
	bool wide = (fid & PSCI_64) != 0;
	u64 a1 = wide ? v->arch.x[1] : (u32)v->arch.x[1];
	u64 a2 = wide ? v->arch.x[2] : (u32)v->arch.x[2];
	u64 a3 = wide ? v->arch.x[3] : (u32)v->arch.x[3];
	struct power_req req = { 0 };
	int64_t ret = PSCI_NOT_SUPPORTED;
	struct vcpu *next = v;

	switch (fid) {
	case SMCCC_VERSION:
	case PSCI_VERSION:
		ret = VERSION_1_1;
		break;
	case SMCCC_ARCH_FEATURES:
		ret = (u32)a1 == SMCCC_ARCH_FEATURES ? PSCI_SUCCESS : PSCI_NOT_SUPPORTED;
		break;
	case PSCI_FEATURES:
		ret = smccc_psci_known((u32)a1) ? PSCI_SUCCESS : PSCI_NOT_SUPPORTED;
		break;
	case PSCI_MIGRATE_INFO_TYPE:
		ret = 2;
		break;
	case PSCI_CPU_ON:
	case PSCI_CPU_ON | PSCI_64:
		if (!smccc_mpidr_index(a1, &req.target)) {
			ret = PSCI_INVALID_PARAMETERS;
			break;
		}
		req.op = POWER_CPU_ON;
		req.entry = a2;
		req.arg = a3;
		next = smccc_power(v, &req, &ret);
		break;
	case PSCI_AFFINITY_INFO:
	case PSCI_AFFINITY_INFO | PSCI_64:
		if (a2 != 0 || !smccc_mpidr_index(a1, &req.target)) {
			ret = PSCI_INVALID_PARAMETERS;
			break;
		}
		req.op = POWER_AFFINITY_INFO;
		next = smccc_power(v, &req, &ret);
		break;
	case PSCI_CPU_SUSPEND:
	case PSCI_CPU_SUSPEND | PSCI_64:
		/* Answered first: v may run again on this CPU only after the wait. */
		v->arch.x[0] = PSCI_SUCCESS;
		req.op = POWER_SUSPEND;
		return smccc_power(v, &req, &ret);
	case PSCI_CPU_OFF:
		req.op = POWER_CPU_OFF;
		return smccc_power(v, &req, &ret);
	case PSCI_SYSTEM_OFF:
		req.op = POWER_SYSTEM_OFF;
		return smccc_power(v, &req, &ret);
	case PSCI_SYSTEM_RESET:
		req.op = POWER_SYSTEM_RESET;
		return smccc_power(v, &req, &ret);
	default:
		break;
	}
	if (next == v)
		v->arch.x[0] = (u64)ret;
	return next;
}
