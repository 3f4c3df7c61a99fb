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

#endif /* KERNEL_GUEST_MEM_H */
