/**
 * A scheduling policy as a service partition (issue 11): one image per policy, chosen at build
 * time (SCHED_POLICY_NULL: `sched-null`, SCHED_POLICY_CREDIT2: `sched-credit2`). The manifest
 * makes it the policy of its CPUs (`sched-policy`, `sched-cpus`) and gives it, found here by
 * type so that any slot will do:
 *
 *   a memory capability (read, write) on a RAM region it maps at SCHED_RING_IPA: the event ring
 *   a notification capability (wait): the kernel signals it when it writes events
 *   a `vcpus` capability (schedule) per partition it schedules; one over itself, if present,
 *   puts it above them on its CPU, so that every event runs it at once
 *
 * It reads each vCPU's weight, cap, affinities and state with HC_SCHED_INFO, tells the policy
 * (null.c or credit2.c) about them, then loops: wait for the notification, turn each ring event
 * into the policy's events (plan.c), and the policy's answers into HC_SCHED_SET settings.
 *
 * Its state lives in .bss: a restarted instance (`restartable`) rebuilds it from the kernel,
 * which kept executing the last plan meanwhile (docs/scheduling.md, "A policy that stops").
 */
#include <ipc/sched.h>
#include <svc/svc.h>
#include <svc_arch.h>

#include "plan.h"

#if defined(SCHED_POLICY_NULL)
#include "null.h"
#define POLICY_NAME "null"
#define POLICY_HOLDS true
static struct null_sched pol;
#elif defined(SCHED_POLICY_CREDIT2)
#include "credit2.h"
#define POLICY_NAME "credit2"
#define POLICY_HOLDS false
static struct c2_sched pol;
#else
#error "build with SCHED_POLICY_NULL or SCHED_POLICY_CREDIT2"
#endif

/** Where the manifest maps the event ring. */
#define SCHED_RING_IPA 0x300000u
/** Priorities: the vCPUs it schedules, and itself when it holds a capability over itself. */
#define PRIO_SCHEDULED 1u
#define PRIO_SELF 2u
#define NO_SLOT 0xffu
/** Failed settings reported on the console (all are counted). */
#define LOG_MAX 8u

static struct sched_ring_header *const ring = (struct sched_ring_header *)(uintptr_t)SCHED_RING_IPA;
static struct plan plan;
static struct sched_out out;
static struct plan_set sets[PLAN_SETS_MAX];
static uint32_t weight[SCHED_MAX_DOMS], cap[SCHED_MAX_DOMS];
static uint32_t set_failures, lost_seen;
static bool summary_done;

static uint64_t hc(uint64_t nr, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                   uint64_t r6, uint64_t r7, uint64_t r[IPC_REG_COUNT])
{
	r[0] = nr;
	r[1] = r1;
	r[2] = r2;
	r[3] = r3;
	r[4] = r4;
	r[5] = r5;
	r[6] = r6;
	r[7] = r7;
	r[8] = 0;
	svc_hypercall(r);
	return r[0];
}

/** Carries out the settings of one answer. */
static void apply(void)
{
	uint32_t n = plan_answer(&plan, &out, sets);
	for (uint32_t i = 0; i < n; i++) {
		const struct plan_set *s = &sets[i];
		const struct plan_vcpu *v = &plan.v[s->vcpu];
		uint64_t r[IPC_REG_COUNT];
		uint64_t st = hc(HC_SCHED_SET, v->slot, v->index, s->cpu, s->prio_flags, s->slice,
		                 s->budget, s->period, r);
		if (st != STATUS_OK && set_failures++ < LOG_MAX)
			svc_printf("setting vCPU %u of slot %u on CPU %u failed: status %u\n",
			           (unsigned)v->index, (unsigned)v->slot, (unsigned)s->cpu,
			           (unsigned)st);
#ifdef SCHED_POLICY_NULL
		/* Null decides rarely: each placement is worth a line (the tests count them). */
		if ((s->prio_flags & SCHED_SET_NOW) != 0)
			svc_printf("cpu %u runs partition %u vcpu %u\n", (unsigned)s->cpu,
			           (unsigned)v->partition, (unsigned)v->index);
#endif
	}
}

#ifdef SCHED_POLICY_NULL
static int policy_event(const struct sched_event *ev)
{
	return null_event(&pol, ev, &out);
}

static void policy_configure(uint32_t id, const struct plan_vcpu *v, uint64_t now)
{
	null_set_affinity(&pol, id, v->hard, v->soft, now, &out);
	apply();
}

