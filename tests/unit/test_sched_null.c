/**
 * Host tests of the null scheduling policy (services/sched/null.c), through the simulator
 * (sched_sim.c) where time matters: the tests of spec section 2 (N vCPUs on N CPUs strictly
 * 1:1 with no switches; N+1 vCPUs, one waits and gets a CPU when a domain is destroyed; a
 * waiter with soft affinity beats an older waiter with only hard affinity; trace payloads),
 * the (soft {2} inside hard {0-3} lands on CPU 2), and the rules around them: wake-ups
 * of waiters do nothing, a blocked vCPU keeps its CPU, migration to a busy CPU waits, CPUs
 * joining and leaving the pool, and every error case.
 */
#include <string.h>

#include "sched_sim.h"
#include "tap.h"

#define MS 1000000ull

static struct sim m;

static void test_one_to_one(void)
{
	sim_init_null(&m, 4);
	for (uint32_t v = 0; v < 4; v++)
		EQ(sim_create(&m, v, v, 0, 0), SCHED_OK, "a vCPU joins");
	sim_run(&m, 1000 * MS);
	for (uint32_t v = 0; v < 4; v++) {
		EQ(sim_where(&m, v), v, "vCPU n holds CPU n");
		EQ(m.vcpu[v].ran, 1000 * MS, "it ran the whole second");
		EQ(sched_mask_weight(m.vcpu[v].cpus_seen), 1, "on that one CPU only");
	}
	EQ(m.switches, 4, "four placements, no context switch after them");
	EQ(m.violations, 0, "no invariant broken");
}

static void test_extra_waits(void)
{
	sim_init_null(&m, 2);
	sim_create(&m, 0, 0, 0, 0);
	sim_create(&m, 1, 1, 0, 0);
	EQ(sim_create(&m, 2, 2, 0, 0), SCHED_OK, "a third vCPU is accepted");
	EQ(m.p.null.wait_count, 1, "and waits");
	sim_run(&m, 50 * MS);
	EQ(m.vcpu[2].ran, 0, "a waiter never runs");
	EQ(sim_event(&m, SCHED_EV_WOKEN, 0, 2, 0), SCHED_OK, "waking a waiter is accepted");
	EQ(m.out.count, 0, "and does nothing");
	m.vcpu[1].exists = false; /* the domain of vCPU 1 is destroyed */
	EQ(sim_event(&m, SCHED_EV_STOPPED, 0, 1, 0), SCHED_OK, "vCPU 1 stops");
	EQ(sim_where(&m, 2), 1, "the waiter gets the freed CPU at once");
	EQ(m.p.null.wait_count, 0, "the waitqueue is empty");
	sim_run(&m, 50 * MS);
	EQ(m.vcpu[2].ran, 50 * MS, "and runs there");
	EQ(m.violations, 0, "no invariant broken");
}

static void test_soft_waiter_first(void)
{
	sim_init_null(&m, 2);
	sim_create(&m, 0, 0, 0, 0);
	sim_create(&m, 1, 1, 0, 0);
	sim_create(&m, 2, 2, 0, 0); /* older waiter: hard affinity only */
	sim_create(&m, 3, 3, 0, 0);
	EQ(sim_affinity(&m, 3, 0x3, 0x2), SCHED_OK, "the younger waiter prefers CPU 1");
	EQ(m.p.null.wait_count, 2, "both wait");
	m.vcpu[1].exists = false;
	sim_event(&m, SCHED_EV_STOPPED, 0, 1, 0);
	EQ(sim_where(&m, 3), 1, "the soft-affine waiter gets CPU 1");
	EQ(sim_where(&m, 2), -1, "the older one keeps waiting");
	m.vcpu[0].exists = false;
	sim_event(&m, SCHED_EV_STOPPED, 0, 0, 0);
	EQ(sim_where(&m, 2), 0, "and gets CPU 0 (its hard affinity) next");
	EQ(m.violations, 0, "no invariant broken");
}

