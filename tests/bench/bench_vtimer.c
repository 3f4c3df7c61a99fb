/**
 * x86_64, a VM partition with a virtual local APIC (platform/x86/vapic.c):
 *
 * vtimer_irq_latency: median over 1000 runs of the instructions from the
 *   APIC timer's deadline to the first instruction of the guest's handler,
 *   the guest spinning with interrupts enabled. The timer is in TSC-deadline
 *   mode, so the deadline is a TSC value the guest chose; the handler's
 *   first instruction reads the TSC (under -icount one tick per
 *   instruction), so the figure is handler TSC - deadline.
 * vtimer_irq_wfi_latency: the same with the guest halted (STI; HLT): its
 *   vCPU is blocked in the kernel until the deadline.
 */
#include "bench.h"
#include "guest.h"

#define VEC_BENCH 0x40u
/** How far ahead each deadline is: well past the cost of arming it. */
#define BENCH_AHEAD 20000u

static uint64_t samples[BENCH_RUNS];
/** Written by the stub: the TSC at its first instruction, then a flag. */
volatile uint64_t bench_handler_tsc;
volatile uint8_t bench_fired;

void bench_timer_stub(void);

/*
 * RDTSC first; the code it interrupts (the loops below) keeps nothing in
 * RAX or RDX, so the stub may clobber them. EOI through RAX, then IRETQ.
 */
__asm__(".pushsection .text\n"
        ".globl bench_timer_stub\n"
        "bench_timer_stub:\n"
        "rdtsc\n"
        "mov %eax, bench_handler_tsc(%rip)\n"
        "mov %edx, bench_handler_tsc+4(%rip)\n"
        "movb $1, bench_fired(%rip)\n"
        "mov $0xfee000b0, %eax\n"
        "movl $0, (%rax)\n"
        "iretq\n"
        ".popsection\n");

void guest_interrupt(uint8_t vector)
{
	(void)vector;
	apic_write(APIC_EOI, 0);
}

static uint64_t run(bool halt)
{
	for (unsigned i = 0; i < BENCH_RUNS; i++) {
		bench_fired = 0;
		uint64_t deadline = rdtsc() + BENCH_AHEAD;
		wrmsr(MSR_TSC_DEADLINE, deadline);
		if (halt)
			__asm__ volatile("1: sti; hlt; cli; cmpb $0, bench_fired(%%rip); je 1b"
			                 :
			                 :
			                 : "rax", "rdx", "memory");
		else
			__asm__ volatile("sti; 1: cmpb $0, bench_fired(%%rip); je 1b; cli"
			                 :
			                 :
			                 : "rax", "rdx", "memory");
		samples[i] = bench_handler_tsc - deadline;
	}
	return bench_median(samples, BENCH_RUNS);
}

int svc_main(uint64_t arg)
{
	(void)arg;
	guest_setup();
	guest_set_gate(VEC_BENCH, bench_timer_stub);
	apic_write(APIC_LVT_TIMER, LVT_TSC_DEADLINE | VEC_BENCH);
	uint64_t spin = run(false);
	uint64_t wfi = run(true);
	bench_report("vtimer_irq_latency", spin);
	bench_report("vtimer_irq_wfi_latency", wfi);
	return 0;
}
