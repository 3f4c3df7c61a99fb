/**
 * libFuzzer target for the virtual xAPIC (platform/x86/vlapic/vlapic.c): four vLAPICs of one
 * partition under a random sequence of register accesses (any offset and width), IPIs routed
 * between them, timer advances, interrupt acknowledgements, IA32_TSC_DEADLINE accesses and
 * external interrupts. After every event the invariants of the register model must hold; ASan and
 * UBSan check every access.
 *
 * Input: a 16-byte configuration, then EVENT_BYTES per event:
 *   op, cpu, offset (16 bits), width, value (32 bits), time step (32 bits)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86/vlapic.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CPUS 4
#define EVENT_BYTES 13
/** Bits any LVT entry can hold (SDM vol 3 figure 10-8): the union of every entry's fields. */
#define LVT_ANY 0x0007a7ffu

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void fail(unsigned cpu, const char *what)
{
	fprintf(stderr, "vLAPIC %u: invariant broken: %s\n", cpu, what);
	abort();
}

static int highest(const uint32_t *set)
{
	for (int i = 7; i >= 0; i--)
		for (int b = 31; b >= 0; b--)
			if ((set[i] >> b) & 1u)
				return i * 32 + b;
	return -1;
}

static void check(struct vlapic *l, unsigned cpu, uint64_t now)
{
	if ((l->irr[0] | l->isr[0]) & 0xffffu)
		fail(cpu, "a vector below 16 in IRR or ISR");
	uint32_t ppr = vlapic_ppr(l);
	int isrv = highest(l->isr);
	if ((ppr & 0xf0u) < (l->tpr & 0xf0u) ||
	    (isrv >= 0 && (ppr & 0xf0u) < ((uint32_t)isrv & 0xf0u)))
		fail(cpu, "PPR below TPR or the in-service class");
	int p = vlapic_pending(l);
	if (p >= 0 && (p < 16 || !((l->irr[p / 32] >> (p % 32)) & 1u) ||
	               ((uint32_t)p & 0xf0u) <= (ppr & 0xf0u) || p != highest(l->irr)))
		fail(cpu, "the pending vector is not the highest IRR vector above PPR");
	for (unsigned i = 0; i < VLAPIC_LVT_COUNT; i++) {
		if (l->lvt[i] & ~LVT_ANY)
			fail(cpu, "an LVT entry holds a bit no entry has");
		if (!(l->svr & VLAPIC_SVR_ENABLE) && !(l->lvt[i] & VLAPIC_LVT_MASKED))
			fail(cpu, "an LVT entry unmasked while software-disabled");
	}
	uint32_t ccr = 0, icr = 0;
	if (vlapic_read(l, VLAPIC_TIMER_CCR, 4, now, &ccr) != VLAPIC_DONE ||
	    vlapic_read(l, VLAPIC_TIMER_ICR, 4, now, &icr) != VLAPIC_DONE || ccr > icr)
		fail(cpu, "current count above the initial count");
	uint32_t id = 0;
	if (vlapic_read(l, VLAPIC_ID, 4, now, &id) != VLAPIC_DONE || id != cpu << 24)
		fail(cpu, "the APIC ID changed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 16)
		return 0;
	struct vlapic lapic[CPUS];
	const struct vlapic *view[CPUS];
	struct vlapic_config cfg = {
		.time_hz = (data[0] & 1) ? 1000000000u : 1u + (le32(data + 1) & 0x3fffffffu),
		.bus_hz = 1ull + le32(data + 5),
		.tsc_deadline = (data[0] & 2) != 0,
		.tsc_hz = 1ull + le32(data + 9),
	};
	for (unsigned i = 0; i < CPUS; i++) {
		cfg.apic_id = (uint8_t)i;
		if (!vlapic_init(&lapic[i], &cfg))
			abort(); /* every configuration built above is valid */
		view[i] = &lapic[i];
	}
	uint64_t now = data[13];
	for (size_t at = 16; at + EVENT_BYTES <= size; at += EVENT_BYTES) {
		const uint8_t *e = data + at;
		unsigned cpu = e[1] % CPUS;
		struct vlapic *l = &lapic[cpu];
		uint64_t offset = (uint64_t)e[2] | (uint64_t)e[3] << 8;
		unsigned width = e[4] % 9;
		uint32_t value = le32(e + 5);
		now += le32(e + 9) >> (e[0] >> 4) % 32;
		struct vlapic_ipi ipi;
		uint32_t v;
		uint64_t when, msr;
		enum vlapic_result r = VLAPIC_DONE;
		switch (e[0] % 8) {
		case 0:
			r = vlapic_read(l, offset, width, now, &v);
			break;
		case 1:
			r = vlapic_write(l, offset, width, value, now, &ipi);
			break;
		case 2:
			/* Aligned 32-bit accesses to the register slots, for coverage. */
			offset &= 0x3f0u;
			width = 4;
			r = vlapic_write(l, offset, width, value, now, &ipi);
			break;
		case 3:
			vlapic_advance(l, now);
			if (vlapic_next_deadline(l, &when) && when <= now)
				fail(cpu, "a deadline at or before the time just reached");
			break;
		case 4:
			if (vlapic_pending(l) >= 0)
				vlapic_ack(l, (uint8_t)vlapic_pending(l));
			break;
		case 5:
			if (vlapic_tsc_deadline_write(l, (uint64_t)value << (e[4] % 33)) !=
			    cfg.tsc_deadline)
				fail(cpu, "TSC-deadline MSR write against the CPUID bit");
			break;
		case 6:
			if (vlapic_tsc_deadline_read(l, &msr) != cfg.tsc_deadline)
				fail(cpu, "TSC-deadline MSR read against the CPUID bit");
			break;
		default:
			vlapic_raise(l, (uint8_t)value, (value & 0x100u) != 0);
			break;
		}
		bool bad = width != 4 || (offset & 3u) != 0 || offset >= VLAPIC_SIZE;
		if (e[0] % 8 <= 2 && (r == VLAPIC_BAD_ACCESS) != bad)
			fail(cpu, "an access error that does not match the access rules");
		if (r == VLAPIC_IPI) {
			uint64_t targets = vlapic_ipi_targets(&ipi, view, CPUS, cpu);
			if (targets >> CPUS)
				fail(cpu, "an IPI target that does not exist");
			for (unsigned t = 0; t < CPUS; t++)
				if ((targets >> t) & 1u)
					vlapic_ipi_accept(&lapic[t], &ipi);
		}
		for (unsigned i = 0; i < CPUS; i++)
			check(&lapic[i], i, now);
	}
	return 0;
}
