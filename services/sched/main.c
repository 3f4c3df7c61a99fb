/**
 * A scheduling policy as a service partition (issue 11). Every image carries both policies
 * (null.c and credit2.c); the build chooses the one it starts with (SCHED_POLICY_NULL:
 * `sched-null`, SCHED_POLICY_CREDIT2: `sched-credit2`), and a control call swaps them at run
 * time (SCHED_CTL_SWAP, below). The manifest makes it the policy of its CPUs (`sched-policy`,
 * `sched-cpus`) and gives it, found here by type so that any slot will do:
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
 * Control (ipc/sched.h SCHED_CTL_*): a second vCPU, if the manifest gives one, serves an
 * endpoint (receive) for a management partition. It only checks the request's form and hands
 * it to vCPU 0 through a mailbox, signalling the ring's notification with a badge of its own
 * (a signal capability over it; a badge other than the kernel's bit 0 keeps them apart in
 * a trace, the loop needs none), and replies once vCPU 0 has carried it out;
 * vCPU 0 alone touches the policy and the plan, between two ring events:
 *
 *   management --call--> vCPU 1 (endpoint) --mailbox + signal--> vCPU 0 (ring loop)
 *              <-reply-- status, active policy <--- done -------  swap / affinity
 *
 * A swap drains the ring into the policy running, stops it, hands the kernel's budgets to the
 * new one (Credit2's caps; null has none), forgets what the plan held for the old one, and
 * lets the new one learn each vCPU's state from the kernel (HC_SCHED_INFO: CREATED, BLOCKED)
 * and decide every CPU, as a successor does after a restart. The guests run on meanwhile
 * under the last plan.
 *
 * SCHED_TRACE builds `sched-credit2-trace` and `sched-null-trace`, which print a trace of their
 * first SCHED_TRACE_SPAN ns on the console for tools/trace (the format is below, at
 * trace_record); while null runs, its own trace records too (trace_null).
 *
 * SCHED_CRASH_TEST builds the kill test's variant (sched-credit2-crash): it faults after a
 * pseudo-random event, SCHED_CRASH_LIMIT times in all, counting in the preserved state.
 */
#include <ipc/sched.h>
#include <svc/svc.h>
#include <svc_arch.h>

#include "credit2.h"
#include "null.h"
#include "plan.h"

#if defined(SCHED_POLICY_NULL)
#define POLICY_FIRST SCHED_CTL_POLICY_NULL
#elif defined(SCHED_POLICY_CREDIT2)
#define POLICY_FIRST SCHED_CTL_POLICY_CREDIT2
#else
#error "build with SCHED_POLICY_NULL or SCHED_POLICY_CREDIT2 (the policy it starts with)"
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
	uint32_t active;                /**< enum sched_ctl_policy: the policy running */
	uint32_t swaps;
	struct plan_stats at_swap; /**< the plan's counts when the running policy took over */
	struct plan plan;
	union {
		struct null_sched null;
		struct c2_sched c2;
	} pol;
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

#ifdef SCHED_TRACE
/**
 * The trace, compact because a partition's console share is about 2.5 KB a second: a line
 * "trace vcpu ID PARTITION VCPU weight W cap C" per vCPU, then lines "trace T..." of records
 * "KCPU.ID+DELTA" (hex; DELTA in us since the record before, the first since 0): K is r (the
 * policy RUNs vCPU ID on CPU), b (ID blocked), s (ID stopped), i (CPU idle, ID 0). After
 * SCHED_TRACE_SPAN ns of events (or once every vCPU stopped), "trace nulls M" with the count
 * of null records printed (trace_null) and "trace end N" with the count of records printed.
 */
#ifndef SCHED_TRACE_SPAN
#define SCHED_TRACE_SPAN UINT64_C(150000000)
#endif
#define TRACE_LINE 72u
static char trace_line[TRACE_LINE + 24u];
static uint32_t trace_len, trace_count;
static uint64_t trace_last_us;
static bool trace_done;
/** Null's records: a line of its own ("trace N..."), its count, the next one to print. */
static char null_line[TRACE_LINE + 64u];
static uint32_t null_len, null_count, null_next;
static uint64_t null_last_us;

static void trace_flush(void)
{
	if (trace_len != 0) {
		trace_line[trace_len] = '\0';
		svc_printf("trace T%s\n", trace_line);
		trace_len = 0;
	}
	if (null_len != 0) {
		null_line[null_len] = '\0';
		svc_printf("trace N%s\n", null_line);
		null_len = 0;
	}
}

