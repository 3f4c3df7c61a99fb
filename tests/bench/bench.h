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
 * sample so a figure counts only the operation between the reads: the least
 * of 32 pairs. One pair is not enough: the counter is the machine's clock,
 * and under -icount another CPU's instructions (its start-up, while the
 * first pairs run) can fall between two reads, so a single pair once came
 * out 31 above the others and lowered a figure by as much.
 */
static inline uint64_t bench_counter_overhead(void)
{
	uint64_t least = UINT64_MAX;
	for (unsigned i = 0; i < 32; i++) {
		uint64_t a = arch_insn_counter();
		uint64_t b = arch_insn_counter();
		if (b - a < least)
			least = b - a;
	}
	return least;
}

static inline void bench_report(const char *name, uint64_t value)
{
	svc_printf("BENCH name=%s value=%lu unit=insns\n", name, (unsigned long)value);
}

/** A percentage given in hundredths, printed with two decimals. */
static inline void bench_report_pct(const char *name, uint64_t hundredths)
{
	svc_printf("BENCH name=%s value=%lu.%02lu unit=pct\n", name,
	           (unsigned long)(hundredths / 100u), (unsigned long)(hundredths % 100u));
}

/** The sample that ends a benchmark: a line the manifest's `expect:` misses. */
static inline _Noreturn void bench_fail(const char *what, uint64_t value)
{
	svc_printf("BENCH FAIL %s: %lu\n", what, (unsigned long)value);
	svc_exit(1);
}

/*
 * The scheduling benchmarks (sched-*.dts) need a clock that every CPU reads
 * alike and that costs the guest one instruction, not a trap: arm64's
 * PMCCNTR_EL0 is read through the kernel and counts from when each CPU
 * enabled it. bench_clock() is arm64's physical counter (CNTPCT_EL0, which
 * a VM may read at EL1, CNTHCTL_EL2.EL1PCTEN: these partitions are VMs, as
 * QEMU 7.2 traps a service's EL0 read) and x86's TSC; bench_clock_ns()
 * is nanoseconds of that clock, so instructions under -icount: exact on x86,
 * in steps of 1e9/CNTFRQ (16 on QEMU virt) on arm64.
 *
 * bench_spin() is the CPU-bound work whose cost is known to the
 * instruction: chunks of BENCH_CHUNK_ITER iterations of a two-instruction
 * loop plus a fixed tail that reads the clock, until the clock reaches
 * `end`. Each chunk is exactly BENCH_CHUNK_INSNS instructions of the guest,
 * so chunks x BENCH_CHUNK_INSNS is the work done, whatever ran in between.
 * It also counts the chunks that took longer than `gap` ticks: the times
 * the guest was off its CPU.
 */
#define BENCH_CHUNK_ITER 1024u

struct bench_spin {
	uint64_t chunks; /**< chunks completed */
	uint64_t gaps;   /**< chunks that took more than `gap` ticks */
	uint64_t last;   /**< the clock (ticks) at the last chunk's end */
};

#if defined(__aarch64__)
/* mov, 2 x ITER, add, mrs, sub, mov, cmp, cinc, cmp, b.lo. */
#define BENCH_CHUNK_INSNS (2u * BENCH_CHUNK_ITER + 9u)

static inline uint64_t bench_clock(void)
{
	uint64_t v;
	__asm__ volatile("isb\n\tmrs %0, cntpct_el0" : "=r"(v));
	return v;
}

static inline uint64_t bench_clock_hz(void)
{
	uint64_t v;
	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
	return v;
}

/** Hands QEMU's thread to the next CPU under -icount (YIELD; a no-op on hardware). */
static inline void bench_relax(void)
{
	__asm__ volatile("yield" ::: "memory");
}

static inline void bench_spin(struct bench_spin *s, uint64_t end, uint64_t gap)
{
	uint64_t chunks = s->chunks, gaps = s->gaps, last = s->last, now, since, n;
	__asm__ volatile("0:\tmov %[n], %[iter]\n"
	                 "1:\tsubs %[n], %[n], #1\n\t"
	                 "b.ne 1b\n\t"
	                 "add %[chunks], %[chunks], #1\n\t"
	                 "mrs %[now], cntpct_el0\n\t"
	                 "sub %[since], %[now], %[last]\n\t"
	                 "mov %[last], %[now]\n\t"
	                 "cmp %[since], %[gap]\n\t"
	                 "cinc %[gaps], %[gaps], hi\n\t"
	                 "cmp %[now], %[end]\n\t"
	                 "b.lo 0b"
	                 : [chunks] "+r"(chunks), [gaps] "+r"(gaps), [last] "+r"(last),
	                   [now] "=&r"(now), [since] "=&r"(since), [n] "=&r"(n)
	                 : [iter] "i"(BENCH_CHUNK_ITER), [gap] "r"(gap), [end] "r"(end)
	                 : "cc");
	s->chunks = chunks;
	s->gaps = gaps;
	s->last = last;
}
#else
/* mov, 2 x ITER, inc, rdtsc, shl, or, mov, sub, mov, cmp, adc, cmp, jb. */
#define BENCH_CHUNK_INSNS (2u * BENCH_CHUNK_ITER + 12u)

static inline uint64_t bench_clock(void)
{
	return arch_insn_counter();
}

/** Under -icount the TSC is QEMU's virtual clock in nanoseconds. */
static inline uint64_t bench_clock_hz(void)
{
	return 1000000000u;
}

/** PAUSE: ends the CPU's turn in QEMU's round robin (a no-op on hardware). */
static inline void bench_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline void bench_spin(struct bench_spin *s, uint64_t end, uint64_t gap)
{
	uint64_t chunks = s->chunks, gaps = s->gaps, last = s->last, now, since;
	__asm__ volatile(
	        "0:\tmov %[iter], %%ecx\n"
	        "1:\tdec %%ecx\n\t"
	        "jnz 1b\n\t"
	        "inc %[chunks]\n\t"
	        "rdtsc\n\t"
	        "shl $32, %%rdx\n\t"
	        "or %%rdx, %%rax\n\t"
	        "mov %%rax, %[since]\n\t"
	        "sub %[last], %[since]\n\t"
	        "mov %%rax, %[last]\n\t"
	        "cmp %[since], %[gap]\n\t"
	        "adc $0, %[gaps]\n\t"
	        "cmp %[end], %%rax\n\t"
	        "jb 0b"
	        : [chunks] "+r"(chunks), [gaps] "+r"(gaps), [last] "+r"(last), [since] "=&r"(since),
	          "=&a"(now)
	        : [iter] "i"(BENCH_CHUNK_ITER), [gap] "r"(gap), [end] "r"(end)
	        : "rcx", "rdx", "cc");
	s->chunks = chunks;
	s->gaps = gaps;
	s->last = last;
}
#endif

/** `n` (at least 1) times a three-instruction loop: moves a sample's phase against the clock. */
static inline void bench_delay(uint64_t n)
{
#if defined(__aarch64__)
	__asm__ volatile("1:\tnop\n\tsubs %0, %0, #1\n\tb.ne 1b" : "+r"(n) : : "cc");
#else
	__asm__ volatile("1:\tnop\n\tdec %0\n\tjnz 1b" : "+r"(n) : : "cc");
#endif
}

static inline uint64_t bench_clock_ns(void)
{
	return bench_clock() * (1000000000u / bench_clock_hz());
}

#endif /* TESTS_BENCH_H */
