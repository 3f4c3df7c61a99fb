/**
 * libFuzzer target for the SBSA generic UART model (services/vuart/sbsa_uart.c): the input
 * picks ring sizes and a trigger, then drives a random sequence of guest accesses (any offset,
 * any width, any value, reads and writes), console input and output drains. Checked after
 * every step (abort on failure):
 *  - sbsa_uart_state_valid() holds; the ring counts stay within their sizes;
 *  - the status is VUART_BAD_ACCESS exactly when the width/alignment rules say (DR: 1, 2 or 4
 *    bytes at offset 0; everything else: 4 bytes, aligned, below 0x1000), and a refused
 *    access changes nothing;
 *  - a read returns no more bits than its width;
 *  - MIS reads RIS & IMSC; RIS holds only RXI/TXI/RTI, each only while its condition holds;
 *  - FR agrees with the ring levels (RXFE, RXFF, TXFE, TXFF, BUSY);
 *  - the caller is told to raise exactly when a new MIS bit appears and to lower exactly when
 *    MIS becomes 0 with the line up, so the line it drives is always MIS != 0;
 *  - DR reads return the input bytes in order, the output drained is what DR writes that fit
 *    put in, in order, and put_input takes exactly what fits.
 * ASan and UBSan catch out-of-bounds accesses and undefined behaviour.
 */
#include <stdlib.h>
#include <string.h>

#include "sbsa_uart.h"

struct input {
	const unsigned char *data;
	size_t size;
};

static uint64_t take(struct input *in, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++) {
		v <<= 8;
		if (in->size != 0) {
			v |= *in->data++;
			in->size--;
		}
	}
	return v;
}

static struct sbsa_uart uart, before;
static int line; /* the level the caller drives, from the raise/lower it was told */

/** Byte queues that mirror the rings: what DR reads and the drain must produce. */
static uint8_t shadow_in[SBSA_UART_RING_MAX], shadow_out[SBSA_UART_RING_MAX];
static size_t shadow_in_count, shadow_out_count;

static void check(bool ok)
{
	if (!ok)
		abort();
}

static bool access_ok(uint64_t offset, uint32_t size)
{
	if (offset >= 0x1000)
		return false;
	if (offset == 0)
		return size == 1 || size == 2 || size == 4;
	return size == 4 && (offset & 3) == 0;
}

static uint32_t expect_fr(void)
{
	uint32_t fr = 0;
	fr |= uart.in_count == 0 ? SBSA_UART_FR_RXFE : 0;
	fr |= uart.in_count == uart.in_size ? SBSA_UART_FR_RXFF : 0;
	fr |= uart.out_count == 0 ? SBSA_UART_FR_TXFE : 0;
	fr |= uart.out_count == uart.out_size ? SBSA_UART_FR_TXFF : 0;
	fr |= uart.out_count != 0 ? SBSA_UART_FR_BUSY : 0; /* so TXFF comes with BUSY */
	return fr;
}

/** Reads a register the way the guest would, checking that the read has no side effect. */
static uint32_t peek(uint32_t offset)
{
	struct vuart_reply r;
	memcpy(&before, &uart, sizeof(uart));
	check(sbsa_uart_access(&uart, offset, 4, false, 0, &r) == VUART_OK);
	check(r.irq == VUART_IRQ_KEEP && memcmp(&before, &uart, sizeof(uart)) == 0);
	return r.value;
}

/** The line rule, given MIS before and after a step and what the caller was told. */
static void follow_line(uint32_t old_mis, enum vuart_irq irq)
{
	uint32_t mis = sbsa_uart_mis(&uart);
	bool new_bit = (mis & ~old_mis) != 0;
	check((irq == VUART_IRQ_RAISE) == new_bit);
	check((irq == VUART_IRQ_LOWER) == (!new_bit && mis == 0 && line == 1));
	if (irq == VUART_IRQ_RAISE)
		line = 1;
	else if (irq == VUART_IRQ_LOWER)
		line = 0;
	check(line == (mis != 0));
}

static void check_state(void)
{
	check(sbsa_uart_state_valid(&uart));
	check(uart.in_count <= uart.in_size && uart.out_count <= uart.out_size);
	check(uart.in_count == shadow_in_count && uart.out_count == shadow_out_count);
	uint32_t ris = peek(SBSA_UART_RIS), imsc = peek(SBSA_UART_IMSC);
	check(peek(SBSA_UART_MIS) == (ris & imsc));
	check((ris & ~SBSA_UART_INT_MASK) == 0);
	if (ris & SBSA_UART_INT_RT)
		check(uart.in_count > 0);
	if (ris & SBSA_UART_INT_RX)
		check(uart.in_count >= uart.in_size - uart.trigger);
	if (ris & SBSA_UART_INT_TX)
		check(uart.out_size - uart.out_count >= uart.trigger);
	check(peek(SBSA_UART_FR) == expect_fr());
}

