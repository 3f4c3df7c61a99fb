/** The plan's hypercalls and the event ring (see sched_plan.h, ipc/sched.h). */
#include <arch/cpu.h>
#include <kernel/cap.h>
#include <kernel/kernel.h>
#include <kernel/notification.h>
#include <kernel/print.h>
#include <kernel/regs.h>
#include <kernel/sched.h>
#include <kernel/sched_plan.h>
#include <plat/cpu.h>
#include <plat/memory.h>
#include <plat/timer.h>

/** Slots a ring may have at most (bounds the region the kernel writes). */
#define SCHED_RING_SLOTS_MAX 4096u

/** Whether partition pol holds a `vcpus` capability over partition target. */
static bool sched_in_scope(u32 pol, u32 target)
{
	const struct cap_table *t = &kernel.partitions[pol].caps;
	for (u32 i = 0; i < CAP_SLOT_COUNT; i++) {
		if (t->slots[i].type == CAP_VCPUS && t->slots[i].object == target &&
		    (t->slots[i].rights & RIGHT_VCPUS_SCHEDULE) != 0)
			return true;
	}
	return false;
}

void sched_report(u32 kind, u32 cpu, const struct vcpu *v, u64 arg)
{
	u32 pol = cpu < CFG_CPU_MAX ? kernel.cfg.sched_policy[cpu] : CFG_NONE;
	if (pol >= kernel.partition_count)
		return;
	struct sched_ring_state *r = &sched.ring[pol];
	if (r->hdr == NULL || kernel.partitions[pol].stopped)
		return;
	/* Never its own vCPUs: its own waiting would wake it, again and again. */
	if (v != NULL && (v->part->id == pol || !sched_in_scope(pol, v->part->id)))
		return;
	/* The policy writes tail: any value it puts there only makes the ring look full. */
	u32 tail = __atomic_load_n(&r->hdr->tail, __ATOMIC_ACQUIRE);
	if (r->head - tail >= r->count) {
		r->lost++;
		__atomic_store_n(&r->hdr->lost, r->lost, __ATOMIC_RELAXED);
	} else {
		struct sched_ring_event *e = &r->ev[r->head & (r->count - 1u)];
		e->kind = kind;
		e->cpu = cpu;
		e->partition = v != NULL ? v->part->id : CFG_NONE;
		e->vcpu = v != NULL ? v->index : CFG_NONE;
		e->now = plat_timer_now_ns();
		e->arg = arg;
		r->head++;
		__atomic_store_n(&r->hdr->count, r->count, __ATOMIC_RELAXED);
		__atomic_store_n(&r->hdr->head, r->head, __ATOMIC_RELEASE);
	}
	notification_raise(&kernel.notifications[r->notification], 1u);
}

/* ---- HC_SCHED_SET ------------------------------------------------------- */

struct sched_set_req {
	struct vcpu *target;
	u32 cpu;
	u32 prio_flags;
	u64 slice, budget, period;
};

/** Decode a `vcpus` capability in r1 and a vCPU index of its partition in r2. */
static enum status sched_decode_target(const struct vcpu *v, struct vcpu **target)
{
	const struct cap *c;
	enum status s = cap_lookup(&v->part->caps, reg_get(v, IPC_REG_CAP), CAP_VCPUS,
	                           RIGHT_VCPUS_SCHEDULE, &c);
	if (s != STATUS_OK)
		return s;
	const struct partition *p = &kernel.partitions[c->object];
	u64 index = reg_get(v, 2);
	if (index >= p->vcpu_count)
		return STATUS_INVALID_ARG;
	*target = &p->vcpus[index];
	return STATUS_OK;
}

static bool sched_time_ok(u64 t)
{
	return t >= SCHED_TIME_MIN && t <= SCHED_TIME_MAX;
}

