/**
 * The IPC fastpath (kernel/ipc.c ipc_fast) on the fake platform: each case
 * is built twice, once answered by ipc_fast and once by the slow path
 * (kernel_trap), and the kernel's whole state afterwards (every vCPU,
 * endpoint and partition, the scheduling contexts, donation and billing of
 * every CPU) must be the same byte for byte. Each fallback condition must
 * return NULL and change nothing.
 */
#include "system.h"
#include "tap.h"
#include <kernel/ipc.h>
#include <kernel/lock.h>
#include <kernel/partition.h>
#include <stddef.h>
#include <string.h>

#define RANGE 0x9000000u

/** Everything a hypercall can change, for comparing the two paths. */
struct snap {
	struct kernel_state kernel;
	struct sched_state sched;
	struct cpu_sched cpu_sched[CFG_CPU_MAX];
	struct fake_mmio mmio;
};

static struct snap before, fast, slow;

static void snap_take(struct snap *s)
{
	memcpy(&s->kernel, &kernel, sizeof(kernel));
	memcpy(&s->sched, &sched, sizeof(sched));
	memcpy(s->cpu_sched, cpu_sched, sizeof(cpu_sched));
	memcpy(&s->mmio, &fake_mmio, sizeof(fake_mmio));
	/* Each build takes new stage-2 pages from the boot allocator: not IPC's state. */
	for (u32 i = 0; i < CFG_PARTITION_MAX; i++)
		memset(&s->kernel.partitions[i].s2, 0, sizeof(s->kernel.partitions[i].s2));
	for (u32 i = 0; i < KERNEL_VCPU_MAX; i++)
		s->kernel.vcpus[i].arch.s2_root = 0; /* the fake platform's record of them */
}

/** Whether a and b are the same; if not, says where they first differ. */
static bool snap_same(const struct snap *a, const struct snap *b)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
	for (size_t i = 0; i < sizeof(*a); i++) {
		if (x[i] != y[i]) {
			printf("#   first difference at byte %zu of the snapshot (kernel: %zu, vcpus at "
			       "%zu, %zu each; sched at %zu; cpu_sched at %zu)\n",
			       i, sizeof(a->kernel), offsetof(struct kernel_state, vcpus),
			       sizeof(struct vcpu), offsetof(struct snap, sched),
			       offsetof(struct snap, cpu_sched));
			return false;
		}
	}
	return true;
}

/*
 * The system: client (partition 0) and server (1) and server2 (2), one
 * vCPU each. Client: slot 0 send on ep (badge 0x55), 1 recv on ep, 2 a
 * notification, 3 send on ep2. Server: 0 recv on ep, 1 send on ep2 (badge
 * 0x66), 2 send-only on ep. Server2: 0 recv on ep2. Other (3): slot 0 send
 * on ep. Placement by the masks (bit n: CPU n).
 */
static u32 pc, ps, ps2, po, ep, ep2;

static void build(u32 cpus, u64 client_cpus, u64 server_cpus, u64 other_cpus)
{
	tsys_reset(cpus);
	pc = tsys_partition("client", 1);
	ps = tsys_partition("server", 1);
	ps2 = tsys_partition("server2", 1);
	po = tsys_partition("other", 1);
	ep = tsys_endpoint();
	ep2 = tsys_endpoint();
	u32 ntf = tsys_notification();
	kernel.cfg.partitions[pc].vcpus[0].hard_affinity = client_cpus;
	kernel.cfg.partitions[ps].vcpus[0].hard_affinity = server_cpus;
	kernel.cfg.partitions[ps2].vcpus[0].hard_affinity = 0x1;
	kernel.cfg.partitions[po].vcpus[0].hard_affinity = other_cpus;
	tsys_cap(pc, 0, CAP_ENDPOINT, ep, RIGHT_EP_SEND, 0x55);
	tsys_cap(pc, 1, CAP_ENDPOINT, ep, RIGHT_EP_RECV, 0);
	tsys_cap(pc, 2, CAP_NOTIFICATION, ntf, RIGHT_NTF_SIGNAL, 0);
	tsys_cap(pc, 3, CAP_ENDPOINT, ep2, RIGHT_EP_SEND, 0);
	tsys_cap(ps, 0, CAP_ENDPOINT, ep, RIGHT_EP_RECV, 0);
	tsys_cap(ps, 1, CAP_ENDPOINT, ep2, RIGHT_EP_SEND, 0x66);
	tsys_cap(ps, 2, CAP_ENDPOINT, ep, RIGHT_EP_SEND, 0);
	tsys_cap(ps2, 0, CAP_ENDPOINT, ep2, RIGHT_EP_RECV, 0);
	tsys_cap(po, 0, CAP_ENDPOINT, ep, RIGHT_EP_SEND, 0x77);
	tsys_boot();
	/* Scheduling contexts that differ, so a wrong donation shows. */
	for (u32 i = 0; i < kernel.vcpu_count; i++) {
		sched.ctx[i].programmed = true;
		sched.ctx[i].prio = 10u;
		sched.ctx[i].slice_ns = 1000000u * (i + 1u);
	}
}

