/**
 * Host tests of the SBSA generic UART model (services/vuart/sbsa_uart.c): the tests listed for
 * Xen's vpl011 (a 64-bit DR access is an error, an incoming byte sets RTI and raises one
 * interrupt, a DR read clears RTI and sets RXFE, a full output ring reads TXFF|BUSY, ICR
 * clears RIS bits), every register's reset value, widths and alignment, read-only registers,
 * the identification registers, the trigger levels, the raise/lower rules and the check of a
 * struct found in memory after a restart. Register facts: ARM DDI 0183, DEN 0029 appendix B.
 */
#include <string.h>

#include "tap.h"
#include "sbsa_uart.h"

static struct sbsa_uart uart;

static void fresh(void)
{
	struct sbsa_uart_config cfg = sbsa_uart_config_default();
	sbsa_uart_init(&uart, &cfg);
}

/** A 32-bit read; 0xbad if the model refuses it. */
static uint32_t rd(uint32_t off)
{
	struct vuart_reply r;
	if (sbsa_uart_access(&uart, off, 4, false, 0, &r) != VUART_OK)
		return 0xbad;
	return r.value;
}

/** A 32-bit write; returns what the line does. */
static enum vuart_irq wr(uint32_t off, uint32_t v)
{
	struct vuart_reply r;
	if (sbsa_uart_access(&uart, off, 4, true, v, &r) != VUART_OK)
		return (enum vuart_irq) - 1;
	return r.irq;
}

static enum vuart_irq put(const char *s)
{
	enum vuart_irq irq;
	size_t n = strlen(s);
	if (sbsa_uart_put_input(&uart, (const uint8_t *)s, n, &irq) != n)
		return (enum vuart_irq) - 1;
	return irq;
}

static void test_config(void)
{
	struct sbsa_uart_config cfg = sbsa_uart_config_default();
	EQ(cfg.in_size, 1024, "default input ring is Xen's 1024 bytes");
	EQ(cfg.out_size, 2048, "default output ring is Xen's 2048 bytes");
	EQ(cfg.trigger, 16, "default trigger is 16");
	OK(sbsa_uart_init(&uart, &cfg), "the default configuration is accepted");
	cfg.trigger = 0;
	OK(!sbsa_uart_init(&uart, &cfg), "trigger 0 is refused");
	cfg = sbsa_uart_config_default();
	cfg.in_size = SBSA_UART_RING_MAX + 1;
	OK(!sbsa_uart_init(&uart, &cfg), "a ring larger than the struct holds is refused");
	cfg = sbsa_uart_config_default();
	cfg.trigger = 1024;
	OK(!sbsa_uart_init(&uart, &cfg), "a trigger as large as the input ring is refused");
	cfg = (struct sbsa_uart_config){ .in_size = 32, .out_size = 32, .trigger = 4 };
	OK(sbsa_uart_init(&uart, &cfg), "a PL011-sized configuration (32/32/4) is accepted");
}

static void test_reset(void)
{
	fresh();
	OK(sbsa_uart_state_valid(&uart), "a fresh UART passes the state check");
	EQ(rd(SBSA_UART_FR), SBSA_UART_FR_TXFE | SBSA_UART_FR_RXFE,
	   "FR resets to TXFE|RXFE (not Xen's 0)");
	EQ(rd(SBSA_UART_DR), 0, "DR reads 0 with nothing received");
	EQ(rd(SBSA_UART_RSR), 0, "RSR/ECR reads 0");
	EQ(rd(SBSA_UART_IMSC), 0, "IMSC resets to 0");
	EQ(rd(SBSA_UART_RIS), 0, "RIS resets to 0");
	EQ(rd(SBSA_UART_MIS), 0, "MIS resets to 0");
	EQ(rd(SBSA_UART_ICR), 0, "ICR (write-only) reads 0");
	bool raz = true;
	for (uint32_t off = 0x08; off < 0xfe0; off += 4)
		if (off != SBSA_UART_FR && off != SBSA_UART_IMSC && off != SBSA_UART_RIS &&
		    off != SBSA_UART_MIS)
			raz &= rd(off) == 0;
	OK(raz, "every other offset below the IDs reads 0 (baud, LCR_H, CR, IFLS, DMACR ...)");
}

