/**
 * The vmi service partition (arm64 and x86): the engine (vmi.h, Xen 4.10's mem_access, vm_event and
 * altp2m semantics) and the walkers (walk.h) over the kernel's HC_VMI, for monitor clients
 * that hold a capability to this service and none to the guests. ipc/vmi.h lists the
 * capabilities it looks for; docs/introspection.md describes the client interface.
 *
 * Two vCPUs, because the kernel gives a server one reply right at a time and a guest's access
 * waits for the client's answer:
 *
 *   guest vCPU --IPC_LABEL_VMI_MEM--> [events ep] vCPU 1 --VMI_INTERNAL_EVENT--> [requests ep]
 *                                        | holds the guest's reply            vCPU 0: engine,
 *                                        | while it waits on its notification     HC_VMI calls
 *   client --GET_EVENT / RESPOND / set_access ...--------------------------> [requests ep]
 *
 * vCPU 0 alone touches the engine. vCPU 1 takes one kernel event at a time (others queue at
 * the events endpoint, their vCPUs paused as they would be anyway) and asks vCPU 0 what to do:
 * an answer now (a retry after rx2rw or n2rwx, a page no longer protected), or wait. A client's
 * RESPOND (or ring space freed for a vCPU that found the ring full) makes vCPU 0 write the
 * answer in `answers` and signal vCPU 1's notification; vCPU 1 replies to the kernel with
 * IPC_VMI_RETRY or IPC_VMI_SKIP and the view to switch to.
 *
 * Held register writes (IPC_LABEL_VMI_REG) and single-steps (IPC_LABEL_VMI_STEP) take the same
 * path: the engine's write_ctrlreg and singlestep rules decide, MONITOR_REG becomes the kernel's
 * MONITOR_REGS and a response's TOGGLE_SINGLESTEP its SINGLESTEP. EMULATE runs the access in a
 * hidden view with the manifest's rights for one step (make_hidden, emulate).
 *
 * Engine results become kernel calls: after every change the pages concerned are PROTECTed in
 * every view with vmi_effective()'s rights (the kernel intersects them with the manifest's
 * again), views are created and destroyed to match the engine's, change_gfn is CHANGE_GFN.
 * The engine's frames are guest-physical frame numbers (gfn = IPA >> 12); only the RAM the
 * guest's badge names can be set.
 *
 * Restart: nothing is preserved. When this partition stops, the kernel gives every target the
 * manifest's rights and view 0 back and releases its paused vCPUs; a successor attaches again
 * with a fresh engine, which agrees with that. Clients set their protections again.
 *
 * The platforms differ only in the walkers' context: VMI_X86 (set by meson.build) walks an x86
 * guest's paging, otherwise arm64's stage 1, with the registers HC_VMI GET_REGS gives for a
 * vCPU paused on an event (walk_regs); a VMI_GUEST_FLAT guest walks as the identity until
 * then.
 *
 * VMI_CRASH_TEST builds the kill test's variant (vmi-crash): a monitor's VMI_OP_CRASH makes
 * vCPU 0 fault.
 */
#include <ipc/vmi.h>
#include <svc/svc.h>
#include <svc_arch.h>

#include "request.h"

#ifndef VMI_X86
#define VMI_X86 0
#endif

#define VMI_TARGETS 2u
#define PAGE 4096u
/** The caller id the engine knows as each target's monitor (no partition has it). */
#define VMI_MONITOR_CALLER 0xfffeu
#define VMI_OP_CRASH 99u
/** vCPU 1 hands the same kernel event to vCPU 0 again (it found the ring full, and a slot freed). */
#define ANSWER_AGAIN 0xffffu

/** What vCPU 1 is to answer the kernel for one guest vCPU. */
struct answer {
	volatile uint32_t ready;
	uint32_t action;     /**< IPC_VMI_RETRY, IPC_VMI_SKIP or ANSWER_AGAIN */
	uint32_t view_plus1; /**< 0: stay in the view */
};

struct target {
	uint32_t slot;  /**< guest capability with the monitor right */
	uint64_t badge; /**< VMI_GUEST_BADGE */
	bool attached;
	uint64_t first_gfn, end_gfn; /**< its RAM */
	bool kview[VMI_MAX_VIEWS];   /**< the views the kernel has */
	bool waiting[VMI_MAX_VCPUS]; /**< vCPU 1 holds this vCPU's event */
	uint32_t action[VMI_MAX_VCPUS], view_plus1[VMI_MAX_VCPUS];
	struct answer answers[VMI_MAX_VCPUS];
	struct vmi_walk_ctx walk[VMI_MAX_VCPUS];
	bool walk_known[VMI_MAX_VCPUS]; /**< walk[v] holds registers the kernel gave (GET_REGS) */
	uint8_t held_access[VMI_MAX_VCPUS]; /**< the access of the VMI_MEM event held (VMI_R/W/X) */
	/**
	 * EMULATE: the view with the manifest's rights (0: none yet; one of the kernel's views
	 * 1..9 that the engine does not use), and the vCPUs stepping one instruction in it.
	 */
	uint8_t hidden;
	bool emulating[VMI_MAX_VCPUS];
	uint32_t client_ntf[4];
	uint32_t client_ntf_count;
	struct vmi_guest g;
};

static struct target targets[VMI_TARGETS];
static uint32_t target_count;
static uint32_t ep_requests = CAP_SLOT_COUNT, ep_events = CAP_SLOT_COUNT;
static uint32_t ep_events_send = CAP_SLOT_COUNT, ep_internal = CAP_SLOT_COUNT;
static uint32_t ntf_self = CAP_SLOT_COUNT;
static volatile uint32_t started;
/** The badge of the MMIO access vCPU 1 hands vCPU 0 (written before its call, read in it). */
static uint64_t guest_badge;

