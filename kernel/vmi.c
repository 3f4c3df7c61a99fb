/** Introspection, the kernel's half (see vmi.h and docs/introspection.md). */
#include <arch/stage2.h>
#include <arch/vcpu.h>
#include <kernel/cap.h>
#include <kernel/dm.h>
#include <kernel/ipc.h>
#include <kernel/kernel.h>
#include <kernel/regs.h>
#include <kernel/sched.h>
#include <kernel/trap.h>
#include <kernel/vmi.h>

#define VMI_RWX (IPC_ACCESS_READ | IPC_ACCESS_WRITE | IPC_ACCESS_EXEC)

void vmi_init(struct partition *g, u32 tables)
{
	g->vmi = (struct vmi_state){ 0 };
	g->vmi.monitor = CFG_NONE;
	g->vmi.endpoint = CFG_NONE;
	g->vmi.tables_left = tables;
	g->vmi.views_used = 1u;
}

u32 vmi_quota(const struct config *cfg, u32 id)
{
	const struct cfg_partition *cp = &cfg->partitions[id];
	if (cp->type == PARTITION_SERVICE)
		return 0;
	if (cp->stage2_tables != CFG_NONE)
		return cp->stage2_tables;
	for (u32 q = 0; q < cfg->partition_count; q++)
		for (u32 c = 0; c < cfg->partitions[q].cap_count; c++) {
			const struct cfg_cap *cc = &cfg->partitions[q].caps[c];
			if (cc->type == CAP_GUEST && cc->object == id &&
			    (cc->rights & (RIGHT_GUEST_MONITOR | RIGHT_GUEST_DM)) != 0)
				return VMI_TABLE_QUOTA;
		}
	return 0;
}

const struct cfg_mapping *vmi_ram(const struct partition *g, u64 ipa, u64 size)
{
	const struct config *cfg = &kernel.cfg;
	const struct cfg_partition *cp = &cfg->partitions[g->id];
	for (u32 i = 0; i < cp->mapping_count; i++) {
		const struct cfg_mapping *m = &cp->mappings[i];
		const struct cfg_region *r = &cfg->regions[m->region];
		if (r->kind != REGION_DEVICE && ipa >= m->ipa && ipa - m->ipa < r->size &&
		    size <= r->size - (ipa - m->ipa))
			return m;
	}
	return NULL;
}

static bool vmi_view_exists(const struct partition *g, u64 view)
{
	return view < IPC_VMI_VIEWS && (g->vmi.views_used & (1u << view)) != 0;
}

static struct stage2 *vmi_view(struct partition *g, u32 view)
{
	return view == 0 ? &g->s2 : &g->vmi.views[view];
}

/** Every RAM mapping of view `view` gets the manifest's rights limited to mask. */
static bool vmi_protect_ram(struct partition *g, u32 view, u32 mask)
{
	const struct config *cfg = &kernel.cfg;
	const struct cfg_partition *cp = &cfg->partitions[g->id];
	bool ok = true;
	for (u32 i = 0; i < cp->mapping_count; i++) {
		const struct cfg_mapping *m = &cp->mappings[i];
		const struct cfg_region *r = &cfg->regions[m->region];
		if (r->kind == REGION_DEVICE)
			continue;
		u64 done = 0;
		ok &= stage2_protect(vmi_view(g, view), ipa_init(m->ipa), r->size,
		                     m->rights & mask & VMI_RWX, VMI_RWX, UINT32_MAX,
		                     &g->vmi.tables_left, &done);
	}
	return ok;
}

/** Put a page's own frame back in a view, with the manifest's rights. */
static void vmi_unmap_remap(struct partition *g, struct vmi_remap *e)
{
	paddr_t pa;
	u32 rights;
	const struct cfg_mapping *m = vmi_ram(g, e->ipa, PAGE_SIZE);
	if (m != NULL && stage2_lookup(&g->s2, ipa_init(e->ipa), &pa, &rights) &&
	    stage2_remap(vmi_view(g, e->view), ipa_init(e->ipa), pa, m->rights & VMI_RWX,
	                 &g->vmi.tables_left))
		dm_page_remapped(g, e->view, e->ipa);
	e->used = false;
}

