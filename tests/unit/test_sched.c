/**
 * The scheduling mechanism (kernel/sched.c, kernel/sched_plan.c) on the fake
 * platform: the default plan and its tick, HC_SCHED_SET's checks, priorities,
 * slices, budgets per period, parking, placement, the event ring, donation
 * along IPC, HC_SCHED_INFO, a policy that stops, and power-off.
 */
#include "system.h"
#include "tap.h"
#include <ipc/sched.h>
#include <kernel/boot.h>
#include <kernel/console.h>
#include <kernel/lock.h>
#include <kernel/partition_ops.h>
#include <kernel/sched_plan.h>
#include <string.h>

#define US UINT64_C(1000)
#define MS UINT64_C(1000000)

/* The policy's capability slots in these tests. */
#define S_VCPUS 1u
#define S_NORIGHTS 2u
#define S_EP 3u
#define S_RING 4u
#define S_NTF 5u
#define S_VCPUS_B 6u
#define S_SELF 7u

static u32 pol_p, a_p, b_p, ntf;

/** A hypercall with all of r1..r7. */
static struct vcpu *hc7(struct vcpu *v, u64 nr, u64 r1, u64 r2, u64 r3, u64 r4, u64 r5, u64 r6,
                        u64 r7)
{
	memset(v->arch.regs, 0, sizeof(v->arch.regs));
	const u64 r[8] = { nr, r1, r2, r3, r4, r5, r6, r7 };
	memcpy(v->arch.regs, r, sizeof(r));
	struct trap t = { .kind = TRAP_HYPERCALL };
	return kernel_trap(v, &t);
}

static u64 sset(struct vcpu *pol, u64 slot, u64 index, u64 cpu, u64 pf, u64 slice, u64 budget,
                u64 period)
{
	hc7(pol, HC_SCHED_SET, slot, index, cpu, pf, slice, budget, period);
	return reg(pol, 0);
}

static struct vcpu *tick(struct vcpu *cur)
{
	return trap_event(cur, TRAP_TIMER, 0, 0);
}

/**
 * A policy partition "pol" scheduling CPUs mask, with a `vcpus` capability
 * over guests "a" and "b" (one vCPU each unless said), its own RAM as the
 * ring and a notification; booted, the policy runs first on CPU 0.
 */
static void with_policy(u32 cpus, u64 mask, u32 a_vcpus)
{
	tsys_reset(cpus);
	fake_now_ns = 1000;
	pol_p = tsys_partition("pol", 1);
	a_p = tsys_partition("a", a_vcpus);
	b_p = tsys_partition("b", 1);
	ntf = tsys_notification();
	struct cfg_partition *cp = &kernel.cfg.partitions[pol_p];
	cp->sched_kind = CFG_SCHED_SHARED;
	cp->sched_cpus = mask;
	for (u32 c = 0; c < CFG_CPU_MAX; c++)
		kernel.cfg.sched_policy[c] = (mask >> c) & 1u ? pol_p : CFG_NONE;
	tsys_cap(pol_p, S_VCPUS, CAP_VCPUS, a_p, RIGHT_VCPUS_SCHEDULE, 0);
	tsys_cap(pol_p, S_NORIGHTS, CAP_VCPUS, a_p, 0, 0);
	tsys_cap(pol_p, S_EP, CAP_ENDPOINT, tsys_endpoint(), RIGHT_EP_SEND, 0);
	tsys_cap(pol_p, S_RING, CAP_MEMORY, pol_p, RIGHT_MEM_READ | RIGHT_MEM_WRITE, 0);
	tsys_cap(pol_p, S_NTF, CAP_NOTIFICATION, ntf, RIGHT_NTF_WAIT, 0);
	tsys_cap(pol_p, S_VCPUS_B, CAP_VCPUS, b_p, RIGHT_VCPUS_SCHEDULE, 0);
	tsys_cap(pol_p, S_SELF, CAP_VCPUS, pol_p, RIGHT_VCPUS_SCHEDULE, 0);
}

static struct sched_ring_header *ring_hdr(void)
{
	return (struct sched_ring_header *)(uintptr_t)kernel.cfg.regions[pol_p].pa;
}

static struct sched_ring_event *ring_ev(u32 i)
{
	struct sched_ring_event *ev =
	        (struct sched_ring_event *)((u8 *)ring_hdr() + SCHED_RING_HEADER_SIZE);
	return &ev[i % ring_hdr()->count];
}

/** Whether the ring holds an event kind about (partition, vcpu) from index from on. */
static bool ring_has(u32 from, u32 kind, u32 partition, u32 vcpu)
{
	for (u32 i = from; i != ring_hdr()->head; i++) {
		const struct sched_ring_event *e = ring_ev(i);
		if (e->kind == kind && e->partition == partition && e->vcpu == vcpu)
			return true;
	}
	return false;
}

/* ---- the default plan --------------------------------------------------- */