static void hex_to(char *line, uint32_t *len, uint64_t x)
{
	char digits[16];
	uint32_t n = 0;
	do {
		digits[n++] = "0123456789abcdef"[x & 0xfu];
		x >>= 4;
	} while (x != 0 && n < sizeof(digits));
	while (n > 0)
		line[(*len)++] = digits[--n];
}

static void trace_hex(uint64_t x)
{
	hex_to(trace_line, &trace_len, x);
}

static void trace_finish(void)
{
	if (trace_done)
		return;
	trace_done = true;
	trace_flush();
	svc_printf("trace nulls %u\n", (unsigned)null_count);
	svc_printf("trace end %u\n", (unsigned)trace_count);
}

/** Xen's dom:vcpu word for plan vCPU `id`: the partition index and the vCPU's index. */
static uint32_t trace_domvcpu(uint32_t id)
{
	if (id >= st->plan.vcpu_count)
		return 0xffffffffu;
	return (st->plan.v[id].partition & 0xffffu) << 16 | (st->plan.v[id].index & 0xffffu);
}

/**
 * Null's records (null.h NULL_TRC_*) written since the last call, on "trace N..." lines as
 * "EV.CPU.D1.D2+DELTA" (hex): EV the id less 0x22A00; CPU the one the record is about (ff:
 * none); D1 and D2 the payload as Xen 4.10's tools/xentrace/formats read it (dom:vcpu is the
 * partition index and the vCPU's, 7fff:CPU for the idle vCPU as Xen's idle domain); DELTA in
 * us since the null record before. Records the ring overwrote first are counted as lost.
 */
static void trace_null(void)
{
	const struct null_sched *s = &st->pol.null;
	if (trace_done || st->active != SCHED_CTL_POLICY_NULL)
		return;
	if (s->trace_count - null_next > NULL_TRACE_MAX) {
		svc_printf("trace null lost %u\n",
		           (unsigned)(s->trace_count - null_next - NULL_TRACE_MAX));
		null_next = s->trace_count - NULL_TRACE_MAX;
	}
	uint32_t first = s->trace_count > NULL_TRACE_MAX ? s->trace_count - NULL_TRACE_MAX : 0;
	struct null_trace t;
	for (; null_next < s->trace_count && null_trace_get(s, null_next - first, &t);
	     null_next++) {
		uint32_t cpu = 0xffu, d1 = 0, d2 = 0;
		switch (t.id) {
		case NULL_TRC_PICKED_CPU:
		case NULL_TRC_ASSIGN:
		case NULL_TRC_DEASSIGN:
			cpu = t.d1;
			d1 = trace_domvcpu(t.d0);
			d2 = t.d1;
			break;
		case NULL_TRC_MIGRATE:
			cpu = (t.d1 >> 16) != 0xffu ? t.d1 >> 16 : t.d1 & 0xffffu;
			d1 = trace_domvcpu(t.d0);
			d2 = t.d1;
			break;
		case NULL_TRC_SCHEDULE:
			cpu = t.d0;
			d1 = t.d0 << 16; /* cpu[16]:tasklet[16], no tasklets here */
			d2 = t.d1 == SCHED_NO_VCPU ? 0x7fffu << 16 | (t.d0 & 0xffffu) :
			                             trace_domvcpu(t.d1);
			break;
		default:
			break;
		}
		uint64_t us = t.now / 1000u;
		null_line[null_len++] = ' ';
		hex_to(null_line, &null_len, t.id - 0x22A00u);
		null_line[null_len++] = '.';
		hex_to(null_line, &null_len, cpu);
		null_line[null_len++] = '.';
		hex_to(null_line, &null_len, d1);
		null_line[null_len++] = '.';
		hex_to(null_line, &null_len, d2);
		null_line[null_len++] = '+';
		hex_to(null_line, &null_len, us >= null_last_us ? us - null_last_us : 0);
		null_last_us = us;
		null_count++;
		if (null_len >= TRACE_LINE)
			trace_flush();
	}
	trace_flush();
}

/** A policy about to start (a swap): the old null's records first; a new null counts from 0. */
static void trace_policy_init(void)
{
	trace_null();
	null_next = 0;
}

