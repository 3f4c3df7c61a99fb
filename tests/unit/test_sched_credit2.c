/**
 * Host tests of the Credit2 policy (services/sched/credit2.c), mostly through the simulator
 * (sched_sim.c): every test of spec section 1 (weights 512:256 on one CPU give 2:1; a reset
 * clips at 10.5 ms and a head at -25 ms gives m = 3; slices within [0.5, 10] ms; ratelimit 99
 * or 500001 is -EINVAL; soft affinity {2} inside hard {0-3} lands on CPU 2 when idle; cap 50
 * gives 5 ms per 10 ms; cap > 100 n is -EINVAL; uncapping unparks immediately), the issue's
 * simulations (random weights within 1 %; cap 50 at most 50 % in every period and 50 % within
 * 2 % overall; no runnable vCPU starves), and the rules around them: preemption on wake and
 * the ratelimit, hard affinity, runqueue layouts, load balancing, every control's error cases.
 */
#include <string.h>

#include "sched_sim.h"
#include "tap.h"

#define MS 1000000ull
#define US 1000ull

static struct sim m;

static double ratio(uint64_t a, uint64_t b)
{
	return b == 0 ? 0.0 : (double)a / (double)b;
}

static bool within(double got, double want, double tol)
{
	return got >= want * (1.0 - tol) && got <= want * (1.0 + tol);
}

static void test_weights_2_to_1(void)
{
	EQ(sim_init_credit2(&m, 1, C2_RQ_SOCKET), SCHED_OK, "one CPU");
	sim_create(&m, 0, 0, 0, 0);
	sim_create(&m, 1, 1, 0, 0);
	EQ(sim_set_dom(&m, 0, 512, 0), SCHED_OK, "weight 512");
	EQ(sim_set_dom(&m, 1, 256, 0), SCHED_OK, "weight 256");
	sim_run(&m, 10000 * MS);
	double r = ratio(m.vcpu[0].ran, m.vcpu[1].ran);
	OK(within(r, 2.0, 0.02), "512:256 gives 2:1 within 2 %");
	EQ(m.vcpu[0].ran + m.vcpu[1].ran, 10000 * MS, "the CPU never idled");
	OK(m.p.c2.resets > 0, "credits were reset");
	EQ(m.violations, 0, "no invariant broken");
}

static void test_reset(void)
{
	struct c2_sched *s = &m.p.c2;
	sim_init_credit2(&m, 1, C2_RQ_SOCKET);
	sim_create(&m, 0, 0, 0, 0); /* runs */
	sim_create(&m, 1, 1, 0, 0); /* waits */
	m.vcpu[2].exists = true;    /* a third, blocked: it still belongs to the runqueue */
	m.vcpu[2].hard = ~0u;
	sim_create(&m, 2, 2, 0, 0);
	m.vcpu[2].runnable = false;
	m.vcpu[2].wake_at = UINT64_MAX; /* until the test wakes it */
	sim_event(&m, SCHED_EV_BLOCKED, 0, 2, 0);
	EQ(sim_where(&m, 0), 0, "vCPU 0 runs");
	s->vcpu[0].credit = -30 * (int64_t)MS;
	s->vcpu[1].credit = -25 * (int64_t)MS;
	s->vcpu[2].credit = 5 * (int64_t)MS;
	uint32_t resets = s->resets;
	m.now += 2 * MS;
	sim_event(&m, SCHED_EV_SLICE_END, 0, 0, 0);
	EQ(sim_where(&m, 1), 0, "the head (-25 ms) is picked");
	EQ(s->resets, resets + 1, "one reset");
	EQ(s->vcpu[1].credit, 5 * MS, "head at -25 ms: m = 3, -25 + 30 = 5 ms");
	EQ(s->vcpu[2].credit, 10 * MS + 500 * US, "5 + 30 ms clipped to 10.5 ms");
	EQ(s->vcpu[0].credit, -2 * (int64_t)MS, "the runner's burn is kept: -30 - 2 + 30 ms");
	s->vcpu[1].credit = -1;
	s->vcpu[0].credit = -2;
	m.now += 2 * MS;
	sim_event(&m, SCHED_EV_SLICE_END, 0, 0, 0);
	EQ(s->resets, resets + 2, "a head just below 0 resets");
	EQ(s->vcpu[0].credit, 10 * MS - 2, "with m = 1");
}

