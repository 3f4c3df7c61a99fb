/** The server loop helper (see svc.h). */
#include <svc/svc.h>

void svc_serve(uint32_t slot, bool (*handle)(struct msg *m, void *ctx), void *ctx)
{
	struct msg m = { 0 };
	if (svc_recv(slot, &m) != STATUS_OK)
		return;
	while (handle(&m, ctx)) {
		if (svc_reply_recv(slot, &m) != STATUS_OK)
			return;
	}
	svc_reply(&m);
}
