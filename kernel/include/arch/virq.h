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

struct partition;
struct vcpu;

/**
 * Called once per partition at boot, after its vCPUs are reset: vcpus are
 * its vcpu_count vCPUs, irqs the physical interrupt ids of the devices the
 * manifest passes through to it (the validator checked them), lpi_count the
 * message-signalled interrupts it asks for (manifest `lpis`; 0: none, and
 * a platform without them refuses any other count). Returns NULL,
 * or why the platform cannot give the partition what it asks for (the boot
 * then fails with that message).
 */
const char *arch_partition_setup(u32 vmid, enum partition_type type, struct vcpu *vcpus,
                                 u32 vcpu_count, const u32 *irqs, u32 irq_count, u32 lpi_count);

/**
 * An emulator raises (level true) or lowers the interrupt line intid of the
 * VM with this vmid (HC_GUEST_IRQ; the core checked its guest capability).
 * Returns the index of the VM's vCPU that now has it to take (the core wakes
 * it), -1 if none does yet, or -2 if intid is not a line an emulator may
 * drive (not an SPI of that VM's controller, or a passed-through device's).
 */
int arch_virq_inject(u32 vmid, u32 intid, bool level);

/**
 * A virtual ITS's output for VM g (HC_GUEST_IRQ with an LPI operation; the
 * core checked the guest capability and that vcpu < g's vCPU count): op is
 * IPC_GUEST_IRQ_LPI_SET (LPI intid pending on vcpu), _LPI_CLEAR,
 * _LPI_CONFIG (re-read intid's property byte from the guest's table, or
 * every LPI's for intid 0; the platform reads it with guest_mem_at()) or
 * _LPI_MOVE (retarget it to vcpu, pending state included).
 * *was_pending tells whether the LPI was pending before. Returns the vCPU
 * to wake, -1 for none, -2 if g has no such LPI or the platform no LPIs.
 */
int arch_virq_lpi(const struct partition *g, u32 vcpu, u32 intid, u32 op, bool *was_pending);

#endif /* ARCH_VIRQ_H */
