/**
 * CPUs and power: identity of the calling CPU, sleeping, kicking, and
 * ending the system through QEMU's isa-debug-exit device (I/O port 0xF4,
 * 4 bytes). QEMU exits with (value << 1) | 1: status 0 -> 1, status 1 -> 3,
 * a kernel panic (X86_PANIC_EXIT_STATUS) -> 255. tools/run-qemu judges a
 * run by the "[hyp] system off: status=N" line, not by this code.
 */
#include <arch/cpu.h>
#include <plat/cpu.h>
#include <plat/memory.h>
#include <plat/power.h>
#include <x86/layout.h>

#include <x86/x86.h>

#define ICR_ALL_BUT_SELF (3u << 18)

/** CPU index of each local APIC ID (filled as CPUs come up; unknown IDs are CPU 0). */
static u8 cpu_of_apic_id[256];
/** And back: the APIC ID of each CPU index. */
static u8 apic_id_of_cpu[X86_CPU_MAX];

u32 arch_cpu_index(void)
{
	return cpu_of_apic_id[lapic_read(LAPIC_ID) >> 24];
}

/** Called by each CPU as it comes up, before anything asks arch_cpu_index(). */
void x86_cpu_register(u32 cpu)
{
	u32 id = lapic_read(LAPIC_ID) >> 24;
	cpu_of_apic_id[id] = (u8)cpu;
	apic_id_of_cpu[cpu] = (u8)id;
}

/** For the core, which runs inside the run loop (GIF = 0, IF = 1). */
void arch_cpu_relax(void)
{
	__asm__ volatile("pause");
}

void arch_wait_for_interrupt(void)
{
	x86_halt_in_run_loop();
}

/** Halts with interrupts off; NMIs could still wake it, hence the loop. */
_Noreturn void x86_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

/**
 * Stops the other CPUs with a fixed IPI to all but self (ICR destination
 * shorthand 11b, Intel SDM vol 3 §11.6.1), whose handler halts; a CPU in a
 * guest takes it through the INTR exit. Then QEMU is told to exit.
 */
_Noreturn void arch_halt_all(void)
{
	lapic_write(LAPIC_ICR_HI, 0);
	lapic_write(LAPIC_ICR_LO, ICR_ALL_BUT_SELF | X86_VEC_HALT);
	outl(X86_DEBUG_EXIT_PORT, X86_PANIC_EXIT_STATUS);
	x86_halt_forever();
}

_Noreturn void plat_system_off(int status)
{
	lapic_write(LAPIC_ICR_HI, 0);
	lapic_write(LAPIC_ICR_LO, ICR_ALL_BUT_SELF | X86_VEC_HALT);
	outl(X86_DEBUG_EXIT_PORT, (u32)status);
	x86_halt_forever();
}

/** A fixed-vector IPI to the target's APIC (Intel SDM vol 3 §11.6.1); the run loop turns it into TRAP_IRQ. */
void plat_cpu_kick(unsigned cpu)
{
	if (cpu >= X86_CPU_MAX)
		return;
	if (cpu == arch_cpu_index()) {
		/*
		 * No IPI to itself; but if it goes idle next (a restarted vCPU requeued by
		 * trap_fresh), its idle loop must look at the core before it halts, or it sleeps
		 * until some other interrupt comes.
		 */
		x86_events[cpu].look = true;
		return;
	}
	lapic_write(LAPIC_ICR_HI, (u32)apic_id_of_cpu[cpu] << 24);
	lapic_write(LAPIC_ICR_LO, X86_VEC_KICK);
}

void *plat_phys_to_virt(paddr_t pa)
{
	return (void *)(uintptr_t)pa.pa;
}

paddr_t plat_virt_to_phys(const void *p)
{
	return pa_init((u64)(uintptr_t)p);
}
