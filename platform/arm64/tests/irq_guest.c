/**
 * EL1 guests for the virtual GIC tests (irq.dts): a VM that drives its
 * virtual GICv3 the way an OS does, through the distributor and
 * redistributor frames, the ICC_* registers and its own exception vectors,
 * and checks what it gets. Built with the arm64 crt0 only (no service
 * library). Variants:
 *
 *   GUEST_IRQ        2 vCPUs: timer at a set rate (spinning and in WFI),
 *                    SGIs both ways and broadcast, priorities, more pending
 *                    than list registers, a passed-through SPI (PL031 RTC),
 *                    hostile accesses; ends with a write to a redistributor
 *                    it does not have, which stops it.
 *   GUEST_IRQ_OTHER  1 vCPU on the CPU of the other's vCPU 1: its own timer
 *                    for 2 s; it must never see the RTC's SPI.
 *   GUEST_IRQ_BENCH  benchmarks (tests/bench/irq.dts, run under -icount):
 *                    vtimer_irq_latency, vtimer_irq_wfi_latency, sgi_round_trip.
 *   GUEST_EMU        a VM using a device a service emulates (emu.dts): loads,
 *                    stores, widths, sign extension, refused accesses, the
 *                    device's interrupt; ends with an access past the range.
 *   GUEST_EMU_SERVICE  that emulator: answers every IPC_LABEL_MMIO message.
 *   GUEST_EMU_BENCH  mmio_emulated_read (tests/bench/emu-arm64.dts).
 *   GUEST_EMU_MUTE / GUEST_EMU_MUTED  an emulator that never answers, and its VM.
 *   GUEST_EMU_FAR    a VM whose emulator waits on the other CPU (emu-far.dts).
 *   GUEST_EMU_QUIT / GUEST_EMU_STOPPED  an emulator that answers once, then crashes
 *                    holding an access, and its VM, which then finds it stopped.
 *   GUEST_ITS        2 vCPUs with LPIs and a virtual ITS (the vits service, its.dts):
 *                    spec section 8's ITS tests, TRANSLATER, a device model's MSI.
 *   GUEST_ITS_OTHER  another VM of the same vits service: only its own LPIs.
 *   GUEST_MSI_DEV    a device model (a service) that sends MSIs through vits.
 *   GUEST_DMOP_VM / GUEST_DMOP_DM / GUEST_DMOP_AUDIT  the dmop service's test (dmop.dts):
 *                    a VM, its device model acting only through dmop (then the hostile
 *                    tries, a crash and restart), and an auditor reading the audit log.
 *   GUEST_DMOP_MSI   a device model whose MSIs go through dmop to vits (dmop-msi.dts).
 *   GUEST_DMOP_BENCH dm_route_round_trip (tests/bench/dmop-arm64.dts, with GUEST_DMOP_DM).
 *   GUEST_ITS_BENCH  msi_lpi_latency and lpi_injection_latency (tests/bench/its-arm64.dts,
 *                    under -icount), with GUEST_MSI_BENCH_DM, the device model that sends.
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
void irq_el1_irq(void);
void irq_el1_sync(uint64_t *frame);

void *memset(void *dst, int c, size_t n)
{
	volatile uint8_t *d = dst;
	while (n-- > 0)
		*d++ = (uint8_t)c;
	return dst;
}

static uint64_t hc(uint64_t nr, uint64_t a1)
{
	uint64_t r[9] = { nr, a1, 0, 0, 0, 0, 0, 0, 0 };
	arch_hypercall(r);
	return r[0];
}

_Noreturn void svc_exit(uint64_t code)
{
	hc(HC_EXIT, code);
	for (;;)
		;
}

static void put(const char *s, uint32_t n)
{
	uint64_t r[9] = { HC_CONSOLE_WRITE, 0, 0, 0, 0, 0, 0, 0, 0 };
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++) {
		r[2 + k / 8] |= (uint64_t)(uint8_t)s[i] << (8 * (k % 8));
		k++;
		if (k == IPC_CONSOLE_MAX || i + 1 == n) {
			r[0] = HC_CONSOLE_WRITE;
			r[1] = k;
			arch_hypercall(r);
			for (uint32_t j = 1; j < 9; j++)
				r[j] = 0;
			k = 0;
		}
	}
}

static void puts_(const char *s)
{
	uint32_t n = 0;
	while (s[n] != 0)
		n++;
	put(s, n);
}

static void putu(uint64_t v)
{
	char b[24];
	int i = 23;
	b[i] = 0;
	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	puts_(&b[i]);
}

static __attribute__((unused)) void check(int ok, const char *what)
{
	puts_(ok ? "passed: " : "FAILED: ");
	puts_(what);
	puts_("\n");
}

/* The machine's GIC layout (QEMU virt), which the VM's virtual GIC copies. */
#define GICD UINT64_C(0x08000000)
#define GICR UINT64_C(0x080a0000)
#define GICR_FRAME(c) (GICR + (uint64_t)(c)*0x20000u)
#define SGI_BASE(c) (GICR_FRAME(c) + 0x10000u)
#define RTC UINT64_C(0x09010000) /* PL031, SPI 2 = INTID 34 */
#define RTC_INTID 34u
#define VTIMER_INTID 27u
#define PTIMER_INTID 30u

