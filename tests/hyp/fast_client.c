/**
 * A client of the echo server (ponger) for the IPC fastpath test
 * (ipc-fast.dts): many calls, each reply checked word by word, interleaved
 * with refused calls that must leave everything as it was. Two of these run,
 * one on the echo server's CPU (calls and replies that take the fastpath),
 * one on another CPU (a receiver and a caller elsewhere, and a sender queued
 * while the server serves the first: the fallbacks). Slots: 0 send on the
 * echo endpoint (badged), 1 recv only on it, 2 a notification; the rest
 * empty.
 */
#include <svc/svc.h>

#define ROUNDS 400u

static bool round_trip(uint64_t r, uint64_t badge)
{
	struct msg q = { .label = r, .w = { r, r * 2, r * 3, r ^ 0x55, ~r, 0 } };
	if (svc_call(0, &q) != STATUS_OK || q.label != r + 1)
		return false;
	return q.w[0] == r + 100 && q.w[1] == r * 2 + 100 && q.w[2] == r * 3 + 100 &&
	       q.w[3] == (r ^ 0x55) + 100 && q.w[4] == ~r + 100 && q.w[5] == badge;
}

int svc_main(uint64_t arg)
{
	(void)arg;
	tap_plan(8);
	struct msg m = { .label = 1 };
	tap_is(svc_call(0, &m), STATUS_OK, "the first call is answered");
	uint64_t badge = m.w[IPC_MSG_WORDS - 1];
	tap_ok(badge == 0xf1 || badge == 0xf2, "the server saw this client's badge");
	unsigned good = 0;
	for (unsigned r = 0; r < ROUNDS; r++)
		good += round_trip(r, badge) ? 1u : 0u;
	tap_is(good, ROUNDS, "400 round trips, every word of every reply right");
	/* Refused calls, each followed by a good one: nothing was left half done. */
	unsigned refused = 0, after = 0;
	for (unsigned r = 0; r < 20; r++) {
		struct msg bad = { .label = r };
		refused += svc_call(5, &bad) == STATUS_INVALID_CAP;
		after += round_trip(1000 + r, badge);
		refused += svc_call(1000, &bad) == STATUS_INVALID_CAP;
		after += round_trip(2000 + r, badge);
		refused += svc_call(1, &bad) == STATUS_NO_RIGHTS;
		after += round_trip(3000 + r, badge);
		refused += svc_call(2, &bad) == STATUS_WRONG_TYPE;
		after += round_trip(4000 + r, badge);
	}
	tap_is(refused, 80,
	       "calls through empty, forged, receive-only and notification slots refused");
	tap_is(after, 80, "and the call after each is answered right");
	m = (struct msg){ .label = IPC_LABEL_MMIO };
	tap_is(svc_call(0, &m), STATUS_INVALID_ARG, "a call with a kernel label is refused");
	tap_ok(round_trip(7, badge), "the next call is answered right");
	good = 0;
	for (unsigned r = 0; r < ROUNDS; r++)
		good += round_trip(r * 7, badge) ? 1u : 0u;
	tap_is(good, ROUNDS, "400 more round trips");
	tap_done();
}
