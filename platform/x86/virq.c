/**
 * The x86 side of the virtual-interrupt seam (arch/virq.h). The virtual
 * local APIC (vlapic/) is not wired into the SVM exit path yet: partitions
 * are accepted as before, and passing a device's interrupts through is
 * refused rather than silently dropped.
 */
#include <arch/vcpu.h>
#include <arch/virq.h>
#include <kernel/check.h>

const char *arch_partition_setup(u32 vmid, enum partition_type type, struct vcpu *vcpus,
                                 u32 vcpu_count, const u32 *irqs, u32 irq_count)
{
	(void)vmid;
	(void)type;
	(void)vcpus;
	(void)vcpu_count;
	(void)irqs;
	if (irq_count != 0)
		return "passing device interrupts through is not supported on x86 yet";
	return NULL;
}

/** No x86 virtual interrupt controller takes lines from an emulator yet. */
int arch_virq_inject(u32 vmid, u32 intid, bool level)
{
	(void)vmid;
	(void)intid;
	(void)level;
	return -2;
}

/*
 * The x86 exit path does not produce TRAP_MMIO yet (the emulation path is
 * arm64-only so far), so no access is ever waiting to be completed here.
 */
void arch_vcpu_mmio_complete(struct vcpu_arch *a, u64 arch_info, u32 size, bool write,
                             u64 value)
{
	(void)a;
	(void)arch_info;
	(void)size;
	(void)write;
	(void)value;
	CHECK(!"x86 delivers no TRAP_MMIO");
}

void arch_vcpu_mmio_abort(struct vcpu_arch *a, u64 arch_info, u64 address)
{
	(void)a;
	(void)arch_info;
	(void)address;
	CHECK(!"x86 delivers no TRAP_MMIO");
}
