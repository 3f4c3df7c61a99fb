/**
 * A client of a shared server: learns its own badge from its capability
 * (slot 0) and checks the server reports the same one, several times, while
 * another client with another badge calls the same server.
 */
#include <svc/svc.h>

int svc_main(uint64_t arg)
{
	(void)arg;
	uint32_t type = 0, rights = 0;
	uint64_t badge = 0;
	tap_plan(3);
	tap_is(svc_cap_info(0, &type, &rights, &badge), STATUS_OK, "cap info on slot 0");
	tap_ok(type == CAP_ENDPOINT && rights == RIGHT_EP_SEND && badge != 0,
	       "slot 0 is a badged send-only endpoint capability");
	unsigned good = 0;
	for (unsigned i = 0; i < 50; i++) {
		struct msg m = { .label = i };
		if (svc_call(0, &m) == STATUS_OK && m.w[IPC_MSG_WORDS - 1] == badge)
			good++;
		svc_yield();
	}
	tap_ok(good == 50, "the server saw badge 0x%lx on all 50 calls", (unsigned long)badge);
	tap_done();
}
