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

void vcpu_queue_push(struct vcpu_queue *q, struct vcpu *v);
struct vcpu *vcpu_queue_pop(struct vcpu_queue *q);
/** Remove v wherever it is in q; false if it was not there. */
bool vcpu_queue_remove(struct vcpu_queue *q, struct vcpu *v);

#endif /* KERNEL_ENDPOINT_H */