/** Point a vCPU at one of its partition's views. */
static void vmi_set_view(struct vcpu *t, u32 view)
{
	struct partition *g = t->part;
	const struct stage2 *s2 = vmi_view(g, view);
	t->view = (u8)view;
	arch_vcpu_set_stage2(&t->arch, s2->root, s2->vmid);
}

/** A held register write goes ahead (the monitor is gone): Xen commits deferred writes. */
static void vmi_commit_held(struct vcpu *t)
{
	if (t->kmsg.label == IPC_LABEL_VMI_REG)
		arch_vcpu_reg_write_done(&t->arch, (u32)t->kmsg.words[0], t->kmsg.words[1], true);
}

/** A vCPU paused on an event runs again: it retries its access, or its write is done. */
static void vmi_release(struct vcpu *t)
{
	if (!vmi_waiting(t) || t->state == VCPU_STOPPED)
		return;
	vmi_commit_held(t);
	ipc_withdraw_kernel_call(t);
	sched_make_ready(t);
}

static void vmi_trap_regs(struct partition *g, u32 mask)
{
	g->vmi.regs = mask;
	for (u32 i = 0; i < g->vcpu_count; i++)
		arch_vcpu_trap_regs(&g->vcpus[i].arch, mask);
}

/** Every vCPU of g holds its writes of these MSRs (none: n = 0). */
static bool vmi_trap_msrs(struct partition *g, const u32 *msrs, u32 n)
{
	bool ok = true;
	for (u32 i = 0; i < g->vcpu_count; i++)
		ok = arch_vcpu_trap_msrs(&g->vcpus[i].arch, msrs, n) && ok;
	return ok;
}

/** Back to the manifest: no remaps, no views but 0, its rights; nobody paused. */
static void vmi_reset(struct partition *g)
{
	for (u32 i = 0; i < VMI_REMAP_MAX; i++)
		if (g->vmi.remaps[i].used)
			vmi_unmap_remap(g, &g->vmi.remaps[i]);
	for (u32 i = 0; i < g->vcpu_count; i++) {
		vmi_release(&g->vcpus[i]);
		if (g->vcpus[i].view != 0)
			vmi_set_view(&g->vcpus[i], 0);
	}
	g->vmi.views_used = 1u;
	if (g->vmi.msr_count != 0)
		(void)vmi_trap_msrs(g, NULL, 0);
	g->vmi.msr_count = 0;
	if (g->vmi.regs != 0)
		vmi_trap_regs(g, 0);
	for (u32 i = 0; g->vmi.stepping && i < g->vcpu_count; i++)
		(void)arch_vcpu_set_step(&g->vcpus[i].arch, false);
	g->vmi.stepping = false;
	if (g->vmi.touched)
		vmi_protect_ram(g, 0, VMI_RWX);
	g->vmi.touched = false;
}

void vmi_partition_stopped(struct partition *p)
{
	for (u32 i = 0; i < kernel.partition_count; i++) {
		struct partition *g = &kernel.partitions[i];
		if (g->vmi.monitor == p->id) {
			vmi_reset(g);
			g->vmi.monitor = CFG_NONE;
			g->vmi.endpoint = CFG_NONE;
		}
	}
	if (p->vmi.touched || p->vmi.views_used != 1u || p->vmi.regs != 0 || p->vmi.stepping)
		vmi_reset(p);
}

/* ---- events --------------------------------------------------------------------------- */

/** v stops for an event: its translation registers kept (GET_REGS), no registers set yet. */
static void vmi_pause(struct vcpu *v)
{
	v->vmi_set_regs = false;
	arch_vcpu_vmi_pause(&v->arch);
}

/** With the answer, after its own effect on the PC: the registers its monitor set. */
static void vmi_apply_set_regs(struct vcpu *v)
{
	if (!v->vmi_set_regs)
		return;
	arch_vcpu_vmi_set_regs(&v->arch, v->vmi_set[0], &v->vmi_set[1]);
	v->vmi_set_regs = false;
}

