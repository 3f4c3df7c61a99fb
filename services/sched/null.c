/**
 * The null policy (see null.h). Every operation is a bounded scan over at most
 * SCHED_MAX_CPUS CPUs or SCHED_MAX_VCPUS vCPUs.
 *
 *   cpu_vcpu[]:  cpu0 -> v3   cpu1 -> v0   cpu2 -> (free)   ...
 *   wait[]:      v5, v7       (FIFO, oldest first; never run)
 */
#include "null.h"

#include <string.h>

#define NO_CPU 0xffu

static void trace(struct null_sched *s, uint32_t id, uint32_t d0, uint32_t d1, uint64_t now)
{
	struct null_trace *t = &s->trace[s->trace_count % NULL_TRACE_MAX];
	t->id = id;
	t->d0 = d0;
	t->d1 = d1;
	t->pad = 0;
	t->now = now;
	s->trace_count++;
}

void null_init(struct null_sched *s, sched_cpumask_t cpus)
{
	memset(s, 0, sizeof(*s));
	s->online = cpus & ((1u << SCHED_MAX_CPUS) - 1u);
	for (uint32_t c = 0; c < SCHED_MAX_CPUS; c++)
		s->cpu_vcpu[c] = SCHED_NO_VCPU;
	for (uint32_t v = 0; v < SCHED_MAX_VCPUS; v++)
		s->vcpu[v].cpu = NO_CPU;
}

static sched_cpumask_t free_cpus(const struct null_sched *s)
{
	sched_cpumask_t m = 0;
	for (uint32_t c = 0; c < SCHED_MAX_CPUS; c++)
		if (sched_mask_has(s->online, c) && s->cpu_vcpu[c] == SCHED_NO_VCPU)
			m |= 1u << c;
	return m;
}

static uint32_t first_cpu(sched_cpumask_t m)
{
	for (uint32_t c = 0; c < SCHED_MAX_CPUS; c++)
		if (sched_mask_has(m, c))
			return c;
	return NO_CPU;
}

/**
 * Xen's pick_cpu: soft affinity first (skipped when it restricts nothing), then hard; within
 * a step keep `prefer` (the vCPU's previous CPU) if it is free and allowed, else the first.
 */
static uint32_t pick_cpu(const struct null_sched *s, const struct null_vcpu *v, uint32_t prefer)
{
	sched_cpumask_t avail = free_cpus(s) & v->hard;
	const sched_cpumask_t steps[2] = { avail & v->soft, avail };
	for (uint32_t i = 0; i < 2; i++) {
		if (steps[i] == 0)
			continue;
		if (prefer < SCHED_MAX_CPUS && sched_mask_has(steps[i], prefer))
			return prefer;
		return first_cpu(steps[i]);
	}
	return NO_CPU;
}

static void run_decision(struct null_sched *s, uint32_t cpu, uint64_t now, struct sched_out *out)
{
	uint32_t v = s->cpu_vcpu[cpu];
	if (v != SCHED_NO_VCPU && s->vcpu[v].runnable) {
		sched_out_push(out, SCHED_DEC_RUN, cpu, v, 0);
		trace(s, NULL_TRC_SCHEDULE, cpu, v, now);
	} else {
		sched_out_push(out, SCHED_DEC_IDLE, cpu, SCHED_NO_VCPU, 0);
		trace(s, NULL_TRC_SCHEDULE, cpu, SCHED_NO_VCPU, now);
	}
}

static void assign(struct null_sched *s, uint32_t v, uint32_t cpu, uint64_t now,
                   struct sched_out *out)
{
	s->cpu_vcpu[cpu] = (uint16_t)v;
	s->vcpu[v].cpu = (uint8_t)cpu;
	trace(s, NULL_TRC_ASSIGN, v, cpu, now);
	run_decision(s, cpu, now, out);
}

static void wait_remove(struct null_sched *s, uint32_t v)
{
	uint32_t j = 0;
	for (uint32_t i = 0; i < s->wait_count; i++)
		if (s->wait[i] != v)
			s->wait[j++] = s->wait[i];
	s->wait_count = j;
}

