/** Waits on a notification (slot 0, wait only) and checks the bits signallers set. */
#include <svc/svc.h>

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t first = 0, second = 0, rest = 0;
	tap_plan(5);
	tap_is(svc_wait(0, &first), STATUS_OK, "wait returns when signalled");
	tap_ok(first != 0, "woken with bits 0x%lx", (unsigned long)first);
	if (first != 0x3)
		svc_wait(0, &second);
	tap_is(first | second, 0x3, "both signallers' badges arrived (0x1 | 0x2)");
	tap_ok(svc_poll(0, &rest) == STATUS_OK && rest == 0,
	       "poll afterwards finds the word clear");
	tap_is(svc_signal(0), STATUS_NO_RIGHTS,
	       "signalling through a wait-only capability is refused");
	tap_done();
}
