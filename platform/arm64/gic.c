/**
 * The physical GICv3 (ARM IHI 0069): the distributor enabled with affinity
 * routing, each CPU's redistributor awake, and the CPU interface through
 * the ICC_* system registers. The kernel takes its timer (CNTHP, a PPI) and
 * SGI 0, the "kick" that wakes an idle CPU; for the guests (virq.c) it also
 * takes the virtual timer's PPI, the maintenance interrupt and the SPIs of
 * passed-through devices. All Group 1, priority 0x80.
 *
 * EOImode 1: ICC_EOIR1_EL1 only drops the priority and ICC_DIR_EL1
 * deactivates. The kernel's own interrupts get both at once
 * (arm64_gic_eoi); a guest's hardware interrupt gets only the drop and is
 * deactivated by the guest's EOI through a list register with the HW bit.
 */
#include <arm64/cpu.h>
#include <arm64/sysreg.h>

/* Distributor registers (IHI 0069 12.9). */
#define GICD_CTLR 0x0000u
#define GICD_CTLR_RWP (1u << 31)
#define GICD_CTLR_ENABLE_G1 (1u << 1) /**< EnableGrp1 (DS=1) / EnableGrp1A (NS view) */
#define GICD_CTLR_ARE (1u << 4)       /**< ARE (DS=1) / ARE_NS (NS view) */
#define GICD_IGROUPR 0x0080u
#define GICD_ISENABLER 0x0100u
#define GICD_ICENABLER 0x0180u
#define GICD_IPRIORITYR 0x0400u
#define GICD_IROUTER 0x6000u

/* Redistributor registers (IHI 0069 12.10, 12.11): RD_base, then SGI_base at +64 KiB. */
#define GICR_FRAME_SIZE 0x20000u
#define GICR_TYPER 0x0008u
#define GICR_TYPER_VLPIS (UINT64_C(1) << 1)
#define GICR_TYPER_LAST (UINT64_C(1) << 4)
#define GICR_WAKER 0x0014u
#define GICR_WAKER_SLEEP (1u << 1)
#define GICR_WAKER_ASLEEP (1u << 2)
#define GICR_SGI 0x10000u
#define GICR_IGROUPR0 (GICR_SGI + 0x0080u)
#define GICR_ISENABLER0 (GICR_SGI + 0x0100u)
#define GICR_IPRIORITYR (GICR_SGI + 0x0400u)

#define GIC_PRIORITY 0x80u
#define GIC_SPURIOUS 1020u

static inline volatile u32 *gic_reg32(u64 base, u32 off)
{
	return (volatile u32 *)(uintptr_t)(base + off);
}

/** Enable the distributor: affinity routing, Group 1. */
void arm64_gic_init(void)
{
	volatile u32 *ctlr = gic_reg32(arm64_hw.gicd, GICD_CTLR);

	*ctlr = GICD_CTLR_ARE | GICD_CTLR_ENABLE_G1;
	while (*ctlr & GICD_CTLR_RWP)
		;
}

/** This CPU's redistributor: the frame whose GICR_TYPER affinity matches MPIDR. */
static u64 gic_find_redist(u64 mpidr)
{
	u64 aff = (mpidr & 0xffffffu) | ((mpidr >> 8) & 0xff000000u);

	u64 rd = arm64_hw.gicr;
	while (rd < arm64_hw.gicr + arm64_hw.gicr_size) {
		u64 typer = *(volatile u64 *)(uintptr_t)(rd + GICR_TYPER);
		if ((typer >> 32) == aff)
			return rd;
		if (typer & GICR_TYPER_LAST)
			break;
		/* GICv4 redistributors (VLPIS) have two more 64 KiB frames (IHI 0069 9.6). */
		rd += (typer & GICR_TYPER_VLPIS) ? 2u * GICR_FRAME_SIZE : GICR_FRAME_SIZE;
	}
	return 0;
}

