/*
 * dt-guest: a bare-metal program that finds its machine in its device tree
 * (README.md). Every step prints "dt-guest: <what it found or did>"; a step
 * that fails prints "dt-guest: FAILED: <why>" and powers off, so the test
 * sees exactly how far it got.
 */
#include <libfdt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#define CPU_MAX 8u

#define PSCI_VERSION 0x84000000u
#define PSCI_CPU_OFF 0x84000002u
#define PSCI_CPU_ON 0xc4000003u
#define PSCI_AFFINITY_INFO 0xc4000004u
#define PSCI_SYSTEM_OFF 0x84000008u

/* SBSA generic UART (PL011 subset) registers and bits. */
#define UART_DR 0x000u
#define UART_FR 0x018u
#define UART_IMSC 0x038u
#define UART_MIS 0x040u
#define UART_ICR 0x044u
#define FR_TXFF (1u << 5)
#define INT_TX (1u << 5)

/* GICv3 (ARM IHI 0069). */
#define GICD_CTLR 0x0000u
#define GICD_IGROUPR 0x0080u
#define GICD_ISENABLER 0x0100u
#define GICD_IROUTER 0x6000u
#define GICR_TYPER 0x0008u
#define GICR_WAKER 0x0014u
#define GICR_FRAME 0x20000u
#define GICR_SGI 0x10000u
#define ICC_SRE_EL1 "S3_0_C12_C12_5"
#define ICC_IAR1_EL1 "S3_0_C12_C12_0"
#define ICC_EOIR1_EL1 "S3_0_C12_C12_1"
#define ICC_PMR_EL1 "S3_0_C4_C6_0"
#define ICC_IGRPEN1_EL1 "S3_0_C12_C12_7"

#define read_sys(r)                                                  \
	({                                                           \
		uint64_t v_;                                         \
		__asm__ volatile("mrs %0, " r : "=r"(v_)::"memory"); \
		v_;                                                  \
	})
#define write_sys(r, v) __asm__ volatile("msr " r ", %0" ::"r"((uint64_t)(v)) : "memory")

void dt_main(const void *tree);
void secondary_main(uint64_t index);
void irq_handler(void);
void unexpected(uint64_t kind, uint64_t esr, uint64_t elr, uint64_t far);
void secondary_entry(void);
extern char _start[], _image_end[];

/* libfdt.a is built with the stack protector; the C library functions it calls come from
 * kernel/lib/string.c. */
uintptr_t __stack_chk_guard = 0x5eb1a2c3d4e5f607u;
_Noreturn void __stack_chk_fail(void);

static const void *fdt;
static uint64_t uart;
static bool psci_smc;
static uint64_t my_frame; /* this CPU's redistributor */
static uint32_t vtimer_intid, uart_intid;
static uint64_t timer_step;
static volatile uint32_t timer_ticks, uart_irqs, uart_mis;
static volatile uint64_t hello[CPU_MAX]; /* MPIDR + 1, from each started CPU */

static uint32_t r32(uint64_t a)
{
	return *(volatile uint32_t *)(uintptr_t)a;
}

static void w32(uint64_t a, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)a = v;
}

static uint64_t r64(uint64_t a)
{
	return *(volatile uint64_t *)(uintptr_t)a;
}

static void w64(uint64_t a, uint64_t v)
{
	*(volatile uint64_t *)(uintptr_t)a = v;
}

static int64_t psci(uint32_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
	register uint64_t x0 __asm__("x0") = fn;
	register uint64_t x1 __asm__("x1") = a1;
	register uint64_t x2 __asm__("x2") = a2;
	register uint64_t x3 __asm__("x3") = a3;
	if (psci_smc)
		__asm__ volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)::"memory");
	else
		__asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)::"memory");
	return (int64_t)x0;
}

static void put_char(char c)
{
	if (uart == 0)
		return;
	while (r32(uart + UART_FR) & FR_TXFF)
		;
	w32(uart + UART_DR, (uint8_t)c);
}

static void put_number(uint64_t v, unsigned base)
{
	char buf[24];
	unsigned n = 0;
	do {
		unsigned d = (unsigned)(v % base);
		buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v != 0);
	while (n > 0)
		put_char(buf[--n]);
}

