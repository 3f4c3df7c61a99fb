/** Synchronous IPC (see ipc.h). */
#include <arch/cpu.h>
#include <kernel/emulate.h>
#include <kernel/ipc.h>
#include <kernel/kernel.h>
#include <kernel/lock.h>
#include <kernel/partition_ops.h>
#include <kernel/regs.h>
#include <kernel/sched.h>
#include <kernel/vmi.h>

/** Copy a message (label and words) from one vCPU's registers to another's. */
static void ipc_transfer(const struct vcpu *from, struct vcpu *to, u64 badge)
{
	/* Every IPC copies this; the compiler unrolls it into plain loads and stores. */
#pragma GCC unroll 8
	for (u32 i = IPC_REG_LABEL; i < IPC_REG_COUNT; i++)
		reg_set(to, i, reg_get(from, i));
	reg_set(to, IPC_REG_CAP, badge);
	reg_status(to, STATUS_OK);
}

static void ipc_transfer_kernel(const struct kernel_msg *m, struct vcpu *to)
{
	reg_set(to, IPC_REG_LABEL, m->label);
	/* The emulation path's message: unrolled like ipc_transfer's copy (a loop costs 18 more). */
#pragma GCC unroll 8
	for (u32 i = 0; i < IPC_MSG_WORDS; i++)
		reg_set(to, IPC_REG_WORD0 + i, m->words[i]);
	reg_set(to, IPC_REG_CAP, m->badge);
	reg_status(to, STATUS_OK);
}

/** Move a queued sender's message into receiver; the receiver now holds its reply right. */
static void ipc_take_sender(struct vcpu *s, struct vcpu *r)
{
	if (s->kernel_sender)
		ipc_transfer_kernel(&s->kmsg, r);
	else
		ipc_transfer(s, r, s->send_badge);
	s->queued_on = NULL;
	s->state = s->kernel_sender ? VCPU_BLOCKED_FAULT : VCPU_BLOCKED_REPLY;
	r->caller = s;
	sched_donate(s, r);
}

/** Run r next: directly if it lives on this CPU, else wake its CPU and pick here. */
static struct vcpu *ipc_switch(u32 cpu, struct vcpu *cur, struct vcpu *r)
{
	if (r->cpu == cpu)
		return sched_switch_to(cpu, r);
	sched_make_ready(r);
	return sched_next(cpu, cur, false);
}

/** Decode an endpoint capability in r1 and a partition-made label in r2. */
static enum status ipc_decode_endpoint(const struct vcpu *v, u32 need, bool check_label,
                                       const struct cap **c)
{
	enum status s = cap_lookup(&v->part->caps, reg_get(v, IPC_REG_CAP), CAP_ENDPOINT, need, c);
	if (s == STATUS_OK && check_label && (reg_get(v, IPC_REG_LABEL) & IPC_LABEL_KERNEL) != 0)
		s = STATUS_INVALID_ARG;
	return s;
}

/**
 * Deliver v's call (the message in its registers, or with from_kernel its
 * kernel message) to a waiting receiver, switching to it, or queue v as a
 * sender. Inlined into both callers, so the hot HC_CALL path keeps no
 * test of from_kernel.
 */
static inline __attribute__((always_inline)) struct vcpu *
ipc_call_invoke(struct vcpu *v, struct endpoint *ep, bool from_kernel)
{
	struct vcpu *r = vcpu_queue_pop(&ep->receivers);
	if (r == NULL) {
		v->state = VCPU_BLOCKED_SEND;
		v->queued_on = ep;
		vcpu_queue_push(&ep->senders, v);
		return sched_next(v->cpu, v, false);
	}
	r->queued_on = NULL;
	if (from_kernel)
		ipc_transfer_kernel(&v->kmsg, r);
	else
		ipc_transfer(v, r, v->send_badge);
	v->state = from_kernel ? VCPU_BLOCKED_FAULT : VCPU_BLOCKED_REPLY;
	r->caller = v;
	sched_donate(v, r); /* r serves v on v's scheduling context */
	return ipc_switch(v->cpu, v, r);
}

