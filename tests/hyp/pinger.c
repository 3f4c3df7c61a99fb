/** Call/reply ping-pong against the echo server on slot 0. */
#include <svc/svc.h>

#define ROUNDS 200u

int svc_main(uint64_t arg)
{
	(void)arg;
	tap_plan(5);
	struct msg m = { .label = 1, .w = { 10, 11, 12, 13, 14, 15 } };
	tap_is(svc_call(0, &m), STATUS_OK, "call returns OK");
	tap_is(m.label, 2, "the reply carries label + 1");
	bool words = true;
	for (unsigned i = 0; i + 1 < IPC_MSG_WORDS; i++)
		words = words && m.w[i] == 110 + i;
	tap_ok(words, "every word came back + 100");
	tap_is(m.w[IPC_MSG_WORDS - 1], 0x5eed, "the server saw this client's badge");
	unsigned good = 0;
	for (unsigned r = 0; r < ROUNDS; r++) {
		struct msg q = { .label = r, .w = { r, r * 2, r * 3, 0, 0, 0 } };
		if (svc_call(0, &q) == STATUS_OK && q.label == r + 1 && q.w[0] == r + 100 &&
		    q.w[2] == r * 3 + 100)
			good++;
	}
	tap_is(good, ROUNDS, "200 more round trips, all correct");
	tap_done();
}
