/**
 * Time: the TSC is the clock (plat_timer_now_ns) and the local APIC timer,
 * one-shot, is the deadline (plat_timer_set). Both run at rates the
 * platform does not announce, so x86_timer_init measures them against the
 * PIT's fixed 1.193182 MHz (channel 2, gated through port 0x61) once at
 * boot. Under QEMU -icount both advance with executed instructions, so the
 * calibration and every later figure are deterministic.
 *
 * The local APIC (Intel SDM vol 3 §11.5.4) is used through its xAPIC MMIO
 * page at 0xFEE00000: QEMU's TCG offers no x2APIC.
 */
#include <arch/cpu.h>
#include <plat/timer.h>

#include <x86/x86.h>

#define PIT_HZ 1193182u
#define PIT_CH2 0x42u
#define PIT_CMD 0x43u
#define PIT_PORT_B 0x61u
/** Calibration window in PIT ticks (about 100 us): enough for 1% accuracy. */
#define CALIBRATE_PIT_TICKS 119u

#define LVT_MASKED (1u << 16)
#define TIMER_DIV_1 0xbu

static u64 tsc_boot;
static u64 ns_per_tick_q32;       /**< ns per TSC tick, 32.32 fixed point */
static u64 apic_ticks_per_ns_q32; /**< APIC timer ticks per ns, 32.32 fixed point */

/** Remaps the legacy PICs away from the exception vectors and masks them. */
static void pic_disable(void)
{
	outb(0x20, 0x11); /* ICW1: init, ICW4 follows */
	outb(0xa0, 0x11);
	outb(0x21, X86_VEC_PIC_BASE);
	outb(0xa1, X86_VEC_PIC_BASE + 8);
	outb(0x21, 4); /* slave on IRQ 2 */
	outb(0xa1, 2);
	outb(0x21, 1); /* 8086 mode */
	outb(0xa1, 1);
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

/** Enables this CPU's local APIC, masks LINT0/1, and stops its timer. */
void x86_timer_init_cpu(void)
{
	lapic_write(LAPIC_SVR, 0x100u | X86_VEC_SPURIOUS);
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT1, LVT_MASKED);
	lapic_write(LAPIC_TIMER_DIV, TIMER_DIV_1);
	lapic_write(LAPIC_LVT_TIMER, X86_VEC_TIMER); /* one-shot, unmasked */
	lapic_write(LAPIC_TIMER_INIT, 0);
}

/** Measures the TSC and APIC timer rates against CALIBRATE_PIT_TICKS of the PIT. */
static void calibrate(void)
{
	outb(PIT_PORT_B, (u8)((inb(PIT_PORT_B) & ~0x02u) & ~0x01u)); /* gate low, speaker off */
	outb(PIT_CMD, 0xb0); /* channel 2, lo/hi byte, mode 0 */
	outb(PIT_CH2, CALIBRATE_PIT_TICKS & 0xff);
	outb(PIT_CH2, CALIBRATE_PIT_TICKS >> 8);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | X86_VEC_TIMER);
	lapic_write(LAPIC_TIMER_INIT, 0xffffffffu);
	u64 t0 = rdtsc();
	outb(PIT_PORT_B, (u8)((inb(PIT_PORT_B) & ~0x02u) | 0x01u)); /* gate high: count */
	while (!(inb(PIT_PORT_B) & 0x20u))
		;
	u64 t1 = rdtsc();
	u32 apic_elapsed = 0xffffffffu - lapic_read(LAPIC_TIMER_CUR);
	lapic_write(LAPIC_TIMER_INIT, 0);
	outb(PIT_PORT_B, (u8)(inb(PIT_PORT_B) & ~0x01u));

	u64 window_ns = (u64)CALIBRATE_PIT_TICKS * 1000000000u / PIT_HZ;
	u64 tsc_ticks = t1 > t0 ? t1 - t0 : 1;
	ns_per_tick_q32 = (window_ns << 32) / tsc_ticks;
	apic_ticks_per_ns_q32 = ((u64)apic_elapsed << 32) / window_ns;
	if (apic_ticks_per_ns_q32 == 0)
		apic_ticks_per_ns_q32 = 1;
}