struct vcpu *ipc_call(struct vcpu *v)
{
	const struct cap *c;
	enum status s = ipc_decode_endpoint(v, RIGHT_EP_SEND, true, &c);
	if (s != STATUS_OK) {
		reg_status(v, s);
		return v;
	}
	v->kernel_sender = false;
	v->send_badge = c->badge;
	return ipc_call_invoke(v, &kernel.endpoints[c->object], false);
}

struct vcpu *ipc_kernel_call(struct vcpu *v, u32 endpoint, const struct kernel_msg *m)
{
	if (m != &v->kmsg)
		v->kmsg = *m;
	v->kernel_sender = true;
	v->kmsg_endpoint = endpoint;
	return ipc_call_invoke(v, &kernel.endpoints[endpoint], true);
}

/**
 * Release a caller whose reply right is being given up without a reply
 * (the server received again, or stopped): it gets STATUS_PEER_STOPPED and
 * r1..r8 zero (docs/abi.md: the arm64 fastpath keeps no copy of the call's
 * own r1..r8). A faulted vCPU whose handler gave up stays stopped with its
 * partition.
 */
static void ipc_release_caller(struct vcpu *caller)
{
	/* Its partition is being stopped (partition_stop got here through a chain). */
	if (caller->state == VCPU_STOPPED)
		return;
	if (caller->state == VCPU_BLOCKED_FAULT) {
		if (emul_waiting(caller))
			emul_abandon(caller);
		else if (vmi_waiting(caller))
			vmi_abandon(caller);
		else
			partition_stop(caller->part, "fault handler gave no answer", true);
		return;
	}
	for (u32 i = IPC_REG_CAP; i < IPC_REG_COUNT; i++)
		reg_set(caller, i, 0);
	reg_status(caller, STATUS_PEER_STOPPED);
	sched_make_ready(caller);
}

void ipc_give_up_reply(struct vcpu *v)
{
	if (v->caller != NULL) {
		struct vcpu *caller = v->caller;
		v->caller = NULL;
		sched_return(v);
		ipc_release_caller(caller);
	}
}

/** Hand the reply in v's registers to caller; true if caller may run now. */
static bool ipc_deliver_reply(struct vcpu *v, struct vcpu *caller)
{
	v->part->replied = true; /* progress, for a restartable server (partition.c) */
	if (caller->state == VCPU_BLOCKED_FAULT) {
		if (emul_waiting(caller)) {
			emul_reply(caller, reg_get(v, IPC_REG_WORD0),
			           reg_get(v, IPC_REG_WORD0 + 1u));
			return true;
		}
		if (vmi_waiting(caller)) {
			vmi_reply(caller, reg_get(v, IPC_REG_WORD0),
			          reg_get(v, IPC_REG_WORD0 + 1u));
			return true;
		}
		if (reg_get(v, IPC_REG_WORD0) == IPC_FAULT_RESUME)
			return true;
		partition_stop(caller->part, "stopped by its fault handler", true);
		return false;
	}
	ipc_transfer(v, caller, 0);
	return true;
}

/** The receive half: take a queued sender or block. v stays current if it got one. */
static struct vcpu *ipc_recv_invoke(struct vcpu *v, struct endpoint *ep, struct vcpu *woken)
{
	u32 cpu = v->cpu;
	sched_return(v); /* it holds no call now: its own context again */
	struct vcpu *s = vcpu_queue_pop(&ep->senders);
	if (s != NULL) {
		ipc_take_sender(s, v);
		sched_rebill(v); /* the time until now was the old context's */
		if (woken != NULL)
			sched_make_ready(woken);
		return v;
	}
	v->state = VCPU_BLOCKED_RECV;
	v->queued_on = ep;
	vcpu_queue_push(&ep->receivers, v);
	if (woken != NULL)
		return ipc_switch(cpu, v, woken);
	return sched_next(cpu, v, false);
}

struct vcpu *ipc_recv(struct vcpu *v)
{
	const struct cap *c;
	enum status s = ipc_decode_endpoint(v, RIGHT_EP_RECV, false, &c);
	if (s != STATUS_OK) {
		reg_status(v, s);
		return v;
	}
	if (v->caller != NULL) {
		struct vcpu *caller = v->caller;
		v->caller = NULL;
		ipc_release_caller(caller);
		if (v->state == VCPU_STOPPED) /* the released fault stopped v's own partition */
			return sched_next(v->cpu, v, false);
	}
	return ipc_recv_invoke(v, &kernel.endpoints[c->object], NULL);
}

