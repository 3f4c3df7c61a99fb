/**
 * Credit2 (see credit2.h and spec section 1). One call handles one event or control:
 *
 *   charge every running vCPU up to `now` (credit burn, cap budget), refill due cap pools,
 *   apply the event, then schedule every CPU marked in `resched`:
 *
 *      cpu --rq--> runqueue { cpus, load }  <--rq-- vCPUs (credit, budget, state)
 *
 * The runqueue is not kept sorted: the candidate of highest credit (oldest first among equal
 * credit) is found by a scan over at most SCHED_MAX_VCPUS entries, which picks the same vCPU
 * as Xen's sorted list. Deviation from Xen, on purpose: at each cap period boundary the budget
 * the domain's vCPUs still hold goes back before the pool is refilled, so a domain never runs
 * more than its cap in any period (Xen lets held budget spill into the next period).
 */
#include "credit2.h"

#include <string.h>

#define NO_CPU 0xffu
#define DELTA_MAX (1ull << 40) /* one charge; keeps delta * weight within 64 bits */

struct ctx {
	struct c2_sched *s;
	struct sched_out *out;
	sched_cpumask_t resched;
	uint64_t now;
};

static bool valid_layout(uint32_t layout)
{
	return layout <= C2_RQ_ALL;
}

static uint32_t rq_of_cpu(const struct c2_sched *s, uint32_t cpu)
{
	switch (s->layout) {
	case C2_RQ_CPU:
		return cpu;
	case C2_RQ_CORE:
		return s->topo.core[cpu];
	case C2_RQ_SOCKET:
		return s->topo.socket[cpu];
	case C2_RQ_NODE:
		return s->topo.node[cpu];
	default:
		return 0;
	}
}

static void build_rqs(struct c2_sched *s)
{
	for (uint32_t r = 0; r < SCHED_MAX_CPUS; r++)
		s->rq[r].cpus = 0;
	for (uint32_t c = 0; c < SCHED_MAX_CPUS; c++) {
		s->cpu[c].rq = (uint8_t)rq_of_cpu(s, c < s->topo.cpu_count ? c : 0);
		if (sched_mask_has(s->online, c))
			s->rq[s->cpu[c].rq].cpus |= 1u << c;
	}
}

int c2_init(struct c2_sched *s, const struct sched_topology *topo, sched_cpumask_t cpus,
            uint32_t layout)
{
	if (!valid_layout(layout) || topo->cpu_count == 0 || topo->cpu_count > SCHED_MAX_CPUS)
		return SCHED_EINVAL;
	for (uint32_t c = 0; c < topo->cpu_count; c++)
		if (topo->core[c] >= SCHED_MAX_CPUS || topo->socket[c] >= SCHED_MAX_CPUS ||
		    topo->node[c] >= SCHED_MAX_CPUS)
			return SCHED_EINVAL;
	sched_cpumask_t all = (1u << topo->cpu_count) - 1u;
	if ((cpus & all) == 0)
		return SCHED_EINVAL;
	memset(s, 0, sizeof(*s));
	s->topo = *topo;
	s->layout = layout;
	s->ratelimit_us = C2_RATELIMIT_DEFAULT_US;
	s->online = cpus & all;
	for (uint32_t c = 0; c < SCHED_MAX_CPUS; c++)
		s->cpu[c].cur = SCHED_NO_VCPU;
	for (uint32_t d = 0; d < SCHED_MAX_DOMS; d++)
		s->dom[d].weight = C2_WEIGHT_DEFAULT;
	build_rqs(s);
	return SCHED_OK;
}

int c2_set_layout(struct c2_sched *s, uint32_t layout)
{
	if (!valid_layout(layout))
		return SCHED_EINVAL;
	for (uint32_t v = 0; v < s->vcpu_end; v++)
		if (s->vcpu[v].state != C2_NONE)
			return SCHED_EBUSY;
	s->layout = layout;
	build_rqs(s);
	return SCHED_OK;
}

int c2_set_ratelimit(struct c2_sched *s, uint32_t us)
{
	if (us != 0 && (us < 100 || us > 500000))
		return SCHED_EINVAL;
	s->ratelimit_us = us;
	return SCHED_OK;
}

static uint32_t max_weight(const struct c2_sched *s, uint32_t rq)
{
	uint32_t m = 1;
	for (uint32_t v = 0; v < s->vcpu_end; v++) {
		const struct c2_vcpu *x = &s->vcpu[v];
		if (x->state != C2_NONE && x->rq == rq && s->dom[x->dom].weight > m)
			m = s->dom[x->dom].weight;
	}
	return m;
}

static bool has_cap(const struct c2_sched *s, const struct c2_vcpu *v)
{
	return s->dom[v->dom].cap != 0;
}

/** Soft affinity counts only when it restricts the hard affinity and meets it. */
static bool soft_restricts(const struct c2_sched *s, const struct c2_vcpu *v)
{
	sched_cpumask_t hard = v->hard & s->online;
	return (hard & v->soft) != 0 && (hard & ~v->soft) != 0;
}

