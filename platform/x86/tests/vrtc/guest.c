/**
 * The VM of the x86 dmop tests (vrtc.dts, vrtc-kill.dts), on the local-APIC test guests' IDT
 * (../vapic/guest.c): it uses the CMOS RTC at ports 0x70-0x71 that the vrtc device model
 * serves through the dmop service. It waits (notification slot 0) until the hostile model
 * (hostile.c) is done, then: the status registers, the write-only index port, NVRAM written
 * and read back, the NMI bit of the index, the clock set with SET and counting (status C's
 * UF), binary mode, a 16-bit IN and string I/O refused (#GP(0), survived), and last a write to NVRAM byte
 * 0x7e, on which vrtc-crash dies: its successor completes it, and every byte reads back.
 */
#include "../vapic/guest.h"

#include "../../../../services/vrtc/rtc.h"

/** Written by gp_stub: #GPs taken; gp_skip is what it steps over. */
volatile uint64_t gp_count, gp_error, gp_skip;

void gp_stub(void);

/* #GP pushes an error code: record it, step over the faulting instruction, return. */
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

void guest_interrupt(uint8_t vector)
{
	(void)vector;
	apic_write(APIC_EOI, 0);
}

static unsigned failures;

static void check(bool ok, const char *what)
{
	svc_printf("%s: %s\n", ok ? "passed" : "FAILED", what);
	failures += !ok;
}

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

static uint8_t cmos(uint8_t index)
{
	outb(0x70, index);
	return inb(0x71);
}

static void cmos_set(uint8_t index, uint8_t v)
{
	outb(0x70, index);
	outb(0x71, v);
}

static uint8_t pattern(uint32_t i)
{
	return (uint8_t)(i * 7u + 3u);
}

static bool nvram_intact(void)
{
	for (uint32_t i = RTC_NVRAM_FIRST; i < 0x7eu; i++)
		if (cmos((uint8_t)i) != pattern(i))
			return false;
	return true;
}

static bool bcd(uint8_t b)
{
	return (b >> 4) <= 9u && (b & 0xfu) <= 9u;
}

static void status_and_nvram(void)
{
	check(cmos(RTC_STATUS_A) == RTC_A_RESET && cmos(RTC_STATUS_B) == RTC_B_RESET &&
	              cmos(RTC_STATUS_D) == RTC_D_VRT,
	      "status A 0x26, B 0x02 (24-hour, BCD), D 0x80 (VRT) through dmop");
	check(inb(0x70) == 0xff, "the index port reads 0xff (write-only)");
	for (uint32_t i = RTC_NVRAM_FIRST; i < 0x7eu; i++)
		cmos_set((uint8_t)i, pattern(i));
	check(nvram_intact(), "NVRAM bytes 0x0e-0x7d read back what was written");
	outb(0x70, 0x80 | 0x20);
	check(inb(0x71) == pattern(0x20), "an index with the NMI bit (7) names the same byte");
}

static void clock(void)
{
	cmos_set(RTC_STATUS_B, RTC_B_RESET | RTC_B_SET);
	cmos_set(RTC_YEAR, 0x26);
	cmos_set(RTC_MONTH, 0x12);
	cmos_set(RTC_DAY, 0x05);
	cmos_set(RTC_HOURS, 0x19);
	cmos_set(RTC_MINUTES, 0x59);
	cmos_set(RTC_SECONDS, 0x58);
	cmos_set(RTC_STATUS_B, RTC_B_RESET);
	check(cmos(RTC_YEAR) == 0x26 && cmos(RTC_MONTH) == 0x12 && cmos(RTC_DAY) == 0x05 &&
	              cmos(RTC_WEEKDAY) == 7,
	      "the clock set with SET: 2026-12-05, a Saturday (7)");
	(void)cmos(RTC_STATUS_C); /* clears the flags */
	uint8_t first = cmos(RTC_SECONDS), now = first;
	/* The clock counts in seconds of the TSC: wait for the next one (no time is asserted). */
	for (uint64_t spins = 0; now == first && spins < UINT64_C(5000000); spins++)
		now = cmos(RTC_SECONDS);
	uint8_t c = cmos(RTC_STATUS_C);
	uint8_t h = cmos(RTC_HOURS), m = cmos(RTC_MINUTES);
	bool later = (h == 0x19 && m == 0x59 && now == 0x59) || (h == 0x20 && m == 0x00);
	check(now != first && later && bcd(now) && (c & RTC_C_UF) != 0 && (c & RTC_C_IRQF) == 0,
	      "it counts from 19:59:58 in BCD, status C shows UF (no IRQF without UIE)");
	cmos_set(RTC_STATUS_B, RTC_B_DM | RTC_B_24H);
	check(cmos(RTC_YEAR) == 26 && cmos(RTC_MONTH) == 12, "binary mode (DM): the year reads 26");
	cmos_set(RTC_STATUS_B, RTC_B_RESET);
}

/** IN AX from port, AX holding fill before: what AX holds after (fill if it faulted). */
static uint16_t inw_over(uint16_t port, uint16_t fill)
{
	uint16_t v = fill;
	gp_skip = 2; /* 66 ED: in (%dx),%ax */
	__asm__ volatile("in %%dx, %%ax" : "+a"(v) : "d"(port) : "memory");
	return v;
}

static void refused(void)
{
	uint64_t before = gp_count;
	uint16_t v = inw_over(0x70, 0x1234);
	check(gp_count == before + 1 && gp_error == 0 && v == 0x1234,
	      "a 16-bit IN from ports 0x70-0x71: the model refuses it, #GP(0), survived");
	/* String I/O moves memory too: refused by the kernel, the model never sees it. */
	static volatile uint8_t buf[4] = { 0x5a, 0x5a, 0x5a, 0x5a };
	uint64_t count = 4, served = gp_count;
	volatile uint8_t *dst = buf;
	gp_skip = 2; /* F3 6C: rep insb */
	__asm__ volatile("rep insb" : "+D"(dst), "+c"(count) : "d"((uint16_t)0x71) : "memory");
	outb(0x70, 0x20);
	gp_skip = 1; /* 6E: outsb */
	const volatile uint8_t *src = buf;
	__asm__ volatile("outsb" : "+S"(src) : "d"((uint16_t)0x71) : "memory");
	check(gp_count == served + 2 && buf[0] == 0x5a && cmos(0x20) == pattern(0x20),
	      "REP INSB and OUTSB on the RTC's ports: #GP(0) each, nothing read or written");
}

int svc_main(uint64_t arg)
{
	(void)arg;
	guest_setup();
	guest_set_gate(13, gp_stub);
	uint64_t bits;
	if (svc_wait(0, &bits) != STATUS_OK)
		svc_printf("FAILED: waiting for the go\n");
	status_and_nvram();
	clock();
	refused();
	cmos_set(0x7e, 0xde); /* vrtc-crash dies here, before applying it */
	check(cmos(0x7e) == 0xde && nvram_intact(),
	      "a write to NVRAM 0x7e completed (by a successor in the kill test), the rest kept");
	svc_printf("all done: %u failed\n", failures);
	return failures != 0;
}
