/**
 * What the arm64 kernel keeps for itself, as boot_info's kept ranges (the
 * manifest check refuses a partition any of them). Free of system-register
 * code so that tools/manifest can describe QEMU virt with the same function.
 */
#ifndef ARM64_KEEP_H
#define ARM64_KEEP_H

#include <kernel/trap.h>
#include <kernel/types.h>

/** The SGI that wakes an idle CPU (gic.c, plat_cpu_kick). */
#define ARM64_SGI_KICK 0u
/** GIC maintenance interrupt when the DTB names none: PPI 9 (Arm BSA 1.0, B_PPI_01). */
#define ARM64_GIC_MAINT_DEFAULT 25u

/** The machine's kernel-owned resources, from the DTB (dt.c) or a host table. */
struct arm64_keep_hw {
	u64 gicd, gicd_size;
	u64 gicr, gicr_size;
	u64 gits;         /**< 0 when absent */
	u64 uart;         /**< the kernel's PL011 */
	u32 uart_intid;   /**< 0 when the DTB names none */
	u32 maint_intid;  /**< GIC maintenance interrupt (INTID) */
	u32 timer_ppi[4]; /**< PPI numbers: secure phys, non-secure phys, virtual, hypervisor */
};

void arm64_keep(struct boot_info *bi, const struct arm64_keep_hw *hw);

#endif /* ARM64_KEEP_H */
