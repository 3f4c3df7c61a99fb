/**
 * Virtual CPUs. A vCPU belongs to one partition, runs on one physical CPU at
 * a time, and is in exactly one state. The `next` link threads it through
 * at most one queue: a CPU's ready queue or an endpoint's send or receive
 * queue.
 */
#ifndef KERNEL_VCPU_H
#define KERNEL_VCPU_H

#include <arch/vcpu.h>
#include <kernel/types.h>

struct partition;
struct endpoint;
struct notification;

enum vcpu_state {
	VCPU_READY,          /**< on a ready queue */
	VCPU_RUNNING,        /**< current on its CPU */
	VCPU_BLOCKED_SEND,   /**< queued on an endpoint to deliver a call */
	VCPU_BLOCKED_REPLY,  /**< its call was delivered; waits for the reply */
	VCPU_BLOCKED_RECV,   /**< queued on an endpoint to receive */
	VCPU_BLOCKED_NOTIFY, /**< waits on a notification */
	VCPU_BLOCKED_FAULT,  /**< its fault went to a handler; waits for the answer */
	VCPU_OFF,            /**< powered off: waits for a start (vcpu_power.h) */
	VCPU_STOPPED,        /**< never runs again */
};

/** A message the kernel sends on a vCPU's behalf (a fault report). */
struct kernel_msg {
	u64 label;
	u64 words[IPC_MSG_WORDS];
	u64 badge;
};

struct vcpu {
	struct vcpu_arch arch; /**< first: the platform's entry code relies on it */
	struct partition *part;
	u32 index; /**< within its partition */
	u32 id;    /**< global */
	enum vcpu_state state;
	u32 cpu;           /**< physical CPU it is placed on */
	struct vcpu *next; /**< queue link */
	struct endpoint *queued_on;
	struct notification *waiting_on;
	struct vcpu *caller; /**< one-shot reply right: the caller waiting on us */
	u64 send_badge;      /**< badge of the capability used for a queued call */
	bool kernel_sender;  /**< queued with a kernel_msg rather than its registers */
	struct kernel_msg kmsg;
	u64 hard_affinity;
	u64 soft_affinity;
	u64 run_ns; /**< CPU time used, for accounting */
};

#endif /* KERNEL_VCPU_H */
