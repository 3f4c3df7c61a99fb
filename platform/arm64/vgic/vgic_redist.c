/**
 * Virtual GICv3 redistributors (one per vCPU) and SGIs from trapped
 * ICC_SGI1R_EL1 writes (ARM IHI 0069 12.10, 12.11, 12.2.23).
 *
 *   redistributor region:  vCPU 0              vCPU 1
 *                          +--------+--------+--------+--------+ ...
 *                          | RD_base|SGI_base| RD_base|SGI_base|
 *                          +--------+--------+--------+--------+
 *                          0        64K      128K     192K
 */
#include "vgic_internal.h"

/** GICR_TYPER fields (IHI 0069 12.11.38). */
#define GICR_TYPER_PLPIS (1ull << 0)
#define GICR_TYPER_LAST (1ull << 4)
/** GICR_CTLR.EnableLPIs (IHI 0069 12.11.2). */
#define GICR_CTLR_ENABLE_LPIS (1u << 0)
#define GICR_TYPER_PROCNUM_SHIFT 8
#define GICR_TYPER_AFF_SHIFT 32
/** GICR_WAKER (IHI 0069 12.11.41): ProcessorSleep [1], ChildrenAsleep [2]. */
#define GICR_WAKER_SLEEP (1u << 1)
#define GICR_WAKER_CHILDREN (1u << 2)
/** GICR_PROPBASER: IDbits, InnerCache, Shareability, PA [51:12], OuterCache. */
#define GICR_PROPBASER_MASK \
	(0x1full | (7ull << 7) | (3ull << 10) | 0x000ffffffffff000ull | (7ull << 56))
/** GICR_PENDBASER: InnerCache, Shareability, PA [51:16], OuterCache; PTZ reads as 0. */
#define GICR_PENDBASER_MASK ((7ull << 7) | (3ull << 10) | 0x000fffffffff0000ull | (7ull << 56))

/** ICC_SGI1R_EL1 fields (ARM DDI 0487 D23 / IHI 0069 12.2.23). */
#define SGI1R_TARGETS_MASK 0xffffull
#define SGI1R_AFF1_SHIFT 16
#define SGI1R_INTID_SHIFT 24
#define SGI1R_AFF2_SHIFT 32
#define SGI1R_IRM (1ull << 40)
#define SGI1R_RS_SHIFT 44
#define SGI1R_AFF3_SHIFT 48

enum {
	GICR_CTLR = 0x0000,
	GICR_IIDR = 0x0004,
	GICR_TYPER = 0x0008,
	GICR_WAKER = 0x0014,
	GICR_PROPBASER = 0x0070,
	GICR_PENDBASER = 0x0078,
	GICR_IGROUPR0 = 0x0080,
	GICR_IPRIORITYR0 = 0x0400,
	GICR_IPRIORITYR_END = 0x0420,
	GICR_ICFGR0 = 0x0c00,
	GICR_ICFGR1 = 0x0c04,
};

/** The RD_base frame: control, identification, power and LPI table registers. */
static bool rd_access(struct vgic *v, u32 cpu, u64 offset, u32 size, bool write, u64 *value)
{
	struct vgic_cpu *c = &v->cpu[cpu];
	bool wide = offset == GICR_TYPER || offset == GICR_TYPER + 4 || offset == GICR_PROPBASER ||
	            offset == GICR_PROPBASER + 4 || offset == GICR_PENDBASER ||
	            offset == GICR_PENDBASER + 4;
	if (size != 4 && !(size == 8 && wide))
		return false;
	u64 out = 0;
	if (offset == GICR_CTLR) {
		/** EnableLPIs: only with LPIs; once set it stays set (as Xen; IHI 0069 allows
		 * an implementation where clearing it is not supported). */
		if (write && (*value & GICR_CTLR_ENABLE_LPIS) && v->lpi_count != 0) {
			c->lpis_enabled = true;
			vgic_fast_forget(v);
		}
		out = c->lpis_enabled ? GICR_CTLR_ENABLE_LPIS : 0;
	} else if (offset == GICR_IIDR) {
		out = VGIC_IIDR;
	} else if (offset == GICR_TYPER || offset == GICR_TYPER + 4) {
		u64 m = c->mpidr;
		u64 aff = (m & 0xffffffull) | ((m >> 8) & 0xff000000ull);
		u64 typer = (aff << GICR_TYPER_AFF_SHIFT) | ((u64)cpu << GICR_TYPER_PROCNUM_SHIFT);
		if (cpu + 1u == v->cpu_count)
			typer |= GICR_TYPER_LAST;
		if (v->lpi_count != 0)
			typer |= GICR_TYPER_PLPIS;
		/* Read-only: writes are ignored. */
		if (!write)
			vgic_reg64_access(&typer, 0, offset, size, false, value);
		return true;
	} else if (offset == GICR_WAKER) {
		/** ChildrenAsleep follows ProcessorSleep at once: nothing to quiesce. */
		if (write)
			c->asleep = (*value & GICR_WAKER_SLEEP) != 0;
		out = c->asleep ? (GICR_WAKER_SLEEP | GICR_WAKER_CHILDREN) : 0;
	} else if (offset == GICR_PROPBASER || offset == GICR_PROPBASER + 4) {
		/** Frozen once LPIs are enabled (section 8; IHI 0069 12.11.33). */
		vgic_reg64_access(&c->propbaser, c->lpis_enabled ? 0 : GICR_PROPBASER_MASK, offset,
		                  size, write, value);
		return true;
	} else if (offset == GICR_PENDBASER || offset == GICR_PENDBASER + 4) {
		vgic_reg64_access(&c->pendbaser, c->lpis_enabled ? 0 : GICR_PENDBASER_MASK, offset,
		                  size, write, value);
		return true;
	} else if (offset == VGIC_PIDR2_OFFSET) {
		out = VGIC_PIDR2;
	}
	/* STATUSR, reserved: RAZ/WI. */
	if (!write)
		*value = out;
	return true;
}

