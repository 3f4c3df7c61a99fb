/**
 * The scheduling mechanism (issue 11; docs/scheduling.md). The kernel runs a
 * plan that a policy partition programs (sched_plan.c, HC_SCHED_SET); it
 * decides nothing about fairness itself:
 *
 *   cpu_sched[cpu]: current  -> the vCPU running there (or NULL: idle)
 *                   ready    -> READY vCPUs placed here, highest priority
 *                               first, FIFO among equals
 *                   depleted -> READY vCPUs whose scheduling context is out
 *                               of budget for its period, or parked
 *                   sleeping -> BLOCKED_IRQ vCPUs placed here (virq.h)
 *                   sc       -> the scheduling context billed since mark_ns
 *
 *   sched.ctx[id]: each vCPU's scheduling context (priority, slice, budget
 *                  per period, the time billed to it). sched.run_on[id]: the
 *                  context a vCPU runs on: its own, or its caller's while it
 *                  serves an IPC call (donation, as seL4 MCS: every
 *                  instruction a server runs for a caller is billed to the
 *                  caller's budget).
 *
 * Rules: the highest-priority ready vCPU runs; equals take turns, each for
 * its context's slice, but only when another one waits (a CPU with one
 * runnable vCPU takes no tick); a context whose budget is spent waits on
 * depleted until its next period; a parked one until the policy unparks it.
 * With no policy partition (or before it programs anything) every context
 * is the default: priority 0, a SCHED_SLICE_NS slice, no budget, which is
 * round-robin with a 1 ms slice.
 *
 * IPC does not go through sched_next: a call to a receiver on the same CPU
 * switches directly (sched_switch_to), on the caller's context.
 */
#ifndef KERNEL_SCHED_H
#define KERNEL_SCHED_H

#include <kernel/config.h>
#include <kernel/vcpu.h>

#define SCHED_SLICE_NS 1000000u /* 1 ms: the default plan's slice */
/** How often an idle CPU 0 looks for console input while a partition holds the console. */
#define SCHED_INPUT_POLL_NS UINT64_C(10000000)
/**
 * While the console holder waits for room (console_holder_waits_room), the
 * timer of the CPU it was refused on fires at least this often, and each such
 * exit drains CONSOLE_DRAIN_CHUNK bytes (kernel_trap): 16 bytes a millisecond,
 * more than the UART's 115200 baud carries. Without it a CPU whose vCPUs never
 * leave by a timer (no rival to slice against, only hypercalls and emulated
 * accesses: a guest polling its UART's flags) would drain nothing until it
 * idles, and the holder, waiting for a drain, would never be woken.
 */
#define SCHED_CONSOLE_TICK_NS UINT64_C(1000000)
#define SCHED_VCPU_MAX CFG_VCPU_TOTAL_MAX

/**
 * A scheduling context. All zero is the default plan (programmed false).
 * The budget is a fixed-window allowance: at most budget_ns of billed time
 * in each [period_end - period_ns, period_end).
 */
struct sched_ctx {
	bool programmed; /**< a policy set it (else: the default plan) */
	bool parked;     /**< held back by the policy */
	u8 prio;         /**< higher runs first */
	u64 slice_ns;    /**< 0: runs until it blocks or is preempted */
	u64 budget_ns;   /**< per period; 0: unlimited */
	u64 period_ns;
	u64 remaining;  /**< budget left in the current window */
	u64 period_end; /**< end of the current window (0: not started) */
	u64 used_ns;    /**< every ns billed to it since boot */
};

struct cpu_sched {
	struct vcpu *current;
	struct vcpu_queue ready;
	struct vcpu_queue depleted;
	struct vcpu_queue sleeping; /**< BLOCKED_IRQ vCPUs placed here (virq.h) */
	u64 slice_start_ns;         /**< when current was dispatched */
	u64 mark_ns;                /**< time billed up to */
	u32 sc;                     /**< context billed since mark_ns, SCHED_SC_NONE when idle */
	bool ticking;               /**< the timer is armed for a slice end */
	u64 armed_ns;               /**< the timer's deadline as sched_arm set it, 0 = none */
	bool console_tick;          /**< the console holder waits for room: tick for the drain */
	bool in_dispatch;           /**< sched_next is deciding: wake-ups need no kick */
};

#define SCHED_SC_NONE 0u /* cpu_sched.sc and sched.run_on hold id + 1 */

struct sched_ring_header;
struct sched_ring_event;

/** A policy partition's event ring (sched_plan.c); the kernel trusts none of its header. */
struct sched_ring_state {
	struct sched_ring_header *hdr; /**< NULL: the policy listens to nothing */
	struct sched_ring_event *ev;
	u32 count; /**< slots, a power of two */
	u32 head;  /**< the kernel's own count of events written */
	u32 lost;
	u32 notification;
};

/** Per-vCPU scheduling state, indexed by vcpu.id, and the rings; all zero at boot. */
struct sched_state {
	struct sched_ring_state ring[CFG_PARTITION_MAX]; /**< per policy partition */
	struct sched_ctx ctx[SCHED_VCPU_MAX];
	u32 run_on[SCHED_VCPU_MAX];  /**< 0: its own context; else id + 1 of its donor's */
	u32 move_to[SCHED_VCPU_MAX]; /**< 0: none; else CPU + 1 it moves to when it stops running */
	bool started[SCHED_VCPU_MAX];
};

extern struct cpu_sched cpu_sched[CFG_CPU_MAX];
extern struct sched_state sched;

/** The context v runs on now (its own or a caller's). */
static inline u32 sched_sc_id(const struct vcpu *v)
{
	u32 d = sched.run_on[v->id];
	return d != SCHED_SC_NONE ? d - 1u : v->id;
}

