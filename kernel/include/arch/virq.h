/**
 * Platform seam: a partition's virtual-interrupt model (arm64: the vGIC of a
 * VM, platform/arm64/virq.c; x86: a local APIC per vCPU). The platform keeps
 * the model and delivers from it on entry; the core blocks and wakes the
 * vCPUs that wait for it (kernel/virq.h).
 */
#ifndef ARCH_VIRQ_H
#define ARCH_VIRQ_H

#include <ipc/abi.h>
#include <kernel/types.h>

struct vcpu;

/**
 * Called once per partition at boot, after its vCPUs are reset: vcpus are
 * its vcpu_count vCPUs, irqs the physical interrupt ids of the devices the
 * manifest passes through to it (the validator checked them). Returns NULL,
 * or why the platform cannot give the partition what it asks for (the boot
 * then fails with that message).
 */
const char *arch_partition_setup(u32 vmid, enum partition_type type, struct vcpu *vcpus,
                                 u32 vcpu_count, const u32 *irqs, u32 irq_count);

#endif /* ARCH_VIRQ_H */
