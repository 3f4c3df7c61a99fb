/**
 * The VM of the x86 dmop memory test (dmop-mem.dts), on the local-APIC test guests' runtime
 * (../vapic/guest.c). It takes turns with its device model (model.c) through two
 * notifications: the model makes pages read-only and read-write again through dmop, tracks
 * some; the VM writes them with plain MOVs and checks what got through. Its RAM is 2 MiB at
 * 0x100000: RO lies in the upper MiB, DIRTY after it.
 */
#include "../vapic/guest.h"

#define RO_BASE UINT64_C(0x200000)
#define RO_PAGES 100u
#define DIRTY_BASE UINT64_C(0x2e0000)
#define PAGE 0x1000u
#define OLD 0x1111u
#define NEW 0x2222u
#define SLOT_GO 0u
#define SLOT_READY 1u

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

static inline uint32_t rd(uint64_t a)
{
	return *(volatile uint32_t *)(uintptr_t)a;
}

static inline void wr(uint64_t a, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)a = v;
}

static void handoff(void)
{
	uint64_t bits;
	(void)svc_signal(SLOT_READY);
	(void)svc_wait(SLOT_GO, &bits);
}

int svc_main(uint64_t arg)
{
	(void)arg;
	for (uint32_t i = 0; i <= RO_PAGES; i++)
		wr(RO_BASE + i * PAGE, OLD);
	handoff(); /* the model makes 100 pages read-only */
	wr(RO_BASE, NEW);
	wr(RO_BASE + (RO_PAGES - 1u) * PAGE + 0xffc, NEW);
	*(volatile uint64_t *)(uintptr_t)(RO_BASE + 50u * PAGE + 8u) = 0x3333u;
	*(volatile uint8_t *)(uintptr_t)(RO_BASE + 60u * PAGE) = 0x44u;
	check(rd(RO_BASE) == OLD && rd(RO_BASE + (RO_PAGES - 1u) * PAGE + 0xffc) == 0 &&
	              rd(RO_BASE + 50u * PAGE + 8u) == 0 && rd(RO_BASE + 60u * PAGE) == OLD,
	      "MOVs of 1, 4 and 8 bytes to read-only pages are dropped, the VM runs on");
	wr(RO_BASE + RO_PAGES * PAGE, NEW);
	check(rd(RO_BASE + RO_PAGES * PAGE) == NEW, "the page after them is written");
	handoff(); /* read-write again */
	wr(RO_BASE + 70u * PAGE, NEW);
	check(rd(RO_BASE + 70u * PAGE) == NEW, "read-write again: its writes are kept");
	handoff(); /* the model tracks 16 pages */
	wr(DIRTY_BASE + 3u * PAGE, 7);
	wr(DIRTY_BASE + 12u * PAGE + 0x10, 7);
	check(rd(DIRTY_BASE + 12u * PAGE + 0x10) == 7, "writes to tracked pages are kept");
	svc_printf("%s\n", failures == 0 ? "all done" : "FAILED");
	handoff(); /* the model fetches and shuts the VM down while it waits */
	svc_printf("FAILED: still running after remote_shutdown\n");
	return 1;
}
