/**
 * The arm64 virtual GICv3 model (platform/arm64/vgic/) on the host: every
 * distributor and redistributor register (reset value, widths, RAZ/WI,
 * set/clear semantics), IROUTER routing, SGI decode, and the list-register
 * policy (priority order, overflow with maintenance, fold-back, level and
 * HW interrupts). ARM IHI 0069 is the reference for every expected value.
 */
#include "tap.h"
#include <arm64/vgic.h>
#include <string.h>

static struct vgic vm;
/** Four vCPUs in two clusters: Aff1 = 0 (Aff0 0, 1), Aff1 = 1 (Aff0 0), Aff3 = 2 (Aff0 17). */
static const u64 mpidr[4] = { 0x80000000ull, 0x80000001ull, 0x80000100ull, 0x0200000011ull };

#define RD(cpu, off) ((u64)(cpu)*VGIC_REDIST_STRIDE + (off))
#define SGI(cpu, off) ((u64)(cpu)*VGIC_REDIST_STRIDE + VGIC_REDIST_FRAME + (off))

static u64 dread(u64 off, u32 size)
{
	u64 v = 0xdeadbeef;
	if (!vgic_dist_read(&vm, off, size, &v))
		return 0xbadbad;
	return v;
}

static u64 rread(u64 off, u32 size)
{
	u64 v = 0xdeadbeef;
	if (!vgic_redist_read(&vm, off, size, &v))
		return 0xbadbad;
	return v;
}

static void reset(u32 spis)
{
	OK(vgic_init(&vm, spis, 4, mpidr), "init");
}

/** Enable the distributor and wake every redistributor, as a guest's GIC driver does. */
static void bring_up(void)
{
	vgic_dist_write(&vm, 0x0, 4, 1u << 1);
	for (u32 c = 0; c < vm.cpu_count; c++)
		vgic_redist_write(&vm, RD(c, 0x14), 4, 0);
}

static void test_init_limits(void)
{
	OK(!vgic_init(&vm, VGIC_SPI_MAX + 1, 1, mpidr), "init: too many SPIs refused");
	OK(!vgic_init(&vm, 32, 0, mpidr), "init: no vCPU refused");
	OK(!vgic_init(&vm, 32, VGIC_VCPU_MAX + 1, mpidr), "init: too many vCPUs refused");
	OK(vgic_init(&vm, 40, 4, mpidr) && vm.spi_count == 64, "init: SPI count rounded to 32");
}

static void test_dist_ident(void)
{
	reset(64);
	EQ(dread(0x0, 4), 0x50, "GICD_CTLR reset: ARE and DS set, groups off");
	vgic_dist_write(&vm, 0x0, 4, 0xffffffff);
	EQ(dread(0x0, 4), 0x52, "GICD_CTLR: only EnableGrp1 writable; ARE/DS RAO/WI");
	vgic_dist_write(&vm, 0x0, 4, 0);
	EQ(dread(0x0, 4), 0x50, "GICD_CTLR: ARE cannot be cleared");
	u64 typer = dread(0x4, 4);
	EQ(typer & 0x1f, 2, "GICD_TYPER.ITLinesNumber = 64 SPIs / 32");
	EQ((typer >> 5) & 7, 3, "GICD_TYPER.CPUNumber = 4 vCPUs - 1");
	EQ((typer >> 19) & 0x1f, 9, "GICD_TYPER.IDbits = 9 (INTIDs below 1024)");
	EQ((typer >> 17) & 1, 0, "GICD_TYPER.LPIS = 0");
	vgic_dist_write(&vm, 0x4, 4, 0);
	EQ(dread(0x4, 4), typer, "GICD_TYPER read-only");
	EQ(dread(0x8, 4), 0x43b, "GICD_IIDR");
	EQ(dread(0xffe8, 4), 0x3b, "GICD_PIDR2.ArchRev = 3");
	EQ((dread(0xffe8, 4) >> 4) & 0xf, 3, "GICD_PIDR2 ArchRev field");
}

static void test_dist_widths(void)
{
	reset(64);
	u64 v;
	OK(!vgic_dist_read(&vm, 0x0, 2, &v), "GICD: halfword access faults");
	OK(!vgic_dist_read(&vm, 0x0, 8, &v), "GICD_CTLR: 64-bit access faults");
	OK(!vgic_dist_read(&vm, 0x1, 1, &v), "GICD_CTLR: byte access faults");
	OK(!vgic_dist_read(&vm, 0x102, 4, &v), "GICD: misaligned word faults");
	OK(!vgic_dist_write(&vm, 0x104, 1, 0xff), "GICD_ISENABLER: byte write faults");
	OK(!vgic_dist_read(&vm, 0x10000, 4, &v), "GICD: offset past the frame faults");
	OK(!vgic_dist_read(&vm, ~0ull - 3, 4, &v), "GICD: huge offset faults");
	OK(!vgic_dist_read(&vm, 0x0, 3, &v), "GICD: 3-byte access faults");
	OK(vgic_dist_read(&vm, 0x421, 1, &v), "GICD_IPRIORITYR: byte access allowed");
	OK(vgic_dist_read(&vm, 0x6100, 8, &v), "GICD_IROUTER: 64-bit access allowed");
	OK(vgic_dist_read(&vm, 0x6104, 4, &v), "GICD_IROUTER: 32-bit upper half allowed");
	OK(!vgic_dist_read(&vm, 0x6102, 2, &v), "GICD_IROUTER: halfword faults");
	OK(!vgic_dist_read(&vm, 0x6104, 8, &v), "GICD_IROUTER: misaligned 64-bit faults");
}

