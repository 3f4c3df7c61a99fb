/**
 * Host tests of the MMIO instruction decoder (platform/x86/vlapic/insn_decode.c). Each byte
 * sequence was assembled with GNU as and its decoding checked by hand against the Intel SDM vol 2
 * (the AT&T source is in each case's name).
 */
#include "tap.h"
#include <string.h>
#include <x86/insn_decode.h>

/** The expected decoding of one instruction; fields not listed are checked to be zero. */
struct expect {
	const char *name;
	enum insn_mode mode;
	uint8_t bytes[INSN_MAX_LEN];
	uint8_t count;
	uint8_t length, size, reg, reg_size, addr_size;
	bool write, has_imm, high_byte, rip_relative;
	enum insn_ext ext;
	enum insn_seg seg;
	uint64_t imm;
	int64_t disp;
};

#define B(...) .bytes = { __VA_ARGS__ }, .count = sizeof((uint8_t[]){ __VA_ARGS__ })

static const struct expect good[] = {
	{ "mov %eax,(%rdi)", INSN_MODE_64, B(0x89, 0x07), .length = 2, .size = 4, .reg = 0,
	  .reg_size = 4, .addr_size = 8, .write = true },
	{ "mov (%rsi),%ecx", INSN_MODE_64, B(0x8b, 0x0e), .length = 2, .size = 4, .reg = 1,
	  .reg_size = 4, .addr_size = 8 },
	{ "mov %r9,0x10(%rbx)", INSN_MODE_64, B(0x4c, 0x89, 0x4b, 0x10), .length = 4, .size = 8,
	  .reg = 9, .reg_size = 8, .addr_size = 8, .write = true, .disp = 0x10 },
	{ "mov 0x12345678(%r12,%r13,4),%r14d", INSN_MODE_64,
	  B(0x47, 0x8b, 0xb4, 0xac, 0x78, 0x56, 0x34, 0x12), .length = 8, .size = 4, .reg = 14,
	  .reg_size = 4, .addr_size = 8, .disp = 0x12345678 },
	{ "movb $0x5a,(%rax)", INSN_MODE_64, B(0xc6, 0x00, 0x5a), .length = 3, .size = 1,
	  .addr_size = 8, .write = true, .has_imm = true, .imm = 0x5a },
	{ "movl $0xdeadbeef,0x300(%rdx)", INSN_MODE_64,
	  B(0xc7, 0x82, 0x00, 0x03, 0x00, 0x00, 0xef, 0xbe, 0xad, 0xde), .length = 10, .size = 4,
	  .addr_size = 8, .write = true, .has_imm = true, .imm = 0xffffffffdeadbeefull,
	  .disp = 0x300 },
	{ "movq $-1,(%rcx)", INSN_MODE_64, B(0x48, 0xc7, 0x01, 0xff, 0xff, 0xff, 0xff), .length = 7,
	  .size = 8, .addr_size = 8, .write = true, .has_imm = true, .imm = UINT64_MAX },
	{ "movw $0x1234,(%rbx)", INSN_MODE_64, B(0x66, 0xc7, 0x03, 0x34, 0x12), .length = 5,
	  .size = 2, .addr_size = 8, .write = true, .has_imm = true, .imm = 0x1234 },
	{ "mov %ah,(%rbx)", INSN_MODE_64, B(0x88, 0x23), .length = 2, .size = 1, .reg = 0,
	  .reg_size = 1, .addr_size = 8, .write = true, .high_byte = true },
	{ "mov %spl,(%rbx)", INSN_MODE_64, B(0x40, 0x88, 0x23), .length = 3, .size = 1, .reg = 4,
	  .reg_size = 1, .addr_size = 8, .write = true },
	{ "mov 0x1000(%rip),%eax", INSN_MODE_64, B(0x8b, 0x05, 0x00, 0x10, 0x00, 0x00), .length = 6,
	  .size = 4, .reg_size = 4, .addr_size = 8, .rip_relative = true, .disp = 0x1000 },
	{ "movabs 0xfee00020,%eax", INSN_MODE_64,
	  B(0xa1, 0x20, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00), .length = 9, .size = 4,
	  .reg_size = 4, .addr_size = 8, .disp = 0xfee00020 },
	{ "movabs %al,0xfee000b0", INSN_MODE_64,
	  B(0xa2, 0xb0, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00), .length = 9, .size = 1,
	  .reg_size = 1, .addr_size = 8, .write = true, .disp = 0xfee000b0 },
	{ "movzbl (%rdi),%eax", INSN_MODE_64, B(0x0f, 0xb6, 0x07), .length = 3, .size = 1, .reg = 0,
	  .reg_size = 4, .addr_size = 8, .ext = INSN_EXT_ZERO },
	{ "movzwl 0x2(%rdi),%r8d", INSN_MODE_64, B(0x44, 0x0f, 0xb7, 0x47, 0x02), .length = 5,
	  .size = 2, .reg = 8, .reg_size = 4, .addr_size = 8, .ext = INSN_EXT_ZERO, .disp = 2 },
	{ "movsbq (%rdi),%rax", INSN_MODE_64, B(0x48, 0x0f, 0xbe, 0x07), .length = 4, .size = 1,
	  .reg = 0, .reg_size = 8, .addr_size = 8, .ext = INSN_EXT_SIGN },
	{ "movswl (%rdi),%eax", INSN_MODE_64, B(0x0f, 0xbf, 0x07), .length = 3, .size = 2, .reg = 0,
	  .reg_size = 4, .addr_size = 8, .ext = INSN_EXT_SIGN },
	{ "movsbw (%rdi),%r11w", INSN_MODE_64, B(0x66, 0x44, 0x0f, 0xbe, 0x1f), .length = 5,
	  .size = 1, .reg = 11, .reg_size = 2, .addr_size = 8, .ext = INSN_EXT_SIGN },
	{ "mov %fs:0x10,%eax (SIB, no base)", INSN_MODE_64,
	  B(0x64, 0x8b, 0x04, 0x25, 0x10, 0x00, 0x00, 0x00), .length = 8, .size = 4, .reg_size = 4,
	  .addr_size = 8, .seg = INSN_SEG_FS, .disp = 0x10 },
	{ "64: an ES override is ignored", INSN_MODE_64, B(0x26, 0x89, 0x07), .length = 3,
	  .size = 4, .reg_size = 4, .addr_size = 8, .write = true },
	{ "64: gs mov %eax,(%rdi)", INSN_MODE_64, B(0x65, 0x89, 0x07), .length = 3, .size = 4,
	  .reg_size = 4, .addr_size = 8, .write = true, .seg = INSN_SEG_GS },
	{ "32: es mov %eax,(%edi)", INSN_MODE_32, B(0x26, 0x89, 0x07), .length = 3, .size = 4,
	  .reg_size = 4, .addr_size = 4, .write = true, .seg = INSN_SEG_ES },
	{ "addr32 mov (%eax),%ebx", INSN_MODE_64, B(0x67, 0x8b, 0x18), .length = 3, .size = 4,
	  .reg = 3, .reg_size = 4, .addr_size = 4 },
	{ "mov %ax,(%rdi)", INSN_MODE_64, B(0x66, 0x89, 0x07), .length = 3, .size = 2,
	  .reg_size = 2, .addr_size = 8, .write = true },
	{ "66 REX.W: REX.W wins", INSN_MODE_64, B(0x66, 0x48, 0x89, 0x07), .length = 4, .size = 8,
	  .reg_size = 8, .addr_size = 8, .write = true },
	{ "REX before 66 is ignored", INSN_MODE_64, B(0x4c, 0x66, 0x89, 0x07), .length = 4,
	  .size = 2, .reg_size = 2, .addr_size = 8, .write = true },
	{ "mov -0x8(%rbp),%edx", INSN_MODE_64, B(0x8b, 0x55, 0xf8), .length = 3, .size = 4,
	  .reg = 2, .reg_size = 4, .addr_size = 8, .disp = -8 },
	{ "mov 0x100(%rsp),%r15", INSN_MODE_64, B(0x4c, 0x8b, 0xbc, 0x24, 0x00, 0x01, 0x00, 0x00),
	  .length = 8, .size = 8, .reg = 15, .reg_size = 8, .addr_size = 8, .disp = 0x100 },
	{ "mov %r10b,(%rdi)", INSN_MODE_64, B(0x44, 0x88, 0x17), .length = 3, .size = 1, .reg = 10,
	  .reg_size = 1, .addr_size = 8, .write = true },
	{ "trailing bytes are not part of it", INSN_MODE_64, B(0x89, 0x07, 0x89, 0x07, 0x90),
	  .length = 2, .size = 4, .reg_size = 4, .addr_size = 8, .write = true },
	{ "32: mov %eax,0xfee000b0 (moffs32)", INSN_MODE_32, B(0xa3, 0xb0, 0x00, 0xe0, 0xfe),
	  .length = 5, .size = 4, .reg_size = 4, .addr_size = 4, .write = true,
	  .disp = 0xfee000b0 },
	{ "32: mov 0xfee00300,%ecx (absolute, not RIP-relative)", INSN_MODE_32,
	  B(0x8b, 0x0d, 0x00, 0x03, 0xe0, 0xfe), .length = 6, .size = 4, .reg = 1, .reg_size = 4,
	  .addr_size = 4, .disp = (int32_t)0xfee00300 },
	{ "32: mov (%edi),%ax", INSN_MODE_32, B(0x66, 0x8b, 0x07), .length = 3, .size = 2,
	  .reg_size = 2, .addr_size = 4 },
	{ "32: mov %bh,0x4(%esi,%ebx,2)", INSN_MODE_32, B(0x88, 0x7c, 0x5e, 0x04), .length = 4,
	  .size = 1, .reg = 3, .reg_size = 1, .addr_size = 4, .write = true, .high_byte = true,
	  .disp = 4 },
	{ "16: mov (%bx),%ax", INSN_MODE_16, B(0x8b, 0x07), .length = 2, .size = 2, .reg_size = 2,
	  .addr_size = 2 },
	{ "16: mov 0x1234,%cx (disp16)", INSN_MODE_16, B(0x8b, 0x0e, 0x34, 0x12), .length = 4,
	  .size = 2, .reg = 1, .reg_size = 2, .addr_size = 2, .disp = 0x1234 },
	{ "16: mov 0x8(%esp),%eax (67 66, SIB)", INSN_MODE_16,
	  B(0x67, 0x66, 0x8b, 0x44, 0x24, 0x08), .length = 6, .size = 4, .reg_size = 4,
	  .addr_size = 4, .disp = 8 },
	{ "16: mov 0x1234,%ax (moffs16)", INSN_MODE_16, B(0xa1, 0x34, 0x12), .length = 3, .size = 2,
	  .reg_size = 2, .addr_size = 2, .disp = 0x1234 },
	{ "16: mov %dl,0x5(%bp,%si)", INSN_MODE_16, B(0x88, 0x52, 0x05), .length = 3, .size = 1,
	  .reg = 2, .reg_size = 1, .addr_size = 2, .write = true, .disp = 5 },
};

