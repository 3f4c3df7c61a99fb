/**
 * The vmi service partition (services/vmi/main.c) on x86 under QEMU: a bare-metal VM, the
 * service (its kill-test build, vmi-crash) and two clients (platform/x86/tests/vmisvc.dts),
 * the phases of platform/arm64/tests/vmisvc_guest.c on SVM's nested paging.
 *
 *   VMISVC_VM      the watched VM (64-bit, paging on, built on vapic/guest.c): stores and
 *                  loads on pages its monitor protects, and checks what happened to each
 *                  (phases paced by notifications)
 *   VMISVC_CLIENT  the monitor client: holds an endpoint to the service with the monitor bit
 *                  in its badge, nothing over the VM; sets access types, takes events
 *                  (GET_EVENT) and answers them (RESPOND), uses altp2m and change_gfn, and
 *                  last kills the service while it holds the VM's store
 *   VMISVC_NOCAP   a client whose badge lacks the monitor bit, and a slot with nothing
 *
 * What differs from arm64: the VM's paging is on (crt0's identity map), so its badge has no
 * VMI_GUEST_FLAT: TRANSLATE / READ_VA are -EBUSY until it pauses on an event, then walk its
 * tables with the CR3 the kernel gives (HC_VMI GET_REGS). The client learns the VM's store
 * and load RIPs, and how far it got, from a shared page (MAILBOX, the test's own channel: the
 * client holds nothing over the VM). A denied
 * store is stepped over because it is a plain MOV, which the kernel's exit path decodes.
 */
#include <ipc/vmi.h>
#include <svc/svc.h>

#include "../../../../services/vmi/request.h"

#define PROT UINT64_C(0x3f0000) /* r in view 0; rwx in view 1 */
#define ALT UINT64_C(0x3e0000)  /* the frame change_gfn shows at PROT in view 1 */
#define P2 UINT64_C(0x3d0000)   /* r in view 1 only */
#define P3 UINT64_C(0x3c0000)   /* n2rwx */
#define P4 UINT64_C(0x3b0000)   /* rx2rw */
#define FILL UINT64_C(0x300000) /* FILL_PAGES n2rwx pages: more events than ring slots */
#define FILL_PAGES 9u
#define PN UINT64_C(0x390000) /* n: loads emulated (EMULATE_NOWRITE) */
#define PN_MAGIC UINT64_C(0x5eed5eed)
#define CR4_TSD UINT64_C(4)
#define MSR_LSTAR 0xc0000082u
#define LSTAR_A UINT64_C(0xffffffff81000000)
#define LSTAR_B UINT64_C(0xffffffff81001000)
#define STEPS 3u
#define ALT_MAGIC UINT64_C(0xa17a17)
#define GFN(a) ((a) >> 12)
/* The shared page (vmisvc.dts): the VM's at 0x600000, the client's at 0x200000. */
#define MB_POKE 0u     /* the RIP of the VM's store */
#define MB_PEEK 8u     /* the RIP of its load */
#define MB_COUNTER 16u /* FILL pages loaded */
#define MB_LAND 24u    /* where SET_REGISTERS resumes the probe (probe_land) */

/* VM slots */
#define VM_GO 0u
#define VM_READY 1u
/* client slots */
#define CL_SVC 0u
#define CL_GO 1u
#define CL_READY 2u
#define CL_EVENTS 3u
/* nocap slots */
#define NC_SVC 0u
#define NC_EMPTY 5u

static void require(bool ok, const char *what)
{
	if (ok)
		return;
	svc_printf("FAILED: %s\n", what);
	svc_exit(1);
}

static inline uint64_t rd(uint64_t a)
{
	return *(volatile uint64_t *)(uintptr_t)a;
}

static inline void wr(uint64_t a, uint64_t v)
{
	*(volatile uint64_t *)(uintptr_t)a = v;
}

#ifdef VMISVC_VM
#include "../vapic/guest.h"

#define MAILBOX UINT64_C(0x600000)

extern const char poke_insn[], peek_insn[], probe_land[];

/**
 * A load from a (RBX) into RCX at probe_insn, then RAX + 1; SET_REGISTERS answering its
 * event resumes it at probe_land with RAX, RBX, RCX given instead.
 */
__attribute__((noinline)) static void probe(uint64_t a, uint64_t *rax_out, uint64_t *rcx_out)
{
	uint64_t rax = 0, rbx = a, rcx = 0;
	__asm__ volatile(".global probe_insn\nprobe_insn: movq (%%rbx), %%rcx\n incq %%rax\n"
	                 ".global probe_land\nprobe_land: nop"
	                 : "+a"(rax), "+b"(rbx), "+c"(rcx)
	                 :
	                 : "memory");
	*rax_out = rax;
	*rcx_out = rcx;
}