static uint64_t hc(uint64_t nr, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                   uint64_t r6, uint64_t *out1)
{
	uint64_t r[IPC_REG_COUNT] = { nr, r1, r2, r3, r4, r5, r6 };
	svc_hypercall(r);
	if (out1 != NULL)
		*out1 = r[1];
	return r[0];
}

static uint64_t vmi_call(const struct target *t, uint64_t op, uint64_t a0, uint64_t a1, uint64_t a2,
                         uint64_t a3, uint64_t *out1)
{
	return hc(HC_VMI, t->slot, op, a0, a1, a2, a3, out1);
}

/* ---- guest memory for the walkers -------------------------------------------------------- */

/** vmi_gpa_read_fn over HC_GUEST_MEM with the monitor right: only the guest's RAM reads. */
static bool gpa_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
	const struct target *t = ctx;
	uint64_t r[IPC_REG_COUNT] = { HC_GUEST_MEM, t->slot, gpa, size };
	if (size == 0 || size > 8)
		return false;
	svc_hypercall(r);
	if (r[0] != STATUS_OK)
		return false;
	uint64_t mask = size == 8 ? ~UINT64_C(0) : (UINT64_C(1) << (8 * size)) - 1u;
	*val = r[4] & mask;
	return true;
}

/**
 * The walker's context for vCPU v: its translation registers from the kernel (HC_VMI
 * GET_REGS) while it is paused on an event; while it runs, the ones read last. A guest never
 * read yet walks as the identity if its badge says VMI_GUEST_FLAT (MMU or paging off), and is
 * -EBUSY otherwise.
 */
static int walk_regs(struct target *t, uint32_t v)
{
	uint64_t r[IPC_REG_COUNT] = { HC_VMI, t->slot, IPC_VMI_GET_REGS, v };
	svc_hypercall(r);
	if (r[0] == STATUS_OK) {
		const uint64_t *k = &r[IPC_REG_WORD0];
		if (VMI_X86)
			t->walk[v].x86 = (struct vmi_x86_regs){
				.cr0 = k[0], .cr3 = k[1], .cr4 = k[2], .efer = k[3]
			};
		else
			t->walk[v].arm64 = (struct vmi_arm64_regs){ .sctlr_el1 = k[0],
				                                    .tcr_el1 = k[1],
				                                    .ttbr0_el1 = k[2],
				                                    .ttbr1_el1 = k[3] };
		t->walk_known[v] = true;
	}
	return t->walk_known[v] || (t->badge & VMI_GUEST_FLAT) != 0 ? VMI_OK : VMI_EBUSY;
}

/* ---- engine to kernel -------------------------------------------------------------------- */

/** PROTECT [gfn, gfn + nr) in a view with `rights`, in as many calls as the kernel wants. */
static bool protect(const struct target *t, uint32_t view, uint64_t gfn, uint64_t nr,
                    unsigned rights)
{
	uint64_t addr = gfn * PAGE, left = nr * PAGE;
	while (left != 0) {
		uint64_t done = 0;
		if (vmi_call(t, IPC_VMI_PROTECT, view, addr, left, rights, &done) != STATUS_OK ||
		    done == 0 || done > left)
			return false;
		addr += done;
		left -= done;
	}
	return true;
}

/** Gives the kernel the engine's rights for [first, end) in one view, run by run. */
static bool sync_view(const struct target *t, uint32_t view, uint64_t first, uint64_t end)
{
	bool ok = true;
	uint64_t run = first;
	unsigned run_rights = 0;
	for (uint64_t gfn = first; gfn <= end; gfn++) {
		unsigned r = gfn < end ? vmi_effective(&t->g, view, gfn, VMI_RWX) : ~0u;
		if (gfn == first) {
			run_rights = r;
			continue;
		}
		if (r == run_rights)
			continue;
		ok = protect(t, view, run, gfn - run, run_rights) && ok;
		run = gfn;
		run_rights = r;
	}
	return ok;
}

/** Makes the kernel's views those of the engine, then syncs [first, end) in every view. */
static bool sync(struct target *t, uint64_t first, uint64_t end)
{
	bool ok = true;
	for (uint32_t v = 1; v < VMI_MAX_VIEWS; v++) {
		bool want = t->g.views[v].used;
		if (want && v == t->hidden) {
			/* The engine wants the emulation view's number: it goes, unless in use. */
			if (vmi_call(t, IPC_VMI_VIEW_DESTROY, v, 0, 0, 0, NULL) != STATUS_OK) {
				ok = false;
				continue;
			}
			t->hidden = 0;
		}
		if (want && !t->kview[v]) {
			unsigned rights = vmi_access_rights(t->g.views[v].default_access);
			t->kview[v] = vmi_call(t, IPC_VMI_VIEW_CREATE, v, rights, 0, 0, NULL) ==
			              STATUS_OK;
			ok = ok && t->kview[v];
			first = t->first_gfn; /* a new view: all of it */
			end = t->end_gfn;
		} else if (!want && t->kview[v]) {
			t->kview[v] = vmi_call(t, IPC_VMI_VIEW_DESTROY, v, 0, 0, 0, NULL) !=
			              STATUS_OK;
		}
	}
	if (first < t->first_gfn)
		first = t->first_gfn;
	if (end > t->end_gfn)
		end = t->end_gfn;
	for (uint32_t v = 0; v < VMI_MAX_VIEWS && first < end; v++)
		if (v == 0 || (t->kview[v] && t->g.views[v].used))
			ok = sync_view(t, v, first, end) && ok;
	return ok;
}

