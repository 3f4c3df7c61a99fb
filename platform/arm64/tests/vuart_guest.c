/**
 * VM guests of the vuart service (services/vuart): each drives the SBSA UART the service
 * emulates at 0x09000000 (SPI 33, as on QEMU virt) and reports through HC_CONSOLE_WRITE.
 * Built with the arm64 crt0 only. Variants:
 *
 *   GUEST_VUART_HELLO    polled output: reset values, IDs, 300 lines; ends normally.
 *   GUEST_VUART_HOSTILE  64-bit, wrong-width and misaligned accesses (aborts it survives),
 *                        writes to FR, RIS and MIS (ignored); ends with a load just past
 *                        the 4 KiB frame, which stops it alone.
 *   GUEST_VUART_COUNT    the kill test's stream: lines "n=000" .. "n=999", polled.
 *   GUEST_VUART_IRQ      interrupt-driven: output paced by TXI, input taken by RXI/RTI
 *                        and echoed as "got: <line>".
 *   GUEST_VUART_BENCH    mmio_emulated_read: the guest reads FR through the service.
 *   GUEST_VUART_DEMO     the demo's VM (configs/demo-arm64.dts): a few lines, polled.
 */
#include <ipc/abi.h>
#include <stddef.h>
/* One file, several guests: each variant uses its own subset of the helpers. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stdint.h>
#include <svc_arch.h>

int svc_main(uint64_t arg);
_Noreturn void svc_exit(uint64_t code);
void *memset(void *dst, int c, size_t n);
void vuart_el1_irq(void);
void vuart_el1_sync(void);

void *memset(void *dst, int c, size_t n)
{
	volatile uint8_t *d = dst;
	while (n-- > 0)
		*d++ = (uint8_t)c;
	return dst;
}

_Noreturn void svc_exit(uint64_t code)
{
	uint64_t r[9] = { HC_EXIT, code };
	arch_hypercall(r);
	for (;;)
		;
}

/** One line to the kernel's console (prefixed with this partition's name). */
static void say(const char *s)
{
	uint64_t r[9] = { HC_CONSOLE_WRITE };
	uint32_t k = 0;
	for (uint32_t i = 0;; i++) {
		if (s[i] != '\0')
			r[2 + k / 8] |= (uint64_t)(uint8_t)s[i] << (8 * (k % 8));
		k += s[i] != '\0';
		if (s[i] == '\0' || k == IPC_CONSOLE_MAX) {
			r[0] = HC_CONSOLE_WRITE;
			r[1] = k;
			arch_hypercall(r);
			for (uint32_t j = 1; j < 9; j++)
				r[j] = 0;
			k = 0;
		}
		if (s[i] == '\0')
			break;
	}
}

static void check(int ok, const char *what)
{
	say(ok ? "passed: " : "FAILED: ");
	say(what);
	say("\n");
}

#define read_sys(reg)                                         \
	({                                                    \
		uint64_t v_;                                  \
		__asm__ volatile("mrs %0, " #reg : "=r"(v_)); \
		v_;                                           \
	})
#define write_sys(reg, v) \
	__asm__ volatile("msr " #reg ", %0\n\tisb" ::"r"((uint64_t)(v)) : "memory")

#define UART UINT64_C(0x09000000)
#define UART_INTID 33u
#define DR 0x000u
#define FR 0x018u
#define IMSC 0x038u
#define RIS 0x03cu
#define MIS 0x040u
#define ICR 0x044u
#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)
#define INT_RX (1u << 4)
#define INT_TX (1u << 5)
#define INT_RT (1u << 6)

static inline uint32_t r32(uint64_t a)
{
	return *(volatile uint32_t *)(uintptr_t)a;
}
static inline void w32(uint64_t a, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)a = v;
}

/** Polled output: wait while the transmit FIFO is full, then write DR. */
static void uart_putc(char c)
{
	while (r32(UART + FR) & FR_TXFF)
		;
	w32(UART + DR, (uint8_t)c);
}

static void uart_puts(const char *s)
{
	while (*s != '\0')
		uart_putc(*s++);
}

/** The digits of v, width at least w, into b; returns the end. */
static char *fmt_u(char *b, uint32_t v, uint32_t w)
{
	char t[12];
	uint32_t n = 0;
	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n < w)
		t[n++] = '0';
	while (n != 0)
		*b++ = t[--n];
	*b = '\0';
	return b;
}

