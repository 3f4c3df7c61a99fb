/**
 * console_flood_ipc_slowdown_pct's two figures: ipc_call_reply (median of
 * BENCH_RUNS calls, measured as in bench_ipc_client.c) to a server on this
 * CPU, first while the flooder on the other CPU waits on a notification
 * (console_quiet_ipc_call_reply), then while it floods the console with
 * full HC_CONSOLE_WRITEs (console_flood_ipc_call_reply). Same system, same
 * placement: the flood is the only difference. tools/bench derives the
 * slowdown from the two.
 *
 * Slots: 0 the server's endpoint, 1 "go" and 3 "stop" (signal), 2 the
 * flooder's "flooding" acknowledgement (wait).
 */
#include "bench.h"

static uint64_t samples[BENCH_RUNS];

static uint64_t measure(uint64_t overhead)
{
	for (unsigned i = 0; i < BENCH_RUNS; i++) {
		uint64_t r[IPC_REG_COUNT] = { HC_CALL, 0, 1 };
		uint64_t t0 = arch_insn_counter();
		arch_hypercall(r);
		uint64_t t1 = arch_insn_counter();
		samples[i] = t1 - t0 - overhead;
	}
	return bench_median(samples, BENCH_RUNS);
}

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t overhead = bench_counter_overhead();
	/* The first call finds the server not yet waiting; warm up. */
	for (unsigned i = 0; i < 4; i++) {
		uint64_t r[IPC_REG_COUNT] = { HC_CALL, 0 };
		arch_hypercall(r);
	}
	uint64_t quiet = measure(overhead);
	uint64_t bits;
	svc_signal(1);
	svc_wait(2, &bits);
	uint64_t flood = measure(overhead);
	svc_signal(3);
	bench_report("console_quiet_ipc_call_reply", quiet);
	bench_report("console_flood_ipc_call_reply", flood);
	return 0;
}
