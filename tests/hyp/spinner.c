/**
 * A CPU-bound partition for the scheduling tests: it counts in a loop until
 * the word at SPIN_STOP_IPA (a shared region the policy writes) is non-zero,
 * then exits with code 0.
 *
 * SPINNER_COUNTED builds `spinner-counted`, a VM for the policy partitions'
 * tests: it stops too once SPIN_SPAN_MS of virtual time (its virtual counter
 * on arm64, the TSC on x86, so instructions under -icount) went by since it
 * first ran, and then raises
 * the shared word itself so that every spinner stops within one slice of the
 * same moment; it prints its count, which the test compares
 * (`expect-ratio:`): the guest's own measure of the CPU time it got.
 *
 * SPINNER_PUBLISHED builds `spinner_published`, a VM for the swap test
 * (sched-swap.dts): no time limit (the test partition raises the stop word),
 * and its count, every SPIN_CHECK_MASK + 1 iterations, in the first word of a
 * region of its own at SPIN_COUNT_IPA, where the test partition reads it;
 * every SPIN_SIGNAL_MASK + 1 iterations it signals the notification in its
 * slot 0, so that the test partition waits for news instead of spinning (a
 * CPU that spins with no timer armed has QEMU's -icount round-robin run it
 * for up to 2^31 instructions before the other CPUs get a turn).
 */
#include <svc/svc.h>

#define SPIN_STOP_IPA 0x200000u

/** Iterations between two looks at the counter, or two published counts. */
#define SPIN_CHECK_MASK 0x3ffu

#ifdef SPINNER_COUNTED
#define SPIN_SPAN_MS 400u

#if defined(__aarch64__)
static uint64_t counter(void)
{
	uint64_t v;
	__asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v));
	return v;
}

static uint64_t frequency(void)
{
	uint64_t v;
	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
	return v;
}
#else
/*
 * x86: the TSC, which a guest reads without a trap; under -icount QEMU's TSC
 * counts nanoseconds of virtual time, one per instruction (tests/bench/bench.h).
 */
static uint64_t counter(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t frequency(void)
{
	return UINT64_C(1000000000);
}
#endif
#endif

int svc_main(uint64_t arg)
{
	(void)arg;
	volatile uint64_t count = 0;
#ifdef SPINNER_COUNTED
	volatile uint64_t *stop = (volatile uint64_t *)(uintptr_t)SPIN_STOP_IPA;
	uint64_t end = counter() + frequency() * SPIN_SPAN_MS / 1000u;
	while (*stop == 0) {
		count++;
		if ((count & SPIN_CHECK_MASK) == 0 && counter() >= end)
			*stop = 1;
	}
	svc_printf("spun %llu\n", (unsigned long long)count);
#elif defined(SPINNER_PUBLISHED)
#define SPIN_COUNT_IPA 0x210000u
#define SPIN_SIGNAL_MASK 0xfffffu
#define SPIN_NTF_SLOT 0u
	volatile const uint64_t *stop = (volatile const uint64_t *)(uintptr_t)SPIN_STOP_IPA;
	volatile uint64_t *published = (volatile uint64_t *)(uintptr_t)SPIN_COUNT_IPA;
	while (*stop == 0) {
		count++;
		if ((count & SPIN_CHECK_MASK) == 0)
			*published = count;
		if ((count & SPIN_SIGNAL_MASK) == 0)
			svc_signal(SPIN_NTF_SLOT);
	}
	svc_printf("spun %llu\n", (unsigned long long)count);
#else
	volatile const uint64_t *stop = (volatile const uint64_t *)(uintptr_t)SPIN_STOP_IPA;
	while (*stop == 0)
		count++;
#endif
	svc_exit(0);
}
