/**
 * Host tests of the introspection engine (services/vmi/access.c, event.c): every rule of the
 * spec's section 3 (mem_access types and violations, the ring and its pause-when-full rule,
 * responses, monitor options and their errors, altp2m views and change_gfn) plus the choices
 * docs/introspection.md records (write without read refused, the effective right is the
 * intersection with the manifest's, a disabled ring releases every vCPU).
 */
#include <string.h>

#include "tap.h"
#include "vmi.h"

#define TARGET 3
#define MON 7
#define GFNS (2u * VMI_MAX_PAGES)

static struct vmi_guest g;

static void fresh(bool x86, uint16_t vcpus)
{
	struct vmi_guest_config c = { .id = TARGET,
		                      .monitor_id = MON,
		                      .is_x86 = x86,
		                      .vcpu_count = vcpus,
		                      .gfn_count = GFNS,
		                      .ring_pfn_set = true,
		                      .altp2m_allowed = true };
	if (vmi_guest_init(&g, &c) != VMI_OK)
		printf("# init failed\n");
}

static struct vmi_fault fault(uint16_t vcpu, uint64_t gfn, unsigned access)
{
	return (struct vmi_fault){ .vcpu = vcpu,
		                   .gfn = gfn,
		                   .offset = 0x10,
		                   .access = access,
		                   .manifest = VMI_RWX,
		                   .gla_valid = true,
		                   .gla = 0xffff000000001010u,
		                   .pc = 0xffff000000080000u };
}

static enum vmi_fault_outcome violate(uint16_t vcpu, uint64_t gfn, unsigned access)
{
	struct vmi_fault f = fault(vcpu, gfn, access);
	return vmi_violation(&g, &f, NULL);
}

static struct vmi_response rsp(uint16_t vcpu, uint32_t flags)
{
	return (struct vmi_response){ .version = VMI_EVENT_VERSION, .flags = flags, .vcpu = vcpu };
}

static void test_init_and_callers(void)
{
	struct vmi_guest_config c = { .id = 1, .monitor_id = 1, .vcpu_count = 1, .gfn_count = 16 };
	EQ(vmi_guest_init(&g, &c), VMI_EINVAL, "init: a guest cannot be its own monitor");
	c.monitor_id = 2;
	c.vcpu_count = 0;
	EQ(vmi_guest_init(&g, &c), VMI_EINVAL, "init: no vCPU");
	c.vcpu_count = VMI_MAX_VCPUS + 1;
	EQ(vmi_guest_init(&g, &c), VMI_EINVAL, "init: too many vCPUs");
	c.vcpu_count = 1;
	c.gfn_count = 0;
	EQ(vmi_guest_init(&g, &c), VMI_EINVAL, "init: no memory");

	fresh(false, 1);
	EQ(vmi_set_access(&g, TARGET, 0, 1, 1, VMI_ACCESS_R), VMI_EPERM,
	   "own domain: set_access -EPERM");
	EQ(vmi_monitor_reg(&g, TARGET, VMI_REG_ARM_SCTLR, true, true, false, 0), VMI_EPERM,
	   "own domain: monitor op -EPERM");
	EQ(vmi_ring_enable(&g, TARGET), VMI_EINVAL, "own domain: ring enable -EINVAL (Xen)");
	EQ(vmi_altp2m_set_state(&g, TARGET, true), VMI_EPERM, "own domain: altp2m -EPERM");
	EQ(vmi_set_access(&g, 9, 0, 1, 1, VMI_ACCESS_R), VMI_EPERM,
	   "a partition without the monitor right: -EPERM");
	EQ(vmi_ring_enable(&g, 9), VMI_EPERM, "  ring enable too");
	struct vmi_action a;
	struct vmi_response r = rsp(0, VMI_EF_VCPU_PAUSED);
	EQ(vmi_respond(&g, 9, &r, &a), VMI_EPERM, "  and responses");
}

