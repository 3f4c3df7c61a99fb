/**
 * Host tests of the 16550A model (services/vuart/ns16550.c): the register map and reset values,
 * DLAB and the divisor latch, FIFO control and trigger levels, LSR (DR, THRE, TEMT, OE), the
 * interrupt identification priority order and what resets each source, the THRE interrupt
 * rules, MSR and loopback (including the probe Linux's 8250 driver runs), the OUT2 gate of the
 * interrupt line, port widths and the check of a struct found in memory after a restart.
 * Expected values: the PC16550D datasheet (register summary, interrupt control table, reset).
 */
#include <string.h>

#include "tap.h"
#include "ns16550.h"

static struct ns16550 uart;
static enum vuart_irq last_irq;

static uint32_t in(uint32_t port)
{
	struct vuart_reply r;
	if (ns16550_access(&uart, port, 1, false, 0, &r) != VUART_OK)
		return 0xbad;
	last_irq = r.irq;
	return r.value;
}

static enum vuart_irq out(uint32_t port, uint32_t v)
{
	struct vuart_reply r;
	if (ns16550_access(&uart, port, 1, true, v, &r) != VUART_OK)
		return (enum vuart_irq) - 1;
	return r.irq;
}

static size_t put(const char *s, enum vuart_irq *irq)
{
	return ns16550_put_input(&uart, (const uint8_t *)s, strlen(s), irq);
}

static size_t take(uint8_t *buf, size_t cap, enum vuart_irq *irq)
{
	return ns16550_take_output(&uart, buf, cap, irq);
}

static void test_reset(void)
{
	ns16550_init(&uart);
	OK(ns16550_state_valid(&uart), "a fresh UART passes the state check");
	EQ(in(NS16550_IER), 0, "IER resets to 0");
	EQ(in(NS16550_IIR), 0x01, "IIR resets to 0x01 (nothing pending, FIFOs off)");
	EQ(in(NS16550_LCR), 0, "LCR resets to 0");
	EQ(in(NS16550_MCR), 0, "MCR resets to 0");
	EQ(in(NS16550_LSR), 0x60, "LSR resets to 0x60 (THRE|TEMT)");
	EQ(in(NS16550_MSR), 0xb0, "MSR: CTS, DSR, DCD asserted, no deltas, RI off");
	EQ(in(NS16550_SCR), 0, "SCR resets to 0");
	EQ(in(NS16550_RBR), 0, "RBR reads 0 with nothing received");
	out(NS16550_LCR, NS16550_LCR_DLAB);
	EQ(in(NS16550_DLL) | in(NS16550_DLM) << 8, 12,
	   "the divisor latch starts at 12 (9600 baud)");
}

static void test_register_map(void)
{
	ns16550_init(&uart);
	out(NS16550_SCR, 0xa5);
	EQ(in(NS16550_SCR), 0xa5, "SCR keeps what is written");
	out(NS16550_LCR, 0x1b);
	EQ(in(NS16550_LCR), 0x1b, "LCR keeps all eight bits (8E1 here)");
	out(NS16550_IER, 0xff);
	EQ(in(NS16550_IER), 0x0f, "IER keeps bits 3:0");
	out(NS16550_IER, 0);
	out(NS16550_MCR, 0xff);
	EQ(in(NS16550_MCR), 0x1f, "MCR keeps bits 4:0");
	out(NS16550_MCR, 0);
	in(NS16550_MSR);
	uint32_t lsr = in(NS16550_LSR), msr = in(NS16550_MSR);
	out(NS16550_LSR, 0xff);
	out(NS16550_MSR, 0xff);
	OK(in(NS16550_LSR) == lsr && in(NS16550_MSR) == msr, "LSR and MSR ignore writes");
	out(NS16550_FCR, NS16550_FCR_ENABLE);
	EQ(in(NS16550_IIR), 0xc1, "FCR is write-only: offset 2 still reads IIR (FIFO bits set)");

	struct vuart_reply r;
	EQ(ns16550_access(&uart, 8, 1, false, 0, &r), VUART_BAD_ACCESS,
	   "port offset 8 is an error");
	EQ(ns16550_access(&uart, 0xffffffffu, 1, true, 0, &r), VUART_BAD_ACCESS,
	   "a huge offset is an error");
	EQ(ns16550_access(&uart, NS16550_RBR, 2, true, 0x4141, &r), VUART_BAD_ACCESS,
	   "a 16-bit OUT is an error");
	EQ(ns16550_access(&uart, NS16550_LSR, 4, false, 0, &r), VUART_BAD_ACCESS,
	   "a 32-bit IN is an error");
	EQ(ns16550_access(&uart, NS16550_LSR, 0, false, 0, &r), VUART_BAD_ACCESS,
	   "a 0-byte access is an error");
	EQ(uart.tx_count, 0, "the refused OUT sent nothing");
	OK(ns16550_state_valid(&uart), "the state is valid");
}