/* A line: "dt-guest: " then fmt with %s (string), %u (uint64_t, decimal), %x (uint64_t, 0x hex). */
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	for (const char *p = "dt-guest: "; *p != '\0'; p++)
		put_char(*p);
	for (; *fmt != '\0'; fmt++) {
		if (*fmt != '%' || fmt[1] == '\0') {
			put_char(*fmt);
			continue;
		}
		fmt++;
		if (*fmt == 's') {
			for (const char *s = va_arg(ap, const char *); *s != '\0'; s++)
				put_char(*s);
		} else if (*fmt == 'u') {
			put_number(va_arg(ap, uint64_t), 10);
		} else if (*fmt == 'x') {
			put_char('0');
			put_char('x');
			put_number(va_arg(ap, uint64_t), 16);
		} else {
			put_char(*fmt);
		}
	}
	put_char('\n');
	va_end(ap);
}

static _Noreturn void power_off(void)
{
	(void)psci(PSCI_SYSTEM_OFF, 0, 0, 0);
	for (;;)
		__asm__ volatile("wfi");
}

_Noreturn void __stack_chk_fail(void)
{
	say("FAILED: stack smashing detected");
	power_off();
}

static _Noreturn void fail(const char *why)
{
	say("FAILED: %s", why);
	power_off();
}

void unexpected(uint64_t kind, uint64_t esr, uint64_t elr, uint64_t far)
{
	say("FAILED: exception %u, ESR %x at %x (FAR %x)", kind, esr, elr, far);
	power_off();
}

/** Cell i.. of a property as a number of `cells` cells (big-endian). */
static uint64_t cells_at(const fdt32_t *p, int cells)
{
	uint64_t v = 0;
	for (int i = 0; i < cells; i++)
		v = v << 32 | fdt32_to_cpu(p[i]);
	return v;
}

/** Entry `index` of node's reg, in its parent's address and size cells. */
static bool reg_of(int node, int index, uint64_t *base, uint64_t *size)
{
	int parent = fdt_parent_offset(fdt, node);
	int ac = fdt_address_cells(fdt, parent), sc = fdt_size_cells(fdt, parent);
	int len;
	const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);
	if (reg == NULL || ac < 1 || ac > 2 || sc < 0 || sc > 2 ||
	    len < (index + 1) * (ac + sc) * 4)
		return false;
	reg += index * (ac + sc);
	*base = cells_at(reg, ac);
	*size = cells_at(reg + ac, sc);
	return true;
}

/** Interrupt `index` of node as a GIC INTID (its interrupt parent has three cells). */
static uint32_t intid_of(int node, int index)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, "interrupts", &len);
	if (p == NULL || len < (index + 1) * 12)
		return 0;
	uint32_t type = fdt32_to_cpu(p[index * 3]), num = fdt32_to_cpu(p[index * 3 + 1]);
	if (type == 0 && num < 988u)
		return num + 32u; /* SPI */
	if (type == 1 && num < 16u)
		return num + 16u; /* PPI */
	return 0;
}

static uint64_t my_affinity(void)
{
	uint64_t m = read_sys("mpidr_el1");
	return (m & 0xffffffu) | ((m >> 32) & 0xffu) << 24;
}

static void find_uart(void)
{
	int chosen = fdt_path_offset(fdt, "/chosen");
	int len;
	const char *path = chosen < 0 ? NULL : fdt_getprop(fdt, chosen, "stdout-path", &len);
	if (path == NULL)
		fail("no /chosen/stdout-path"); /* nowhere to say it, but the test sees silence */
	int n = 0;
	while (n < len && path[n] != '\0' && path[n] != ':')
		n++;
	int node = fdt_path_offset_namelen(fdt, path, n);
	uint64_t base, size;
	if (node < 0 || !reg_of(node, 0, &base, &size))
		fail("stdout-path names no node with reg");
	if (fdt_node_check_compatible(fdt, node, "arm,sbsa-uart") != 0 &&
	    fdt_node_check_compatible(fdt, node, "arm,pl011") != 0)
		fail("stdout is not an SBSA UART or PL011");
	if (base + size > 0x40000000u)
		fail("the UART lies outside what this program maps as device memory");
	uart = base;
	uart_intid = intid_of(node, 0);
	say("stdout %s: an SBSA UART at %x, interrupt %u", path, base, (uint64_t)uart_intid);
}

static void check_memory(void)
{
	int node = fdt_node_offset_by_prop_value(fdt, -1, "device_type", "memory", 7);
	uint64_t base, size;
	if (node < 0 || !reg_of(node, 0, &base, &size))
		fail("no memory node");
	uint64_t me = (uint64_t)(uintptr_t)_start, end = (uint64_t)(uintptr_t)_image_end;
	if (me < base || end > base + size)
		fail("this program is not inside the memory the tree describes");
	if (base < 0x40000000u || base + size > 0x80000000u)
		fail("memory outside the 1-2 GiB this program maps as RAM");
	say("memory %x, %u MiB; this image %x-%x inside it", base, size >> 20, me, end);
}

