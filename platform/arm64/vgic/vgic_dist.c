/**
 * Virtual GICv3 distributor of a VM partition, and the state every file of
 * the model shares (ARM IHI 0069, GICv3/v4 architecture specification).
 *
 * The model, in brief (docs/interrupts.md has the whole picture):
 *
 *   struct vgic (one per VM)
 *   +-- ctlr, spi_count, cpu_count
 *   +-- spi[VGIC_SPI_MAX], irouter[VGIC_SPI_MAX]    SPIs 32.., routed by affinity
 *   +-- cpu[VGIC_VCPU_MAX]                          one redistributor per vCPU
 *       +-- priv[32]                                SGIs 0-15, PPIs 16-31 (banked)
 *       +-- mpidr, waker, propbaser, pendbaser
 *       +-- lr_used, lr_intid[16], lr_written[16]   what vgic_lr_fill() put in ICH_LR<n>
 *
 * vgic_dist.c  GICD frame, initialisation, PPI/SPI injection, shared helpers
 * vgic_redist.c  GICR frames (RD_base, SGI_base) and SGIs from ICC_SGI1R_EL1
 * vgic_lr.c    the list-register policy: fold after an exit, fill before entry
 *
 * Only affinity routing (GICD_CTLR.ARE RAO/WI), a single security state
 * (DS RAO/WI) and Group 1 (IGROUPR RAO/WI) exist, so the GICv2-compatible
 * registers (ITARGETSR, SGIR, CPENDSGIR/SPENDSGIR) read as zero and ignore
 * writes, as do GICD's words for INTIDs 0-31 (IHI 0069 12.9: with ARE set
 * they are the redistributor's). GICD_TYPER.LPIS is set for a VM with LPIs
 * (vgic_lpi_init(): a virtual ITS, docs/its.md).
 */
#include "vgic_internal.h"

/** GICD_CTLR bits (IHI 0069 12.9.4, the DS = 1 layout). */
#define GICD_CTLR_ENABLE_GRP1 (1u << 1)
#define GICD_CTLR_ARE (1u << 4)
#define GICD_CTLR_DS (1u << 6)
/** GICD_TYPER fields (IHI 0069 12.9.38). */
#define GICD_TYPER_CPUS_SHIFT 5
#define GICD_TYPER_IDBITS_SHIFT 19
#define GICD_TYPER_IDBITS 9u /* INTIDs below 1024: no LPIs */
#define GICD_TYPER_RSS (1u << 26)
#define GICD_TYPER_LPIS (1u << 17)
#define GICD_TYPER_IDBITS_LPI 13u /* INTIDs below 16384 */
/** GICD_IROUTER<n>: Aff3 [39:32], IRM [31], Aff2..Aff0 [23:0] (IHI 0069 12.9.22). */
#define GICD_IROUTER_IRM (1ull << 31)
#define GICD_IROUTER_MASK (VGIC_MPIDR_AFF_MASK | GICD_IROUTER_IRM)

/** Distributor register offsets (IHI 0069 Table 12-25). */
enum {
	GICD_CTLR = 0x0000,
	GICD_TYPER = 0x0004,
	GICD_IIDR = 0x0008,
	GICD_IGROUPR = 0x0080,
	GICD_IPRIORITYR = 0x0400,
	GICD_ITARGETSR = 0x0800,
	GICD_ICFGR = 0x0c00,
	GICD_IGRPMODR = 0x0d00,
	GICD_CPENDSGIR = 0x0f10,
	GICD_SPENDSGIR_END = 0x0f30,
	GICD_IROUTER = 0x6000,
	GICD_IROUTER_END = 0x7fe0,
};

bool vgic_access_ok(u64 offset, u32 size)
{
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return false;
	return (offset & (size - 1)) == 0;
}

