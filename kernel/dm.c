/** Device-model mediation, the kernel's half (see dm.h and docs/device-models.md). */
#include <arch/stage2.h>
#include <arch/vcpu.h>
#include <kernel/cap.h>
#include <kernel/dm.h>
#include <kernel/emulate.h>
#include <kernel/kernel.h>
#include <kernel/partition_ops.h>
#include <kernel/regs.h>
#include <kernel/trap.h>
#include <kernel/vmi.h>

void dm_init(struct partition *g)
{
	g->dm = (struct dm_state){ 0 };
	g->dm.ws_endpoint = CFG_NONE;
	g->dm.ws_service = CFG_NONE;
}

static bool dm_view_used(const struct partition *g, u32 k)
{
	return (g->vmi.views_used & (1u << k)) != 0;
}

static struct stage2 *dm_view(struct partition *g, u32 k)
{
	return k == 0 ? &g->s2 : &g->vmi.views[k];
}

/** The typed range (read-only or write-served) holding ipa, or NULL. */
static const struct dm_range *dm_ro_at(const struct dm_state *d, u64 ipa)
{
	for (u32 i = 0; i < d->ro_count; i++)
		if (ipa >= d->ro[i].start && ipa < d->ro[i].end)
			return &d->ro[i];
	return NULL;
}

static bool dm_tracked(const struct dm_state *d, u64 ipa)
{
	return ipa >= d->dirty_start && ipa < d->dirty_end;
}

/** [ipa, ipa + size) locked or unlocked in view k; false when its tables run out. */
static bool dm_lock_view(struct partition *g, u32 k, u64 ipa, u64 size, bool lock)
{
	u64 done = 0;
	return stage2_protect(dm_view(g, k), ipa_init(ipa), size, lock ? STAGE2_WLOCK : 0u,
	                      STAGE2_WLOCK, UINT32_MAX, &g->vmi.tables_left, &done);
}

/** The same in every view of g. */
static bool dm_lock(struct partition *g, u64 ipa, u64 size, bool lock)
{
	bool ok = true;
	for (u32 k = 0; k < IPC_VMI_VIEWS; k++)
		if (dm_view_used(g, k))
			ok &= dm_lock_view(g, k, ipa, size, lock);
	if (lock)
		g->dm.used = true;
	return ok;
}

static bool dm_meets_ro(const struct dm_state *d, u64 start, u64 end)
{
	for (u32 i = 0; i < d->ro_count; i++)
		if (d->ro[i].start < end && start < d->ro[i].end)
			return true;
	return false;
}

/**
 * Unlock one page (not read-only) of view k. Should its block not split (the quota spent),
 * the whole block over it is unlocked if no read-only page lies in it: the dirty log's armed
 * pages are leaves of their own, so such a block's lock is one left over. False if neither.
 */
static bool dm_unlock_page_view(struct partition *g, u32 k, u64 page)
{
	if (dm_lock_view(g, k, page, PAGE_SIZE, false))
		return true;
	static const u64 spans[] = { UINT64_C(1) << 21, UINT64_C(1) << 30 };
	for (u32 i = 0; i < 2u; i++) {
		u64 base = page & ~(spans[i] - 1u);
		if (vmi_ram(g, base, spans[i]) != NULL &&
		    !dm_meets_ro(&g->dm, base, base + spans[i]) &&
		    dm_lock_view(g, k, base, spans[i], false))
			return true;
	}
	return false;
}

/** Unlock [start, end) in every view but its typed pages (the sorted list's gaps). */
static bool dm_unlock_but_ro(struct partition *g, u64 start, u64 end)
{
	bool ok = true;
	u64 at = start;
	while (at < end) {
		const struct dm_range *r = dm_ro_at(&g->dm, at);
		if (r != NULL) {
			at = r->end;
			continue;
		}
		/* Up to the next read-only range, or the end. */
		u64 stop = end;
		for (u32 i = 0; i < g->dm.ro_count; i++)
			if (g->dm.ro[i].start > at && g->dm.ro[i].start < stop)
				stop = g->dm.ro[i].start;
		ok &= dm_lock(g, at, stop - at, false);
		at = stop;
	}
	return ok;
}

/* ---- memory types ------------------------------------------------------------------------ */

