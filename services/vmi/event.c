/**
 * vm_event for one guest (vmi.h): the request ring with Xen's pause-when-full rule, access
 * violations (mem_access), register, MSR and single-step events, the monitor's options and
 * its responses.
 *
 *   guest vCPU --violation--> ring[head .. head+count) --vmi_ring_get--> monitor
 *        ^                                                                  |
 *        +------------------- vmi_respond (unpause, deny, emulate, ...) ---+
 */
#include "vmi.h"

static int check_caller(const struct vmi_guest *g, uint16_t caller)
{
	if (caller == g->cfg.id || caller != g->cfg.monitor_id)
		return VMI_EPERM;
	return VMI_OK;
}

bool vmi_vcpu_runnable(const struct vmi_guest *g, uint16_t vcpu)
{
	if (vcpu >= g->cfg.vcpu_count)
		return false;
	const struct vmi_vcpu *v = &g->vcpus[vcpu];
	return !v->sync_paused && !v->ring_paused && !v->slot_wait;
}

/** How queuing an event went. */
enum put_result { PUT_DROPPED, PUT_QUEUED, PUT_FULL };

/**
 * Queues an event from a guest vCPU. Without a ring the event is dropped (Xen). A full ring
 * makes the vCPU wait for a slot. After queuing, the vCPU is paused if fewer slots are free than
 * the guest has vCPUs, so that every vCPU that still runs can always queue its next event
 * (Xen's vm_event_put_request rule).
 */
static enum put_result ring_put(struct vmi_guest *g, struct vmi_event *ev, bool *ring_paused)
{
	struct vmi_vcpu *v = &g->vcpus[ev->vcpu];
	if (!g->ring_enabled)
		return PUT_DROPPED;
	if (g->ring_count >= VMI_RING_SLOTS) {
		v->slot_wait = true;
		return PUT_FULL;
	}
	ev->version = VMI_EVENT_VERSION;
	ev->view = v->view;
	g->ring[(g->ring_head + g->ring_count) % VMI_RING_SLOTS] = *ev;
	g->ring_count++;
	if (VMI_RING_SLOTS - g->ring_count < g->cfg.vcpu_count) {
		v->ring_paused = true;
		if (ring_paused != 0)
			*ring_paused = true;
	}
	return PUT_QUEUED;
}

int vmi_ring_enable(struct vmi_guest *g, uint16_t caller)
{
	if (caller == g->cfg.id)
		return VMI_EINVAL; /* Xen: a domain cannot be its own listener */
	if (caller != g->cfg.monitor_id)
		return VMI_EPERM;
	if (g->ring_enabled)
		return VMI_EBUSY;
	if (!g->cfg.ring_pfn_set)
		return VMI_ENOSYS;
	g->ring_enabled = true;
	g->ring_head = 0;
	g->ring_count = 0;
	return VMI_OK;
}

/**
 * Unlike Xen, disabling releases vCPUs paused for a response too (their deferred writes are
 * performed): nothing may stay paused once no monitor listens.
 */
int vmi_ring_disable(struct vmi_guest *g, uint16_t caller, uint32_t *released_mask)
{
	int rc = check_caller(g, caller);
	if (rc != VMI_OK)
		return rc;
	if (!g->ring_enabled)
		return VMI_EINVAL;
	uint32_t released = 0;
	for (unsigned i = 0; i < g->cfg.vcpu_count; i++) {
		struct vmi_vcpu *v = &g->vcpus[i];
		if (v->sync_paused || v->ring_paused || v->slot_wait)
			released |= 1u << i;
		v->sync_paused = false;
		v->ring_paused = false;
		v->slot_wait = false;
		v->write_pending = false;
	}
	g->ring_enabled = false;
	g->ring_count = 0;
	if (released_mask != 0)
		*released_mask = released;
	return VMI_OK;
}

