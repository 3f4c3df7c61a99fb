/**
 * The console-flood benchmark's flooder: waits for "go" (slot 0), makes full
 * 56-byte HC_CONSOLE_WRITEs, a newline-terminated line each, and says it
 * floods (slot 1) only after FLOOD_BEFORE_ACK of them: twice its console
 * budget for the window (CONSOLE_PARTITION_BYTES_PER_S shared by the three
 * partitions), so the kernel is dropping its lines, not printing them, when
 * the client measures, whatever the UART's speed. Then it goes on, polling
 * "stop" (slot 2) every 8 writes.
 */
#include "bench.h"

#define FLOOD_BEFORE_ACK 128u

static void flood_line(void)
{
	uint64_t r[IPC_REG_COUNT] = { HC_CONSOLE_WRITE, IPC_CONSOLE_MAX };
	for (unsigned i = 0; i < IPC_CONSOLE_MAX / 8u; i++)
		r[IPC_REG_LABEL + i] = 0x7878787878787878u; /* "xxxxxxxx" */
	/* The last byte is '\n'. */
	r[IPC_REG_LABEL + IPC_CONSOLE_MAX / 8u - 1u] = 0x0a78787878787878u;
	arch_hypercall(r);
}

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t bits = 0;
	svc_wait(0, &bits);
	for (unsigned n = 0; n < FLOOD_BEFORE_ACK; n++)
		flood_line();
	svc_signal(1);
	for (bits = 0; bits == 0;) {
		for (unsigned n = 0; n < 8; n++)
			flood_line();
		svc_poll(2, &bits);
	}
	return 0;
}
