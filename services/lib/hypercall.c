/** Hypercall and IPC wrappers over arch_hypercall (see svc.h). */
#include <svc/svc.h>
#include <svc_arch.h>

void svc_hypercall(uint64_t r[IPC_REG_COUNT])
{
	arch_hypercall(r);
}

/** Run hypercall nr on slot with m's label and words; copy the result back into m. */
static enum status svc_msg_call(uint64_t nr, uint32_t slot, struct msg *m)
{
	uint64_t r[IPC_REG_COUNT] = { nr, slot, m->label };
	for (uint32_t i = 0; i < IPC_MSG_WORDS; i++)
		r[IPC_REG_WORD0 + i] = m->w[i];
	arch_hypercall(r);
	if (r[0] == STATUS_OK) {
		m->badge = r[IPC_REG_CAP];
		m->label = r[IPC_REG_LABEL];
		for (uint32_t i = 0; i < IPC_MSG_WORDS; i++)
			m->w[i] = r[IPC_REG_WORD0 + i];
	}
	return (enum status)r[0];
}

enum status svc_null(void)
{
	uint64_t r[IPC_REG_COUNT] = { HC_NULL };
	arch_hypercall(r);
	return (enum status)r[0];
}

_Noreturn void svc_exit(uint64_t code)
{
	svc_flush();
	for (;;) {
		uint64_t r[IPC_REG_COUNT] = { HC_EXIT, code };
		arch_hypercall(r);
	}
}

void svc_yield(void)
{
	uint64_t r[IPC_REG_COUNT] = { HC_YIELD };
	arch_hypercall(r);
}

enum status svc_call(uint32_t slot, struct msg *m)
{
	return svc_msg_call(HC_CALL, slot, m);
}

enum status svc_recv(uint32_t slot, struct msg *m)
{
	return svc_msg_call(HC_RECV, slot, m);
}

enum status svc_reply_recv(uint32_t slot, struct msg *m)
{
	return svc_msg_call(HC_REPLY_RECV, slot, m);
}

enum status svc_send(uint32_t slot, const struct msg *m)
{
	struct msg copy = *m;
	return svc_msg_call(HC_SEND, slot, &copy);
}

enum status svc_reply(const struct msg *m)
{
	struct msg copy = *m;
	return svc_msg_call(HC_REPLY, 0, &copy);
}

/** Notification calls: r1 = slot in, bits out. */
static enum status svc_ntf(uint64_t nr, uint32_t slot, uint64_t *bits)
{
	uint64_t r[IPC_REG_COUNT] = { nr, slot };
	arch_hypercall(r);
	if (bits != NULL)
		*bits = r[0] == STATUS_OK ? r[1] : 0;
	return (enum status)r[0];
}

enum status svc_signal(uint32_t slot)
{
	return svc_ntf(HC_SIGNAL, slot, NULL);
}

enum status svc_wait(uint32_t slot, uint64_t *bits)
{
	return svc_ntf(HC_WAIT, slot, bits);
}

enum status svc_poll(uint32_t slot, uint64_t *bits)
{
	return svc_ntf(HC_POLL, slot, bits);
}

enum status svc_cap_info(uint32_t slot, uint32_t *type, uint32_t *rights, uint64_t *badge)
{
	uint64_t r[IPC_REG_COUNT] = { HC_CAP_INFO, slot };
	arch_hypercall(r);
	if (r[0] == STATUS_OK) {
		*type = (uint32_t)r[1];
		*rights = (uint32_t)r[2];
		*badge = r[3];
	}
	return (enum status)r[0];
}

enum status svc_cap_derive(uint32_t src, uint32_t dst, uint32_t rights, uint64_t badge)
{
	uint64_t r[IPC_REG_COUNT] = { HC_CAP_DERIVE, src, dst, rights, badge };
	arch_hypercall(r);
	return (enum status)r[0];
}

enum status svc_cap_drop(uint32_t slot)
{
	uint64_t r[IPC_REG_COUNT] = { HC_CAP_DROP, slot };
	arch_hypercall(r);
	return (enum status)r[0];
}

enum status svc_cap_restrict(uint32_t slot, uint32_t rights)
{
	uint64_t r[IPC_REG_COUNT] = { HC_CAP_RESTRICT, slot, rights };
	arch_hypercall(r);
	return (enum status)r[0];
}
