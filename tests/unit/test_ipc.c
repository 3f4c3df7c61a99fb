/** IPC, notifications and every hypercall's decode path on the fake platform. */
#include "system.h"
#include "tap.h"
#include <string.h>

/* Make v issue a message hypercall: r1 = slot, r2 = label, r3..r8 = w0, w0 + 1, ... */
static struct vcpu *msg_hc(struct vcpu *v, u64 nr, u64 slot, u64 label, u64 w0)
{
	memset(v->arch.regs, 0, sizeof(v->arch.regs));
	v->arch.regs[0] = nr;
	v->arch.regs[1] = slot;
	v->arch.regs[IPC_REG_LABEL] = label;
	for (u32 i = 0; i < IPC_MSG_WORDS; i++)
		v->arch.regs[IPC_REG_WORD0 + i] = w0 + i;
	struct trap t = { .kind = TRAP_HYPERCALL };
	return kernel_trap(v, &t);
}

static struct vcpu *call(struct vcpu *v, u64 slot, u64 label, u64 w0)
{
	return msg_hc(v, HC_CALL, slot, label, w0);
}

static struct vcpu *reply_recv(struct vcpu *v, u64 slot, u64 label, u64 w0)
{
	return msg_hc(v, HC_REPLY_RECV, slot, label, w0);
}

static void test_ping_pong(void)
{
	tsys_reset(1);
	u32 a = tsys_partition("client", 1), s = tsys_partition("server", 1);
	u32 ep = tsys_endpoint();
	tsys_cap(a, 0, CAP_ENDPOINT, ep, RIGHT_EP_SEND, 0x11);
	tsys_cap(s, 0, CAP_ENDPOINT, ep, RIGHT_EP_RECV, 0);
	struct vcpu *va = tsys_vcpu(a, 0), *vs = tsys_vcpu(s, 0);
	OK(tsys_boot() == va, "pingpong: client runs first");
	struct vcpu *next = call(va, 0, 5, 100);
	OK(next == vs, "pingpong: call with no receiver blocks the client, server runs");
	EQ(va->state, VCPU_BLOCKED_SEND, "pingpong: client queued as sender");
	next = hc(vs, HC_RECV, 0, 0, 0);
	OK(next == vs, "pingpong: recv takes the queued call and keeps running");
	EQ(reg(vs, 0), STATUS_OK, "pingpong: recv status");
	EQ(reg(vs, 1), 0x11, "pingpong: server sees the client's badge");
	EQ(reg(vs, 2), 5, "pingpong: label delivered");
	EQ(reg(vs, 3), 100, "pingpong: word 0 delivered");
	EQ(reg(vs, 8), 105, "pingpong: word 5 delivered");
	EQ(va->state, VCPU_BLOCKED_REPLY, "pingpong: client waits for the reply");
	next = reply_recv(vs, 0, 6, 200);
	OK(next == va, "pingpong: reply_recv switches straight back to the client");
	EQ(reg(va, 0), STATUS_OK, "pingpong: reply status");
	EQ(reg(va, 1), 0, "pingpong: reply carries no badge");
	EQ(reg(va, 2), 6, "pingpong: reply label");
	EQ(reg(va, 3), 200, "pingpong: reply word 0");
	EQ(vs->state, VCPU_BLOCKED_RECV, "pingpong: server waits for the next call");
	next = call(va, 0, 7, 300);
	OK(next == vs, "pingpong: fast path: call switches directly to the waiting server");
	EQ(vs->state, VCPU_RUNNING, "pingpong: server running");
	OK(cpu_sched[0].ready.head == NULL, "pingpong: fast path leaves the ready queue empty");
	EQ(reg(vs, 2), 7, "pingpong: second call's label");
	next = reply_recv(vs, 0, 8, 0);
	OK(next == va && reg(va, 2) == 8, "pingpong: second round trip completes");
}