/* ---- answers to vCPU 1 ------------------------------------------------------------------- */

/** Lets vCPU 1 answer the kernel for vCPU v once the engine lets it run. */
static void release(struct target *t, uint32_t v)
{
	if (v >= VMI_MAX_VCPUS || !t->waiting[v] || !vmi_vcpu_runnable(&t->g, (uint16_t)v))
		return;
	t->waiting[v] = false;
	t->answers[v].action = t->action[v];
	t->answers[v].view_plus1 = t->view_plus1[v];
	__atomic_store_n(&t->answers[v].ready, 1u, __ATOMIC_RELEASE);
	(void)svc_signal(ntf_self);
}

static void release_mask(struct target *t, uint32_t mask)
{
	for (uint32_t v = 0; v < t->g.cfg.vcpu_count; v++)
		if ((mask >> v & 1u) != 0)
			release(t, v);
}

static void notify_clients(const struct target *t)
{
	for (uint32_t i = 0; i < t->client_ntf_count; i++)
		(void)svc_signal(t->client_ntf[i]);
}

/** vCPU 1 holds the kernel's event of vCPU v until release(); `action` unless a response says. */
static void hold(struct target *t, uint32_t v, uint32_t action, uint64_t *out)
{
	t->waiting[v] = true;
	t->action[v] = action;
	t->view_plus1[v] = 0;
	t->answers[v].ready = 0;
	out[0] = 1;
}

/**
 * A kernel event that vCPU 1 received (w as delivered): the engine decides; out[0] = 0 and
 * the answer in out[1..2], or out[0] = 1: wait for release().
 */
static void kernel_event(uint32_t ti, const uint64_t *w, uint64_t *out)
{
	out[0] = 0;
	out[1] = IPC_VMI_RETRY;
	out[2] = 0;
	if (ti >= target_count)
		return;
	struct target *t = &targets[ti];
	const uint32_t vcpu = (uint32_t)w[3], kview = (uint32_t)(w[3] >> IPC_VMI_VIEW_SHIFT);
	const uint64_t gfn = w[0] / PAGE;
	if (vcpu >= t->g.cfg.vcpu_count)
		return;
	/* The kernel's view is the truth for where the vCPU runs (a restart resets both). */
	if (kview < VMI_MAX_VIEWS && t->g.views[kview].used)
		t->g.vcpus[vcpu].view = (uint8_t)kview;
	const struct vmi_fault f = {
		.vcpu = (uint16_t)vcpu,
		.gfn = gfn,
		.offset = w[0] % PAGE,
		.access = (unsigned)w[1] & (IPC_ACCESS_READ | IPC_ACCESS_WRITE | IPC_ACCESS_EXEC),
		.manifest = VMI_RWX, /* the kernel sends only what the monitor's rights stopped */
		.gla_valid = (w[1] & IPC_VMI_GLA_VALID) != 0,
		.in_gpt = (w[1] & IPC_VMI_IN_GPT) != 0,
		.gla = w[4],
		.pc = w[2],
	};
	t->held_access[vcpu] = (uint8_t)f.access;
	const uint8_t queued = t->g.ring_count;
	bool ring_paused = false;
	enum vmi_fault_outcome o = vmi_violation(&t->g, &f, &ring_paused);
	if (t->g.ring_count != queued)
		notify_clients(t);
	if (o == VMI_FO_RETRY)
		(void)sync(t, gfn, gfn + 1u); /* rx2rw or n2rwx lifted the page */
	/* A queued event may also stop the vCPU for ring space (Xen's pause-when-full). */
	if (o != VMI_FO_PAUSED && o != VMI_FO_WAIT && !vmi_vcpu_runnable(&t->g, (uint16_t)vcpu))
		o = VMI_FO_WAIT;
	switch (o) {
	case VMI_FO_PAUSED:
	case VMI_FO_WAIT:
		hold(t, vcpu, IPC_VMI_RETRY, out);
		return;
	default:
		/* The kernel's rights were stale, or the page was lifted above: run it again. */
		if (o != VMI_FO_RETRY)
			(void)sync(t, gfn, gfn + 1u);
		return;
	}
}

/**
 * The registers whose writes the kernel can hold (HC_VMI MONITOR_REGS), as the engine numbers
 * them: x86 CR0, CR3, CR4; arm64 SCTLR_EL1, TTBR0_EL1, TTBR1_EL1, TCR_EL1. The engine's XCR0
 * and VBAR have no kernel counterpart (monitoring them is -EOPNOTSUPP).
 */
static const struct {
	uint8_t engine, kernel;
} reg_map[] = {
	{ VMI_REG_X86_CR0, IPC_VMI_REG_CR0 },     { VMI_REG_X86_CR3, IPC_VMI_REG_CR3 },
	{ VMI_REG_X86_CR4, IPC_VMI_REG_CR4 },     { VMI_REG_ARM_SCTLR, IPC_VMI_REG_SCTLR },
	{ VMI_REG_ARM_TTBR0, IPC_VMI_REG_TTBR0 }, { VMI_REG_ARM_TTBR1, IPC_VMI_REG_TTBR1 },
	{ VMI_REG_ARM_TCR, IPC_VMI_REG_TCR },
};

/** The kernel's IPC_VMI_REG_* for an engine register, or -1. */
static int reg_to_kernel(uint64_t reg)
{
	for (uint32_t i = 0; i < sizeof(reg_map) / sizeof(reg_map[0]); i++)
		if (reg_map[i].engine == reg)
			return reg_map[i].kernel;
	return -1;
}

