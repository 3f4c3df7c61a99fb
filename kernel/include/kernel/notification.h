/**
 * Notifications: a word of bits that signalers OR their badge into, and at
 * most a queue of waiters that take (and clear) the whole word.
 */
#ifndef KERNEL_NOTIFICATION_H
#define KERNEL_NOTIFICATION_H

#include <kernel/types.h>
#include <kernel/vcpu.h>

struct notification {
	u64 word;
	struct vcpu_queue waiters;
};

struct vcpu;

/** OR bits into n's word and wake its first waiter (the kernel lock held). */
void notification_raise(struct notification *n, u64 bits);

/* Hypercalls (decode, then invoke; see ipc.h for the return convention). */
struct vcpu *notification_signal(struct vcpu *v);
struct vcpu *notification_wait(struct vcpu *v);
struct vcpu *notification_poll(struct vcpu *v);

#endif /* KERNEL_NOTIFICATION_H */