static inline struct sched_ctx *sched_sc(const struct vcpu *v)
{
	return &sched.ctx[sched_sc_id(v)];
}

/** Make a blocked or new vCPU runnable on its CPU (kicking that CPU if remote). */
void sched_make_ready(struct vcpu *v);

/**
 * Ask cpu to look at its queues again (plat_cpu_kick). When cpu is another
 * CPU, the vCPU running here relaxes (arch_cpu_relax) on its way back in:
 * a hint on real cores; under QEMU's -icount round robin, what hands the
 * emulator over to the kicked CPU now rather than at this CPU's next exit,
 * which for a guest spinning on a CPU with no tick may never come.
 */
void sched_kick(u32 cpu);

/** After the kernel lock, on the way back into v, which has VCPU_AFTER_RELAX: clear it, relax. */
void sched_relax(struct vcpu *v);

/** Whether v, about to be entered after the kernel lock, asks for sched_relax(). */
static inline bool sched_wants_relax(const struct vcpu *v)
{
	return v != NULL && (v->after & VCPU_AFTER_RELAX) != 0;
}

/**
 * The end of a trap that made a vCPU of higher priority ready on this CPU
 * (VCPU_AFTER_PREEMPT on next, the vCPU about to be entered): the flag is
 * cleared and, if next still runs here, the higher one runs instead. The
 * kernel lock is held.
 */
struct vcpu *sched_preempt(struct vcpu *next);

/**
 * Choose what runs next on cpu, given that cur (may be NULL) has just
 * left the CPU or keeps it: a still-RUNNING cur keeps the CPU unless a
 * ready vCPU has a higher priority, its budget is spent, it moves, or
 * preempt is set and an equal waits. Sets cpu_sched[cpu].current.
 */
struct vcpu *sched_next(u32 cpu, struct vcpu *cur, bool preempt);

/**
 * cpu's timer fired while cur (may be NULL) ran: wake due sleepers, bill,
 * and end cur's turn if its slice is over while an equal waits (SLICE_END)
 * or its budget is spent (BUDGET).
 */
struct vcpu *sched_tick(u32 cpu, struct vcpu *cur);

/** Bill what cpu ran so far and bill next's context from now (it changed under a running vCPU). */
void sched_switch_context(u32 cpu, struct vcpu *next);

/**
 * Let next run on cpu right away, in place of the current vCPU (IPC direct
 * switch). The billed context does not change, so no clock is read: the
 * CPU always bills the context its current vCPU runs on (cpu_sched.sc ==
 * sched_sc_id(current) + 1), a call's receiver runs on the caller's context
 * (sched_donate), and a reply goes back to the caller, whose context is the
 * one the server ran on. tests/unit/test_sched.c checks the invariant.
 */
static inline struct vcpu *sched_switch_to(u32 cpu, struct vcpu *next)
{
	next->state = VCPU_RUNNING;
	cpu_sched[cpu].current = next;
	return next;
}

/** server took caller's call: it runs on caller's context until it replies. */
static inline void sched_donate(const struct vcpu *caller, struct vcpu *server)
{
	sched.run_on[server->id] = sched_sc_id(caller) + 1u;
}

/** server answered or gave up its call: it runs on its own context again. */
static inline void sched_return(struct vcpu *server)
{
	sched.run_on[server->id] = SCHED_SC_NONE;
}

/** server, current on its CPU, changed contexts (sched_donate/_return): bill the old one. */
void sched_rebill(struct vcpu *server);

/**
 * Queue a READY v again, on cpu, by its context's current priority and hold
 * (front: before its equals); kicks cpu if remote. The plan changed.
 */
void sched_requeue(struct vcpu *v, u32 cpu, bool front);

/** Bill up to now every CPU that bills context id (before the plan changes it). */
void sched_settle(u32 id);

/** Take v off any ready, depleted or sleeping queue (it stopped). */
void sched_remove(struct vcpu *v);

/** Put a READY v first on its CPU's ready queue (trap.c: a restarted vCPU's entry). */
void sched_requeue_front(struct vcpu *v);

/**
 * v (BLOCKED_IRQ) sleeps on its CPU until woken, or until wake_ns (0 =
 * none), for which the CPU's timer is armed at the next dispatch.
 */
void sched_sleep(struct vcpu *v, u64 wake_ns);

/** Take a sleeping v off its CPU's sleeping queue (it is being woken). */
void sched_unsleep(struct vcpu *v);

/** Make ready every vCPU sleeping on cpu whose wake time is at or before now. */
void sched_wake_due(u32 cpu, u64 now);

/**
 * Whether any vCPU can still run: one is ready or running (a ready one may
 * wait for its budget), or one blocked waiting for an interrupt will be
 * woken by its timer or a device of its own, or the console holder waits
 * for typed input while a guest lives. Everything else waits for a vCPU:
 * when none of these holds, none ever runs again.
 */
bool sched_any_runnable(void);

/**
 * The console holder running here was refused room (kernel lock held): this
 * CPU's timer fires within SCHED_CONSOLE_TICK_NS, and keeps doing so while the
 * holder waits for room, so that the drains that wake it come.
 */
void sched_console_tick(u32 cpu);

/** First CPU of mask below cpu_count, preferring soft; CFG_NONE if none. */
u32 sched_place(u64 hard, u64 soft, u32 cpu_count);

/** Account the contexts whose windows ended, for a replenish at now (sched.c). */
void sched_ctx_refresh(struct sched_ctx *sc, u64 now);

/** Bill [from, to) to sc (used, budget window). */
void sched_ctx_charge(struct sched_ctx *sc, u64 from, u64 to);

/** Whether sc may run now (not parked, budget left); refreshes its window. */
bool sched_ctx_runnable(struct sched_ctx *sc, u64 now);

#endif /* KERNEL_SCHED_H */
