/**
 * The hostile-partition storm shared by test_storm (random events from a
 * seeded generator) and tests/fuzz/hypercall_fuzz (events from libFuzzer's
 * input): a small system, one event decoded from a few bytes, and the
 * invariants every kernel entry must preserve.
 */
#include "storm.h"
#include <kernel/cap.h>
#include <kernel/notification.h>
#include <kernel/vcpu_power.h>
#include <string.h>

/** The rights each partition held at boot for each (type, object), to check nothing widens. */
static u32 boot_rights[STORM_PARTITIONS][CAP_TYPE_LIMIT][CFG_ENDPOINT_MAX];

void storm_build(void)
{
	tsys_reset(1);
	for (u32 p = 0; p < STORM_PARTITIONS; p++) {
		char name[8] = { 'p', (char)('0' + p), 0 };
		u32 index = tsys_partition(name, p == 3 ? 2 : 1);
		/* No memory: a root table each, so many systems fit the table pool. */
		kernel.cfg.partitions[index].mapping_count = 0;
	}
	u32 ep0 = tsys_endpoint(), ep1 = tsys_endpoint(), n0 = tsys_notification();
	u32 ep2 = tsys_endpoint(), ep3 = tsys_endpoint();
	/*
	 * Fault handlers: p1 and p2 handle each other's faults (ep1, ep3), and
	 * p3's two vCPUs handle each other's (ep2): a STOP answer or a released
	 * fault then stops the replier's own partition.
	 */
	kernel.cfg.partitions[2].fault_endpoint = ep1;
	kernel.cfg.partitions[2].fault_badge = 0xf;
	kernel.cfg.partitions[1].fault_endpoint = ep3;
	kernel.cfg.partitions[3].fault_endpoint = ep2;
	/* p3 is a VM: its vCPU 1 starts off, and power requests can start and stop it. */
	kernel.cfg.partitions[3].type = PARTITION_VM;
	for (u32 p = 0; p < STORM_PARTITIONS; p++) {
		tsys_cap(p, 0, CAP_ENDPOINT, ep0, p == 0 ? RIGHT_EP_RECV : RIGHT_EP_SEND, p + 1);
		tsys_cap(p, 1, CAP_ENDPOINT, ep1,
		         p == 1 ? RIGHT_EP_RECV | RIGHT_EP_SEND : RIGHT_EP_SEND, 0);
		tsys_cap(p, 2, CAP_NOTIFICATION, n0, p == 3 ? RIGHT_NTF_WAIT : RIGHT_NTF_SIGNAL,
		         1u << p);
		tsys_cap(p, 31, CAP_NOTIFICATION, n0, RIGHTS_NTF_ALL, 0);
	}
	tsys_cap(2, 3, CAP_ENDPOINT, ep3, RIGHT_EP_RECV, 0);
	tsys_cap(3, 3, CAP_ENDPOINT, ep2, RIGHT_EP_RECV, 0);
	/* p0 mediates and watches the VM p3 (HC_DM, HC_VMI: its shutdown among them). */
	tsys_cap(0, 4, CAP_GUEST, 3, RIGHT_GUEST_DM | RIGHT_GUEST_MONITOR, 0);
	memset(boot_rights, 0, sizeof(boot_rights));
	for (u32 p = 0; p < STORM_PARTITIONS; p++) {
		const struct cfg_partition *cp = &kernel.cfg.partitions[p];
		for (u32 c = 0; c < cp->cap_count; c++)
			boot_rights[p][cp->caps[c].type][cp->caps[c].object] |= cp->caps[c].rights;
	}
}

static bool queue_holds(const struct vcpu_queue *q, const struct vcpu *v)
{
	for (const struct vcpu *it = q->head; it != NULL; it = it->next) {
		if (it == v)
			return true;
	}
	return false;
}

