/** Spin locks (see lock.h). */
#include <kernel/lock.h>

struct spinlock kernel_lock;

void spin_lock(struct spinlock *l)
{
	while (__atomic_exchange_n(&l->value, 1u, __ATOMIC_ACQUIRE) != 0) {
		while (__atomic_load_n(&l->value, __ATOMIC_RELAXED) != 0) {
		}
	}
}

void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->value, 0u, __ATOMIC_RELEASE);
}
