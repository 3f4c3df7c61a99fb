/** Waiting for virtual interrupts (see virq.h). */
#include <arch/cpu.h>
#include <kernel/kernel.h>
#include <kernel/lock.h>
#include <kernel/sched.h>
#include <kernel/virq.h>

void virq_wake_locked(struct vcpu *v)
{
	__atomic_store_n(&v->irq_wake, 1u, __ATOMIC_SEQ_CST);
	if (v->state == VCPU_BLOCKED_IRQ) {
		sched_unsleep(v);
		sched_make_ready(v);
	} else if (v->state == VCPU_RUNNING && v->cpu != arch_cpu_index()) {
		sched_kick(v->cpu);
	}
}

void kernel_vcpu_interrupt(struct vcpu *v)
{
	spin_lock(&kernel_lock);
	virq_wake_locked(v);
	struct vcpu *here = cpu_sched[arch_cpu_index()].current;
	spin_unlock(&kernel_lock);
	if (sched_wants_relax(here))
		sched_relax(here); /* v is on another CPU (sched_kick) */
}

struct vcpu *virq_wait(struct vcpu *cur, u64 wake_ns)
{
	if (__atomic_load_n(&cur->irq_wake, __ATOMIC_SEQ_CST) != 0)
		return cur; /* raised after the platform looked: take it now */
	cur->state = VCPU_BLOCKED_IRQ;
	sched_sleep(cur, wake_ns);
	return sched_next(cur->cpu, cur, false);
}
