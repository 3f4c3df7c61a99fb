/**
 * An echo server: replies to each call with label + 1, every word + 100
 * and, in the last word, the badge the kernel delivered (so clients can
 * check the server saw theirs). Serves forever on slot 0. On arm64 each
 * answer is made with x9-x17 set to PONGER_MARK + n, values a client must
 * never get back from its call (tests/hyp/fast_client.c): a service's SVC
 * may lose x9-x17, but never to another partition's (docs/abi.md).
 */
#include <svc/svc.h>

static void echo(struct msg *m)
{
	m->label += 1;
	for (unsigned i = 0; i + 1 < IPC_MSG_WORDS; i++)
		m->w[i] += 100;
	m->w[IPC_MSG_WORDS - 1] = m->badge;
}

#if defined(__aarch64__)
/** svc_reply_recv(0, m) with x9-x17 = 0x5eed00000000 + n (n the register's number). */
static enum status reply_recv_marked(struct msg *m)
{
	register uint64_t x0 __asm__("x0") = HC_REPLY_RECV;
	register uint64_t x1 __asm__("x1") = 0;
	register uint64_t x2 __asm__("x2") = m->label;
	register uint64_t x3 __asm__("x3") = m->w[0];
	register uint64_t x4 __asm__("x4") = m->w[1];
	register uint64_t x5 __asm__("x5") = m->w[2];
	register uint64_t x6 __asm__("x6") = m->w[3];
	register uint64_t x7 __asm__("x7") = m->w[4];
	register uint64_t x8 __asm__("x8") = m->w[5];
	__asm__ volatile("movz x9, #0x5eed, lsl #32\n\t"
	                 "add x10, x9, #10\n\tadd x11, x9, #11\n\tadd x12, x9, #12\n\t"
	                 "add x13, x9, #13\n\tadd x14, x9, #14\n\tadd x15, x9, #15\n\t"
	                 "add x16, x9, #16\n\tadd x17, x9, #17\n\tadd x9, x9, #9\n\t"
	                 "svc #0"
	                 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x5), "+r"(x6),
	                   "+r"(x7), "+r"(x8)
	                 :
	                 : "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17", "memory");
	if (x0 == STATUS_OK) {
		*m = (struct msg){ .badge = x1, .label = x2, .w = { x3, x4, x5, x6, x7, x8 } };
	}
	return (enum status)x0;
}

int svc_main(uint64_t arg)
{
	(void)arg;
	struct msg m = { 0 };
	if (svc_recv(0, &m) != STATUS_OK)
		return 1;
	do
		echo(&m);
	while (reply_recv_marked(&m) == STATUS_OK);
	return 1;
}
#else
static bool echo_handle(struct msg *m, void *ctx)
{
	(void)ctx;
	echo(m);
	return true;
}

int svc_main(uint64_t arg)
{
	(void)arg;
	svc_serve(0, echo_handle, NULL);
	return 1;
}
#endif
