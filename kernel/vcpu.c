/**
 * vCPU queues (see vcpu.h): removal from the middle, for a vCPU that stops
 * while queued; and a stop's wait for a console call under way (vcpu.h).
 */
#include <arch/cpu.h>
#include <kernel/vcpu.h>

bool vcpu_queue_remove(struct vcpu_queue *q, struct vcpu *v)
{
	struct vcpu *prev = NULL;
	for (struct vcpu *it = q->head; it != NULL; prev = it, it = it->next) {
		if (it != v)
			continue;
		if (prev != NULL)
			prev->next = it->next;
		else
			q->head = it->next;
		if (q->tail == it)
			q->tail = prev;
		it->next = NULL;
		return true;
	}
	return false;
}

void vcpu_lockless_close(struct vcpu *v)
{
	for (;;) {
		u8 seen = VCPU_LOCKLESS_OPEN;
		if (__atomic_compare_exchange_n(&v->lockless, &seen, (u8)VCPU_LOCKLESS_CLOSED,
		                                false, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE) ||
		    seen == VCPU_LOCKLESS_CLOSED)
			return;
		arch_cpu_relax(); /* its CPU is in a console call: one bounded write */
	}
}