struct vcpu *ipc_reply_recv(struct vcpu *v)
{
	const struct cap *c;
	enum status s = ipc_decode_endpoint(v, RIGHT_EP_RECV, v->caller != NULL, &c);
	if (s != STATUS_OK) {
		reg_status(v, s);
		return v;
	}
	struct vcpu *caller = v->caller;
	v->caller = NULL;
	if (caller != NULL && !ipc_deliver_reply(v, caller)) {
		/* A STOP answer: it may have stopped v's own partition too. */
		if (v->state == VCPU_STOPPED)
			return sched_next(v->cpu, v, false);
		caller = NULL;
	}
	return ipc_recv_invoke(v, &kernel.endpoints[c->object], caller);
}

struct vcpu *ipc_reply(struct vcpu *v)
{
	if (v->caller == NULL) {
		reg_status(v, STATUS_BAD_STATE);
		return v;
	}
	if ((reg_get(v, IPC_REG_LABEL) & IPC_LABEL_KERNEL) != 0) {
		reg_status(v, STATUS_INVALID_ARG);
		return v;
	}
	struct vcpu *caller = v->caller;
	v->caller = NULL;
	sched_return(v);
	sched_rebill(v);
	if (ipc_deliver_reply(v, caller))
		sched_make_ready(caller);
	else if (v->state == VCPU_STOPPED) /* a STOP answer that stopped v's own partition */
		return sched_next(v->cpu, v, false);
	reg_status(v, STATUS_OK);
	return v;
}

/* ---- the fastpath (ipc.h ipc_fast) -------------------------------------- */

/**
 * HC_CALL, when the endpoint's first receiver waits on v's CPU with nothing
 * pending for it: ipc_call's decode, then ipc_call_invoke's direct switch.
 * Checked before anything changes; NULL: not taken.
 */
static inline struct vcpu *ipc_fast_call(struct vcpu *v)
{
	const struct cap *c;
	if (ipc_decode_endpoint(v, RIGHT_EP_SEND, true, &c) != STATUS_OK)
		return NULL;
	struct endpoint *ep = &kernel.endpoints[c->object];
	struct vcpu *r = ep->receivers.head;
	if (r == NULL || r->cpu != v->cpu || r->after != 0)
		return NULL;
	vcpu_queue_pop(&ep->receivers);
	r->queued_on = NULL;
	v->kernel_sender = false;
	v->send_badge = c->badge;
	ipc_transfer(v, r, c->badge);
	v->state = VCPU_BLOCKED_REPLY;
	r->caller = v;
	sched_donate(v, r); /* r serves v on v's scheduling context */
	return sched_switch_to(v->cpu, r);
}

/**
 * HC_REPLY_RECV answering a caller that waits on v's CPU, on an endpoint
 * with no sender queued: a partition's call (BLOCKED_REPLY), an emulated
 * access (BLOCKED_FAULT with an IPC_LABEL_MMIO message, completed by
 * emul_reply) or an introspection event (vmi_reply); a fault report takes
 * the slow path. ipc_reply_recv's decode, ipc_deliver_reply's delivery,
 * ipc_recv_invoke's wait and switch back. The billed context does not
 * change: v ran on the caller's.
 */