bool vmi_fault(struct vcpu *v, const struct trap *t, struct vcpu **next)
{
	struct partition *g = v->part;
	if (t->kind != TRAP_MEM_FAULT || (!g->vmi.touched && g->vmi.views_used == 1u))
		return false;
	u64 page = t->address & ~(u64)PAGE_MASK;
	const struct cfg_mapping *m = vmi_ram(g, page, PAGE_SIZE);
	if (m == NULL || (m->rights & t->access) != t->access)
		return false; /* the manifest forbids it: an ordinary fault */
	struct stage2 *s2 = vmi_view(g, v->view);
	/*
	 * Rights that allow it now still go to the monitor (rather than a silent retry): they
	 * changed from another CPU (the monitor answers a retry), or the hardware cannot give them
	 * (x86 NPT: execute without read is no access), where a retry would never end.
	 */
	if (g->vmi.monitor == CFG_NONE || kernel.partitions[g->vmi.monitor].stopped) {
		/* Nobody listens: the page gets the manifest's rights back, the access runs. */
		u64 done = 0;
		if (!stage2_protect(s2, ipa_init(page), PAGE_SIZE, m->rights & VMI_RWX, VMI_RWX, 4u,
		                    &g->vmi.tables_left, &done))
			return false;
		*next = v;
		return true;
	}
	u64 gla = 0;
	u32 flags = arch_vcpu_fault_info(&v->arch, t->syndrome, &gla);
	struct kernel_msg *k = &v->kmsg;
	k->label = IPC_LABEL_VMI_MEM;
	k->words[0] = t->address;
	k->words[1] = t->access | flags;
	k->words[2] = arch_vcpu_pc(&v->arch);
	k->words[3] = v->index | (u64)v->view << IPC_VMI_VIEW_SHIFT;
	k->words[4] = gla;
	k->words[5] = t->syndrome;
	k->badge = g->vmi.badge;
	v->vmi_info = t->arch_info;
	vmi_pause(v);
	*next = ipc_kernel_call(v, g->vmi.endpoint, k);
	return true;
}

struct vcpu *vmi_reg_write(struct vcpu *v, const struct trap *t)
{
	struct partition *g = v->part;
	u32 reg = (u32)t->address;
	if (reg >= 32u || !(g->vmi.regs & (1u << reg)) || g->vmi.monitor == CFG_NONE ||
	    kernel.partitions[g->vmi.monitor].stopped) {
		/* Nobody watches it (any more): the write happens now. */
		arch_vcpu_reg_write_done(&v->arch, reg, t->value, true);
		return v;
	}
	struct kernel_msg *k = &v->kmsg;
	k->label = IPC_LABEL_VMI_REG;
	k->words[0] = t->address; /* an MSR's number in the high half */
	k->words[1] = t->value;
	k->words[2] = arch_vcpu_pc(&v->arch);
	k->words[3] = v->index | (u64)v->view << IPC_VMI_VIEW_SHIFT;
	k->words[4] = t->arch_info;
	k->words[5] = t->syndrome;
	k->badge = g->vmi.badge;
	vmi_pause(v);
	return ipc_kernel_call(v, g->vmi.endpoint, k);
}

struct vcpu *vmi_step(struct vcpu *v)
{
	struct partition *g = v->part;
	if (g->vmi.monitor == CFG_NONE || kernel.partitions[g->vmi.monitor].stopped) {
		(void)arch_vcpu_set_step(&v->arch, false); /* nobody to tell: it runs freely */
		return v;
	}
	struct kernel_msg *k = &v->kmsg;
	k->label = IPC_LABEL_VMI_STEP;
	k->words[0] = 0;
	k->words[1] = 0;
	k->words[2] = arch_vcpu_pc(&v->arch);
	k->words[3] = v->index | (u64)v->view << IPC_VMI_VIEW_SHIFT;
	k->words[4] = 0;
	k->words[5] = 0;
	k->badge = g->vmi.badge;
	vmi_pause(v);
	return ipc_kernel_call(v, g->vmi.endpoint, k);
}

