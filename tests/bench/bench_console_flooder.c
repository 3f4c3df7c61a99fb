/**
 * The console-flood benchmark's flooder: waits for "go" (slot 0), says it
 * floods (slot 1), then makes full 56-byte HC_CONSOLE_WRITEs, a
 * newline-terminated line each, polling "stop" (slot 2) every 8 writes.
 */
#include "bench.h"

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t bits = 0;
	svc_wait(0, &bits);
	svc_signal(1);
	for (bits = 0; bits == 0;) {
		for (unsigned n = 0; n < 8; n++) {
			uint64_t r[IPC_REG_COUNT] = { HC_CONSOLE_WRITE, IPC_CONSOLE_MAX };
			for (unsigned i = 0; i < IPC_CONSOLE_MAX / 8u; i++)
				r[IPC_REG_LABEL + i] = 0x7878787878787878u; /* "xxxxxxxx" */
			/* The last byte is '\n'. */
			r[IPC_REG_LABEL + IPC_CONSOLE_MAX / 8u - 1u] = 0x0a78787878787878u;
			arch_hypercall(r);
		}
		svc_poll(2, &bits);
	}
	return 0;
}