static void test_badges(void)
{
	tsys_reset(1);
	u32 c1 = tsys_partition("c1", 1), c2 = tsys_partition("c2", 1),
	    s = tsys_partition("srv", 1);
	u32 ep = tsys_endpoint();
	tsys_cap(c1, 0, CAP_ENDPOINT, ep, RIGHT_EP_SEND, 1);
	tsys_cap(c2, 3, CAP_ENDPOINT, ep, RIGHT_EP_SEND, 2);
	tsys_cap(s, 0, CAP_ENDPOINT, ep, RIGHT_EP_RECV, 0);
	struct vcpu *v1 = tsys_vcpu(c1, 0), *v2 = tsys_vcpu(c2, 0), *vs = tsys_vcpu(s, 0);
	tsys_boot();
	OK(call(v1, 0, 1, 0) == v2, "badges: first client blocks");
	v2->arch.regs[1] = 3;
	memset(v2->arch.regs, 0, sizeof(v2->arch.regs));
	v2->arch.regs[0] = HC_CALL;
	v2->arch.regs[1] = 3;
	struct trap t = { .kind = TRAP_HYPERCALL };
	OK(kernel_trap(v2, &t) == vs, "badges: second client blocks");
	hc(vs, HC_RECV, 0, 0, 0);
	EQ(reg(vs, 1), 1, "badges: first message carries badge 1");
	OK(reply_recv(vs, 0, 0, 0) == vs, "badges: reply_recv finds the next caller queued");
	EQ(reg(vs, 1), 2, "badges: second message carries badge 2 (FIFO order)");
	EQ(v1->state, VCPU_READY, "badges: first client made ready by the reply");
	OK(reply_recv(vs, 0, 0, 0) == v2,
	   "badges: server blocks, switches straight to the caller it replied to");
	EQ(v1->state, VCPU_READY, "badges: first client still waits its turn on the ready queue");
}

static void test_denials(void)
{
	tsys_reset(1);
	u32 a = tsys_partition("a", 1), b = tsys_partition("b", 1);
	u32 ep = tsys_endpoint(), n = tsys_notification();
	tsys_cap(a, 0, CAP_ENDPOINT, ep, RIGHT_EP_RECV, 0);
	tsys_cap(a, 1, CAP_NOTIFICATION, n, RIGHT_NTF_SIGNAL, 0);
	tsys_cap(a, 2, CAP_ENDPOINT, ep, RIGHT_EP_SEND, 0);
	tsys_cap(b, 0, CAP_ENDPOINT, ep, RIGHT_EP_RECV, 0);
	struct vcpu *va = tsys_vcpu(a, 0);
	tsys_boot();
	OK(call(va, 5, 0, 0) == va && reg(va, 0) == STATUS_INVALID_CAP,
	   "deny: call through an empty slot");
	OK(call(va, 1000, 0, 0) == va && reg(va, 0) == STATUS_INVALID_CAP,
	   "deny: call through a slot out of range");
	OK(call(va, 1, 0, 0) == va && reg(va, 0) == STATUS_WRONG_TYPE,
	   "deny: call through a notification");
	OK(call(va, 0, 0, 0) == va && reg(va, 0) == STATUS_NO_RIGHTS,
	   "deny: call without the send right");
	OK(call(va, 2, IPC_LABEL_FAULT_MEM, 0) == va && reg(va, 0) == STATUS_INVALID_ARG,
	   "deny: a partition cannot forge a kernel label");
	EQ(va->state, VCPU_RUNNING, "deny: a refused call leaves the caller running");
	OK(hc(va, HC_RECV, 2, 0, 0) == va && reg(va, 0) == STATUS_NO_RIGHTS,
	   "deny: recv without the recv right");
	OK(hc(va, HC_RECV, 1, 0, 0) == va && reg(va, 0) == STATUS_WRONG_TYPE,
	   "deny: recv on a notification");
	OK(hc(va, HC_REPLY, 0, 0, 0) == va && reg(va, 0) == STATUS_BAD_STATE,
	   "deny: reply with nobody to reply to");
	OK(hc(va, HC_SEND, 2, 0, 0) == va && reg(va, 0) == STATUS_WOULD_BLOCK,
	   "send: no receiver, would block");
	OK(hc(va, HC_SEND, 0, 0, 0) == va && reg(va, 0) == STATUS_NO_RIGHTS,
	   "deny: send without the send right");
	OK(hc(va, HC_WAIT, 1, 0, 0) == va && reg(va, 0) == STATUS_NO_RIGHTS,
	   "deny: wait without the wait right");
	OK(hc(va, HC_SIGNAL, 0, 0, 0) == va && reg(va, 0) == STATUS_WRONG_TYPE,
	   "deny: signal an endpoint");
	OK(hc(va, HC_POLL, 31, 0, 0) == va && reg(va, 0) == STATUS_INVALID_CAP,
	   "deny: poll an empty slot");
	OK(hc(va, 23, 0, 0, 0) == va && reg(va, 0) == STATUS_INVALID_CALL,
	   "deny: unknown hypercall 23");
	OK(hc(va, UINT64_MAX, 0, 0, 0) == va && reg(va, 0) == STATUS_INVALID_CALL,
	   "deny: hypercall ~0");
	OK(hc(va, HC_CONSOLE_WRITE, IPC_CONSOLE_MAX + 1, 0, 0) == va &&
	           reg(va, 0) == STATUS_INVALID_ARG,
	   "deny: console write longer than the registers");
	OK(hc(va, HC_CAP_DERIVE, 2, 9, RIGHT_EP_SEND | RIGHT_EP_RECV) == va &&
	           reg(va, 0) == STATUS_NO_RIGHTS,
	   "deny: derive cannot widen");
	OK(hc(va, HC_CAP_DERIVE, 2, CAP_SLOT_COUNT, RIGHT_EP_SEND) == va &&
	           reg(va, 0) == STATUS_INVALID_CAP,
	   "deny: derive into a slot out of range");
	OK(hc(va, HC_CAP_RESTRICT, 40, 0, 0) == va && reg(va, 0) == STATUS_INVALID_CAP,
	   "deny: restrict a slot out of range");
	OK(hc(va, HC_CAP_INFO, 7, 0, 0) == va && reg(va, 0) == STATUS_INVALID_CAP,
	   "deny: info on an empty slot");
	OK(strstr(tsys_console(), "PANIC") == NULL, "deny: no bad argument reached a panic");
}