/** Places v (not assigned, not waiting): a free CPU or the tail of the waitqueue. */
static void place(struct null_sched *s, uint32_t v, uint32_t prefer, uint64_t now,
                  struct sched_out *out)
{
	uint32_t cpu = pick_cpu(s, &s->vcpu[v], prefer);
	trace(s, NULL_TRC_PICKED_CPU, v, cpu, now);
	if (cpu == NO_CPU) {
		s->vcpu[v].cpu = NO_CPU;
		s->wait[s->wait_count++] = (uint16_t)v;
		return;
	}
	assign(s, v, cpu, now, out);
}

/** A CPU became free: the oldest waiter whose soft affinity has it, else whose hard has it. */
static void cpu_freed(struct null_sched *s, uint32_t cpu, uint64_t now, struct sched_out *out)
{
	for (uint32_t step = 0; step < 2; step++) {
		for (uint32_t i = 0; i < s->wait_count; i++) {
			const struct null_vcpu *w = &s->vcpu[s->wait[i]];
			/* Step 1 counts only soft affinities that restrict the hard one. */
			bool soft = ((w->hard & s->online) & ~w->soft) != 0;
			sched_cpumask_t m = step == 0 ? (soft ? w->hard & w->soft : 0) : w->hard;
			if (sched_mask_has(m, cpu)) {
				uint32_t v = s->wait[i];
				wait_remove(s, v);
				assign(s, v, cpu, now, out);
				return;
			}
		}
	}
	run_decision(s, cpu, now, out);
}

/** Takes v off its CPU or out of the waitqueue; returns the CPU it held or NO_CPU. */
static uint32_t unplace(struct null_sched *s, uint32_t v, uint64_t now)
{
	uint32_t cpu = s->vcpu[v].cpu;
	if (cpu == NO_CPU) {
		wait_remove(s, v);
		return NO_CPU;
	}
	s->cpu_vcpu[cpu] = SCHED_NO_VCPU;
	s->vcpu[v].cpu = NO_CPU;
	trace(s, NULL_TRC_DEASSIGN, v, cpu, now);
	return cpu;
}

static int ev_cpu_add(struct null_sched *s, uint32_t cpu, uint64_t now, struct sched_out *out)
{
	if (sched_mask_has(s->online, cpu))
		return SCHED_EEXIST;
	s->online |= 1u << cpu;
	cpu_freed(s, cpu, now, out);
	return SCHED_OK;
}

static int ev_cpu_remove(struct null_sched *s, uint32_t cpu, uint64_t now, struct sched_out *out)
{
	if (!sched_mask_has(s->online, cpu))
		return SCHED_ENOENT;
	uint32_t v = s->cpu_vcpu[cpu];
	if (v != SCHED_NO_VCPU) {
		unplace(s, v, now);
		s->online &= ~(1u << cpu);
		sched_out_push(out, SCHED_DEC_IDLE, cpu, SCHED_NO_VCPU, 0);
		place(s, v, NO_CPU, now, out);
	} else {
		s->online &= ~(1u << cpu);
		sched_out_push(out, SCHED_DEC_IDLE, cpu, SCHED_NO_VCPU, 0);
	}
	return SCHED_OK;
}