void vmi_reply(struct vcpu *caller, u64 action, u64 view_plus1)
{
	caller->kernel_sender = false;
	if (caller->kmsg.label == IPC_LABEL_VMI_STEP) {
		/* The instruction is done: it goes on (stepped still, unless SINGLESTEP ended it). */
		if (view_plus1 != 0 && vmi_view_exists(caller->part, view_plus1 - 1u))
			vmi_set_view(caller, (u32)(view_plus1 - 1u));
		vmi_apply_set_regs(caller);
		return;
	}
	if (caller->kmsg.label == IPC_LABEL_VMI_REG) {
		/* Allow (RETRY) performs the held write, SKIP drops it; on past it either way. */
		arch_vcpu_reg_write_done(&caller->arch, (u32)caller->kmsg.words[0],
		                         caller->kmsg.words[1], action != IPC_VMI_SKIP);
		if (view_plus1 != 0 && vmi_view_exists(caller->part, view_plus1 - 1u))
			vmi_set_view(caller, (u32)(view_plus1 - 1u));
		vmi_apply_set_regs(caller);
		return;
	}
	if (view_plus1 != 0 && vmi_view_exists(caller->part, view_plus1 - 1u))
		vmi_set_view(caller, (u32)(view_plus1 - 1u));
	/* x86 without a decoded instruction cannot: the access runs again. */
	if (action == IPC_VMI_SKIP && !caller->vmi_set_regs)
		(void)arch_vcpu_skip_insn(&caller->arch, caller->vmi_info);
	vmi_apply_set_regs(caller);
}

void vmi_abandon(struct vcpu *caller)
{
	vmi_commit_held(caller);
	caller->kernel_sender = false;
	sched_make_ready(caller);
}

/* ---- HC_VMI ------------------------------------------------------------------------------ */

static enum status vmi_attach(struct vcpu *v, struct partition *g)
{
	const struct cap *ep;
	enum status s = cap_lookup(&v->part->caps, reg_get(v, IPC_REG_WORD0), CAP_ENDPOINT,
	                           RIGHT_EP_SEND, &ep);
	if (s != STATUS_OK)
		return s;
	if (g->vmi.monitor != CFG_NONE && g->vmi.monitor != v->part->id &&
	    !kernel.partitions[g->vmi.monitor].stopped)
		return STATUS_BUSY;
	g->vmi.monitor = v->part->id;
	g->vmi.endpoint = ep->object;
	g->vmi.badge = reg_get(v, IPC_REG_WORD0 + 1u);
	return STATUS_OK;
}

static enum status vmi_detach(struct vcpu *v, struct partition *g)
{
	if (g->vmi.monitor != v->part->id)
		return STATUS_BAD_STATE;
	vmi_reset(g);
	g->vmi.monitor = CFG_NONE;
	g->vmi.endpoint = CFG_NONE;
	return STATUS_OK;
}

static enum status vmi_protect(struct vcpu *v, struct partition *g, u64 *out)
{
	u64 view = reg_get(v, IPC_REG_WORD0), ipa = reg_get(v, IPC_REG_WORD0 + 1u);
	u64 size = reg_get(v, IPC_REG_WORD0 + 2u), rights = reg_get(v, IPC_REG_WORD0 + 3u);
	if (!vmi_view_exists(g, view) || (rights & ~(u64)VMI_RWX) != 0 || size == 0 ||
	    !is_page_aligned(ipa) || !is_page_aligned(size))
		return STATUS_INVALID_ARG;
	const struct cfg_mapping *m = vmi_ram(g, ipa, size);
	if (m == NULL)
		return STATUS_INVALID_ARG;
	u64 done = 0;
	bool ok = stage2_protect(vmi_view(g, (u32)view), ipa_init(ipa), size,
	                         m->rights & (u32)rights, VMI_RWX, IPC_VMI_PROTECT_MAX,
	                         &g->vmi.tables_left, &done);
	if (view == 0 && done != 0)
		g->vmi.touched = true;
	*out = done;
	if (!ok && done == 0)
		return STATUS_BUSY; /* its table quota (or the pool) is spent */
	return STATUS_OK;
}

static enum status vmi_get(struct vcpu *v, struct partition *g, u64 *out)
{
	u64 view = reg_get(v, IPC_REG_WORD0), ipa = reg_get(v, IPC_REG_WORD0 + 1u);
	paddr_t pa;
	u32 rights;
	if (!vmi_view_exists(g, view) || vmi_ram(g, ipa, 1u) == NULL ||
	    !stage2_lookup(vmi_view(g, (u32)view), ipa_init(ipa), &pa, &rights))
		return STATUS_INVALID_ARG;
	/* In force: a device model's write lock (kernel/dm.c) holds the write back. */
	*out = rights & VMI_RWX & ((rights & STAGE2_WLOCK) ? ~(u32)IPC_ACCESS_WRITE : ~0u);
	return STATUS_OK;
}