static void test_cap_hypercalls(void)
{
	tsys_reset(1);
	u32 a = tsys_partition("a", 1), b = tsys_partition("b", 1);
	u32 ep = tsys_endpoint();
	tsys_cap(a, 0, CAP_ENDPOINT, ep, RIGHT_EP_SEND | RIGHT_EP_GRANT, 0);
	tsys_cap(b, 0, CAP_ENDPOINT, ep, RIGHT_EP_RECV, 0);
	struct vcpu *va = tsys_vcpu(a, 0), *vb = tsys_vcpu(b, 0);
	tsys_boot();
	hc(va, HC_CAP_INFO, 0, 0, 0);
	OK(reg(va, 0) == STATUS_OK && reg(va, 1) == CAP_ENDPOINT &&
	           reg(va, 2) == (RIGHT_EP_SEND | RIGHT_EP_GRANT),
	   "cap info: type and rights");
	va->arch.regs[4] = 0x77;
	memset(va->arch.regs, 0, sizeof(va->arch.regs));
	va->arch.regs[0] = HC_CAP_DERIVE;
	va->arch.regs[1] = 0;
	va->arch.regs[2] = 4;
	va->arch.regs[3] = RIGHT_EP_SEND;
	va->arch.regs[4] = 0x77;
	struct trap t = { .kind = TRAP_HYPERCALL };
	kernel_trap(va, &t);
	EQ(reg(va, 0), STATUS_OK, "cap derive: badged send-only copy");
	OK(hc(va, HC_CAP_RESTRICT, 0, 0, 0) == va && reg(va, 0) == STATUS_OK,
	   "cap restrict: drop all rights of slot 0");
	OK(call(va, 0, 0, 0) == va && reg(va, 0) == STATUS_NO_RIGHTS,
	   "cap restrict: restricted slot cannot call");
	OK(hc(va, HC_CAP_RESTRICT, 0, RIGHT_EP_SEND, 0) == va && reg(va, 0) == STATUS_NO_RIGHTS,
	   "cap restrict: is for good");
	OK(call(va, 4, 9, 0) == vb, "cap derive: the derived slot calls");
	hc(vb, HC_RECV, 0, 0, 0);
	EQ(reg(vb, 1), 0x77, "cap derive: receiver sees the derived badge");
	OK(hc(vb, HC_CAP_DROP, 0, 0, 0) == vb && reg(vb, 0) == STATUS_OK, "cap drop: ok");
	OK(hc(vb, HC_RECV, 0, 0, 0) == vb && reg(vb, 0) == STATUS_INVALID_CAP,
	   "cap drop: slot is gone");
}