/**
 * The typed list with [start, end) given type (IPC_DM_RAM_RW: none), into out: the ranges
 * stay sorted and disjoint, neighbours of one type merge. False if it needs more than
 * DM_TYPE_RANGES ranges.
 */
static bool dm_ranges_set(const struct dm_state *d, u64 start, u64 end, u32 type,
                          struct dm_state *out)
{
	/* What lies outside [start, end) stays, in order; a range over it leaves two pieces. */
	struct dm_range tmp[DM_TYPE_RANGES + 2u];
	u32 n = 0;
	for (u32 i = 0; i < d->ro_count && n <= DM_TYPE_RANGES; i++) {
		struct dm_range r = d->ro[i];
		if (r.start < start)
			tmp[n++] =
			        (struct dm_range){ r.start, r.end < start ? r.end : start, r.type };
		if (r.end > end)
			tmp[n++] =
			        (struct dm_range){ r.start > end ? r.start : end, r.end, r.type };
	}
	if (n > DM_TYPE_RANGES)
		return false;
	if (type != IPC_DM_RAM_RW) {
		u32 at = 0;
		while (at < n && tmp[at].start < start)
			at++;
		for (u32 i = n; i > at; i--)
			tmp[i] = tmp[i - 1u];
		tmp[at] = (struct dm_range){ start, end, type };
		n++;
	}
	/* Neighbours of one type that touch become one. */
	u32 m = 0;
	for (u32 i = 0; i < n; i++) {
		if (m > 0 && out->ro[m - 1u].end == tmp[i].start &&
		    out->ro[m - 1u].type == tmp[i].type) {
			out->ro[m - 1u].end = tmp[i].end;
			continue;
		}
		if (m == DM_TYPE_RANGES)
			return false;
		out->ro[m++] = tmp[i];
	}
	out->ro_count = m;
	return true;
}

/**
 * Whether g has the tables a change of one range's locks may take in every view: it splits
 * at most a 1 GiB and a 2 MiB block at each end of the range.
 */
static bool dm_tables_for_range(const struct partition *g)
{
	u32 views = 0;
	for (u32 k = 0; k < IPC_VMI_VIEWS; k++)
		views += dm_view_used(g, k) ? 1u : 0u;
	return g->vmi.tables_left >= 4u * views;
}

static enum status dm_mem_type(struct vcpu *v, struct partition *g, u64 *out)
{
	u64 ipa = reg_get(v, IPC_REG_WORD0), size = reg_get(v, IPC_REG_WORD0 + 1u);
	u64 type = reg_get(v, IPC_REG_WORD0 + 2u);
	if ((type != IPC_DM_RAM_RW && type != IPC_DM_RAM_RO && type != IPC_DM_RAM_WRITE_SERVER) ||
	    size == 0 || !is_page_aligned(ipa) || !is_page_aligned(size) ||
	    vmi_ram(g, ipa, size) == NULL)
		return STATUS_INVALID_ARG;
	if (type == IPC_DM_RAM_WRITE_SERVER && g->dm.ws_endpoint == CFG_NONE)
		return STATUS_BAD_STATE; /* nobody to take the writes */
	u64 n = size < (u64)IPC_DM_PAGES_MAX * PAGE_SIZE ? size : (u64)IPC_DM_PAGES_MAX * PAGE_SIZE;
	bool ro = type != IPC_DM_RAM_RW; /* locked: read-only or write-served */
	struct dm_state next = g->dm;
	if (!dm_ranges_set(&g->dm, ipa, ipa + n, (u32)type, &next) || !dm_tables_for_range(g))
		return STATUS_BUSY; /* nothing changed */
	/*
	 * With the tables at hand the range's entries all change. (Locks and records agree
	 * either way: a read-only page is locked before it is recorded, and a lock left on a
	 * read-write page only costs its first write a fault, which unlocks it.)
	 */
	if (ro && !dm_lock(g, ipa, n, true))
		return STATUS_BUSY;
	g->dm.ro_count = next.ro_count;
	for (u32 i = 0; i < next.ro_count; i++)
		g->dm.ro[i] = next.ro[i];
	if (!ro)
		(void)dm_lock(g, ipa, n, false);
	*out = n;
	return STATUS_OK;
}

