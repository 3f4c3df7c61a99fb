/**
 * The vmi service partition (services/vmi/main.c) under QEMU: a bare-metal VM, the service
 * (its kill-test build, vmi-crash) and two clients (platform/arm64/tests/vmisvc.dts).
 *
 *   GUEST_VMISVC_VM      the watched VM: stores and loads on pages its monitor protects, and
 *                        checks what happened to each (phases paced by notifications)
 *   GUEST_VMISVC_CLIENT  the monitor client: holds an endpoint to the service with the
 *                        monitor bit in its badge, nothing over the VM; sets access types,
 *                        takes events (GET_EVENT) and answers them (RESPOND), uses altp2m,
 *                        change_gfn, TRANSLATE and READ_VA, and last kills the service while
 *                        it holds the VM's store
 *   GUEST_VMISVC_NOCAP   a client whose badge lacks the monitor bit, and a slot with nothing
 *
 * The VM's RAM is 4 MiB at 0x100000 with its MMU off, so its virtual addresses are its
 * guest-physical ones (the walker's identity case), until the last phases: it turns its MMU
 * on (mmu_on) and the client translates an alias through its tables (HC_VMI GET_REGS).
 */
#include <ipc/vmi.h>
#include <svc/svc.h>
#include <svc_arch.h>

#include "../../../services/vmi/request.h"

#define PROT UINT64_C(0x3f0000) /* r in view 0; rwx in view 1 */
#define ALT UINT64_C(0x3e0000)  /* the frame change_gfn shows at PROT in view 1 */
#define P2 UINT64_C(0x3d0000)   /* r in view 1 only */
#define P3 UINT64_C(0x3c0000)   /* n2rwx */
#define P4 UINT64_C(0x3b0000)   /* rx2rw */
#define MAILBOX UINT64_C(0x3a0000)
#define COUNTER (MAILBOX + 16)
#define FILL UINT64_C(0x300000) /* FILL_PAGES n2rwx pages: more events than ring slots */
#define FILL_PAGES 9u
#define PN UINT64_C(0x390000) /* n: loads emulated (EMULATE_NOWRITE) */
#define PN_MAGIC UINT64_C(0x5eed5eed)
#define TTBR_A UINT64_C(0x1234000)
#define TTBR_B UINT64_C(0x2345000)
#define STEPS 3u
/*
 * Its MMU on (the last phases): 4 KiB granule, T0SZ 25 (start at level 1), the RAM mapped as
 * itself with level-2 blocks, and ALIAS_VA a level-3 page showing PROT's frame.
 */
#define TT_L1 UINT64_C(0x380000)
#define TT_L2 UINT64_C(0x381000)
#define TT_L2_HI UINT64_C(0x382000)
#define TT_L3 UINT64_C(0x383000)
#define ALIAS_VA UINT64_C(0x40000000)
#define UNMAPPED_VA UINT64_C(0x80000000)
#define ALT_MAGIC UINT64_C(0xa17a17)
#define GFN(a) ((a) >> 12)

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

#ifdef GUEST_VMISVC_VM
extern const char poke_insn[], peek_insn[], probe_land[];

/** One store at a known PC (poke_insn), which the monitor must report. */
__attribute__((noinline)) static void poke(uint64_t a, uint64_t v)
{
	__asm__ volatile(".global poke_insn\npoke_insn: str %1, [%0]"
	                 :
	                 : "r"(a), "r"(v)
	                 : "memory");
}

__attribute__((noinline)) static uint64_t peek(uint64_t a)
{
	uint64_t v;
	__asm__ volatile(".global peek_insn\npeek_insn: ldr %0, [%1]"
	                 : "=r"(v)
	                 : "r"(a)
	                 : "memory");
	return v;
}

static uint64_t rd(uint64_t a)
{
	return *(volatile uint64_t *)(uintptr_t)a;
}