static void test_default_plan(void)
{
	tsys_reset(1);
	fake_now_ns = 1000;
	u32 a = tsys_partition("a", 1), b = tsys_partition("b", 1);
	u32 n = tsys_notification();
	tsys_cap(a, 1, CAP_NOTIFICATION, n, RIGHT_NTF_SIGNAL, 1);
	tsys_cap(b, 1, CAP_NOTIFICATION, n, RIGHT_NTF_WAIT, 0);
	struct vcpu *va = tsys_vcpu(a, 0), *vb = tsys_vcpu(b, 0);
	OK(tsys_boot() == va, "default: the first vCPU runs");
	EQ(fake_timer_deadline, 1000 + MS, "default: another waits, so a 1 ms slice end is armed");
	fake_now_ns += MS;
	OK(tick(va) == vb, "default: round robin at the slice end");
	OK(hc(vb, HC_WAIT, 1, 0, 0) == va, "default: b waits for its notification");
	EQ(fake_timer_deadline, 0u, "default: a runs alone: no tick at all");
	u64 started = fake_now_ns;
	fake_now_ns += 300 * US;
	OK(hc(va, HC_SIGNAL, 1, 0, 0) == va, "default: a wakes b and runs on");
	EQ(vb->state, VCPU_READY, "default: b is ready");
	EQ(fake_timer_deadline, started + MS,
	   "default: now an equal waits: the slice end of a's turn is armed");
	EQ(sched.ctx[va->id].used_ns + sched.ctx[vb->id].used_ns, MS,
	   "default: the time billed so far is the time up to the last dispatch");
	OK(!sched.ctx[va->id].programmed, "default: no policy, no programmed context");

	/* A remote wake-up kicks the CPU it belongs to. */
	tsys_reset(2);
	a = tsys_partition("a", 1);
	b = tsys_partition("b", 1);
	kernel.cfg.partitions[b].vcpus[0].hard_affinity = 0x2;
	va = tsys_vcpu(a, 0);
	vb = tsys_vcpu(b, 0);
	u32 kicks = fake_kicks;
	OK(tsys_boot() == va, "default: CPU 0 runs a");
	OK(vb->cpu == 1 && fake_kicks > kicks, "default: a vCPU placed on CPU 1 kicks it");
}

/* ---- HC_SCHED_SET's checks ---------------------------------------------- */

static void test_set_checks(void)
{
	with_policy(2, 0x1, 2);
	kernel.cfg.partitions[a_p].vcpus[1].hard_affinity = 0x2;
	u32 other = tsys_partition("other", 1);
	tsys_cap(other, 1, CAP_VCPUS, a_p, RIGHT_VCPUS_SCHEDULE, 0);
	struct vcpu *pol = tsys_vcpu(pol_p, 0), *a0 = tsys_vcpu(a_p, 0);
	OK(tsys_boot() == pol, "set: the policy runs first");
	EQ(sset(pol, 9, 0, 0, 0, 0, 0, 0), STATUS_INVALID_CAP, "set: an empty slot");
	EQ(sset(pol, S_EP, 0, 0, 0, 0, 0, 0), STATUS_WRONG_TYPE, "set: an endpoint capability");
	EQ(sset(pol, S_NORIGHTS, 0, 0, 0, 0, 0, 0), STATUS_NO_RIGHTS,
	   "set: a vcpus capability without the schedule right");
	EQ(sset(pol, S_VCPUS, 2, 0, 0, 0, 0, 0), STATUS_INVALID_ARG,
	   "set: a vCPU it does not have");
	EQ(sset(pol, S_VCPUS, UINT64_MAX, 0, 0, 0, 0, 0), STATUS_INVALID_ARG,
	   "set: a huge vCPU index");
	EQ(sset(pol, S_VCPUS, 0, 2, 0, 0, 0, 0), STATUS_INVALID_ARG,
	   "set: a CPU beyond the machine");
	EQ(sset(pol, S_VCPUS, 0, 1u << 20, 0, 0, 0, 0), STATUS_INVALID_ARG,
	   "set: a CPU far beyond");
	EQ(sset(pol, S_VCPUS, 1, 0, 0, 0, 0, 0), STATUS_INVALID_ARG,
	   "set: a CPU outside the vCPU's hard affinity");
	EQ(sset(pol, S_VCPUS, 0, 1, 0, 0, 0, 0), STATUS_NO_RIGHTS,
	   "set: a CPU outside the policy's sched-cpus");
	EQ(sset(pol, S_VCPUS, 0, 0, 1u << 12, 0, 0, 0), STATUS_INVALID_ARG, "set: an unknown flag");
	EQ(sset(pol, S_VCPUS, 0, 0, 0, 49 * US, 0, 0), STATUS_INVALID_ARG,
	   "set: a slice below 50 us");
	EQ(sset(pol, S_VCPUS, 0, 0, 0, 1001 * MS, 0, 0), STATUS_INVALID_ARG,
	   "set: a slice over 1 s");
	EQ(sset(pol, S_VCPUS, 0, 0, 0, 0, 100 * US, 0), STATUS_INVALID_ARG,
	   "set: a budget without a period");
	EQ(sset(pol, S_VCPUS, 0, 0, 0, 0, 0, MS), STATUS_INVALID_ARG,
	   "set: a period without a budget");
	EQ(sset(pol, S_VCPUS, 0, 0, 0, 0, 2 * MS, MS), STATUS_INVALID_ARG,
	   "set: a budget longer than its period");
	EQ(sset(pol, S_VCPUS, 0, 0, 0, 0, 10 * US, MS), STATUS_INVALID_ARG,
	   "set: a budget below 50 us");
	/* A partition that is no policy holds a vcpus capability: it schedules no CPU. */
	struct vcpu *vo = tsys_vcpu(other, 0);
	while (vo->state != VCPU_RUNNING) {
		fake_now_ns += MS;
		tick(cpu_sched[0].current);
	}
	EQ(sset(vo, 1, 0, 0, 1, 0, 0, 0), STATUS_NO_RIGHTS, "set: a partition with no sched-cpus");
	OK(!sched.ctx[a0->id].programmed, "set: no refused call changed the plan");
	while (pol->state != VCPU_RUNNING) {
		fake_now_ns += MS;
		tick(cpu_sched[0].current);
	}
	EQ(sset(pol, S_VCPUS, 0, 0, 7, MS, 0, 0), STATUS_OK, "set: a valid plan entry");
	OK(sched.ctx[a0->id].programmed && sched.ctx[a0->id].prio == 7 &&
	           sched.ctx[a0->id].slice_ns == MS,
	   "set: it is in the vCPU's context");
}