/** Running delta ns costs delta * max_weight / weight credit; the remainder is carried. */
static void burn(struct c2_sched *s, struct c2_vcpu *v, uint64_t delta)
{
	uint64_t w = s->dom[v->dom].weight;
	uint64_t num = delta * max_weight(s, v->rq) + v->burn_rem;
	v->credit -= (int64_t)(num / w);
	v->burn_rem = num % w;
	/* Never below the idle vCPU's credit (-2^30 in Xen): keeps the arithmetic bounded. */
	if (v->credit < C2_IDLE_CREDIT)
		v->credit = C2_IDLE_CREDIT;
	if (has_cap(s, v))
		v->budget -= (int64_t)delta;
}

static void reset_credit(struct c2_sched *s, uint32_t rq, int64_t head);

/**
 * Charges every running vCPU up to now. One found running more than MAX_TIMER past the end
 * of the slice it was given ran alone: the kernel ends a slice within microseconds while
 * another vCPU waits for the CPU, and not at all for a lone runner (no tick). Xen's timer
 * would have ended it, picked it again and, its credit spent, reset the runqueue's credit;
 * that is done here, once, with the catch-up of the reset's m, so that a vCPU coming back
 * from a long run alone does not owe all of it to the vCPUs it meets next (they would run
 * alone for about as long as it did).
 */
static void charge_all(struct c2_sched *s, uint64_t now)
{
	/* Online CPUs only: one that joins starts its account then (cpu_add). */
	for (sched_cpumask_t m = s->online; m != 0; m &= m - 1u) {
		uint32_t c = (uint32_t)__builtin_ctz(m);
		struct c2_cpu *pc = &s->cpu[c];
		uint64_t delta = now - pc->charged_to;
		if (delta > DELTA_MAX)
			delta = DELTA_MAX;
		if (pc->cur != SCHED_NO_VCPU) {
			struct c2_vcpu *v = &s->vcpu[pc->cur];
			burn(s, v, delta);
			if (now > pc->slice_end + (uint64_t)C2_MAX_TIMER && v->credit <= 0)
				reset_credit(s, v->rq, v->credit);
		}
		pc->charged_to = now;
	}
}

/** avg += (inst - avg) * delta / 2^30, or avg = inst past a whole window (18 fraction bits). */
static uint64_t decay(uint64_t avg, uint64_t inst, uint64_t delta)
{
	uint64_t target = inst << C2_LOAD_SHIFT;
	if (delta >= (1ull << C2_LOAD_WINDOW_SHIFT))
		return target;
	if (target >= avg)
		return avg + (((target - avg) * delta) >> C2_LOAD_WINDOW_SHIFT);
	return avg - (((avg - target) * delta) >> C2_LOAD_WINDOW_SHIFT);
}

static bool active(const struct c2_vcpu *v)
{
	return v->state == C2_RUNNABLE || v->state == C2_RUNNING;
}

/**
 * Runs at every event the policy decides on, so one pass over the vCPUs
 * counts each runqueue's active ones (16 passes, one per runqueue, were
 * 6,000 of the 8,700 instructions of a Credit2 decision on arm64,
 * docs/benchmarks.md "Scheduling").
 */
static void update_loads(struct c2_sched *s, uint64_t now)
{
	uint8_t n[SCHED_MAX_CPUS] = { 0 }; /* at most SCHED_MAX_VCPUS each */
	for (uint32_t v = 0; v < s->vcpu_end; v++) {
		struct c2_vcpu *x = &s->vcpu[v];
		if (x->state == C2_NONE)
			continue;
		if (active(x) && x->rq < SCHED_MAX_CPUS)
			n[x->rq]++;
		x->load = decay(x->load, active(x) ? 1 : 0, now - x->load_t);
		x->load_t = now;
	}
	for (uint32_t r = 0; r < SCHED_MAX_CPUS; r++) {
		/*
		 * A runqueue with no CPU and no load stays at 0 (nothing can be active on it):
		 * skipped; cpu_add starts its clock when it gets a CPU.
		 */
		if (s->rq[r].cpus == 0 && s->rq[r].load == 0)
			continue;
		s->rq[r].load = decay(s->rq[r].load, n[r], now - s->rq[r].load_t);
		s->rq[r].load_t = now;
	}
}

static void enqueue(struct c2_sched *s, struct c2_vcpu *v)
{
	v->state = C2_RUNNABLE;
	v->enq_seq = s->seq++;
}

/** cpu_pick: the least-loaded runqueue meeting soft affinity, else hard; ties keep v->rq. */
static void pick_rq(struct c2_sched *s, struct c2_vcpu *v)
{
	sched_cpumask_t hard = v->hard & s->online;
	const sched_cpumask_t steps[2] = { hard & v->soft, hard };
	for (uint32_t i = soft_restricts(s, v) ? 0 : 1; i < 2; i++) {
		uint32_t best = NO_CPU;
		for (uint32_t r = 0; r < SCHED_MAX_CPUS; r++) {
			if ((s->rq[r].cpus & steps[i]) == 0)
				continue;
			if (best == NO_CPU || s->rq[r].load < s->rq[best].load ||
			    (s->rq[r].load == s->rq[best].load && r == v->rq))
				best = r;
		}
		if (best != NO_CPU) {
			if (best != v->rq && v->state != C2_NONE)
				v->credit += C2_MIGRATE_BONUS;
			v->rq = (uint8_t)best;
			return;
		}
	}
}