static void test_soft_lands(void)
{
	sim_init_null(&m, 4);
	sim_create(&m, 0, 0, 0, 0);
	EQ(sim_where(&m, 0), 0, "first free CPU without soft affinity");
	EQ(sim_affinity(&m, 0, 0xf, 0x4), SCHED_OK, "soft {2} inside hard {0-3}");
	EQ(sim_where(&m, 0), 2, "lands on CPU 2");
	sim_create(&m, 1, 1, 0, 0);
	EQ(sim_where(&m, 1), 0, "CPU 0 was given back");
	EQ(sim_affinity(&m, 1, 0xf, 0x4), SCHED_OK, "a second vCPU wants CPU 2");
	EQ(sim_where(&m, 1), 0, "CPU 2 is taken: it stays where it is, still allowed");
	EQ(sim_affinity(&m, 1, 0x4, 0x4), SCHED_OK, "hard {2}: a migration to a busy CPU");
	EQ(sim_where(&m, 1), -1, "waits");
	EQ(m.p.null.wait_count, 1, "in the waitqueue");
	EQ(m.p.null.cpu_vcpu[0], SCHED_NO_VCPU, "CPU 0 is free");
	EQ(sim_affinity(&m, 1, 0x3, 0), SCHED_OK, "hard {0,1} for the waiter");
	EQ(sim_where(&m, 1), 0, "takes a free allowed CPU at once");
	EQ(m.violations, 0, "no invariant broken");
}

static void test_block_keeps_cpu(void)
{
	sim_init_null(&m, 2);
	sim_create(&m, 0, 0, 2 * MS, 3 * MS); /* runs 2 ms, sleeps 3 ms */
	sim_create(&m, 1, 1, 0, 0);
	sim_create(&m, 2, 2, 0, 0);
	sim_run(&m, 100 * MS);
	EQ(m.vcpu[0].ran, 40 * MS, "the sleeper ran 2 ms of every 5");
	EQ(m.vcpu[2].ran, 0, "its CPU was not given to the waiter while it slept");
	EQ(m.violations, 0, "no invariant broken");
}

static void test_cpu_pool(void)
{
	static struct null_sched s;
	static struct sched_out out;
	struct sched_event ev = { .kind = SCHED_EV_CREATED, .vcpu = 0, .now = 1 };
	null_init(&s, 0x1);
	EQ(null_event(&s, &ev, &out), SCHED_OK, "vCPU 0 joins");
	ev.vcpu = 1;
	EQ(null_event(&s, &ev, &out), SCHED_OK, "vCPU 1 joins");
	EQ(s.wait_count, 1, "one CPU: vCPU 1 waits");
	ev.kind = SCHED_EV_CPU_ADD;
	ev.cpu = 1;
	EQ(null_event(&s, &ev, &out), SCHED_OK, "CPU 1 joins the pool");
	EQ(s.cpu_vcpu[1], 1, "the waiter gets it");
	EQ(out.count, 1, "one decision");
	OK(out.d[0].kind == SCHED_DEC_RUN && out.d[0].cpu == 1 && out.d[0].vcpu == 1,
	   "RUN vCPU 1 on CPU 1");
	EQ(out.d[0].slice, 0, "with no slice");
	EQ(null_event(&s, &ev, &out), SCHED_EEXIST, "adding it twice: -EEXIST");
	ev.kind = SCHED_EV_CPU_REMOVE;
	ev.cpu = 0;
	EQ(null_event(&s, &ev, &out), SCHED_OK, "CPU 0 leaves");
	EQ(s.wait_count, 1, "its vCPU waits: no free CPU");
	EQ(s.vcpu[0].cpu, 0xff, "it has no CPU");
	EQ(null_event(&s, &ev, &out), SCHED_ENOENT, "removing it twice: -ENOENT");
	ev.cpu = 99;
	EQ(null_event(&s, &ev, &out), SCHED_EINVAL, "a CPU out of range: -EINVAL");
}

static void test_errors(void)
{
	static struct null_sched s;
	static struct sched_out out;
	struct sched_event ev = { .kind = SCHED_EV_WOKEN, .vcpu = 5, .now = 1 };
	null_init(&s, 0x3);
	EQ(null_event(&s, &ev, &out), SCHED_EINVAL, "waking a vCPU that does not exist");
	ev.kind = SCHED_EV_CREATED;
	ev.vcpu = SCHED_MAX_VCPUS;
	EQ(null_event(&s, &ev, &out), SCHED_EINVAL, "a vCPU number out of range");
	ev.vcpu = 0;
	ev.dom = SCHED_MAX_DOMS;
	EQ(null_event(&s, &ev, &out), SCHED_EINVAL, "a domain number out of range");
	ev.dom = 0;
	EQ(null_event(&s, &ev, &out), SCHED_OK, "a good one");
	EQ(null_event(&s, &ev, &out), SCHED_EEXIST, "twice: -EEXIST");
	ev.kind = 77;
	EQ(null_event(&s, &ev, &out), SCHED_EINVAL, "an unknown event");
	ev.kind = SCHED_EV_SLICE_END;
	ev.cpu = 2;
	EQ(null_event(&s, &ev, &out), SCHED_EINVAL, "a CPU outside the pool");
	EQ(null_set_affinity(&s, 0, 0x4, 0, 1, &out), SCHED_EINVAL, "hard affinity outside pool");
	EQ(s.vcpu[0].hard, ~0u, "a refused affinity changes nothing");
	EQ(null_set_affinity(&s, 3, 0x1, 0, 1, &out), SCHED_ENOENT, "affinity of no vCPU");
	EQ(null_set_affinity(&s, 1000, 0x1, 0, 1, &out), SCHED_ENOENT, "vCPU out of range");
}

