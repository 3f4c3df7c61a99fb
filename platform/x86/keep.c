/**
 * The x86_64 kernel's own resources, listed in boot_info so that the
 * manifest check (kernel/manifest/manifest_check.c) refuses to pass any of
 * them through to a partition: the local APIC page (its timer and IPIs are
 * the kernel's), the I/O APIC and the HPET, and the vectors the kernel's IDT
 * uses. The 16550 console sits at I/O ports, which a manifest device cannot
 * name (devices are MMIO). tools/manifest calls this too, so the host check
 * applies the same list.
 */
#include <x86/keep.h>

/** xAPIC register page at its reset base (AMD APM vol 2 16.3.1). */
#define LAPIC_SIZE UINT64_C(0x1000)
/** The I/O APIC at its default base (ICH9 / 82093AA; QEMU q35 and pc). */
#define IOAPIC_BASE UINT64_C(0xfec00000)
#define IOAPIC_SIZE UINT64_C(0x1000)
/** The HPET block at its default base (IA-PC HPET 1.0a 2.3; QEMU q35 and pc). */
#define HPET_BASE UINT64_C(0xfed00000)
#define HPET_SIZE UINT64_C(0x1000)
/** Vectors 0-31 are the CPU's exceptions (AMD APM vol 2 8.2). */
#define X86_EXCEPTION_VECTORS 32u

void x86_keep(struct boot_info *bi)
{
	u32 *mc = &bi->kept_mmio_count, *ic = &bi->kept_irq_count;

	/* A VM's or PVH guest's local APIC page is the kernel's model of it (vapic.c). */
	boot_keep_modelled(mc, bi->kept_mmio, X86_LAPIC_BASE, LAPIC_SIZE, LAPIC_SIZE, "local APIC");
	boot_keep(mc, bi->kept_mmio, IOAPIC_BASE, IOAPIC_SIZE, "I/O APIC");
	boot_keep(mc, bi->kept_mmio, HPET_BASE, HPET_SIZE, "HPET");

	boot_keep(ic, bi->kept_irq, X86_VEC_TIMER, 1, "local APIC timer vector");
	boot_keep(ic, bi->kept_irq, X86_VEC_KICK, 1, "kick IPI vector");
	boot_keep(ic, bi->kept_irq, X86_VEC_HALT, 1, "halt IPI vector");
	boot_keep(ic, bi->kept_irq, X86_VEC_SPURIOUS, 1, "spurious interrupt vector");
	boot_keep(ic, bi->kept_irq, X86_VEC_PIC_BASE, 16, "legacy PIC vectors");
	boot_keep(ic, bi->kept_irq, 0, X86_EXCEPTION_VECTORS, "exception vectors");
}