static void test_dist_raz_wi(void)
{
	reset(64);
	/* Reserved, GICv2-only (ITARGETSR, SGIR, [CS]PENDSGIR), IGRPMODR, STATUSR. */
	static const u64 raz[] = { 0x0c,  0x10,  0x40,   0x800,  0x820,  0xd04,  0xe00,
		                   0xf00, 0xf10, 0x2000, 0x5ffc, 0xc000, 0xffd0, 0xfffc };
	bool all = true;
	for (size_t i = 0; i < sizeof(raz) / sizeof(raz[0]); i++) {
		all &= vgic_dist_write(&vm, raz[i], 4, 0xffffffff);
		all &= dread(raz[i], 4) == 0;
	}
	OK(all, "GICD: reserved and GICv2-only registers RAZ/WI");
	EQ(dread(0xf20, 1), 0, "GICD_SPENDSGIR: byte access RAZ");
	/* INTIDs 0-31 in GICD are the redistributor's with ARE (IHI 0069 12.9). */
	vgic_dist_write(&vm, 0x100, 4, 0xffffffff);
	EQ(dread(0x100, 4), 0, "GICD_ISENABLER0 RAZ/WI under ARE");
	OK(!(vm.cpu[0].priv[5].flags & VGIC_IRQ_ENABLED), "GICD_ISENABLER0 write reached no SGI");
	vgic_dist_write(&vm, 0x400, 4, 0xffffffff);
	EQ(dread(0x400, 4), 0, "GICD_IPRIORITYR0 RAZ/WI under ARE");
	vgic_dist_write(&vm, 0xc04, 4, 0xffffffff);
	EQ(dread(0xc04, 4), 0, "GICD_ICFGR1 RAZ/WI under ARE");
	/* Beyond the configured 64 SPIs (INTIDs 32..95). */
	vgic_dist_write(&vm, 0x10c, 4, 0xffffffff);
	EQ(dread(0x10c, 4), 0, "GICD_ISENABLER3 (INTIDs 96-127, absent) RAZ/WI");
	vgic_dist_write(&vm, 0x400 + 96, 4, 0xffffffff);
	EQ(dread(0x400 + 96, 4), 0, "GICD_IPRIORITYR for absent SPIs RAZ/WI");
	vgic_dist_write(&vm, 0x6000 + 8 * 96, 8, 0x1);
	EQ(dread(0x6000 + 8 * 96, 8), 0, "GICD_IROUTER for an absent SPI RAZ/WI");
	EQ(dread(0x6000 + 8 * 5, 8), 0, "GICD_IROUTER for INTID < 32 RAZ");
	EQ(dread(0x80, 4), 0, "GICD_IGROUPR0 RAZ under ARE");
	EQ(dread(0x84, 4), 0xffffffff, "GICD_IGROUPR1 RAO: all Group 1");
	vgic_dist_write(&vm, 0x88, 4, 0);
	EQ(dread(0x88, 4), 0xffffffff, "GICD_IGROUPR2 WI");
	EQ(dread(0x8c, 4), 0, "GICD_IGROUPR3 (absent SPIs) RAZ");
}

static void test_dist_bits(void)
{
	reset(64);
	EQ(dread(0x104, 4), 0, "GICD_ISENABLER1 reset 0");
	vgic_dist_write(&vm, 0x104, 4, 0x00010003);
	EQ(dread(0x104, 4), 0x00010003, "GICD_ISENABLER1: set bits");
	EQ(dread(0x184, 4), 0x00010003, "GICD_ICENABLER1 reads the enables");
	vgic_dist_write(&vm, 0x104, 4, 0);
	EQ(dread(0x104, 4), 0x00010003, "GICD_ISENABLER1: zero bits have no effect");
	vgic_dist_write(&vm, 0x184, 4, 0x1);
	EQ(dread(0x104, 4), 0x00010002, "GICD_ICENABLER1: clears only the one bit");
	OK((vm.spi[1].flags & VGIC_IRQ_ENABLED) && !(vm.spi[0].flags & VGIC_IRQ_ENABLED),
	   "GICD_ICENABLER1: model state follows");

	vgic_dist_write(&vm, 0x208, 4, 0x80000001);
	EQ(dread(0x208, 4), 0x80000001, "GICD_ISPENDR2 sets pending (INTIDs 64, 95)");
	EQ(dread(0x288, 4), 0x80000001, "GICD_ICPENDR2 reads pending");
	vgic_dist_write(&vm, 0x288, 4, 0x1);
	EQ(dread(0x208, 4), 0x80000000, "GICD_ICPENDR2 clears pending");

	vgic_dist_write(&vm, 0x304, 4, 0x4);
	EQ(dread(0x304, 4), 0x4, "GICD_ISACTIVER1 sets active");
	EQ(dread(0x384, 4), 0x4, "GICD_ICACTIVER1 reads active");
	vgic_dist_write(&vm, 0x384, 4, 0xffffffff);
	EQ(dread(0x304, 4), 0, "GICD_ICACTIVER1 clears active");
}

static void test_dist_priority_cfg(void)
{
	reset(64);
	EQ(dread(0x420, 4), 0, "GICD_IPRIORITYR8 reset 0");
	vgic_dist_write(&vm, 0x420, 4, 0x40302010);
	EQ(dread(0x420, 4), 0x40302010, "GICD_IPRIORITYR8: word write");
	EQ(dread(0x422, 1), 0x30, "GICD_IPRIORITYR: byte read of INTID 34");
	vgic_dist_write(&vm, 0x421, 1, 0xa0);
	EQ(dread(0x420, 4), 0x4030a010, "GICD_IPRIORITYR: byte write touches one INTID");
	EQ(vm.spi[1].priority, 0xa0, "GICD_IPRIORITYR: INTID 33's priority in the model");
	vgic_dist_write(&vm, 0x45f, 1, 0x77);
	EQ(vm.spi[63].priority, 0x77, "GICD_IPRIORITYR: last SPI byte");

	EQ(dread(0xc08, 4), 0, "GICD_ICFGR2 reset: level-sensitive");
	vgic_dist_write(&vm, 0xc08, 4, 0xffffffff);
	EQ(dread(0xc08, 4), 0xaaaaaaaa, "GICD_ICFGR2: only Int_config[1] bits stick");
	OK((vm.spi[0].flags & VGIC_IRQ_EDGE) && (vm.spi[15].flags & VGIC_IRQ_EDGE),
	   "GICD_ICFGR2: INTIDs 32-47 edge");
	vgic_dist_write(&vm, 0xc08, 4, 0x2);
	OK((vm.spi[0].flags & VGIC_IRQ_EDGE) && !(vm.spi[1].flags & VGIC_IRQ_EDGE),
	   "GICD_ICFGR2: back to level");
}