void guest_interrupt(uint8_t vector)
{
	(void)vector;
	apic_write(APIC_EOI, 0);
}

/** One store at a known RIP (poke_insn), a MOV the kernel decodes, which the monitor sees. */
__attribute__((noinline)) static void poke(uint64_t a, uint64_t v)
{
	__asm__ volatile(".global poke_insn\npoke_insn: movq %1, (%0)"
	                 :
	                 : "r"(a), "r"(v)
	                 : "memory");
}

__attribute__((noinline)) static uint64_t peek(uint64_t a)
{
	uint64_t v;
	__asm__ volatile(".global peek_insn\npeek_insn: movq (%1), %0"
	                 : "=r"(v)
	                 : "r"(a)
	                 : "memory");
	return v;
}

static uint64_t cr4(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static void set_cr4(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static uint64_t rdmsr64(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static void wrmsr64(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr"
	                 :
	                 : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
	                 : "memory");
}

static void ready_go(void)
{
	uint64_t bits;
	(void)svc_signal(VM_READY);
	(void)svc_wait(VM_GO, &bits);
}

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t bits;
	wr(MAILBOX + MB_POKE, (uint64_t)(uintptr_t)poke_insn);
	wr(MAILBOX + MB_PEEK, (uint64_t)(uintptr_t)peek_insn);
	wr(MAILBOX + MB_LAND, (uint64_t)(uintptr_t)probe_land);
	wr(ALT, ALT_MAGIC);
	wr(PN, PN_MAGIC);
	(void)svc_wait(VM_GO, &bits);

	poke(PROT, 1);
	require(rd(PROT) == 0, "a denied store leaves the page as it was");
	svc_printf(
	        "passed: its store to the read-only page was denied (stepped over); it runs on\n");
	poke(PROT, 2);
	require(rd(PROT) == 2, "an allowed store lands");
	svc_printf("passed: the monitor lifted the protection and allowed its next store\n");
	poke(P4, 3);
	require(rd(P4) == 3, "a store to an rx2rw page lands");
	require(peek(P3) == 0, "a load from an n2rwx page completes");
	svc_printf("passed: rx2rw and n2rwx pages: the store and the load went through\n");
	for (uint32_t i = 0; i < FILL_PAGES; i++) {
		(void)peek(FILL + i * 0x1000u);
		wr(MAILBOX + MB_COUNTER, i + 1u);
	}
	svc_printf("passed: %u loads from n2rwx pages, more than the ring holds, went through\n",
	           FILL_PAGES);
	ready_go();

	poke(PROT, 4);
	require(rd(PROT) == 4, "a store answered with a switch to view 1 lands");
	poke(P2, 5);
	require(rd(P2) == 5, "a store answered with a switch back to view 0 lands");
	svc_printf("passed: stores answered with view switches (0 -> 1 -> 0) landed\n");
	ready_go();
	require(rd(PROT) == ALT_MAGIC, "view 1 shows ALT's frame at PROT");
	svc_printf("passed: change_gfn: in view 1 PROT shows another frame\n");
	ready_go();
	require(rd(PROT) == 4, "back in view 0 PROT is its own frame");
	svc_printf("passed: back in view 0 with its own frame\n");
	ready_go();

	const uint64_t c0 = cr4();
	set_cr4(c0 | CR4_TSD);
	require(cr4() == c0, "a denied CR4 write leaves the register as it was");
	set_cr4(c0 | CR4_TSD);
	require(cr4() == (c0 | CR4_TSD), "an allowed CR4 write is done");
	set_cr4(c0 | CR4_TSD);
	require(cr4() == (c0 | CR4_TSD), "the same value again");
	set_cr4(c0);
	require(cr4() == c0, "TSD cleared again");
	svc_printf("passed: CR4 writes: denied (kept), allowed (done), the same again, cleared\n");
	const uint64_t l0 = rdmsr64(MSR_LSTAR);
	wrmsr64(MSR_LSTAR, LSTAR_A);
	require(rdmsr64(MSR_LSTAR) == l0, "a denied LSTAR write leaves the MSR as it was");
	wrmsr64(MSR_LSTAR, LSTAR_B);
	require(rdmsr64(MSR_LSTAR) == LSTAR_B, "an allowed LSTAR write is done");
	wrmsr64(MSR_LSTAR, l0);
	require(rdmsr64(MSR_LSTAR) == l0, "LSTAR put back");
	svc_printf("passed: LSTAR writes: denied (kept), allowed (done), put back\n");
	ready_go();
	poke(PROT, 8);
	require(rd(PROT) == 8, "the stepped store lands");
	svc_printf("passed: stepped after its store, then ran on\n");
	ready_go();
	poke(PROT, 9);
	require(rd(PROT) == 9, "an emulated store lands");
	poke(PROT, 10);
	require(rd(PROT) == 9, "a store answered with emulate-nowrite has no effect");
	require(peek(PN) == PN_MAGIC, "a load answered with emulate-nowrite reads the page");
	uint64_t r0, r2;
	probe(PN, &r0, &r2);
	require(r0 == 0x77u && r2 == 0x11u,
	        "set_registers: it resumed at probe_land, RAX and RCX set");
	svc_printf("passed: emulated: a store landed; emulate-nowrite: a store denied, a load "
	           "read; set_registers: resumed where told\n");
	ready_go();

	poke(PROT, 6);
	require(rd(PROT) == 6, "the store held by the dead service lands");
	uint64_t spins = 0;
	for (uint32_t i = 0; i < 1000; i++)
		spins += rd(PROT) == 6;
	require(spins == 1000, "the VM runs on");
	svc_printf("passed: the service died holding its store: the store landed, it runs on\n");
	ready_go();
	poke(PROT, 7);
	require(rd(PROT) == 6, "the successor's client denied the store");
	svc_printf("passed: the restarted service caught and denied its next store\n");
	(void)svc_signal(VM_READY);
	svc_printf("all done\n");
	return 0;
}
#endif

#if defined(VMISVC_CLIENT) || defined(VMISVC_NOCAP)
/** One request: the status (the reply's label, or -1000 - the kernel's status), words out. */
static int64_t req(uint32_t slot, uint64_t label, uint64_t w0, uint64_t w1, uint64_t w2,
                   uint64_t w3, uint64_t *out)
{
	struct msg m = { .label = label, .w = { w0, w1, w2, w3 } };
	enum status s = svc_call(slot, &m);
	if (s != STATUS_OK)
		return -1000 - (int64_t)s;
	if (out != NULL)
		for (uint32_t i = 0; i < IPC_MSG_WORDS; i++)
			out[i] = m.w[i];
	return VMI_LABEL_STATUS(m.label);
}
#endif

#ifdef VMISVC_CLIENT
#define MAILBOX UINT64_C(0x200000)

static int64_t rq(uint64_t label, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3, uint64_t *out)
{
	return req(CL_SVC, label, w0, w1, w2, w3, out);
}

static void set(uint32_t view, uint64_t addr, uint32_t access)
{
	require(rq(VMI_OP_SET_ACCESS, view, GFN(addr), 1, access, NULL) == VMI_OK, "set_access");
}

static uint64_t get(uint32_t view, uint64_t addr)
{
	uint64_t out[IPC_MSG_WORDS] = { 0 };
	require(rq(VMI_OP_GET_ACCESS, view, GFN(addr), 0, 0, out) == VMI_OK, "get_access");
	return out[0];
}

/** The next event, waiting for the service's signal. */
static struct vmi_event next_event(void)
{
	uint64_t out[IPC_MSG_WORDS] = { 0 }, bits;
	for (;;) {
		int64_t rc = rq(VMI_OP_GET_EVENT, 0, 0, 0, 0, out);
		if (rc == VMI_OK) {
			struct vmi_event ev;
			vmi_event_decode(out, &ev);
			return ev;
		}
		require(rc == VMI_ENOENT, "GET_EVENT: an event or none");
		(void)svc_wait(CL_EVENTS, &bits);
	}
}

static void respond(const struct vmi_event *ev, uint32_t flags, uint32_t view)
{
	int64_t rc = rq(VMI_OP_RESPOND, ev->vcpu | (uint64_t)flags << 32,
	                VMI_EVENT_VERSION | (uint64_t)view << 32, 0, 0, NULL);
	require(rc == VMI_OK, "RESPOND");
}

static void go_ready(void)
{
	uint64_t bits;
	(void)svc_signal(CL_GO);
	(void)svc_wait(CL_READY, &bits);
}

/** A view switch of every vCPU; the VM may still be on its CPU for a moment: try again. */
static int64_t switch_view(uint32_t view)
{
	int64_t rc = VMI_EBUSY;
	for (uint32_t i = 0; i < 1000 && rc == VMI_EBUSY; i++) {
		rc = rq(VMI_OP_ALTP2M_SWITCH, view, 0, 0, 0, NULL);
		if (rc == VMI_EBUSY)
			svc_yield();
	}
	return rc;
}

static void phase_access(void)
{
	uint64_t out[IPC_MSG_WORDS] = { 0 };
	require(rq(VMI_OP_RING_ENABLE, 0, 0, 0, 0, NULL) == VMI_OK, "ring enable");
	require(rq(VMI_OP_RING_ENABLE, 0, 0, 0, 0, NULL) == VMI_EBUSY, "a second ring: -EBUSY");
	set(0, PROT, VMI_ACCESS_R);
	set(0, P3, VMI_ACCESS_N2RWX);
	set(0, P4, VMI_ACCESS_RX2RW);
	require(rq(VMI_OP_SET_ACCESS, 0, GFN(FILL), FILL_PAGES, VMI_ACCESS_N2RWX, NULL) == VMI_OK,
	        "set_access n2rwx on a range");
	require(rq(VMI_OP_SET_ACCESS, 0, GFN(PROT), 1, VMI_ACCESS_W, NULL) == VMI_EINVAL,
	        "w (write without read) is refused");
	require(rq(VMI_OP_SET_ACCESS, 0, GFN(0x10000000), 1, VMI_ACCESS_R, NULL) == VMI_EINVAL,
	        "a page outside the VM's RAM is refused");
	require(get(0, PROT) == VMI_ACCESS_R && get(0, P4) == VMI_ACCESS_RX2RW, "get_access");
	require(rq(VMI_OP_TRANSLATE, 0, PROT, 0, 0, out) == VMI_EBUSY,
	        "TRANSLATE before the vCPU ever paused on an event: -EBUSY (no registers yet)");
	svc_printf("passed: set_access r, n2rwx, rx2rw; w and pages outside the RAM refused\n");
	(void)svc_signal(CL_GO);

	struct vmi_event ev = next_event();
	require(ev.reason == VMI_REASON_MEM_ACCESS && (ev.access & VMI_MA_W) != 0 &&
	                (ev.flags & VMI_EF_VCPU_PAUSED) != 0,
	        "a sync MEM_ACCESS event with W");
	require(ev.gfn == GFN(PROT) && ev.offset == 0 && ev.vcpu == 0 && ev.view == 0,
	        "the event's frame, offset, vCPU and view");
	require(ev.pc == rd(MAILBOX + MB_POKE), "the event carries the writer's RIP");
	require(rq(VMI_OP_TRANSLATE, 0, PROT + 0x18u, 0, 0, out) == VMI_OK &&
	                out[0] == PROT + 0x18u && (out[2] >> 8) >= 1u,
	        "TRANSLATE with the paused vCPU's CR3: crt0's identity map");
	require(rq(VMI_OP_READ_VA, 0, ev.pc, 2, 0, out) == VMI_OK && out[5] == 2 &&
	                (out[0] & 0xf8u) == 0x48u && ((out[0] >> 8) & 0xffu) == 0x89u,
	        "READ_VA at the RIP finds the store (REX.W 89: MOV r/m64, r64)");
	svc_printf("passed: the VM's store caught: W, gfn 0x%llx, writer's RIP 0x%llx (a MOV, "
	           "read through its page tables)\n",
	           (unsigned long long)ev.gfn, (unsigned long long)ev.pc);
	respond(&ev, VMI_EF_VCPU_PAUSED | VMI_EF_DENY, 0);

	ev = next_event();
	require(ev.gfn == GFN(PROT) && (ev.access & VMI_MA_W) != 0, "the second store caught");
	set(0, PROT, VMI_ACCESS_RWX);
	respond(&ev, VMI_EF_VCPU_PAUSED, 0);
	/* As on arm64: nothing is taken until the VM has done FILL's 6th load (the 8-slot ring). */
	while (rd(MAILBOX + MB_COUNTER) < VMI_RING_SLOTS - 2u)
		svc_yield();
	ev = next_event();
	require(ev.gfn == GFN(P3) && (ev.access & VMI_MA_R) != 0 &&
	                (ev.flags & VMI_EF_VCPU_PAUSED) == 0 && ev.pc == rd(MAILBOX + MB_PEEK),
	        "n2rwx: a load event without a pause, with the reader's RIP");
	for (uint32_t i = 0; i < FILL_PAGES; i++) {
		ev = next_event();
		require(ev.gfn == GFN(FILL) + i && (ev.flags & VMI_EF_VCPU_PAUSED) == 0,
		        "the FILL pages' events, in order");
	}
	uint64_t bits;
	(void)svc_wait(CL_READY, &bits);
	require(rd(MAILBOX + MB_COUNTER) == FILL_PAGES, "the VM went through every FILL page");
	require(rq(VMI_OP_GET_EVENT, 0, 0, 0, 0, NULL) == VMI_ENOENT, "rx2rw sent no event");
	require(get(0, P3) == VMI_ACCESS_RWX && get(0, P4) == VMI_ACCESS_RW,
	        "n2rwx became rwx, rx2rw became rw");
	require(rq(VMI_OP_RESPOND, (uint64_t)VMI_EF_VCPU_PAUSED << 32, VMI_EVENT_VERSION, 0, 0,
	           NULL) == VMI_IGNORED,
	        "a response to a vCPU not paused is ignored");
	require(rq(VMI_OP_RESPOND, (uint64_t)(VMI_EF_VCPU_PAUSED | VMI_EF_EMULATE) << 32,
	           VMI_EVENT_VERSION, 0, 0, NULL) == VMI_IGNORED,
	        "an emulate response to a vCPU not paused is ignored");
	svc_printf("passed: rx2rw silently rw; n2rwx rwx with an event that did not pause\n");
	svc_printf("passed: %u n2rwx events through the 8-slot ring, in order, none lost; the VM "
	           "went on\n",
	           FILL_PAGES);
}

static void phase_altp2m(void)
{
	uint64_t out[IPC_MSG_WORDS] = { 0 };
	set(0, PROT, VMI_ACCESS_R);
	require(rq(VMI_OP_ALTP2M_CREATE, VMI_ACCESS_RWX, 0, 0, 0, NULL) == VMI_EOPNOTSUPP,
	        "altp2m ops need altp2m active");
	require(rq(VMI_OP_ALTP2M_STATE, 1, 0, 0, 0, NULL) == VMI_OK, "altp2m on");
	require(rq(VMI_OP_ALTP2M_CREATE, VMI_ACCESS_RWX, 0, 0, 0, out) == VMI_OK && out[0] == 1,
	        "view 1 created");
	set(1, PROT, VMI_ACCESS_RWX);
	set(1, P2, VMI_ACCESS_R);
	(void)svc_signal(CL_GO);
	struct vmi_event ev = next_event();
	require(ev.gfn == GFN(PROT) && ev.view == 0, "the store to PROT caught in view 0");
	respond(&ev, VMI_EF_VCPU_PAUSED | VMI_EF_ALTERNATE_P2M, 1);
	ev = next_event();
	require(ev.gfn == GFN(P2) && ev.view == 1, "the store to P2 caught in view 1");
	respond(&ev, VMI_EF_VCPU_PAUSED | VMI_EF_ALTERNATE_P2M, 0);
	uint64_t bits;
	(void)svc_wait(CL_READY, &bits);
	svc_printf("passed: per-view access: PROT caught in view 0 only, P2 in view 1 only\n");

	require(rq(VMI_OP_CHANGE_GFN, 1, GFN(PROT), GFN(ALT), 0, NULL) == VMI_OK, "change_gfn");
	require(switch_view(1) == VMI_OK, "every vCPU to view 1");
	go_ready();
	require(rq(VMI_OP_ALTP2M_DESTROY, 0, 0, 0, 0, NULL) == VMI_EBUSY, "destroy view 0: -EBUSY");
	require(rq(VMI_OP_ALTP2M_DESTROY, 1, 0, 0, 0, NULL) == VMI_EBUSY,
	        "destroy a view in use: -EBUSY");
	require(rq(VMI_OP_CHANGE_GFN, 1, GFN(PROT), VMI_GFN_INVALID, 0, NULL) == VMI_OK,
	        "change_gfn undone");
	require(switch_view(0) == VMI_OK, "every vCPU to view 0");
	require(rq(VMI_OP_ALTP2M_DESTROY, 1, 0, 0, 0, NULL) == VMI_OK, "view 1 destroyed");
	for (uint64_t v = 1; v < VMI_MAX_VIEWS; v++) {
		int64_t rc = rq(VMI_OP_ALTP2M_CREATE, VMI_ACCESS_RWX, 0, 0, 0, out);
		if (rc != VMI_OK || out[0] != v)
			svc_printf("view %llu: %lld\n", (unsigned long long)v, (long long)rc);
		require(rc == VMI_OK && out[0] == v, "views 1..9 created");
	}
	require(rq(VMI_OP_ALTP2M_CREATE, VMI_ACCESS_RWX, 0, 0, 0, NULL) == VMI_EINVAL,
	        "an 11th view: -EINVAL");
	for (uint64_t v = 1; v < VMI_MAX_VIEWS; v++)
		require(rq(VMI_OP_ALTP2M_DESTROY, v, 0, 0, 0, NULL) == VMI_OK, "views destroyed");
	require(rq(VMI_OP_ALTP2M_STATE, 0, 0, 0, 0, NULL) == VMI_OK, "altp2m off");
	svc_printf("passed: altp2m: change_gfn, switch, destroy view 0 or one in use -EBUSY, "
	           "an 11th view -EINVAL\n");
	go_ready();
}

/** The register-write and single-step events, and emulate responses. */
static void phase_regs(void)
{
	uint64_t bits;
	const uint64_t sync = VMI_MON_ENABLE | VMI_MON_SYNC;
	require(rq(VMI_OP_MONITOR_REG, VMI_REG_X86_XCR0, sync, 0, 0, NULL) == VMI_EOPNOTSUPP,
	        "XCR0 cannot be monitored (no XSETBV intercept yet)");
	require(rq(VMI_OP_MONITOR_REG, VMI_REG_ARM_SCTLR, sync, 0, 0, NULL) == VMI_EOPNOTSUPP,
	        "an arm64 register on x86: -EOPNOTSUPP");
	require(rq(VMI_OP_MONITOR_MSR, 0x10, 1, 0, 0, NULL) == VMI_EOPNOTSUPP,
	        "the TSC: -EOPNOTSUPP (not an MSR the kernel keeps in the VMCB)");
	require(rq(VMI_OP_MONITOR_MSR, 0x50000000u, 1, 0, 0, NULL) == VMI_EINVAL,
	        "an MSR outside Xen's three ranges: -EINVAL");
	require(rq(VMI_OP_MONITOR_MSR, MSR_LSTAR, 1, 0, 0, NULL) == VMI_OK, "monitor LSTAR");
	require(rq(VMI_OP_MONITOR_MSR, MSR_LSTAR, 1, 0, 0, NULL) == VMI_EEXIST,
	        "monitor LSTAR again: -EEXIST");
	require(rq(VMI_OP_MONITOR_REG, VMI_REG_X86_CR4, sync | VMI_MON_ONCHANGEONLY, 0, 0, NULL) ==
	                VMI_OK,
	        "monitor CR4");
	require(rq(VMI_OP_MONITOR_REG, VMI_REG_X86_CR4, sync, 0, 0, NULL) == VMI_EEXIST,
	        "monitor CR4 again: -EEXIST");
	(void)svc_signal(CL_GO);
	struct vmi_event ev = next_event();
	const uint64_t old = ev.old_value;
	require(ev.reason == VMI_REASON_WRITE_REG && ev.index == VMI_REG_X86_CR4 &&
	                ev.new_value == (old | CR4_TSD) && (old & CR4_TSD) == 0 &&
	                (ev.flags & VMI_EF_VCPU_PAUSED) != 0,
	        "a sync WRITE_REG event: CR4, the value written");
	respond(&ev, VMI_EF_VCPU_PAUSED | VMI_EF_DENY, 0);
	ev = next_event();
	require(ev.reason == VMI_REASON_WRITE_REG && ev.new_value == (old | CR4_TSD) &&
	                ev.old_value == old,
	        "the next write: the old value still the one before the denied write");
	respond(&ev, VMI_EF_VCPU_PAUSED, 0);
	ev = next_event();
	require(ev.reason == VMI_REASON_WRITE_REG && ev.new_value == old &&
	                ev.old_value == (old | CR4_TSD),
	        "TSD cleared again: an event (the same value again sent none)");
	respond(&ev, VMI_EF_VCPU_PAUSED, 0);
	ev = next_event();
	const uint64_t l0 = ev.old_value;
	require(ev.reason == VMI_REASON_MOV_TO_MSR && ev.index == MSR_LSTAR &&
	                ev.new_value == LSTAR_A && (ev.flags & VMI_EF_VCPU_PAUSED) != 0,
	        "a sync MOV_TO_MSR event: LSTAR, the value written");
	respond(&ev, VMI_EF_VCPU_PAUSED | VMI_EF_DENY, 0);
	ev = next_event();
	require(ev.reason == VMI_REASON_MOV_TO_MSR && ev.new_value == LSTAR_B && ev.old_value == l0,
	        "the next LSTAR write: the old value still the one before the denied write");
	respond(&ev, VMI_EF_VCPU_PAUSED, 0);
	ev = next_event();
	require(ev.reason == VMI_REASON_MOV_TO_MSR && ev.new_value == l0 && ev.old_value == LSTAR_B,
	        "LSTAR put back: its old value the allowed write's");
	respond(&ev, VMI_EF_VCPU_PAUSED, 0);
	(void)svc_wait(CL_READY, &bits);
	require(rq(VMI_OP_GET_EVENT, 0, 0, 0, 0, NULL) == VMI_ENOENT, "nothing else queued");
	require(rq(VMI_OP_MONITOR_REG, VMI_REG_X86_CR4, 0, 0, 0, NULL) == VMI_OK,
	        "CR4 no longer monitored");
	require(rq(VMI_OP_MONITOR_MSR, MSR_LSTAR, 0, 0, 0, NULL) == VMI_OK,
	        "LSTAR no longer monitored");
	svc_printf("passed: LSTAR writes: 0x%llx denied, 0x%llx allowed, put back\n",
	           (unsigned long long)LSTAR_A, (unsigned long long)LSTAR_B);
	svc_printf("passed: CR4 writes: TSD denied (old 0x%llx kept), allowed, the same value "
	           "again no event\n",
	           (unsigned long long)old);

	/* Single-step: turned on by the answer to the store's event, off by the third step's. */
	require(rq(VMI_OP_MONITOR_SINGLESTEP, 1, 0, 0, 0, NULL) == VMI_OK, "singlestep monitor");
	(void)svc_signal(CL_GO);
	ev = next_event();
	const uint64_t poke_pc = rd(MAILBOX + MB_POKE);
	require(ev.reason == VMI_REASON_MEM_ACCESS && ev.pc == poke_pc, "the store caught");
	set(0, PROT, VMI_ACCESS_RWX);
	respond(&ev, VMI_EF_VCPU_PAUSED | VMI_EF_TOGGLE_SINGLESTEP, 0);
	uint64_t pcs[STEPS];
	for (uint32_t i = 0; i < STEPS; i++) {
		ev = next_event();
		require(ev.reason == VMI_REASON_SINGLESTEP &&
		                (ev.flags & VMI_EF_VCPU_PAUSED) != 0 && ev.vcpu == 0,
		        "a SINGLESTEP event");
		pcs[i] = ev.pc;
		respond(&ev, VMI_EF_VCPU_PAUSED | (i == STEPS - 1u ? VMI_EF_TOGGLE_SINGLESTEP : 0u),
		        0);
	}
	require(pcs[0] == poke_pc + 3u, "the first step: after the store (a 3-byte MOV)");
	require(pcs[1] != pcs[0] && pcs[2] != pcs[1], "each step one instruction on");
	(void)svc_wait(CL_READY, &bits);
	require(rq(VMI_OP_GET_EVENT, 0, 0, 0, 0, NULL) == VMI_ENOENT, "toggled off: no more steps");
	require(rq(VMI_OP_MONITOR_SINGLESTEP, 0, 0, 0, 0, NULL) == VMI_OK, "singlestep off");
	svc_printf("passed: single-step toggled by responses: %u SINGLESTEP events, the first "
	           "after the store, then off\n",
	           STEPS);

	/* Emulate: the access runs with the manifest's rights, the protection stays. */
	set(0, PROT, VMI_ACCESS_R);
	set(0, PN, VMI_ACCESS_N);
	(void)svc_signal(CL_GO);
	ev = next_event();
	require(ev.gfn == GFN(PROT) && (ev.access & VMI_MA_W) != 0, "the store to PROT caught");
	respond(&ev, VMI_EF_VCPU_PAUSED | VMI_EF_EMULATE, 0);
	ev = next_event();
	require(ev.reason == VMI_REASON_MEM_ACCESS && ev.gfn == GFN(PROT) && ev.view == 0 &&
	                (ev.access & VMI_MA_W) != 0,
	        "no event for the emulation's step; the next store caught in view 0 again");
	respond(&ev, VMI_EF_VCPU_PAUSED | VMI_EF_EMULATE_NOWRITE, 0);
	ev = next_event();
	require(ev.gfn == GFN(PN) && (ev.access & VMI_MA_R) != 0, "the load from PN caught");
	respond(&ev, VMI_EF_VCPU_PAUSED | VMI_EF_EMULATE_NOWRITE, 0);
	/* SET_REGISTERS (with DENY): it resumes at probe_land, RAX, RBX, RCX = 0x77, PN, 0x11. */
	ev = next_event();
	require(ev.gfn == GFN(PN) && (ev.access & VMI_MA_R) != 0, "the probe's load caught");
	struct msg sr = {
		.label = VMI_OP_RESPOND,
		.w = { ev.vcpu | (uint64_t)(VMI_EF_VCPU_PAUSED | VMI_EF_DENY | VMI_EF_SET_REGISTERS)
		                         << 32,
		       VMI_EVENT_VERSION, rd(MAILBOX + MB_LAND), 0x77, PN, 0x11 }
	};
	require(svc_call(CL_SVC, &sr) == STATUS_OK && VMI_LABEL_STATUS(sr.label) == VMI_OK,
	        "RESPOND with SET_REGISTERS");
	(void)svc_wait(CL_READY, &bits);
	require(rq(VMI_OP_GET_EVENT, 0, 0, 0, 0, NULL) == VMI_ENOENT, "nothing else queued");
	require(get(0, PROT) == VMI_ACCESS_R && get(0, PN) == VMI_ACCESS_N,
	        "emulation lifted no protection");
	set(0, PN, VMI_ACCESS_RWX);
	svc_printf("passed: emulate: a store ran, r kept; emulate-nowrite: a store denied, a "
	           "load done; set_registers\n");
}

static void phase_kill(void)
{
	uint64_t bits;
	set(0, PROT, VMI_ACCESS_R);
	(void)svc_signal(CL_GO);
	struct vmi_event ev = next_event();
	require(ev.gfn == GFN(PROT), "the store caught before the kill");
	svc_printf("kills the service holding the VM's store\n");
	int64_t rc = rq(99, 0, 0, 0, 0, NULL);
	require(rc == -1000 - STATUS_PEER_STOPPED, "the service died in the call");
	(void)svc_wait(CL_READY, &bits);
	require(get(0, PROT) == VMI_ACCESS_RWX, "the successor starts from the default rights");
	require(rq(VMI_OP_GET_EVENT, 0, 0, 0, 0, NULL) == VMI_ENOENT, "nothing queued");
	svc_printf("passed: successor: a fresh engine, rwx everywhere, nothing queued\n");
	require(rq(VMI_OP_RING_ENABLE, 0, 0, 0, 0, NULL) == VMI_OK, "ring enable again");
	set(0, PROT, VMI_ACCESS_R);
	(void)svc_signal(CL_GO);
	ev = next_event();
	require(ev.gfn == GFN(PROT) && (ev.access & VMI_MA_W) != 0, "caught by the successor");
	respond(&ev, VMI_EF_VCPU_PAUSED | VMI_EF_DENY, 0);
	(void)svc_wait(CL_READY, &bits);
	svc_printf("passed: the successor caught and denied the next store\n");
}

int svc_main(uint64_t arg)
{
	(void)arg;
	phase_access();
	phase_altp2m();
	phase_regs();
	phase_kill();
	svc_printf("all done\n");
	return 0;
}
#endif

#ifdef VMISVC_NOCAP
int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t out[IPC_MSG_WORDS] = { 0 };
	require(req(NC_SVC, VMI_OP_SET_ACCESS, 0, GFN(PROT), 1, VMI_ACCESS_N, NULL) == VMI_EPERM,
	        "set_access without the monitor bit");
	require(req(NC_SVC, VMI_OP_GET_ACCESS, 0, GFN(PROT), 0, 0, NULL) == VMI_EPERM,
	        "get_access without the monitor bit");
	require(req(NC_SVC, VMI_OP_GET_EVENT, 0, 0, 0, 0, NULL) == VMI_EPERM,
	        "GET_EVENT without the monitor bit");
	require(req(NC_SVC, VMI_OP_READ_VA, 0, PROT, 8, 0, out) == VMI_EPERM,
	        "READ_VA without the monitor bit");
	require(req(NC_SVC, VMI_OP_ALTP2M_STATE, 1, 0, 0, 0, NULL) == VMI_EPERM,
	        "altp2m without the monitor bit");
	require(req(NC_SVC, VMI_OP_RING_ENABLE, 0, 0, 0, 0, NULL) == VMI_EPERM,
	        "ring enable without the monitor bit");
	require(req(NC_EMPTY, VMI_OP_GET_EVENT, 0, 0, 0, 0, NULL) == -1000 - STATUS_INVALID_CAP,
	        "no capability at all");
	svc_printf("passed: a client without the monitor right is refused every operation\n");
	return 0;
}
#endif