/** The engine's register for a kernel IPC_VMI_REG_*, or -1. */
static int reg_from_kernel(uint64_t reg)
{
	for (uint32_t i = 0; i < sizeof(reg_map) / sizeof(reg_map[0]); i++)
		if (reg_map[i].kernel == reg)
			return reg_map[i].engine;
	return -1;
}

/** MONITOR_REGS with every register the engine monitors (the kernel holds each write). */
static bool sync_regs(const struct target *t)
{
	uint64_t mask = 0;
	for (uint32_t i = 0; i < sizeof(reg_map) / sizeof(reg_map[0]); i++)
		if (t->g.regs[reg_map[i].engine].enabled)
			mask |= UINT64_C(1) << reg_map[i].kernel;
	return vmi_call(t, IPC_VMI_MONITOR_REGS, mask, 0, 0, 0, NULL) == STATUS_OK;
}

/**
 * A held register write (IPC_LABEL_VMI_REG; w as delivered, w[5] the target): the engine's
 * write_ctrlreg rules decide. No event (not monitored, onchangeonly, the mask) or an async one:
 * the write is performed at once (IPC_VMI_RETRY); a sync one waits for the client's answer
 * (DENY: IPC_VMI_SKIP drops it); a full ring: the same event again once a slot frees.
 */
static void kernel_reg_event(uint32_t ti, const uint64_t *w, uint64_t *out)
{
	out[0] = 0;
	out[1] = IPC_VMI_RETRY;
	out[2] = 0;
	if (ti >= target_count)
		return;
	struct target *t = &targets[ti];
	const uint32_t vcpu = (uint32_t)w[3], kview = (uint32_t)(w[3] >> IPC_VMI_VIEW_SHIFT);
	const bool msr = (uint32_t)w[0] == IPC_VMI_REG_MSR;
	const int reg = msr ? 0 : reg_from_kernel(w[0]);
	if (vcpu >= t->g.cfg.vcpu_count || reg < 0)
		return;
	if (kview < VMI_MAX_VIEWS && t->g.views[kview].used)
		t->g.vcpus[vcpu].view = (uint8_t)kview;
	const uint8_t queued = t->g.ring_count;
	bool ring_paused = false;
	/* An MSR's write (its number in w0's high half): always a sync event (Xen). */
	enum vmi_write_outcome o = msr ? vmi_msr_write(&t->g, (uint16_t)vcpu, w[0] >> 32, w[4],
	                                               w[1], w[2], &ring_paused) :
	                                 vmi_reg_write(&t->g, (uint16_t)vcpu, (uint32_t)reg, w[4],
	                                               w[1], w[2], &ring_paused);
	if (t->g.ring_count != queued)
		notify_clients(t);
	if (o == VMI_WO_DEFERRED)
		hold(t, vcpu, IPC_VMI_RETRY, out);
	else if (o == VMI_WO_WAIT)
		hold(t, vcpu, ANSWER_AGAIN, out);
	else if (o == VMI_WO_COMMIT && !vmi_vcpu_runnable(&t->g, (uint16_t)vcpu))
		hold(t, vcpu, IPC_VMI_RETRY, out); /* queued, and it waits for ring space */
}

/**
 * A single-step (IPC_LABEL_VMI_STEP; w as delivered, w[5] the target): a SINGLESTEP event if
 * the monitor asked for them, waiting for the client's answer; without one the vCPU goes on
 * at once (still stepped, as Xen's vCPU stays stepped while its monitor is off).
 */
static void kernel_step_event(uint32_t ti, const uint64_t *w, uint64_t *out)
{
	out[0] = 0;
	out[1] = IPC_VMI_RETRY;
	out[2] = 0;
	if (ti >= target_count)
		return;
	struct target *t = &targets[ti];
	const uint32_t vcpu = (uint32_t)w[3], kview = (uint32_t)(w[3] >> IPC_VMI_VIEW_SHIFT);
	if (vcpu >= t->g.cfg.vcpu_count)
		return;
	if (kview < VMI_MAX_VIEWS && t->g.views[kview].used)
		t->g.vcpus[vcpu].view = (uint8_t)kview;
	/* The end of an emulated access: back to its view (the engine's), no event for it. */
	const uint64_t back_plus1 = t->emulating[vcpu] ? t->g.vcpus[vcpu].view + 1u : 0u;
	out[2] = back_plus1;
	if (!t->g.vcpus[vcpu].singlestep) {
		/* Not stepped for the monitor (an emulation's step, or one left over): no more. */
		t->emulating[vcpu] = false;
		(void)vmi_call(t, IPC_VMI_SINGLESTEP, vcpu, 0, 0, 0, NULL);
		return;
	}
	const uint8_t queued = t->g.ring_count;
	bool ring_paused = false;
	/* The frame of its PC: a walk with its registers now (it waits), 0 if none maps it. */
	uint64_t pc_gfn = 0;
	struct vmi_walk pw;
	if (walk_regs(t, vcpu) == VMI_OK &&
	    (VMI_X86 ? vmi_walk_x86(&t->walk[vcpu].x86, w[2], gpa_read, t, &pw) :
	               vmi_walk_arm64(&t->walk[vcpu].arm64, w[2], gpa_read, t, &pw)) == VMI_WALK_OK)
		pc_gfn = pw.gpa / PAGE;
	enum vmi_fault_outcome o =
	        vmi_singlestep_trap(&t->g, (uint16_t)vcpu, w[2], pc_gfn, &ring_paused);
	if (t->g.ring_count != queued)
		notify_clients(t);
	if (o == VMI_FO_PAUSED)
		hold(t, vcpu, IPC_VMI_RETRY, out);
	else if (o == VMI_FO_WAIT)
		hold(t, vcpu, ANSWER_AGAIN, out);
	t->view_plus1[vcpu] = (uint32_t)back_plus1; /* unless the client's answer switches it */
	if (o != VMI_FO_WAIT)
		t->emulating[vcpu] = false; /* (a full ring: the same step comes again) */
}