static void test_slices(void)
{
	uint32_t seed = 12345;
	sim_init_credit2(&m, 2, C2_RQ_SOCKET);
	for (uint32_t v = 0; v < 6; v++) {
		seed = seed * 1103515245u + 12345u;
		sim_create(&m, v, v, v < 3 ? 0 : (seed >> 16) % (3 * MS) + 100 * US,
		           v < 3 ? 0 : (seed >> 8) % (5 * MS));
		sim_set_dom(&m, v, 64 + (seed >> 12) % 2000, 0);
	}
	sim_run(&m, 2000 * MS);
	OK(m.slice_min >= 500 * US, "no slice under 500 us");
	OK(m.slice_max <= 10 * MS, "no slice over 10 ms");
	OK(m.slice_max > m.slice_min, "slices vary with credit");
	EQ(m.violations, 0, "no invariant broken");
	EQ(c2_set_ratelimit(&m.p.c2, 0), SCHED_OK, "ratelimit 0 (off)");
	sim_run(&m, 1000 * MS);
	OK(m.slice_min >= 500 * US && m.slice_max <= 10 * MS, "still within [0.5, 10] ms");
	EQ(m.violations, 0, "no invariant broken");
}

static void test_ratelimit(void)
{
	struct c2_sched *s = &m.p.c2;
	sim_init_credit2(&m, 1, C2_RQ_SOCKET);
	EQ(s->ratelimit_us, 1000, "default 1000 us");
	EQ(c2_set_ratelimit(s, 99), SCHED_EINVAL, "99 us: -EINVAL");
	EQ(c2_set_ratelimit(s, 500001), SCHED_EINVAL, "500001 us: -EINVAL");
	EQ(s->ratelimit_us, 1000, "a refused value changes nothing");
	EQ(c2_set_ratelimit(s, 100), SCHED_OK, "100 us");
	EQ(c2_set_ratelimit(s, 500000), SCHED_OK, "500000 us");
	EQ(c2_set_ratelimit(s, 0), SCHED_OK, "0");
	EQ(c2_set_ratelimit(s, 2000), SCHED_OK, "2000 us");
	/* A waker with more credit: not before ratelimit - 50 us, then at the ratelimit. */
	sim_create(&m, 0, 0, 0, 0);
	sim_create(&m, 1, 1, 0, 0);
	m.vcpu[1].runnable = false;
	m.vcpu[1].wake_at = UINT64_MAX; /* until the test wakes it */
	sim_event(&m, SCHED_EV_BLOCKED, 0, 1, 0);
	sim_run(&m, 20 * MS);
	sim_event(&m, SCHED_EV_TIMER, 0, 0, 0); /* the policy charges up to now */
	s->vcpu[0].credit = 0;
	s->vcpu[1].credit = C2_CREDIT_INIT;
	m.vcpu[1].runnable = true;
	m.vcpu[1].wait_start = m.now;
	uint64_t since = s->cpu[0].since;
	sim_event(&m, SCHED_EV_WOKEN, 0, 1, 0);
	OK(m.now - since >= 1950 * US, "the runner ran alone for 20 ms");
	EQ(sim_where(&m, 1), 0, "past the ratelimit the waker preempts at once");
	/* 1 ms into vCPU 1's run, vCPU 0 wakes richer: not before the ratelimit - 50 us. */
	since = s->cpu[0].since;
	m.vcpu[0].runnable = false;
	m.vcpu[0].wake_at = UINT64_MAX;
	sim_event(&m, SCHED_EV_BLOCKED, 0, 0, 0);
	sim_run(&m, 1 * MS);
	sim_event(&m, SCHED_EV_TIMER, 0, 0, 0);
	s->vcpu[1].credit = 0;
	s->vcpu[0].credit = C2_CREDIT_INIT;
	m.vcpu[0].runnable = true;
	m.vcpu[0].wait_start = m.now;
	sim_event(&m, SCHED_EV_WOKEN, 0, 0, 0);
	EQ(sim_where(&m, 1), 0, "within the ratelimit the runner stays");
	EQ(m.cpu[0].slice_end, since + 2 * MS, "its slice now ends when the ratelimit does");
	sim_run(&m, since + 2 * MS - m.now);
	EQ(sim_where(&m, 0), 0, "then the waker runs");
	/* Preemption on wake, past the ratelimit. */
	sim_run(&m, 30 * MS);
	uint32_t runner = (uint32_t)sim_where(&m, 0) == 0 ? 0 : 1, other = 1 - runner;
	m.vcpu[other].runnable = false;
	m.vcpu[other].wake_at = UINT64_MAX; /* until the test wakes it */
	sim_event(&m, SCHED_EV_BLOCKED, 0, other, 0);
	sim_run(&m, 5 * MS);
	sim_event(&m, SCHED_EV_TIMER, 0, 0, 0);
	s->vcpu[runner].credit = 0;
	s->vcpu[other].credit = 5 * MS;
	m.vcpu[other].runnable = true;
	m.vcpu[other].wait_start = m.now;
	sim_event(&m, SCHED_EV_WOKEN, 0, other, 0);
	EQ(sim_where(&m, other), 0, "a waker 5 ms richer preempts a runner past its ratelimit");
	sim_run(&m, 3 * MS);
	sim_event(&m, SCHED_EV_TIMER, 0, 0, 0); /* the policy charges up to now */
	s->vcpu[other].credit = 0;
	m.vcpu[runner].runnable = false;
	m.vcpu[runner].wake_at = UINT64_MAX; /* until the test wakes it */
	sim_event(&m, SCHED_EV_BLOCKED, 0, runner, 0);
	s->vcpu[runner].credit = -300 * (int64_t)US;
	m.vcpu[runner].runnable = true;
	sim_event(&m, SCHED_EV_WOKEN, 0, runner, 0);
	EQ(sim_where(&m, other), 0, "a waker poorer than the runner does not");
	EQ(m.violations, 0, "no invariant broken");
}