/** Where writes to write-served pages go; none: those pages become read-write. */
static enum status dm_write_server(struct vcpu *v, struct partition *g)
{
	u64 slot = reg_get(v, IPC_REG_WORD0), badge = reg_get(v, IPC_REG_WORD0 + 1u);
	if (slot == IPC_DM_NO_SERVER) {
		struct dm_state *d = &g->dm;
		u32 m = 0;
		for (u32 i = 0; i < d->ro_count; i++) {
			if (d->ro[i].type == IPC_DM_RAM_WRITE_SERVER)
				(void)dm_lock(g, d->ro[i].start, d->ro[i].end - d->ro[i].start,
				              false);
			else
				d->ro[m++] = d->ro[i];
		}
		d->ro_count = m;
		d->ws_endpoint = d->ws_service = CFG_NONE;
		d->ws_badge = 0;
		return STATUS_OK;
	}
	const struct cap *ep;
	enum status s = cap_lookup(&v->part->caps, slot, CAP_ENDPOINT, RIGHT_EP_SEND, &ep);
	if (s != STATUS_OK)
		return s;
	u32 service = emul_receiver(ep->object);
	if (service == CFG_NONE)
		return STATUS_INVALID_ARG; /* nobody receives there */
	g->dm.ws_endpoint = ep->object;
	g->dm.ws_service = service;
	g->dm.ws_badge = badge;
	return STATUS_OK;
}

/* ---- the dirty log ----------------------------------------------------------------------- */

/** Lock one page in every view, splitting to it; false when the tables run out. */
static bool dm_lock_page(struct partition *g, u64 page)
{
	return dm_lock(g, page, PAGE_SIZE, true);
}

static enum status dm_dirty_track(struct vcpu *v, struct partition *g, u64 *out)
{
	u64 ipa = reg_get(v, IPC_REG_WORD0), size = reg_get(v, IPC_REG_WORD0 + 1u);
	struct dm_state *d = &g->dm;
	if (size != 0 && (!is_page_aligned(ipa) || !is_page_aligned(size) ||
	                  size > IPC_DM_TRACK_MAX || vmi_ram(g, ipa, size) == NULL))
		return STATUS_INVALID_ARG;
	if (size == 0 || ipa != d->dirty_start || ipa + size != d->dirty_end) {
		/* A new range (or none): the old one's pages may be written freely again. */
		u64 start = d->dirty_start, end = d->dirty_end;
		d->dirty_start = d->dirty_end = d->armed = 0;
		if (start != end)
			(void)dm_unlock_but_ro(g, start, end);
		if (size == 0) {
			*out = 0;
			return STATUS_OK;
		}
		d->dirty_start = d->armed = ipa;
		d->dirty_end = ipa + size;
	}
	/* Arm a batch: page by page, so that each is a leaf of its own in every view. */
	for (u32 i = 0; i < IPC_DM_PAGES_MAX && d->armed < d->dirty_end; i++) {
		if (!dm_lock_page(g, d->armed)) {
			*out = d->armed - d->dirty_start;
			return STATUS_BUSY; /* the guest's table quota is spent */
		}
		d->armed += PAGE_SIZE;
	}
	*out = d->armed - d->dirty_start;
	return STATUS_OK;
}

static enum status dm_dirty_fetch(struct vcpu *v, struct partition *g, u64 *out, u64 *count)
{
	u64 ipa = reg_get(v, IPC_REG_WORD0), pages = reg_get(v, IPC_REG_WORD0 + 1u);
	struct dm_state *d = &g->dm;
	if (pages == 0 || pages > IPC_DM_FETCH_MAX || !is_page_aligned(ipa) ||
	    !dm_tracked(d, ipa) || pages > (d->dirty_end - ipa) / PAGE_SIZE)
		return STATUS_INVALID_ARG;
	u64 bits = 0;
	for (u64 i = 0; i < pages; i++) {
		u64 page = ipa + i * PAGE_SIZE;
		paddr_t pa;
		u32 rights = STAGE2_WLOCK;
		if (!stage2_lookup(&g->s2, ipa_init(page), &pa, &rights))
			return STATUS_INVALID_ARG; /* not after vmi_ram's check: never */
		if (!(rights & STAGE2_WLOCK))
			bits |= UINT64_C(1) << i;
		if (!dm_lock_page(g, page)) {
			*out = bits;
			*count = i;
			return STATUS_BUSY;
		}
	}
	*out = bits;
	*count = pages;
	return STATUS_OK;
}