static void test_dlab(void)
{
	ns16550_init(&uart);
	out(NS16550_IER, NS16550_IER_RDI);
	out(NS16550_LCR, NS16550_LCR_DLAB | 0x03);
	out(NS16550_DLL, 0x01);
	out(NS16550_DLM, 0x02);
	EQ(in(NS16550_DLL), 0x01, "DLAB 1: offset 0 is DLL");
	EQ(in(NS16550_DLM), 0x02, "DLAB 1: offset 1 is DLM");
	EQ(uart.tx_count, 0, "a DLL write sends nothing");
	EQ(uart.ier, NS16550_IER_RDI, "a DLM write leaves IER alone");
	enum vuart_irq irq;
	put("z", &irq);
	EQ(in(NS16550_DLL), 0x01, "a DLL read does not pop the receiver");
	EQ(uart.rx_count, 1, "the byte is still there");
	EQ(in(NS16550_LCR), 0x83, "LCR reads back with DLAB");
	out(NS16550_LCR, 0x03);
	EQ(in(NS16550_IER), NS16550_IER_RDI, "DLAB 0: offset 1 is IER again");
	EQ(in(NS16550_RBR), 'z', "DLAB 0: offset 0 is RBR again");
	out(NS16550_THR, 'q');
	EQ(uart.tx_count, 1, "DLAB 0: offset 0 writes THR");
	EQ(uart.dll | uart.dlm << 8, 0x0201, "the divisor is kept");
}

static void test_lsr(void)
{
	ns16550_init(&uart);
	enum vuart_irq irq;
	out(NS16550_THR, 'a');
	EQ(in(NS16550_LSR), 0x00, "a byte waiting to go: THRE and TEMT clear");
	out(NS16550_THR, 'b');
	uint8_t buf[32];
	EQ(take(buf, sizeof(buf), &irq), 1, "without FIFOs THR holds one byte: the second is lost");
	EQ(buf[0], 'a', "the first byte went out");
	EQ(in(NS16550_LSR), 0x60, "drained: THRE|TEMT");
	EQ(put("x", &irq), 1, "one byte received");
	EQ(in(NS16550_LSR), 0x61, "LSR.DR");
	EQ(ns16550_input_room(&uart), 0, "without FIFOs RBR holds one byte");
	EQ(put("y", &irq), 0, "a second byte does not fit");
	EQ(in(NS16550_LSR), 0x63, "the lost byte is an overrun: OE");
	EQ(in(NS16550_LSR), 0x61, "reading LSR cleared OE");
	EQ(in(NS16550_RBR), 'x', "RBR holds the first byte");
	EQ(in(NS16550_LSR), 0x60, "read: DR clear");

	out(NS16550_FCR, NS16550_FCR_ENABLE);
	EQ(ns16550_input_room(&uart), 16, "with FIFOs the receiver holds 16 bytes");
	EQ(put("0123456789abcdefgh", &irq), 16, "16 of 18 bytes fit");
	EQ(in(NS16550_LSR)&NS16550_LSR_OE, NS16550_LSR_OE, "the rest overran");
	for (int i = 0; i < 17; i++)
		out(NS16550_THR, 'A' + i);
	EQ(take(buf, sizeof(buf), &irq), 16, "the transmit FIFO holds 16 bytes; the 17th is lost");
	OK(buf[0] == 'A' && buf[15] == 'P', "in order");
	bool order = true;
	for (int i = 0; i < 16; i++)
		order &= in(NS16550_RBR) == (uint32_t) "0123456789abcdef"[i];
	OK(order, "the receive FIFO gives its bytes in order");
	EQ(in(NS16550_LSR), 0x60, "both FIFOs empty");
}

