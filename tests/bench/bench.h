/** Helpers shared by benchmark partitions: a median and the BENCH line. */
#ifndef TESTS_BENCH_H
#define TESTS_BENCH_H

#include <svc/svc.h>
#include <svc_arch.h>

#define BENCH_RUNS 1000u

/** Median of n samples (sorts them in place). */
static inline uint64_t bench_median(uint64_t *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		uint64_t x = v[i];
		unsigned j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	return v[n / 2];
}

/**
 * The cost of reading the counter twice back to back, subtracted from every
 * sample so a figure counts only the operation between the reads.
 */
static inline uint64_t bench_counter_overhead(void)
{
	uint64_t a = arch_insn_counter();
	uint64_t b = arch_insn_counter();
	return b - a;
}

static inline void bench_report(const char *name, uint64_t value)
{
	svc_printf("BENCH name=%s value=%lu unit=insns\n", name, (unsigned long)value);
}

#endif /* TESTS_BENCH_H */