static void test_notifications(void)
{
	tsys_reset(1);
	u32 a = tsys_partition("sig", 1), b = tsys_partition("waiter", 1);
	u32 n = tsys_notification();
	tsys_cap(a, 0, CAP_NOTIFICATION, n, RIGHT_NTF_SIGNAL, 0x4);
	tsys_cap(a, 1, CAP_NOTIFICATION, n, RIGHT_NTF_SIGNAL, 0x1);
	tsys_cap(b, 0, CAP_NOTIFICATION, n, RIGHT_NTF_WAIT, 0);
	struct vcpu *va = tsys_vcpu(a, 0), *vb = tsys_vcpu(b, 0);
	tsys_boot();
	hc(va, HC_SIGNAL, 0, 0, 0);
	hc(va, HC_SIGNAL, 1, 0, 0);
	EQ(reg(va, 0), STATUS_OK, "notify: signal ok");
	OK(hc(va, HC_YIELD, 0, 0, 0) == vb, "notify: yield hands the CPU to the waiter");
	hc(vb, HC_POLL, 0, 0, 0);
	EQ(reg(vb, 1), 0x5, "notify: poll returns the OR of both badges");
	hc(vb, HC_POLL, 0, 0, 0);
	EQ(reg(vb, 1), 0, "notify: poll cleared the word");
	OK(hc(vb, HC_WAIT, 0, 0, 0) == va, "notify: wait with no bits blocks");
	EQ(vb->state, VCPU_BLOCKED_NOTIFY, "notify: waiter blocked");
	OK(hc(va, HC_SIGNAL, 0, 0, 0) == va, "notify: signaller keeps running");
	EQ(vb->state, VCPU_READY, "notify: waiter woken");
	EQ(reg(vb, 1), 0x4, "notify: waiter gets the bits");
	EQ(kernel.notifications[n].word, 0, "notify: bits consumed by the waiter");
}

static void test_faults(void)
{
	tsys_reset(1);
	u32 g = tsys_partition("faulty", 1), h = tsys_partition("handler", 1),
	    o = tsys_partition("other", 1);
	u32 ep = tsys_endpoint();
	kernel.cfg.partitions[g].fault_endpoint = ep;
	kernel.cfg.partitions[g].fault_badge = 0xfa;
	tsys_cap(h, 0, CAP_ENDPOINT, ep, RIGHT_EP_RECV, 0);
	struct vcpu *vg = tsys_vcpu(g, 0), *vh = tsys_vcpu(h, 0), *vo = tsys_vcpu(o, 0);
	tsys_boot();
	vg->arch.pc = 0x100040;
	OK(trap_event(vg, TRAP_MEM_FAULT, 0x5000, IPC_ACCESS_WRITE) == vh,
	   "fault: goes to the handler partition");
	hc(vh, HC_RECV, 0, 0, 0);
	EQ(reg(vh, 2), IPC_LABEL_FAULT_MEM, "fault: kernel label");
	EQ(reg(vh, 1), 0xfa, "fault: handler badge");
	EQ(reg(vh, 3), 0x5000, "fault: address");
	EQ(reg(vh, 4), IPC_ACCESS_WRITE, "fault: access");
	EQ(reg(vh, 5), 0x100040, "fault: pc");
	EQ(vg->state, VCPU_BLOCKED_FAULT, "fault: faulting vCPU waits");
	struct vcpu *next = reply_recv(vh, 0, 0, IPC_FAULT_RESUME);
	OK(next == vg, "fault: resume answer runs the faulting vCPU again");
	/* It faults in a loop: the timer still gives the others their turn. */
	trap_event(vg, TRAP_MEM_FAULT, 0x5000, IPC_ACCESS_WRITE);
	next = reply_recv(vh, 0, 0, IPC_FAULT_RESUME);
	OK(next == vg, "fault loop: resumed again");
	next = trap_event(vg, TRAP_TIMER, 0, 0);
	OK(next == vo, "fault loop: timer preempts it and the other partition runs");
	next = trap_event(vo, TRAP_TIMER, 0, 0);
	OK(next == vg, "fault loop: round robin comes back");
	OK(trap_event(vg, TRAP_GUEST_EXCEPTION, 0, 0) == vh,
	   "fault: a guest exception goes to the waiting handler");
	EQ(reg(vh, 2), IPC_LABEL_FAULT_EXC, "fault: exception label");
	next = reply_recv(vh, 0, 0, IPC_FAULT_STOP);
	OK(next != vg, "fault: the stopped vCPU is not run again");
	OK(kernel.partitions[g].stopped, "fault: stop answer stops the partition");
	EQ(vg->state, VCPU_STOPPED, "fault: its vCPU is stopped");
	OK(strstr(tsys_console(), "partition 'faulty' stopped") != NULL,
	   "fault: the stop is reported");
	OK(vo->state == VCPU_READY || vo->state == VCPU_RUNNING,
	   "fault: other partition unaffected");
}