static struct vcpu *vc(void)
{
	return tsys_vcpu(pc, 0);
}
static struct vcpu *vs(void)
{
	return tsys_vcpu(ps, 0);
}
static struct vcpu *vs2(void)
{
	return tsys_vcpu(ps2, 0);
}

/** Load a message hypercall into v's registers: r1 slot, r2 label, r3.. words. */
static struct vcpu *msg(struct vcpu *v, u64 nr, u64 slot, u64 label, u64 w0)
{
	memset(v->arch.regs, 0, sizeof(v->arch.regs));
	v->arch.regs[0] = nr;
	v->arch.regs[IPC_REG_CAP] = slot;
	v->arch.regs[IPC_REG_LABEL] = label;
	for (u32 i = 0; i < IPC_MSG_WORDS; i++)
		v->arch.regs[IPC_REG_WORD0 + i] = w0 + i;
	return v;
}

static struct vcpu *slow_trap(struct vcpu *v)
{
	struct trap t = { .kind = TRAP_HYPERCALL };
	return kernel_trap(v, &t);
}

/** Run every vCPU of CPU 0 into place: the servers wait, the client runs. */
static void servers_wait(void)
{
	/* Boot runs partition 0 first on CPU 0; let the servers reach their receive. */
	OK(hc(vc(), HC_YIELD, 0, 0, 0) == vs(), "setup: the server runs");
	OK(hc(vs(), HC_RECV, 0, 0, 0) == vs2(), "setup: server waits, server2 runs");
	struct vcpu *n = hc(vs2(), HC_RECV, 0, 0, 0);
	OK(n == vc() || n == tsys_vcpu(po, 0), "setup: server2 waits");
	if (n != vc())
		OK(hc(n, HC_YIELD, 0, 0, 0) == vc(), "setup: the client runs");
}

/* ---- the cases: each leaves the system just before v's hypercall -------- */

enum fast_case {
	CASE_CALL,        /* client calls ep, the server waits on CPU 0 */
	CASE_REPLY,       /* the server answers the client's call */
	CASE_CHAIN_CALL,  /* the server, serving the client, calls server2 */
	CASE_CHAIN_REPLY, /* server2 answers it: back to the server, still on the client's context */
	CASE_REPLY_TO_LAST, /* the server answers the chain's end, back to the client */
};

static struct vcpu *setup_case(enum fast_case c)
{
	build(1, 0x1, 0x1, 0x1);
	servers_wait();
	if (c == CASE_CALL)
		return msg(vc(), HC_CALL, 0, 5, 100);
	OK(slow_trap(msg(vc(), HC_CALL, 0, 5, 100)) == vs(), "setup: the call reaches the server");
	if (c == CASE_REPLY)
		return msg(vs(), HC_REPLY_RECV, 0, 9, 200);
	if (c == CASE_CHAIN_CALL)
		return msg(vs(), HC_CALL, 1, 6, 300);
	OK(slow_trap(msg(vs(), HC_CALL, 1, 6, 300)) == vs2(), "setup: the chain reaches server2");
	if (c == CASE_CHAIN_REPLY)
		return msg(vs2(), HC_REPLY_RECV, 0, 7, 400);
	OK(slow_trap(msg(vs2(), HC_REPLY_RECV, 0, 7, 400)) == vs(), "setup: server2 answers");
	return msg(vs(), HC_REPLY_RECV, 0, 8, 500);
}