int null_event(struct null_sched *s, const struct sched_event *ev, struct sched_out *out)
{
	sched_out_reset(out);
	uint32_t v = ev->vcpu, cpu = ev->cpu;
	bool vcpu_ok = v < SCHED_MAX_VCPUS && s->vcpu[v].exists;
	bool cpu_ok = cpu < SCHED_MAX_CPUS;

	switch (ev->kind) {
	case SCHED_EV_CREATED:
		if (v >= SCHED_MAX_VCPUS || ev->dom >= SCHED_MAX_DOMS)
			return SCHED_EINVAL;
		if (s->vcpu[v].exists)
			return SCHED_EEXIST;
		if (ev->hard != 0 && (ev->hard & s->online) == 0)
			return SCHED_EINVAL;
		s->vcpu[v] = (struct null_vcpu){ .exists = true,
			                         .runnable = true,
			                         .cpu = NO_CPU,
			                         .dom = (uint8_t)ev->dom,
			                         .hard = ev->hard != 0 ? ev->hard : ~0u,
			                         .soft = ev->soft != 0 ? ev->soft : ~0u };
		place(s, v, NO_CPU, ev->now, out);
		return SCHED_OK;
	case SCHED_EV_WOKEN:
	case SCHED_EV_BLOCKED:
		if (!vcpu_ok)
			return SCHED_EINVAL;
		s->vcpu[v].runnable = ev->kind == SCHED_EV_WOKEN;
		/* A waiter's wake-up does nothing: it has no CPU. */
		if (s->vcpu[v].cpu != NO_CPU)
			run_decision(s, s->vcpu[v].cpu, ev->now, out);
		return SCHED_OK;
	case SCHED_EV_STOPPED:
		if (!vcpu_ok)
			return SCHED_EINVAL;
		cpu = unplace(s, v, ev->now);
		s->vcpu[v].exists = false;
		s->vcpu[v].runnable = false;
		if (cpu != NO_CPU)
			cpu_freed(s, cpu, ev->now, out);
		return SCHED_OK;
	case SCHED_EV_SLICE_END:
	case SCHED_EV_CPU_IDLE:
		if (!cpu_ok || !sched_mask_has(s->online, cpu))
			return SCHED_EINVAL;
		run_decision(s, cpu, ev->now, out);
		return SCHED_OK;
	case SCHED_EV_CPU_ADD:
		return cpu_ok ? ev_cpu_add(s, cpu, ev->now, out) : SCHED_EINVAL;
	case SCHED_EV_CPU_REMOVE:
		return cpu_ok ? ev_cpu_remove(s, cpu, ev->now, out) : SCHED_EINVAL;
	case SCHED_EV_TIMER:
		return SCHED_OK;
	default:
		return SCHED_EINVAL;
	}
}

int null_set_affinity(struct null_sched *s, uint32_t v, sched_cpumask_t hard, sched_cpumask_t soft,
                      uint64_t now, struct sched_out *out)
{
	sched_out_reset(out);
	if (v >= SCHED_MAX_VCPUS || !s->vcpu[v].exists)
		return SCHED_ENOENT;
	if ((hard & s->online) == 0)
		return SCHED_EINVAL;
	struct null_vcpu *nv = &s->vcpu[v];
	nv->hard = hard;
	nv->soft = soft;
	uint32_t old = nv->cpu;
	if (old == NO_CPU) {
		/* A waiter takes a free CPU its new affinity allows, else keeps its place. */
		uint32_t cpu = pick_cpu(s, nv, NO_CPU);
		if (cpu != NO_CPU) {
			wait_remove(s, v);
			trace(s, NULL_TRC_MIGRATE, v, (cpu << 16) | 0xffu, now);
			assign(s, v, cpu, now, out);
		}
		return SCHED_OK;
	}
	/*
	 * pick_cpu as for a migration, with its own CPU counted free: it stays if that CPU is
	 * still the soft (then hard) choice, else moves to a free one, else waits; the CPU it
	 * leaves goes to the waitqueue.
	 */
	s->cpu_vcpu[old] = SCHED_NO_VCPU;
	uint32_t cpu = pick_cpu(s, nv, old);
	if (cpu == old) {
		s->cpu_vcpu[old] = (uint16_t)v;
		return SCHED_OK;
	}
	s->cpu_vcpu[old] = (uint16_t)v;
	unplace(s, v, now);
	trace(s, NULL_TRC_MIGRATE, v, (cpu << 16) | old, now);
	if (cpu == NO_CPU)
		s->wait[s->wait_count++] = (uint16_t)v;
	else
		assign(s, v, cpu, now, out);
	cpu_freed(s, old, now, out);
	return SCHED_OK;
}

bool null_trace_get(const struct null_sched *s, uint32_t i, struct null_trace *t)
{
	uint32_t kept = s->trace_count;
	if (kept > NULL_TRACE_MAX)
		kept = NULL_TRACE_MAX;
	if (i >= kept)
		return false;
	uint32_t first = s->trace_count - kept;
	*t = s->trace[(first + i) % NULL_TRACE_MAX];
	return true;
}
