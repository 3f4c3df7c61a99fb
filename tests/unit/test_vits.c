/**
 * Host tests of the GICv3 ITS model (services/vits/its.c): every ITS test of Xen 4.10's list
 * (spec section 8: enabling needs valid BASERs; MAPD + MAPC + MAPTI then INT reaches the vCPU,
 * after MOVI the new one, after DISCARD nothing; INV after clearing the enable bit withdraws
 * the LPI; a duplicate MAPTI fails; after a bad command CREADR == CWRITER) and the bounds a
 * hostile guest reaches: IDs past the tables, tables and queues outside its memory, entries it
 * wrote itself, the queue's wrap, register widths, TRANSLATER's requester. The fake guest
 * keeps per-vCPU pending bits and, like the kernel's virtual GIC, caches each LPI's enable
 * bit from the property table until INV or INVALL.
 */
#include <string.h>

#include "its.h"
#include "tap.h"

#define RAM_BASE UINT64_C(0x40000000)
#define RAM_SIZE (1u << 20)
#define VCPUS 4u
#define LPI_LIMIT (ITS_LPI_BASE + 1024u)
#define NLPI (LPI_LIMIT - ITS_LPI_BASE)

/* Guest memory layout used by the tests. */
#define QUEUE (RAM_BASE + 0x10000u)
#define DEVTAB (RAM_BASE + 0x20000u)
#define COLLTAB (RAM_BASE + 0x30000u)
#define ITT0 (RAM_BASE + 0x40000u)
#define ITT1 (RAM_BASE + 0x48000u)
#define PROPTAB (RAM_BASE + 0x50000u)
#define ITT_BIG (RAM_BASE + 0x80000u) /* 14 EventID bits: 128 KiB */

static uint8_t ram[RAM_SIZE];
static bool pending[VCPUS][NLPI];
static bool enabled[NLPI]; /* the property byte's enable bit as last (re)read */
static unsigned bad_calls, logs, invs, invalls;
static enum its_error last_error;
static struct its its;

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

static bool g_set_pending(void *ctx, uint32_t vcpu, uint32_t lpi, bool p)
{
	(void)ctx;
	if (vcpu >= VCPUS || lpi < ITS_LPI_BASE || lpi >= LPI_LIMIT) {
		bad_calls++;
		return false;
	}
	bool was = pending[vcpu][lpi - ITS_LPI_BASE];
	pending[vcpu][lpi - ITS_LPI_BASE] = p;
	return was;
}

static void reread(uint32_t lpi)
{
	enabled[lpi - ITS_LPI_BASE] = (ram[PROPTAB - RAM_BASE + (lpi - ITS_LPI_BASE)] & 1u) != 0;
}

static void g_inv(void *ctx, uint32_t vcpu, uint32_t lpi)
{
	(void)ctx;
	invs++;
	if (vcpu >= VCPUS || lpi < ITS_LPI_BASE || lpi >= LPI_LIMIT) {
		bad_calls++;
		return;
	}
	reread(lpi);
}

static void g_invall(void *ctx, uint32_t vcpu)
{
	(void)ctx;
	invalls++;
	if (vcpu >= VCPUS)
		bad_calls++;
	for (uint32_t l = ITS_LPI_BASE; l < LPI_LIMIT; l++)
		reread(l);
}

static void g_log(void *ctx, enum its_error e, uint64_t cmd)
{
	(void)ctx;
	(void)cmd;
	logs++;
	last_error = e;
}

/** MOVI: the pending bit goes to vcpu from wherever it is. */
static void g_move(void *ctx, uint32_t vcpu, uint32_t lpi)
{
	(void)ctx;
	if (vcpu >= VCPUS || lpi < ITS_LPI_BASE || lpi >= LPI_LIMIT) {
		bad_calls++;
		return;
	}
	bool was = false;
	for (uint32_t c = 0; c < VCPUS; c++) {
		was |= pending[c][lpi - ITS_LPI_BASE];
		pending[c][lpi - ITS_LPI_BASE] = false;
	}
	pending[vcpu][lpi - ITS_LPI_BASE] = was;
}

