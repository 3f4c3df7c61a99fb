/**
 * notify_signal_wake, signalling side: stores the counter in shared memory,
 * signals the waiter (slot 0), then waits for its acknowledgement (slot 1).
 * The waiter computes the one-way time from the signal to its wake-up.
 */
#include "bench.h"

#define SHARED ((volatile uint64_t *)0x200000)

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t bits;
	for (unsigned i = 0; i < BENCH_RUNS + 1; i++) {
		uint64_t r[IPC_REG_COUNT] = { HC_SIGNAL, 0 };
		SHARED[0] = arch_insn_counter();
		arch_hypercall(r);
		svc_wait(1, &bits);
	}
	return 0;
}
