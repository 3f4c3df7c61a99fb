/**
 * A client of the echo server (ponger) for the IPC fastpath test
 * (ipc-fast.dts): many calls, each reply checked word by word, interleaved
 * with refused calls that must leave everything as it was. Two of these run,
 * one on the echo server's CPU (calls and replies that take the fastpath),
 * one on another CPU (a receiver and a caller elsewhere, and a sender queued
 * while the server serves the first: the fallbacks). Slots: 0 send on the
 * echo endpoint (badged), 1 recv only on it, 2 a notification, 3 send on
 * the pair's endpoint (an echo server with two vCPUs, badged the same); the
 * rest empty.
 */
#include <svc/svc.h>

#define ROUNDS 400u

static bool round_trip_on(uint32_t slot, uint64_t r, uint64_t badge)
{
	struct msg q = { .label = r, .w = { r, r * 2, r * 3, r ^ 0x55, ~r, 0 } };
	if (svc_call(slot, &q) != STATUS_OK || q.label != r + 1)
		return false;
	return q.w[0] == r + 100 && q.w[1] == r * 2 + 100 && q.w[2] == r * 3 + 100 &&
	       q.w[3] == (r ^ 0x55) + 100 && q.w[4] == ~r + 100 && q.w[5] == badge;
}

static bool round_trip(uint64_t r, uint64_t badge)
{
	return round_trip_on(0, r, badge);
}

#if defined(__aarch64__)
/**
 * A call made with x9-x18 and x20-x28 set from the label: false if the reply
 * is wrong, if any of x18 and x20-x28 came back changed (the ABI keeps them,
 * docs/abi.md), or if any of x9-x17, which a service's SVC may lose, came
 * back holding what the echo server (ponger.c) had in it when it answered
 * (0x5eed00000000 + n): they may hold only this client's own values. The
 * assembly fastpath (platform/arm64/fastpath.S) enters the server and this
 * client loading their registers itself, and passes the message in x2-x8:
 * this checks both ways.
 */
