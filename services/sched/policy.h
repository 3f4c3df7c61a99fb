/**
 * The interface between the kernel's scheduling mechanism and a scheduling policy (issue 11).
 *
 * The kernel owns the mechanism: it runs on each CPU the vCPU the policy placed there, for at
 * most the slice the policy gave, accounts the time and reports what happened as events. The
 * policy owns the decisions. It sees only this interface:
 *
 *   kernel                                     policy (null.c, credit2.c)
 *   ------                                     ------
 *   event {kind, cpu, vcpu, dom, now} ------>  xxx_event(state, &ev, &out)
 *                                     <------  out: decisions {RUN cpu vcpu slice | IDLE cpu
 *                                                    | PARK vcpu | UNPARK vcpu}, next timer
 *   control (weight, cap, affinity, ...) --->  xxx_set_*(state, ..., now, &out) -> status
 *
 * Rules every policy keeps, and that the host tests and the fuzz target check:
 *  - RUN names a vCPU that exists, is runnable and whose hard affinity holds the CPU; the
 *    kernel applies one answer whole before running anything, and after it no vCPU is on two
 *    CPUs (a RUN may take a vCPU another CPU ran: that CPU's new decision is in the answer);
 *  - a slice of 0 means "no limit" (null); otherwise the kernel ends the slice with
 *    SCHED_EV_SLICE_END on that CPU once the vCPU has run that long;
 *  - a timer other than 0 asks for one SCHED_EV_TIMER at that absolute time (or later).
 * Plain C11: no allocation, no globals, every input checked; a service partition and the
 * host tests call the same code.
 */
#ifndef SERVICES_SCHED_POLICY_H
#define SERVICES_SCHED_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Limits of one policy instance; CPU sets are bit masks, so at most 32 CPUs. */
#define SCHED_MAX_CPUS 16u
#define SCHED_MAX_VCPUS 32u
#define SCHED_MAX_DOMS 8u
/** Decisions one call can return: every CPU changes, plus park/unpark notes. */
#define SCHED_OUT_MAX (2u * SCHED_MAX_CPUS + 2u * SCHED_MAX_VCPUS)
#define SCHED_NO_VCPU 0xffffu

/** A set of CPUs, bit n for CPU n. */
typedef uint32_t sched_cpumask_t;

/** Status of a control call: 0 or a negative errno value, as Xen's hypercalls return. */
enum sched_status {
	SCHED_OK = 0,
	SCHED_ENOENT = -2,
	SCHED_EBUSY = -16,
	SCHED_EEXIST = -17,
	SCHED_EINVAL = -22,
	SCHED_ENOSPC = -28,
};

/** What the kernel reports. */
enum sched_event_kind {
	SCHED_EV_CREATED,    /**< vcpu joins, in domain dom, runnable, with hard/soft affinity */
	SCHED_EV_WOKEN,      /**< vcpu became runnable (interrupt, notification) */
	SCHED_EV_BLOCKED,    /**< vcpu waits (WFI/HLT, receive) */
	SCHED_EV_SLICE_END,  /**< the vCPU on cpu used the slice it was given */
	SCHED_EV_STOPPED,    /**< vcpu is destroyed */
	SCHED_EV_CPU_IDLE,   /**< cpu has nothing to run: asks for a decision */
	SCHED_EV_CPU_ADD,    /**< cpu joins the policy's pool */
	SCHED_EV_CPU_REMOVE, /**< cpu leaves the pool */
	SCHED_EV_TIMER,      /**< the timer the policy asked for */
	SCHED_EV_COUNT,
};

struct sched_event {
	uint32_t kind; /**< enum sched_event_kind */
	uint32_t cpu;
	uint32_t vcpu;
	uint32_t dom;
	uint64_t now; /**< ns, never going backwards */
	/** CREATED: its hard and soft affinity (0: all CPUs); hard must meet the pool. */
	sched_cpumask_t hard;
	sched_cpumask_t soft;
};

enum sched_decision_kind {
	SCHED_DEC_RUN,    /**< cpu runs vcpu for at most slice ns (0: no limit) */
	SCHED_DEC_IDLE,   /**< cpu runs nothing */
	SCHED_DEC_PARK,   /**< vcpu is runnable but held back by its domain's cap */
	SCHED_DEC_UNPARK, /**< vcpu is no longer held back */
};

struct sched_decision {
	uint8_t kind; /**< enum sched_decision_kind */
	uint8_t cpu;
	uint16_t vcpu;
	uint32_t pad;
	uint64_t slice;
};

/** The answer to one event or control call, applied by the kernel in order. */
struct sched_out {
	uint32_t count;
	uint32_t dropped; /**< decisions that did not fit (never expected; tests check 0) */
	uint64_t timer;   /**< absolute ns of the next SCHED_EV_TIMER wanted, 0 for none */
	struct sched_decision d[SCHED_OUT_MAX];
};

/** CPU topology, for runqueue layouts and SMT-aware placement. */
struct sched_topology {
	uint32_t cpu_count;
	uint8_t core[SCHED_MAX_CPUS];
	uint8_t socket[SCHED_MAX_CPUS];
	uint8_t node[SCHED_MAX_CPUS];
};

static inline void sched_out_reset(struct sched_out *out)
{
	out->count = 0;
	out->dropped = 0;
	out->timer = 0;
}

static inline void sched_out_push(struct sched_out *out, uint8_t kind, uint32_t cpu, uint32_t vcpu,
                                  uint64_t slice)
{
	if (out->count >= SCHED_OUT_MAX) {
		out->dropped++;
		return;
	}
	struct sched_decision *d = &out->d[out->count++];
	d->kind = kind;
	d->cpu = (uint8_t)cpu;
	d->vcpu = (uint16_t)vcpu;
	d->pad = 0;
	d->slice = slice;
}

static inline bool sched_mask_has(sched_cpumask_t m, uint32_t cpu)
{
	return cpu < 32u && ((m >> cpu) & 1u) != 0;
}

static inline uint32_t sched_mask_weight(sched_cpumask_t m)
{
	uint32_t n = 0;
	for (; m != 0; m &= m - 1)
		n++;
	return n;
}

#endif /* SERVICES_SCHED_POLICY_H */
