/**
 * The hypervisor's timer: the EL2 physical timer CNTHP (DDI 0487 D11.2),
 * which raises its PPI (26 on QEMU virt, from the DTB) at this CPU's
 * redistributor. Time is the physical counter CNTPCT_EL0 scaled by
 * CNTFRQ_EL0, so under QEMU's -icount it is virtual time.
 *
 * The core owns one deadline per CPU (plat_timer_set). An idle CPU may ask
 * for an earlier wake-up to poll (arm64_timer_program's poll_ns); the
 * interrupt then counts as the core's timer only once its deadline passed.
 */
#include <arm64/cpu.h>
#include <arm64/sysreg.h>
#include <arm64/virq.h>
#include <plat/timer.h>

#define NS_PER_S UINT64_C(1000000000)
#define CNTHP_CTL_ENABLE 1u
#define CNTHP_CTL_IMASK 2u

static u64 timer_freq;
static u32 timer_intid = 26;

/** Read the counter frequency and the timer's interrupt from the DTB. */
void arm64_timer_init(void)
{
	timer_freq = read_sysreg(cntfrq_el0);
	if (timer_freq == 0)
		timer_freq = 62500000; /* QEMU's default; CNTFRQ is set by firmware */
	timer_intid = 16u + arm64_hw.timer_ppi[3];
}

void arm64_timer_init_cpu(void)
{
	write_sysreg(cnthp_ctl_el2, 0);
}

u32 arm64_timer_intid(void)
{
	return timer_intid;
}

/** Ticks to nanoseconds without overflow and without 128-bit division. */
static u64 ticks_to_ns(u64 t)
{
	return (t / timer_freq) * NS_PER_S + ((t % timer_freq) * NS_PER_S) / timer_freq;
}

u64 arm64_ns_to_ticks(u64 ns);

static u64 ns_to_ticks(u64 ns)
{
	return (ns / NS_PER_S) * timer_freq + ((ns % NS_PER_S) * timer_freq) / NS_PER_S;
}

u64 arm64_ticks_to_ns(u64 ticks)
{
	return ticks_to_ns(ticks);
}

u64 arm64_ns_to_ticks(u64 ns)
{
	return ns_to_ticks(ns);
}

u64 plat_timer_now_ns(void)
{
	isb();
	return ticks_to_ns(read_sysreg(cntpct_el0));
}

/** Arm CNTHP for the earlier of the core's deadline and poll_ns (0 = no poll). */
void arm64_timer_program(struct arm64_cpu *cpu, u64 poll_ns)
{
	u64 when = cpu->deadline_ns;

	if (poll_ns != 0 && (when == 0 || poll_ns < when))
		when = poll_ns;
	if (cpu->guest_deadline_ns != 0 && (when == 0 || cpu->guest_deadline_ns < when))
		when = cpu->guest_deadline_ns;
	if (when == 0) {
		write_sysreg(cnthp_ctl_el2, 0);
		return;
	}
	write_sysreg(cnthp_cval_el2, ns_to_ticks(when));
	write_sysreg(cnthp_ctl_el2, CNTHP_CTL_ENABLE);
	isb();
}

void plat_timer_set(u64 deadline_ns)
{
	struct arm64_cpu *cpu = arm64_this_cpu();

	cpu->deadline_ns = deadline_ns != 0 ? deadline_ns : 1;
	arm64_timer_program(cpu, 0);
}

void plat_timer_cancel(void)
{
	struct arm64_cpu *cpu = arm64_this_cpu();

	cpu->deadline_ns = 0;
	arm64_timer_program(cpu, 0); /* a guest's emulated timer may still need it */
}

/**
 * The CNTHP interrupt fired: silence it (it is level-triggered and stays
 * asserted while enabled and due) and say whether the core's deadline has
 * passed, in which case it is consumed.
 */
bool arm64_timer_expired(struct arm64_cpu *cpu)
{
	write_sysreg(cnthp_ctl_el2, 0);
	isb();
	arm64_virq_ptimer_check(cpu);
	if (cpu->deadline_ns != 0 && plat_timer_now_ns() >= cpu->deadline_ns) {
		cpu->deadline_ns = 0;
		return true;
	}
	arm64_timer_program(cpu, 0);
	return false;
}