/* Two levels, so that the ICC_* names below expand before they are quoted. */
#define read_sys(reg) read_sys_(reg)
#define read_sys_(reg)                                        \
	({                                                    \
		uint64_t v_;                                  \
		__asm__ volatile("mrs %0, " #reg : "=r"(v_)); \
		v_;                                           \
	})
#define write_sys(reg, v) write_sys_(reg, v)
#define write_sys_(reg, v) \
	__asm__ volatile("msr " #reg ", %0\n\tisb" ::"r"((uint64_t)(v)) : "memory")

static inline uint32_t r32(uint64_t a)
{
	return *(volatile uint32_t *)(uintptr_t)a;
}
static inline void w32(uint64_t a, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)a = v;
}
static inline void w8(uint64_t a, uint8_t v)
{
	*(volatile uint8_t *)(uintptr_t)a = v;
}
static inline void w64(uint64_t a, uint64_t v)
{
	*(volatile uint64_t *)(uintptr_t)a = v;
}

#define ICC_IAR1 S3_0_C12_C12_0
#define ICC_EOIR1 S3_0_C12_C12_1
#define ICC_PMR S3_0_C4_C6_0
#define ICC_IGRPEN1 S3_0_C12_C12_7
#define ICC_SGI1R S3_0_C12_C11_5

static uint32_t this_vcpu(void)
{
	return (uint32_t)(read_sys(mpidr_el1) & 0xffu);
}

/* What the interrupt handler saw, per vCPU (LPIs 8192 .. 8192 + LPI_SEEN - 1 apart). */
#define LPI_BASE 8192u
#define LPI_SEEN 64u
static volatile uint32_t seen[2][300];
static volatile uint32_t lpi_seen[2][LPI_SEEN];
static volatile uint32_t order[32];
static volatile uint32_t order_len;
static volatile uint32_t timer_period; /* ticks; 0: a one-shot that the handler turns off */
/* count_deadlines' tally of the periodic timer it counts (interrupt counted_intid). */
static volatile uint32_t counted_intid, deadlines_taken, taken_early;
static volatile uint64_t first_tick; /* CNTVCT_EL0 read first thing in the handler */
static volatile uint32_t sync_aborts;
static volatile uint64_t sync_esr;

/* EL1 vectors: current EL with SP_ELx, sync (0x200) and IRQ (0x280); the rest spin. */
__asm__(".pushsection .text\n"
        ".balign 2048\n"
        ".global irq_vectors\n"
        "irq_vectors:\n"
        ".rept 4\n.balign 128\n1: b 1b\n.endr\n"
        ".balign 128\n"
        "\tsub sp, sp, #256\n"
        "\tstp x0, x1, [sp, #0]\n"
        "\tmov x0, sp\n"
        "\tb irq_sync_common\n"
        ".balign 128\n"
        "\tsub sp, sp, #256\n"
        "\tstp x0, x1, [sp, #0]\n"
        "\tb irq_irq_common\n"
        ".rept 10\n.balign 128\n1: b 1b\n.endr\n"
        "irq_save:\n"
        "\tstp x2, x3, [sp, #16]\n\tstp x4, x5, [sp, #32]\n\tstp x6, x7, [sp, #48]\n"
        "\tstp x8, x9, [sp, #64]\n\tstp x10, x11, [sp, #80]\n\tstp x12, x13, [sp, #96]\n"
        "\tstp x14, x15, [sp, #112]\n\tstp x16, x17, [sp, #128]\n\tstr x18, [sp, #144]\n"
        "\tret\n"
        "irq_restore_eret:\n"
        "\tldp x2, x3, [sp, #16]\n\tldp x4, x5, [sp, #32]\n\tldp x6, x7, [sp, #48]\n"
        "\tldp x8, x9, [sp, #64]\n\tldp x10, x11, [sp, #80]\n\tldp x12, x13, [sp, #96]\n"
        "\tldp x14, x15, [sp, #112]\n\tldp x16, x17, [sp, #128]\n\tldr x18, [sp, #144]\n"
        "\tldr x30, [sp, #152]\n\tldp x0, x1, [sp, #0]\n\tadd sp, sp, #256\n\teret\n"
        "irq_irq_common:\n"
        "\tstr x30, [sp, #152]\n\tbl irq_save\n\tbl irq_el1_irq\n\tb irq_restore_eret\n"
        "irq_sync_common:\n"
        "\tstr x30, [sp, #152]\n\tbl irq_save\n\tmov x0, sp\n\tbl irq_el1_sync\n"
        "\tb irq_restore_eret\n"
        ".popsection\n");
extern char irq_vectors[];

#if defined(GUEST_ITS_BENCH) || defined(GUEST_MSI_BENCH_DM)
static volatile uint64_t irq_cycles; /* PMCCNTR_EL0 first thing in the handler */
/** The page the guest and the device model of the benchmark share (its-arm64.dts). */
struct bench_page {
	uint32_t request; /**< the guest's: the number of the MSI it waits for */
	uint64_t sent;    /**< the device model's: PMCCNTR_EL0 just before it sent it */
};
#define BENCH_DONE 0xffffffffu
static volatile struct bench_page *const bench_page =
        (volatile struct bench_page *)(uintptr_t)0x200000u;
#endif

void irq_el1_irq(void)
{
#if defined(GUEST_ITS_BENCH)
	irq_cycles = read_sys(pmccntr_el0);
#endif
	first_tick = read_sys(cntvct_el0);
	uint32_t c = this_vcpu() & 1u;
	for (;;) {
		uint32_t intid = (uint32_t)read_sys(ICC_IAR1) & 0xffffffu;
		if (intid >= 1020u && intid < 1024u)
			return; /* special: nothing (more) pending */
		if (intid < 300u)
			seen[c][intid]++;
		if (intid >= LPI_BASE && intid < LPI_BASE + LPI_SEEN)
			lpi_seen[c][intid - LPI_BASE]++;
		if (c == 0 && order_len < 32u)
			order[order_len++] = intid;
		if (intid == VTIMER_INTID || intid == PTIMER_INTID) {
			int phys = intid == PTIMER_INTID;
			uint64_t ctl = phys ? read_sys(cntp_ctl_el0) : read_sys(cntv_ctl_el0);
			if (intid == counted_intid && timer_period != 0) {
				if (ctl & 4u) /* ISTATUS: its deadline has passed */
					deadlines_taken++;
				else
					taken_early++;
			}
			if (timer_period != 0 && phys) /* from the last deadline: no drift */
				write_sys(cntp_cval_el0, read_sys(cntp_cval_el0) + timer_period);
			else if (timer_period != 0)
				write_sys(cntv_cval_el0, read_sys(cntv_cval_el0) + timer_period);
			else if (phys)
				write_sys(cntp_ctl_el0, 0);
			else
				write_sys(cntv_ctl_el0, 0);
		}
#if defined(GUEST_DMOP_VM)
		if (intid == 53u)
			w32(UINT64_C(0x0a000000) + 0x08, 0); /* the model lowers it through dmop */
#endif
#if defined(GUEST_EMU)
		if (intid == 40u)
			w32(UINT64_C(0x0a000000) + 0x40, 0); /* ask the service to lower the line */
#endif
		if (intid == RTC_INTID) {
			w32(RTC + 0x10, 0); /* IMSC: mask */
			w32(RTC + 0x1c, 1); /* ICR: clear */
		}
		write_sys(ICC_EOIR1, intid);
	}
}

/** A synchronous exception at EL1: only the data aborts the tests provoke are expected. */
void irq_el1_sync(uint64_t *frame)
{
	(void)frame;
	uint64_t esr = read_sys(esr_el1);
	sync_esr = esr;
	sync_aborts++;
	write_sys(elr_el1, read_sys(elr_el1) + 4); /* skip the access */
}

static void irqs_on(void)
{
	__asm__ volatile("msr daifclr, #2\n\tisb" ::: "memory");
}
static void irqs_off(void)
{
	__asm__ volatile("msr daifset, #2\n\tisb" ::: "memory");
}

/*
 * Wait for an interrupt and take it. Called with interrupts masked, right
 * after checking what it waits for: a check and a WFI with them unmasked
 * would lose an interrupt taken between the two (the WFI then waits for the
 * next one, which may never come). A pending interrupt ends a WFI even while
 * masked; it is taken here when they are unmasked, then masked again for
 * the caller's next check.
 */
static __attribute__((unused)) void wfi_then_take(void)
{
	__asm__ volatile("wfi" ::: "memory");
	irqs_on();
	irqs_off();
}

/** This vCPU's side of the GIC: vectors, priority mask, Group 1 on. */
static void cpu_interface_on(void)
{
	write_sys(vbar_el1, (uint64_t)(uintptr_t)irq_vectors);
	write_sys(ICC_PMR, 0xff);
	write_sys(ICC_IGRPEN1, 1);
}

static uint64_t now(void)
{
	__asm__ volatile("isb");
	return read_sys(cntvct_el0);
}

static __attribute__((unused)) void sgi(uint32_t intid, uint64_t target_list)
{
	write_sys(ICC_SGI1R, ((uint64_t)intid << 24) | target_list);
}

#if defined(GUEST_IRQ) || defined(GUEST_IRQ_OTHER)

/**
 * The timer (phys: the EL1 physical one, which the kernel emulates for a
 * VM, through TVAL; else the virtual one) at rate hz for n deadlines, each
 * the last plus one period: 1 if every one was taken once and none early (a
 * timer interrupt with ISTATUS clear: fired before its deadline, or twice
 * for one). The handler moves the deadline on from the last one, so one
 * taken late leaves the rest on time and nothing depends on the host's
 * load; wfi: wait for them, don't spin. Gives up after 3 n periods.
 */
static int count_deadlines(int phys, uint32_t hz, uint32_t n, int wfi)
{
	uint64_t freq = read_sys(cntfrq_el0);
	irqs_off();
	counted_intid = phys ? PTIMER_INTID : VTIMER_INTID;
	deadlines_taken = 0;
	taken_early = 0;
	timer_period = (uint32_t)(freq / hz);
	if (phys) {
		write_sys(cntp_tval_el0, timer_period);
		write_sys(cntp_ctl_el0, 1);
	} else {
		write_sys(cntv_tval_el0, timer_period);
		write_sys(cntv_ctl_el0, 1);
	}
	uint64_t start = now(), limit = 3u * (uint64_t)n * timer_period;
	while (deadlines_taken < n && now() - start < limit) {
		if (wfi) {
			wfi_then_take();
		} else {
			irqs_on();
			irqs_off();
		}
	}
	if (phys)
		write_sys(cntp_ctl_el0, 0);
	else
		write_sys(cntv_ctl_el0, 0);
	counted_intid = 0;
	puts_(phys ? "physical" : "virtual");
	puts_(" timer at ");
	putu(hz);
	puts_(wfi ? " Hz, in WFI: " : " Hz, spinning: ");
	putu(deadlines_taken);
	puts_(" of ");
	putu(n);
	puts_(" deadlines taken, ");
	putu(taken_early);
	puts_(" early\n");
	/* More than n: the last ones were late, and taken together (they were due). */
	return deadlines_taken >= n && taken_early == 0;
}

#endif

#if defined(GUEST_IRQ)

static volatile uint32_t v1_ready, v1_stop;

static void test_ptimer(void)
{
	uint64_t freq = read_sys(cntfrq_el0);
	write_sys(cntp_ctl_el0, 0);
	write_sys(cntp_cval_el0, UINT64_C(0x123456789));
	check(read_sys(cntp_cval_el0) == UINT64_C(0x123456789), "physical timer: CVAL reads back");
	write_sys(cntp_tval_el0, freq);
	int64_t tval = (int32_t)(uint32_t)read_sys(cntp_tval_el0);
	check(tval > 0 && tval <= (int64_t)freq,
	      "physical timer: TVAL counts down from what was written");
	write_sys(cntp_ctl_el0, 3); /* ENABLE, IMASK */
	write_sys(cntp_cval_el0, 0);
	check((read_sys(cntp_ctl_el0) & 7u) == 7u,
	      "physical timer: CTL reads ENABLE, IMASK and ISTATUS");
	write_sys(cntp_ctl_el0, 0);
	w32(SGI_BASE(0) + 0x100, 1u << PTIMER_INTID);
	check(count_deadlines(1, 100, 100, 0),
	      "physical timer at 100 Hz: 100 deadlines each taken once, none early (spinning)");
	check(count_deadlines(1, 100, 100, 1),
	      "physical timer at 100 Hz: 100 deadlines each taken once, none early (in WFI)");

	/*
	 * Catching up: a deadline ten periods past. The handler moves CVAL one period on
	 * (still past) before its EOI, so the level stays high: each must be taken again.
	 */
	uint32_t before = seen[0][PTIMER_INTID];
	timer_period = (uint32_t)(freq / 1000u);
	write_sys(cntp_tval_el0, (uint64_t)(uint32_t) - (int32_t)(10u * timer_period));
	write_sys(cntp_ctl_el0, 1);
	uint64_t start = now();
	irqs_on();
	while (seen[0][PTIMER_INTID] - before < 10u && now() - start < freq)
		;
	irqs_off();
	write_sys(cntp_ctl_el0, 0);
	uint32_t n = seen[0][PTIMER_INTID] - before;
	puts_("physical timer ten periods late: ");
	putu(n);
	puts_(" interrupts\n");
	check(n >= 10u, "physical timer: a level still high after the handler is taken again");
}

static void wait_for(const volatile uint32_t *counter, uint32_t value, uint64_t timeout_ticks)
{
	uint64_t start = now();
	irqs_off();
	while (*counter < value && now() - start < timeout_ticks)
		wfi_then_take();
}

static void vcpu1_main(void)
{
	cpu_interface_on();
	v1_ready = 1;
	irqs_off();
	uint32_t answered = 0;
	while (!v1_stop) {
		while (answered < seen[1][1]) {
			answered++;
			sgi(2, 1u << 0); /* answer SGI 1 with SGI 2 to vCPU 0 */
		}
		wfi_then_take();
	}
	for (;;)
		__asm__ volatile("wfi"); /* parked: its partition ends with vCPU 0 */
}

static void test_registers(void)
{
	uint32_t typer = r32(GICD + 0x4);
	check((typer & 0x1fu) >= 1u, "GICD_TYPER: at least the SPIs 32-63");
	check(((r32(GICD + 0xffe8) >> 4) & 0xfu) == 3u, "GICD_PIDR2: GICv3");
	uint64_t rtyper = *(volatile uint64_t *)(uintptr_t)(GICR_FRAME(1) + 0x8);
	check(((rtyper >> 8) & 0xffffu) == 1u && (rtyper & (1u << 4)),
	      "GICR_TYPER of vCPU 1: processor 1, the last redistributor");
	check(r32(GICD + 0xc000) == 0, "a reserved distributor offset reads as zero");
}

static void test_priorities(void)
{
	irqs_off();
	w8(SGI_BASE(0) + 0x400 + 5, 0xa0);
	w8(SGI_BASE(0) + 0x400 + 6, 0x20);
	w8(SGI_BASE(0) + 0x400 + 7, 0xc0);
	sgi(5, 1);
	uint32_t a = (uint32_t)read_sys(ICC_IAR1) & 0xffffffu;
	sgi(7, 1);
	sgi(6, 1);
	uint32_t b = (uint32_t)read_sys(ICC_IAR1) & 0xffffffu;
	if (b < 1020u)
		write_sys(ICC_EOIR1, b);
	uint32_t c = (uint32_t)read_sys(ICC_IAR1) & 0xffffffu;
	if (c < 1020u)
		write_sys(ICC_EOIR1, c);
	write_sys(ICC_EOIR1, a);
	uint32_t d = (uint32_t)read_sys(ICC_IAR1) & 0xffffffu;
	if (d < 1020u)
		write_sys(ICC_EOIR1, d);
	check(a == 5, "priorities: SGI 5 (0xa0) acknowledged");
	check(b == 6,
	      "priorities: a higher-priority interrupt (0x20) preempts a lower one's handler");
	check(c >= 1020u, "priorities: a lower one (0xc0) waits while 0xa0 runs");
	check(d == 7, "priorities: and comes once the running one's EOI drops the priority");
}

static void test_overflow(void)
{
	irqs_off();
	order_len = 0;
	/* SGIs 8-15 with priorities 0x80, 0x78, ... 0x48: more than the 4 list registers. */
	for (uint32_t i = 8; i < 16; i++)
		w8(SGI_BASE(0) + 0x400 + i, (uint8_t)(0x80 - (i - 8) * 8));
	uint32_t before[16];
	for (uint32_t i = 8; i < 16; i++)
		before[i] = seen[0][i];
	for (uint32_t i = 8; i < 16; i++)
		sgi(i, 1);
	uint64_t start = now(), freq = read_sys(cntfrq_el0);
	irqs_on();
	while (order_len < 8 && now() - start < freq / 10)
		__asm__ volatile("nop");
	irqs_off();
	int all = 1, sorted = 1;
	for (uint32_t i = 8; i < 16; i++)
		all &= seen[0][i] == before[i] + 1;
	for (uint32_t k = 0; k < order_len; k++)
		sorted &= order[k] == 15 - k;
	check(all && order_len == 8,
	      "8 SGIs pending at once with 4 list registers: each delivered once");
	check(sorted, "and in priority order (highest first)");
}

static void test_sgis(void)
{
	const uint32_t rounds = 20;
	/* vCPU 1 (started by PSCI CPU_ON at crt0's _start with its index). */
	register uint64_t x0 __asm__("x0") = 0xc4000003;
	register uint64_t x1 __asm__("x1") = 1;
	register uint64_t x2 __asm__("x2") = 0x100000;
	register uint64_t x3 __asm__("x3") = 1;
	__asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
	check(x0 == 0, "PSCI CPU_ON started vCPU 1");
	uint64_t start = now(), freq = read_sys(cntfrq_el0);
	while (!v1_ready && now() - start < freq)
		hc(HC_YIELD, 0);
	check(v1_ready == 1, "vCPU 1 set its CPU interface up");
	for (uint32_t i = 0; i < rounds; i++) {
		sgi(1, 1u << 1);
		wait_for(&seen[0][2], i + 1, freq);
	}
	check(seen[1][1] == rounds, "SGI 1 from vCPU 0 to vCPU 1: 20 delivered");
	check(seen[0][2] == rounds, "SGI 2 from vCPU 1 to vCPU 0: 20 delivered");
	/* Broadcast (IRM = 1): every vCPU but the sender. */
	uint32_t self_before = seen[0][3];
	write_sys(ICC_SGI1R, (UINT64_C(3) << 24) | (UINT64_C(1) << 40));
	start = now();
	while (seen[1][3] == 0 && now() - start < freq)
		hc(HC_YIELD, 0);
	check(seen[1][3] == 1 && seen[0][3] == self_before,
	      "a broadcast SGI reaches the other vCPU, not the sender");
	/* A target the VM does not have (Aff0 = 5): nothing happens anywhere. */
	uint32_t s0 = seen[0][4], s1 = seen[1][4];
	sgi(4, 1u << 5);
	for (int i = 0; i < 50; i++)
		hc(HC_YIELD, 0);
	check(seen[0][4] == s0 && seen[1][4] == s1,
	      "an SGI to a vCPU the VM does not have is ignored");
}

static void test_rtc(void)
{
	uint64_t freq = read_sys(cntfrq_el0);
	w32(GICD + 0x100 + 4, 1u << (RTC_INTID - 32)); /* ISENABLER1 */
	w64(GICD + 0x6000 + 8 * RTC_INTID, 0);         /* IROUTER: vCPU 0 */
	uint32_t dr = r32(RTC + 0x0);
	w32(RTC + 0x4, dr + 1); /* MR: the next second */
	w32(RTC + 0x10, 1);     /* IMSC: interrupt on match */
	/*
	 * The RTC counts host seconds (QEMU's rtc clock), which -icount's
	 * virtual time does not follow: wait up to 3 of its own seconds,
	 * woken at 100 Hz by the timer to look.
	 */
	timer_period = (uint32_t)(freq / 100);
	write_sys(cntv_tval_el0, timer_period);
	write_sys(cntv_ctl_el0, 1);
	irqs_on();
	while (seen[0][RTC_INTID] == 0 && r32(RTC + 0x0) - dr < 4)
		__asm__ volatile("wfi");
	irqs_off();
	write_sys(cntv_ctl_el0, 0);
	check(seen[0][RTC_INTID] == 1, "the passed-through RTC's SPI 34 reached its owner");
	check(seen[1][RTC_INTID] == 0, "and only the vCPU it is routed to");
}

static void test_hostile(void)
{
	uint32_t before = sync_aborts;
	uint16_t h;
	__asm__ volatile("ldrh %w0, [%1]" : "=r"(h) : "r"(GICD) : "memory");
	check(sync_aborts == before + 1 && ((sync_esr >> 26) == 0x25u) &&
	              (sync_esr & 0x3fu) == 0x10u,
	      "a 16-bit distributor access: the guest gets a synchronous external abort");
	uint64_t p, q;
	__asm__ volatile("ldp %0, %1, [%2]" : "=r"(p), "=r"(q) : "r"(GICD + 0x100) : "memory");
	check(sync_aborts == before + 2, "a load pair from the distributor: an abort too");
	uint32_t prio_before = r32(SGI_BASE(0) + 0x400);
	__asm__ volatile("str %w0, [%1]" ::"r"(0xffffffffu), "r"(SGI_BASE(0) + 0x402) : "memory");
	check(sync_aborts == before + 3 && r32(SGI_BASE(0) + 0x400) == prio_before,
	      "a misaligned word write: an abort, and nothing changes");
	/* A store from x20-x29 (exit.c stores them before it emulates the write). */
	register uint64_t x23 __asm__("x23") = 0x5a;
	__asm__ volatile("strb %w0, [%1]" ::"r"(x23), "r"(SGI_BASE(0) + 0x400 + 9) : "memory");
	check((r32(SGI_BASE(0) + 0x408) >> 8 & 0xffu) == 0x5au,
	      "a byte store from x23 reaches IPRIORITYR");
}

/** x0 at vCPU 0's first instruction: the device tree the manifest gave it (irq-guest-dt.dts). */
static void test_device_tree(uint64_t x0)
{
	const volatile uint8_t *b = (const volatile uint8_t *)(uintptr_t)x0;
	int magic = x0 != 0 && (x0 & 7u) == 0 && b[0] == 0xd0 && b[1] == 0x0d && b[2] == 0xfe &&
	            b[3] == 0xed;
	check(magic, "vCPU 0 starts with x0 = its device tree (FDT magic)");
	uint32_t total = magic ? (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 |
	                                 b[7] :
	                         0;
	static const char want[] = "sephyp-irq-test-guest";
	int found = 0;
	for (uint32_t i = 0; magic && !found && i + sizeof(want) <= total; i++) {
		uint32_t k = 0;
		while (k < sizeof(want) && b[i + k] == (uint8_t)want[k])
			k++;
		found = k == sizeof(want);
	}
	check(found, "its model property is the one in the manifest's device-tree image");
}

int svc_main(uint64_t arg)
{
	if (arg == 1)
		vcpu1_main();
	test_device_tree(arg);
	cpu_interface_on();
	w32(GICD + 0x0, 1u << 1); /* GICD_CTLR.EnableGrp1 */
	for (uint32_t c = 0; c < 2; c++) {
		w32(GICR_FRAME(c) + 0x14, 0);                             /* GICR_WAKER: awake */
		w32(SGI_BASE(c) + 0x100, 0xffffu | (1u << VTIMER_INTID)); /* SGIs and the timer */
	}
	check((r32(GICR_FRAME(0) + 0x14) & 4u) == 0, "GICR_WAKER: the redistributor is awake");
	test_registers();
	check(count_deadlines(0, 100, 100, 0),
	      "virtual timer at 100 Hz: 100 deadlines each taken once, none early (spinning)");
	check(count_deadlines(0, 100, 100, 1),
	      "virtual timer at 100 Hz: 100 deadlines each taken once, none early (in WFI)");
	test_ptimer();
	test_priorities();
	test_overflow();
	test_sgis();
	test_rtc();
	test_hostile();
	v1_stop = 1;
	puts_("writing to the redistributor of a vCPU this VM does not have\n");
	w32(GICR_FRAME(2) + 0x14, 0);
	puts_("FAILED: the write to a missing redistributor went through\n");
	return 1;
}

#elif defined(GUEST_IRQ_BENCH)

#define RUNS 101u

static uint64_t samples[RUNS];
static volatile uint32_t v1_up;

static uint64_t median(uint64_t *v, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		uint64_t x = v[i];
		uint32_t j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	return v[n / 2];
}

static void report(const char *name, uint64_t value)
{
	puts_("BENCH name=");
	puts_(name);
	puts_(" value=");
	putu(value);
	puts_(" unit=insns\n");
}

/**
 * Timer deadline to the handler's first C line, in instructions: under
 * -icount shift=0 one instruction is one nanosecond, and the virtual counter
 * ticks every 1e9 / CNTFRQ of them, so (counter in the handler - compare
 * value) ticks is the latency rounded down to a tick (16 instructions at
 * QEMU's 62.5 MHz), the way the reference figures (Xen, Bao) were taken.
 */
static uint64_t timer_latency(int wfi)
{
	uint64_t freq = read_sys(cntfrq_el0), insns_per_tick = 1000000000u / freq;
	timer_period = 0; /* one-shot: the handler turns the timer off */
	irqs_off();
	for (uint32_t i = 0; i < RUNS; i++) {
		uint32_t before = seen[0][VTIMER_INTID];
		uint64_t cval = now() + 64;
		write_sys(cntv_cval_el0, cval);
		write_sys(cntv_ctl_el0, 1);
		if (wfi) {
			while (seen[0][VTIMER_INTID] == before)
				wfi_then_take();
		} else {
			irqs_on();
			while (seen[0][VTIMER_INTID] == before)
				;
			irqs_off();
		}
		samples[i] = (first_tick - cval) * insns_per_tick;
	}
	return median(samples, RUNS);
}

static void bench_vcpu1(void)
{
	cpu_interface_on();
	v1_up = 1;
	irqs_off();
	uint32_t answered = 0;
	for (;;) {
		while (answered < seen[1][1]) {
			answered++;
			sgi(2, 1u << 0);
		}
		wfi_then_take();
	}
}

/**
 * SGI round trip between two vCPUs of the VM on one CPU, both waiting in
 * WFI: vCPU 0 sends SGI 1, vCPU 1's handler answers with SGI 2, vCPU 0's
 * handler sees it. PMCCNTR_EL0 (the machine's counter, read through the
 * kernel) counts every instruction the CPU ran meanwhile, kernel included.
 */
static uint64_t sgi_round_trip(void)
{
	register uint64_t x0 __asm__("x0") = 0xc4000003; /* CPU_ON vCPU 1 at _start */
	register uint64_t x1 __asm__("x1") = 1;
	register uint64_t x2 __asm__("x2") = 0x100000;
	register uint64_t x3 __asm__("x3") = 1;
	__asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
	while (!v1_up)
		hc(HC_YIELD, 0); /* gives the CPU to vCPU 1 (a flag does not end a WFI) */
	uint64_t a = read_sys(pmccntr_el0), b = read_sys(pmccntr_el0), overhead = b - a;
	irqs_off();
	for (uint32_t i = 0; i < RUNS; i++) {
		uint32_t before = seen[0][2];
		uint64_t t0 = read_sys(pmccntr_el0);
		sgi(1, 1u << 1);
		while (seen[0][2] == before)
			wfi_then_take();
		uint64_t t1 = read_sys(pmccntr_el0);
		samples[i] = t1 - t0 - overhead;
	}
	return median(samples, RUNS);
}

int svc_main(uint64_t arg)
{
	if (arg == 1)
		bench_vcpu1();
	cpu_interface_on();
	w32(GICD + 0x0, 1u << 1);
	for (uint32_t c = 0; c < 2; c++) {
		w32(GICR_FRAME(c) + 0x14, 0);
		w32(SGI_BASE(c) + 0x100, 0xffffu | (1u << VTIMER_INTID));
	}
	report("vtimer_irq_latency", timer_latency(0));
	report("vtimer_irq_wfi_latency", timer_latency(1));
	report("sgi_round_trip", sgi_round_trip());
	return 0;
}

#elif defined(GUEST_EMU_SERVICE)

/*
 * The test device, 4 KiB: 0x00 DATA (a store is kept, a load returns it),
 * 0x10 SIGNED (reads 0xf0), 0x18 FR (reads 0x90, TXFE|RXFE), 0x40 IRQ (a
 * store of 1/0 raises/lowers the guest's SPI 40 through HC_GUEST_IRQ),
 * 0x80 GARBAGE (answered with a status the kernel does not know), 0xa0
 * WIDE (a 64-bit load returns 0x8877665544332211); other 64-bit accesses are
 * refused (IPC_MMIO_ABORT), as the SBSA UART does. Both of its vCPUs serve.
 */
#define EMU_EP_SLOT 0
#define EMU_GUEST_SLOT 1

static uint64_t emu_data, emu_badge, emu_bad;

int svc_main(uint64_t arg)
{
	uint64_t r[9] = { HC_RECV, EMU_EP_SLOT, 0, 0, 0, 0, 0, 0, 0 };
	arch_hypercall(r);
	for (;;) {
		uint64_t status = IPC_MMIO_DONE, value = 0;
		if (r[0] != STATUS_OK || r[2] != IPC_LABEL_MMIO) {
			emu_bad++;
			status = IPC_MMIO_ABORT;
		} else {
			uint64_t size = r[4] & IPC_MMIO_SIZE_MASK, write = r[4] & IPC_MMIO_WRITE;
			uint64_t off = r[7];
			emu_badge = r[1];
			if (size == 8 && off == 0xa0 && !write)
				value = UINT64_C(0x8877665544332211);
			else if (size == 8)
				status = IPC_MMIO_ABORT;
			else if (off == 0x00)
				value = write ? (emu_data = r[5]) : emu_data;
			else if (off == 0x10)
				value = 0xf0;
			else if (off == 0x18)
				value = 0x90;
			else if (off == 0x40 && write) {
				uint64_t q[9] = {
					HC_GUEST_IRQ, EMU_GUEST_SLOT, 0, 40, r[5] & 1u, 0, 0, 0, 0
				};
				arch_hypercall(q);
				if (q[0] != STATUS_OK)
					emu_bad++;
			} else if (off == 0x80)
				status = 0x55;
			else if (off == 0x84 && !write)
				value = emu_badge; /* the badge the kernel gave, for the guest to check */
			else if (off == 0x88 && !write)
				value = emu_bad;
			else if (off == 0xa8 && !write)
				value = arg; /* which of its vCPUs answers */
			else if (off == 0xc0 && write) {
				/*
				 * Crash until the count in the region that survives a
				 * restart (emu.dts: persist) reaches the value written:
				 * each successor gets the same write again.
				 */
				volatile uint64_t *persist = (volatile uint64_t *)0x300000;
				if (*persist < r[5]) {
					*persist = *persist + 1;
					__asm__ volatile("udf #0");
				}
			} else if (off == 0xc8 && !write)
				value = *(volatile uint64_t *)0x300000;
			else if (off == 0x90 && !write) {
				/*
				 * The service runs at EL0 while the VM's EL1 registers stay in
				 * the CPU: the VM's thread pointers must not be visible here,
				 * and what the service writes must not reach the VM.
				 */
				uint64_t ro = read_sys(tpidrro_el0), rw = read_sys(tpidr_el0);
				uint64_t sp0;
				__asm__ volatile("mov %0, sp" : "=r"(sp0));
				write_sys(tpidr_el0, 0xbadbad);
				value = ro == 0 && (rw == 0 || rw == 0xbadbad) && sp0 >> 20 == 1 ?
				                0x90 :
				                0x91;
			}
		}
		r[0] = HC_REPLY_RECV;
		r[1] = EMU_EP_SLOT;
		r[2] = 0; /* a partition's label: the kernel bit would be refused */
		r[3] = status;
		r[4] = value;
		arch_hypercall(r);
	}
}

#elif defined(GUEST_EMU_MUTE)

/* An emulator that takes an access and never answers it: it waits on a notification nobody signals. */
int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t r[9] = { HC_RECV, 0, 0, 0, 0, 0, 0, 0, 0 };
	arch_hypercall(r);
	puts_("holding an access and never answering\n");
	uint64_t w[9] = { HC_WAIT, 1, 0, 0, 0, 0, 0, 0, 0 };
	arch_hypercall(w);
	puts_("FAILED: the wait returned\n");
	return 1;
}

#elif defined(GUEST_EMU_MUTED)

/* A VM whose device's emulator never answers: it waits for good, and nobody else does. */
int svc_main(uint64_t arg)
{
	(void)arg;
	puts_("reading the device whose emulator never answers\n");
	(void)r32(UINT64_C(0x0b000000));
	puts_("FAILED: the read returned\n");
	return 1;
}

#elif defined(GUEST_EMU_QUIT)

/*
 * An emulator on its VM's CPU (emu-far.dts) that answers one access (FR:
 * 0x90) and crashes holding the next; it is not restartable, so the VM's
 * accesses after that find it stopped.
 */
int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t r[9] = { HC_RECV, 0, 0, 0, 0, 0, 0, 0, 0 };
	arch_hypercall(r);
	uint64_t ok = r[0] == STATUS_OK && r[2] == IPC_LABEL_MMIO && r[7] == 0x18;
	r[0] = HC_REPLY_RECV;
	r[1] = 0;
	r[2] = 0;
	r[3] = ok ? IPC_MMIO_DONE : IPC_MMIO_ABORT;
	r[4] = 0x90;
	arch_hypercall(r);
	puts_("crashing with an access held\n");
	__asm__ volatile("udf #0");
	return 1;
}