static void find_psci(void)
{
	int node = fdt_node_offset_by_compatible(fdt, -1, "arm,psci-0.2");
	if (node < 0)
		node = fdt_node_offset_by_compatible(fdt, -1, "arm,psci-1.0");
	int mlen = 0;
	const char *method = node < 0 ? NULL : fdt_getprop(fdt, node, "method", &mlen);
	if (method == NULL)
		fail("no PSCI node with a method");
	if (fdt_stringlist_contains(method, mlen, "smc"))
		psci_smc = true;
	else if (!fdt_stringlist_contains(method, mlen, "hvc"))
		fail("PSCI method is neither hvc nor smc");
	int64_t v = psci(PSCI_VERSION, 0, 0, 0);
	say("PSCI over %s: version %u.%u", method, (uint64_t)(v >> 16) & 0xffffu,
	    (uint64_t)v & 0xffffu);
	if (v < 2) /* 0.2 is (0 << 16) | 2 */
		fail("PSCI older than 0.2");
}

static void setup_gic(void)
{
	int node = fdt_node_offset_by_compatible(fdt, -1, "arm,gic-v3");
	uint64_t dsize, gicr, rsize, gicd;
	if (node < 0 || !reg_of(node, 0, &gicd, &dsize) || !reg_of(node, 1, &gicr, &rsize))
		fail("no arm,gic-v3 node with its distributor and redistributors");
	if (gicr + rsize > 0x40000000u)
		fail("the GIC lies outside what this program maps as device memory");
	say("GICv3: distributor %x, redistributors %x (%u KiB)", gicd, gicr, rsize >> 10);
	w32(gicd + GICD_CTLR, (1u << 4) | (1u << 1)); /* ARE_NS, EnableGrp1NS */
	/* This CPU's redistributor: the frame whose GICR_TYPER names its affinity. */
	uint64_t aff = my_affinity();
	my_frame = 0;
	for (uint64_t f = gicr; f < gicr + rsize; f += GICR_FRAME) {
		uint64_t typer = r64(f + GICR_TYPER);
		if ((typer >> 32) == aff) {
			my_frame = f;
			break;
		}
		if (typer & (1u << 4)) /* Last */
			break;
	}
	if (my_frame == 0)
		fail("no redistributor has this CPU's affinity");
	w32(my_frame + GICR_WAKER, r32(my_frame + GICR_WAKER) & ~(1u << 1));
	while (r32(my_frame + GICR_WAKER) & (1u << 2))
		;
	write_sys(ICC_SRE_EL1, read_sys(ICC_SRE_EL1) | 1u);
	__asm__ volatile("isb");
	write_sys(ICC_PMR_EL1, 0xff);
	write_sys(ICC_IGRPEN1_EL1, 1);
	say("redistributor of affinity %x at %x is awake", aff, my_frame);

	/* The UART's SPI: group 1, routed here, enabled. */
	if (uart_intid >= 32u) {
		uint32_t word = uart_intid / 32u, bit = 1u << (uart_intid % 32u);
		w32(gicd + GICD_IGROUPR + 4u * word, r32(gicd + GICD_IGROUPR + 4u * word) | bit);
		w64(gicd + GICD_IROUTER + 8u * uart_intid, aff);
		w32(gicd + GICD_ISENABLER + 4u * word, bit);
	}
	__asm__ volatile("msr daifclr, #2" ::: "memory");
}

void irq_handler(void)
{
	uint32_t intid = (uint32_t)read_sys(ICC_IAR1_EL1) & 0xffffffu;
	if (intid >= 1020u)
		return;
	if (intid == vtimer_intid) {
		uint32_t n = timer_ticks + 1u;
		timer_ticks = n;
		if (n < 5u)
			write_sys("cntv_tval_el0", timer_step);
		else
			write_sys("cntv_ctl_el0", 0);
	} else if (intid == uart_intid && uart != 0) {
		uart_mis = r32(uart + UART_MIS);
		w32(uart + UART_IMSC, 0); /* masked: the line drops */
		uart_irqs = uart_irqs + 1u;
	}
	write_sys(ICC_EOIR1_EL1, intid);
}