/** Affinities given with CREATED: placed by them from the start (the partition's case). */
static void test_created_affinity(void)
{
	static struct null_sched s;
	static struct sched_out out;
	null_init(&s, 0xf);
	struct sched_event ev = {
		.kind = SCHED_EV_CREATED, .vcpu = 0, .now = 1, .hard = 0xf, .soft = 0x4
	};
	EQ(null_event(&s, &ev, &out), SCHED_OK, "created with hard {0-3}, soft {2}");
	OK(s.vcpu[0].cpu == 2 && out.count == 1 && out.d[0].kind == SCHED_DEC_RUN &&
	           out.d[0].cpu == 2,
	   "it lands on CPU 2 at once");
	ev.vcpu = 1;
	ev.hard = 0x30;
	EQ(null_event(&s, &ev, &out), SCHED_EINVAL, "a hard affinity outside the pool is refused");
	OK(!s.vcpu[1].exists, "and creates nothing");
}

static void test_trace(void)
{
	static struct null_sched s;
	static struct sched_out out;
	struct null_trace t;
	struct sched_event ev = { .kind = SCHED_EV_CREATED, .vcpu = 7, .dom = 1, .now = 100 };
	null_init(&s, 0x6); /* CPUs 1 and 2 */
	null_event(&s, &ev, &out);
	EQ(s.trace_count, 3, "three records for a placement");
	OK(null_trace_get(&s, 0, &t), "record 0");
	EQ(t.id, 0x22A01, "pick_cpu id");
	OK(t.d0 == 7 && t.d1 == 1 && t.now == 100, "pick_cpu: vCPU 7, CPU 1, at 100");
	OK(null_trace_get(&s, 1, &t), "record 1");
	EQ(t.id, 0x22A02, "assign id");
	OK(t.d0 == 7 && t.d1 == 1, "assign: vCPU 7 to CPU 1");
	OK(null_trace_get(&s, 2, &t), "record 2");
	EQ(t.id, 0x22A05, "schedule id");
	OK(t.d0 == 1 && t.d1 == 7, "schedule: CPU 1 runs vCPU 7");
	OK(!null_trace_get(&s, 3, &t), "no record past the end");
	null_set_affinity(&s, 7, 0x4, 0, 200, &out);
	OK(null_trace_get(&s, 3, &t), "a migration writes records");
	EQ(t.id, 0x22A03, "deassign first");
	OK(t.d0 == 7 && t.d1 == 1, "deassign: vCPU 7 from CPU 1");
	OK(null_trace_get(&s, 4, &t), "then");
	EQ(t.id, 0x22A04, "migrate id");
	OK(t.d0 == 7 && t.d1 == ((2u << 16) | 1u), "migrate: vCPU 7, CPU 1 -> 2");
	ev.kind = SCHED_EV_STOPPED;
	ev.now = 300;
	null_event(&s, &ev, &out);
	uint32_t n = s.trace_count;
	OK(null_trace_get(&s, n - 2, &t) && t.id == 0x22A03 && t.d0 == 7 && t.d1 == 2,
	   "stopping deassigns vCPU 7 from CPU 2");
	OK(null_trace_get(&s, n - 1, &t) && t.id == 0x22A05 && t.d0 == 2 && t.d1 == 0xffff,
	   "and CPU 2 schedules idle");
	for (uint32_t i = 0; i < 100; i++)
		null_event(&s,
		           &(struct sched_event){ .kind = SCHED_EV_CPU_IDLE, .cpu = 1, .now = 400 },
		           &out);
	OK(null_trace_get(&s, NULL_TRACE_MAX - 1, &t) && t.now == 400, "the ring keeps the newest");
	OK(!null_trace_get(&s, NULL_TRACE_MAX, &t), "and at most NULL_TRACE_MAX records");
}

int main(void)
{
	test_one_to_one();
	test_extra_waits();
	test_soft_waiter_first();
	test_soft_lands();
	test_block_keeps_cpu();
	test_cpu_pool();
	test_errors();
	test_trace();
	test_created_affinity();
	return tap_finish();
}
