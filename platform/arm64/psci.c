/**
 * Firmware calls: PSCI (ARM DEN 0022) over the SMC conduit, which is what
 * QEMU virt offers when it emulates EL2 without EL3 (the DTB's psci node
 * says method = "smc"). The SMC Calling Convention (ARM DEN 0028) passes
 * the function ID in x0 and arguments in x1-x3, and returns in x0.
 */
#include <arch/cpu.h>
#include <arm64/cpu.h>
#include <plat/power.h>

#define PSCI_CPU_ON_64 UINT64_C(0xc4000003)
#define PSCI_CPU_OFF UINT64_C(0x84000002)
#define PSCI_SYSTEM_OFF UINT64_C(0x84000008)

/** One SMCCC call; x4-x17 may be clobbered by the firmware (SMCCC 1.1+ preserves them, 1.0 need not). */
u64 arm64_smc(u64 fn, u64 a1, u64 a2, u64 a3)
{
	register u64 x0 __asm__("x0") = fn;
	register u64 x1 __asm__("x1") = a1;
	register u64 x2 __asm__("x2") = a2;
	register u64 x3 __asm__("x3") = a3;

	__asm__ volatile("smc #0"
	                 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
	                 :
	                 : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14",
	                   "x15", "x16", "x17", "memory");
	return x0;
}

/** Start the CPU with this MPIDR at entry (a physical address) with x0 = context. */
int64_t arm64_psci_cpu_on(u64 mpidr, u64 entry, u64 context)
{
	return (int64_t)arm64_smc(PSCI_CPU_ON_64, mpidr, entry, context);
}

/** CPU_OFF: this CPU powers down; it returns only if the firmware refused. */
void arm64_psci_cpu_off(void)
{
	arm64_smc(PSCI_CPU_OFF, 0, 0, 0);
}

/** SYSTEM_OFF does not return; QEMU exits. Spin if firmware ignores it. */
_Noreturn void arm64_psci_system_off(void)
{
	arm64_smc(PSCI_SYSTEM_OFF, 0, 0, 0);
	for (;;)
		__asm__ volatile("wfi");
}

/**
 * The core has printed "[hyp] system off: status=N"; the runner reads the
 * status from that line, because PSCI SYSTEM_OFF has no exit code.
 */
_Noreturn void plat_system_off(int status)
{
	(void)status;
	arm64_psci_system_off();
}

/** After a kernel panic: SYSTEM_OFF stops every CPU at once. */
_Noreturn void arch_halt_all(void)
{
	arm64_psci_system_off();
}
