/**
 * The arm64 kernel's own resources, listed in boot_info so that the
 * manifest check (kernel/manifest/manifest_check.c) refuses to pass any of
 * them through to a partition: the GIC distributor, redistributors and ITS
 * that the kernel programs (a partition owning GICD could disable other
 * CPUs' timer interrupts), the PL011 that carries the kernel's console, and
 * the interrupt ids the kernel takes. tools/manifest calls this too, with
 * QEMU virt's values, so the host check applies the same list.
 */
#include <arm64/keep.h>
#include <arm64/vgic.h>

/** GICv3 ITS: control frame and translation frame, 64 KiB each (ARM IHI 0069 12.19). */
#define ITS_SIZE UINT64_C(0x20000)
/** PL011 register block (ARM DDI 0183, 4 KiB). */
#define PL011_SIZE UINT64_C(0x1000)
/** INTIDs 0-15 are SGIs, 16-31 PPIs: private to each PE (ARM IHI 0069 2.2.1). */
#define GIC_PPI_BASE 16u
#define GIC_PRIVATE_COUNT 32u

void arm64_keep(struct boot_info *bi, const struct arm64_keep_hw *hw)
{
	static const char *const timer_what[4] = { "secure physical timer",
		                                   "non-secure physical timer", "virtual timer",
		                                   "hypervisor timer" };
	u32 *mc = &bi->kept_mmio_count, *ic = &bi->kept_irq_count;

	/*
	 * A VM's virtual GIC traps at the same addresses (virq.c): its distributor frame and the
	 * redistributors of its vCPUs, however many the machine itself has.
	 */
	boot_keep_modelled(mc, bi->kept_mmio, hw->gicd, hw->gicd_size, VGIC_DIST_SIZE,
	                   "GIC distributor");
	boot_keep_modelled(mc, bi->kept_mmio, hw->gicr, hw->gicr_size,
	                   (u64)VGIC_VCPU_MAX * VGIC_REDIST_STRIDE, "GIC redistributors");
	if (hw->gits != 0)
		boot_keep(mc, bi->kept_mmio, hw->gits, ITS_SIZE, "GIC ITS");
	if (hw->uart != 0)
		boot_keep(mc, bi->kept_mmio, hw->uart, PL011_SIZE, "UART");

	/* Specific ids first: the first match names the error. */
	boot_keep(ic, bi->kept_irq, GIC_PPI_BASE + hw->timer_ppi[3], 1, timer_what[3]);
	boot_keep(ic, bi->kept_irq, hw->maint_intid, 1, "GIC maintenance interrupt");
	boot_keep(ic, bi->kept_irq, ARM64_SGI_KICK, 1, "kick SGI");
	if (hw->uart_intid != 0)
		boot_keep(ic, bi->kept_irq, hw->uart_intid, 1, "UART interrupt");
	for (u32 i = 0; i < 3u; i++)
		boot_keep(ic, bi->kept_irq, GIC_PPI_BASE + hw->timer_ppi[i], 1, timer_what[i]);
	boot_keep(ic, bi->kept_irq, 0, GIC_PRIVATE_COUNT, "per-CPU SGI/PPI range");
}
