/**
 * Stage-2 descriptor encodings for VMSAv8-64 (DDI 0487 D8.3, D8.5): 4 KiB
 * granule, 48-bit IPA, translation starting at level 0. kernel/stage2.c
 * owns the walk; this file says how an entry looks and configures VTCR_EL2.
 *
 *   63    55 54 53  52     11 10  9:8  7:6   5:2     1:0
 *   +-------+-----+--------+--+----+----+--------+-----+
 *   |  ign  | XN  |  OA    |AF| SH |S2AP|MemAttr |  11 |   level-3 page
 *   +-------+-----+--------+--+----+----+--------+-----+
 *
 * S2AP (D8.5.4): bit 6 = read, bit 7 = write. XN[1:0] = 0b10 forbids
 * execution at EL1 and EL0 (with or without FEAT_XNX). MemAttr (D8.6.5):
 * 0b1111 Normal inner/outer write-back, 0b0001 Device-nGnRE.
 */
#include <arch/stage2.h>
#include <arm64/cpu.h>
#include <arm64/sysreg.h>
#include <ipc/abi.h>
#include <kernel/config.h>

#define S2_VALID UINT64_C(1)
#define S2_TABLE UINT64_C(3)
#define S2_PAGE UINT64_C(3)
#define S2_MEMATTR_NORMAL (UINT64_C(0xf) << 2)
#define S2_MEMATTR_DEVICE (UINT64_C(0x1) << 2)
#define S2AP_READ (UINT64_C(1) << 6)
#define S2AP_WRITE (UINT64_C(1) << 7)
#define S2_SH_INNER (UINT64_C(3) << 8)
#define S2_AF (UINT64_C(1) << 10)
#define S2_XN (UINT64_C(2) << 53)
/* Software bits [58:55] (D8.3.2): the write lock, and the write right it holds back. */
#define S2_SW_WLOCK (UINT64_C(1) << 55)
#define S2_SW_WRITE (UINT64_C(1) << 56)
#define S2_OA_MASK UINT64_C(0x0000fffffffff000)

u64 arch_stage2_table_entry(paddr_t pa)
{
	return (pa.pa & S2_OA_MASK) | S2_TABLE;
}

u64 arch_stage2_page_entry(paddr_t pa, u32 rights, bool device)
{
	u64 e = (pa.pa & S2_OA_MASK) | S2_PAGE | S2_AF;

	e |= device ? S2_MEMATTR_DEVICE : (S2_MEMATTR_NORMAL | S2_SH_INNER);
	if (rights & RIGHT_MEM_READ)
		e |= S2AP_READ;
	if ((rights & RIGHT_MEM_WRITE) && (rights & STAGE2_WLOCK))
		e |= S2_SW_WRITE;
	else if (rights & RIGHT_MEM_WRITE)
		e |= S2AP_WRITE;
	if (rights & STAGE2_WLOCK)
		e |= S2_SW_WLOCK;
	if (!(rights & RIGHT_MEM_EXEC) || device)
		e |= S2_XN;
	return e;
}

/** A level-2 block (D8.3.1): the page's attributes with descriptor bits [1:0] = 0b01. */
u64 arch_stage2_block_entry(paddr_t pa, u32 rights, bool device)
{
	return arch_stage2_page_entry(pa, rights, device) & ~(S2_PAGE ^ S2_VALID);
}

bool arch_stage2_entry_is_table(u64 entry)
{
	return (entry & S2_TABLE) == S2_TABLE;
}

bool arch_stage2_entry_valid(u64 entry)
{
	return (entry & S2_VALID) != 0;
}

paddr_t arch_stage2_entry_pa(u64 entry)
{
	return pa_init(entry & S2_OA_MASK);
}

u32 arch_stage2_entry_rights(u64 entry)
{
	u32 r = 0;

	if (entry & S2AP_READ)
		r |= RIGHT_MEM_READ;
	if (entry & (S2AP_WRITE | S2_SW_WRITE))
		r |= RIGHT_MEM_WRITE;
	if (entry & S2_SW_WLOCK)
		r |= STAGE2_WLOCK;
	if (!(entry & S2_XN))
		r |= RIGHT_MEM_EXEC;
	return r;
}

bool arch_stage2_entry_device(u64 entry)
{
	return (entry & (UINT64_C(0xf) << 2)) == S2_MEMATTR_DEVICE;
}