static void test_access_types(void)
{
	fresh(false, 1);
	static const struct {
		uint32_t type;
		unsigned rights;
	} t[] = {
		{ VMI_ACCESS_N, 0 },
		{ VMI_ACCESS_R, VMI_R },
		{ VMI_ACCESS_RW, VMI_R | VMI_W },
		{ VMI_ACCESS_X, VMI_X },
		{ VMI_ACCESS_RX, VMI_R | VMI_X },
		{ VMI_ACCESS_RWX, VMI_RWX },
		{ VMI_ACCESS_RX2RW, VMI_R | VMI_X },
		{ VMI_ACCESS_N2RWX, 0 },
	};
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char name[96];
		snprintf(name, sizeof(name), "type %u: set", t[i].type);
		EQ(vmi_set_access(&g, MON, 0, 100 + i, 1, t[i].type), VMI_OK, name);
		uint32_t got = 99;
		snprintf(name, sizeof(name), "type %u: get returns it", t[i].type);
		OK(vmi_get_access(&g, MON, 0, 100 + i, &got) == VMI_OK && got == t[i].type, name);
		snprintf(name, sizeof(name), "type %u: effective rights with a rwx manifest",
		         t[i].type);
		EQ(vmi_effective(&g, 0, 100 + i, VMI_RWX), t[i].rights, name);
		snprintf(name, sizeof(name), "type %u: effective = intersection with manifest r-x",
		         t[i].type);
		EQ(vmi_effective(&g, 0, 100 + i, VMI_R | VMI_X), t[i].rights & (VMI_R | VMI_X),
		   name);
	}
	EQ(vmi_set_access(&g, MON, 0, 5, 1, VMI_ACCESS_W), VMI_EINVAL,
	   "w (write without read): -EINVAL");
	EQ(vmi_set_access(&g, MON, 0, 5, 1, VMI_ACCESS_WX), VMI_EINVAL, "wx: -EINVAL");
	EQ(vmi_set_access(&g, MON, 0, 5, 1, 11), VMI_EINVAL, "unknown type: -EINVAL");
	EQ(vmi_set_access(&g, MON, 0, GFNS, 1, VMI_ACCESS_R), VMI_EINVAL,
	   "gfn outside guest: -EINVAL");
	EQ(vmi_set_access(&g, MON, 0, GFNS - 2, 3, VMI_ACCESS_R), VMI_EINVAL,
	   "range running past the guest: -EINVAL");
	EQ(vmi_set_access(&g, MON, 0, 1, 0, VMI_ACCESS_R), VMI_EINVAL, "empty range: -EINVAL");
	EQ(vmi_set_access(&g, MON, 0, 1, ~UINT64_C(0), VMI_ACCESS_R), VMI_EINVAL,
	   "huge range: -EINVAL");
	uint32_t got;
	EQ(vmi_get_access(&g, MON, 0, 5, &got), VMI_OK, "untouched page: get");
	EQ(got, VMI_ACCESS_RWX, "  the default rwx");

	EQ(vmi_set_access(&g, MON, 0, VMI_GFN_DEFAULT, 0, VMI_ACCESS_R), VMI_OK,
	   "pfn ~0 sets the default");
	EQ(vmi_effective(&g, 0, 5, VMI_RWX), VMI_R, "  untouched pages follow it");
	EQ(vmi_effective(&g, 0, 105, VMI_RWX), VMI_R | VMI_W | VMI_X,
	   "  pages with their own setting keep it");
	EQ(vmi_set_access(&g, MON, 0, VMI_GFN_DEFAULT, 0, VMI_ACCESS_DEFAULT), VMI_EINVAL,
	   "the default cannot be 'default'");
	EQ(vmi_set_access(&g, MON, 0, 100, 8, VMI_ACCESS_DEFAULT), VMI_OK,
	   "'default' on pages drops their own settings");
	EQ(vmi_effective(&g, 0, 105, VMI_RWX), VMI_R, "  they follow the default again");
	EQ(g.views[0].page_count, 0, "  no entries left");

	EQ(vmi_set_access(&g, MON, 0, 0, VMI_MAX_PAGES, VMI_ACCESS_RX), VMI_OK,
	   "a full view's worth of pages");
	EQ(vmi_set_access(&g, MON, 0, VMI_MAX_PAGES, 1, VMI_ACCESS_RX), VMI_ENOMEM,
	   "one more: -ENOMEM");
	EQ(vmi_effective(&g, 0, VMI_MAX_PAGES, VMI_RWX), VMI_R, "  and nothing changed");
	EQ(vmi_set_access(&g, MON, 0, 3, 2, VMI_ACCESS_N), VMI_OK,
	   "changing pages that have entries still works when full");
	EQ(vmi_effective(&g, 0, 4, VMI_RWX), 0, "  page 4 is n");
	EQ(vmi_set_access(&g, MON, 1, 3, 1, VMI_ACCESS_N), VMI_EOPNOTSUPP,
	   "a view other than 0 without altp2m: -EOPNOTSUPP");
}

