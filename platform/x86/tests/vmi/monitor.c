/**
 * The monitor of the x86 introspection test (vmi.dts): a service using HC_VMI directly, with
 * the phases of arm64's (platform/arm64/tests/vmi_guest.c GUEST_VMI_MON). It is restartable;
 * it dies holding the VM's last write, and its successor (a preserved page says so) has
 * nothing to watch.
 */
#include "common.h"
#include <svc/svc.h>

#define MON_STATE UINT64_C(0x200000) /* preserved across its restart */

static void require(bool ok, const char *what)
{
	if (ok)
		return;
	svc_printf("FAILED: %s\n", what);
	svc_exit(1);
}

static uint64_t vmi(uint64_t slot, uint64_t op, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                    uint64_t *r1)
{
	uint64_t r[IPC_REG_COUNT] = { HC_VMI, slot, op, a0, a1, a2, a3 };
	svc_hypercall(r);
	if (r1 != NULL)
		*r1 = r[1];
	return r[0];
}

struct event {
	uint64_t addr, access, pc, vcpu, view;
};

static struct event decode(const struct msg *m, enum status s)
{
	require(s == STATUS_OK && m->label == IPC_LABEL_VMI_MEM, "an access event (label VMI_MEM)");
	require(m->badge == MON_BADGE, "with the badge given to ATTACH");
	return (struct event){ m->w[0], m->w[1], m->w[2], m->w[3] & 0xffffffffu,
		               m->w[3] >> IPC_VMI_VIEW_SHIFT };
}

static struct event answer(struct msg *m, uint64_t action, uint64_t view_plus1)
{
	*m = (struct msg){ .label = 0, .w = { action, view_plus1 } };
	enum status s = svc_reply_recv(MON_EP_RECV, m);
	return decode(m, s);
}

