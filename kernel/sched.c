/**
 * The scheduling mechanism (see sched.h): dispatch by the plan's priorities,
 * slices and budgets, time accounting on scheduling contexts, the CPU timer.
 * The plan's hypercalls and the event ring are in sched_plan.c.
 */
#include <kernel/console.h>
#include <kernel/kernel.h>
#include <kernel/partition.h>
#include <kernel/sched.h>
#include <kernel/sched_plan.h>
#include <plat/cpu.h>
#include <plat/timer.h>
#include <arch/cpu.h>

struct cpu_sched cpu_sched[CFG_CPU_MAX];
struct sched_state sched;

u32 sched_place(u64 hard, u64 soft, u32 cpu_count)
{
	u64 usable = cpu_count >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << cpu_count) - 1u;
	const u64 masks[2] = { soft & hard & usable, hard & usable };
	for (u32 m = 0; m < 2; m++) {
		for (u32 cpu = 0; cpu < cpu_count && cpu < 64; cpu++) {
			if (masks[m] & (UINT64_C(1) << cpu))
				return cpu;
		}
	}
	return CFG_NONE;
}

/* ---- scheduling contexts ------------------------------------------------ */

void sched_ctx_refresh(struct sched_ctx *sc, u64 now)
{
	if (sc->budget_ns == 0 || now < sc->period_end)
		return;
	/* One or more windows ended: a full budget for the one now holds. */
	u64 missed = (now - sc->period_end) / sc->period_ns;
	sc->period_end += (missed + 1u) * sc->period_ns;
	sc->remaining = sc->budget_ns;
}

void sched_ctx_charge(struct sched_ctx *sc, u64 from, u64 to)
{
	if (to <= from)
		return;
	sc->used_ns += to - from;
	if (sc->budget_ns == 0)
		return;
	if (to >= sc->period_end) {
		sched_ctx_refresh(sc, to);
		/* Only the part inside the window that now holds counts against it. */
		u64 start = sc->period_end - sc->period_ns;
		if (from < start)
			from = start;
	}
	u64 dt = to - from;
	sc->remaining = dt >= sc->remaining ? 0 : sc->remaining - dt;
}

bool sched_ctx_runnable(struct sched_ctx *sc, u64 now)
{
	sched_ctx_refresh(sc, now);
	return !sc->parked && (sc->budget_ns == 0 || sc->remaining != 0);
}

static inline u8 sched_prio(const struct vcpu *v)
{
	const struct sched_ctx *sc = sched_sc(v);
	return sc->programmed ? sc->prio : 0u;
}

static inline u64 sched_slice(const struct sched_ctx *sc)
{
	return sc->programmed ? sc->slice_ns : SCHED_SLICE_NS;
}

/** Whether sc cannot run until time passes or the policy acts (no clock read). */
static inline bool sched_ctx_held(const struct sched_ctx *sc)
{
	return sc->parked || (sc->budget_ns != 0 && sc->remaining == 0);
}

/** Bill the time since the mark to the context the CPU ran. */
static void sched_bill(struct cpu_sched *cs, u64 now)
{
	if (cs->sc != SCHED_SC_NONE && now > cs->mark_ns) {
		u32 id = cs->sc - 1u;
		sched_ctx_charge(&sched.ctx[id], cs->mark_ns, now);
		kernel.vcpus[id].run_ns += now - cs->mark_ns;
	}
	cs->mark_ns = now;
}

void sched_switch_context(u32 cpu, struct vcpu *next)
{
	struct cpu_sched *cs = &cpu_sched[cpu];
	sched_bill(cs, plat_timer_now_ns());
	cs->sc = sched_sc_id(next) + 1u;
}

void sched_settle(u32 id)
{
	u64 now = plat_timer_now_ns();
	for (u32 cpu = 0; cpu < kernel.cpu_count && cpu < CFG_CPU_MAX; cpu++) {
		if (cpu_sched[cpu].sc == id + 1u)
			sched_bill(&cpu_sched[cpu], now);
	}
}

