/**
 * sched_wake_to_run, signalling side (bench_sched_wake_wait.c): on CPU 0,
 * it waits until the waiter has begun its next wait, hands QEMU's thread to
 * the waiter's CPU a few times so that the waiter blocks and its CPU goes
 * idle, shifts its phase against the clock, stamps the clock and signals
 * (slot 0), then waits for the acknowledgement (slot 1).
 */
#include "bench.h"

#define WAKE_RELAX 8u

struct wake_page {
	volatile uint64_t stamp;
	volatile uint64_t armed;
};

#define PAGE ((struct wake_page *)0x200000)

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t bits;
	for (unsigned i = 0; i < BENCH_RUNS + 1u; i++) {
		while (__atomic_load_n(&PAGE->armed, __ATOMIC_ACQUIRE) != i + 1u)
			bench_relax();
		for (unsigned k = 0; k < WAKE_RELAX; k++)
			bench_relax();
		bench_delay(1u + (i * 7u) % 16u);
		uint64_t r[IPC_REG_COUNT] = { HC_SIGNAL, 0 };
		PAGE->stamp = bench_clock_ns();
		arch_hypercall(r);
		svc_wait(1, &bits);
	}
	return 0;
}