static const struct its_ops ops = { NULL,  g_read,   g_write, g_set_pending,
	                            g_inv, g_invall, g_log,   g_move };

/** What the guest's vCPU would take: pending and enabled at its last INV. */
static bool delivered(uint32_t vcpu, uint32_t lpi)
{
	return pending[vcpu][lpi - ITS_LPI_BASE] && enabled[lpi - ITS_LPI_BASE];
}

static uint64_t rd(uint64_t off, uint32_t size)
{
	uint64_t v = 0xbadbadbad;
	if (!its_mmio(&its, &ops, off, size, false, &v))
		return 0xbad;
	return v;
}

static bool wr(uint64_t off, uint32_t size, uint64_t v)
{
	return its_mmio(&its, &ops, off, size, true, &v);
}

static uint64_t cwriter;

/** Queue one command at CWRITER and write CWRITER past it (wrapping at the queue's end). */
static void cmd(uint64_t d0, uint64_t d1, uint64_t d2, uint64_t d3)
{
	uint64_t c[4] = { d0, d1, d2, d3 };
	uint64_t qsize = ((its.cbaser & 0xffu) + 1u) * GITS_PAGE;
	memcpy(ram + (QUEUE - RAM_BASE) + cwriter, c, sizeof(c));
	cwriter = (cwriter + ITS_CMD_SIZE) % qsize;
	wr(GITS_CWRITER, 8, cwriter);
}

static void mapd(uint32_t dev, uint64_t itt, uint32_t bits, bool valid)
{
	cmd(ITS_CMD_MAPD | (uint64_t)dev << 32, bits - 1u, (valid ? GITS_VALID : 0) | itt, 0);
}

static void mapc(uint32_t icid, uint32_t vcpu, bool valid)
{
	cmd(ITS_CMD_MAPC, 0, (valid ? GITS_VALID : 0) | (uint64_t)vcpu << 16 | icid, 0);
}

static void mapti(uint32_t dev, uint32_t event, uint32_t lpi, uint32_t icid)
{
	cmd(ITS_CMD_MAPTI | (uint64_t)dev << 32, event | (uint64_t)lpi << 32, icid, 0);
}

static void ev_cmd(uint32_t op, uint32_t dev, uint32_t event)
{
	cmd(op | (uint64_t)dev << 32, event, 0, 0);
}

static void set_prop(uint32_t lpi, bool enable)
{
	ram[PROPTAB - RAM_BASE + (lpi - ITS_LPI_BASE)] = (uint8_t)(0xa0u | (enable ? 1u : 0u));
}

/** A fresh guest: memory zeroed, every LPI's property enabled and read, the tables given. */
static void fresh(bool enable)
{
	memset(ram, 0, sizeof(ram));
	memset(pending, 0, sizeof(pending));
	bad_calls = logs = invs = invalls = 0;
	last_error = ITS_ERR_NONE;
	cwriter = 0;
	its_init(&its, VCPUS, LPI_LIMIT, ITS_NO_DEVICE);
	for (uint32_t l = ITS_LPI_BASE; l < LPI_LIMIT; l++) {
		set_prop(l, true);
		reread(l);
	}
	if (!enable)
		return;
	wr(GITS_CBASER, 8, GITS_VALID | QUEUE | 0u);       /* one page: 128 commands */
	wr(GITS_BASER0, 8, GITS_VALID | DEVTAB | 0u);      /* 512 devices */
	wr(GITS_BASER0 + 8, 8, GITS_VALID | COLLTAB | 0u); /* 2048 collections */
	wr(GITS_CWRITER, 8, 0);
	wr(GITS_CTLR, 4, GITS_CTLR_ENABLED);
}

