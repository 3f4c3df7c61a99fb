/**
 * The x86 side of the virtual-interrupt seam (arch/virq.h): every vCPU of a
 * VM or PVH partition gets a virtual local APIC (vapic.c); services get
 * none. An emulator raises vectors in it (HC_GUEST_IRQ). Passing a
 * device's interrupts through is refused rather than silently dropped:
 * nothing routes a physical interrupt to a vLAPIC yet.
 */
#include <arch/virq.h>

#include <x86/vapic.h>

const char *arch_partition_setup(u32 vmid, enum partition_type type, struct vcpu *vcpus,
                                 u32 vcpu_count, const u32 *irqs, u32 irq_count, u32 lpi_count)
{
	(void)irqs;
	if (irq_count != 0)
		return "passing device interrupts through is not supported on x86 yet";
	if (lpi_count != 0)
		return "lpis: x86 has no message-signalled interrupts through a virtual ITS";
	if (type == PARTITION_SERVICE)
		return NULL;
	return x86_vapic_setup(vmid, vcpus, vcpu_count);
}

/**
 * HC_GUEST_IRQ on x86: intid is a vector 32..255 (0..31 are exceptions),
 * raised as an edge in the local APIC of the VM's vCPU 0, which is the
 * one to wake. There is no line to lower: level 0 does nothing, the
 * guest's EOI ends the interrupt.
 */
int arch_virq_inject(u32 vmid, u32 intid, bool level)
{
	if (intid < 32u || intid > 255u)
		return -2;
	return x86_vapic_raise(vmid, (u8)intid, level);
}

/** No LPIs on x86 (arch_partition_setup refuses `lpis`). */
int arch_virq_lpi(const struct partition *g, u32 vcpu, u32 intid, u32 op, bool *was_pending)
{
	(void)g;
	(void)vcpu;
	(void)intid;
	(void)op;
	*was_pending = false;
	return -2;
}