static void test_fault_no_handler(void)
{
	tsys_reset(1);
	u32 g = tsys_partition("bad", 1), o = tsys_partition("good", 1);
	struct vcpu *vg = tsys_vcpu(g, 0), *vo = tsys_vcpu(o, 0);
	tsys_boot();
	vg->arch.pc = 0x100010;
	OK(trap_event(vg, TRAP_MEM_FAULT, 0x40000000, IPC_ACCESS_READ) == vo,
	   "no handler: others run on");
	OK(kernel.partitions[g].stopped, "no handler: faulting partition stopped");
	OK(strstr(tsys_console(),
	          "partition 'bad' stopped: vcpu 0: test fault fault at 0x40000000 (read), pc 0x100010") !=
	           NULL,
	   "no handler: report names address, access and pc");
	OK(FAKE_EXPECT_EXIT(hc(vo, HC_EXIT, 0, 0, 0)),
	   "no handler: system powers off when the last partition ends");
	EQ(fake_exit_status, 1, "no handler: final status says a partition failed");
	OK(strstr(tsys_console(), "[hyp] system off: status=1") != NULL,
	   "no handler: status line printed");
}

static void test_stop_releases_caller(void)
{
	tsys_reset(1);
	u32 c = tsys_partition("client", 1), s = tsys_partition("server", 1);
	u32 ep = tsys_endpoint();
	tsys_cap(c, 0, CAP_ENDPOINT, ep, RIGHT_EP_SEND, 0);
	tsys_cap(s, 0, CAP_ENDPOINT, ep, RIGHT_EP_RECV, 0);
	struct vcpu *vc = tsys_vcpu(c, 0), *vs = tsys_vcpu(s, 0);
	tsys_boot();
	call(vc, 0, 1, 7);
	hc(vs, HC_RECV, 0, 0, 0);
	OK(hc(vs, HC_EXIT, 3, 0, 0) == vc,
	   "stop: server exits holding the reply right; client runs");
	EQ(reg(vc, 0), STATUS_PEER_STOPPED, "stop: client released with PEER_STOPPED");
	u64 rest = 0;
	for (u32 i = IPC_REG_CAP; i < IPC_REG_COUNT; i++)
		rest |= reg(vc, i);
	EQ(rest, 0, "stop: and r1..r8 zero, not the call's label and words");
	OK(strstr(tsys_console(), "partition 'server' stopped: exited with code 3") != NULL,
	   "stop: exit reported");
	OK(FAKE_EXPECT_EXIT(call(vc, 0, 1, 0)),
	   "stop: a call nobody can answer leaves nothing runnable: power off");
	EQ(vc->state, VCPU_BLOCKED_SEND, "stop: the new call waits on the endpoint");
}

/** Let the timer rotate CPU 0 until want runs (at most a few slices). */
static struct vcpu *rotate_to(struct vcpu *cur, struct vcpu *want)
{
	for (int i = 0; i < 16 && cur != want && cur != NULL; i++)
		cur = trap_event(cur, TRAP_TIMER, 0, 0);
	return cur;
}

/** Whether v is on CPU 0's ready queue or any endpoint's queue, or current. */
static bool anywhere(const struct vcpu *v)
{
	for (const struct vcpu *it = cpu_sched[0].ready.head; it != NULL; it = it->next)
		if (it == v)
			return true;
	for (u32 e = 0; e < kernel.cfg.endpoint_count; e++) {
		for (const struct vcpu *it = kernel.endpoints[e].senders.head; it; it = it->next)
			if (it == v)
				return true;
		for (const struct vcpu *it = kernel.endpoints[e].receivers.head; it; it = it->next)
			if (it == v)
				return true;
	}
	return cpu_sched[0].current == v;
}

