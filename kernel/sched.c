/** The scheduling mechanism (see sched.h). */
#include <kernel/console.h>
#include <kernel/kernel.h>
#include <kernel/partition.h>
#include <kernel/sched.h>
#include <plat/cpu.h>
#include <plat/timer.h>
#include <arch/cpu.h>

struct cpu_sched cpu_sched[CFG_CPU_MAX];

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

void sched_make_ready(struct vcpu *v)
{
	/* Stopped is final: no wake-up, reply or release may run a stopped vCPU again. */
	if (v->state == VCPU_STOPPED)
		return;
	v->state = VCPU_READY;
	vcpu_queue_push(&cpu_sched[v->cpu].ready, v);
	if (v->cpu != arch_cpu_index())
		plat_cpu_kick(v->cpu);
}

void sched_remove(struct vcpu *v)
{
	vcpu_queue_remove(&cpu_sched[v->cpu].ready, v);
	vcpu_queue_remove(&cpu_sched[v->cpu].sleeping, v);
	if (cpu_sched[v->cpu].current == v)
		cpu_sched[v->cpu].current = NULL;
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

/** The earliest wake time of cpu's sleepers and deadline (either may be 0 = none). */
static u64 sched_earliest_wake(u32 cpu, u64 deadline)
{
	for (struct vcpu *v = cpu_sched[cpu].sleeping.head; v != NULL; v = v->next) {
		if (v->wake_ns != 0 && (deadline == 0 || v->wake_ns < deadline))
			deadline = v->wake_ns;
	}
	return deadline;
}

/** Account the time cur used and start a fresh slice for next. */
static void sched_dispatch(u32 cpu, struct vcpu *next)
{
	struct cpu_sched *cs = &cpu_sched[cpu];
	u64 now = plat_timer_now_ns();
	if (cs->current != NULL)
		cs->current->run_ns += now - cs->slice_start_ns;
	cs->slice_start_ns = now;
	cs->current = next;
	if (next != NULL)
		next->state = VCPU_RUNNING;
	u64 deadline = sched_earliest_wake(cpu, next != NULL ? now + SCHED_SLICE_NS : 0);
	/*
	 * An idle CPU 0 comes back every SCHED_INPUT_POLL_NS while a partition
	 * holds the console, for keyboard input no interrupt announces (x86).
	 */
	if (next == NULL && cpu == 0 && console_holder_notification() != CFG_NONE &&
	    (deadline == 0 || deadline > now + SCHED_INPUT_POLL_NS))
		deadline = now + SCHED_INPUT_POLL_NS;
	if (deadline == 0)
		plat_timer_cancel();
	else
		plat_timer_set(deadline);
}

struct vcpu *sched_next(u32 cpu, struct vcpu *cur, bool preempt)
{
	struct cpu_sched *cs = &cpu_sched[cpu];
	if (cur != NULL && cur->state == VCPU_RUNNING) {
		if (!preempt || cs->ready.head == NULL) {
			if (preempt)
				sched_dispatch(cpu, cur);
			return cur;
		}
		vcpu_queue_push(&cs->ready, cur);
		cur->state = VCPU_READY;
	}
	struct vcpu *next = vcpu_queue_pop(&cs->ready);
	sched_dispatch(cpu, next);
	return next;
}

bool sched_any_runnable(void)
{
	u32 input = console_holder_notification();
	const struct notification *keyboard = input == CFG_NONE ? NULL :
	                                                          &kernel.notifications[input];
	bool input_waits = false, guest_lives = false;
	for (u32 i = 0; i < kernel.vcpu_count; i++) {
		const struct vcpu *v = &kernel.vcpus[i];
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
