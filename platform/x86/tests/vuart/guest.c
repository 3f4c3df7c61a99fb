/**
 * x86 VM guests of the vuart service (services/vuart): each drives the 16550A the service
 * emulates at COM1's ports (0x3f8..0x3ff, docs/emulation.md) and reports through
 * HC_CONSOLE_WRITE (svc_printf). Built on the local-APIC test guests' IDT (../vapic/guest.c).
 * Variants:
 *
 *   VUART_HELLO    reset values, the divisor latch, scratch register; 300 lines, polled.
 *   VUART_HOSTILE  a 16- and a 32-bit IN of a byte register (the service refuses: #GP(0),
 *                  survived), writes to the read-only LSR and MSR (ignored); ends with an
 *                  IN from port 0x400, just past the range, which stops it alone.
 *   VUART_COUNT    the kill test's stream: lines "n=000" .. "n=999", polled.
 *   VUART_IRQ      interrupt-driven: output paced by the THRE interrupt, a typed line taken
 *                  by the received-data interrupt and echoed as "got: <line>". The
 *                  service raises the vector its badge names (VUART_VECTOR).
 */
#include "../vapic/guest.h"

/* One file, several guests: each variant uses its own subset of the helpers. */
#pragma GCC diagnostic ignored "-Wunused-function"

#define COM1 0x3f8u
#define RBR 0u /* and THR, DLL */
#define IER 1u /* and DLM */
#define IIR 2u /* and FCR */
#define LCR 3u
#define MCR 4u
#define LSR 5u
#define MSR 6u
#define SCR 7u
#define IER_RDI 0x01u
#define IER_THRI 0x02u
#define IIR_NONE 0x01u
#define IIR_ID 0x0eu
#define IIR_THRI 0x02u
#define IIR_RDI 0x04u
#define IIR_TIMEOUT 0x0cu
#define LCR_DLAB 0x80u
#define MCR_OUT2 0x08u
#define LSR_DR 0x01u
#define LSR_THRE 0x20u
#define LSR_TEMT 0x40u
#define FCR_ENABLE 0x01u

/** The vector the service raises (its guest capability's badge, bits 17:8). */
#define VUART_VECTOR 0x40u

static uint8_t inb(uint16_t p)
{
	uint8_t v;
	__asm__ volatile("in %%dx, %%al" : "=a"(v) : "d"(p) : "memory");
	return v;
}

static void outb(uint16_t p, uint8_t v)
{
	__asm__ volatile("out %%al, %%dx" : : "a"(v), "d"(p) : "memory");
}

static void check(bool ok, const char *what)
{
	svc_printf("%s: %s\n", ok ? "passed" : "FAILED", what);
}

/** Polled output: wait for THRE, then write THR. */
static void uart_putc(char c)
{
	while (!(inb(COM1 + LSR) & LSR_THRE))
		;
	outb(COM1 + RBR, (uint8_t)c);
}

static void uart_puts(const char *s)
{
	while (*s != '\0')
		uart_putc(*s++);
}

/** "<prefix><n, three digits>\n" to the UART. */
static void uart_numbered(const char *prefix, unsigned n)
{
	char b[4] = { (char)('0' + n / 100u % 10u), (char)('0' + n / 10u % 10u),
		      (char)('0' + n % 10u), '\0' };
	uart_puts(prefix);
	uart_puts(b);
	uart_putc('\n');
}

#if defined(VUART_HOSTILE)
/** Written by gp_stub: #GPs taken; gp_skip is what it steps over. */
volatile uint64_t gp_count, gp_error, gp_skip;
void gp_stub(void);
__asm__(".pushsection .text\n"
        ".globl gp_stub\n"
        "gp_stub:\n"
        "push %rax\n"
        "mov 8(%rsp), %rax\n"
        "mov %rax, gp_error(%rip)\n"
        "mov gp_skip(%rip), %rax\n"
        "add %rax, 16(%rsp)\n"
        "incq gp_count(%rip)\n"
        "pop %rax\n"
        "add $8, %rsp\n"
        "iretq\n"
        ".popsection\n");
#endif

#if defined(VUART_IRQ)
static const char irq_text[] = "irq-driven output: this line went out by the THRE interrupt\n";
static volatile unsigned tx_next, tx_len, thre_irqs, rx_irqs, line_len;
static volatile bool line_done;
static char line[64];

/** Fill the transmit FIFO from irq_text; stop the THRE interrupt once all is written. */
static void tx_refill(void)
{
	for (unsigned i = 0; i < 16u && tx_next < tx_len; i++)
		outb(COM1 + RBR, (uint8_t)irq_text[tx_next++]);
	if (tx_next == tx_len)
		outb(COM1 + IER, inb(COM1 + IER) & ~IER_THRI);
}
#endif

