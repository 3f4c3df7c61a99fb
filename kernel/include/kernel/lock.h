/**
 * Spin locks on C11 atomics (no arch code). Two exist: the big kernel lock,
 * held for a whole kernel entry, and the console lock, which only output
 * takes. Lock order: kernel lock, then console lock.
 */
#ifndef KERNEL_LOCK_H
#define KERNEL_LOCK_H

#include <kernel/types.h>

struct spinlock {
	u32 value;
};

void spin_lock(struct spinlock *l);
void spin_unlock(struct spinlock *l);

extern struct spinlock kernel_lock;

#endif /* KERNEL_LOCK_H */
