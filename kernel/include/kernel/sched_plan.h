/**
 * The plan's interface to a policy partition (issue 11; ipc/sched.h for the
 * ABI, docs/scheduling.md): HC_SCHED_SET programs a vCPU's placement and
 * scheduling context, HC_SCHED_INFO reads the kernel's accounting back (a
 * restarted policy rebuilds its state from it), HC_SCHED_RING registers the
 * shared-memory ring where the kernel reports events, with a notification.
 *
 * The kernel never waits for the policy: it reports and goes on with the
 * plan it holds. A full ring counts lost events instead of blocking. A
 * policy that stops keeps its plan running; one that stops for good has its
 * parked vCPUs released (budgets still hold), so no vCPU waits forever for
 * a policy that will never answer.
 */
#ifndef KERNEL_SCHED_PLAN_H
#define KERNEL_SCHED_PLAN_H

#include <ipc/sched.h>
#include <kernel/partition.h>
#include <kernel/vcpu.h>

/** Report an event about v (NULL for a CPU event) on cpu to cpu's policy, if it listens. */
void sched_report(u32 kind, u32 cpu, const struct vcpu *v, u64 arg);

/** p stopped (restarting tells whether a successor follows): STOPPED events, the plan's fallback. */
void sched_partition_stopped(struct partition *p, bool restarting);

/* Hypercalls (decode, then invoke; see ipc.h for the return convention). */
struct vcpu *hc_sched_set(struct vcpu *v);
struct vcpu *hc_sched_ring(struct vcpu *v);
struct vcpu *hc_sched_info(struct vcpu *v);

#endif /* KERNEL_SCHED_PLAN_H */