static enum status dm_dirty_mark(struct vcpu *v, struct partition *g, u64 *out)
{
	u64 ipa = reg_get(v, IPC_REG_WORD0), size = reg_get(v, IPC_REG_WORD0 + 1u);
	struct dm_state *d = &g->dm;
	if (size == 0 || !is_page_aligned(ipa) || !is_page_aligned(size) ||
	    vmi_ram(g, ipa, size) == NULL)
		return STATUS_INVALID_ARG;
	u64 n = size < (u64)IPC_DM_PAGES_MAX * PAGE_SIZE ? size : (u64)IPC_DM_PAGES_MAX * PAGE_SIZE;
	/* Only the tracked part has a log to mark. */
	u64 start = ipa > d->dirty_start ? ipa : d->dirty_start;
	u64 end = ipa + n < d->dirty_end ? ipa + n : d->dirty_end;
	if (start < end)
		(void)dm_unlock_but_ro(g, start, end);
	*out = n;
	return STATUS_OK;
}

/* ---- shutdown ---------------------------------------------------------------------------- */

static enum status dm_shutdown(struct vcpu *v, struct partition *g)
{
	static const char *const why[] = {
		"shut down by its device model (poweroff)",
		"shut down by its device model (reboot)",
		"shut down by its device model (suspend)",
		"shut down by its device model (crash)",
		"shut down by its device model (watchdog)",
		"shut down by its device model (soft reset)",
	};
	u64 reason = reg_get(v, IPC_REG_WORD0);
	if (reason > IPC_DM_SHUTDOWN_SOFT_RESET)
		return STATUS_INVALID_ARG;
	partition_stop(g, why[reason],
	               reason == IPC_DM_SHUTDOWN_CRASH || reason == IPC_DM_SHUTDOWN_WATCHDOG);
	return STATUS_OK;
}

/* ---- HC_DM ------------------------------------------------------------------------------- */

static enum status dm_do(struct vcpu *v, u64 *out, u64 *out2)
{
	const struct cap *c;
	enum status s =
	        cap_lookup(&v->part->caps, reg_get(v, IPC_REG_CAP), CAP_GUEST, RIGHT_GUEST_DM, &c);
	if (s != STATUS_OK)
		return s;
	struct partition *g = &kernel.partitions[c->object];
	if (g == v->part || g->type == PARTITION_SERVICE)
		return STATUS_INVALID_ARG; /* never itself; only VMs */
	u64 op = reg_get(v, IPC_REG_LABEL);
	if (g->stopped && op != IPC_DM_SHUTDOWN)
		return STATUS_PEER_STOPPED; /* its memory is nobody's business until it restarts */
	switch (op) {
	case IPC_DM_MEM_TYPE:
		return dm_mem_type(v, g, out);
	case IPC_DM_DIRTY_TRACK:
		return dm_dirty_track(v, g, out);
	case IPC_DM_DIRTY_FETCH:
		return dm_dirty_fetch(v, g, out, out2);
	case IPC_DM_DIRTY_MARK:
		return dm_dirty_mark(v, g, out);
	case IPC_DM_SHUTDOWN:
		return dm_shutdown(v, g);
	case IPC_DM_WRITE_SERVER:
		return dm_write_server(v, g);
	default:
		return STATUS_INVALID_ARG;
	}
}

struct vcpu *dm_call(struct vcpu *v)
{
	u64 out = 0, out2 = 0;
	enum status s = dm_do(v, &out, &out2);
	reg_status(v, s);
	if (s == STATUS_OK || s == STATUS_BUSY) {
		reg_set(v, IPC_REG_CAP, out);
		reg_set(v, IPC_REG_LABEL, out2);
	}
	/* A guest stopped from here may have run on this CPU's other half: v goes on. */
	return v;
}

/* ---- faults and views -------------------------------------------------------------------- */

