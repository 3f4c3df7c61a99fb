/**
 * Host tests of the virtual xAPIC register model (platform/x86/vlapic/vlapic.c): reset values,
 * access rules, priorities, EOI, ESR, IPI routing and the timer in its three modes. Expected
 * values come from the Intel SDM vol 3 chapter 10.
 */
#include "tap.h"
#include <x86/vlapic.h>

/** 1 GHz time (nanoseconds) and a 100 MHz APIC bus: one count at divide-by-1 is 10 ns. */
static const struct vlapic_config cfg_ns = {
	.apic_id = 3,
	.time_hz = 1000000000,
	.bus_hz = 100000000,
	.tsc_deadline = true,
	.tsc_hz = 2000000000,
};

static uint32_t rd(struct vlapic *l, uint32_t off, uint64_t now)
{
	uint32_t v = 0xdeadbeef;
	if (vlapic_read(l, off, 4, now, &v) != VLAPIC_DONE)
		return 0xbad;
	return v;
}

static enum vlapic_result wr(struct vlapic *l, uint32_t off, uint32_t v, uint64_t now)
{
	struct vlapic_ipi ipi;
	return vlapic_write(l, off, 4, v, now, &ipi);
}

static void enabled(struct vlapic *l)
{
	vlapic_init(l, &cfg_ns);
	wr(l, VLAPIC_SVR, VLAPIC_SVR_ENABLE | 0xff, 0);
}

static void test_config(void)
{
	struct vlapic l;
	struct vlapic_config c = cfg_ns;
	OK(vlapic_init(&l, &c), "a sane configuration is accepted");
	c.bus_hz = 0;
	OK(!vlapic_init(&l, &c), "a zero bus frequency is refused");
	c = cfg_ns;
	c.time_hz = 1ull << 41;
	OK(!vlapic_init(&l, &c), "a time unit above 1 THz is refused");
	c = cfg_ns;
	c.tsc_hz = 0;
	OK(!vlapic_init(&l, &c), "TSC-deadline without a TSC frequency is refused");
}

static void test_reset(void)
{
	struct vlapic l;
	vlapic_init(&l, &cfg_ns);
	EQ(rd(&l, VLAPIC_ID, 0), 3u << 24, "ID holds the configured APIC ID in bits 31:24");
	EQ(rd(&l, VLAPIC_VERSION, 0), 0x00060014, "version 0x14, max LVT entry 6");
	EQ(rd(&l, VLAPIC_TPR, 0), 0, "TPR resets to 0");
	EQ(rd(&l, VLAPIC_DFR, 0), 0xffffffff, "DFR resets to all ones (flat)");
	EQ(rd(&l, VLAPIC_SVR, 0), 0xff, "SVR resets to 0xff, software-disabled");
	EQ(rd(&l, VLAPIC_LDR, 0), 0, "LDR resets to 0");
	EQ(rd(&l, VLAPIC_APR, 0) | rd(&l, VLAPIC_PPR, 0), 0, "APR and PPR reset to 0");
	EQ(rd(&l, VLAPIC_EOI, 0) | rd(&l, VLAPIC_RRD, 0), 0, "EOI and RRD read as 0");
	EQ(rd(&l, VLAPIC_ESR, 0), 0, "ESR resets to 0");
	EQ(rd(&l, VLAPIC_ICR_LO, 0) | rd(&l, VLAPIC_ICR_HI, 0), 0, "ICR resets to 0");
	static const uint32_t lvts[] = { VLAPIC_LVT_TIMER, VLAPIC_LVT_THERMAL, VLAPIC_LVT_PERF,
		                         VLAPIC_LVT_LINT0, VLAPIC_LVT_LINT1,   VLAPIC_LVT_ERROR,
		                         VLAPIC_LVT_CMCI };
	bool all_masked = true;
	for (unsigned i = 0; i < sizeof(lvts) / sizeof(lvts[0]); i++)
		all_masked &= rd(&l, lvts[i], 0) == VLAPIC_LVT_MASKED;
	OK(all_masked, "every LVT entry resets to masked, vector 0");
	bool zero = true;
	for (uint32_t off = VLAPIC_ISR; off < VLAPIC_IRR + 0x80; off += 16)
		zero &= rd(&l, off, 0) == 0;
	OK(zero, "ISR, TMR and IRR reset to zero");
	EQ(rd(&l, VLAPIC_TIMER_ICR, 0) | rd(&l, VLAPIC_TIMER_CCR, 0) | rd(&l, VLAPIC_TIMER_DCR, 0),
	   0, "timer registers reset to zero");
}