bool vmi_ring_get(struct vmi_guest *g, struct vmi_event *ev, uint32_t *woken_mask)
{
	uint32_t woken = 0;
	bool got = false;
	if (g->ring_count != 0) {
		*ev = g->ring[g->ring_head];
		g->ring_head = (uint8_t)((g->ring_head + 1) % VMI_RING_SLOTS);
		g->ring_count--;
		got = true;
	}
	/* One waiting vCPU per free slot, round robin from the one after the last woken. */
	unsigned avail = VMI_RING_SLOTS - g->ring_count;
	const unsigned n = g->cfg.vcpu_count;
	for (unsigned j = 1; j <= n && avail != 0; j++) {
		unsigned i = (g->last_woken + j) % n;
		struct vmi_vcpu *v = &g->vcpus[i];
		if (!v->ring_paused && !v->slot_wait)
			continue;
		v->ring_paused = false;
		v->slot_wait = false;
		g->last_woken = (uint8_t)i;
		avail--;
		if (vmi_vcpu_runnable(g, (uint16_t)i))
			woken |= 1u << i;
	}
	if (woken_mask != 0)
		*woken_mask = woken;
	return got;
}

/** Every view back to rwx with no page settings. */
static void lift_all(struct vmi_guest *g)
{
	for (unsigned i = 0; i < VMI_MAX_VIEWS; i++) {
		g->views[i].page_count = 0;
		g->views[i].default_access = VMI_ACCESS_RWX;
	}
}

/** Exactly one of read, write, execute. */
static bool one_access(unsigned a)
{
	return a == VMI_R || a == VMI_W || a == VMI_X;
}

/**
 * A stage-2 violation (Xen's p2m_mem_access_check): rx2rw quietly becomes rw on a write;
 * n2rwx becomes rwx and sends an event without pausing; without a listener the page becomes
 * rwx, or the guest stops if access is required; anything else sends a MEM_ACCESS event and
 * the vCPU waits for the response.
 */
enum vmi_fault_outcome vmi_violation(struct vmi_guest *g, const struct vmi_fault *f,
                                     bool *ring_paused)
{
	if (ring_paused != 0)
		*ring_paused = false;
	if (f == 0 || !vmi_vcpu_runnable(g, f->vcpu) || f->gfn >= g->cfg.gfn_count ||
	    f->offset >= 4096 || !one_access(f->access))
		return VMI_FO_BAD;
	if (f->access & ~f->manifest)
		return VMI_FO_NOT_MINE;
	struct vmi_vcpu *v = &g->vcpus[f->vcpu];
	struct vmi_view *view = &g->views[v->view];
	const uint8_t type = vmi_view_access(g, v->view, f->gfn);
	if (f->access & vmi_access_rights(type))
		return VMI_FO_RETRY; /* already allowed (a stale mapping): just run it again */

	if (type == VMI_ACCESS_RX2RW && f->access == VMI_W &&
	    vmi_page_set(view, f->gfn, VMI_ACCESS_RW) == VMI_OK)
		return VMI_FO_RETRY;
	if (!g->ring_enabled) {
		if (g->cfg.access_required) {
			g->crashed = true;
			return VMI_FO_CRASH;
		}
		if (vmi_page_set(view, f->gfn, VMI_ACCESS_RWX) != VMI_OK)
			lift_all(g); /* no room to lift one page: nobody listens, lift them all */
		return VMI_FO_RETRY;
	}

	struct vmi_event ev = { .reason = VMI_REASON_MEM_ACCESS,
		                .vcpu = f->vcpu,
		                .pc = f->pc,
		                .gfn = f->gfn,
		                .offset = f->offset,
		                .gla = f->gla_valid ? f->gla : 0 };
	ev.access = (f->access == VMI_R ? VMI_MA_R : f->access == VMI_W ? VMI_MA_W : VMI_MA_X);
	if (f->gla_valid)
		ev.access |= VMI_MA_GLA_VALID |
		             (f->in_gpt ? VMI_MA_FAULT_IN_GPT : VMI_MA_FAULT_WITH_GLA);
	/*
	 * n2rwx does not pause, unless the view has no room to record the rwx (a full page
	 * table): the vCPU then waits for the monitor rather than faulting again for ever.
	 */
	const bool sync = type != VMI_ACCESS_N2RWX ||
	                  (vmi_page_find(view, f->gfn) == 0 && view->page_count >= VMI_MAX_PAGES);
	if (sync)
		ev.flags = VMI_EF_VCPU_PAUSED;
	if (ring_put(g, &ev, ring_paused) == PUT_FULL)
		return VMI_FO_WAIT;
	if (!sync) {
		(void)vmi_page_set(view, f->gfn, VMI_ACCESS_RWX); /* room checked above */
		return VMI_FO_RETRY;
	}
	v->sync_paused = true;
	v->pending_reason = VMI_REASON_MEM_ACCESS;
	v->write_pending = false;
	return VMI_FO_PAUSED;
}