static void check_good(const struct expect *e)
{
	struct insn_mmio d;
	memset(&d, 0xa5, sizeof(d));
	enum insn_status s = insn_decode(e->bytes, e->count, e->mode, &d);
	bool ok = s == INSN_OK && d.length == e->length && d.size == e->size && d.reg == e->reg &&
	          d.reg_size == e->reg_size && d.addr_size == e->addr_size && d.write == e->write &&
	          d.has_imm == e->has_imm && d.high_byte == e->high_byte &&
	          d.rip_relative == e->rip_relative && d.ext == e->ext && d.seg == e->seg &&
	          d.imm == e->imm && d.disp == e->disp;
	if (!OK(ok, e->name))
		printf("#   status %d len %u size %u reg %u/%u addr %u w %d imm %d/%#llx hb %d rip %d "
		       "ext %d seg %d disp %lld\n",
		       s, d.length, d.size, d.reg, d.reg_size, d.addr_size, d.write, d.has_imm,
		       (unsigned long long)d.imm, d.high_byte, d.rip_relative, d.ext, d.seg,
		       (long long)d.disp);
}

struct reject {
	const char *name;
	enum insn_mode mode;
	uint8_t bytes[INSN_MAX_LEN + 1];
	uint8_t count;
	enum insn_status status;
};