static void test_soft_affinity(void)
{
	sim_init_credit2(&m, 4, C2_RQ_SOCKET);
	sim_create(&m, 0, 0, 0, 0);
	EQ(sim_where(&m, 0), 0, "the first idle CPU without soft affinity");
	EQ(sim_affinity(&m, 0, 0xf, 0x4), SCHED_OK, "soft {2} inside hard {0-3}");
	EQ(sim_where(&m, 0), 2, "a running vCPU outside its soft affinity moves to idle CPU 2");
	m.vcpu[0].runnable = false;
	m.vcpu[0].wake_at = UINT64_MAX; /* until the test wakes it */
	sim_event(&m, SCHED_EV_BLOCKED, 2, 0, 0);
	sim_create(&m, 1, 1, 0, 0);
	m.vcpu[0].runnable = true;
	sim_event(&m, SCHED_EV_WOKEN, 0, 0, 0);
	EQ(sim_where(&m, 0), 2, "woken, it lands on CPU 2 (idle)");
	sim_run(&m, 100 * MS);
	EQ(m.vcpu[0].cpus_seen, 0x4, "and stays on CPU 2");
	sim_init_credit2(&m, 4, C2_RQ_CPU);
	sim_create(&m, 0, 0, 0, 0);
	sim_affinity(&m, 0, 0xf, 0x4);
	EQ(sim_where(&m, 0), 2, "per-CPU runqueues: CPU 2 as well");
	EQ(m.violations, 0, "no invariant broken");
}

