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
#include <kernel/sched_plan.h>
#include <plat/cpu.h>
#include <plat/memory.h>
#include <plat/timer.h>
#include <string.h>

/** How many times a restartable partition is restarted before it stays stopped. */
#define PARTITION_RESTART_MAX 100000u
/** Alive this long since its last start (or having replied once), a partition made progress. */
#define PARTITION_CALM_NS UINT64_C(100000000)
/** Restarts in a row without progress that go ahead at once; later ones wait. */
#define PARTITION_STREAK_FREE 3u
/** The first wait, doubled for each further restart without progress, up to the last. */
#define PARTITION_BACKOFF_MIN_NS UINT64_C(1000000)
#define PARTITION_BACKOFF_MAX_NS UINT64_C(1000000000)
/** Restart reports: each of the first ten, then one in ten (the count says how many). */
#define PARTITION_REPORT_ALL 10u

/**
 * How long a restart waits: nothing while the partition makes progress
 * between crashes or has crashed at most PARTITION_STREAK_FREE times in a
 * row without; then 1 ms, doubling up to 1 s, so a service that crashes at
 * once on every start costs its CPU little and floods nothing.
 */
static u64 partition_backoff_ns(struct partition *p, u64 now)
{
	if (p->replied || now - p->started_ns >= PARTITION_CALM_NS)
		p->restart_streak = 0;
	else
		p->restart_streak++;
	if (p->restart_streak <= PARTITION_STREAK_FREE)
		return 0;
	u32 shift = p->restart_streak - PARTITION_STREAK_FREE - 1u;
	if (shift >= 10u)
		return PARTITION_BACKOFF_MAX_NS;
	u64 wait = PARTITION_BACKOFF_MIN_NS << shift;
	return wait < PARTITION_BACKOFF_MAX_NS ? wait : PARTITION_BACKOFF_MAX_NS;
}

void region_fill_contents(const struct cfg_region *r)
{
	const void *blob;
	u64 size;
	/* The validator checked the blob is there and fits (mf_check_images). */
	if (r->contents[0] == '\0' || kernel.package == NULL ||
	    !package_find(kernel.package, r->contents, &blob, &size) || size > r->size)
		return;
	memcpy(plat_phys_to_virt(pa_init(r->pa)), blob, size);
}

/**
 * Start a stopped restartable partition again from its image: its private
 * RAM cleared (except regions marked `preserve;`), the image copied in,
 * every vCPU reset at the entry and made ready. Preserved and shared regions
 * keep their contents: state that must survive a restart lives there
 * (docs/emulation.md). Its capability table stays as it was: what it dropped or narrowed
 * stays so (a device model's dm_restrict must survive its crash).
 */
static void partition_revive(struct partition *p, u64 now, u64 wait)
{
	const struct cfg_partition *cp = &kernel.cfg.partitions[p->id];
	for (u32 m = 0; m < cp->mapping_count; m++) {
		const struct cfg_region *r = &kernel.cfg.regions[cp->mappings[m].region];
		if (r->kind == REGION_RAM && !r->preserve) {
			memset(plat_phys_to_virt(pa_init(r->pa)), 0, r->size);
			region_fill_contents(r);
		}
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
	p->replied = false;
	p->started_ns = now + wait;
	for (u32 i = 0; i < p->vcpu_count; i++) {
		struct vcpu *v = &p->vcpus[i];
		arch_vcpu_power_on(&v->arch, p->type, cp->entry, i);
		v->after |= VCPU_AFTER_FRESH;
		if (wait == 0) {
			v->state = VCPU_OFF;
			sched_make_ready(v);
		} else {
			/* Held back: it sleeps like a vCPU waiting for its timer, then starts. */
			v->state = VCPU_BLOCKED_IRQ;
			sched_sleep(v, now + wait);
		}
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
	/*
	 * A vCPU running on another CPU may be in a console call, which runs
	 * without the kernel lock (trap.c trap_console): let it end, and keep
	 * its later ones on the locked path, before its line is printed and
	 * before a restart resets its registers.
	 */
	for (u32 i = 0; i < p->vcpu_count; i++)
		if (p->vcpus[i].state == VCPU_RUNNING && p->vcpus[i].cpu != arch_cpu_index())
			vcpu_lockless_close(&p->vcpus[i]);
	console_partition_stop(p);
	u64 now = 0, wait = 0;
	if (restart) {
		now = plat_timer_now_ns();
		wait = partition_backoff_ns(p, now);
	}
	u32 n = p->restarts + 1u;
	if (restart && (n <= PARTITION_REPORT_ALL || n % 10u == 0u ||
	                p->restart_streak == PARTITION_STREAK_FREE + 1u))
		kprintf("[hyp] partition '%s' stopped: %s; restarting it (%u)%s\n", p->name, why, n,
		        wait == 0 ? "" : " after a pause: it crashes without progress");
	else if (!restart)
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
			sched_kick(v->cpu);
	}
	for (u32 i = 0; i < p->vcpu_count; i++)
		ipc_cancel(&p->vcpus[i]);
	vmi_partition_stopped(p);
	dm_partition_stopped(p);
	sched_partition_stopped(p, restart);
	if (restart) {
		partition_revive(p, now, wait);
		p->restarting = false;
	}
}
