/**
 * A hostile-partition storm: random hypercalls with random arguments, and
 * random faults, timers and WFIs, from whichever vCPU is running, for many
 * thousands of steps on several seeds. After every kernel entry the kernel's
 * objects must still be consistent and no capability may have gained a
 * right. ASan/UBSan watch every step; the fake platform aborts on a panic.
 */
#include "system.h"
#include "tap.h"
#include <kernel/cap.h>
#include <kernel/notification.h>
#include <string.h>

#define STORM_STEPS 20000u
#define STORM_SEEDS 96u /* each seed builds a system: 4 root tables from the pool */
#define STORM_PARTITIONS 4u

static u64 rng_state;

static u64 rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/** The rights each partition held at boot for each (type, object), to check nothing widens. */
static u32 boot_rights[STORM_PARTITIONS][CAP_TYPE_LIMIT][CFG_ENDPOINT_MAX];

static void storm_build(void)
{
	tsys_reset(1);
	for (u32 p = 0; p < STORM_PARTITIONS; p++) {
		char name[8] = { 'p', (char)('0' + p), 0 };
		u32 index = tsys_partition(name, p == 3 ? 2 : 1);
		/* No memory: a root table each, so many systems fit the table pool. */
		kernel.cfg.partitions[index].mapping_count = 0;
	}
	u32 ep0 = tsys_endpoint(), ep1 = tsys_endpoint(), n0 = tsys_notification();
	kernel.cfg.partitions[2].fault_endpoint = ep1;
	kernel.cfg.partitions[2].fault_badge = 0xf;
	for (u32 p = 0; p < STORM_PARTITIONS; p++) {
		tsys_cap(p, 0, CAP_ENDPOINT, ep0, p == 0 ? RIGHT_EP_RECV : RIGHT_EP_SEND, p + 1);
		tsys_cap(p, 1, CAP_ENDPOINT, ep1, p == 1 ? RIGHT_EP_RECV | RIGHT_EP_SEND : RIGHT_EP_SEND, 0);
		tsys_cap(p, 2, CAP_NOTIFICATION, n0, p == 3 ? RIGHT_NTF_WAIT : RIGHT_NTF_SIGNAL, 1u << p);
		tsys_cap(p, 31, CAP_NOTIFICATION, n0, RIGHTS_NTF_ALL, 0);
	}
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
static const char *storm_check(void)
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
		if (v->state == VCPU_STOPPED && !v->part->stopped)
			return "a stopped vCPU in a running partition";
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

static const u64 storm_calls[] = { HC_NULL,	     HC_CONSOLE_WRITE, HC_YIELD,	HC_CALL,
				   HC_REPLY_RECV,    HC_RECV,	       HC_SEND,		HC_REPLY,
				   HC_SIGNAL,	     HC_WAIT,	       HC_POLL,		HC_CAP_INFO,
				   HC_CAP_DERIVE,    HC_CAP_DROP,      HC_CAP_RESTRICT, HC_EXIT };

/** One random event from the running vCPU v; returns the next vCPU (or powers off). */
static struct vcpu *storm_step(struct vcpu *v)
{
	u64 pick = rng() % 100;
	if (pick < 4)
		return trap_event(v, TRAP_TIMER, 0, 0);
	if (pick < 6)
		return trap_event(v, TRAP_WFI, 0, 0);
	if (pick < 7 && rng() % 8 == 0)
		return trap_event(v, TRAP_MEM_FAULT, rng(), (u32)rng() & 7u);
	if (pick < 8 && rng() % 8 == 0)
		return trap_event(v, TRAP_GUEST_EXCEPTION, 0, 0);
	u64 nr = storm_calls[rng() % ARRAY_COUNT(storm_calls)];
	if (nr == HC_EXIT && rng() % 32 != 0)
		nr = HC_NULL;
	if (rng() % 50 == 0)
		nr = rng();
	for (u32 i = 0; i < IPC_REG_COUNT; i++)
		v->arch.regs[i] = rng() % 3 == 0 ? rng() : rng() % 40;
	v->arch.regs[0] = nr;
	/* Mostly the slots that hold something, sometimes any index at all. */
	static const u64 live_slots[] = { 0, 1, 2, 31 };
	u64 how = rng() % 8;
	v->arch.regs[1] = how < 6 ? live_slots[rng() % 4] : how == 6 ? rng() % 34 : rng();
	if (rng() % 8 == 0)
		v->arch.regs[2] |= IPC_LABEL_KERNEL;
	struct trap t = { .kind = TRAP_HYPERCALL };
	return kernel_trap(v, &t);
}

int main(void)
{
	u64 total_steps = 0, power_offs = 0;
	const char *broken = NULL;
	for (u32 seed = 1; seed <= STORM_SEEDS && broken == NULL; seed++) {
		rng_state = 0x9e3779b97f4a7c15ull * seed;
		storm_build();
		struct vcpu *v = tsys_boot();
		for (u32 step = 0; step < STORM_STEPS && broken == NULL; step++) {
			bool off = FAKE_EXPECT_EXIT(v = storm_step(v));
			total_steps++;
			if (off) {
				/* Everything stopped or blocked for good: on to the next seed. */
				power_offs++;
				break;
			}
			broken = storm_check();
			if (v == NULL && broken == NULL)
				broken = "the kernel returned no vCPU without powering off";
		}
	}
	printf("# %llu steps, %llu power-offs\n", (unsigned long long)total_steps, (unsigned long long)power_offs);
	OK(broken == NULL, broken != NULL ? broken : "objects stay consistent through the storm");
	OK(total_steps >= 20000, "tens of thousands of steps ran without a panic or sanitizer report");
	OK(strstr(fake_console(), "PANIC") == NULL, "no kernel panic on the console");
	return tap_finish();
}