static bool quiet(void)
{
	return its.creadr == its.cwriter && bad_calls == 0;
}

static void test_registers(void)
{
	fresh(false);
	EQ(rd(GITS_CTLR, 4), GITS_CTLR_QUIESCENT, "reset: CTLR disabled and quiescent");
	uint64_t t = rd(GITS_TYPER, 8);
	EQ(t & 1u, 1, "TYPER.Physical");
	EQ((t >> 4) & 0xfu, 7, "TYPER: 8-byte ITT entries");
	EQ(((t >> 8) & 0x1fu) + 1u, ITS_EVENTID_BITS, "TYPER.ID_bits");
	EQ(((t >> 13) & 0x1fu) + 1u, ITS_DEVID_BITS, "TYPER.Devbits");
	EQ((t >> 19) & 1u, 0, "TYPER.PTA = 0: collections target vCPU numbers");
	EQ(rd(GITS_TYPER + 4, 4), t >> 32, "TYPER's upper half as a 32-bit read");
	EQ((rd(GITS_BASER0, 8) >> GITS_BASER_TYPE_SHIFT) & 7u, GITS_BASER_TYPE_DEVICES,
	   "BASER0 is the device table");
	EQ((rd(GITS_BASER0 + 8, 8) >> GITS_BASER_TYPE_SHIFT) & 7u, GITS_BASER_TYPE_COLLECTIONS,
	   "BASER1 is the collection table");
	EQ(((rd(GITS_BASER0, 8) >> GITS_BASER_ENTRY_SHIFT) & 0x1fu) + 1u, 8,
	   "device entries: 8 bytes");
	EQ(((rd(GITS_BASER0 + 8, 8) >> GITS_BASER_ENTRY_SHIFT) & 0x1fu) + 1u, 2,
	   "collection entries: 2 bytes");
	wr(GITS_BASER0, 8, ~UINT64_C(0));
	EQ((rd(GITS_BASER0, 8) >> GITS_BASER_TYPE_SHIFT) & 7u, GITS_BASER_TYPE_DEVICES,
	   "BASER0's type is read-only");
	EQ(rd(GITS_BASER0, 8) & GITS_BASER_INDIRECT, 0, "no indirect tables (Indirect reads 0)");
	EQ(rd(GITS_BASER0 + 16, 8), 0, "BASER2 reads as zero");
	EQ((rd(GITS_PIDR2, 4) >> 4) & 0xfu, 3, "PIDR2.ArchRev: GICv3");
	EQ(rd(GITS_TRANSLATER, 4), 0, "TRANSLATER reads as zero");
	EQ(rd(GITS_CTLR, 1), 0xbad, "a byte access is refused");
	EQ(rd(GITS_CTLR, 8), 0xbad, "a 64-bit access to CTLR is refused");
	EQ(rd(GITS_TYPER + 2, 4), 0xbad, "a misaligned access is refused");
	EQ(rd(GITS_FRAME_SIZE, 4), 0xbad, "an access past the frame is refused");
	OK(!wr(GITS_CWRITER, 2, 0), "a 16-bit write is refused");
}