static void test_ids(void)
{
	fresh();
	static const uint32_t want[8] = { 0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };
	bool ok = true;
	for (uint32_t i = 0; i < 8; i++)
		ok &= rd(SBSA_UART_PERIPH_ID0 + 4 * i) == want[i];
	OK(ok, "PeriphID0-3 = 0x11 0x10 0x34 0x00 and CellID0-3 = 0x0d 0xf0 0x05 0xb1");
	uint32_t pid = 0;
	for (uint32_t i = 0; i < 4; i++)
		pid |= rd(SBSA_UART_PERIPH_ID0 + 4 * i) << (8 * i);
	EQ(pid & 0x000fffff, 0x00041011, "part 0x011, designer 0x41: an ARM PL011");
	EQ((pid >> 20) & 0xf, 3, "revision 3: r1p5");
	wr(SBSA_UART_PERIPH_ID0, 0xff);
	wr(SBSA_UART_CELL_ID0 + 0xc, 0);
	EQ(rd(SBSA_UART_PERIPH_ID0), 0x11, "PeriphID0 ignores writes");
	EQ(rd(SBSA_UART_CELL_ID0 + 0xc), 0xb1, "CellID3 ignores writes");
}

static void test_widths(void)
{
	struct vuart_reply r;
	fresh();
	EQ(sbsa_uart_access(&uart, SBSA_UART_DR, 8, true, 'x', &r), VUART_BAD_ACCESS,
	   "a 64-bit DR write is an error");
	EQ(sbsa_uart_access(&uart, SBSA_UART_DR, 8, false, 0, &r), VUART_BAD_ACCESS,
	   "a 64-bit DR read is an error");
	EQ(uart.out_count, 0, "the refused DR write sent nothing");
	EQ(sbsa_uart_access(&uart, SBSA_UART_FR, 8, false, 0, &r), VUART_BAD_ACCESS,
	   "a 64-bit FR read is an error");
	OK(sbsa_uart_access(&uart, SBSA_UART_DR, 1, true, 'a', &r) == VUART_OK &&
	           sbsa_uart_access(&uart, SBSA_UART_DR, 2, true, 'b', &r) == VUART_OK &&
	           sbsa_uart_access(&uart, SBSA_UART_DR, 4, true, 0xffffff00u | 'c', &r) ==
	                   VUART_OK,
	   "DR takes 8-, 16- and 32-bit writes");
	uint8_t out[8];
	enum vuart_irq irq;
	size_t n = sbsa_uart_take_output(&uart, out, sizeof(out), &irq);
	OK(n == 3 && memcmp(out, "abc", 3) == 0, "each DR write sent its low byte");
	put("xyz");
	OK(sbsa_uart_access(&uart, SBSA_UART_DR, 1, false, 0, &r) == VUART_OK && r.value == 'x',
	   "an 8-bit DR read pops a byte");
	OK(sbsa_uart_access(&uart, SBSA_UART_DR, 2, false, 0, &r) == VUART_OK && r.value == 'y',
	   "a 16-bit DR read pops a byte (no error flags in bits 11:8)");
	EQ(sbsa_uart_access(&uart, 0x1, 1, false, 0, &r), VUART_BAD_ACCESS,
	   "a byte read at DR+1 is an error");
	EQ(sbsa_uart_access(&uart, 0x2, 2, false, 0, &r), VUART_BAD_ACCESS,
	   "a 16-bit read at DR+2 is an error");
	EQ(sbsa_uart_access(&uart, SBSA_UART_FR, 1, false, 0, &r), VUART_BAD_ACCESS,
	   "FR takes no byte access");
	EQ(sbsa_uart_access(&uart, SBSA_UART_IMSC, 2, true, 0x10, &r), VUART_BAD_ACCESS,
	   "IMSC takes no 16-bit access");
	EQ(uart.imsc, 0, "the refused IMSC write changed nothing");
	EQ(sbsa_uart_access(&uart, SBSA_UART_FR + 2, 4, false, 0, &r), VUART_BAD_ACCESS,
	   "a misaligned 32-bit read is an error");
	EQ(sbsa_uart_access(&uart, SBSA_UART_DR, 3, false, 0, &r), VUART_BAD_ACCESS,
	   "a 3-byte access is an error");
	EQ(sbsa_uart_access(&uart, SBSA_UART_DR, 0, false, 0, &r), VUART_BAD_ACCESS,
	   "a 0-byte access is an error");
	EQ(sbsa_uart_access(&uart, SBSA_UART_FRAME_SIZE, 4, false, 0, &r), VUART_BAD_ACCESS,
	   "an offset past the 4 KiB frame is an error");
	EQ(sbsa_uart_access(&uart, 0xffffffffffff0000ull, 4, false, 0, &r), VUART_BAD_ACCESS,
	   "a huge offset is an error");
	EQ(uart.in_count, 1, "refused reads popped nothing");
	OK(sbsa_uart_state_valid(&uart), "the state is still valid");
}