enum vmi_fault_outcome vmi_guest_request(struct vmi_guest *g, uint16_t vcpu, uint64_t pc,
                                         uint32_t index, uint64_t value, bool *ring_paused)
{
	if (ring_paused != 0)
		*ring_paused = false;
	if (!vmi_vcpu_runnable(g, vcpu))
		return VMI_FO_BAD;
	struct vmi_event ev = { .reason = VMI_REASON_GUEST_REQUEST,
		                .vcpu = vcpu,
		                .pc = pc,
		                .index = index,
		                .new_value = value };
	return ring_put(g, &ev, ring_paused) == PUT_FULL ? VMI_FO_WAIT : VMI_FO_RETRY;
}

/** Whether a register belongs to the guest's architecture. */
static bool reg_of_arch(const struct vmi_guest *g, uint32_t reg)
{
	return g->cfg.is_x86 ? reg <= VMI_REG_X86_XCR0 :
	                       (reg >= VMI_REG_ARM_SCTLR && reg < VMI_REG_COUNT);
}

int vmi_monitor_reg(struct vmi_guest *g, uint16_t caller, uint32_t reg, bool enable, bool sync,
                    bool onchangeonly, uint64_t mask)
{
	int rc = check_caller(g, caller);
	if (rc != VMI_OK)
		return rc;
	if (reg >= VMI_REG_COUNT)
		return VMI_EINVAL;
	if (!reg_of_arch(g, reg))
		return VMI_EOPNOTSUPP;
	struct vmi_reg_monitor *m = &g->regs[reg];
	if (m->enabled == enable)
		return VMI_EEXIST; /* Xen: the same state requested again */
	*m = (struct vmi_reg_monitor){ .enabled = enable };
	if (enable) {
		m->sync = sync;
		m->onchangeonly = onchangeonly;
		m->mask = mask;
	}
	return VMI_OK;
}

/**
 * The MSR bitmap bit for `msr` (Xen's three ranges: 0-0x1fff, 0x40000000-0x40001fff,
 * 0xc0000000-0xc0001fff); NULL outside them.
 */
static uint8_t *msr_byte(struct vmi_guest *g, uint64_t msr, uint8_t *bit)
{
	static const uint64_t base[3] = { 0, 0x40000000u, 0xc0000000u };
	for (unsigned t = 0; t < 3; t++) {
		if (msr >= base[t] && msr - base[t] < 0x2000u) {
			uint64_t i = msr - base[t];
			*bit = (uint8_t)(1u << (i % 8));
			return &g->msr_bitmap[t][i / 8];
		}
	}
	return 0;
}

int vmi_monitor_msr(struct vmi_guest *g, uint16_t caller, uint64_t msr, bool enable)
{
	int rc = check_caller(g, caller);
	if (rc != VMI_OK)
		return rc;
	if (!g->cfg.is_x86)
		return VMI_EOPNOTSUPP;
	uint8_t bit;
	uint8_t *byte = msr_byte(g, msr, &bit);
	if (byte == 0)
		return VMI_EINVAL;
	if (((*byte & bit) != 0) == enable)
		return VMI_EEXIST;
	*byte = (uint8_t)(enable ? *byte | bit : *byte & ~bit);
	return VMI_OK;
}

