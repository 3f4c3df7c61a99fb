/** Notifications (see notification.h). */
#include <kernel/kernel.h>
#include <kernel/notification.h>
#include <kernel/regs.h>
#include <kernel/sched.h>

/**
 * Decode a notification capability in r1 that has the right need; on
 * failure the status is already in r0 and NULL is returned.
 */
static const struct cap *notification_decode(struct vcpu *v, u32 need)
{
	const struct cap *c;
	enum status s =
	        cap_lookup(&v->part->caps, reg_get(v, IPC_REG_CAP), CAP_NOTIFICATION, need, &c);
	if (s != STATUS_OK) {
		reg_status(v, s);
		return NULL;
	}
	return c;
}

struct vcpu *notification_signal(struct vcpu *v)
{
	const struct cap *c = notification_decode(v, RIGHT_NTF_SIGNAL);
	if (c == NULL)
		return v;
	/* An unbadged signal still sets a bit, so it can never be lost. */
	notification_raise(&kernel.notifications[c->object], c->badge != 0 ? c->badge : 1u);
	reg_status(v, STATUS_OK);
	return v;
}

void notification_raise(struct notification *n, u64 bits)
{
	n->word |= bits;
	struct vcpu *w = vcpu_queue_pop(&n->waiters);
	if (w != NULL) {
		w->waiting_on = NULL;
		reg_status(w, STATUS_OK);
		reg_set(w, IPC_REG_CAP, n->word);
		n->word = 0;
		sched_make_ready(w);
	}
}

struct vcpu *notification_wait(struct vcpu *v)
{
	const struct cap *c = notification_decode(v, RIGHT_NTF_WAIT);
	if (c == NULL)
		return v;
	struct notification *n = &kernel.notifications[c->object];
	if (n->word != 0) {
		reg_status(v, STATUS_OK);
		reg_set(v, IPC_REG_CAP, n->word);
		n->word = 0;
		return v;
	}
	v->state = VCPU_BLOCKED_NOTIFY;
	v->waiting_on = n;
	vcpu_queue_push(&n->waiters, v);
	return sched_next(v->cpu, v, false);
}

struct vcpu *notification_poll(struct vcpu *v)
{
	const struct cap *c = notification_decode(v, RIGHT_NTF_WAIT);
	if (c == NULL)
		return v;
	struct notification *n = &kernel.notifications[c->object];
	reg_status(v, STATUS_OK);
	reg_set(v, IPC_REG_CAP, n->word);
	n->word = 0;
	return v;
}
