/**
 * Hypercall dispatch. Each call decodes (validates every argument; may
 * fail with a status in r0) before it invokes (cannot fail). The IPC and
 * notification calls live in ipc.c and notification.c; the small ones are
 * here.
 */
#include <arch/virq.h>
#include <kernel/cap.h>
#include <kernel/console.h>
#include <kernel/emulate.h>
#include <kernel/guest_mem.h>
#include <kernel/hypercall.h>
#include <kernel/ipc.h>
#include <kernel/kernel.h>
#include <kernel/virq.h>
#include <kernel/notification.h>
#include <kernel/partition_ops.h>
#include <kernel/print.h>
#include <kernel/regs.h>
#include <kernel/sched.h>
#include <kernel/dm.h>
#include <kernel/vmi.h>
#include <kernel/sched_plan.h>
#include <string.h>

/*
 * The console calls: they touch only the caller's registers and console
 * state, under the console lock, so trap.c runs them without the kernel
 * lock (hypercall_console); the same functions serve hypercall_dispatch
 * when a call does take it.
 */

static void hc_console_write(struct vcpu *v)
{
	u64 count = reg_get(v, IPC_REG_CAP);
	if (count > IPC_CONSOLE_MAX) {
		reg_status(v, STATUS_INVALID_ARG);
		return;
	}
	char bytes[IPC_CONSOLE_MAX];
	for (u32 i = 0; i < count; i++)
		bytes[i] = (char)(reg_get(v, IPC_REG_LABEL + i / 8u) >> (8u * (i % 8u)));
	console_partition_write(v->part, bytes, (u32)count);
	reg_status(v, STATUS_OK);
}

/** HC_CONSOLE_PUT: the console holder's bytes, by position (console.h). True: refused room. */
static bool hc_console_put(struct vcpu *v)
{
	u64 count = reg_get(v, 3) & ~(u64)IPC_CONSOLE_PUT_SHOW;
	bool show = (reg_get(v, 3) & IPC_CONSOLE_PUT_SHOW) != 0;
	char bytes[IPC_CONSOLE_PUT_MAX];
	for (u32 i = 0; i < count && i < IPC_CONSOLE_PUT_MAX; i++)
		bytes[i] = (char)(reg_get(v, 4u + i / 8u) >> (8u * (i % 8u)));
	u64 pos = reg_get(v, IPC_REG_CAP); /* stays so if the capability or count is refused */
	enum status s = console_holder_put(&v->part->caps, pos, reg_get(v, 2), bytes,
	                                   count <= IPC_CONSOLE_PUT_MAX ? (u32)count : UINT32_MAX,
	                                   show, &pos);
	reg_set(v, IPC_REG_CAP, pos);
	reg_status(v, s);
	return s == STATUS_WOULD_BLOCK;
}

/** HC_CONSOLE_READ: keyboard bytes for the console holder, by position. */
static void hc_console_read(struct vcpu *v)
{
	char bytes[IPC_CONSOLE_READ_MAX];
	u64 from;
	u32 n;
	enum status s = console_holder_read(&v->part->caps, reg_get(v, IPC_REG_CAP), reg_get(v, 2),
	                                    bytes, IPC_CONSOLE_READ_MAX, &from, &n);
	if (s == STATUS_OK) {
		reg_set(v, IPC_REG_CAP, from);
		reg_set(v, 2, n);
		for (u32 r = 3; r < IPC_REG_COUNT; r++)
			reg_set(v, r, 0);
		for (u32 i = 0; i < n; i++)
			reg_set(v, 3u + i / 8u,
			        reg_get(v, 3u + i / 8u) | (u64)(u8)bytes[i] << (8u * (i % 8u)));
	}
	reg_status(v, s);
}

COLD enum hc_console_done hypercall_console(struct vcpu *v)
{
	switch (reg_get(v, IPC_REG_NR)) {
	case HC_CONSOLE_WRITE:
		hc_console_write(v);
		return HC_CONSOLE_DONE;
	case HC_CONSOLE_PUT:
		return hc_console_put(v) ? HC_CONSOLE_TICK : HC_CONSOLE_DONE;
	default:
		hc_console_read(v);
		return HC_CONSOLE_DONE;
	}
}

/** A console call under the kernel lock (trap.c: its vCPU was stopped and started again). */
COLD static struct vcpu *hc_console_locked(struct vcpu *v)
{
	if (hypercall_console(v) == HC_CONSOLE_TICK)
		sched_console_tick(v->cpu);
	return v;
}

COLD static struct vcpu *hc_exit(struct vcpu *v)
{
	struct partition *p = v->part;
	u64 code = reg_get(v, IPC_REG_CAP);
	char why[48];
	ksnprintf(why, sizeof(why), "exited with code %llu", (unsigned long long)code);
	partition_stop(p, why, code != 0);
	return sched_next(v->cpu, v, false);
}