void sched_rebill(struct vcpu *server)
{
	struct cpu_sched *cs = &cpu_sched[server->cpu];
	if (cs->current == server && cs->sc != sched_sc_id(server) + 1u)
		sched_switch_context(server->cpu, server);
}

/* ---- queues ------------------------------------------------------------- */

/** Put v on cs's ready queue after its equals (front: before them). */
static void sched_enqueue(struct cpu_sched *cs, struct vcpu *v, bool front)
{
	struct vcpu_queue *q = &cs->ready;
	u8 p = sched_prio(v);
	if (!front && (q->tail == NULL || sched_prio(q->tail) >= p)) {
		vcpu_queue_push(q, v);
		return;
	}
	struct vcpu *prev = NULL, *at = q->head;
	while (at != NULL && (front ? sched_prio(at) > p : sched_prio(at) >= p)) {
		prev = at;
		at = at->next;
	}
	v->next = at;
	if (prev == NULL)
		q->head = v;
	else
		prev->next = v;
	if (at == NULL)
		q->tail = v;
}

/** Queue a READY v on its CPU: ready, or depleted while its context is held. */
static void sched_queue(struct vcpu *v, bool front)
{
	struct cpu_sched *cs = &cpu_sched[v->cpu];
	if (sched_ctx_held(sched_sc(v)))
		vcpu_queue_push(&cs->depleted, v);
	else
		sched_enqueue(cs, v, front);
}

static void sched_dequeue(struct vcpu *v)
{
	struct cpu_sched *cs = &cpu_sched[v->cpu];
	if (!vcpu_queue_remove(&cs->ready, v))
		vcpu_queue_remove(&cs->depleted, v);
}

/* ---- the timer ---------------------------------------------------------- */

static u64 sched_min(u64 a, u64 b)
{
	return a == 0 || (b != 0 && b < a) ? b : a;
}

/**
 * Arm cpu's timer for the earliest of: the current vCPU's slice end (only
 * while an equal waits: one runnable vCPU takes no tick), its budget's end,
 * a held context's next window, a sleeper's wake time, the console poll.
 */
static void sched_arm(u32 cpu, u64 now)
{
	struct cpu_sched *cs = &cpu_sched[cpu];
	struct vcpu *cur = cs->current;
	u64 deadline = 0;
	cs->ticking = false;
	if (cur != NULL) {
		const struct sched_ctx *sc = sched_sc(cur);
		u64 slice = sched_slice(sc);
		if (slice != 0 && cs->ready.head != NULL &&
		    sched_prio(cs->ready.head) >= sched_prio(cur)) {
			u64 end = cs->slice_start_ns + slice;
			deadline = end > now ? end : now;
			cs->ticking = true;
		}
		if (sc->budget_ns != 0) {
			/* What it ran since the last bill already counts against the budget. */
			u64 unbilled = now > cs->mark_ns ? now - cs->mark_ns : 0;
			u64 left = sc->remaining > unbilled ? sc->remaining - unbilled : 0;
			deadline = sched_min(deadline, left != 0 ? now + left : now);
		}
	}
	for (const struct vcpu *v = cs->depleted.head; v != NULL; v = v->next) {
		const struct sched_ctx *sc = sched_sc(v);
		if (!sc->parked && sc->budget_ns != 0)
			deadline = sched_min(deadline, sc->period_end);
	}
	for (const struct vcpu *v = cs->sleeping.head; v != NULL; v = v->next)
		deadline = sched_min(deadline, v->wake_ns);
	/*
	 * An idle CPU 0 comes back every SCHED_INPUT_POLL_NS while a partition
	 * holds the console, for keyboard input no interrupt announces (x86).
	 */
	if (cur == NULL && cpu == 0 && console_holder_notification() != CFG_NONE &&
	    (deadline == 0 || deadline > now + SCHED_INPUT_POLL_NS))
		deadline = now + SCHED_INPUT_POLL_NS;
	/* The console holder waits for room: the console tick, until it is woken. */
	if (cs->console_tick && !console_holder_waits_room())
		cs->console_tick = false;
	if (cur != NULL && cs->console_tick)
		deadline = sched_min(deadline, now + SCHED_CONSOLE_TICK_NS);
	cs->armed_ns = deadline;
	if (deadline == 0)
		plat_timer_cancel();
	else
		plat_timer_set(deadline);
}