static bool call_keeps_registers(uint64_t label)
{
	uint64_t out[19] = { 0 }; /* written by the asm (the analyzer cannot see it) */
	uint64_t *p = out;
	register uint64_t x0 __asm__("x0") = HC_CALL;
	register uint64_t x1 __asm__("x1") = 0;
	register uint64_t x2 __asm__("x2") = label;
	register uint64_t x3 __asm__("x3") = label * 3;
	register uint64_t x8 __asm__("x8") = label ^ 0x5a5a;
	__asm__ volatile("add x9, x2, #9\n\tadd x10, x2, #10\n\tadd x11, x2, #11\n\t"
	                 "add x12, x2, #12\n\tadd x13, x2, #13\n\tadd x14, x2, #14\n\t"
	                 "add x15, x2, #15\n\tadd x16, x2, #16\n\tadd x17, x2, #17\n\t"
	                 "add x18, x2, #18\n\tadd x20, x2, #20\n\tadd x21, x2, #21\n\t"
	                 "add x22, x2, #22\n\tadd x23, x2, #23\n\tadd x24, x2, #24\n\t"
	                 "add x25, x2, #25\n\tadd x26, x2, #26\n\tadd x27, x2, #27\n\t"
	                 "add x28, x2, #28\n\t"
	                 "svc #0\n\t"
	                 "stp x9, x10, [%5, #0]\n\tstp x11, x12, [%5, #16]\n\t"
	                 "stp x13, x14, [%5, #32]\n\tstp x15, x16, [%5, #48]\n\t"
	                 "stp x17, x18, [%5, #64]\n\tstp x20, x21, [%5, #80]\n\t"
	                 "stp x22, x23, [%5, #96]\n\tstp x24, x25, [%5, #112]\n\t"
	                 "stp x26, x27, [%5, #128]\n\tstr x28, [%5, #144]"
	                 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x8)
	                 : "r"(p)
	                 : "x4", "x5", "x6", "x7", "x9", "x10", "x11", "x12", "x13", "x14", "x15",
	                   "x16", "x17", "x18", "x20", "x21", "x22", "x23", "x24", "x25", "x26",
	                   "x27", "x28", "memory");
	/* The echo server: label + 1, each word + 100 but the last, which is the badge. */
	if (x0 != STATUS_OK || x2 != label + 1 || x3 != label * 3 + 100 || x8 == (label ^ 0x5a5a))
		return false;
	for (unsigned i = 0; i < 19; i++) {
		unsigned reg = i < 10 ? 9 + i : 10 + i; /* x9..x18, then x20..x28 */
		bool kept = out[i] == label + reg;
		bool servers = out[i] >= 0x5eed00000009u && out[i] <= 0x5eed00000011u;
		if (reg <= 17 ? servers : !kept)
			return false;
	}
	return true;
}
#else
/** The same on x86_64: RBX, R13, R14 and R15, outside the message registers. */
static bool call_keeps_registers(uint64_t label)
{
	uint64_t out[4] = { 0 }; /* written by the asm (the analyzer cannot see it) */
	uint64_t *p = out;
	register uint64_t r0 __asm__("rax") = HC_CALL;
	register uint64_t r1 __asm__("rdi") = 0;
	register uint64_t r2 __asm__("rsi") = label;
	register uint64_t r3 __asm__("rdx") = label * 3;
	register uint64_t r8 __asm__("r12") = label ^ 0x5a5a;
	__asm__ volatile("lea 1(%%rsi), %%rbx\n\tlea 13(%%rsi), %%r13\n\t"
	                 "lea 14(%%rsi), %%r14\n\tlea 15(%%rsi), %%r15\n\t"
	                 "vmmcall\n\t"
	                 "mov %%rbx, 0(%5)\n\tmov %%r13, 8(%5)\n\t"
	                 "mov %%r14, 16(%5)\n\tmov %%r15, 24(%5)"
	                 : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3), "+r"(r8)
	                 : "r"(p)
	                 : "r8", "r9", "r10", "r11", "rbx", "r13", "r14", "r15", "memory");
	static const unsigned add[4] = { 1, 13, 14, 15 };
	if (r0 != STATUS_OK || r2 != label + 1 || r3 != label * 3 + 100 || r8 == (label ^ 0x5a5a))
		return false;
	for (unsigned i = 0; i < 4; i++) {
		if (out[i] != label + add[i])
			return false;
	}
	return true;
}
#endif

int svc_main(uint64_t arg)
{
	(void)arg;
	tap_plan(11);
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
	good = 0;
	for (unsigned r = 0; r < ROUNDS; r++)
		good += call_keeps_registers(r * 13) ? 1u : 0u;
	tap_is(good, ROUNDS, "400 calls keep the registers the ABI keeps");
	good = 0;
	for (unsigned r = 0; r < ROUNDS; r++)
		good += round_trip_on(3, r * 5, badge) ? 1u : 0u;
	tap_is(good, ROUNDS, "400 round trips to a server with two vCPUs");
	/*
	 * The assembly fastpath keeps a memo of the slot it last called through
	 * (struct ipc_memo): a copy of slot 0 called through twice (the memo made,
	 * then used), then narrowed to no rights and dropped, must be refused at
	 * once each time, and slot 0 still answered.
	 */
	unsigned memo = 0;
	for (unsigned r = 0; r < 20; r++) {
		struct msg bad = { .label = r };
		memo += svc_cap_derive(0, 6, RIGHT_EP_SEND, 0) == STATUS_OK;
		memo += round_trip_on(6, r, badge);
		memo += round_trip_on(6, r + 1000, badge);
		memo += svc_cap_restrict(6, 0) == STATUS_OK;
		memo += svc_call(6, &bad) == STATUS_NO_RIGHTS;
		memo += svc_cap_drop(6) == STATUS_OK;
		memo += svc_call(6, &bad) == STATUS_INVALID_CAP;
		memo += round_trip(r, badge);
	}
	tap_is(memo, 160,
	       "a slot narrowed, then dropped, is refused at once after calls through it");
	tap_done();
}
