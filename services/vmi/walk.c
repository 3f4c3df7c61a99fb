/**
 * The software stage-1 walkers declared in walk.h. Each follows the architecture's
 * translation pseudocode in the order the hardware checks things, so a fault is reported at
 * the level where the hardware would report it.
 */
#include "walk.h"

/** Bits hi..lo set (hi >= lo, both < 64). */
static uint64_t bits(unsigned hi, unsigned lo)
{
	uint64_t upper = hi >= 63 ? ~UINT64_C(0) : (UINT64_C(1) << (hi + 1)) - 1;
	return upper & ~((UINT64_C(1) << lo) - 1);
}

static enum vmi_walk_status fault(struct vmi_walk *out, enum vmi_walk_status st, unsigned level)
{
	out->level = (uint8_t)level;
	return st;
}

/* ------------------------------------------------------------------------------------------ */
/* arm64                                                                                      */

/** TCR_EL1.IPS as a bit count (0b110, 52 bits, is taken as 48: LPA is not modelled). */
static unsigned arm64_ips_bits(uint64_t tcr)
{
	static const uint8_t ips[8] = { 32, 36, 40, 42, 44, 48, 48, 48 };
	return ips[(tcr >> ARM_TCR_IPS_SHIFT) & 7u];
}

/** The granule shift for TG0 or TG1 (their encodings differ); 0 if reserved. */
static unsigned arm64_granule(uint64_t tcr, bool upper)
{
	if (!upper) {
		static const uint8_t tg0[4] = { 12, 16, 14, 0 };
		return tg0[(tcr >> ARM_TCR_TG0_SHIFT) & 3u];
	}
	static const uint8_t tg1[4] = { 0, 14, 12, 16 };
	return tg1[(tcr >> ARM_TCR_TG1_SHIFT) & 3u];
}

/** Whether a block descriptor is allowed at `level` with this granule (no LPA/LVA). */
static bool arm64_block_ok(unsigned granule, unsigned level)
{
	if (granule == 12)
		return level == 1 || level == 2;
	return level == 2;
}

/**
 * The VMSAv8-64 stage-1 walk (ARM DDI 0487, D5.2 and the AArch64.TranslateAddressS1Off /
 * AArch64.TranslationTableWalk pseudocode), restricted to 48-bit addresses.
 *
 *   VA:  [63..56 tag if TBI][55 selects TTBR][..ia..][ level indices ... ][ page offset ]
 *   level l indexes VA bits [lsb(l) + stride - 1 : lsb(l)], lsb(l) = g + (3 - l) * (g - 3);
 *   the start level takes whatever is left of the ia bits.
 */
