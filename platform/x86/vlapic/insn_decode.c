/**
 * The MMIO instruction decoder (see x86/insn_decode.h). Encoding rules are from the Intel SDM
 * vol 2 chapter 2 (prefixes 2.1.1, REX 2.2.1, ModRM/SIB tables 2-1 to 2-3) and the AMD APM vol 3
 * chapter 1; the MOV, MOVZX and MOVSX pages give the opcodes.
 *
 * The decoder walks the bytes once, front to back, through a cursor that never reads past
 * `count` nor past INSN_MAX_LEN.
 */
#include <x86/insn_decode.h>

/** A read position in the instruction bytes. */
struct cursor {
	const uint8_t *bytes;
	size_t count; /**< bytes available: min(given, INSN_MAX_LEN) */
	size_t at;
	bool truncated; /**< an instruction that needs more bytes than were given */
	bool too_long;  /**< an instruction longer than INSN_MAX_LEN */
};

static bool take(struct cursor *c, size_t n, uint64_t *value)
{
	if (c->at + n > INSN_MAX_LEN) {
		c->too_long = true;
		return false;
	}
	if (c->at + n > c->count) {
		c->truncated = true;
		return false;
	}
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)c->bytes[c->at + i] << (8 * i);
	c->at += n;
	*value = v;
	return true;
}

/** Sign-extends the low `bytes` bytes of v. */
static uint64_t sext(uint64_t v, unsigned bytes)
{
	if (bytes == 0)
		return 0;
	if (bytes >= 8)
		return v;
	unsigned shift = 64 - 8 * bytes;
	return (uint64_t)((int64_t)(v << shift) >> shift);
}

static uint64_t low_mask(unsigned bytes)
{
	return bytes >= 8 ? UINT64_MAX : (1ull << (8 * bytes)) - 1;
}

/** Legacy prefixes seen before the opcode. */
struct prefixes {
	bool opsize, addrsize;
	enum insn_seg seg;
	uint8_t rex; /**< 0x40-0x4f, or 0 */
};

/**
 * Reads legacy prefixes and a REX prefix. A REX prefix counts only directly before the opcode
 * (SDM vol 2 2.2.1.1: otherwise it is ignored). LOCK and REP/REPNE are refused here: no MOV to
 * MMIO needs them and string operations are not emulated.
 */
static bool read_prefixes(struct cursor *c, enum insn_mode mode, struct prefixes *p)
{
	for (;;) {
		uint64_t b;
		if (!take(c, 1, &b))
			return false;
		switch (b) {
		case 0x66:
			p->opsize = true;
			break;
		case 0x67:
			p->addrsize = true;
			break;
		case 0x26:
			p->seg = INSN_SEG_ES;
			break;
		case 0x2e:
			p->seg = INSN_SEG_CS;
			break;
		case 0x36:
			p->seg = INSN_SEG_SS;
			break;
		case 0x3e:
			p->seg = INSN_SEG_DS;
			break;
		case 0x64:
			p->seg = INSN_SEG_FS;
			break;
		case 0x65:
			p->seg = INSN_SEG_GS;
			break;
		case 0xf0:
		case 0xf2:
		case 0xf3:
			return false;
		default:
			if (mode == INSN_MODE_64 && (b & 0xf0) == 0x40) {
				p->rex = (uint8_t)b;
				continue; /* skip the reset below */
			}
			c->at--; /* the opcode: give it back */
			return true;
		}
		p->rex = 0;
	}
}

/**
 * Reads ModRM, SIB and displacement for a memory operand. A register operand (mod 3) is refused:
 * such an instruction cannot be the one that touched MMIO.
 */
static bool read_modrm(struct cursor *c, struct insn_mmio *d, uint8_t *reg_field)
{
	uint64_t modrm;
	if (!take(c, 1, &modrm))
		return false;
	unsigned mod = (unsigned)modrm >> 6, rm = modrm & 7u;
	*reg_field = (uint8_t)((modrm >> 3) & 7u);
	if (mod == 3)
		return false;
	unsigned disp_size = 0;
	if (d->addr_size == 2) {
		/* 16-bit addressing (SDM vol 2 table 2-1): no SIB; rm 110 with mod 00 is disp16. */
		if (mod == 1)
			disp_size = 1;
		else if (mod == 2 || rm == 6)
			disp_size = 2;
	} else {
		/* 32/64-bit addressing (tables 2-2, 2-3). */
		if (rm == 4) {
			uint64_t sib;
			if (!take(c, 1, &sib))
				return false;
			if (mod == 0 && (sib & 7u) == 5)
				disp_size = 4;
		} else if (mod == 0 && rm == 5) {
			disp_size = 4;
			d->rip_relative = true; /* in 64-bit mode; absolute otherwise */
		}
		if (mod == 1)
			disp_size = 1;
		else if (mod == 2)
			disp_size = 4;
	}
	uint64_t disp = 0;
	if (disp_size != 0 && !take(c, disp_size, &disp))
		return false;
	d->disp = (int64_t)sext(disp, disp_size);
	return true;
}

static void set_reg(struct insn_mmio *d, const struct prefixes *p, uint8_t field, uint8_t size)
{
	d->reg_size = size;
	if (size == 1 && p->rex == 0 && field >= 4) {
		d->reg = (uint8_t)(field - 4);
		d->high_byte = true;
		return;
	}
	d->reg = (uint8_t)(field | ((p->rex & 4u) << 1));
}