static void trace_record(char kind, uint32_t cpu, uint32_t id)
{
	if (trace_done)
		return;
	uint64_t us = st->plan.now / 1000u;
	if (st->plan.now > SCHED_TRACE_SPAN) {
		trace_null();
		trace_finish();
		return;
	}
	trace_line[trace_len++] = ' ';
	trace_line[trace_len++] = kind;
	trace_hex(cpu);
	trace_line[trace_len++] = '.';
	trace_hex(id);
	trace_line[trace_len++] = '+';
	trace_hex(us - trace_last_us);
	trace_last_us = us;
	trace_count++;
	if (trace_len >= TRACE_LINE)
		trace_flush();
}

static void trace_ring(const struct sched_ring_event *re)
{
	uint32_t id = plan_find(&st->plan, re->partition, re->vcpu);
	if (re->now > st->plan.now)
		st->plan.now = re->now; /* the record's own time (plan_event keeps the maximum) */
	if (re->kind == SCHED_RING_BLOCKED && id != SCHED_NO_VCPU)
		trace_record('b', re->cpu, id);
	else if (re->kind == SCHED_RING_STOPPED && id != SCHED_NO_VCPU)
		trace_record('s', re->cpu, id);
	else if (re->kind == SCHED_RING_IDLE)
		trace_record('i', re->cpu, 0);
}

static void trace_start(void)
{
	for (uint32_t id = 0; id < st->plan.vcpu_count; id++)
		svc_printf("trace vcpu %u %u %u weight %u cap %u\n", (unsigned)id,
		           (unsigned)st->plan.v[id].partition, (unsigned)st->plan.v[id].index,
		           (unsigned)st->weight[st->plan.v[id].dom],
		           (unsigned)st->cap[st->plan.v[id].dom]);
}
#else
static void trace_record(char kind, uint32_t cpu, uint32_t id)
{
	(void)kind;
	(void)cpu;
	(void)id;
}

static void trace_ring(const struct sched_ring_event *re)
{
	(void)re;
}

static void trace_start(void)
{
}

static void trace_null(void)
{
}

static void trace_finish(void)
{
}

static void trace_policy_init(void)
{
}
#endif

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
		if ((s->prio_flags & SCHED_SET_NOW) != 0)
			trace_record('r', s->cpu, s->vcpu);
		/*
		 * Null places rarely: each new placement is worth a line (the tests count them);
		 * not each wake-up, which RUNs the vCPU again where it is.
		 */
		if (st->active == SCHED_CTL_POLICY_NULL && (s->prio_flags & SCHED_SET_NOW) != 0 &&
		    st->shown[s->vcpu] != s->cpu) {
			st->shown[s->vcpu] = (uint8_t)s->cpu;
			svc_printf("cpu %u runs partition %u vcpu %u\n", (unsigned)s->cpu,
			           (unsigned)v->partition, (unsigned)v->index);
		}
	}
}

static const char *policy_name(uint32_t policy)
{
	return policy == SCHED_CTL_POLICY_NULL ? "null" : "credit2";
}

/** Null holds the vCPUs it does not run (its RUNs have no slice); Credit2 does not. */
static bool policy_holds(uint32_t policy)
{
	return policy == SCHED_CTL_POLICY_NULL;
}

static int policy_event(const struct sched_event *ev)
{
	if (st->active == SCHED_CTL_POLICY_NULL)
		return null_event(&st->pol.null, ev, &out);
	return c2_event(&st->pol.c2, ev, &out);
}

/**
 * Credit2: the domain's weight and cap, once it has a vCPU (else -ENOENT); null has nothing
 * per domain. The affinities came with CREATED.
 */
static void policy_configure(const struct plan_vcpu *v, uint64_t now)
{
	if (st->active == SCHED_CTL_POLICY_NULL || st->dom_set[v->dom])
		return;
	st->dom_set[v->dom] = true;
	if (c2_set_dom(&st->pol.c2, v->dom, st->weight[v->dom], st->cap[v->dom], now, &out) !=
	    SCHED_OK)
		svc_printf("weight %u cap %u refused for domain %u\n", (unsigned)st->weight[v->dom],
		           (unsigned)st->cap[v->dom], (unsigned)v->dom);
	apply();
}

/**
 * A fresh policy on `cpus`, and the kernel's budgets it wants: Credit2's caps (each capped
 * domain's share per period), none for null, which has no caps (Xen 4.10 sched_null).
 */