#elif defined(GUEST_EMU_STOPPED)

/* The VM of that emulator: answered once, aborted once, then its emulator is stopped. */
int svc_main(uint64_t arg)
{
	(void)arg;
	cpu_interface_on();
	check(r32(UINT64_C(0x0b000018)) == 0x90, "an access its emulator on its CPU answers");
	uint32_t before = sync_aborts;
	(void)r32(UINT64_C(0x0b000018));
	check(sync_aborts == before + 1 && (sync_esr & 0x3fu) == 0x10u,
	      "its emulator crashed holding the next one: the guest takes an abort");
	puts_("reading the device of a stopped emulator\n");
	(void)r32(UINT64_C(0x0b000018));
	puts_("FAILED: the read of a stopped emulator's device returned\n");
	return 1;
}

#elif defined(GUEST_EMU) || defined(GUEST_EMU_BENCH) || defined(GUEST_EMU_FAR)

#define EMU UINT64_C(0x0a000000)
#define EMU_SPI 40u

static inline uint64_t r64(uint64_t a)
{
	return *(volatile uint64_t *)(uintptr_t)a;
}

#if defined(GUEST_EMU_FAR)
/*
 * A VM whose emulator waits on the other CPU (emu-far.dts): every access
 * takes the C path's cross-CPU wake. Stores from and loads into x20-x29, a
 * sign-extending load; it ends with a load across the range's end, which
 * no range holds whole: a stage-2 fault that stops it.
 */