static void test_access_rules(void)
{
	struct vlapic l;
	enabled(&l);
	uint32_t v;
	struct vlapic_ipi ipi;
	EQ(vlapic_read(&l, VLAPIC_TPR, 2, 0, &v), VLAPIC_BAD_ACCESS, "a 16-bit read is an error");
	EQ(vlapic_read(&l, VLAPIC_TPR, 8, 0, &v), VLAPIC_BAD_ACCESS, "a 64-bit read is an error");
	EQ(vlapic_write(&l, VLAPIC_TPR + 1, 4, 0, 0, &ipi), VLAPIC_BAD_ACCESS,
	   "an unaligned write is an error");
	EQ(vlapic_read(&l, 0x1000, 4, 0, &v), VLAPIC_BAD_ACCESS,
	   "an offset past the page is an error");
	EQ(vlapic_read(&l, UINT64_MAX - 3, 4, 0, &v), VLAPIC_BAD_ACCESS,
	   "a huge offset is an error");
	wr(&l, VLAPIC_TPR, 0x20, 0);
	v = 1;
	EQ(vlapic_read(&l, VLAPIC_TPR + 4, 4, 0, &v), VLAPIC_DONE, "bytes 4-7 of a slot: no error");
	EQ(v, 0, "... and read as zero");
	wr(&l, VLAPIC_TPR + 8, 0x90, 0);
	EQ(rd(&l, VLAPIC_TPR, 0), 0x20, "a write to bytes 8-11 of a slot is ignored");

	wr(&l, VLAPIC_ESR, 0, 0);
	EQ(rd(&l, 0x040, 0), 0, "a reserved register reads as zero");
	EQ(rd(&l, VLAPIC_ESR, 0), 0, "ESR shows nothing before the next ESR write");
	wr(&l, VLAPIC_ESR, 0, 0);
	EQ(rd(&l, VLAPIC_ESR, 0), VLAPIC_ESR_ILLEGAL_REGISTER,
	   "... then: illegal register address");
	wr(&l, VLAPIC_ESR, 0, 0);
	EQ(rd(&l, VLAPIC_ESR, 0), 0, "a further ESR write clears it");

	wr(&l, VLAPIC_ID, 0xff000000, 0);
	wr(&l, VLAPIC_VERSION, 0, 0);
	wr(&l, VLAPIC_PPR, 0xff, 0);
	wr(&l, VLAPIC_IRR + 0x70, 0xffffffff, 0);
	EQ(rd(&l, VLAPIC_ID, 0), 3u << 24, "ID is read-only");
	EQ(rd(&l, VLAPIC_VERSION, 0), 0x00060014, "version is read-only");
	EQ(rd(&l, VLAPIC_PPR, 0), 0x20, "PPR is read-only (it follows TPR)");
	EQ(rd(&l, VLAPIC_IRR + 0x70, 0), 0, "IRR is read-only");

	wr(&l, VLAPIC_LDR, 0xffffffff, 0);
	EQ(rd(&l, VLAPIC_LDR, 0), 0xff000000, "LDR keeps bits 31:24 only");
	wr(&l, VLAPIC_DFR, 0, 0);
	EQ(rd(&l, VLAPIC_DFR, 0), 0x0fffffff, "DFR: model bits written, bits 27:0 read as ones");
	wr(&l, VLAPIC_TPR, 0xffffffff, 0);
	EQ(rd(&l, VLAPIC_TPR, 0), 0xff, "TPR keeps bits 7:0");
	wr(&l, VLAPIC_LVT_LINT0, 0xffffffff, 0);
	EQ(rd(&l, VLAPIC_LVT_LINT0, 0), 0x0001a7ff, "LINT0: delivery status and remote IRR are RO");
	wr(&l, VLAPIC_LVT_ERROR, 0xffffffff, 0);
	EQ(rd(&l, VLAPIC_LVT_ERROR, 0), 0x000100ff, "error LVT: vector and mask only");
	wr(&l, VLAPIC_ICR_HI, 0xffffffff, 0);
	EQ(rd(&l, VLAPIC_ICR_HI, 0), 0xff000000, "ICR high keeps the destination field");
	wr(&l, VLAPIC_TIMER_DCR, 0xffffffff, 0);
	EQ(rd(&l, VLAPIC_TIMER_DCR, 0), 0xb, "DCR keeps bits 0, 1 and 3");
}