static void test_dist_irouter(void)
{
	reset(64);
	EQ(dread(0x6000 + 8 * 40, 8), 0x80000000ull & 0xff00ffffffull,
	   "GICD_IROUTER reset: vCPU 0's affinity");
	vgic_dist_write(&vm, 0x6000 + 8 * 40, 8, 0xffffffffffffffffull);
	EQ(dread(0x6000 + 8 * 40, 8), 0xff80ffffffull, "GICD_IROUTER: Aff3, IRM, Aff2-0 only");
	vgic_dist_write(&vm, 0x6000 + 8 * 40, 4, 0x00000100);
	EQ(dread(0x6000 + 8 * 40, 8), 0xff00000100ull, "GICD_IROUTER: low-half write keeps Aff3");
	vgic_dist_write(&vm, 0x6000 + 8 * 40 + 4, 4, 0);
	EQ(dread(0x6000 + 8 * 40, 4), 0x100, "GICD_IROUTER: high-half write, low-half read");
	OK(vgic_routed_to(&vm, 2, 40) && !vgic_routed_to(&vm, 0, 40), "IROUTER: Aff1=1 -> vCPU 2");
	vgic_dist_write(&vm, 0x6000 + 8 * 41, 8, 0x0200000011ull);
	OK(vgic_routed_to(&vm, 3, 41) && !vgic_routed_to(&vm, 1, 41), "IROUTER: Aff3=2 -> vCPU 3");
	vgic_dist_write(&vm, 0x6000 + 8 * 42, 8, 0x7);
	OK(!vgic_routed_to(&vm, 0, 42) && !vgic_routed_to(&vm, 1, 42) &&
	           !vgic_routed_to(&vm, 2, 42) && !vgic_routed_to(&vm, 3, 42),
	   "IROUTER: an affinity no vCPU has routes nowhere");
	vgic_dist_write(&vm, 0x6000 + 8 * 43, 8, 1ull << 31);
	OK(vgic_routed_to(&vm, 0, 43) && vgic_routed_to(&vm, 3, 43), "IROUTER: IRM=1 any vCPU");
	OK(!vgic_routed_to(&vm, 4, 43), "IROUTER: no vCPU 4");
}

static void test_redist_rd(void)
{
	reset(32);
	u64 t0 = rread(RD(0, 0x8), 8), t3 = rread(RD(3, 0x8), 8);
	EQ(t0 >> 32, 0x00000000, "GICR_TYPER vCPU 0: affinity 0.0.0.0");
	EQ(t3 >> 32, 0x02000011, "GICR_TYPER vCPU 3: Aff3.Aff2.Aff1.Aff0 = 2.0.0.17");
	EQ(rread(RD(2, 0x8), 8) >> 32, 0x00000100, "GICR_TYPER vCPU 2: Aff1 = 1");
	EQ((t3 >> 8) & 0xffff, 3, "GICR_TYPER.Processor_Number");
	OK(!(t0 & 0x10) && (t3 & 0x10), "GICR_TYPER.Last only on the last vCPU");
	EQ(t0 & 1, 0, "GICR_TYPER.PLPIS = 0");
	EQ(rread(RD(3, 0xc), 4), 0x02000011, "GICR_TYPER upper half as a word");
	EQ(rread(RD(3, 0x8), 4), t3 & 0xffffffff, "GICR_TYPER lower half as a word");
	vgic_redist_write(&vm, RD(3, 0x8), 8, 0);
	EQ(rread(RD(3, 0x8), 8), t3, "GICR_TYPER read-only");
	EQ(rread(RD(1, 0x4), 4), 0x43b, "GICR_IIDR");
	EQ(rread(RD(1, 0xffe8), 4), 0x3b, "GICR_PIDR2.ArchRev = 3");
	EQ(rread(RD(1, 0x0), 4), 0, "GICR_CTLR reset 0");
	vgic_redist_write(&vm, RD(1, 0x0), 4, 1);
	EQ(rread(RD(1, 0x0), 4), 0, "GICR_CTLR.EnableLPIs RAZ/WI without LPIs");

	EQ(rread(RD(1, 0x14), 4), 6, "GICR_WAKER reset: ProcessorSleep and ChildrenAsleep");
	vgic_redist_write(&vm, RD(1, 0x14), 4, 0);
	EQ(rread(RD(1, 0x14), 4), 0, "GICR_WAKER: awake, ChildrenAsleep follows");
	EQ(rread(RD(0, 0x14), 4), 6, "GICR_WAKER: other vCPU unchanged");
	vgic_redist_write(&vm, RD(1, 0x14), 4, 2);
	EQ(rread(RD(1, 0x14), 4), 6, "GICR_WAKER: back to sleep");

	vgic_redist_write(&vm, RD(1, 0x70), 8, ~0ull);
	EQ(rread(RD(1, 0x70), 8), 0x070fffffffffff9full, "GICR_PROPBASER: defined fields stored");
	vgic_redist_write(&vm, RD(1, 0x78), 8, ~0ull);
	EQ(rread(RD(1, 0x78), 8), 0x070fffffffff0f80ull, "GICR_PENDBASER: PTZ reads 0");
	vgic_redist_write(&vm, RD(1, 0x7c), 4, 0);
	EQ(rread(RD(1, 0x78), 8), 0x00000000ffff0f80ull, "GICR_PENDBASER: upper-half write");
	EQ(rread(RD(2, 0x70), 8), 0, "GICR_PROPBASER of another vCPU untouched");

	u64 v;
	OK(!vgic_redist_read(&vm, RD(4, 0x8), 8, &v), "GICR: a fifth vCPU's frame faults");
	OK(!vgic_redist_read(&vm, RD(0, 0x14), 8, &v), "GICR_WAKER: 64-bit access faults");
	OK(!vgic_redist_read(&vm, RD(0, 0x14), 2, &v), "GICR: halfword faults");
	OK(!vgic_redist_read(&vm, RD(0, 0x4), 1, &v), "GICR_IIDR: byte faults");
	OK(vgic_redist_read(&vm, RD(0, 0x1000), 4, &v) && v == 0, "GICR: reserved RAZ");
	OK(vgic_redist_write(&vm, RD(0, 0x1000), 4, 5), "GICR: reserved WI");
}