static void test_fcr(void)
{
	ns16550_init(&uart);
	enum vuart_irq irq;
	out(NS16550_FCR, NS16550_FCR_ENABLE);
	put("abc", &irq);
	out(NS16550_THR, 'x');
	out(NS16550_FCR, NS16550_FCR_ENABLE | NS16550_FCR_CLEAR_RX);
	EQ(uart.rx_count, 0, "FCR bit 1 clears the receive FIFO");
	EQ(uart.tx_count, 1, "and leaves the transmit FIFO");
	out(NS16550_FCR, NS16550_FCR_ENABLE | NS16550_FCR_CLEAR_TX);
	EQ(uart.tx_count, 0, "FCR bit 2 clears the transmit FIFO");
	EQ(uart.fcr & (NS16550_FCR_CLEAR_RX | NS16550_FCR_CLEAR_TX), 0, "bits 1 and 2 self-clear");
	put("abc", &irq);
	out(NS16550_THR, 'x');
	out(NS16550_FCR, 0);
	OK(uart.rx_count == 0 && uart.tx_count == 0, "turning the FIFOs off clears both");
	EQ(in(NS16550_IIR)&0xc0, 0, "IIR bits 7:6 clear without FIFOs");
	out(NS16550_FCR, NS16550_FCR_ENABLE | 0xc0);
	EQ(in(NS16550_IIR)&0xc0, 0xc0, "IIR bits 7:6 set with FIFOs");
	out(NS16550_FCR, 0x40);
	EQ(uart.fcr, 0xc0, "without bit 0 the trigger bits are not programmed");
}

/** Bytes needed for IIR to say "received data" rather than "character timeout". */
static void trigger_case(uint8_t fcr_bits, size_t level, const char *name)
{
	ns16550_init(&uart);
	enum vuart_irq irq;
	out(NS16550_FCR, NS16550_FCR_ENABLE | fcr_bits);
	out(NS16550_IER, NS16550_IER_RDI);
	static const uint8_t bytes[16] = { 0 };
	ns16550_put_input(&uart, bytes, level - 1, &irq);
	bool below = level == 1 || (in(NS16550_IIR)&0x0f) == NS16550_IIR_TIMEOUT;
	ns16550_put_input(&uart, bytes, 1, &irq);
	bool at = (in(NS16550_IIR)&0x0f) == NS16550_IIR_RDI;
	OK(below && at, name);
}

static void test_trigger_levels(void)
{
	trigger_case(0x00, 1, "trigger 00: received data from 1 byte");
	trigger_case(0x40, 4, "trigger 01: timeout below 4 bytes, received data at 4");
	trigger_case(0x80, 8, "trigger 10: timeout below 8 bytes, received data at 8");
	trigger_case(0xc0, 14, "trigger 11: timeout below 14 bytes, received data at 14");
	ns16550_init(&uart);
	enum vuart_irq irq;
	out(NS16550_IER, NS16550_IER_RDI);
	put("a", &irq);
	EQ(in(NS16550_IIR), 0x04, "without FIFOs one byte is received data, never a timeout");
}

