/**
 * Finding and starting the other CPUs.
 *
 * The CPUs come from the ACPI MADT (ACPI 6.4 §5.2.12: "APIC" table, entry
 * type 0 = processor local APIC, flags bit 0 = enabled), reached from the
 * RSDP that firmware leaves in the BIOS area (§5.2.5.1). Each AP gets
 * INIT, then two Startup IPIs (Intel SDM vol 3 §9.4.4), one AP at a time.
 *
 * Every wait here spins on a memory flag with a bound measured by the TSC;
 * nothing waits for an interrupt, so bring-up also works under QEMU's
 * single-threaded -icount, where an IPI-driven handshake can stall.
 */
#include <arch/cpu.h>
#include <kernel/print.h>
#include <kernel/trap.h>
#include <plat/cpu.h>
#include <plat/memory.h>
#include <plat/timer.h>
#include <string.h>
#include <x86/layout.h>

#include <x86/x86.h>

/** "RSD PTR " as a little-endian u64. */
#define RSDP_SIGNATURE UINT64_C(0x2052545020445352)
#define ICR_INIT 0x4500u    /* INIT, assert, edge */
#define ICR_STARTUP 0x4600u /* Startup IPI */
#define ICR_BUSY (1u << 12) /* delivery status */
/** How long an AP may take to report (TSC ticks; QEMU without -icount needs ~0.3 s for the first). */
#define AP_TIMEOUT_TICKS UINT64_C(10000000000)
/** When to repeat the Startup IPI (Intel SDM vol 3 §9.4.4.1 sends two). */
#define AP_SECOND_SIPI_TICKS UINT64_C(1000000000)
/**
 * 1 in the kernel of the x86-late-ap test only: the boot CPU gives up on
 * each AP before it sends the Startup IPI, so every AP arrives late, which
 * a timeout cannot make happen deterministically.
 */
#ifndef X86_TEST_AP_LATE
#define X86_TEST_AP_LATE 0
#endif
/** How often the boot CPU looks at the flag while it waits. */
#define POLL_NS 20000u

extern const u8 ap_trampoline[], ap_trampoline_end[];
extern const u8 ap_cr3[];

/** ap_expected when no AP is awaited, and once the awaited one has arrived. */
#define AP_NONE 0xffffffffu
#define AP_ARRIVED 0xfffffffeu

static volatile u32 ap_ready;   /**< APs that finished their own set-up */
static volatile bool ap_go;     /**< kernel_boot() is done */
static volatile u32 ap_entered; /**< APs back from kernel_cpu_start() */
static u32 ap_count;            /**< APs started */
/**
 * APIC ID of the AP being started, until it arrives (AP_ARRIVED) or the
 * boot CPU gives up on it (AP_NONE). Both sides move it only by compare
 * and exchange, so exactly one of them wins: an AP that loses parks.
 */
static volatile u32 ap_expected = AP_NONE;
/** The CPU index the awaited AP takes once it has arrived. */
static volatile u32 ap_next_cpu;

_Noreturn void x86_ap_main(void);

static bool checksum_ok(const u8 *p, u32 len)
{
	u8 sum = 0;
	for (u32 i = 0; i < len; i++)
		sum = (u8)(sum + p[i]);
	return sum == 0;
}

static const u8 *find_rsdp(void)
{
	u16 ebda_seg;
	memcpy(&ebda_seg, (const void *)(uintptr_t)0x40e, 2);
	const u64 areas[2][2] = { { (u64)ebda_seg << 4, 1024 }, { 0xe0000, 0x20000 } };
	for (u32 a = 0; a < 2; a++) {
		for (u64 p = areas[a][0]; p + 20 <= areas[a][0] + areas[a][1]; p += 16) {
			const u8 *r = (const u8 *)(uintptr_t)p;
			/* One 8-byte compare per probe: 8 K probes run at every boot. */
			if (*(const volatile u64 *)r == RSDP_SIGNATURE && checksum_ok(r, 20))
				return r;
		}
	}
	return NULL;
}