bool vgic_init(struct vgic *v, u32 spi_count, u32 cpu_count, const u64 *mpidr)
{
	if (spi_count > VGIC_SPI_MAX || cpu_count == 0 || cpu_count > VGIC_VCPU_MAX)
		return false;
	u8 *raw = (u8 *)v;
	for (size_t i = 0; i < sizeof(*v); i++)
		raw[i] = 0;
	v->spi_count = (spi_count + 31u) & ~31u;
	v->cpu_count = cpu_count;
	for (u32 i = 0; i < v->spi_count; i++)
		v->irouter[i] = mpidr[0] & VGIC_MPIDR_AFF_MASK;
	for (u32 c = 0; c < cpu_count; c++) {
		v->cpu[c].mpidr = mpidr[c] & VGIC_MPIDR_AFF_MASK;
		/** GICR_WAKER resets with ProcessorSleep = 1 (IHI 0069 12.11.41). */
		v->cpu[c].asleep = true;
		for (u32 i = 0; i < VGIC_SGI_COUNT; i++)
			v->cpu[c].priv[i].flags = VGIC_IRQ_EDGE;
	}
	return true;
}

struct vgic_irq *vgic_irq_get(struct vgic *v, u32 cpu, u32 intid)
{
	if (intid < VGIC_PRIV_COUNT)
		return cpu < v->cpu_count ? &v->cpu[cpu].priv[intid] : NULL;
	if (intid - VGIC_PRIV_COUNT < v->spi_count)
		return &v->spi[intid - VGIC_PRIV_COUNT];
	if (intid >= VGIC_LPI_BASE && intid - VGIC_LPI_BASE < v->lpi_count)
		return &v->lpi[intid - VGIC_LPI_BASE];
	return NULL;
}

bool vgic_lpi_init(struct vgic *v, u32 lpi_count)
{
	if (lpi_count == 0 || lpi_count > VGIC_LPI_MAX)
		return false;
	v->lpi_count = lpi_count;
	for (u32 i = 0; i < lpi_count; i++) {
		v->lpi[i] = (struct vgic_irq){ .flags = VGIC_IRQ_EDGE };
		v->lpi_target[i] = 0;
	}
	return true;
}

bool vgic_lpi_raise(struct vgic *v, u32 cpu, u32 intid)
{
	struct vgic_irq *irq = vgic_irq_get(v, cpu, intid);
	if (intid < VGIC_LPI_BASE || irq == NULL || cpu >= v->cpu_count)
		return false;
	/* A list register holding it stays with its vCPU until folded; only the target moves. */
	v->lpi_target[intid - VGIC_LPI_BASE] = (u8)cpu;
	vgic_irq_set_latch(irq);
	return true;
}

bool vgic_lpi_clear(struct vgic *v, u32 intid)
{
	struct vgic_irq *irq = vgic_irq_get(v, 0, intid);
	if (intid < VGIC_LPI_BASE || irq == NULL)
		return false;
	irq->flags &= (u8) ~(VGIC_IRQ_LATCH | VGIC_IRQ_NEWPEND);
	vgic_fast_forget(v);
	return true;
}

bool vgic_lpi_move(struct vgic *v, u32 cpu, u32 intid)
{
	if (intid < VGIC_LPI_BASE || vgic_irq_get(v, 0, intid) == NULL || cpu >= v->cpu_count)
		return false;
	v->lpi_target[intid - VGIC_LPI_BASE] = (u8)cpu;
	vgic_fast_forget(v);
	return true;
}

bool vgic_lpi_config(struct vgic *v, u32 intid, u8 prop)
{
	struct vgic_irq *irq = vgic_irq_get(v, 0, intid);
	if (intid < VGIC_LPI_BASE || irq == NULL)
		return false;
	/** Property byte (IHI 0069 5.1.1): bit 0 enable, bits [7:2] priority. */
	irq->priority = prop & 0xfcu;
	if (prop & 1u)
		irq->flags |= VGIC_IRQ_ENABLED;
	else
		irq->flags &= (u8)~VGIC_IRQ_ENABLED;
	vgic_fast_forget(v);
	return true;
}