static void test_redist_sgi_frame(void)
{
	reset(32);
	EQ(rread(SGI(1, 0x80), 4), 0xffffffff, "GICR_IGROUPR0 RAO");
	EQ(rread(SGI(1, 0x100), 4), 0, "GICR_ISENABLER0 reset 0");
	vgic_redist_write(&vm, SGI(1, 0x100), 4, 0x08000001);
	EQ(rread(SGI(1, 0x100), 4), 0x08000001, "GICR_ISENABLER0: SGI 0 and PPI 27");
	EQ(rread(SGI(0, 0x100), 4), 0, "GICR_ISENABLER0: banked per vCPU");
	vgic_redist_write(&vm, SGI(1, 0x180), 4, 1);
	EQ(rread(SGI(1, 0x180), 4), 0x08000000, "GICR_ICENABLER0");
	vgic_redist_write(&vm, SGI(1, 0x200), 4, 0x10002);
	EQ(rread(SGI(1, 0x280), 4), 0x10002, "GICR_ISPENDR0 / ICPENDR0 read");
	vgic_redist_write(&vm, SGI(1, 0x280), 4, 0x2);
	EQ(rread(SGI(1, 0x200), 4), 0x10000, "GICR_ICPENDR0 clears");
	vgic_redist_write(&vm, SGI(1, 0x300), 4, 0x80000000);
	EQ(rread(SGI(1, 0x380), 4), 0x80000000, "GICR_ISACTIVER0 / ICACTIVER0");
	vgic_redist_write(&vm, SGI(1, 0x380), 4, 0x80000000);
	EQ(rread(SGI(1, 0x300), 4), 0, "GICR_ICACTIVER0 clears");
	vgic_redist_write(&vm, SGI(1, 0x41c), 4, 0xf0e0d0c0);
	EQ(rread(SGI(1, 0x41f), 1), 0xf0, "GICR_IPRIORITYR7: byte of INTID 31");
	EQ(vm.cpu[1].priv[28].priority, 0xc0, "GICR_IPRIORITYR7: INTID 28 in the model");
	vgic_redist_write(&vm, SGI(1, 0x400), 1, 0x50);
	EQ(rread(SGI(1, 0x400), 4), 0x50, "GICR_IPRIORITYR0: byte write");
	EQ(rread(SGI(1, 0xc00), 4), 0xaaaaaaaa, "GICR_ICFGR0: SGIs edge");
	vgic_redist_write(&vm, SGI(1, 0xc00), 4, 0);
	EQ(rread(SGI(1, 0xc00), 4), 0xaaaaaaaa, "GICR_ICFGR0 read-only");
	EQ(rread(SGI(1, 0xc04), 4), 0, "GICR_ICFGR1 reset: PPIs level");
	vgic_redist_write(&vm, SGI(1, 0xc04), 4, 0x3 << 22);
	EQ(rread(SGI(1, 0xc04), 4), 0x2 << 22, "GICR_ICFGR1: PPI 27 edge");
	OK(vm.cpu[1].priv[27].flags & VGIC_IRQ_EDGE, "GICR_ICFGR1 in the model");
	EQ(rread(SGI(1, 0x104), 4), 0, "GICR_ISENABLER1 does not exist: RAZ");
	EQ(rread(SGI(1, 0xd00), 4), 0, "GICR_IGRPMODR0 RAZ");
	u64 v;
	OK(!vgic_redist_read(&vm, SGI(1, 0x100), 1, &v), "GICR_ISENABLER0: byte faults");
	OK(!vgic_redist_read(&vm, SGI(1, 0x400), 8, &v), "GICR_IPRIORITYR: 64-bit faults");
}

static bool sgi_pending(u32 cpu, u32 intid)
{
	return vgic_irq_pending(&vm.cpu[cpu].priv[intid]);
}

static void clear_sgis(void)
{
	for (u32 c = 0; c < vm.cpu_count; c++)
		for (u32 i = 0; i < 16; i++)
			vm.cpu[c].priv[i].flags &= (u8)~VGIC_IRQ_LATCH;
}

static void test_sgi_decode(void)
{
	reset(32);
	vgic_sgi(&vm, 0, (3ull << 24) | 0x2); /* cluster 0.0.0, Aff0 1 */
	OK(sgi_pending(1, 3) && !sgi_pending(0, 3) && !sgi_pending(2, 3), "SGI: targeted vCPU 1");
	clear_sgis();
	EQ(vgic_sgi(&vm, 1, (5ull << 24) | 0x3), 0x3, "SGI: the targets hit are returned");
	OK(sgi_pending(0, 5) && sgi_pending(1, 5) && !sgi_pending(2, 5),
	   "SGI: TargetList to two vCPUs (self included)");
	clear_sgis();
	vgic_sgi(&vm, 0, (7ull << 24) | (1ull << 16) | 0x1); /* Aff1 = 1, Aff0 0 */
	OK(sgi_pending(2, 7) && !sgi_pending(0, 7), "SGI: Aff1 selects the cluster");
	clear_sgis();
	/* vCPU 3: Aff3 = 2, Aff0 = 17 = RS 1, bit 1. */
	vgic_sgi(&vm, 0, (9ull << 24) | (2ull << 48) | (1ull << 44) | 0x2);
	OK(sgi_pending(3, 9) && !sgi_pending(0, 9) && !sgi_pending(1, 9), "SGI: Aff3 and RS");
	clear_sgis();
	vgic_sgi(&vm, 0, (9ull << 24) | (2ull << 48) | 0x2); /* RS 0: Aff0 1 in 2.0.0 */
	OK(!sgi_pending(3, 9) && !sgi_pending(1, 9), "SGI: wrong RS reaches nobody");
	vgic_sgi(&vm, 0, (4ull << 24) | (9ull << 16) | (5ull << 32) | 0xffff);
	bool none = true;
	for (u32 c = 0; c < 4; c++)
		none &= !sgi_pending(c, 4);
	OK(none, "SGI: a cluster this VM does not have is ignored");
	vgic_sgi(&vm, 2, (11ull << 24) | (1ull << 40) | 0xffff);
	OK(sgi_pending(0, 11) && sgi_pending(1, 11) && sgi_pending(3, 11) && !sgi_pending(2, 11),
	   "SGI: IRM broadcast reaches all but the sender");
	clear_sgis();
	vgic_sgi(&vm, 0, 0);
	OK(!sgi_pending(0, 0) && !sgi_pending(1, 0), "SGI: empty TargetList");
	OK(!vgic_raise(&vm, 0, 3), "vgic_raise refuses an SGI");
}

