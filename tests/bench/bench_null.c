/**
 * boot_to_guest: the counter value crt0 read at this partition's first
 * instruction (the counter starts at reset, so this is every instruction the
 * machine ran before the first partition ran, firmware stub included).
 * hypercall_null: median over 1000 no-op hypercall round trips.
 */
#include "bench.h"

static uint64_t samples[BENCH_RUNS];

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t boot = svc_entry_counter;
	uint64_t overhead = bench_counter_overhead();
	for (unsigned i = 0; i < BENCH_RUNS; i++) {
		uint64_t r[IPC_REG_COUNT] = { HC_NULL };
		uint64_t t0 = arch_insn_counter();
		arch_hypercall(r);
		uint64_t t1 = arch_insn_counter();
		samples[i] = t1 - t0 - overhead;
	}
	bench_report("boot_to_guest", boot);
	bench_report("hypercall_null", bench_median(samples, BENCH_RUNS));
	return 0;
}