bool vgic_irq_pending(const struct vgic_irq *irq)
{
	if (irq->flags & VGIC_IRQ_LATCH)
		return true;
	return !(irq->flags & VGIC_IRQ_EDGE) && (irq->flags & VGIC_IRQ_LINE);
}

bool vgic_routed_to(const struct vgic *v, u32 cpu, u32 intid)
{
	if (cpu >= v->cpu_count)
		return false;
	if (intid < VGIC_PRIV_COUNT)
		return true;
	if (intid >= VGIC_LPI_BASE && intid - VGIC_LPI_BASE < v->lpi_count)
		return v->lpi_target[intid - VGIC_LPI_BASE] == cpu && v->cpu[cpu].lpis_enabled;
	u32 n = intid - VGIC_PRIV_COUNT;
	if (n >= v->spi_count)
		return false;
	/** IRM = 1: any participating PE may take it (IHI 0069 12.9.22). */
	if (v->irouter[n] & GICD_IROUTER_IRM)
		return true;
	return (v->irouter[n] & VGIC_MPIDR_AFF_MASK) == v->cpu[cpu].mpidr;
}

void vgic_irq_set_latch(struct vgic_irq *irq)
{
	irq->flags |= VGIC_IRQ_LATCH;
	if (irq->owner != 0)
		irq->flags |= VGIC_IRQ_NEWPEND;
}

bool vgic_raise(struct vgic *v, u32 cpu, u32 intid)
{
	if (intid < VGIC_SGI_COUNT)
		return false;
	struct vgic_irq *irq = vgic_irq_get(v, cpu, intid);
	if (irq == NULL)
		return false;
	vgic_irq_set_latch(irq);
	return true;
}

bool vgic_set_level(struct vgic *v, u32 cpu, u32 intid, bool level)
{
	if (intid < VGIC_SGI_COUNT)
		return false;
	struct vgic_irq *irq = vgic_irq_get(v, cpu, intid);
	if (irq == NULL)
		return false;
	/** An edge-triggered interrupt latches on the rising edge only (IHI 0069 4.1.1). */
	if (level && !(irq->flags & VGIC_IRQ_LINE) && (irq->flags & VGIC_IRQ_EDGE))
		vgic_irq_set_latch(irq);
	if (level)
		irq->flags |= VGIC_IRQ_LINE;
	else
		irq->flags &= (u8)~VGIC_IRQ_LINE;
	return true;
}

bool vgic_set_hw(struct vgic *v, u32 intid, u32 pintid)
{
	/** Only SPIs are forwarded; pINTID is a 13-bit SPI number below 1020. */
	if (intid < VGIC_PRIV_COUNT || pintid < VGIC_PRIV_COUNT || pintid >= 1020)
		return false;
	struct vgic_irq *irq = vgic_irq_get(v, 0, intid);
	if (irq == NULL)
		return false;
	irq->flags |= VGIC_IRQ_HW;
	irq->pintid = (u16)pintid;
	return true;
}

u32 vgic_bits_read(const struct vgic_irq *irq, u32 count, enum vgic_bitreg reg)
{
	u32 value = 0;
	for (u32 i = 0; i < count && i < 32; i++) {
		bool bit;
		switch (reg) {
		case VGIC_BR_GROUP:
			bit = true;
			break;
		case VGIC_BR_ISENABLER:
		case VGIC_BR_ICENABLER:
			bit = irq[i].flags & VGIC_IRQ_ENABLED;
			break;
		case VGIC_BR_ISPENDR:
		case VGIC_BR_ICPENDR:
			bit = vgic_irq_pending(&irq[i]);
			break;
		default:
			bit = irq[i].flags & VGIC_IRQ_ACTIVE;
			break;
		}
		if (bit)
			value |= 1u << i;
	}
	return value;
}

