/**
 * Capability denial from inside a partition: every refused call returns its
 * status and changes nothing. Slots: 0 = endpoint send (badge 1),
 * 1 = endpoint recv only, 2 = notification signal; the rest are empty.
 */
#include <svc/svc.h>

static uint64_t raw(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3)
{
	uint64_t r[IPC_REG_COUNT] = { nr, a1, a2, a3 };
	svc_hypercall(r);
	return r[0];
}

int svc_main(uint64_t arg)
{
	(void)arg;
	struct msg m = { 0 };
	tap_plan(12);
	tap_is(svc_call(5, &m), STATUS_INVALID_CAP, "call through an empty slot");
	tap_is(svc_call(1000, &m), STATUS_INVALID_CAP,
	       "call through a slot index out of range (forged index)");
	tap_is(raw(HC_CALL, UINT64_C(1) << 32, 0, 0), STATUS_INVALID_CAP,
	       "slot index that truncates to 0");
	tap_is(svc_call(1, &m), STATUS_NO_RIGHTS, "call through a receive-only capability");
	tap_is(svc_call(2, &m), STATUS_WRONG_TYPE, "call through a notification capability");
	m.label = IPC_LABEL_FAULT_MEM;
	tap_is(svc_send(0, &m), STATUS_INVALID_ARG, "a partition cannot send a kernel label");
	tap_is(svc_cap_derive(1, 6, RIGHT_EP_RECV | RIGHT_EP_SEND, 0), STATUS_NO_RIGHTS,
	       "derive cannot widen rights");
	tap_is(svc_cap_derive(0, 6, RIGHT_EP_SEND, 0x99), STATUS_INVALID_ARG,
	       "derive cannot re-badge (forged badge)");
	tap_is(svc_cap_restrict(0, 0), STATUS_OK, "restrict slot 0 to no rights");
	tap_is(svc_send(0, &m), STATUS_NO_RIGHTS, "the restricted capability is refused");
	tap_is(raw(HC_NUMBER_LIMIT + 5, 0, 0, 0), STATUS_INVALID_CALL, "unknown hypercall number");
	tap_is(raw(HC_CONSOLE_WRITE, 1000, 0, 0), STATUS_INVALID_ARG,
	       "console write longer than the registers");
	tap_done();
}
