/**
 * The real-time partition of the linux suite and the demo (tests/linux,
 * issue 12): a bare-metal EL1 guest with one vCPU, alone on its CPU, that
 * runs a periodic task on its virtual timer and reports how late each
 * period's interrupt reached it, while Linux guests run on the other CPUs.
 *
 * Each period the deadline moves on by exactly one period from the last
 * deadline (no drift), the vCPU waits in WFI, and the interrupt handler
 * reads CNTVCT_EL0 first thing. Jitter is that reading minus the deadline:
 * everything between the timer firing and the partition's handler (the
 * kernel taking the physical interrupt, the vGIC making it pending, the
 * vCPU's wake-up, the exception entry). Under QEMU's -icount shift=0 one
 * virtual nanosecond is one executed instruction and the counter ticks
 * every 1e9 / CNTFRQ nanoseconds (16 at QEMU's 62.5 MHz), so the figure is
 * in instructions, rounded down to a tick (docs/benchmarks.md); without
 * -icount it is nanoseconds of QEMU's virtual clock.
 *
 * One line per window of RT_WINDOW periods, through HC_CONSOLE_WRITE:
 *   rt: window N: 1000 periods of 1000 us, worst jitter W insns, mean M insns, overruns O
 * (an overrun: the handler ran after the next period's deadline).
 */
#include <ipc/abi.h>
#include <stddef.h>
#include <stdint.h>
#include <svc_arch.h>

int svc_main(uint64_t arg);
_Noreturn void svc_exit(uint64_t code);
void *memset(void *dst, int c, size_t n);
void rt_el1_irq(void);

/** The period in microseconds, and periods per report. */
#define RT_PERIOD_US 1000u
#define RT_WINDOW 1000u

/* QEMU virt's GIC, which the VM's virtual GIC copies (docs/guests.md). */
#define GICD UINT64_C(0x08000000)
#define GICR UINT64_C(0x080a0000)
#define GICR_WAKER (GICR + 0x14u)
#define GICR_ISENABLER0 (GICR + 0x10000u + 0x100u)
#define GICD_CTLR_ENABLE_G1 (1u << 1)
#define VTIMER_INTID 27u

#define ICC_IAR1 S3_0_C12_C12_0
#define ICC_EOIR1 S3_0_C12_C12_1
#define ICC_PMR S3_0_C4_C6_0
#define ICC_IGRPEN1 S3_0_C12_C12_7

/* Two levels, so that the ICC_* names expand before they are quoted. */
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

void *memset(void *dst, int c, size_t n)
{
	volatile uint8_t *d = dst;
	while (n-- > 0)
		*d++ = (uint8_t)c;
	return dst;
}

_Noreturn void svc_exit(uint64_t code)
{
	uint64_t r[9] = { HC_EXIT, code, 0, 0, 0, 0, 0, 0, 0 };
	arch_hypercall(r);
	for (;;)
		;
}

/** Up to IPC_CONSOLE_MAX bytes per HC_CONSOLE_WRITE. */
static void put(const char *s)
{
	uint64_t r[9] = { 0 };
	uint32_t k = 0;
	for (uint32_t i = 0; s[i] != 0; i++) {
		r[2 + k / 8] |= (uint64_t)(uint8_t)s[i] << (8 * (k % 8));
		k++;
		if (k == IPC_CONSOLE_MAX || s[i + 1] == 0) {
			r[0] = HC_CONSOLE_WRITE;
			r[1] = k;
			arch_hypercall(r);
			for (uint32_t j = 1; j < 9; j++)
				r[j] = 0;
			k = 0;
		}
	}
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
	put(&b[i]);
}

static inline void w32(uint64_t a, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)a = v;
}

/** The counter as the handler first saw it, and how many interrupts it took. */
static volatile uint64_t irq_tick;
static volatile uint32_t irq_count;

