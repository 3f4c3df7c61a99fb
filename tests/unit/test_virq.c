/** Waiting for virtual interrupts (kernel/virq.c, the sleeping queue in sched.c) on the fake platform. */
#include "system.h"
#include "tap.h"
#include <kernel/partition_ops.h>
#include <kernel/virq.h>
#include <string.h>

static struct vcpu *wait_irq(struct vcpu *v, u64 wake_ns)
{
	struct trap t = { .kind = TRAP_WAIT_IRQ, .wake_ns = wake_ns };
	return kernel_trap(v, &t);
}

static struct vcpu *timer(struct vcpu *v)
{
	return trap_event(v, TRAP_TIMER, 0, 0);
}

/** A VM and a service on one CPU, booted; the VM runs first. */
static void two_on_one(struct vcpu **vm, struct vcpu **svc)
{
	tsys_reset(1);
	u32 g = tsys_partition("guest", 1), s = tsys_partition("svc", 1);
	kernel.cfg.partitions[g].type = PARTITION_VM;
	*vm = tsys_vcpu(g, 0);
	*svc = tsys_vcpu(s, 0);
	tsys_boot();
}

static void test_block_and_wake(void)
{
	struct vcpu *vm, *svc;
	two_on_one(&vm, &svc);
	EQ(fake_setup_calls, 2u, "virq: the platform sets up every partition once");
	fake_now_ns = 1000;
	OK(wait_irq(vm, 0) == svc, "virq: a vCPU waiting for an interrupt gives the CPU away");
	EQ(vm->state, VCPU_BLOCKED_IRQ, "virq: it is blocked");
	OK(timer(svc) == svc, "virq: a slice later it is still blocked (nothing raised)");
	EQ(vm->state, VCPU_BLOCKED_IRQ, "virq: still blocked after the timer");
	fake_cpu = 1; /* the raise comes from elsewhere */
	kernel_vcpu_interrupt(vm);
	fake_cpu = 0;
	EQ(vm->state, VCPU_READY, "virq: an interrupt for it makes it ready");
	OK(cpu_sched[0].sleeping.head == NULL, "virq: and takes it off the sleeping queue");
	OK(timer(svc) == vm, "virq: it runs at the next slice");
}

static void test_raised_before_wait(void)
{
	struct vcpu *vm, *svc;
	two_on_one(&vm, &svc);
	vm->irq_wake = 0;          /* the platform looked and found nothing ... */
	kernel_vcpu_interrupt(vm); /* ... and then one was raised */
	OK(wait_irq(vm, 0) == vm,
	   "virq: an interrupt raised after the platform looked is not lost");
	EQ(vm->state, VCPU_RUNNING, "virq: the vCPU runs on");
	vm->irq_wake = 0;
	OK(wait_irq(vm, 0) == svc, "virq: without one it blocks");
}

static void test_wake_time(void)
{
	struct vcpu *vm, *svc;
	two_on_one(&vm, &svc);
	fake_now_ns = 10000;
	OK(wait_irq(vm, 10300) == svc, "virq: waiting with a wake time blocks");
	EQ(fake_timer_deadline, 10300u,
	   "virq: the CPU's timer is armed for the wake time (before the slice)");
	fake_now_ns = 10200;
	OK(timer(svc) == svc && vm->state == VCPU_BLOCKED_IRQ, "virq: not woken before its time");
	fake_now_ns = 10300;
	OK(timer(svc) == vm, "virq: woken at its time, and it gets the CPU");
	EQ(vm->wake_ns, 0u, "virq: the wake time is consumed");
	/* The service now runs alone: no slice tick, only the sleeper's wake time (issue 11). */
	fake_now_ns = 20000;
	OK(wait_irq(vm, 20000 + 5 * SCHED_SLICE_NS) == svc, "virq: a far wake time blocks");
	EQ(fake_timer_deadline, 20000u + 5 * SCHED_SLICE_NS,
	   "virq: one runnable vCPU takes no slice tick: the timer waits for the wake time");
}

