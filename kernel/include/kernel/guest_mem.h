/**
 * A guest's memory as the kernel reaches it on behalf of the services that
 * serve or watch that guest (HC_GUEST_MEM) and of the platform's interrupt
 * model (arm64: the LPI property table a guest's GICR_PROPBASER names).
 *
 * Only RAM the manifest maps into the guest is reachable: a private or
 * shared region, never a device, and only with the rights the guest's own
 * mapping has. The range must lie in one mapping.
 */
#ifndef KERNEL_GUEST_MEM_H
#define KERNEL_GUEST_MEM_H

#include <kernel/types.h>

struct partition;

/**
 * The kernel address of guest-physical [ipa, ipa + len) of g, if it lies in
 * one RAM mapping of g whose rights include need (RIGHT_MEM_*); NULL if not,
 * or if len is 0.
 */
void *guest_mem_at(const struct partition *g, u64 ipa, u64 len, u32 need);

/**
 * Copy len bytes between a guest's RAM and the kernel or a service (the ranges may overlap), as
 * a device's DMA would: a copy of 2, 4 or 8 bytes whose two ends are both aligned to its length
 * is one load and one store of that size (single-copy atomic), so that another vCPU of the guest
 * reading that field meanwhile (a virtio ring's 16-bit index) sees the old value or the new one,
 * never half of each. Any other copy is memmove's, bytes in no promised order.
 */
void guest_mem_copy(void *dst, const void *src, u64 len);

#endif /* KERNEL_GUEST_MEM_H */