/* ---- priorities and preemption ------------------------------------------ */

static void test_priorities(void)
{
	with_policy(1, 0x1, 1);
	u32 n = tsys_notification();
	tsys_cap(a_p, 1, CAP_NOTIFICATION, n, RIGHT_NTF_WAIT, 0);
	tsys_cap(b_p, 1, CAP_NOTIFICATION, n, RIGHT_NTF_SIGNAL, 1);
	struct vcpu *pol = tsys_vcpu(pol_p, 0), *a = tsys_vcpu(a_p, 0), *b = tsys_vcpu(b_p, 0);
	tsys_boot();
	EQ(sset(pol, S_VCPUS_B, 0, 0, 5, MS, 0, 0), STATUS_OK, "prio: b gets 5");
	EQ(sset(pol, S_VCPUS, 0, 0, 10, MS, 0, 0), STATUS_OK, "prio: a gets 10");
	OK(cpu_sched[0].ready.head == a && a->next == b,
	   "prio: the ready queue is in priority order");
	OK(hc(pol, HC_WAIT, S_NTF, 0, 0) == a, "prio: the highest priority runs first");
	OK(hc(a, HC_WAIT, 1, 0, 0) == b, "prio: when it waits, the next priority runs");
	EQ(fake_timer_deadline, 0u, "prio: b alone (the policy's 0 is below): no tick");
	u32 kicks = fake_kicks;
	OK(hc(b, HC_SIGNAL, 1, 0, 0) == a,
	   "prio: b wakes a on its own CPU: a preempts b at the end of b's call");
	OK(b->state == VCPU_READY && cpu_sched[0].ready.head == b && (b->after & 4u) == 0,
	   "prio: b waits at the head of the ready queue, nothing left pending");
	EQ(fake_kicks, kicks, "prio: no kick of its own CPU was needed");
	OK(hc(a, HC_YIELD, 0, 0, 0) == a,
	   "prio: a yield with only lower priorities waiting keeps a");
	OK(hc(a, HC_WAIT, 1, 0, 0) == b, "prio: a waits again, b runs");
	OK(trap_event(b, TRAP_IRQ, 0, 0) == b, "prio: an interrupt with nothing above b keeps b");
}

/* ---- slices -------------------------------------------------------------- */

static void test_slices(void)
{
	with_policy(1, 0x1, 1);
	struct vcpu *pol = tsys_vcpu(pol_p, 0), *a = tsys_vcpu(a_p, 0), *b = tsys_vcpu(b_p, 0);
	tsys_boot();
	EQ(hc(pol, HC_SCHED_RING, S_RING, S_NTF, 0) == pol ? reg(pol, 0) : 99, STATUS_OK,
	   "slice: the policy registers its ring");
	EQ(reg(pol, 2), 0x1u, "ring: the answer names the policy's CPUs (sched-cpus)");
	sset(pol, S_VCPUS, 0, 0, 1, 2 * MS, 0, 0);
	sset(pol, S_VCPUS_B, 0, 0, 1, 3 * MS, 0, 0);
	OK(hc(pol, HC_WAIT, S_NTF, 0, 0) == a, "slice: a runs");
	u64 t0 = fake_now_ns;
	EQ(fake_timer_deadline, t0 + 2 * MS, "slice: its 2 ms slice end is armed (b waits)");
	fake_now_ns = t0 + MS;
	OK(tick(a) == a, "slice: an early timer does not end a policy's slice");
	fake_now_ns = t0 + 2 * MS;
	u32 from = ring_hdr()->head;
	OK(tick(a) == b, "slice: at 2 ms b runs");
	OK(ring_has(from, SCHED_RING_SLICE_END, a_p, 0), "slice: SLICE_END reported for a");
	const struct sched_ring_event *e = ring_ev(from);
	OK(e->kind == SCHED_RING_SLICE_END && e->cpu == 0 && e->arg == 2 * MS &&
	           e->now == t0 + 2 * MS,
	   "slice: with the CPU, the time it ran and the time");
	EQ(pol->state, VCPU_READY, "slice: the policy's notification woke it");
	EQ(fake_timer_deadline, t0 + 5 * MS, "slice: b's 3 ms slice end is armed");
	EQ(sched.ctx[a->id].used_ns, 2 * MS, "slice: a's context was billed its 2 ms");
}

/** A slice of 0 (null): no slice end even while others wait. */
static void test_slice_zero(void)
{
	with_policy(1, 0x1, 1);
	struct vcpu *pol = tsys_vcpu(pol_p, 0), *a = tsys_vcpu(a_p, 0);
	tsys_boot();
	sset(pol, S_VCPUS, 0, 0, 1, 0, 0, 0);
	sset(pol, S_VCPUS_B, 0, 0, 1, MS, 0, 0);
	OK(hc(pol, HC_WAIT, S_NTF, 0, 0) == a, "slice 0: a runs");
	EQ(fake_timer_deadline, 0u, "slice 0: no timer although b waits");
	fake_now_ns += 50 * MS;
	OK(tick(a) == a, "slice 0: a stray timer does not end it");
}

