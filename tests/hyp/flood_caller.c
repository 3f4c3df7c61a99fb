/**
 * A console flood on another CPU must not keep this CPU out of the kernel:
 * while the flooder (tests/bench/bench_console_flooder.c) on CPU 1 writes
 * the console in a loop, CALLS round trips to the echo server on this CPU
 * all complete. Under -icount on x86 they never did while HC_CONSOLE_WRITE
 * took the kernel lock: QEMU ran this CPU only while the flooder held the
 * lock, which it took straight back, and the first call spun on it for good.
 *
 * Slots: 0 the server's endpoint (send), 1 "go" and 3 "stop" (signal), 2
 * the flooder's acknowledgement that it floods (wait).
 */
#include <svc/svc.h>

#define CALLS 500u

int svc_main(uint64_t arg)
{
	(void)arg;
	tap_plan(3);
	uint64_t bits = 0;
	tap_is(svc_signal(1), STATUS_OK, "the flooder is told to start");
	svc_wait(2, &bits);
	tap_is(bits, 1, "it floods the console (its acknowledgement)");
	unsigned good = 0;
	for (unsigned r = 0; r < CALLS; r++) {
		struct msg q = { .label = r, .w = { r, r * 2, 0, 0, 0, 0 } };
		if (svc_call(0, &q) == STATUS_OK && q.label == r + 1 && q.w[0] == r + 100 &&
		    q.w[1] == r * 2 + 100)
			good++;
	}
	tap_is(good, CALLS, "500 round trips while it floods, all correct");
	svc_signal(3);
	tap_done();
}
