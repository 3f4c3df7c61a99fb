/**
 * mem_access types, views (altp2m) and change_gfn for one guest (vmi.h). A view keeps only
 * the pages whose setting differs from its default, sorted by gfn, so a lookup is a binary
 * search and a view costs nothing for pages nobody protects.
 */
#include "vmi.h"

/** Who may act on the guest: only the monitor, and never the guest itself. */
static int check_caller(const struct vmi_guest *g, uint16_t caller)
{
	if (caller == g->cfg.id || caller != g->cfg.monitor_id)
		return VMI_EPERM;
	return VMI_OK;
}

static void view_reset(struct vmi_view *v, uint8_t default_access)
{
	v->used = true;
	v->default_access = default_access;
	v->page_count = 0;
	v->remap_count = 0;
}

int vmi_guest_init(struct vmi_guest *g, const struct vmi_guest_config *cfg)
{
	if (g == 0 || cfg == 0 || cfg->vcpu_count == 0 || cfg->vcpu_count > VMI_MAX_VCPUS ||
	    cfg->gfn_count == 0 || cfg->gfn_count == VMI_GFN_INVALID || cfg->id == cfg->monitor_id)
		return VMI_EINVAL;
	/* Field by field: the structure is large and a partition has no memset to spare. */
	g->cfg = *cfg;
	g->altp2m_active = false;
	g->ring_enabled = false;
	g->crashed = false;
	g->ring_head = 0;
	g->ring_count = 0;
	g->last_woken = (uint8_t)(cfg->vcpu_count - 1); /* the first scan starts at vCPU 0 */
	g->singlestep_monitor = false;
	for (unsigned i = 0; i < VMI_REG_COUNT; i++)
		g->regs[i] = (struct vmi_reg_monitor){ 0 };
	for (unsigned t = 0; t < 3; t++)
		for (unsigned i = 0; i < VMI_MSR_BITMAP_BYTES; i++)
			g->msr_bitmap[t][i] = 0;
	for (unsigned i = 0; i < VMI_MAX_VCPUS; i++)
		g->vcpus[i] = (struct vmi_vcpu){ 0 };
	for (unsigned i = 0; i < VMI_MAX_VIEWS; i++) {
		g->views[i].used = false;
		g->views[i].page_count = 0;
		g->views[i].remap_count = 0;
	}
	view_reset(&g->views[0], VMI_ACCESS_RWX);
	return VMI_OK;
}

/**
 * Write without read (w, wx) is refused with -EINVAL. Xen accepts both, but on Intel EPT a
 * writable, unreadable entry is a misconfiguration (SDM Vol. 3C 28.3.3.1), AMD NPT cannot
 * express it at all, and only arm64's stage 2 could: one answer on both platforms, and never a
 * protection silently different from the one asked for (docs/introspection.md).
 */
bool vmi_access_valid(uint32_t access, bool allow_default)
{
	if (access >= VMI_ACCESS_COUNT || access == VMI_ACCESS_W || access == VMI_ACCESS_WX)
		return false;
	return allow_default || access != VMI_ACCESS_DEFAULT;
}

unsigned vmi_access_rights(uint32_t access)
{
	switch (access) {
	case VMI_ACCESS_R:
		return VMI_R;
	case VMI_ACCESS_RW:
		return VMI_R | VMI_W;
	case VMI_ACCESS_X:
		return VMI_X;
	case VMI_ACCESS_RX:
	case VMI_ACCESS_RX2RW:
		return VMI_R | VMI_X;
	case VMI_ACCESS_RWX:
		return VMI_RWX;
	default: /* n, n2rwx, and the refused or meaningless ones */
		return 0;
	}
}