/*
 * Issue 8, defect 2: a fault handler in the faulting partition itself
 * answers STOP, which stops the handler's own vCPU mid-hypercall; it must
 * not be queued to receive again or returned as the one to run.
 */
static void test_stop_own_partition(void)
{
	for (int how = 0; how < 2; how++) {
		tsys_reset(1);
		u32 p = tsys_partition("selfish", 2), o = tsys_partition("other", 1);
		u32 ep = tsys_endpoint();
		kernel.cfg.partitions[p].fault_endpoint = ep;
		tsys_cap(p, 0, CAP_ENDPOINT, ep, RIGHT_EP_RECV, 0);
		struct vcpu *v0 = tsys_vcpu(p, 0), *v1 = tsys_vcpu(p, 1), *vo = tsys_vcpu(o, 0);
		rotate_to(tsys_boot(), v1);
		struct vcpu *cur = rotate_to(hc(v1, HC_RECV, 0, 0, 0), v0);
		OK(cur == v0 && v1->state == VCPU_BLOCKED_RECV, "self stop: handler vCPU waits");
		OK(trap_event(v0, TRAP_MEM_FAULT, 0x7000, IPC_ACCESS_READ) == v1,
		   "self stop: the fault goes to the partition's own handler vCPU");
		cur = how == 0 ? reply_recv(v1, 0, 0, IPC_FAULT_STOP) :
		                 msg_hc(v1, HC_REPLY, 0, 0, IPC_FAULT_STOP);
		OK(kernel.partitions[p].stopped,
		   how == 0 ? "self stop (reply_recv): partition stopped" :
		              "self stop (reply): partition stopped");
		OK(cur == vo, how == 0 ? "self stop (reply_recv): the other partition runs next" :
		                         "self stop (reply): the other partition runs next");
		EQ(v1->state, VCPU_STOPPED, "self stop: the handler's own vCPU stays stopped");
		OK(!anywhere(v0) && !anywhere(v1),
		   "self stop: no vCPU of the stopped partition is queued or current");
	}
}

/*
 * Two partitions handling each other's faults, and a server that called
 * out while holding a fault: stopping one stops the other through the
 * released fault, which releases the first one's call again. Nothing of
 * either may be made ready.
 */
static void test_stop_mutual_handlers(void)
{
	tsys_reset(1);
	u32 a = tsys_partition("alpha", 2), b = tsys_partition("beta", 2),
	    o = tsys_partition("other", 1);
	u32 ep_a = tsys_endpoint(), ep_b = tsys_endpoint(), ep_s = tsys_endpoint();
	kernel.cfg.partitions[a].fault_endpoint = ep_a;
	kernel.cfg.partitions[b].fault_endpoint = ep_b;
	tsys_cap(a, 0, CAP_ENDPOINT, ep_b, RIGHT_EP_RECV, 0); /* alpha handles beta's faults */
	tsys_cap(a, 1, CAP_ENDPOINT, ep_s, RIGHT_EP_SEND, 0);
	tsys_cap(b, 0, CAP_ENDPOINT, ep_a, RIGHT_EP_RECV, 0); /* beta handles alpha's faults */
	tsys_cap(b, 1, CAP_ENDPOINT, ep_s, RIGHT_EP_RECV, 0);
	struct vcpu *a0 = tsys_vcpu(a, 0), *a1 = tsys_vcpu(a, 1), *b0 = tsys_vcpu(b, 0),
	            *b1 = tsys_vcpu(b, 1), *vo = tsys_vcpu(o, 0);
	struct vcpu *cur = tsys_boot();
	/* a0 takes b1's fault, then calls b0 while still holding it. */
	cur = rotate_to(hc(rotate_to(cur, a0), HC_RECV, 0, 0, 0), b0);
	OK(cur == b0, "mutual: beta's first vCPU runs");
	cur = rotate_to(hc(b0, HC_RECV, 1, 0, 0), b1);
	OK(cur == b1, "mutual: beta's faulter runs");
	OK(trap_event(b1, TRAP_MEM_FAULT, 0x7000, IPC_ACCESS_READ) == a0,
	   "mutual: beta's fault reaches alpha");
	OK(call(a0, 1, 5, 0) == b0, "mutual: alpha calls beta while holding beta's fault");
	EQ(a0->state, VCPU_BLOCKED_REPLY, "mutual: alpha waits for beta's reply");
	/* Now alpha's other vCPU exits: alpha stops, releasing beta's fault, which stops beta. */
	cur = rotate_to(b0, a1);
	OK(cur == a1, "mutual: alpha's second vCPU runs");
	cur = hc(a1, HC_EXIT, 0, 0, 0);
	OK(kernel.partitions[a].stopped && kernel.partitions[b].stopped,
	   "mutual: both partitions stopped");
	EQ(a0->state, VCPU_STOPPED, "mutual: the released call does not revive alpha's vCPU");
	OK(!anywhere(a0) && !anywhere(a1) && !anywhere(b0) && !anywhere(b1),
	   "mutual: nothing of either partition is queued or current");
	OK(cur == vo, "mutual: the bystander runs");
}