static void wr(uint64_t a, uint64_t v)
{
	*(volatile uint64_t *)(uintptr_t)a = v;
}

/**
 * A load from a (x1) into x2 at probe_insn, then x0 + 1; SET_REGISTERS answering its event
 * resumes it at probe_land with x0..x2 given instead.
 */
__attribute__((noinline)) static void probe(uint64_t a, uint64_t *r0, uint64_t *r2)
{
	register uint64_t x0 __asm__("x0") = 0;
	register uint64_t x1 __asm__("x1") = a;
	register uint64_t x2 __asm__("x2") = 0;
	__asm__ volatile(".global probe_insn\nprobe_insn: ldr x2, [x1]\n add x0, x0, #1\n"
	                 ".global probe_land\nprobe_land: nop"
	                 : "+r"(x0), "+r"(x1), "+r"(x2)
	                 :
	                 : "memory");
	*r0 = x0;
	*r2 = x2;
}

static uint64_t ttbr0(void)
{
	uint64_t v;
	__asm__ volatile("mrs %0, ttbr0_el1" : "=r"(v));
	return v;
}

static void set_ttbr0(uint64_t v)
{
	__asm__ volatile("msr ttbr0_el1, %0\n isb" : : "r"(v) : "memory");
}

/** Its stage 1 on: identity for the RAM (blocks), PROT's frame at ALIAS_VA too (a page). */
static void mmu_on(void)
{
	const uint64_t table = 3u, block = 1u | 1u << 10 | 3u << 8, page = 3u | 1u << 10 | 3u << 8;
	for (uint64_t a = TT_L1; a < TT_L3 + 0x1000u; a += 8)
		wr(a, 0);
	wr(TT_L1, TT_L2 | table);
	wr(TT_L1 + 8, TT_L2_HI | table);
	for (uint64_t i = 0; i < 3u; i++)
		wr(TT_L2 + 8 * i, (i << 21) | block);
	wr(TT_L2_HI, TT_L3 | table);
	wr(TT_L3, PROT | page);
	const uint64_t tcr = 25u | 1u << 8 | 1u << 10 | 3u << 12 | 1u << 23; /* EPD1 */
	uint64_t sctlr;
	__asm__ volatile("msr mair_el1, %1\n msr tcr_el1, %2\n msr ttbr0_el1, %3\n isb\n"
	                 "tlbi vmalle1\n dsb nsh\n isb\n mrs %0, sctlr_el1"
	                 : "=&r"(sctlr)
	                 : "r"(UINT64_C(0xff)), "r"(tcr), "r"(TT_L1)
	                 : "memory");
	sctlr |= 1u | 1u << 2 | 1u << 12; /* M, C, I */
	__asm__ volatile("msr sctlr_el1, %0\n isb" : : "r"(sctlr) : "memory");
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
	wr(MAILBOX, (uint64_t)(uintptr_t)poke_insn);
	wr(MAILBOX + 8, (uint64_t)(uintptr_t)peek_insn);
	wr(MAILBOX + 24, (uint64_t)(uintptr_t)probe_land);
	wr(ALT, ALT_MAGIC);
	wr(PN, PN_MAGIC);
	(void)svc_wait(VM_GO, &bits);

	poke(PROT, 1);
	require(rd(PROT) == 0, "a denied store leaves the page as it was");
	svc_printf("passed: its store to the read-only page was denied; it runs on\n");
	poke(PROT, 2);
	require(rd(PROT) == 2, "an allowed store lands");
	svc_printf("passed: the monitor lifted the protection and allowed its next store\n");
	poke(P4, 3);
	require(rd(P4) == 3, "a store to an rx2rw page lands");
	require(peek(P3) == 0, "a load from an n2rwx page completes");
	svc_printf("passed: rx2rw and n2rwx pages: the store and the load went through\n");
	for (uint32_t i = 0; i < FILL_PAGES; i++) {
		(void)peek(FILL + i * 0x1000u);
		wr(COUNTER, i + 1u);
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

	const uint64_t t0 = ttbr0();
	set_ttbr0(TTBR_A);
	require(ttbr0() == t0, "a denied TTBR0_EL1 write leaves the register as it was");
	set_ttbr0(TTBR_B);
	require(ttbr0() == TTBR_B, "an allowed TTBR0_EL1 write is done");
	set_ttbr0(TTBR_B);
	require(ttbr0() == TTBR_B, "the same value again");
	svc_printf("passed: TTBR0_EL1 writes: denied (kept), allowed (done), the same again\n");
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
	        "set_registers: it resumed at probe_land, x0 and x2 set");
	svc_printf("passed: emulated: a store landed; emulate-nowrite: a store denied, a load "
	           "read; set_registers: resumed where told\n");
	ready_go();
	mmu_on();
	require(rd(ALIAS_VA) == rd(PROT), "ALIAS_VA shows PROT's frame");
	poke(ALIAS_VA + 8u, 11);
	require(rd(PROT + 8u) != 11, "the store through the alias was denied");
	svc_printf(
	        "passed: its MMU on; its store through an alias of PROT was caught and denied\n");
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

#if defined(GUEST_VMISVC_CLIENT) || defined(GUEST_VMISVC_NOCAP)
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

#ifdef GUEST_VMISVC_CLIENT
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

static uint64_t read_va(uint64_t va, uint32_t len)
{
	uint64_t out[IPC_MSG_WORDS] = { 0 };
	require(rq(VMI_OP_READ_VA, 0, va, len, 0, out) == VMI_OK && out[5] == len, "READ_VA");
	return out[0];
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
	svc_printf("passed: set_access r, n2rwx, rx2rw; w and pages outside the RAM refused\n");
	(void)svc_signal(CL_GO);

	struct vmi_event ev = next_event();
	uint64_t poke_pc = read_va(MAILBOX, 8);
	require(ev.reason == VMI_REASON_MEM_ACCESS && (ev.access & VMI_MA_W) != 0 &&
	                (ev.flags & VMI_EF_VCPU_PAUSED) != 0,
	        "a sync MEM_ACCESS event with W");
	require(ev.gfn == GFN(PROT) && ev.offset == 0 && ev.vcpu == 0 && ev.view == 0,
	        "the event's frame, offset, vCPU and view");
	require(ev.pc == poke_pc, "the event carries the writer's PC");
	require((read_va(ev.pc, 4) & 0xffc00000u) == 0xf9000000u,
	        "READ_VA at the PC finds a 64-bit store (STR immediate)");
	require(rq(VMI_OP_TRANSLATE, 0, PROT + 0x18, 0, 0, out) == VMI_OK && out[0] == PROT + 0x18,
	        "TRANSLATE with the MMU off is the identity");
	svc_printf("passed: the VM's store caught: W, gfn 0x%llx, writer's PC 0x%llx (a STR)\n",
	           (unsigned long long)ev.gfn, (unsigned long long)ev.pc);
	respond(&ev, VMI_EF_VCPU_PAUSED | VMI_EF_DENY, 0);

	ev = next_event();
	require(ev.gfn == GFN(PROT) && (ev.access & VMI_MA_W) != 0, "the second store caught");
	set(0, PROT, VMI_ACCESS_RWX);
	respond(&ev, VMI_EF_VCPU_PAUSED, 0);
	/*
	 * The VM loads from P3 (an event), then from FILL_PAGES pages: the ring (8 slots) is
	 * full with the 8th event (FILL's 7th page), which pauses the VM (Xen: free slots <
	 * vCPUs) until one is taken. Nothing is taken until the VM has done FILL's 6th load.
	 * What this checks is that no event is lost or reordered across the full ring and the
	 * VM goes on; that the VM stood still meanwhile is not observable here (the rule itself
	 * is test_vmi_engine's).
	 */
	while (read_va(COUNTER, 8) < VMI_RING_SLOTS - 2u)
		svc_yield();
	ev = next_event();
	uint64_t peek_pc = read_va(MAILBOX + 8, 8);
	require(ev.gfn == GFN(P3) && (ev.access & VMI_MA_R) != 0 &&
	                (ev.flags & VMI_EF_VCPU_PAUSED) == 0 && ev.pc == peek_pc,
	        "n2rwx: a load event without a pause, with the reader's PC");
	for (uint32_t i = 0; i < FILL_PAGES; i++) {
		ev = next_event();
		require(ev.gfn == GFN(FILL) + i && (ev.flags & VMI_EF_VCPU_PAUSED) == 0,
		        "the FILL pages' events, in order");
	}
	uint64_t bits;
	(void)svc_wait(CL_READY, &bits);
	require(read_va(COUNTER, 8) == FILL_PAGES, "the VM went through every FILL page");
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
	for (uint64_t v = 1; v < VMI_MAX_VIEWS; v++)
		require(rq(VMI_OP_ALTP2M_CREATE, VMI_ACCESS_RWX, 0, 0, 0, out) == VMI_OK &&
		                out[0] == v,
		        "views 1..9 created");
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
	require(rq(VMI_OP_MONITOR_REG, VMI_REG_ARM_VBAR, sync, 0, 0, NULL) == VMI_EOPNOTSUPP,
	        "VBAR_EL1 cannot be monitored (ARMv8.0 cannot trap its writes)");
	require(rq(VMI_OP_MONITOR_REG, VMI_REG_X86_CR0, sync, 0, 0, NULL) == VMI_EOPNOTSUPP,
	        "an x86 register on arm64: -EOPNOTSUPP");
	require(rq(VMI_OP_MONITOR_MSR, 0x10, 1, 0, 0, NULL) == VMI_EOPNOTSUPP,
	        "MSRs on arm64: -EOPNOTSUPP");
	require(rq(VMI_OP_MONITOR_REG, VMI_REG_ARM_TTBR0, sync | VMI_MON_ONCHANGEONLY, 0, 0,
	           NULL) == VMI_OK,
	        "monitor TTBR0_EL1");
	require(rq(VMI_OP_MONITOR_REG, VMI_REG_ARM_TTBR0, sync, 0, 0, NULL) == VMI_EEXIST,
	        "monitor TTBR0_EL1 again: -EEXIST");
	(void)svc_signal(CL_GO);
	struct vmi_event ev = next_event();
	require(ev.reason == VMI_REASON_WRITE_REG && ev.index == VMI_REG_ARM_TTBR0 &&
	                ev.new_value == TTBR_A && (ev.flags & VMI_EF_VCPU_PAUSED) != 0,
	        "a sync WRITE_REG event: TTBR0_EL1, the value written");
	const uint64_t old = ev.old_value;
	respond(&ev, VMI_EF_VCPU_PAUSED | VMI_EF_DENY, 0);
	ev = next_event();
	require(ev.reason == VMI_REASON_WRITE_REG && ev.new_value == TTBR_B && ev.old_value == old,
	        "the next write: the old value still the one before the denied write");
	respond(&ev, VMI_EF_VCPU_PAUSED, 0);
	(void)svc_wait(CL_READY, &bits);
	require(rq(VMI_OP_GET_EVENT, 0, 0, 0, 0, NULL) == VMI_ENOENT,
	        "onchangeonly: writing the same value sent no event");
	require(rq(VMI_OP_MONITOR_REG, VMI_REG_ARM_TTBR0, 0, 0, 0, NULL) == VMI_OK,
	        "TTBR0_EL1 no longer monitored");
	svc_printf("passed: TTBR0_EL1 writes: 0x%llx denied (old 0x%llx kept), the next allowed, "
	           "the same value again no event\n",
	           (unsigned long long)TTBR_A, (unsigned long long)old);

	/* Single-step: turned on by the answer to the store's event, off by the third step's. */
	require(rq(VMI_OP_MONITOR_SINGLESTEP, 1, 0, 0, 0, NULL) == VMI_OK, "singlestep monitor");
	(void)svc_signal(CL_GO);
	ev = next_event();
	const uint64_t poke_pc = read_va(MAILBOX, 8);
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
		require(ev.gfn == GFN(ev.pc), "the step event's frame: its PC's (the identity)");
		respond(&ev, VMI_EF_VCPU_PAUSED | (i == STEPS - 1u ? VMI_EF_TOGGLE_SINGLESTEP : 0u),
		        0);
	}
	require(pcs[0] == poke_pc + 4u, "the first step: after the store");
	require(pcs[1] != pcs[0] && pcs[2] != pcs[1], "each step one instruction on");
	(void)svc_wait(CL_READY, &bits);
	require(rq(VMI_OP_GET_EVENT, 0, 0, 0, 0, NULL) == VMI_ENOENT, "toggled off: no more steps");
	require(rq(VMI_OP_MONITOR_SINGLESTEP, 0, 0, 0, 0, NULL) == VMI_OK, "singlestep off");
	svc_printf("passed: single-step toggled by responses: %u SINGLESTEP events, the first at "
	           "the store's PC + 4, then off\n",
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
	/* SET_REGISTERS (with DENY): it resumes at probe_land with x0..x2 = 0x77, PN, 0x11. */
	ev = next_event();
	require(ev.gfn == GFN(PN) && (ev.access & VMI_MA_R) != 0, "the probe's load caught");
	struct msg sr = {
		.label = VMI_OP_RESPOND,
		.w = { ev.vcpu | (uint64_t)(VMI_EF_VCPU_PAUSED | VMI_EF_DENY | VMI_EF_SET_REGISTERS)
		                         << 32,
		       VMI_EVENT_VERSION, read_va(MAILBOX + 24, 8), 0x77, PN, 0x11 }
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

	/* Its MMU on: the walk uses the registers the kernel gives for the paused vCPU. */
	uint64_t out[IPC_MSG_WORDS] = { 0 };
	(void)svc_signal(CL_GO);
	ev = next_event();
	require(ev.gfn == GFN(PROT) && ev.offset == 8 && (ev.access & VMI_MA_W) != 0 &&
	                (ev.access & VMI_MA_GLA_VALID) != 0 && ev.gla == ALIAS_VA + 8u,
	        "the store through the alias: PROT's frame, the alias's virtual address");
	require(rq(VMI_OP_TRANSLATE, 0, ev.gla, 0, 0, out) == VMI_OK && out[0] == PROT + 8u &&
	                out[1] == 0x1000u && (out[2] >> 8) == 3u,
	        "TRANSLATE of the alias: PROT + 8, a 4 KiB page at level 3");
	const uint64_t alias_gpa = out[0];
	require(rq(VMI_OP_TRANSLATE, 0, UNMAPPED_VA, 0, 0, out) == VMI_ENOENT,
	        "TRANSLATE of an unmapped address: -ENOENT");
	require(read_va(ALIAS_VA, 8) == 9u, "READ_VA through the alias reads PROT");
	require((read_va(ev.pc, 4) & 0xffc00000u) == 0xf9000000u,
	        "READ_VA at the PC (mapped as itself) finds the STR");
	respond(&ev, VMI_EF_VCPU_PAUSED | VMI_EF_DENY, 0);
	(void)svc_wait(CL_READY, &bits);
	svc_printf("passed: MMU on: the event's address 0x%llx translates to 0x%llx (level 3), "
	           "READ_VA through it\n",
	           (unsigned long long)(ALIAS_VA + 8u), (unsigned long long)alias_gpa);
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

#ifdef GUEST_VMISVC_NOCAP
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
	require(req(NC_SVC, VMI_OP_READ_VA, 0, MAILBOX, 8, 0, out) == VMI_EPERM,
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