static void test_violations(void)
{
	fresh(false, 2);
	bool rp;
	EQ(vmi_ring_enable(&g, MON), VMI_OK, "ring enabled");
	vmi_set_access(&g, MON, 0, 10, 1, VMI_ACCESS_R);
	struct vmi_fault f = fault(1, 10, VMI_W);
	EQ(vmi_violation(&g, &f, &rp), VMI_FO_PAUSED, "write to an r page: sync event");
	OK(!vmi_vcpu_runnable(&g, 1), "  the vCPU waits for the response");
	OK(vmi_vcpu_runnable(&g, 0), "  the other vCPU runs");
	struct vmi_event ev;
	OK(vmi_ring_get(&g, &ev, NULL), "  one event on the ring");
	EQ(ev.reason, VMI_REASON_MEM_ACCESS, "  MEM_ACCESS");
	EQ(ev.access, VMI_MA_W | VMI_MA_GLA_VALID | VMI_MA_FAULT_WITH_GLA,
	   "  W|GLA_VALID|WITH_GLA");
	EQ(ev.flags, VMI_EF_VCPU_PAUSED, "  VCPU_PAUSED");
	EQ(ev.gfn, 10, "  gfn");
	EQ(ev.offset, 0x10, "  offset");
	EQ(ev.gla, 0xffff000000001010u, "  gla");
	EQ(ev.pc, 0xffff000000080000u, "  the writer's PC");
	EQ(ev.vcpu, 1, "  vCPU");
	EQ(ev.version, VMI_EVENT_VERSION, "  version 2");
	EQ(violate(1, 11, VMI_R), VMI_FO_BAD, "a paused vCPU cannot fault again");

	f = fault(0, 10, VMI_R);
	EQ(vmi_violation(&g, &f, &rp), VMI_FO_RETRY, "a read of the r page is no violation");
	f.in_gpt = true;
	f.access = VMI_W;
	EQ(vmi_violation(&g, &f, &rp), VMI_FO_PAUSED, "a walk's write (A/D bit) to it");
	vmi_ring_get(&g, &ev, NULL);
	EQ(ev.access, VMI_MA_W | VMI_MA_GLA_VALID | VMI_MA_FAULT_IN_GPT, "  FAULT_IN_GPT");

	fresh(false, 1);
	vmi_ring_enable(&g, MON);
	vmi_set_access(&g, MON, 0, 20, 1, VMI_ACCESS_RX2RW);
	EQ(violate(0, 20, VMI_W), VMI_FO_RETRY, "rx2rw: a write is retried");
	EQ(g.ring_count, 0, "  with no event");
	EQ(vmi_view_access(&g, 0, 20), VMI_ACCESS_RW, "  the page is now rw");
	vmi_set_access(&g, MON, 0, 21, 1, VMI_ACCESS_RX2RW);
	vmi_set_access(&g, MON, 0, VMI_GFN_DEFAULT, 0, VMI_ACCESS_RX2RW);
	EQ(violate(0, 22, VMI_W), VMI_FO_RETRY, "rx2rw as the default: same");
	EQ(vmi_view_access(&g, 0, 22), VMI_ACCESS_RW, "  that page alone is rw");
	EQ(vmi_view_access(&g, 0, 23), VMI_ACCESS_RX2RW, "  its neighbour is not");
	vmi_set_access(&g, MON, 0, 30, 1, VMI_ACCESS_N2RWX);
	EQ(violate(0, 30, VMI_X), VMI_FO_RETRY, "n2rwx: the access is retried, no pause");
	OK(vmi_vcpu_runnable(&g, 0), "  the vCPU runs");
	EQ(g.ring_count, 1, "  one event");
	EQ(vmi_view_access(&g, 0, 30), VMI_ACCESS_RWX, "  the page is now rwx");
	vmi_ring_get(&g, &ev, NULL);
	EQ(ev.flags & VMI_EF_VCPU_PAUSED, 0, "  the event does not say paused");
	EQ(ev.access & 7u, VMI_MA_X, "  X");

	struct vmi_fault m = fault(0, 40, VMI_W);
	vmi_set_access(&g, MON, 0, 40, 1, VMI_ACCESS_R);
	m.manifest = VMI_R | VMI_X;
	EQ(vmi_violation(&g, &m, NULL), VMI_FO_NOT_MINE,
	   "a write the manifest forbids is an ordinary fault, not an event");
	m.access = VMI_R | VMI_W;
	EQ(vmi_violation(&g, &m, NULL), VMI_FO_BAD, "two access bits at once: malformed");
	m = fault(0, GFNS, VMI_R);
	EQ(vmi_violation(&g, &m, NULL), VMI_FO_BAD, "gfn outside the guest: malformed");
	m = fault(1, 40, VMI_R);
	EQ(vmi_violation(&g, &m, NULL), VMI_FO_BAD, "vCPU out of range: malformed");
	m = fault(0, 40, VMI_W);
	m.offset = 4096;
	EQ(vmi_violation(&g, &m, NULL), VMI_FO_BAD, "offset past the page: malformed");
}

static void test_no_listener(void)
{
	fresh(false, 1);
	vmi_set_access(&g, MON, 0, 10, 1, VMI_ACCESS_R);
	EQ(violate(0, 10, VMI_W), VMI_FO_RETRY, "no listener: retried");
	EQ(vmi_view_access(&g, 0, 10), VMI_ACCESS_RWX, "  the page is reset to rwx");
	g.cfg.access_required = true;
	vmi_set_access(&g, MON, 0, 11, 1, VMI_ACCESS_R);
	EQ(violate(0, 11, VMI_W), VMI_FO_CRASH, "no listener with access_required: crash");
	OK(g.crashed, "  the guest is marked for stopping");
	EQ(vmi_ring_disable(&g, MON, NULL), VMI_EINVAL, "disabling a ring never enabled: -EINVAL");
}