static void test_injection(void)
{
	reset(32);
	OK(!vgic_raise(&vm, 0, 64), "raise: SPI 64 absent with 32 SPIs");
	OK(!vgic_raise(&vm, 4, 20), "raise: PPI on vCPU 4 absent");
	OK(!vgic_set_level(&vm, 0, 1020, true), "set_level: INTID 1020 absent");
	OK(!vgic_set_hw(&vm, 20, 40), "set_hw: only SPIs");
	OK(!vgic_set_hw(&vm, 40, 1020), "set_hw: pINTID must be an SPI");
	OK(vgic_raise(&vm, 2, 27) && vgic_irq_pending(&vm.cpu[2].priv[27]) &&
	           !vgic_irq_pending(&vm.cpu[1].priv[27]),
	   "raise: PPI on its vCPU only");
	/* Level-sensitive (reset config): pending follows the line. */
	vgic_set_level(&vm, 0, 40, true);
	OK(vgic_irq_pending(&vm.spi[8]), "level: line high -> pending");
	vgic_dist_write(&vm, 0x280 + 4, 4, 1u << 8);
	OK(vgic_irq_pending(&vm.spi[8]), "level: ICPENDR does not clear a high line");
	vgic_set_level(&vm, 0, 40, false);
	OK(!vgic_irq_pending(&vm.spi[8]), "level: line low -> not pending");
	vgic_dist_write(&vm, 0x200 + 4, 4, 1u << 8);
	OK(vgic_irq_pending(&vm.spi[8]), "level: ISPENDR latches with the line low");
	vgic_dist_write(&vm, 0x280 + 4, 4, 1u << 8);
	OK(!vgic_irq_pending(&vm.spi[8]), "level: ICPENDR clears the latch");
	/* Edge: a rising edge latches; the line falling does not clear it. */
	vgic_dist_write(&vm, 0xc08, 4, 2u << 18); /* INTID 41 edge */
	vgic_set_level(&vm, 0, 41, true);
	vgic_set_level(&vm, 0, 41, false);
	OK(vgic_irq_pending(&vm.spi[9]), "edge: latched by the rising edge");
	vgic_dist_write(&vm, 0x284, 4, 1u << 9);
	vgic_set_level(&vm, 0, 41, false);
	OK(!vgic_irq_pending(&vm.spi[9]), "edge: no edge, no pending");
}

/** Fold the LRs back as the guest left them, then fill; returns the HCR bits. */
static u32 cycle(u32 cpu, u64 *lr, u32 count)
{
	vgic_lr_fold(&vm, cpu, lr, count);
	return vgic_lr_fill(&vm, cpu, lr, count);
}

static u32 lr_intid(u64 lr)
{
	return (u32)(lr & VGIC_LR_VINTID_MASK);
}

static void test_lr_priority(void)
{
	reset(32);
	bring_up();
	u64 lr[4] = { 0 };
	OK(cycle(0, lr, 4) == 0 && lr[0] == 0 && lr[3] == 0, "fill: nothing pending, all invalid");
	vgic_dist_write(&vm, 0x104, 4, 0xffffffff);
	vgic_dist_write(&vm, 0x420, 4, 0x80a08080); /* 32:0x80 33:0x80 34:0xa0 35:0x80 */
	vgic_dist_write(&vm, 0x424, 4, 0x00000010); /* 36:0x10 */
	for (u32 i = 32; i <= 36; i++)
		vgic_raise(&vm, 0, i);
	vgic_dist_write(&vm, 0x6000 + 8 * 35, 8, 0x1); /* 35 to vCPU 1 */
	u32 hcr = cycle(0, lr, 3);
	EQ(lr_intid(lr[0]), 36, "fill: highest priority first");
	EQ(lr_intid(lr[1]), 32, "fill: equal priority, lower INTID");
	EQ(lr_intid(lr[2]), 33, "fill: then the next INTID");
	EQ(lr[0] >> 62, 1, "LR state pending");
	EQ((lr[0] >> 48) & 0xff, 0x10, "LR priority field");
	OK((lr[0] & VGIC_LR_GROUP) && !(lr[0] & VGIC_LR_HW), "LR Group 1, HW 0");
	EQ(hcr, VGIC_HCR_UIE | VGIC_HCR_NPIE, "fill: 34 left over -> maintenance requested");
	u64 lr1[2] = { 0 };
	EQ(cycle(1, lr1, 2), 0, "fill vCPU 1: its one SPI fits");
	EQ(lr_intid(lr1[0]), 35, "fill: SPI routed to vCPU 1 only there");
	OK(lr1[1] == 0, "fill vCPU 1: second LR invalid");
	/* A disabled interrupt is not listed; neither with the distributor off. */
	vgic_dist_write(&vm, 0x104 + 0x80, 4, 1u << 2); /* ICENABLER1: 34 */
	u64 lr0[4] = { 0 };
	(void)cycle(2, lr0, 4);
	OK(lr0[0] == 0, "fill: nothing for vCPU 2");
	vgic_dist_write(&vm, 0x0, 4, 0);
	memcpy(lr0, lr, sizeof(lr));
	vgic_lr_fold(&vm, 0, lr0, 3);
	OK(vgic_lr_fill(&vm, 0, lr0, 3) == 0 && lr0[0] == 0, "fill: distributor disabled");
}

static void test_lr_overflow(void)
{
	reset(64);
	bring_up();
	vgic_dist_write(&vm, 0x104, 4, 0xffffffff);
	vgic_dist_write(&vm, 0x108, 4, 0xffffffff);
	vgic_redist_write(&vm, SGI(0, 0x100), 4, 0xffffffff);
	u32 want = 0;
	for (u32 i = 32; i < 96; i += 3) {
		vgic_raise(&vm, 0, i);
		want++;
	}
	vgic_sgi(&vm, 0, (1ull << 24) | 1);
	vgic_raise(&vm, 0, 30);
	want += 2;
	u64 lr[4] = { 0 };
	bool seen[96] = { false };
	u32 got = 0, rounds = 0, maint = 0;
	while (rounds++ < 64) {
		u32 hcr = cycle(0, lr, 4);
		if (hcr)
			maint++;
		bool any = false;
		for (u32 n = 0; n < 4; n++) {
			if (!(lr[n] >> 62))
				continue;
			any = true;
			u32 id = lr_intid(lr[n]);
			if (id < 96 && !seen[id]) {
				seen[id] = true;
				got++;
			}
			lr[n] &= ~(3ull << 62); /* the guest takes it and EOIs (EOImode 0) */
		}
		if (!any)
			break;
	}
	EQ(got, want, "overflow: every pending interrupt delivered over successive fills");
	OK(maint >= 5 && maint < rounds, "overflow: maintenance requested while some were left");
	bool left = false;
	for (u32 i = 0; i < 96; i++)
		left |= vgic_irq_pending(vgic_irq_get(&vm, 0, i));
	OK(!left, "overflow: nothing pending afterwards");
}