static enum status sched_set_decode(const struct vcpu *v, struct sched_set_req *q)
{
	enum status s = sched_decode_target(v, &q->target);
	if (s != STATUS_OK)
		return s;
	u64 cpu = reg_get(v, 3), pf = reg_get(v, 4);
	q->slice = reg_get(v, 5);
	q->budget = reg_get(v, 6);
	q->period = reg_get(v, 7);
	if (cpu >= kernel.cpu_count || (pf & ~(u64)(SCHED_SET_PRIO_MASK | SCHED_SET_FLAGS)) != 0)
		return STATUS_INVALID_ARG;
	if ((q->target->hard_affinity & (UINT64_C(1) << cpu)) == 0)
		return STATUS_INVALID_ARG;
	if (q->slice != 0 && !sched_time_ok(q->slice))
		return STATUS_INVALID_ARG;
	if (q->budget == 0 ?
	            q->period != 0 :
	            !sched_time_ok(q->budget) || !sched_time_ok(q->period) || q->budget > q->period)
		return STATUS_INVALID_ARG;
	/* The policy schedules only the CPUs the manifest gives it (sched-cpus). */
	u64 mine = kernel.cfg.partitions[v->part->id].sched_cpus;
	if ((mine & (UINT64_C(1) << cpu)) == 0 || (mine & (UINT64_C(1) << q->target->cpu)) == 0)
		return STATUS_NO_RIGHTS;
	q->cpu = (u32)cpu;
	q->prio_flags = (u32)pf;
	return STATUS_OK;
}

/** Place t on cpu: at once if it does not run; a running one moves when it leaves its CPU. */
static void sched_move(struct vcpu *t, u32 cpu)
{
	switch (t->state) {
	case VCPU_RUNNING:
		sched.move_to[t->id] = cpu + 1u;
		sched_kick(t->cpu);
		return;
	case VCPU_READY:
		sched_requeue(t, cpu, false);
		return;
	case VCPU_BLOCKED_IRQ: {
		u64 wake = t->wake_ns;
		sched_unsleep(t);
		t->cpu = cpu;
		sched_sleep(t, wake);
		return;
	}
	default:
		t->cpu = cpu;
		return;
	}
}

static void sched_set_invoke(const struct sched_set_req *q)
{
	struct vcpu *t = q->target;
	struct sched_ctx *sc = &sched.ctx[t->id];
	bool new_budget = sc->budget_ns != q->budget || sc->period_ns != q->period;
	sc->programmed = true;
	sc->prio = (u8)(q->prio_flags & SCHED_SET_PRIO_MASK);
	sc->parked = (q->prio_flags & SCHED_SET_PARK) != 0;
	sc->slice_ns = q->slice;
	if (new_budget) {
		/* A new allowance starts a fresh window now: what ran before is not its. */
		sched_settle(t->id);
		sc->budget_ns = q->budget;
		sc->period_ns = q->period;
		sc->remaining = q->budget;
		sc->period_end = q->budget != 0 ? plat_timer_now_ns() + q->period : 0;
	}
	if (q->cpu != t->cpu &&
	    !(t->state == VCPU_RUNNING && sched.move_to[t->id] == q->cpu + 1u)) {
		sched_move(t, q->cpu);
	} else if (t->state == VCPU_READY) {
		/* Its priority or hold may have changed; SCHED_SET_NOW: first among its equals. */
		sched_requeue(t, t->cpu, (q->prio_flags & SCHED_SET_NOW) != 0);
		return;
	}
	/* Its CPU looks again: a RUN, a park, a priority change take effect now. */
	if (t->cpu != arch_cpu_index() && (t->state == VCPU_READY || t->state == VCPU_RUNNING))
		sched_kick(t->cpu);
}

struct vcpu *hc_sched_set(struct vcpu *v)
{
	struct sched_set_req q;
	enum status s = sched_set_decode(v, &q);
	if (s == STATUS_OK)
		sched_set_invoke(&q);
	reg_status(v, s);
	return v;
}

/* ---- HC_SCHED_INFO ------------------------------------------------------ */

