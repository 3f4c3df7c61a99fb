/**
 * Decoding of the guest instruction behind a trapped MMIO access on x86-64.
 *
 * SVM under QEMU TCG has neither DecodeAssists nor NRIP save: a nested page fault tells the
 * kernel the guest-physical address, but not the access's size, direction, register or length.
 * The kernel fetches up to 15 bytes at the guest's RIP and decodes them here. Only the MOV forms
 * that compilers emit for MMIO are accepted (Intel SDM vol 2, AMD APM vol 3):
 *
 *   88/89 /r   MOV r/m, r          8A/8B /r   MOV r, r/m
 *   C6 /0 ib   MOV r/m8, imm8      C7 /0 iz   MOV r/m, imm16/32 (sign-extended with REX.W)
 *   A0-A3      MOV AL/eAX <-> moffs
 *   0F B6/B7   MOVZX r, r/m8/16    0F BE/BF   MOVSX r, r/m8/16
 *
 * with prefixes 66, 67, the six segment overrides and REX, and any ModRM/SIB/displacement form
 * with a memory operand (RIP-relative included). Everything else, LOCK and REP prefixes, VEX and
 * EVEX included, is INSN_UNSUPPORTED: the caller faults the guest. Pure C; it reads only the bytes
 * it is given.
 */
#ifndef X86_INSN_DECODE_H
#define X86_INSN_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Longest legal x86 instruction (SDM vol 2 section 2.3.11). */
#define INSN_MAX_LEN 15

/**
 * The guest's code-segment mode: 64-bit (EFER.LMA and CS.L), otherwise CS.D selects 32-bit or
 * 16-bit default operand and address size.
 */
enum insn_mode {
	INSN_MODE_64,
	INSN_MODE_32,
	INSN_MODE_16,
};

enum insn_status {
	INSN_OK,
	INSN_TRUNCATED,   /**< the bytes given end inside the instruction */
	INSN_UNSUPPORTED, /**< not one of the forms above, or longer than 15 bytes */
};

enum insn_ext {
	INSN_EXT_NONE, /**< MOV: the register takes `size` bytes */
	INSN_EXT_ZERO, /**< MOVZX */
	INSN_EXT_SIGN, /**< MOVSX */
};

/** Segment of the memory operand: default (DS, or SS for an RSP/RBP base), or an override. */
enum insn_seg {
	INSN_SEG_DEFAULT,
	INSN_SEG_ES,
	INSN_SEG_CS,
	INSN_SEG_SS,
	INSN_SEG_DS,
	INSN_SEG_FS,
	INSN_SEG_GS,
};

/** A decoded MMIO access. */
struct insn_mmio {
	uint8_t length;    /**< bytes, to advance RIP by */
	uint8_t size;      /**< bytes of memory accessed: 1, 2, 4 or 8 */
	bool write;        /**< true: register or immediate to memory */
	bool has_imm;      /**< a store of imm (C6/C7), not of a register */
	uint64_t imm;      /**< the immediate, sign-extended to 64 bits */
	uint8_t reg;       /**< GPR number 0-15 (RAX, RCX, ..., R15) of the register operand */
	bool high_byte;    /**< the register is AH, CH, DH or BH (bits 15:8 of GPR `reg`) */
	uint8_t reg_size;  /**< width of the register operand in bytes */
	enum insn_ext ext; /**< how a load of `size` bytes widens to `reg_size` */
	uint8_t addr_size; /**< address size in bytes: 2, 4 or 8 */
	enum insn_seg seg;
	bool rip_relative;
	int64_t disp; /**< displacement (or moffs for A0-A3), sign-extended */
};

enum insn_status insn_decode(const uint8_t *bytes, size_t count, enum insn_mode mode,
                             struct insn_mmio *out);
uint64_t insn_load_result(const struct insn_mmio *d, uint64_t old_reg, uint64_t mem);
uint64_t insn_store_value(const struct insn_mmio *d, uint64_t reg_value);

#endif /* X86_INSN_DECODE_H */