COLD static struct vcpu *hc_cap_info(struct vcpu *v)
{
	u64 slot = reg_get(v, IPC_REG_CAP);
	if (slot >= CAP_SLOT_COUNT || v->part->caps.slots[slot].type == CAP_NULL) {
		reg_status(v, STATUS_INVALID_CAP);
		return v;
	}
	const struct cap *c = &v->part->caps.slots[slot];
	reg_set(v, IPC_REG_CAP, c->type);
	reg_set(v, IPC_REG_LABEL, c->rights);
	reg_set(v, IPC_REG_WORD0, c->badge);
	reg_status(v, STATUS_OK);
	return v;
}

COLD static struct vcpu *hc_cap_derive(struct vcpu *v)
{
	struct cap_table *t = &v->part->caps;
	u64 src = reg_get(v, 1), dst = reg_get(v, 2), rights = reg_get(v, 3), badge = reg_get(v, 4);
	enum status s = cap_derive_decode(t, src, dst, rights, badge);
	if (s == STATUS_OK) {
		console_caps_lock(); /* console calls check capabilities under it (console.h) */
		cap_derive_invoke(t, (u32)src, (u32)dst, (u32)rights, badge);
		partition_caps_changed(v->part);
		console_caps_unlock();
		kernel.console_holder_known = false; /* console.c looks again */
	}
	reg_status(v, s);
	return v;
}

COLD static struct vcpu *hc_cap_restrict(struct vcpu *v)
{
	struct cap_table *t = &v->part->caps;
	u64 slot = reg_get(v, 1), rights = reg_get(v, 2);
	enum status s = cap_restrict_decode(t, slot, rights);
	if (s == STATUS_OK) {
		console_caps_lock();
		cap_restrict_invoke(t, (u32)slot, (u32)rights);
		partition_caps_changed(v->part);
		console_caps_unlock();
		kernel.console_holder_known = false; /* console.c looks again */
	}
	reg_status(v, s);
	return v;
}

COLD static struct vcpu *hc_cap_drop(struct vcpu *v)
{
	struct cap_table *t = &v->part->caps;
	u64 slot = reg_get(v, 1);
	enum status s = cap_drop_decode(t, slot);
	if (s == STATUS_OK) {
		console_caps_lock();
		cap_drop_invoke(t, (u32)slot);
		partition_caps_changed(v->part);
		console_caps_unlock();
		kernel.console_holder_known = false; /* console.c looks again */
	}
	reg_status(v, s);
	return v;
}

/**
 * HC_YIELD. With nothing else to run here, the vCPU spins, waiting for
 * another CPU: trap.c says so to the machine once the kernel lock is free
 * (arch_cpu_relax), or an emulator that runs the CPUs in turn keeps running
 * this one while the others wait for the lock it takes again and again.
 */
static __attribute__((noinline)) struct vcpu *hc_yield(struct vcpu *v)
{
	reg_status(v, STATUS_OK);
	struct vcpu *next = sched_next(v->cpu, v, true);
	if (next == v)
		v->after |= VCPU_AFTER_RELAX;
	return next;
}

/** HC_GUEST_IRQ: an emulator drives an interrupt line of the guest it holds a capability over. */
COLD static struct vcpu *hc_guest_irq(struct vcpu *v)
{
	const struct cap *c;
	enum status s = cap_lookup(&v->part->caps, reg_get(v, IPC_REG_CAP), CAP_GUEST,
	                           RIGHT_GUEST_INJECT, &c);
	u64 was = 0;
	if (s == STATUS_OK) {
		struct partition *g = &kernel.partitions[c->object];
		u64 intid = reg_get(v, IPC_REG_WORD0), op = reg_get(v, IPC_REG_WORD0 + 1u);
		u64 vcpu = reg_get(v, IPC_REG_LABEL);
		int target = -2;
		if (g->stopped || intid > UINT32_MAX)
			target = -2;
		else if (op <= IPC_GUEST_IRQ_RAISE)
			target =
			        arch_virq_inject(g->s2.vmid, (u32)intid, op == IPC_GUEST_IRQ_RAISE);
		else if (op <= IPC_GUEST_IRQ_LPI_MOVE && vcpu < g->vcpu_count) {
			bool pending = false;
			target = arch_virq_lpi(g, (u32)vcpu, (u32)intid, (u32)op, &pending);
			was = pending;
		}
		if (target == -2)
			s = STATUS_INVALID_ARG;
		else if (target >= 0 && (u32)target < g->vcpu_count)
			virq_wake_locked(&g->vcpus[target]);
	}
	reg_status(v, s);
	if (s == STATUS_OK)
		reg_set(v, IPC_REG_CAP, was);
	return v;
}

