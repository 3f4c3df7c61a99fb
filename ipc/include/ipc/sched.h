/**
 * The scheduling plan's ABI (issue 11): the arguments of HC_SCHED_SET and
 * HC_SCHED_INFO, and the layout of the event ring the kernel writes for a
 * policy partition. docs/abi.md and docs/scheduling.md explain them.
 *
 * HC_SCHED_SET  r1 = a `vcpus` capability (RIGHT_VCPUS_SCHEDULE) over a
 *               partition, r2 = the vCPU's index in it, r3 = the CPU to place
 *               it on, r4 = priority (bits 7:0, higher runs first) | flags
 *               (SCHED_SET_*), r5 = slice in ns (0: no slice end), r6 = budget
 *               in ns per period (0: unlimited), r7 = period in ns (0 iff the
 *               budget is 0).
 * HC_SCHED_RING r1 = a memory capability (RIGHT_MEM_READ | RIGHT_MEM_WRITE)
 *               over a region the policy maps: the ring; r2 = a notification
 *               capability the kernel signals when it writes events; returns
 *               r1 = the ring's slots, r2 = the caller's CPUs (sched-cpus mask).
 * HC_SCHED_INFO r1, r2 as HC_SCHED_SET; returns r1 = state (SCHED_INFO_*),
 *               r2 = CPU, r3 = ns billed to its scheduling context, r4 = budget
 *               left in this period, r5 = priority | flags as last set, and
 *               what the manifest says of it (SCHED_INFO_R6_*): r6 = weight,
 *               cap, the partition's index (as in ring events) and whether it
 *               is the caller, r7 = hard affinity, r8 = soft affinity (CPU
 *               masks), so a policy needs no copy of the manifest.
 *
 *   ring region: +-------------------------------+ offset 0
 *                | struct sched_ring_header      |  head (kernel), tail (policy)
 *                +-------------------------------+ SCHED_RING_HEADER_SIZE
 *                | struct sched_ring_event [n]   |  n = a power of two, slot = i % n
 *                +-------------------------------+
 */
#ifndef IPC_SCHED_H
#define IPC_SCHED_H

#include <stdint.h>

/** r4 of HC_SCHED_SET: the priority and flags. */
#define SCHED_SET_PRIO_MASK 0xffu
/** Held back (a cap's pool is empty): it keeps its place but does not run. */
#define SCHED_SET_PARK (1u << 8)
/** Run it now on its CPU, ahead of its equals (a policy's RUN decision). */
#define SCHED_SET_NOW (1u << 9)
#define SCHED_SET_FLAGS (SCHED_SET_PARK | SCHED_SET_NOW)

/** Bounds of the plan's times, in ns. */
#define SCHED_TIME_MIN UINT64_C(50000)      /* 50 us */
#define SCHED_TIME_MAX UINT64_C(1000000000) /* 1 s */

/** r1 of HC_SCHED_INFO. */
enum sched_info_state {
	SCHED_INFO_RUNNABLE = 0, /**< ready or running */
	SCHED_INFO_BLOCKED = 1,  /**< waits for IPC, a notification or an interrupt */
	SCHED_INFO_OFF = 2,      /**< powered off, waits for a start */
	SCHED_INFO_STOPPED = 3,  /**< its partition stopped */
	SCHED_INFO_DEPLETED = 4, /**< runnable, but its budget is spent or it is parked */
};

/** r6 of HC_SCHED_INFO: the manifest's weight and cap, the partition, the caller. */
#define SCHED_INFO_R6_WEIGHT(r6) ((uint32_t)(r6)&0xffffu)
#define SCHED_INFO_R6_CAP(r6) ((uint32_t)((r6) >> 16) & 0xffffu)
#define SCHED_INFO_R6_PARTITION(r6) ((uint32_t)((r6) >> 32) & 0xffffu)
#define SCHED_INFO_R6_SELF (UINT64_C(1) << 48)

/** What an event reports (struct sched_ring_event.kind). */
enum sched_ring_kind {
	SCHED_RING_STARTED = 1, /**< vcpu became runnable for the first time (or again after off) */
	SCHED_RING_WOKEN = 2,   /**< vcpu was blocked and is runnable */
	SCHED_RING_BLOCKED = 3, /**< vcpu waits */
	SCHED_RING_SLICE_END = 4, /**< vcpu used its slice on cpu; arg = ns it ran */
	SCHED_RING_BUDGET = 5,    /**< vcpu's budget for this period is spent */
	SCHED_RING_STOPPED = 6,   /**< vcpu will not run again (its partition stopped) */
	SCHED_RING_IDLE = 7,      /**< cpu has nothing to run */
};

/** The ring's first bytes. The kernel writes head, the policy writes tail. */
struct sched_ring_header {
	uint32_t head;  /**< events the kernel wrote, counting up (wraps) */
	uint32_t tail;  /**< events the policy consumed, counting up */
	uint32_t count; /**< slots (a power of two), set by the kernel */
	uint32_t lost;  /**< events dropped because the ring was full (counts up) */
};
#define SCHED_RING_HEADER_SIZE 64u

struct sched_ring_event {
	uint32_t kind;      /**< enum sched_ring_kind */
	uint32_t cpu;       /**< the physical CPU */
	uint32_t partition; /**< the vCPU's partition index (0xffffffff: none, IDLE) */
	uint32_t vcpu;      /**< the vCPU's index in it */
	uint64_t now;       /**< ns since boot */
	uint64_t arg;       /**< SLICE_END: ns run; otherwise 0 */
};

/**
 * Control calls to a policy partition (services/sched), on the endpoint its
 * second vCPU serves: a management partition holding a send capability over
 * that endpoint calls with the label SCHED_CTL_* and the words below. The
 * reply's label is an enum status (STATUS_INVALID_CALL: unknown label;
 * STATUS_INVALID_ARG: a word out of range; STATUS_BAD_STATE: the request
 * would change nothing) and w0 the active policy (SCHED_CTL_POLICY_*).
 *
 * SCHED_CTL_SWAP      w0 = SCHED_CTL_POLICY_NULL or _CREDIT2: the policy
 *                     running is stopped, the other one learns every vCPU's
 *                     state from the kernel and programs the plan again.
 * SCHED_CTL_AFFINITY  w0 = partition index (as in ring events), w1 = vCPU,
 *                     w2 = hard affinity (a CPU mask inside the manifest's and
 *                     the policy's CPUs), w3 = soft affinity (inside the hard
 *                     one; 0: the hard one), for every policy from now on.
 * SCHED_CTL_QUERY     nothing: w1 = swaps done so far.
 * SCHED_CTL_DOMAIN    w0 = partition index, w1 = weight (1..65535; 0 keeps
 *                     it), w2 = cap in percent of one CPU (0: none; at most
 *                     100 per vCPU), Credit2's (`xl sched-credit2 -w -c`);
 *                     kept for Credit2 while null runs.
 */
enum sched_ctl_label {
	SCHED_CTL_SWAP = 1,
	SCHED_CTL_AFFINITY = 2,
	SCHED_CTL_QUERY = 3,
	SCHED_CTL_DOMAIN = 4,
};

enum sched_ctl_policy {
	SCHED_CTL_POLICY_NULL = 1,
	SCHED_CTL_POLICY_CREDIT2 = 2,
};

#endif /* IPC_SCHED_H */
