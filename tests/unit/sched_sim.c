/** The scheduling simulator (see sched_sim.h). */
#include "sched_sim.h"

#include <string.h>

static void violation(struct sim *m, const char *what)
{
	if (m->violations++ == 0)
		m->first_violation = what;
}

static void sim_reset(struct sim *m, uint32_t kind, uint32_t cpu_count)
{
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->cpu_count = cpu_count;
	m->slice_min = UINT64_MAX;
	for (uint32_t c = 0; c < SCHED_MAX_CPUS; c++)
		m->cpu[c].vcpu = SCHED_NO_VCPU;
}

static sched_cpumask_t all_cpus(uint32_t n)
{
	return n >= 32 ? ~0u : (1u << n) - 1u;
}

void sim_init_null(struct sim *m, uint32_t cpu_count)
{
	sim_reset(m, SIM_NULL, cpu_count);
	null_init(&m->p.null, all_cpus(cpu_count));
}

/** Two SMT threads per core, two cores per socket, one socket per node. */
int sim_init_credit2(struct sim *m, uint32_t cpu_count, uint32_t layout)
{
	struct sched_topology t;
	memset(&t, 0, sizeof(t));
	t.cpu_count = cpu_count;
	for (uint32_t c = 0; c < cpu_count && c < SCHED_MAX_CPUS; c++) {
		t.core[c] = (uint8_t)(c / 2);
		t.socket[c] = (uint8_t)(c / 4);
		t.node[c] = (uint8_t)(c / 4);
	}
	sim_reset(m, SIM_CREDIT2, cpu_count);
	return c2_init(&m->p.c2, &t, all_cpus(cpu_count), layout);
}

int sim_where(const struct sim *m, uint32_t vcpu)
{
	for (uint32_t c = 0; c < SCHED_MAX_CPUS; c++)
		if (m->cpu[c].vcpu == vcpu)
			return (int)c;
	return -1;
}

/** Applies one answer, then checks the invariants of sched_sim.h. */
static void apply(struct sim *m)
{
	const struct sched_out *o = &m->out;
	if (o->dropped != 0)
		violation(m, "answer overflowed");
	for (uint32_t i = 0; i < o->count && i < SCHED_OUT_MAX; i++) {
		const struct sched_decision *d = &o->d[i];
		if (d->kind != SCHED_DEC_RUN && d->kind != SCHED_DEC_IDLE)
			continue;
		if (d->cpu >= m->cpu_count) {
			violation(m, "decision for a CPU that does not exist");
			continue;
		}
		struct sim_cpu *c = &m->cpu[d->cpu];
		uint16_t before = c->vcpu;
		if (d->kind == SCHED_DEC_IDLE) {
			c->vcpu = SCHED_NO_VCPU;
			c->slice_end = 0;
		} else {
			if (d->vcpu >= SCHED_MAX_VCPUS) {
				violation(m, "RUN of a vCPU out of range");
				continue;
			}
			c->vcpu = d->vcpu;
			c->slice_end = d->slice ? m->now + d->slice : 0;
			if (d->slice != 0) {
				if (d->slice < m->slice_min)
					m->slice_min = d->slice;
				if (d->slice > m->slice_max)
					m->slice_max = d->slice;
			}
		}
		if (before != c->vcpu && c->vcpu != SCHED_NO_VCPU)
			m->switches++;
	}
	if (o->timer != 0)
		m->timer = o->timer;
	for (uint32_t c = 0; c < m->cpu_count; c++) {
		uint16_t v = m->cpu[c].vcpu;
		if (v == SCHED_NO_VCPU)
			continue;
		const struct sim_vcpu *sv = &m->vcpu[v];
		if (!sv->exists || !sv->runnable)
			violation(m, "a CPU runs a vCPU that is not runnable");
		if (!sched_mask_has(sv->hard, c))
			violation(m, "a vCPU runs outside its hard affinity");
		for (uint32_t d = c + 1; d < m->cpu_count; d++)
			if (m->cpu[d].vcpu == v)
				violation(m, "a vCPU runs on two CPUs");
		if (m->kind == SIM_NULL && m->p.null.cpu_vcpu[c] != v)
			violation(m, "null runs a vCPU on a CPU not assigned to it");
	}
	if (m->kind == SIM_NULL) {
		for (uint32_t i = 0; i < m->p.null.wait_count; i++)
			if (sim_where(m, m->p.null.wait[i]) >= 0)
				violation(m, "null runs a waiting vCPU");
	}
}

