/**
 * x86-vapic-ipi: a VM with two vCPUs and their local APICs.
 *   - vCPU 0 starts vCPU 1 with INIT and two Startup IPIs (vector 0x20:
 *     guest-physical 0x20000, where the manifest maps the image a second
 *     time); vCPU 1 reads APIC ID 1;
 *   - IPIs both ways, each side halting until the other's IPI wakes it;
 *   - the all-excluding-self shorthand reaches vCPU 1 only; an IPI to an
 *     APIC ID the VM does not have reaches nobody and faults nobody;
 *   - priorities on vCPU 0: inside a class-6 handler with IF set again, a
 *     class-8 self-IPI preempts it and a class-5 one waits for its EOI;
 *   - TPR 0x70 holds a class-6 vector in IRR until TPR drops;
 *   - an NMI reaches halted vCPU 1, and vCPU 0 with interrupts disabled.
 */
#include "guest.h"

#define SIPI_VECTOR 0x20u
#define VEC_PING 0x50u /* 0 -> 1 */
#define VEC_PONG 0x51u /* 1 -> 0 */
#define VEC_OTHERS 0x52u
#define VEC_LOW 0x55u
#define VEC_MID 0x61u
#define VEC_TPR 0x65u
#define VEC_HIGH 0x81u
#define VEC_WAKE 0x53u
#define VEC_WATCHDOG 0x30u
#define PINGS 10u

static volatile unsigned count[2][256];
static volatile char order[8];
static volatile unsigned order_count;
static volatile uint32_t ap_id = 0xffffffffu;
static volatile bool ap_ready, ap_done;

static void note(char c)
{
	if (order_count < sizeof(order) - 1u)
		order[order_count++] = c;
}

void guest_interrupt(uint8_t vector)
{
	unsigned cpu = (apic_read(APIC_ID) >> 24) & 1u;
	count[cpu][vector]++;
	if (vector == 2)
		return; /* an NMI: nothing in service to end */
	switch (vector) {
	case VEC_PING:
		apic_ipi(0, VEC_PONG);
		break;
	case VEC_MID:
		note('M');
		apic_write(APIC_ICR_LO, ICR_SELF | VEC_LOW);
		apic_write(APIC_ICR_LO, ICR_SELF | VEC_HIGH);
		irq_enable(); /* HIGH (class 8) preempts here; LOW (class 5) must wait */
		for (volatile int i = 0; i < 1000; i++)
			;
		irq_disable();
		note('m');
		break;
	case VEC_HIGH:
		note('H');
		break;
	case VEC_LOW:
		note('L');
		break;
	default:
		break;
	}
	apic_write(APIC_EOI, 0);
}

/** Spins with interrupts on until *flag != 0 or about `ms` milliseconds passed. */
static bool spin_until(volatile const unsigned *word, unsigned want, uint64_t ms)
{
	uint64_t end = rdtsc() + ms * guest_tsc_per_ms();
	irq_enable();
	while (*word < want && rdtsc() < end)
		;
	irq_disable();
	return *word >= want;
}

static void ap_main(void)
{
	guest_setup();
	ap_id = apic_read(APIC_ID);
	ap_ready = true;
	while (!ap_done)
		wait_for_interrupt();
	irq_disable();
	for (;;)
		__asm__ volatile("hlt"); /* IF = 0: blocked until the partition ends */
}

