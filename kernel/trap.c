/**
 * The core's entry from the platform (see trap.h): one big kernel lock
 * around each entry, then hypercalls, faults and scheduling events.
 */
#include <arch/cpu.h>
#include <kernel/boot.h>
#include <kernel/console.h>
#include <kernel/dm.h>
#include <kernel/emulate.h>
#include <kernel/hypercall.h>
#include <kernel/ipc.h>
#include <kernel/kernel.h>
#include <kernel/lock.h>
#include <kernel/partition_ops.h>
#include <kernel/power.h>
#include <kernel/print.h>
#include <kernel/regs.h>
#include <kernel/sched.h>
#include <kernel/trap.h>
#include <kernel/virq.h>
#include <kernel/vmi.h>
#include <plat/cpu.h>
#include <plat/timer.h>

static const char *access_name(u32 access)
{
	if (access & IPC_ACCESS_EXEC)
		return "exec";
	if (access & IPC_ACCESS_WRITE)
		return "write";
	return "read";
}

/**
 * A vCPU faulted: send the fault to its partition's handler if it has one,
 * else stop the partition with a report. The report is printed once per
 * partition (a stopped partition cannot fault again), so a guest cannot
 * flood the log.
 */
COLD struct vcpu *trap_fault(struct vcpu *v, const struct trap *t)
{
	struct partition *p = v->part;
	struct vcpu *next;
	enum dm_verdict dm = dm_fault(v, t, &next);
	if (dm == DM_HANDLED)
		return next; /* a device model's memory type or dirty log stopped it */
	if (dm == DM_NOT_MINE && vmi_fault(v, t, &next))
		return next; /* a monitor's rights, not the manifest's, stopped it */
	if (p->fault_endpoint != CFG_NONE) {
		struct kernel_msg m = {
			.label = t->kind == TRAP_MEM_FAULT ? IPC_LABEL_FAULT_MEM :
			                                     IPC_LABEL_FAULT_EXC,
			.words = { t->address, t->access, arch_vcpu_pc(&v->arch), v->index,
			           t->syndrome, 0 },
			.badge = p->fault_badge,
		};
		return ipc_kernel_call(v, p->fault_endpoint, &m);
	}
	char why[160];
	if (t->kind == TRAP_MEM_FAULT)
		ksnprintf(why, sizeof(why), "vcpu %u: %s fault at 0x%llx (%s), pc 0x%llx", v->index,
		          t->what != NULL ? t->what : "stage-2", (unsigned long long)t->address,
		          access_name(t->access), (unsigned long long)arch_vcpu_pc(&v->arch));
	else
		ksnprintf(why, sizeof(why), "vcpu %u: %s, pc 0x%llx, syndrome 0x%llx", v->index,
		          t->what != NULL ? t->what : "guest exception",
		          (unsigned long long)arch_vcpu_pc(&v->arch),
		          (unsigned long long)t->syndrome);
	partition_stop(p, why, true);
	return sched_next(v->cpu, v, false);
}

/** Everything but a running vCPU's hypercall; called with the kernel lock held. */
COLD static struct vcpu *trap_other(struct vcpu *cur, const struct trap *t)
{
	u32 cpu = arch_cpu_index();
	if (t->kind == TRAP_TIMER)
		return sched_tick(cpu, cur); /* slices, budgets, sleepers (sched.c) */
	if (cur == NULL || cur->state != VCPU_RUNNING) {
		/*
		 * Idle; or stopped, or restarted (ready again, reset), from another
		 * CPU while it ran here: what it trapped for is its old life's.
		 */
		return sched_next(cpu, NULL, false);
	}
	switch (t->kind) {
	case TRAP_HYPERCALL:
		return hypercall_dispatch(cur);
	case TRAP_MEM_FAULT:
	case TRAP_GUEST_EXCEPTION:
		return trap_fault(cur, t);
	case TRAP_WFI:
		return sched_next(cpu, cur, true);
	case TRAP_WAIT_IRQ:
		return virq_wait(cur, t->wake_ns);
	case TRAP_MMIO:
		return emul_access(cur, t);
	case TRAP_REG_WRITE:
		return vmi_reg_write(cur, t);
	case TRAP_STEP:
		return vmi_step(cur);
	case TRAP_IRQ:
	default:
		return sched_next(cpu, cur, false);
	}
}

