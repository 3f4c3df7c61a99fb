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
 * Its state (struct sched_state: the plan and the policy's struct) lives in a RAM region the
 * manifest maps at SCHED_STATE_IPA. Marked `preserve;` on a `restartable` policy, it survives
 * a crash: the successor (the kernel kept executing the last plan meanwhile, docs/scheduling.md
 * "A policy that stops") finds the same vCPUs there, catches up with what it missed from each
 * vCPU's state (HC_SCHED_INFO) and decides every CPU again. Otherwise, or when the vCPUs it
 * finds differ, it starts afresh from the kernel's view.
 *
 * Both mappings are required (the service reads and writes them from the start).
 *
 * SCHED_CRASH_TEST builds the kill test's variant (sched-credit2-crash): it faults after a
 * pseudo-random event, SCHED_CRASH_LIMIT times in all, counting in the preserved state.
 */
#include <ipc/sched.h>
#include <svc/svc.h>
#include <svc_arch.h>

#include "plan.h"

#if defined(SCHED_POLICY_NULL)
#include "null.h"
#define POLICY_NAME "null"
#define POLICY_HOLDS true
#define POLICY_KEEPS_TIME 0
typedef struct null_sched policy_t;
#elif defined(SCHED_POLICY_CREDIT2)
#include "credit2.h"
#define POLICY_NAME "credit2"
#define POLICY_HOLDS false
#define POLICY_KEEPS_TIME 1
typedef struct c2_sched policy_t;
#else
#error "build with SCHED_POLICY_NULL or SCHED_POLICY_CREDIT2"
#endif

/** Where the manifest maps the event ring and the state (at least SCHED_STATE_REGION bytes). */
#define SCHED_RING_IPA 0x300000u
#define SCHED_STATE_IPA 0x400000u
#define SCHED_STATE_REGION 0x10000u
#define SCHED_STATE_MAGIC 0x44454353u /* "SCED" */
/** Priorities: the vCPUs it schedules, and itself when it holds a capability over itself. */
#define PRIO_SCHEDULED 1u
#define PRIO_SELF 2u
#define NO_SLOT 0xffu
/** Failed settings reported on the console (all are counted). */
#define LOG_MAX 8u

/** Everything a successor needs: in the preserved region. */
struct sched_state {
	uint32_t magic;
	uint32_t set_failures, lost_seen, lost_reports;
	bool summary_done;
	bool dom_set[SCHED_MAX_DOMS]; /**< weight and cap given to the policy */
	uint32_t weight[SCHED_MAX_DOMS], cap[SCHED_MAX_DOMS];
	uint64_t crashes, rng;          /**< the kill test's (SCHED_CRASH_TEST) */
	uint8_t shown[SCHED_MAX_VCPUS]; /**< null: the CPU last reported per vCPU */
	struct plan plan;
	policy_t pol;
};

_Static_assert(sizeof(struct sched_state) <= SCHED_STATE_REGION,
               "struct sched_state must fit in the state region");

static struct sched_ring_header *const ring = (struct sched_ring_header *)(uintptr_t)SCHED_RING_IPA;
static struct sched_state *const st = (struct sched_state *)(uintptr_t)SCHED_STATE_IPA;
/** What one answer needs: never kept across events. */
static struct sched_out out;
static struct plan_set sets[PLAN_SETS_MAX];
/** The vCPUs this instance found, compared with the preserved ones. */
static struct plan found;

#ifdef SCHED_CRASH_TEST
#define SCHED_CRASH_LIMIT 6u
/** One event in this many is followed by a fault (the generator's state is preserved). */
#define SCHED_CRASH_ODDS 31u
static void crash_point(void)
{
	if (st->crashes >= SCHED_CRASH_LIMIT)
		return;
	st->rng = st->rng * 6364136223846793005ull + 1442695040888963407ull;
	if ((st->rng >> 33) % SCHED_CRASH_ODDS == 0) {
		st->crashes++;
		arch_undefined_instruction(); /* a fault, not an exit: the kernel restarts it */
	}
}
#else
static void crash_point(void)
{
}
#endif

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
	uint32_t n = plan_answer(&st->plan, &out, sets);
	for (uint32_t i = 0; i < n; i++) {
		const struct plan_set *s = &sets[i];
		const struct plan_vcpu *v = &st->plan.v[s->vcpu];
		uint64_t r[IPC_REG_COUNT];
		uint64_t status = hc(HC_SCHED_SET, v->slot, v->index, s->cpu, s->prio_flags,
		                     s->slice, s->budget, s->period, r);
		if (status != STATUS_OK && st->set_failures++ < LOG_MAX)
			svc_printf("setting vCPU %u of slot %u on CPU %u failed: status %u\n",
			           (unsigned)v->index, (unsigned)v->slot, (unsigned)s->cpu,
			           (unsigned)status);
#ifdef SCHED_POLICY_NULL
		/*
		 * Null places rarely: each new placement is worth a line (the tests count them);
		 * not each wake-up, which RUNs the vCPU again where it is.
		 */
		if ((s->prio_flags & SCHED_SET_NOW) != 0 && st->shown[s->vcpu] != s->cpu) {
			st->shown[s->vcpu] = (uint8_t)s->cpu;
			svc_printf("cpu %u runs partition %u vcpu %u\n", (unsigned)s->cpu,
			           (unsigned)v->partition, (unsigned)v->index);
		}
#endif
	}
}