void vgic_bits_write(struct vgic_irq *irq, u32 count, enum vgic_bitreg reg, u32 value)
{
	for (u32 i = 0; i < count && i < 32; i++) {
		if (!(value & (1u << i)))
			continue;
		switch (reg) {
		case VGIC_BR_GROUP:
			break;
		case VGIC_BR_ISENABLER:
			irq[i].flags |= VGIC_IRQ_ENABLED;
			break;
		case VGIC_BR_ICENABLER:
			irq[i].flags &= (u8)~VGIC_IRQ_ENABLED;
			break;
		case VGIC_BR_ISPENDR:
			vgic_irq_set_latch(&irq[i]);
			break;
		case VGIC_BR_ICPENDR:
			/** Clears the latch; a level interrupt whose line is high stays pending. */
			irq[i].flags &= (u8) ~(VGIC_IRQ_LATCH | VGIC_IRQ_NEWPEND);
			break;
		case VGIC_BR_ISACTIVER:
			irq[i].flags |= VGIC_IRQ_ACTIVE;
			break;
		case VGIC_BR_ICACTIVER:
			irq[i].flags &= (u8)~VGIC_IRQ_ACTIVE;
			break;
		}
	}
}

u32 vgic_prio_read(const struct vgic_irq *irq, u32 count, u32 size)
{
	u32 value = 0;
	for (u32 i = 0; i < size && i < count; i++)
		value |= (u32)irq[i].priority << (8 * i);
	return value;
}

void vgic_prio_write(struct vgic_irq *irq, u32 count, u32 size, u32 value)
{
	for (u32 i = 0; i < size && i < count; i++)
		irq[i].priority = (u8)(value >> (8 * i));
}

u32 vgic_cfg_read(const struct vgic_irq *irq, u32 count)
{
	u32 value = 0;
	for (u32 i = 0; i < count && i < 16; i++)
		if (irq[i].flags & VGIC_IRQ_EDGE)
			value |= 2u << (2 * i);
	return value;
}

void vgic_cfg_write(struct vgic_irq *irq, u32 count, u32 value)
{
	for (u32 i = 0; i < count && i < 16; i++) {
		if (value & (2u << (2 * i)))
			irq[i].flags |= VGIC_IRQ_EDGE;
		else
			irq[i].flags &= (u8)~VGIC_IRQ_EDGE;
	}
}

void vgic_reg64_access(u64 *reg, u64 writable, u64 offset, u32 size, bool write, u64 *value)
{
	u32 shift = size == 8 ? 0 : (offset & 4u) ? 32 : 0;
	u64 field = size == 8 ? ~0ull : 0xffffffffull << shift;
	if (write)
		*reg = (*reg & ~(field & writable)) | ((*value << shift) & field & writable);
	else
		*value = (*reg & field) >> shift;
}

enum vgic_bitreg vgic_bitreg_of(u64 offset)
{
	static const enum vgic_bitreg regs[] = {
		VGIC_BR_GROUP,   VGIC_BR_GROUP,   VGIC_BR_ISENABLER, VGIC_BR_ICENABLER,
		VGIC_BR_ISPENDR, VGIC_BR_ICPENDR, VGIC_BR_ISACTIVER, VGIC_BR_ICACTIVER,
	};
	return regs[(offset >> 7) & 7u];
}

/**
 * One distributor access. Widths (IHI 0069 12.1.3): 32-bit everywhere,
 * bytes too for IPRIORITYR/ITARGETSR/[CS]PENDSGIR, 64-bit (or either 32-bit
 * half) for IROUTER; never 16-bit.
 */
