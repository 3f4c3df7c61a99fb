/*
 * A stand-in SBSA UART for the linux test, output only, until the vuart
 * service takes its place: it answers each trapped access of the guest's
 * UART range (IPC_LABEL_MMIO on endpoint slot 0). Writes to UARTDR (0x000)
 * go to the console with HC_CONSOLE_WRITE, a line at a time; UARTFR
 * (0x018) reads TXFE | RXFE (nothing to receive, room to send); every other
 * register reads 0 and ignores writes; 64-bit accesses are refused, as the
 * SBSA UART's registers are 32 bits wide (ARM DEN0094, B.2).
 */
#include <ipc/abi.h>
#include <stddef.h>
#include <stdint.h>
#include <svc_arch.h>

#define STUB_EP_SLOT 0
#define UART_DR 0x000u
#define UART_FR 0x018u
#define UART_FR_TXFE 0x80u
#define UART_FR_RXFE 0x10u
#define LINE_MAX 120u

int svc_main(uint64_t arg);
_Noreturn void svc_exit(uint64_t code);
void *memset(void *dst, int c, size_t n);

/* crt0 calls svc_exit when svc_main returns (it never does here). */
_Noreturn void svc_exit(uint64_t code)
{
	uint64_t r[9] = { HC_EXIT, code, 0, 0, 0, 0, 0, 0, 0 };
	arch_hypercall(r);
	for (;;)
		;
}

/* The compiler zeroes the hypercall frames with memset. */
void *memset(void *dst, int c, size_t n)
{
	volatile uint8_t *d = dst;
	while (n-- > 0)
		*d++ = (uint8_t)c;
	return dst;
}

static char line[LINE_MAX];
static uint32_t line_len;

/** Send the buffered bytes to the console, in HC_CONSOLE_WRITE's chunks. */
static void flush(void)
{
	uint32_t done = 0;
	while (done < line_len) {
		uint64_t r[9] = { HC_CONSOLE_WRITE, 0, 0, 0, 0, 0, 0, 0, 0 };
		uint32_t k = 0;
		while (k < IPC_CONSOLE_MAX && done + k < line_len) {
			r[2 + k / 8] |= (uint64_t)(uint8_t)line[done + k] << (8 * (k % 8));
			k++;
		}
		r[1] = k;
		arch_hypercall(r);
		done += k;
	}
	line_len = 0;
}

static void put(char c)
{
	if (c == '\r')
		return;
	line[line_len++] = c;
	if (c == '\n' || line_len == LINE_MAX)
		flush();
}

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t r[9] = { HC_RECV, STUB_EP_SLOT, 0, 0, 0, 0, 0, 0, 0 };
	arch_hypercall(r);
	for (;;) {
		uint64_t status = IPC_MMIO_DONE, value = 0;
		if (r[0] != STATUS_OK || r[2] != IPC_LABEL_MMIO) {
			status = IPC_MMIO_ABORT;
		} else {
			uint64_t size = r[4] & IPC_MMIO_SIZE_MASK, write = r[4] & IPC_MMIO_WRITE;
			uint64_t off = r[7];
			if (size == 8)
				status = IPC_MMIO_ABORT;
			else if (off == UART_DR && write)
				put((char)r[5]);
			else if (off == UART_FR && !write)
				value = UART_FR_TXFE | UART_FR_RXFE;
		}
		r[0] = HC_REPLY_RECV;
		r[1] = STUB_EP_SLOT;
		r[2] = 0;
		r[3] = status;
		r[4] = value;
		arch_hypercall(r);
	}
}