int vmi_monitor_singlestep(struct vmi_guest *g, uint16_t caller, bool enable)
{
	int rc = check_caller(g, caller);
	if (rc != VMI_OK)
		return rc;
	if (g->singlestep_monitor == enable)
		return VMI_EEXIST;
	g->singlestep_monitor = enable;
	return VMI_OK;
}

/** Queues a register or MSR write event; a sync one defers the write. */
static enum vmi_write_outcome write_event(struct vmi_guest *g, struct vmi_event *ev, bool sync,
                                          bool *ring_paused)
{
	struct vmi_vcpu *v = &g->vcpus[ev->vcpu];
	if (sync)
		ev->flags = VMI_EF_VCPU_PAUSED;
	switch (ring_put(g, ev, ring_paused)) {
	case PUT_FULL:
		return VMI_WO_WAIT;
	case PUT_DROPPED:
		return VMI_WO_COMMIT;
	case PUT_QUEUED:
		break;
	}
	if (!sync)
		return VMI_WO_COMMIT;
	v->sync_paused = true;
	v->pending_reason = (uint8_t)ev->reason;
	v->write_pending = true;
	v->pending_reg = (uint8_t)(ev->reason == VMI_REASON_WRITE_REG ? ev->index : 0);
	v->pending_msr = ev->reason == VMI_REASON_MOV_TO_MSR ? ev->index : 0;
	v->pending_value = ev->new_value;
	return VMI_WO_DEFERRED;
}

/**
 * A trapped register write (Xen's hvm_monitor_cr): an event only if the register is monitored,
 * the value changes when onchangeonly asks for it, and some bit outside the mask changes.
 */
enum vmi_write_outcome vmi_reg_write(struct vmi_guest *g, uint16_t vcpu, uint32_t reg,
                                     uint64_t old_value, uint64_t new_value, uint64_t pc,
                                     bool *ring_paused)
{
	if (ring_paused != 0)
		*ring_paused = false;
	if (!vmi_vcpu_runnable(g, vcpu) || reg >= VMI_REG_COUNT || !reg_of_arch(g, reg))
		return VMI_WO_BAD;
	const struct vmi_reg_monitor *m = &g->regs[reg];
	if (!m->enabled || (m->onchangeonly && old_value == new_value) ||
	    ((old_value ^ new_value) & ~m->mask) == 0)
		return VMI_WO_COMMIT;
	struct vmi_event ev = { .reason = VMI_REASON_WRITE_REG,
		                .vcpu = vcpu,
		                .pc = pc,
		                .index = reg,
		                .new_value = new_value,
		                .old_value = old_value };
	return write_event(g, &ev, m->sync, ring_paused);
}

/** A trapped MSR write: always sync (Xen). */
enum vmi_write_outcome vmi_msr_write(struct vmi_guest *g, uint16_t vcpu, uint64_t msr,
                                     uint64_t old_value, uint64_t new_value, uint64_t pc,
                                     bool *ring_paused)
{
	if (ring_paused != 0)
		*ring_paused = false;
	if (!vmi_vcpu_runnable(g, vcpu) || !g->cfg.is_x86)
		return VMI_WO_BAD;
	uint8_t bit;
	const uint8_t *byte = msr_byte(g, msr, &bit);
	if (byte == 0 || !(*byte & bit))
		return VMI_WO_COMMIT;
	struct vmi_event ev = { .reason = VMI_REASON_MOV_TO_MSR,
		                .vcpu = vcpu,
		                .pc = pc,
		                .index = (uint32_t)msr,
		                .new_value = new_value,
		                .old_value = old_value };
	return write_event(g, &ev, true, ring_paused);
}