static void test_enable(void)
{
	fresh(false);
	wr(GITS_CTLR, 4, GITS_CTLR_ENABLED);
	EQ(rd(GITS_CTLR, 4) & GITS_CTLR_ENABLED, 0, "enable without CBASER or BASERs: refused");
	wr(GITS_CBASER, 8, GITS_VALID | QUEUE);
	wr(GITS_BASER0, 8, GITS_VALID | DEVTAB);
	wr(GITS_CTLR, 4, GITS_CTLR_ENABLED);
	EQ(rd(GITS_CTLR, 4) & GITS_CTLR_ENABLED, 0, "enable without a valid BASER1: refused");
	wr(GITS_BASER0, 8, DEVTAB);
	wr(GITS_BASER0 + 8, 8, GITS_VALID | COLLTAB);
	wr(GITS_CTLR, 4, GITS_CTLR_ENABLED);
	EQ(rd(GITS_CTLR, 4) & GITS_CTLR_ENABLED, 0, "enable without a valid BASER0: refused");
	wr(GITS_BASER0, 8, GITS_VALID | DEVTAB);
	wr(GITS_CBASER, 8, QUEUE);
	wr(GITS_CTLR, 4, GITS_CTLR_ENABLED);
	EQ(rd(GITS_CTLR, 4) & GITS_CTLR_ENABLED, 0, "enable without a valid CBASER: refused");
	wr(GITS_CBASER, 8, GITS_VALID | QUEUE);
	wr(GITS_CTLR, 4, GITS_CTLR_ENABLED);
	EQ(rd(GITS_CTLR, 4) & GITS_CTLR_ENABLED, 1, "enable with all three valid");

	uint64_t cb = rd(GITS_CBASER, 8), b0 = rd(GITS_BASER0, 8);
	wr(GITS_CBASER, 8, GITS_VALID | (QUEUE + 0x1000u));
	wr(GITS_BASER0, 8, GITS_VALID | (DEVTAB + 0x1000u) | 3u);
	EQ(rd(GITS_CBASER, 8), cb, "CBASER write ignored while enabled");
	EQ(rd(GITS_BASER0, 8), b0, "BASER write ignored while enabled");

	mapc(0, 0, true);
	mapc(1, 1, true);
	OK(rd(GITS_CREADR, 8) == 64 && quiet(), "two commands ran: CREADR at 64");
	wr(GITS_CTLR, 4, 0);
	wr(GITS_CBASER, 8, GITS_VALID | QUEUE);
	EQ(rd(GITS_CREADR, 8), 0, "a CBASER write resets CREADR");
}

static void test_int_movi_discard(void)
{
	fresh(true);
	mapd(1, ITT0, 4, true);
	mapc(5, 1, true);
	mapc(6, 2, true);
	mapti(1, 3, 8200, 5);
	ev_cmd(ITS_CMD_INT, 1, 3);
	OK(delivered(1, 8200) && !delivered(2, 8200) && quiet() && logs == 0,
	   "MAPD + MAPC + MAPTI, then INT: LPI 8200 pending on vCPU 1");
	cmd(ITS_CMD_MOVI | (uint64_t)1 << 32, 3, 6, 0);
	OK(!delivered(1, 8200) && delivered(2, 8200), "MOVI: its pending state moves to vCPU 2");
	ev_cmd(ITS_CMD_CLEAR, 1, 3);
	OK(!delivered(2, 8200), "CLEAR: no longer pending");
	ev_cmd(ITS_CMD_INT, 1, 3);
	OK(delivered(2, 8200) && !delivered(1, 8200), "after MOVI, INT reaches vCPU 2");
	ev_cmd(ITS_CMD_DISCARD, 1, 3);
	OK(!delivered(2, 8200), "DISCARD clears its pending state");
	ev_cmd(ITS_CMD_INT, 1, 3);
	OK(!delivered(1, 8200) && !delivered(2, 8200) && last_error == ITS_ERR_UNMAPPED,
	   "after DISCARD, INT reaches nobody (the event is unmapped)");
	EQ(its.creadr, its.cwriter, "CREADR == CWRITER after the failed INT");
	mapti(1, 3, 8201, 5);
	ev_cmd(ITS_CMD_INT, 1, 3);
	OK(delivered(1, 8201), "the discarded event can be mapped again");
	mapd(1, ITT0, 4, false);
	OK(!delivered(1, 8201), "MAPD with V = 0 clears the device's pending LPIs");
	ev_cmd(ITS_CMD_INT, 1, 3);
	EQ(last_error, ITS_ERR_DEVICE, "and its events translate no more");
	OK(bad_calls == 0, "the model never named a vCPU or LPI outside the guest's");
}

