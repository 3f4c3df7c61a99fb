/**
 * x86-vapic-timer: the virtual APIC timer of a VM vCPU, under -icount (one
 * instruction per virtual nanosecond, so counts are exact):
 *   - CPUID offers xAPIC with TSC-deadline and names the TSC and bus rates;
 *   - periodic mode at 1 kHz counted over 1 s of TSC time while the vCPU
 *     HLTs between interrupts (blocking, and waking by the timer);
 *   - periodic mode at 10 kHz over 20 ms while it spins;
 *   - one-shot: one interrupt, not before its deadline; the count reads 0;
 *   - TSC-deadline: one interrupt at or after the deadline; the MSR reads 0;
 *   - a masked LVT raises nothing.
 */
#include "guest.h"

#define VEC_PERIODIC 0x40u
#define VEC_ONESHOT 0x41u
#define VEC_DEADLINE 0x42u

static volatile unsigned count[256];
static volatile uint64_t last_tsc;

void guest_interrupt(uint8_t vector)
{
	last_tsc = rdtsc();
	count[vector]++;
	apic_write(APIC_EOI, 0);
}

/**
 * Interrupts of vector taken from now until TSC end. The vCPU halts in
 * between until it has seen halt_for of them (a halt with nothing to come
 * would never end), then spins; interrupts are off whenever it checks.
 */
static unsigned count_until(uint8_t vector, uint64_t end, unsigned halt_for)
{
	unsigned before = count[vector];
	while (rdtsc() < end) {
		if (count[vector] - before < halt_for)
			wait_for_interrupt();
		else
			interrupt_window();
	}
	return count[vector] - before;
}

int svc_main(uint64_t arg)
{
	(void)arg;
	tap_plan(14);
	struct guest_cpuid c1 = guest_cpuid(1);
	tap_ok((c1.ecx >> 24) & 1u, "CPUID.1:ECX offers TSC-deadline mode");
	tap_ok(!((c1.ecx >> 21) & 1u), "CPUID.1:ECX offers no x2APIC");
	struct guest_cpuid hv = guest_cpuid(0x40000010u);
	tap_is(hv.ebx, 1000000u, "CPUID 0x40000010: APIC bus at 1,000,000 kHz");
	uint64_t ms = guest_tsc_per_ms();
	tap_ok(ms != 0, "CPUID 0x40000010: TSC at %lu kHz", (unsigned long)ms);
	guest_setup();
	tap_is(apic_read(APIC_ID), 0, "APIC ID of vCPU 0 is 0");

	/* Periodic, 1 ms at 1 GHz / 1, over 1 s while halted. */
	apic_write(APIC_TIMER_DCR, 0xb);
	apic_write(APIC_LVT_TIMER, LVT_PERIODIC | VEC_PERIODIC);
	apic_write(APIC_TIMER_ICR, 1000000);
	unsigned n = count_until(VEC_PERIODIC, rdtsc() + 1000u * ms, ~0u);
	tap_ok(n >= 999 && n <= 1001, "periodic 1 kHz, halting: %u interrupts in 1 s", n);

	/* Periodic, 100 us, over 20 ms while spinning. */
	apic_write(APIC_TIMER_ICR, 100000);
	n = count_until(VEC_PERIODIC, rdtsc() + 20u * ms, 0);
	tap_ok(n >= 199 && n <= 201, "periodic 10 kHz, spinning: %u interrupts in 20 ms", n);
	apic_write(APIC_TIMER_ICR, 0);

	/* One-shot, 500 us. */
	apic_write(APIC_LVT_TIMER, VEC_ONESHOT);
	uint64_t start = rdtsc();
	apic_write(APIC_TIMER_ICR, 500000);
	n = count_until(VEC_ONESHOT, start + 3u * ms, 1);
	tap_is(n, 1, "one-shot: one interrupt");
	tap_ok(last_tsc >= start + ms / 2u, "one-shot: not before its deadline (+%lu ticks)",
	       (unsigned long)(last_tsc - start));
	tap_is(apic_read(APIC_TIMER_CCR), 0, "one-shot: the current count reads 0 after it");

	/* TSC-deadline. */
	apic_write(APIC_LVT_TIMER, LVT_TSC_DEADLINE | VEC_DEADLINE);
	uint64_t deadline = rdtsc() + ms;
	wrmsr(MSR_TSC_DEADLINE, deadline);
	n = count_until(VEC_DEADLINE, deadline + 2u * ms, 1);
	tap_is(n, 1, "TSC-deadline: one interrupt");
	tap_ok(last_tsc >= deadline, "TSC-deadline: not before the deadline (+%ld ticks)",
	       (long)(last_tsc - deadline));
	tap_is(rdmsr(MSR_TSC_DEADLINE), 0, "TSC-deadline: the MSR reads 0 once it fired");

	/* Masked: the timer counts but raises nothing. */
	apic_write(APIC_LVT_TIMER, LVT_MASKED | VEC_ONESHOT);
	apic_write(APIC_TIMER_ICR, 100000);
	n = count_until(VEC_ONESHOT, rdtsc() + ms, 0);
	tap_is(n, 0, "masked LVT: no interrupt");
	tap_done();
}
