/**
 * Host tests of the policy partitions' translation (services/sched/plan.c): ring events to the
 * policy's events (mapping, a vCPU the policy does not know yet, the due TIMER first, time that
 * never goes back, events that are not the policy's), answers to HC_SCHED_SET settings (RUN
 * with SCHED_SET_NOW, slices the kernel can time, holding with and without `hold`, caps as
 * budgets), and two runs through the real policies: null's waiter held until a CPU frees, and
 * Credit2 at weights 512:256 on a small model of the kernel's CPU (2:1 within 2 %).
 */
#include <string.h>

#include "credit2.h"
#include "null.h"
#include "plan.h"
#include "tap.h"

#define MS 1000000ull

static struct plan p;
static struct sched_event ev[PLAN_EVENTS_MAX];
static struct plan_set sets[PLAN_SETS_MAX];
static struct sched_out out;

static struct sched_ring_event ring_ev(uint32_t kind, uint32_t cpu, uint32_t part, uint32_t vcpu,
                                       uint64_t now)
{
	return (struct sched_ring_event){
		.kind = kind, .cpu = cpu, .partition = part, .vcpu = vcpu, .now = now
	};
}

static uint32_t event(uint32_t kind, uint32_t cpu, uint32_t part, uint32_t vcpu, uint64_t now)
{
	struct sched_ring_event re = ring_ev(kind, cpu, part, vcpu, now);
	return plan_event(&p, &re, ev);
}

static void test_add(void)
{
	plan_init(&p, 0x3, 1, false);
	EQ(plan_add_vcpu(&p, 3, 0, 5, 0, 1, 0xf, 0x4), 0, "a vCPU gets id 0");
	EQ(p.v[0].hard, 0x3, "hard affinity cut to the policy's CPUs");
	EQ(p.v[0].soft, 0x3, "soft outside the hard one means the hard one");
	EQ(plan_add_vcpu(&p, 3, 1, 5, 0, 1, 0xf, 0x2), 1, "a second");
	EQ(p.v[1].soft, 0x2, "soft kept when it restricts");
	EQ(plan_add_vcpu(&p, 4, 0, 6, 1, 2, 0x4, 0x4), SCHED_NO_VCPU,
	   "a vCPU that may run on none of its CPUs is refused");
	EQ(plan_add_vcpu(&p, 4, 0, 6, SCHED_MAX_DOMS, 0, 0x1, 0x1), SCHED_NO_VCPU,
	   "a domain out of range is refused");
	EQ(plan_find(&p, 5, 1), 1, "found by partition and index");
	EQ(plan_find(&p, 6, 0), SCHED_NO_VCPU, "an unknown one is not");
	for (uint32_t i = 2; i < SCHED_MAX_VCPUS; i++)
		plan_add_vcpu(&p, 5, i, 7, 2, 0, 0x1, 0x1);
	EQ(plan_add_vcpu(&p, 5, 99, 7, 2, 0, 0x1, 0x1), SCHED_NO_VCPU, "at most 32 vCPUs");
}

static void test_cap(void)
{
	plan_init(&p, 0x1, 1, false);
	plan_add_vcpu(&p, 0, 0, 1, 0, 0, 0x1, 0x1);
	plan_add_vcpu(&p, 1, 0, 2, 1, 0, 0x1, 0x1);
	plan_add_vcpu(&p, 1, 1, 2, 1, 0, 0x1, 0x1);
	plan_set_cap(&p, 0, 50);
	OK(p.v[0].budget == 5 * MS && p.v[0].period == 10 * MS, "cap 50: 5 ms per 10 ms");
	plan_set_cap(&p, 1, 150);
	OK(p.v[1].budget == 7500000 && p.v[2].budget == 7500000, "cap 150 over two: 7.5 ms each");
	plan_set_cap(&p, 0, 100);
	OK(p.v[0].budget == 0 && p.v[0].period == 0, "cap 100 on one vCPU is no cap");
	plan_set_cap(&p, 1, 0);
	OK(p.v[1].budget == 0 && p.v[2].period == 0, "cap 0 is none");
	plan_set_cap(&p, 0, 0);
	plan_set_cap(&p, 0, 0);
	OK(p.v[0].budget == 0, "cap off stays off");
}