static void test_inv(void)
{
	fresh(true);
	mapd(2, ITT1, 2, true);
	mapc(0, 0, true);
	mapti(2, 1, 8300, 0);
	ev_cmd(ITS_CMD_INT, 2, 1);
	OK(delivered(0, 8300), "INT: LPI 8300 delivered");
	set_prop(8300, false);
	OK(delivered(0, 8300), "clearing the enable bit in memory alone changes nothing yet");
	ev_cmd(ITS_CMD_INV, 2, 1);
	OK(!delivered(0, 8300) && pending[0][8300 - ITS_LPI_BASE],
	   "INV after clearing the enable bit withdraws the LPI (still pending)");
	set_prop(8300, true);
	cmd(ITS_CMD_INVALL, 0, 0, 0);
	OK(delivered(0, 8300) && invalls == 1, "INVALL rereads it: delivered again");
	cmd(ITS_CMD_INVALL, 0, 9, 0);
	EQ(last_error, ITS_ERR_COLLECTION, "INVALL of an unmapped collection fails");
}

static void test_errors(void)
{
	fresh(true);
	mapd(1, ITT0, 4, true);
	mapc(0, 3, true);
	mapti(1, 0, 8192, 0);
	mapti(1, 0, 8193, 0);
	EQ(last_error, ITS_ERR_MAPPED, "a duplicate MAPTI fails");
	ev_cmd(ITS_CMD_INT, 1, 0);
	OK(delivered(3, 8192) && !delivered(3, 8193), "the first mapping stays");
	EQ(rd(GITS_CREADR, 8), rd(GITS_CWRITER, 8), "after the bad command, CREADR == CWRITER");

	cmd(0x42, 0, 0, 0);
	EQ(last_error, ITS_ERR_UNKNOWN_COMMAND, "an unknown command fails");
	EQ(its.creadr, its.cwriter, "and CREADR still reaches CWRITER");
	mapti(1, 16, 8200, 0);
	EQ(last_error, ITS_ERR_EVENT, "EventID 16 of a 4-bit ITT fails");
	mapti(1, 1, 8191, 0);
	EQ(last_error, ITS_ERR_LPI, "pINTID 8191 (an SPI's range) fails");
	mapti(1, 1, LPI_LIMIT, 0);
	EQ(last_error, ITS_ERR_LPI, "a pINTID past the guest's LPIs fails");
	mapti(1, 1, 8200, 7);
	EQ(last_error, ITS_ERR_COLLECTION, "MAPTI to an unmapped collection fails");
	mapc(1, VCPUS, true);
	EQ(last_error, ITS_ERR_VCPU, "MAPC to a vCPU the guest lacks fails");
	mapd(512, ITT1, 2, true);
	EQ(last_error, ITS_ERR_DEVICE, "DeviceID 512 of a 512-entry device table fails");
	mapd(3, ITT1, ITS_EVENTID_BITS + 1u, true);
	EQ(last_error, ITS_ERR_SIZE, "MAPD with more EventID bits than TYPER offers fails");
	mapc(2048, 0, true);
	EQ(last_error, ITS_ERR_COLLECTION, "ICID 2048 of a 2048-entry collection table fails");
	cmd(ITS_CMD_SYNC, 0, (uint64_t)VCPUS << 16, 0);
	EQ(last_error, ITS_ERR_VCPU, "SYNC to a vCPU the guest lacks is reported");

	/* Entries the guest wrote itself are checked like the model's own. */
	uint64_t bad_ite = (uint64_t)0 << 32 | 5000u; /* an SPI number as its LPI */
	memcpy(ram + (ITT0 - RAM_BASE) + 2 * 8, &bad_ite, 8);
	ev_cmd(ITS_CMD_INT, 1, 2);
	EQ(last_error, ITS_ERR_LPI, "an ITT entry naming a non-LPI is refused");
	uint16_t bad_cte = 0x8000u | 77u;
	memcpy(ram + (COLLTAB - RAM_BASE) + 4 * 2, &bad_cte, 2);
	mapti(1, 4, 8210, 4);
	EQ(last_error, ITS_ERR_VCPU, "a collection entry naming vCPU 77 is refused");
	uint64_t bad_dte = GITS_VALID | ITT1 | 31u; /* 32 EventID bits */
	memcpy(ram + (DEVTAB - RAM_BASE) + 9 * 8, &bad_dte, 8);
	ev_cmd(ITS_CMD_INT, 9, 0);
	EQ(last_error, ITS_ERR_DEVICE, "a device entry with 32 EventID bits is refused");
	OK(bad_calls == 0, "no vCPU or LPI outside the guest's was ever named");
}