static void test_rx(void)
{
	fresh();
	wr(SBSA_UART_IMSC, SBSA_UART_INT_RT | SBSA_UART_INT_RX);
	EQ(put("k"), VUART_IRQ_RAISE, "an incoming byte raises the line");
	EQ(rd(SBSA_UART_RIS), SBSA_UART_INT_RT, "an incoming byte sets RTI (not yet RXI)");
	EQ(rd(SBSA_UART_MIS), SBSA_UART_INT_RT, "MIS shows RTI");
	EQ(rd(SBSA_UART_FR) & SBSA_UART_FR_RXFE, 0, "RXFE is clear");
	EQ(put("l"), VUART_IRQ_KEEP, "a second byte raises nothing more (no new MIS bit)");
	struct vuart_reply r;
	sbsa_uart_access(&uart, SBSA_UART_DR, 4, false, 0, &r);
	EQ(r.value, 'k', "DR reads the first byte");
	EQ(r.irq, VUART_IRQ_KEEP, "input still waiting: the line stays");
	sbsa_uart_access(&uart, SBSA_UART_DR, 4, false, 0, &r);
	EQ(r.value, 'l', "DR reads the second byte");
	EQ(r.irq, VUART_IRQ_LOWER, "the last byte read lowers the line");
	EQ(rd(SBSA_UART_RIS), 0, "the DR read cleared RTI");
	EQ(rd(SBSA_UART_FR) & SBSA_UART_FR_RXFE, SBSA_UART_FR_RXFE, "the DR read set RXFE");
	OK(sbsa_uart_state_valid(&uart), "the state is valid");
}