struct vcpu *hc_sched_info(struct vcpu *v)
{
	struct vcpu *t;
	enum status s = sched_decode_target(v, &t);
	if (s == STATUS_OK) {
		/* Read only: the window is the business of the CPU that bills it. */
		const struct sched_ctx *sc = &sched.ctx[t->id];
		bool renewed = sc->budget_ns != 0 && plat_timer_now_ns() >= sc->period_end;
		u64 left = renewed ? sc->budget_ns : sc->remaining;
		u64 state;
		switch (t->state) {
		case VCPU_READY:
		case VCPU_RUNNING:
			state = sc->parked || (sc->budget_ns != 0 && left == 0) ?
			                SCHED_INFO_DEPLETED :
			                SCHED_INFO_RUNNABLE;
			break;
		case VCPU_OFF:
			state = SCHED_INFO_OFF;
			break;
		case VCPU_STOPPED:
			state = SCHED_INFO_STOPPED;
			break;
		default:
			state = SCHED_INFO_BLOCKED;
			break;
		}
		reg_set(v, 1, state);
		reg_set(v, 2, t->cpu);
		reg_set(v, 3, sc->used_ns);
		reg_set(v, 4, left);
		reg_set(v, 5, (u64)sc->prio | (sc->parked ? SCHED_SET_PARK : 0u));
		/* The manifest's side, so a restarted policy rebuilds its state from the kernel. */
		const struct cfg_partition *cp = &kernel.cfg.partitions[t->part->id];
		reg_set(v, 6,
		        (u64)(cp->weight & 0xffffu) | (u64)(cp->cap_percent & 0xffffu) << 16 |
		                (u64)t->part->id << 32 |
		                (t->part == v->part ? SCHED_INFO_R6_SELF : 0u));
		reg_set(v, 7, t->hard_affinity);
		reg_set(v, 8, t->soft_affinity);
	}
	reg_status(v, s);
	return v;
}

/* ---- HC_SCHED_RING ------------------------------------------------------ */

struct vcpu *hc_sched_ring(struct vcpu *v)
{
	const struct cap *mem, *ntf;
	enum status s = cap_lookup(&v->part->caps, reg_get(v, 1), CAP_MEMORY,
	                           RIGHT_MEM_READ | RIGHT_MEM_WRITE, &mem);
	if (s == STATUS_OK)
		s = cap_lookup(&v->part->caps, reg_get(v, 2), CAP_NOTIFICATION, 0, &ntf);
	if (s == STATUS_OK && kernel.cfg.partitions[v->part->id].sched_kind == CFG_SCHED_NONE)
		s = STATUS_NO_RIGHTS; /* only a policy partition hears events */
	const struct cfg_region *r = s == STATUS_OK ? &kernel.cfg.regions[mem->object] : NULL;
	if (r != NULL && (r->kind == REGION_DEVICE ||
	                  r->size < SCHED_RING_HEADER_SIZE + sizeof(struct sched_ring_event)))
		s = STATUS_INVALID_ARG;
	if (s == STATUS_OK) {
		u64 fit = (r->size - SCHED_RING_HEADER_SIZE) / sizeof(struct sched_ring_event);
		u32 count = 1;
		while ((u64)count * 2u <= fit && count < SCHED_RING_SLOTS_MAX)
			count *= 2u;
		struct sched_ring_state *ring = &sched.ring[v->part->id];
		u8 *base = plat_phys_to_virt(pa_init(r->pa));
		ring->hdr = (struct sched_ring_header *)base;
		ring->ev = (struct sched_ring_event *)(base + SCHED_RING_HEADER_SIZE);
		ring->count = count;
		ring->head = 0;
		ring->lost = 0;
		ring->notification = ntf->object;
		ring->hdr->head = 0;
		ring->hdr->tail = 0;
		ring->hdr->lost = 0;
		ring->hdr->count = count;
		reg_set(v, 1, count);
		reg_set(v, 2, kernel.cfg.partitions[v->part->id].sched_cpus);
	}
	reg_status(v, s);
	return v;
}

/* ---- a partition stops -------------------------------------------------- */

void sched_partition_stopped(struct partition *p, bool restarting)
{
	for (u32 i = 0; i < p->vcpu_count; i++) {
		struct vcpu *v = &p->vcpus[i];
		sched_report(SCHED_RING_STOPPED, v->cpu, v, 0);
		sched_return(v); /* a dead server gives back the contexts it ran on */
		sched.started[v->id] = false;
	}
	if (kernel.cfg.partitions[p->id].sched_kind == CFG_SCHED_NONE)
		return;
	/* A policy: its CPUs keep its last plan; its successor registers a ring again. */
	sched.ring[p->id].hdr = NULL;
	if (restarting)
		return;
	kprintf("[hyp] policy '%s' is gone: its CPUs keep its last plan, parked vCPUs run\n",
	        p->name);
	for (u32 i = 0; i < kernel.vcpu_count; i++) {
		struct vcpu *v = &kernel.vcpus[i];
		if (!sched_in_scope(p->id, v->part->id) || !sched.ctx[i].parked)
			continue;
		sched.ctx[i].parked = false;
		if (v->state == VCPU_READY)
			sched_requeue(v, v->cpu, false);
	}
}