static void test_software_disable(void)
{
	struct vlapic l;
	enabled(&l);
	wr(&l, VLAPIC_LVT_LINT0, 0x30, 0);
	EQ(rd(&l, VLAPIC_LVT_LINT0, 0), 0x30, "enabled: an LVT entry can be unmasked");
	wr(&l, VLAPIC_SVR, 0xff, 0);
	EQ(rd(&l, VLAPIC_LVT_LINT0, 0), 0x10030, "software disable masks every LVT entry");
	wr(&l, VLAPIC_LVT_LINT0, 0x31, 0);
	EQ(rd(&l, VLAPIC_LVT_LINT0, 0), 0x10031, "while disabled the mask cannot be cleared");
	wr(&l, VLAPIC_SVR, 0x1fff, 0);
	EQ(rd(&l, VLAPIC_SVR, 0), 0x3ff,
	   "SVR keeps vector, enable and focus bits; bit 12 reserved");
}

static void test_priorities(void)
{
	struct vlapic l;
	enabled(&l);
	EQ(vlapic_pending(&l), -1, "nothing pending after reset");
	vlapic_raise(&l, 0x31, false);
	vlapic_raise(&l, 0x52, false);
	vlapic_raise(&l, 0x45, false);
	EQ(rd(&l, VLAPIC_IRR + 0x10, 0), (1u << 0x11), "IRR word 1 holds vector 0x31");
	EQ(rd(&l, VLAPIC_IRR + 0x20, 0), (1u << 0x12) | (1u << 0x05), "IRR word 2: 0x45, 0x52");
	EQ(vlapic_pending(&l), 0x52, "the highest IRR vector is offered first");
	EQ(rd(&l, VLAPIC_APR, 0), 0x50, "APR is the class of the highest request");
	wr(&l, VLAPIC_TPR, 0x50, 0);
	EQ(vlapic_pending(&l), -1, "TPR 0x50 holds back vector 0x52 (same class)");
	wr(&l, VLAPIC_TPR, 0x4f, 0);
	EQ(vlapic_pending(&l), 0x52, "TPR 0x4f lets 0x52 through");
	wr(&l, VLAPIC_TPR, 0, 0);
	vlapic_ack(&l, 0x52);
	EQ(rd(&l, VLAPIC_ISR + 0x20, 0), 1u << 0x12, "acknowledging moves 0x52 to ISR");
	EQ(rd(&l, VLAPIC_IRR + 0x20, 0), 1u << 0x05, "... and out of IRR");
	EQ(rd(&l, VLAPIC_PPR, 0), 0x50, "PPR is the in-service class");
	EQ(vlapic_pending(&l), -1, "0x45 waits while 0x52 is in service");
	vlapic_raise(&l, 0x61, false);
	EQ(vlapic_pending(&l), 0x61, "a higher class preempts the one in service");
	vlapic_ack(&l, 0x61);
	EQ(rd(&l, VLAPIC_PPR, 0), 0x60, "nested: PPR follows the highest in service");
	wr(&l, VLAPIC_EOI, 0, 0);
	EQ(rd(&l, VLAPIC_ISR + 0x30, 0), 0, "EOI retires the highest in service (0x61)");
	EQ(rd(&l, VLAPIC_ISR + 0x20, 0), 1u << 0x12, "... and leaves 0x52 in service");
	wr(&l, VLAPIC_EOI, 0, 0);
	EQ(vlapic_pending(&l), 0x45, "after both EOIs 0x45 is offered");
	wr(&l, VLAPIC_TPR, 0x35, 0);
	EQ(rd(&l, VLAPIC_PPR, 0), 0x35, "PPR is TPR when its class is at least the in-service one");
	vlapic_ack(&l, 0x99);
	EQ(rd(&l, VLAPIC_ISR + 0x40, 0), 0, "acknowledging a vector not requested changes nothing");

	vlapic_raise(&l, 0x70, true);
	EQ(rd(&l, VLAPIC_TMR + 0x30, 0), 1u << 0x10, "a level-triggered vector sets TMR");
	vlapic_ack(&l, 0x70);
	wr(&l, VLAPIC_EOI, 0, 0);
	EQ(rd(&l, VLAPIC_TMR + 0x30, 0), 0, "its EOI clears TMR");

	wr(&l, VLAPIC_ESR, 0, 0);
	OK(!vlapic_raise(&l, 7, false), "vectors 0-15 are refused");
	EQ(rd(&l, VLAPIC_IRR, 0), 0, "... and never reach IRR");
	wr(&l, VLAPIC_ESR, 0, 0);
	EQ(rd(&l, VLAPIC_ESR, 0), VLAPIC_ESR_RECV_ILLEGAL_VECTOR, "... but set receive illegal");
}

