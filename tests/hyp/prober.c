/**
 * Sends to an endpoint (slot 0) after the partitions that received on it
 * have stopped: nobody may be waiting there any more, so the non-blocking
 * send must find no receiver.
 */
#include <svc/svc.h>

int svc_main(uint64_t arg)
{
	(void)arg;
	tap_plan(1);
	for (int i = 0; i < 32; i++)
		svc_yield();
	struct msg m = { .label = 0x77 };
	tap_is(svc_send(0, &m), STATUS_WOULD_BLOCK,
	       "no vCPU of a stopped partition waits on the endpoint");
	tap_done();
}
