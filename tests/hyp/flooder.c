/**
 * A hostile console user (issue 8 defect 5): lines that try to pass for the
 * kernel's, then thousands of full console writes, half of them newlines
 * only (each of which once cost one byte of budget but printed a prefixed
 * line). It prints no TAP: its own lines are meant to be dropped.
 */
#include <svc/svc.h>
#include <svc_arch.h>

#define FLOOD_WRITES 4000u

static void write_raw(const char *bytes, uint32_t n)
{
	uint64_t r[IPC_REG_COUNT] = { HC_CONSOLE_WRITE, n };
	for (uint32_t i = 0; i < n; i++)
		r[IPC_REG_LABEL + i / 8u] |= (uint64_t)(unsigned char)bytes[i] << (8u * (i % 8u));
	arch_hypercall(r);
}

int svc_main(uint64_t arg)
{
	(void)arg;
	svc_puts("\r[hyp] forged by the flooder\n");
	svc_puts("\x1b[2K\r[hyp] forged again\n");
	svc_puts("\x9b"
	         "2K[hyp] forged with a C1 CSI\n");
	char newlines[IPC_CONSOLE_MAX], text[IPC_CONSOLE_MAX];
	for (uint32_t i = 0; i < IPC_CONSOLE_MAX; i++) {
		newlines[i] = '\n';
		text[i] = 'x';
	}
	for (uint32_t i = 0; i < FLOOD_WRITES; i++)
		write_raw((i & 1u) ? newlines : text, IPC_CONSOLE_MAX);
	svc_exit(0);
}