static void test_outside_memory(void)
{
	fresh(true);
	wr(GITS_CTLR, 4, 0);
	wr(GITS_BASER0, 8, GITS_VALID | 0x10000000u); /* not the guest's RAM */
	wr(GITS_CTLR, 4, GITS_CTLR_ENABLED);
	mapd(1, ITT0, 4, true);
	EQ(last_error, ITS_ERR_READ, "a device table outside guest memory: MAPD fails");
	fresh(true);
	mapd(1, RAM_BASE + RAM_SIZE - 256u, 8, true); /* its ITT runs past the end of RAM */
	mapc(0, 0, true);
	mapti(1, 100, 8200, 0);
	EQ(last_error, ITS_ERR_READ, "an ITT entry past the end of guest memory fails");
	mapti(1, 0, 8200, 0);
	OK(quiet(), "the entries that are inside still work");

	fresh(false);
	wr(GITS_CBASER, 8,
	   GITS_VALID | (RAM_BASE + RAM_SIZE - GITS_PAGE) | 1u); /* 2 pages, 1 out */
	wr(GITS_BASER0, 8, GITS_VALID | DEVTAB);
	wr(GITS_BASER0 + 8, 8, GITS_VALID | COLLTAB);
	wr(GITS_CTLR, 4, GITS_CTLR_ENABLED);
	wr(GITS_CWRITER, 8, GITS_PAGE + 3u * ITS_CMD_SIZE);
	OK(its.errors[ITS_ERR_READ] == 3 && its.creadr == its.cwriter,
	   "commands outside guest memory fail one by one; CREADR still reaches CWRITER");
}

static void test_queue(void)
{
	fresh(true);
	uint64_t qsize = GITS_PAGE;
	wr(GITS_CWRITER, 8, qsize);
	EQ(rd(GITS_CWRITER, 8), 0, "CWRITER at the queue's end: ignored, runs nothing");
	wr(GITS_CWRITER, 8, qsize + 64u);
	EQ(rd(GITS_CWRITER, 8), 0, "CWRITER past the queue: ignored");
	/* Fill to the last slot, then wrap. */
	mapc(0, 0, true);
	for (uint32_t i = 1; i < qsize / ITS_CMD_SIZE - 1u; i++)
		cmd(ITS_CMD_SYNC, 0, 0, 0);
	EQ(its.creadr, qsize - ITS_CMD_SIZE, "127 commands: CREADR at the last slot");
	mapd(1, ITT0, 4, true);
	EQ(its.creadr, 0, "the 128th wraps CREADR to 0");
	mapti(1, 0, 8250, 0);
	ev_cmd(ITS_CMD_INT, 1, 0);
	OK(delivered(0, 8250) && quiet() && its.commands == 130, "commands after the wrap run");

	/* Commands written while disabled run when it is enabled. */
	wr(GITS_CTLR, 4, 0);
	ev_cmd(ITS_CMD_CLEAR, 1, 0);
	OK(delivered(0, 8250) && its.creadr != its.cwriter, "disabled: CLEAR waits in the queue");
	EQ(rd(GITS_CTLR, 4) & GITS_CTLR_QUIESCENT, 0, "and the ITS is not quiescent");
	wr(GITS_CTLR, 4, GITS_CTLR_ENABLED);
	OK(!delivered(0, 8250) && quiet(), "enabling runs it");

	/* The 32-bit halves of CWRITER. */
	mapti(1, 1, 8251, 0);
	uint64_t at = its.cwriter;
	uint64_t c[4] = { ITS_CMD_INT | (uint64_t)1 << 32, 1, 0, 0 };
	memcpy(ram + (QUEUE - RAM_BASE) + at, c, sizeof(c));
	wr(GITS_CWRITER + 4, 4, 0);
	wr(GITS_CWRITER, 4, at + ITS_CMD_SIZE);
	OK(delivered(0, 8251), "a 32-bit CWRITER write runs the queue");
	cwriter = at + ITS_CMD_SIZE;
}

