/** The big kernel lock (see lock.h; the uncontended operations are inline). */
#include <arch/cpu.h>
#include <kernel/lock.h>

struct spinlock kernel_lock;

void spin_lock_contended(struct spinlock *l)
{
	do {
		while (__atomic_load_n(&l->value, __ATOMIC_RELAXED) != 0)
			arch_cpu_relax();
	} while (__atomic_exchange_n(&l->value, 1u, __ATOMIC_ACQUIRE) != 0);
}
