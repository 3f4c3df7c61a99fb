/**
 * Fault handler for the faulter (endpoint slot 0, receive): answers each
 * fault with "resume" until the worker signals it finished (notification
 * slot 1), then answers "stop".
 */
#include <svc/svc.h>

int svc_main(uint64_t arg)
{
	(void)arg;
	struct msg m = { 0 };
	uint64_t faults = 0, wrong = 0, done = 0;
	tap_plan(3);
	enum status s = svc_recv(0, &m);
	while (s == STATUS_OK) {
		faults++;
		if (m.label != IPC_LABEL_FAULT_MEM || m.w[0] != 0x7000000 ||
		    m.w[1] != IPC_ACCESS_READ || m.badge != 0xfa)
			wrong++;
		svc_poll(1, &done);
		m = (struct msg){ .w = { done != 0 ? IPC_FAULT_STOP : IPC_FAULT_RESUME } };
		if (done != 0)
			break;
		s = svc_reply_recv(0, &m);
	}
	svc_reply(&m);
	tap_ok(faults > 1, "the faulter faulted again and again (%lu faults)",
	       (unsigned long)faults);
	tap_is(wrong, 0, "every fault message had the kernel label, address, access and badge");
	tap_ok(done != 0, "the worker finished while the faulter looped");
	tap_done();
}