static void policy_init(uint32_t policy, sched_cpumask_t cpus)
{
	trace_policy_init();
	st->active = policy;
	st->plan.hold = policy_holds(policy);
	for (uint32_t d = 0; d < SCHED_MAX_DOMS; d++) {
		st->dom_set[d] = false;
		plan_set_cap(&st->plan, d, policy == SCHED_CTL_POLICY_NULL ? 0 : st->cap[d]);
	}
	if (policy == SCHED_CTL_POLICY_NULL) {
		null_init(&st->pol.null, cpus);
		return;
	}
	struct sched_topology topo = { 0 };
	while (topo.cpu_count < SCHED_MAX_CPUS && (cpus >> topo.cpu_count) != 0)
		topo.cpu_count++;
	/* QEMU's virt machine and the PC: one thread per core, one socket, one node. */
	for (uint32_t c = 0; c < topo.cpu_count; c++)
		topo.core[c] = (uint8_t)c;
	c2_init(&st->pol.c2, &topo, cpus, C2_RQ_SOCKET);
}

/** Credit2 charges by time: a successor waits for the kernel's next event (resync). */
static bool policy_keeps_time(void)
{
	return st->active == SCHED_CTL_POLICY_CREDIT2;
}

/**
 * A successor, at the time of the next event: Credit2 charges nobody for the gap (the kernel
 * ran the last plan meanwhile); null keeps no time.
 */
static bool policy_resume(uint64_t now)
{
	if (st->active == SCHED_CTL_POLICY_NULL)
		return true;
	return c2_resume(&st->pol.c2, now) == SCHED_OK;
}

/** The running policy's affinity control; -ENOENT for a vCPU it does not know (yet). */
static int policy_set_affinity(uint32_t id, sched_cpumask_t hard, sched_cpumask_t soft)
{
	if (st->active == SCHED_CTL_POLICY_NULL)
		return null_set_affinity(&st->pol.null, id, hard, soft, st->plan.now, &out);
	return c2_set_affinity(&st->pol.c2, id, hard, soft, st->plan.now, &out);
}

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
	trace_ring(re);
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
	    st->plan.vcpu_count != found.vcpu_count ||
	    (st->active != SCHED_CTL_POLICY_NULL && st->active != SCHED_CTL_POLICY_CREDIT2))
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

/**
 * A control request between the two vCPUs: vCPU 1 writes it and raises `seq`, vCPU 0 carries
 * it out and sets `done` to that seq. Only vCPU 1 writes the request, only vCPU 0 the answer.
 */
struct mailbox {
	uint32_t seq, done;
	uint64_t label;
	uint64_t w[4];
	uint64_t status; /**< enum status */
};

static struct mailbox mbox;

/** The plan's counts since the running policy took over, printed when it hands over. */
static void report_phase(uint32_t next)
{
	const struct plan_stats *n = &st->plan.st, *o = &st->at_swap;
	svc_printf("swap %u: %s -> %s after %u runs, %u holds, %u slice ends, %u budget ends\n",
	           (unsigned)st->swaps, policy_name(st->active), policy_name(next),
	           (unsigned)(n->runs - o->runs), (unsigned)(n->holds - o->holds),
	           (unsigned)(n->slice_ends - o->slice_ends), (unsigned)(n->budgets - o->budgets));
}

/**
 * Stops the running policy and starts `next` from the kernel's view. The old policy first
 * hears every event already in the ring; then the plan forgets what it knew for it (which
 * vCPUs it created, held, parked, ran), so that the new one gets each vCPU as CREATED (and
 * BLOCKED) from HC_SCHED_INFO and every vCPU a setting of its own: a RUN, a hold (null's
 * waiters) or its priority (which also lets go of what the old plan held). The guests run
 * meanwhile under the old plan, which the kernel keeps executing.
 */
static void swap_to(uint32_t next)
{
	drain();
	st->swaps++;
	report_phase(next);
	for (uint32_t id = 0; id < st->plan.vcpu_count; id++) {
		struct plan_vcpu *v = &st->plan.v[id];
		v->created = v->held = v->capped = v->fresh = false;
		st->shown[id] = PLAN_NO_CPU;
	}
	for (uint32_t c = 0; c < SCHED_MAX_CPUS; c++)
		st->plan.on_cpu[c] = SCHED_NO_VCPU;
	st->plan.timer = 0;
	policy_init(next, st->plan.cpus);
	catch_up();
	st->at_swap = st->plan.st;
}