enum vmi_walk_status vmi_walk_arm64(const struct vmi_arm64_regs *regs, uint64_t va,
                                    vmi_gpa_read_fn read, void *ctx, struct vmi_walk *out)
{
	if (regs == NULL || read == NULL || out == NULL)
		return VMI_WALK_BAD_ARG;
	*out = (struct vmi_walk){ 0 };
	const uint64_t tcr = regs->tcr_el1;
	const unsigned ips = arm64_ips_bits(tcr);

	if (!(regs->sctlr_el1 & ARM_SCTLR_M)) {
		/* MMU off: VA = IPA, but only inside the output size (D5.2.9). */
		if (va & ~bits(ips - 1, 0))
			return fault(out, VMI_WALK_ADDRESS_SIZE, 0);
		out->gpa = va;
		out->size = 4096;
		out->perm = VMI_P_ALL;
		return VMI_WALK_OK;
	}

	const bool upper = (va >> 55) & 1u;
	const unsigned tsz_raw = (unsigned)(tcr >> (upper ? ARM_TCR_T1SZ_SHIFT : 0)) & 0x3fu;
	const bool epd = tcr & (upper ? ARM_TCR_EPD1 : ARM_TCR_EPD0);
	const bool tbi = tcr & (upper ? ARM_TCR_TBI1 : ARM_TCR_TBI0);
	const bool hpd = tcr & (upper ? ARM_TCR_HPD1 : ARM_TCR_HPD0);
	const uint64_t ttbr = upper ? regs->ttbr1_el1 : regs->ttbr0_el1;
	const unsigned g = arm64_granule(tcr, upper);
	if (g == 0)
		return fault(out, VMI_WALK_UNSUPPORTED, 0);

	/*
	 * TnSZ outside 16..39 is CONSTRAINED UNPREDICTABLE; like most implementations this
	 * walker uses the nearest supported value instead of faulting.
	 */
	const unsigned tsz = tsz_raw < 16 ? 16 : (tsz_raw > 39 ? 39 : tsz_raw);
	const unsigned ia = 64 - tsz;

	/* The VA bits above the range (below the tag with TBI) must all equal bit 55. */
	const uint64_t top = bits(tbi ? 55 : 63, ia);
	if ((va & top) != (upper ? top : 0))
		return fault(out, VMI_WALK_TRANSLATION, 0);
	if (epd)
		return fault(out, VMI_WALK_TRANSLATION, 0);

	const unsigned stride = g - 3;
	const unsigned levels = (ia - g + stride - 1) / stride;
	const unsigned start = 4 - levels;

	unsigned lsb = g + (3 - start) * stride;
	uint64_t table = ttbr & bits(47, 1);
	table &= ~((UINT64_C(1) << (ia - lsb + 3)) - 1); /* aligned to the start table's size */
	if (table & ~bits(ips - 1, 0))
		return fault(out, VMI_WALK_ADDRESS_SIZE, start);

	bool t_nowrite = false, t_noel0 = false, t_pxn = false, t_uxn = false;
	for (unsigned level = start; level <= 3; level++) {
		lsb = g + (3 - level) * stride;
		const unsigned width = level == start ? ia - lsb : stride;
		const uint64_t idx = (va >> lsb) & ((UINT64_C(1) << width) - 1);
		uint64_t desc;
		if (!read(ctx, table + idx * 8, 8, &desc))
			return fault(out, VMI_WALK_READ_ERROR, level);
		if (!(desc & ARM_DESC_VALID))
			return fault(out, VMI_WALK_TRANSLATION, level);

		const bool is_table = (desc & ARM_DESC_TABLE) && level < 3;
		if (is_table) {
			const uint64_t next = desc & bits(47, g);
			if (next & ~bits(ips - 1, 0))
				return fault(out, VMI_WALK_ADDRESS_SIZE, level);
			if (!hpd) {
				t_nowrite |= (desc & ARM_DESC_APTABLE1) != 0;
				t_noel0 |= (desc & ARM_DESC_APTABLE0) != 0;
				t_pxn |= (desc & ARM_DESC_PXNTABLE) != 0;
				t_uxn |= (desc & ARM_DESC_UXNTABLE) != 0;
			}
			table = next;
			continue;
		}
		/* A page at level 3 has bit 1 set; 0b01 there is reserved (translation fault). */
		if (level == 3 ? !(desc & ARM_DESC_TABLE) : !arm64_block_ok(g, level))
			return fault(out, VMI_WALK_TRANSLATION, level);

		const uint64_t oa = desc & bits(47, lsb);
		if (oa & ~bits(ips - 1, 0))
			return fault(out, VMI_WALK_ADDRESS_SIZE, level);
		if (!(desc & ARM_DESC_AF) && !(tcr & ARM_TCR_HA))
			return fault(out, VMI_WALK_ACCESS_FLAG, level);

		/* With hardware dirty state (HD) a DBM page is writable: the first write clears AP[2]. */
		const bool ro = (desc & ARM_DESC_AP2) &&
		                !((tcr & ARM_TCR_HD) && (desc & ARM_DESC_DBM));
		const bool w = !ro && !t_nowrite;
		const bool el0 = (desc & ARM_DESC_AP1) && !t_noel0;
		const bool wxn = (regs->sctlr_el1 & ARM_SCTLR_WXN) != 0;
		unsigned perm = VMI_P_R | (w ? VMI_P_W : 0u);
		if (el0)
			perm |= VMI_P_UR | (w ? VMI_P_UW : 0u);
		/* EL1 never executes what EL0 can write (D5.4.6); WXN: writable means XN. */
		const bool px = !(desc & ARM_DESC_PXN) && !t_pxn && !(el0 && w) && !(wxn && w);
		const bool ux = !(desc & ARM_DESC_UXN) && !t_uxn && !(wxn && el0 && w);
		perm |= (px ? VMI_P_X : 0u) | (ux ? VMI_P_UX : 0u);

		out->size = UINT64_C(1) << lsb;
		out->gpa = oa | (va & (out->size - 1));
		out->level = (uint8_t)level;
		out->perm = (uint8_t)perm;
		return VMI_WALK_OK;
	}
	return fault(out, VMI_WALK_TRANSLATION, 3); /* not reached: level 3 always ends */
}

/* ------------------------------------------------------------------------------------------ */
/* x86                                                                                        */

/** What an x86 walk accumulates down the levels (SDM Vol. 3A 4.6.1). */
struct x86_acc {
	bool rw; /**< every level has R/W = 1 */
	bool us; /**< every level has U/S = 1 */
	bool xd; /**< some level has XD = 1 (with EFER.NXE) */
};

static void x86_accumulate(struct x86_acc *acc, uint64_t e, bool nxe)
{
	acc->rw = acc->rw && (e & X86_PTE_RW);
	acc->us = acc->us && (e & X86_PTE_US);
	acc->xd = acc->xd || (nxe && (e & X86_PTE_XD));
}