int svc_main(uint64_t arg)
{
	(void)arg;
	struct msg m;
	if (rd(MON_STATE) == 0xdead) {
		svc_printf(
		        "successor: its guest got the manifest's rights back; nothing to watch\n");
		for (;;) {
			svc_recv(MON_EP_RECV, &m); /* nothing is attached: no event comes */
			require(false, "the successor got an event it never asked for");
		}
	}
	uint64_t bits, out = 0;
	svc_wait(MON_READY, &bits);
	require(vmi(MON_GUEST_EMULATE, IPC_VMI_GET, 0, PROT, 0, 0, NULL) == STATUS_NO_RIGHTS,
	        "a guest capability without the monitor right is refused");
	require(vmi(MON_GUEST, IPC_VMI_ATTACH, MON_EP_SEND, MON_BADGE, 0, 0, NULL) == STATUS_OK,
	        "ATTACH");
	require(vmi(MON_GUEST, IPC_VMI_PROTECT, 0, PROT, 0x1000, 5, &out) == STATUS_OK &&
	                out == 0x1000,
	        "PROTECT PROT rx in view 0");
	require(vmi(MON_GUEST, IPC_VMI_PROTECT, 0, DB, 0x1000, 1, NULL) == STATUS_OK, "doorbell");
	require(vmi(MON_GUEST, IPC_VMI_VIEW_CREATE, 1, 7, 0, 0, NULL) == STATUS_OK, "view 1");
	require(vmi(MON_GUEST, IPC_VMI_PROTECT, 1, P2, 0x1000, 1, NULL) == STATUS_OK,
	        "P2 in view 1");
	require(vmi(MON_GUEST, IPC_VMI_PROTECT, 1, DB, 0x1000, 1, NULL) == STATUS_OK, "doorbell 1");
	require(vmi(MON_GUEST, IPC_VMI_GET, 0, PROT, 0, 0, &out) == STATUS_OK && out == 5,
	        "GET PROT in view 0: rx");
	svc_printf("passed: attached; PROT read-only in view 0, view 1 writable but for P2\n");
	svc_signal(MON_GO);
	struct event e = decode(&m, svc_recv(MON_EP_RECV, &m));
	require(e.addr == PROT && (e.access & 7u) == IPC_ACCESS_WRITE && e.pc >= RAM_LO &&
	                e.pc < RAM_HI && e.vcpu == 0 && e.view == 0,
	        "phase 1: a write at PROT from the VM's code, vCPU 0, view 0");
	svc_printf("passed: the VM's write to PROT caught with its RIP; denied\n");
	e = answer(&m, IPC_VMI_SKIP, 0);
	require(e.addr == PROT, "phase 2: the next write");
	require(vmi(MON_GUEST, IPC_VMI_PROTECT, 0, PROT, 0x1000, 7, NULL) == STATUS_OK, "lift");
	e = answer(&m, IPC_VMI_RETRY, 0);
	require(e.addr == DB + 8, "doorbell 1");
	require(vmi(MON_GUEST, IPC_VMI_PROTECT, 0, PROT, 0x1000, 5, NULL) == STATUS_OK, "again");
	e = answer(&m, IPC_VMI_SKIP, 0);
	require(e.addr == PROT && e.view == 0, "phase 3: a write at PROT in view 0");
	e = answer(&m, IPC_VMI_RETRY, 2);
	require(e.addr == P2 && e.view == 1, "phase 4: a write at P2 in view 1");
	svc_printf("passed: the write to P2 was caught in view 1; back to view 0\n");
	e = answer(&m, IPC_VMI_RETRY, 1);
	require(e.addr == DB + 16 && e.view == 0, "doorbell 2");
	require(vmi(MON_GUEST, IPC_VMI_CHANGE_GFN, 1, PROT, ALT, 0, NULL) == STATUS_OK,
	        "change_gfn PROT -> ALT in view 1");
	e = answer(&m, IPC_VMI_SKIP, 2);
	require(e.addr == DB + 24 && e.view == 1, "doorbell 3");
	require(vmi(MON_GUEST, IPC_VMI_CHANGE_GFN, 1, PROT, IPC_VMI_GFN_RESET, 0, NULL) ==
	                STATUS_OK,
	        "change_gfn back");
	require(vmi(MON_GUEST, IPC_VMI_VIEW_DESTROY, 1, 0, 0, 0, NULL) == STATUS_BUSY,
	        "view 1 in use cannot be destroyed");
	require(vmi(MON_GUEST, IPC_VMI_VIEW_SWITCH, 0, 0, 0, 0, NULL) == STATUS_OK,
	        "the paused vCPU to view 0");
	require(vmi(MON_GUEST, IPC_VMI_VIEW_DESTROY, 1, 0, 0, 0, NULL) == STATUS_OK, "destroy 1");
	require(vmi(MON_GUEST, IPC_VMI_VIEW_CREATE, IPC_VMI_VIEWS, 7, 0, 0, NULL) ==
	                STATUS_INVALID_ARG,
	        "an 11th view is invalid");
	svc_printf("passed: change_gfn and back; view 1 destroyed once unused, view 0 never\n");
	e = answer(&m, IPC_VMI_SKIP, 0);
	/* Doorbell 4: watch CR4 writes; deny the first, allow the next two. */
	require(e.addr == DB + 32, "doorbell 4");
	require(vmi(MON_GUEST, IPC_VMI_MONITOR_REGS, 1u << IPC_VMI_REG_TTBR0, 0, 0, 0, NULL) ==
	                STATUS_INVALID_ARG,
	        "an arm64 register on x86 is invalid");
	require(vmi(MON_GUEST, IPC_VMI_MONITOR_REGS, 1u << IPC_VMI_REG_CR4, 0, 0, 0, NULL) ==
	                STATUS_OK,
	        "MONITOR_REGS CR4");
	require(vmi(MON_GUEST, IPC_VMI_MONITOR_MSR, 0x10, 1, 0, 0, NULL) == STATUS_INVALID_ARG,
	        "MONITOR_MSR of the TSC (not in the VMCB) is invalid");
	require(vmi(MON_GUEST, IPC_VMI_MONITOR_MSR, 0x176, 1, 0, 0, NULL) == STATUS_OK,
	        "MONITOR_MSR SYSENTER_EIP");
	m = (struct msg){ .label = 0, .w = { IPC_VMI_SKIP, 0 } };
	enum status s = svc_reply_recv(MON_EP_RECV, &m);
	require(s == STATUS_OK && m.label == IPC_LABEL_VMI_REG && m.w[0] == IPC_VMI_REG_CR4 &&
	                m.w[1] == (m.w[4] | 4u) && !(m.w[4] & 4u) && m.w[2] >= RAM_LO &&
	                m.w[2] < RAM_HI,
	        "a CR4 event: TSD set over the old value, from the VM's code");
	uint64_t old = m.w[4];
	svc_printf("passed: the VM's CR4 write caught with old and new values; denied\n");
	m = (struct msg){ .label = 0, .w = { IPC_VMI_SKIP, 0 } };
	s = svc_reply_recv(MON_EP_RECV, &m);
	require(s == STATUS_OK && m.label == IPC_LABEL_VMI_REG && m.w[1] == (old | 4u) &&
	                m.w[4] == old,
	        "the same write again, CR4 unchanged before it");
	m = (struct msg){ .label = 0, .w = { IPC_VMI_RETRY, 0 } };
	s = svc_reply_recv(MON_EP_RECV, &m);
	require(s == STATUS_OK && m.label == IPC_LABEL_VMI_REG && m.w[1] == old &&
	                m.w[4] == (old | 4u),
	        "the VM puts CR4 back: the allowed value was in force before it");
	m = (struct msg){ .label = 0, .w = { IPC_VMI_RETRY, 0 } };
	s = svc_reply_recv(MON_EP_RECV, &m);
	require(s == STATUS_OK && m.label == IPC_LABEL_VMI_REG &&
	                m.w[0] == (IPC_VMI_REG_MSR | UINT64_C(0x176) << 32) &&
	                m.w[1] == 0xffffffff81234000u && m.w[4] != m.w[1],
	        "a WRMSR of SYSENTER_EIP: the MSR, the value written and the one before");
	svc_printf("passed: the VM's SYSENTER_EIP write caught (old 0x%llx); denied\n",
	           (unsigned long long)m.w[4]);
	m = (struct msg){ .label = 0, .w = { IPC_VMI_SKIP, 0 } };
	s = svc_reply_recv(MON_EP_RECV, &m);
	e = decode(&m, s);
	require(e.addr == DB + 40, "doorbell 5");
	require(vmi(MON_GUEST, IPC_VMI_MONITOR_REGS, 0, 0, 0, 0, NULL) == STATUS_OK, "stop");
	require(vmi(MON_GUEST, IPC_VMI_MONITOR_MSR, 0x176, 0, 0, 0, NULL) == STATUS_OK,
	        "stop the MSR");
	svc_printf("passed: register events: CR4 denied (the old value kept), then allowed\n");
	/* Single-step the paused vCPU for three instructions, then let it run. */
	require(vmi(MON_GUEST, IPC_VMI_SINGLESTEP, 0, 2, 0, 0, NULL) == STATUS_INVALID_ARG,
	        "SINGLESTEP takes 0 or 1");
	require(vmi(MON_GUEST, IPC_VMI_SINGLESTEP, 0, 1, 0, 0, NULL) == STATUS_OK, "SINGLESTEP on");
	m = (struct msg){ .label = 0, .w = { IPC_VMI_SKIP, 0 } };
	uint64_t last = 0;
	for (unsigned i = 0; i < 3; i++) {
		s = svc_reply_recv(MON_EP_RECV, &m);
		require(s == STATUS_OK && m.label == IPC_LABEL_VMI_STEP && m.badge == MON_BADGE &&
		                m.w[2] >= RAM_LO && m.w[2] < RAM_HI && m.w[2] != last &&
		                (m.w[3] & 0xffffffffu) == 0,
		        "a step event: vCPU 0 at a new RIP in its code");
		last = m.w[2];
		if (i == 2)
			require(vmi(MON_GUEST, IPC_VMI_SINGLESTEP, 0, 0, 0, 0, NULL) == STATUS_OK,
			        "SINGLESTEP off while it waits");
		m = (struct msg){ .label = 0, .w = { IPC_VMI_RETRY, 0 } };
	}
	svc_printf("passed: single-step: three step events at three RIPs, then off\n");
	e = decode(&m, svc_reply_recv(MON_EP_RECV, &m));
	require(e.addr == PROT && e.view == 0, "phase 6: a write at PROT");
	svc_printf("dies holding the VM's write\n");
	wr(MON_STATE, 0xdead);
	__asm__ volatile("ud2");
	return 0;
}
