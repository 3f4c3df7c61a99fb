/**
 * The x86 emulation's arch_info (platform/x86/include/x86/mmio_info.h):
 * what the exit path packs for a decoded access must complete it exactly
 * as the decoder's own result would, for every destination form (AH..BH,
 * MOVZX/MOVSX, 8/16/32/64-bit registers, REX registers), and an IN must
 * write AL, AX or EAX as the SDM says (vol 1 3.4.1.1: a 32-bit write clears
 * bits 63:32, narrower ones keep them).
 */
#include "tap.h"
#include <x86/mmio_info.h>

struct insn_case {
	const char *name;
	enum insn_mode mode;
	uint8_t bytes[INSN_MAX_LEN];
	uint8_t count;
};

#define B(...) .bytes = { __VA_ARGS__ }, .count = sizeof((uint8_t[]){ __VA_ARGS__ })

static const struct insn_case cases[] = {
	{ "mov (%rsi),%ecx", INSN_MODE_64, B(0x8b, 0x0e) },
	{ "mov 0x10(%rbx),%r9", INSN_MODE_64, B(0x4c, 0x8b, 0x4b, 0x10) },
	{ "mov (%rax),%ah", INSN_MODE_64, B(0x8a, 0x20) },
	{ "mov (%rax),%sil", INSN_MODE_64, B(0x40, 0x8a, 0x30) },
	{ "mov (%rax),%dx", INSN_MODE_64, B(0x66, 0x8b, 0x10) },
	{ "movzbl (%rax),%r14d", INSN_MODE_64, B(0x44, 0x0f, 0xb6, 0x30) },
	{ "movsbq (%rax),%rbx", INSN_MODE_64, B(0x48, 0x0f, 0xbe, 0x18) },
	{ "movswl (%rax),%edx", INSN_MODE_64, B(0x0f, 0xbf, 0x10) },
	{ "movsbw (%rax),%cx", INSN_MODE_64, B(0x66, 0x0f, 0xbe, 0x08) },
	{ "mov 0x12345678(%r12,%r13,4),%r14d", INSN_MODE_64,
	  B(0x47, 0x8b, 0xb4, 0xac, 0x78, 0x56, 0x34, 0x12) },
	{ "mov 0x1000,%eax (32-bit)", INSN_MODE_32, B(0xa1, 0x00, 0x10, 0x00, 0x00) },
	{ "movsbl (%bx),%eax (16-bit with 66)", INSN_MODE_16, B(0x66, 0x0f, 0xbe, 0x07) },
	{ "mov %bh,(%rax) (a store)", INSN_MODE_64, B(0x88, 0x38) },
	{ "movl $0xdeadbeef,0x300(%rdx)", INSN_MODE_64,
	  B(0xc7, 0x82, 0x00, 0x03, 0x00, 0x00, 0xef, 0xbe, 0xad, 0xde) },
};

static const uint64_t olds[] = { 0, UINT64_MAX, 0x0123456789abcdefull };
static const uint64_t mems[] = { 0, 0x80, 0xf0, 0x8001, 0x7fff, 0x80000000u, 0xfedcba9876543210ull };

int main(void)
{
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct insn_case *c = &cases[i];
		struct insn_mmio d, back;
		enum insn_mode mode;
		if (!OK(insn_decode(c->bytes, c->count, c->mode, &d) == INSN_OK, c->name))
			continue;
		x86_mmio_info_unpack(x86_mmio_info_pack(&d, c->mode), &back, &mode);
		bool same = mode == c->mode && back.length == d.length && back.size == d.size &&
		            back.reg == d.reg && back.write == false;
		for (unsigned o = 0; o < 3; o++)
			for (unsigned m = 0; m < 7; m++)
				same = same && insn_load_result(&back, olds[o], mems[m]) ==
				                       insn_load_result(&d, olds[o], mems[m]);
		OK(same, c->name);
	}

	/* IN from a port: AL, AX, EAX; mode and length survive. */
	struct insn_mmio d;
	enum insn_mode mode;
	x86_mmio_info_unpack(x86_mmio_info_port(1, 1, INSN_MODE_64), &d, &mode);
	EQ(insn_load_result(&d, 0x1122334455667788ull, 0xabcd), 0x11223344556677cdull,
	   "in (%dx),%al keeps the rest of RAX");
	OK(d.reg == 0 && d.length == 1 && d.size == 1 && mode == INSN_MODE_64,
	   "in (%dx),%al: RAX, one byte long, 64-bit");
	x86_mmio_info_unpack(x86_mmio_info_port(2, 2, INSN_MODE_32), &d, &mode);
	EQ(insn_load_result(&d, 0x1122334455667788ull, 0xabcdef), 0x112233445566cdefull,
	   "in (%dx),%ax keeps bits 63:16");
	OK(d.length == 2 && mode == INSN_MODE_32, "in (%dx),%ax with 66: two bytes, 32-bit");
	x86_mmio_info_unpack(x86_mmio_info_port(4, 2, INSN_MODE_64), &d, &mode);
	EQ(insn_load_result(&d, 0x1122334455667788ull, 0xfedcba9876543210ull), 0x76543210u,
	   "in $0x80,%eax clears bits 63:32");
	x86_mmio_info_unpack(x86_mmio_info_port(1, 15, INSN_MODE_16), &d, &mode);
	OK(d.length == 15 && mode == INSN_MODE_16, "the longest length and 16-bit mode survive");
	return tap_finish();
}