static const struct reject bad[] = {
	{ "lock addl $1,(%rax)", INSN_MODE_64, B(0xf0, 0x83, 0x00, 0x01), INSN_UNSUPPORTED },
	{ "lock mov (refused even on a MOV)", INSN_MODE_64, B(0xf0, 0x89, 0x07), INSN_UNSUPPORTED },
	{ "rep movsb", INSN_MODE_64, B(0xf3, 0xa4), INSN_UNSUPPORTED },
	{ "vmovdqu (%rdi),%ymm0 (VEX)", INSN_MODE_64, B(0xc5, 0xfe, 0x6f, 0x07), INSN_UNSUPPORTED },
	{ "EVEX", INSN_MODE_64, B(0x62, 0xf1, 0x7c, 0x48, 0x10, 0x07), INSN_UNSUPPORTED },
	{ "xbegin (C7 /7)", INSN_MODE_64, B(0xc7, 0xf8, 0, 0, 0, 0), INSN_UNSUPPORTED },
	{ "add (%rdi),%eax", INSN_MODE_64, B(0x03, 0x07), INSN_UNSUPPORTED },
	{ "mov %eax,%ebx (register operand)", INSN_MODE_64, B(0x89, 0xc3), INSN_UNSUPPORTED },
	{ "movzx from a register", INSN_MODE_64, B(0x0f, 0xb6, 0xc0), INSN_UNSUPPORTED },
	{ "0F 05 (syscall)", INSN_MODE_64, B(0x0f, 0x05), INSN_UNSUPPORTED },
	{ "32: 40 is INC, not REX", INSN_MODE_32, B(0x40, 0x89, 0x07), INSN_UNSUPPORTED },
	{ "16 bytes: 14 prefixes and 89 07", INSN_MODE_64,
	  B(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	    0x89, 0x07),
	  INSN_UNSUPPORTED },
	{ "15 bytes of prefixes", INSN_MODE_64,
	  B(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	    0x66),
	  INSN_UNSUPPORTED },
	{ "empty input", INSN_MODE_64, .count = 0, .status = INSN_TRUNCATED },
	{ "truncated displacement", INSN_MODE_64, B(0x8b, 0x05, 0x00, 0x10), INSN_TRUNCATED },
	{ "truncated immediate", INSN_MODE_64, B(0xc7, 0x00, 0xef, 0xbe, 0xad), INSN_TRUNCATED },
	{ "truncated after REX", INSN_MODE_64, B(0x48), INSN_TRUNCATED },
	{ "truncated moffs", INSN_MODE_64, B(0xa1, 0x20, 0x00, 0xe0, 0xfe), INSN_TRUNCATED },
	{ "truncated SIB", INSN_MODE_64, B(0x8b, 0x04), INSN_TRUNCATED },
};

