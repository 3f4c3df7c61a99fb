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
#define UART_LSR_THRE 0x20u

/**
 * 115200 8N1, FIFOs on, no interrupts: the console is written with the
 * kernel lock held and polled, so no interrupt path can reorder its output.
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

/** Waits for THR empty; kernel/console.c already emits CR before LF. */
void plat_console_putc(char c)
{
	while (!(inb(X86_COM1 + UART_LSR) & UART_LSR_THRE))
		;
	outb(X86_COM1 + UART_THR, (u8)c);
}