static void test_iir_priority(void)
{
	ns16550_init(&uart);
	enum vuart_irq irq;
	out(NS16550_MCR, NS16550_MCR_OUT2);
	out(NS16550_FCR, NS16550_FCR_ENABLE);
	EQ(out(NS16550_IER, 0x0f), VUART_IRQ_RAISE, "enabling THRI with THR empty raises at once");
	EQ(in(NS16550_IIR), 0xc2, "THR empty is identified");
	EQ(last_irq, VUART_IRQ_LOWER, "reading IIR reset THRE: the line lowers");
	EQ(in(NS16550_IIR), 0xc1, "nothing pending after that");

	/* Make every source pending: modem status, THR empty, received data, line status. */
	out(NS16550_MCR, NS16550_MCR_OUT2 | NS16550_MCR_LOOP | NS16550_MCR_RTS);
	EQ(uart.msr_delta != 0, 1, "entering loopback changed the modem inputs");
	EQ(in(NS16550_IIR), 0xc0, "IIR reports modem status in loopback");
	OK(!ns16550_irq_level(&uart), "but the line stays low: loopback cuts OUT2 off");
	out(NS16550_MCR, NS16550_MCR_OUT2 | NS16550_MCR_RTS);
	uint8_t buf[1];
	out(NS16550_THR, 'x');
	take(buf, 1, &irq);
	put("0123456789abcdefg", &irq);
	EQ(in(NS16550_IIR), 0xc6, "all four pending: receiver line status first");
	EQ(in(NS16550_IIR), 0xc6, "reading IIR does not reset line status");
	in(NS16550_LSR);
	EQ(in(NS16550_IIR), 0xc4, "after LSR: received data (16 >= trigger 1)");
	for (int i = 0; i < 16; i++)
		in(NS16550_RBR);
	EQ(in(NS16550_IIR), 0xc2, "after RBR drained the FIFO: THR empty");
	EQ(in(NS16550_IIR), 0xc0, "reading IIR reset THRE: modem status last");
	EQ(last_irq, VUART_IRQ_KEEP, "modem status still holds the line");
	EQ(in(NS16550_MSR)&0x0f, NS16550_MSR_DDSR, "MSR shows what changed (DSR, DTR being 0)");
	EQ(last_irq, VUART_IRQ_LOWER, "reading MSR reset the last source: the line lowers");
	EQ(in(NS16550_IIR), 0xc1, "nothing pending");

	/* IER gates each source, and IIR names the highest enabled one. */
	put("a", &irq);
	out(NS16550_IER, NS16550_IER_THRI);
	EQ(in(NS16550_IIR), 0xc1, "received data with only THRI enabled (THRE not re-latched)");
	out(NS16550_IER, 0);
	out(NS16550_IER, NS16550_IER_THRI | NS16550_IER_RDI);
	EQ(in(NS16550_IIR), 0xc4, "received data ranks above THR empty");
	in(NS16550_RBR);
	EQ(in(NS16550_IIR), 0xc2, "then THR empty");
	out(NS16550_THR, 'b');
	EQ(uart.thre, 0, "writing THR resets the THRE interrupt");
	take(buf, 1, &irq);
	EQ(in(NS16550_IIR), 0xc2, "the transmitter draining latches it again");
}

static void test_out2_gate(void)
{
	ns16550_init(&uart);
	enum vuart_irq irq;
	out(NS16550_IER, NS16550_IER_RDI);
	EQ(put("a", &irq), 1, "a byte arrives");
	EQ(irq, VUART_IRQ_KEEP, "OUT2 clear: the PC's interrupt buffer is off, no raise");
	EQ(in(NS16550_IIR), 0x04, "but IIR shows received data");
	EQ(out(NS16550_MCR, NS16550_MCR_OUT2), VUART_IRQ_RAISE, "setting OUT2 raises the line");
	EQ(in(NS16550_RBR), 'a', "the byte");
	EQ(last_irq, VUART_IRQ_LOWER, "reading it lowers the line");
	EQ(put("b", &irq), 1, "another byte");
	EQ(irq, VUART_IRQ_RAISE, "raises");
	EQ(put("", &irq), 0, "nothing more");
	EQ(irq, VUART_IRQ_KEEP, "a level line is raised once");
	EQ(out(NS16550_IER, 0), VUART_IRQ_LOWER, "disabling the source lowers the line");
}