static void test_error_lvt(void)
{
	struct vlapic l;
	enabled(&l);
	wr(&l, VLAPIC_LVT_ERROR, 0xfe, 0);
	wr(&l, VLAPIC_ICR_LO, 0x0005, 0);
	EQ(vlapic_pending(&l), 0xfe, "a sent illegal vector raises the error LVT's vector");
	wr(&l, VLAPIC_ESR, 0, 0);
	EQ(rd(&l, VLAPIC_ESR, 0), VLAPIC_ESR_SEND_ILLEGAL_VECTOR, "ESR: send illegal vector");
	wr(&l, VLAPIC_LVT_ERROR, 0x03, 0);
	vlapic_raise(&l, 1, false);
	EQ(rd(&l, VLAPIC_IRR, 0), 0, "an illegal error vector does not recurse into IRR");
}

static struct vlapic_ipi icr(struct vlapic *l, uint32_t hi, uint32_t lo, enum vlapic_result *r)
{
	struct vlapic_ipi ipi = { 0 };
	vlapic_write(l, VLAPIC_ICR_HI, 4, hi, 0, &ipi);
	*r = vlapic_write(l, VLAPIC_ICR_LO, 4, lo, 0, &ipi);
	return ipi;
}

static void test_ipi(void)
{
	struct vlapic cpu[4];
	const struct vlapic *view[4];
	for (unsigned i = 0; i < 4; i++) {
		struct vlapic_config c = cfg_ns;
		c.apic_id = (uint8_t)i;
		vlapic_init(&cpu[i], &c);
		wr(&cpu[i], VLAPIC_SVR, 0x1ff, 0);
		view[i] = &cpu[i];
	}
	enum vlapic_result r;
	struct vlapic_ipi ipi = icr(&cpu[0], 2u << 24, 0x40f1, &r);
	EQ(r, VLAPIC_IPI, "an ICR low write sends");
	EQ(ipi.vector, 0xf1, "vector decoded");
	EQ(ipi.mode, VLAPIC_DM_FIXED, "fixed mode decoded");
	EQ(vlapic_ipi_targets(&ipi, view, 4, 0), 1u << 2, "physical destination 2");
	EQ(vlapic_ipi_accept(&cpu[2], &ipi), VLAPIC_EV_NONE, "a fixed IPI is no vCPU event");
	EQ(vlapic_pending(&cpu[2]), 0xf1, "... and lands in the target's IRR");
	EQ(rd(&cpu[0], VLAPIC_ICR_LO, 0) & (1u << 12), 0, "delivery status reads idle");

	ipi = icr(&cpu[0], 0xffu << 24, 0x40f1, &r);
	EQ(vlapic_ipi_targets(&ipi, view, 4, 0), 0xf, "physical 0xff broadcasts");
	ipi = icr(&cpu[0], 0, 0x440f1, &r);
	EQ(vlapic_ipi_targets(&ipi, view, 4, 0), 1, "shorthand self");
	ipi = icr(&cpu[0], 0, 0x840f1, &r);
	EQ(vlapic_ipi_targets(&ipi, view, 4, 0), 0xf, "shorthand all including self");
	ipi = icr(&cpu[1], 0, 0xc40f1, &r);
	EQ(vlapic_ipi_targets(&ipi, view, 4, 1), 0xd, "shorthand all excluding self");

	/* Flat logical: LDR bit per CPU. */
	for (unsigned i = 0; i < 4; i++)
		wr(&cpu[i], VLAPIC_LDR, (1u << i) << 24, 0);
	ipi = icr(&cpu[0], 0x0au << 24, 0x48f1, &r);
	OK(ipi.logical, "logical destination mode decoded");
	EQ(vlapic_ipi_targets(&ipi, view, 4, 0), 0xa, "flat logical: mask 0x0a hits CPUs 1 and 3");
	ipi = icr(&cpu[0], 0x0au << 24, 0x49f1, &r);
	EQ(vlapic_ipi_targets(&ipi, view, 4, 0), 0x2, "lowest priority: the lowest match only");

	/* Cluster logical: CPUs 0,1 in cluster 1; 2,3 in cluster 2. */
	static const uint32_t ldr[4] = { 0x11u << 24, 0x12u << 24, 0x21u << 24, 0x22u << 24 };
	for (unsigned i = 0; i < 4; i++) {
		wr(&cpu[i], VLAPIC_DFR, 0x0fffffff, 0);
		wr(&cpu[i], VLAPIC_LDR, ldr[i], 0);
	}
	ipi = icr(&cpu[0], 0x23u << 24, 0x48f1, &r);
	EQ(vlapic_ipi_targets(&ipi, view, 4, 0), 0xc, "cluster 2, members 1 and 2");
	ipi = icr(&cpu[0], 0x12u << 24, 0x48f1, &r);
	EQ(vlapic_ipi_targets(&ipi, view, 4, 0), 0x2, "cluster 1, member 2");
	ipi = icr(&cpu[0], 0xf1u << 24, 0x48f1, &r);
	EQ(vlapic_ipi_targets(&ipi, view, 4, 0), 0x5, "cluster 0xf: member 1 of every cluster");

	ipi = icr(&cpu[0], 1u << 24, 0x4400, &r);
	EQ(r, VLAPIC_IPI, "NMI sent");
	EQ(vlapic_ipi_accept(&cpu[1], &ipi), VLAPIC_EV_NMI, "NMI reported to the caller");

	vlapic_raise(&cpu[1], 0x80, false);
	ipi = icr(&cpu[0], 1u << 24, 0x4500, &r);
	EQ(r, VLAPIC_IPI, "INIT assert sent");
	EQ(vlapic_ipi_accept(&cpu[1], &ipi), VLAPIC_EV_INIT, "INIT reported to the caller");
	EQ(vlapic_pending(&cpu[1]), -1, "INIT reset the target's IRR");
	EQ(rd(&cpu[1], VLAPIC_ID, 0), 1u << 24, "... but kept its ID");
	EQ(rd(&cpu[1], VLAPIC_SVR, 0), 0xff, "... and left it software-disabled");
	icr(&cpu[0], 1u << 24, 0x8500, &r);
	EQ(r, VLAPIC_DONE, "an INIT level de-assert sends nothing");
	ipi = icr(&cpu[0], 1u << 24, 0x4609, &r);
	EQ(r, VLAPIC_IPI, "SIPI sent");
	EQ(vlapic_ipi_accept(&cpu[1], &ipi), VLAPIC_EV_SIPI, "SIPI reported to the caller");
	EQ(ipi.vector, 9, "... with its start page vector");

	icr(&cpu[0], 0, 0x44200, &r);
	EQ(r, VLAPIC_DONE, "SMI is dropped");
	icr(&cpu[0], 0, 0x44400, &r);
	EQ(r, VLAPIC_DONE, "NMI with the self shorthand is dropped");
	icr(&cpu[0], 0, 0x84500, &r);
	EQ(r, VLAPIC_DONE, "INIT to all including self is dropped (only fixed may use it)");
	icr(&cpu[0], 0, 0x84100 | 0xf1, &r);
	EQ(r, VLAPIC_DONE, "lowest priority to all including self is dropped");
	ipi = icr(&cpu[0], 0, 0xc4500, &r);
	EQ(r, VLAPIC_IPI, "INIT to all excluding self is sent");
	EQ(vlapic_ipi_targets(&ipi, view, 4, 0), 0xe, "... to the others");
	icr(&cpu[0], 2u << 24, 0x400f, &r);
	EQ(r, VLAPIC_DONE, "a fixed IPI with vector 15 is not sent");
}

