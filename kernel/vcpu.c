/** vCPU queues (see vcpu.h): removal from the middle, for a vCPU that stops while queued. */
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