/**
 * next was just chosen to run on this CPU; the kernel lock is held. A vCPU
 * its partition's restart reset must be entered through the platform's full
 * switch, which applies the reset, but a platform takes the return of the
 * vCPU that trapped as "back into the same vCPU". So a fresh vCPU goes back
 * to the front of the ready queue, this CPU kicks itself and idles, and its
 * idle loop enters it at once (rare: once per restart).
 */
COLD static struct vcpu *trap_fresh(u32 cpu, struct vcpu *next)
{
	next->after &= (u8)~VCPU_AFTER_FRESH;
	sched_requeue_front(next);
	plat_cpu_kick(cpu);
	return NULL;
}

/** The unusual ends of a hypercall (a lone yield, a restarted vCPU), after the lock. */
COLD static struct vcpu *trap_hypercall_after(struct vcpu *next)
{
	if (next->after & VCPU_AFTER_FRESH) {
		spin_lock(&kernel_lock);
		if (next->after & VCPU_AFTER_FRESH)
			next = trap_fresh(arch_cpu_index(), next);
		spin_unlock(&kernel_lock);
		if (next == NULL)
			return NULL;
	}
	if (next->after & VCPU_AFTER_RELAX)
		sched_relax(next); /* a yield with nothing else to run (hypercall.c), or a kick */
	return next;
}

/**
 * The end of a hypercall that chose next (maybe NULL) under the kernel lock
 * and left it something to do: a preemption (checked when preempt), the
 * system's end, or after-work past the lock. Unlocks.
 */
COLD static struct vcpu *trap_hypercall_end(struct vcpu *next, bool preempt)
{
	if (preempt && next != NULL && (next->after & VCPU_AFTER_PREEMPT))
		next = sched_preempt(next);
	if (next == NULL)
		power_off_if_finished();
	spin_unlock(&kernel_lock);
	if (next != NULL && next->after != 0)
		return trap_hypercall_after(next);
	return next;
}

/** A hypercall of v, stopped from another CPU while it ran here: its old life's. */
COLD static struct vcpu *trap_hypercall_stopped(void)
{
	return trap_hypercall_end(sched_next(arch_cpu_index(), NULL, false), false);
}

/**
 * A console call (hypercall_is_console), without the kernel lock: a
 * partition that writes the console in a loop must not keep the other
 * CPUs out of the kernel (with a test-and-set lock under QEMU's round
 * robin it did, for good: the lock was only ever seen held). The call needs
 * only v's registers and console state, under the console lock (console.h).
 * The kernel lock's checks still hold: the call runs only while v runs here
 * and its partition is not stopped from another CPU (vcpu_lockless_enter,
 * vcpu.h), and when v was stopped, must yield to a higher priority or has
 * other after-work (v->after, a room tick), the end is the locked path's.
 * A stop closed v's way: the call takes the kernel lock, which opens it.
 */
COLD static struct vcpu *trap_console(struct vcpu *v)
{
	enum hc_console_done done = HC_CONSOLE_DONE;
	bool ran = vcpu_lockless_enter(v);
	if (ran) {
		done = hypercall_console(v);
		vcpu_lockless_leave(v);
		/*
		 * Read without the lock, as the locked path reads them after its
		 * unlock: a stop waited for the leave above, so one that comes
		 * now is the same race, and its kick brings v out again.
		 */
		if (done == HC_CONSOLE_DONE && v->after == 0 &&
		    __atomic_load_n(&v->state, __ATOMIC_RELAXED) == VCPU_RUNNING)
			return v;
	}
	spin_lock(&kernel_lock);
	if (v->state != VCPU_RUNNING)
		return trap_hypercall_stopped();
	struct vcpu *next = v;
	if (!ran) {
		vcpu_lockless_open(v);
		next = hypercall_dispatch(v);
	} else if (done == HC_CONSOLE_TICK) {
		sched_console_tick(v->cpu);
	}
	return trap_hypercall_end(next, true);
}

