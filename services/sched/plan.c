/** The translation between the kernel's plan and a policy (see plan.h). */
#include "plan.h"

#include <string.h>

_Static_assert(SCHED_MAX_VCPUS <= 32u, "plan_answer keeps a bit per vCPU in a uint32_t");

void plan_init(struct plan *p, sched_cpumask_t cpus, uint32_t prio, bool hold)
{
	memset(p, 0, sizeof(*p));
	p->cpus = cpus;
	p->hold = hold;
	p->prio = prio & SCHED_SET_PRIO_MASK;
	for (uint32_t c = 0; c < SCHED_MAX_CPUS; c++)
		p->on_cpu[c] = SCHED_NO_VCPU;
}

uint32_t plan_add_vcpu(struct plan *p, uint32_t slot, uint32_t index, uint32_t partition,
                       uint32_t dom, uint32_t cpu, uint64_t hard, uint64_t soft)
{
	sched_cpumask_t h = (sched_cpumask_t)hard & p->cpus;
	if (p->vcpu_count >= SCHED_MAX_VCPUS || h == 0 || dom >= SCHED_MAX_DOMS || slot > 0xffu ||
	    index > 0xffu || partition > 0xffffu)
		return SCHED_NO_VCPU;
	uint32_t id = p->vcpu_count++;
	struct plan_vcpu *v = &p->v[id];
	memset(v, 0, sizeof(*v));
	v->slot = (uint8_t)slot;
	v->index = (uint8_t)index;
	v->partition = (uint16_t)partition;
	v->dom = (uint8_t)dom;
	v->cpu = cpu < SCHED_MAX_CPUS ? (uint8_t)cpu : PLAN_NO_CPU;
	v->hard = h;
	v->hard_max = h;
	/* Soft affinity outside the hard one means nothing (the manifest checks they meet). */
	v->soft = (sched_cpumask_t)soft & h;
	if (v->soft == 0)
		v->soft = h;
	return id;
}

bool plan_set_affinity(struct plan *p, uint32_t id, uint64_t hard, uint64_t soft)
{
	if (id >= p->vcpu_count || hard == 0 || (hard & ~(uint64_t)p->v[id].hard_max) != 0 ||
	    (soft & ~hard) != 0)
		return false;
	p->v[id].hard = (sched_cpumask_t)hard;
	p->v[id].soft = soft == 0 ? (sched_cpumask_t)hard : (sched_cpumask_t)soft;
	return true;
}

void plan_set_cap(struct plan *p, uint32_t dom, uint32_t percent)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < p->vcpu_count; i++)
		n += p->v[i].dom == dom;
	if (n == 0)
		return;
	uint64_t budget = 0;
	if (percent != 0) {
		/* The domain's pool, shared evenly: no vCPU takes more than its part. */
		budget = PLAN_CAP_PERIOD * percent / 100u / n;
		if (budget > PLAN_CAP_PERIOD)
			budget = PLAN_CAP_PERIOD;
		if (budget < SCHED_TIME_MIN)
			budget = SCHED_TIME_MIN;
	}
	for (uint32_t i = 0; i < p->vcpu_count; i++) {
		if (p->v[i].dom != dom)
			continue;
		/* A budget of a whole period is no cap (cap 100 and more per vCPU). */
		bool none = budget == 0 || budget == PLAN_CAP_PERIOD;
		p->v[i].budget = none ? 0 : budget;
		p->v[i].period = none ? 0 : PLAN_CAP_PERIOD;
	}
}

uint32_t plan_find(const struct plan *p, uint32_t partition, uint32_t index)
{
	for (uint32_t i = 0; i < p->vcpu_count; i++)
		if (p->v[i].partition == partition && p->v[i].index == index)
			return i;
	return SCHED_NO_VCPU;
}

static void put(struct sched_event *ev, uint32_t kind, uint32_t cpu, uint32_t vcpu, uint32_t dom,
                uint64_t now)
{
	ev->kind = kind;
	ev->cpu = cpu;
	ev->vcpu = vcpu;
	ev->dom = dom;
	ev->now = now;
	ev->hard = 0;
	ev->soft = 0;
}

