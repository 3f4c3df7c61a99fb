/**
 * notify_signal_wake, waiting side: blocks on slot 0; on each wake-up reads
 * the counter and subtracts the signaller's timestamp from shared memory
 * (the signaller blocks on slot 1 right after signalling, which is what
 * hands this waiter the CPU). Acknowledges through slot 1.
 */
#include "bench.h"

#define SHARED ((volatile uint64_t *)0x200000)

static uint64_t samples[BENCH_RUNS];

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t overhead = bench_counter_overhead();
	for (unsigned i = 0; i < BENCH_RUNS + 1; i++) {
		uint64_t r[IPC_REG_COUNT] = { HC_WAIT, 0 };
		arch_hypercall(r);
		uint64_t t1 = arch_insn_counter();
		if (i > 0)
			samples[i - 1] = t1 - SHARED[0] - overhead;
		svc_signal(1);
	}
	bench_report("notify_signal_wake", bench_median(samples, BENCH_RUNS));
	return 0;
}