/* ---- budgets -------------------------------------------------------------- */

static void test_budget(void)
{
	with_policy(1, 0x1, 1);
	struct vcpu *pol = tsys_vcpu(pol_p, 0), *a = tsys_vcpu(a_p, 0), *b = tsys_vcpu(b_p, 0);
	tsys_boot();
	hc(pol, HC_SCHED_RING, S_RING, S_NTF, 0);
	/* a: priority 9 with 500 us per 2 ms; b below it with no limit. */
	u64 t0 = fake_now_ns;
	EQ(sset(pol, S_VCPUS, 0, 0, 9, 0, 500 * US, 2 * MS), STATUS_OK,
	   "budget: a gets 500 us / 2 ms");
	sset(pol, S_VCPUS_B, 0, 0, 2, MS, 0, 0);
	EQ(hc(pol, HC_EXIT, 0, 0, 0) == a ? 1 : 0, 1, "budget: the policy leaves; a runs");
	EQ(fake_timer_deadline, t0 + 500 * US, "budget: the timer ends its budget");
	u32 from = ring_hdr()->head;
	(void)from;
	u64 a_runs = 0, b_runs = 0;
	struct vcpu *cur = a;
	for (u32 i = 0; i < 40 && fake_timer_deadline != 0; i++) {
		u64 before = fake_now_ns;
		fake_now_ns = fake_timer_deadline;
		if (cur == a)
			a_runs += fake_now_ns - before;
		else if (cur == b)
			b_runs += fake_now_ns - before;
		cur = tick(cur);
		if (fake_now_ns >= t0 + 20 * MS)
			break;
	}
	OK(fake_now_ns >= t0 + 20 * MS, "budget: ten periods went by");
	EQ(a_runs, 10 * 500 * US, "budget: a ran exactly its budget in each of ten periods");
	EQ(b_runs, 10 * 1500 * US, "budget: b took the rest");
	EQ(sched.ctx[a->id].used_ns, a_runs, "budget: a's context was billed what it ran");
	EQ(sched.ctx[b->id].used_ns, b_runs, "budget: b's too");
	EQ(a->run_ns, a_runs, "budget: the vCPU's run_ns follows its context");
}

/** A budget given to a vCPU running on another CPU starts clean, and its CPU's timer follows. */
static void test_budget_while_running(void)
{
	with_policy(2, 0x3, 1);
	kernel.cfg.partitions[pol_p].vcpus[0].hard_affinity = 0x2;
	kernel.cfg.partitions[a_p].vcpus[0].hard_affinity = 0x1;
	kernel.cfg.partitions[b_p].vcpus[0].hard_affinity = 0x2;
	struct vcpu *pol = tsys_vcpu(pol_p, 0), *a = tsys_vcpu(a_p, 0);
	OK(tsys_boot() == a, "running: a runs alone on CPU 0");
	EQ(fake_timer_deadline, 0u, "running: no tick");
	fake_cpu = 1;
	OK(kernel_idle(1) == pol, "running: the policy runs on CPU 1");
	fake_now_ns = 5 * MS;
	u32 kicks = fake_kicks;
	EQ(sset(pol, S_VCPUS, 0, 0, 0, 0, MS, 10 * MS), STATUS_OK,
	   "running: a gets 1 ms per 10 ms");
	OK(fake_kicks > kicks, "running: CPU 0 is kicked");
	EQ(sched.ctx[a->id].used_ns, 5 * MS - 1000, "running: its time so far was billed first");
	EQ(sched.ctx[a->id].remaining, MS, "running: ... outside the new window");
	fake_cpu = 0;
	fake_now_ns += 100;
	OK(trap_event(a, TRAP_IRQ, 0, 0) == a, "running: at the kick a runs on");
	EQ(fake_timer_deadline, 5 * MS + 100 + MS - 100, "running: with its budget's end armed");
}

/** A budget spent while b runs on the depleted list: the timer wakes it for its next window. */
static void test_budget_window(void)
{
	struct sched_ctx sc = { .budget_ns = 500 * US,
		                .period_ns = 2 * MS,
		                .remaining = 500 * US,
		                .period_end = 2 * MS };
	sched_ctx_charge(&sc, 1900 * US, 2100 * US);
	EQ(sc.remaining, 400 * US, "window: a run across the boundary counts only its new part");
	EQ(sc.period_end, 4 * MS, "window: the window moved on");
	sched_ctx_charge(&sc, 2100 * US, 3 * MS);
	EQ(sc.remaining, 0u, "window: an overrun empties it, never below zero");
	OK(!sched_ctx_runnable(&sc, 3900 * US), "window: spent until the window ends");
	OK(sched_ctx_runnable(&sc, 4 * MS) && sc.remaining == 500 * US,
	   "window: a full budget at the next window");
	OK(sched_ctx_runnable(&sc, 11 * MS) && sc.period_end == 12 * MS,
	   "window: missed windows are skipped, not banked");
	EQ(sc.used_ns, 1100 * US, "window: every ns billed is counted");
}

/* ---- park, placement, RUN now -------------------------------------------- */

