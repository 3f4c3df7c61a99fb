/**
 * What the x86_64 kernel keeps for itself, as boot_info's kept ranges (the
 * manifest check refuses a partition any of them), and the interrupt
 * vectors it uses. Free of instruction wrappers so that tools/manifest can
 * describe the q35 machine with the same function.
 */
#ifndef X86_KEEP_H
#define X86_KEEP_H

#include <kernel/trap.h>

/* Interrupt vectors the kernel uses. */
#define X86_VEC_PIC_BASE 0x30u /**< legacy PIC, remapped and masked */
#define X86_VEC_TIMER 0x40u    /**< local APIC timer */
#define X86_VEC_KICK 0xf0u     /**< IPI from plat_cpu_kick */
#define X86_VEC_HALT 0xf1u     /**< IPI from arch_halt_all: stop for good */
#define X86_VEC_SPURIOUS 0xffu

/* Memory map (see docs/platform-x86.md). */
#define X86_LAPIC_BASE UINT64_C(0xfee00000)

void x86_keep(struct boot_info *bi);

#endif /* X86_KEEP_H */
