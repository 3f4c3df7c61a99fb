/**
 * libFuzzer target for the GICv3 ITS model (services/vits/its.c). A 64 KiB guest memory holds
 * the command queue and the tables; the input (after a mostly sane set-up) drives a random
 * sequence of commands (mostly well-formed, with small IDs so that mappings meet, and garbage),
 * register accesses (the GITS offsets and others, any width and value, with CBASER, BASERs and
 * CWRITER pointed into or around that memory), the guest writing its tables itself, and MSIs
 * through TRANSLATER.
 * Checked after every step (abort on failure):
 *  - its_state_valid() holds;
 *  - an enabled ITS has run its queue: CREADR == CWRITER (it never stalls, whatever the
 *    commands and tables say);
 *  - the model asks to make pending, clear, or invalidate only the guest's own vCPUs and
 *    LPIs, and reads or writes guest memory only through the accessors (which refuse
 *    anything outside the 64 KiB; ASan catches any other access).
 */
#include <stdlib.h>
#include <string.h>

#include "its.h"

#define RAM_BASE UINT64_C(0x40000000)
#define RAM_SIZE 0x10000u
#define VCPUS 3u
#define LPI_LIMIT (ITS_LPI_BASE + 512u)

static uint8_t ram[RAM_SIZE];

struct input {
	const unsigned char *data;
	size_t size;
};

static uint64_t take(struct input *in, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++) {
		v <<= 8;
		if (in->size != 0) {
			v |= *in->data++;
			in->size--;
		}
	}
	return v;
}

static bool in_ram(uint64_t ipa, uint32_t len)
{
	return ipa >= RAM_BASE && ipa - RAM_BASE <= RAM_SIZE && len <= RAM_SIZE - (ipa - RAM_BASE);
}

static bool g_read(void *ctx, uint64_t ipa, void *buf, uint32_t len)
{
	(void)ctx;
	if (!in_ram(ipa, len))
		return false;
	memcpy(buf, ram + (ipa - RAM_BASE), len);
	return true;
}

static bool g_write(void *ctx, uint64_t ipa, const void *buf, uint32_t len)
{
	(void)ctx;
	if (!in_ram(ipa, len))
		return false;
	memcpy(ram + (ipa - RAM_BASE), buf, len);
	return true;
}

static void check_target(uint32_t vcpu, uint32_t lpi)
{
	if (vcpu >= VCPUS || lpi < ITS_LPI_BASE || lpi >= LPI_LIMIT)
		abort();
}

static bool g_set_pending(void *ctx, uint32_t vcpu, uint32_t lpi, bool pending)
{
	(void)ctx;
	(void)pending;
	check_target(vcpu, lpi);
	return (lpi & 1u) != 0;
}

static void g_inv(void *ctx, uint32_t vcpu, uint32_t lpi)
{
	(void)ctx;
	check_target(vcpu, lpi);
}

static void g_invall(void *ctx, uint32_t vcpu)
{
	(void)ctx;
	check_target(vcpu, ITS_LPI_BASE);
}

static void g_move(void *ctx, uint32_t vcpu, uint32_t lpi)
{
	(void)ctx;
	check_target(vcpu, lpi);
}

static const struct its_ops ops = { NULL,  g_read,   g_write, g_set_pending,
	                            g_inv, g_invall, NULL,    g_move };

/** A register offset: mostly the real ones, sometimes anything in the frame. */
static uint64_t pick_offset(struct input *in)
{
	static const uint64_t regs[] = { GITS_CTLR,       GITS_IIDR,        GITS_TYPER,
		                         GITS_CBASER,     GITS_CWRITER,     GITS_CREADR,
		                         GITS_BASER0,     GITS_BASER0 + 8u, GITS_BASER7,
		                         GITS_TRANSLATER, GITS_CBASER + 4u, GITS_CWRITER + 4u };
	uint64_t r = take(in, 1);
	if (r < 200u)
		return regs[r % (sizeof(regs) / sizeof(regs[0]))];
	return take(in, 3) % (GITS_FRAME_SIZE + 16u);
}

/** A value for a base register: its address mostly inside the guest's memory. */
static uint64_t pick_base(struct input *in, uint64_t raw)
{
	if ((raw & 3u) == 0)
		return raw;
	uint64_t addr = (RAM_BASE + (take(in, 2) << 8)) & ~UINT64_C(0xfff);
	return (raw & (GITS_VALID | 0x3u)) | addr | GITS_VALID;
}

#define QUEUE (RAM_BASE + 0x0000u)
#define DEVTAB (RAM_BASE + 0x2000u)
#define COLLTAB (RAM_BASE + 0x3000u)
#define ITTS (RAM_BASE + 0x4000u)