/** Views have their own VMIDs: base + view * CFG_PARTITION_MAX stays below 256. */
u32 arch_stage2_view_vmid(u32 base, u32 view)
{
	return base + view * CFG_PARTITION_MAX;
}

/**
 * One page's break or rights change (D8.16.1, D8.13.5): the entry is made visible, TLBI
 * IPAS2E1IS drops the stage-2 entries of the IPA (its operand holds IPA[47:12] in bits
 * [35:0]) and, as combined stage 1+2 entries are not tagged by IPA, TLBI VMALLE1IS drops the
 * VMID's stage-1 entries; both act on the VMID in VTTBR_EL2, pointed at vmid meanwhile.
 */
void arch_stage2_invalidate_ipa(u32 vmid, ipaddr_t ipa)
{
	u64 saved = read_sysreg(vttbr_el2);

	dsb_ishst();
	write_sysreg(vttbr_el2, (u64)vmid << 48);
	isb();
	__asm__ volatile("tlbi ipas2e1is, %0" ::"r"((ipa.ipa >> 12) & UINT64_C(0xfffffffff))
	                 : "memory");
	dsb_ish();
	__asm__ volatile("tlbi vmalle1is" ::: "memory");
	dsb_ish();
	write_sysreg(vttbr_el2, saved);
	isb();
}

/**
 * Make table writes visible to the walker, then drop vmid's stage-1 and
 * stage-2 TLB entries. TLBI VMALLS12E1IS acts on the VMID in VTTBR_EL2
 * (D8.13), so this CPU's VTTBR is pointed at vmid for the invalidation and
 * put back afterwards; with HCR_EL2.VM clear at EL2 that is harmless.
 */
void arch_stage2_flush(u32 vmid)
{
	u64 saved = read_sysreg(vttbr_el2);

	dsb_ishst();
	write_sysreg(vttbr_el2, (u64)vmid << 48);
	isb();
	__asm__ volatile("tlbi vmalls12e1is" ::: "memory");
	dsb_ish();
	write_sysreg(vttbr_el2, saved);
	isb();
	/* Instruction fetches of guest images just copied in (D7.5.2). */
	__asm__ volatile("ic ialluis" ::: "memory");
	dsb_ish();
	isb();
}

/**
 * The IPA size stage 2 translates here: the CPU's physical address size
 * (ID_AA64MMFR0_EL1.PARange, D19.2.64), at most the core's 48 bits. With a
 * 4 KiB granule and the walk starting at level 0 (the core's four levels),
 * VTCR_EL2.T0SZ may be 16..24, i.e. 40 to 48 bits (D8.2.5); a CPU with a
 * smaller physical address space would need a walk that starts at level 1,
 * which the core does not have: 0 then, and the boot stops.
 */
u32 arm64_ipa_bits(void)
{
	static const u8 pa_bits[] = { 32, 36, 40, 42, 44, 48, 52 };
	u64 parange = read_sysreg(id_aa64mmfr0_el1) & 0xfu;
	u32 bits = parange < sizeof(pa_bits) ? pa_bits[parange] : 48u;
	if (bits > 48u)
		bits = 48u;
	return bits >= 40u ? bits : 0;
}

/**
 * VTCR_EL2 (D13.2.151): T0SZ = 64 - arm64_ipa_bits() (a 40..48-bit IPA),
 * SL0 = 2 (start at level 0 with 4 KiB pages), inner/outer write-back
 * walks, inner shareable, TG0 = 4 KiB, PS = the same size, 8-bit VMID.
 * An IPA size above the physical one would make stage 2 fault on every
 * access (it did, on a 44-bit CPU, before this was derived).
 */
void arm64_stage2_init_cpu(void)
{
	u64 ps = read_sysreg(id_aa64mmfr0_el1) & 7u;
	u32 bits = arm64_ipa_bits();

	if (ps > 5u)
		ps = 5u;
	if (bits == 0)
		bits = 40u; /* the boot stops (setup.c); keep VTCR valid meanwhile */
	u64 vtcr = (UINT64_C(1) << 31) | (ps << 16) | (UINT64_C(3) << 12) | (UINT64_C(1) << 10) |
	           (UINT64_C(1) << 8) | (UINT64_C(2) << 6) | (64u - bits);
	write_sysreg(vtcr_el2, vtcr);
	isb();
}