static void test_lr_fold(void)
{
	reset(32);
	bring_up();
	vgic_dist_write(&vm, 0x104, 4, 0xffffffff);
	vgic_dist_write(&vm, 0x420, 4, 0x00002040); /* 32: 0x40, 33: 0x20 */
	vgic_raise(&vm, 0, 32);
	u64 lr[2] = { 0 };
	(void)cycle(0, lr, 2);
	EQ(lr_intid(lr[0]), 32, "fold: 32 listed");
	/* The guest acknowledged 32 (active), then 33 arrives with a higher priority. */
	lr[0] = (lr[0] & ~(3ull << 62)) | VGIC_LR_ACTIVE;
	vgic_raise(&vm, 0, 33);
	(void)cycle(0, lr, 2);
	OK((vm.spi[0].flags & VGIC_IRQ_ACTIVE) && !vgic_irq_pending(&vm.spi[0]),
	   "fold: acknowledged -> active, not pending");
	EQ(lr[0] >> 62, 2, "fill: the active interrupt keeps its LR");
	EQ(lr_intid(lr[0]), 32, "fill: active LR still 32");
	EQ(lr_intid(lr[1]), 33, "fill: 33 in the free LR");
	/* A new edge of 32 while it is active: pending+active in its LR. */
	vgic_raise(&vm, 0, 32);
	(void)cycle(0, lr, 2);
	EQ(lr[0] >> 62, 3, "fill: re-raised while active -> pending and active");
	/* The guest EOIs 32 (LR invalid would lose the new edge only if not pending). */
	lr[0] &= ~VGIC_LR_ACTIVE;
	(void)cycle(0, lr, 2);
	OK(!(vm.spi[0].flags & VGIC_IRQ_ACTIVE) && vgic_irq_pending(&vm.spi[0]),
	   "fold: deactivated, the second edge still pending");
	/* Both taken and EOI'd (EOImode 0: state goes invalid). */
	lr[0] &= ~(3ull << 62);
	lr[1] &= ~(3ull << 62);
	(void)cycle(0, lr, 2);
	OK(!vgic_irq_pending(&vm.spi[0]) && !vgic_irq_pending(&vm.spi[1]) &&
	           !(vm.spi[0].flags & VGIC_IRQ_ACTIVE) && !(vm.spi[1].flags & VGIC_IRQ_ACTIVE),
	   "fold: EOI'd LRs clear pending and active");
	OK(lr[0] == 0 && lr[1] == 0, "fill: nothing left to list");
	OK(vm.spi[0].owner == 0 && vm.spi[1].owner == 0, "fold: no owner left");

	/* An edge arriving while the LR holds it pending survives the guest taking the first. */
	vgic_raise(&vm, 0, 32);
	(void)cycle(0, lr, 2);
	vgic_raise(&vm, 0, 32);
	lr[0] &= ~(3ull << 62);
	(void)cycle(0, lr, 2);
	OK(vgic_irq_pending(&vm.spi[0]) && lr_intid(lr[0]) == 32 && (lr[0] >> 62) == 1,
	   "fold: an edge during the guest's run is not lost");
	lr[0] &= ~(3ull << 62);
	(void)cycle(0, lr, 2);

	/* EOImode 1: priority drop leaves it active until DIR. */
	vgic_raise(&vm, 0, 33);
	(void)cycle(0, lr, 2);
	lr[0] = (lr[0] & ~(3ull << 62)) | VGIC_LR_ACTIVE;
	(void)cycle(0, lr, 2);
	OK(vm.spi[1].flags & VGIC_IRQ_ACTIVE, "EOImode 1: active until deactivated");
	OK(!vgic_deliverable(&vm, 0, 0xff, 0xff), "deliverable: nothing pending");
	lr[0] &= ~(3ull << 62);
	(void)cycle(0, lr, 2);
	OK(!(vm.spi[1].flags & VGIC_IRQ_ACTIVE), "EOImode 1: DIR deactivates");
	/* Fold without a fill in between ignores LRs the model never listed. */
	u64 junk[2] = { 0xc000000000000020ull, 0xc000000000000021ull };
	vgic_lr_fold(&vm, 0, junk, 2);
	OK(!(vm.spi[0].flags & VGIC_IRQ_ACTIVE) && !(vm.spi[1].flags & VGIC_IRQ_ACTIVE),
	   "fold: LRs not filled by the model are ignored");
}

static void test_lr_level(void)
{
	reset(32);
	bring_up();
	vgic_dist_write(&vm, 0x104, 4, 0xffffffff);
	u64 lr[2] = { 0 };
	vgic_set_level(&vm, 0, 40, true);
	(void)cycle(0, lr, 2);
	EQ(lr_intid(lr[0]), 40, "level: listed while the line is high");
	lr[0] = (lr[0] & ~(3ull << 62)) | VGIC_LR_ACTIVE; /* acknowledged, line still high */
	(void)cycle(0, lr, 2);
	EQ(lr[0] >> 62, 3, "level: line still high -> pending and active");
	vgic_set_level(&vm, 0, 40, false); /* the device was serviced */
	lr[0] &= ~(3ull << 62);            /* and the guest EOIs */
	(void)cycle(0, lr, 2);
	OK(!vgic_irq_pending(&vm.spi[8]) && lr[0] == 0, "level: line low after EOI -> done");
}

