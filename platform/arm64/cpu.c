/**
 * Per-CPU state and the run loop: which vCPU a CPU enters, and what it does
 * when the core has nothing for it (WFI, then kernel_idle()).
 *
 * Idle CPUs wait in WFI with PSTATE.I set: a pending interrupt still ends
 * WFI (DDI 0487 D1.6.2), and the kernel then acknowledges it at the GIC
 * itself, so EL2 never takes an interrupt exception. Besides the SGI kick,
 * an idle CPU polls with a timer tick (ARM64_IDLE_POLL_NS): under QEMU's
 * -icount, a CPU that only waits for an IPI must still make progress if a
 * wake-up is missed, and the poll costs nothing while the CPU sleeps.
 */
#include <arch/cpu.h>
#include <arm64/cpu.h>
#include <arm64/virq.h>
#include <arm64/sysreg.h>
#include <kernel/kernel.h>
#include <kernel/sched.h>
#include <kernel/vcpu.h>
#include <plat/cpu.h>
#include <plat/memory.h>
#include <plat/timer.h>

#define ARM64_IDLE_POLL_NS UINT64_C(10000000)

_Static_assert(offsetof(struct arm64_cpu, current) == ARM64_CPU_CURRENT, "vectors.S offset");
_Static_assert(offsetof(struct arm64_cpu, stack_top) == ARM64_CPU_STACK_TOP, "vectors.S offset");
_Static_assert(offsetof(struct arm64_cpu, loaded) == ARM64_CPU_LOADED, "vectors.S offset");
_Static_assert(offsetof(struct arm64_cpu, vttbr) == ARM64_CPU_VTTBR, "vectors.S offset");
_Static_assert(offsetof(struct arm64_cpu, index) == ARM64_CPU_INDEX, "vectors.S offset");
_Static_assert(offsetof(struct arm64_cpu, fp_trapping) == ARM64_CPU_FP_TRAPPING, "vectors.S");
_Static_assert(sizeof(((struct arm64_cpu *)0)->fp_trapping) == 1, "vectors.S: ldrb");
_Static_assert(offsetof(struct arm64_cpu, ich_hcr) == ARM64_CPU_ICH_HCR, "vectors.S offset");
_Static_assert(offsetof(struct arm64_cpu, hcr) == ARM64_CPU_HCR, "vectors.S offset");
_Static_assert(offsetof(struct arm64_cpu, service_controls) == ARM64_CPU_SERVICE_CONTROLS,
               "vectors.S offset");
_Static_assert(sizeof(((struct arm64_cpu *)0)->service_controls) == 1, "vectors.S: ldrb");
_Static_assert(offsetof(struct arm64_cpu, vm_owner) == ARM64_CPU_VM_OWNER, "vectors.S offset");
_Static_assert(offsetof(struct arm64_cpu, gic_owner) == ARM64_CPU_GIC_OWNER, "vectors.S offset");

_Static_assert(ARM64_CPU_MAX <= CFG_CPU_MAX, "arm64_cpu_init: cpu_sched[index]");

struct arm64_cpu arm64_cpus[ARM64_CPU_MAX];
extern char arm64_stacks[];

/** Make TPIDR_EL2 point at this CPU's state; set up its stage-2 controls. */
void arm64_cpu_init(u32 index, u64 mpidr)
{
	struct arm64_cpu *cpu = &arm64_cpus[index];

	cpu->index = index;
	cpu->mpidr = mpidr;
	cpu->stack_top = (u64)(uintptr_t)(arm64_stacks + (u64)(index + 1u) * ARM64_STACK_SIZE);
	cpu->trap = (struct trap){ .kind = TRAP_HYPERCALL };
	cpu->mmio_trap = (struct trap){ .kind = TRAP_MMIO };
	cpu->sched_current = &cpu_sched[index].current;
	cpu->sched_run_on = sched.run_on;
	cpu->endpoints = kernel.endpoints;
	cpu->kernel_lock = &kernel_lock;
	cpu->has_sme = arm64_has_sme;
	write_sysreg(tpidr_el2, cpu);
	arm64_stage2_init_cpu();
	/* The OS lock (set at reset on some cores) would disable software step (D2.4). */
	write_sysreg(oslar_el1, 0);
}

/** The lock is held: hand the (possibly shared) thread on until it looks free. */
void arm64_core_lock_wait_slow(void)
{
	do
		__asm__ volatile("yield");
	while (kernel_lock_looks_busy());
}

void arch_cpu_relax(void)
{
	__asm__ volatile("yield");
}

u32 arch_cpu_index(void)
{
	return arm64_this_cpu()->index;
}

void arch_wait_for_interrupt(void)
{
	__asm__ volatile("dsb sy\n\twfi" ::: "memory");
}

/** Wake an idle CPU with SGI 0; a CPU that is not idle just takes a short exit. */
void plat_cpu_kick(unsigned cpu)
{
	if (cpu < ARM64_CPU_MAX && arm64_cpus[cpu].online && cpu != arch_cpu_index())
		arm64_gic_send_sgi(arm64_cpus[cpu].mpidr, ARM64_SGI_KICK);
}

void *plat_phys_to_virt(paddr_t pa)
{
	return (void *)(uintptr_t)pa.pa;
}

paddr_t plat_virt_to_phys(const void *p)
{
	return pa_init((u64)(uintptr_t)p);
}

/**
 * Nothing to run: save whatever vCPU is loaded (another CPU may pick it
 * up), then wait. A timer interrupt past the core's deadline is a
 * TRAP_TIMER with no vCPU; anything else (kick, poll tick) asks
 * kernel_idle() again.
 */
struct vcpu *arm64_idle(struct arm64_cpu *cpu)
{
	/*
	 * The last vCPU stays loaded: if it is the next to run (it waited in
	 * WFI), nothing is saved or restored, and its virtual timer, still
	 * armed, wakes this CPU itself (virq.c). Another vCPU takes its place
	 * through arm64_vcpu_switch, which saves it then. One the core moved to
	 * another CPU is saved at the next wake-up (that CPU kicks this one and
	 * waits for it), with whatever a VM left here for a service.
	 */
	for (;;) {
		if (cpu->loaded != NULL && cpu->loaded->cpu != cpu->index)
			arm64_vcpu_switch(cpu, NULL);
		arm64_vcpu_release_moved(cpu);
		arm64_timer_program(cpu, plat_timer_now_ns() + ARM64_IDLE_POLL_NS);
		arch_wait_for_interrupt();
		u32 intid = arm64_gic_ack();
		struct vcpu *v;
		/* A passed-through SPI wakes its VM's vCPU (virq.c); the rest are the kernel's. */
		if (intid < 1020u && !arm64_virq_irq(cpu, NULL, intid))
			arm64_gic_eoi(intid);
		arm64_core_lock_wait();
		if (intid == arm64_timer_intid() && arm64_timer_expired(cpu)) {
			struct trap t;
			trap_init(&t, TRAP_TIMER, intid, NULL);
			v = kernel_trap(NULL, &t);
		} else {
			v = kernel_idle(cpu->index);
		}
		if (v != NULL) {
			arm64_timer_program(cpu, 0);
			return v;
		}
	}
}

/** Enter v, or idle until there is a vCPU to enter. */
_Noreturn void arm64_run(struct vcpu *v)
{
	struct arm64_cpu *cpu = arm64_this_cpu();

	if (v == NULL)
		v = arm64_idle(cpu);
	arm64_vcpu_switch(cpu, v);
	arm64_vcpu_enter(v);
}