/** Whether ipc_fast takes case c and leaves what the slow path leaves. */
static void check_twin(enum fast_case c, const char *name)
{
	char what[96];
	struct vcpu *v = setup_case(c);
	struct vcpu *next_fast = ipc_fast(v);
	snap_take(&fast);
	v = setup_case(c);
	struct vcpu *next_slow = slow_trap(v);
	snap_take(&slow);
	snprintf(what, sizeof(what), "%s: the fastpath takes it", name);
	OK(next_fast != NULL, what);
	snprintf(what, sizeof(what), "%s: the same vCPU runs next as on the slow path", name);
	OK(next_fast == next_slow, what);
	snprintf(what, sizeof(what), "%s: the same state as the slow path", name);
	OK(snap_same(&fast, &slow), what);
	EQ(kernel_lock.value, 0, "the kernel lock is free again");
}

static void test_taken(void)
{
	check_twin(CASE_CALL, "call");
	/* What the slow path (and so the fastpath) leaves, spelled out once. */
	EQ(vs()->state, VCPU_RUNNING, "call: the server runs");
	EQ(vc()->state, VCPU_BLOCKED_REPLY, "call: the client waits for the reply");
	OK(vs()->caller == vc(), "call: the server holds the reply right");
	EQ(reg(vs(), IPC_REG_CAP), 0x55, "call: the badge");
	EQ(reg(vs(), IPC_REG_LABEL), 5, "call: the label");
	EQ(reg(vs(), IPC_REG_WORD0 + 5), 105, "call: the last word");
	EQ(sched.run_on[vs()->id], vc()->id + 1u, "call: the server runs on the client's context");
	EQ(cpu_sched[0].sc, vc()->id + 1u, "call: the CPU still bills the client's context");

	check_twin(CASE_REPLY, "reply_recv");
	EQ(vc()->state, VCPU_RUNNING, "reply_recv: the client runs");
	EQ(vs()->state, VCPU_BLOCKED_RECV, "reply_recv: the server waits again");
	OK(kernel.endpoints[ep].receivers.head == vs(), "reply_recv: on the endpoint");
	EQ(reg(vc(), IPC_REG_CAP), 0, "reply_recv: a reply has no badge");
	EQ(reg(vc(), IPC_REG_WORD0), 200, "reply_recv: the reply's first word");
	EQ(sched.run_on[vs()->id], SCHED_SC_NONE, "reply_recv: the server's own context again");
	OK(kernel.partitions[ps].replied, "reply_recv: the server made progress");

	check_twin(CASE_CHAIN_CALL, "chain call");
	EQ(sched.run_on[vs2()->id], vc()->id + 1u,
	   "chain call: server2 runs on the client's context, passed on");
	EQ(reg(vs2(), IPC_REG_CAP), 0x66, "chain call: server's badge");
	check_twin(CASE_CHAIN_REPLY, "chain reply");
	EQ(sched.run_on[vs()->id], vc()->id + 1u, "chain reply: the server still on the client's");
	EQ(sched.run_on[vs2()->id], SCHED_SC_NONE, "chain reply: server2 on its own");
	check_twin(CASE_REPLY_TO_LAST, "chain end");
}

/* ---- the fallbacks ------------------------------------------------------ */

/** ipc_fast(v) must refuse, with nothing changed. */
static void check_refused(struct vcpu *v, const char *name)
{
	char what[96];
	snap_take(&before);
	struct vcpu *next = ipc_fast(v);
	snap_take(&fast);
	snprintf(what, sizeof(what), "%s: not taken", name);
	OK(next == NULL, what);
	snprintf(what, sizeof(what), "%s: nothing changed", name);
	OK(snap_same(&before, &fast), what);
}