/**
 * A store to the guest-request doorbell (an MMIO access vCPU 1 received; w as delivered, the
 * target found from the badge): a GUEST_REQUEST event; out as kernel_event's, out[1] being
 * IPC_MMIO_DONE or IPC_MMIO_ABORT and out[2] the value a load reads (0).
 */
static void guest_request(uint64_t badge, const uint64_t *w, uint64_t *out)
{
	out[0] = 0;
	out[1] = IPC_MMIO_ABORT;
	out[2] = 0;
	struct target *t = NULL;
	for (uint32_t i = 0; i < target_count; i++)
		if (targets[i].badge == badge)
			t = &targets[i];
	const uint32_t vcpu = (uint32_t)(w[3] & IPC_MMIO_VCPU_MASK);
	if (t == NULL || vcpu >= t->g.cfg.vcpu_count)
		return;
	if ((w[1] & IPC_MMIO_WRITE) == 0) {
		out[1] = IPC_MMIO_DONE;
		return;
	}
	const uint8_t queued = t->g.ring_count;
	bool ring_paused = false;
	enum vmi_fault_outcome o =
	        vmi_guest_request(&t->g, (uint16_t)vcpu, 0, (uint32_t)w[4], w[2], &ring_paused);
	if (t->g.ring_count != queued)
		notify_clients(t);
	if (o != VMI_FO_RETRY) {
		/* A full ring (or a vCPU the engine holds): the store is refused, not queued. */
		t->g.vcpus[vcpu].slot_wait = false;
		return;
	}
	out[1] = IPC_MMIO_DONE;
	if (ring_paused) {
		/* Queued, and its vCPU waits for ring space (pause-when-full). */
		t->waiting[vcpu] = true;
		t->action[vcpu] = IPC_MMIO_DONE;
		t->view_plus1[vcpu] = 0;
		t->answers[vcpu].ready = 0;
		out[0] = 1;
	}
}

/* ---- client requests ---------------------------------------------------------------------- */

/**
 * The view an emulated access runs in: the guest's memory with the manifest's rights, made at
 * the first EMULATE in the highest view number neither the engine nor the kernel uses.
 */
static bool make_hidden(struct target *t)
{
	for (uint32_t k = VMI_MAX_VIEWS - 1u; t->hidden == 0 && k >= 1u; k--)
		if (!t->g.views[k].used && !t->kview[k] &&
		    vmi_call(t, IPC_VMI_VIEW_CREATE, k, VMI_RWX, 0, 0, NULL) == STATUS_OK)
			t->hidden = (uint8_t)k;
	return t->hidden != 0;
}

/**
 * EMULATE or EMULATE_NOWRITE for the access vCPU v is held on (the response was accepted):
 * the access runs in the hidden view, stepped, and the step event (kernel_step_event) puts
 * the vCPU back in its view without a client event. EMULATE_NOWRITE of a write denies it.
 */
static void emulate(struct target *t, uint32_t v, bool nowrite)
{
	if (nowrite && t->held_access[v] == VMI_W) {
		t->action[v] = IPC_VMI_SKIP;
		return;
	}
	if (t->hidden == 0 || (!t->g.vcpus[v].singlestep &&
	                       vmi_call(t, IPC_VMI_SINGLESTEP, v, 1, 0, 0, NULL) != STATUS_OK))
		return; /* checked before the engine saw the response: does not happen */
	t->emulating[v] = true;
	t->action[v] = IPC_VMI_RETRY;
	t->view_plus1[v] = t->hidden + 1u;
}

