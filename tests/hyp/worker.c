/** Does its work while another partition faults in a loop, then signals slot 0. */
#include <svc/svc.h>

int svc_main(uint64_t arg)
{
	(void)arg;
	tap_plan(1);
	volatile uint64_t sum = 0;
	for (uint64_t i = 0; i < 100000; i++)
		sum += i;
	tap_is(sum, UINT64_C(4999950000), "computed through while the faulter looped");
	svc_signal(0);
	tap_done();
}