static void test_ring(void)
{
	fresh(false, 1);
	g.cfg.ring_pfn_set = false;
	EQ(vmi_ring_enable(&g, MON), VMI_ENOSYS, "ring PFN unset: -ENOSYS");
	g.cfg.ring_pfn_set = true;
	EQ(vmi_ring_enable(&g, MON), VMI_OK, "ring enable");
	EQ(vmi_ring_enable(&g, MON), VMI_EBUSY, "second ring: -EBUSY");

	/* Eight async (n2rwx) events from one vCPU: the eighth leaves 0 < 1 free slots. */
	vmi_set_access(&g, MON, 0, 100, 8, VMI_ACCESS_N2RWX);
	bool rp = false;
	for (unsigned i = 0; i < 7; i++) {
		struct vmi_fault f = fault(0, 100 + i, VMI_R);
		vmi_violation(&g, &f, &rp);
	}
	OK(vmi_vcpu_runnable(&g, 0) && !rp, "7 queued events: the guest runs");
	struct vmi_fault f = fault(0, 107, VMI_R);
	EQ(vmi_violation(&g, &f, &rp), VMI_FO_RETRY, "8th event queued");
	OK(rp && !vmi_vcpu_runnable(&g, 0), "8 queued events pause the guest");
	EQ(g.ring_count, 8, "  the ring is full");
	struct vmi_event ev;
	uint32_t woken = 0;
	OK(vmi_ring_get(&g, &ev, &woken), "the monitor takes one");
	EQ(ev.gfn, 100, "  the oldest first");
	EQ(woken, 1, "  the vCPU is woken");
	OK(vmi_vcpu_runnable(&g, 0), "  and runs");

	/* Two vCPUs: a vCPU pauses once fewer than two slots are free. */
	fresh(false, 2);
	vmi_ring_enable(&g, MON);
	vmi_set_access(&g, MON, 0, 100, 16, VMI_ACCESS_N2RWX);
	for (unsigned i = 0; i < 6; i++) {
		f = fault((uint16_t)(i % 2), 100 + i, VMI_R);
		vmi_violation(&g, &f, &rp);
	}
	OK(vmi_vcpu_runnable(&g, 0) && vmi_vcpu_runnable(&g, 1), "2 vCPUs, 6 events: both run");
	f = fault(0, 106, VMI_R);
	vmi_violation(&g, &f, &rp);
	OK(rp && !vmi_vcpu_runnable(&g, 0), "7th event (1 free < 2 vCPUs): its vCPU pauses");
	f = fault(1, 107, VMI_R);
	vmi_violation(&g, &f, &rp);
	OK(!vmi_vcpu_runnable(&g, 1), "8th: the other pauses too");
	vmi_ring_get(&g, &ev, &woken);
	EQ(woken, 1, "one slot frees: one vCPU wakes (vCPU 0)");
	vmi_ring_get(&g, &ev, &woken);
	EQ(woken, 2, "the next slot: the other (round robin)");

	/*
	 * A full ring: a vCPU whose event does not fit waits for a slot, then retries. The
	 * pause rule keeps a running vCPU from meeting a full ring, so the test forces the state
	 * (vCPU 0 filling the ring as if the monitor had made room in between).
	 */
	fresh(false, 2);
	vmi_ring_enable(&g, MON);
	vmi_set_access(&g, MON, 0, 100, 16, VMI_ACCESS_N2RWX);
	for (unsigned i = 0; i < 8; i++) {
		g.vcpus[0].ring_paused = false; /* as if the monitor had made room in between */
		f = fault(0, 100 + i, VMI_R);
		vmi_violation(&g, &f, &rp);
	}
	g.vcpus[0].ring_paused = false;
	f = fault(1, 120, VMI_R);
	vmi_set_access(&g, MON, 0, 120, 1, VMI_ACCESS_N2RWX);
	EQ(vmi_violation(&g, &f, &rp), VMI_FO_WAIT, "ring full: the vCPU waits for a slot");
	EQ(vmi_view_access(&g, 0, 120), VMI_ACCESS_N2RWX, "  nothing changed yet");
	OK(!vmi_vcpu_runnable(&g, 1), "  it does not run");
	vmi_ring_get(&g, &ev, &woken);
	OK(woken & 2u, "a slot frees: it wakes");
	EQ(vmi_violation(&g, &f, &rp), VMI_FO_RETRY, "  and its retried access queues the event");

	/* Disabling releases everyone. */
	vmi_set_access(&g, MON, 0, 200, 1, VMI_ACCESS_R);
	g.vcpus[0].ring_paused = false;
	f = fault(0, 200, VMI_W);
	fresh(false, 2);
	vmi_ring_enable(&g, MON);
	vmi_set_access(&g, MON, 0, 200, 1, VMI_ACCESS_R);
	vmi_violation(&g, &f, &rp);
	EQ(vmi_monitor_reg(&g, MON, VMI_REG_ARM_TTBR0, true, true, false, 0), VMI_OK, "TTBR0 sync");
	EQ(vmi_reg_write(&g, 1, VMI_REG_ARM_TTBR0, 1, 2, 0, &rp), VMI_WO_DEFERRED,
	   "  vCPU 1's TTBR0 write is deferred");
	uint32_t released = 0;
	EQ(vmi_ring_disable(&g, MON, &released), VMI_OK, "ring disable");
	EQ(released, 3, "  releases both paused vCPUs");
	OK(vmi_vcpu_runnable(&g, 0) && vmi_vcpu_runnable(&g, 1), "  nothing stays paused");
	EQ(vmi_reg_write(&g, 1, VMI_REG_ARM_TTBR0, 2, 3, 0, &rp), VMI_WO_COMMIT,
	   "without a ring, events are dropped");
}