static void unpark_dom(struct ctx *x, uint32_t dom);

/** Unused budget goes back to the pool when the vCPU stops running. */
static void return_budget(struct ctx *x, struct c2_vcpu *v)
{
	struct c2_sched *s = x->s;
	if (!has_cap(s, v) || v->budget == 0)
		return;
	s->dom[v->dom].pool += v->budget; /* a negative budget charges the overrun */
	v->budget = 0;
	/* Budget taken under a larger cap does not grow the pool past one period's. */
	if (s->dom[v->dom].pool > s->dom[v->dom].tot_budget)
		s->dom[v->dom].pool = s->dom[v->dom].tot_budget;
	if (s->dom[v->dom].pool > 0)
		unpark_dom(x, v->dom);
}

/** Takes min(quota, pool); false (to be parked) when the pool is empty. */
static bool grab_budget(struct c2_sched *s, struct c2_vcpu *v)
{
	if (!has_cap(s, v) || v->budget > 0)
		return true;
	struct c2_dom *d = &s->dom[v->dom];
	d->pool += v->budget;
	v->budget = 0;
	if (d->pool <= 0)
		return false;
	int64_t quota = d->tot_budget / (int64_t)(d->vcpu_count ? d->vcpu_count : 1);
	if (quota < C2_MIN_TIMER)
		quota = C2_MIN_TIMER;
	int64_t take = quota < d->pool ? quota : d->pool;
	d->pool -= take;
	v->budget = take;
	return true;
}

static void park(struct ctx *x, uint32_t v)
{
	x->s->vcpu[v].state = C2_PARKED;
	sched_out_push(x->out, SCHED_DEC_PARK, NO_CPU, v, 0);
}

/** The best candidate for cpu in its runqueue other than `skip`: highest credit, oldest. */
static uint32_t best_waiter(const struct c2_sched *s, uint32_t cpu, uint32_t skip)
{
	uint32_t best = SCHED_NO_VCPU;
	for (uint32_t v = 0; v < s->vcpu_end; v++) {
		const struct c2_vcpu *x = &s->vcpu[v];
		if (v == skip || x->state != C2_RUNNABLE || x->rq != s->cpu[cpu].rq ||
		    !sched_mask_has(x->hard, cpu))
			continue;
		if (best == SCHED_NO_VCPU || x->credit > s->vcpu[best].credit ||
		    (x->credit == s->vcpu[best].credit && x->enq_seq < s->vcpu[best].enq_seq))
			best = v;
	}
	return best;
}

uint64_t c2_slice(const struct c2_sched *s, uint32_t v, uint64_t ran)
{
	const struct c2_vcpu *x = &s->vcpu[v];
	int64_t target = 0;
	/* The first waiter of the runqueue (any CPU), if its credit is positive. */
	int64_t best = 0;
	bool found = false;
	for (uint32_t w = 0; w < s->vcpu_end; w++) {
		const struct c2_vcpu *y = &s->vcpu[w];
		if (w != v && y->state == C2_RUNNABLE && y->rq == x->rq &&
		    (!found || y->credit > best)) {
			best = y->credit;
			found = true;
		}
	}
	if (found && best > 0)
		target = best;
	uint64_t t = 0;
	if (x->credit > target)
		t = (uint64_t)(x->credit - target) * s->dom[x->dom].weight / max_weight(s, x->rq);
	uint64_t lo = C2_MIN_TIMER;
	uint64_t rl = (uint64_t)s->ratelimit_us * C2_US;
	if (ran < rl && rl - ran > lo)
		lo = rl - ran;
	if (t < lo)
		t = lo;
	if (t > (uint64_t)C2_MAX_TIMER)
		t = C2_MAX_TIMER;
	if (has_cap(s, x) && x->budget > 0 && (uint64_t)x->budget < t)
		t = (uint64_t)x->budget;
	return t;
}

/** Every vCPU of the runqueue gains m * CREDIT_INIT, clipped to CREDIT_INIT + carry-over. */
static void reset_credit(struct c2_sched *s, uint32_t rq, int64_t head)
{
	int64_t m = 1;
	if (head < -C2_CREDIT_INIT)
		m = 1 + (-head) / C2_CREDIT_INIT;
	for (uint32_t v = 0; v < s->vcpu_end; v++) {
		struct c2_vcpu *x = &s->vcpu[v];
		if (x->state == C2_NONE || x->rq != rq)
			continue;
		x->credit += m * C2_CREDIT_INIT;
		if (x->credit > C2_CREDIT_INIT + C2_CARRYOVER_MAX)
			x->credit = C2_CREDIT_INIT + C2_CARRYOVER_MAX;
	}
	s->resets++;
}