/**
 * A hypercall: the hot path, kept small (only v lives across taking the
 * lock; what is rare is out of line).
 */
struct vcpu *kernel_trap_hypercall(struct vcpu *v)
{
	if (__builtin_expect(hypercall_is_console(reg_get(v, IPC_REG_NR)), 0))
		return trap_console(v);
	spin_lock(&kernel_lock);
	if (__builtin_expect(v->state != VCPU_RUNNING, 0))
		return trap_hypercall_stopped();
	struct vcpu *next = hypercall_dispatch(v);
	if (__builtin_expect(next == NULL || next->after != 0, 0)) {
		if (next == NULL || (next->after & VCPU_AFTER_PREEMPT))
			return trap_hypercall_end(next, true);
		/* A relax or a fresh vCPU, as common as a wake of another CPU: no call more. */
		spin_unlock(&kernel_lock);
		return trap_hypercall_after(next);
	}
	spin_unlock(&kernel_lock);
	return next;
}

/**
 * A load or store the platform decoded (the emulation path): straight to
 * the range's emulator, like a hypercall, without the other traps' console
 * drain (the slice timer drains a busy CPU).
 */
__attribute__((noinline)) struct vcpu *kernel_trap_mmio(struct vcpu *v, const struct trap *t)
{
	spin_lock(&kernel_lock);
	struct vcpu *next;
	if (v->state == VCPU_RUNNING) {
		next = emul_access(v, t);
		if (next != NULL && (next->after & VCPU_AFTER_PREEMPT))
			next = sched_preempt(next);
	} else
		next = sched_next(arch_cpu_index(), NULL, false); /* stopped from another CPU */
	if (next != NULL && (next->after & VCPU_AFTER_FRESH))
		next = trap_fresh(arch_cpu_index(), next);
	if (next == NULL)
		power_off_if_finished();
	spin_unlock(&kernel_lock);
	if (__builtin_expect(sched_wants_relax(next), 0))
		sched_relax(next);
	return next;
}

struct vcpu *kernel_trap(struct vcpu *cur, const struct trap *t)
{
	if (cur != NULL && t->kind == TRAP_HYPERCALL)
		return kernel_trap_hypercall(cur);
	if (cur != NULL && t->kind == TRAP_MMIO)
		return kernel_trap_mmio(cur, t);
	spin_lock(&kernel_lock);
	struct vcpu *next = trap_other(cur, t);
	if (next != NULL && (next->after & VCPU_AFTER_PREEMPT))
		next = sched_preempt(next);
	if (next != NULL && (next->after & VCPU_AFTER_FRESH))
		next = trap_fresh(arch_cpu_index(), next);
	if (next == NULL)
		power_off_if_finished();
	spin_unlock(&kernel_lock);
	if (sched_wants_relax(next))
		sched_relax(next);
	/* Not on the hypercall path: the console tick (sched.h) brings a busy CPU here. */
	console_drain();
	if (t->kind == TRAP_TIMER)
		console_input_poll(); /* typed bytes, where no interrupt brings them (x86) */
	return next;
}

struct vcpu *kernel_idle(u32 cpu)
{
	spin_lock(&kernel_lock);
	struct vcpu *next = NULL;
	if (boot_complete()) {
		sched_wake_due(cpu, plat_timer_now_ns());
		next = sched_next(cpu, NULL, false);
		if (next != NULL)
			next->after &= (u8)~VCPU_AFTER_FRESH; /* from idle: a full switch anyway */
	}
	if (next == NULL)
		power_off_if_finished();
	spin_unlock(&kernel_lock);
	/* The drain woke the console holder: ask again (once: only a holder's write re-arms it). */
	if (console_drain_idle() && next == NULL)
		return kernel_idle(cpu);
	return next;
}

struct vcpu *kernel_cpu_start(u32 cpu)
{
	/* Both platforms start their other CPUs here once kernel_boot is done. */
	if (boot_cpu_unused(cpu)) {
		kprintf("[hyp] cpu %u off: the manifest uses %u CPU%s\n", cpu, kernel.cpu_count,
		        kernel.cpu_count == 1u ? "" : "s");
		plat_cpu_park();
	}
	return kernel_idle(cpu);
}