void sched_console_tick(u32 cpu)
{
	struct cpu_sched *cs = &cpu_sched[cpu];
	if (cs->current == NULL || !console_holder_waits_room())
		return;
	cs->console_tick = true;
	u64 now = plat_timer_now_ns(), want = now + SCHED_CONSOLE_TICK_NS;
	/* armed_ns <= now: it fired already (the platform consumed it) and was not re-armed. */
	if (cs->armed_ns == 0 || cs->armed_ns > want || cs->armed_ns <= now) {
		cs->armed_ns = want;
		plat_timer_set(want);
	}
}

/* ---- making ready, sleeping, removing ----------------------------------- */

void sched_kick(u32 cpu)
{
	u32 here = arch_cpu_index();
	plat_cpu_kick(cpu);
	if (cpu != here && cpu_sched[here].current != NULL)
		cpu_sched[here].current->after |= VCPU_AFTER_RELAX;
}

void sched_relax(struct vcpu *v)
{
	/* Atomic: another CPU may set VCPU_AFTER_FRESH under the lock meanwhile. */
	__atomic_fetch_and(&v->after, (u8)~VCPU_AFTER_RELAX, __ATOMIC_RELAXED);
	arch_cpu_relax();
}

void sched_make_ready(struct vcpu *v)
{
	/* Stopped is final: no wake-up, reply or release may run a stopped vCPU again. */
	if (v->state == VCPU_STOPPED)
		return;
	enum vcpu_state was = v->state;
	v->state = VCPU_READY;
	sched_queue(v, false);
	if (was != VCPU_READY && was != VCPU_RUNNING) {
		bool first = was == VCPU_OFF || !sched.started[v->id];
		sched.started[v->id] = true;
		sched_report(first ? SCHED_RING_STARTED : SCHED_RING_WOKEN, v->cpu, v, 0);
	}
	struct cpu_sched *cs = &cpu_sched[v->cpu];
	if (v->cpu != arch_cpu_index()) {
		sched_kick(v->cpu);
		return;
	}
	/* This CPU: its dispatch (under way, or when it traps next) sees v. */
	if (cs->in_dispatch || cs->current == NULL || cs->current->state != VCPU_RUNNING)
		return;
	if (sched_prio(v) > sched_prio(cs->current))
		/* Preempted at the end of the trap under way (a kick of its own CPU does nothing). */
		__atomic_fetch_or(&cs->current->after, (u8)VCPU_AFTER_PREEMPT, __ATOMIC_RELAXED);
	else if (!cs->ticking)
		sched_arm(v->cpu, plat_timer_now_ns()); /* its equal now waits: a slice end */
}

struct vcpu *sched_preempt(struct vcpu *next)
{
	__atomic_fetch_and(&next->after, (u8)~VCPU_AFTER_PREEMPT, __ATOMIC_RELAXED);
	u32 cpu = arch_cpu_index();
	if (next->state != VCPU_RUNNING || next->cpu != cpu || cpu_sched[cpu].current != next)
		return next; /* it left this CPU meanwhile: whoever runs was chosen since */
	return sched_next(cpu, next, false);
}

void sched_requeue(struct vcpu *v, u32 cpu, bool front)
{
	sched_dequeue(v);
	v->cpu = cpu;
	sched_queue(v, front);
	sched_kick(cpu); /* here too: a higher priority preempts once the call returns */
}

void sched_remove(struct vcpu *v)
{
	struct cpu_sched *cs = &cpu_sched[v->cpu];
	sched_dequeue(v);
	vcpu_queue_remove(&cs->sleeping, v);
	sched.move_to[v->id] = 0;
	if (cs->current == v)
		cs->current = NULL;
}