/** A well-formed command most of the time, with small IDs, so that mappings meet. */
static void queue_command(struct its *s, struct input *in)
{
	static const uint8_t cmds[] = { ITS_CMD_MAPD,    ITS_CMD_MAPC, ITS_CMD_MAPTI,
		                        ITS_CMD_MAPI,    ITS_CMD_INT,  ITS_CMD_CLEAR,
		                        ITS_CMD_DISCARD, ITS_CMD_MOVI, ITS_CMD_INV,
		                        ITS_CMD_INVALL,  ITS_CMD_SYNC, ITS_CMD_MOVALL };
	uint64_t r = take(in, 1);
	uint64_t op = r < 240u ? cmds[r % sizeof(cmds)] : take(in, 1);
	uint64_t dev = take(in, 1) % 10u, event = take(in, 1) % 40u;
	uint64_t lpi = ITS_LPI_BASE - 4u + take(in, 2) % 520u, icid = take(in, 1) % 10u;
	uint64_t vcpu = take(in, 1) % (VCPUS + 1u), bits = take(in, 1) % 7u;
	uint64_t itt = ITTS + (take(in, 1) % 40u) * 0x100u;
	uint64_t c[4] = { op | dev << 32, event | lpi << 32, icid, 0 };
	if (op == ITS_CMD_MAPD)
		c[1] = bits;
	if (op == ITS_CMD_MAPD)
		c[2] = itt;
	if (op == ITS_CMD_MAPC || op == ITS_CMD_SYNC)
		c[2] = icid | vcpu << 16;
	if (op == ITS_CMD_MAPD || op == ITS_CMD_MAPC)
		c[2] |= take(in, 1) < 220u ? GITS_VALID : 0;
	uint64_t qsize = ((s->cbaser & 0xffu) + 1u) * GITS_PAGE;
	uint64_t at = s->cwriter;
	if ((s->cbaser & ~UINT64_C(0xfff) & ((UINT64_C(1) << 52) - 1u)) == QUEUE &&
	    at + 32u <= RAM_SIZE)
		memcpy(ram + at, c, sizeof(c));
	uint64_t next = (at + ITS_CMD_SIZE) % qsize;
	(void)its_mmio(s, &ops, GITS_CWRITER, 8, true, &next);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct input in = { data, size };
	memset(ram, 0, sizeof(ram));
	struct its s;
	its_init(&s, VCPUS, LPI_LIMIT, take(&in, 1) & 1u ? 3u : ITS_NO_DEVICE);
	/* Mostly a sane set-up: one-page queue, tables in memory, enabled. */
	uint64_t setup = take(&in, 1);
	if (setup < 224u) {
		uint64_t v = GITS_VALID | QUEUE;
		(void)its_mmio(&s, &ops, GITS_CBASER, 8, true, &v);
		v = GITS_VALID | DEVTAB;
		(void)its_mmio(&s, &ops, GITS_BASER0, 8, true, &v);
		v = GITS_VALID | COLLTAB;
		(void)its_mmio(&s, &ops, GITS_BASER0 + 8u, 8, true, &v);
		v = GITS_CTLR_ENABLED;
		(void)its_mmio(&s, &ops, GITS_CTLR, 4, true, &v);
	}
	while (in.size != 0) {
		uint64_t op = take(&in, 1);
		if (op < 24u) {
			(void)its_translate(&s, &ops, (uint32_t)(take(&in, 1) % 12u),
			                    (uint32_t)(take(&in, 1) % 48u));
		} else if (op < 160u) {
			queue_command(&s, &in);
		} else if (op < 236u) {
			uint64_t off = pick_offset(&in);
			uint32_t sizes[] = { 4u, 8u, 1u, 2u };
			uint32_t width = sizes[take(&in, 1) % 4u];
			uint64_t v = take(&in, 8);
			if ((off & ~7u) == GITS_CBASER ||
			    (off >= GITS_BASER0 && off < GITS_BASER0 + 16u))
				v = pick_base(&in, v);
			if ((off & ~7u) == GITS_CWRITER)
				v &= 0x3ffe0u;
			(void)its_mmio(&s, &ops, off, width, (op & 1u) != 0, &v);
		} else {
			/* The guest writes its tables itself. */
			ram[(DEVTAB - RAM_BASE) + take(&in, 2) % (RAM_SIZE - 0x2000u)] =
			        (uint8_t)take(&in, 1);
		}
		if (!its_state_valid(&s))
			abort();
		if ((s.ctlr & GITS_CTLR_ENABLED) && s.creadr != s.cwriter)
			abort();
	}
	return 0;
}
