/**
 * List-register policy (ARM IHI 0069 6.4, 12.5.9 ICH_LR<n>_EL2): which
 * virtual interrupts a vCPU's list registers hold, and how what the guest
 * did with them goes back into the model. Pure: the caller reads the real
 * ICH_LR<n>_EL2 into an array before vgic_lr_fold() and writes the array
 * vgic_lr_fill() produced back, with ICH_HCR_EL2.UIE/NPIE as returned.
 *
 * An interrupt in a list register is owned by that vCPU (irq->owner) so no
 * other vCPU also lists it. An active interrupt keeps its list register
 * until the guest deactivates it (with EOImode = 0 by its EOI, with
 * EOImode = 1 by ICV_DIR_EL1; either way the hardware clears the LR's
 * active bit, and with HW = 1 also deactivates pINTID): the model only
 * reads the state bits. Every other list register is refilled with the
 * highest-priority pending, enabled interrupts (lower value first, then
 * lower INTID).
 */
#include "vgic_internal.h"

/** GICD_CTLR.EnableGrp1 (every interrupt here is Group 1). */
#define GICD_CTLR_ENABLE_GRP1 (1u << 1)

static u32 owner_of(u32 cpu)
{
	return cpu + 1u;
}

/** Whether irq may be signalled to vCPU cpu at all (enabled, pending, routed, not active). */
static bool deliverable_to(const struct vgic *v, u32 cpu, u32 intid, const struct vgic_irq *irq)
{
	if (!(irq->flags & VGIC_IRQ_ENABLED) || (irq->flags & VGIC_IRQ_ACTIVE))
		return false;
	if (!vgic_irq_pending(irq))
		return false;
	return vgic_routed_to(v, cpu, intid);
}

/** The short sorted list best_candidates keeps, and what it is for. */
struct candidates {
	u16 *out;
	u8 prio[VGIC_LR_MAX];
	u32 found, room;
	bool more;
};

/** irq (INTID intid, pending or on its line) goes into the list if it beats what is there. */
static void consider(struct candidates *k, const struct vgic *v, u32 cpu, u32 intid,
                     const struct vgic_irq *irq)
{
	if (irq->owner != 0 || !deliverable_to(v, cpu, intid, irq))
		return;
	/* INTIDs ascend, so an equal priority goes after those already listed. */
	u32 at = k->found;
	while (at > 0 && k->prio[at - 1] > irq->priority)
		at--;
	if (at >= k->room) {
		k->more = true;
		return;
	}
	if (k->found == k->room)
		k->more = true; /* the last one drops out */
	else
		k->found++;
	for (u32 i = k->found - 1; i > at; i--) {
		k->out[i] = k->out[i - 1];
		k->prio[i] = k->prio[i - 1];
	}
	k->out[at] = (u16)intid;
	k->prio[at] = irq->priority;
}

/**
 * One array of interrupts, INTIDs from first: most are idle, so the loop only tests each
 * one's flags (unrolled; this scan is most of a VM's switch-in otherwise).
 */
static void scan(struct candidates *k, const struct vgic *v, u32 cpu, const struct vgic_irq *irq,
                 u32 count, u32 first)
{
#pragma GCC unroll 4
	for (u32 i = 0; i < count; i++)
		if ((irq[i].flags & (VGIC_IRQ_LATCH | VGIC_IRQ_LINE)) != 0)
			consider(k, v, cpu, first + i, &irq[i]);
}

/**
 * The up to `room` best interrupts for vCPU cpu that no list register holds
 * yet, in order: lowest priority value, then lowest INTID. One pass over the
 * INTIDs keeps a short sorted list (insertion), so a fill costs one scan
 * however many list registers are free. Returns how many were found; *more
 * says whether further candidates did not fit.
 */