static void test_park_place_now(void)
{
	with_policy(2, 0x3, 2);
	struct vcpu *pol = tsys_vcpu(pol_p, 0), *a0 = tsys_vcpu(a_p, 0), *a1 = tsys_vcpu(a_p, 1),
	            *b = tsys_vcpu(b_p, 0);
	tsys_boot();
	/* Everything on CPU 0 at boot (first CPU of every affinity). */
	EQ(sset(pol, S_VCPUS, 0, 0, SCHED_SET_PARK, MS, 0, 0), STATUS_OK, "park: a0 parked");
	OK(cpu_sched[0].depleted.head == a0, "park: it waits on the held list");
	hc7(pol, HC_SCHED_INFO, S_VCPUS, 0, 0, 0, 0, 0, 0);
	OK(reg(pol, 0) == STATUS_OK && reg(pol, 1) == SCHED_INFO_DEPLETED &&
	           (reg(pol, 5) & SCHED_SET_PARK) != 0,
	   "park: INFO says held, parked");
	EQ(sset(pol, S_VCPUS_B, 0, 0, SCHED_SET_NOW, MS, 0, 0), STATUS_OK, "now: RUN b");
	OK(cpu_sched[0].ready.head == b, "now: b is first among its equals");
	OK(hc(pol, HC_YIELD, 0, 0, 0) == b, "now: and runs at the next decision");
	/* Placement: a1 (ready on CPU 0) to CPU 1. */
	u32 kicks = fake_kicks;
	EQ(sset(b, S_VCPUS, 1, 1, 0, MS, 0, 0), STATUS_INVALID_CAP,
	   "place: (b holds no vcpus capability)");
	fake_now_ns += MS;
	struct vcpu *cur = tick(b);
	while (cur != pol) {
		fake_now_ns += MS;
		cur = tick(cur);
	}
	EQ(sset(pol, S_VCPUS, 1, 1, 0, MS, 0, 0), STATUS_OK, "place: a1 to CPU 1");
	OK(a1->cpu == 1 && cpu_sched[1].ready.head == a1 && fake_kicks > kicks,
	   "place: a ready vCPU moves at once and CPU 1 is kicked");
	fake_cpu = 1;
	OK(kernel_idle(1) == a1, "place: CPU 1 runs it");
	fake_cpu = 0;
	EQ(sset(pol, S_VCPUS, 1, 0, 0, MS, 0, 0), STATUS_OK,
	   "place: a1 back to CPU 0 while it runs");
	OK(a1->cpu == 1 && a1->state == VCPU_RUNNING, "place: it finishes its turn on CPU 1");
	fake_cpu = 1;
	OK(trap_event(a1, TRAP_IRQ, 0, 0) != a1, "place: at CPU 1's next decision it leaves");
	fake_cpu = 0;
	OK(a1->cpu == 0 && a1->state == VCPU_READY, "place: it waits on CPU 0");
	/* Unpark. */
	EQ(sset(pol, S_VCPUS, 0, 0, 0, MS, 0, 0), STATUS_OK, "park: a0 unparked");
	OK(cpu_sched[0].depleted.head == NULL && a0->state == VCPU_READY,
	   "park: back on the ready queue");
}

/* ---- the event ring ------------------------------------------------------ */

