/**
 * IPC endpoints: rendezvous points with a queue of blocked senders and a
 * queue of blocked receivers; at most one of the two is non-empty. The
 * kernel never buffers a message: a queued sender's message stays in its
 * registers until a receiver takes it.
 */
#ifndef KERNEL_ENDPOINT_H
#define KERNEL_ENDPOINT_H

#include <kernel/types.h>

struct vcpu;

struct vcpu_queue {
	struct vcpu *head;
	struct vcpu *tail;
};

struct endpoint {
	struct vcpu_queue senders;
	struct vcpu_queue receivers;
};

/* Push and pop are inline: every IPC does one of each. */
#include <kernel/vcpu.h>

static inline void vcpu_queue_push(struct vcpu_queue *q, struct vcpu *v)
{
	v->next = NULL;
	if (q->tail != NULL)
		q->tail->next = v;
	else
		q->head = v;
	q->tail = v;
}

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

#endif /* KERNEL_ENDPOINT_H */