enum dm_verdict dm_fault(struct vcpu *v, const struct trap *t, struct vcpu **next)
{
	struct partition *g = v->part;
	if (!g->dm.used || t->kind != TRAP_MEM_FAULT || !(t->access & IPC_ACCESS_WRITE))
		return DM_NOT_MINE;
	u64 page = t->address & ~(u64)PAGE_MASK;
	const struct cfg_mapping *m = vmi_ram(g, page, PAGE_SIZE);
	paddr_t pa;
	u32 rights = 0;
	if (m == NULL || !(m->rights & RIGHT_MEM_WRITE) ||
	    !stage2_lookup(dm_view(g, v->view), ipa_init(page), &pa, &rights) ||
	    !(rights & STAGE2_WLOCK) || !(rights & RIGHT_MEM_WRITE))
		return DM_NOT_MINE; /* the manifest's or a monitor's rights stop it, not a lock */
	const struct dm_range *typed = dm_ro_at(&g->dm, page);
	if (typed != NULL && typed->type == IPC_DM_RAM_WRITE_SERVER) {
		/* Write-served: the store goes to the write server, which completes it. */
		struct trap w = *t;
		const struct dm_state *d = &g->dm;
		if (d->ws_endpoint == CFG_NONE || kernel.partitions[d->ws_service].stopped ||
		    !arch_vcpu_decode_store(&v->arch, &w))
			return DM_FAULT; /* no server (any more), or a store it cannot describe */
		*next = emul_deliver(v, &w, d->ws_endpoint, d->ws_badge, w.address - typed->start,
		                     IPC_MMIO_INDEX_MEM_TYPE);
		return DM_HANDLED;
	}
	if (typed != NULL) {
		/* Read-only: the write is dropped, the instruction has no effect. */
		u64 gla = 0;
		if ((arch_vcpu_fault_info(&v->arch, t->syndrome, &gla) & IPC_VMI_IN_GPT) ||
		    !arch_vcpu_skip_insn(&v->arch, t->arch_info))
			return DM_FAULT; /* the guest's own table walk, or an undecoded x86 form */
		*next = v;
		return DM_HANDLED;
	}
	/* Written: dirty (or a lock left over); it may be written freely until the next fetch. */
	bool here = true;
	for (u32 k = 0; k < IPC_VMI_VIEWS; k++)
		if (dm_view_used(g, k) && !dm_unlock_page_view(g, k, page) && k == v->view)
			here = false;
	if (!here)
		return DM_FAULT; /* its view cannot unlock it: the guest's table quota is spent */
	*next = v;
	return DM_HANDLED;
}

bool dm_view_created(struct partition *g, u32 view)
{
	if (!g->dm.used)
		return true;
	const struct config *cfg = &kernel.cfg;
	const struct cfg_partition *cp = &cfg->partitions[g->id];
	bool ok = true;
	/* Its tables may be an older view's: every lock they held goes first. */
	for (u32 i = 0; i < cp->mapping_count; i++) {
		const struct cfg_mapping *m = &cp->mappings[i];
		const struct cfg_region *r = &cfg->regions[m->region];
		if (r->kind != REGION_DEVICE)
			ok &= dm_lock_view(g, view, m->ipa, r->size, false);
	}
	for (u32 i = 0; i < g->dm.ro_count; i++)
		ok &= dm_lock_view(g, view, g->dm.ro[i].start, g->dm.ro[i].end - g->dm.ro[i].start,
		                   true);
	for (u64 page = g->dm.dirty_start; ok && page < g->dm.armed; page += PAGE_SIZE)
		ok &= dm_lock_view(g, view, page, PAGE_SIZE, true);
	return ok;
}

void dm_page_remapped(struct partition *g, u32 view, u64 ipa)
{
	if (dm_ro_at(&g->dm, ipa) != NULL || (dm_tracked(&g->dm, ipa) && ipa < g->dm.armed))
		(void)dm_lock_view(g, view, ipa, PAGE_SIZE, true);
}

void dm_partition_stopped(struct partition *g)
{
	if (!g->dm.used)
		return;
	const struct config *cfg = &kernel.cfg;
	const struct cfg_partition *cp = &cfg->partitions[g->id];
	for (u32 i = 0; i < cp->mapping_count; i++) {
		const struct cfg_mapping *m = &cp->mappings[i];
		const struct cfg_region *r = &cfg->regions[m->region];
		if (r->kind != REGION_DEVICE)
			(void)dm_lock(g, m->ipa, r->size, false);
	}
	dm_init(g);
}