#ifdef SCHED_POLICY_NULL
static int policy_event(const struct sched_event *ev)
{
	return null_event(&st->pol, ev, &out);
}

/** Null has nothing per domain (the affinities came with CREATED). */
static void policy_configure(const struct plan_vcpu *v, uint64_t now)
{
	(void)v;
	(void)now;
}

static void policy_init(sched_cpumask_t cpus)
{
	null_init(&st->pol, cpus);
}

/** Null keeps no time (POLICY_KEEPS_TIME): a successor catches up at once. */
static bool policy_resume(uint64_t now)
{
	(void)now;
	return true;
}
#else
static int policy_event(const struct sched_event *ev)
{
	return c2_event(&st->pol, ev, &out);
}

/** The domain's weight and cap, once it has a vCPU (else -ENOENT); affinities came with CREATED. */
static void policy_configure(const struct plan_vcpu *v, uint64_t now)
{
	if (st->dom_set[v->dom])
		return;
	st->dom_set[v->dom] = true;
	if (c2_set_dom(&st->pol, v->dom, st->weight[v->dom], st->cap[v->dom], now, &out) !=
	    SCHED_OK)
		svc_printf("weight %u cap %u refused for domain %u\n", (unsigned)st->weight[v->dom],
		           (unsigned)st->cap[v->dom], (unsigned)v->dom);
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
	c2_init(&st->pol, &topo, cpus, C2_RQ_SOCKET);
}

/**
 * Credit2 charges by time: a successor waits for the kernel's next event, which tells the
 * time, and charges nobody for the gap (the kernel ran the last plan meanwhile).
 */
static bool policy_resume(uint64_t now)
{
	return c2_resume(&st->pol, now) == SCHED_OK;
}
#endif

/** Gives the policy one event and carries out its answer (and a new vCPU's settings). */
static void feed(const struct sched_event *ev)
{
	if (policy_event(ev) != SCHED_OK)
		return;
	apply();
	if (ev->kind == SCHED_EV_CREATED)
		policy_configure(&st->plan.v[ev->vcpu], ev->now);
}

static void feed_ring_event(const struct sched_ring_event *re)
{
	struct sched_event ev[PLAN_EVENTS_MAX];
	uint32_t n = plan_event(&st->plan, re, ev);
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
static void find_vcpus(uint32_t *self_slot, uint32_t *self_cpu, uint32_t weight[SCHED_MAX_DOMS],
                       uint32_t cap[SCHED_MAX_DOMS])
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
			if (plan_add_vcpu(&found, i, idx, SCHED_INFO_R6_PARTITION(r[6]), dom,
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
			plan_set_cap(&found, dom, cap[dom]);
			dom++;
		}
	}
}

