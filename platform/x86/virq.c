/**
 * The x86 side of the virtual-interrupt seam (arch/virq.h): every vCPU of a
 * VM or PVH partition gets a virtual local APIC (vapic.c); services get
 * none. Passing a device's interrupts through is refused rather than
 * silently dropped: nothing routes a physical interrupt to a vLAPIC yet.
 */
#include <arch/virq.h>

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