static void test_ring(void)
{
	with_policy(1, 0x1, 1);
	u32 other = tsys_partition("other", 1);
	tsys_cap(other, 1, CAP_MEMORY, other, RIGHT_MEM_READ | RIGHT_MEM_WRITE, 0);
	tsys_cap(other, 2, CAP_NOTIFICATION, ntf, RIGHT_NTF_WAIT, 0);
	u32 n = tsys_notification();
	tsys_cap(a_p, 1, CAP_NOTIFICATION, n, RIGHT_NTF_WAIT, 0);
	struct vcpu *pol = tsys_vcpu(pol_p, 0), *a = tsys_vcpu(a_p, 0), *b = tsys_vcpu(b_p, 0);
	struct vcpu *vo = tsys_vcpu(other, 0);
	tsys_boot();
	hc(pol, HC_SCHED_RING, S_EP, S_NTF, 0);
	EQ(reg(pol, 0), STATUS_WRONG_TYPE, "ring: an endpoint is no ring");
	hc(pol, HC_SCHED_RING, S_RING, S_EP, 0);
	EQ(reg(pol, 0), STATUS_WRONG_TYPE, "ring: an endpoint is no notification");
	u64 size = kernel.cfg.regions[pol_p].size;
	kernel.cfg.regions[pol_p].size = 64;
	hc(pol, HC_SCHED_RING, S_RING, S_NTF, 0);
	EQ(reg(pol, 0), STATUS_INVALID_ARG, "ring: a region with no room for one event");
	kernel.cfg.regions[pol_p].size = size;
	kernel.cfg.regions[pol_p].kind = REGION_DEVICE;
	hc(pol, HC_SCHED_RING, S_RING, S_NTF, 0);
	EQ(reg(pol, 0), STATUS_INVALID_ARG, "ring: a device region");
	kernel.cfg.regions[pol_p].kind = REGION_RAM;
	OK(sched.ring[pol_p].hdr == NULL, "ring: nothing registered by a refused call");
	hc(pol, HC_SCHED_RING, S_RING, S_NTF, 0);
	OK(reg(pol, 0) == STATUS_OK && reg(pol, 1) == 64 && ring_hdr()->count == 64,
	   "ring: 4 KiB hold 64 events (a power of two)");
	OK(hc(pol, HC_WAIT, S_NTF, 0, 0) == a, "ring: the policy waits; a runs");
	EQ(ring_hdr()->head, 0u, "ring: the policy's own wait is not reported to it");
	sched_report(SCHED_RING_WOKEN, 0, pol, 0);
	EQ(ring_hdr()->head, 0u, "ring: nothing about its own vCPUs, even with a cap over itself");
	OK(hc(a, HC_WAIT, 1, 0, 0) == b, "ring: a waits");
	OK(ring_has(0, SCHED_RING_BLOCKED, a_p, 0), "ring: BLOCKED a");
	EQ(pol->state, VCPU_READY, "ring: the notification woke the policy");
	EQ(kernel.notifications[ntf].word, 0u, "ring: (its word went to the woken waiter)");
	/* Events keep coming while the policy does not read: the ring fills, nothing blocks. */
	u32 lost_before = ring_hdr()->lost, head_before = ring_hdr()->head;
	for (u32 i = 0; i < 100; i++) {
		fake_now_ns += MS;
		sched_report(SCHED_RING_WOKEN, 0, a, 0);
	}
	EQ(ring_hdr()->head, 64u, "ring: full at 64");
	EQ(ring_hdr()->lost - lost_before, 100u - (64u - head_before),
	   "ring: the rest are counted as lost");
	/* A hostile tail: the kernel only sees a full ring. */
	ring_hdr()->tail = 1000;
	ring_hdr()->head = 5;
	ring_hdr()->count = 3;
	sched_report(SCHED_RING_WOKEN, 0, a, 0);
	OK(ring_hdr()->head == 5 && ring_hdr()->count == 3,
	   "ring: a tail ahead of head writes nothing (its own head and count are kept)");
	ring_hdr()->tail = 64;
	sched_report(SCHED_RING_WOKEN, 0, a, 0);
	OK(ring_hdr()->head == 65 && ring_hdr()->count == 64 &&
	           ring_ev(64)->kind == SCHED_RING_WOKEN,
	   "ring: once read, the next event goes in with the kernel's own head");
	/* Only a policy partition registers a ring. */
	while (vo->state != VCPU_RUNNING) {
		fake_now_ns += MS;
		tick(cpu_sched[0].current);
	}
	hc(vo, HC_SCHED_RING, 1, 2, 0);
	EQ(reg(vo, 0), STATUS_NO_RIGHTS, "ring: a partition that is no policy");
	/* STOPPED and IDLE. */
	u32 h = ring_hdr()->tail = ring_hdr()->head;
	hc(vo, HC_EXIT, 0, 0, 0);
	OK(!ring_has(h, SCHED_RING_STOPPED, other, 0),
	   "ring: a partition outside its scope: nothing");
	partition_stop(&kernel.partitions[b_p], "test", false);
	OK(ring_has(h, SCHED_RING_STOPPED, b_p, 0), "ring: STOPPED b");
}

static void test_idle_event(void)
{
	with_policy(2, 0x3, 1);
	kernel.cfg.partitions[pol_p].vcpus[0].hard_affinity = 0x1;
	kernel.cfg.partitions[a_p].vcpus[0].hard_affinity = 0x2;
	u32 n = tsys_notification();
	tsys_cap(a_p, 1, CAP_NOTIFICATION, n, RIGHT_NTF_WAIT, 0);
	struct vcpu *pol = tsys_vcpu(pol_p, 0), *a = tsys_vcpu(a_p, 0), *b = tsys_vcpu(b_p, 0);
	tsys_boot();
	hc(pol, HC_SCHED_RING, S_RING, S_NTF, 0);
	OK(hc(pol, HC_WAIT, S_NTF, 0, 0) == b, "idle: the policy waits on CPU 0; b runs there");
	fake_cpu = 1;
	OK(kernel_idle(1) == a, "idle: a runs on CPU 1");
	u32 h = ring_hdr()->head, kicks = fake_kicks;
	OK(hc(a, HC_WAIT, 1, 0, 0) == NULL, "idle: a waits: CPU 1 has nothing to run");
	fake_cpu = 0;
	OK(ring_has(h, SCHED_RING_BLOCKED, a_p, 0), "idle: BLOCKED a");
	bool idle = false;
	for (u32 i = h; i != ring_hdr()->head; i++)
		idle |= ring_ev(i)->kind == SCHED_RING_IDLE && ring_ev(i)->cpu == 1;
	OK(idle, "idle: IDLE reported for CPU 1");
	OK(pol->state == VCPU_READY && fake_kicks > kicks, "idle: the policy is woken on CPU 0");
	/* The policy's own wait never reports IDLE to itself (no endless wake-ups). */
	OK(hc(b, HC_YIELD, 0, 0, 0) == pol, "idle: the policy runs");
	partition_stop(&kernel.partitions[b_p], "test", false);
	hc(pol, HC_POLL, S_NTF, 0, 0);
	ring_hdr()->tail = h = ring_hdr()->head;
	OK(FAKE_EXPECT_EXIT(hc(pol, HC_WAIT, S_NTF, 0, 0)),
	   "idle: the policy waits; CPU 0 idles, and as nothing can run any more, off");
	EQ(ring_hdr()->head, h, "idle: no event about the policy's own leaving");
	EQ(pol->state, VCPU_BLOCKED_NOTIFY, "idle: it stays asleep");
}

/* ---- donation along IPC -------------------------------------------------- */

/** The CPU bills the context its current vCPU runs on (sched_switch_to relies on it). */
static bool billed_right(void)
{
	const struct cpu_sched *cs = &cpu_sched[0];
	return cs->current == NULL || cs->sc == sched_sc_id(cs->current) + 1u;
}

static bool donation_ok;