/** Widens or narrows a vCPU's affinities, within what the manifest gave it. */
static uint64_t set_affinity(uint64_t partition, uint64_t index, uint64_t hard, uint64_t soft)
{
	uint32_t id = partition <= 0xffffu && index <= 0xffu ?
	                      plan_find(&st->plan, (uint32_t)partition, (uint32_t)index) :
	                      SCHED_NO_VCPU;
	if (id == SCHED_NO_VCPU || !plan_set_affinity(&st->plan, id, hard, soft))
		return STATUS_INVALID_ARG;
	const struct plan_vcpu *v = &st->plan.v[id];
	/* A vCPU the policy does not know yet gets them with CREATED. */
	if (v->created && policy_set_affinity(id, v->hard, v->soft) == SCHED_OK)
		apply();
	return STATUS_OK;
}

/**
 * A domain's weight and cap (Credit2's; null has neither, and keeps them for a swap). The
 * kernel's budget for a new cap follows with each of the domain's vCPUs' next setting (a RUN).
 */
static uint64_t set_domain(uint64_t partition, uint64_t weight, uint64_t cap)
{
	uint32_t dom = SCHED_MAX_DOMS, n = 0;
	for (uint32_t id = 0; id < st->plan.vcpu_count; id++) {
		if (st->plan.v[id].partition != partition)
			continue;
		dom = st->plan.v[id].dom;
		n++;
	}
	if (dom >= SCHED_MAX_DOMS || weight > C2_WEIGHT_MAX || cap > 100u * n)
		return STATUS_INVALID_ARG;
	if (st->active == SCHED_CTL_POLICY_CREDIT2 && st->dom_set[dom] &&
	    c2_set_dom(&st->pol.c2, dom, (uint32_t)weight, (uint32_t)cap, st->plan.now, &out) !=
	            SCHED_OK)
		return STATUS_INVALID_ARG;
	if (weight != 0)
		st->weight[dom] = (uint32_t)weight;
	st->cap[dom] = (uint32_t)cap;
	if (st->active == SCHED_CTL_POLICY_CREDIT2) {
		plan_set_cap(&st->plan, dom, (uint32_t)cap);
		if (st->dom_set[dom])
			apply();
	}
	return STATUS_OK;
}

/** vCPU 0: carries out a request vCPU 1 posted, if any. */
static void control(void)
{
	uint32_t seq = __atomic_load_n(&mbox.seq, __ATOMIC_ACQUIRE);
	if (seq == mbox.done)
		return;
	uint64_t status = STATUS_OK;
	switch (mbox.label) {
	case SCHED_CTL_SWAP:
		if (mbox.w[0] == st->active)
			status = STATUS_BAD_STATE;
		else
			swap_to((uint32_t)mbox.w[0]);
		break;
	case SCHED_CTL_AFFINITY:
		status = set_affinity(mbox.w[0], mbox.w[1], mbox.w[2], mbox.w[3]);
		break;
	case SCHED_CTL_DOMAIN:
		status = set_domain(mbox.w[0], mbox.w[1], mbox.w[2]);
		break;
	default: /* SCHED_CTL_QUERY */
		break;
	}
	mbox.status = status;
	__atomic_store_n(&mbox.done, seq, __ATOMIC_RELEASE);
}

/** Finds a capability of `type` with every right in `rights`; NO_SLOT if none. */
static uint32_t find_cap(uint32_t type, uint32_t rights)
{
	for (uint32_t i = 0; i < CAP_SLOT_COUNT; i++) {
		uint32_t t, r;
		uint64_t badge;
		if (svc_cap_info(i, &t, &r, &badge) == STATUS_OK && t == type &&
		    (r & rights) == rights)
			return i;
	}
	return NO_SLOT;
}

/** Checks a request's form (what vCPU 1 can tell without the policy's state). */
static uint64_t control_check(const struct msg *m)
{
	switch (m->label) {
	case SCHED_CTL_SWAP:
		return m->w[0] == SCHED_CTL_POLICY_NULL || m->w[0] == SCHED_CTL_POLICY_CREDIT2 ?
		               STATUS_OK :
		               STATUS_INVALID_ARG;
	case SCHED_CTL_AFFINITY:
		return m->w[2] != 0 && m->w[2] <= 0xffffffffu && m->w[3] <= 0xffffffffu ?
		               STATUS_OK :
		               STATUS_INVALID_ARG;
	case SCHED_CTL_QUERY:
		return STATUS_OK;
	case SCHED_CTL_DOMAIN:
		return m->w[1] <= 0xffffu && m->w[2] <= 0xffffu ? STATUS_OK : STATUS_INVALID_ARG;
	default:
		return STATUS_INVALID_CALL;
	}
}

