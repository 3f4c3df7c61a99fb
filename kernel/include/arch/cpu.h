/**
 * Platform seam: the CPU. Implemented in platform/<arch>/ and, for host
 * unit tests, platform/fake/.
 */
#ifndef ARCH_CPU_H
#define ARCH_CPU_H

#include <kernel/types.h>

/** Index of the calling physical CPU, 0..cpu_count-1. */
u32 arch_cpu_index(void);

/**
 * A hint inside a spin-wait loop (YIELD / PAUSE). Under QEMU -icount all
 * CPUs take turns on one host thread, and the hint ends the spinning CPU's
 * turn, so the lock holder gets to run.
 */
void arch_cpu_relax(void);

/** Sleep until an interrupt or event arrives (WFI / HLT); may return at once. */
void arch_wait_for_interrupt(void);

/**
 * Clean [va, va+size) of the kernel's mapping to the point of coherency, so
 * a guest that starts with its MMU and caches off (the arm64 Linux boot
 * protocol) reads what boot copied there, not stale memory. Nothing to do
 * where caches are coherent with every access (x86).
 */
void arch_clean_to_poc(const void *va, u64 size);

/** Stop every CPU for good (after a kernel panic). */
_Noreturn void arch_halt_all(void);

#endif /* ARCH_CPU_H */