/** The opcode and its operands, after the prefixes. */
static bool decode_opcode(struct cursor *c, const struct prefixes *p, uint8_t osz,
                          struct insn_mmio *d)
{
	uint64_t op, v;
	uint8_t field;
	if (!take(c, 1, &op))
		return false;
	switch (op) {
	case 0x88:
	case 0x89:
	case 0x8a:
	case 0x8b:
		if (!read_modrm(c, d, &field))
			return false;
		d->size = (op & 1) ? osz : 1;
		d->write = op < 0x8a;
		set_reg(d, p, field, d->size);
		return true;
	case 0xc6:
	case 0xc7: {
		/* Only /0 is MOV; C6 F8 and C7 F8 are XABORT and XBEGIN. */
		if (!read_modrm(c, d, &field) || field != 0)
			return false;
		d->size = (op & 1) ? osz : 1;
		d->write = true;
		d->has_imm = true;
		unsigned imm_size = d->size > 4 ? 4 : d->size;
		if (!take(c, imm_size, &v))
			return false;
		d->imm = sext(v, imm_size);
		d->reg_size = 0;
		return true;
	}
	case 0xa0:
	case 0xa1:
	case 0xa2:
	case 0xa3:
		/* The offset is as wide as the address (SDM vol 2 MOV, note on moffs). */
		if (!take(c, d->addr_size, &v))
			return false;
		d->disp = (int64_t)v;
		d->size = (op & 1) ? osz : 1;
		d->write = op >= 0xa2;
		d->reg = 0;
		d->reg_size = d->size;
		return true;
	case 0x0f:
		if (!take(c, 1, &op))
			return false;
		if (op != 0xb6 && op != 0xb7 && op != 0xbe && op != 0xbf)
			return false;
		if (!read_modrm(c, d, &field))
			return false;
		d->size = (op & 1) ? 2 : 1;
		d->ext = op < 0xbe ? INSN_EXT_ZERO : INSN_EXT_SIGN;
		set_reg(d, p, field, osz);
		return true;
	default:
		return false;
	}
}

enum insn_status insn_decode(const uint8_t *bytes, size_t count, enum insn_mode mode,
                             struct insn_mmio *out)
{
	struct cursor c = { .bytes = bytes, .count = count > INSN_MAX_LEN ? INSN_MAX_LEN : count };
	struct prefixes p = { .seg = INSN_SEG_DEFAULT };
	struct insn_mmio d = { .seg = INSN_SEG_DEFAULT };
	bool ok = read_prefixes(&c, mode, &p);
	if (ok) {
		/* Operand and address size (SDM vol 1 3.6 table 3-4, vol 2 2.2.1.2). */
		uint8_t osz;
		if (mode == INSN_MODE_64) {
			osz = (p.rex & 8u) ? 8 : p.opsize ? 2 : 4;
			d.addr_size = p.addrsize ? 4 : 8;
		} else {
			bool wide = (mode == INSN_MODE_32) != p.opsize;
			osz = wide ? 4 : 2;
			bool wide_addr = (mode == INSN_MODE_32) != p.addrsize;
			d.addr_size = wide_addr ? 4 : 2;
		}
		/* In 64-bit mode the ES, CS, SS and DS overrides are ignored (APM vol 3 1.2.4). */
		d.seg = p.seg;
		if (mode == INSN_MODE_64 && p.seg != INSN_SEG_FS && p.seg != INSN_SEG_GS)
			d.seg = INSN_SEG_DEFAULT;
		ok = decode_opcode(&c, &p, osz, &d);
	}
	if (!ok)
		return c.truncated && !c.too_long ? INSN_TRUNCATED : INSN_UNSUPPORTED;
	d.rip_relative = d.rip_relative && mode == INSN_MODE_64;
	d.length = (uint8_t)c.at;
	*out = d;
	return INSN_OK;
}

/**
 * The register's new value after a load of `mem`: widened as the instruction says, then merged
 * as x86 writes registers: 8- and 16-bit destinations keep the other bits, a 32-bit destination
 * clears bits 63:32 (SDM vol 1 3.4.1.1).
 */
uint64_t insn_load_result(const struct insn_mmio *d, uint64_t old_reg, uint64_t mem)
{
	uint64_t v = mem & low_mask(d->size);
	if (d->ext == INSN_EXT_SIGN)
		v = sext(v, d->size);
	if (d->high_byte)
		return (old_reg & ~0xff00ull) | ((v & 0xffu) << 8);
	switch (d->reg_size) {
	case 1:
	case 2:
		return (old_reg & ~low_mask(d->reg_size)) | (v & low_mask(d->reg_size));
	case 4:
		return v & 0xffffffffu;
	default:
		return v;
	}
}

/** The value a store writes: the immediate, or the register's low `size` bytes (or AH..BH). */
uint64_t insn_store_value(const struct insn_mmio *d, uint64_t reg_value)
{
	if (d->has_imm)
		return d->imm & low_mask(d->size);
	if (d->high_byte)
		return (reg_value >> 8) & 0xffu;
	return reg_value & low_mask(d->size);
}