/** The access rights of a translation (SDM Vol. 3A 4.6; implicit accesses, EFLAGS.AC = 0). */
static uint8_t x86_perm(const struct vmi_x86_regs *regs, const struct x86_acc *acc)
{
	const bool smap_blocks = acc->us && (regs->cr4 & X86_CR4_SMAP);
	const bool smep_blocks = acc->us && (regs->cr4 & X86_CR4_SMEP);
	unsigned perm = 0;
	if (!smap_blocks) {
		perm |= VMI_P_R;
		if (acc->rw || !(regs->cr0 & X86_CR0_WP))
			perm |= VMI_P_W;
	}
	if (!acc->xd && !smep_blocks)
		perm |= VMI_P_X;
	if (acc->us) {
		perm |= VMI_P_UR | (acc->rw ? VMI_P_UW : 0u) | (acc->xd ? 0u : VMI_P_UX);
	}
	return (uint8_t)perm;
}

static enum vmi_walk_status x86_leaf(struct vmi_walk *out, const struct vmi_x86_regs *regs,
                                     const struct x86_acc *acc, uint64_t oa, unsigned shift,
                                     uint64_t va, unsigned level)
{
	out->size = UINT64_C(1) << shift;
	out->gpa = oa | (va & (out->size - 1));
	out->level = (uint8_t)level;
	out->perm = x86_perm(regs, acc);
	return VMI_WALK_OK;
}

/** 32-bit paging (SDM Vol. 3A 4.3): 4-byte entries, 4 MiB pages with CR4.PSE (PSE-36). */
static enum vmi_walk_status x86_walk32(const struct vmi_x86_regs *regs, uint64_t va,
                                       unsigned maxphy, vmi_gpa_read_fn read, void *ctx,
                                       struct vmi_walk *out)
{
	const uint64_t va32 = va & 0xffffffffu;
	struct x86_acc acc = { true, true, false };
	uint64_t pde, pte;
	if (!read(ctx, (regs->cr3 & 0xfffff000u) + ((va32 >> 22) * 4), 4, &pde))
		return fault(out, VMI_WALK_READ_ERROR, 2);
	if (!(pde & X86_PTE_P))
		return fault(out, VMI_WALK_TRANSLATION, 2);
	x86_accumulate(&acc, pde, false);
	if ((pde & X86_PTE_PS) && (regs->cr4 & X86_CR4_PSE)) {
		/* PDE bits 20:13 are PA bits 39:32; bit 21 and those above MAXPHYADDR are reserved. */
		const unsigned hi_bits = maxphy > 40 ? 8 : maxphy - 32;
		const uint64_t hi = (pde >> 13) & 0xffu;
		if ((pde & (UINT64_C(1) << 21)) || (hi >> hi_bits) != 0)
			return fault(out, VMI_WALK_RESERVED, 2);
		return x86_leaf(out, regs, &acc, (pde & 0xffc00000u) | (hi << 32), 22, va32, 2);
	}
	if (!read(ctx, (pde & 0xfffff000u) + (((va32 >> 12) & 0x3ffu) * 4), 4, &pte))
		return fault(out, VMI_WALK_READ_ERROR, 1);
	if (!(pte & X86_PTE_P))
		return fault(out, VMI_WALK_TRANSLATION, 1);
	x86_accumulate(&acc, pte, false);
	return x86_leaf(out, regs, &acc, pte & 0xfffff000u, 12, va32, 1);
}

/**
 * PAE and 4-level paging (SDM Vol. 3A 4.4 and 4.5): 8-byte entries, 512 per table.
 *
 *   4-level: PML4 (4) -> PDPT (3, PS: 1 GiB) -> PD (2, PS: 2 MiB) -> PT (1)
 *   PAE:                 PDPTE register (3) -> PD (2, PS: 2 MiB) -> PT (1)
 */
static enum vmi_walk_status x86_walk64(const struct vmi_x86_regs *regs, uint64_t va,
                                       unsigned maxphy, vmi_gpa_read_fn read, void *ctx,
                                       struct vmi_walk *out)
{
	const bool nxe = (regs->efer & X86_EFER_NXE) != 0;
	const bool long_mode = (regs->efer & X86_EFER_LMA) != 0;
	const uint64_t addr_mask = bits(maxphy - 1, 12);
	uint64_t rsvd = maxphy < 52 ? bits(51, maxphy) : 0;
	if (!nxe)
		rsvd |= X86_PTE_XD;
	struct x86_acc acc = { true, true, false };
	uint64_t table;
	unsigned level;

