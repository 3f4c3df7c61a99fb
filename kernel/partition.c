/** Partition life cycle (see partition_ops.h). */
#include <arch/cpu.h>
#include <arch/vcpu.h>
#include <kernel/console.h>
#include <kernel/ipc.h>
#include <kernel/kernel.h>
#include <kernel/partition_ops.h>
#include <kernel/package.h>
#include <kernel/print.h>
#include <kernel/sched.h>
#include <plat/cpu.h>
#include <plat/memory.h>
#include <string.h>

/** How many times a restartable partition is restarted before it stays stopped. */
#define PARTITION_RESTART_MAX 100000u

/**
 * Start a stopped restartable partition again from its image: its private
 * RAM cleared (except regions marked `preserve;`), the image copied in,
 * every vCPU reset at the entry and made ready. Preserved and shared regions
 * keep their contents: state that must survive a restart lives there
 * (docs/emulation.md). Its capabilities are the manifest's, as at boot.
 */
static void partition_revive(struct partition *p)
{
	const struct cfg_partition *cp = &kernel.cfg.partitions[p->id];
	for (u32 m = 0; m < cp->mapping_count; m++) {
		const struct cfg_region *r = &kernel.cfg.regions[cp->mappings[m].region];
		if (r->kind == REGION_RAM && !r->preserve)
			memset(plat_phys_to_virt(pa_init(r->pa)), 0, r->size);
	}
	const void *image;
	u64 size;
	if (cp->image[0] != '\0' && kernel.package != NULL &&
	    package_find(kernel.package, cp->image, &image, &size)) {
		const struct cfg_region *r =
		        &kernel.cfg.regions[cp->mappings[cp->image_mapping].region];
		memcpy(plat_phys_to_virt(pa_init(r->pa)), image, size);
	}
	p->stopped = false;
	p->restarts++;
	for (u32 i = 0; i < p->vcpu_count; i++) {
		struct vcpu *v = &p->vcpus[i];
		arch_vcpu_power_on(&v->arch, p->type, cp->entry, i);
		v->state = VCPU_OFF;
		v->after |= VCPU_AFTER_FRESH;
		sched_make_ready(v);
	}
}

void partition_stop(struct partition *p, const char *why, bool failed)
{
	if (p->stopped)
		return;
	const struct cfg_partition *cp = &kernel.cfg.partitions[p->id];
	bool restart = cp->restartable && p->restarts < PARTITION_RESTART_MAX;
	if (restart) {
		/* Its kernel callers wait for its successor (ipc_cancel); no failure. */
		p->restarting = true;
		failed = false;
	}
	p->stopped = true;
	console_partition_stop(p);
	if (restart)
		kprintf("[hyp] partition '%s' stopped: %s; restarting it (%u)\n", p->name, why,
		        p->restarts + 1u);
	else
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
	if (restart) {
		partition_revive(p);
		p->restarting = false;
	}
}