/* EL1 vectors: only "current EL with SP_ELx, IRQ" (0x280) is expected; the rest spin. */
__asm__(".pushsection .text\n"
        ".balign 2048\n"
        "rt_vectors:\n"
        ".rept 5\n.balign 128\n1: b 1b\n.endr\n"
        ".balign 128\n"
        "\tsub sp, sp, #192\n"
        "\tstp x0, x1, [sp, #0]\n\tstp x2, x3, [sp, #16]\n\tstp x4, x5, [sp, #32]\n"
        "\tstp x6, x7, [sp, #48]\n\tstp x8, x9, [sp, #64]\n\tstp x10, x11, [sp, #80]\n"
        "\tstp x12, x13, [sp, #96]\n\tstp x14, x15, [sp, #112]\n\tstp x16, x17, [sp, #128]\n"
        "\tstp x18, x30, [sp, #144]\n"
        "\tbl rt_el1_irq\n"
        "\tldp x0, x1, [sp, #0]\n\tldp x2, x3, [sp, #16]\n\tldp x4, x5, [sp, #32]\n"
        "\tldp x6, x7, [sp, #48]\n\tldp x8, x9, [sp, #64]\n\tldp x10, x11, [sp, #80]\n"
        "\tldp x12, x13, [sp, #96]\n\tldp x14, x15, [sp, #112]\n\tldp x16, x17, [sp, #128]\n"
        "\tldp x18, x30, [sp, #144]\n"
        "\tadd sp, sp, #192\n\teret\n"
        ".rept 10\n.balign 128\n1: b 1b\n.endr\n"
        ".popsection\n");
extern char rt_vectors[];

void rt_el1_irq(void)
{
	uint64_t tick = read_sys(cntvct_el0);
	for (;;) {
		uint32_t intid = (uint32_t)read_sys(ICC_IAR1) & 0xffffffu;
		if (intid >= 1020u)
			return;
		if (intid == VTIMER_INTID) {
			irq_tick = tick;
			irq_count++;
			write_sys(cntv_ctl_el0, 0); /* the main loop arms the next deadline */
		}
		write_sys(ICC_EOIR1, intid);
	}
}

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t freq = read_sys(cntfrq_el0);
	uint64_t ns_per_tick = freq != 0 ? 1000000000u / freq : 0;
	uint64_t period = freq * RT_PERIOD_US / 1000000u;
	if (ns_per_tick == 0 || period == 0) {
		put("rt: FAILED: no usable CNTFRQ_EL0\n");
		return 1;
	}
	write_sys(vbar_el1, (uint64_t)(uintptr_t)rt_vectors);
	write_sys(ICC_PMR, 0xff);
	write_sys(ICC_IGRPEN1, 1);
	w32(GICD, GICD_CTLR_ENABLE_G1);
	w32(GICR_WAKER, 0);
	w32(GICR_ISENABLER0, 1u << VTIMER_INTID);
	put("rt: periodic task started: ");
	putu(RT_PERIOD_US);
	put(" us period, jitter in instructions under -icount (counter ticks x ");
	putu(ns_per_tick);
	put(")\n");

	/*
	 * Interrupts stay masked but for a moment after each WFI: a pending one ends a WFI even
	 * while masked, and is taken when they are unmasked. With them unmasked around the check
	 * and the WFI, a deadline passing between the two (this vCPU held up that long) would be
	 * taken before the WFI, which would then wait for good: the handler turns the timer off.
	 */
	uint64_t deadline = read_sys(cntvct_el0) + period;
	for (uint32_t window = 1;; window++) {
		uint64_t worst = 0, sum = 0;
		uint32_t overruns = 0;
		for (uint32_t i = 0; i < RT_WINDOW; i++) {
			uint32_t before = irq_count;
			write_sys(cntv_cval_el0, deadline);
			write_sys(cntv_ctl_el0, 1);
			while (irq_count == before)
				__asm__ volatile(
				        "wfi\n\tmsr daifclr, #2\n\tisb\n\tmsr daifset, #2" ::
				                : "memory");
			uint64_t late = (irq_tick - deadline) * ns_per_tick;
			worst = late > worst ? late : worst;
			sum += late;
			deadline += period;
			/* Late past the next deadline: count it and start again from now. */
			if (irq_tick >= deadline) {
				overruns++;
				deadline = irq_tick + period;
			}
		}
		put("rt: window ");
		putu(window);
		put(": ");
		putu(RT_WINDOW);
		put(" periods of ");
		putu(RT_PERIOD_US);
		put(" us, worst jitter ");
		putu(worst);
		put(" insns, mean ");
		putu(sum / RT_WINDOW);
		put(" insns, overruns ");
		putu(overruns);
		put("\n");
	}
}