static u32 best_candidates(struct vgic *v, u32 cpu, u16 *out, u32 room, bool *more)
{
	struct candidates k = { .out = out, .room = room };
	/* INTIDs ascend through the three arrays: SGIs/PPIs, SPIs, then LPIs once enabled. */
	scan(&k, v, cpu, v->cpu[cpu].priv, VGIC_PRIV_COUNT, 0);
	scan(&k, v, cpu, v->spi, v->spi_count, VGIC_PRIV_COUNT);
	if (v->cpu[cpu].lpis_enabled)
		scan(&k, v, cpu, v->lpi, v->lpi_count, VGIC_LPI_BASE);
	*more = k.more;
	return k.found;
}

static bool cpu_listens(const struct vgic *v, u32 cpu)
{
	return (v->ctlr & GICD_CTLR_ENABLE_GRP1) && !v->cpu[cpu].asleep;
}

static u64 lr_encode(u32 intid, const struct vgic_irq *irq, bool pending, bool active)
{
	u64 lr = intid | ((u64)irq->priority << VGIC_LR_PRIO_SHIFT) | VGIC_LR_GROUP;
	if (irq->flags & VGIC_IRQ_HW) {
		/** HW = 1: the physical distributor keeps the pending state, so never
		 * pending+active in the LR (IHI 0069 12.5.9, State). */
		lr |= VGIC_LR_HW |
		      (((u64)irq->pintid & VGIC_LR_PINTID_MASK) << VGIC_LR_PINTID_SHIFT);
		if (active)
			pending = false;
	}
	if (pending)
		lr |= VGIC_LR_PENDING;
	if (active)
		lr |= VGIC_LR_ACTIVE;
	return lr;
}

/**
 * Fold list register n of vCPU cpu, which now reads `now` (the value it was
 * written with if the caller did not read it back), into the model.
 */
static u32 fold_one(struct vgic *v, u32 cpu, u32 n, u64 now)
{
	struct vgic_cpu *c = &v->cpu[cpu];
	if (c->fast_lr == n + 1u)
		c->fast_lr = 0;
	c->lr_used &= ~(1u << n);
	u32 intid = c->lr_intid[n];
	struct vgic_irq *irq = vgic_irq_get(v, cpu, intid);
	if (irq == NULL || irq->owner != owner_of(cpu))
		return 0;
	u64 was = c->lr_written[n];
	bool was_pending = was & VGIC_LR_PENDING, was_active = was & VGIC_LR_ACTIVE;
	/** Pending went away: the guest acknowledged it (it is now active, or
	 * already deactivated if the LR is invalid). A new edge since the fill
	 * (NEWPEND) keeps the latch. */
	if (was_pending && !(now & VGIC_LR_PENDING) && !(irq->flags & VGIC_IRQ_NEWPEND))
		irq->flags &= (u8)~VGIC_IRQ_LATCH;
	if (was_pending || was_active) {
		if (now & VGIC_LR_ACTIVE)
			irq->flags |= VGIC_IRQ_ACTIVE;
		else
			irq->flags &= (u8)~VGIC_IRQ_ACTIVE;
	}
	irq->flags &= (u8)~VGIC_IRQ_NEWPEND;
	if (irq->flags & VGIC_IRQ_ACTIVE) {
		c->lr_used |= 1u << n; /* stays in its LR until deactivated */
		return 0;
	}
	irq->owner = 0;
	/* Still pending but routed elsewhere now: whoever it goes to must look. */
	u32 others = 0;
	if (intid >= VGIC_PRIV_COUNT && (irq->flags & VGIC_IRQ_ENABLED) && vgic_irq_pending(irq))
		for (u32 i = 0; i < v->cpu_count; i++)
			if (i != cpu && vgic_routed_to(v, i, intid))
				others |= 1u << i;
	return others;
}