/**
 * vCPU 1: serves the control endpoint. Each well-formed request goes to vCPU 0 through the
 * mailbox and a signal; vCPU 0 is above it on the policy's CPU, so it has usually answered
 * when the signal returns, else vCPU 1 yields until it has. Without an endpoint (or a
 * signal capability) there is nothing to serve: it parks itself for good.
 */
static _Noreturn void control_main(uint64_t vcpu)
{
	uint32_t ep = find_cap(CAP_ENDPOINT, RIGHT_EP_RECV);
	uint32_t sig = find_cap(CAP_NOTIFICATION, RIGHT_NTF_SIGNAL);
	if (vcpu != 1 || ep == NO_SLOT || sig == NO_SLOT) {
		uint32_t self = NO_SLOT, cpu = 0;
		uint64_t r[IPC_REG_COUNT];
		svc_printf("vCPU %u: no control endpoint or signal capability: parked\n",
		           (unsigned)vcpu);
		for (uint32_t i = 0; i < CAP_SLOT_COUNT && self == NO_SLOT; i++)
			if (hc(HC_SCHED_INFO, i, vcpu, 0, 0, 0, 0, 0, r) == STATUS_OK &&
			    (r[6] & SCHED_INFO_R6_SELF) != 0) {
				self = i;
				cpu = (uint32_t)r[2];
			}
		for (;;) {
			if (self != NO_SLOT)
				hc(HC_SCHED_SET, self, vcpu, cpu, SCHED_SET_PARK, 0, 0, 0, r);
			svc_yield();
		}
	}
	struct msg m;
	enum status got = svc_recv(ep, &m);
	for (;;) {
		if (got != STATUS_OK) {
			got = svc_recv(ep, &m);
			continue;
		}
		uint64_t status = control_check(&m);
		if (status == STATUS_OK) {
			mbox.label = m.label;
			for (uint32_t i = 0; i < 4u; i++)
				mbox.w[i] = m.w[i];
			uint32_t seq = mbox.seq + 1u;
			__atomic_store_n(&mbox.seq, seq, __ATOMIC_RELEASE);
			svc_signal(sig);
			while (__atomic_load_n(&mbox.done, __ATOMIC_ACQUIRE) != seq)
				svc_yield();
			status = mbox.status;
		}
		memset(&m, 0, sizeof(m));
		m.label = status;
		m.w[0] = __atomic_load_n(&st->active, __ATOMIC_RELAXED);
		m.w[1] = __atomic_load_n(&st->swaps, __ATOMIC_RELAXED);
		got = svc_reply_recv(ep, &m);
	}
}

int svc_main(uint64_t arg)
{
	if (arg != 0)
		control_main(arg); /* a service's argument: its vCPU index */
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
	plan_init(&found, cpus, PRIO_SCHEDULED, policy_holds(POLICY_FIRST));
	find_vcpus(&self_slot, &self_cpu, weight, cap);
	/* Above the vCPUs it schedules on its own CPU, with no slice: every event runs it. */
	uint32_t prio = PRIO_SCHEDULED;
	if (self_slot == NO_SLOT ||
	    hc(HC_SCHED_SET, self_slot, 0, self_cpu, PRIO_SELF, 0, 0, 0, r) != STATUS_OK)
		prio = 0;
	if (same_vcpus(cpus) && st->plan.prio == prio) {
		svc_printf("restarted (%u crashes): kept the state of %u vCPUs\n",
		           (unsigned)st->crashes, (unsigned)st->plan.vcpu_count);
		if (policy_keeps_time())
			resync = true; /* at the next event, which tells the time */
		else
			catch_up();
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
		policy_init(POLICY_FIRST, cpus);
		st->magic = SCHED_STATE_MAGIC;
		svc_printf("policy %s on CPUs 0x%x: %u vCPUs%s\n", policy_name(st->active),
		           (unsigned)cpus, (unsigned)st->plan.vcpu_count,
		           prio == 0 ? " (at their priority)" : "");
		trace_start();
		rebuild();
	}
	for (;;) {
		uint64_t bits;
		drain();
		control();
		trace_null();
		if (!st->summary_done && plan_all_stopped(&st->plan)) {
			st->summary_done = true;
			trace_finish();
			summary();
		}
		svc_wait(ntf_slot, &bits);
	}
}