static bool can_move(const struct c2_sched *s, const struct c2_vcpu *v, uint32_t to)
{
	return v->state != C2_NONE && v->state != C2_RUNNING && (v->hard & s->rq[to].cpus) != 0;
}

static uint64_t absdiff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

static void move_vcpu(struct c2_sched *s, uint32_t v, uint32_t from, uint32_t to)
{
	struct c2_vcpu *x = &s->vcpu[v];
	x->rq = (uint8_t)to;
	x->credit += C2_MIGRATE_BONUS;
	s->rq[from].load = s->rq[from].load > x->load ? s->rq[from].load - x->load : 0;
	s->rq[to].load += x->load;
}

/**
 * balance_load (hard affinity only, as 4.10): pair with the runqueue whose load differs most,
 * then the push, pull or swap that leaves the smallest difference; only past the tolerance
 * (1.0, or 0.125 when the busier runqueue has more load than CPUs).
 */
static void tickle(struct ctx *x, uint32_t v);

static void balance(struct ctx *x, uint32_t rq)
{
	struct c2_sched *s = x->s;
	uint32_t other = NO_CPU;
	uint64_t diff = 0;
	for (uint32_t r = 0; r < SCHED_MAX_CPUS; r++) {
		if (r == rq || s->rq[r].cpus == 0)
			continue;
		uint64_t d = absdiff(s->rq[r].load, s->rq[rq].load);
		if (other == NO_CPU || d > diff) {
			other = r;
			diff = d;
		}
	}
	if (other == NO_CPU)
		return;
	uint32_t hi = s->rq[rq].load >= s->rq[other].load ? rq : other;
	uint32_t lo = hi == rq ? other : rq;
	bool overloaded = s->rq[hi].load >
	                  ((uint64_t)sched_mask_weight(s->rq[hi].cpus) << C2_LOAD_SHIFT);
	uint64_t tol = overloaded ? 1ull << (C2_LOAD_SHIFT - 3) : 1ull << C2_LOAD_SHIFT;
	if (diff < tol)
		return;
	uint64_t lh = s->rq[hi].load, ll = s->rq[lo].load, best = diff;
	uint32_t push = SCHED_NO_VCPU, pull = SCHED_NO_VCPU;
	for (uint32_t a = 0; a < s->vcpu_end; a++) {
		const struct c2_vcpu *va = &s->vcpu[a];
		bool a_hi = va->rq == hi && can_move(s, va, lo);
		bool a_lo = va->rq == lo && can_move(s, va, hi);
		uint64_t la = va->load;
		if (a_hi && la <= lh && absdiff(lh - la, ll + la) < best) {
			best = absdiff(lh - la, ll + la);
			push = a;
			pull = SCHED_NO_VCPU;
		}
		if (a_lo && la <= ll && absdiff(lh + la, ll - la) < best) {
			best = absdiff(lh + la, ll - la);
			push = SCHED_NO_VCPU;
			pull = a;
		}
		if (!a_hi)
			continue;
		for (uint32_t b = 0; b < s->vcpu_end; b++) {
			const struct c2_vcpu *vb = &s->vcpu[b];
			if (vb->rq != lo || !can_move(s, vb, hi) || la > lh || vb->load > ll)
				continue;
			uint64_t d = absdiff(lh - la + vb->load, ll - vb->load + la);
			if (d < best) {
				best = d;
				push = a;
				pull = b;
			}
		}
	}
	/* A moved vCPU may find an idle CPU in its new runqueue: tell it. */
	if (push != SCHED_NO_VCPU) {
		move_vcpu(s, push, hi, lo);
		if (s->vcpu[push].state == C2_RUNNABLE)
			tickle(x, push);
	}
	if (pull != SCHED_NO_VCPU) {
		move_vcpu(s, pull, lo, hi);
		if (s->vcpu[pull].state == C2_RUNNABLE)
			tickle(x, pull);
	}
	if (push != SCHED_NO_VCPU || pull != SCHED_NO_VCPU)
		s->balances++;
}

static uint64_t ratelimit_ns(const struct c2_sched *s)
{
	return (uint64_t)s->ratelimit_us * C2_US;
}

/** An idle CPU of `mask` not yet tickled, preferring one whose whole SMT core is idle. */
static uint32_t idle_cpu(const struct ctx *x, sched_cpumask_t mask)
{
	const struct c2_sched *s = x->s;
	/* Two passes over set bits only: this runs for every wake-up and slice end. */
	sched_cpumask_t busy = 0;
	for (sched_cpumask_t m = s->online & ((1u << SCHED_MAX_CPUS) - 1u); m != 0; m &= m - 1u)
		if (s->cpu[__builtin_ctz(m)].cur != SCHED_NO_VCPU)
			busy |= m & -m;
	sched_cpumask_t want = mask & ~busy & ~x->resched & ((1u << SCHED_MAX_CPUS) - 1u);
	uint32_t any = NO_CPU;
	for (; want != 0; want &= want - 1u) {
		uint32_t c = (uint32_t)__builtin_ctz(want);
		bool core_idle = true;
		for (sched_cpumask_t b = busy; b != 0 && core_idle; b &= b - 1u)
			core_idle = s->topo.core[__builtin_ctz(b)] != s->topo.core[c];
		if (core_idle)
			return c;
		if (any == NO_CPU)
			any = c;
	}
	return any;
}