u32 vgic_lr_fold(struct vgic *v, u32 cpu, const u64 *lr, u32 lr_count)
{
	u32 others = 0;
	if (cpu >= v->cpu_count)
		return 0;
	struct vgic_cpu *c = &v->cpu[cpu];
	/* Only the registers in use (fold_one may clear their bits: a copy is walked). */
	for (u32 used = c->lr_used; used != 0; used &= used - 1u) {
		u32 n = (u32)__builtin_ctz(used);
		u64 was = c->lr_written[n];
		/* A register the caller did not read back, or another vINTID: unchanged. */
		u64 now = n < lr_count && (lr[n] & VGIC_LR_VINTID_MASK) == c->lr_intid[n] ? lr[n] :
		                                                                            was;
		others |= fold_one(v, cpu, n, now);
	}
	return others;
}

u32 vgic_lr_fill(struct vgic *v, u32 cpu, u64 *lr, u32 lr_count)
{
	if (cpu >= v->cpu_count)
		return 0;
	if (lr_count > VGIC_LR_MAX)
		lr_count = VGIC_LR_MAX;
	struct vgic_cpu *c = &v->cpu[cpu];
	u32 kept = 0;
	bool any_pending = false;
	c->fast_lr = 0;

	/* Active interrupts keep their list register; the rest are released. */
	for (u32 used = c->lr_used; used != 0; used &= used - 1u) {
		u32 n = (u32)__builtin_ctz(used);
		struct vgic_irq *irq = vgic_irq_get(v, cpu, c->lr_intid[n]);
		if (irq == NULL || irq->owner != owner_of(cpu))
			continue;
		if (n < lr_count && (irq->flags & VGIC_IRQ_ACTIVE)) {
			kept |= 1u << n;
			bool pending = vgic_irq_pending(irq);
			lr[n] = lr_encode(c->lr_intid[n], irq, pending, true);
			any_pending |= (lr[n] & VGIC_LR_PENDING) != 0;
		} else {
			irq->owner = 0;
		}
	}
	c->lr_used = kept;

	u16 pick[VGIC_LR_MAX];
	u32 room = lr_count;
	for (u32 bits = kept; bits != 0; bits &= bits - 1u)
		room--; /* not __builtin_popcount: libgcc's uses SIMD, which EL2 traps */
	bool more = false;
	u32 picked = cpu_listens(v, cpu) ? best_candidates(v, cpu, pick, room, &more) : 0;
	c->overflow = more;
	u32 next = 0;
	for (u32 n = 0; n < lr_count; n++) {
		if (kept & (1u << n))
			continue;
		if (next == picked) {
			lr[n] = 0;
			continue;
		}
		u32 intid = pick[next++];
		struct vgic_irq *irq = vgic_irq_get(v, cpu, intid);
		irq->owner = (u8)owner_of(cpu);
		lr[n] = lr_encode(intid, irq, true, false);
		c->lr_intid[n] = (u16)intid;
		c->lr_used |= 1u << n;
		any_pending = true;
	}
	for (u32 n = 0; n < lr_count; n++)
		c->lr_written[n] = lr[n];

	/**
	 * More pending than fit: ask for a maintenance interrupt when the LRs
	 * drain (UIE: at most one valid) or none is pending any more (NPIE; only
	 * when one is, or an all-active set would raise it at once), IHI 0069 6.4.2.
	 */
	if (more)
		return VGIC_HCR_UIE | (any_pending ? VGIC_HCR_NPIE : 0);
	return 0;
}

