/**
 * The scheduling mechanism: per-CPU ready queues served round-robin with a
 * fixed time slice. Policy (weights, caps, placement) belongs to the policy
 * partitions of later issues; this file only dispatches and accounts.
 *
 *   cpu_sched[cpu]: current -> the vCPU running there (or NULL: idle)
 *                   ready   -> FIFO of READY vCPUs placed on this CPU
 *
 * IPC does not go through here: a call to a receiver on the same CPU
 * switches directly (time donation), see ipc.c.
 */
#ifndef KERNEL_SCHED_H
#define KERNEL_SCHED_H

#include <kernel/vcpu.h>

#define SCHED_SLICE_NS 1000000u /* 1 ms */
/** How often an idle CPU 0 looks for console input while a partition holds the console. */
#define SCHED_INPUT_POLL_NS UINT64_C(10000000)

struct cpu_sched {
	struct vcpu *current;
	struct vcpu_queue ready;
	struct vcpu_queue sleeping; /**< BLOCKED_IRQ vCPUs placed here (virq.h) */
	u64 slice_start_ns;
};

extern struct cpu_sched cpu_sched[CFG_CPU_MAX];

/** Make a blocked or new vCPU runnable on its CPU (kicking that CPU if remote). */
void sched_make_ready(struct vcpu *v);

/**
 * Choose what runs next on cpu, given that cur (may be NULL) has just
 * left the CPU or keeps it: a still-RUNNING cur keeps the CPU unless
 * preempt is set and others wait. Sets cpu_sched[cpu].current.
 */
struct vcpu *sched_next(u32 cpu, struct vcpu *cur, bool preempt);

/** Let next run on cpu right away, in place of cur (IPC direct switch). */
static inline struct vcpu *sched_switch_to(u32 cpu, struct vcpu *next)
{
	next->state = VCPU_RUNNING;
	cpu_sched[cpu].current = next;
	return next;
}

/** Take v off any ready or sleeping queue (it stopped). */
void sched_remove(struct vcpu *v);

/**
 * v (BLOCKED_IRQ) sleeps on its CPU until woken, or until wake_ns (0 =
 * none), for which the CPU's timer is armed at the next dispatch.
 */
void sched_sleep(struct vcpu *v, u64 wake_ns);

/** Take a sleeping v off its CPU's sleeping queue (it is being woken). */
void sched_unsleep(struct vcpu *v);

/** Make ready every vCPU sleeping on cpu whose wake time is at or before now. */
void sched_wake_due(u32 cpu, u64 now);

/** Whether any vCPU anywhere can still run. */
bool sched_any_runnable(void);

/** First CPU of mask below cpu_count, preferring soft; CFG_NONE if none. */
u32 sched_place(u64 hard, u64 soft, u32 cpu_count);

#endif /* KERNEL_SCHED_H */
