/**
 * The Credit2 scheduling policy (Xen 4.10 sched_credit2, spec section 1): weighted credit,
 * resets, runqueues by topology, ratelimit, soft affinity in two steps with preemption
 * scoring, hard affinity, load balancing, caps with a per-domain budget pool and parking.
 * Times are in ns.
 */
#ifndef SERVICES_SCHED_CREDIT2_H
#define SERVICES_SCHED_CREDIT2_H

#include "policy.h"

#define C2_US 1000ll
#define C2_MS 1000000ll
#define C2_WEIGHT_DEFAULT 256u
#define C2_WEIGHT_MAX 65535u
#define C2_CREDIT_INIT (10 * C2_MS)
#define C2_CARRYOVER_MAX (500 * C2_US)
#define C2_MIN_TIMER (500 * C2_US)
#define C2_MAX_TIMER (10 * C2_MS)
#define C2_MIGRATE_RESIST (500 * C2_US)
#define C2_MIGRATE_BONUS (50 * C2_US)
#define C2_IDLE_CREDIT (-(1ll << 30))
#define C2_CAP_PERIOD (10 * C2_MS)
#define C2_RATELIMIT_DEFAULT_US 1000u
#define C2_LOAD_SHIFT 18u
#define C2_LOAD_WINDOW_SHIFT 30u

/** `credit2_runqueue=`: which CPUs share a runqueue. */
enum c2_layout { C2_RQ_CPU, C2_RQ_CORE, C2_RQ_SOCKET, C2_RQ_NODE, C2_RQ_ALL };

enum c2_state { C2_NONE, C2_BLOCKED, C2_RUNNABLE, C2_RUNNING, C2_PARKED };

struct c2_vcpu {
	uint8_t state; /**< enum c2_state */
	uint8_t dom;
	uint8_t rq;
	uint8_t cpu; /**< running on, or last ran on (migration resistance) */
	int64_t credit;
	uint64_t burn_rem; /**< remainder of the weighted burn, carried */
	int64_t budget;    /**< cap budget held (only with a cap) */
	uint64_t enq_seq;  /**< FIFO order among equal credit */
	uint64_t load;     /**< decaying average, C2_LOAD_SHIFT fractional bits */
	uint64_t load_t;
	sched_cpumask_t hard;
	sched_cpumask_t soft;
};

struct c2_dom {
	uint16_t weight;
	uint16_t cap; /**< percent of one CPU, 0 = none */
	uint32_t vcpu_count;
	int64_t pool;       /**< budget left this period */
	int64_t tot_budget; /**< period * cap / 100 */
	uint64_t next_refill;
};

struct c2_cpu {
	uint16_t cur; /**< SCHED_NO_VCPU when idle */
	uint8_t rq;
	uint8_t tickled;
	uint64_t since;      /**< the current vCPU started running (ratelimit) */
	uint64_t charged_to; /**< time accounted up to */
	uint64_t slice_end;  /**< when the slice given ends */
};

struct c2_rq {
	sched_cpumask_t cpus; /**< online CPUs of this runqueue */
	uint64_t load;        /**< decaying average of runnable+running vCPUs, 18 fraction bits */
	uint64_t load_t;
};

struct c2_sched {
	uint32_t layout;
	uint32_t ratelimit_us;
	sched_cpumask_t online;
	struct sched_topology topo;
	uint64_t now;
	uint64_t seq;
	uint32_t vcpu_end; /**< one past the highest vCPU ever created: the loops' bound */
	uint32_t capped;   /**< domains with a cap, a bit each: none, no pass over them */
	uint32_t resets;   /**< statistics for tests */
	uint32_t balances;
	struct c2_cpu cpu[SCHED_MAX_CPUS];
	struct c2_rq rq[SCHED_MAX_CPUS];
	struct c2_dom dom[SCHED_MAX_DOMS];
	struct c2_vcpu vcpu[SCHED_MAX_VCPUS];
};

/**
 * Starts with the CPUs in `cpus` (limited to the topology's cpu_count), runqueues built by
 * `layout`. -EINVAL for a bad layout or topology.
 */
int c2_init(struct c2_sched *s, const struct sched_topology *topo, sched_cpumask_t cpus,
            uint32_t layout);

int c2_event(struct c2_sched *s, const struct sched_event *ev, struct sched_out *out);

/** `xl sched-credit2 -d D -w W -c C`: weight 0 keeps it, 1..65535; cap 0 = off, 1..100*n. */
int c2_set_dom(struct c2_sched *s, uint32_t dom, uint32_t weight, uint32_t cap, uint64_t now,
               struct sched_out *out);

/** `sched_ratelimit_us`: 0 or 100..500000, else -EINVAL. */
int c2_set_ratelimit(struct c2_sched *s, uint32_t us);

/** Hard affinity must meet the online CPUs (-EINVAL); soft may be anything. */
int c2_set_affinity(struct c2_sched *s, uint32_t vcpu, sched_cpumask_t hard, sched_cpumask_t soft,
                    uint64_t now, struct sched_out *out);

/** Changes the runqueue layout: only while no vCPU exists (-EBUSY), valid layout (-EINVAL). */
int c2_set_layout(struct c2_sched *s, uint32_t layout);

/**
 * The policy was away until `now` (a restarted policy partition): nobody is charged for the
 * gap, which the kernel covered with the last plan it had; loads and the clock move on. No
 * decision: the caller asks each CPU again (SLICE_END). -EINVAL if now goes back.
 */
int c2_resume(struct c2_sched *s, uint64_t now);

/** The slice Credit2 would give vCPU v on its runqueue now (exposed for tests). */
uint64_t c2_slice(const struct c2_sched *s, uint32_t v, uint64_t ran);

#endif /* SERVICES_SCHED_CREDIT2_H */