/** Decodes, runs and applies one client request; fills the reply. */
static void client_request(uint64_t badge, const struct msg *m, struct msg *reply)
{
	struct vmi_msg in = { .label = m->label }, out;
	for (uint32_t i = 0; i < IPC_MSG_WORDS; i++)
		in.w[i] = m->w[i];
	*reply = (struct msg){ .label = VMI_STATUS_LABEL(VMI_EINVAL) };
	struct target *t = NULL;
	for (uint32_t i = 0; i < target_count; i++)
		if (VMI_GUEST_INDEX(targets[i].badge) == VMI_CLIENT_TARGET(badge))
			t = &targets[i];
	if (t == NULL || !t->attached) {
		reply->label = VMI_STATUS_LABEL(VMI_ENOSYS); /* not a target of this service */
		return;
	}
	uint16_t caller = (badge & VMI_CLIENT_MONITOR) != 0 ? VMI_MONITOR_CALLER :
	                                                      (uint16_t)VMI_CLIENT_CALLER(badge);
	if (caller == VMI_MONITOR_CALLER && m->label == VMI_OP_CRASH) {
#ifdef VMI_CRASH_TEST
		arch_undefined_instruction(); /* a fault, not an exit: the kernel restarts it */
#endif
	}
	/* Ranges outside the guest's RAM are refused here: the kernel would refuse them. */
	if (m->label == VMI_OP_SET_ACCESS && in.w[1] != VMI_GFN_DEFAULT &&
	    (in.w[1] < t->first_gfn || in.w[1] >= t->end_gfn))
		return;
	if (m->label == VMI_OP_CHANGE_GFN &&
	    (in.w[1] < t->first_gfn || in.w[1] >= t->end_gfn ||
	     (in.w[2] != VMI_GFN_INVALID && (in.w[2] < t->first_gfn || in.w[2] >= t->end_gfn))))
		return;
	/* Registers the kernel cannot hold a write of (XCR0, VBAR_EL1): not here. */
	if (m->label == VMI_OP_MONITOR_REG && (in.w[1] & VMI_MON_ENABLE) != 0 &&
	    in.w[0] < VMI_REG_COUNT && reg_to_kernel(in.w[0]) < 0) {
		reply->label = VMI_STATUS_LABEL(VMI_EOPNOTSUPP);
		return;
	}
	/*
	 * An emulate response needs the hidden view: made now, or the response is refused
	 * before the engine takes it (-EBUSY: every view is in use, or the table quota spent).
	 */
	if (m->label == VMI_OP_RESPOND) {
		const uint32_t v = (uint32_t)in.w[0], fl = (uint32_t)(in.w[0] >> 32);
		const bool emul = (fl & VMI_EF_VCPU_PAUSED) != 0 && (fl & VMI_EF_DENY) == 0 &&
		                  ((fl & VMI_EF_EMULATE) != 0 ||
		                   ((fl & VMI_EF_EMULATE_NOWRITE) != 0 && v < VMI_MAX_VCPUS &&
		                    t->held_access[v] != VMI_W));
		if (emul && v < t->g.cfg.vcpu_count && t->g.vcpus[v].sync_paused &&
		    t->g.vcpus[v].pending_reason == VMI_REASON_MEM_ACCESS && !make_hidden(t)) {
			reply->label = VMI_STATUS_LABEL(VMI_EBUSY);
			return;
		}
	}
	/* monitor_reg: the kernel may refuse the new mask: the engine's setting is undone. */
	const struct vmi_reg_monitor reg_before =
	        in.w[0] < VMI_REG_COUNT ? t->g.regs[in.w[0]] : (struct vmi_reg_monitor){ 0 };
	/* altp2m_switch: the kernel's switch may be refused (a vCPU running): undo it then. */
	uint8_t views_before[VMI_MAX_VCPUS];
	for (uint32_t v = 0; v < VMI_MAX_VCPUS; v++)
		views_before[v] = t->g.vcpus[v].view;
	struct vmi_effects fx;
	/* A walk: the vCPU's registers now if it waits, else the last ones read (walk_regs). */
	if ((m->label == VMI_OP_TRANSLATE || m->label == VMI_OP_READ_VA) &&
	    caller == VMI_MONITOR_CALLER && in.w[0] < t->g.cfg.vcpu_count &&
	    walk_regs(t, (uint32_t)in.w[0]) != VMI_OK) {
		reply->label = VMI_STATUS_LABEL(VMI_EBUSY);
		return;
	}
	int rc = vmi_request(&t->g, t->walk, caller, &in, &out, &fx);
	if (rc == VMI_OK) {
		switch (m->label) {
		case VMI_OP_SET_ACCESS:
			if (in.w[1] == VMI_GFN_DEFAULT)
				(void)sync(t, t->first_gfn, t->end_gfn);
			else
				(void)sync(t, in.w[1], in.w[1] + in.w[2]);
			break;
		case VMI_OP_ALTP2M_SWITCH:
			if (vmi_call(t, IPC_VMI_VIEW_SWITCH, IPC_VMI_ALL_VCPUS, in.w[0], 0, 0,
			             NULL) != STATUS_OK) {
				for (uint32_t v = 0; v < VMI_MAX_VCPUS; v++)
					t->g.vcpus[v].view = views_before[v];
				rc = VMI_EBUSY;
			}
			break;
		case VMI_OP_CHANGE_GFN:
			if (vmi_call(t, IPC_VMI_CHANGE_GFN, in.w[0], in.w[1] * PAGE,
			             in.w[2] == VMI_GFN_INVALID ? IPC_VMI_GFN_RESET :
			                                          in.w[2] * PAGE,
			             0, NULL) != STATUS_OK) {
				/* The kernel's remaps are full (32 a guest): undo the engine's. */
				(void)vmi_change_gfn(&t->g, caller, (uint32_t)in.w[0], in.w[1],
				                     VMI_GFN_INVALID);
				rc = VMI_ENOMEM;
			}
			break;
		case VMI_OP_ALTP2M_STATE:
			if (in.w[0] == 0)
				(void)vmi_call(t, IPC_VMI_VIEW_SWITCH, IPC_VMI_ALL_VCPUS, 0, 0, 0,
				               NULL);
			(void)sync(t, t->first_gfn, t->end_gfn);
			break;
		case VMI_OP_ALTP2M_CREATE:
			(void)sync(t, t->first_gfn, t->end_gfn);
			if (out.w[0] < VMI_MAX_VIEWS && !t->kview[out.w[0]]) {
				/* The kernel's table quota is spent: no view the kernel lacks. */
				(void)vmi_altp2m_destroy(&t->g, caller, (uint32_t)out.w[0]);
				rc = VMI_ENOMEM;
				out = (struct vmi_msg){ 0 };
			}
			break;
		case VMI_OP_ALTP2M_DESTROY:
			(void)sync(t, t->first_gfn, t->end_gfn);
			break;
		case VMI_OP_MONITOR_REG:
			if (!sync_regs(t)) {
				t->g.regs[in.w[0]] = reg_before;
				rc = VMI_EOPNOTSUPP;
			}
			break;
		case VMI_OP_MONITOR_MSR: {
			/* An MSR the kernel cannot hold (not in the VMCB), or no room: undone. */
			uint64_t s = vmi_call(t, IPC_VMI_MONITOR_MSR, in.w[0], in.w[1], 0, 0, NULL);
			if (s != STATUS_OK) {
				(void)vmi_monitor_msr(&t->g, caller, in.w[0], in.w[1] == 0);
				rc = s == STATUS_BUSY ? VMI_EBUSY : VMI_EOPNOTSUPP;
			}
			break;
		}
		case VMI_OP_RESPOND: {
			const struct vmi_action *a = &fx.action;
			uint32_t v = fx.vcpu;
			/* The vCPU waits (engine paused it): the kernel's step follows the toggle. */
			if (a->singlestep_changed &&
			    vmi_call(t, IPC_VMI_SINGLESTEP, v, a->singlestep, 0, 0, NULL) !=
			            STATUS_OK)
				t->g.vcpus[v].singlestep = !a->singlestep;
			/* Applied with the answer: it resumes there (a deny moves it no further). */
			if (a->set_regs) {
				uint64_t r[IPC_REG_COUNT] = { HC_VMI,    t->slot,  IPC_VMI_SET_REGS,
					                      v,         a->pc,    a->gpr[0],
					                      a->gpr[1], a->gpr[2] };
				svc_hypercall(r);
			}
			if (v < VMI_MAX_VCPUS && t->waiting[v]) {
				t->action[v] = a->skip || a->drop_write ? IPC_VMI_SKIP :
				                                          IPC_VMI_RETRY;
				if (a->view_changed)
					t->view_plus1[v] = a->view + 1u;
				if (a->emulate || a->emulate_nowrite)
					emulate(t, v, a->emulate_nowrite);
			}
			release(t, v);
			break;
		}
		default:
			break;
		}
	}
	release_mask(t, fx.woken | fx.released);
	reply->label = VMI_STATUS_LABEL(rc);
	for (uint32_t i = 0; i < IPC_MSG_WORDS; i++)
		reply->w[i] = out.w[i];
}