/** A CPU event on one of the policy's CPUs. */
static uint32_t cpu_event(struct plan *p, const struct sched_ring_event *re, uint32_t kind,
                          struct sched_event *ev)
{
	if (re->cpu >= SCHED_MAX_CPUS || !sched_mask_has(p->cpus, re->cpu))
		return 0;
	put(ev, kind, re->cpu, SCHED_NO_VCPU, 0, p->now);
	return 1;
}

/** The vCPU becomes runnable: the policy learns of it first if it does not know it. */
static uint32_t runnable(struct plan *p, uint32_t id, uint32_t cpu, struct sched_event *ev)
{
	struct plan_vcpu *v = &p->v[id];
	v->blocked = false;
	v->stopped = false;
	if (cpu < SCHED_MAX_CPUS)
		v->cpu = (uint8_t)cpu;
	if (v->created) {
		put(ev, SCHED_EV_WOKEN, cpu, id, v->dom, p->now);
		return 1;
	}
	v->created = true;
	v->fresh = true;
	put(ev, SCHED_EV_CREATED, cpu, id, v->dom, p->now);
	ev->hard = v->hard;
	ev->soft = v->soft;
	return 1;
}

uint32_t plan_event(struct plan *p, const struct sched_ring_event *re,
                    struct sched_event ev[PLAN_EVENTS_MAX])
{
	uint32_t n = 0;
	p->st.events++;
	if (re->now > p->now)
		p->now = re->now;
	/* The policy's timer first: the event may depend on what it refills. */
	if (p->timer != 0 && p->timer <= p->now) {
		put(&ev[n++], SCHED_EV_TIMER, 0, SCHED_NO_VCPU, 0, p->now);
		p->timer = 0;
		p->st.timers++;
	}
	uint32_t id = SCHED_NO_VCPU;
	switch (re->kind) {
	case SCHED_RING_STARTED:
	case SCHED_RING_WOKEN:
	case SCHED_RING_BLOCKED:
	case SCHED_RING_STOPPED:
		id = plan_find(p, re->partition, re->vcpu);
		if (id == SCHED_NO_VCPU) {
			p->st.ignored++;
			return n;
		}
		break;
	default:
		break;
	}
	struct plan_vcpu *v = id != SCHED_NO_VCPU ? &p->v[id] : NULL;
	switch (re->kind) {
	case SCHED_RING_STARTED:
	case SCHED_RING_WOKEN:
		return n + runnable(p, id, re->cpu, &ev[n]);
	case SCHED_RING_BLOCKED:
		if (!v->created)
			n += runnable(p, id, re->cpu, &ev[n]);
		v->blocked = true;
		put(&ev[n++], SCHED_EV_BLOCKED, re->cpu, id, v->dom, p->now);
		return n;
	case SCHED_RING_STOPPED:
		v->stopped = true;
		v->blocked = true;
		if (!v->created)
			return n;
		v->created = false;
		v->fresh = false;
		put(&ev[n++], SCHED_EV_STOPPED, re->cpu, id, v->dom, p->now);
		return n;
	case SCHED_RING_SLICE_END:
		p->st.slice_ends++;
		return n + cpu_event(p, re, SCHED_EV_SLICE_END, &ev[n]);
	case SCHED_RING_BUDGET:
		/* The kernel took it off for its budget: for the policy, its slice ended. */
		p->st.budgets++;
		return n + cpu_event(p, re, SCHED_EV_SLICE_END, &ev[n]);
	case SCHED_RING_IDLE:
		return n + cpu_event(p, re, SCHED_EV_CPU_IDLE, &ev[n]);
	default:
		p->st.ignored++;
		return n;
	}
}

static void set(struct plan *p, struct plan_set *s, uint32_t id, uint32_t cpu, uint32_t flags,
                uint64_t slice)
{
	const struct plan_vcpu *v = &p->v[id];
	s->vcpu = id;
	s->cpu = cpu;
	s->prio_flags = p->prio | flags;
	s->slice = slice;
	s->budget = v->budget;
	s->period = v->period;
}