static void test_events(void)
{
	plan_init(&p, 0x3, 1, false);
	plan_add_vcpu(&p, 2, 0, 4, 0, 1, 0x3, 0x3);
	EQ(event(SCHED_RING_STARTED, 1, 4, 0, 100), 1, "STARTED: one event");
	OK(ev[0].kind == SCHED_EV_CREATED && ev[0].vcpu == 0 && ev[0].cpu == 1 && ev[0].now == 100,
	   "of a vCPU the policy does not know: CREATED");
	OK(ev[0].hard == 0x3 && ev[0].soft == 0x3, "with its affinities");
	OK(p.v[0].created && p.v[0].fresh, "it is known, and fresh");
	event(SCHED_RING_WOKEN, 1, 4, 0, 200);
	EQ(ev[0].kind, SCHED_EV_WOKEN, "WOKEN of a known vCPU: WOKEN");
	event(SCHED_RING_BLOCKED, 1, 4, 0, 150);
	OK(ev[0].kind == SCHED_EV_BLOCKED && ev[0].now == 200, "time never goes back");
	OK(p.v[0].blocked, "it waits");
	EQ(event(SCHED_RING_SLICE_END, 0, 0xffffffffu, 0xffffffffu, 300), 1, "SLICE_END");
	OK(ev[0].kind == SCHED_EV_SLICE_END && ev[0].cpu == 0, "for its CPU");
	event(SCHED_RING_BUDGET, 1, 4, 0, 300);
	OK(ev[0].kind == SCHED_EV_SLICE_END && ev[0].cpu == 1 && p.st.budgets == 1,
	   "BUDGET: the slice ended for the policy");
	event(SCHED_RING_IDLE, 0, 0xffffffffu, 0xffffffffu, 300);
	EQ(ev[0].kind, SCHED_EV_CPU_IDLE, "IDLE: CPU_IDLE");
	EQ(event(SCHED_RING_IDLE, 2, 0xffffffffu, 0xffffffffu, 300), 0, "not on its CPUs: nothing");
	EQ(event(SCHED_RING_WOKEN, 0, 9, 0, 300), 0, "a vCPU it does not schedule: nothing");
	EQ(event(77, 0, 4, 0, 300), 0, "an unknown kind: nothing");
	EQ(p.st.ignored, 2, "both counted as ignored");
	EQ(event(SCHED_RING_STOPPED, 1, 4, 0, 400), 1, "STOPPED");
	OK(ev[0].kind == SCHED_EV_STOPPED && !p.v[0].created && p.v[0].stopped,
	   "the policy forgets it");
	OK(plan_all_stopped(&p), "all its vCPUs stopped");
	EQ(event(SCHED_RING_STOPPED, 1, 4, 0, 400), 0, "stopped twice: nothing more");
	EQ(event(SCHED_RING_BLOCKED, 1, 4, 0, 500), 2, "BLOCKED of an unknown one: two events");
	OK(ev[0].kind == SCHED_EV_CREATED && ev[1].kind == SCHED_EV_BLOCKED,
	   "CREATED, then BLOCKED");
	p.timer = 600;
	EQ(event(SCHED_RING_IDLE, 0, 0xffffffffu, 0xffffffffu, 599), 1,
	   "before the timer: no TIMER");
	EQ(event(SCHED_RING_IDLE, 0, 0xffffffffu, 0xffffffffu, 600), 2, "at it: two events");
	OK(ev[0].kind == SCHED_EV_TIMER && ev[0].now == 600 && ev[1].kind == SCHED_EV_CPU_IDLE,
	   "the TIMER comes first");
	EQ(event(SCHED_RING_IDLE, 0, 0xffffffffu, 0xffffffffu, 700), 1, "and only once");
}

