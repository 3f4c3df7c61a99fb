/**
 * libFuzzer target for the 16550A model (services/vuart/ns16550.c): a random sequence of port
 * accesses (any offset, any width, any value, with DLAB, FIFO, loopback and IER changes among
 * them), console input and output drains. Checked after every step (abort on failure):
 *  - ns16550_state_valid() holds; the FIFO counts stay within 16 (1 without FIFOs);
 *  - the status is VUART_BAD_ACCESS exactly for an offset past 7 or a width other than one
 *    byte, and a refused access changes nothing; a read returns at most 8 bits;
 *  - LSR agrees with the FIFO levels (DR, THRE, TEMT); IIR's bits 7:6 follow FCR bit 0;
 *  - IIR names the highest-priority enabled source pending, worked out here from the
 *    datasheet's table independently of the model;
 *  - the line the caller drives, following the raise/lower it is told, is always
 *    ns16550_irq_level(): INTR gated by OUT2 outside loopback; it is told only of changes;
 *  - put_input takes exactly what fits (nothing in loopback); the output drained is a
 *    subsequence, in order, of the bytes the guest wrote to THR.
 * ASan and UBSan catch out-of-bounds accesses and undefined behaviour.
 */
#include <stdlib.h>
#include <string.h>

#include "ns16550.h"

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

static struct ns16550 uart, before;
static int line;
/** Every byte written to THR (DLAB 0), and how far the drained output has matched it. */
static uint8_t written[1u << 16];
static size_t written_count, matched;

static void check(bool ok)
{
	if (!ok)
		abort();
}

static unsigned capacity(void)
{
	return (uart.fcr & NS16550_FCR_ENABLE) ? 16u : 1u;
}

/** The interrupt identification from the datasheet's table, written out on its own. */
static uint8_t expect_iir_id(void)
{
	static const unsigned trigger[4] = { 1, 4, 8, 14 };
	bool fifo = (uart.fcr & NS16550_FCR_ENABLE) != 0;
	bool line_status = (uart.ier & 4) && uart.lsr_oe;
	bool data = (uart.ier & 1) && uart.rx_count >= (fifo ? trigger[uart.fcr >> 6] : 1u);
	bool timeout = (uart.ier & 1) && fifo && uart.rx_count > 0 && !data;
	bool thr = (uart.ier & 2) && uart.thre;
	bool modem = (uart.ier & 8) && (uart.msr_delta & 0x0f);
	if (line_status)
		return 0x06;
	if (data)
		return 0x04;
	if (timeout)
		return 0x0c;
	if (thr)
		return 0x02;
	if (modem)
		return 0x00;
	return 0x01;
}

/** Applies what the caller was told and checks it against the model's level. */
static void follow_line(enum vuart_irq irq)
{
	int old = line;
	if (irq == VUART_IRQ_RAISE)
		line = 1;
	else if (irq == VUART_IRQ_LOWER)
		line = 0;
	check(irq == VUART_IRQ_KEEP || line != old); /* told only of changes */
	check(line == (ns16550_irq_level(&uart) ? 1 : 0));
}

static void check_state(void)
{
	check(ns16550_state_valid(&uart));
	check(uart.rx_count <= capacity() && uart.tx_count <= capacity());
	uint8_t lsr = ns16550_lsr(&uart);
	check(((lsr & NS16550_LSR_DR) != 0) == (uart.rx_count != 0));
	check(((lsr & NS16550_LSR_THRE) != 0) == (uart.tx_count == 0));
	check(((lsr & NS16550_LSR_TEMT) != 0) == (uart.tx_count == 0));
	uint8_t iir = ns16550_iir(&uart);
	check((iir & 0xc0) == ((uart.fcr & NS16550_FCR_ENABLE) ? 0xc0 : 0));
	check((iir & 0x0f) == expect_iir_id());
	bool gate = (uart.mcr & NS16550_MCR_OUT2) && !(uart.mcr & NS16550_MCR_LOOP);
	check(ns16550_irq_level(&uart) == (gate && !(iir & 1)));
}

static const uint32_t sizes[8] = { 1, 1, 1, 1, 1, 2, 4, 0 };

static void step_access(struct input *in)
{
	uint32_t offset = (uint32_t)take(in, 1);
	offset = offset < 0xf0 ? offset % 8 : offset;
	uint32_t size = sizes[take(in, 1) % 8];
	bool write = take(in, 1) & 1;
	uint32_t value = (uint32_t)take(in, 1) | (uint32_t)(take(in, 1) & 0x01) << 8;
	bool thr_write = write && offset == NS16550_THR && size == 1 &&
	                 !(uart.lcr & NS16550_LCR_DLAB);

	memcpy(&before, &uart, sizeof(uart));
	struct vuart_reply r;
	enum vuart_status st = ns16550_access(&uart, offset, size, write, value, &r);
	check((st == VUART_OK) == (offset < 8 && size == 1));
	if (st != VUART_OK) {
		check(memcmp(&before, &uart, sizeof(uart)) == 0 && r.irq == VUART_IRQ_KEEP);
		return;
	}
	check(r.value <= 0xff);
	if (thr_write && written_count < sizeof(written))
		written[written_count++] = (uint8_t)value;
	follow_line(r.irq);
}

static void step_input(struct input *in)
{
	uint8_t bytes[24];
	size_t n = (size_t)take(in, 1) % sizeof(bytes);
	for (size_t i = 0; i < n; i++)
		bytes[i] = (uint8_t)take(in, 1);
	size_t room = ns16550_input_room(&uart);
	enum vuart_irq irq;
	size_t got = ns16550_put_input(&uart, bytes, n, &irq);
	check(got == (n < room ? n : room));
	follow_line(irq);
}

static void step_output(struct input *in)
{
	uint8_t buf[20];
	size_t cap = (size_t)take(in, 1) % sizeof(buf);
	enum vuart_irq irq;
	size_t got = ns16550_take_output(&uart, buf, cap, &irq);
	check(got <= cap);
	for (size_t i = 0; i < got; i++) {
		while (matched < written_count && written[matched] != buf[i])
			matched++;
		check(matched < written_count); /* a byte the guest never wrote, or out of order */
		matched++;
	}
	follow_line(irq);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	ns16550_init(&uart);
	line = 0;
	written_count = matched = 0;
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
