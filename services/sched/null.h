/**
 * The null scheduling policy (Xen 4.10 sched_null, spec section 2): each CPU holds at most one
 * vCPU, which runs only there with no slice; extra vCPUs wait in a FIFO and never run until a
 * CPU frees up. Placement tries soft affinity first, then hard.
 */
#ifndef SERVICES_SCHED_NULL_H
#define SERVICES_SCHED_NULL_H

#include "policy.h"

/** Trace event ids, as Xen's TRC_SNULL_* (0x22A01-0x22A06). */
enum null_trace_id {
	NULL_TRC_PICKED_CPU = 0x22A01, /**< d0 vcpu, d1 cpu picked (0xff: none) */
	NULL_TRC_ASSIGN = 0x22A02,     /**< d0 vcpu, d1 cpu */
	NULL_TRC_DEASSIGN = 0x22A03,   /**< d0 vcpu, d1 cpu */
	NULL_TRC_MIGRATE = 0x22A04,    /**< d0 vcpu, d1 new cpu << 16 | old cpu */
	NULL_TRC_SCHEDULE = 0x22A05,   /**< d0 cpu, d1 vcpu run (0xffff: idle) */
	NULL_TRC_TASKLET = 0x22A06,    /**< reserved: no tasklets here */
};

#define NULL_TRACE_MAX 64u

struct null_trace {
	uint32_t id;
	uint32_t d0;
	uint32_t d1;
	uint32_t pad;
	uint64_t now;
};

struct null_vcpu {
	bool exists;
	bool runnable;
	uint8_t cpu; /**< assigned CPU, 0xff while waiting */
	uint8_t dom;
	sched_cpumask_t hard;
	sched_cpumask_t soft;
};

/** The whole policy state: a plain struct the service may keep in preserved memory. */
struct null_sched {
	sched_cpumask_t online;
	uint16_t cpu_vcpu[SCHED_MAX_CPUS]; /**< SCHED_NO_VCPU when free */
	struct null_vcpu vcpu[SCHED_MAX_VCPUS];
	uint16_t wait[SCHED_MAX_VCPUS]; /**< FIFO of waiting vCPUs, oldest first */
	uint32_t wait_count;
	uint32_t trace_count; /**< total written; the ring keeps the last NULL_TRACE_MAX */
	struct null_trace trace[NULL_TRACE_MAX];
};

/** Starts with the CPUs in `cpus` (limited to SCHED_MAX_CPUS) and no vCPU. */
void null_init(struct null_sched *s, sched_cpumask_t cpus);

/** Handles one event; decisions in `out`. Returns SCHED_EINVAL for a malformed event. */
int null_event(struct null_sched *s, const struct sched_event *ev, struct sched_out *out);

/** Sets hard and soft affinity: hard must meet the pool (-EINVAL); may move the vCPU. */
int null_set_affinity(struct null_sched *s, uint32_t vcpu, sched_cpumask_t hard,
                      sched_cpumask_t soft, uint64_t now, struct sched_out *out);

/** The trace record `i` counting from the oldest still kept; false past the end. */
bool null_trace_get(const struct null_sched *s, uint32_t i, struct null_trace *t);

#endif /* SERVICES_SCHED_NULL_H */