static int policy_event(struct sim *m, const struct sched_event *ev)
{
	if (m->kind == SIM_NULL)
		return null_event(&m->p.null, ev, &m->out);
	return c2_event(&m->p.c2, ev, &m->out);
}

int sim_event(struct sim *m, uint32_t kind, uint32_t cpu, uint32_t vcpu, uint32_t dom)
{
	struct sched_event ev = {
		.kind = kind, .cpu = cpu, .vcpu = vcpu, .dom = dom, .now = m->now
	};
	int rc = policy_event(m, &ev);
	apply(m);
	return rc;
}

int sim_create(struct sim *m, uint32_t v, uint32_t dom, uint64_t run_ns, uint64_t sleep_ns)
{
	if (v >= SCHED_MAX_VCPUS)
		return SCHED_EINVAL;
	struct sim_vcpu saved = m->vcpu[v];
	struct sim_vcpu *sv = &m->vcpu[v];
	if (!sv->exists) {
		memset(sv, 0, sizeof(*sv));
		sv->exists = true;
		sv->runnable = true;
		sv->dom = dom;
		sv->hard = ~0u;
		sv->run_ns = run_ns;
		sv->sleep_ns = sleep_ns;
		sv->burst_left = run_ns;
		sv->wait_start = m->now;
	}
	int rc = sim_event(m, SCHED_EV_CREATED, 0, v, dom);
	if (rc != SCHED_OK)
		*sv = saved;
	return rc;
}

int sim_affinity(struct sim *m, uint32_t v, sched_cpumask_t hard, sched_cpumask_t soft)
{
	int rc;
	if (m->kind == SIM_NULL)
		rc = null_set_affinity(&m->p.null, v, hard, soft, m->now, &m->out);
	else
		rc = c2_set_affinity(&m->p.c2, v, hard, soft, m->now, &m->out);
	if (rc == SCHED_OK)
		m->vcpu[v].hard = hard;
	apply(m);
	return rc;
}

int sim_set_dom(struct sim *m, uint32_t dom, uint32_t weight, uint32_t cap)
{
	if (m->kind != SIM_CREDIT2)
		return SCHED_EINVAL;
	int rc = c2_set_dom(&m->p.c2, dom, weight, cap, m->now, &m->out);
	if (rc == SCHED_OK && dom < SCHED_MAX_DOMS) {
		struct sim_dom *d = &m->dom[dom];
		if (cap != 0 && !d->capped) {
			d->capped = true;
			d->cap_origin = m->now;
			d->win_end = m->now + C2_CAP_PERIOD;
			d->win_ran = 0;
			d->win_max = 0;
		} else if (cap == 0) {
			d->capped = false;
		}
	}
	apply(m);
	return rc;
}

/**
 * Adds run time to a domain. The clock stops at every cap period boundary (next_time), so an
 * interval never straddles one and close_windows() runs once every CPU has been accounted.
 */
static void account_dom(struct sim *m, uint32_t dom, uint64_t from, uint64_t to)
{
	struct sim_dom *d = &m->dom[dom];
	d->ran += to - from;
	if (d->capped)
		d->win_ran += to - from;
}

static void close_windows(struct sim *m)
{
	for (uint32_t d = 0; d < SCHED_MAX_DOMS; d++) {
		struct sim_dom *sd = &m->dom[d];
		while (sd->capped && sd->win_end <= m->now) {
			if (sd->win_ran > sd->win_max)
				sd->win_max = sd->win_ran;
			sd->win_ran = 0;
			sd->win_end += C2_CAP_PERIOD;
		}
	}
}

