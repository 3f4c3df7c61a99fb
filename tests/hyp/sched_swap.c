/**
 * The run-time swap of the scheduling policies (issue 11; docs/scheduling.md "Swapping
 * policies"): this partition plays the management service. It holds a send capability over
 * the policy partition's control endpoint (ipc/sched.h SCHED_CTL_*) and reads the counts the
 * two spinner VMs publish (spinner.c, SPINNER_PUBLISHED), so every share below is the guests'
 * own measure, in loop iterations, under -icount:
 *
 *   phase             affinities (hard)    what is checked
 *   credit2           a, b: {0}            a (weight 512) : b (256) = 2:1 within 5 %
 *   -> null           a, b: {0}            a keeps CPU 0, b waits (its count stands still)
 *   null              b: {0, 1}            b takes CPU 1: both run, each alone on its CPU
 *   -> credit2        a, b: {0}            2:1 again
 *   credit2           b's weight 512       1:1 within 5 % (SCHED_CTL_DOMAIN)
 *
 * Why the affinities: under null and Credit2 alike a vCPU allowed on an idle CPU takes it, so
 * two guests share a CPU only when their affinity says so; the test narrows and widens it
 * through the same control interface. The policy's own lines (the placements null makes, the
 * slice ends of each phase) are checked by the manifest's `expect:` lines. Bad requests get
 * their error status and change nothing.
 */
#include <ipc/sched.h>
#include <svc/svc.h>

#define SLOT_CTL 0u
#define SLOT_NEWS 1u /**< a notification the spinners signal every 2^20 iterations */
#define STOP_IPA 0x200000u
#define COUNT_A_IPA 0x210000u
#define COUNT_B_IPA 0x220000u
/** The spinners' partition indices (their order in the manifest). */
#define PART_A 1u
#define PART_B 2u
/**
 * CPU 0 is the one the guests share under Credit2: the policy's own, where it runs above them
 * and hears every event at once (as in the other policy tests). CPU 1 is b's under null;
 * CPU 2 is beyond what the manifest allows them. This partition and the policy's control
 * vCPU are on CPU 3.
 */
#define CPU0 (1u << 0)
#define CPU1 (1u << 1)
#define CPU2 (1u << 2)
/** Iterations the two spinners make in one measured phase, and before one (settling). */
#define PHASE_COUNT UINT64_C(40000000)
#define SETTLE_COUNT UINT64_C(12000000)

static volatile uint64_t *const stop = (volatile uint64_t *)(uintptr_t)STOP_IPA;
static volatile const uint64_t *const count_a = (volatile const uint64_t *)(uintptr_t)COUNT_A_IPA;
static volatile const uint64_t *const count_b = (volatile const uint64_t *)(uintptr_t)COUNT_B_IPA;

/** Waits for the spinners' next signal: this CPU sleeps meanwhile. */
static void news(void)
{
	uint64_t bits;
	svc_wait(SLOT_NEWS, &bits);
}

/** One control call: returns the reply's status; w0/w1 of the reply in active/swaps. */
static uint64_t ctl(uint64_t label, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3,
                    uint64_t *active, uint64_t *swaps)
{
	struct msg m = { .label = label, .w = { w0, w1, w2, w3 } };
	enum status s = svc_call(SLOT_CTL, &m);
	if (s != STATUS_OK)
		return 0x100u + s; /* the call itself failed: no reply's status */
	if (active != NULL)
		*active = m.w[0];
	if (swaps != NULL)
		*swaps = m.w[1];
	return m.label;
}

static uint64_t affinity(uint32_t part, uint64_t hard, uint64_t soft)
{
	return ctl(SCHED_CTL_AFFINITY, part, 0, hard, soft, NULL, NULL);
}

/** Waits (yielding) until the spinners together made `total` iterations; returns each's. */
static void run_for(uint64_t total, uint64_t *da, uint64_t *db)
{
	uint64_t a0 = *count_a, b0 = *count_b;
	while ((*count_a - a0) + (*count_b - b0) < total)
		news();
	*da = *count_a - a0;
	*db = *count_b - b0;
}

/** Waits until one spinner alone made `total` iterations (the other may stand still). */
static void run_one(volatile const uint64_t *c, uint64_t total)
{
	uint64_t c0 = *c;
	while (*c - c0 < total)
		news();
}

