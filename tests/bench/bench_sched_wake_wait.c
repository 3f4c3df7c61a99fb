/**
 * sched_wake_to_run, waiting side (sched-wake.dts): alone on CPU 1, it
 * blocks on its notification (slot 0) with nothing else to run there, so the
 * CPU idles. The signaller on CPU 0 stamps the clock (bench_clock_ns, the
 * same on both CPUs) in the shared page and signals; the sample is the time
 * from that stamp to this vCPU's first instruction after its wait returns.
 * Then it acknowledges through slot 1 and says in the page that it is about
 * to wait again (`armed`), so the signaller waits until it has blocked.
 *
 * The figure is the mean of the samples within WAKE_NEAR of the median: on
 * arm64 the clock steps by 16, and the signaller shifts each round's phase
 * against it (bench_delay), so a mean recovers what a median of steps would
 * round; samples far from the median (a timer on the way) are left out and
 * counted.
 */
#include "bench.h"

#ifndef WAKE_FIGURE
#define WAKE_FIGURE "sched_wake_to_run"
#endif

/** The shared page at 0x200000. */
struct wake_page {
	volatile uint64_t stamp; /**< the signaller's clock just before HC_SIGNAL */
	volatile uint64_t armed; /**< rounds this side has begun waiting for */
};

#define PAGE ((struct wake_page *)0x200000)

#define WAKE_NEAR 256u

static uint64_t samples[BENCH_RUNS];

/** What reading the clock adds to a sample: a read's cost, averaged over 256. */
static uint64_t clock_cost(void)
{
	uint64_t a = bench_clock_ns(), b = a;
	for (unsigned i = 0; i < 256u; i++)
		b = bench_clock_ns();
	return (b - a) / 256u;
}

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t cost = clock_cost();
	for (unsigned i = 0; i < BENCH_RUNS + 1u; i++) {
		uint64_t r[IPC_REG_COUNT] = { HC_WAIT, 0 };
		uint64_t before = bench_clock_ns();
		__atomic_store_n(&PAGE->armed, i + 1u, __ATOMIC_RELEASE);
		arch_hypercall(r);
		uint64_t t1 = bench_clock_ns();
		uint64_t t0 = PAGE->stamp;
		if (r[0] != STATUS_OK || t0 < before || t1 < t0 + cost)
			bench_fail("a wake-up before its signal (round)", i);
		if (i > 0)
			samples[i - 1] = t1 - t0 - cost;
		svc_signal(1);
	}
	uint64_t median = bench_median(samples, BENCH_RUNS), sum = 0, near = 0;
	for (unsigned i = 0; i < BENCH_RUNS; i++) {
		if (samples[i] + WAKE_NEAR >= median && samples[i] <= median + WAKE_NEAR) {
			sum += samples[i];
			near++;
		}
	}
	uint64_t mean = (sum + near / 2u) / near;
	svc_printf("wake: min %lu, median %lu, max %lu insns; %lu samples far from the median\n",
	           (unsigned long)samples[0], (unsigned long)median,
	           (unsigned long)samples[BENCH_RUNS - 1u], (unsigned long)(BENCH_RUNS - near));
	if (samples[0] < 100u || samples[BENCH_RUNS - 1u] > 1000000u)
		bench_fail("a sample outside 100 .. 1,000,000 insns", samples[BENCH_RUNS - 1u]);
	if (near * 10u < BENCH_RUNS * 9u)
		bench_fail("over a tenth of the samples far from the median", BENCH_RUNS - near);
	bench_report(WAKE_FIGURE, mean);
	return 0;
}