/** The policy learns of every vCPU that runs or waits now, as the kernel tells it. */
static void rebuild(void)
{
	for (uint32_t id = 0; id < st->plan.vcpu_count; id++) {
		const struct plan_vcpu *v = &st->plan.v[id];
		uint64_t r[IPC_REG_COUNT];
		if (hc(HC_SCHED_INFO, v->slot, v->index, 0, 0, 0, 0, 0, r) != STATUS_OK)
			continue;
		struct sched_ring_event re = { .cpu = (uint32_t)r[2],
			                       .partition = v->partition,
			                       .vcpu = v->index,
			                       .now = st->plan.now };
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

static void catch_up(void);
/** A successor that still has to catch up (with the time of the next event). */
static bool resync;

static void drain(void)
{
	const struct sched_ring_event *evs =
	        (const struct sched_ring_event *)(uintptr_t)(SCHED_RING_IPA +
	                                                     SCHED_RING_HEADER_SIZE);
	uint32_t head = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
	uint32_t count = ring->count;
	for (uint32_t t = ring->tail; t != head; t++) {
		struct sched_ring_event re = evs[t & (count - 1u)];
		if (resync && policy_resume(re.now > st->plan.now ? re.now : st->plan.now)) {
			resync = false;
			st->plan.now = re.now > st->plan.now ? re.now : st->plan.now;
			catch_up();
		}
		feed_ring_event(&re);
		__atomic_store_n(&ring->tail, t + 1u, __ATOMIC_RELEASE);
		crash_point(); /* between events: the successor catches up from the kernel */
	}
	uint32_t lost = __atomic_load_n(&ring->lost, __ATOMIC_RELAXED);
	if (lost != st->lost_seen) {
		/* What it missed, it learns from the kernel, as a successor does. */
		if (st->lost_reports++ < LOG_MAX)
			svc_printf("%u events lost: the ring was full; catching up\n",
			           (unsigned)(lost - st->lost_seen));
		st->lost_seen = lost;
		catch_up();
	}
}

static void summary(void)
{
	const struct plan_stats *n = &st->plan.st;
	svc_printf("all %u vCPUs stopped: %u runs, %u holds, %u slice ends, %u budget ends, "
	           "%u parks, %u timers, %u failed settings\n",
	           (unsigned)st->plan.vcpu_count, (unsigned)n->runs, (unsigned)n->holds,
	           (unsigned)n->slice_ends, (unsigned)n->budgets, (unsigned)n->parks,
	           (unsigned)n->timers, (unsigned)st->set_failures);
}

/** Whether the preserved state is a predecessor's, for the same vCPUs and CPUs. */
static bool same_vcpus(sched_cpumask_t cpus)
{
	if (st->magic != SCHED_STATE_MAGIC || st->plan.cpus != cpus ||
	    st->plan.vcpu_count != found.vcpu_count)
		return false;
	for (uint32_t i = 0; i < found.vcpu_count; i++) {
		const struct plan_vcpu *a = &st->plan.v[i], *b = &found.v[i];
		if (a->slot != b->slot || a->index != b->index || a->partition != b->partition ||
		    a->dom != b->dom)
			return false;
	}
	return true;
}

/** A successor: what it missed of each vCPU, then every CPU decided again. */
static void catch_up(void)
{
	rebuild();
	for (uint32_t c = 0; c < SCHED_MAX_CPUS; c++) {
		if (!sched_mask_has(st->plan.cpus, c))
			continue;
		struct sched_ring_event re = { .kind = SCHED_RING_SLICE_END,
			                       .cpu = c,
			                       .partition = 0xffffffffu,
			                       .vcpu = 0xffffffffu,
			                       .now = st->plan.now };
		feed_ring_event(&re);
	}
}

int svc_main(uint64_t arg)
{
	(void)arg;
	uint32_t ring_slot, ntf_slot, self_slot, self_cpu = 0;
	uint32_t weight[SCHED_MAX_DOMS] = { 0 }, cap[SCHED_MAX_DOMS] = { 0 };
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
	plan_init(&found, cpus, PRIO_SCHEDULED, POLICY_HOLDS);
	find_vcpus(&self_slot, &self_cpu, weight, cap);
	/* Above the vCPUs it schedules on its own CPU, with no slice: every event runs it. */
	uint32_t prio = PRIO_SCHEDULED;
	if (self_slot == NO_SLOT ||
	    hc(HC_SCHED_SET, self_slot, 0, self_cpu, PRIO_SELF, 0, 0, 0, r) != STATUS_OK)
		prio = 0;
	if (same_vcpus(cpus) && st->plan.prio == prio) {
		svc_printf("restarted (%u crashes): kept the state of %u vCPUs\n",
		           (unsigned)st->crashes, (unsigned)st->plan.vcpu_count);
#if POLICY_KEEPS_TIME
		resync = true; /* at the next event, which tells the time */
#else
		catch_up();
#endif
	} else {
		uint64_t crashes = st->magic == SCHED_STATE_MAGIC ? st->crashes : 0;
		uint64_t rng = st->magic == SCHED_STATE_MAGIC ? st->rng : 0;
		memset(st, 0, sizeof(*st));
		memset(st->shown, PLAN_NO_CPU, sizeof(st->shown));
		st->crashes = crashes;
		st->rng = rng;
		st->plan = found;
		st->plan.prio = prio;
		for (uint32_t d = 0; d < SCHED_MAX_DOMS; d++) {
			st->weight[d] = weight[d];
			st->cap[d] = cap[d];
		}
		policy_init(cpus);
		st->magic = SCHED_STATE_MAGIC;
		svc_printf("policy " POLICY_NAME " on CPUs 0x%x: %u vCPUs%s\n", (unsigned)cpus,
		           (unsigned)st->plan.vcpu_count, prio == 0 ? " (at their priority)" : "");
		rebuild();
	}
	for (;;) {
		uint64_t bits;
		drain();
		if (!st->summary_done && plan_all_stopped(&st->plan)) {
			st->summary_done = true;
			summary();
		}
		svc_wait(ntf_slot, &bits);
	}
}
