/**
 * The x86 side of the virtual-interrupt seam (arch/virq.h). The virtual
 * local APIC (vlapic/) is not wired into the SVM exit path yet: partitions
 * are accepted as before, and passing a device's interrupts through is
 * refused rather than silently dropped.
 */
#include <arch/virq.h>

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