static inline struct vcpu *ipc_fast_reply_recv(struct vcpu *v)
{
	struct vcpu *caller = v->caller;
	if (caller == NULL || caller->cpu != v->cpu || caller->after != 0)
		return NULL;
	bool kmsg = caller->state == VCPU_BLOCKED_FAULT;
	bool access = kmsg && emul_waiting(caller);
	if (kmsg ? !access && !vmi_waiting(caller) : caller->state != VCPU_BLOCKED_REPLY)
		return NULL;
	const struct cap *c;
	if (ipc_decode_endpoint(v, RIGHT_EP_RECV, true, &c) != STATUS_OK)
		return NULL;
	struct endpoint *ep = &kernel.endpoints[c->object];
	if (ep->senders.head != NULL)
		return NULL;
	v->caller = NULL;
	v->part->replied = true; /* progress, for a restartable server (partition.c) */
	if (access)
		emul_reply(caller, reg_get(v, IPC_REG_WORD0), reg_get(v, IPC_REG_WORD0 + 1u));
	else if (kmsg)
		vmi_reply(caller, reg_get(v, IPC_REG_WORD0), reg_get(v, IPC_REG_WORD0 + 1u));
	else
		ipc_transfer(v, caller, 0);
	sched_return(v);
	v->state = VCPU_BLOCKED_RECV;
	v->queued_on = ep;
	vcpu_queue_push(&ep->receivers, v);
	return sched_switch_to(v->cpu, caller);
}

struct vcpu *ipc_fast(struct vcpu *v)
{
	if (!spin_trylock(&kernel_lock))
		return NULL; /* the slow path waits for it */
	struct vcpu *next = NULL;
	if (v->state == VCPU_RUNNING) /* else: stopped from another CPU while it ran */
		next = reg_get(v, IPC_REG_NR) == HC_CALL ? ipc_fast_call(v) :
		                                           ipc_fast_reply_recv(v);
	spin_unlock(&kernel_lock);
	return next;
}

struct vcpu *ipc_send(struct vcpu *v)
{
	const struct cap *c;
	enum status s = ipc_decode_endpoint(v, RIGHT_EP_SEND, true, &c);
	if (s != STATUS_OK) {
		reg_status(v, s);
		return v;
	}
	struct endpoint *ep = &kernel.endpoints[c->object];
	struct vcpu *r = vcpu_queue_pop(&ep->receivers);
	if (r == NULL) {
		reg_status(v, STATUS_WOULD_BLOCK);
		return v;
	}
	r->queued_on = NULL;
	ipc_transfer(v, r, c->badge);
	sched_make_ready(r);
	reg_status(v, STATUS_OK);
	return v;
}

/**
 * The server holding caller's kernel message is being restarted: the
 * message goes back to the front of its endpoint's senders, for the
 * successor to receive first (nothing the guest did is lost or repeated).
 */
static void ipc_requeue_kernel_sender(struct vcpu *caller)
{
	struct endpoint *ep = &kernel.endpoints[caller->kmsg_endpoint];
	caller->state = VCPU_BLOCKED_SEND;
	caller->queued_on = ep;
	caller->next = ep->senders.head;
	ep->senders.head = caller;
	if (ep->senders.tail == NULL)
		ep->senders.tail = caller;
}

void ipc_cancel(struct vcpu *v)
{
	if (v->queued_on != NULL) {
		if (!vcpu_queue_remove(&v->queued_on->senders, v))
			vcpu_queue_remove(&v->queued_on->receivers, v);
		v->queued_on = NULL;
	}
	if (v->caller != NULL) {
		struct vcpu *caller = v->caller;
		v->caller = NULL;
		if (caller->part != v->part && v->part->restarting &&
		    caller->state == VCPU_BLOCKED_FAULT && caller->kernel_sender &&
		    !vmi_waiting(caller))
			ipc_requeue_kernel_sender(caller);
		else if (caller->part != v->part)
			ipc_release_caller(caller);
	}
	/* Servers holding v's reply right just lose it. */
	for (u32 i = 0; i < kernel.vcpu_count; i++) {
		if (kernel.vcpus[i].caller == v) {
			kernel.vcpus[i].caller = NULL;
			sched_return(&kernel.vcpus[i]);
			sched_rebill(&kernel.vcpus[i]);
		}
	}
}

void ipc_withdraw_kernel_call(struct vcpu *v)
{
	if (v->queued_on != NULL) {
		vcpu_queue_remove(&v->queued_on->senders, v);
		v->queued_on = NULL;
	}
	for (u32 i = 0; i < kernel.vcpu_count; i++) {
		struct vcpu *s = &kernel.vcpus[i];
		if (s->caller == v) {
			s->caller = NULL;
			sched_return(s);
			sched_rebill(s);
		}
	}
	v->kernel_sender = false;
}