enum vmi_fault_outcome vmi_singlestep_trap(struct vmi_guest *g, uint16_t vcpu, uint64_t pc,
                                           uint64_t pc_gfn, bool *ring_paused)
{
	if (ring_paused != 0)
		*ring_paused = false;
	if (!vmi_vcpu_runnable(g, vcpu))
		return VMI_FO_BAD;
	if (!g->singlestep_monitor || !g->vcpus[vcpu].singlestep || !g->ring_enabled)
		return VMI_FO_NOT_MINE; /* the guest's own debug exception */
	struct vmi_event ev = { .reason = VMI_REASON_SINGLESTEP,
		                .flags = VMI_EF_VCPU_PAUSED,
		                .vcpu = vcpu,
		                .pc = pc,
		                .gfn = pc_gfn };
	if (ring_put(g, &ev, ring_paused) == PUT_FULL)
		return VMI_FO_WAIT;
	g->vcpus[vcpu].sync_paused = true;
	g->vcpus[vcpu].pending_reason = VMI_REASON_SINGLESTEP;
	g->vcpus[vcpu].write_pending = false;
	return VMI_FO_PAUSED;
}

/**
 * vm_event resume. Responses with a bad version or vCPU, or for a vCPU that is not waiting for
 * one, are ignored. ALTERNATE_P2M, SET_REGISTERS and TOGGLE_SINGLESTEP act at once; the
 * decision about the access or write (DENY over EMULATE_NOWRITE over EMULATE, else allow) is
 * taken when VCPU_PAUSED releases the vCPU. DENY on a MEM_ACCESS event steps over the
 * instruction without its effect; on a register or MSR write it drops the deferred write.
 */
int vmi_respond(struct vmi_guest *g, uint16_t caller, const struct vmi_response *r,
                struct vmi_action *a)
{
	*a = (struct vmi_action){ 0 };
	int rc = check_caller(g, caller);
	if (rc != VMI_OK)
		return rc;
	if (r->version != VMI_EVENT_VERSION || r->vcpu >= g->cfg.vcpu_count ||
	    !g->vcpus[r->vcpu].sync_paused)
		return VMI_IGNORED;
	struct vmi_vcpu *v = &g->vcpus[r->vcpu];
	const uint32_t flags = r->flags & VMI_EF_RESPONSE_MASK;

	if ((flags & VMI_EF_ALTERNATE_P2M) && g->altp2m_active && r->view < VMI_MAX_VIEWS &&
	    g->views[r->view].used && v->view != r->view) {
		v->view = (uint8_t)r->view;
		a->view_changed = true;
		a->view = v->view;
	}
	if (flags & VMI_EF_SET_REGISTERS) {
		a->set_regs = true;
		a->pc = r->pc;
		for (unsigned i = 0; i < 4; i++)
			a->gpr[i] = r->gpr[i];
	}
	if (flags & VMI_EF_TOGGLE_SINGLESTEP) {
		v->singlestep = !v->singlestep;
		a->singlestep_changed = true;
		a->singlestep = v->singlestep;
	}
	if (!(flags & VMI_EF_VCPU_PAUSED))
		return VMI_OK;

	if (v->pending_reason == VMI_REASON_MEM_ACCESS) {
		a->skip = (flags & VMI_EF_DENY) != 0;
		a->emulate_nowrite = !a->skip && (flags & VMI_EF_EMULATE_NOWRITE);
		a->emulate = !a->skip && !a->emulate_nowrite && (flags & VMI_EF_EMULATE);
	} else if (v->write_pending) {
		a->drop_write = (flags & VMI_EF_DENY) != 0;
		a->commit_write = !a->drop_write;
		a->reg = v->pending_reg;
		a->value = v->pending_value;
	}
	v->sync_paused = false;
	v->write_pending = false;
	a->unpause = vmi_vcpu_runnable(g, r->vcpu);
	return VMI_OK;
}
