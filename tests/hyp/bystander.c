/** Keeps working, and finishes, while attackers beside it are stopped. */
#include <svc/svc.h>

int svc_main(uint64_t arg)
{
	(void)arg;
	tap_plan(2);
	uint64_t sum = 0;
	for (unsigned i = 0; i < 20; i++) {
		svc_yield();
		sum += i;
	}
	tap_is(sum, 190, "worked through 20 time slices beside the attackers");
	tap_is(svc_null(), STATUS_OK, "the kernel still answers");
	tap_done();
}