static void test_responses(void)
{
	fresh(false, 2);
	vmi_ring_enable(&g, MON);
	vmi_set_access(&g, MON, 0, 10, 4, VMI_ACCESS_R);
	struct vmi_action a;
	struct vmi_event ev;
	struct vmi_response r = rsp(0, VMI_EF_VCPU_PAUSED);
	EQ(vmi_respond(&g, MON, &r, &a), VMI_IGNORED, "response to a vCPU not paused: ignored");
	OK(!a.unpause, "  no action");
	violate(0, 10, VMI_W);
	vmi_ring_get(&g, &ev, NULL);
	r.version = 1;
	EQ(vmi_respond(&g, MON, &r, &a), VMI_IGNORED, "bad version: ignored");
	r = rsp(2, VMI_EF_VCPU_PAUSED);
	EQ(vmi_respond(&g, MON, &r, &a), VMI_IGNORED, "bad vCPU id: ignored");
	OK(!vmi_vcpu_runnable(&g, 0), "  the vCPU still waits");
	r = rsp(0, VMI_EF_TOGGLE_SINGLESTEP);
	EQ(vmi_respond(&g, MON, &r, &a), VMI_OK, "response without VCPU_PAUSED");
	OK(a.singlestep_changed && a.singlestep, "  toggles single-step on");
	OK(!a.unpause && !vmi_vcpu_runnable(&g, 0), "  but the vCPU stays paused");
	r = rsp(0, VMI_EF_VCPU_PAUSED | VMI_EF_TOGGLE_SINGLESTEP);
	EQ(vmi_respond(&g, MON, &r, &a), VMI_OK, "allow (VCPU_PAUSED)");
	OK(a.unpause && !a.skip && !a.emulate, "  unpauses; the access runs again");
	OK(a.singlestep_changed && !a.singlestep, "  single-step toggled off");
	EQ(vmi_respond(&g, MON, &r, &a), VMI_IGNORED, "a second response: ignored");

	violate(0, 11, VMI_W);
	r = rsp(0, VMI_EF_VCPU_PAUSED | VMI_EF_DENY);
	vmi_respond(&g, MON, &r, &a);
	OK(a.unpause && a.skip, "deny on a memory access: step over it");
	violate(0, 12, VMI_W);
	r = rsp(0, VMI_EF_VCPU_PAUSED | VMI_EF_EMULATE);
	vmi_respond(&g, MON, &r, &a);
	OK(a.unpause && a.emulate && !a.emulate_nowrite, "emulate");
	violate(0, 13, VMI_W);
	r = rsp(0, VMI_EF_VCPU_PAUSED | VMI_EF_EMULATE | VMI_EF_EMULATE_NOWRITE);
	vmi_respond(&g, MON, &r, &a);
	OK(a.emulate_nowrite && !a.emulate, "emulate_nowrite wins over emulate");
	violate(0, 13, VMI_W);
	r = rsp(0, VMI_EF_VCPU_PAUSED | VMI_EF_SET_REGISTERS);
	r.pc = 0x1234;
	r.gpr[2] = 77;
	vmi_respond(&g, MON, &r, &a);
	OK(a.set_regs && a.pc == 0x1234 && a.gpr[2] == 77, "set registers");
	EQ(vmi_respond(&g, MON, &r, &a), VMI_IGNORED, "  not again once running");
	OK(!a.set_regs, "  (no action)");

	/* ALTERNATE_P2M. */
	vmi_altp2m_set_state(&g, MON, true);
	uint32_t view;
	vmi_altp2m_create(&g, MON, VMI_ACCESS_DEFAULT, &view);
	violate(1, 10, VMI_W);
	r = rsp(1, VMI_EF_VCPU_PAUSED | VMI_EF_ALTERNATE_P2M);
	r.view = (uint16_t)view;
	vmi_respond(&g, MON, &r, &a);
	OK(a.view_changed && a.view == view && g.vcpus[1].view == view,
	   "ALTERNATE_P2M switches that vCPU's view");
	EQ(g.vcpus[0].view, 0, "  only that vCPU");
	violate(1, 10, VMI_W);
	r.view = 9;
	vmi_respond(&g, MON, &r, &a);
	OK(!a.view_changed && g.vcpus[1].view == view,
	   "  to a view that does not exist: no change");
}

