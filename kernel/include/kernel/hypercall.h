/** Hypercall dispatch: decode the number in r0 and run the call. */
#ifndef KERNEL_HYPERCALL_H
#define KERNEL_HYPERCALL_H

#include <kernel/vcpu.h>

/** Run v's hypercall; returns the vCPU to run next on this CPU (may be NULL). */
struct vcpu *hypercall_dispatch(struct vcpu *v);

#endif /* KERNEL_HYPERCALL_H */
