/**
 * Host tests of the introspection service's software stage-1 walkers (services/vmi/walk.c)
 * over hand-built page tables in a fake guest memory: arm64 with every granule, start levels
 * from TnSZ, both VA ranges, TBI, EPD, blocks where allowed and refused, faults at every
 * level, address size and access flag faults, inherited APTable/XNTable/PXNTable (and HPD),
 * WXN and DBM; x86 with paging off, 4-level (4 KiB, 2 MiB, 1 GiB, NX, reserved bits,
 * canonical form, CR0.WP, SMEP, SMAP), PAE and 32-bit paging with PSE-36; reads by virtual
 * address across pages; tables outside guest memory.
 */
#include <string.h>

#include "tap.h"
#include "walk.h"

#define GBASE UINT64_C(0x01000000)
#define GSIZE UINT64_C(0x00800000)

static uint8_t guest[GSIZE];
static uint64_t next_free;
static unsigned read_count;

static bool gread(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
	(void)ctx;
	read_count++;
	if (gpa < GBASE || gpa - GBASE > GSIZE - size)
		return false;
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)guest[gpa - GBASE + i] << (8 * i);
	*val = v;
	return true;
}

static void put(uint64_t gpa, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		guest[gpa - GBASE + i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint64_t gpa, uint64_t v)
{
	put(gpa, v, 8);
}

static void reset(void)
{
	memset(guest, 0, sizeof(guest));
	next_free = GBASE;
}

/** A zeroed table of `size` bytes aligned to `align`. */
static uint64_t table(uint64_t size, uint64_t align)
{
	next_free = (next_free + align - 1) & ~(align - 1);
	uint64_t t = next_free;
	next_free += size;
	return t;
}

/* ---- arm64 ------------------------------------------------------------------------------ */

#define TBL(pa) ((pa) | 3u)
#define PAGE(pa) ((pa) | 3u | ARM_DESC_AF)
#define BLOCK(pa) ((pa) | 1u | ARM_DESC_AF)

static uint64_t tcr(unsigned t0sz, unsigned tg0, unsigned t1sz, unsigned tg1, unsigned ips)
{
	return (uint64_t)t0sz | ((uint64_t)tg0 << ARM_TCR_TG0_SHIFT) |
	       ((uint64_t)t1sz << ARM_TCR_T1SZ_SHIFT) | ((uint64_t)tg1 << ARM_TCR_TG1_SHIFT) |
	       ((uint64_t)ips << ARM_TCR_IPS_SHIFT);
}

/* TG0 encodings: 0 = 4K, 1 = 64K, 2 = 16K; TG1: 2 = 4K, 1 = 16K, 3 = 64K; IPS 5 = 48 bits. */
#define TG0_4K 0u
#define TG0_64K 1u
#define TG0_16K 2u
#define TG1_4K 2u
#define TG1_16K 1u
#define TG1_64K 3u

static struct vmi_arm64_regs arm(uint64_t tcr_v, uint64_t ttbr0, uint64_t ttbr1)
{
	return (struct vmi_arm64_regs){
		.sctlr_el1 = ARM_SCTLR_M, .tcr_el1 = tcr_v, .ttbr0_el1 = ttbr0, .ttbr1_el1 = ttbr1
	};
}

static enum vmi_walk_status aw(const struct vmi_arm64_regs *r, uint64_t va, struct vmi_walk *w)
{
	return vmi_walk_arm64(r, va, gread, NULL, w);
}

/** Index of `va` at `level` for granule shift g. */
static uint64_t aidx(uint64_t va, unsigned g, unsigned level)
{
	unsigned lsb = g + (3 - level) * (g - 3);
	return (va >> lsb) & ((UINT64_C(1) << (g - 3)) - 1);
}

/**
 * Builds a chain of tables from `start` down to level 3 for `va` and returns the address of
 * the level-3 entry; `tables[l]` receives each level's table.
 */
static uint64_t chain(uint64_t va, unsigned g, unsigned start, unsigned ia, uint64_t tables[4])
{
	uint64_t gsize = UINT64_C(1) << g;
	for (unsigned l = start; l <= 3; l++) {
		unsigned lsb = g + (3 - l) * (g - 3);
		uint64_t sz = l == start ? (UINT64_C(8) << (ia - lsb)) : gsize;
		tables[l] = table(sz < 64 ? 64 : sz, sz < gsize ? gsize : sz);
	}
	for (unsigned l = start; l < 3; l++) {
		unsigned lsb = g + (3 - l) * (g - 3);
		uint64_t idx = l == start ? (va >> lsb) & ((UINT64_C(1) << (ia - lsb)) - 1) :
		                            aidx(va, g, l);
		put64(tables[l] + idx * 8, TBL(tables[l + 1]));
	}
	return tables[3] + aidx(va, g, 3) * 8;
}

static void test_arm64_mmu_off(void)
{
	struct vmi_arm64_regs r = { .sctlr_el1 = 0, .tcr_el1 = tcr(16, 0, 16, 2, 2) };
	struct vmi_walk w;
	EQ(aw(&r, 0x12345678, &w), VMI_WALK_OK, "arm64 MMU off: translates");
	EQ(w.gpa, 0x12345678, "arm64 MMU off: identity");
	EQ(w.perm, VMI_P_ALL, "arm64 MMU off: every permission");
	EQ(aw(&r, UINT64_C(0x10000000000), &w), VMI_WALK_ADDRESS_SIZE,
	   "arm64 MMU off: a VA above IPS (40 bits) is an address size fault");
}

/** One page through every level for each granule and start level; checks table reads. */
static void granule_case(const char *name, unsigned g, unsigned tg0, unsigned t0sz,
                         unsigned want_start)
{
	reset();
	unsigned ia = 64 - (t0sz < 16 ? 16 :
	                    t0sz > 39 ? 39 :
	                                t0sz); /* the clamp walk.c documents */
	uint64_t va = (UINT64_C(0x0000123456789abc) & ((UINT64_C(1) << ia) - 1));
	uint64_t t[4] = { 0 };
	uint64_t frame = GBASE + GSIZE - (UINT64_C(1) << g) * 4;
	uint64_t leaf = chain(va, g, want_start, ia, t);
	put64(leaf, PAGE(frame));
	struct vmi_arm64_regs r = arm(tcr(t0sz, tg0, 16, TG1_4K, 5), t[want_start], 0);
	struct vmi_walk w;
	char buf[128];
	read_count = 0;
	snprintf(buf, sizeof(buf), "%s: translates", name);
	EQ(aw(&r, va, &w), VMI_WALK_OK, buf);
	snprintf(buf, sizeof(buf), "%s: output address and page offset", name);
	EQ(w.gpa, frame | (va & ((UINT64_C(1) << g) - 1)), buf);
	snprintf(buf, sizeof(buf), "%s: page size", name);
	EQ(w.size, UINT64_C(1) << g, buf);
	snprintf(buf, sizeof(buf), "%s: leaf at level 3", name);
	EQ(w.level, 3, buf);
	snprintf(buf, sizeof(buf), "%s: start level %u (one read per level)", name, want_start);
	EQ(read_count, 4 - want_start, buf);
	snprintf(buf, sizeof(buf), "%s: EL1 rwx, EL0 x only", name);
	EQ(w.perm, VMI_P_R | VMI_P_W | VMI_P_X | VMI_P_UX, buf);
}

static void test_arm64_granules(void)
{
	granule_case("4K T0SZ=16", 12, TG0_4K, 16, 0);
	granule_case("4K T0SZ=25", 12, TG0_4K, 25, 1);
	granule_case("4K T0SZ=34", 12, TG0_4K, 34, 2);
	granule_case("16K T0SZ=16", 14, TG0_16K, 16, 0);
	granule_case("16K T0SZ=17", 14, TG0_16K, 17, 1);
	granule_case("16K T0SZ=28", 14, TG0_16K, 28, 2);
	granule_case("16K T0SZ=39", 14, TG0_16K, 39, 3);
	granule_case("64K T0SZ=16", 16, TG0_64K, 16, 1);
	granule_case("64K T0SZ=22", 16, TG0_64K, 22, 2);
	granule_case("64K T0SZ=36", 16, TG0_64K, 36, 3);
	granule_case("4K T0SZ=10 clamps to 16", 12, TG0_4K, 10, 0);
	granule_case("4K T0SZ=45 clamps to 39", 12, TG0_4K, 45, 2);
}

static void test_arm64_ttbr1_and_tg1(void)
{
	static const struct {
		unsigned g, tg1, start;
	} cases[] = { { 12, TG1_4K, 0 }, { 14, TG1_16K, 0 }, { 16, TG1_64K, 1 } };
	for (unsigned i = 0; i < 3; i++) {
		reset();
		uint64_t va = UINT64_C(0xffff800000201000) | (UINT64_C(1) << cases[i].g);
		uint64_t t[4];
		uint64_t frame = GBASE + 0x600000;
		put64(chain(va, cases[i].g, cases[i].start, 48, t), PAGE(frame));
		struct vmi_arm64_regs r =
		        arm(tcr(16, TG0_4K, 16, cases[i].tg1, 5), 0, t[cases[i].start]);
		struct vmi_walk w;
		EQ(aw(&r, va, &w), VMI_WALK_OK,
		   "TTBR1 (bit 55 set): translates with TG1's granule");
		EQ(w.gpa, frame | (va & ((UINT64_C(1) << cases[i].g) - 1)),
		   "TTBR1: output address");
		/* The same VA bits with a zero top half go through TTBR0, which maps nothing. */
		EQ(aw(&r, va & ((UINT64_C(1) << 48) - 1), &w), VMI_WALK_READ_ERROR,
		   "bit 55 clear selects TTBR0 (here 0: outside guest memory)");
	}
	reset();
	struct vmi_arm64_regs r = arm(tcr(16, 3, 16, TG1_4K, 5), 0, 0);
	struct vmi_walk w;
	EQ(aw(&r, 0x1000, &w), VMI_WALK_UNSUPPORTED, "reserved TG0 encoding is unsupported");
	r = arm(tcr(16, TG0_4K, 16, 0, 5), 0, 0);
	EQ(aw(&r, UINT64_C(0xffff000000000000), &w), VMI_WALK_UNSUPPORTED,
	   "reserved TG1 encoding is unsupported");
}

static void test_arm64_tbi_epd_range(void)
{
	reset();
	uint64_t va = 0x40201000, t[4];
	uint64_t frame = GBASE + 0x500000;
	put64(chain(va, 12, 0, 48, t), PAGE(frame));
	uint64_t uva = UINT64_C(0xffffffffc0201000), u[4];
	put64(chain(uva, 12, 0, 48, u), PAGE(frame + 0x1000));
	struct vmi_walk w;
	struct vmi_arm64_regs r = arm(tcr(16, TG0_4K, 16, TG1_4K, 5), t[0], u[0]);
	const uint64_t tag = UINT64_C(0xab) << 56;

	EQ(aw(&r, va | tag, &w), VMI_WALK_TRANSLATION, "tagged TTBR0 VA without TBI0 faults");
	EQ(w.level, 0, "  at level 0");
	r.tcr_el1 |= ARM_TCR_TBI0;
	EQ(aw(&r, va | tag, &w), VMI_WALK_OK, "TBI0: the top byte is ignored");
	EQ(w.gpa, frame, "TBI0: same frame as the untagged VA");
	EQ(aw(&r, va | (UINT64_C(1) << 50), &w), VMI_WALK_TRANSLATION,
	   "TBI0: bits 55:48 must still be zero");
	EQ(aw(&r, (uva & ~(UINT64_C(0xff) << 56)) | tag, &w), VMI_WALK_TRANSLATION,
	   "TBI0 does not apply to the TTBR1 range");
	r.tcr_el1 |= ARM_TCR_TBI1;
	EQ(aw(&r, (uva & ~(UINT64_C(0xff) << 56)) | tag, &w), VMI_WALK_OK,
	   "TBI1: the top byte of an upper VA is ignored");
	EQ(w.gpa, frame + 0x1000, "TBI1: same frame");

	r = arm(tcr(16, TG0_4K, 16, TG1_4K, 5) | ARM_TCR_EPD0, t[0], u[0]);
	EQ(aw(&r, va, &w), VMI_WALK_TRANSLATION, "EPD0: TTBR0 walks fault");
	EQ(w.level, 0, "  at level 0");
	EQ(aw(&r, uva, &w), VMI_WALK_OK, "EPD0: TTBR1 still walks");
	r = arm(tcr(16, TG0_4K, 16, TG1_4K, 5) | ARM_TCR_EPD1, t[0], u[0]);
	EQ(aw(&r, uva, &w), VMI_WALK_TRANSLATION, "EPD1: TTBR1 walks fault");
	EQ(aw(&r, va, &w), VMI_WALK_OK, "EPD1: TTBR0 still walks");

	/* T0SZ = 25: 39-bit range; a VA with bit 39 set is outside it. */
	r = arm(tcr(25, TG0_4K, 25, TG1_4K, 5), t[1], u[1]);
	EQ(aw(&r, va, &w), VMI_WALK_OK, "T0SZ=25: VA inside 39 bits translates (from level 1)");
	EQ(aw(&r, va | (UINT64_C(1) << 39), &w), VMI_WALK_TRANSLATION,
	   "T0SZ=25: VA above 39 bits faults");
	EQ(aw(&r, uva, &w), VMI_WALK_OK, "T1SZ=25: the top 39-bit range translates");
	EQ(aw(&r, UINT64_C(0xfffffe8000000000), &w), VMI_WALK_TRANSLATION,
	   "T1SZ=25: an upper VA with a zero bit above 39 faults");
}

static void test_arm64_blocks_and_faults(void)
{
	reset();
	struct vmi_walk w;
	/* 4K, T0SZ=16: L0 -> L1 (1 GiB block at index 1) and L1 -> L2 (2 MiB block). */
	uint64_t l0 = table(4096, 4096), l1 = table(4096, 4096), l2 = table(4096, 4096);
	uint64_t l3 = table(4096, 4096);
	put64(l0, TBL(l1));
	put64(l1 + 1 * 8, BLOCK(UINT64_C(0x80000000)));
	put64(l1 + 0 * 8, TBL(l2));
	put64(l2 + 3 * 8, BLOCK(UINT64_C(0x00e00000)));
	put64(l2 + 4 * 8, TBL(l3));
	put64(l3 + 5 * 8, PAGE(GBASE + 0x7000));
	put64(l3 + 6 * 8, (GBASE + 0x8000) | 1u | ARM_DESC_AF); /* 0b01 at level 3: reserved */
	put64(l3 + 7 * 8, (GBASE + 0x9000) | 3u);               /* AF = 0 */
	put64(l2 + 5 * 8, TBL(UINT64_C(0x7f000000)));           /* outside the guest */
	struct vmi_arm64_regs r = arm(tcr(16, TG0_4K, 16, TG1_4K, 5), l0, 0);

	EQ(aw(&r, UINT64_C(0x40000000) + 0x123456, &w), VMI_WALK_OK, "4K: 1 GiB block at level 1");
	EQ(w.gpa, UINT64_C(0x80123456), "  output address");
	EQ(w.size, UINT64_C(1) << 30, "  size 1 GiB");
	EQ(w.level, 1, "  level 1");
	EQ(aw(&r, UINT64_C(0x00600000) + 0x1234, &w), VMI_WALK_OK, "4K: 2 MiB block at level 2");
	EQ(w.gpa, UINT64_C(0x00e01234), "  output address");
	EQ(w.size, UINT64_C(1) << 21, "  size 2 MiB");
	EQ(aw(&r, UINT64_C(0x00805abc), &w), VMI_WALK_OK, "4K: page at level 3");
	EQ(w.gpa, GBASE + 0x7abc, "  output address");
	EQ(aw(&r, UINT64_C(0x00806000), &w), VMI_WALK_TRANSLATION,
	   "level 3 descriptor 0b01 is a translation fault");
	EQ(w.level, 3, "  at level 3");
	EQ(aw(&r, UINT64_C(0x00807000), &w), VMI_WALK_ACCESS_FLAG,
	   "AF = 0 is an access flag fault");
	EQ(w.level, 3, "  at level 3");
	r.tcr_el1 |= ARM_TCR_HA;
	EQ(aw(&r, UINT64_C(0x00807000), &w), VMI_WALK_OK, "AF = 0 with TCR.HA translates");
	EQ(aw(&r, UINT64_C(0x00a00000), &w), VMI_WALK_READ_ERROR,
	   "a table outside guest memory is a read error");
	EQ(w.level, 3, "  reading level 3");

	/* A translation fault at each level. */
	EQ(aw(&r, UINT64_C(0x008000000000), &w), VMI_WALK_TRANSLATION, "invalid L0 entry");
	EQ(w.level, 0, "  level 0");
	EQ(aw(&r, UINT64_C(0x0000c0000000), &w), VMI_WALK_TRANSLATION, "invalid L1 entry");
	EQ(w.level, 1, "  level 1");
	EQ(aw(&r, UINT64_C(0x00000c000000), &w), VMI_WALK_TRANSLATION, "invalid L2 entry");
	EQ(w.level, 2, "  level 2");
	EQ(aw(&r, UINT64_C(0x00000080a000), &w), VMI_WALK_TRANSLATION, "invalid L3 entry");
	EQ(w.level, 3, "  level 3");

	/* A block at level 0 is never allowed. */
	put64(l0 + 2 * 8, BLOCK(0));
	EQ(aw(&r, UINT64_C(0x010000000000), &w), VMI_WALK_TRANSLATION, "4K: block at level 0");
	EQ(w.level, 0, "  level 0");

	/* Address size: IPS = 32 bits. */
	put64(l1 + 2 * 8, BLOCK(UINT64_C(0x100000000)));
	EQ(aw(&r, UINT64_C(0x80000000), &w), VMI_WALK_OK, "IPS 48: a block above 4 GiB is fine");
	r.tcr_el1 &= ~(UINT64_C(7) << ARM_TCR_IPS_SHIFT);
	EQ(aw(&r, UINT64_C(0x80000000), &w), VMI_WALK_ADDRESS_SIZE,
	   "IPS 32: a block above 4 GiB is an address size fault");
	EQ(w.level, 1, "  level 1");
	put64(l1 + 3 * 8, TBL(UINT64_C(0x200000000)));
	EQ(aw(&r, UINT64_C(0xc0000000), &w), VMI_WALK_ADDRESS_SIZE,
	   "IPS 32: a next-level table above 4 GiB is an address size fault");

	/* 16K and 64K: blocks at level 2 only. */
	reset();
	uint64_t a1 = table(16384, 16384), a2 = table(16384, 16384);
	put64(a1, TBL(a2));
	put64(a1 + 8, BLOCK(UINT64_C(0x1000000000)));
	put64(a2 + 8, BLOCK(UINT64_C(0x04000000)));
	r = arm(tcr(17, TG0_16K, 16, TG1_4K, 5), a1, 0); /* 47 bits: start level 1 */
	EQ(aw(&r, (UINT64_C(1) << 25) + 0x1234, &w), VMI_WALK_OK, "16K: 32 MiB block at level 2");
	EQ(w.gpa, UINT64_C(0x04001234), "  output address");
	EQ(w.size, UINT64_C(1) << 25, "  size 32 MiB");
	EQ(aw(&r, UINT64_C(1) << 36, &w), VMI_WALK_TRANSLATION, "16K: block at level 1 refused");
	EQ(w.level, 1, "  level 1");
	reset();
	uint64_t b1 = table(65536, 65536), b2 = table(65536, 65536);
	put64(b1, TBL(b2));
	put64(b1 + 8, BLOCK(UINT64_C(0x40000000000)));
	put64(b2 + 8, BLOCK(UINT64_C(0x20000000)));
	r = arm(tcr(16, TG0_64K, 16, TG1_4K, 5), b1, 0);
	EQ(aw(&r, (UINT64_C(1) << 29) + 0x12345, &w), VMI_WALK_OK, "64K: 512 MiB block at level 2");
	EQ(w.gpa, UINT64_C(0x20012345), "  output address");
	EQ(w.size, UINT64_C(1) << 29, "  size 512 MiB");
	EQ(aw(&r, UINT64_C(1) << 42, &w), VMI_WALK_TRANSLATION, "64K: block at level 1 refused");
}

/** Permission of a 4K page whose leaf has `leaf_bits` and whose L1 table entry has `tbl`. */
static uint8_t arm_perm(uint64_t leaf_bits, uint64_t tbl, uint64_t tcr_extra, uint64_t sctlr)
{
	reset();
	uint64_t va = 0x1000, t[4];
	uint64_t leaf = chain(va, 12, 0, 48, t);
	put64(leaf, PAGE(GBASE + 0x10000) | leaf_bits);
	put64(t[1], TBL(t[2]) | tbl); /* the table attributes sit at level 1, two levels up */
	struct vmi_arm64_regs r = arm(tcr(16, TG0_4K, 16, TG1_4K, 5) | tcr_extra, t[0], 0);
	r.sctlr_el1 |= sctlr;
	struct vmi_walk w;
	if (aw(&r, va, &w) != VMI_WALK_OK)
		return 0xff;
	return w.perm;
}

static void test_arm64_permissions(void)
{
	const uint64_t ap1 = ARM_DESC_AP1, ap2 = ARM_DESC_AP2;
	const uint8_t R = VMI_P_R, W = VMI_P_W, X = VMI_P_X, UR = VMI_P_UR, UW = VMI_P_UW,
	              UX = VMI_P_UX;
	EQ(arm_perm(0, 0, 0, 0), R | W | X | UX, "AP=00: EL1 rw, EL0 no data access");
	EQ(arm_perm(ap1, 0, 0, 0), R | W | UR | UW | UX, "AP=01: EL0 rw, EL1 cannot execute it");
	EQ(arm_perm(ap2, 0, 0, 0), R | X | UX, "AP=10: EL1 read-only");
	EQ(arm_perm(ap1 | ap2, 0, 0, 0), R | UR | X | UX, "AP=11: read-only at both");
	EQ(arm_perm(ARM_DESC_PXN, 0, 0, 0), R | W | UX, "PXN");
	EQ(arm_perm(ARM_DESC_UXN, 0, 0, 0), R | W | X, "UXN");
	EQ(arm_perm(ap1, ARM_DESC_APTABLE1, 0, 0), R | UR | UX | X,
	   "APTable[1] two levels up: no writes (and EL1 may execute again)");
	EQ(arm_perm(ap1, ARM_DESC_APTABLE0, 0, 0), R | W | X | UX, "APTable[0]: no EL0 access");
	EQ(arm_perm(0, ARM_DESC_PXNTABLE, 0, 0), R | W | UX, "PXNTable inherited");
	EQ(arm_perm(0, ARM_DESC_UXNTABLE, 0, 0), R | W | X, "UXNTable inherited");
	EQ(arm_perm(ap1,
	            ARM_DESC_APTABLE0 | ARM_DESC_APTABLE1 | ARM_DESC_PXNTABLE | ARM_DESC_UXNTABLE,
	            0, 0),
	   R, "all table attributes together");
	EQ(arm_perm(ap1,
	            ARM_DESC_APTABLE0 | ARM_DESC_APTABLE1 | ARM_DESC_PXNTABLE | ARM_DESC_UXNTABLE,
	            ARM_TCR_HPD0, 0),
	   R | W | UR | UW | UX, "HPD0: table attributes ignored");
	EQ(arm_perm(0, 0, 0, ARM_SCTLR_WXN), R | W | UX, "WXN: writable at EL1 means EL1 XN");
	EQ(arm_perm(ap1, 0, 0, ARM_SCTLR_WXN), R | W | UR | UW, "WXN: writable at EL0 means XN");
	EQ(arm_perm(ap2 | ARM_DESC_DBM, 0, 0, 0), R | X | UX, "DBM without TCR.HD: read-only");
	EQ(arm_perm(ap2 | ARM_DESC_DBM, 0, ARM_TCR_HD, 0), R | W | X | UX,
	   "DBM with TCR.HD: writable-clean counts as writable");
}

/* ---- x86 -------------------------------------------------------------------------------- */

#define P X86_PTE_P
#define RW X86_PTE_RW
#define US X86_PTE_US
#define PS X86_PTE_PS
#define XD X86_PTE_XD

static enum vmi_walk_status xw(const struct vmi_x86_regs *r, uint64_t va, struct vmi_walk *w)
{
	return vmi_walk_x86(r, va, gread, NULL, w);
}

static void test_x86_off_and_32bit(void)
{
	struct vmi_walk w;
	struct vmi_x86_regs r = { .cr0 = 0 };
	EQ(xw(&r, UINT64_C(0x1234567890), &w), VMI_WALK_OK, "x86 paging off translates");
	EQ(w.gpa, 0x34567890, "x86 paging off: identity, 32 bits");
	EQ(w.perm, VMI_P_ALL, "x86 paging off: every permission");

	reset();
	uint64_t pd = table(4096, 4096), pt = table(4096, 4096);
	put(pd + (0x00400000u >> 22) * 4, pt | P | RW | US, 4);
	put(pt + 3 * 4, (GBASE + 0x5000) | P | US, 4);
	put(pd + (0x00800000u >> 22) * 4, UINT64_C(0x00c00000) | P | RW | PS | (0x5u << 13), 4);
	put(pd + (0x00c00000u >> 22) * 4, UINT64_C(0x00c00000) | P | RW | PS | (1u << 21), 4);
	r = (struct vmi_x86_regs){ .cr0 = X86_CR0_PG | X86_CR0_WP, .cr3 = pd, .maxphyaddr = 36 };
	EQ(xw(&r, 0x00403abc, &w), VMI_WALK_OK, "32-bit paging: 4K page");
	EQ(w.gpa, GBASE + 0x5abc, "  output address");
	EQ(w.level, 1, "  level 1 (PT)");
	EQ(w.perm, VMI_P_R | VMI_P_X | VMI_P_UR | VMI_P_UX, "  read-only user page");
	EQ(xw(&r, 0x00812345, &w), VMI_WALK_READ_ERROR,
	   "32-bit paging: PS without CR4.PSE is a table pointer (here outside the guest)");
	r.cr4 = X86_CR4_PSE;
	EQ(xw(&r, 0x00812345, &w), VMI_WALK_OK, "32-bit paging + PSE: 4 MiB page");
	EQ(w.gpa, UINT64_C(0x500c12345), "  PSE-36: PDE bits 20:13 are PA bits 39:32");
	EQ(w.size, UINT64_C(1) << 22, "  size 4 MiB");
	EQ(xw(&r, 0x00c00000, &w), VMI_WALK_RESERVED, "4 MiB page with bit 21 set: reserved");
	r.maxphyaddr = 34;
	EQ(xw(&r, 0x00812345, &w), VMI_WALK_RESERVED, "PSE-36 bits above MAXPHYADDR: reserved");
	EQ(xw(&r, 0x01000000, &w), VMI_WALK_TRANSLATION, "not-present PDE");
	EQ(w.level, 2, "  level 2");
	EQ(xw(&r, 0x00404000, &w), VMI_WALK_TRANSLATION, "not-present PTE");
	EQ(w.level, 1, "  level 1");
}

static void test_x86_pae(void)
{
	reset();
	struct vmi_walk w;
	uint64_t pdpt = table(32, 32), pd = table(4096, 4096), pt = table(4096, 4096);
	put64(pdpt + 1 * 8, pd | P);
	put64(pdpt + 2 * 8, pd | P | RW); /* R/W is reserved in a PAE PDPTE */
	put64(pd + 2 * 8, pt | P | RW);
	put64(pt + 1 * 8, (GBASE + 0x3000) | P | RW | XD);
	put64(pd + 3 * 8, UINT64_C(0x20000000) | P | RW | PS);
	struct vmi_x86_regs r = { .cr0 = X86_CR0_PG | X86_CR0_WP,
		                  .cr4 = X86_CR4_PAE,
		                  .efer = X86_EFER_NXE,
		                  .cr3 = pdpt,
		                  .maxphyaddr = 36 };
	EQ(xw(&r, 0x40401234, &w), VMI_WALK_OK, "PAE: 4K page");
	EQ(w.gpa, GBASE + 0x3234, "  output address");
	EQ(w.perm, VMI_P_R | VMI_P_W, "  NX, supervisor rw");
	EQ(xw(&r, 0x40654321, &w), VMI_WALK_OK, "PAE: 2 MiB page");
	EQ(w.gpa, UINT64_C(0x20054321), "  output address");
	EQ(w.size, UINT64_C(1) << 21, "  size 2 MiB");
	EQ(xw(&r, 0x00001000, &w), VMI_WALK_TRANSLATION, "PAE: PDPTE not present");
	EQ(w.level, 3, "  level 3");
	EQ(xw(&r, 0x80001000, &w), VMI_WALK_RESERVED, "PAE: R/W set in a PDPTE is reserved");
	r.efer = 0;
	EQ(xw(&r, 0x40401234, &w), VMI_WALK_RESERVED, "PAE without NXE: XD is a reserved bit");
	EQ(w.level, 1, "  level 1");
}

/*
 * The 4-level layout:  PML4[0] -> PDPT[0] -> PD[0] -> PT (VA 0x1000, 0x2000 NX, 0x3000 S)
 *                                          PD[1]  2 MiB page (VA 0x200000)
 *                                          PD[2]  2 MiB page, reserved bit 20 (VA 0x400000)
 *                                          PD[3]  the same PT, read-only (VA 0x600000)
 *                                          PD[4]  address bit 48 (VA 0x800000)
 *                              PDPT[1]  1 GiB page (VA 0x40000000), supervisor
 *                              PDPT[2]  1 GiB page, reserved bit 13 (VA 0x80000000)
 *                      PML4[1]  outside the guest;  PML4[2]  PS set (reserved)
 *                      PML4[511] -> PDPT[0]  1 GiB page, NX (VA 0xffffff8000000000)
 */
static void test_x86_long_mode(void)
{
	reset();
	struct vmi_walk w;
	uint64_t l4 = table(4096, 4096), l3 = table(4096, 4096), l2 = table(4096, 4096),
	         l1 = table(4096, 4096), hi3 = table(4096, 4096);
	put64(l4, l3 | P | RW | US);
	put64(l4 + 1 * 8, UINT64_C(0x7f000000) | P | RW);
	put64(l4 + 2 * 8, l3 | P | RW | PS);
	put64(l4 + 511 * 8, hi3 | P | RW);
	put64(hi3, UINT64_C(0x40000000) | P | RW | PS | XD);
	put64(l3, l2 | P | RW | US);
	put64(l3 + 1 * 8, UINT64_C(0x80000000) | P | RW | PS);
	put64(l3 + 2 * 8, UINT64_C(0x80000000) | P | PS | (1u << 13));
	put64(l2, l1 | P | RW | US);
	put64(l2 + 1 * 8, UINT64_C(0x00600000) | P | RW | US | PS);
	put64(l2 + 2 * 8, UINT64_C(0x00600000) | P | PS | (1u << 20));
	put64(l2 + 3 * 8, l1 | P | US);
	put64(l2 + 4 * 8, UINT64_C(0x1000000000000) | P);
	put64(l1 + 1 * 8, (GBASE + 0x2000) | P | RW | US);
	put64(l1 + 2 * 8, (GBASE + 0x3000) | P | RW | US | XD);
	put64(l1 + 3 * 8, (GBASE + 0x4000) | P | RW);
	struct vmi_x86_regs r = { .cr0 = X86_CR0_PG | X86_CR0_WP,
		                  .cr4 = X86_CR4_PAE,
		                  .efer = X86_EFER_LMA | X86_EFER_NXE,
		                  .cr3 = l4,
		                  .maxphyaddr = 48 };
	const uint8_t all = VMI_P_ALL;

	EQ(xw(&r, 0x1abc, &w), VMI_WALK_OK, "4-level: 4K page");
	EQ(w.gpa, GBASE + 0x2abc, "  output address");
	EQ(w.level, 1, "  level 1");
	EQ(w.size, 4096, "  size 4K");
	EQ(w.perm, all, "  user rwx");
	EQ(xw(&r, 0x2000, &w), VMI_WALK_OK, "4-level: NX page");
	EQ(w.perm, all & ~(VMI_P_X | VMI_P_UX), "  no execute at either privilege");
	EQ(xw(&r, 0x3000, &w), VMI_WALK_OK, "4-level: supervisor page");
	EQ(w.perm, VMI_P_R | VMI_P_W | VMI_P_X, "  no user access");
	EQ(xw(&r, 0x201234, &w), VMI_WALK_OK, "4-level: 2 MiB page");
	EQ(w.gpa, UINT64_C(0x601234), "  output address");
	EQ(w.size, UINT64_C(1) << 21, "  size 2 MiB");
	EQ(w.level, 2, "  level 2");
	EQ(xw(&r, UINT64_C(0x40012345), &w), VMI_WALK_OK, "4-level: 1 GiB page");
	EQ(w.gpa, UINT64_C(0x80012345), "  output address");
	EQ(w.size, UINT64_C(1) << 30, "  size 1 GiB");
	EQ(w.level, 3, "  level 3");
	EQ(w.perm, VMI_P_R | VMI_P_W | VMI_P_X, "  U/S clear at the leaf: supervisor only");
	EQ(xw(&r, 0x400000, &w), VMI_WALK_RESERVED, "2 MiB page with bit 20 set: reserved");
	EQ(w.level, 2, "  level 2");
	EQ(xw(&r, UINT64_C(0x80000000), &w), VMI_WALK_RESERVED, "1 GiB page with bit 13: reserved");
	EQ(w.level, 3, "  level 3");
	EQ(xw(&r, 0x800000, &w), VMI_WALK_RESERVED, "address bit above MAXPHYADDR: reserved");
	r.maxphyaddr = 52;
	EQ(xw(&r, 0x800000, &w), VMI_WALK_READ_ERROR,
	   "MAXPHYADDR 52: that bit is an address (outside the guest)");
	r.maxphyaddr = 48;
	EQ(xw(&r, UINT64_C(0x10000000000), &w), VMI_WALK_RESERVED, "PS in a PML4E: reserved");
	EQ(w.level, 4, "  level 4");

	EQ(xw(&r, 0x601000, &w), VMI_WALK_OK, "PT under a read-only PDE");
	EQ(w.gpa, GBASE + 0x2000, "  same frame as VA 0x1000");
	EQ(w.perm, VMI_P_R | VMI_P_X | VMI_P_UR | VMI_P_UX, "  read-only for both (CR0.WP = 1)");
	r.cr0 &= ~X86_CR0_WP;
	EQ(xw(&r, 0x601000, &w), VMI_WALK_OK, "CR0.WP = 0");
	EQ(w.perm, VMI_P_R | VMI_P_W | VMI_P_X | VMI_P_UR | VMI_P_UX,
	   "  supervisor writes read-only pages, user still cannot");
	r.cr0 |= X86_CR0_WP;
	r.cr4 |= X86_CR4_SMEP;
	EQ(xw(&r, 0x1000, &w), VMI_WALK_OK, "SMEP");
	EQ(w.perm, all & ~VMI_P_X, "  supervisor cannot execute a user page");
	EQ(xw(&r, 0x3000, &w), VMI_WALK_OK, "SMEP, supervisor page");
	EQ(w.perm, VMI_P_R | VMI_P_W | VMI_P_X, "  still executable");
	r.cr4 |= X86_CR4_SMAP;
	EQ(xw(&r, 0x1000, &w), VMI_WALK_OK, "SMAP");
	EQ(w.perm, VMI_P_UR | VMI_P_UW | VMI_P_UX, "  supervisor cannot read or write a user page");
	r.cr4 &= ~(X86_CR4_SMEP | X86_CR4_SMAP);

	EQ(xw(&r, UINT64_C(0xffffff8000000123), &w), VMI_WALK_OK, "upper canonical half");
	EQ(w.gpa, UINT64_C(0x40000123), "  output address");
	EQ(w.perm, VMI_P_R | VMI_P_W, "  XD below a supervisor PML4E");
	EQ(xw(&r, UINT64_C(0x0000800000000000), &w), VMI_WALK_NONCANONICAL,
	   "bit 47 set without sign extension: noncanonical");
	EQ(xw(&r, UINT64_C(0xfff7ff8000000000), &w), VMI_WALK_NONCANONICAL,
	   "upper half with a zero in 63:47: noncanonical");
	EQ(xw(&r, UINT64_C(0x008000000000), &w), VMI_WALK_READ_ERROR,
	   "PML4E pointing outside the guest: read error");
	EQ(w.level, 3, "  reading level 3");

	EQ(xw(&r, UINT64_C(0x018000000000), &w), VMI_WALK_TRANSLATION, "PML4E not present");
	EQ(w.level, 4, "  level 4");
	EQ(xw(&r, UINT64_C(0xc0000000), &w), VMI_WALK_TRANSLATION, "PDPTE not present");
	EQ(w.level, 3, "  level 3");
	EQ(xw(&r, UINT64_C(0x00c00000), &w), VMI_WALK_TRANSLATION, "PDE not present");
	EQ(w.level, 2, "  level 2");
	EQ(xw(&r, UINT64_C(0x00005000), &w), VMI_WALK_TRANSLATION, "PTE not present");
	EQ(w.level, 1, "  level 1");

	r.efer &= ~X86_EFER_NXE;
	EQ(xw(&r, 0x2000, &w), VMI_WALK_RESERVED, "XD without EFER.NXE: reserved");
	r.efer |= X86_EFER_NXE;
	r.cr4 |= X86_CR4_LA57;
	EQ(xw(&r, 0x1000, &w), VMI_WALK_UNSUPPORTED, "5-level paging is refused");
}

/* ---- reads by virtual address -------------------------------------------------------------- */

static void test_read_va(void)
{
	reset();
	uint64_t va = 0x7ffc, t[4];
	/* Two consecutive virtual pages on frames in the opposite order. */
	put64(chain(va, 12, 0, 48, t), PAGE(GBASE + 0x20000));
	put64(t[3] + aidx(0x8000, 12, 3) * 8, PAGE(GBASE + 0x10000));
	memcpy(&guest[0x20000 + 0xffc], "abcd", 4);
	memcpy(&guest[0x10000], "efgh", 4);
	struct vmi_walk_ctx w = { .is_x86 = false,
		                  .arm64 = arm(tcr(16, TG0_4K, 16, TG1_4K, 5), t[0], 0),
		                  .read = gread };
	char buf[9] = { 0 };
	size_t done = 99;
	EQ(vmi_read_va(&w, va, buf, 8, &done), VMI_WALK_OK, "read by VA across two pages");
	OK(memcmp(buf, "abcdefgh", 8) == 0, "  the bytes of both frames, in order");
	EQ(done, 8, "  all 8 copied");
	EQ(vmi_read_va(&w, 0x8ffe, buf, 4, &done), VMI_WALK_TRANSLATION,
	   "read running into an unmapped page");
	EQ(done, 2, "  stops after the mapped bytes");
	EQ(vmi_read_va(NULL, 0, buf, 1, &done), VMI_WALK_BAD_ARG, "NULL context refused");
	EQ(vmi_walk_arm64(NULL, 0, gread, NULL, NULL), VMI_WALK_BAD_ARG, "NULL arguments refused");
}

int main(void)
{
	test_arm64_mmu_off();
	test_arm64_granules();
	test_arm64_ttbr1_and_tg1();
	test_arm64_tbi_epd_range();
	test_arm64_blocks_and_faults();
	test_arm64_permissions();
	test_x86_off_and_32bit();
	test_x86_pae();
	test_x86_long_mode();
	test_read_va();
	return tap_finish();
}