static void test_monitor_events(void)
{
	fresh(true, 1);
	vmi_ring_enable(&g, MON);
	bool rp;
	struct vmi_action a;
	struct vmi_event ev;
	EQ(vmi_monitor_reg(&g, MON, VMI_REG_X86_CR4, true, true, false, 0), VMI_OK, "CR4 sync on");
	EQ(vmi_monitor_reg(&g, MON, VMI_REG_X86_CR4, true, false, true, 0), VMI_EEXIST,
	   "same state again: -EEXIST");
	EQ(vmi_monitor_reg(&g, MON, VMI_REG_ARM_SCTLR, true, true, false, 0), VMI_EOPNOTSUPP,
	   "an arm64 register on x86: -EOPNOTSUPP");
	EQ(vmi_monitor_reg(&g, MON, VMI_REG_COUNT, true, true, false, 0), VMI_EINVAL,
	   "unknown register: -EINVAL");
	EQ(vmi_reg_write(&g, 0, VMI_REG_X86_CR4, 0x20, 0x100020, 0x4000, &rp), VMI_WO_DEFERRED,
	   "CR4 write: deferred");
	vmi_ring_get(&g, &ev, NULL);
	OK(ev.reason == VMI_REASON_WRITE_REG && ev.index == VMI_REG_X86_CR4 &&
	           ev.old_value == 0x20 && ev.new_value == 0x100020 && ev.pc == 0x4000,
	   "  event: register, old, new, PC");
	struct vmi_response r = rsp(0, VMI_EF_VCPU_PAUSED | VMI_EF_DENY);
	vmi_respond(&g, MON, &r, &a);
	OK(a.unpause && a.drop_write && !a.commit_write, "DENY keeps the old CR4 value");
	vmi_reg_write(&g, 0, VMI_REG_X86_CR4, 0x20, 0x100020, 0x4000, &rp);
	vmi_ring_get(&g, &ev, NULL);
	r = rsp(0, VMI_EF_VCPU_PAUSED);
	vmi_respond(&g, MON, &r, &a);
	OK(a.commit_write && a.reg == VMI_REG_X86_CR4 && a.value == 0x100020,
	   "allow performs the deferred write");
	EQ(vmi_reg_write(&g, 0, VMI_REG_X86_CR0, 1, 3, 0, &rp), VMI_WO_COMMIT,
	   "an unmonitored register: no event");
	EQ(vmi_reg_write(&g, 0, VMI_REG_X86_CR4, 0x20, 0x20, 0, &rp), VMI_WO_COMMIT,
	   "the same value: no event (no bit changes)");
	vmi_monitor_reg(&g, MON, VMI_REG_X86_CR4, false, false, false, 0);
	EQ(vmi_monitor_reg(&g, MON, VMI_REG_X86_CR4, true, false, false, 0x80), VMI_OK,
	   "CR4 async with PGE (bit 7) masked");
	EQ(vmi_reg_write(&g, 0, VMI_REG_X86_CR4, 0x20, 0xa0, 0, &rp), VMI_WO_COMMIT,
	   "a change in a masked bit only: no event");
	EQ(g.ring_count, 0, "  none queued");
	EQ(vmi_reg_write(&g, 0, VMI_REG_X86_CR4, 0x20, 0x1a0, 0, &rp), VMI_WO_COMMIT,
	   "another bit changes too: async event, the write goes ahead");
	EQ(g.ring_count, 1, "  queued");
	vmi_ring_get(&g, &ev, NULL);
	EQ(ev.flags, 0, "  not paused");

	EQ(vmi_monitor_msr(&g, MON, 0x2000, true), VMI_EINVAL, "MSR 0x2000: -EINVAL");
	EQ(vmi_monitor_msr(&g, MON, 0x40002000, true), VMI_EINVAL, "MSR 0x40002000: -EINVAL");
	EQ(vmi_monitor_msr(&g, MON, 0xbfffffff, true), VMI_EINVAL, "MSR 0xbfffffff: -EINVAL");
	EQ(vmi_monitor_msr(&g, MON, 0xc0000080, true), VMI_OK, "EFER (0xc0000080) monitored");
	EQ(vmi_monitor_msr(&g, MON, 0xc0000080, true), VMI_EEXIST, "  again: -EEXIST");
	EQ(vmi_monitor_msr(&g, MON, 0x1fff, true), VMI_OK, "MSR 0x1fff, the end of a bitmap");
	EQ(vmi_msr_write(&g, 0, 0xc0000081, 0, 1, 0, &rp), VMI_WO_COMMIT, "STAR: not monitored");
	EQ(vmi_msr_write(&g, 0, 0xc0000080, 0x500, 0xd01, 0x88, &rp), VMI_WO_DEFERRED,
	   "EFER write: always sync");
	vmi_ring_get(&g, &ev, NULL);
	OK(ev.reason == VMI_REASON_MOV_TO_MSR && ev.index == 0xc0000080 && ev.new_value == 0xd01,
	   "  MOV_TO_MSR event");
	r = rsp(0, VMI_EF_VCPU_PAUSED | VMI_EF_DENY);
	vmi_respond(&g, MON, &r, &a);
	OK(a.drop_write, "  denied: dropped");

	EQ(vmi_monitor_singlestep(&g, MON, true), VMI_OK, "singlestep monitoring on");
	EQ(vmi_monitor_singlestep(&g, MON, true), VMI_EEXIST, "  again: -EEXIST");
	EQ(vmi_singlestep_trap(&g, 0, 0x100, 0, &rp), VMI_FO_NOT_MINE,
	   "a vCPU not single-stepping: its own debug exception");
	g.vcpus[0].singlestep = true;
	EQ(vmi_singlestep_trap(&g, 0, 0x100, 0x0, &rp), VMI_FO_PAUSED, "single-step: sync event");
	vmi_ring_get(&g, &ev, NULL);
	EQ(ev.reason, VMI_REASON_SINGLESTEP, "  SINGLESTEP with its PC");

	fresh(false, 1);
	EQ(vmi_monitor_msr(&g, MON, 0xc0000080, true), VMI_EOPNOTSUPP, "MSR on arm64: -EOPNOTSUPP");
	EQ(vmi_monitor_reg(&g, MON, VMI_REG_X86_CR3, true, true, false, 0), VMI_EOPNOTSUPP,
	   "CR3 on arm64: -EOPNOTSUPP");
	EQ(vmi_monitor_reg(&g, MON, VMI_REG_ARM_VBAR, true, true, true, 0), VMI_OK,
	   "VBAR_EL1 on arm64");
	EQ(vmi_reg_write(&g, 0, VMI_REG_X86_CR3, 0, 1, 0, NULL), VMI_WO_BAD,
	   "an x86 register write reported for arm64: malformed");
}