static void test_answer(void)
{
	plan_init(&p, 0x3, 1, true);
	plan_add_vcpu(&p, 2, 0, 4, 0, 0, 0x3, 0x3);
	plan_add_vcpu(&p, 3, 0, 5, 0, 1, 0x1, 0x1);
	plan_set_cap(&p, 0, 30);
	event(SCHED_RING_STARTED, 0, 4, 0, 10);
	event(SCHED_RING_STARTED, 1, 5, 0, 10);
	sched_out_reset(&out);
	sched_out_push(&out, SCHED_DEC_RUN, 1, 0, 100);
	sched_out_push(&out, SCHED_DEC_RUN, 1, 1, 0);
	out.timer = 1234;
	uint32_t n = plan_answer(&p, &out, sets);
	EQ(n, 2, "one RUN set, one hold");
	OK(sets[0].vcpu == 0 && sets[0].cpu == 1 && sets[0].prio_flags == (1u | SCHED_SET_NOW) &&
	           sets[0].slice == SCHED_TIME_MIN && sets[0].budget == 1500000 &&
	           sets[0].period == 10 * MS,
	   "RUN: NOW at its priority, a slice the kernel can time, the cap's budget");
	OK(sets[1].vcpu == 1 && sets[1].cpu == 0 && sets[1].prio_flags == (1u | SCHED_SET_PARK),
	   "a RUN outside the hard affinity is dropped; the fresh vCPU not run is held, on a "
	   "CPU its hard affinity allows");
	EQ(p.timer, 1234, "the timer wish is kept");
	EQ(p.on_cpu[1], 0, "vCPU 0 is on CPU 1");
	sched_out_reset(&out);
	sched_out_push(&out, SCHED_DEC_IDLE, 1, SCHED_NO_VCPU, 0);
	sched_out_push(&out, SCHED_DEC_RUN, 0, 1, 0);
	n = plan_answer(&p, &out, sets);
	OK(n == 2 && sets[0].vcpu == 1 && sets[0].prio_flags == (1u | SCHED_SET_NOW) &&
	           sets[1].vcpu == 0 && sets[1].prio_flags == (1u | SCHED_SET_PARK),
	   "IDLE: the runnable vCPU it left is held, after the answer's RUNs");
	EQ(p.on_cpu[1], SCHED_NO_VCPU, "CPU 1 runs nothing");
	sched_out_reset(&out);
	sched_out_push(&out, SCHED_DEC_RUN, 1, 0, 0);
	plan_answer(&p, &out, sets);
	event(SCHED_RING_BLOCKED, 1, 4, 0, 20);
	sched_out_reset(&out);
	sched_out_push(&out, SCHED_DEC_IDLE, 1, SCHED_NO_VCPU, 0);
	EQ(plan_answer(&p, &out, sets), 0, "a blocked vCPU is not held: its wake-up runs it");
	sched_out_reset(&out);
	sched_out_push(&out, SCHED_DEC_PARK, PLAN_NO_CPU, 1, 0);
	sched_out_push(&out, SCHED_DEC_IDLE, 0, SCHED_NO_VCPU, 0);
	OK(plan_answer(&p, &out, sets) == 0 && p.v[1].capped,
	   "PARK for a cap: no setting (the kernel's budget holds it), not held either");
	sched_out_reset(&out);
	sched_out_push(&out, SCHED_DEC_UNPARK, PLAN_NO_CPU, 1, 0);
	plan_answer(&p, &out, sets);
	OK(!p.v[1].capped, "UNPARK");

	plan_init(&p, 0x1, 1, false);
	plan_add_vcpu(&p, 2, 0, 4, 0, 0, 0x1, 0x1);
	plan_add_vcpu(&p, 3, 0, 5, 1, 0, 0x1, 0x1);
	event(SCHED_RING_STARTED, 0, 4, 0, 10);
	event(SCHED_RING_STARTED, 0, 5, 0, 10);
	sched_out_reset(&out);
	sched_out_push(&out, SCHED_DEC_RUN, 0, 0, 2 * MS);
	n = plan_answer(&p, &out, sets);
	OK(n == 2 && sets[1].vcpu == 1 && sets[1].prio_flags == 1u &&
	           sets[1].slice == PLAN_QUEUED_SLICE,
	   "without hold, a fresh vCPU not run waits as an equal");
	sched_out_reset(&out);
	sched_out_push(&out, SCHED_DEC_IDLE, 0, SCHED_NO_VCPU, 0);
	EQ(plan_answer(&p, &out, sets), 0, "and IDLE holds nothing");
}