static void test_call_fallbacks(void)
{
	build(1, 0x1, 0x1, 0x1);
	check_refused(msg(vc(), HC_CALL, 0, 5, 100), "call, nobody receives yet");
	/* The slow path queues it; the server's first receive then takes it. */
	OK(slow_trap(vc()) == vs(), "call, nobody receives: the slow path queues it");
	EQ(vc()->state, VCPU_BLOCKED_SEND, "call, nobody receives: the client waits to send");

	setup_case(CASE_CALL);
	check_refused(msg(vc(), HC_CALL, 7, 5, 100), "call through an empty slot");
	check_refused(msg(vc(), HC_CALL, 1000, 5, 100), "call through a slot out of range");
	check_refused(msg(vc(), HC_CALL, 2, 5, 100), "call through a notification");
	check_refused(msg(vc(), HC_CALL, 1, 5, 100), "call without the send right");
	check_refused(msg(vc(), HC_CALL, 0, IPC_LABEL_FAULT_MEM, 100), "call with a kernel label");
	OK(slow_trap(vc()) == vc() && reg(vc(), 0) == STATUS_INVALID_ARG,
	   "call with a kernel label: the slow path refuses it");

	setup_case(CASE_CALL);
	vs()->after = VCPU_AFTER_RELAX;
	check_refused(msg(vc(), HC_CALL, 0, 5, 100), "call, the receiver has work pending");
	vs()->after = 0;

	setup_case(CASE_CALL);
	kernel_lock.value = 1;
	check_refused(msg(vc(), HC_CALL, 0, 5, 100), "call while another CPU holds the lock");
	EQ(kernel_lock.value, 1, "call, lock held: the other CPU still holds it");
	kernel_lock.value = 0;
	OK(ipc_fast(vc()) == vs(), "call: taken once the lock is free");

	setup_case(CASE_CALL);
	vc()->state = VCPU_STOPPED; /* stopped by another CPU while it ran */
	check_refused(msg(vc(), HC_CALL, 0, 5, 100), "call from a stopped vCPU");

	/* The server waits on CPU 1, the client runs on CPU 0. */
	build(2, 0x1, 0x2, 0x1);
	fake_cpu = 1;
	OK(kernel_idle(1) == vs(), "other CPU: the server runs on CPU 1");
	OK(hc(vs(), HC_RECV, 0, 0, 0) == NULL, "other CPU: it waits there");
	fake_cpu = 0;
	check_refused(msg(vc(), HC_CALL, 0, 5, 100), "call to a receiver on another CPU");
	OK(slow_trap(vc()) != vs() && vs()->state == VCPU_READY,
	   "call to another CPU: the slow path wakes it there");
}

static void test_reply_fallbacks(void)
{
	build(1, 0x1, 0x1, 0x1);
	OK(hc(vc(), HC_YIELD, 0, 0, 0) == vs(), "no caller: the server runs");
	check_refused(msg(vs(), HC_REPLY_RECV, 0, 0, 0), "reply_recv with no caller");

	setup_case(CASE_REPLY);
	check_refused(msg(vs(), HC_REPLY_RECV, 1, 9, 200), "reply_recv on a slot without recv");
	check_refused(msg(vs(), HC_REPLY_RECV, 7, 9, 200), "reply_recv on an empty slot");
	check_refused(msg(vs(), HC_REPLY_RECV, 0, IPC_LABEL_MMIO, 200),
	              "reply_recv with a kernel label");

	setup_case(CASE_REPLY);
	vc()->after = VCPU_AFTER_RELAX;
	check_refused(msg(vs(), HC_REPLY_RECV, 0, 9, 200),
	              "reply_recv, the caller has work pending");
	vc()->after = 0;

	setup_case(CASE_REPLY);
	vs()->state = VCPU_STOPPED;
	check_refused(msg(vs(), HC_REPLY_RECV, 0, 9, 200), "reply_recv from a stopped vCPU");

	/* Another client (CPU 1) calls while the server serves the first. */
	build(2, 0x1, 0x1, 0x2);
	servers_wait();
	OK(slow_trap(msg(vc(), HC_CALL, 0, 5, 100)) == vs(), "sender queued: the server serves");
	fake_cpu = 1;
	OK(kernel_idle(1) == tsys_vcpu(po, 0), "sender queued: the other client runs on CPU 1");
	OK(slow_trap(msg(tsys_vcpu(po, 0), HC_CALL, 0, 1, 1)) == NULL,
	   "sender queued: its call waits on the endpoint");
	fake_cpu = 0;
	check_refused(msg(vs(), HC_REPLY_RECV, 0, 9, 200), "reply_recv with a sender queued");
	OK(slow_trap(vs()) == vs() && reg(vs(), IPC_REG_CAP) == 0x77,
	   "sender queued: the slow path takes the next call at once");

	/* The caller runs on CPU 1 (with other), the server on CPU 0 (with server2). */
	build(2, 0x2, 0x1, 0x2);
	OK(hc(vs(), HC_RECV, 0, 0, 0) == vs2(), "caller elsewhere: the server waits on CPU 0");
	OK(hc(vs2(), HC_RECV, 0, 0, 0) == NULL, "caller elsewhere: so does server2");
	fake_cpu = 1;
	OK(kernel_idle(1) == vc(), "caller elsewhere: the client runs on CPU 1");
	OK(slow_trap(msg(vc(), HC_CALL, 0, 5, 100)) == tsys_vcpu(po, 0),
	   "caller elsewhere: it calls");
	fake_cpu = 0;
	OK(kernel_idle(0) == vs(), "caller elsewhere: the server runs with the call");
	check_refused(msg(vs(), HC_REPLY_RECV, 0, 9, 200), "reply_recv to a caller on another CPU");

	/* A fault message (not an emulated access): the slow path's. */
	build(1, 0x1, 0x1, 0x1);
	servers_wait();
	vc()->part->fault_endpoint = ep;
	OK(trap_event(vc(), TRAP_MEM_FAULT, 0x1234, IPC_ACCESS_READ) == vs(),
	   "fault: the handler runs");
	check_refused(msg(vs(), HC_REPLY_RECV, 0, 0, IPC_FAULT_RESUME),
	              "reply_recv answering a fault");
}