static void test_exit_clean(void)
{
	tsys_reset(1);
	u32 a = tsys_partition("one", 1), b = tsys_partition("two", 1);
	struct vcpu *va = tsys_vcpu(a, 0), *vb = tsys_vcpu(b, 0);
	tsys_boot();
	OK(hc(va, HC_EXIT, 0, 0, 0) == vb, "exit: next partition runs");
	OK(FAKE_EXPECT_EXIT(hc(vb, HC_EXIT, 0, 0, 0)), "exit: last exit powers off");
	EQ(fake_exit_status, 0, "exit: clean status");
}

static void test_sched(void)
{
	tsys_reset(2);
	u32 a = tsys_partition("pinned1", 1), b = tsys_partition("soft", 1),
	    c = tsys_partition("any", 1);
	kernel.cfg.partitions[a].vcpus[0].hard_affinity = 0x2;
	kernel.cfg.partitions[b].vcpus[0].soft_affinity = 0x2;
	kernel.cfg.partitions[c].vcpus[0].hard_affinity = 0x1 | 0x8;
	fake_kicks = 0;
	struct vcpu *first = tsys_boot();
	EQ(tsys_vcpu(a, 0)->cpu, 1, "sched: hard affinity {1} places on CPU 1");
	EQ(tsys_vcpu(b, 0)->cpu, 1, "sched: soft affinity {1} preferred inside hard");
	EQ(tsys_vcpu(c, 0)->cpu, 0, "sched: CPUs beyond the machine are ignored");
	OK(first == tsys_vcpu(c, 0), "sched: CPU 0 runs its own vCPU");
	OK(fake_kicks >= 1, "sched: CPU 1 kicked for its ready vCPUs");
	fake_cpu = 1;
	struct vcpu *n1 = kernel_idle(1);
	OK(n1 == tsys_vcpu(a, 0), "sched: CPU 1 picks its first vCPU when it wakes");
	OK(fake_timer_deadline == fake_now_ns + SCHED_SLICE_NS,
	   "sched: a slice is armed on dispatch");
	fake_now_ns += SCHED_SLICE_NS;
	OK(trap_event(n1, TRAP_TIMER, 0, 0) == tsys_vcpu(b, 0),
	   "sched: timer rotates to the next vCPU");
	EQ(tsys_vcpu(a, 0)->run_ns, SCHED_SLICE_NS, "sched: the slice is accounted");
	OK(trap_event(tsys_vcpu(b, 0), TRAP_WFI, 0, 0) == tsys_vcpu(a, 0), "sched: WFI yields");
	fake_cpu = 0;
	OK(trap_event(tsys_vcpu(c, 0), TRAP_TIMER, 0, 0) == tsys_vcpu(c, 0),
	   "sched: alone on its CPU, keeps running");
}