static void test_timer_oneshot(void)
{
	struct vlapic l;
	enabled(&l);
	uint64_t when;
	OK(!vlapic_next_deadline(&l, &when), "no deadline before the timer is loaded");
	wr(&l, VLAPIC_LVT_TIMER, 0xec, 0);
	wr(&l, VLAPIC_TIMER_DCR, 0xb, 0); /* divide by 1: 10 ns per count */
	wr(&l, VLAPIC_TIMER_ICR, 1000, 5000);
	EQ(rd(&l, VLAPIC_TIMER_CCR, 5000), 1000, "current count starts at the initial count");
	EQ(rd(&l, VLAPIC_TIMER_CCR, 5000 + 2500), 750, "250 counts in 2.5 us");
	OK(vlapic_next_deadline(&l, &when), "a loaded timer has a deadline");
	EQ(when, 5000 + 10000, "deadline: start + 1000 counts of 10 ns");
	vlapic_advance(&l, 14999);
	EQ(vlapic_pending(&l), -1, "nothing fires before the deadline");
	vlapic_advance(&l, 15000);
	EQ(vlapic_pending(&l), 0xec, "the timer vector fires at the deadline");
	EQ(rd(&l, VLAPIC_TIMER_CCR, 15001), 0, "one-shot: the count stays at zero");
	OK(!vlapic_next_deadline(&l, &when), "one-shot: no further deadline");

	wr(&l, VLAPIC_TIMER_DCR, 0x3, 0); /* divide by 16 */
	wr(&l, VLAPIC_TIMER_ICR, 10, 0);
	vlapic_next_deadline(&l, &when);
	EQ(when, 1600, "divide by 16: 10 counts take 1.6 us");
	wr(&l, VLAPIC_TIMER_DCR, 0x0, 0); /* divide by 2 */
	vlapic_next_deadline(&l, &when);
	EQ(when, 1600, "a new divisor waits for the next initial count");
	wr(&l, VLAPIC_TIMER_ICR, 10, 0);
	vlapic_next_deadline(&l, &when);
	EQ(when, 200, "divide by 2 after the reload");
	wr(&l, VLAPIC_TIMER_ICR, 0, 0);
	OK(!vlapic_next_deadline(&l, &when), "an initial count of 0 stops the timer");

	wr(&l, VLAPIC_LVT_TIMER, VLAPIC_LVT_MASKED | 0xed, 0);
	wr(&l, VLAPIC_TIMER_ICR, 10, 0);
	vlapic_advance(&l, 1000000);
	EQ(rd(&l, VLAPIC_IRR + 0x70, 0) & (1u << (0xed - 0xe0)), 0,
	   "a masked timer raises nothing");
}

