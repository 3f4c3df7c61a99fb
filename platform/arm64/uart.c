/**
 * The kernel console: a PL011 UART (ARM DDI 0183, PrimeCell UART). QEMU's
 * PL011 needs no clock or baud setup; the kernel only waits for room in the
 * transmit FIFO and writes the data register, and empties the receive FIFO when its interrupt
 * fires (and from the idle path). The base comes from the
 * firmware DTB; until it is known, QEMU virt's 0x09000000 is used so that
 * very early messages still appear.
 */
#include <arm64/cpu.h>
#include <plat/console.h>

#define PL011_DR 0x000u
#define PL011_FR 0x018u
#define PL011_FR_RXFE (1u << 4) /**< receive FIFO empty */
#define PL011_FR_TXFF (1u << 5) /**< transmit FIFO full */
#define PL011_IFLS 0x034u
#define PL011_IMSC 0x038u
#define PL011_IMSC_RXIM (1u << 4) /**< receive interrupt: the FIFO reached its level */
#define PL011_IMSC_RTIM (1u << 6) /**< receive timeout: bytes wait below that level */

static volatile u8 *uart_base = (volatile u8 *)0x09000000;

/** Use the UART the firmware DTB names. */
void arm64_uart_init(u64 base)
{
	if (base != 0)
		uart_base = (volatile u8 *)(uintptr_t)base;
}

/**
 * Interrupt on received bytes: at 1/8 of the FIFO (IFLS RXIFLSEL = 0) or
 * when fewer wait for a while (the receive timeout), so typed keys arrive
 * at once even while every CPU is busy. Reading DR until the FIFO is empty
 * (console_input_poll) clears both.
 */
void arm64_uart_rx_irq_enable(void)
{
	volatile u32 *ifls = (volatile u32 *)(uart_base + PL011_IFLS);
	volatile u32 *imsc = (volatile u32 *)(uart_base + PL011_IMSC);
	*ifls = *ifls & ~UINT32_C(0x38);
	*imsc = *imsc | PL011_IMSC_RXIM | PL011_IMSC_RTIM;
}

void plat_console_putc(char c)
{
	const volatile u32 *fr = (const volatile u32 *)(uart_base + PL011_FR);
	volatile u32 *dr = (volatile u32 *)(uart_base + PL011_DR);

	if (c == '\n') {
		while (*fr & PL011_FR_TXFF)
			;
		*dr = '\r';
	}
	while (*fr & PL011_FR_TXFF)
		;
	*dr = (u8)c;
}

/** FR.TXFF clear: the transmit FIFO (or the holding register) has room. */
bool plat_console_try_putc(char c)
{
	const volatile u32 *fr = (const volatile u32 *)(uart_base + PL011_FR);
	volatile u32 *dr = (volatile u32 *)(uart_base + PL011_DR);

	if (*fr & PL011_FR_TXFF)
		return false;
	*dr = (u8)c;
	return true;
}

/**
 * FR.RXFE clear: a received byte waits in DR. The error bits (11:8) are
 * dropped: a byte with a framing or parity error is passed on as received.
 * Called by kernel/console.c from the UART's receive interrupt (exit.c) and the idle path.
 */
bool plat_console_try_getc(char *c)
{
	const volatile u32 *fr = (const volatile u32 *)(uart_base + PL011_FR);
	const volatile u32 *dr = (const volatile u32 *)(uart_base + PL011_DR);

	if (*fr & PL011_FR_RXFE)
		return false;
	*c = (char)(*dr & 0xffu);
	return true;
}