/** Record whether the billing invariant holds after a step; returns the step's check. */
static bool step(bool ok)
{
	donation_ok &= billed_right();
	return ok;
}

static void test_donation(void)
{
	donation_ok = true;
	tsys_reset(1);
	fake_now_ns = 1000;
	u32 s = tsys_partition("server", 1), a = tsys_partition("client", 1),
	    o = tsys_partition("other", 1);
	u32 ep = tsys_endpoint();
	tsys_cap(s, 1, CAP_ENDPOINT, ep, RIGHT_EP_RECV, 0);
	tsys_cap(a, 1, CAP_ENDPOINT, ep, RIGHT_EP_SEND, 7);
	struct vcpu *vs = tsys_vcpu(s, 0), *va = tsys_vcpu(a, 0), *vo = tsys_vcpu(o, 0);
	tsys_boot();
	OK(step(hc(vs, HC_RECV, 1, 0, 0) == va), "donate: the server waits; the client runs");
	fake_now_ns = 1100;
	OK(step(hc(va, HC_CALL, 1, 0, 0) == vs), "donate: the call switches to the server");
	EQ(sched_sc_id(vs), va->id, "donate: the server runs on the client's context");
	fake_now_ns = 1400;
	OK(step(hc(vs, HC_REPLY, 0, 0, 0) == vs), "donate: the server replies and runs on");
	EQ(sched_sc_id(vs), vs->id, "donate: on its own context again");
	EQ(sched.ctx[va->id].used_ns, 400u, "donate: the client's context paid for the call");
	fake_now_ns = 1600;
	OK(step(hc(vs, HC_RECV, 1, 0, 0) == vo), "donate: the server waits again");
	EQ(sched.ctx[vs->id].used_ns, 200u, "donate: its own work after the reply was its own");
	/* A sender that queued while the server was away: the server takes its context on receive. */
	fake_now_ns = 2000;
	OK(step(tick(vo) == va), "donate: the client's turn");
	fake_now_ns = 2100;
	OK(step(hc(va, HC_CALL, 1, 0, 0) == vs), "donate: a second call");
	fake_now_ns = 2300;
	OK(step(hc(vs, HC_REPLY_RECV, 1, 0, 0) == va),
	   "donate: reply and receive: back to the client");
	OK(step(hc(va, HC_YIELD, 0, 0, 0) == vo), "donate: the client yields");
	EQ(sched.ctx[va->id].used_ns, 400u + 300u,
	   "donate: the client paid for the whole round trip");
	EQ(sched.ctx[vs->id].used_ns, 200u, "donate: the server nothing");
	/* The budget follows the context: a client with little budget cannot buy more through a server. */
	sched.ctx[va->id] = (struct sched_ctx){ .programmed = true,
		                                .slice_ns = MS,
		                                .budget_ns = 100 * US,
		                                .period_ns = 10 * MS,
		                                .remaining = 100 * US,
		                                .period_end = 10 * MS,
		                                .used_ns = sched.ctx[va->id].used_ns };
	fake_now_ns = 2400;
	OK(step(tick(vo) == va), "donate: the client runs with 100 us of budget");
	EQ(fake_timer_deadline, 2400 + 100 * US, "donate: the timer ends the budget");
	OK(step(hc(va, HC_CALL, 1, 0, 0) == vs), "donate: a call on a small budget");
	fake_now_ns = 2400 + 100 * US;
	OK(step(tick(vs) == vo), "donate: the budget ends under the server");
	OK(cpu_sched[0].depleted.head == vs, "donate: the server waits with the client's context");
	fake_now_ns = 10 * MS;
	OK(step(tick(vo) == vs), "donate: the next window lets it finish");
	OK(step(hc(vs, HC_REPLY_RECV, 1, 0, 0) == va), "donate: and reply");
	OK(billed_right(), "donate: the CPU bills the current vCPU's context");
	OK(donation_ok, "donate: ... after every step of this test");
}

/* ---- HC_SCHED_INFO, a policy that stops, power-off ----------------------- */