static bool dist_access(struct vgic *v, u64 offset, u32 size, bool write, u64 *value)
{
	if (!vgic_access_ok(offset, size) || offset >= VGIC_DIST_SIZE)
		return false;
	bool bytes = (offset >= GICD_IPRIORITYR && offset < GICD_ICFGR) ||
	             (offset >= GICD_CPENDSGIR && offset < GICD_SPENDSGIR_END);
	bool router = offset >= GICD_IROUTER && offset < GICD_IROUTER_END;
	if (size == 2 || (size == 1 && !bytes) || (size == 8 && !router))
		return false;
	u64 out = 0;
	u32 word = (u32)*value;
	u32 intids = VGIC_PRIV_COUNT + v->spi_count;

	if (offset == GICD_CTLR) {
		if (write)
			v->ctlr = word & GICD_CTLR_ENABLE_GRP1;
		out = v->ctlr | GICD_CTLR_ARE | GICD_CTLR_DS;
	} else if (offset == GICD_TYPER) {
		u32 cpus = v->cpu_count - 1u;
		out = (v->spi_count / 32u) | (cpus << GICD_TYPER_CPUS_SHIFT) |
		      (GICD_TYPER_IDBITS << GICD_TYPER_IDBITS_SHIFT) | GICD_TYPER_RSS;
		/** LPIs: LPIS [17] and IDbits [23:19] wide enough for 8192 + VGIC_LPI_MAX. */
		if (v->lpi_count != 0)
			out = (out & ~(0x1fu << GICD_TYPER_IDBITS_SHIFT)) | GICD_TYPER_LPIS |
			      (GICD_TYPER_IDBITS_LPI << GICD_TYPER_IDBITS_SHIFT);
	} else if (offset == GICD_IIDR) {
		out = VGIC_IIDR;
	} else if (offset >= GICD_IGROUPR && offset < GICD_IPRIORITYR) {
		u32 first = (u32)(offset & 0x7fu) * 8u;
		if (first >= VGIC_PRIV_COUNT && first < intids) {
			struct vgic_irq *irq = &v->spi[first - VGIC_PRIV_COUNT];
			u32 count = intids - first;
			enum vgic_bitreg reg = vgic_bitreg_of(offset);
			if (write)
				vgic_bits_write(irq, count, reg, word);
			out = vgic_bits_read(irq, count, reg);
		}
	} else if (offset >= GICD_IPRIORITYR && offset < GICD_ITARGETSR) {
		u32 first = (u32)(offset - GICD_IPRIORITYR);
		if (first >= VGIC_PRIV_COUNT && first < intids) {
			struct vgic_irq *irq = &v->spi[first - VGIC_PRIV_COUNT];
			if (write)
				vgic_prio_write(irq, intids - first, size, word);
			out = vgic_prio_read(irq, intids - first, size);
		}
	} else if (offset >= GICD_ICFGR && offset < GICD_IGRPMODR) {
		u32 first = (u32)(offset - GICD_ICFGR) * 4u;
		if (first >= VGIC_PRIV_COUNT && first < intids) {
			struct vgic_irq *irq = &v->spi[first - VGIC_PRIV_COUNT];
			if (write)
				vgic_cfg_write(irq, intids - first, word);
			out = vgic_cfg_read(irq, intids - first);
		}
	} else if (router) {
		u32 intid = (u32)((offset - GICD_IROUTER) / 8u);
		if (intid >= VGIC_PRIV_COUNT && intid < intids) {
			vgic_reg64_access(&v->irouter[intid - VGIC_PRIV_COUNT], GICD_IROUTER_MASK,
			                  offset, size, write, value);
			return true;
		}
	} else if (offset == VGIC_PIDR2_OFFSET) {
		out = VGIC_PIDR2;
	}
	/* Everything else: reserved, GICv2-only or IMPLEMENTATION DEFINED: RAZ/WI. */
	if (!write)
		*value = out;
	return true;
}

bool vgic_dist_read(struct vgic *v, u64 offset, u32 size, u64 *value)
{
	*value = 0;
	return dist_access(v, offset, size, false, value);
}

void vgic_fast_forget(struct vgic *v)
{
	for (u32 c = 0; c < VGIC_VCPU_MAX; c++)
		v->cpu[c].fast_lr = 0;
}

bool vgic_dist_write(struct vgic *v, u64 offset, u32 size, u64 value)
{
	vgic_fast_forget(v); /* enables, priorities, routing: the relist shortcut must look again */
	return dist_access(v, offset, size, true, &value);
}