/** The SGI_base frame: the banked SGI/PPI registers, laid out as GICD's first words. */
static bool sgi_access(struct vgic *v, u32 cpu, u64 offset, u32 size, bool write, u64 *value)
{
	struct vgic_irq *priv = v->cpu[cpu].priv;
	bool bytes = offset >= GICR_IPRIORITYR0 && offset < GICR_IPRIORITYR_END;
	if (size != 4 && !(size == 1 && bytes))
		return false;
	u32 word = (u32)*value;
	u64 out = 0;
	if (offset >= GICR_IGROUPR0 && offset < GICR_IPRIORITYR0 && (offset & 0x7fu) == 0) {
		enum vgic_bitreg reg = vgic_bitreg_of(offset);
		if (write)
			vgic_bits_write(priv, VGIC_PRIV_COUNT, reg, word);
		out = vgic_bits_read(priv, VGIC_PRIV_COUNT, reg);
	} else if (bytes) {
		u32 first = (u32)(offset - GICR_IPRIORITYR0);
		if (write)
			vgic_prio_write(&priv[first], VGIC_PRIV_COUNT - first, size, word);
		out = vgic_prio_read(&priv[first], VGIC_PRIV_COUNT - first, size);
	} else if (offset == GICR_ICFGR0) {
		/** SGIs are always edge-triggered: ICFGR0 is read-only (IHI 0069 12.11.7). */
		out = VGIC_ICFGR_SGI;
	} else if (offset == GICR_ICFGR1) {
		if (write)
			vgic_cfg_write(&priv[VGIC_SGI_COUNT], VGIC_SGI_COUNT, word);
		out = vgic_cfg_read(&priv[VGIC_SGI_COUNT], VGIC_SGI_COUNT);
	}
	/* IGRPMODR0, NSACR, reserved: RAZ/WI. */
	if (!write)
		*value = out;
	return true;
}

static bool redist_access(struct vgic *v, u64 offset, u32 size, bool write, u64 *value)
{
	if (!vgic_access_ok(offset, size) || size == 2)
		return false;
	u64 cpu = offset / VGIC_REDIST_STRIDE;
	if (cpu >= v->cpu_count)
		return false;
	u64 frame = offset % VGIC_REDIST_STRIDE;
	if (frame < VGIC_REDIST_FRAME)
		return rd_access(v, (u32)cpu, frame, size, write, value);
	return sgi_access(v, (u32)cpu, frame - VGIC_REDIST_FRAME, size, write, value);
}

bool vgic_redist_read(struct vgic *v, u64 offset, u32 size, u64 *value)
{
	*value = 0;
	return redist_access(v, offset, size, false, value);
}

bool vgic_redist_write(struct vgic *v, u64 offset, u32 size, u64 value)
{
	vgic_fast_forget(v);
	return redist_access(v, offset, size, true, &value);
}

u32 vgic_sgi(struct vgic *v, u32 sender, u64 sgi1r)
{
	u32 intid = (u32)(sgi1r >> SGI1R_INTID_SHIFT) & 0xfu;
	u32 hit = 0;
	if (sgi1r & SGI1R_IRM) {
		/** IRM = 1: every PE but the sender (IHI 0069 12.2.23). */
		for (u32 c = 0; c < v->cpu_count; c++) {
			if (c != sender) {
				vgic_irq_set_latch(&v->cpu[c].priv[intid]);
				hit |= 1u << c;
			}
		}
		return hit;
	}
	/** Aff3.Aff2.Aff1 select a cluster; Aff0 = RS * 16 + the TargetList bit. */
	u64 cluster = (((sgi1r >> SGI1R_AFF3_SHIFT) & 0xffull) << 32) |
	              (((sgi1r >> SGI1R_AFF2_SHIFT) & 0xffull) << 16) |
	              (((sgi1r >> SGI1R_AFF1_SHIFT) & 0xffull) << 8);
	u32 rs = (u32)(sgi1r >> SGI1R_RS_SHIFT) & 0xfu;
	u32 targets = (u32)(sgi1r & SGI1R_TARGETS_MASK);
	for (u32 c = 0; c < v->cpu_count; c++) {
		u64 m = v->cpu[c].mpidr;
		u32 aff0 = (u32)(m & 0xffu);
		if ((m & ~0xffull) != cluster || aff0 / 16u != rs)
			continue;
		if (targets & (1u << (aff0 % 16u))) {
			vgic_irq_set_latch(&v->cpu[c].priv[intid]);
			hit |= 1u << c;
		}
	}
	return hit;
}