static void test_info_and_stop(void)
{
	with_policy(1, 0x1, 1);
	kernel.cfg.partitions[pol_p].restartable = true;
	kernel.cfg.partitions[a_p].weight = 512;
	kernel.cfg.partitions[a_p].cap_percent = 30;
	struct vcpu *pol = tsys_vcpu(pol_p, 0), *a = tsys_vcpu(a_p, 0);
	tsys_boot();
	hc(pol, HC_SCHED_RING, S_RING, S_NTF, 0);
	sset(pol, S_VCPUS, 0, 0, 4 | SCHED_SET_PARK, 2 * MS, MS, 4 * MS);
	hc7(pol, HC_SCHED_INFO, S_VCPUS, 0, 0, 0, 0, 0, 0);
	OK(reg(pol, 0) == STATUS_OK && reg(pol, 1) == SCHED_INFO_DEPLETED && reg(pol, 2) == 0 &&
	           reg(pol, 4) == MS && reg(pol, 5) == (4u | SCHED_SET_PARK),
	   "info: state, CPU, budget left, priority and park as set");
	OK(SCHED_INFO_R6_WEIGHT(reg(pol, 6)) == 512 && SCHED_INFO_R6_CAP(reg(pol, 6)) == 30 &&
	           SCHED_INFO_R6_PARTITION(reg(pol, 6)) == a_p &&
	           (reg(pol, 6) & SCHED_INFO_R6_SELF) == 0 && reg(pol, 7) == a->hard_affinity &&
	           reg(pol, 8) == a->soft_affinity,
	   "info: the manifest's weight, cap, partition and affinities");
	hc7(pol, HC_SCHED_INFO, S_SELF, 0, 0, 0, 0, 0, 0);
	OK(reg(pol, 0) == STATUS_OK && (reg(pol, 6) & SCHED_INFO_R6_SELF) != 0 &&
	           SCHED_INFO_R6_PARTITION(reg(pol, 6)) == pol_p,
	   "info: the caller's own vCPU says so");
	hc7(pol, HC_SCHED_INFO, S_NORIGHTS, 0, 0, 0, 0, 0, 0);
	EQ(reg(pol, 0), STATUS_NO_RIGHTS, "info: needs the schedule right");
	hc7(pol, HC_SCHED_INFO, S_VCPUS, 5, 0, 0, 0, 0, 0);
	EQ(reg(pol, 0), STATUS_INVALID_ARG, "info: a vCPU it does not have");
	/* The policy crashes and is restarted: the plan stays, its ring goes. */
	hc(pol, HC_EXIT, 1, 0, 0);
	OK(sched.ring[pol_p].hdr == NULL, "stop: the dead policy's ring is dropped");
	OK(sched.ctx[a->id].parked && sched.ctx[a->id].prio == 4, "stop: its last plan holds");
	EQ(kernel.partitions[pol_p].restarts, 1u, "stop: it is restarted");
	/* Stopped for good: parked vCPUs are let go, priorities and budgets stay. */
	kernel.cfg.partitions[pol_p].restartable = false;
	partition_stop(&kernel.partitions[pol_p], "test", false);
	OK(!sched.ctx[a->id].parked && sched.ctx[a->id].budget_ns == MS,
	   "stop: gone for good: a is unparked, its budget stays");
	OK(strstr(tsys_console(), "policy 'pol' is gone") != NULL, "stop: reported once");
	OK(a->state == VCPU_READY && cpu_sched[0].depleted.head == NULL, "stop: a can run");
}

static void test_power(void)
{
	with_policy(1, 0x1, 1);
	u32 n = tsys_notification();
	tsys_cap(b_p, 1, CAP_NOTIFICATION, n, RIGHT_NTF_WAIT, 0);
	struct vcpu *pol = tsys_vcpu(pol_p, 0), *a = tsys_vcpu(a_p, 0), *b = tsys_vcpu(b_p, 0);
	tsys_boot();
	sset(pol, S_VCPUS, 0, 0, 0, MS, 100 * US, 10 * MS);
	sched.ctx[a->id].remaining = 0; /* spent */
	sched_requeue(a, 0, false);
	hc(pol, HC_EXIT, 0, 0, 0);
	OK(cpu_sched[0].current == b, "power: b runs, a waits for its budget");
	struct vcpu *next = NULL;
	OK(!FAKE_EXPECT_EXIT(next = hc(b, HC_WAIT, 1, 0, 0)),
	   "power: a vCPU waiting for its budget keeps the machine on");
	OK(next == NULL && fake_timer_deadline == sched.ctx[a->id].period_end,
	   "power: the CPU idles until a's next window");
	fake_now_ns = fake_timer_deadline;
	OK(tick(NULL) == a, "power: and then runs a");
	OK(FAKE_EXPECT_EXIT(hc(a, HC_EXIT, 0, 0, 0)),
	   "power: once no vCPU can ever run (b waits on a notification nobody signals), off");
}

/* ---- CPUs the manifest does not use ------------------------------------ */

/** Four CPUs online, a manifest of two: CPUs 2 and 3 are parked as they start, 0-1 are not. */
static void test_unused_cpus(void)
{
	tsys_reset(4);
	kernel.cfg.cpu_count = 2;
	kernel.cpu_count = 2; /* what kernel_boot makes of cfg.cpu_count < CPUs online */
	u32 p = tsys_partition("a", 1);
	(void)p;
	tsys_boot();
	OK(!boot_cpu_unused(0) && !boot_cpu_unused(1), "unused: CPUs 0 and 1 are in use");
	OK(boot_cpu_unused(2) && boot_cpu_unused(3) && boot_cpu_unused(7),
	   "unused: CPUs 2, 3 (and any beyond) are not");
	fake_console_clear();
	fake_cpu = 1;
	struct vcpu *next = (struct vcpu *)1;
	OK(!FAKE_EXPECT_EXIT(next = kernel_cpu_start(1)) && next != (struct vcpu *)1,
	   "unused: CPU 1 starts as before");
	fake_cpu = 3;
	u32 kicks = fake_kicks;
	OK(FAKE_EXPECT_EXIT(kernel_cpu_start(3)) && fake_exit_status == -2,
	   "unused: CPU 3 is parked as it starts");
	console_flush_sync();
	OK(strstr(fake_console(), "[hyp] cpu 3 off: the manifest uses 2 CPUs") != NULL,
	   "unused: and says so");
	EQ(kernel_lock.value, 0u, "unused: it parks holding no lock");
	EQ(fake_kicks, kicks, "unused: nobody was kicked for it");
	fake_cpu = 0;
}

int main(void)
{
	test_default_plan();
	test_set_checks();
	test_priorities();
	test_slices();
	test_slice_zero();
	test_budget();
	test_budget_window();
	test_budget_while_running();
	test_park_place_now();
	test_ring();
	test_idle_event();
	test_donation();
	test_info_and_stop();
	test_power();
	test_unused_cpus();
	return tap_finish();
}