void x86_timer_init(void)
{
	pic_disable();
	x86_timer_init_cpu();
	calibrate();
	lapic_write(LAPIC_LVT_TIMER, X86_VEC_TIMER);
	tsc_boot = rdtsc();
}

/** TSC ticks since boot scaled to ns (128-bit product: no overflow for centuries). */
u64 plat_timer_now_ns(void)
{
	u64 ticks = rdtsc() - tsc_boot;
	return (u64)(((unsigned __int128)ticks * ns_per_tick_q32) >> 32);
}

/** Arms the one-shot APIC timer of CPU e for the core's deadline. */
static void core_timer_set(struct x86_cpu_events *e, u64 deadline_ns)
{
	u64 now = plat_timer_now_ns();
	u64 delta = deadline_ns > now ? deadline_ns - now : 0;
	u64 ticks = (u64)(((unsigned __int128)delta * apic_ticks_per_ns_q32) >> 32);
	if (ticks == 0)
		ticks = 1;
	if (ticks > 0xffffffffu)
		ticks = 0xffffffffu;
	e->timer = false;
	e->timer_armed = true;
	e->core_ns = deadline_ns;
	e->armed_guest = false;
	lapic_write(LAPIC_TIMER_INIT, (u32)ticks);
}

/** Arms the one-shot APIC timer; a deadline already past fires after one tick. */
void plat_timer_set(u64 deadline_ns)
{
	core_timer_set(&x86_events[arch_cpu_index()], deadline_ns);
}

/** Writing an initial count of 0 stops the APIC timer (Intel SDM vol 3 §11.5.4). */
void plat_timer_cancel(void)
{
	lapic_write(LAPIC_TIMER_INIT, 0);
	struct x86_cpu_events *e = &x86_events[arch_cpu_index()];
	e->timer = false;
	e->timer_armed = false;
	e->core_ns = 0;
	e->armed_guest = false;
}

/**
 * Before entering a vCPU with a virtual local APIC: the physical timer
 * counts to the earlier of the core's deadline and guest_ns (the vCPU's
 * APIC timer, 0 = none), so that an expiry brings the CPU back while the
 * vCPU runs. The count for a guest deadline is rounded up: an expiry
 * before it would only cost a trip that delivers nothing. Reprograms only
 * when the target changed.
 */
void x86_timer_guest_deadline(u32 cpu, u64 guest_ns)
{
	struct x86_cpu_events *e = &x86_events[cpu];
	if (guest_ns == 0 || (e->core_ns != 0 && guest_ns >= e->core_ns)) {
		if (e->armed_guest) {
			if (e->core_ns != 0)
				core_timer_set(e, e->core_ns);
			else
				plat_timer_cancel();
		}
		return;
	}
	if (e->armed_guest && e->armed_ns == guest_ns)
		return;
	u64 now = plat_timer_now_ns();
	u64 delta = guest_ns > now ? guest_ns - now : 0;
	unsigned __int128 scaled = (unsigned __int128)delta * apic_ticks_per_ns_q32;
	u64 ticks = (u64)(scaled >> 32) + (((u64)scaled & 0xffffffffu) != 0);
	if (ticks == 0)
		ticks = 1;
	if (ticks > 0xffffffffu)
		ticks = 0xffffffffu;
	e->timer = false;
	e->timer_armed = true;
	e->armed_ns = guest_ns;
	e->armed_guest = true;
	lapic_write(LAPIC_TIMER_INIT, (u32)ticks);
}

/**
 * The timer event just taken was a vCPU's APIC timer, not the core's
 * deadline: the run loop re-enters the vCPU (which delivers the interrupt)
 * without asking the core.
 */
bool x86_timer_fired_for_guest(u32 cpu)
{
	struct x86_cpu_events *e = &x86_events[cpu];
	/* The timer has run down: armed_ns = 0 makes the next entry arm it again. */
	e->armed_ns = 0;
	return e->armed_guest;
}

/** TSC ticks per second, from the calibration (the guests' TSC-deadline clock). */
u64 x86_timer_tsc_hz(void)
{
	return (u64)((UINT64_C(1000000000) << 32) / (ns_per_tick_q32 != 0 ? ns_per_tick_q32 : 1));
}

/** The TSC at time 0 of plat_timer_now_ns: guests with a local APIC see their TSC from there. */
u64 x86_timer_tsc_boot(void)
{
	return tsc_boot;
}
