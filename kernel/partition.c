/** Partition life cycle (see partition_ops.h). */
#include <arch/cpu.h>
#include <kernel/console.h>
#include <kernel/ipc.h>
#include <kernel/kernel.h>
#include <kernel/partition_ops.h>
#include <kernel/print.h>
#include <kernel/sched.h>
#include <plat/cpu.h>

void partition_stop(struct partition *p, const char *why, bool failed)
{
	if (p->stopped)
		return;
	p->stopped = true;
	console_partition_stop(p);
	kprintf("[hyp] partition '%s' stopped: %s\n", p->name, why);
	if (failed)
		kernel.exit_status = 1;
	/*
	 * Two passes: every vCPU is STOPPED before any IPC is cancelled, because
	 * cancelling releases callers and faults in other partitions, which can
	 * stop those partitions and release calls back into this one (mutual
	 * fault handlers); a released vCPU that is already STOPPED stays so.
	 */
	for (u32 i = 0; i < p->vcpu_count; i++) {
		struct vcpu *v = &p->vcpus[i];
		bool remote_running = v->state == VCPU_RUNNING && v->cpu != arch_cpu_index();
		sched_remove(v);
		if (v->waiting_on != NULL) {
			vcpu_queue_remove(&v->waiting_on->waiters, v);
			v->waiting_on = NULL;
		}
		v->state = VCPU_STOPPED;
		if (remote_running)
			plat_cpu_kick(v->cpu);
	}
	for (u32 i = 0; i < p->vcpu_count; i++)
		ipc_cancel(&p->vcpus[i]);
}