static void test_tickle_choices(void)
{
	struct c2_sched *s = &m.p.c2;
	/* Cores {0,1} and {2,3} in one runqueue: a fully idle core beats an idle SMT sibling. */
	sim_init_credit2(&m, 4, C2_RQ_SOCKET);
	sim_create(&m, 0, 0, 0, 0);
	sim_affinity(&m, 0, 0x1, 0);
	sim_create(&m, 1, 1, 0, 0);
	EQ(sim_where(&m, 1), 2, "a woken vCPU takes CPU 2 (idle core), not CPU 1 (busy sibling)");
	sim_create(&m, 2, 2, 0, 0);
	EQ(sim_where(&m, 2), 1, "with no idle core, an idle thread");
	EQ(m.violations, 0, "no invariant broken");

	/* Migration resistance: a waker must beat a runner by more than 500 us to move there. */
	sim_init_credit2(&m, 2, C2_RQ_SOCKET);
	sim_create(&m, 0, 0, 0, 0);
	sim_create(&m, 1, 1, 0, 0);
	sim_create(&m, 2, 2, 0, 0);
	sim_affinity(&m, 2, 0x2, 0); /* it ran on CPU 1 or waits for it */
	sim_run(&m, 50 * MS);
	uint32_t w = 2;
	for (uint32_t v = 0; v < 3; v++)
		if (sim_where(&m, v) == 0)
			w = v; /* the vCPU on CPU 0 will be the waker, its last CPU 0 */
	EQ(sim_where(&m, 2), 1, "vCPU 2 (hard {1}) runs on CPU 1");
	m.vcpu[w].runnable = false;
	m.vcpu[w].wake_at = UINT64_MAX; /* until the test wakes it */
	sim_event(&m, SCHED_EV_BLOCKED, 0, w, 0);
	sim_affinity(&m, w, 0x2, 0);
	sim_run(&m, 5 * MS);
	sim_event(&m, SCHED_EV_TIMER, 0, 0, 0); /* charge up to now */
	uint32_t on1 = (uint32_t)m.cpu[1].vcpu;
	EQ(s->vcpu[w].cpu, 0, "the waker last ran on CPU 0: moving to CPU 1 meets the resistance");
	s->vcpu[on1].credit = 0;
	s->vcpu[w].credit = 400 * (int64_t)US;
	m.vcpu[w].runnable = true;
	m.vcpu[w].wait_start = m.now;
	sim_event(&m, SCHED_EV_WOKEN, 0, w, 0);
	EQ(sim_where(&m, on1), 1, "400 us richer, from another CPU: no preemption");
	m.vcpu[w].runnable = false;
	m.vcpu[w].wake_at = UINT64_MAX; /* until the test wakes it */
	sim_event(&m, SCHED_EV_BLOCKED, 0, w, 0);
	s->vcpu[w].credit = 600 * (int64_t)US;
	m.vcpu[w].runnable = true;
	sim_event(&m, SCHED_EV_WOKEN, 0, w, 0);
	EQ(sim_where(&m, w), 1, "600 us richer: it preempts CPU 1");
	EQ(m.violations, 0, "no invariant broken");
}

static void test_hard_affinity(void)
{
	sim_init_credit2(&m, 4, C2_RQ_SOCKET);
	for (uint32_t v = 0; v < 6; v++) {
		sim_create(&m, v, v, v % 2 ? 1 * MS : 0, v % 2 ? 2 * MS : 0);
		EQ(sim_affinity(&m, v, 1u << (v % 3 + 1), 0), SCHED_OK, "hard affinity one CPU");
	}
	sim_run(&m, 500 * MS);
	for (uint32_t v = 0; v < 6; v++)
		EQ(m.vcpu[v].cpus_seen, 1u << (v % 3 + 1), "ran only inside its hard affinity");
	EQ(m.vcpu[0].ran + m.vcpu[1].ran + m.vcpu[2].ran + m.vcpu[3].ran + m.vcpu[4].ran +
	                   m.vcpu[5].ran <=
	           1500 * MS,
	   1, "CPU 0 was never used");
	EQ(sim_affinity(&m, 0, 0x10, 0), SCHED_EINVAL, "hard affinity outside the pool: -EINVAL");
	EQ(sim_affinity(&m, 9, 0x1, 0), SCHED_ENOENT, "no such vCPU: -ENOENT");
	EQ(m.violations, 0, "no invariant broken");
}

