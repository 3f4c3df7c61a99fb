/**
 * ipc_call_reply: median over 1000 calls to a server on the same CPU that
 * replies at once (HC_CALL in, HC_REPLY_RECV back), measured at the client:
 * both hypercalls, both world switches and the server's loop.
 */
#include "bench.h"

static uint64_t samples[BENCH_RUNS];

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t overhead = bench_counter_overhead();
	/* The first call finds the server not yet waiting; warm up. */
	for (unsigned i = 0; i < 4; i++) {
		uint64_t r[IPC_REG_COUNT] = { HC_CALL, 0 };
		arch_hypercall(r);
	}
	for (unsigned i = 0; i < BENCH_RUNS; i++) {
		uint64_t r[IPC_REG_COUNT] = { HC_CALL, 0, 1 };
		uint64_t t0 = arch_insn_counter();
		arch_hypercall(r);
		uint64_t t1 = arch_insn_counter();
		samples[i] = t1 - t0 - overhead;
	}
	bench_report("ipc_call_reply", bench_median(samples, BENCH_RUNS));
	return 0;
}