static void test_lr_hw(void)
{
	reset(32);
	bring_up();
	vgic_dist_write(&vm, 0x104, 4, 0xffffffff);
	OK(vgic_set_hw(&vm, 45, 77), "set_hw: SPI 45 from physical 77");
	vgic_dist_write(&vm, 0xc08, 4, 2u << 26); /* 45 edge */
	vgic_raise(&vm, 0, 45);
	u64 lr[1] = { 0 };
	(void)cycle(0, lr, 1);
	OK(lr[0] & VGIC_LR_HW, "HW: LR HW bit");
	EQ((lr[0] >> 32) & 0x1fff, 77, "HW: pINTID");
	EQ(lr_intid(lr[0]), 45, "HW: vINTID");
	lr[0] = (lr[0] & ~(3ull << 62)) | VGIC_LR_ACTIVE;
	vgic_dist_write(&vm, 0x204, 4, 1u << 13); /* guest sets it pending again */
	(void)cycle(0, lr, 1);
	EQ(lr[0] >> 62, 2, "HW: never pending and active in the LR");
}

static void test_deliverable(void)
{
	reset(32);
	vgic_redist_write(&vm, SGI(1, 0x100), 4, 1u << 27);
	vgic_redist_write(&vm, SGI(1, 0x418), 4, 0x60u << 24); /* PPI 27 priority 0x60 */
	vgic_raise(&vm, 1, 27);
	OK(!vgic_deliverable(&vm, 1, 0xff, 0xff), "deliverable: distributor disabled");
	vgic_dist_write(&vm, 0x0, 4, 2);
	OK(!vgic_deliverable(&vm, 1, 0xff, 0xff), "deliverable: redistributor asleep");
	vgic_redist_write(&vm, RD(1, 0x14), 4, 0);
	OK(vgic_deliverable(&vm, 1, 0xff, 0xff), "deliverable: pending, enabled, unmasked");
	OK(!vgic_deliverable(&vm, 0, 0xff, 0xff), "deliverable: not another vCPU's PPI");
	OK(!vgic_deliverable(&vm, 1, 0x60, 0xff), "deliverable: masked by VPMR (equal)");
	OK(vgic_deliverable(&vm, 1, 0x61, 0xff), "deliverable: just above VPMR");
	OK(!vgic_deliverable(&vm, 1, 0xff, 0x40), "deliverable: running priority higher");
	OK(!vgic_deliverable(&vm, 7, 0xff, 0xff), "deliverable: no vCPU 7");
	vgic_redist_write(&vm, SGI(1, 0x180), 4, 1u << 27);
	OK(!vgic_deliverable(&vm, 1, 0xff, 0xff), "deliverable: disabled");
}

static void test_isolation(void)
{
	/* Two VMs: writes through one never change the other. */
	static struct vgic other;
	reset(32);
	OK(vgic_init(&other, 32, 1, mpidr), "isolation: second VM");
	for (u64 off = 0; off < VGIC_DIST_SIZE; off += 4)
		vgic_dist_write(&vm, off, 4, 0xffffffff);
	for (u64 off = 0; off < 4 * VGIC_REDIST_STRIDE; off += 4)
		vgic_redist_write(&vm, off, 4, 0xffffffff);
	vgic_sgi(&vm, 0, ~0ull);
	static struct vgic fresh;
	vgic_init(&fresh, 32, 1, mpidr);
	OK(memcmp(&other, &fresh, sizeof(fresh)) == 0, "isolation: the other VM unchanged");
}

/** The one-interrupt fast path (vgic_lr_inject) against fold and fill. */
static void test_lr_inject(void)
{
	reset(32);
	bring_up();
	u64 lr[4] = { 0 };
	EQ(cycle(0, lr, 4), 0, "inject: an empty fill first");
	u32 n = 99;
	u64 val = 0;
	OK(!vgic_lr_inject(&vm, 0, 27, 0xf, 4, &n, &val), "inject: a disabled PPI is not listed");
	vgic_redist_write(&vm, RD(0, 0x10100), 4, 1u << 27); /* ISENABLER0 */
	OK(!vgic_lr_inject(&vm, 0, 27, 0xf, 4, &n, &val), "inject: nor one that is not pending");
	vgic_raise(&vm, 0, 27);
	OK(!vgic_lr_inject(&vm, 0, 27, 0x0, 4, &n, &val), "inject: no free LR, no fast path");
	OK(vgic_lr_inject(&vm, 0, 27, 0xe, 4, &n, &val), "inject: listed in a free LR");
	EQ(n, 1u, "inject: the lowest LR free in the hardware");
	EQ(lr_intid(val), 27u, "inject: the LR names the INTID");
	EQ(val >> 62, 1u, "inject: pending");
	OK(!vgic_lr_inject(&vm, 0, 27, 0xf, 4, &n, &val), "inject: never listed twice");
	/* The guest acknowledges and EOIs it: the hardware clears the state, keeps the INTID. */
	lr[1] = val & ~(VGIC_LR_PENDING | VGIC_LR_ACTIVE);
	EQ(cycle(0, lr, 4), 0, "inject: a fold after the guest's EOI");
	OK(!vgic_irq_pending(vgic_irq_get(&vm, 0, 27)),
	   "inject: the EOI'd interrupt is no longer pending");
	OK(vgic_irq_get(&vm, 0, 27)->owner == 0, "inject: and owned by no LR");
	/* LR 0 holds 27 (pending); 26 goes elsewhere while the hardware still uses LR 0. */
	vgic_raise(&vm, 0, 27);
	OK(vgic_lr_inject(&vm, 0, 27, 0xf, 4, &n, &val) && n == 0, "inject: LR 0");
	vgic_redist_write(&vm, RD(0, 0x10100), 4, 1u << 26);
	vgic_raise(&vm, 0, 26);
	OK(!vgic_lr_inject(&vm, 0, 26, 0x0, 4, &n, &val), "inject: no LR free in the hardware");
	OK(vgic_lr_inject(&vm, 0, 26, 0x2, 4, &n, &val) && n == 1,
	   "inject: LR 1 for 26, LR 0 busy");
	/* The guest takes and EOIs 27 (LR 0 empty): relist puts it back in LR 0. */
	u64 lr27 = val;
	(void)lr27;
	OK(!vgic_lr_relist(&vm, 0, 26, 0x1, &n, &val), "relist: only the LR that held the INTID");
	OK(vgic_lr_relist(&vm, 0, 27, 0x1, &n, &val) && n == 0, "relist: 27 again in LR 0");
	OK(vgic_irq_pending(vgic_irq_get(&vm, 0, 27)), "relist: 27 pending again");
	EQ(val >> 62, 1u, "relist: written pending");
	/* A fold then sees LR 0 pending (as written) and LR 1 EOI'd. */
	u64 now_lr[4] = { val, vm.cpu[0].lr_written[1] & ~(VGIC_LR_PENDING | VGIC_LR_ACTIVE), 0,
		          0 };
	vgic_lr_fold(&vm, 0, now_lr, 4);
	OK(vgic_irq_pending(vgic_irq_get(&vm, 0, 27)) &&
	           !vgic_irq_pending(vgic_irq_get(&vm, 0, 26)),
	   "relist: a fold agrees (27 pending, 26 done)");
	OK(!vgic_lr_relist(&vm, 0, 40, 0xf, &n, &val), "relist: not for SPIs");
	OK(!vgic_lr_inject(&vm, 5, 26, 0xf, 4, &n, &val), "inject: a vCPU the VM lacks");
	vgic_redist_write(&vm, RD(0, 0x14), 4, 1u << 1); /* ProcessorSleep */
	OK(!vgic_lr_inject(&vm, 0, 26, 0xf, 4, &n, &val),
	   "inject: nothing to a sleeping redistributor");
}