/** Moves the clock to t, accounting the running vCPUs. */
static void advance(struct sim *m, uint64_t t)
{
	for (uint32_t c = 0; c < m->cpu_count; c++) {
		uint16_t v = m->cpu[c].vcpu;
		if (v == SCHED_NO_VCPU)
			continue;
		struct sim_vcpu *sv = &m->vcpu[v];
		sv->ran += t - m->now;
		sv->cpus_seen |= 1u << c;
		if (sv->run_ns != 0)
			sv->burst_left -= t - m->now;
		account_dom(m, sv->dom, m->now, t);
	}
	m->now = t;
	close_windows(m);
	for (uint32_t v = 0; v < SCHED_MAX_VCPUS; v++) {
		struct sim_vcpu *sv = &m->vcpu[v];
		if (!sv->exists)
			continue;
		if (!sv->runnable || sim_where(m, (uint32_t)v) >= 0)
			sv->wait_start = t;
		else if (t - sv->wait_start > sv->max_wait)
			sv->max_wait = t - sv->wait_start;
	}
}

static uint64_t next_time(const struct sim *m, uint64_t limit)
{
	uint64_t t = limit;
	for (uint32_t c = 0; c < m->cpu_count; c++) {
		const struct sim_cpu *sc = &m->cpu[c];
		if (sc->vcpu == SCHED_NO_VCPU)
			continue;
		if (sc->slice_end != 0 && sc->slice_end < t)
			t = sc->slice_end;
		const struct sim_vcpu *sv = &m->vcpu[sc->vcpu];
		if (sv->run_ns != 0 && m->now + sv->burst_left < t)
			t = m->now + sv->burst_left;
	}
	for (uint32_t v = 0; v < SCHED_MAX_VCPUS; v++) {
		const struct sim_vcpu *sv = &m->vcpu[v];
		if (sv->exists && !sv->runnable && sv->wake_at < t)
			t = sv->wake_at;
	}
	if (m->timer != 0 && m->timer < t)
		t = m->timer;
	for (uint32_t d = 0; d < SCHED_MAX_DOMS; d++)
		if (m->dom[d].capped && m->dom[d].win_end < t)
			t = m->dom[d].win_end;
	return t < m->now ? m->now : t;
}

void sim_run(struct sim *m, uint64_t ns)
{
	uint64_t end = m->now + ns;
	/* Bounded: every iteration either advances the clock or delivers an event. */
	for (uint32_t guard = 0; guard < 100000000u && m->now < end; guard++) {
		uint64_t t = next_time(m, end);
		advance(m, t);
		/* Bursts that ended block first, then slices, the timer, and wake-ups. */
		for (uint32_t c = 0; c < m->cpu_count; c++) {
			uint16_t v = m->cpu[c].vcpu;
			if (v == SCHED_NO_VCPU)
				continue;
			struct sim_vcpu *sv = &m->vcpu[v];
			if (sv->run_ns != 0 && sv->burst_left == 0) {
				sv->runnable = false;
				sv->wake_at = t + sv->sleep_ns;
				sv->burst_left = sv->run_ns;
				sim_event(m, SCHED_EV_BLOCKED, c, v, 0);
			}
		}
		for (uint32_t c = 0; c < m->cpu_count; c++)
			if (m->cpu[c].vcpu != SCHED_NO_VCPU && m->cpu[c].slice_end != 0 &&
			    m->cpu[c].slice_end <= t)
				sim_event(m, SCHED_EV_SLICE_END, c, 0, 0);
		if (m->timer != 0 && m->timer <= t) {
			m->timer = 0;
			sim_event(m, SCHED_EV_TIMER, 0, 0, 0);
		}
		for (uint32_t v = 0; v < SCHED_MAX_VCPUS; v++) {
			struct sim_vcpu *sv = &m->vcpu[v];
			if (sv->exists && !sv->runnable && sv->wake_at <= t) {
				sv->runnable = true;
				sv->wait_start = t;
				sim_event(m, SCHED_EV_WOKEN, 0, v, 0);
			}
		}
	}
}