void sched_requeue_front(struct vcpu *v)
{
	v->state = VCPU_READY;
	struct cpu_sched *cs = &cpu_sched[v->cpu];
	struct vcpu_queue *q = &cs->ready;
	v->next = q->head;
	q->head = v;
	if (q->tail == NULL)
		q->tail = v;
	if (cs->current == v)
		cs->current = NULL;
}

void sched_sleep(struct vcpu *v, u64 wake_ns)
{
	v->wake_ns = wake_ns;
	vcpu_queue_push(&cpu_sched[v->cpu].sleeping, v);
}

void sched_unsleep(struct vcpu *v)
{
	vcpu_queue_remove(&cpu_sched[v->cpu].sleeping, v);
	v->wake_ns = 0;
}

void sched_wake_due(u32 cpu, u64 now)
{
	struct vcpu *v = cpu_sched[cpu].sleeping.head;
	while (v != NULL) {
		struct vcpu *after = v->next;
		if (v->wake_ns != 0 && v->wake_ns <= now) {
			sched_unsleep(v);
			sched_make_ready(v);
		}
		v = after;
	}
}

/** Move to the ready queue every held vCPU of cs whose context may run again. */
static void sched_refill(struct cpu_sched *cs, u64 now)
{
	struct vcpu *v = cs->depleted.head;
	while (v != NULL) {
		struct vcpu *after = v->next;
		if (sched_ctx_runnable(sched_sc(v), now)) {
			vcpu_queue_remove(&cs->depleted, v);
			sched_enqueue(cs, v, false);
		}
		v = after;
	}
}

/* ---- deciding ----------------------------------------------------------- */

/** cur, running here, leaves the CPU but stays runnable: queue it (on its new CPU if it moves). */
static void sched_put_back(struct vcpu *cur)
{
	cur->state = VCPU_READY;
	u32 to = sched.move_to[cur->id];
	if (to != 0) {
		sched.move_to[cur->id] = 0;
		cur->cpu = to - 1u;
		sched_queue(cur, false);
		sched_kick(cur->cpu);
		return;
	}
	sched_queue(cur, false);
}

/** Dispatch the best ready vCPU on cpu (NULL: idle), billing what ran until now. */
static struct vcpu *sched_dispatch(u32 cpu, u64 now)
{
	struct cpu_sched *cs = &cpu_sched[cpu];
	const struct vcpu *prev = cs->current;
	sched_bill(cs, now);
	sched_refill(cs, now);
	struct vcpu *next = vcpu_queue_pop(&cs->ready);
	if (next == NULL && prev != NULL) {
		cs->current = NULL;
		cs->sc = SCHED_SC_NONE;
		/*
		 * Its policy hears of it (and may be woken here: look again) if
		 * what ran last is in its scope: never after the policy's own
		 * vCPU, which would wake it again and again.
		 */
		sched_report(SCHED_RING_IDLE, cpu, prev, 0);
		next = vcpu_queue_pop(&cs->ready);
	}
	cs->current = next;
	cs->sc = next != NULL ? sched_sc_id(next) + 1u : SCHED_SC_NONE;
	cs->slice_start_ns = now;
	if (next != NULL)
		next->state = VCPU_RUNNING;
	sched_arm(cpu, now);
	return next;
}

/** Whether a still-running cur must give way without any clock read. */
static inline bool sched_must_leave(const struct cpu_sched *cs, const struct vcpu *cur)
{
	return sched.move_to[cur->id] != 0 || sched_ctx_held(sched_sc(cur)) ||
	       (cs->ready.head != NULL && sched_prio(cs->ready.head) > sched_prio(cur));
}