/* ---- an emulated access's answer ---------------------------------------- */

static u32 eg, es, eep;

/** A VM guest and its emulator on CPU 0; the guest's read of the range reaches the emulator. */
static struct vcpu *setup_access(u64 status, u64 value)
{
	tsys_reset(1);
	es = tsys_partition("emul", 1);
	eg = tsys_partition("guest", 1);
	kernel.cfg.partitions[eg].type = PARTITION_VM;
	eep = tsys_endpoint();
	tsys_cap(es, 0, CAP_ENDPOINT, eep, RIGHT_EP_RECV, 0);
	tsys_cap(es, 1, CAP_GUEST, eg, RIGHT_GUEST_EMULATE, 0x42);
	kernel.cfg.emulated[0] = (struct cfg_emulated){
		.guest = eg, .ipa = RANGE, .size = 0x1000, .service = es, .endpoint = eep
	};
	kernel.cfg.emulated_count = 1;
	tsys_boot();
	struct vcpu *s = tsys_vcpu(es, 0), *g = tsys_vcpu(eg, 0);
	OK(hc(s, HC_RECV, 0, 0, 0) == g, "access: the emulator waits, the guest runs");
	memset(&fake_mmio, 0, sizeof(fake_mmio));
	struct trap t = { .kind = TRAP_MMIO,
		          .address = RANGE + 0x18,
		          .size = 4,
		          .access = IPC_ACCESS_READ,
		          .arch_info = 0xa5 };
	OK(kernel_trap(g, &t) == s, "access: the emulator runs with it");
	struct vcpu *v = msg(s, HC_REPLY_RECV, 0, 0, 0);
	v->arch.regs[IPC_REG_WORD0] = status;
	v->arch.regs[IPC_REG_WORD0 + 1] = value;
	return v;
}

static void check_access_twin(u64 status, const char *name)
{
	char what[96];
	struct vcpu *next_fast = ipc_fast(setup_access(status, 0x90));
	snap_take(&fast);
	struct vcpu *next_slow = slow_trap(setup_access(status, 0x90));
	snap_take(&slow);
	snprintf(what, sizeof(what), "%s: the fastpath takes it", name);
	OK(next_fast == tsys_vcpu(eg, 0), what);
	snprintf(what, sizeof(what), "%s: the same vCPU and state as the slow path", name);
	OK(next_fast == next_slow && snap_same(&fast, &slow), what);
}

static void test_access(void)
{
	check_access_twin(IPC_MMIO_DONE, "access answered");
	EQ(fake_mmio.completions, 1, "access answered: completed once");
	EQ(fake_mmio.value, 0x90, "access answered: with the value");
	EQ(tsys_vcpu(eg, 0)->kernel_sender, 0, "access answered: the kernel message is done");
	check_access_twin(IPC_MMIO_ABORT, "access refused");
	EQ(fake_mmio.aborts, 1, "access refused: the guest gets its abort");
	check_access_twin(12345, "access answered with garbage");
	EQ(fake_mmio.aborts, 1, "garbage: an abort too");

	struct vcpu *s = setup_access(IPC_MMIO_DONE, 1);
	tsys_vcpu(eg, 0)->after = VCPU_AFTER_RELAX;
	check_refused(s, "access answer, the guest has work pending");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	test_taken();
	test_call_fallbacks();
	test_reply_fallbacks();
	test_access();
	return tap_finish();
}
