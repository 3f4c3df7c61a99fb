/**
 * libFuzzer target for the x86 MMIO instruction decoder (platform/x86/vlapic/insn_decode.c).
 * Input: one mode byte, then the instruction bytes. Invariants on every input: the decoder never
 * reads past what it is given (ASan checks a copy of exactly that size), a decoded length is at
 * most 15 and at most the input, the fields are in range and agree with each other, the same
 * instruction decodes alike with the bytes after it changed, every shorter input reports
 * TRUNCATED, and a failed decode leaves the output untouched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86/insn_decode.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
	fprintf(stderr, "invariant broken: %s\n", what);
	abort();
}

static bool same(const struct insn_mmio *a, const struct insn_mmio *b)
{
	return a->length == b->length && a->size == b->size && a->write == b->write &&
	       a->has_imm == b->has_imm && a->imm == b->imm && a->reg == b->reg &&
	       a->high_byte == b->high_byte && a->reg_size == b->reg_size && a->ext == b->ext &&
	       a->addr_size == b->addr_size && a->seg == b->seg &&
	       a->rip_relative == b->rip_relative && a->disp == b->disp;
}

static void check_fields(const struct insn_mmio *d, enum insn_mode mode, size_t count)
{
	if (d->length == 0 || d->length > INSN_MAX_LEN || d->length > count)
		fail("length out of range");
	if (d->size != 1 && d->size != 2 && d->size != 4 && d->size != 8)
		fail("access size");
	if (d->addr_size != 2 && d->addr_size != 4 && d->addr_size != 8)
		fail("address size");
	if (mode != INSN_MODE_64 && (d->addr_size == 8 || d->size == 8))
		fail("64-bit sizes outside 64-bit mode");
	if (d->reg > 15 || (d->high_byte && (d->reg > 3 || d->size != 1)))
		fail("register operand");
	if (d->has_imm && (!d->write || d->reg_size != 0))
		fail("an immediate on a load");
	if (!d->has_imm && d->ext == INSN_EXT_NONE && d->reg_size != d->size)
		fail("MOV register width differs from the access");
	if (d->ext != INSN_EXT_NONE && (d->write || d->reg_size < d->size || d->reg_size < 2))
		fail("an extension into a narrower register");
	if (d->rip_relative && mode != INSN_MODE_64)
		fail("RIP-relative outside 64-bit mode");
	uint64_t v = insn_load_result(d, UINT64_MAX, UINT64_MAX);
	if (d->reg_size == 4 && !d->high_byte && v > 0xffffffffu)
		fail("a 32-bit load left bits 63:32");
	if (d->write && d->size < 8 && (insn_store_value(d, UINT64_MAX) >> (8 * d->size)) != 0)
		fail("a store wider than its size");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum insn_mode mode = (enum insn_mode)(data[0] % 3);
	size_t count = size - 1;
	if (count > 2 * INSN_MAX_LEN)
		count = 2 * INSN_MAX_LEN;
	/* An exact-size heap copy: ASan reports a read past the input. */
	uint8_t *bytes = malloc(count ? count : 1);
	if (bytes == NULL)
		return 0;
	memcpy(bytes, data + 1, count);

	struct insn_mmio d, poison;
	memset(&d, 0xa5, sizeof(d));
	poison = d;
	enum insn_status s = insn_decode(bytes, count, mode, &d);
	if (s != INSN_OK) {
		if (memcmp(&d, &poison, sizeof(d)) != 0)
			fail("a failed decode wrote its output");
		if (s == INSN_TRUNCATED && count >= INSN_MAX_LEN)
			fail("TRUNCATED with 15 bytes available");
		free(bytes);
		return 0;
	}
	check_fields(&d, mode, count);

	/* The bytes after the instruction do not matter. */
	uint8_t copy[INSN_MAX_LEN];
	memcpy(copy, bytes, d.length);
	struct insn_mmio e;
	if (insn_decode(copy, d.length, mode, &e) != INSN_OK || !same(&d, &e))
		fail("decoding changed when the input was cut to the instruction");
	if (insn_decode(copy, d.length - 1u, mode, &e) != INSN_TRUNCATED)
		fail("one byte less is not TRUNCATED");
	free(bytes);
	return 0;
}
