/**
 * What the x86 exit path remembers about a trapped access until its
 * emulator answers (struct trap.arch_info, kept by the core in vcpu.mmio):
 * enough of the decoded instruction to complete it later with
 * insn_load_result() and to step over it. Pure C, host-tested
 * (tests/unit/test_x86_mmio_info.c).
 *
 *   bit  0-3   destination / source GPR (0 RAX ... 15 R15)
 *        4-7   instruction length (1..15)
 *        8-11  register width in bytes (0: an immediate store)
 *       12-15  memory access size in bytes (1, 2, 4, 8)
 *       16-17  enum insn_ext (MOV, MOVZX, MOVSX)
 *       18     the register is AH, CH, DH or BH
 *       20-21  enum insn_mode (RIP wraps at 4 GiB outside 64-bit mode)
 */
#ifndef X86_MMIO_INFO_H
#define X86_MMIO_INFO_H

#include <x86/insn_decode.h>

static inline uint64_t x86_mmio_info_pack(const struct insn_mmio *d, enum insn_mode mode)
{
	return (uint64_t)(d->reg & 15u) | (uint64_t)(d->length & 15u) << 4 |
	       (uint64_t)(d->reg_size & 15u) << 8 | (uint64_t)(d->size & 15u) << 12 |
	       (uint64_t)((unsigned)d->ext & 3u) << 16 | (uint64_t)(d->high_byte ? 1u : 0u) << 18 |
	       (uint64_t)((unsigned)mode & 3u) << 20;
}

/** The fields of d that completion uses (the others zero), and the mode. */
static inline void x86_mmio_info_unpack(uint64_t info, struct insn_mmio *d, enum insn_mode *mode)
{
	*d = (struct insn_mmio){
		.reg = (uint8_t)(info & 15u),
		.length = (uint8_t)((info >> 4) & 15u),
		.reg_size = (uint8_t)((info >> 8) & 15u),
		.size = (uint8_t)((info >> 12) & 15u),
		.ext = (enum insn_ext)((info >> 16) & 3u),
		.high_byte = ((info >> 18) & 1u) != 0,
	};
	*mode = (enum insn_mode)((info >> 20) & 3u);
}

/**
 * IN or OUT of size bytes (1, 2, 4), length bytes long: the register is
 * AL, AX or EAX; an IN writes it as a MOV of that width would (EAX clears
 * bits 63:32, AL and AX keep the rest).
 */
static inline uint64_t x86_mmio_info_port(uint8_t size, uint8_t length, enum insn_mode mode)
{
	const struct insn_mmio d = { .reg = 0, .length = length, .reg_size = size, .size = size };
	return x86_mmio_info_pack(&d, mode);
}

#endif /* X86_MMIO_INFO_H */