/** Wake this CPU's redistributor, enable the kernel's two interrupts, enable the CPU interface. */
void arm64_gic_init_cpu(struct arm64_cpu *cpu)
{
	u64 rd = gic_find_redist(cpu->mpidr);
	u32 timer = arm64_timer_intid();

	if (rd != 0) {
		volatile u32 *waker = gic_reg32(rd, GICR_WAKER);
		*waker &= ~GICR_WAKER_SLEEP;
		while (*waker & GICR_WAKER_ASLEEP)
			;
		volatile u8 *prio = (volatile u8 *)(uintptr_t)(rd + GICR_IPRIORITYR);
		u32 vtimer = 16u + arm64_hw.timer_ppi[2], maint = arm64_hw.maint_intid;
		prio[ARM64_SGI_KICK] = GIC_PRIORITY;
		prio[timer] = GIC_PRIORITY;
		prio[vtimer] = GIC_PRIORITY;
		prio[maint] = GIC_PRIORITY;
		u32 bits = (1u << ARM64_SGI_KICK) | (1u << timer) | (1u << vtimer) | (1u << maint);
		*gic_reg32(rd, GICR_IGROUPR0) |= bits;
		*gic_reg32(rd, GICR_ISENABLER0) = bits;
	}
	/* ICC_SRE_EL2: SRE, DFB, DIB, Enable (lower ELs may use the system registers). */
	write_sysreg(S3_4_C12_C9_5, 0xf);
	isb();
	write_sysreg(S3_0_C4_C6_0, 0xff); /* ICC_PMR_EL1: let every priority through */
	write_sysreg(S3_0_C12_C12_3, 0);  /* ICC_BPR1_EL1 */
	write_sysreg(S3_0_C12_C12_4, 2);  /* ICC_CTLR_EL1: EOImode 1 (drop, then deactivate) */
	write_sysreg(S3_0_C12_C12_7, 1);  /* ICC_IGRPEN1_EL1 */
	isb();
}

/** Acknowledge the highest-priority pending interrupt (ICC_IAR1_EL1); >= 1020 means none. */
u32 arm64_gic_ack(void)
{
	u32 intid = (u32)read_sysreg(S3_0_C12_C12_0) & 0xffffffu;
	__asm__ volatile("dsb sy" ::: "memory");
	return intid;
}

/** Priority drop only (ICC_EOIR1_EL1 with EOImode 1): the interrupt stays active. */
void arm64_gic_drop(u32 intid)
{
	write_sysreg(S3_0_C12_C12_1, intid);
}

/** Deactivation (ICC_DIR_EL1) of an interrupt whose priority was dropped. */
void arm64_gic_deactivate(u32 intid)
{
	write_sysreg(S3_0_C12_C11_1, intid);
	isb();
}

/** End of one of the kernel's own interrupts: drop and deactivate. */
void arm64_gic_eoi(u32 intid)
{
	if (intid < GIC_SPURIOUS) {
		arm64_gic_drop(intid);
		arm64_gic_deactivate(intid);
	}
}

/** Physical SPI intid: Group 1, priority 0x80, routed to the CPU with this MPIDR, enabled. */
void arm64_gic_route_spi(u32 intid, u64 mpidr)
{
	u64 d = arm64_hw.gicd;
	u32 word = (intid / 32u) * 4u, bit = 1u << (intid % 32u);
	*gic_reg32(d, GICD_ICENABLER + word) = bit;
	*(volatile u64 *)(uintptr_t)(d + GICD_IROUTER + 8u * intid) = (mpidr & 0xffffffu) |
	                                                              ((mpidr >> 32) & 0xffu) << 32;
	*(volatile u8 *)(uintptr_t)(d + GICD_IPRIORITYR + intid) = GIC_PRIORITY;
	*gic_reg32(d, GICD_IGROUPR + word) |= bit;
	*gic_reg32(d, GICD_ISENABLER + word) = bit;
}

/** Send an SGI to the CPU with this MPIDR (ICC_SGI1R_EL1, IHI 0069 12.2.23). */
void arm64_gic_send_sgi(u64 mpidr, u32 sgi)
{
	u64 aff0 = mpidr & 0xfu;
	u64 v = (UINT64_C(1) << aff0) | (((mpidr >> 8) & 0xffu) << 16) | ((u64)(sgi & 0xfu) << 24) |
	        (((mpidr >> 16) & 0xffu) << 32) | (((mpidr >> 32) & 0xffu) << 48) |
	        (((mpidr & 0xffu) >> 4) << 44);
	dsb_ishst();
	write_sysreg(S3_0_C12_C11_5, v);
	isb();
}