/* ---- set-up -------------------------------------------------------------------------------- */

static void find_caps(void)
{
	for (uint32_t i = 0; i < CAP_SLOT_COUNT; i++) {
		uint32_t type, rights;
		uint64_t badge;
		if (svc_cap_info(i, &type, &rights, &badge) != STATUS_OK)
			continue;
		if (type == CAP_ENDPOINT && (rights & RIGHT_EP_RECV) != 0) {
			if (badge == VMI_EP_REQUESTS)
				ep_requests = i;
			else if (badge == VMI_EP_EVENTS)
				ep_events = i;
		} else if (type == CAP_ENDPOINT && (rights & RIGHT_EP_SEND) != 0) {
			if (badge == VMI_EP_EVENTS)
				ep_events_send = i;
			else if (badge == VMI_BADGE_INTERNAL)
				ep_internal = i;
		} else if (type == CAP_NOTIFICATION && (rights & RIGHT_NTF_WAIT) != 0) {
			ntf_self = i;
		} else if (type == CAP_GUEST && (rights & RIGHT_GUEST_MONITOR) != 0 &&
		           target_count < VMI_TARGETS) {
			targets[target_count++] = (struct target){ .slot = i, .badge = badge };
		}
	}
	/* Clients' notifications, once the targets are known. */
	for (uint32_t i = 0; i < CAP_SLOT_COUNT; i++) {
		uint32_t type, rights;
		uint64_t badge;
		if (svc_cap_info(i, &type, &rights, &badge) != STATUS_OK ||
		    type != CAP_NOTIFICATION || (rights & RIGHT_NTF_WAIT) != 0 ||
		    (badge & VMI_NTF_CLIENT_TAG) == 0)
			continue;
		for (uint32_t k = 0; k < target_count; k++) {
			struct target *t = &targets[k];
			if (VMI_GUEST_INDEX(t->badge) == (badge & 0xffu) &&
			    t->client_ntf_count < 4u)
				t->client_ntf[t->client_ntf_count++] = i;
		}
	}
}

/** A fresh engine for a target, attached to the kernel's events for it. */
static void attach(uint32_t k)
{
	struct target *t = &targets[k];
	const uint64_t b = t->badge;
	t->first_gfn = (uint64_t)VMI_GUEST_RAM_MB(b) << 8;
	t->end_gfn = t->first_gfn + ((uint64_t)VMI_GUEST_RAM_MBS(b) << 8);
	const struct vmi_guest_config cfg = {
		.id = (uint16_t)VMI_GUEST_INDEX(b),
		.monitor_id = VMI_MONITOR_CALLER,
		.is_x86 = VMI_X86 != 0,
		.vcpu_count = (uint16_t)VMI_GUEST_VCPUS(b),
		.gfn_count = t->end_gfn,
		.ring_pfn_set = true,
		.altp2m_allowed = true,
	};
	if (t->first_gfn == t->end_gfn || vmi_guest_init(&t->g, &cfg) != VMI_OK) {
		svc_printf("guest %u: its badge names no RAM or vCPUs\n", (unsigned)cfg.id);
		return;
	}
	/* Registers all 0: arm64's MMU off, x86's paging off (CR0.PG clear): the identity. */
	for (uint32_t v = 0; v < VMI_MAX_VCPUS; v++)
		t->walk[v] =
		        (struct vmi_walk_ctx){ .is_x86 = VMI_X86 != 0, .read = gpa_read, .ctx = t };
	uint64_t s = vmi_call(t, IPC_VMI_ATTACH, ep_events_send, k, 0, 0, NULL);
	t->attached = s == STATUS_OK;
	if (!t->attached)
		svc_printf("guest %u: attach refused (status %u)\n", (unsigned)cfg.id, (unsigned)s);
}