static const uint32_t regs[] = { 0x000, 0x004, 0x018, 0x038, 0x03c, 0x040, 0x044, 0xfe0, 0xffc };
static const uint32_t sizes[8] = { 4, 4, 1, 2, 8, 3, 0, 16 };

static void step_access(struct input *in)
{
	uint64_t offset;
	uint32_t pick = (uint32_t)take(in, 1);
	if (pick < 0xa0)
		offset = regs[pick % (sizeof(regs) / sizeof(regs[0]))];
	else if (pick < 0xf0)
		offset = take(in, 2);
	else
		offset = take(in, 8);
	uint32_t size = sizes[take(in, 1) % 8];
	bool write = take(in, 1) & 1;
	uint64_t value = take(in, 4);
	if (pick & 1) /* bias towards the interrupt bits */
		value &= SBSA_UART_INT_MASK;

	uint32_t old_mis = sbsa_uart_mis(&uart);
	bool fits = uart.out_count < uart.out_size;
	memcpy(&before, &uart, sizeof(uart));
	struct vuart_reply r;
	enum vuart_status st = sbsa_uart_access(&uart, offset, size, write, value, &r);
	check((st == VUART_OK) == access_ok(offset, size));
	if (st != VUART_OK) {
		check(memcmp(&before, &uart, sizeof(uart)) == 0 && r.irq == VUART_IRQ_KEEP);
		return;
	}
	if (!write && size < 4)
		check((r.value >> (size * 8)) == 0);
	if (offset == SBSA_UART_DR && write && fits)
		shadow_out[shadow_out_count++] = (uint8_t)value;
	if (offset == SBSA_UART_DR && !write) {
		if (shadow_in_count == 0) {
			check(r.value == 0);
		} else {
			check(r.value == shadow_in[0]);
			memmove(shadow_in, shadow_in + 1, --shadow_in_count);
		}
	}
	follow_line(old_mis, r.irq);
}

static void step_input(struct input *in)
{
	uint8_t bytes[64];
	size_t n = (size_t)take(in, 1) % sizeof(bytes);
	for (size_t i = 0; i < n; i++)
		bytes[i] = (uint8_t)take(in, 1);
	size_t room = uart.in_size - uart.in_count;
	uint32_t old_mis = sbsa_uart_mis(&uart);
	enum vuart_irq irq;
	size_t got = sbsa_uart_put_input(&uart, bytes, n, &irq);
	check(got == (n < room ? n : room));
	memcpy(shadow_in + shadow_in_count, bytes, got);
	shadow_in_count += got;
	follow_line(old_mis, irq);
}

static void step_output(struct input *in)
{
	static uint8_t buf[SBSA_UART_RING_MAX];
	size_t cap = (size_t)take(in, 2) % (SBSA_UART_RING_MAX + 1);
	uint32_t old_mis = sbsa_uart_mis(&uart);
	enum vuart_irq irq;
	size_t got = sbsa_uart_take_output(&uart, buf, cap, &irq);
	check(got == (cap < shadow_out_count ? cap : shadow_out_count));
	check(memcmp(buf, shadow_out, got) == 0);
	memmove(shadow_out, shadow_out + got, shadow_out_count - got);
	shadow_out_count -= got;
	follow_line(old_mis, irq);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct sbsa_uart_config cfg;
	if (take(&in, 1) & 1) {
		cfg = sbsa_uart_config_default();
	} else {
		/* Small rings reach full and the trigger edges in a few steps. */
		cfg.in_size = 2 + (uint32_t)take(&in, 1) % 64;
		cfg.out_size = 2 + (uint32_t)take(&in, 1) % 64;
		cfg.trigger = (uint32_t)take(&in, 1) % 66;
	}
	bool valid = cfg.in_size >= 2 && cfg.out_size >= 2 && cfg.trigger >= 1 &&
	             cfg.trigger < cfg.in_size && cfg.trigger < cfg.out_size;
	check(sbsa_uart_init(&uart, &cfg) == valid);
	if (!valid)
		return 0;
	line = 0;
	shadow_in_count = shadow_out_count = 0;
	check_state();
	while (in.size != 0) {
		uint32_t op = (uint32_t)take(&in, 1) % 8;
		if (op < 5)
			step_access(&in);
		else if (op < 7)
			step_input(&in);
		else
			step_output(&in);
		check_state();
	}
	return 0;
}