static void test_affinity(void)
{
	plan_init(&p, 0x7, 1, false);
	plan_add_vcpu(&p, 2, 0, 4, 0, 2, 0x6, 0x2);
	OK(!plan_set_affinity(&p, 0, 0x9, 0) && !plan_set_affinity(&p, 0, 0, 0) &&
	           !plan_set_affinity(&p, 0, 0x2, 0x4) && !plan_set_affinity(&p, 1, 0x2, 0),
	   "beyond the manifest's, empty, soft outside hard, no such vCPU: refused");
	OK(p.v[0].hard == 0x6 && p.v[0].soft == 0x2, "and nothing changed");
	OK(plan_set_affinity(&p, 0, 0x2, 0) && p.v[0].hard == 0x2 && p.v[0].soft == 0x2,
	   "narrowed to CPU 1 (soft 0: the hard one)");
	event(SCHED_RING_STARTED, 2, 4, 0, 10);
	sched_out_reset(&out);
	uint32_t n = plan_answer(&p, &out, sets);
	OK(n == 1 && sets[0].vcpu == 0 && sets[0].cpu == 1 && sets[0].prio_flags == 1u &&
	           sets[0].slice == PLAN_QUEUED_SLICE && p.v[0].cpu == 1,
	   "not run, and on a CPU outside its hard affinity: it waits on CPU 1");
	EQ(plan_answer(&p, &out, sets), 0, "once");
	OK(plan_set_affinity(&p, 0, 0x6, 0x4), "widened again");
	EQ(plan_answer(&p, &out, sets), 0, "inside its affinity it stays");

	plan_init(&p, 0x7, 1, true);
	plan_add_vcpu(&p, 2, 0, 4, 0, 2, 0x6, 0x6);
	event(SCHED_RING_STARTED, 2, 4, 0, 10);
	sched_out_reset(&out);
	sched_out_push(&out, SCHED_DEC_RUN, 2, 0, 0);
	plan_answer(&p, &out, sets);
	plan_set_affinity(&p, 0, 0x2, 0);
	sched_out_reset(&out);
	sched_out_push(&out, SCHED_DEC_IDLE, 2, SCHED_NO_VCPU, 0);
	n = plan_answer(&p, &out, sets);
	OK(n == 1 && sets[0].cpu == 1 && sets[0].prio_flags == (1u | SCHED_SET_PARK) && p.v[0].held,
	   "with hold, one moved off its CPU is held on CPU 1");
}

/** Feeds one ring event to the null policy and applies its answer to the plan. */
static uint32_t null_step(struct null_sched *s, uint32_t kind, uint32_t cpu, uint32_t part,
                          uint64_t now)
{
	uint32_t n = event(kind, cpu, part, 0, now), total = 0;
	for (uint32_t i = 0; i < n; i++) {
		null_event(s, &ev[i], &out);
		total += plan_answer(&p, &out, sets + total);
	}
	return total;
}