int svc_main(uint64_t arg)
{
	(void)arg;
	cpu_interface_on();
	check(r32(EMU + 0x18) == 0x90, "a load its emulator on the other CPU answers");
	register uint64_t x22 __asm__("x22") = 0x600d;
	__asm__ volatile("str %w0, [%1]" ::"r"(x22), "r"(EMU) : "memory");
	register uint64_t x27 __asm__("x27");
	__asm__ volatile("ldr %w0, [%1]" : "=r"(x27) : "r"(EMU) : "memory");
	check(x27 == 0x600d, "a store from x22 and a load into x27 through the other CPU");
	int64_t sb;
	__asm__ volatile("ldrsb %0, [%1]" : "=r"(sb) : "r"(EMU + 0x10) : "memory");
	check(sb == -16, "ldrsb through the other CPU");
	puts_("loading across the end of the emulated range\n");
	(void)r32(EMU + 0xffe);
	puts_("FAILED: the load across the range's end went through\n");
	return 1;
}
#elif defined(GUEST_EMU)
int svc_main(uint64_t arg)
{
	(void)arg;
	cpu_interface_on();
	w32(GICD + 0x0, 1u << 1);
	w32(GICR_FRAME(0) + 0x14, 0);
	w32(GICD + 0x100 + 4, 1u << (EMU_SPI - 32)); /* ISENABLER1 */
	w64(GICD + 0x6000 + 8 * EMU_SPI, 0);         /* IROUTER: vCPU 0 */
	check(r32(EMU + 0x18) == 0x90,
	      "a 32-bit load of the emulated FR returns the service's value");
	w32(EMU + 0x00, 0x12345678);
	check(r32(EMU + 0x00) == 0x12345678,
	      "a store reaches the service and a load reads it back");
	w8(EMU + 0x00, 0xab);
	check((*(volatile uint8_t *)(uintptr_t)EMU) == 0xab, "byte accesses");
	int32_t sb;
	__asm__ volatile("ldrsb %w0, [%1]" : "=r"(sb) : "r"(EMU + 0x10) : "memory");
	check(sb == -16, "a sign-extending byte load (ldrsb of 0xf0 gives -16)");
	int64_t sh;
	__asm__ volatile("ldrsh %0, [%1]" : "=r"(sh) : "r"(EMU + 0x10) : "memory");
	check(sh == 0xf0, "ldrsh of 0x00f0 stays positive");
	uint64_t sbx, sbw;
	__asm__ volatile("ldrsb %0, [%1]" : "=r"(sbx) : "r"(EMU + 0x10) : "memory");
	__asm__ volatile("ldrsb %w0, [%1]" : "=r"(sbw) : "r"(EMU + 0x10) : "memory");
	check(sbx == UINT64_C(0xfffffffffffffff0) && sbw == UINT64_C(0xfffffff0),
	      "ldrsb into an X register extends to 64 bits, into a W register to 32");
	__asm__ volatile("ldr wzr, [%0]" ::"r"(EMU + 0x18) : "memory");
	check(1, "a load into XZR completes");
	check(r64(EMU + 0xa0) == UINT64_C(0x8877665544332211),
	      "a 64-bit load the service answers fills the X register");
	/* Its second vCPU waits on the endpoint once it has run: then they take turns. */
	unsigned served = 0;
	for (unsigned i = 0; i < 200 && served != 3u; i++) {
		served |= 1u << (r32(EMU + 0xa8) & 7u);
		register uint64_t x0 __asm__("x0") = HC_YIELD;
		__asm__ volatile("hvc #0"
		                 : "+r"(x0)
		                 :
		                 : "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "memory");
	}
	check(served == 3u, "both of the emulator's vCPUs answer, each queued behind the other");
	register uint64_t x25 __asm__("x25") = 0x5a5a;
	__asm__ volatile("str %w0, [%1]" ::"r"(x25), "r"(EMU) : "memory");
	register uint64_t x21 __asm__("x21");
	__asm__ volatile("ldr %w0, [%1]" : "=r"(x21) : "r"(EMU) : "memory");
	check(x21 == 0x5a5a,
	      "a store from x25 and a load into x21 (registers the exit path keeps live)");
	uint32_t before = sync_aborts;
	(void)r64(EMU + 0x00);
	check(sync_aborts == before + 1 && (sync_esr & 0x3fu) == 0x10u,
	      "a 64-bit access the service refuses: the guest takes a synchronous external abort");
	(void)r32(EMU + 0x80);
	check(sync_aborts == before + 2, "a garbage answer from the service: an abort too");
	write_sys(tpidr_el0, 0x1111);
	write_sys(tpidrro_el0, 0x2222);
	check(r32(EMU + 0x90) == 0x90 && read_sys(tpidr_el0) == 0x1111 &&
	              read_sys(tpidrro_el0) == 0x2222,
	      "the service (EL0) neither saw nor changed the VM's thread pointers");
	uint64_t freq = read_sys(cntfrq_el0);
	w32(EMU + 0x40, 1); /* the service raises SPI 40 */
	uint64_t start = now();
	irqs_off();
	while (seen[0][EMU_SPI] == 0 && now() - start < freq)
		wfi_then_take();
	check(seen[0][EMU_SPI] >= 1, "the service raised the guest's SPI 40 (HC_GUEST_IRQ)");
	check(r32(EMU + 0x88) == 0, "the service saw only well-formed messages");
	check(r32(EMU + 0x84) == 0xe3, "with the badge of its guest capability");
	w32(EMU + 0xc0, 3); /* the emulator crashes on it three times */
	check(r32(EMU + 0xc8) == 3,
	      "the emulator crashed three times on one write; a successor completed it, and the next read");
	puts_("loading just past the emulated range\n");
	(void)r32(EMU + 0x1000);
	puts_("FAILED: the load past the range went through\n");
	return 1;
}
#else
/**
 * mmio_emulated_read: the guest reads the emulated FR; the kernel takes the
 * stage-2 fault, the service answers, the load completes. Median of 1001
 * round trips, the counter's own overhead (a trapped PMCCNTR read) removed.
 */
int svc_main(uint64_t arg)
{
	(void)arg;
	static uint64_t samples[1001];
	uint64_t a = read_sys(pmccntr_el0), b = read_sys(pmccntr_el0), overhead = b - a;
	for (uint32_t i = 0; i < 1001; i++) {
		uint64_t t0 = read_sys(pmccntr_el0);
		(void)r32(EMU + 0x18);
		uint64_t t1 = read_sys(pmccntr_el0);
		samples[i] = t1 - t0 - overhead;
	}
	for (uint32_t i = 1; i < 1001; i++) {
		uint64_t x = samples[i];
		uint32_t j = i;
		for (; j > 0 && samples[j - 1] > x; j--)
			samples[j] = samples[j - 1];
		samples[j] = x;
	}
	puts_("BENCH name=mmio_emulated_read value=");
	putu(samples[500]);
	puts_(" unit=insns\n");
	return 0;
}
#endif

#elif defined(GUEST_IRQ_OTHER)

int svc_main(uint64_t arg)
{
	(void)arg;
	cpu_interface_on();
	/* Its own distributor: enable the same SPI as the RTC's owner, and its timer. */
	w32(GICD + 0x0, 1u << 1);
	w32(GICR_FRAME(0) + 0x14, 0);
	w32(SGI_BASE(0) + 0x100, 1u << VTIMER_INTID);
	w32(GICD + 0x100 + 4, 1u << (RTC_INTID - 32));
	check(count_deadlines(0, 50, 100, 1),
	      "its own timer, sharing a CPU with the other VM: 100 deadlines at 50 Hz, each taken "
	      "once");
	check(seen[0][RTC_INTID] == 0, "it never got the other VM's RTC interrupt");
	return 0;
}

#endif

#if defined(GUEST_ITS) || defined(GUEST_ITS_OTHER) || defined(GUEST_ITS_BENCH)

/* The virtual ITS's frame (where the machine has its own) and its registers. */
#define GITS UINT64_C(0x08080000)
#define GITS_CTLR 0x0u
#define GITS_TYPER 0x8u
#define GITS_CBASER 0x80u
#define GITS_CWRITER 0x88u
#define GITS_CREADR 0x90u
#define GITS_BASER0 0x100u
#define GITS_BASER1 0x108u
#define GITS_TRANSLATER 0x10040u
#define VALID (UINT64_C(1) << 63)

/* Tables in this VM's RAM (IPA = the image's addresses), in the formats of docs/its.md. */
static volatile uint8_t prop[8192] __attribute__((aligned(4096)));
static volatile uint8_t pend[8192] __attribute__((aligned(65536)));
static volatile uint64_t devices[512] __attribute__((aligned(4096)));
static volatile uint16_t collections[2048] __attribute__((aligned(4096)));
static volatile uint64_t queue[512] __attribute__((aligned(4096)));
/* Interrupt translation tables: 256-byte aligned each (MAPD's ITT_addr is bits [51:8]). */
static volatile uint64_t itt[3][32] __attribute__((aligned(256)));
static uint32_t cwriter;

static inline uint64_t r64(uint64_t a)
{
	return *(volatile uint64_t *)(uintptr_t)a;
}

static uint64_t pa(const volatile void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/** One command into the queue, CWRITER past it: the service runs it before the store completes. */
static void cmd(uint64_t d0, uint64_t d1, uint64_t d2)
{
	volatile uint64_t *c = &queue[cwriter / 8u];
	c[0] = d0;
	c[1] = d1;
	c[2] = d2;
	c[3] = 0;
	cwriter = (cwriter + 32u) % (uint32_t)sizeof(queue);
	__asm__ volatile("dsb sy" ::: "memory");
	w64(GITS + GITS_CWRITER, cwriter);
}

#define CMD_MOVI 0x01u
#define CMD_INT 0x03u
#define CMD_SYNC 0x05u
#define CMD_MAPD 0x08u
#define CMD_MAPC 0x09u
#define CMD_MAPTI 0x0au
#define CMD_INV 0x0cu
#define CMD_INVALL 0x0du
#define CMD_DISCARD 0x0fu

static void mapd(uint32_t dev, uint64_t itt_pa, uint32_t bits)
{
	cmd(CMD_MAPD | (uint64_t)dev << 32, bits - 1u, VALID | itt_pa);
}
static void mapc(uint32_t icid, uint32_t vcpu)
{
	cmd(CMD_MAPC, 0, VALID | (uint64_t)vcpu << 16 | icid);
}
static void mapti(uint32_t dev, uint32_t event, uint32_t lpi, uint32_t icid)
{
	cmd(CMD_MAPTI | (uint64_t)dev << 32, (uint64_t)lpi << 32 | event, icid);
}
static void event_cmd(uint32_t op, uint32_t dev, uint32_t event)
{
	cmd(op | (uint64_t)dev << 32, event, 0);
}

/** Wait (spinning, with the hint) up to 100 ms for LPI lpi's count on vCPU c to pass before. */
static uint32_t wait_lpi(uint32_t c, uint32_t lpi, uint32_t before)
{
	uint64_t freq = read_sys(cntfrq_el0), start = now();
	irqs_on();
	while (lpi_seen[c][lpi - LPI_BASE] == before && now() - start < freq / 10u)
		__asm__ volatile("yield");
	irqs_off();
	return lpi_seen[c][lpi - LPI_BASE] - before;
}

/** This VM's GIC and ITS, up to an enabled ITS with a collection per vCPU. */
static void its_setup(uint32_t vcpus)
{
	cpu_interface_on();
	w32(GICD + 0x0, 1u << 1); /* GICD_CTLR.EnableGrp1 */
	for (uint32_t i = 0; i < LPI_SEEN; i++)
		prop[i] = 0xa1; /* priority 0xa0, enabled */
	__asm__ volatile("dsb sy" ::: "memory");
	for (uint32_t c = 0; c < vcpus; c++) {
		w32(GICR_FRAME(c) + 0x14, 0);                     /* GICR_WAKER: awake */
		w64(GICR_FRAME(c) + 0x70, pa(prop) | (14u - 1u)); /* PROPBASER: 14 ID bits */
		w64(GICR_FRAME(c) + 0x78, pa(pend));              /* PENDBASER */
		w32(GICR_FRAME(c) + 0x0, 1u);                     /* GICR_CTLR.EnableLPIs */
	}
	w64(GITS + GITS_CBASER, VALID | pa(queue)); /* one page: 128 commands */
	w64(GITS + GITS_CWRITER, 0);
}

static void its_enable(uint32_t vcpus)
{
	w64(GITS + GITS_BASER0,
	    (r64(GITS + GITS_BASER0) & ~UINT64_C(0xfffffffff0ff)) | VALID | pa(devices));
	w64(GITS + GITS_BASER1,
	    (r64(GITS + GITS_BASER1) & ~UINT64_C(0xfffffffff0ff)) | VALID | pa(collections));
	w32(GITS + GITS_CTLR, 1);
	for (uint32_t c = 0; c < vcpus; c++)
		mapc(c, c);
}

#endif

#if defined(GUEST_ITS)

static volatile uint32_t v1_stop, v1_up;

static _Noreturn void its_vcpu1(void)
{
	cpu_interface_on();
	v1_up = 1;
	irqs_on();
	while (!v1_stop)
		__asm__ volatile("wfi");
	irqs_off();
	for (;;)
		__asm__ volatile("wfi");
}

int svc_main(uint64_t arg)
{
	if (arg == 1)
		its_vcpu1();
	/* vCPU 1: PSCI CPU_ON at crt0's _start with its index. */
	register uint64_t x0 __asm__("x0") = 0xc4000003;
	register uint64_t x1 __asm__("x1") = 1;
	register uint64_t x2 __asm__("x2") = 0x100000;
	register uint64_t x3 __asm__("x3") = 1;
	__asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
	uint64_t t0 = now();
	while (!v1_up && now() - t0 < read_sys(cntfrq_el0))
		__asm__ volatile("yield");
	check(x0 == 0 && v1_up, "PSCI CPU_ON started vCPU 1");
	its_setup(2);
	uint64_t typer = *(volatile uint64_t *)(uintptr_t)(GICR_FRAME(0) + 0x8);
	check((typer & 1u) != 0, "GICR_TYPER.PLPIS: the redistributor has LPIs");
	check(((r64(GITS + GITS_TYPER) >> 4) & 0xfu) == 7u, "GITS_TYPER: 8-byte ITT entries");
	w32(GITS + GITS_CTLR, 1);
	check((r32(GITS + GITS_CTLR) & 1u) == 0, "the ITS cannot be enabled without valid BASERs");
	its_enable(2);
	check((r32(GITS + GITS_CTLR) & 1u) == 1, "with them, it is enabled");
	w64(GITS + GITS_CBASER, 0);
	check((r64(GITS + GITS_CBASER) & VALID) != 0, "CBASER writes are ignored while enabled");

	/* Device 1, events 0 and 1 -> LPIs 8192 and 8193 on collection 0 (vCPU 0). */
	mapd(1, pa(itt[0]), 4);
	mapti(1, 0, 8192, 0);
	mapti(1, 1, 8193, 0);
	cmd(CMD_SYNC, 0, 0);
	check(r64(GITS + GITS_CREADR) == cwriter,
	      "MAPD, MAPC, MAPTI, SYNC: CREADR reaches CWRITER");
	event_cmd(CMD_INT, 1, 0);
	check(wait_lpi(0, 8192, 0) == 1, "MAPD + MAPC + MAPTI then INT reaches vCPU 0 (LPI 8192)");
	cmd(CMD_MOVI | (uint64_t)1 << 32, 0, 1);
	event_cmd(CMD_INT, 1, 0);
	check(wait_lpi(1, 8192, 0) == 1 && lpi_seen[0][0] == 1,
	      "after MOVI to collection 1 it reaches vCPU 1 instead");
	event_cmd(CMD_DISCARD, 1, 0);
	event_cmd(CMD_INT, 1, 0);
	uint32_t again = wait_lpi(0, 8192, 1);
	if (again != 0 || lpi_seen[1][0] != 1) {
		puts_("LPI 8192 after DISCARD: vCPU 0 ");
		putu(again);
		puts_(" more, vCPU 1 ");
		putu(lpi_seen[1][0]);
		puts_(" in all\n");
	}
	check(again == 0 && lpi_seen[1][0] == 1, "after DISCARD nothing arrives");
	check(itt[0][0] == 0, "DISCARD cleared the event's entry in the guest's ITT");
	check(r64(GITS + GITS_CREADR) == cwriter, "the failed INT: CREADR == CWRITER all the same");

	/* INV after clearing the enable bit withdraws the LPI; enabling it again delivers it. */
	prop[1] = 0xa0;
	__asm__ volatile("dsb sy" ::: "memory");
	event_cmd(CMD_INV, 1, 1);
	event_cmd(CMD_INT, 1, 1);
	check(wait_lpi(0, 8193, 0) == 0, "INV after clearing the enable bit withdraws the LPI");
	prop[1] = 0xa1;
	__asm__ volatile("dsb sy" ::: "memory");
	cmd(CMD_INVALL, 0, 0);
	check(wait_lpi(0, 8193, 0) == 1, "INVALL after setting it again: the pending LPI arrives");

	uint64_t before = itt[0][1];
	mapti(1, 1, 8200, 0);
	check(itt[0][1] == before, "a duplicate MAPTI fails (the entry keeps LPI 8193)");
	event_cmd(CMD_INT, 1, 1);
	check(wait_lpi(0, 8193, 1) == 1 && lpi_seen[0][8] == 0, "INT still gives LPI 8193");
	mapti(1, 2, 9000, 0);
	event_cmd(CMD_INT, 1, 2);
	check(itt[0][2] == 0, "MAPTI of an LPI beyond the VM's 64 fails");
	mapc(5, 7);
	check(collections[5] == 0, "MAPC to a vCPU the VM does not have fails");
	cmd(0xff, 0, 0);
	check(r64(GITS + GITS_CREADR) == cwriter, "after a bad command, CREADR == CWRITER");

	/* Its own writes to TRANSLATER come from the DeviceID its manifest names (7). */
	mapd(7, pa(itt[1]), 4);
	mapti(7, 2, 8194, 0);
	w32(GITS + GITS_TRANSLATER, 2);
	check(wait_lpi(0, 8194, 0) == 1, "a write to GITS_TRANSLATER from DeviceID 7: LPI 8194");
	w32(GITS + GITS_TRANSLATER, 3);
	check(wait_lpi(0, 8194, 1) == 0, "an EventID it has not mapped: nothing");

	/* Device 5 is the device model's (its manifest badge): event 3 -> LPI 8195. */
	mapd(5, pa(itt[2]), 4);
	mapti(5, 3, 8195, 1);
	uint64_t freq = read_sys(cntfrq_el0), start = now();
	irqs_on();
	while (lpi_seen[1][3] == 0 && now() - start < 3u * freq)
		__asm__ volatile("yield");
	irqs_off();
	check(lpi_seen[1][3] >= 1,
	      "an MSI from the device model (DeviceID 5, from the manifest) reached vCPU 1: LPI 8195");
	check(lpi_seen[0][3] == 0, "and nothing else");
	uint32_t total = 0;
	for (uint32_t c = 0; c < 2; c++)
		for (uint32_t i = 4; i < LPI_SEEN; i++)
			total += lpi_seen[c][i];
	check(total == 0, "no LPI this VM did not cause (the other VM's ITS is its own)");
	v1_stop = 1;
	puts_("all done\n");
	return 0;
}

#elif defined(GUEST_ITS_OTHER)

int svc_main(uint64_t arg)
{
	(void)arg;
	its_setup(1);
	its_enable(1);
	mapd(1, pa(itt[0]), 4);
	mapti(1, 0, 8192, 0);
	event_cmd(CMD_INT, 1, 0);
	check(wait_lpi(0, 8192, 0) == 1, "other: its own ITS gives it its own LPI 8192");
	event_cmd(CMD_INT, 7, 2);
	event_cmd(CMD_INT, 5, 3);
	check(wait_lpi(0, 8194, 0) == 0 && wait_lpi(0, 8195, 0) == 0,
	      "other: the devices of the first VM are not in its tables");
	w32(GITS + GITS_TRANSLATER, 0);
	check(wait_lpi(0, 8192, 1) == 0, "other: its TRANSLATER writes have no DeviceID");
	return 0;
}

#elif defined(GUEST_MSI_DEV)

static uint64_t call9(uint64_t r0, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
                      uint64_t *out)
{
	uint64_t r[9] = { r0, r1, r2, r3, r4, 0, 0, 0, 0 };
	arch_hypercall(r);
	if (out != NULL)
		*out = r[4];
	return r[0];
}

/**
 * What a compromised device model tries first, and what must stop it: its guest capability
 * (slot 1: `dm` on "its", no `inject`, no `emulate`) reaches that guest's RAM and nothing else;
 * it drives no interrupt itself; it forges no kernel message; a burst of MSIs for events its
 * VM never mapped only counts as failed translations in the vits service.
 */
static void hostile(void)
{
	uint64_t v = 0;
	check(call9(HC_GUEST_MEM, 1, 0x100000, 8, 0, &v) == STATUS_OK && v != 0,
	      "device model: it reads its VM's RAM through its dm right (HC_GUEST_MEM)");
	check(call9(HC_GUEST_MEM, 1, 0x200000, 8, 0, NULL) == STATUS_INVALID_ARG,
	      "device model: past its VM's RAM: refused");
	check(call9(HC_GUEST_MEM, 1, 0x8080000, 4, 0, NULL) == STATUS_INVALID_ARG,
	      "device model: the VM's ITS frame is no RAM: refused");
	check(call9(HC_GUEST_MEM, 1, 0x1000, 41, 0, NULL) == STATUS_INVALID_ARG,
	      "device model: 41 bytes at once: refused");
	check(call9(HC_GUEST_MEM, 2, 0x100000, 8, 0, NULL) == STATUS_INVALID_CAP,
	      "device model: another VM's RAM (no capability): refused");
	check(call9(HC_GUEST_IRQ, 1, 0, 8192, IPC_GUEST_IRQ_LPI_SET, NULL) == STATUS_NO_RIGHTS,
	      "device model: an LPI of its own VM without the inject right: refused");
	check(call9(HC_GUEST_IRQ, 1, 0, 40, IPC_GUEST_IRQ_RAISE, NULL) == STATUS_NO_RIGHTS,
	      "device model: an SPI without the inject right: refused");
	check(call9(HC_CALL, 0, IPC_LABEL_MMIO, 0, 0, NULL) == STATUS_INVALID_ARG,
	      "device model: a forged kernel message (IPC_LABEL_MMIO): refused");
	uint32_t translated = 0;
	for (uint32_t i = 0; i < 64u; i++) {
		uint64_t r[9] = { HC_CALL, 0, 0x4d5349u, 4000u + i, 0, 0, 0, 0, 0 };
		arch_hypercall(r);
		translated += r[0] == STATUS_OK && r[3] == 1u;
	}
	check(translated == 0, "device model: 64 MSIs for events never mapped: none translated");
}

/**
 * A device model: MSIs with EventID 3 to the vits service until one is translated (its VM
 * maps the device when it gets there), then exits. The badge of its endpoint capability, which
 * the manifest sets, names the VM and the DeviceID; nothing it sends can change them. First it
 * tries what a hostile one would (hostile()).
 */
int svc_main(uint64_t arg)
{
	(void)arg;
	hostile();
	for (uint32_t tries = 0; tries < 100000u; tries++) {
		uint64_t r[9] = { HC_CALL, 0, 0x4d5349u, 3, 0, 0, 0, 0, 0 };
		arch_hypercall(r);
		if (r[0] == STATUS_OK && r[3] == 1) {
			puts_("passed: the vits service translated an MSI of this device model\n");
			return 0;
		}
		hc(HC_YIELD, 0);
	}
	puts_("FAILED: no MSI of this device model was ever translated\n");
	return 1;
}

#endif

#if defined(GUEST_ITS_BENCH)

/**
 * msi_lpi_latency: the guest writes an EventID to GITS_TRANSLATER (its own MSI, DeviceID 7
 * from its manifest badge); the kernel traps it to the vits service, which translates it
 * through the tables in the guest's memory (HC_GUEST_MEM) and makes the LPI pending
 * (HC_GUEST_IRQ); the guest's handler runs. Instructions from the store to the handler's
 * first one, median of 201, the counter's own overhead (a trapped PMCCNTR read) removed.
 */
int svc_main(uint64_t arg)
{
	(void)arg;
	static uint64_t samples[201];
	its_setup(1);
	its_enable(1);
	mapd(7, pa(itt[0]), 4);
	mapti(7, 0, 8192, 0);
	uint64_t a = read_sys(pmccntr_el0), b = read_sys(pmccntr_el0), overhead = b - a;
	for (uint32_t i = 0; i < 201; i++) {
		uint32_t before = lpi_seen[0][0];
		irqs_on();
		uint64_t t0 = read_sys(pmccntr_el0);
		w32(GITS + GITS_TRANSLATER, 0);
		while (lpi_seen[0][0] == before)
			;
		irqs_off();
		samples[i] = irq_cycles - t0 - overhead;
	}
	for (uint32_t i = 1; i < 201; i++) {
		uint64_t x = samples[i];
		uint32_t j = i;
		for (; j > 0 && samples[j - 1] > x; j--)
			samples[j] = samples[j - 1];
		samples[j] = x;
	}
	puts_("BENCH name=msi_lpi_latency value=");
	putu(samples[100]);
	puts_(" unit=insns\n");

	/*
	 * lpi_injection_latency: the device model (GUEST_MSI_BENCH_DM, on this CPU) reads the
	 * counter into the shared page, sends its MSI (DeviceID 5, EventID 0 -> LPI 8193) and
	 * yields; this vCPU waits in WFI and its handler reads the counter.
	 */
	mapd(5, pa(itt[1]), 4);
	mapti(5, 0, 8193, 0);
	for (uint32_t i = 0; i < 201; i++) {
		uint32_t before = lpi_seen[0][1];
		bench_page->request = i + 1u;
		while (lpi_seen[0][1] == before)
			wfi_then_take();
		samples[i] = irq_cycles - bench_page->sent - overhead;
	}
	bench_page->request = BENCH_DONE;
	for (uint32_t i = 1; i < 201; i++) {
		uint64_t x = samples[i];
		uint32_t j = i;
		for (; j > 0 && samples[j - 1] > x; j--)
			samples[j] = samples[j - 1];
		samples[j] = x;
	}
	puts_("BENCH name=lpi_injection_latency value=");
	putu(samples[100]);
	puts_(" unit=insns\n");
	return 0;
}

#elif defined(GUEST_MSI_BENCH_DM)

/** The device model of lpi_injection_latency: one MSI per request of the guest. */
int svc_main(uint64_t arg)
{
	(void)arg;
	for (uint32_t done = 0;;) {
		uint32_t want = bench_page->request;
		if (want == BENCH_DONE)
			return 0;
		if (want == done) {
			hc(HC_YIELD, 0);
			continue;
		}
		bench_page->sent = read_sys(pmccntr_el0);
		uint64_t r[9] = { HC_CALL, 0, 0x4d5349u, 0, 0, 0, 0, 0, 0 };
		arch_hypercall(r);
		if (r[0] != STATUS_OK || r[3] != 1u) {
			puts_("FAILED: the MSI was not translated\n");
			return 1;
		}
		done = want;
		hc(HC_YIELD, 0);
	}
}

#endif

#if defined(GUEST_DMOP_VM) || defined(GUEST_DMOP_DM) || defined(GUEST_DMOP_AUDIT) || \
        defined(GUEST_DMOP_BENCH)

/*
 * The dmop test (dmop.dts): a VM (partition 0) whose device at DMOP_DEV a device model
 * (partition 2) serves through the dmop service (partition 3), another VM (1) the model may
 * not touch, and an auditor (4) that reads the service's audit log at the end.
 *
 * The device, 4 KiB, served by the model after it mapped it through an ioreq server:
 *   0x00 ID (reads "DMOP")    0x04 DATA (kept)       0x08 ISA IRQ 5's level (a store)
 *   0x0c accesses that came with the wrong badge     0x10 run the hostile phase (a store)
 *   0x14 checks the hostile phase failed              0x20 inject_event SPI 60 (a store)
 *   0x18 the model crashes on this store once (counting in its preserved region); the kernel
 *        restarts it and its successor, which finds its ioreq server kept by dmop, completes it
 *   0x1c the model's crashes | 1 << 8 if its successor found its server and its dropped
 *        capabilities still gone
 */
#include <ipc/dmop.h>
#include <stdbool.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memcpy(void *dst, const void *src, size_t n)
{
	volatile uint8_t *d = dst;
	const uint8_t *s = src;
	while (n-- > 0)
		*d++ = *s++;
	return dst;
}

#define DMOP_DEV UINT64_C(0x0a000000)
#define DMOP_SPI_BASE 48u
#define DMOP_INTID (DMOP_SPI_BASE + 5u) /* ISA IRQ 5 */
#define DMOP_EVENT 60u                  /* inject_event's vector: an SPI on arm64 */
#define DMOP_VM 0u
#define DMOP_OTHER 1u
#define DMOP_MODEL 2u
/*
 * The model's dm_op calls, denials and refusals (its own tally: setup 3, the interrupt 2, the
 * event 1, targets 4, ranges 5, buffers 7, padding and op 3, bounds 5, the burst 200,
 * dm_restrict 3, its own target 3; then its successor's get_ioreq_server_info, 1); the
 * auditor must find the same in the service's log.
 */
#define DMOP_TEST_CALLS 237u
#define DMOP_TEST_DENIED 204u
#define DMOP_TEST_REFUSED 226u
#define DMOP_TEST_BURST 200u

#endif

#if defined(GUEST_DMOP_VM)

/** Slots: 0 the model's "ready" notification (wait), 1 the auditor's "done" (signal). */
int svc_main(uint64_t arg)
{
	(void)arg;
	cpu_interface_on();
	w32(GICD + 0x0, 1u << 1);
	w32(GICR_FRAME(0) + 0x14, 0);
	w32(GICD + 0x100 + 4 * (DMOP_INTID / 32u), 1u << (DMOP_INTID % 32u)); /* ISENABLER */
	w64(GICD + 0x6000 + 8 * DMOP_INTID, 0);                               /* IROUTER: vCPU 0 */
	uint64_t r[9] = { HC_WAIT, 0, 0, 0, 0, 0, 0, 0, 0 };
	arch_hypercall(r);
	check(r32(DMOP_DEV + 0x00) == 0x444d4f50u,
	      "a load in the range the model mapped through dmop is answered by the model");
	w32(DMOP_DEV + 0x04, 0x1234abcdu);
	check(r32(DMOP_DEV + 0x04) == 0x1234abcdu,
	      "a store reaches the model, a load reads it back");
	uint64_t freq = read_sys(cntfrq_el0);
	w32(DMOP_DEV + 0x08, 1); /* the model raises ISA IRQ 5 through dmop */
	uint64_t start = now();
	irqs_off();
	while (seen[0][DMOP_INTID] == 0 && now() - start < freq)
		wfi_then_take();
	check(seen[0][DMOP_INTID] == 1,
	      "the model raised the VM's interrupt through dmop (set_isa_irq_level), the VM took it once");
	/* SPI 60 edge-triggered (GICD_ICFGR3 bit 25), enabled, to vCPU 0: inject_event's. */
	w32(GICD + 0xc00 + 4 * (DMOP_EVENT / 16u), 2u << (2u * (DMOP_EVENT % 16u)));
	w32(GICD + 0x100 + 4 * (DMOP_EVENT / 32u), 1u << (DMOP_EVENT % 32u));
	w64(GICD + 0x6000 + 8 * DMOP_EVENT, 0);
	w32(DMOP_DEV + 0x20, 1); /* the model injects the event before it answers */
	start = now();
	irqs_off();
	while (seen[0][DMOP_EVENT] == 0 && now() - start < freq)
		wfi_then_take();
	check(seen[0][DMOP_EVENT] == 1, "inject_event through dmop: an edge on SPI 60, taken once");
	w32(DMOP_DEV + 0x10, 1); /* the model's hostile phase, before it answers */
	check(r32(DMOP_DEV + 0x14) == 0, "the model's hostile phase found every attempt refused");
	check(r32(DMOP_DEV + 0x0c) == 0, "every access reached the model with its route's badge");
	check(r32(DMOP_DEV + 0x00) == 0x444d4f50u,
	      "the VM keeps running: its device answers after the range was unmapped and mapped again");
	w32(DMOP_DEV + 0x18, 1); /* the model dies holding it; its successor completes it */
	check(r32(DMOP_DEV + 0x1c) == (1u | 1u << 8),
	      "the model crashed on a store; its successor (server kept, dropped caps still "
	      "gone) completed it");
	r[0] = HC_SIGNAL;
	r[1] = 1;
	arch_hypercall(r);
	puts_("all done\n");
	return 0;
}

#elif defined(GUEST_DMOP_BENCH)

/**
 * dm_route_round_trip (tests/bench/dmop-arm64.dts): once the model has set its device up
 * through dmop (slot 0: its "ready" notification), the VM loads the device's ID: the
 * stage-2 fault, the kernel's route (HC_GUEST_ROUTE, programmed by the dmop service) to the
 * model's endpoint, the model's answer, the load completed. Median of 1001, the counter's
 * own overhead (a trapped PMCCNTR read) removed.
 */
int svc_main(uint64_t arg)
{
	(void)arg;
	static uint64_t samples[1001];
	uint64_t r[9] = { HC_WAIT, 0, 0, 0, 0, 0, 0, 0, 0 };
	arch_hypercall(r);
	uint64_t a = read_sys(pmccntr_el0), b = read_sys(pmccntr_el0), overhead = b - a;
	uint32_t wrong = 0;
	for (uint32_t i = 0; i < 1001; i++) {
		uint64_t t0 = read_sys(pmccntr_el0);
		wrong += r32(DMOP_DEV + 0x00) != 0x444d4f50u;
		uint64_t t1 = read_sys(pmccntr_el0);
		samples[i] = t1 - t0 - overhead;
	}
	for (uint32_t i = 1; i < 1001; i++) {
		uint64_t x = samples[i];
		uint32_t j = i;
		for (; j > 0 && samples[j - 1] > x; j--)
			samples[j] = samples[j - 1];
		samples[j] = x;
	}
	check(wrong == 0, "every load answered by the model");
	puts_("BENCH name=dm_route_round_trip value=");
	putu(samples[500]);
	puts_(" unit=insns\n");
	return 0;
}

#elif defined(GUEST_DMOP_DM)

#define DM_DMOP 0u  /* endpoint to the dmop service (send; the manifest's badge names it) */
#define DM_EP 1u    /* its own endpoint (recv): the VM's accesses to its ranges */
#define DM_READY 2u /* notification (signal): the VM may use its device */
#define DM_GUEST 3u /* guest capability over the VM: dm only (HC_GUEST_MEM) */
#define DM_BUF UINT64_C(0x200000) /* its shared region with the service, 4 KiB */
#define DM_MAGIC 0x444d5354u      /* "DMST" */

/** What survives its restarts (a `preserve;` region at 0x300000). */
struct dm_persist {
	uint32_t magic, crashes;
	uint16_t server;
};
static volatile struct dm_persist *const persist =
        (volatile struct dm_persist *)(uintptr_t)0x300000u;

static uint32_t calls, denied, refused, failures, bad_badge;
static uint16_t server;

/** An operation with every other byte zero (padding included: the service checks it). */
static struct dmop_op new_op(uint32_t op)
{
	struct dmop_op o;
	memset(&o, 0, sizeof(o));
	o.op = op;
	return o;
}

static void put_op(const struct dmop_op *o)
{
	const uint8_t *s = (const uint8_t *)o;
	volatile uint8_t *d = (volatile uint8_t *)(uintptr_t)DM_BUF;
	for (uint32_t i = 0; i < sizeof(*o); i++)
		d[i] = s[i];
}

static void get_op(struct dmop_op *o)
{
	uint8_t *d = (uint8_t *)o;
	const volatile uint8_t *s = (const volatile uint8_t *)(uintptr_t)DM_BUF;
	for (uint32_t i = 0; i < sizeof(*o); i++)
		d[i] = s[i];
}

/** One dm_op call with its words as given; the reply's status and error. */
static uint64_t dm_raw(uint64_t target, uint64_t nr, uint64_t off0, uint64_t len0, uint64_t off1,
                       uint64_t len1, uint64_t *err)
{
	uint64_t r[9];
	do { /* the service died in the call (dmop-kill): nothing was done, call again */
		const uint64_t a[9] = { HC_CALL, DM_DMOP, DMOP_LABEL, target, nr,
			                off0,    len0,    off1,       len1 };
		for (uint32_t i = 0; i < 9; i++)
			r[i] = a[i];
		arch_hypercall(r);
	} while (r[0] == STATUS_PEER_STOPPED);
	calls++;
	denied += r[4] == DMOP_ERR_DENIED;
	refused += r[4] != DMOP_OK && r[4] != DMOP_ERR_CONTINUE;
	*err = r[4];
	return r[0] == STATUS_OK ? r[3] : STATUS_LIMIT + r[0];
}

static uint64_t dm_op1(uint64_t target, const struct dmop_op *o, uint64_t *err)
{
	put_op(o);
	return dm_raw(target, 1, 0, sizeof(*o), 0, 0, err);
}

/*
 * Checks are reported by group (the console budget of a partition is 2 KiB a second): a
 * failed one at once with what it got, the group's verdict at its end.
 */
static uint32_t group_failures;

static void expect(uint64_t status, uint64_t err, uint64_t want_status, uint64_t want_err,
                   const char *what)
{
	if (status == want_status && err == want_err)
		return;
	failures++;
	group_failures++;
	puts_("FAILED: ");
	puts_(what);
	puts_(" (status ");
	putu(status);
	puts_(", error ");
	putu(err);
	puts_(")\n");
}

static void group(const char *what)
{
	check(group_failures == 0, what);
	group_failures = 0;
}

/** An operation on target whose result must be (want_status, want_err). */
static void try_op(uint64_t target, const struct dmop_op *o, uint64_t want_status,
                   uint64_t want_err, const char *what)
{
	uint64_t err, s = dm_op1(target, o, &err);
	expect(s, err, want_status, want_err, what);
}

static struct dmop_op isa_op(uint32_t irq, uint32_t level)
{
	struct dmop_op o = new_op(DMOP_SET_ISA_IRQ_LEVEL);
	o.u.isa.isa_irq = (uint8_t)irq;
	o.u.isa.level = (uint8_t)level;
	return o;
}

static struct dmop_op event_op(uint32_t vcpu, uint32_t vector, uint32_t type)
{
	struct dmop_op o = new_op(DMOP_INJECT_EVENT);
	o.u.event.vcpu = vcpu;
	o.u.event.vector = (uint8_t)vector;
	o.u.event.type = (uint8_t)type;
	return o;
}

static struct dmop_op range_op(uint32_t op, uint32_t id, uint32_t type, uint64_t start,
                               uint64_t end)
{
	struct dmop_op o = new_op(op);
	o.u.range.id = (uint16_t)id;
	o.u.range.type = (uint8_t)type;
	o.u.range.start = start;
	o.u.range.end = end;
	return o;
}

static uint64_t hc5(uint64_t nr, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
	uint64_t r[9] = { nr, r1, r2, r3, r4, r5, 0, 0, 0 };
	arch_hypercall(r);
	return r[0];
}

/** What a compromised model tries; every attempt must be refused with the right status. */
static void hostile(void)
{
	struct dmop_op o = isa_op(5, 0);
	try_op(DMOP_OTHER, &o, STATUS_NO_RIGHTS, DMOP_ERR_DENIED,
	       "hostile: another guest as target: DENIED");
	try_op(9, &o, STATUS_INVALID_CAP, DMOP_ERR_NO_TARGET, "hostile: no such guest: NO_TARGET");
	try_op(DMOP_MODEL, &o, STATUS_NO_RIGHTS, DMOP_ERR_DENIED,
	       "hostile: its own domain: DENIED");
	try_op(UINT64_C(1) << 32, &o, STATUS_INVALID_CAP, DMOP_ERR_NO_TARGET,
	       "hostile: target 2^32 (no truncation to guest 0): NO_TARGET");
	group("targets: another guest and itself DENIED, no guest and 2^32 NO_TARGET");

	o = range_op(DMOP_MAP_IO_RANGE, server, DMOP_RANGE_MEMORY, DMOP_DEV + 0x800,
	             DMOP_DEV + 0x17ff);
	try_op(DMOP_VM, &o, STATUS_BUSY, DMOP_ERR_EXISTS,
	       "hostile: a range overlapping its own: EXISTS");
	o = range_op(DMOP_MAP_IO_RANGE, server, DMOP_RANGE_MEMORY, 0x100000, 0x100fff);
	try_op(DMOP_VM, &o, STATUS_BUSY, DMOP_ERR_EXISTS,
	       "hostile: a range over the VM's RAM (the kernel refuses the route): EXISTS");
	o = range_op(DMOP_MAP_IO_RANGE, server + 1u, DMOP_RANGE_MEMORY, 0x0b000000, 0x0b000fff);
	try_op(DMOP_VM, &o, STATUS_INVALID_ARG, DMOP_ERR_NOT_FOUND,
	       "hostile: a server it never created: NOT_FOUND");
	o = range_op(DMOP_MAP_IO_RANGE, server, DMOP_RANGE_PORT, 0x70, 0x71);
	try_op(DMOP_VM, &o, STATUS_INVALID_CALL, DMOP_ERR_NOT_SUPPORTED,
	       "hostile: port ranges on arm64: NOT_SUPPORTED");
	o = range_op(DMOP_UNMAP_IO_RANGE, server, DMOP_RANGE_MEMORY, DMOP_DEV, DMOP_DEV + 0x7ff);
	try_op(DMOP_VM, &o, STATUS_INVALID_ARG, DMOP_ERR_NOT_FOUND,
	       "hostile: unmapping half of its range: NOT_FOUND");
	group("ranges: over its own or the VM's RAM EXISTS, another server or half a range "
	      "NOT_FOUND, ports NOT_SUPPORTED");

	uint64_t err, s;
	o = isa_op(5, 0);
	put_op(&o);
	s = dm_raw(DMOP_VM, 3, 0, sizeof(o), 0, 8, &err);
	expect(s, err, STATUS_INVALID_ARG, DMOP_ERR_TOO_MANY_BUFS,
	       "malformed: nr_bufs 3: TOO_MANY_BUFS");
	s = dm_raw(DMOP_VM, (UINT64_C(1) << 32) + 1u, 0, sizeof(o), 0, 0, &err);
	expect(s, err, STATUS_INVALID_ARG, DMOP_ERR_TOO_MANY_BUFS,
	       "malformed: nr_bufs 2^32 + 1: TOO_MANY_BUFS");
	s = dm_raw(DMOP_VM, 1, 0, 4, 0, 0, &err);
	expect(s, err, STATUS_INVALID_ARG, DMOP_ERR_BUFFER,
	       "malformed: buffer 0 of 4 bytes: BUFFER");
	s = dm_raw(DMOP_VM, 1, 0, 12, 0, 0, &err);
	expect(s, err, STATUS_INVALID_ARG, DMOP_ERR_BUFFER,
	       "malformed: buffer 0 shorter than its arguments: BUFFER");
	s = dm_raw(DMOP_VM, 1, 0xff8, 16, 0, 0, &err);
	expect(s, err, STATUS_INVALID_ARG, DMOP_ERR_BUFFER,
	       "malformed: buffer 0 past the region's end: BUFFER");
	s = dm_raw(DMOP_VM, 1, UINT64_MAX - 7u, 16, 0, 0, &err);
	expect(s, err, STATUS_INVALID_ARG, DMOP_ERR_BUFFER,
	       "malformed: buffer 0 wrapping around: BUFFER");
	s = dm_raw(DMOP_VM, 2, 0, sizeof(o), 0x1000, 1, &err);
	expect(s, err, STATUS_INVALID_ARG, DMOP_ERR_BUFFER,
	       "malformed: buffer 1 outside the region: BUFFER");
	group("buffers: nr_bufs 3 and 2^32 + 1 TOO_MANY_BUFS; short, past the end, wrapping, "
	      "outside BUFFER");
	o = isa_op(5, 0);
	o.pad = 1;
	try_op(DMOP_VM, &o, STATUS_INVALID_ARG, DMOP_ERR_INVALID,
	       "malformed: header padding: INVALID");
	o = isa_op(5, 0);
	o.u.isa.pad[3] = 0xff;
	try_op(DMOP_VM, &o, STATUS_INVALID_ARG, DMOP_ERR_INVALID,
	       "malformed: argument padding: INVALID");
	o = new_op(99);
	try_op(DMOP_VM, &o, STATUS_INVALID_CALL, DMOP_ERR_UNKNOWN_OP,
	       "malformed: operation 99: UNKNOWN_OP");
	group("padding in the header or the arguments INVALID, operation 99 UNKNOWN_OP");
	o = isa_op(16, 1);
	try_op(DMOP_VM, &o, STATUS_INVALID_ARG, DMOP_ERR_INVALID, "bounds: ISA IRQ 16: INVALID");
	o = event_op(1, DMOP_EVENT, 0);
	try_op(DMOP_VM, &o, STATUS_INVALID_ARG, DMOP_ERR_INVALID,
	       "bounds: inject_event on a vCPU the VM does not have: INVALID");
	o = event_op(0, DMOP_EVENT, 2);
	try_op(DMOP_VM, &o, STATUS_INVALID_ARG, DMOP_ERR_INVALID,
	       "bounds: inject_event of type 2 (an NMI: x86 only): INVALID");
	o = new_op(DMOP_INJECT_MSI);
	try_op(DMOP_VM, &o, STATUS_INVALID_CALL, DMOP_ERR_NOT_SUPPORTED,
	       "inject_msi without a virtual ITS: NOT_SUPPORTED");
	o = new_op(DMOP_REMOTE_SHUTDOWN);
	o.u.shutdown.reason = DMOP_SHUTDOWN_REASON_MAX + 1u;
	try_op(DMOP_VM, &o, STATUS_INVALID_ARG, DMOP_ERR_INVALID,
	       "bounds: remote_shutdown with a reason past the last: INVALID");
	group("ISA IRQ 16, an event to vCPU 1 or of type 2, shutdown reason 6 INVALID; "
	      "inject_msi NOT_SUPPORTED");

	uint64_t r[9] = { HC_CALL, DM_DMOP, 0x1234, 0, 0, 0, 0, 0, 0 };
	arch_hypercall(r);
	expect(r[3], r[4], STATUS_INVALID_CALL, DMOP_ERR_UNKNOWN_OP, "another label: INVALID_CALL");
	uint64_t a[9] = { HC_CALL, DM_DMOP, DMOP_LABEL_AUDIT, DMOP_AUDIT_MODEL, DMOP_MODEL, 0, 0,
		          0,       0 };
	arch_hypercall(a);
	expect(a[3], 0, STATUS_NO_RIGHTS, 0, "reading the audit log without the auditor's badge");
	expect(hc5(HC_GUEST_ROUTE, DM_GUEST, DM_EP, 0x0b000000, 0x1000, IPC_ROUTE_MAP), 0,
	       STATUS_NO_RIGHTS, 0,
	       "bypassing dmop: HC_GUEST_ROUTE with its own dm right and an endpoint it cannot send to");
	group("another label, the audit log without the auditor's badge, HC_GUEST_ROUTE of its "
	      "own: refused");

	uint32_t burst_denied = 0;
	o = isa_op(5, 1);
	for (uint32_t i = 0; i < DMOP_TEST_BURST; i++) {
		put_op(&o);
		s = dm_raw(DMOP_OTHER, 1, 0, sizeof(o), 0, 0, &err);
		burst_denied += s == STATUS_NO_RIGHTS && err == DMOP_ERR_DENIED;
	}
	expect(burst_denied, 0, DMOP_TEST_BURST, 0,
	       "a burst of 200 calls on another guest: all DENIED");
	group("a burst of 200 calls on another guest: all DENIED");

	/* dm_restrict, then drop every capability but the service's endpoint and its own. */
	uint64_t v[9] = { HC_GUEST_MEM, DM_GUEST, 0x100000, 8, 0, 0, 0, 0, 0 };
	arch_hypercall(v);
	expect(v[0], 0, STATUS_OK, 0, "before dm_restrict its dm right reads the VM's RAM");
	o = new_op(DMOP_RESTRICT);
	try_op(DMOP_VM, &o, STATUS_OK, DMOP_OK, "dm_restrict to its VM");
	try_op(DMOP_OTHER, &o, STATUS_NO_RIGHTS, DMOP_ERR_DENIED,
	       "after dm_restrict: dm_restrict to another guest: DENIED");
	o = isa_op(5, 0);
	try_op(DMOP_OTHER, &o, STATUS_NO_RIGHTS, DMOP_ERR_DENIED,
	       "after dm_restrict: another target: DENIED");
	group("dm_restrict to its VM; then another target, or dm_restrict to it, DENIED");
	expect(hc5(HC_CAP_DROP, DM_READY, 0, 0, 0, 0), 0, STATUS_OK, 0,
	       "it drops its notification");
	expect(hc5(HC_CAP_DROP, DM_GUEST, 0, 0, 0, 0), 0, STATUS_OK, 0, "it drops its dm right");
	v[0] = HC_GUEST_MEM;
	v[1] = DM_GUEST;
	v[2] = 0x100000;
	v[3] = 8;
	arch_hypercall(v);
	expect(v[0], 0, STATUS_INVALID_CAP, 0, "after the drop: HC_GUEST_MEM is refused");
	expect(hc5(HC_SIGNAL, DM_READY, 0, 0, 0, 0), 0, STATUS_INVALID_CAP, 0,
	       "after the drop: HC_SIGNAL is refused");
	group("it drops its other capabilities (HC_CAP_DROP): its dm right and notification are "
	      "refused from then on");
	o = new_op(DMOP_GET_IOREQ_SERVER_INFO);
	o.u.info.id = server;
	put_op(&o);
	s = dm_raw(DMOP_VM, 1, 0, sizeof(o), 0, 0, &err);
	get_op(&o);
	expect(s == STATUS_OK && o.u.info.enabled == 1 && o.u.info.nr_ranges == 1, err, 1, DMOP_OK,
	       "after dm_restrict: its own target still works (its server: enabled, 1 range)");
	o = range_op(DMOP_UNMAP_IO_RANGE, server, DMOP_RANGE_MEMORY, DMOP_DEV, DMOP_DEV + 0xfff);
	try_op(DMOP_VM, &o, STATUS_OK, DMOP_OK, "it unmaps its range exactly");
	o.op = DMOP_MAP_IO_RANGE;
	try_op(DMOP_VM, &o, STATUS_OK, DMOP_OK, "and maps it again");
	group("its own target still works: its server's info, an exact unmap, the map again");
	puts_("model: ");
	putu(calls);
	puts_(" dm_op calls, ");
	putu(denied);
	puts_(" denied, ");
	putu(refused);
	puts_(" refused\n");
}

/**
 * A successor (the model is restartable): dmop kept its server and its restriction, the
 * kernel its route; and the capabilities it dropped stay dropped (a restart restores RAM and
 * image, not the capability table), so a crash gives it nothing back.
 */
static bool restarted(void)
{
	uint64_t err, s;
	server = persist->server;
	bool dropped = hc5(HC_CAP_INFO, DM_READY, 0, 0, 0, 0) == STATUS_INVALID_CAP &&
	               hc5(HC_CAP_INFO, DM_GUEST, 0, 0, 0, 0) == STATUS_INVALID_CAP;
	struct dmop_op o = new_op(DMOP_GET_IOREQ_SERVER_INFO);
	o.u.info.id = server;
	put_op(&o);
	s = dm_raw(DMOP_VM, 1, 0, sizeof(o), 0, 0, &err);
	get_op(&o);
	return dropped && s == STATUS_OK && o.u.info.enabled == 1 && o.u.info.nr_ranges == 1;
}

/** Setup through dmop (or find it kept, after a restart), then serve the VM's device. */
int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t err, s;
	struct dmop_op o;
	bool successor_ok = false;
	if (persist->magic == DM_MAGIC) {
		successor_ok = restarted();
	} else {
		o = new_op(DMOP_CREATE_IOREQ_SERVER);
		s = dm_op1(DMOP_VM, &o, &err);
		get_op(&o);
		server = o.u.create.id;
		expect(s, err, STATUS_OK, DMOP_OK, "create_ioreq_server for its VM");
		o = range_op(DMOP_MAP_IO_RANGE, server, DMOP_RANGE_MEMORY, DMOP_DEV,
		             DMOP_DEV + 0xfff);
		try_op(DMOP_VM, &o, STATUS_OK, DMOP_OK, "map_io_range: its device's 4 KiB");
		o = new_op(DMOP_SET_IOREQ_SERVER_STATE);
		o.u.state.id = server;
		o.u.state.enabled = 1;
		try_op(DMOP_VM, &o, STATUS_OK, DMOP_OK, "set_ioreq_server_state: enabled");
		group("an ioreq server for its VM, its device's 4 KiB mapped, enabled");
		persist->server = server;
		persist->magic = DM_MAGIC;
		(void)hc5(HC_SIGNAL, DM_READY, 0, 0, 0, 0);
	}
	uint32_t data = 0;
	for (;;) {
		uint64_t r[9] = { HC_RECV, DM_EP, 0, 0, 0, 0, 0, 0, 0 };
		arch_hypercall(r);
		uint64_t status = IPC_MMIO_DONE, value = 0;
		if (r[0] != STATUS_OK || r[2] != IPC_LABEL_MMIO) {
			bad_badge++;
			continue;
		}
		if (r[1] != DMOP_ROUTE_BADGE(DMOP_VM, server))
			bad_badge++;
		bool write = (r[4] & IPC_MMIO_WRITE) != 0;
		switch (r[7]) {
		case 0x00:
			value = 0x444d4f50u;
			break;
		case 0x04:
			if (write)
				data = (uint32_t)r[5];
			value = data;
			break;
		case 0x08:
			o = isa_op(5, r[5] & 1u);
			s = dm_op1(DMOP_VM, &o, &err);
			failures += s != STATUS_OK;
			break;
		case 0x20:
			o = event_op(0, DMOP_EVENT, 0);
			s = dm_op1(DMOP_VM, &o, &err);
			failures += s != STATUS_OK;
			break;
		case 0x0c:
			value = bad_badge;
			break;
		case 0x10:
			hostile();
			break;
		case 0x14:
			value = failures;
			break;
		case 0x18:
			if (persist->crashes == 0) {
				persist->crashes = 1;
				__asm__ volatile("udf #0"); /* dies holding the VM's store */
			}
			break;
		case 0x1c:
			value = persist->crashes | (successor_ok ? 1u << 8 : 0u);
			break;
		default:
			status = IPC_MMIO_ABORT;
		}
		uint64_t q[9] = { HC_REPLY, 0, 0, status, value, 0, 0, 0, 0 };
		arch_hypercall(q);
	}
}

#elif defined(GUEST_DMOP_AUDIT)

/** Slots: 0 the dmop service's endpoint (the auditor's badge), 1 the VM's "done" (wait). */
static uint64_t audit_call(uint64_t what, uint64_t which, uint64_t *w)
{
	uint64_t r[9] = { HC_CALL, 0, DMOP_LABEL_AUDIT, what, which, 0, 0, 0, 0 };
	arch_hypercall(r);
	for (uint32_t i = 0; i < 6; i++)
		w[i] = r[3 + i];
	return r[0] == STATUS_OK ? r[3] : STATUS_LIMIT;
}

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t w[6];
	uint64_t r[9] = { HC_WAIT, 1, 0, 0, 0, 0, 0, 0, 0 };
	arch_hypercall(r);
	check(audit_call(DMOP_AUDIT_MODEL, DMOP_MODEL, w) == STATUS_OK, "the model's record");
	puts_("dmop: model 2: ");
	putu(w[1]);
	puts_(" calls, ");
	putu(w[2]);
	puts_(" denied, ");
	putu(w[3]);
	puts_(" refused, restricted ");
	putu(w[4]);
	puts_(" to guest ");
	putu(w[5]);
	puts_("\n");
	check(w[1] == DMOP_TEST_CALLS && w[2] == DMOP_TEST_DENIED && w[3] == DMOP_TEST_REFUSED,
	      "audit: every call of the model counted, its denials and refusals exactly");
	check(w[4] == 1 && w[5] == DMOP_VM, "audit: the model restricted itself to its VM");
	check(audit_call(DMOP_AUDIT_MODEL, 7, w) == STATUS_INVALID_ARG,
	      "audit: no record of a partition that never called");
	uint32_t kept = 0, burst = 0, newest_ok = 0;
	uint64_t total = 0;
	for (uint32_t i = 0; audit_call(DMOP_AUDIT_RECORD, i, w) == STATUS_OK; i++) {
		kept++;
		total = w[1];
		burst += w[3] == DMOP_MODEL && w[4] == DMOP_OTHER &&
		         (w[5] & 0xffffu) == DMOP_SET_ISA_IRQ_LEVEL &&
		         w[5] >> 16 == DMOP_ERR_DENIED;
		newest_ok = w[3] == DMOP_MODEL && w[4] == DMOP_VM &&
		            (w[5] & 0xffffu) == DMOP_GET_IOREQ_SERVER_INFO && w[5] >> 16 == DMOP_OK;
		if (i + 8u >= 64u) {
			puts_("audit: #");
			putu(w[2]);
			puts_(" caller ");
			putu(w[3]);
			puts_(" target ");
			putu(w[4]);
			puts_(" op ");
			putu(w[5] & 0xffffu);
			puts_(" error ");
			putu(w[5] >> 16);
			puts_("\n");
		}
	}
	check(kept == 64 && total == DMOP_TEST_CALLS,
	      "audit: the ring keeps the last 64 of every call made");
	check(burst >= 40, "audit: the burst's denials are in the ring, with target and reason");
	check(newest_ok, "audit: the newest record is the model's successor's server info, done");
	return 0;
}