static void test_timer_periodic(void)
{
	struct vlapic l;
	struct vlapic_config c = cfg_ns;
	c.bus_hz = 300000000; /* 3.33 ns per count: periods are not whole nanoseconds */
	vlapic_init(&l, &c);
	wr(&l, VLAPIC_SVR, 0x1ff, 0);
	wr(&l, VLAPIC_LVT_TIMER, VLAPIC_TIMER_PERIODIC | 0x40, 0);
	wr(&l, VLAPIC_TIMER_DCR, 0xb, 0);
	wr(&l, VLAPIC_TIMER_ICR, 100, 0); /* 333.33 ns */
	uint64_t when;
	vlapic_next_deadline(&l, &when);
	EQ(when, 334, "first period ends at 333.3 ns, rounded up");
	unsigned fired = 0;
	for (unsigned i = 0; i < 3000; i++) {
		vlapic_next_deadline(&l, &when);
		vlapic_advance(&l, when);
		if (vlapic_pending(&l) == 0x40) {
			fired++;
			vlapic_ack(&l, 0x40);
			wr(&l, VLAPIC_EOI, 0, 0);
		}
	}
	EQ(fired, 3000, "every period fires once");
	vlapic_next_deadline(&l, &when);
	EQ(when, 1000000 + 334, "3000 periods later the timer has not drifted");
	EQ(rd(&l, VLAPIC_TIMER_CCR, 1000000 + 100), 70, "periodic: the count reloads");
	vlapic_advance(&l, 5000000);
	vlapic_next_deadline(&l, &when);
	EQ(when, 5000000 + 334, "missed periods are skipped, not replayed");
	EQ(vlapic_pending(&l), 0x40, "... and raise one interrupt");
	EQ(rd(&l, VLAPIC_TIMER_CCR, 5000000 + 200), 40, "the count follows the new period");
}

