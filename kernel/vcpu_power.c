/** vCPU power states at a partition's own request (see vcpu_power.h). */
#include <arch/cpu.h>
#include <kernel/ipc.h>
#include <kernel/kernel.h>
#include <kernel/lock.h>
#include <kernel/partition_ops.h>
#include <kernel/power.h>
#include <kernel/region.h>
#include <kernel/sched.h>
#include <kernel/vcpu_power.h>

/** Whether p may execute the instruction at entry: inside an executable mapping of its own. */
static bool power_entry_ok(const struct partition *p, u64 entry)
{
	const struct cfg_partition *cp = &kernel.cfg.partitions[p->id];
	for (u32 i = 0; i < cp->mapping_count; i++) {
		const struct cfg_mapping *m = &cp->mappings[i];
		const struct cfg_region *r = &kernel.cfg.regions[m->region];
		if ((m->rights & RIGHT_MEM_EXEC) != 0 && entry >= m->ipa &&
		    entry - m->ipa < r->size && (entry & 3u) == 0)
			return true;
	}
	return false;
}

static enum power_result power_cpu_on(struct vcpu *cur, const struct power_req *req)
{
	struct partition *p = cur->part;
	if (req->target >= p->vcpu_count)
		return POWER_NO_SUCH_VCPU;
	struct vcpu *t = &p->vcpus[req->target];
	if (t->state != VCPU_OFF)
		return POWER_ALREADY_ON;
	if (!power_entry_ok(p, req->entry))
		return POWER_BAD_ENTRY;
	arch_vcpu_power_on(&t->arch, p->type, req->entry, req->arg);
	sched_make_ready(t);
	return POWER_OK;
}

/** cur goes off: it gives up what it holds and waits for a CPU_ON. */
static struct vcpu *power_cpu_off(struct vcpu *cur)
{
	ipc_give_up_reply(cur);
	if (cur->state == VCPU_STOPPED) /* that stopped its own partition */
		return sched_next(cur->cpu, cur, false);
	cur->state = VCPU_OFF;
	return sched_next(cur->cpu, cur, false);
}

static struct vcpu *power_invoke(struct vcpu *cur, const struct power_req *req,
                                 enum power_result *result)
{
	*result = POWER_OK;
	switch (req->op) {
	case POWER_CPU_ON:
		*result = power_cpu_on(cur, req);
		return cur;
	case POWER_CPU_OFF:
		return power_cpu_off(cur);
	case POWER_AFFINITY_INFO:
		if (req->target >= cur->part->vcpu_count)
			*result = POWER_NO_SUCH_VCPU;
		else if (cur->part->vcpus[req->target].state == VCPU_OFF)
			*result = POWER_IS_OFF;
		return cur;
	case POWER_SUSPEND:
		return sched_next(cur->cpu, cur, true);
	case POWER_SYSTEM_OFF:
		partition_stop(cur->part, "system off requested", false);
		return sched_next(cur->cpu, cur, false);
	case POWER_SYSTEM_RESET:
	default:
		/* Restart needs the restartable-partition lifecycle: until then, a clean stop. */
		partition_stop(cur->part, "system reset requested (restart not supported: stopped)",
		               false);
		return sched_next(cur->cpu, cur, false);
	}
}

struct vcpu *kernel_power(struct vcpu *cur, const struct power_req *req, enum power_result *result)
{
	spin_lock(&kernel_lock);
	struct vcpu *next;
	if (cur->state == VCPU_RUNNING) {
		next = power_invoke(cur, req, result);
	} else {
		/* Stopped from another CPU while it ran here. */
		*result = POWER_OK;
		next = sched_next(arch_cpu_index(), NULL, false);
	}
	if (next == NULL)
		power_off_if_finished();
	spin_unlock(&kernel_lock);
	if (sched_wants_relax(next))
		sched_relax(next); /* it started a vCPU on another CPU (sched_kick) */
	return next;
}