/** LPIs (docs/its.md): registers, the ITS's outputs, and delivery through the list registers. */
static void test_lpi(void)
{
	reset(32);
	bring_up();
	EQ((dread(0x4, 4) >> 17) & 1, 0, "no LPIs: GICD_TYPER.LPIS = 0");
	EQ(rread(RD(0, 0x8), 8) & 1, 0, "no LPIs: GICR_TYPER.PLPIS = 0");
	vgic_redist_write(&vm, RD(0, 0x0), 4, 1);
	EQ(rread(RD(0, 0x0), 4), 0, "no LPIs: EnableLPIs stays 0");
	OK(!vgic_lpi_raise(&vm, 0, 8192), "no LPIs: raise refused");
	OK(!vgic_lpi_init(&vm, 0) && !vgic_lpi_init(&vm, VGIC_LPI_MAX + 1), "lpi_init limits");
	OK(vgic_lpi_init(&vm, 64), "lpi_init 64");
	EQ((dread(0x4, 4) >> 17) & 1, 1, "GICD_TYPER.LPIS");
	EQ((dread(0x4, 4) >> 19) & 0x1f, 13, "GICD_TYPER.IDbits covers the LPIs");
	EQ(rread(RD(1, 0x8), 8) & 1, 1, "GICR_TYPER.PLPIS");
	vgic_redist_write(&vm, RD(1, 0x70), 8, 0x40001000ull | 13);
	vgic_redist_write(&vm, RD(1, 0x0), 4, 1);
	EQ(rread(RD(1, 0x0), 4), 1, "EnableLPIs set");
	vgic_redist_write(&vm, RD(1, 0x0), 4, 0);
	EQ(rread(RD(1, 0x0), 4), 1, "EnableLPIs cannot be cleared");
	vgic_redist_write(&vm, RD(1, 0x70), 8, 0x50000000ull);
	EQ(rread(RD(1, 0x70), 8), 0x40001000ull | 13, "PROPBASER frozen once LPIs are enabled");

	OK(!vgic_lpi_raise(&vm, 1, 8192 + 64), "LPI beyond the count refused");
	OK(!vgic_lpi_raise(&vm, 4, 8192), "vCPU beyond the count refused");
	OK(!vgic_lpi_config(&vm, 8191, 1), "INTID below 8192 is no LPI");
	vgic_lpi_raise(&vm, 1, 8200);
	u64 lr[4] = { 0 };
	(void)cycle(1, lr, 4);
	OK(lr[0] == 0, "pending but disabled: not listed");
	vgic_lpi_config(&vm, 8200, 0xa1);
	(void)cycle(1, lr, 4);
	EQ(lr_intid(lr[0]), 8200, "enabled: listed on its vCPU");
	EQ((lr[0] >> 48) & 0xff, 0xa0, "priority from the property byte");
	OK((lr[0] & VGIC_LR_GROUP) && lr[0] >> 62 == 1, "group 1, pending");
	/* The guest acknowledges and EOIs it (state bits clear): nothing left. */
	lr[0] &= ~(3ull << 62);
	(void)cycle(1, lr, 4);
	EQ(lr[0], 0, "after EOI nothing listed");

	/* vCPU 0 has not enabled LPIs: an LPI aimed at it waits. */
	vgic_lpi_config(&vm, 8201, 0x81);
	vgic_lpi_raise(&vm, 0, 8201);
	u64 lr0[4] = { 0 };
	(void)cycle(0, lr0, 4);
	OK(lr0[0] == 0, "not listed before the vCPU's EnableLPIs");
	vgic_lpi_move(&vm, 1, 8201);
	(void)cycle(1, lr, 4);
	EQ(lr_intid(lr[0]), 8201, "moved to vCPU 1 with its pending state");
	lr[0] &= ~(3ull << 62);
	(void)cycle(1, lr, 4);
	vgic_lpi_raise(&vm, 1, 8202);
	vgic_lpi_config(&vm, 8202, 0x81);
	vgic_lpi_config(&vm, 8202, 0x80);
	(void)cycle(1, lr, 4);
	OK(lr[0] == 0, "enable bit cleared (INV): withdrawn");
	vgic_lpi_config(&vm, 8202, 0x81);
	vgic_lpi_clear(&vm, 8202);
	(void)cycle(1, lr, 4);
	OK(lr[0] == 0, "cleared (CLEAR/DISCARD): nothing");
	vgic_lpi_raise(&vm, 1, 8202);
	(void)cycle(1, lr, 4);
	EQ(lr_intid(lr[0]), 8202, "raised again: listed");
}

int main(void)
{
	test_init_limits();
	test_dist_ident();
	test_dist_widths();
	test_dist_raz_wi();
	test_dist_bits();
	test_dist_priority_cfg();
	test_dist_irouter();
	test_redist_rd();
	test_redist_sgi_frame();
	test_sgi_decode();
	test_injection();
	test_lr_priority();
	test_lr_overflow();
	test_lr_fold();
	test_lr_level();
	test_lr_hw();
	test_deliverable();
	test_isolation();
	test_lr_inject();
	test_lpi();
	return tap_finish();
}