/** Index of the first page entry with gfn >= `gfn`. */
static unsigned page_lower_bound(const struct vmi_view *v, uint64_t gfn)
{
	unsigned lo = 0, hi = v->page_count;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (v->pages[mid].gfn < gfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct vmi_page *vmi_page_find(const struct vmi_view *v, uint64_t gfn)
{
	unsigned i = page_lower_bound(v, gfn);
	return i < v->page_count && v->pages[i].gfn == gfn ? &v->pages[i] : 0;
}

int vmi_page_set(struct vmi_view *v, uint64_t gfn, uint8_t access)
{
	unsigned i = page_lower_bound(v, gfn);
	bool present = i < v->page_count && v->pages[i].gfn == gfn;
	if (access == VMI_ACCESS_DEFAULT) {
		if (present) {
			for (unsigned j = i; j + 1 < v->page_count; j++)
				v->pages[j] = v->pages[j + 1];
			v->page_count--;
		}
		return VMI_OK;
	}
	if (present) {
		v->pages[i].access = access;
		return VMI_OK;
	}
	if (v->page_count >= VMI_MAX_PAGES)
		return VMI_ENOMEM;
	for (unsigned j = v->page_count; j > i; j--)
		v->pages[j] = v->pages[j - 1];
	v->pages[i] = (struct vmi_page){ .gfn = gfn, .access = access };
	v->page_count++;
	return VMI_OK;
}

/** A view that operations may name: 0 always, others only with altp2m active and created. */
static int view_check(const struct vmi_guest *g, uint32_t view)
{
	if (view == 0)
		return VMI_OK;
	if (!g->altp2m_active)
		return VMI_EOPNOTSUPP;
	if (view >= VMI_MAX_VIEWS || !g->views[view].used)
		return VMI_EINVAL;
	return VMI_OK;
}

int vmi_set_access(struct vmi_guest *g, uint16_t caller, uint32_t view, uint64_t gfn, uint64_t nr,
                   uint32_t access)
{
	int rc = check_caller(g, caller);
	if (rc == VMI_OK)
		rc = view_check(g, view);
	if (rc != VMI_OK)
		return rc;
	struct vmi_view *v = &g->views[view];
	if (gfn == VMI_GFN_DEFAULT) {
		if (!vmi_access_valid(access, false))
			return VMI_EINVAL;
		v->default_access = (uint8_t)access;
		return VMI_OK;
	}
	if (!vmi_access_valid(access, true) || nr == 0 || gfn >= g->cfg.gfn_count ||
	    nr > g->cfg.gfn_count - gfn)
		return VMI_EINVAL;
	if (access == VMI_ACCESS_DEFAULT) {
		/* Drop the range's own settings: walk the entries, not the (maybe huge) range. */
		unsigned lo = page_lower_bound(v, gfn), hi = lo;
		while (hi < v->page_count && v->pages[hi].gfn - gfn < nr)
			hi++;
		for (unsigned j = hi; j < v->page_count; j++)
			v->pages[lo + j - hi] = v->pages[j];
		v->page_count = (uint16_t)(v->page_count - (hi - lo));
		return VMI_OK;
	}
	/*
	 * All or nothing: count the new entries first so that a full view changes nothing. The
	 * count stops past the room left, so this loop is bounded by the entries that exist.
	 */
	uint64_t added = 0;
	for (uint64_t i = 0; i < nr && added <= VMI_MAX_PAGES; i++)
		added += vmi_page_find(v, gfn + i) == 0;
	if (added > (uint64_t)(VMI_MAX_PAGES - v->page_count))
		return VMI_ENOMEM;
	for (uint64_t i = 0; i < nr; i++)
		(void)vmi_page_set(v, gfn + i, (uint8_t)access);
	return VMI_OK;
}

uint8_t vmi_view_access(const struct vmi_guest *g, uint32_t view, uint64_t gfn)
{
	if (view >= VMI_MAX_VIEWS || !g->views[view].used)
		view = 0;
	const struct vmi_page *p = vmi_page_find(&g->views[view], gfn);
	if (p == 0 && view != 0) {
		/* Views fill from the host view: its page settings show through. */
		p = vmi_page_find(&g->views[0], gfn);
	}
	return p != 0 ? p->access : g->views[view].default_access;
}

int vmi_get_access(const struct vmi_guest *g, uint16_t caller, uint32_t view, uint64_t gfn,
                   uint32_t *access)
{
	int rc = check_caller(g, caller);
	if (rc == VMI_OK)
		rc = view_check(g, view);
	if (rc != VMI_OK)
		return rc;
	if (gfn == VMI_GFN_DEFAULT)
		*access = g->views[view].default_access;
	else if (gfn >= g->cfg.gfn_count)
		return VMI_EINVAL;
	else
		*access = vmi_view_access(g, view, gfn);
	return VMI_OK;
}

unsigned vmi_effective(const struct vmi_guest *g, uint32_t view, uint64_t gfn, unsigned manifest)
{
	return manifest & VMI_RWX & vmi_access_rights(vmi_view_access(g, view, gfn));
}

uint64_t vmi_view_frame(const struct vmi_guest *g, uint32_t view, uint64_t gfn)
{
	if (view >= VMI_MAX_VIEWS || !g->views[view].used)
		return gfn;
	const struct vmi_view *v = &g->views[view];
	for (unsigned i = 0; i < v->remap_count; i++)
		if (v->remaps[i].old_gfn == gfn)
			return v->remaps[i].new_gfn;
	return gfn;
}

int vmi_altp2m_set_state(struct vmi_guest *g, uint16_t caller, bool on)
{
	int rc = check_caller(g, caller);
	if (rc != VMI_OK)
		return rc;
	if (!g->cfg.altp2m_allowed)
		return VMI_EINVAL;
	if (on == g->altp2m_active)
		return VMI_OK;
	g->altp2m_active = on;
	/* Either way every vCPU is in view 0 and no alternate view survives. */
	for (unsigned i = 1; i < VMI_MAX_VIEWS; i++)
		g->views[i].used = false;
	for (unsigned i = 0; i < g->cfg.vcpu_count; i++)
		g->vcpus[i].view = 0;
	return VMI_OK;
}

int vmi_altp2m_create(struct vmi_guest *g, uint16_t caller, uint32_t default_access, uint32_t *view)
{
	int rc = check_caller(g, caller);
	if (rc != VMI_OK)
		return rc;
	if (!g->altp2m_active)
		return VMI_EOPNOTSUPP;
	if (!vmi_access_valid(default_access, true))
		return VMI_EINVAL;
	for (unsigned i = 1; i < VMI_MAX_VIEWS; i++) {
		if (!g->views[i].used) {
			/* "default" means the host view's default. */
			view_reset(&g->views[i], default_access == VMI_ACCESS_DEFAULT ?
			                                 g->views[0].default_access :
			                                 (uint8_t)default_access);
			*view = i;
			return VMI_OK;
		}
	}
	return VMI_EINVAL; /* Xen: no free view is -EINVAL */
}

int vmi_altp2m_destroy(struct vmi_guest *g, uint16_t caller, uint32_t view)
{
	int rc = check_caller(g, caller);
	if (rc != VMI_OK)
		return rc;
	if (!g->altp2m_active)
		return VMI_EOPNOTSUPP;
	if (view == 0)
		return VMI_EBUSY;
	if (view >= VMI_MAX_VIEWS || !g->views[view].used)
		return VMI_EINVAL;
	for (unsigned i = 0; i < g->cfg.vcpu_count; i++)
		if (g->vcpus[i].view == view)
			return VMI_EBUSY;
	g->views[view].used = false;
	return VMI_OK;
}

int vmi_altp2m_switch(struct vmi_guest *g, uint16_t caller, uint32_t view)
{
	int rc = check_caller(g, caller);
	if (rc != VMI_OK)
		return rc;
	if (!g->altp2m_active)
		return VMI_EOPNOTSUPP;
	if (view >= VMI_MAX_VIEWS || !g->views[view].used)
		return VMI_EINVAL;
	for (unsigned i = 0; i < g->cfg.vcpu_count; i++)
		g->vcpus[i].view = (uint8_t)view;
	return VMI_OK;
}

/**
 * Xen's change_gfn: in one alternate view, accesses to old_gfn reach new_gfn's frame (both
 * must be the guest's RAM); VMI_GFN_INVALID undoes it. View 0 always mirrors the manifest, so
 * it cannot be changed here (-EINVAL).
 */
int vmi_change_gfn(struct vmi_guest *g, uint16_t caller, uint32_t view, uint64_t old_gfn,
                   uint64_t new_gfn)
{
	int rc = check_caller(g, caller);
	if (rc != VMI_OK)
		return rc;
	if (!g->altp2m_active)
		return VMI_EOPNOTSUPP;
	if (view == 0 || view >= VMI_MAX_VIEWS || !g->views[view].used ||
	    old_gfn >= g->cfg.gfn_count ||
	    (new_gfn != VMI_GFN_INVALID && new_gfn >= g->cfg.gfn_count))
		return VMI_EINVAL;
	struct vmi_view *v = &g->views[view];
	unsigned i = 0;
	while (i < v->remap_count && v->remaps[i].old_gfn != old_gfn)
		i++;
	if (new_gfn == VMI_GFN_INVALID || new_gfn == old_gfn) {
		if (i < v->remap_count) {
			v->remaps[i] = v->remaps[v->remap_count - 1];
			v->remap_count--;
		}
		return VMI_OK;
	}
	if (i == v->remap_count) {
		if (v->remap_count >= VMI_MAX_REMAPS)
			return VMI_ENOMEM;
		v->remap_count++;
	}
	v->remaps[i] = (struct vmi_remap){ .old_gfn = old_gfn, .new_gfn = new_gfn };
	return VMI_OK;
}