static void test_altp2m(void)
{
	fresh(false, 2);
	uint32_t view = 0;
	EQ(vmi_altp2m_create(&g, MON, VMI_ACCESS_RWX, &view), VMI_EOPNOTSUPP,
	   "create without altp2m active: -EOPNOTSUPP");
	EQ(vmi_altp2m_switch(&g, MON, 0), VMI_EOPNOTSUPP, "switch too");
	EQ(vmi_change_gfn(&g, MON, 1, 1, 2), VMI_EOPNOTSUPP, "change_gfn too");
	g.cfg.altp2m_allowed = false;
	EQ(vmi_altp2m_set_state(&g, MON, true), VMI_EINVAL, "HVM_PARAM_ALTP2M disabled: -EINVAL");
	g.cfg.altp2m_allowed = true;
	EQ(vmi_altp2m_set_state(&g, MON, true), VMI_OK, "activate");
	OK(g.views[0].used, "  view 0 exists");
	for (unsigned i = 1; i < VMI_MAX_VIEWS; i++) {
		char name[64];
		snprintf(name, sizeof(name), "create view %u", i);
		OK(vmi_altp2m_create(&g, MON, VMI_ACCESS_RWX, &view) == VMI_OK && view == i, name);
	}
	EQ(vmi_altp2m_create(&g, MON, VMI_ACCESS_RWX, &view), VMI_EINVAL, "an 11th view: -EINVAL");
	EQ(vmi_altp2m_destroy(&g, MON, 0), VMI_EBUSY, "destroy view 0: -EBUSY");
	EQ(vmi_altp2m_destroy(&g, MON, 10), VMI_EINVAL, "destroy view 10: -EINVAL");
	EQ(vmi_altp2m_switch(&g, MON, 4), VMI_OK, "switch to view 4");
	OK(g.vcpus[0].view == 4 && g.vcpus[1].view == 4, "  every vCPU");
	EQ(vmi_altp2m_destroy(&g, MON, 4), VMI_EBUSY, "destroy a view in use: -EBUSY");
	EQ(vmi_altp2m_destroy(&g, MON, 5), VMI_OK, "destroy an unused view");
	EQ(vmi_altp2m_destroy(&g, MON, 5), VMI_EINVAL, "  twice: -EINVAL");
	EQ(vmi_altp2m_switch(&g, MON, 5), VMI_EINVAL, "switch to a destroyed view: -EINVAL");
	OK(vmi_altp2m_create(&g, MON, VMI_ACCESS_RX, &view) == VMI_OK && view == 5,
	   "create takes the first free view");
	EQ(vmi_altp2m_create(&g, MON, VMI_ACCESS_W, &view), VMI_EINVAL,
	   "create with default w: -EINVAL");

	/* Per-view access. */
	vmi_set_access(&g, MON, 0, 50, 1, VMI_ACCESS_R);
	EQ(vmi_set_access(&g, MON, 4, 60, 1, VMI_ACCESS_RX), VMI_OK, "set_access in view 4");
	EQ(vmi_effective(&g, 4, 60, VMI_RWX), VMI_R | VMI_X, "  effective in view 4");
	EQ(vmi_effective(&g, 0, 60, VMI_RWX), VMI_RWX, "  view 0 unaffected");
	EQ(vmi_effective(&g, 4, 50, VMI_RWX), VMI_R, "view 4 shows view 0's page settings");
	EQ(vmi_effective(&g, 5, 61, VMI_RWX), VMI_R | VMI_X, "view 5's default rx");
	EQ(vmi_set_access(&g, MON, 7, 60, 1, VMI_ACCESS_N), VMI_OK, "view 7 too");
	EQ(vmi_effective(&g, 7, 60, VMI_RWX), 0, "  its own setting");
	EQ(vmi_set_access(&g, MON, 10, 60, 1, VMI_ACCESS_N), VMI_EINVAL, "view 10: -EINVAL");

	bool rp;
	vmi_ring_enable(&g, MON);
	EQ(violate(0, 60, VMI_W), VMI_FO_PAUSED, "a write in view 4's rx page: event");
	struct vmi_event ev;
	vmi_ring_get(&g, &ev, NULL);
	EQ(ev.view, 4, "  the event names view 4");
	struct vmi_fault f = fault(1, 60, VMI_R);
	EQ(vmi_violation(&g, &f, &rp), VMI_FO_RETRY, "a read there is allowed");

	/* change_gfn. */
	EQ(vmi_change_gfn(&g, MON, 4, 70, 71), VMI_OK, "change_gfn 70 -> 71 in view 4");
	EQ(vmi_view_frame(&g, 4, 70), 71, "  view 4 reaches 71's frame");
	EQ(vmi_view_frame(&g, 0, 70), 70, "  view 0 does not");
	EQ(vmi_change_gfn(&g, MON, 4, 70, 72), VMI_OK, "  remap again to 72");
	EQ(vmi_view_frame(&g, 4, 70), 72, "  replaced");
	EQ(vmi_change_gfn(&g, MON, 4, 70, VMI_GFN_INVALID), VMI_OK, "INVALID_GFN undoes it");
	EQ(vmi_view_frame(&g, 4, 70), 70, "  back to its own frame");
	EQ(vmi_change_gfn(&g, MON, 0, 70, 71), VMI_EINVAL, "change_gfn in view 0: -EINVAL");
	EQ(vmi_change_gfn(&g, MON, 4, GFNS, 1), VMI_EINVAL, "old gfn outside RAM: -EINVAL");
	EQ(vmi_change_gfn(&g, MON, 4, 1, GFNS), VMI_EINVAL, "new gfn outside RAM: -EINVAL");
	EQ(vmi_altp2m_destroy(&g, MON, 6), VMI_OK, "destroy view 6");
	EQ(vmi_change_gfn(&g, MON, 6, 1, 2), VMI_EINVAL, "change_gfn in a destroyed view: -EINVAL");
	for (unsigned i = 0; i < VMI_MAX_REMAPS; i++)
		vmi_change_gfn(&g, MON, 4, 100 + i, 1);
	EQ(vmi_change_gfn(&g, MON, 4, 200, 1), VMI_ENOMEM, "remap table full: -ENOMEM");

	EQ(vmi_altp2m_set_state(&g, MON, false), VMI_OK, "deactivate");
	OK(g.vcpus[0].view == 0 && !g.views[4].used, "  every vCPU back in view 0, views gone");
	EQ(vmi_effective(&g, 0, 50, VMI_RWX), VMI_R, "  view 0 keeps its settings");
}