/** Build view k's tables: every mapping of the guest, as the boot built view 0. */
static bool vmi_view_build(struct partition *g, u32 k)
{
	const struct config *cfg = &kernel.cfg;
	const struct cfg_partition *cp = &cfg->partitions[g->id];
	u32 before = stage2_pool_free();
	struct stage2 *s2 = &g->vmi.views[k];
	bool ok = stage2_init(s2, arch_stage2_view_vmid(g->s2.vmid, k));
	for (u32 i = 0; ok && i < cp->mapping_count; i++) {
		const struct cfg_mapping *m = &cp->mappings[i];
		const struct cfg_region *r = &cfg->regions[m->region];
		ok = stage2_map(s2, ipa_init(m->ipa), pa_init(r->pa), r->size, m->rights,
		                r->kind == REGION_DEVICE);
	}
	u32 taken = before - stage2_pool_free();
	g->vmi.tables_left -= taken < g->vmi.tables_left ? taken : g->vmi.tables_left;
	return ok;
}

static enum status vmi_view_create(struct vcpu *v, struct partition *g)
{
	u64 k = reg_get(v, IPC_REG_WORD0), rights = reg_get(v, IPC_REG_WORD0 + 1u);
	if (k == 0 || k >= IPC_VMI_VIEWS || (rights & ~(u64)VMI_RWX) != 0)
		return STATUS_INVALID_ARG;
	if (vmi_view_exists(g, k))
		return STATUS_BUSY;
	if (!(g->vmi.views_built & (1u << k))) {
		/* The tables it needs: about one a level for each mapping. */
		const struct cfg_partition *cp = &kernel.cfg.partitions[g->id];
		if (g->vmi.tables_left < 4u * (cp->mapping_count + 1u) ||
		    !vmi_view_build(g, (u32)k))
			return STATUS_BUSY; /* a half-built view stays unbuilt (its tables are lost) */
		g->vmi.views_built |= (u16)(1u << k);
	}
	/* Built before: destroyed views keep their tables; their remaps went with them. */
	if (!vmi_protect_ram(g, (u32)k, (u32)rights) || !dm_view_created(g, (u32)k))
		return STATUS_BUSY;
	g->vmi.views_used |= (u16)(1u << k);
	return STATUS_OK;
}

static enum status vmi_view_destroy(struct vcpu *v, struct partition *g)
{
	u64 k = reg_get(v, IPC_REG_WORD0);
	if (!vmi_view_exists(g, k))
		return STATUS_INVALID_ARG;
	if (k == 0)
		return STATUS_BUSY;
	for (u32 i = 0; i < g->vcpu_count; i++)
		if (g->vcpus[i].view == k)
			return STATUS_BUSY;
	for (u32 i = 0; i < VMI_REMAP_MAX; i++)
		if (g->vmi.remaps[i].used && g->vmi.remaps[i].view == k)
			vmi_unmap_remap(g, &g->vmi.remaps[i]);
	g->vmi.views_used &= (u16) ~(1u << k);
	return STATUS_OK;
}

static enum status vmi_view_switch(struct vcpu *v, struct partition *g)
{
	u64 which = reg_get(v, IPC_REG_WORD0), k = reg_get(v, IPC_REG_WORD0 + 1u);
	if (!vmi_view_exists(g, k) || (which != IPC_VMI_ALL_VCPUS && which >= g->vcpu_count))
		return STATUS_INVALID_ARG;
	u32 first = which == IPC_VMI_ALL_VCPUS ? 0 : (u32)which;
	u32 end = which == IPC_VMI_ALL_VCPUS ? g->vcpu_count : first + 1u;
	for (u32 i = first; i < end; i++)
		if (g->vcpus[i].state == VCPU_RUNNING)
			return STATUS_BUSY; /* in a CPU now: pause it on an event first */
	for (u32 i = first; i < end; i++)
		vmi_set_view(&g->vcpus[i], (u32)k);
	return STATUS_OK;
}

