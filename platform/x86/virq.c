/**
 * The x86 side of the virtual-interrupt seam (arch/virq.h): every vCPU of a
 * VM or PVH partition gets a virtual local APIC (vapic.c); services get
 * none. Passing a device's interrupts through is refused rather than
 * silently dropped: nothing routes a physical interrupt to a vLAPIC yet.
 */
#include <arch/vcpu.h>
#include <arch/virq.h>
#include <kernel/check.h>

#include <x86/vapic.h>

const char *arch_partition_setup(u32 vmid, enum partition_type type, struct vcpu *vcpus,
                                 u32 vcpu_count, const u32 *irqs, u32 irq_count)
{
	(void)irqs;
	if (irq_count != 0)
		return "passing device interrupts through is not supported on x86 yet";
	if (type == PARTITION_SERVICE)
		return NULL;
	return x86_vapic_setup(vmid, vcpus, vcpu_count);
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
void arch_vcpu_mmio_complete(struct vcpu_arch *a, u64 arch_info, u32 size, bool write, u64 value)
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
