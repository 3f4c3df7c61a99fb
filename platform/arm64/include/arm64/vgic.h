/**
 * The virtual GICv3 of a VM partition: distributor, per-vCPU redistributors
 * and the list-register policy, as plain C with no hardware access (ARM IHI
 * 0069, GICv3/v4 architecture specification). The exit path traps the
 * guest's MMIO accesses to the frames and ICC_SGI1R_EL1 writes and hands
 * them here; it reads and writes the real ICH_LR<n>_EL2 around
 * vgic_lr_fold() and vgic_lr_fill(). docs/interrupts.md describes the model.
 *
 * Every function takes guest-controlled values and answers them with a
 * status or by ignoring them: nothing here panics, logs or allocates. All
 * state is in fixed-size arrays inside struct vgic.
 *
 * Locking: none inside; the caller holds the VM's vGIC lock across a call.
 */
#ifndef ARM64_VGIC_H
#define ARM64_VGIC_H

#include <kernel/types.h>

/** Static limits: a VM's SPI count and vCPU count are configured below these. */
#define VGIC_SPI_MAX 256u
#define VGIC_VCPU_MAX 8u
#define VGIC_PRIV_COUNT 32u /**< SGIs 0-15 and PPIs 16-31, banked per vCPU */
#define VGIC_SGI_COUNT 16u
#define VGIC_LR_MAX 16u /**< ICH_VTR_EL2.ListRegs allows at most 16 */
#define VGIC_INTID_SPI_END (VGIC_PRIV_COUNT + VGIC_SPI_MAX)
/**
 * LPIs (IHI 0069 5.1): INTIDs VGIC_LPI_BASE .. VGIC_LPI_BASE + lpi_count - 1 for a VM given
 * some by vgic_lpi_init() (a VM with a virtual ITS); none otherwise.
 */
#define VGIC_LPI_BASE 8192u
#define VGIC_LPI_MAX 512u

/** Frame sizes (IHI 0069 12.8, 12.10): one 64 KiB GICD frame; per vCPU RD_base + SGI_base. */
#define VGIC_DIST_SIZE 0x10000u
#define VGIC_REDIST_FRAME 0x10000u
#define VGIC_REDIST_STRIDE (2u * VGIC_REDIST_FRAME)

/** ICH_LR<n>_EL2 fields (IHI 0069 12.5.9 / ARM DDI 0487 ICH_LR<n>_EL2). */
#define VGIC_LR_VINTID_MASK 0xffffffffull
#define VGIC_LR_PINTID_SHIFT 32
#define VGIC_LR_PINTID_MASK 0x1fffull
#define VGIC_LR_PRIO_SHIFT 48
#define VGIC_LR_GROUP (1ull << 60)
#define VGIC_LR_HW (1ull << 61)
#define VGIC_LR_PENDING (1ull << 62)
#define VGIC_LR_ACTIVE (1ull << 63)
/** ICH_HCR_EL2 bits vgic_lr_fill() may ask for. */
#define VGIC_HCR_UIE (1u << 1)
#define VGIC_HCR_NPIE (1u << 3)

/** struct vgic_irq.flags */
enum {
	VGIC_IRQ_ENABLED = 1u << 0,
	VGIC_IRQ_LATCH = 1u << 1, /**< pending latch: an edge, or a write to ISPENDR */
	VGIC_IRQ_LINE = 1u << 2,  /**< input level, for level-sensitive interrupts */
	VGIC_IRQ_ACTIVE = 1u << 3,
	VGIC_IRQ_EDGE = 1u << 4,    /**< ICFGR: edge-triggered */
	VGIC_IRQ_HW = 1u << 5,      /**< a passed-through physical SPI (pintid) */
	VGIC_IRQ_NEWPEND = 1u << 6, /**< raised again while a list register held it */
};

/** One interrupt's state. owner is 1 + the vCPU whose list register holds it, or 0. */
struct vgic_irq {
	u8 flags;
	u8 priority;
	u8 owner;
	u16 pintid;
};