void guest_interrupt(uint8_t vector)
{
#if defined(VUART_IRQ)
	if (vector == VUART_VECTOR) {
		/* Every pending cause, in the 16550's priority order, until none is left. */
		for (unsigned guard = 0; guard < 64u; guard++) {
			uint8_t iir = inb(COM1 + IIR);
			if (iir & IIR_NONE)
				break;
			uint8_t id = iir & IIR_ID;
			if (id == IIR_THRI) {
				thre_irqs++;
				tx_refill();
			} else if (id == IIR_RDI || id == IIR_TIMEOUT) {
				rx_irqs++;
				while (inb(COM1 + LSR) & LSR_DR) {
					char c = (char)inb(COM1 + RBR);
					if (c == '\r' || c == '\n') {
						line_done = true;
					} else if (line_len < sizeof(line) - 1u) {
						line[line_len] = c;
						line_len = line_len + 1u;
					}
				}
			} else {
				(void)inb(COM1 + LSR);
				(void)inb(COM1 + MSR);
			}
		}
	}
#else
	(void)vector;
#endif
	apic_write(APIC_EOI, 0);
}

int svc_main(uint64_t arg)
{
	(void)arg;
	guest_setup();
#if defined(VUART_HELLO)
	check(inb(COM1 + LSR) == (LSR_THRE | LSR_TEMT) && inb(COM1 + IIR) == IIR_NONE &&
	              inb(COM1 + IER) == 0 && inb(COM1 + LCR) == 0,
	      "reset values: LSR THRE|TEMT, IIR no interrupt, IER and LCR 0");
	outb(COM1 + LCR, LCR_DLAB | 0x03u);
	outb(COM1 + RBR, 0x01u); /* DLL: 115200 baud */
	outb(COM1 + IER, 0x00u); /* DLM */
	check(inb(COM1 + RBR) == 0x01u && inb(COM1 + IER) == 0x00u,
	      "the divisor latch reads back with DLAB set");
	outb(COM1 + LCR, 0x03u);
	check(inb(COM1 + LCR) == 0x03u && inb(COM1 + IER) == 0,
	      "with DLAB clear the same ports are THR/RBR and IER again");
	outb(COM1 + SCR, 0x5au);
	check(inb(COM1 + SCR) == 0x5au, "the scratch register keeps a byte");
	for (unsigned i = 0; i < 300u; i++)
		uart_numbered("calm ", i);
	svc_printf("passed: 300 lines written, no access refused\n");
	return 0;
#elif defined(VUART_COUNT)
	for (unsigned i = 0; i < 1000u; i++)
		uart_numbered("n=", i);
	svc_printf("passed: 1000 lines written, every access answered\n");
	return 0;
#elif defined(VUART_HOSTILE)
	guest_set_gate(13, gp_stub);
	uint16_t ax;
	uint32_t eax;
	gp_skip = 2; /* in (%dx), %ax: 66 ed */
	__asm__ volatile("in %%dx, %%ax" : "=a"(ax) : "d"((uint16_t)(COM1 + LSR)) : "memory");
	check(gp_count == 1 && gp_error == 0,
	      "a 16-bit IN of a byte register: refused, #GP(0), survived");
	gp_skip = 1; /* in (%dx), %eax: ed; MCR..SCR, inside the range */
	__asm__ volatile("in %%dx, %%eax" : "=a"(eax) : "d"((uint16_t)(COM1 + MCR)) : "memory");
	check(gp_count == 2, "a 32-bit IN too");
	outb(COM1 + LSR, 0x00u);
	outb(COM1 + MSR, 0xffu);
	check(inb(COM1 + LSR) == (LSR_THRE | LSR_TEMT),
	      "writes to the read-only LSR and MSR change nothing");
	uart_puts("hostile: still printing after all that\n");
	svc_printf("reading port 0x400, just past the range\n");
	(void)inb(0x400u);
	svc_printf("FAILED: port 0x400 answered\n");
	return 1;
#elif defined(VUART_IRQ)
	outb(COM1 + IIR, FCR_ENABLE);
	outb(COM1 + MCR, MCR_OUT2); /* the 16550's interrupt line reaches the PC only with OUT2 */
	tx_len = sizeof(irq_text) - 1u;
	outb(COM1 + IER, IER_THRI | IER_RDI);
	/* IF stays clear but while halted: each wait takes the interrupts that are due. */
	while (tx_next < tx_len)
		wait_for_interrupt();
	check(thre_irqs >= 4u, "a line written 16 bytes at a time from the THRE interrupt");
	uart_puts("type a line:\n");
	while (!line_done)
		wait_for_interrupt();
	line[line_len] = '\0';
	uart_puts("got: ");
	uart_puts(line);
	uart_putc('\n');
	check(line_done && rx_irqs >= 1u, "a typed line taken by the received-data interrupt");
	return line_done ? 0 : 1;
#else
#error "one of VUART_HELLO, VUART_COUNT, VUART_HOSTILE, VUART_IRQ"
#endif
}
