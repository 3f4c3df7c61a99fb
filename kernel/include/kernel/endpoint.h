/**
 * IPC endpoints: rendezvous points with a queue of blocked senders and a
 * queue of blocked receivers; at most one of the two is non-empty. The
 * kernel never buffers a message: a queued sender's message stays in its
 * registers until a receiver takes it. The queues are vCPU queues
 * (kernel/vcpu.h); the operations on endpoints are in ipc.c.
 */
#ifndef KERNEL_ENDPOINT_H
#define KERNEL_ENDPOINT_H

#include <kernel/vcpu.h>

struct endpoint {
	struct vcpu_queue senders;
	struct vcpu_queue receivers;
};

#endif /* KERNEL_ENDPOINT_H */