uint32_t plan_answer(struct plan *p, const struct sched_out *out,
                     struct plan_set sets[PLAN_SETS_MAX])
{
	uint32_t n = 0;
	/* Per vCPU id, one bit each (SCHED_MAX_VCPUS is 32): no arrays to clear per answer. */
	uint32_t idle_left = 0, ran = 0;
	p->timer = out->timer;
	for (uint32_t i = 0; i < out->count && i < SCHED_OUT_MAX; i++) {
		const struct sched_decision *d = &out->d[i];
		uint32_t id = d->vcpu;
		bool known = id < p->vcpu_count;
		switch (d->kind) {
		case SCHED_DEC_RUN: {
			if (!known || d->cpu >= SCHED_MAX_CPUS ||
			    !sched_mask_has(p->v[id].hard, d->cpu))
				break;
			/* A slice the kernel cannot time is rounded up to what it can. */
			uint64_t slice = d->slice;
			if (slice != 0 && slice < SCHED_TIME_MIN)
				slice = SCHED_TIME_MIN;
			if (slice > SCHED_TIME_MAX)
				slice = SCHED_TIME_MAX;
			for (uint32_t c = 0; c < SCHED_MAX_CPUS; c++)
				if (p->on_cpu[c] == id)
					p->on_cpu[c] = SCHED_NO_VCPU;
			p->on_cpu[d->cpu] = (uint16_t)id;
			p->v[id].cpu = d->cpu;
			p->v[id].held = false;
			p->v[id].fresh = false;
			ran |= 1u << id;
			set(p, &sets[n++], id, d->cpu, SCHED_SET_NOW, slice);
			p->st.runs++;
			break;
		}
		case SCHED_DEC_IDLE:
			if (d->cpu >= SCHED_MAX_CPUS)
				break;
			if (p->on_cpu[d->cpu] < SCHED_MAX_VCPUS)
				idle_left |= 1u << p->on_cpu[d->cpu];
			p->on_cpu[d->cpu] = SCHED_NO_VCPU;
			p->st.idles++;
			break;
		case SCHED_DEC_PARK:
			if (known)
				p->v[id].capped = true;
			p->st.parks++;
			break;
		case SCHED_DEC_UNPARK:
			if (known)
				p->v[id].capped = false;
			p->st.unparks++;
			break;
		default:
			break;
		}
	}
	/*
	 * Hold what the policy does not run: a vCPU it just learnt of and did not run, one whose
	 * CPU it idled while it is still runnable. Not one parked for a cap (its budget holds it),
	 * nor one that waits (its wake-up must not wait for the policy).
	 */
	for (uint32_t id = 0; id < p->vcpu_count; id++) {
		struct plan_vcpu *v = &p->v[id];
		bool ran_id = (ran >> id) & 1u, left_id = (idle_left >> id) & 1u;
		bool hold = p->hold && !ran_id && (v->fresh || left_id) && v->created &&
		            !v->blocked && !v->capped && !v->held && v->cpu != PLAN_NO_CPU;
		/* One it learnt of and does not run yet takes its priority, to wait as an equal. */
		bool adopt = v->fresh && !ran_id && v->cpu != PLAN_NO_CPU;
		/* One the kernel has outside its hard affinity waits on a CPU inside it. */
		bool astray = v->created && !ran_id && v->cpu != PLAN_NO_CPU &&
		              !sched_mask_has(v->hard, v->cpu);
		if (astray) {
			v->cpu = (uint8_t)__builtin_ctz(v->hard);
			for (uint32_t c = 0; c < SCHED_MAX_CPUS; c++)
				if (p->on_cpu[c] == id)
					p->on_cpu[c] = SCHED_NO_VCPU;
			hold = p->hold && !v->blocked && !v->capped;
			adopt = !hold;
		}
		v->fresh = false;
		if (hold) {
			v->held = true;
			set(p, &sets[n++], id, v->cpu, SCHED_SET_PARK, 0);
			p->st.holds++;
		} else if (adopt) {
			set(p, &sets[n++], id, v->cpu, 0, PLAN_QUEUED_SLICE);
		}
	}
	return n;
}

bool plan_all_stopped(const struct plan *p)
{
	if (p->vcpu_count == 0)
		return false;
	for (uint32_t i = 0; i < p->vcpu_count; i++)
		if (!p->v[i].stopped)
			return false;
	return true;
}
