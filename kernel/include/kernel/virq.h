/**
 * Waiting for virtual interrupts: the core's half of the virtual-interrupt
 * mechanism. The platform owns the interrupt models (arm64: a vGIC per VM;
 * x86: a local APIC per vCPU, arch/virq.h); the core only blocks a vCPU that
 * waits for an interrupt (WFI / HLT) and wakes it.
 *
 *   vCPU v waits (platform, on v's CPU)        an interrupt for v (any CPU)
 *   -----------------------------------        ----------------------------
 *   v->irq_wake = 0 (atomic)                   update the model for v
 *   anything deliverable for v? -> resume v    kernel_vcpu_interrupt(v):
 *   else TRAP_WAIT_IRQ(wake_ns) -> core:          lock; v->irq_wake = 1;
 *     lock; irq_wake set? -> resume v             BLOCKED_IRQ -> ready;
 *     else BLOCKED_IRQ until woken or wake_ns     RUNNING elsewhere -> kick
 *
 * The kernel lock orders the two columns, so an interrupt raised after the
 * platform looked is seen either by the wait (irq_wake) or by the waker
 * (BLOCKED_IRQ): no wake-up is lost. wake_ns is the vCPU's own timer (the
 * arm64 virtual timer's compare value, the x86 APIC timer's deadline); the
 * core arms its per-CPU timer for the earliest one (sched.c).
 */
#ifndef KERNEL_VIRQ_H
#define KERNEL_VIRQ_H

#include <kernel/types.h>

struct vcpu;

/**
 * A virtual interrupt became pending for v in its platform model: wake v if
 * it waits for one, or kick the CPU running it so that it looks at the model
 * before it enters v again. Call without the kernel lock.
 */
void kernel_vcpu_interrupt(struct vcpu *v);

/** The same with the kernel lock held (the core's own callers). */
void virq_wake_locked(struct vcpu *v);

/** Trap TRAP_WAIT_IRQ: block cur until an interrupt or wake_ns; kernel lock held. */
struct vcpu *virq_wait(struct vcpu *cur, u64 wake_ns);

#endif /* KERNEL_VIRQ_H */
