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

/** The contended case, out of line: waits with arch_cpu_relax(). */
void spin_lock_contended(struct spinlock *l);

/* Inline: both sit on the hypercall path, twice per kernel entry. */
static inline void spin_lock(struct spinlock *l)
{
	if (__atomic_exchange_n(&l->value, 1u, __ATOMIC_ACQUIRE) != 0)
		spin_lock_contended(l);
}

/**
 * Take l only if it is free; false if another holds it (the exchange wrote
 * 1 over its 1: nothing changed). For a fastpath that falls back to the
 * slow path, which waits, rather than wait itself.
 */
static inline bool spin_trylock(struct spinlock *l)
{
	return __atomic_exchange_n(&l->value, 1u, __ATOMIC_ACQUIRE) == 0;
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->value, 0u, __ATOMIC_RELEASE);
}

extern struct spinlock kernel_lock;

/**
 * Whether the kernel lock looks taken: a hint (not a synchronisation;
 * spin_lock() is the exclusion) for a platform's entry path, which may wait
 * in its own way before it enters the core while another CPU is inside. A
 * plain load, which the compiler can address through the symbol's page
 * offset (one instruction on the hypercall path), so platforms need not
 * know the lock's layout.
 */
static inline bool kernel_lock_looks_busy(void)
{
	return *(const volatile u32 *)&kernel_lock.value != 0;
}

#endif /* KERNEL_LOCK_H */