/** runq_tickle: an idle CPU (soft step, then hard), else preempt the best positive score. */
static void tickle(struct ctx *x, uint32_t v)
{
	struct c2_sched *s = x->s;
	const struct c2_vcpu *nv = &s->vcpu[v];
	sched_cpumask_t cpus = s->rq[nv->rq].cpus & s->online & nv->hard;
	bool soft = soft_restricts(s, nv);
	const sched_cpumask_t steps[2] = { cpus & nv->soft, cpus };
	for (uint32_t i = soft ? 0 : 1; i < 2; i++) {
		uint32_t c = idle_cpu(x, steps[i]);
		if (c != NO_CPU) {
			x->resched |= 1u << c;
			return;
		}
	}
	uint32_t best = NO_CPU;
	int64_t best_score = 0;
	for (sched_cpumask_t m = cpus & ~x->resched; m != 0; m &= m - 1u) {
		uint32_t c = (uint32_t)__builtin_ctz(m);
		if (c >= SCHED_MAX_CPUS || s->cpu[c].cur == SCHED_NO_VCPU)
			continue;
		const struct c2_vcpu *cur = &s->vcpu[s->cpu[c].cur];
		int64_t score = nv->credit - cur->credit;
		if (c != nv->cpu)
			score -= C2_MIGRATE_RESIST;
		if (soft && sched_mask_has(nv->soft, c))
			score += C2_CREDIT_INIT;
		if (soft_restricts(s, cur) && !sched_mask_has(cur->soft, c))
			score += C2_CREDIT_INIT;
		if (score > best_score) {
			best_score = score;
			best = c;
		}
	}
	if (best == NO_CPU)
		return;
	/* Not before ratelimit - 50 us: shorten the slice to end when the ratelimit does. */
	uint64_t ran = x->now - s->cpu[best].since, rl = ratelimit_ns(s);
	if (rl > 50 * C2_US && ran < rl - 50 * C2_US) {
		uint64_t left = rl - ran < (uint64_t)C2_MIN_TIMER ? C2_MIN_TIMER : rl - ran;
		if (x->now + left < s->cpu[best].slice_end) {
			s->cpu[best].slice_end = x->now + left;
			sched_out_push(x->out, SCHED_DEC_RUN, best, s->cpu[best].cur, left);
		}
		return;
	}
	x->resched |= 1u << best;
}

static void unpark_dom(struct ctx *x, uint32_t dom)
{
	struct c2_sched *s = x->s;
	for (uint32_t v = 0; v < s->vcpu_end; v++) {
		if (s->vcpu[v].state != C2_PARKED || s->vcpu[v].dom != dom)
			continue;
		enqueue(s, &s->vcpu[v]);
		sched_out_push(x->out, SCHED_DEC_UNPARK, NO_CPU, v, 0);
		tickle(x, v);
	}
}

static void run_on(struct ctx *x, uint32_t cpu, uint32_t v);

/** Moves the vCPU running on cpu to an idle CPU of its soft affinity if there is one. */
static bool soft_migrate(struct ctx *x, uint32_t cpu)
{
	struct c2_sched *s = x->s;
	uint32_t v = s->cpu[cpu].cur;
	struct c2_vcpu *cv = &s->vcpu[v];
	if (!soft_restricts(s, cv) || sched_mask_has(cv->soft, cpu))
		return false;
	uint32_t to = idle_cpu(x, cv->soft & cv->hard & s->online);
	if (to == NO_CPU)
		return false;
	/* It goes straight to `to`; this CPU's own decision follows in the same answer. */
	s->cpu[cpu].cur = SCHED_NO_VCPU;
	if (s->cpu[to].rq != cv->rq)
		move_vcpu(s, v, cv->rq, s->cpu[to].rq);
	run_on(x, to, v);
	return true;
}

static void run_on(struct ctx *x, uint32_t cpu, uint32_t v)
{
	struct c2_sched *s = x->s;
	struct c2_vcpu *nv = &s->vcpu[v];
	if (s->cpu[cpu].cur != v)
		s->cpu[cpu].since = x->now;
	s->cpu[cpu].cur = (uint16_t)v;
	nv->state = C2_RUNNING;
	nv->cpu = (uint8_t)cpu;
	uint64_t slice = c2_slice(s, v, x->now - s->cpu[cpu].since);
	s->cpu[cpu].slice_end = x->now + slice;
	sched_out_push(x->out, SCHED_DEC_RUN, cpu, v, slice);
}