/** A vCPU's redistributor, its banked SGIs/PPIs, and which list registers it filled. */
struct vgic_cpu {
	struct vgic_irq priv[VGIC_PRIV_COUNT];
	u64 mpidr;
	u64 propbaser;
	u64 pendbaser;
	bool asleep;       /**< GICR_WAKER.ProcessorSleep */
	bool lpis_enabled; /**< GICR_CTLR.EnableLPIs: set once, never cleared (as Xen) */
	u32 lr_used;       /**< bit n: ICH_LR<n>_EL2 holds lr_intid[n] */
	bool overflow;     /**< the last fill left pending interrupts unlisted */
	/**
	 * The relist shortcut: 1 + the LR that vgic_lr_relist() last used for
	 * PPI/SGI fast_intid, 0 = none. Every fold or fill of that LR, every
	 * fill and every register write forgets it.
	 */
	u8 fast_lr;
	u8 fast_intid;
	u16 lr_intid[VGIC_LR_MAX];
	u64 lr_written[VGIC_LR_MAX];
};

/**
 * A VM's virtual GIC. SPIs 32.. are shared by the VM's vCPUs and routed by
 * irouter; SGIs and PPIs are banked per vCPU.
 */
struct vgic {
	u32 ctlr; /**< GICD_CTLR: only EnableGrp1 is stored */
	u32 spi_count;
	u32 cpu_count;
	struct vgic_irq spi[VGIC_SPI_MAX];
	u64 irouter[VGIC_SPI_MAX];
	struct vgic_cpu cpu[VGIC_VCPU_MAX];
	u32 lpi_count;
	/** LPIs: edge, enable and priority from the property byte, one target vCPU each. */
	struct vgic_irq lpi[VGIC_LPI_MAX];
	u8 lpi_target[VGIC_LPI_MAX];
};

/**
 * Reset a VM's vGIC: spi_count is rounded up to a multiple of 32; mpidr[i] is
 * vCPU i's MPIDR_EL1. False (and nothing usable) if a count is out of range.
 */
bool vgic_init(struct vgic *v, u32 spi_count, u32 cpu_count, const u64 *mpidr);

/**
 * Give the VM lpi_count LPIs (0 < lpi_count <= VGIC_LPI_MAX; false otherwise): GICD_TYPER
 * then advertises LPIS and enough IDbits, GICR_TYPER.PLPIS is set and GICR_CTLR.EnableLPIs
 * becomes writable. Every LPI starts disabled, not pending, targeting vCPU 0.
 */
bool vgic_lpi_init(struct vgic *v, u32 lpi_count);
/**
 * The virtual ITS's outputs (docs/its.md): make LPI intid pending on vCPU cpu (retargeting
 * it), not pending, retarget it (pending state included), or apply its property byte (bit 0
 * enable, bits [7:2] priority). False for an LPI or vCPU the VM does not have.
 */
bool vgic_lpi_raise(struct vgic *v, u32 cpu, u32 intid);
bool vgic_lpi_clear(struct vgic *v, u32 intid);
bool vgic_lpi_move(struct vgic *v, u32 cpu, u32 intid);
bool vgic_lpi_config(struct vgic *v, u32 intid, u8 prop);
/**
 * Trapped accesses: offset within the distributor frame or the redistributor
 * region (vCPU i's frames at i * VGIC_REDIST_STRIDE), size 1, 2, 4 or 8 bytes.
 * False for a wrong width, a misaligned access or an offset outside the
 * frames: the caller faults that guest. Reserved registers read as zero and
 * ignore writes (true).
 */
bool vgic_dist_read(struct vgic *v, u64 offset, u32 size, u64 *value);
bool vgic_dist_write(struct vgic *v, u64 offset, u32 size, u64 value);
bool vgic_redist_read(struct vgic *v, u64 offset, u32 size, u64 *value);
bool vgic_redist_write(struct vgic *v, u64 offset, u32 size, u64 value);

/**
 * Injection. cpu selects the bank for a PPI and is ignored for an SPI; SGIs
 * come only through vgic_sgi(). False for an INTID the VM does not have.
 */
bool vgic_raise(struct vgic *v, u32 cpu, u32 intid);
bool vgic_set_level(struct vgic *v, u32 cpu, u32 intid, bool level);
/** Mark SPI intid as forwarded from physical pintid (LR HW bit). */
bool vgic_set_hw(struct vgic *v, u32 intid, u32 pintid);
/**
 * A trapped ICC_SGI1R_EL1 write by vCPU sender; targets the VM lacks are
 * ignored. Returns the vCPUs it made the SGI pending on (bit i: vCPU i).
 */