static volatile uint32_t sync_aborts;
static volatile uint64_t sync_esr;

/* EL1 vectors: current EL with SP_ELx, sync (0x200) and IRQ (0x280); the rest spin. */
__asm__(".pushsection .text\n"
        ".balign 2048\n"
        "vuart_vectors:\n"
        ".rept 4\n.balign 128\n1: b 1b\n.endr\n"
        ".balign 128\n"
        "\tsub sp, sp, #176\n\tstp x0, x1, [sp]\n\tadr x0, vuart_el1_sync\n\tb vuart_common\n"
        ".balign 128\n"
        "\tsub sp, sp, #176\n\tstp x0, x1, [sp]\n\tadr x0, vuart_el1_irq\n\tb vuart_common\n"
        ".rept 10\n.balign 128\n1: b 1b\n.endr\n"
        "vuart_common:\n"
        "\tstp x2, x3, [sp, #16]\n\tstp x4, x5, [sp, #32]\n\tstp x6, x7, [sp, #48]\n"
        "\tstp x8, x9, [sp, #64]\n\tstp x10, x11, [sp, #80]\n\tstp x12, x13, [sp, #96]\n"
        "\tstp x14, x15, [sp, #112]\n\tstp x16, x17, [sp, #128]\n\tstp x18, x30, [sp, #144]\n"
        "\tblr x0\n"
        "\tldp x2, x3, [sp, #16]\n\tldp x4, x5, [sp, #32]\n\tldp x6, x7, [sp, #48]\n"
        "\tldp x8, x9, [sp, #64]\n\tldp x10, x11, [sp, #80]\n\tldp x12, x13, [sp, #96]\n"
        "\tldp x14, x15, [sp, #112]\n\tldp x16, x17, [sp, #128]\n\tldp x18, x30, [sp, #144]\n"
        "\tldp x0, x1, [sp]\n\tadd sp, sp, #176\n\teret\n"
        ".popsection\n");
extern char vuart_vectors[];

/** A synchronous exception: the aborts the tests provoke; the access is skipped. */
void vuart_el1_sync(void)
{
	sync_esr = read_sys(esr_el1);
	sync_aborts++;
	write_sys(elr_el1, read_sys(elr_el1) + 4);
}

#if defined(GUEST_VUART_HELLO)

void vuart_el1_irq(void)
{
}

int svc_main(uint64_t arg)
{
	(void)arg;
	check(r32(UART + FR) == 0x90, "FR reads TXFE|RXFE after reset (0x90)");
	check(r32(UART + 0xfe0) == 0x11 && r32(UART + 0xfe8) == 0x34 && r32(UART + 0xff0) == 0x0d &&
	              r32(UART + 0xffc) == 0xb1,
	      "the PL011 r1p5 peripheral and PrimeCell IDs");
	uart_puts("hello through the vuart\n");
	char line[32];
	for (uint32_t i = 0; i < 300; i++) {
		char *e = fmt_u(line, i, 3);
		*e++ = '\n';
		*e = '\0';
		uart_puts("calm ");
		uart_puts(line);
	}
	check(sync_aborts == 0, "300 lines written, no access refused");
	return 0;
}

#elif defined(GUEST_VUART_DEMO)

void vuart_el1_irq(void)
{
}

int svc_main(uint64_t arg)
{
	(void)arg;
	uart_puts("hello from a VM: these lines go through its SBSA UART,\n");
	uart_puts("which the vuart service emulates and puts on the console\n");
	uart_puts("with this guest's name in front (the kernel prints nothing of them)\n");
	return 0;
}

#elif defined(GUEST_VUART_HOSTILE)

void vuart_el1_irq(void)
{
}