static void test_rx_trigger(void)
{
	fresh();
	wr(SBSA_UART_IMSC, SBSA_UART_INT_RX);
	static uint8_t bytes[1024];
	memset(bytes, 'a', sizeof(bytes));
	enum vuart_irq irq;
	EQ(sbsa_uart_put_input(&uart, bytes, 1007, &irq), 1007, "1007 bytes fit");
	EQ(irq, VUART_IRQ_KEEP, "RXI masked in: nothing raised below the trigger");
	EQ(rd(SBSA_UART_RIS), SBSA_UART_INT_RT, "1007 bytes in: RTI only");
	sbsa_uart_put_input(&uart, bytes, 1, &irq);
	EQ(rd(SBSA_UART_RIS), SBSA_UART_INT_RT | SBSA_UART_INT_RX,
	   "1008 bytes in (16 from full): RXI");
	EQ(irq, VUART_IRQ_RAISE, "RXI, unmasked, raises the line");
	EQ(sbsa_uart_put_input(&uart, bytes, 100, &irq), 16, "only 16 more bytes fit");
	EQ(sbsa_uart_input_room(&uart), 0, "no room left");
	EQ(rd(SBSA_UART_FR), SBSA_UART_FR_RXFF | SBSA_UART_FR_TXFE, "a full input ring: RXFF");
	struct vuart_reply r;
	for (int i = 0; i < 16; i++)
		sbsa_uart_access(&uart, SBSA_UART_DR, 4, false, 0, &r);
	EQ(rd(SBSA_UART_RIS), SBSA_UART_INT_RT | SBSA_UART_INT_RX, "1008 left: RXI still set");
	sbsa_uart_access(&uart, SBSA_UART_DR, 4, false, 0, &r);
	EQ(rd(SBSA_UART_RIS), SBSA_UART_INT_RT, "1007 left: RXI clears at once");
	EQ(r.irq, VUART_IRQ_LOWER, "MIS went to 0: the line is lowered");

	/* A small ring: the trigger is counted from the end, as Xen counts it. */
	struct sbsa_uart_config cfg = { .in_size = 32, .out_size = 32, .trigger = 4 };
	sbsa_uart_init(&uart, &cfg);
	sbsa_uart_put_input(&uart, bytes, 27, &irq);
	EQ(rd(SBSA_UART_RIS) & SBSA_UART_INT_RX, 0, "32/4: 27 bytes in, no RXI");
	sbsa_uart_put_input(&uart, bytes, 1, &irq);
	EQ(rd(SBSA_UART_RIS) & SBSA_UART_INT_RX, SBSA_UART_INT_RX, "32/4: 28 bytes in, RXI");
}

static void test_tx(void)
{
	fresh();
	EQ(wr(SBSA_UART_DR, 'a'), VUART_IRQ_KEEP, "a DR write with TXI masked raises nothing");
	EQ(rd(SBSA_UART_FR), SBSA_UART_FR_RXFE | SBSA_UART_FR_BUSY,
	   "one byte out: TXFE clear, BUSY set (the PL011's BUSY)");
	EQ(rd(SBSA_UART_RIS), SBSA_UART_INT_TX, "the write left room: TXI");
	uint8_t out[2048];
	enum vuart_irq irq;
	EQ(sbsa_uart_take_output(&uart, out, sizeof(out), &irq), 1, "the caller takes one byte");
	EQ(out[0], 'a', "the byte written");
	EQ(rd(SBSA_UART_FR), SBSA_UART_FR_RXFE | SBSA_UART_FR_TXFE, "drained: TXFE, not BUSY");

	for (int i = 0; i < 2032; i++)
		wr(SBSA_UART_DR, 'b');
	EQ(rd(SBSA_UART_RIS), SBSA_UART_INT_TX, "2032 bytes out (16 free): TXI still set");
	wr(SBSA_UART_DR, 'b');
	EQ(rd(SBSA_UART_RIS), 0, "2033 bytes out (15 free): TXI clears");
	wr(SBSA_UART_IMSC, SBSA_UART_INT_TX);
	for (int i = 0; i < 15; i++)
		wr(SBSA_UART_DR, 'b');
	EQ(rd(SBSA_UART_FR), SBSA_UART_FR_RXFE | SBSA_UART_FR_TXFF | SBSA_UART_FR_BUSY,
	   "a full output ring reads TXFF|BUSY");
	wr(SBSA_UART_DR, 'z');
	EQ(uart.out_count, 2048, "a write to a full ring is dropped");
	EQ(sbsa_uart_take_output(&uart, out, 15, &irq), 15, "the caller drains 15 bytes");
	EQ(irq, VUART_IRQ_KEEP, "15 free: no TXI yet");
	EQ(sbsa_uart_take_output(&uart, out, 1, &irq), 1, "and one more");
	EQ(irq, VUART_IRQ_RAISE, "16 free: TXI, unmasked, raises the line");
	EQ(rd(SBSA_UART_MIS), SBSA_UART_INT_TX, "MIS shows TXI");
	size_t n = sbsa_uart_take_output(&uart, out, sizeof(out), &irq);
	EQ(n, 2032, "the rest drains");
	OK(out[n - 1] == 'b', "the dropped byte never appears");
	EQ(irq, VUART_IRQ_KEEP, "TXI was already set: no second raise");
	EQ(rd(SBSA_UART_FR), SBSA_UART_FR_RXFE | SBSA_UART_FR_TXFE, "drained: TXFE again");
	EQ(wr(SBSA_UART_IMSC, 0), VUART_IRQ_LOWER, "masking TXI lowers the line");
}

