/**
 * Platform seam: the hypervisor's own timer, used to end time slices. Its
 * expiry arrives as a TRAP_TIMER on the CPU that armed it.
 */
#ifndef PLAT_TIMER_H
#define PLAT_TIMER_H

#include <kernel/types.h>

/** Monotonic time in nanoseconds since boot. */
u64 plat_timer_now_ns(void);

/** Arm this CPU's timer for deadline_ns (absolute); replaces an earlier one. */
void plat_timer_set(u64 deadline_ns);

/** Disarm this CPU's timer. */
void plat_timer_cancel(void);

#endif /* PLAT_TIMER_H */
