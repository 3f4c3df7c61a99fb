/**
 * An echo server: replies to each call with label + 1, every word + 100
 * and, in the last word, the badge the kernel delivered (so clients can
 * check the server saw theirs). Serves forever on slot 0.
 */
#include <svc/svc.h>

static bool echo(struct msg *m, void *ctx)
{
	(void)ctx;
	m->label += 1;
	for (unsigned i = 0; i + 1 < IPC_MSG_WORDS; i++)
		m->w[i] += 100;
	m->w[IPC_MSG_WORDS - 1] = m->badge;
	return true;
}

int svc_main(uint64_t arg)
{
	(void)arg;
	svc_serve(0, echo, NULL);
	return 1;
}