static void test_more_paths(void)
{
	tsys_reset(1);
	u32 c = tsys_partition("client", 1), s = tsys_partition("server", 1),
	    x = tsys_partition("other", 1);
	u32 ep = tsys_endpoint();
	tsys_cap(c, 0, CAP_ENDPOINT, ep, RIGHT_EP_SEND, 0x3);
	tsys_cap(s, 0, CAP_ENDPOINT, ep, RIGHT_EP_RECV, 0);
	tsys_cap(x, 0, CAP_ENDPOINT, ep, RIGHT_EP_SEND, 0x4);
	struct vcpu *vc = tsys_vcpu(c, 0), *vs = tsys_vcpu(s, 0), *vx = tsys_vcpu(x, 0);
	tsys_boot();
	call(vc, 0, 1, 0);
	hc(vs, HC_RECV, 0, 0, 0);
	OK(reply_recv(vs, 9, 2, 0) == vs && reg(vs, 0) == STATUS_INVALID_CAP,
	   "reply_recv: a bad receive slot is refused before replying");
	EQ(vc->state, VCPU_BLOCKED_REPLY, "reply_recv: so the caller still waits");
	OK(reply_recv(vs, 0, IPC_LABEL_KERNEL | 5, 0) == vs && reg(vs, 0) == STATUS_INVALID_ARG,
	   "reply_recv: a kernel label in the reply is refused");
	EQ(vc->state, VCPU_BLOCKED_REPLY, "reply_recv: and nothing was replied");
	OK(msg_hc(vs, HC_REPLY, 0, 44, 0) == vs && reg(vs, 0) == STATUS_OK,
	   "reply: the server replies and keeps running");
	EQ(vc->state, VCPU_READY, "reply: caller made ready");
	EQ(reg(vc, 2), 44, "reply: caller got the label");
	OK(hc(vs, HC_REPLY, 0, 0, 0) == vs && reg(vs, 0) == STATUS_BAD_STATE,
	   "reply: the right was one-shot");
	/* The server waits; a send (not a call) is delivered without a reply right. */
	OK(hc(vs, HC_RECV, 0, 0, 0) == vx, "recv: server blocks, the next ready partition runs");
	OK(msg_hc(vx, HC_SEND, 0, 77, 0) == vx && reg(vx, 0) == STATUS_OK,
	   "send: delivered to the waiting server");
	EQ(reg(vs, 2), 77, "send: label arrived");
	EQ(reg(vs, 1), 0x4, "send: with the sender's badge");
	OK(vs->caller == NULL, "send: the receiver holds no reply right");
	/* A call the server receives and then abandons by receiving again. */
	OK(call(vx, 0, 5, 0) == vc,
	   "call: the server is busy, so the caller queues and the client runs");
	OK(hc(vc, HC_YIELD, 0, 0, 0) == vs, "yield: the server runs");
	hc(vs, HC_RECV, 0, 0, 0);
	EQ(reg(vs, 2), 5, "recv: got the queued call");
	OK(vs->caller == vx, "recv: the server holds the caller's reply right");
	hc(vs, HC_RECV, 0, 0, 0);
	EQ(reg(vx, 0), STATUS_PEER_STOPPED,
	   "recv again: the abandoned caller is released with PEER_STOPPED");
	EQ(vx->state, VCPU_READY, "recv again: and can run");
	/* A queued caller whose partition stops leaves the endpoint queue. */
	tsys_reset(1);
	c = tsys_partition("client", 1);
	s = tsys_partition("server", 1);
	tsys_cap(c, 0, CAP_ENDPOINT, tsys_endpoint(), RIGHT_EP_SEND, 0);
	tsys_cap(s, 0, CAP_ENDPOINT, 0, RIGHT_EP_RECV, 0);
	vc = tsys_vcpu(c, 0);
	vs = tsys_vcpu(s, 0);
	tsys_boot();
	call(vc, 0, 1, 0);
	OK(kernel.endpoints[0].senders.head == vc, "queued: the caller waits on the endpoint");
	OK(FAKE_EXPECT_EXIT(trap_event(vs, TRAP_MEM_FAULT, 0x9000, IPC_ACCESS_EXEC)),
	   "nothing can run after the server faults: power off");
	OK(kernel.partitions[s].stopped, "the server faulted and stopped");
	OK(strstr(tsys_console(), "(exec)") != NULL, "the report names an exec fault");
}

int main(void)
{
	test_more_paths();
	test_ping_pong();
	test_badges();
	test_denials();
	test_cap_hypercalls();
	test_notifications();
	test_faults();
	test_fault_no_handler();
	test_stop_releases_caller();
	test_stop_own_partition();
	test_stop_mutual_handlers();
	test_exit_clean();
	test_sched();
	return tap_finish();
}