/** HC_GUEST_MEM: a service that serves or watches a guest reads or writes the guest's RAM. */
COLD static struct vcpu *hc_guest_mem(struct vcpu *v)
{
	const struct cap *c;
	enum status s = cap_lookup(&v->part->caps, reg_get(v, IPC_REG_CAP), CAP_GUEST, 0, &c);
	const u32 any = RIGHT_GUEST_EMULATE | RIGHT_GUEST_MONITOR | RIGHT_GUEST_DM;
	if (s == STATUS_OK && (c->rights & any) == 0)
		s = STATUS_NO_RIGHTS;
	if (s != STATUS_OK) {
		reg_status(v, s);
		return v;
	}
	const struct partition *g = &kernel.partitions[c->object];
	u64 ipa = reg_get(v, IPC_REG_LABEL), how = reg_get(v, IPC_REG_WORD0);
	bool write = (how & IPC_GUEST_MEM_WRITE) != 0;
	u64 len = how & ~(u64)IPC_GUEST_MEM_WRITE;
	u8 *at = len <= IPC_GUEST_MEM_MAX ?
	                 guest_mem_at(g, ipa, len, write ? RIGHT_MEM_WRITE : RIGHT_MEM_READ) :
	                 NULL;
	if (at == NULL) {
		reg_status(v, STATUS_INVALID_ARG);
		return v;
	}
	u64 words[IPC_GUEST_MEM_MAX / 8u];
	if (write) {
		for (u32 i = 0; i < IPC_GUEST_MEM_MAX / 8u; i++)
			words[i] = reg_get(v, IPC_REG_WORD0 + 1u + i);
		guest_mem_copy(at, words, len); /* one store if aligned (guest_mem.h) */
	} else {
		memset(words, 0, sizeof(words));
		guest_mem_copy(words, at, len);
		for (u32 i = 0; i < IPC_GUEST_MEM_MAX / 8u; i++)
			reg_set(v, IPC_REG_WORD0 + 1u + i, words[i]);
	}
	reg_status(v, STATUS_OK);
	return v;
}

/** HC_GUEST_COPY: HC_GUEST_MEM's access, between the guest's RAM and the caller's own. */
COLD static struct vcpu *hc_guest_copy(struct vcpu *v)
{
	const struct cap *c;
	enum status s = cap_lookup(&v->part->caps, reg_get(v, IPC_REG_CAP), CAP_GUEST, 0, &c);
	const u32 any = RIGHT_GUEST_EMULATE | RIGHT_GUEST_MONITOR | RIGHT_GUEST_DM;
	if (s == STATUS_OK && (c->rights & any) == 0)
		s = STATUS_NO_RIGHTS;
	if (s != STATUS_OK) {
		reg_status(v, s);
		return v;
	}
	const struct partition *g = &kernel.partitions[c->object];
	u64 ipa = reg_get(v, IPC_REG_LABEL), how = reg_get(v, IPC_REG_WORD0);
	bool write = (how & IPC_GUEST_MEM_WRITE) != 0;
	u64 len = how & ~(u64)IPC_GUEST_MEM_WRITE;
	u8 *at = NULL, *own = NULL;
	if (len <= IPC_GUEST_COPY_MAX) {
		at = guest_mem_at(g, ipa, len, write ? RIGHT_MEM_WRITE : RIGHT_MEM_READ);
		own = guest_mem_at(v->part, reg_get(v, IPC_REG_WORD0 + 1u), len,
		                   write ? RIGHT_MEM_READ : RIGHT_MEM_WRITE);
	}
	if (at == NULL || own == NULL) {
		reg_status(v, STATUS_INVALID_ARG);
		return v;
	}
	/* The two may be the same shared region; an aligned field is one access (guest_mem.h). */
	if (write)
		guest_mem_copy(at, own, len);
	else
		guest_mem_copy(own, at, len);
	reg_status(v, STATUS_OK);
	return v;
}

struct vcpu *hypercall_dispatch(struct vcpu *v)
{
	switch (reg_get(v, IPC_REG_NR)) {
	case HC_NULL:
		reg_status(v, STATUS_OK);
		return v;
	case HC_CONSOLE_WRITE:
	case HC_CONSOLE_PUT:
	case HC_CONSOLE_READ:
		return hc_console_locked(v);
	case HC_EXIT:
		return hc_exit(v);
	case HC_YIELD:
		return hc_yield(v);
	case HC_CALL:
		return ipc_call(v);
	case HC_REPLY_RECV:
		return ipc_reply_recv(v);
	case HC_RECV:
		return ipc_recv(v);
	case HC_SEND:
		return ipc_send(v);
	case HC_REPLY:
		return ipc_reply(v);
	case HC_SIGNAL:
		return notification_signal(v);
	case HC_WAIT:
		return notification_wait(v);
	case HC_POLL:
		return notification_poll(v);
	case HC_SCHED_SET:
		return hc_sched_set(v);
	case HC_SCHED_RING:
		return hc_sched_ring(v);
	case HC_SCHED_INFO:
		return hc_sched_info(v);
	case HC_CAP_INFO:
		return hc_cap_info(v);
	case HC_CAP_DERIVE:
		return hc_cap_derive(v);
	case HC_CAP_DROP:
		return hc_cap_drop(v);
	case HC_GUEST_IRQ:
		return hc_guest_irq(v);
	case HC_GUEST_MEM:
		return hc_guest_mem(v);
	case HC_GUEST_COPY:
		return hc_guest_copy(v);
	case HC_GUEST_ROUTE:
		return emul_route_call(v);
	case HC_VMI:
		return vmi_call(v);
	case HC_DM:
		return dm_call(v);
	case HC_CAP_RESTRICT:
		return hc_cap_restrict(v);
	default:
		reg_status(v, STATUS_INVALID_CALL);
		return v;
	}
}