static void test_random_weights(void)
{
	uint32_t seed = 777, w[6];
	for (uint32_t cpus = 1; cpus <= 2; cpus++) {
		sim_init_credit2(&m, cpus, C2_RQ_SOCKET);
		uint64_t sum = 0;
		for (uint32_t v = 0; v < 6; v++) {
			seed = seed * 1103515245u + 12345u;
			w[v] = 128 +
			       (seed >> 16) % 385; /* 128..512: nobody needs more than a CPU */
			sum += w[v];
			sim_create(&m, v, v, 0, 0);
			sim_set_dom(&m, v, w[v], 0);
		}
		sim_run(&m, 20000 * MS);
		bool ok = true;
		for (uint32_t v = 0; v < 6; v++) {
			double want = (double)w[v] / (double)sum * cpus * 20000.0 * MS;
			ok = ok && within((double)m.vcpu[v].ran, want, 0.01);
		}
		OK(ok, cpus == 1 ? "random weights, one CPU: shares within 1 %" :
		                   "random weights, two CPUs: shares within 1 %");
		EQ(m.violations, 0, "no invariant broken");
	}
}

static void test_cap(void)
{
	sim_init_credit2(&m, 1, C2_RQ_SOCKET);
	sim_create(&m, 0, 0, 0, 0);
	EQ(sim_set_dom(&m, 0, 0, 101), SCHED_EINVAL, "cap 101 with one vCPU: -EINVAL");
	EQ(m.p.c2.dom[0].cap, 0, "a refused cap changes nothing");
	EQ(sim_set_dom(&m, 0, 0, 50), SCHED_OK, "cap 50");
	EQ(m.p.c2.dom[0].weight, 256, "weight 0 leaves the weight");
	EQ(m.p.c2.dom[0].tot_budget, 5 * MS, "5 ms per 10 ms period");
	sim_run(&m, 10000 * MS);
	OK(m.dom[0].win_max <= 5 * MS, "at most 5 ms in every 10 ms period");
	OK(within(ratio(m.vcpu[0].ran, 10000 * MS), 0.5, 0.02), "50 % within 2 % overall");
	EQ(m.violations, 0, "no invariant broken");

	/* Two vCPUs sharing cap 50 on two CPUs, beside an uncapped domain. */
	sim_init_credit2(&m, 2, C2_RQ_SOCKET);
	sim_create(&m, 0, 0, 0, 0);
	sim_create(&m, 1, 0, 0, 0);
	sim_create(&m, 2, 1, 0, 0);
	EQ(sim_set_dom(&m, 0, 0, 201), SCHED_EINVAL, "cap 201 with two vCPUs: -EINVAL");
	EQ(sim_set_dom(&m, 0, 0, 50), SCHED_OK, "cap 50 on the domain");
	sim_run(&m, 5000 * MS);
	OK(m.dom[0].win_max <= 5 * MS, "the domain stays within 5 ms per period");
	OK(within(ratio(m.dom[0].ran, 5000 * MS), 0.5, 0.02), "and gets 50 % of a CPU");
	/* At worst both capped vCPUs run at once for their 2.5 ms quota: 7.5 ms of 10 are left. */
	OK(m.vcpu[2].ran >= 3700 * MS, "the uncapped domain gets at least 3/4 of its CPU");
	EQ(m.violations, 0, "no invariant broken");

	/* Cap 150 over two vCPUs. */
	sim_init_credit2(&m, 2, C2_RQ_SOCKET);
	sim_create(&m, 0, 0, 0, 0);
	sim_create(&m, 1, 0, 0, 0);
	EQ(sim_set_dom(&m, 0, 0, 150), SCHED_OK, "cap 150");
	sim_run(&m, 5000 * MS);
	OK(m.dom[0].win_max <= 15 * MS, "at most 15 ms per period");
	OK(within(ratio(m.dom[0].ran, 5000 * MS), 1.5, 0.02), "1.5 CPUs within 2 %");
	EQ(m.violations, 0, "no invariant broken");
}

