/**
 * Virtual CPUs. A vCPU belongs to one partition, runs on one physical CPU at
 * a time, and is in exactly one state. The `next` link threads it through
 * at most one queue: a CPU's ready queue, an endpoint's send or receive
 * queue, or a notification's waiters:
 *
 *   vcpu_queue: head -> vcpu -next-> vcpu -next-> vcpu (= tail) -next-> NULL
 *
 * Queues are FIFO; push and pop are inline (every IPC does one of each),
 * removal from the middle (a stopped vCPU) is in kernel/vcpu.c.
 */
#ifndef KERNEL_VCPU_H
#define KERNEL_VCPU_H

#include <arch/vcpu.h>
#include <kernel/types.h>

struct partition;
struct endpoint;
struct notification;

#define VCPU_AFTER_RELAX 1u
#define VCPU_AFTER_FRESH 2u
#define VCPU_AFTER_PREEMPT 4u

enum vcpu_state {
	VCPU_READY,          /**< on a ready queue */
	VCPU_RUNNING,        /**< current on its CPU */
	VCPU_BLOCKED_SEND,   /**< queued on an endpoint to deliver a call */
	VCPU_BLOCKED_REPLY,  /**< its call was delivered; waits for the reply */
	VCPU_BLOCKED_RECV,   /**< queued on an endpoint to receive */
	VCPU_BLOCKED_NOTIFY, /**< waits on a notification */
	VCPU_BLOCKED_FAULT,  /**< its fault went to a handler; waits for the answer */
	VCPU_BLOCKED_IRQ,    /**< waits for a virtual interrupt (WFI / HLT) or wake_ns (virq.h) */
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
	/**
	 * Set by kernel_vcpu_interrupt(), cleared by the platform before it
	 * looks for an interrupt to deliver ahead of a wait (kernel/virq.h):
	 * an interrupt raised between that look and the wait is not lost.
	 */
	u32 irq_wake;
	u64 wake_ns; /**< VCPU_BLOCKED_IRQ: when to wake it anyway (0 = never) */
	/**
	 * What the trap path must do before it enters this vCPU (trap.c):
	 * VCPU_AFTER_RELAX, it yielded with nothing else to run or its CPU kicked
	 * another (sched_kick); VCPU_AFTER_FRESH,
	 * its partition was restarted and it must be entered through a full switch;
	 * VCPU_AFTER_PREEMPT, its trap made a vCPU of higher priority ready on its
	 * own CPU, which runs instead at the trap's end (sched_preempt).
	 */
	u8 after;
	u32 kmsg_endpoint; /**< where its kernel message went (a restart queues it there again) */
	u8 view;           /**< its introspection view (kernel/vmi.c); 0: its partition's own */
	u64 vmi_info;      /**< the platform's arch_info of its access event (a skip needs it) */
	u64 vmi_set[4];    /**< HC_VMI SET_REGS for its event: PC, 3 registers (vmi_set_regs) */
	bool vmi_set_regs; /**< applied with the monitor's answer: it resumes there */
	/** Its access an emulator service completes (kernel_msg label IPC_LABEL_MMIO; emulate.c). */
	struct {
		u64 address;
		u64 arch_info;
		u32 size;
		bool write;
		u32 serial; /**< counts its emulated accesses (IPC_MMIO_SERIAL_SHIFT) */
	} mmio;
	/**
	 * Its console hypercalls run without the kernel lock (trap.c
	 * trap_console): VCPU_LOCKLESS_OPEN, they may; VCPU_LOCKLESS_IN, one is
	 * under way on its CPU; VCPU_LOCKLESS_CLOSED, partition_stop stopped it
	 * while it ran on another CPU, and its next console call takes the
	 * kernel lock, which opens it again.
	 */
	u8 lockless;
};

#define VCPU_LOCKLESS_OPEN 0u
#define VCPU_LOCKLESS_IN 1u
#define VCPU_LOCKLESS_CLOSED 2u

/*
 * A console hypercall on v's own CPU, without the kernel lock, against a
 * stop of v's partition from another CPU, which may reset v's registers (a
 * restart): the two meet on the one byte v->lockless, whose changes are in
 * one order for every CPU, so no fence is needed. The call starts only if
 * no stop closed it (vcpu_lockless_enter), and a stop waits for the call
 * under way to leave (vcpu_lockless_close) before it touches v; the
 * release of the leave hands the call's register writes to the stop.
 */

/** v's CPU, for a console call: true if it may run without the kernel lock. */
static inline bool vcpu_lockless_enter(struct vcpu *v)
{
	u8 open = VCPU_LOCKLESS_OPEN;
	return __atomic_compare_exchange_n(&v->lockless, &open, (u8)VCPU_LOCKLESS_IN, false,
	                                   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

/** v's CPU: the console call is done with v. */
static inline void vcpu_lockless_leave(struct vcpu *v)
{
	__atomic_store_n(&v->lockless, (u8)VCPU_LOCKLESS_OPEN, __ATOMIC_RELEASE);
}

/** v's CPU, kernel lock held, v running there: its console calls may go lockless again. */
static inline void vcpu_lockless_open(struct vcpu *v)
{
	__atomic_store_n(&v->lockless, (u8)VCPU_LOCKLESS_OPEN, __ATOMIC_RELAXED);
}

/**
 * Kernel lock held, v running on another CPU (partition_stop): wait for a
 * console call of v under way there to end, and keep later ones off until
 * v's CPU takes the kernel lock for one.
 */
void vcpu_lockless_close(struct vcpu *v);

/** An intrusive FIFO of vCPUs, linked through vcpu.next; empty when head is NULL. */
struct vcpu_queue {
	struct vcpu *head;
	struct vcpu *tail;
};

static inline void vcpu_queue_push(struct vcpu_queue *q, struct vcpu *v)
{
	v->next = NULL;
	if (q->tail != NULL)
		q->tail->next = v;
	else
		q->head = v;
	q->tail = v;
}

/** The oldest vCPU of q, taken off it; NULL if q is empty. */
static inline struct vcpu *vcpu_queue_pop(struct vcpu_queue *q)
{
	struct vcpu *v = q->head;
	if (v == NULL)
		return NULL;
	q->head = v->next;
	if (q->head == NULL)
		q->tail = NULL;
	v->next = NULL;
	return v;
}

/** Remove v wherever it is in q; false if it was not there. */
bool vcpu_queue_remove(struct vcpu_queue *q, struct vcpu *v);

#endif /* KERNEL_VCPU_H */