int svc_main(uint64_t arg)
{
	(void)arg;
	write_sys(vbar_el1, (uint64_t)(uintptr_t)vuart_vectors);
	uart_puts("hostile guest here\n");
	(void)*(volatile uint64_t *)(uintptr_t)(UART + DR);
	check(sync_aborts == 1 && (sync_esr & 0x3fu) == 0x10u,
	      "a 64-bit load of DR: a synchronous external abort");
	*(volatile uint64_t *)(uintptr_t)(UART + DR) = 0x4141414141414141ull;
	check(sync_aborts == 2, "a 64-bit store to DR: an abort, and nothing is written");
	(void)*(volatile uint16_t *)(uintptr_t)(UART + FR);
	check(sync_aborts == 3, "a 16-bit load of FR: an abort");
	(void)*(volatile uint8_t *)(uintptr_t)(UART + FR + 1);
	check(sync_aborts == 4, "a byte load inside FR (offset 0x19): an abort");
	uint32_t v;
	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(UART + FR + 2) : "memory");
	check(sync_aborts == 5 && (sync_esr & 0x3fu) == 0x10u,
	      "an unaligned 32-bit load at 0x1a reaches the service: an external abort");
	uint32_t fr = r32(UART + FR), ris = r32(UART + RIS);
	w32(UART + FR, 0xffffffffu);
	w32(UART + RIS, 0xffffffffu);
	w32(UART + MIS, 0xffffffffu);
	check(sync_aborts == 5 && r32(UART + FR) == fr && r32(UART + RIS) == ris &&
	              r32(UART + MIS) == 0,
	      "writes to FR, RIS and MIS are ignored");
	uart_puts("hostile guest still printing\n");
	say("loading just past the 4 KiB frame\n");
	(void)r32(UART + 0x1000);
	say("FAILED: the load past the frame went through\n");
	return 1;
}

#elif defined(GUEST_VUART_COUNT)

void vuart_el1_irq(void)
{
}

int svc_main(uint64_t arg)
{
	(void)arg;
	char line[16] = "n=";
	for (uint32_t i = 0; i < 1000; i++) {
		char *e = fmt_u(line + 2, i, 3);
		*e++ = '\n';
		*e = '\0';
		uart_puts(line);
	}
	/* Wait until the service has taken every byte (TXFE), so the count is complete. */
	while ((r32(UART + FR) & 0x80u) == 0)
		;
	check(sync_aborts == 0, "1000 lines written, every access answered");
	return 0;
}

#elif defined(GUEST_VUART_IRQ) || defined(GUEST_VUART_BENCH)

#define GICD UINT64_C(0x08000000)
#define GICR UINT64_C(0x080a0000)
#define ICC_IAR1 S3_0_C12_C12_0
#define ICC_EOIR1 S3_0_C12_C12_1
#define ICC_PMR S3_0_C4_C6_0
#define ICC_IGRPEN1 S3_0_C12_C12_7
#define write_icc(reg, v) write_icc_(reg, v)
#define write_icc_(reg, v) write_sys(reg, v)
#define read_icc(reg) read_icc_(reg)
#define read_icc_(reg) read_sys(reg)
#define VTIMER_INTID 27u

static const char tx_text[] = "irq-driven output: this line and the next 39 are paced by TXI\n";
static volatile uint32_t tx_lines, tx_pos, tx_irqs, rx_irqs, timer_ticks;
static char rx_line[64];
static volatile uint32_t rx_len, rx_done;

/** TXI: write while the FIFO has room; mask TXI when the stream is done. */
static void on_tx(void)
{
	tx_irqs++;
	while (tx_lines < 40 && (r32(UART + FR) & FR_TXFF) == 0) {
		w32(UART + DR, (uint8_t)tx_text[tx_pos++]);
		if (tx_text[tx_pos] == '\0') {
			tx_pos = 0;
			tx_lines++;
		}
	}
	if (tx_lines == 40)
		w32(UART + IMSC, r32(UART + IMSC) & ~INT_TX);
}

/** RXI/RTI: read until the FIFO is empty, keep one line. */
static void on_rx(void)
{
	rx_irqs++;
	while ((r32(UART + FR) & FR_RXFE) == 0) {
		char c = (char)(r32(UART + DR) & 0xffu);
		if (c == '\r' || c == '\n') {
			if (rx_len != 0)
				rx_done = 1;
		} else if (rx_len + 1 < sizeof(rx_line) && !rx_done) {
			rx_line[rx_len++] = c;
		}
	}
}

void vuart_el1_irq(void)
{
	for (;;) {
		uint32_t intid = (uint32_t)read_icc(ICC_IAR1) & 0xffffffu;
		if (intid >= 1020u)
			return;
		if (intid == UART_INTID) {
			uint32_t mis = r32(UART + MIS);
			if (mis & (INT_RX | INT_RT))
				on_rx();
			if (mis & INT_TX)
				on_tx();
		} else if (intid == VTIMER_INTID) {
			timer_ticks++;
			write_sys(cntv_tval_el0, read_sys(cntfrq_el0) / 100);
		}
		write_icc(ICC_EOIR1, intid);
	}
}