static void test_uncap(void)
{
	struct c2_sched *s = &m.p.c2;
	sim_init_credit2(&m, 1, C2_RQ_SOCKET);
	sim_create(&m, 0, 0, 0, 0);
	sim_set_dom(&m, 0, 0, 10);
	sim_run(&m, 5 * MS);
	EQ(s->vcpu[0].state, C2_PARKED, "cap 10: parked after 1 ms of the period");
	EQ(sim_where(&m, 0), -1, "not running");
	EQ(sim_set_dom(&m, 0, 0, 0), SCHED_OK, "uncap");
	bool unpark = false;
	for (uint32_t i = 0; i < m.out.count; i++)
		unpark = unpark || (m.out.d[i].kind == SCHED_DEC_UNPARK && m.out.d[i].vcpu == 0);
	OK(unpark, "the answer unparks it");
	EQ(sim_where(&m, 0), 0, "it runs at once");
	EQ(m.out.timer, 0, "no cap timer is left");
	EQ(m.violations, 0, "no invariant broken");
}

static void test_dom_errors(void)
{
	static struct sched_out out;
	sim_init_credit2(&m, 2, C2_RQ_SOCKET);
	sim_create(&m, 0, 0, 0, 0);
	EQ(c2_set_dom(&m.p.c2, 0, 65536, 0, m.now, &out), SCHED_EINVAL, "weight 65536: -EINVAL");
	EQ(c2_set_dom(&m.p.c2, 0, 65535, 0, m.now, &out), SCHED_OK, "weight 65535");
	EQ(c2_set_dom(&m.p.c2, 0, 1, 0, m.now, &out), SCHED_OK, "weight 1");
	EQ(c2_set_dom(&m.p.c2, 3, 100, 0, m.now, &out), SCHED_ENOENT, "a domain without vCPUs");
	EQ(c2_set_dom(&m.p.c2, SCHED_MAX_DOMS, 100, 0, m.now, &out), SCHED_EINVAL, "out of range");
	struct sched_event ev = { .kind = SCHED_EV_SLICE_END, .cpu = 0, .now = m.now - 1 };
	m.now = 10;
	ev.now = 5;
	EQ(c2_event(&m.p.c2, &(struct sched_event){ .kind = SCHED_EV_TIMER, .now = 10 }, &out),
	   SCHED_OK, "time 10");
	EQ(c2_event(&m.p.c2, &ev, &out), SCHED_EINVAL, "time going backwards: -EINVAL");
	ev.now = 10;
	ev.cpu = 5;
	EQ(c2_event(&m.p.c2, &ev, &out), SCHED_EINVAL, "a CPU outside the pool");
	ev.kind = SCHED_EV_WOKEN;
	ev.vcpu = 4;
	EQ(c2_event(&m.p.c2, &ev, &out), SCHED_EINVAL, "a vCPU that does not exist");
	ev.kind = SCHED_EV_CREATED;
	ev.vcpu = 0;
	EQ(c2_event(&m.p.c2, &ev, &out), SCHED_EEXIST, "created twice");
	ev.kind = SCHED_EV_COUNT;
	EQ(c2_event(&m.p.c2, &ev, &out), SCHED_EINVAL, "an unknown event");
	ev.kind = SCHED_EV_CPU_REMOVE;
	ev.cpu = 1;
	EQ(c2_event(&m.p.c2, &ev, &out), SCHED_OK, "CPU 1 leaves");
	ev.cpu = 0;
	EQ(c2_event(&m.p.c2, &ev, &out), SCHED_EBUSY, "the last CPU cannot leave");
	ev.kind = SCHED_EV_CPU_ADD;
	ev.cpu = 1;
	EQ(c2_event(&m.p.c2, &ev, &out), SCHED_OK, "CPU 1 comes back");
	EQ(c2_event(&m.p.c2, &ev, &out), SCHED_EEXIST, "twice: -EEXIST");
	ev.cpu = 2;
	EQ(c2_event(&m.p.c2, &ev, &out), SCHED_EINVAL, "a CPU the topology lacks");
}