static void test_timer_tsc_deadline(void)
{
	struct vlapic l;
	struct vlapic_config c = cfg_ns;
	c.tsc_deadline = false;
	vlapic_init(&l, &c);
	wr(&l, VLAPIC_SVR, 0x1ff, 0);
	uint64_t v;
	OK(!vlapic_tsc_deadline_read(&l, &v), "without the CPUID bit the MSR does not exist");
	OK(!vlapic_tsc_deadline_write(&l, 5), "... for writes too");
	wr(&l, VLAPIC_LVT_TIMER, VLAPIC_TIMER_TSC_DEADLINE | 0x50, 0);
	EQ(rd(&l, VLAPIC_LVT_TIMER, 0), 0x50, "... and the LVT cannot select the mode");

	enabled(&l);
	OK(vlapic_tsc_deadline_write(&l, 1234), "with the CPUID bit the MSR exists");
	OK(vlapic_tsc_deadline_read(&l, &v), "it can be read");
	EQ(v, 0, "outside TSC-deadline mode it reads 0 and ignored the write");
	wr(&l, VLAPIC_TIMER_ICR, 100, 0);
	wr(&l, VLAPIC_LVT_TIMER, VLAPIC_TIMER_TSC_DEADLINE | 0x50, 0);
	EQ(rd(&l, VLAPIC_TIMER_ICR, 0), 0, "changing the mode disarms the count");
	uint64_t when;
	OK(!vlapic_next_deadline(&l, &when), "no deadline until the MSR is written");
	wr(&l, VLAPIC_TIMER_ICR, 100, 0);
	EQ(rd(&l, VLAPIC_TIMER_ICR, 0), 0, "the initial count is ignored in TSC-deadline mode");
	vlapic_tsc_deadline_write(&l, 3001); /* 2 GHz TSC: 1500.5 ns */
	vlapic_tsc_deadline_read(&l, &v);
	EQ(v, 3001, "the MSR reads back");
	vlapic_next_deadline(&l, &when);
	EQ(when, 1501, "the deadline converted to ns, rounded up");
	vlapic_advance(&l, 1500);
	EQ(vlapic_pending(&l), -1, "nothing before the deadline");
	vlapic_advance(&l, 1501);
	EQ(vlapic_pending(&l), 0x50, "the vector fires at the deadline");
	vlapic_tsc_deadline_read(&l, &v);
	EQ(v, 0, "firing disarms the MSR");
	vlapic_tsc_deadline_write(&l, 10);
	vlapic_tsc_deadline_write(&l, 0);
	OK(!vlapic_next_deadline(&l, &when), "writing 0 disarms");
	wr(&l, VLAPIC_LVT_TIMER, VLAPIC_TIMER_TSC_DEADLINE | (3u << 17) | 0x50, 0);
	EQ(rd(&l, VLAPIC_LVT_TIMER, 0), VLAPIC_TIMER_TSC_DEADLINE | 0x50,
	   "the reserved mode 3 keeps the previous mode");
}

int main(void)
{
	test_config();
	test_reset();
	test_access_rules();
	test_software_disable();
	test_priorities();
	test_error_lvt();
	test_ipi();
	test_timer_oneshot();
	test_timer_periodic();
	test_timer_tsc_deadline();
	return tap_finish();
}