/** a : b in thousandths, checked against 1.9 .. 2.1. */
static void check_two_to_one(const char *when)
{
	uint64_t da, db;
	run_for(SETTLE_COUNT, &da, &db);
	run_for(PHASE_COUNT, &da, &db);
	uint64_t milli = db == 0 ? 0 : da * 1000u / db;
	tap_ok(milli >= 1900u && milli <= 2100u, "%s: a : b = %llu.%03llu (%llu / %llu)", when,
	       (unsigned long long)(milli / 1000u), (unsigned long long)(milli % 1000u),
	       (unsigned long long)da, (unsigned long long)db);
}

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t active = 0, swaps = 0, da, db;
	tap_plan(23);
	while (*count_a == 0 || *count_b == 0)
		news();
	tap_is(ctl(SCHED_CTL_QUERY, 0, 0, 0, 0, &active, &swaps), STATUS_OK, "query");
	tap_ok(active == SCHED_CTL_POLICY_CREDIT2 && swaps == 0, "credit2 runs, no swap yet");

	/* Bad requests: an error each, and nothing changes. */
	tap_is(ctl(99, 0, 0, 0, 0, NULL, NULL), STATUS_INVALID_CALL, "unknown request");
	tap_is(ctl(SCHED_CTL_SWAP, 7, 0, 0, 0, NULL, NULL), STATUS_INVALID_ARG, "unknown policy");
	tap_is(ctl(SCHED_CTL_SWAP, SCHED_CTL_POLICY_CREDIT2, 0, 0, 0, NULL, NULL), STATUS_BAD_STATE,
	       "swap to the policy running");
	tap_is(affinity(PART_A, CPU0 | CPU2, CPU0), STATUS_INVALID_ARG,
	       "hard affinity beyond the manifest's");
	tap_is(affinity(PART_A, CPU0, CPU1), STATUS_INVALID_ARG, "soft affinity outside hard");
	tap_is(affinity(200, CPU0, 0), STATUS_INVALID_ARG, "no such partition");
	tap_is(affinity(PART_A, 0, 0), STATUS_INVALID_ARG, "empty hard affinity");

	/* Credit2 with both on CPU 0: weights. */
	tap_is(affinity(PART_A, CPU0, 0) | affinity(PART_B, CPU0, 0), STATUS_OK,
	       "both confined to CPU 0");
	check_two_to_one("credit2 before the swaps");

	/* Credit2 -> null with both still on CPU 0: a keeps it, b waits. */
	tap_is(ctl(SCHED_CTL_SWAP, SCHED_CTL_POLICY_NULL, 0, 0, 0, &active, &swaps), STATUS_OK,
	       "swap to null");
	tap_ok(active == SCHED_CTL_POLICY_NULL && swaps == 1, "null runs (swap 1)");
	run_one(count_a, SETTLE_COUNT); /* CPU 0 runs a: b has left it */
	uint64_t b0 = *count_b;
	run_one(count_a, SETTLE_COUNT);
	tap_is(*count_b - b0, 0, "b waits under null while a holds CPU 0");

	/* b may use CPU 1 too: null gives it CPU 1 and both run, each alone. */
	tap_is(affinity(PART_B, CPU0 | CPU1, 0), STATUS_OK, "b allowed on CPU 1");
	run_for(SETTLE_COUNT, &da, &db);
	run_for(PHASE_COUNT, &da, &db);
	tap_ok(da > PHASE_COUNT / 4u && db > PHASE_COUNT / 4u,
	       "null: both run, each on its CPU (%llu / %llu)", (unsigned long long)da,
	       (unsigned long long)db);

	/* Null -> credit2, both confined to CPU 0 again: weights again. */
	tap_is(ctl(SCHED_CTL_SWAP, SCHED_CTL_POLICY_CREDIT2, 0, 0, 0, &active, &swaps) |
	               affinity(PART_B, CPU0, 0),
	       STATUS_OK, "swap back to credit2, b confined to CPU 0");
	check_two_to_one("credit2 after the swaps");

	/* Weights at run time: b's 256 -> 512, as a's: 1:1. */
	tap_is(ctl(SCHED_CTL_DOMAIN, 200, 512, 0, 0, NULL, NULL), STATUS_INVALID_ARG,
	       "weight of no such partition");
	tap_is(ctl(SCHED_CTL_DOMAIN, PART_B, 70000, 0, 0, NULL, NULL), STATUS_INVALID_ARG,
	       "weight 70000");
	tap_is(ctl(SCHED_CTL_DOMAIN, PART_B, 0, 150, 0, NULL, NULL), STATUS_INVALID_ARG,
	       "cap 150 on one vCPU");
	tap_is(ctl(SCHED_CTL_DOMAIN, PART_B, 512, 0, 0, NULL, NULL), STATUS_OK, "b's weight 512");
	run_for(SETTLE_COUNT, &da, &db);
	run_for(PHASE_COUNT, &da, &db);
	uint64_t milli = db == 0 ? 0 : da * 1000u / db;
	tap_ok(milli >= 950u && milli <= 1050u, "equal weights: a : b = %llu.%03llu (%llu / %llu)",
	       (unsigned long long)(milli / 1000u), (unsigned long long)(milli % 1000u),
	       (unsigned long long)da, (unsigned long long)db);
	*stop = 1;
	tap_done();
}
