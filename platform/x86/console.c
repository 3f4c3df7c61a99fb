/**
 * The kernel console: the 16550 UART at I/O port 0x3F8 (COM1), polled.
 * Register layout from the National Semiconductor PC16550D data sheet:
 * THR/RBR at +0, IER +1, FCR +2, LCR +3, MCR +4, LSR +5 (bit 5 = THR empty).
 */
#include <plat/console.h>

#include <x86/x86.h>

#define UART_THR 0u
#define UART_IER 1u
#define UART_DLL 0u
#define UART_DLM 1u
#define UART_FCR 2u
#define UART_LCR 3u
#define UART_MCR 4u
#define UART_LSR 5u
#define UART_LSR_DR 0x01u /**< a received byte waits in RBR */
#define UART_LSR_THRE 0x20u
#define UART_FIFO_BYTES 16u /**< 16550 transmit FIFO depth */

/**
 * 115200 8N1, FIFOs on, no interrupts: kernel/console.c drains its buffer
 * by polling LSR, so no interrupt path can reorder its output.
 */
void x86_console_init(void)
{
	outb(X86_COM1 + UART_IER, 0);
	outb(X86_COM1 + UART_LCR, 0x80); /* DLAB */
	outb(X86_COM1 + UART_DLL, 1);    /* 115200 baud */
	outb(X86_COM1 + UART_DLM, 0);
	outb(X86_COM1 + UART_LCR, 0x03); /* 8N1 */
	outb(X86_COM1 + UART_FCR, 0x07);
	outb(X86_COM1 + UART_MCR, 0x03);
}

/** Waits for THR empty (panic reports only; see plat/console.h). */
void plat_console_putc(char c)
{
	while (!(inb(X86_COM1 + UART_LSR) & UART_LSR_THRE))
		;
	outb(X86_COM1 + UART_THR, (u8)c);
}

/** Bytes the transmit FIFO still takes since LSR.THRE was last seen set. */
static u32 tx_room;

/**
 * LSR.THRE set means the transmit FIFO (16 bytes, FIFOs enabled in
 * x86_console_init) is empty, so that many bytes can be written before
 * LSR is read again. Called under the console lock (or at a panic).
 */
bool plat_console_try_putc(char c)
{
	if (tx_room == 0) {
		if (!(inb(X86_COM1 + UART_LSR) & UART_LSR_THRE))
			return false;
		tx_room = UART_FIFO_BYTES;
	}
	tx_room--;
	outb(X86_COM1 + UART_THR, (u8)c);
	return true;
}

/**
 * LSR.DR set: a received byte waits in RBR (console input, kernel/console.c:
 * polled from the idle path and the slice timer). Line-status errors are
 * ignored: such a byte is passed on as received.
 */
bool plat_console_try_getc(char *c)
{
	if (!(inb(X86_COM1 + UART_LSR) & UART_LSR_DR))
		return false;
	*c = (char)inb(X86_COM1 + UART_THR);
	return true;
}