static void test_icr(void)
{
	fresh();
	put("q");
	wr(SBSA_UART_DR, 'w');
	EQ(rd(SBSA_UART_RIS), SBSA_UART_INT_RT | SBSA_UART_INT_TX, "RTI and TXI set");
	wr(SBSA_UART_IMSC, SBSA_UART_INT_RT | SBSA_UART_INT_TX);
	EQ(wr(SBSA_UART_ICR, SBSA_UART_INT_TX), VUART_IRQ_KEEP, "ICR TXI: RTI keeps the line up");
	EQ(rd(SBSA_UART_RIS), SBSA_UART_INT_RT, "ICR cleared TXI only");
	EQ(wr(SBSA_UART_ICR, 0x7ff), VUART_IRQ_LOWER, "ICR of every bit lowers the line");
	EQ(rd(SBSA_UART_RIS), 0, "ICR cleared RTI although input still waits");
	EQ(rd(SBSA_UART_FR) & SBSA_UART_FR_RXFE, 0, "the byte is still there");
	EQ(put("r"), VUART_IRQ_RAISE, "the next byte in sets RTI again and raises");
	wr(SBSA_UART_ICR, SBSA_UART_INT_RT);
	EQ(wr(SBSA_UART_DR, 'e'), VUART_IRQ_RAISE, "the next byte out sets TXI again and raises");
	OK(sbsa_uart_state_valid(&uart), "the state is valid");
}

static void test_new_bit_rule(void)
{
	fresh();
	put("a");
	EQ(wr(SBSA_UART_IMSC, SBSA_UART_INT_RT), VUART_IRQ_RAISE,
	   "unmasking a pending RTI raises the line");
	EQ(wr(SBSA_UART_IMSC, SBSA_UART_INT_RT), VUART_IRQ_KEEP,
	   "writing the same mask again raises nothing");
	EQ(put("b"), VUART_IRQ_KEEP, "more input with RTI already set raises nothing");
	EQ(wr(SBSA_UART_IMSC, SBSA_UART_INT_RT | SBSA_UART_INT_TX), VUART_IRQ_KEEP,
	   "unmasking TXI, not set (nothing written yet), raises nothing");
	EQ(wr(SBSA_UART_DR, 'x'), VUART_IRQ_RAISE,
	   "a DR write sets TXI: a new bit while the line is high raises again");
	EQ(uart.line, 1, "the line is up");
	EQ(wr(SBSA_UART_IMSC, SBSA_UART_INT_TX), VUART_IRQ_KEEP,
	   "masking RTI with TXI still unmasked keeps the line");
	EQ(wr(SBSA_UART_IMSC, 0), VUART_IRQ_LOWER, "masking everything lowers it");
	EQ(wr(SBSA_UART_IMSC, 0), VUART_IRQ_KEEP, "and lowers it only once");
	EQ(rd(SBSA_UART_RIS), SBSA_UART_INT_RT | SBSA_UART_INT_TX, "RIS is unaffected by IMSC");
	EQ(rd(SBSA_UART_MIS), 0, "MIS = RIS & IMSC");
	EQ(wr(SBSA_UART_IMSC, 0xffffffffu), VUART_IRQ_RAISE, "unmasking all raises");
	EQ(rd(SBSA_UART_IMSC), SBSA_UART_IMSC_MASK, "IMSC keeps the PL011's bits 10:0");
	EQ(rd(SBSA_UART_MIS), SBSA_UART_INT_RT | SBSA_UART_INT_TX, "MIS shows the pending bits");
}