static enum status vmi_change_gfn(struct vcpu *v, struct partition *g)
{
	u64 k = reg_get(v, IPC_REG_WORD0), old = reg_get(v, IPC_REG_WORD0 + 1u);
	u64 to = reg_get(v, IPC_REG_WORD0 + 2u);
	if (k == 0 || !vmi_view_exists(g, k) || !is_page_aligned(old) ||
	    vmi_ram(g, old, PAGE_SIZE) == NULL)
		return STATUS_INVALID_ARG;
	struct vmi_remap *e = NULL, *free = NULL;
	for (u32 i = 0; i < VMI_REMAP_MAX; i++) {
		struct vmi_remap *r = &g->vmi.remaps[i];
		if (r->used && r->view == k && r->ipa == old)
			e = r;
		else if (!r->used && free == NULL)
			free = r;
	}
	if (to == IPC_VMI_GFN_RESET) {
		if (e == NULL)
			return STATUS_INVALID_ARG;
		vmi_unmap_remap(g, e);
		return STATUS_OK;
	}
	paddr_t pa, unused;
	u32 rights, r2;
	const struct cfg_mapping *from_map = vmi_ram(g, old, PAGE_SIZE);
	const struct cfg_mapping *to_map = is_page_aligned(to) ? vmi_ram(g, to, PAGE_SIZE) : NULL;
	/*
	 * The frame shown must allow whatever the page's own may (the manifest's rights of its
	 * mapping, which later PROTECTs of the page never exceed): a read-only frame never
	 * becomes writable through another page.
	 */
	if (to_map == NULL || (from_map->rights & ~to_map->rights & VMI_RWX) != 0 ||
	    !stage2_lookup(&g->s2, ipa_init(to), &pa, &r2) ||
	    !stage2_lookup(&g->vmi.views[k], ipa_init(old), &unused, &rights))
		return STATUS_INVALID_ARG;
	if (e == NULL && free == NULL)
		return STATUS_BUSY;
	if (!stage2_remap(&g->vmi.views[k], ipa_init(old), pa, rights, &g->vmi.tables_left))
		return STATUS_BUSY;
	if (e == NULL)
		*free = (struct vmi_remap){ old, (u8)k, true };
	return STATUS_OK;
}

static enum status vmi_monitor_regs(struct vcpu *v, struct partition *g)
{
	u64 mask = reg_get(v, IPC_REG_WORD0);
	if ((mask & ~(u64)arch_vmi_regs_supported()) != 0)
		return STATUS_INVALID_ARG;
	vmi_trap_regs(g, (u32)mask | (g->vmi.regs & (1u << IPC_VMI_REG_MSR)));
	return STATUS_OK;
}

/** MSR writes as events: one MSR added to or taken from the guest's list. */
static enum status vmi_monitor_msr(struct vcpu *v, struct partition *g)
{
	u64 msr = reg_get(v, IPC_REG_WORD0), on = reg_get(v, IPC_REG_WORD0 + 1u);
	if (msr > UINT32_MAX || on > 1u || !arch_vmi_msr_supported((u32)msr))
		return STATUS_INVALID_ARG;
	u32 list[VMI_MSR_MAX], n = 0;
	for (u32 i = 0; i < g->vmi.msr_count; i++)
		if (g->vmi.msrs[i] != msr)
			list[n++] = g->vmi.msrs[i];
	if (on != 0) {
		if (n == VMI_MSR_MAX)
			return STATUS_BUSY;
		list[n++] = (u32)msr;
	}
	if (!vmi_trap_msrs(g, list, n)) {
		(void)vmi_trap_msrs(g, g->vmi.msrs, g->vmi.msr_count); /* as it was */
		return STATUS_BUSY;
	}
	for (u32 i = 0; i < n; i++)
		g->vmi.msrs[i] = list[i];
	g->vmi.msr_count = n;
	const u32 bit = 1u << IPC_VMI_REG_MSR;
	g->vmi.regs = n != 0 ? (g->vmi.regs | bit) : (g->vmi.regs & ~bit);
	return STATUS_OK;
}