static void test_null_waiter(void)
{
	static struct null_sched s;
	null_init(&s, 0x3);
	plan_init(&p, 0x3, 1, true);
	for (uint32_t i = 0; i < 3; i++)
		plan_add_vcpu(&p, i, 0, 10 + i, i, i % 2, 0x3, 0x3);
	uint32_t n = null_step(&s, SCHED_RING_STARTED, 0, 10, 1);
	OK(n == 1 && sets[0].cpu == 0 && sets[0].slice == 0 && (sets[0].prio_flags & SCHED_SET_NOW),
	   "null: the first vCPU runs on CPU 0 with no slice");
	n = null_step(&s, SCHED_RING_STARTED, 1, 11, 2);
	OK(n == 1 && sets[0].cpu == 1, "the second on CPU 1");
	n = null_step(&s, SCHED_RING_STARTED, 0, 12, 3);
	OK(n == 1 && sets[0].vcpu == 2 && (sets[0].prio_flags & SCHED_SET_PARK),
	   "the third waits: held in the kernel");
	n = null_step(&s, SCHED_RING_WOKEN, 0, 12, 4);
	EQ(n, 0, "its wake-up does nothing");
	n = null_step(&s, SCHED_RING_STOPPED, 1, 11, 5);
	OK(n == 1 && sets[0].vcpu == 2 && sets[0].cpu == 1 &&
	           sets[0].prio_flags == (1u | SCHED_SET_NOW) && !p.v[2].held,
	   "when CPU 1 frees, the waiter runs there, no longer held");
}

/**
 * Credit2 through the plan on a model of one kernel CPU: the settings' vCPU runs (NOW puts
 * it first) until its slice ends, then the kernel takes the next equal and reports SLICE_END.
 */
static void test_credit2_weights(void)
{
	static struct c2_sched s;
	struct sched_topology topo = { .cpu_count = 1 };
	c2_init(&s, &topo, 0x1, C2_RQ_SOCKET);
	plan_init(&p, 0x1, 1, false);
	plan_add_vcpu(&p, 0, 0, 1, 0, 0, 0x1, 0x1);
	plan_add_vcpu(&p, 1, 0, 2, 1, 0, 0x1, 0x1);
	uint64_t slice[2] = { 1 * MS, 1 * MS }, ran[2] = { 0, 0 }, now = 0;
	uint32_t cur = 0, sets_total = 0, failed = 0;
	for (uint32_t v = 0; v < 2; v++) {
		uint32_t n = event(SCHED_RING_STARTED, 0, 1 + v, 0, now);
		for (uint32_t i = 0; i < n; i++) {
			c2_event(&s, &ev[i], &out);
			plan_answer(&p, &out, sets);
		}
		c2_set_dom(&s, v, v == 0 ? 512 : 256, 0, now, &out);
		plan_answer(&p, &out, sets);
	}
	while (now < 2000 * MS) {
		now += slice[cur];
		ran[cur] += slice[cur];
		uint32_t next = 1 - cur; /* the kernel's turn: the other equal */
		uint32_t n = event(SCHED_RING_SLICE_END, 0, 0xffffffffu, 0xffffffffu, now);
		for (uint32_t i = 0; i < n; i++) {
			failed += c2_event(&s, &ev[i], &out) != SCHED_OK;
			uint32_t k = plan_answer(&p, &out, sets);
			sets_total += k;
			for (uint32_t j = 0; j < k; j++) {
				slice[sets[j].vcpu] = sets[j].slice ? sets[j].slice :
				                                      PLAN_QUEUED_SLICE;
				if (sets[j].prio_flags & SCHED_SET_NOW)
					next = sets[j].vcpu;
			}
		}
		cur = next;
	}
	uint64_t share = ran[0] * 1000u / ran[1];
	printf("# a:b = %u.%03u, %u settings\n", (unsigned)(share / 1000u),
	       (unsigned)(share % 1000u), (unsigned)sets_total);
	OK(share >= 1960 && share <= 2040, "Credit2 via the plan: 512:256 gives 2:1 within 2 %");
	OK(failed == 0 && sets_total > 100, "every event accepted, the policy answered each");
}

int main(void)
{
	test_add();
	test_cap();
	test_events();
	test_answer();
	test_affinity();
	test_null_waiter();
	test_credit2_weights();
	return tap_finish();
}
