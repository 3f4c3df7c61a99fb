/**
 * The policy partitions' translation between the kernel and a policy (plain C, host-tested):
 *
 *   kernel event ring             plan_event()            policy (null.c, credit2.c)
 *   {kind, cpu, partition,  --->  TIMER if one is due,  --->  xxx_event(&ev, &out)
 *    vcpu, now, arg}              then the event mapped
 *                                 to the policy's ids
 *   HC_SCHED_SET per vCPU   <---  plan_answer()         <---  out: RUN / IDLE / PARK / UNPARK
 *   {cpu, prio | flags,           settings in the order
 *    slice, budget, period}       the policy gave them
 *
 * The kernel runs, on each CPU, the ready vCPU of highest priority; equals take turns. Every
 * vCPU the policy schedules gets one priority (`prio`); a RUN is a setting with SCHED_SET_NOW
 * (first among its equals, its CPU looks again) and the policy's slice, so the kernel ends it
 * with SLICE_END when it is used up and the policy decides again. A vCPU it learns of and
 * does not run at once takes the same priority (and PLAN_QUEUED_SLICE) to wait as an equal.
 *
 * With `hold` (a policy whose RUNs have no slice: null), a vCPU the policy does not run (a
 * null waiter) is held with SCHED_SET_PARK until a RUN names it; so is a runnable vCPU whose
 * CPU the policy idles. Without it (Credit2), the vCPUs queued behind the one the policy runs
 * stay ready: the kernel arms a slice end only while an equal waits, and the slice's end is
 * what brings the policy back. A blocked vCPU is never held, so that its wake-up runs it at
 * once where the plan has it (the kernel never waits for the policy), and neither is one the
 * policy parks for a cap: the kernel's own budget (the domain's share of the cap per 10 ms,
 * `plan_set_cap`) holds it back, and lets it go at its next window even if the policy is slow
 * or gone.
 *
 * The kernel has no timer for a policy: a TIMER the policy asks for is given with the first
 * event at or after its time. A vCPU the kernel holds for its budget still brings BUDGET
 * events, and its equals SLICE_END events, so a cap's period comes around.
 */
#ifndef SERVICES_SCHED_PLAN_H
#define SERVICES_SCHED_PLAN_H

#include <ipc/sched.h>

#include "policy.h"

#define PLAN_NO_CPU 0xffu
/** The kernel's period for a cap's budget (Credit2's cap period). */
#define PLAN_CAP_PERIOD UINT64_C(10000000)
/** The slice of a vCPU that waits its turn: the kernel's, until a RUN gives the policy's. */
#define PLAN_QUEUED_SLICE UINT64_C(10000000)
/** Policy events one ring event can become: a due TIMER, CREATED, then BLOCKED. */
#define PLAN_EVENTS_MAX 3u
/** HC_SCHED_SET settings one answer can need: every decision, then every held vCPU. */
#define PLAN_SETS_MAX (SCHED_OUT_MAX + SCHED_MAX_VCPUS)

struct plan_vcpu {
	uint8_t slot;  /**< the policy's `vcpus` capability over its partition */
	uint8_t index; /**< the vCPU's index in its partition */
	uint8_t dom;   /**< the policy's domain: the capability's order */
	uint8_t cpu;   /**< where the kernel has it (last set, or as found) */
	uint16_t partition;
	bool created; /**< the policy knows it (CREATED given, STOPPED not yet) */
	bool blocked; /**< it waits, as the last event said */
	bool held;    /**< parked in the kernel by this plan: it runs only when a RUN names it */
	bool capped;  /**< parked by the policy for its cap (the kernel's budget holds it) */
	bool fresh;   /**< CREATED given and no RUN answered yet: held after the answer */
	bool stopped; /**< its partition stopped (for the summary) */
	sched_cpumask_t hard, soft; /**< as the policy has them (plan_set_affinity) */
	sched_cpumask_t hard_max;   /**< the manifest's hard affinity within the policy's CPUs */
	uint64_t budget, period;    /**< the kernel's budget for its domain's cap (0: none) */
};

struct plan_stats {
	uint32_t events, ignored, runs, idles, holds, parks, unparks, slice_ends, budgets, timers;
};

struct plan {
	uint32_t vcpu_count;
	sched_cpumask_t cpus;            /**< the policy's CPUs (sched-cpus) */
	uint32_t prio;                   /**< the priority of every vCPU it schedules */
	bool hold;                       /**< park what the policy does not run (see above) */
	uint64_t now;                    /**< the latest event's time: never goes backwards */
	uint64_t timer;                  /**< the policy's TIMER wish, 0 for none */
	uint16_t on_cpu[SCHED_MAX_CPUS]; /**< the vCPU last RUN on each CPU */
	struct plan_vcpu v[SCHED_MAX_VCPUS];
	struct plan_stats st;
};

/** One HC_SCHED_SET: r2/r1 from v[vcpu], r3 = cpu, r4 = prio_flags, r5..r7. */
struct plan_set {
	uint32_t vcpu;
	uint32_t cpu;
	uint32_t prio_flags;
	uint64_t slice, budget, period;
};

void plan_init(struct plan *p, sched_cpumask_t cpus, uint32_t prio, bool hold);

/**
 * Adds a vCPU found through capability `slot` (index, partition, the CPU it is on now, hard
 * and soft affinity as HC_SCHED_INFO gives them). Hard affinity is cut to the policy's CPUs,
 * soft to the hard. Returns its id (the policy's vCPU number), or SCHED_NO_VCPU when full, it
 * may run on none of the policy's CPUs, or dom is out of range.
 */
uint32_t plan_add_vcpu(struct plan *p, uint32_t slot, uint32_t index, uint32_t partition,
                       uint32_t dom, uint32_t cpu, uint64_t hard, uint64_t soft);

/**
 * New affinities for vCPU id, for the policy to be told (its xxx_set_affinity): hard must be
 * non-empty and inside hard_max, soft inside hard (0: the hard one). False, and nothing
 * changes, otherwise.
 */
bool plan_set_affinity(struct plan *p, uint32_t id, uint64_t hard, uint64_t soft);

/** A cap of `percent` for domain dom: each of its vCPUs gets its share per PLAN_CAP_PERIOD. */
void plan_set_cap(struct plan *p, uint32_t dom, uint32_t percent);

/** The vCPU with this partition index and vCPU index, SCHED_NO_VCPU if none. */
uint32_t plan_find(const struct plan *p, uint32_t partition, uint32_t index);

/**
 * Maps one ring event to the policy events to give, in order, into ev[PLAN_EVENTS_MAX];
 * returns how many (0: not for this policy). Updates what the plan knows of the vCPU.
 */
uint32_t plan_event(struct plan *p, const struct sched_ring_event *re,
                    struct sched_event ev[PLAN_EVENTS_MAX]);

/**
 * The settings that carry out one answer of the policy, into sets[PLAN_SETS_MAX]; returns how
 * many. Keeps the policy's timer wish. A vCPU the answer does not run that the kernel has on
 * a CPU outside its hard affinity (narrowed by plan_set_affinity) is moved to the first CPU
 * the affinity allows, to wait there (held, with `hold`): the kernel would otherwise run it
 * where it is whenever that CPU has nothing better, and a lone runner never leaves its CPU.
 */
uint32_t plan_answer(struct plan *p, const struct sched_out *out,
                     struct plan_set sets[PLAN_SETS_MAX]);

/** Whether every vCPU the policy knew has stopped (and there was one). */
bool plan_all_stopped(const struct plan *p);

#endif /* SERVICES_SCHED_PLAN_H */