static void gic_on(void)
{
	write_sys(vbar_el1, (uint64_t)(uintptr_t)vuart_vectors);
	write_icc(ICC_PMR, 0xff);
	write_icc(ICC_IGRPEN1, 1);
	w32(GICD + 0x0, 1u << 1);                        /* GICD_CTLR.EnableGrp1NS */
	w32(GICR + 0x14, 0);                             /* GICR_WAKER: awake */
	w32(GICR + 0x10000 + 0x100, 1u << VTIMER_INTID); /* ISENABLER0 */
	w32(GICD + 0x100 + 4 * (UART_INTID / 32), 1u << (UART_INTID % 32));    /* ISENABLER */
	*(volatile uint64_t *)(uintptr_t)(GICD + 0x6000 + 8 * UART_INTID) = 0; /* IROUTER */
}

#if defined(GUEST_VUART_IRQ)
int svc_main(uint64_t arg)
{
	(void)arg;
	gic_on();
	/* A 100 Hz tick: a vCPU waiting with its timer armed keeps the system running. */
	write_sys(cntv_tval_el0, read_sys(cntfrq_el0) / 100);
	write_sys(cntv_ctl_el0, 1);
	w32(UART + IMSC, INT_TX | INT_RX | INT_RT);
	__asm__ volatile("msr daifclr, #2\n\tisb" ::: "memory");
	/* The first byte by hand: TXI is set by a write (as on a PL011), then it paces. */
	w32(UART + DR, (uint8_t)tx_text[tx_pos++]);
	while (tx_lines < 40 && timer_ticks < 2000)
		__asm__ volatile("wfi");
	check(tx_lines == 40 && tx_irqs > 0, "40 lines written from the TXI handler");
	/* A prompt without a newline: enabling RX again says it waits, so the service shows it. */
	uart_puts("type a line: ");
	w32(UART + IMSC, INT_RX | INT_RT);
	/*
	 * No bound in guest time here: the line comes from the runner, in host time, and under
	 * -icount an idle machine's clock jumps to its next timer at once, so any tick count runs
	 * out while a loaded host is still typing. The runner's own timeout bounds this wait.
	 */
	while (!rx_done)
		__asm__ volatile("wfi");
	__asm__ volatile("msr daifset, #2\n\tisb" ::: "memory");
	write_sys(cntv_ctl_el0, 0);
	rx_line[rx_len] = '\0';
	uart_puts("\ngot: ");
	uart_puts(rx_line);
	uart_puts("\n");
	check(rx_done && rx_irqs > 0, "a line of input taken by the RX interrupt");
	w32(UART + ICR, INT_RX | INT_RT | INT_TX);
	check((r32(UART + MIS) & INT_RT) == 0, "no input left after the line (RTI clear)");
	return 0;
}
#else
/**
 * mmio_emulated_read: the guest reads the vuart's FR; the kernel takes the stage-2 fault,
 * the service answers, the load completes. Median of 1000, the counter's own overhead (a
 * trapped PMCCNTR read) removed.
 */
int svc_main(uint64_t arg)
{
	(void)arg;
	static uint64_t samples[1000];
	uint64_t a = read_sys(pmccntr_el0), b = read_sys(pmccntr_el0), overhead = b - a;
	for (uint32_t i = 0; i < 1000; i++) {
		uint64_t t0 = read_sys(pmccntr_el0);
		(void)r32(UART + FR);
		uint64_t t1 = read_sys(pmccntr_el0);
		samples[i] = t1 - t0 - overhead;
	}
	for (uint32_t i = 1; i < 1000; i++) {
		uint64_t x = samples[i];
		uint32_t j = i;
		for (; j > 0 && samples[j - 1] > x; j--)
			samples[j] = samples[j - 1];
		samples[j] = x;
	}
	char line[64] = "BENCH name=mmio_emulated_read value=";
	char *e = fmt_u(line + 36, (uint32_t)((samples[499] + samples[500]) / 2), 1);
	const char *unit = " unit=insns\n";
	while (*unit != '\0')
		*e++ = *unit++;
	*e = '\0';
	say(line);
	return 0;
}
#endif

#endif