static enum status vmi_singlestep(struct vcpu *v, struct partition *g)
{
	u64 which = reg_get(v, IPC_REG_WORD0), on = reg_get(v, IPC_REG_WORD0 + 1u);
	if (which >= g->vcpu_count || on > 1u)
		return STATUS_INVALID_ARG;
	struct vcpu *t = &g->vcpus[which];
	if (t->state == VCPU_RUNNING)
		return STATUS_BUSY; /* in a CPU now: pause it on an event first */
	if (!arch_vcpu_set_step(&t->arch, on != 0))
		return STATUS_INVALID_ARG; /* the platform cannot */
	if (on != 0)
		g->vmi.stepping = true;
	return STATUS_OK;
}

/** A paused vCPU's translation registers into r3..r6 (a software walk's context). */
static enum status vmi_get_regs(struct vcpu *v, struct partition *g)
{
	u64 which = reg_get(v, IPC_REG_WORD0), regs[4];
	if (which >= g->vcpu_count)
		return STATUS_INVALID_ARG;
	const struct vcpu *t = &g->vcpus[which];
	if (!vmi_waiting(t) || t->state == VCPU_STOPPED)
		return STATUS_BUSY; /* it may be running: pause it on an event first */
	arch_vcpu_vmi_regs(&t->arch, regs);
	for (u32 i = 0; i < 4u; i++)
		reg_set(v, IPC_REG_WORD0 + i, regs[i]);
	return STATUS_OK;
}

/** Registers a paused vCPU resumes with, applied with the answer to its event. */
static enum status vmi_put_regs(struct vcpu *v, struct partition *g)
{
	u64 which = reg_get(v, IPC_REG_WORD0);
	if (which >= g->vcpu_count)
		return STATUS_INVALID_ARG;
	struct vcpu *t = &g->vcpus[which];
	if (!vmi_waiting(t) || t->state == VCPU_STOPPED)
		return STATUS_BUSY; /* it may be running: pause it on an event first */
	for (u32 i = 0; i < 4u; i++)
		t->vmi_set[i] = reg_get(v, IPC_REG_WORD0 + 1u + i);
	t->vmi_set_regs = true;
	return STATUS_OK;
}

static enum status vmi_do(struct vcpu *v, u64 *out)
{
	const struct cap *c;
	enum status s = cap_lookup(&v->part->caps, reg_get(v, IPC_REG_CAP), CAP_GUEST,
	                           RIGHT_GUEST_MONITOR, &c);
	if (s != STATUS_OK)
		return s;
	struct partition *g = &kernel.partitions[c->object];
	if (g == v->part || g->type == PARTITION_SERVICE)
		return STATUS_INVALID_ARG; /* never itself; only VMs have views */
	switch (reg_get(v, IPC_REG_LABEL)) {
	case IPC_VMI_ATTACH:
		return vmi_attach(v, g);
	case IPC_VMI_DETACH:
		return vmi_detach(v, g);
	case IPC_VMI_PROTECT:
		return vmi_protect(v, g, out);
	case IPC_VMI_GET:
		return vmi_get(v, g, out);
	case IPC_VMI_VIEW_CREATE:
		return vmi_view_create(v, g);
	case IPC_VMI_VIEW_DESTROY:
		return vmi_view_destroy(v, g);
	case IPC_VMI_VIEW_SWITCH:
		return vmi_view_switch(v, g);
	case IPC_VMI_CHANGE_GFN:
		return vmi_change_gfn(v, g);
	case IPC_VMI_MONITOR_REGS:
		return vmi_monitor_regs(v, g);
	case IPC_VMI_SINGLESTEP:
		return vmi_singlestep(v, g);
	case IPC_VMI_GET_REGS:
		return vmi_get_regs(v, g);
	case IPC_VMI_SET_REGS:
		return vmi_put_regs(v, g);
	case IPC_VMI_MONITOR_MSR:
		return vmi_monitor_msr(v, g);
	default:
		return STATUS_INVALID_ARG;
	}
}

struct vcpu *vmi_call(struct vcpu *v)
{
	u64 out = 0;
	enum status s = vmi_do(v, &out);
	reg_status(v, s);
	if (s == STATUS_OK)
		reg_set(v, IPC_REG_CAP, out);
	return v;
}
