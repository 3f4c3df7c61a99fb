/** Hypercall dispatch: decode the number in r0 and run the call. */
#ifndef KERNEL_HYPERCALL_H
#define KERNEL_HYPERCALL_H

#include <kernel/vcpu.h>

/** Run v's hypercall; returns the vCPU to run next on this CPU (may be NULL). */
struct vcpu *hypercall_dispatch(struct vcpu *v);

/**
 * Whether nr is a console call (HC_CONSOLE_WRITE, _PUT, _READ), which
 * trap.c runs without the kernel lock through hypercall_console().
 */
static inline bool hypercall_is_console(u64 nr)
{
	return nr == HC_CONSOLE_WRITE || nr - HC_CONSOLE_PUT <= 1u;
}
_Static_assert(HC_CONSOLE_READ == HC_CONSOLE_PUT + 1, "hypercall_is_console's range");

/** What a console call leaves to the kernel lock's holder. */
enum hc_console_done {
	HC_CONSOLE_DONE, /**< nothing */
	HC_CONSOLE_TICK, /**< the holder was refused room: sched_console_tick() its CPU */
};

/**
 * v's console call (hypercall_is_console), with or without the kernel lock:
 * its registers and console state only (console.h), so v must be running
 * on this CPU and stay there, its partition not stopped meanwhile (trap.c).
 */
enum hc_console_done hypercall_console(struct vcpu *v);

#endif /* KERNEL_HYPERCALL_H */
