/** Platform seam: the physical CPUs as the scheduler sees them. */
#ifndef PLAT_CPU_H
#define PLAT_CPU_H

/**
 * Wake another CPU that may be idle (an IPI or an event), so that it looks
 * at its ready queue again or leaves a vCPU that was stopped; may be a no-op.
 * Kicking this CPU itself (trap_fresh) must keep its next idle from sleeping
 * until something else wakes it: x86 sets a flag its idle loop checks, arm64
 * idles with a poll tick.
 */
void plat_cpu_kick(unsigned cpu);

/**
 * Take this CPU out for good: the manifest does not use it (boot_cpu_unused).
 * No timer, no poll, no console, no lock; it never returns. Called by
 * kernel_cpu_start, which says so on the console first.
 */
_Noreturn void plat_cpu_park(void);

#endif /* PLAT_CPU_H */