int svc_main(uint64_t arg)
{
	if (arg == 1)
		ap_main();
	tap_plan(16);
	guest_setup();
	tap_is(apic_read(APIC_ID), 0, "vCPU 0 has APIC ID 0");

	apic_ipi(1, ICR_INIT | ICR_ASSERT);
	apic_ipi(1, ICR_SIPI | SIPI_VECTOR);
	apic_ipi(1, ICR_SIPI | SIPI_VECTOR); /* the second finds it running: ignored */
	uint64_t end = rdtsc() + 1000u * guest_tsc_per_ms();
	while (!ap_ready && rdtsc() < end)
		;
	tap_ok(ap_ready, "INIT + Startup IPI started vCPU 1 at 0x%x", SIPI_VECTOR << 12);
	tap_is(ap_id, 1u << 24, "vCPU 1 has APIC ID 1");

	/*
	 * Ping-pong: each side halts until the other's IPI wakes it. A one-shot
	 * timer of 100 ms is the watchdog: a lost IPI ends the wait.
	 */
	apic_write(APIC_LVT_TIMER, VEC_WATCHDOG);
	for (unsigned i = 0; i < PINGS; i++) {
		apic_write(APIC_TIMER_ICR, 100000000);
		apic_ipi(1, VEC_PING);
		while (count[0][VEC_PONG] < i + 1u && count[0][VEC_WATCHDOG] == 0)
			wait_for_interrupt();
		if (count[0][VEC_WATCHDOG] != 0) {
			svc_printf(
			        "# ping %u lost: vCPU 1 took %u pings; vCPU 0 ISR %x IRR %x PPR %x\n",
			        i, count[1][VEC_PING], apic_read(APIC_ISR + 0x20),
			        apic_read(APIC_IRR + 0x20), apic_read(APIC_PPR));
			break;
		}
	}
	apic_write(APIC_TIMER_ICR, 0);
	tap_is(count[1][VEC_PING], PINGS, "vCPU 1 took every IPI from vCPU 0");
	tap_is(count[0][VEC_PONG], PINGS, "vCPU 0 took every IPI from vCPU 1");

	apic_write(APIC_ICR_LO, ICR_OTHERS | VEC_OTHERS);
	tap_ok(spin_until(&count[1][VEC_OTHERS], 1, 1000), "all-excluding-self reached vCPU 1");
	tap_is(count[0][VEC_OTHERS], 0, "all-excluding-self did not reach the sender");

	apic_write(APIC_ESR, 0);
	apic_ipi(5, VEC_OTHERS);
	apic_ipi(0x7f, VEC_OTHERS);
	spin_until(&count[1][VEC_OTHERS], 2, 10);
	tap_ok(count[0][VEC_OTHERS] == 0 && count[1][VEC_OTHERS] == 1,
	       "IPIs to APIC IDs 5 and 0x7f (absent) reached nobody");
	apic_write(APIC_ESR, 0);
	tap_is(apic_read(APIC_ESR), 0, "and set no error");

	/* Priorities: M(class 6) { H(class 8) } m, then L(class 5). */
	apic_write(APIC_ICR_LO, ICR_SELF | VEC_MID);
	spin_until(&order_count, 4, 1000);
	tap_ok(order_count == 4 && order[0] == 'M' && order[1] == 'H' && order[2] == 'm' &&
	               order[3] == 'L',
	       "class 8 preempts a class-6 handler, class 5 waits for its EOI (%s)",
	       (const char *)order);

	/* TPR masks classes at and below its own. */
	apic_write(APIC_TPR, 0x70);
	apic_write(APIC_ICR_LO, ICR_SELF | VEC_TPR);
	spin_until(&count[0][VEC_TPR], 1, 5);
	tap_ok(count[0][VEC_TPR] == 0 && apic_irr(VEC_TPR), "TPR 0x70 holds vector 0x65 in IRR");
	tap_is(apic_read(APIC_PPR), 0x70, "PPR follows TPR");
	apic_write(APIC_TPR, 0);
	tap_ok(spin_until(&count[0][VEC_TPR], 1, 1000), "TPR 0 lets it in");
	tap_ok(!apic_irr(VEC_TPR), "and IRR is clear");

	apic_ipi(1, ICR_NMI);
	tap_ok(spin_until(&count[1][2], 1, 1000), "an NMI reached halted vCPU 1");
	apic_ipi(0, ICR_NMI);
	for (volatile int i = 0; i < 1000 && count[0][2] == 0; i++)
		;
	tap_is(count[0][2], 1, "an NMI to itself arrived with IF = 0");

	ap_done = true;
	apic_ipi(1, VEC_WAKE);
	tap_done();
}
