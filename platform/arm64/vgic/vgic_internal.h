/**
 * Helpers shared by the vGIC model's files (distributor, redistributor,
 * list registers); not part of the interface in <arm64/vgic.h>.
 */
#ifndef ARM64_VGIC_INTERNAL_H
#define ARM64_VGIC_INTERNAL_H

#include <arm64/vgic.h>

/** The set/clear register pairs that hold one bit per INTID (IHI 0069 12.9). */
enum vgic_bitreg {
	VGIC_BR_GROUP,
	VGIC_BR_ISENABLER,
	VGIC_BR_ICENABLER,
	VGIC_BR_ISPENDR,
	VGIC_BR_ICPENDR,
	VGIC_BR_ISACTIVER,
	VGIC_BR_ICACTIVER,
};

/** GICD_PIDR2 / GICR_PIDR2: ArchRev [7:4] = 3 (GICv3), JEP106 bits [3:0] of Arm. */
#define VGIC_PIDR2 0x3bu
#define VGIC_PIDR2_OFFSET 0xffe8u
/** GICD_IIDR / GICR_IIDR: Implementer [11:0] = Arm (0x43b), ProductID [31:24] = 0. */
#define VGIC_IIDR 0x43bu
/** ICFGR fields for SGIs: always edge (Int_config[1] = 1 in every 2-bit field). */
#define VGIC_ICFGR_SGI 0xaaaaaaaau
/** MPIDR_EL1 affinity fields Aff3 [39:32], Aff2..Aff0 [23:0]. */
#define VGIC_MPIDR_AFF_MASK 0xff00ffffffull

/** Forget every vCPU's relist shortcut (a register write may change what it relies on). */
void vgic_fast_forget(struct vgic *v);
/** Make irq pending; an edge while a list register holds it must survive the fold. */
void vgic_irq_set_latch(struct vgic_irq *irq);
/** Which bit register a GICD/GICR word offset in 0x080..0x3ff is. */
enum vgic_bitreg vgic_bitreg_of(u64 offset);
/** Whether an access of size bytes at offset is naturally aligned and 1/2/4/8 bytes. */
bool vgic_access_ok(u64 offset, u32 size);
/** Read one 32-INTID word of a bit register from irq[0..31] (count exist). */
u32 vgic_bits_read(const struct vgic_irq *irq, u32 count, enum vgic_bitreg reg);
/** Write one 32-INTID word of a bit register to irq[0..31] (count exist). */
void vgic_bits_write(struct vgic_irq *irq, u32 count, enum vgic_bitreg reg, u32 value);
/** IPRIORITYR: size 1 or 4 bytes starting at irq[0] (count exist). */
u32 vgic_prio_read(const struct vgic_irq *irq, u32 count, u32 size);
void vgic_prio_write(struct vgic_irq *irq, u32 count, u32 size, u32 value);
/** ICFGR: one 16-INTID word at irq[0]; sgi: the read-only all-edge SGI word. */
u32 vgic_cfg_read(const struct vgic_irq *irq, u32 count);
void vgic_cfg_write(struct vgic_irq *irq, u32 count, u32 value);
/** A 64-bit register accessed as a whole (size 8) or as either 32-bit half. */
void vgic_reg64_access(u64 *reg, u64 writable, u64 offset, u32 size, bool write, u64 *value);

#endif /* ARM64_VGIC_INTERNAL_H */
