/**
 * Two partitions, alpha and beta, each with two vCPUs, handle each other's
 * faults (issue 8, defect 2). vCPU 1 faults (beta's only once beta holds
 * alpha's fault: notification slots 2 and 3); vCPU 0 receives the other
 * partition's faults on endpoint slot 0. Which fault a handler got tells
 * it its role, by the badge:
 *  - 0xa (beta's vCPU 0 holding alpha's fault): keep it, wait for ever;
 *  - 0xb (alpha's vCPU 0 holding beta's fault): give it up by receiving
 *    again. That stops beta ("no answer"), whose held fault is released in
 *    turn and stops alpha, the partition of the vCPU that is receiving.
 * That vCPU must stay stopped: if the kernel queued it on the endpoint
 * anyway, the prober's send would run it here again.
 */
#include <svc/svc.h>

int svc_main(uint64_t arg)
{
	struct msg m = { 0 };

	if (arg == 1) {
		/* Beta's faulter waits (slot 2) until beta holds alpha's fault; alpha has no slot 2. */
		uint64_t go;
		if (svc_wait(2, &go) == STATUS_INVALID_CAP) {
			for (int i = 0; i < 6; i++)
				svc_yield();
		}
		(void)*(volatile uint64_t *)(uintptr_t)0x7000000;
		svc_puts("faulter ran on\n");
		return 1;
	}
	if (svc_recv(0, &m) != STATUS_OK || m.label != IPC_LABEL_FAULT_MEM)
		return 1;
	if (m.badge == 0xa) {
		uint64_t bits;
		svc_puts("holding alpha's fault\n");
		svc_signal(3); /* now beta's faulter may fault */
		svc_wait(1, &bits);
		return 1;
	}
	svc_puts("giving up beta's fault\n");
	enum status s = svc_recv(0, &m);
	svc_printf("handler ran again after its partition stopped (status %d)\n", s);
	return 1;
}