static void test_read_only(void)
{
	fresh();
	put("a");
	wr(SBSA_UART_IMSC, SBSA_UART_INT_RX);
	uint32_t fr = rd(SBSA_UART_FR), ris = rd(SBSA_UART_RIS), mis = rd(SBSA_UART_MIS);
	EQ(wr(SBSA_UART_FR, 0xffffffffu), VUART_IRQ_KEEP, "a write to FR is accepted");
	EQ(wr(SBSA_UART_RIS, 0xffffffffu), VUART_IRQ_KEEP, "a write to RIS is accepted");
	EQ(wr(SBSA_UART_MIS, 0xffffffffu), VUART_IRQ_KEEP, "a write to MIS is accepted");
	EQ(wr(SBSA_UART_RSR, 0xffffffffu), VUART_IRQ_KEEP, "a write to ECR is accepted");
	wr(0x030, 0x301); /* UARTCR: not in the SBSA subset */
	OK(rd(SBSA_UART_FR) == fr && rd(SBSA_UART_RIS) == ris && rd(SBSA_UART_MIS) == mis,
	   "FR, RIS and MIS ignore writes");
	EQ(rd(0x030), 0, "UARTCR is RAZ/WI");
	EQ(rd(SBSA_UART_DR), 'a', "the input is untouched");
	EQ(uart.out_count, 0, "nothing was sent");
}

static void test_persistence(void)
{
	fresh();
	put("hello");
	wr(SBSA_UART_DR, 'x');
	wr(SBSA_UART_IMSC, SBSA_UART_INT_RT);
	static struct sbsa_uart copy;
	memcpy(&copy, &uart, sizeof(copy));
	OK(sbsa_uart_state_valid(&copy), "a copy elsewhere in memory is valid");
	struct vuart_reply r;
	sbsa_uart_access(&copy, SBSA_UART_DR, 4, false, 0, &r);
	EQ(r.value, 'h', "and works: it holds no pointer into the original");

	static const struct {
		size_t off;
		uint32_t value;
		const char *what;
	} bad[] = {
		{ offsetof(struct sbsa_uart, magic), 0, "a wrong magic is refused" },
		{ offsetof(struct sbsa_uart, version), 2, "another layout version is refused" },
		{ offsetof(struct sbsa_uart, size), 16, "another struct size is refused" },
		{ offsetof(struct sbsa_uart, in_size), SBSA_UART_RING_MAX * 2,
		  "an input size past the array is refused" },
		{ offsetof(struct sbsa_uart, trigger), 0, "trigger 0 is refused" },
		{ offsetof(struct sbsa_uart, in_head), 1024,
		  "an input head out of range is refused" },
		{ offsetof(struct sbsa_uart, in_count), 1025,
		  "an input count too large is refused" },
		{ offsetof(struct sbsa_uart, out_head), 5000,
		  "an output head out of range is refused" },
		{ offsetof(struct sbsa_uart, out_count), 2049,
		  "an output count too large is refused" },
		{ offsetof(struct sbsa_uart, imsc), 0x800,
		  "an IMSC bit the PL011 lacks is refused" },
		{ offsetof(struct sbsa_uart, ris), SBSA_UART_INT_RX,
		  "RXI without 1008 bytes in is refused" },
		{ offsetof(struct sbsa_uart, line), 0,
		  "a line level that disagrees with MIS is refused" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(&copy, &uart, sizeof(copy));
		memcpy((uint8_t *)&copy + bad[i].off, &bad[i].value, sizeof(uint32_t));
		OK(!sbsa_uart_state_valid(&copy), bad[i].what);
	}
}

int main(void)
{
	test_config();
	test_reset();
	test_ids();
	test_widths();
	test_rx();
	test_rx_trigger();
	test_tx();
	test_icr();
	test_new_bit_rule();
	test_read_only();
	test_persistence();
	return tap_finish();
}