static void test_mapi_translate(void)
{
	fresh(true);
	mapd(4, ITT_BIG, 14, true); /* EventIDs up to 16383: MAPI can name LPIs */
	mapc(3, 2, true);
	cmd(ITS_CMD_MAPI | (uint64_t)4 << 32, 8195, 3, 0);
	ev_cmd(ITS_CMD_INT, 4, 8195);
	OK(delivered(2, 8195), "MAPI: the pINTID is the EventID");
	cmd(ITS_CMD_MAPI | (uint64_t)4 << 32, 100, 3, 0);
	EQ(last_error, ITS_ERR_LPI, "MAPI of EventID 100 (not an LPI) fails");

	mapti(4, 7, 8400, 3);
	OK(its_translate(&its, &ops, 4, 7) && delivered(2, 8400),
	   "an MSI (DeviceID 4, EventID 7) through TRANSLATER becomes LPI 8400 on vCPU 2");
	OK(!its_translate(&its, &ops, 5, 7) && its.translate_errors == 1,
	   "an MSI from an unmapped device translates to nothing");
	ev_cmd(ITS_CMD_CLEAR, 4, 7);
	OK(wr(GITS_TRANSLATER, 4, 7) && !delivered(2, 8400),
	   "the guest's own TRANSLATER write with no DeviceID for it does nothing");
	its.self_devid = 4;
	OK(wr(GITS_TRANSLATER, 4, 7) && delivered(2, 8400),
	   "with the manifest's DeviceID for its CPU, it translates");
	OK(!wr(GITS_TRANSLATER, 8, 7), "a 64-bit TRANSLATER write is refused");
	wr(GITS_CTLR, 4, 0);
	OK(!its_translate(&its, &ops, 4, 7), "a disabled ITS translates nothing");
}

static void test_state(void)
{
	fresh(true);
	mapc(0, 0, true);
	OK(its_state_valid(&its), "a running ITS's state is valid");
	struct its copy = its;
	copy.magic ^= 1u;
	OK(!its_state_valid(&copy), "a wrong magic is invalid");
	copy = its;
	copy.cwriter = GITS_PAGE;
	OK(!its_state_valid(&copy), "CWRITER past the queue is invalid");
	copy = its;
	copy.baser[0] &= ~(UINT64_C(7) << GITS_BASER_TYPE_SHIFT);
	OK(!its_state_valid(&copy), "a BASER of the wrong type is invalid");
	copy = its;
	copy.vcpus = 0;
	OK(!its_state_valid(&copy), "no vCPUs is invalid");
	/* A restart keeps struct its; the mappings are in guest memory. */
	mapd(1, ITT0, 4, true);
	mapti(1, 2, 8500, 0);
	copy = its;
	its = copy;
	ev_cmd(ITS_CMD_INT, 1, 2);
	OK(delivered(0, 8500), "after a restart with the same registers, the mappings work");
}

int main(void)
{
	test_registers();
	test_enable();
	test_int_movi_discard();
	test_inv();
	test_errors();
	test_outside_memory();
	test_queue();
	test_mapi_translate();
	test_state();
	return tap_finish();
}