static void timer_interrupts(void)
{
	int node = fdt_node_offset_by_compatible(fdt, -1, "arm,armv8-timer");
	vtimer_intid = node < 0 ? 0 : intid_of(node, 2); /* secure, non-secure, virtual, hyp */
	if (vtimer_intid < 16u || vtimer_intid >= 32u)
		fail("no arm,armv8-timer node with a virtual timer PPI");
	uint32_t word_bit = 1u << vtimer_intid;
	w32(my_frame + GICR_SGI + GICD_IGROUPR, r32(my_frame + GICR_SGI + GICD_IGROUPR) | word_bit);
	w32(my_frame + GICR_SGI + GICD_ISENABLER, word_bit);
	uint64_t freq = read_sys("cntfrq_el0");
	timer_step = freq / 100u;
	uint64_t t0 = read_sys("cntvct_el0");
	write_sys("cntv_tval_el0", timer_step);
	write_sys("cntv_ctl_el0", 1);
	while (timer_ticks < 5u)
		__asm__ volatile("wfi");
	uint64_t elapsed = read_sys("cntvct_el0") - t0;
	if (elapsed < 5u * timer_step)
		fail("five timer interrupts came before 50 ms had passed");
	say("5 virtual timer interrupts (INTID %u) at 100 Hz: %u ms", (uint64_t)vtimer_intid,
	    elapsed * 1000u / freq);
}

static void uart_interrupt(void)
{
	if (uart_intid < 32u)
		fail("the UART has no SPI");
	uint64_t freq = read_sys("cntfrq_el0"), t0 = read_sys("cntvct_el0");
	w32(uart + UART_IMSC, INT_TX); /* its output is empty: TXI at once */
	while (uart_irqs == 0 && read_sys("cntvct_el0") - t0 < freq)
		;
	if (uart_irqs == 0)
		fail("no UART interrupt within a second of unmasking TXI");
	say("UART interrupt (INTID %u): MIS %x", (uint64_t)uart_intid, (uint64_t)uart_mis);
}

void secondary_main(uint64_t index)
{
	hello[index] = read_sys("mpidr_el1") + 1u;
	__asm__ volatile("dsb ish" ::: "memory");
	(void)psci(PSCI_CPU_OFF, 0, 0, 0);
	for (;;)
		__asm__ volatile("wfi");
}

static void start_cpus(void)
{
	int cpus = fdt_path_offset(fdt, "/cpus");
	if (cpus < 0)
		fail("no /cpus");
	uint64_t mine = my_affinity(), freq = read_sys("cntfrq_el0");
	uint32_t count = 0, started = 0;
	int cpu;
	fdt_for_each_subnode (cpu, fdt, cpus) {
		int tlen = 0;
		const char *type = fdt_getprop(fdt, cpu, "device_type", &tlen);
		uint64_t mpidr, unused;
		if (type == NULL || fdt_stringlist_contains(type, tlen, "cpu") == 0 ||
		    !reg_of(cpu, 0, &mpidr, &unused))
			continue;
		count++;
		if (mpidr == mine || count > CPU_MAX)
			continue;
		uint64_t index = count - 1u;
		int64_t r = psci(PSCI_CPU_ON, mpidr, (uint64_t)(uintptr_t)secondary_entry, index);
		if (r != 0)
			fail("PSCI CPU_ON refused a CPU of the tree");
		uint64_t t0 = read_sys("cntvct_el0");
		/* A spin-wait with the hint every SMP guest gives (Linux's cpu_relax()). */
		while (hello[index] == 0 && read_sys("cntvct_el0") - t0 < freq)
			__asm__ volatile("yield" ::: "memory");
		if (hello[index] == 0)
			fail("a CPU started by CPU_ON never said hello");
		while (psci(PSCI_AFFINITY_INFO, mpidr, 0, 0) != 1 &&
		       read_sys("cntvct_el0") - t0 < freq)
			;
		say("%s (MPIDR %x) ran from CPU_ON and turned itself off",
		    fdt_get_name(fdt, cpu, NULL), (hello[index] - 1u) & 0xffffffu);
		started++;
	}
	say("%u CPUs in the tree, %u started by PSCI", (uint64_t)count, (uint64_t)started);
	if (count < 2u)
		fail("fewer than two CPUs in the tree");
}

void dt_main(const void *tree)
{
	fdt = tree;
	if (fdt_check_header(fdt) != 0)
		power_off(); /* no tree, no UART: silence tells the test */
	find_uart();
	const char *model = fdt_getprop(fdt, 0, "model", NULL);
	say("device tree at %x, %u bytes, model \"%s\"", (uint64_t)(uintptr_t)tree,
	    (uint64_t)fdt_totalsize(fdt), model != NULL ? model : "?");
	check_memory();
	find_psci();
	setup_gic();
	timer_interrupts();
	uart_interrupt();
	start_cpus();
	say("all done");
	power_off();
}