/* ---- the two vCPUs --------------------------------------------------------------------------- */

/** vCPU 1: kernel events, one at a time, each answered when vCPU 0 says so. */
static _Noreturn void events_loop(void)
{
	while (__atomic_load_n(&started, __ATOMIC_ACQUIRE) == 0)
		svc_yield();
	struct msg m;
	enum status s = svc_recv(ep_events, &m);
	for (;;) {
		if (s != STATUS_OK ||
		    (m.label != IPC_LABEL_VMI_MEM && m.label != IPC_LABEL_VMI_REG &&
		     m.label != IPC_LABEL_VMI_STEP && m.label != IPC_LABEL_MMIO)) {
			s = svc_recv(ep_events, &m);
			continue;
		}
		const bool mmio = m.label == IPC_LABEL_MMIO;
		uint32_t ti = (uint32_t)m.badge;
		const uint32_t vcpu = (uint32_t)(m.w[3] & IPC_MMIO_VCPU_MASK);
		struct msg q = { .label = mmio ? VMI_INTERNAL_GUEST_REQUEST :
			                  m.label == IPC_LABEL_VMI_REG  ? VMI_INTERNAL_REG_EVENT :
			                  m.label == IPC_LABEL_VMI_STEP ? VMI_INTERNAL_STEP_EVENT :
			                                                  VMI_INTERNAL_EVENT };
		for (uint32_t i = 0; i < IPC_MSG_WORDS; i++)
			q.w[i] = m.w[i];
		if (mmio) {
			/* The badge is the guest capability's: vCPU 0 finds the target; so do we. */
			ti = target_count;
			for (uint32_t k = 0; k < target_count; k++)
				if (targets[k].badge == m.badge)
					ti = k;
			guest_badge = m.badge;
		} else {
			q.w[5] = ti; /* the syndrome is not needed: the target instead */
		}
		uint64_t action = ANSWER_AGAIN, view_plus1 = 0;
		const struct msg event = q;
		while (action == ANSWER_AGAIN) {
			/* A held write or a step that found the ring full goes to vCPU 0 again. */
			q = event;
			action = IPC_VMI_RETRY;
			if (svc_call(ep_internal, &q) != STATUS_OK)
				break;
			if (q.w[0] == 0) {
				action = q.w[1];
				view_plus1 = q.w[2];
			} else if (ti < target_count && vcpu < VMI_MAX_VCPUS) {
				struct answer *a = &targets[ti].answers[vcpu];
				uint64_t bits;
				while (__atomic_load_n(&a->ready, __ATOMIC_ACQUIRE) == 0)
					(void)svc_wait(ntf_self, &bits);
				a->ready = 0;
				action = a->action;
				view_plus1 = a->view_plus1;
			}
		}
		m = (struct msg){ .label = 0, .w = { action, view_plus1 } };
		s = svc_reply_recv(ep_events, &m);
	}
}

/** vCPU 0: clients' requests and vCPU 1's questions. */
static _Noreturn void requests_loop(void)
{
	struct msg m, reply;
	enum status s = svc_recv(ep_requests, &m);
	for (;;) {
		if (s != STATUS_OK) {
			s = svc_recv(ep_requests, &m);
			continue;
		}
		if (m.badge == VMI_BADGE_INTERNAL && m.label == VMI_INTERNAL_EVENT) {
			reply = (struct msg){ 0 };
			kernel_event((uint32_t)m.w[5], m.w, reply.w);
		} else if (m.badge == VMI_BADGE_INTERNAL && m.label == VMI_INTERNAL_REG_EVENT) {
			reply = (struct msg){ 0 };
			kernel_reg_event((uint32_t)m.w[5], m.w, reply.w);
		} else if (m.badge == VMI_BADGE_INTERNAL && m.label == VMI_INTERNAL_STEP_EVENT) {
			reply = (struct msg){ 0 };
			kernel_step_event((uint32_t)m.w[5], m.w, reply.w);
		} else if (m.badge == VMI_BADGE_INTERNAL && m.label == VMI_INTERNAL_GUEST_REQUEST) {
			reply = (struct msg){ 0 };
			guest_request(guest_badge, m.w, reply.w);
		} else if ((m.badge & VMI_BADGE_INTERNAL) == 0) {
			client_request(m.badge, &m, &reply);
		} else {
			reply = (struct msg){ .label = VMI_STATUS_LABEL(VMI_EINVAL) };
		}
		m = reply;
		s = svc_reply_recv(ep_requests, &m);
	}
}

int svc_main(uint64_t vcpu)
{
	if (vcpu == 1)
		events_loop();
	if (vcpu != 0)
		return 0;
	find_caps();
	if (ep_requests == CAP_SLOT_COUNT || ep_events == CAP_SLOT_COUNT ||
	    ep_events_send == CAP_SLOT_COUNT || ep_internal == CAP_SLOT_COUNT ||
	    ntf_self == CAP_SLOT_COUNT || target_count == 0) {
		svc_printf("missing capabilities (endpoints, notification or targets)\n");
		return 1;
	}
	uint32_t attached = 0;
	for (uint32_t k = 0; k < target_count; k++) {
		attach(k);
		attached += targets[k].attached;
	}
	svc_printf("watching %u of %u guest(s)\n", (unsigned)attached, (unsigned)target_count);
	__atomic_store_n(&started, 1u, __ATOMIC_RELEASE);
	requests_loop();
}
