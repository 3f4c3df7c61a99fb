/**
 * Does its work while another partition faults in a loop, then signals
 * slot 0. It yields between chunks, so the faulting pair is certain to get
 * the CPU in between: the test shows the worker still finishes.
 */
#include <svc/svc.h>

int svc_main(uint64_t arg)
{
	(void)arg;
	tap_plan(1);
	volatile uint64_t sum = 0;
	for (uint64_t chunk = 0; chunk < 20; chunk++) {
		for (uint64_t i = 0; i < 5000; i++)
			sum += chunk * 5000 + i;
		svc_yield();
	}
	tap_is(sum, UINT64_C(4999950000), "computed through while the faulter looped");
	svc_signal(0);
	tap_done();
}