/** The MADT, through the RSDT (32-bit entries; QEMU's tables all live below 4 GiB). */
static const u8 *find_madt(void)
{
	const u8 *rsdp = find_rsdp();
	if (rsdp == NULL)
		return NULL;
	u32 rsdt_pa, len;
	memcpy(&rsdt_pa, rsdp + 16, 4);
	const u8 *rsdt = (const u8 *)(uintptr_t)rsdt_pa;
	memcpy(&len, rsdt + 4, 4);
	if (memcmp(rsdt, "RSDT", 4) != 0 || len < 36 || !checksum_ok(rsdt, len))
		return NULL;
	for (u32 off = 36; off + 4 <= len; off += 4) {
		u32 pa;
		memcpy(&pa, rsdt + off, 4);
		const u8 *t = (const u8 *)(uintptr_t)pa;
		u32 tlen;
		memcpy(&tlen, t + 4, 4);
		if (memcmp(t, "APIC", 4) == 0 && tlen >= 44 && checksum_ok(t, tlen))
			return t;
	}
	return NULL;
}

/** Sends one IPI and waits until the local APIC has sent it. */
static void send_ipi(u32 apic_id, u32 icr)
{
	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr);
	while (lapic_read(LAPIC_ICR_LO) & ICR_BUSY)
		;
}

/**
 * Waits until *flag differs from before, or timeout_ticks of the TSC pass.
 * It sleeps in HLT between looks, woken by this CPU's own APIC timer every
 * POLL_NS: under single-threaded -icount a spinning boot CPU would burn
 * instructions (and icount time slices) that the starting AP needs.
 */
static bool wait_change(volatile u32 *flag, u32 before, u64 timeout_ticks)
{
	u64 start = rdtsc();
	while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) == before) {
		if (rdtsc() - start > timeout_ticks)
			return false;
		plat_timer_set(plat_timer_now_ns() + POLL_NS);
		__asm__ volatile("sti; hlt; cli" : : : "memory");
	}
	plat_timer_cancel();
	return true;
}

/** Where a variable of ap_boot.S lives in the copy the APs run. */
static void *ap_slot(const void *sym)
{
	return (void *)(X86_AP_TRAMPOLINE + ((uintptr_t)sym - (uintptr_t)ap_trampoline));
}

/**
 * INIT-SIPI-SIPI to apic_id as CPU cpu; true once it reports in. An AP
 * that arrives after the timeout finds itself no longer expected and parks
 * on its own stack (ap_boot.S), so it harms neither the next AP nor the
 * CPU index it would have had.
 */
static bool start_ap(u32 apic_id, u32 cpu)
{
	*(volatile u32 *)ap_slot(&ap_cr3) = (u32)plat_virt_to_phys(x86_boot_pml4).pa;
	ap_next_cpu = cpu;
	if (X86_TEST_AP_LATE) {
		/* ap_expected stays AP_NONE: this AP is given up on already. */
		send_ipi(apic_id, ICR_INIT);
		send_ipi(apic_id, ICR_STARTUP | (X86_AP_TRAMPOLINE >> 12));
		return false;
	}
	__atomic_store_n(&ap_expected, apic_id, __ATOMIC_RELEASE);
	u32 before = ap_ready;
	/* The SDM's 10 ms / 200 us pauses after INIT / SIPI; QEMU needs none. */
	send_ipi(apic_id, ICR_INIT);
	send_ipi(apic_id, ICR_STARTUP | (X86_AP_TRAMPOLINE >> 12));
	if (wait_change(&ap_ready, before, AP_SECOND_SIPI_TICKS))
		return true;
	send_ipi(apic_id, ICR_STARTUP | (X86_AP_TRAMPOLINE >> 12));
	if (wait_change(&ap_ready, before, AP_TIMEOUT_TICKS))
		return true;
	u32 want = apic_id;
	if (__atomic_compare_exchange_n(&ap_expected, &want, AP_NONE, false, __ATOMIC_ACQ_REL,
	                                __ATOMIC_ACQUIRE))
		return false;
	/* It arrived just now: its set-up is under way, with no bound to miss. */
	while (__atomic_load_n(&ap_ready, __ATOMIC_ACQUIRE) == before)
		__asm__ volatile("pause");
	return true;
}