static void check_bad(const struct reject *r)
{
	struct insn_mmio d;
	memset(&d, 0x5a, sizeof(d));
	struct insn_mmio before = d;
	enum insn_status s = insn_decode(r->bytes, r->count, r->mode, &d);
	if (!OK(s == r->status && memcmp(&d, &before, sizeof(d)) == 0, r->name))
		printf("#   status %d, want %d\n", s, r->status);
}

/** Shorter inputs of a good instruction are truncated, never decoded to something else. */
static void test_every_prefix_truncates(void)
{
	bool all = true;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		for (uint8_t n = 0; n < good[i].length; n++) {
			struct insn_mmio d;
			all &= insn_decode(good[i].bytes, n, good[i].mode, &d) == INSN_TRUNCATED;
		}
	}
	OK(all, "every proper prefix of a good instruction reports TRUNCATED");
}

static void test_values(void)
{
	struct insn_mmio d;
	static const uint8_t movsbq[] = { 0x48, 0x0f, 0xbe, 0x07 };
	insn_decode(movsbq, sizeof(movsbq), INSN_MODE_64, &d);
	EQ(insn_load_result(&d, 0x1111111111111111, 0x80), 0xffffffffffffff80,
	   "movsbq: 0x80 sign-extends to 64 bits");
	static const uint8_t movzbl[] = { 0x0f, 0xb6, 0x07 };
	insn_decode(movzbl, sizeof(movzbl), INSN_MODE_64, &d);
	EQ(insn_load_result(&d, 0x1111111111111111, 0x80), 0x80,
	   "movzbl: zero-extends and clears bits 63:32");
	static const uint8_t movsbw[] = { 0x66, 0x44, 0x0f, 0xbe, 0x1f };
	insn_decode(movsbw, sizeof(movsbw), INSN_MODE_64, &d);
	EQ(insn_load_result(&d, 0x1111111111111111, 0xfe), 0x111111111111fffe,
	   "movsbw: a 16-bit destination keeps bits 63:16");
	static const uint8_t mov_ecx[] = { 0x8b, 0x0e };
	insn_decode(mov_ecx, sizeof(mov_ecx), INSN_MODE_64, &d);
	EQ(insn_load_result(&d, 0xffffffffffffffff, 0x1234567890), 0x34567890,
	   "32-bit load: the value is cut to 4 bytes and bits 63:32 are cleared");
	static const uint8_t mov_ah_load[] = { 0x8a, 0x27 }; /* mov (%rdi),%ah */
	insn_decode(mov_ah_load, sizeof(mov_ah_load), INSN_MODE_64, &d);
	EQ(insn_load_result(&d, 0x1111111111111111, 0xab), 0x111111111111ab11,
	   "mov (%rdi),%ah: only bits 15:8 change");
	static const uint8_t mov_ah[] = { 0x88, 0x23 };
	insn_decode(mov_ah, sizeof(mov_ah), INSN_MODE_64, &d);
	EQ(insn_store_value(&d, 0x1234), 0x12, "mov %ah,(%rbx) stores bits 15:8");
	static const uint8_t movl_imm[] = { 0xc7, 0x82, 0x00, 0x03, 0x00,
		                            0x00, 0xef, 0xbe, 0xad, 0xde };
	insn_decode(movl_imm, sizeof(movl_imm), INSN_MODE_64, &d);
	EQ(insn_store_value(&d, 0x5555), 0xdeadbeef, "movl $imm stores the immediate, 4 bytes");
	static const uint8_t mov_ax[] = { 0x66, 0x89, 0x07 };
	insn_decode(mov_ax, sizeof(mov_ax), INSN_MODE_64, &d);
	EQ(insn_store_value(&d, 0x12345678), 0x5678, "mov %ax stores 2 bytes");
}

int main(void)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		check_good(&good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_bad(&bad[i]);
	test_every_prefix_truncates();
	test_values();
	return tap_finish();
}