struct vcpu *sched_next(u32 cpu, struct vcpu *cur, bool preempt)
{
	struct cpu_sched *cs = &cpu_sched[cpu];
	if (cur != NULL && cur->state == VCPU_RUNNING) {
		bool equal_waits = cs->ready.head != NULL &&
		                   sched_prio(cs->ready.head) >= sched_prio(cur);
		if (!sched_must_leave(cs, cur) && !(preempt && equal_waits)) {
			/* The plan may have changed (a kick): the timer follows it. */
			u64 now = plat_timer_now_ns();
			if (preempt) {
				sched_bill(cs, now);
				cs->slice_start_ns = now; /* a yield alone: a fresh slice */
			}
			sched_arm(cpu, now);
			return cur;
		}
		cs->in_dispatch = true;
		sched_put_back(cur);
	} else {
		cs->in_dispatch = true;
		if (cur != NULL && cur == cs->current && cur->state != VCPU_READY &&
		    cur->state != VCPU_STOPPED)
			sched_report(SCHED_RING_BLOCKED, cpu, cur, 0);
	}
	struct vcpu *next = sched_dispatch(cpu, plat_timer_now_ns());
	cs->in_dispatch = false;
	return next;
}

struct vcpu *sched_tick(u32 cpu, struct vcpu *cur)
{
	struct cpu_sched *cs = &cpu_sched[cpu];
	u64 now = plat_timer_now_ns();
	sched_wake_due(cpu, now);
	if (cur == NULL || cur->state != VCPU_RUNNING)
		return sched_next(cpu, NULL, false);
	sched_bill(cs, now);
	sched_refill(cs, now); /* held contexts whose window came round compete now */
	struct sched_ctx *sc = sched_sc(cur);
	u64 slice = sched_slice(sc), ran = now - cs->slice_start_ns;
	bool leave = false;
	if (!sched_ctx_runnable(sc, now)) {
		if (!sc->parked)
			sched_report(SCHED_RING_BUDGET, cpu, cur, ran);
		leave = true;
	} else if (slice != 0 && (ran >= slice || !sc->programmed) && cs->ready.head != NULL &&
	           sched_prio(cs->ready.head) >= sched_prio(cur)) {
		/*
		 * A policy's slice ends when it is used up; the default plan, as
		 * before any policy, also turns over when the tick woke a sleeper.
		 */
		sched_report(SCHED_RING_SLICE_END, cpu, cur, ran);
		leave = true;
	} else {
		leave = sched_must_leave(cs, cur);
	}
	if (!leave) {
		sched_arm(cpu, now);
		return cur;
	}
	cs->in_dispatch = true;
	sched_put_back(cur);
	struct vcpu *next = sched_dispatch(cpu, now);
	cs->in_dispatch = false;
	return next;
}

bool sched_any_runnable(void)
{
	u32 input = console_holder_notification();
	const struct notification *keyboard = input == CFG_NONE ? NULL :
	                                                          &kernel.notifications[input];
	bool input_waits = false, guest_lives = false;
	/* The console holder waits for room the next drain makes: it will run again. */
	if (console_holder_waits_room())
		return true;
	for (u32 i = 0; i < kernel.vcpu_count; i++) {
		const struct vcpu *v = &kernel.vcpus[i];
		/* Ready includes a vCPU waiting for its budget's next period. */
		if (v->state == VCPU_READY || v->state == VCPU_RUNNING)
			return true;
		/* Its timer, or a device of its own, will wake it. */
		if (v->state == VCPU_BLOCKED_IRQ && (v->wake_ns != 0 || v->part->irq_sources))
			return true;
		if (keyboard != NULL && v->state == VCPU_BLOCKED_NOTIFY &&
		    v->waiting_on == keyboard)
			input_waits = true;
		if (v->part->type != PARTITION_SERVICE && v->state != VCPU_STOPPED &&
		    v->state != VCPU_OFF)
			guest_lives = true;
	}
	/*
	 * The console holder waits for typed input and a guest still lives (it
	 * may be waiting for that input, like a shell at its prompt): the
	 * keyboard can wake the system, so it stays on.
	 */
	return input_waits && guest_lives;
}