/** csched2_schedule for one CPU: keep, switch or idle, with one decision out. */
static void schedule_cpu(struct ctx *x, uint32_t cpu)
{
	struct c2_sched *s = x->s;
	struct c2_cpu *pc = &s->cpu[cpu];
	if (!sched_mask_has(s->online, cpu))
		return;
	uint32_t cur = pc->cur;
	bool keep = false;
	if (cur != SCHED_NO_VCPU) {
		struct c2_vcpu *cv = &s->vcpu[cur];
		keep = sched_mask_has(cv->hard, cpu) && cv->rq == pc->rq;
		if (keep && has_cap(s, cv) && cv->budget <= 0 && !grab_budget(s, cv)) {
			pc->cur = SCHED_NO_VCPU;
			park(x, cur);
			cur = SCHED_NO_VCPU;
			keep = false;
		} else if (keep && soft_migrate(x, cpu)) {
			cur = SCHED_NO_VCPU;
			keep = false;
		}
		uint64_t ran = x->now - pc->since;
		if (keep && ran < ratelimit_ns(s)) {
			run_on(x, cpu, cur);
			return;
		}
	}
	uint32_t next = SCHED_NO_VCPU;
	for (uint32_t i = 0; i < SCHED_MAX_VCPUS; i++) {
		uint32_t w = best_waiter(s, cpu, cur);
		if (w == SCHED_NO_VCPU)
			break;
		if (keep && s->vcpu[cur].credit >= s->vcpu[w].credit)
			break;
		if (grab_budget(s, &s->vcpu[w])) {
			next = w;
			break;
		}
		park(x, w);
	}
	if (next == SCHED_NO_VCPU && keep)
		next = cur;
	bool descheduled = cur != SCHED_NO_VCPU && next != cur;
	if (descheduled) {
		pc->cur = SCHED_NO_VCPU;
		struct c2_vcpu *cv = &s->vcpu[cur];
		if (cv->state == C2_RUNNING)
			enqueue(s, cv);
		return_budget(x, cv);
	}
	if (next == SCHED_NO_VCPU) {
		pc->cur = SCHED_NO_VCPU;
		sched_out_push(x->out, SCHED_DEC_IDLE, cpu, SCHED_NO_VCPU, 0);
	} else {
		s->vcpu[next].state = C2_RUNNING;
		if (s->vcpu[next].credit <= 0) {
			reset_credit(s, pc->rq, s->vcpu[next].credit);
			balance(x, pc->rq);
		}
		run_on(x, cpu, next);
	}
	/* The one it replaced may find another CPU (once this one is no longer idle). */
	if (descheduled && s->vcpu[cur].state == C2_RUNNABLE)
		tickle(x, cur);
}

/** Refills every due pool: held budget comes back first (see the file comment). */
static void refill_due(struct ctx *x)
{
	struct c2_sched *s = x->s;
	for (uint32_t d = 0; d < SCHED_MAX_DOMS && s->capped != 0; d++) {
		struct c2_dom *dm = &s->dom[d];
		if (dm->cap == 0 || dm->next_refill > x->now)
			continue;
		for (uint32_t i = 0; i < 1000000u && dm->next_refill <= x->now; i++)
			dm->next_refill += C2_CAP_PERIOD;
		if (dm->next_refill <= x->now)
			dm->next_refill = x->now + C2_CAP_PERIOD;
		for (uint32_t v = 0; v < s->vcpu_end; v++) {
			struct c2_vcpu *cv = &s->vcpu[v];
			if (cv->state == C2_NONE || cv->dom != d)
				continue;
			cv->budget = 0;
			if (cv->state == C2_RUNNING)
				x->resched |= 1u << cv->cpu;
		}
		dm->pool = dm->tot_budget;
		unpark_dom(x, d);
	}
}

static void finish(struct ctx *x)
{
	struct c2_sched *s = x->s;
	for (uint32_t round = 0; round < 4u * SCHED_MAX_CPUS && x->resched != 0; round++) {
		/* In CPU order, each CPU marked when the pass reaches it (a decision may mark more). */
		for (uint32_t c = 0; c < SCHED_MAX_CPUS; c++) {
			sched_cpumask_t ahead = x->resched & ~((1u << c) - 1u);
			if (ahead == 0)
				break;
			c = (uint32_t)__builtin_ctz(ahead);
			x->resched &= ~(1u << c);
			schedule_cpu(x, c);
		}
	}
	uint64_t t = 0;
	for (uint32_t d = 0; d < SCHED_MAX_DOMS && s->capped != 0; d++)
		if (s->dom[d].cap != 0 && (t == 0 || s->dom[d].next_refill < t))
			t = s->dom[d].next_refill;
	x->out->timer = t;
}

static bool begin(struct ctx *x, struct c2_sched *s, uint64_t now, struct sched_out *out)
{
	sched_out_reset(out);
	x->s = s;
	x->out = out;
	x->resched = 0;
	if (now < s->now)
		return false;
	x->now = now;
	if (s->vcpu_end > SCHED_MAX_VCPUS) /* a state from memory: the loops stay in bounds */
		s->vcpu_end = SCHED_MAX_VCPUS;
	charge_all(s, now);
	update_loads(s, now);
	s->now = now;
	refill_due(x);
	return true;
}

