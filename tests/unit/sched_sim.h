/**
 * A deterministic simulator that drives a scheduling policy (services/sched/) the way the
 * kernel mechanism will: a virtual clock in ns, CPUs that run what the last decision said
 * for at most its slice, vCPUs that are always busy or alternate a burst of work with a
 * sleep, and the policy's timer. It applies every answer and checks, after each one:
 *  - a RUN names an existing, runnable vCPU whose hard affinity holds the CPU;
 *  - no vCPU is on two CPUs, no answer overflowed;
 *  - null: the CPU is the one the policy assigned it, never a waiting vCPU.
 * It measures each vCPU's run time, each domain's use per cap period (windows aligned at the
 * time the cap was set), the longest a runnable vCPU waited, context switches, slice bounds.
 */
#ifndef TESTS_SCHED_SIM_H
#define TESTS_SCHED_SIM_H

#include "credit2.h"
#include "null.h"

enum sim_policy { SIM_NULL, SIM_CREDIT2 };

struct sim_cpu {
	uint16_t vcpu;      /**< SCHED_NO_VCPU: idle */
	uint64_t slice_end; /**< 0: no limit */
};

struct sim_vcpu {
	bool exists;
	bool runnable;
	uint32_t dom;
	sched_cpumask_t hard;
	uint64_t run_ns;   /**< burst length; 0 = always busy */
	uint64_t sleep_ns; /**< sleep after each burst */
	uint64_t burst_left;
	uint64_t wake_at;
	uint64_t ran;        /**< total run time */
	uint64_t wait_start; /**< runnable and not running since */
	uint64_t max_wait;   /**< longest runnable wait */
	uint32_t cpus_seen;  /**< CPUs it ran on (mask) */
};

struct sim_dom {
	uint64_t ran;
	uint64_t cap_origin;
	bool capped;
	uint64_t win_ran; /**< in the current cap period */
	uint64_t win_max; /**< largest use of any complete cap period */
	uint64_t win_end;
};

struct sim {
	uint32_t kind; /**< enum sim_policy */
	uint64_t now;
	uint32_t cpu_count;
	uint64_t timer;
	uint32_t switches;
	uint32_t violations;
	const char *first_violation;
	uint64_t slice_min, slice_max; /**< over non-zero RUN slices */
	struct sim_cpu cpu[SCHED_MAX_CPUS];
	struct sim_vcpu vcpu[SCHED_MAX_VCPUS];
	struct sim_dom dom[SCHED_MAX_DOMS];
	struct sched_out out;
	union {
		struct null_sched null;
		struct c2_sched c2;
	} p;
};

void sim_init_null(struct sim *m, uint32_t cpu_count);
int sim_init_credit2(struct sim *m, uint32_t cpu_count, uint32_t layout);
/** Sends one event; returns the policy's status. */
int sim_event(struct sim *m, uint32_t kind, uint32_t cpu, uint32_t vcpu, uint32_t dom);
int sim_create(struct sim *m, uint32_t vcpu, uint32_t dom, uint64_t run_ns, uint64_t sleep_ns);
int sim_affinity(struct sim *m, uint32_t vcpu, sched_cpumask_t hard, sched_cpumask_t soft);
int sim_set_dom(struct sim *m, uint32_t dom, uint32_t weight, uint32_t cap);
/** Runs the machine for `ns` of virtual time. */
void sim_run(struct sim *m, uint64_t ns);
/** Which CPU runs vcpu, or -1. */
int sim_where(const struct sim *m, uint32_t vcpu);

#endif /* TESTS_SCHED_SIM_H */