static void test_loopback(void)
{
	ns16550_init(&uart);
	enum vuart_irq irq;
	/* Linux's 8250 probe: MCR = LOOP|OUT2|RTS must read MSR bits 7:4 = DCD|CTS. */
	out(NS16550_MCR, NS16550_MCR_LOOP | NS16550_MCR_OUT2 | NS16550_MCR_RTS);
	EQ(in(NS16550_MSR)&0xf0, 0x90, "loopback: CTS = RTS, DCD = OUT2");
	out(NS16550_MCR, NS16550_MCR_LOOP | NS16550_MCR_DTR | NS16550_MCR_OUT1);
	EQ(in(NS16550_MSR), 0x60 | NS16550_MSR_DCTS | NS16550_MSR_DDSR | NS16550_MSR_DDCD,
	   "loopback: DSR = DTR, RI = OUT1, deltas for the changes");
	out(NS16550_MCR, NS16550_MCR_LOOP);
	EQ(in(NS16550_MSR), NS16550_MSR_DDSR | NS16550_MSR_TERI,
	   "RI falling sets TERI; DSR falling sets DDSR");
	out(NS16550_THR, 'L');
	EQ(in(NS16550_LSR), 0x61, "a byte written in loopback is received at once");
	uint8_t buf[4];
	EQ(take(buf, sizeof(buf), &irq), 0, "and does not go out");
	EQ(put("x", &irq), 0, "the line's input is cut off in loopback");
	EQ(in(NS16550_LSR)&NS16550_LSR_OE, 0, "without an overrun");
	EQ(in(NS16550_RBR), 'L', "RBR reads the looped byte");
	out(NS16550_THR, '1');
	out(NS16550_THR, '2');
	EQ(in(NS16550_LSR), 0x63, "without FIFOs a second looped byte overruns");
	out(NS16550_MCR, 0);
	EQ(in(NS16550_MSR), 0xb0 | NS16550_MSR_DCTS | NS16550_MSR_DDSR | NS16550_MSR_DDCD,
	   "leaving loopback: the terminal's CTS, DSR, DCD are back");
	EQ(put("x", &irq), 0, "the receiver still holds the looped byte");
	EQ(in(NS16550_RBR), '1', "which was the first");
	OK(ns16550_state_valid(&uart), "the state is valid");
}

static void test_persistence(void)
{
	ns16550_init(&uart);
	enum vuart_irq irq;
	out(NS16550_FCR, NS16550_FCR_ENABLE);
	out(NS16550_MCR, NS16550_MCR_OUT2);
	out(NS16550_IER, NS16550_IER_RDI);
	put("hi", &irq);
	out(NS16550_THR, 'o');
	static struct ns16550 copy;
	memcpy(&copy, &uart, sizeof(copy));
	OK(ns16550_state_valid(&copy), "a copy elsewhere in memory is valid");
	struct vuart_reply r;
	ns16550_access(&copy, NS16550_RBR, 1, false, 0, &r);
	EQ(r.value, 'h', "and works");

	static const struct {
		size_t off;
		uint8_t value;
		const char *what;
	} bad[] = {
		{ offsetof(struct ns16550, magic), 0, "a wrong magic is refused" },
		{ offsetof(struct ns16550, version), 7, "another layout version is refused" },
		{ offsetof(struct ns16550, size), 3, "another struct size is refused" },
		{ offsetof(struct ns16550, ier), 0x10, "an IER bit the chip lacks is refused" },
		{ offsetof(struct ns16550, mcr), 0x28, "an MCR bit the chip lacks is refused" },
		{ offsetof(struct ns16550, fcr), 0x03, "a self-clearing FCR bit kept is refused" },
		{ offsetof(struct ns16550, lsr_oe), 0x04, "an LSR error other than OE is refused" },
		{ offsetof(struct ns16550, msr_inputs), 0,
		  "modem inputs that disagree are refused" },
		{ offsetof(struct ns16550, thre), 1, "THRE latched with bytes waiting is refused" },
		{ offsetof(struct ns16550, line), 0, "a line level that disagrees is refused" },
		{ offsetof(struct ns16550, rx_head), 16, "a receive head out of range is refused" },
		{ offsetof(struct ns16550, rx_count), 17, "a receive count too large is refused" },
		{ offsetof(struct ns16550, tx_head), 200,
		  "a transmit head out of range is refused" },
		{ offsetof(struct ns16550, tx_count), 17, "a transmit count too large is refused" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(&copy, &uart, sizeof(copy));
		memcpy((uint8_t *)&copy + bad[i].off, &bad[i].value, 1);
		OK(!ns16550_state_valid(&copy), bad[i].what);
	}
	memcpy(&copy, &uart, sizeof(copy));
	copy.fcr = 0;
	OK(!ns16550_state_valid(&copy), "two bytes received without FIFOs is refused");
}

int main(void)
{
	test_reset();
	test_register_map();
	test_dlab();
	test_lsr();
	test_fcr();
	test_trigger_levels();
	test_iir_priority();
	test_out2_gate();
	test_loopback();
	test_persistence();
	return tap_finish();
}