/** The vCPU stops running or waiting in a queue (blocked or destroyed). */
static void take_off(struct ctx *x, uint32_t v)
{
	struct c2_sched *s = x->s;
	struct c2_vcpu *cv = &s->vcpu[v];
	if (cv->state == C2_RUNNING && s->cpu[cv->cpu].cur == v) {
		s->cpu[cv->cpu].cur = SCHED_NO_VCPU;
		x->resched |= 1u << cv->cpu;
	}
	cv->state = C2_BLOCKED;
	return_budget(x, cv);
}

static int vcpu_created(struct ctx *x, const struct sched_event *ev)
{
	struct c2_sched *s = x->s;
	if (ev->vcpu >= SCHED_MAX_VCPUS || ev->dom >= SCHED_MAX_DOMS)
		return SCHED_EINVAL;
	struct c2_vcpu *v = &s->vcpu[ev->vcpu];
	if (v->state != C2_NONE)
		return SCHED_EEXIST;
	if (ev->hard != 0 && (ev->hard & s->online) == 0)
		return SCHED_EINVAL;
	memset(v, 0, sizeof(*v));
	if (ev->vcpu >= s->vcpu_end)
		s->vcpu_end = ev->vcpu + 1u;
	v->dom = (uint8_t)ev->dom;
	v->credit = C2_CREDIT_INIT;
	v->load = 1ull << (C2_LOAD_SHIFT - 1); /* a new vCPU counts as 50 % */
	v->load_t = x->now;
	v->hard = ev->hard != 0 ? ev->hard : ~0u;
	v->soft = ev->soft != 0 ? ev->soft : ~0u;
	v->cpu = NO_CPU;
	s->dom[ev->dom].vcpu_count++;
	pick_rq(s, v);
	enqueue(s, v);
	tickle(x, ev->vcpu);
	return SCHED_OK;
}

static int cpu_add(struct ctx *x, uint32_t cpu)
{
	struct c2_sched *s = x->s;
	if (cpu >= s->topo.cpu_count)
		return SCHED_EINVAL;
	if (sched_mask_has(s->online, cpu))
		return SCHED_EEXIST;
	s->online |= 1u << cpu;
	s->cpu[cpu].cur = SCHED_NO_VCPU;
	s->cpu[cpu].charged_to = x->now;
	struct c2_rq *rq = &s->rq[s->cpu[cpu].rq];
	if (rq->cpus == 0 && rq->load == 0)
		rq->load_t = x->now; /* as if update_loads had kept it (it skips such a runqueue) */
	rq->cpus |= 1u << cpu;
	x->resched |= 1u << cpu;
	return SCHED_OK;
}

static int cpu_remove(struct ctx *x, uint32_t cpu)
{
	struct c2_sched *s = x->s;
	if (cpu >= SCHED_MAX_CPUS || !sched_mask_has(s->online, cpu))
		return SCHED_ENOENT;
	if (s->online == (1u << cpu))
		return SCHED_EBUSY; /* the pool's last CPU */
	uint32_t v = s->cpu[cpu].cur;
	s->online &= ~(1u << cpu);
	s->rq[s->cpu[cpu].rq].cpus &= ~(1u << cpu);
	if (v != SCHED_NO_VCPU) {
		s->cpu[cpu].cur = SCHED_NO_VCPU;
		return_budget(x, &s->vcpu[v]);
		enqueue(s, &s->vcpu[v]);
	}
	sched_out_push(x->out, SCHED_DEC_IDLE, cpu, SCHED_NO_VCPU, 0);
	/* Queued vCPUs whose runqueue lost every CPU they may use move elsewhere. */
	for (uint32_t w = 0; w < s->vcpu_end; w++) {
		struct c2_vcpu *cv = &s->vcpu[w];
		if (cv->state != C2_NONE && cv->state != C2_RUNNING &&
		    (s->rq[cv->rq].cpus & cv->hard) == 0) {
			pick_rq(s, cv);
			if (cv->state == C2_RUNNABLE)
				tickle(x, w);
		}
	}
	return SCHED_OK;
}

