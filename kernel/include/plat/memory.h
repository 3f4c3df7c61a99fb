/**
 * Platform seam: physical memory as the kernel sees it. On both hardware
 * platforms the kernel runs identity-mapped; the fake platform maps a host
 * buffer.
 */
#ifndef PLAT_MEMORY_H
#define PLAT_MEMORY_H

#include <kernel/types.h>

/** Kernel pointer to physical memory at pa. */
void *plat_phys_to_virt(paddr_t pa);

/** Physical address of kernel memory at p. */
paddr_t plat_virt_to_phys(const void *p);

#endif /* PLAT_MEMORY_H */