static void policy_init(sched_cpumask_t cpus)
{
	null_init(&pol, cpus);
}
#else
static bool dom_set[SCHED_MAX_DOMS];

static int policy_event(const struct sched_event *ev)
{
	return c2_event(&pol, ev, &out);
}

/** Affinities, then the domain's weight and cap once it has a vCPU (else -ENOENT). */
static void policy_configure(uint32_t id, const struct plan_vcpu *v, uint64_t now)
{
	c2_set_affinity(&pol, id, v->hard, v->soft, now, &out);
	apply();
	if (dom_set[v->dom])
		return;
	dom_set[v->dom] = true;
	if (c2_set_dom(&pol, v->dom, weight[v->dom], cap[v->dom], now, &out) != SCHED_OK)
		svc_printf("weight %u cap %u refused for domain %u\n", (unsigned)weight[v->dom],
		           (unsigned)cap[v->dom], (unsigned)v->dom);
	apply();
}

static void policy_init(sched_cpumask_t cpus)
{
	struct sched_topology topo = { 0 };
	while (topo.cpu_count < SCHED_MAX_CPUS && (cpus >> topo.cpu_count) != 0)
		topo.cpu_count++;
	/* QEMU's virt machine and the PC: one thread per core, one socket, one node. */
	for (uint32_t c = 0; c < topo.cpu_count; c++)
		topo.core[c] = (uint8_t)c;
	c2_init(&pol, &topo, cpus, C2_RQ_SOCKET);
}
#endif

/** Gives the policy one event and carries out its answer (and a new vCPU's settings). */
static void feed(const struct sched_event *ev)
{
	if (policy_event(ev) != SCHED_OK)
		return;
	apply();
	if (ev->kind == SCHED_EV_CREATED)
		policy_configure(ev->vcpu, &plan.v[ev->vcpu], ev->now);
}

static void feed_ring_event(const struct sched_ring_event *re)
{
	struct sched_event ev[PLAN_EVENTS_MAX];
	uint32_t n = plan_event(&plan, re, ev);
	for (uint32_t i = 0; i < n; i++)
		feed(&ev[i]);
}

/** Finds the ring's memory capability and the notification; false if either is missing. */
static bool find_ring(uint32_t *ring_slot, uint32_t *ntf_slot)
{
	*ring_slot = *ntf_slot = NO_SLOT;
	for (uint32_t i = 0; i < CAP_SLOT_COUNT; i++) {
		uint32_t type, rights;
		uint64_t badge;
		const uint32_t rw = RIGHT_MEM_READ | RIGHT_MEM_WRITE;
		if (svc_cap_info(i, &type, &rights, &badge) != STATUS_OK)
			continue;
		if (type == CAP_MEMORY && (rights & rw) == rw && *ring_slot == NO_SLOT)
			*ring_slot = i;
		if (type == CAP_NOTIFICATION && (rights & RIGHT_NTF_WAIT) != 0 &&
		    *ntf_slot == NO_SLOT)
			*ntf_slot = i;
	}
	return *ring_slot != NO_SLOT && *ntf_slot != NO_SLOT;
}

/**
 * Finds the vCPUs of every `vcpus` capability (schedule): each partition is one domain of the
 * policy; the capability over itself, if any, gives its own slot and CPU.
 */
static void find_vcpus(uint32_t *self_slot, uint32_t *self_cpu)
{
	uint32_t dom = 0;
	*self_slot = NO_SLOT;
	for (uint32_t i = 0; i < CAP_SLOT_COUNT && dom < SCHED_MAX_DOMS; i++) {
		uint32_t type, rights;
		uint64_t badge;
		if (svc_cap_info(i, &type, &rights, &badge) != STATUS_OK || type != CAP_VCPUS ||
		    (rights & RIGHT_VCPUS_SCHEDULE) == 0)
			continue;
		bool counted = false;
		for (uint32_t idx = 0; idx < 256u; idx++) {
			uint64_t r[IPC_REG_COUNT];
			if (hc(HC_SCHED_INFO, i, idx, 0, 0, 0, 0, 0, r) != STATUS_OK)
				break;
			if ((r[6] & SCHED_INFO_R6_SELF) != 0) {
				*self_slot = i;
				*self_cpu = (uint32_t)r[2];
				break;
			}
			if (plan_add_vcpu(&plan, i, idx, SCHED_INFO_R6_PARTITION(r[6]), dom,
			                  (uint32_t)r[2], r[7], r[8]) == SCHED_NO_VCPU) {
				svc_printf(
				        "vCPU %u of slot %u: none of my CPUs, or too many vCPUs\n",
				        (unsigned)idx, (unsigned)i);
				continue;
			}
			weight[dom] = SCHED_INFO_R6_WEIGHT(r[6]);
			cap[dom] = SCHED_INFO_R6_CAP(r[6]);
			counted = true;
		}
		if (counted) {
			plan_set_cap(&plan, dom, cap[dom]);
			dom++;
		}
	}
}