int c2_event(struct c2_sched *s, const struct sched_event *ev, struct sched_out *out)
{
	struct ctx x;
	if (!begin(&x, s, ev->now, out))
		return SCHED_EINVAL;
	uint32_t v = ev->vcpu, cpu = ev->cpu;
	bool vcpu_ok = v < SCHED_MAX_VCPUS && s->vcpu[v].state != C2_NONE;
	int rc = SCHED_OK;
	switch (ev->kind) {
	case SCHED_EV_CREATED:
		rc = vcpu_created(&x, ev);
		break;
	case SCHED_EV_WOKEN:
		if (!vcpu_ok)
			rc = SCHED_EINVAL;
		else if (s->vcpu[v].state == C2_BLOCKED) {
			pick_rq(s, &s->vcpu[v]);
			enqueue(s, &s->vcpu[v]);
			tickle(&x, v);
		}
		break;
	case SCHED_EV_BLOCKED:
		if (!vcpu_ok)
			rc = SCHED_EINVAL;
		else
			take_off(&x, v);
		break;
	case SCHED_EV_STOPPED:
		if (!vcpu_ok) {
			rc = SCHED_EINVAL;
			break;
		}
		take_off(&x, v);
		s->vcpu[v].state = C2_NONE;
		s->dom[s->vcpu[v].dom].vcpu_count--;
		break;
	case SCHED_EV_SLICE_END:
	case SCHED_EV_CPU_IDLE:
		if (cpu >= SCHED_MAX_CPUS || !sched_mask_has(s->online, cpu))
			rc = SCHED_EINVAL;
		else
			x.resched |= 1u << cpu;
		break;
	case SCHED_EV_CPU_ADD:
		rc = cpu_add(&x, cpu);
		break;
	case SCHED_EV_CPU_REMOVE:
		rc = cpu_remove(&x, cpu);
		break;
	case SCHED_EV_TIMER:
		break; /* begin() refilled what was due */
	default:
		rc = SCHED_EINVAL;
	}
	finish(&x);
	return rc;
}

int c2_resume(struct c2_sched *s, uint64_t now)
{
	if (now < s->now)
		return SCHED_EINVAL;
	for (uint32_t c = 0; c < SCHED_MAX_CPUS; c++) {
		s->cpu[c].charged_to = now;
		/* The ratelimit of whatever runs now starts again: the kernel may have switched. */
		s->cpu[c].since = now;
	}
	update_loads(s, now);
	s->now = now;
	return SCHED_OK;
}

int c2_set_dom(struct c2_sched *s, uint32_t dom, uint32_t weight, uint32_t cap, uint64_t now,
               struct sched_out *out)
{
	struct ctx x;
	if (dom >= SCHED_MAX_DOMS || weight > C2_WEIGHT_MAX) {
		sched_out_reset(out);
		return SCHED_EINVAL;
	}
	if (s->dom[dom].vcpu_count == 0) {
		sched_out_reset(out);
		return SCHED_ENOENT;
	}
	if (cap > 100u * s->dom[dom].vcpu_count) {
		sched_out_reset(out);
		return SCHED_EINVAL;
	}
	if (!begin(&x, s, now, out))
		return SCHED_EINVAL;
	struct c2_dom *d = &s->dom[dom];
	if (weight != 0)
		d->weight = (uint16_t)weight;
	bool was = d->cap != 0;
	d->cap = (uint16_t)cap;
	s->capped = cap != 0 ? s->capped | (1u << dom) : s->capped & ~(1u << dom);
	d->tot_budget = C2_CAP_PERIOD * (int64_t)cap / 100;
	if (cap != 0 && !was) {
		/* Turning the cap on: every vCPU starts with no budget, the pool full. */
		d->pool = d->tot_budget;
		d->next_refill = now + C2_CAP_PERIOD;
		for (uint32_t v = 0; v < s->vcpu_end; v++)
			if (s->vcpu[v].state != C2_NONE && s->vcpu[v].dom == dom)
				s->vcpu[v].budget = 0;
	} else if (cap != 0 && d->pool > d->tot_budget) {
		d->pool = d->tot_budget;
	} else if (cap == 0 && was) {
		unpark_dom(&x, dom);
	}
	/* Slices depend on weight and budget: every CPU running this domain decides again. */
	for (uint32_t c = 0; c < SCHED_MAX_CPUS; c++)
		if (s->cpu[c].cur != SCHED_NO_VCPU && s->vcpu[s->cpu[c].cur].dom == dom)
			x.resched |= 1u << c;
	finish(&x);
	return SCHED_OK;
}

int c2_set_affinity(struct c2_sched *s, uint32_t v, sched_cpumask_t hard, sched_cpumask_t soft,
                    uint64_t now, struct sched_out *out)
{
	struct ctx x;
	if (v >= SCHED_MAX_VCPUS || s->vcpu[v].state == C2_NONE) {
		sched_out_reset(out);
		return SCHED_ENOENT;
	}
	if ((hard & s->online) == 0) {
		sched_out_reset(out);
		return SCHED_EINVAL;
	}
	if (!begin(&x, s, now, out))
		return SCHED_EINVAL;
	struct c2_vcpu *cv = &s->vcpu[v];
	cv->hard = hard;
	cv->soft = soft;
	if (cv->state == C2_RUNNING) {
		/* Decides again where it runs: moves if outside hard, or soft with an idle CPU. */
		uint32_t cpu = cv->cpu;
		if (!sched_mask_has(hard, cpu)) {
			s->cpu[cpu].cur = SCHED_NO_VCPU;
			return_budget(&x, cv);
			enqueue(s, cv);
			pick_rq(s, cv);
			tickle(&x, v);
		}
		x.resched |= 1u << cpu;
	} else {
		pick_rq(s, cv);
		if (cv->state == C2_RUNNABLE)
			tickle(&x, v);
	}
	finish(&x);
	return SCHED_OK;
}