static void test_idle_cpu_wakes(void)
{
	tsys_reset(1);
	u32 g = tsys_partition("guest", 1);
	kernel.cfg.partitions[g].type = PARTITION_VM;
	struct vcpu *vm = tsys_vcpu(g, 0);
	OK(tsys_boot() == vm, "virq: the lone VM runs");
	fake_now_ns = 5000;
	bool off = FAKE_EXPECT_EXIT(OK(wait_irq(vm, 7000) == NULL, "virq: the CPU idles"));
	OK(!off, "virq: a vCPU with a wake time keeps the system on");
	EQ(fake_timer_deadline, 7000u, "virq: an idle CPU's timer is armed for its sleeper");
	fake_now_ns = 7000;
	OK(trap_event(NULL, TRAP_TIMER, 0, 0) == vm, "virq: the timer on the idle CPU wakes it");
	/* The same through kernel_idle (an idle CPU polled after its timer passed). */
	fake_now_ns = 8000;
	OK(wait_irq(vm, 8500) == NULL, "virq: idle again");
	fake_now_ns = 9000;
	OK(kernel_idle(0) == vm, "virq: kernel_idle wakes a sleeper whose time passed");
}

static void test_power_off(void)
{
	tsys_reset(1);
	u32 g = tsys_partition("guest", 1);
	kernel.cfg.partitions[g].type = PARTITION_VM;
	struct vcpu *vm = tsys_vcpu(g, 0);
	tsys_boot();
	OK(FAKE_EXPECT_EXIT(wait_irq(vm, 0)),
	   "virq: every vCPU waiting for an interrupt nothing can raise: system off");

	tsys_reset(1);
	g = tsys_partition("guest", 1);
	kernel.cfg.partitions[g].type = PARTITION_VM;
	u32 d = kernel.cfg.device_count++;
	kernel.cfg.devices[d] = (struct cfg_device){ .owner = g, .irq_count = 1, .irqs = { 40 } };
	vm = tsys_vcpu(g, 0);
	tsys_boot();
	EQ(fake_setup_irqs, 1u, "virq: the platform is given the partition's device interrupt");
	OK(kernel.partitions[g].irq_sources, "virq: the partition has an interrupt source");
	OK(!FAKE_EXPECT_EXIT(wait_irq(vm, 0)),
	   "virq: one with a device of its own keeps the system on");
	kernel_vcpu_interrupt(vm);
	OK(kernel_idle(0) == vm, "virq: the device's interrupt wakes it");
}

static void test_stop_while_sleeping(void)
{
	struct vcpu *vm, *svc;
	two_on_one(&vm, &svc);
	fake_now_ns = 100;
	wait_irq(vm, 400);
	partition_stop(vm->part, "test", false);
	EQ(vm->state, VCPU_STOPPED, "virq: a sleeping vCPU is stopped with its partition");
	OK(cpu_sched[0].sleeping.head == NULL, "virq: and leaves the sleeping queue");
	kernel_vcpu_interrupt(vm);
	EQ(vm->state, VCPU_STOPPED, "virq: an interrupt does not wake a stopped vCPU");
	fake_now_ns = 500;
	OK(timer(svc) == svc && vm->state == VCPU_STOPPED, "virq: nor does its wake time");
}

static void test_kick_running_elsewhere(void)
{
	tsys_reset(2);
	u32 g = tsys_partition("guest", 1);
	kernel.cfg.partitions[g].type = PARTITION_VM;
	kernel.cfg.partitions[g].vcpus[0].hard_affinity = 2; /* CPU 1 */
	struct vcpu *vm = tsys_vcpu(g, 0);
	tsys_boot();
	fake_cpu = 1;
	OK(kernel_idle(1) == vm, "virq: the VM runs on CPU 1");
	fake_cpu = 0;
	u32 kicks = fake_kicks;
	kernel_vcpu_interrupt(vm);
	EQ(fake_kicks, kicks + 1, "virq: an interrupt for a vCPU running elsewhere kicks its CPU");
	EQ(vm->state, VCPU_RUNNING, "virq: it stays running");
}

static void test_setup_refused(void)
{
	tsys_reset(1);
	tsys_partition("guest", 1);
	fake_setup_refuse = "no interrupt controller for it";
	OK(FAKE_EXPECT_EXIT(tsys_boot()), "virq: a partition the platform refuses fails the boot");
	OK(strstr(tsys_console(), "partition 'guest': no interrupt controller for it") != NULL,
	   "virq: with the platform's reason");
}

int main(void)
{
	test_block_and_wake();
	test_raised_before_wait();
	test_wake_time();
	test_idle_cpu_wakes();
	test_power_off();
	test_stop_while_sleeping();
	test_kick_running_elsewhere();
	test_setup_refused();
	return tap_finish();
}