/** Every structural invariant of the objects; returns a description of the first broken one. */
const char *storm_check(void)
{
	for (u32 e = 0; e < kernel.cfg.endpoint_count; e++) {
		const struct endpoint *ep = &kernel.endpoints[e];
		if (ep->senders.head != NULL && ep->receivers.head != NULL)
			return "an endpoint has both senders and receivers queued";
		for (const struct vcpu *v = ep->senders.head; v != NULL; v = v->next)
			if (v->state != VCPU_BLOCKED_SEND || v->queued_on != ep)
				return "a queued sender is not blocked sending on that endpoint";
		for (const struct vcpu *v = ep->receivers.head; v != NULL; v = v->next)
			if (v->state != VCPU_BLOCKED_RECV || v->queued_on != ep)
				return "a queued receiver is not blocked receiving on that endpoint";
	}
	for (u32 i = 0; i < kernel.vcpu_count; i++) {
		const struct vcpu *v = &kernel.vcpus[i];
		bool ready = queue_holds(&cpu_sched[0].ready, v);
		if ((v->state == VCPU_READY) != ready)
			return "READY and being on the ready queue disagree";
		if ((v->state == VCPU_RUNNING) != (cpu_sched[0].current == v))
			return "RUNNING and being current disagree";
		if (v->state == VCPU_BLOCKED_NOTIFY &&
		    (v->waiting_on == NULL || !queue_holds(&v->waiting_on->waiters, v)))
			return "a notification waiter is not on its queue";
		if (v->state == VCPU_BLOCKED_REPLY) {
			bool held = false;
			for (u32 k = 0; k < kernel.vcpu_count; k++)
				held = held || kernel.vcpus[k].caller == v;
			if (!held)
				return "a caller waits for a reply nobody can give";
		}
		if (v->state == VCPU_OFF && (v->queued_on != NULL || v->caller != NULL))
			return "a powered-off vCPU is queued or holds a reply right";
		if (v->state == VCPU_STOPPED && !v->part->stopped)
			return "a stopped vCPU in a running partition";
		if (v->part->stopped && v->state != VCPU_STOPPED)
			return "a vCPU of a stopped partition is not stopped (it would run again)";
		if (v->caller != NULL && v->caller->state != VCPU_BLOCKED_REPLY &&
		    v->caller->state != VCPU_BLOCKED_FAULT)
			return "a reply right names a vCPU that is not waiting for it";
	}
	for (u32 p = 0; p < STORM_PARTITIONS; p++) {
		const struct cap_table *t = &kernel.partitions[p].caps;
		for (u32 s = 0; s < CAP_SLOT_COUNT; s++) {
			const struct cap *c = &t->slots[s];
			if (c->type == CAP_NULL)
				continue;
			if (c->type >= CAP_TYPE_LIMIT || c->object >= CFG_ENDPOINT_MAX)
				return "a capability with an impossible type or object";
			if ((c->rights & ~boot_rights[p][c->type][c->object]) != 0)
				return "a capability gained a right its partition never had";
		}
	}
	return NULL;
}

static const u64 storm_calls[] = {
	HC_NULL,       HC_CONSOLE_WRITE, HC_YIELD,        HC_CALL, HC_REPLY_RECV, HC_RECV,
	HC_SEND,       HC_REPLY,         HC_SIGNAL,       HC_WAIT, HC_POLL,       HC_CAP_INFO,
	HC_CAP_DERIVE, HC_CAP_DROP,      HC_CAP_RESTRICT, HC_EXIT, HC_DM,         HC_VMI
};

/** Little-endian u64 from 8 bytes. */
static u64 bytes_u64(const u8 *b)
{
	u64 v = 0;
	for (u32 i = 0; i < 8; i++)
		v |= (u64)b[i] << (8 * i);
	return v;
}

struct vcpu *storm_event(struct vcpu *v, const u8 *e)
{
	/* e[0]: what; e[1]: call; e[2]: slot choice; e[3]: label flags; e[4..]: argument seed. */
	u64 seed = bytes_u64(e + 4) | 1u;
	u8 pick = e[0] % 100;
	if (pick < 4)
		return trap_event(v, TRAP_TIMER, 0, 0);
	if (pick < 6)
		return trap_event(v, TRAP_WFI, 0, 0);
	if (pick < 7 && e[1] % 8 == 0)
		return trap_event(v, TRAP_MEM_FAULT, seed, (u32)seed & 7u);
	if (pick < 8 && e[1] % 8 == 0)
		return trap_event(v, TRAP_GUEST_EXCEPTION, 0, 0);
	if (pick >= 8 && pick < 11) {
		/* A power request (PSCI on arm64): any op, any target, any entry. */
		struct power_req req = { .op = (enum power_op)(e[1] % 6),
			                 .target = e[2] % 4,
			                 .entry = e[3] % 2 ? 0x100000 : seed,
			                 .arg = seed };
		/* Rarely for good: nothing here can start a vCPU again (no memory to enter). */
		if (req.op == POWER_CPU_OFF || req.op == POWER_SYSTEM_OFF ||
		    req.op == POWER_SYSTEM_RESET)
			req.op = e[3] % 16 == 0 ? req.op : POWER_AFFINITY_INFO;
		enum power_result r;
		return kernel_power(v, &req, &r);
	}
	u64 nr = storm_calls[e[1] % ARRAY_COUNT(storm_calls)];
	if (nr == HC_EXIT && e[3] % 32 != 0)
		nr = HC_NULL;
	if (e[3] % 50 == 1)
		nr = seed;
	for (u32 i = 0; i < IPC_REG_COUNT; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		v->arch.regs[i] = seed % 3 == 0 ? seed : seed % 40;
	}
	v->arch.regs[0] = nr;
	/* Mostly the slots that hold something, sometimes any index at all. */
	static const u64 live_slots[] = { 0, 1, 2, 3, 31, 4 };
	u8 how = e[2] % 8;
	v->arch.regs[1] = how < 6 ? live_slots[e[2] / 8 % 6] : how == 6 ? e[2] % 34 : seed;
	if (e[3] % 8 == 0)
		v->arch.regs[2] |= IPC_LABEL_KERNEL;
	struct trap t = { .kind = TRAP_HYPERCALL };
	return kernel_trap(v, &t);
}