u32 vgic_sgi(struct vgic *v, u32 sender, u64 sgi1r);

/** The interrupt state of intid as seen by vCPU cpu (NULL if it does not exist). */
struct vgic_irq *vgic_irq_get(struct vgic *v, u32 cpu, u32 intid);
/** Pending: the latch, or the line of a level-sensitive interrupt. */
bool vgic_irq_pending(const struct vgic_irq *irq);
/** Whether SPI intid is routed to vCPU cpu (IROUTER affinity, or IRM = any). */
bool vgic_routed_to(const struct vgic *v, u32 cpu, u32 intid);

/**
 * Fold vCPU cpu's list registers (read back after an exit) into the model.
 * Returns the other vCPUs (bit i: vCPU i) that an interrupt this released is
 * now pending, enabled and routed to: one retargeted while cpu listed it
 * (an ITS's MOVI, an IROUTER write), which they must be told about.
 */
u32 vgic_lr_fold(struct vgic *v, u32 cpu, const u64 *lr, u32 lr_count);
/**
 * Fill lr[0..lr_count) for vCPU cpu (call after vgic_lr_fold()). Returns the
 * ICH_HCR_EL2 maintenance bits to set (VGIC_HCR_UIE/NPIE) when more
 * interrupts are pending than fit, else 0.
 */
u32 vgic_lr_fill(struct vgic *v, u32 cpu, u64 *lr, u32 lr_count);
/**
 * The fast path for one interrupt made pending on the vCPU that runs: list
 * intid in a list register that is free in the hardware (free_lrs, from
 * ICH_ELRSR_EL2), without a whole fold and fill. Registers the model filled
 * that the hardware reports empty were emptied by the guest (EOI or
 * deactivation): they are folded first. Only valid while the caller has not
 * changed the model for cpu since its last fill but through vgic_raise()
 * and this call, and that fill listed everything pending (no overflow):
 * then a free register means no better interrupt waits. True with
 * *lr_index and *lr_value to write; false if the caller must fold and fill
 * instead (not deliverable now, listed already, overflow, no free register).
 */
bool vgic_lr_inject(struct vgic *v, u32 cpu, u32 intid, u32 free_lrs, u32 lr_count, u32 *lr_index,
                    u64 *lr_value);
/**
 * The fastest path, for an SGI or PPI raised again on the vCPU that runs
 * (its virtual timer): the list register the model last filled with intid,
 * pending, was emptied by the guest (free in free_lrs, from
 * ICH_ELRSR_EL2); make intid pending again and list it there once more,
 * with the value it was written with. The same conditions as
 * vgic_lr_inject(); no vgic_raise() before it. False: take the general path.
 */
bool vgic_lr_relist_slow(struct vgic *v, u32 cpu, u32 intid, u32 free_lrs, u32 *lr_index,
                         u64 *lr_value);

static inline bool vgic_lr_relist(struct vgic *v, u32 cpu, u32 intid, u32 free_lrs, u32 *lr_index,
                                  u64 *lr_value)
{
	struct vgic_cpu *c = &v->cpu[cpu < VGIC_VCPU_MAX ? cpu : 0];
	u32 n = c->fast_lr - 1u;
	/* The same LR as last time, emptied again by the guest: nothing else changed since. */
	if (c->fast_lr == 0 || c->fast_intid != intid || cpu >= v->cpu_count ||
	    !((free_lrs >> n) & 1u))
		return vgic_lr_relist_slow(v, cpu, intid, free_lrs, lr_index, lr_value);
	struct vgic_irq *irq = &c->priv[intid];
	irq->flags = (u8)((irq->flags | VGIC_IRQ_LATCH) & ~(VGIC_IRQ_NEWPEND | VGIC_IRQ_ACTIVE));
	*lr_index = n;
	*lr_value = c->lr_written[n];
	return true;
}

/** The list register of vCPU cpu that the model filled with intid, or -1. */
int vgic_lr_of(const struct vgic *v, u32 cpu, u32 intid);
/** Whether vCPU cpu has an interrupt to take (wake from WFI) given VPMR and running priority. */
bool vgic_deliverable(struct vgic *v, u32 cpu, u8 vpmr, u8 running_priority);

#endif /* ARM64_VGIC_H */