static void test_layouts(void)
{
	struct c2_sched *s = &m.p.c2;
	EQ(sim_init_credit2(&m, 8, 5), SCHED_EINVAL, "an unknown layout: -EINVAL");
	const uint32_t want[5] = { 8, 4, 2, 2, 1 };
	for (uint32_t l = C2_RQ_CPU; l <= C2_RQ_ALL; l++) {
		sim_init_credit2(&m, 8, l);
		uint32_t n = 0;
		for (uint32_t r = 0; r < SCHED_MAX_CPUS; r++)
			n += s->rq[r].cpus != 0;
		EQ(n, want[l], "runqueues per layout (cpu 8, core 4, socket 2, node 2, all 1)");
	}
	EQ(c2_set_layout(s, C2_RQ_CPU), SCHED_OK, "layout changes with no vCPU");
	sim_create(&m, 0, 0, 0, 0);
	EQ(c2_set_layout(s, C2_RQ_ALL), SCHED_EBUSY, "not once a vCPU exists: -EBUSY");
	EQ(c2_set_layout(s, 9), SCHED_EINVAL, "an unknown layout: -EINVAL");
}

static void test_balance(void)
{
	sim_init_credit2(&m, 2, C2_RQ_CPU);
	for (uint32_t v = 0; v < 4; v++) {
		sim_create(&m, v, v, 0, 0);
		sim_affinity(&m, v, 0x1, 0);
	}
	for (uint32_t v = 0; v < 4; v++)
		sim_affinity(&m, v, 0x3, 0);
	sim_run(&m, 4000 * MS);
	bool fair = true;
	uint64_t total = 0;
	for (uint32_t v = 0; v < 4; v++) {
		fair = fair && ratio(m.vcpu[v].ran, 4000 * MS) >= 0.40;
		total += m.vcpu[v].ran;
	}
	OK(m.p.c2.balances > 0,
	   "per-CPU runqueues, all placed on CPU 0's: the balancer moved some");
	OK(fair, "each of 4 vCPUs on 2 CPUs gets at least 40 % of a CPU");
	/* Idle CPUs do not pull: an idle runqueue waits for the next reset's balancing. */
	OK(total >= 7600 * MS, "both CPUs were busy 95 % of the time");
	OK(m.p.c2.rq[0].load > 0 && m.p.c2.rq[1].load > 0, "both runqueues carry load");
	EQ(m.violations, 0, "no invariant broken");
}

static void test_no_starvation(void)
{
	uint32_t seed = 4242;
	sim_init_credit2(&m, 4, C2_RQ_CORE);
	for (uint32_t v = 0; v < 12; v++) {
		seed = seed * 1103515245u + 12345u;
		uint64_t run = v % 3 == 0 ? 0 : (seed >> 16) % (4 * MS) + 50 * US;
		sim_create(&m, v, v % SCHED_MAX_DOMS, run, run ? (seed >> 4) % (8 * MS) : 0);
		sim_set_dom(&m, v % SCHED_MAX_DOMS, 1 + (seed >> 10) % 4000, 0);
	}
	sim_set_dom(&m, 1, 0, 80);
	sim_run(&m, 5000 * MS);
	uint64_t worst = 0;
	bool ran = true;
	for (uint32_t v = 0; v < 12; v++) {
		worst = m.vcpu[v].max_wait > worst ? m.vcpu[v].max_wait : worst;
		ran = ran && m.vcpu[v].ran > 10 * MS;
	}
	OK(ran, "every vCPU ran");
	OK(worst < 200 * MS, "no runnable vCPU waited 200 ms");
	OK(m.dom[1].win_max <= 8 * MS, "the capped domain kept its cap meanwhile");
	EQ(m.violations, 0, "no invariant broken");
}