static void test_guest_request(void)
{
	fresh(false, 2);
	bool paused = true;
	EQ(vmi_guest_request(&g, 0, 0x1000, 8, 42, &paused), VMI_FO_RETRY,
	   "guest request without a ring: done (dropped)");
	OK(!paused && g.ring_count == 0, "  nothing queued, nothing paused");
	EQ(vmi_ring_enable(&g, MON), VMI_OK, "ring enabled");
	EQ(vmi_guest_request(&g, 1, 0x2000, 0x10, 0xabcdef, &paused), VMI_FO_RETRY,
	   "guest request: queued");
	struct vmi_event ev;
	uint32_t woken = 0;
	OK(vmi_ring_get(&g, &ev, &woken), "  one event");
	OK(ev.reason == VMI_REASON_GUEST_REQUEST && ev.vcpu == 1 && ev.index == 0x10 &&
	           ev.new_value == 0xabcdef && ev.pc == 0x2000 &&
	           (ev.flags & VMI_EF_VCPU_PAUSED) == 0,
	   "  GUEST_REQUEST with the offset and the value, no pause");
	for (unsigned i = 0; i < VMI_RING_SLOTS - 2u; i++)
		(void)vmi_guest_request(&g, 0, 0, i, i, &paused);
	OK(!paused, "  with 2 slots free for 2 vCPUs nobody pauses");
	EQ(vmi_guest_request(&g, 1, 0, 99, 99, &paused), VMI_FO_RETRY, "  the 7th is queued");
	OK(paused && !vmi_vcpu_runnable(&g, 1), "  and pauses its vCPU (free slots < vCPUs)");
	EQ(vmi_guest_request(&g, 0, 0, 100, 100, &paused), VMI_FO_RETRY, "  the 8th is queued");
	EQ(vmi_guest_request(&g, 1, 0, 101, 101, &paused), VMI_FO_BAD, "  a paused vCPU: bad");
	fresh(false, 1);
	EQ(vmi_ring_enable(&g, MON), VMI_OK, "one vCPU, ring enabled");
	for (unsigned i = 0; i < VMI_RING_SLOTS - 1u; i++)
		(void)vmi_guest_request(&g, 0, 0, i, i, &paused);
	OK(!paused, "  7 queued, one slot free: it runs");
	EQ(vmi_guest_request(&g, 0, 0, 7, 7, &paused), VMI_FO_RETRY, "  the 8th fills the ring");
	OK(paused, "  and pauses it");
	EQ(vmi_guest_request(&g, 9, 0, 0, 0, &paused), VMI_FO_BAD, "a vCPU it does not have: bad");
}

int main(void)
{
	test_init_and_callers();
	test_access_types();
	test_violations();
	test_no_listener();
	test_ring();
	test_responses();
	test_monitor_events();
	test_altp2m();
	test_guest_request();
	return tap_finish();
}
