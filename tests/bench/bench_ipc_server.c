/** The benchmark's server: reply and wait again, with no other work. */
#include "bench.h"

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t r[IPC_REG_COUNT] = { HC_RECV, 0 };
	arch_hypercall(r);
	for (;;) {
		r[0] = HC_REPLY_RECV;
		r[1] = 0;
		arch_hypercall(r);
	}
}
