/**
 * x86-vapic-handoff: a VM arms its APIC timer, then hands its CPU to a
 * service through an IPC call (the kernel switches to the server directly,
 * without the scheduler). When the VM's deadline fires while the server
 * runs, the core's slice deadline must go back on the physical timer: the
 * server spins until a third partition on the same CPU, which only the
 * slice timer can let run, raises a flag. Built three ways:
 *   ROLE_CLIENT (type vm):  TSC deadline 100 us ahead, call, check the reply;
 *   ROLE_SERVER (service):  receive, raise "started", spin until "done", reply;
 *   ROLE_SETTER (service):  spin until "started", raise "done".
 */
#include "guest.h"

#define SHARED 0x200000u
#define STARTED ((volatile uint32_t *)(uintptr_t)SHARED)
#define DONE ((volatile uint32_t *)(uintptr_t)(SHARED + 4))

static volatile unsigned fired;

void guest_interrupt(uint8_t vector)
{
	(void)vector;
	fired++;
	apic_write(APIC_EOI, 0);
}

int svc_main(uint64_t arg)
{
	(void)arg;
#if defined(ROLE_CLIENT)
	struct msg m = { .label = 7 };
	tap_plan(3);
	guest_setup();
	apic_write(APIC_LVT_TIMER, LVT_TSC_DEADLINE | 0x40u);
	wrmsr(MSR_TSC_DEADLINE, rdtsc() + guest_tsc_per_ms() / 10u);
	tap_is(svc_call(0, &m), STATUS_OK, "the call returned");
	tap_is(m.w[0], 0x600d, "with the server's reply");
	while (fired == 0)
		wait_for_interrupt();
	tap_is(fired, 1, "and the timer interrupt came after it");
	tap_done();
#elif defined(ROLE_SERVER)
	struct msg m;
	if (svc_recv(0, &m) != STATUS_OK)
		return 1;
	*STARTED = 1;
	while (*DONE == 0)
		;
	m.w[0] = 0x600d;
	svc_reply(&m);
#elif defined(ROLE_SETTER)
	while (*STARTED == 0)
		;
	*DONE = 1;
#endif
	return 0;
}