/** The policy learns of every vCPU that runs or waits now, as the kernel tells it. */
static void rebuild(void)
{
	for (uint32_t id = 0; id < plan.vcpu_count; id++) {
		const struct plan_vcpu *v = &plan.v[id];
		uint64_t r[IPC_REG_COUNT];
		if (hc(HC_SCHED_INFO, v->slot, v->index, 0, 0, 0, 0, 0, r) != STATUS_OK)
			continue;
		struct sched_ring_event re = { .cpu = (uint32_t)r[2],
			                       .partition = v->partition,
			                       .vcpu = v->index,
			                       .now = plan.now };
		switch (r[1]) {
		case SCHED_INFO_RUNNABLE:
		case SCHED_INFO_DEPLETED:
			re.kind = SCHED_RING_STARTED;
			break;
		case SCHED_INFO_BLOCKED:
			re.kind = SCHED_RING_BLOCKED;
			break;
		case SCHED_INFO_STOPPED:
			re.kind = SCHED_RING_STOPPED;
			break;
		default:
			continue; /* off: it comes with STARTED */
		}
		feed_ring_event(&re);
	}
}

static void drain(void)
{
	const struct sched_ring_event *evs =
	        (const struct sched_ring_event *)(uintptr_t)(SCHED_RING_IPA +
	                                                     SCHED_RING_HEADER_SIZE);
	uint32_t head = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
	uint32_t count = ring->count;
	for (uint32_t t = ring->tail; t != head; t++) {
		struct sched_ring_event re = evs[t & (count - 1u)];
		feed_ring_event(&re);
	}
	__atomic_store_n(&ring->tail, head, __ATOMIC_RELEASE);
	uint32_t lost = __atomic_load_n(&ring->lost, __ATOMIC_RELAXED);
	if (lost != lost_seen) {
		svc_printf("%u events lost: the ring was full\n", (unsigned)(lost - lost_seen));
		lost_seen = lost;
	}
}

static void summary(void)
{
	const struct plan_stats *st = &plan.st;
	svc_printf("all %u vCPUs stopped: %u runs, %u holds, %u slice ends, %u budget ends, "
	           "%u parks, %u timers, %u failed settings\n",
	           (unsigned)plan.vcpu_count, (unsigned)st->runs, (unsigned)st->holds,
	           (unsigned)st->slice_ends, (unsigned)st->budgets, (unsigned)st->parks,
	           (unsigned)st->timers, (unsigned)set_failures);
}

int svc_main(uint64_t arg)
{
	(void)arg;
	uint32_t ring_slot, ntf_slot, self_slot, self_cpu = 0;
	uint64_t r[IPC_REG_COUNT];
	if (!find_ring(&ring_slot, &ntf_slot)) {
		svc_printf("no ring or no notification capability\n");
		return 1;
	}
	if (hc(HC_SCHED_RING, ring_slot, ntf_slot, 0, 0, 0, 0, 0, r) != STATUS_OK) {
		svc_printf("the kernel refused my event ring: status %u\n", (unsigned)r[0]);
		return 1;
	}
	sched_cpumask_t cpus = (sched_cpumask_t)r[2];
	plan_init(&plan, cpus, PRIO_SCHEDULED, POLICY_HOLDS);
	find_vcpus(&self_slot, &self_cpu);
	/* Above the vCPUs it schedules on its own CPU, with no slice: every event runs it. */
	if (self_slot == NO_SLOT ||
	    hc(HC_SCHED_SET, self_slot, 0, self_cpu, PRIO_SELF, 0, 0, 0, r) != STATUS_OK)
		plan.prio = 0;
	policy_init(cpus);
	svc_printf("policy " POLICY_NAME " on CPUs 0x%x: %u vCPUs%s\n", (unsigned)cpus,
	           (unsigned)plan.vcpu_count, plan.prio == 0 ? " (at their priority)" : "");
	rebuild();
	for (;;) {
		uint64_t bits;
		drain();
		if (!summary_done && plan_all_stopped(&plan)) {
			summary_done = true;
			summary();
		}
		svc_wait(ntf_slot, &bits);
	}
}
