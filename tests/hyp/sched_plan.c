/**
 * The kernel's scheduling plan in QEMU (issue 11; docs/scheduling.md): this
 * partition is the policy (sched-policy, sched-cpus 0) of two spinners on
 * CPU 0, where it runs too, above them (a `vcpus` capability over itself:
 * priority 3, no slice), so that every event wakes it at once. It registers
 * its event ring, programs slices, priorities and a budget with
 * HC_SCHED_SET, follows the events and reads the kernel's accounting back
 * with HC_SCHED_INFO:
 *  - equal priorities with slices of 10 and 5 ms share CPU 0 2:1 (within 2 %);
 *  - a spinner above the other with a budget of 2.5 ms per 10 ms takes 25 %
 *    (within 2 %), and the kernel reports BUDGET each period;
 *  - the policy ends with a spinner parked: the kernel releases it, and
 *    both spinners run on to their end.
 * Measured in the kernel's own billed time; the test runs under -icount.
 */
#include <ipc/sched.h>
#include <svc/svc.h>
#include <svc_arch.h>

#define SLOT_A 0u
#define SLOT_B 1u
#define SLOT_RING 2u
#define SLOT_NTF 3u
#define SLOT_SELF 4u
#define RING_IPA 0x300000u
#define STOP_IPA 0x200000u
#define MS UINT64_C(1000000)

static struct sched_ring_header *const ring = (struct sched_ring_header *)(uintptr_t)RING_IPA;

static uint64_t hc(uint64_t nr, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                   uint64_t r6, uint64_t r7, uint64_t out[IPC_REG_COUNT])
{
	uint64_t r[IPC_REG_COUNT] = { nr, r1, r2, r3, r4, r5, r6, r7, 0 };
	arch_hypercall(r);
	if (out != 0)
		for (unsigned i = 0; i < IPC_REG_COUNT; i++)
			out[i] = r[i];
	return r[0];
}

static uint64_t set(uint32_t slot, uint64_t pf, uint64_t slice, uint64_t budget, uint64_t period)
{
	return hc(HC_SCHED_SET, slot, 0, 0, pf, slice, budget, period, 0);
}

static uint64_t used(uint32_t slot)
{
	uint64_t r[IPC_REG_COUNT];
	hc(HC_SCHED_INFO, slot, 0, 0, 0, 0, 0, 0, r);
	return r[3];
}

/** Events seen per kind, the time of the last one, the longest run a BUDGET reported. */
static uint32_t seen[8];
static uint64_t last_now, longest_budget_run;

static void drain(void)
{
	const struct sched_ring_event *ev =
	        (const struct sched_ring_event *)(uintptr_t)(RING_IPA + SCHED_RING_HEADER_SIZE);
	uint32_t head = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
	for (uint32_t t = ring->tail; t != head; t++) {
		const struct sched_ring_event *e = &ev[t & (ring->count - 1u)];
		if (e->kind < 8)
			seen[e->kind]++;
		if (e->kind == SCHED_RING_BUDGET && e->arg > longest_budget_run)
			longest_budget_run = e->arg;
		last_now = e->now;
	}
	__atomic_store_n(&ring->tail, head, __ATOMIC_RELEASE);
}

/** Wait for events until a and b together were billed span ns more than at the start. */
static void run_for(uint64_t span, uint64_t *da, uint64_t *db)
{
	uint64_t a0 = used(SLOT_A), b0 = used(SLOT_B), a, b;
	do {
		uint64_t bits;
		svc_wait(SLOT_NTF, &bits);
		drain();
		a = used(SLOT_A);
		b = used(SLOT_B);
	} while (a - a0 + b - b0 < span);
	*da = a - a0;
	*db = b - b0;
}

/** Whether got is within pct percent of want (per mille of precision). */
static bool near(uint64_t got_pm, uint64_t want_pm, uint64_t pct)
{
	uint64_t tol = want_pm * pct / 100u;
	return got_pm + tol >= want_pm && got_pm <= want_pm + tol;
}

int svc_main(uint64_t arg)
{
	(void)arg;
	tap_plan(10);
	tap_is(set(SLOT_SELF, 3, 0, 0, 0), STATUS_OK, "the policy runs above what it schedules");
	uint64_t r[IPC_REG_COUNT];
	tap_is(hc(HC_SCHED_RING, SLOT_RING, SLOT_NTF, 0, 0, 0, 0, 0, r), STATUS_OK,
	       "the policy registers its event ring");
	tap_ok(r[1] >= 64 && ring->count == r[1], "ring of %u events", (unsigned)r[1]);

	/* 2:1 by slices. */
	tap_ok(set(SLOT_A, 1, 10 * MS, 0, 0) == STATUS_OK &&
	               set(SLOT_B, 1, 5 * MS, 0, 0) == STATUS_OK,
	       "slices of 10 and 5 ms at one priority");
	uint64_t da, db;
	run_for(300 * MS, &da, &db);
	uint64_t share = da * 1000u / db;
	tap_ok(near(share, 2000, 2), "they share CPU 0 2:1 within 2 %% (a:b = %u.%03u)",
	       (unsigned)(share / 1000u), (unsigned)(share % 1000u));
	tap_ok(seen[SCHED_RING_SLICE_END] >= 15, "the kernel reported %u slice ends",
	       (unsigned)seen[SCHED_RING_SLICE_END]);

	/* A budget: 25 % for the higher priority. */
	tap_ok(set(SLOT_A, 2, 10 * MS, 2500000, 10 * MS) == STATUS_OK,
	       "a above b with 2.5 ms per 10 ms");
	uint32_t budgets = seen[SCHED_RING_BUDGET];
	run_for(400 * MS, &da, &db);
	share = da * 1000u / (da + db);
	tap_ok(near(share, 250, 2), "a takes 25 %% within 2 %% (%u.%u %%)", (unsigned)(share / 10u),
	       (unsigned)(share % 10u));
	tap_ok(seen[SCHED_RING_BUDGET] - budgets >= 38, "BUDGET reported %u times in 40 periods",
	       (unsigned)(seen[SCHED_RING_BUDGET] - budgets));
	tap_ok(longest_budget_run <= 2500000 + 1000,
	       "no run of a went past its budget by more than 1 us (longest %u ns)",
	       (unsigned)longest_budget_run);

	/*
	 * The policy goes away for good leaving a parked: the kernel keeps the
	 * rest of the plan and lets a go, so both spinners still see the flag
	 * and exit (the manifest's expect lines).
	 */
	*(volatile uint64_t *)(uintptr_t)STOP_IPA = 1;
	set(SLOT_A, SCHED_SET_PARK | 1, 10 * MS, 0, 0);
	tap_done();
}