bool vgic_lr_inject(struct vgic *v, u32 cpu, u32 intid, u32 free_lrs, u32 lr_count, u32 *lr_index,
                    u64 *lr_value)
{
	if (cpu >= v->cpu_count || !cpu_listens(v, cpu))
		return false;
	struct vgic_irq *irq = vgic_irq_get(v, cpu, intid);
	if (irq == NULL)
		return false;
	struct vgic_cpu *c = &v->cpu[cpu];
	if (c->overflow)
		return false; /* better ones may wait unlisted: only a fill picks */
	if (lr_count > VGIC_LR_MAX)
		lr_count = VGIC_LR_MAX;
	u32 mask = (1u << lr_count) - 1u;
	/* Registers the guest emptied (EOI, or deactivation) since they were written: fold them. */
	u32 emptied = free_lrs & c->lr_used & mask;
	for (u32 n = 0; emptied != 0; n++, emptied >>= 1)
		if (emptied & 1u)
			fold_one(v, cpu, n, c->lr_written[n] & ~(VGIC_LR_PENDING | VGIC_LR_ACTIVE));
	if (irq->owner != 0 || !deliverable_to(v, cpu, intid, irq))
		return false;
	u32 usable = free_lrs & ~c->lr_used & mask;
	if (usable == 0)
		return false;
	u32 n = (u32)__builtin_ctz(usable);
	irq->owner = (u8)owner_of(cpu);
	c->lr_intid[n] = (u16)intid;
	c->lr_used |= 1u << n;
	c->lr_written[n] = lr_encode(intid, irq, true, false);
	*lr_index = n;
	*lr_value = c->lr_written[n];
	return true;
}

bool vgic_lr_relist_slow(struct vgic *v, u32 cpu, u32 intid, u32 free_lrs, u32 *lr_index,
                         u64 *lr_value)
{
	if (cpu >= v->cpu_count || intid >= VGIC_PRIV_COUNT)
		return false;
	struct vgic_cpu *c = &v->cpu[cpu];
	struct vgic_irq *irq = &c->priv[intid];
	if (c->overflow || irq->owner != owner_of(cpu) || !(irq->flags & VGIC_IRQ_ENABLED))
		return false;
	for (u32 used = c->lr_used & free_lrs, n = 0; used != 0; n++, used >>= 1) {
		if (!(used & 1u) || c->lr_intid[n] != intid)
			continue;
		u64 was = c->lr_written[n];
		if ((was & (VGIC_LR_PENDING | VGIC_LR_ACTIVE)) != VGIC_LR_PENDING)
			return false;
		/* Taken and finished by the guest (the LR is empty), and pending again. */
		irq->flags =
		        (u8)((irq->flags | VGIC_IRQ_LATCH) & ~(VGIC_IRQ_NEWPEND | VGIC_IRQ_ACTIVE));
		c->fast_lr = (u8)(n + 1u);
		c->fast_intid = (u8)intid;
		*lr_index = n;
		*lr_value = was;
		return true;
	}
	return false;
}

int vgic_lr_of(const struct vgic *v, u32 cpu, u32 intid)
{
	if (cpu >= v->cpu_count)
		return -1;
	const struct vgic_cpu *c = &v->cpu[cpu];
	for (u32 n = 0; n < VGIC_LR_MAX; n++)
		if ((c->lr_used & (1u << n)) && c->lr_intid[n] == intid)
			return (int)n;
	return -1;
}

bool vgic_deliverable(struct vgic *v, u32 cpu, u8 vpmr, u8 running_priority)
{
	if (cpu >= v->cpu_count || !cpu_listens(v, cpu))
		return false;
	u32 end = VGIC_PRIV_COUNT + v->spi_count;
	for (u32 intid = 0; intid < end; intid++) {
		const struct vgic_irq *irq = intid < VGIC_PRIV_COUNT ?
		                                     &v->cpu[cpu].priv[intid] :
		                                     &v->spi[intid - VGIC_PRIV_COUNT];
		if ((irq->flags & (VGIC_IRQ_LATCH | VGIC_IRQ_LINE)) == 0)
			continue;
		if (irq->owner != 0 && irq->owner != owner_of(cpu))
			continue;
		/** Signalled only above the priority mask and the running priority (IHI 0069 4.8). */
		if (irq->priority >= vpmr || irq->priority >= running_priority)
			continue;
		if (deliverable_to(v, cpu, intid, irq))
			return true;
	}
	return false;
}