/**
 * Starts every enabled CPU of the MADT (up to X86_CPU_MAX in all) and
 * returns how many CPUs are up, the boot CPU included. The APs wait for
 * x86_smp_release() before they ask the core for work.
 */
u32 x86_smp_start(void)
{
	const u8 *madt = find_madt();
	if (madt == NULL) {
		kprintf("[hyp] smp: no ACPI MADT, running on the boot CPU only\n");
		return 1;
	}
	memcpy((void *)(uintptr_t)X86_AP_TRAMPOLINE, ap_trampoline,
	       (uintptr_t)ap_trampoline_end - (uintptr_t)ap_trampoline);
	u32 self = lapic_read(LAPIC_ID) >> 24;
	u32 len;
	memcpy(&len, madt + 4, 4);
	u32 count = 1;
	for (u32 off = 44; off + 2 <= len;) {
		u8 type = madt[off], elen = madt[off + 1];
		if (elen < 2 || off + elen > len)
			break;
		if (type == 0 && elen >= 8) {
			u32 apic_id = madt[off + 3], flags;
			memcpy(&flags, madt + off + 4, 4);
			if ((flags & 1u) && apic_id != self) {
				if (count == X86_CPU_MAX) {
					kprintf("[hyp] smp: more than %u CPUs, the rest stay off\n",
					        X86_CPU_MAX);
					break;
				}
				if (start_ap(apic_id, count))
					count++;
				else
					kprintf("[hyp] smp: CPU with APIC ID %u did not start\n",
					        apic_id);
			}
		}
		off += elen;
	}
	ap_count = count - 1;
	return count;
}

/**
 * Lets the APs ask the core for work, once kernel_boot() is done, and waits
 * until each has had its answer. The boot CPU holds no lock meanwhile, so
 * the APs' first kernel_cpu_start() calls do not contend with its first
 * guest's kernel entries: under QEMU's round-robin -icount a CPU spinning on
 * the kernel lock burns its whole time slice while the holder waits for its
 * turn. PAUSE in the wait makes QEMU switch to the next vCPU at once.
 */
void x86_smp_release(void)
{
	__atomic_store_n(&ap_go, true, __ATOMIC_RELEASE);
	while (__atomic_load_n(&ap_entered, __ATOMIC_ACQUIRE) != ap_count)
		__asm__ volatile("pause");
}

/** Parks an AP the boot CPU no longer waits for: it runs nothing. */
static _Noreturn void ap_park(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

/** APs that told x86_smp_release they are in (the boot CPU never parks). */
static bool ap_counted[X86_CPU_MAX];

static void ap_count_entered(u32 cpu)
{
	if (cpu < X86_CPU_MAX && !ap_counted[cpu]) {
		ap_counted[cpu] = true;
		__atomic_add_fetch(&ap_entered, 1, __ATOMIC_RELEASE);
	}
}

/**
 * A CPU the manifest does not use (its first kernel_cpu_start() may end
 * here, so it counts as entered for x86_smp_release): its APIC timer
 * stopped, halted for good.
 */
_Noreturn void plat_cpu_park(void)
{
	plat_timer_cancel();
	ap_count_entered(arch_cpu_index());
	ap_park();
}

/** An AP in long mode, on its own stack (from ap_boot.S). */
_Noreturn void x86_ap_main(void)
{
	u32 want = lapic_read(LAPIC_ID) >> 24;
	if (!__atomic_compare_exchange_n(&ap_expected, &want, AP_ARRIVED, false, __ATOMIC_ACQ_REL,
	                                 __ATOMIC_ACQUIRE))
		ap_park();
	u32 cpu = ap_next_cpu;
	x86_cpu_init(cpu);
	x86_idt_load();
	x86_cpu_register(cpu);
	x86_timer_init_cpu();
	x86_svm_init(cpu);
	__atomic_add_fetch(&ap_ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&ap_go, __ATOMIC_ACQUIRE))
		__asm__ volatile("pause");
	struct vcpu *first = kernel_cpu_start(cpu);
	ap_count_entered(cpu);
	x86_run(first);
}