#endif

#if defined(GUEST_DMOP_MSI)

/*
 * A device model whose MSIs go through the dmop service (dmop-msi.dts, its.dts's VMs): slot 0
 * its endpoint to the service (DMOP_BADGE(3, 0, 0x1000000, 0x1000)), its buffers at 0x200000.
 * inject_msi on its VM with data 3 (the EventID), one per yield, until the service says the
 * vits service made one an LPI (reply w2; an MSI to an event the VM has not mapped yet is
 * dropped, as on hardware): the service calls the vits service with the DeviceID the
 * manifest gave the pair (5).
 */
#include <ipc/dmop.h>

static uint64_t msi_call(uint64_t target, uint32_t data, uint64_t *err, uint64_t *delivered)
{
	volatile struct dmop_op *o = (volatile struct dmop_op *)(uintptr_t)0x200000u;
	o->op = DMOP_INJECT_MSI;
	o->pad = 0;
	o->u.msi.data = data;
	o->u.msi.pad = 0;
	o->u.msi.addr = 0x08090040u; /* GITS_TRANSLATER of the VM's virtual ITS */
	uint64_t r[9] = { HC_CALL, 0, DMOP_LABEL, target, 1, 0, sizeof(struct dmop_op), 0, 0 };
	arch_hypercall(r);
	*err = r[4];
	*delivered = r[5];
	return r[0] == STATUS_OK ? r[3] : STATUS_LIMIT;
}

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t err, delivered, s = msi_call(1, 3, &err, &delivered);
	check(s == STATUS_NO_RIGHTS && err == DMOP_ERR_DENIED,
	      "inject_msi on the other VM, which it does not serve: DENIED");
	for (uint32_t tries = 0; tries < 100000u; tries++) {
		s = msi_call(0, 3, &err, &delivered);
		if (s != STATUS_OK || err != DMOP_OK) {
			check(0, "inject_msi on its VM through dmop and the vits service");
			return 1;
		}
		if (delivered) {
			check(1, "inject_msi on its VM through dmop and the vits service: an LPI");
			return 0;
		}
		hc(HC_YIELD, 0);
	}
	check(0, "inject_msi: its VM never mapped the event");
	return 1;
}

#endif
