/** Intrusive FIFO queues of vCPUs (see endpoint.h). */
#include <kernel/endpoint.h>
#include <kernel/vcpu.h>

void vcpu_queue_push(struct vcpu_queue *q, struct vcpu *v)
{
	v->next = NULL;
	if (q->tail != NULL)
		q->tail->next = v;
	else
		q->head = v;
	q->tail = v;
}

struct vcpu *vcpu_queue_pop(struct vcpu_queue *q)
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