	if (long_mode) {
		if (regs->cr4 & X86_CR4_LA57)
			return fault(out, VMI_WALK_UNSUPPORTED, 5);
		const uint64_t upper = va & bits(63, 47);
		if (upper != 0 && upper != bits(63, 47))
			return fault(out, VMI_WALK_NONCANONICAL, 4);
		table = regs->cr3 & addr_mask;
		level = 4;
	} else {
		/* PAE: the four PDPTEs (CR3 bits 31:5); their R/W, U/S and XD bits are reserved. */
		va &= 0xffffffffu;
		uint64_t pdpte;
		if (!read(ctx, (regs->cr3 & 0xffffffe0u) + ((va >> 30) * 8), 8, &pdpte))
			return fault(out, VMI_WALK_READ_ERROR, 3);
		if (!(pdpte & X86_PTE_P))
			return fault(out, VMI_WALK_TRANSLATION, 3);
		if (pdpte &
		    ((maxphy < 52 ? bits(51, maxphy) : 0) | X86_PTE_XD | bits(8, 5) | bits(2, 1)))
			return fault(out, VMI_WALK_RESERVED, 3);
		table = pdpte & addr_mask;
		level = 2;
	}

	for (;; level--) {
		const unsigned shift = 12 + 9 * (level - 1);
		uint64_t e;
		if (!read(ctx, table + ((va >> shift) & 511u) * 8, 8, &e))
			return fault(out, VMI_WALK_READ_ERROR, level);
		if (!(e & X86_PTE_P))
			return fault(out, VMI_WALK_TRANSLATION, level);
		if (e & rsvd)
			return fault(out, VMI_WALK_RESERVED, level);
		const bool ps = (e & X86_PTE_PS) != 0;
		if (level == 4 && ps)
			return fault(out, VMI_WALK_RESERVED, level); /* PS is reserved in a PML4E */
		x86_accumulate(&acc, e, nxe);
		if (level == 1 || ((level == 2 || level == 3) && ps)) {
			/* Large pages: bits 12 (PAT) .. shift-1 above it must be clear. */
			if (level > 1 && (e & bits(shift - 1, 13)))
				return fault(out, VMI_WALK_RESERVED, level);
			return x86_leaf(out, regs, &acc, e & addr_mask & bits(51, shift), shift, va,
			                level);
		}
		table = e & addr_mask;
	}
}

enum vmi_walk_status vmi_walk_x86(const struct vmi_x86_regs *regs, uint64_t va,
                                  vmi_gpa_read_fn read, void *ctx, struct vmi_walk *out)
{
	if (regs == NULL || read == NULL || out == NULL)
		return VMI_WALK_BAD_ARG;
	*out = (struct vmi_walk){ 0 };
	const unsigned maxphy = regs->maxphyaddr == 0 || regs->maxphyaddr > 52 ? 52 :
	                        regs->maxphyaddr < 32                          ? 32 :
	                                                                         regs->maxphyaddr;
	if (!(regs->cr0 & X86_CR0_PG)) {
		/* Paging off: linear = physical, 32 bits (long mode requires paging). */
		out->gpa = va & 0xffffffffu;
		out->size = 4096;
		out->perm = VMI_P_ALL;
		return VMI_WALK_OK;
	}
	if (regs->cr4 & X86_CR4_PAE)
		return x86_walk64(regs, va, maxphy, read, ctx, out);
	return x86_walk32(regs, va, maxphy, read, ctx, out);
}

/* ------------------------------------------------------------------------------------------ */

static enum vmi_walk_status st_done(size_t *done, size_t copied, enum vmi_walk_status st)
{
	if (done != NULL)
		*done = copied;
	return st;
}

enum vmi_walk_status vmi_read_va(const struct vmi_walk_ctx *w, uint64_t va, void *buf, size_t len,
                                 size_t *done)
{
	size_t copied = 0;
	enum vmi_walk_status st = VMI_WALK_OK;
	if (w == NULL || w->read == NULL || (buf == NULL && len != 0))
		return st_done(done, 0, VMI_WALK_BAD_ARG);
	uint8_t *dst = buf;
	while (copied < len) {
		struct vmi_walk t;
		st = w->is_x86 ? vmi_walk_x86(&w->x86, va, w->read, w->ctx, &t) :
		                 vmi_walk_arm64(&w->arm64, va, w->read, w->ctx, &t);
		if (st != VMI_WALK_OK)
			break;
		/* Up to the end of this page or block, one byte at a time (no alignment needed). */
		const uint64_t room = t.size - (t.gpa & (t.size - 1));
		for (uint64_t i = 0; i < room && copied < len; i++) {
			uint64_t v;
			if (!w->read(w->ctx, t.gpa + i, 1, &v))
				return st_done(done, copied, VMI_WALK_READ_ERROR);
			dst[copied++] = (uint8_t)v;
			va++;
		}
	}
	return st_done(done, copied, st);
}
