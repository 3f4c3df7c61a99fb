/** Signals a notification through its badged capability in slot 0. */
#include <svc/svc.h>

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t bits = 0;
	tap_plan(2);
	tap_is(svc_signal(0), STATUS_OK, "signal");
	tap_is(svc_wait(0, &bits), STATUS_NO_RIGHTS,
	       "waiting through a signal-only capability is refused");
	tap_done();
}
