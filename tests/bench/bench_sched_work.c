/**
 * CPU-bound work measured from inside the guest (bench.h, bench_spin): the
 * guest's own instructions over a fixed window of virtual time
 * [WORK_FROM_NS, WORK_TO_NS), counted in chunks of known cost.
 *
 * As built here (two peers, sched-overhead.dts): sched_overhead_pct_1ms.
 * Two such partitions share one CPU under the Credit2 policy partition; each
 * takes a slot in the shared page, counts its work over the window and
 * publishes it; slot 0 reports the share of the window that neither ran:
 * 1 - (work a + work b) / window, the kernel's and the policy's part.
 *
 * bench_sched_work_plan.c: the same without a policy partition
 * (sched-overhead-plan.dts), the kernel's default plan of 1 ms slices:
 * sched_overhead_pct_1ms_plan, the kernel's part alone.
 *
 * With WORK_PEERS 1 and WORK_FIGURE (bench_sched_loop_*.c, sched-null.dts
 * and sched-alone.dts) one partition reports its own work in the window, in
 * instructions; tools/bench derives null_slowdown_pct from the two images.
 *
 * Every chunk is BENCH_CHUNK_INSNS guest instructions, so the work is exact;
 * a guest off its CPU at an edge of the window is off by at most one chunk
 * (about 2,000 instructions, 0.001 % of the window).
 */
#include "bench.h"

#ifndef WORK_PEERS
#define WORK_PEERS 2u
#endif
#ifndef WORK_FIGURE
#define WORK_FIGURE "sched_overhead_pct_1ms"
#endif

#define WORK_FROM_NS 50000000u /* 50 ms after reset: every guest and the policy are up */
#define WORK_TO_NS 250000000u  /* a 200 ms window: 200 slices of 1 ms */
#define WORK_GAP_NS 50000u     /* a chunk this much longer than its cost: off the CPU */
#define WORK_CALIBRATE_CHUNKS 64u

/** The shared page at 0x200000 (sched-*.dts: `stamp`). */
struct work_page {
	volatile uint64_t joined;
	struct {
		uint64_t chunks;
		uint64_t gaps;
		uint64_t start_ns;
		uint64_t end_ns;
		volatile uint64_t done;
	} peer[2];
};

#define PAGE ((struct work_page *)0x200000)

/**
 * Checks BENCH_CHUNK_INSNS against the clock: the shortest of eight runs of
 * WORK_CALIBRATE_CHUNKS chunks (one may be preempted) must take their
 * computed cost, within the clock's step.
 */
static void work_calibrate(uint64_t ns)
{
	uint64_t best = UINT64_MAX;
	for (unsigned i = 0; i < 8u; i++) {
		struct bench_spin s = { 0, 0, bench_clock() };
		uint64_t from = s.last;
		bench_spin(&s, from + WORK_CALIBRATE_CHUNKS * BENCH_CHUNK_INSNS / ns, UINT64_MAX);
		uint64_t per_64 = (s.last - from) * ns * WORK_CALIBRATE_CHUNKS / s.chunks;
		if (per_64 < best)
			best = per_64;
	}
	uint64_t want = (uint64_t)WORK_CALIBRATE_CHUNKS * BENCH_CHUNK_INSNS;
	if (best + 2u * ns < want || best > want + 2u * ns + 64u)
		bench_fail("chunk cost (64 chunks, insns) differs from BENCH_CHUNK_INSNS", best);
}

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t ns = 1000000000u / bench_clock_hz();
	uint64_t slot = __atomic_fetch_add(&PAGE->joined, 1u, __ATOMIC_RELAXED);
	if (slot >= WORK_PEERS)
		bench_fail("more peers than WORK_PEERS", slot);
	if (bench_clock_ns() + 10000000u > WORK_FROM_NS)
		bench_fail("started too late for the window (ns)", bench_clock_ns());
	work_calibrate(ns);

	struct bench_spin s = { 0, 0, bench_clock() };
	bench_spin(&s, WORK_FROM_NS / ns, UINT64_MAX);
	uint64_t start = s.last;
	s.chunks = 0;
	bench_spin(&s, WORK_TO_NS / ns, WORK_GAP_NS / ns);
	uint64_t work = s.chunks * BENCH_CHUNK_INSNS, took = (s.last - start) * ns;
	if (work > took + ns)
		bench_fail("more work than time (insns)", work);
	PAGE->peer[slot].chunks = s.chunks;
	PAGE->peer[slot].gaps = s.gaps;
	PAGE->peer[slot].start_ns = start * ns;
	PAGE->peer[slot].end_ns = s.last * ns;
	__atomic_store_n(&PAGE->peer[slot].done, 1u, __ATOMIC_RELEASE);
	svc_printf("worker %lu: %lu insns of work in %lu, off the CPU %lu times\n",
	           (unsigned long)slot, (unsigned long)work, (unsigned long)took,
	           (unsigned long)s.gaps);
	if (slot != 0)
		svc_exit(0);

	uint64_t window = WORK_TO_NS - WORK_FROM_NS;
#if WORK_PEERS == 1
	if (work > window + 2u * BENCH_CHUNK_INSNS)
		bench_fail("more work than the window (insns)", work);
	bench_report(WORK_FIGURE, work);
#else
	while (__atomic_load_n(&PAGE->peer[1].done, __ATOMIC_ACQUIRE) == 0)
		svc_yield();
	uint64_t other = PAGE->peer[1].chunks * BENCH_CHUNK_INSNS;
	uint64_t total = work + other, slices = s.gaps + PAGE->peer[1].gaps;
	/* Each peer may be one chunk off at each edge of the window. */
	if (total > window + 4u * BENCH_CHUNK_INSNS)
		bench_fail("more work than the window (insns)", total);
	if (work * 10u < total * 4u || other * 10u < total * 4u)
		bench_fail("equal weights but a share outside 40-60 % (insns)", work);
	if (slices == 0 || window / slices < 500000u || window / slices > 2000000u)
		bench_fail("switches do not give slices of 0.5-2 ms (switches)", slices);
	uint64_t lost = total < window ? window - total : 0;
	svc_printf("overhead: %lu of %lu insns, %lu switches, one every %lu insns\n",
	           (unsigned long)lost, (unsigned long)window, (unsigned long)slices,
	           (unsigned long)(window / slices));
	bench_report_pct(WORK_FIGURE, (lost * 10000u + window / 2u) / window);
#endif
	svc_exit(0);
}