/** A restarted policy charges nobody for the time it was away, then decides as before. */
static void test_resume(void)
{
	struct c2_sched *s = &m.p.c2;
	sim_init_credit2(&m, 1, C2_RQ_SOCKET);
	sim_create(&m, 0, 0, 0, 0);
	sim_create(&m, 1, 1, 0, 0);
	sim_run(&m, 100 * MS);
	int64_t c0 = s->vcpu[0].credit, c1 = s->vcpu[1].credit;
	EQ(c2_resume(s, m.now + 50 * MS), SCHED_OK, "resume 50 ms later");
	OK(s->vcpu[0].credit == c0 && s->vcpu[1].credit == c1, "nobody was charged for the gap");
	EQ(s->now, m.now + 50 * MS, "the clock moved on");
	EQ(c2_resume(s, m.now), SCHED_EINVAL, "time never goes back");
	m.now += 50 * MS;
	sim_event(&m, SCHED_EV_SLICE_END, 0, SCHED_NO_VCPU, 0);
	sim_run(&m, 1000 * MS);
	EQ(m.violations, 0, "it schedules on, no invariant broken");
}

/** Affinities given with CREATED: an idle CPU of its soft affinity at once. */
static void test_created_affinity(void)
{
	struct c2_sched *s = &m.p.c2;
	static struct sched_out out;
	sim_init_credit2(&m, 4, C2_RQ_SOCKET);
	struct sched_event ev = {
		.kind = SCHED_EV_CREATED, .vcpu = 0, .now = 1, .hard = 0xf, .soft = 0x4
	};
	EQ(c2_event(s, &ev, &out), SCHED_OK, "created with hard {0-3}, soft {2}");
	OK(out.count == 1 && out.d[0].kind == SCHED_DEC_RUN && out.d[0].cpu == 2 &&
	           s->vcpu[0].hard == 0xf && s->vcpu[0].soft == 0x4,
	   "it runs on CPU 2 at once");
	ev.vcpu = 1;
	ev.hard = 0x30;
	EQ(c2_event(s, &ev, &out), SCHED_EINVAL, "a hard affinity outside the pool is refused");
	EQ(s->vcpu[1].state, C2_NONE, "and creates nothing");
}

/**
 * The kernel takes no tick on a CPU with a lone runner, so the policy may hear of a vCPU's
 * run only long after its slice's end: it is charged as if Xen's timer had ended its slices
 * (a reset each time its credit ran out), not left owing the whole run.
 */
static void test_lone_run(void)
{
	struct c2_sched *s = &m.p.c2;
	static struct sched_out out;
	sim_init_credit2(&m, 2, C2_RQ_SOCKET);
	struct sched_event ev = { .kind = SCHED_EV_CREATED, .vcpu = 0, .now = 1, .hard = 0x1 };
	c2_event(s, &ev, &out);
	ev.vcpu = 1;
	ev.hard = 0x2;
	c2_event(s, &ev, &out);
	OK(s->cpu[0].cur == 0 && s->cpu[1].cur == 1, "one vCPU alone on each CPU");
	uint32_t resets = s->resets;
	ev = (struct sched_event){ .kind = SCHED_EV_SLICE_END, .cpu = 0, .now = 12 * MS };
	c2_event(s, &ev, &out);
	EQ(s->resets, resets + 1, "a slice end on time: one reset (the pick's credit was spent)");
	resets = s->resets;
	ev = (struct sched_event){ .kind = SCHED_EV_CPU_IDLE, .cpu = 0, .now = 512 * MS };
	c2_event(s, &ev, &out);
	OK(s->resets > resets, "after 500 ms alone past their slices: reset");
	OK(s->vcpu[0].credit > 0 && s->vcpu[0].credit <= C2_CREDIT_INIT + C2_CARRYOVER_MAX &&
	           s->vcpu[1].credit > 0 && s->vcpu[1].credit <= C2_CREDIT_INIT + C2_CARRYOVER_MAX,
	   "neither owes its run alone (credits in (0, 10.5 ms])");
}

int main(void)
{
	test_weights_2_to_1();
	test_reset();
	test_slices();
	test_ratelimit();
	test_soft_affinity();
	test_tickle_choices();
	test_hard_affinity();
	test_random_weights();
	test_cap();
	test_uncap();
	test_dom_errors();
	test_layouts();
	test_balance();
	test_no_starvation();
	test_resume();
	test_created_affinity();
	test_lone_run();
	return tap_finish();
}
