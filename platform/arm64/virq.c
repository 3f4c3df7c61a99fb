/** placeholder, replaced below */
#include <arch/virq.h>

const char *arch_partition_setup(u32 vmid, enum partition_type type, struct vcpu *vcpus,
                                 u32 vcpu_count, const u32 *irqs, u32 irq_count)
{
	(void)vmid; (void)type; (void)vcpus; (void)vcpu_count; (void)irqs; (void)irq_count;
	return NULL;
}
