/**
 * The virtio-pci entropy device model (services/vpci/vpci.c) over a fake guest: its
 * configuration space as Linux's PCI core walks it (IDs, an absent function, BAR sizing, the
 * capability chain), virtio feature negotiation, a queue set up as virtio_pci_modern does,
 * buffers served and the MSI-X vector sent (or held while masked, sent when unmasked), and
 * the hostile rings a guest may write (outside its RAM, a loop, a wild index): the device
 * stops with DEVICE_NEEDS_RESET, touches nothing else, and a reset brings it back.
 * The block device: its IDs and capacity, sectors written and read back through chains split
 * the way Linux splits them, a request past the disk's end (IOERR, the disk untouched), an
 * unknown type (UNSUPP), GET_ID, FLUSH, and a chain with no status byte (NEEDS_RESET).
 * Interrupts: a driver that clears NO_INTERRUPT while the device serves (after the device
 * would once have read the flags) gets its MSI; and the device model stopped at every one of
 * its guest-memory, disk and MSI steps in turn (its state kept, as main.c keeps it in a
 * preserved region) and the notify replayed (the kernel requeues it for the successor),
 * crashing again at every step of the replay too: every request completes once, and the
 * last used index is followed by an MSI; a vector held while masked whose unmasking the
 * model dies in is sent by its successor.
 */
#include <setjmp.h>
#include <string.h>

#include "tap.h"
#include "vpci.h"

#define RAM_BASE UINT64_C(0x40000000)
#define RAM_SIZE 0x10000u
#define BAR UINT64_C(0x10000000)
#define DESC (RAM_BASE + 0x1000u)
#define AVAIL (RAM_BASE + 0x2000u)
#define USED (RAM_BASE + 0x3000u)
#define BUF (RAM_BASE + 0x8000u)
#define QSIZE 16u

static uint8_t ram[RAM_SIZE];
static unsigned msis, bad_accesses;
static uint64_t msi_address;
static uint32_t msi_data;
static struct vpci d;

/*
 * The kill test's fake: with crash_at >= 0, the ops call of that number (counting from 0 at
 * each arming) does not happen and jumps to crash_jump instead, as the model's fault would
 * end it there. Every ops call is a step the real model can die before (main.c's
 * crash_point: guest memory and disk; an MSI is a call to another partition).
 */
static long crash_at = -1;
static unsigned long op_calls;
static jmp_buf crash_jump;

static void crash_step(void)
{
	if (op_calls++ == (unsigned long)crash_at && crash_at >= 0)
		longjmp(crash_jump, 1);
}

/** The driver clears NO_INTERRUPT in the avail flags just before the device publishes. */
static bool enable_at_publish;
static uint16_t used_at_msi; /* the used index in the guest's RAM when the last MSI came */

static bool in_ram(uint64_t ipa, uint32_t len)
{
	return ipa >= RAM_BASE && ipa - RAM_BASE <= RAM_SIZE && len <= RAM_SIZE - (ipa - RAM_BASE);
}

static bool g_read(void *ctx, uint64_t ipa, void *buf, uint32_t len)
{
	(void)ctx;
	crash_step();
	if (!in_ram(ipa, len)) {
		bad_accesses++;
		return false;
	}
	memcpy(buf, ram + (ipa - RAM_BASE), len);
	return true;
}

static bool g_write(void *ctx, uint64_t ipa, const void *buf, uint32_t len)
{
	(void)ctx;
	crash_step();
	if (!in_ram(ipa, len)) {
		bad_accesses++;
		return false;
	}
	if (enable_at_publish && ipa == USED + 2u && len == 2u) {
		/* virtqueue_enable_cb: NO_INTERRUPT cleared, the old used index seen */
		ram[AVAIL - RAM_BASE] = 0;
		ram[AVAIL + 1 - RAM_BASE] = 0;
	}
	memcpy(ram + (ipa - RAM_BASE), buf, len);
	return true;
}

static void g_msi(void *ctx, uint64_t address, uint32_t data)
{
	(void)ctx;
	crash_step();
	msis++;
	msi_address = address;
	msi_data = data;
	used_at_msi = (uint16_t)(ram[USED + 2 - RAM_BASE] | ram[USED + 3 - RAM_BASE] << 8);
}

static const struct vpci_ops ops = { NULL, g_read, g_write, g_msi, NULL };

#define DISK_SECTORS 8u
static uint8_t disk_image[DISK_SECTORS * VPCI_SECTOR];
static unsigned disk_outside;

static bool g_disk(void *ctx, uint64_t offset, void *buf, uint32_t len, bool write)
{
	(void)ctx;
	crash_step();
	if (offset > sizeof(disk_image) || len > sizeof(disk_image) - offset) {
		disk_outside++;
		return false;
	}
	if (write)
		memcpy(disk_image + offset, buf, len);
	else
		memcpy(buf, disk_image + offset, len);
	return true;
}

static const struct vpci_ops blk_ops = { NULL, g_read, g_write, g_msi, g_disk };

static uint64_t cfg(uint32_t off, uint32_t size)
{
	uint64_t v = 0;
	OK(vpci_config(&d, &ops, off, size, false, &v), "config read accepted");
	return v;
}

static void cfg_w(uint32_t off, uint32_t size, uint64_t v)
{
	OK(vpci_config(&d, &ops, off, size, true, &v), "config write accepted");
}

static uint64_t bar(uint32_t off, uint32_t size)
{
	uint64_t v = 0;
	OK(vpci_mmio(&d, &ops, BAR + off, size, false, &v), "BAR read accepted");
	return v;
}

static void bar_w(uint32_t off, uint32_t size, uint64_t v)
{
	OK(vpci_mmio(&d, &ops, BAR + off, size, true, &v), "BAR write accepted");
}

static void put16(uint64_t ipa, uint16_t v)
{
	ram[ipa - RAM_BASE] = (uint8_t)v;
	ram[ipa - RAM_BASE + 1] = (uint8_t)(v >> 8);
}

static uint32_t get32(uint64_t ipa)
{
	const uint8_t *p = ram + (ipa - RAM_BASE);
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = ram + (DESC - RAM_BASE) + 16u * i;
	for (uint32_t k = 0; k < 8; k++)
		p[k] = (uint8_t)(addr >> (8 * k));
	for (uint32_t k = 0; k < 4; k++)
		p[8 + k] = (uint8_t)(len >> (8 * k));
	p[12] = (uint8_t)flags;
	p[13] = (uint8_t)(flags >> 8);
	p[14] = (uint8_t)next;
	p[15] = (uint8_t)(next >> 8);
}

/** Make chain head available in slot idx of the avail ring and publish idx + 1. */
static void offer(uint16_t idx, uint16_t head)
{
	put16(AVAIL + 4u + 2u * (idx % QSIZE), head);
	put16(AVAIL + 2u, (uint16_t)(idx + 1u));
}

static void test_config(void)
{
	vpci_init(&d, 1);
	EQ(cfg(0x00, 4), 0x10441af4u, "vendor 0x1af4, device 0x1044 (virtio entropy, modern)");
	EQ(cfg(0x02, 2), 0x1044u, "the device ID as a 16-bit read");
	EQ(cfg(0x08, 4) & 0xffu, 1u, "revision 1 (virtio 1.x)");
	EQ(cfg(0x2c, 4), 0x00401af4u, "subsystem 0x1af4:0x0040");
	EQ(cfg(0x8000, 4), 0xffffffffu, "device 1 is absent: all-ones");
	EQ(cfg(0x1000, 4), 0xffffffffu, "function 1 is absent too");
	EQ(cfg(0x06, 2) & 0x10u, 0x10u, "status: a capability list");
	uint64_t v = 0;
	OK(!vpci_config(&d, &ops, 0x01, 2, false, &v), "a misaligned 16-bit read is refused");
	OK(!vpci_config(&d, &ops, 0x00, 8, false, &v), "a 64-bit config access is refused");
	OK(!vpci_config(&d, &ops, VPCI_ECAM_SIZE, 4, false, &v), "past the window: refused");
	cfg_w(0x10, 4, 0xffffffffu);
	EQ(cfg(0x10, 4), (uint32_t) ~(VPCI_BAR_SIZE - 1u), "BAR0 sizing: 16 KiB, 32-bit memory");
	cfg_w(0x14, 4, 0xffffffffu);
	EQ(cfg(0x14, 4), 0u, "BAR1 is not implemented");
	cfg_w(0x10, 4, BAR);
	EQ(cfg(0x10, 4), BAR, "BAR0 placed");
	cfg_w(0x04, 2, 0xffff);
	EQ(cfg(0x04, 2), 0x0406u, "command: memory, bus master and INTx disable writable");
	EQ(cfg(0x3d, 1), 0u, "no INTx pin");
	/* The capability chain, as Linux's pci_find_capability and virtio_pci_find_capability. */
	uint32_t types = 0, msix = 0, hops = 0;
	for (uint32_t at = (uint32_t)cfg(0x34, 1); at != 0 && hops < 16; hops++) {
		uint32_t id = (uint32_t)cfg(at, 1);
		if (id == 0x09)
			types |= 1u << cfg(at + 3, 1);
		if (id == 0x11)
			msix = at;
		at = (uint32_t)cfg(at + 1, 1);
	}
	EQ(types, (1u << 1) | (1u << 2) | (1u << 3), "virtio common, notify and ISR capabilities");
	OK(msix != 0, "an MSI-X capability");
	EQ(cfg(msix + 2, 2) & 0x7ffu, VPCI_MSIX_VECTORS - 1u, "MSI-X: two vectors");
	EQ(cfg(msix + 4, 4), VPCI_MSIX_TABLE, "its table in BAR0");
	cfg_w(msix + 2, 2, 0x8000);
	EQ(cfg(msix + 2, 2) & 0xc000u, 0x8000u, "MSI-X enabled");
	OK(vpci_state_valid(&d), "the state is well formed");
}

static void test_negotiation(void)
{
	d.command = 0;
	EQ(bar(0x12, 2), 0xffffu, "memory decoding off: BAR0 reads all-ones");
	cfg_w(0x04, 2, 0x0006);
	EQ(bar(0x12, 2), 1u, "one queue");
	bar_w(0x00, 4, 1);
	EQ(bar(0x04, 4), 1u, "feature bits 32-63: VERSION_1");
	bar_w(0x00, 4, 0);
	EQ(bar(0x04, 4), 0u, "feature bits 0-31: none");
	uint64_t v = 0;
	OK(!vpci_mmio(&d, &ops, BAR + 0x12, 4, false, &v), "num_queues read 32 bits wide: refused");
	bar_w(0x14, 1, 1 | 2);
	bar_w(0x08, 4, 0);
	bar_w(0x0c, 4, 1u << 5);
	bar_w(0x14, 1, 1 | 2 | VPCI_STATUS_FEATURES_OK);
	EQ(bar(0x14, 1) & VPCI_STATUS_FEATURES_OK, 0u,
	   "a feature it does not offer: no FEATURES_OK");
	bar_w(0x14, 1, 0);
	EQ(bar(0x14, 1), 0u, "reset");
	bar_w(0x14, 1, 1 | 2);
	bar_w(0x08, 4, 1);
	bar_w(0x0c, 4, 1);
	bar_w(0x14, 1, 1 | 2 | VPCI_STATUS_FEATURES_OK);
	EQ(bar(0x14, 1) & VPCI_STATUS_FEATURES_OK, VPCI_STATUS_FEATURES_OK,
	   "VERSION_1 alone: FEATURES_OK sticks");
}

/** A queue of QSIZE at DESC/AVAIL/USED on vector 1 (address/data 0x8090040/0x21), driver OK. */
static void queue_up(void)
{
	bar_w(0x16, 2, 0);
	EQ(bar(0x18, 2), VPCI_QUEUE_MAX, "queue 0: 64 entries at most");
	bar_w(0x18, 2, 12);
	EQ(bar(0x18, 2), VPCI_QUEUE_MAX, "a size that is no power of two is ignored");
	bar_w(0x18, 2, QSIZE);
	bar_w(0x20, 4, (uint32_t)DESC);
	bar_w(0x24, 4, DESC >> 32);
	bar_w(0x28, 4, (uint32_t)AVAIL);
	bar_w(0x30, 4, (uint32_t)USED);
	bar_w(0x1a, 2, 5);
	EQ(bar(0x1a, 2), VPCI_NO_VECTOR, "a vector beyond the table reads back as NO_VECTOR");
	bar_w(0x1a, 2, 1);
	EQ(bar(0x1a, 2), 1u, "vector 1");
	bar_w(VPCI_MSIX_TABLE + 16, 4, 0x08090040u);
	bar_w(VPCI_MSIX_TABLE + 20, 4, 0);
	bar_w(VPCI_MSIX_TABLE + 24, 4, 0x21);
	bar_w(VPCI_MSIX_TABLE + 28, 4, 0);
	bar_w(0x1c, 2, 1);
	bar_w(0x18, 2, 32);
	EQ(bar(0x18, 2), QSIZE, "the size is fixed once the queue is enabled");
	bar_w(0x14, 1, 1 | 2 | VPCI_STATUS_FEATURES_OK | VPCI_STATUS_DRIVER_OK);
}

static void test_serve(void)
{
	memset(ram, 0, sizeof(ram));
	queue_up();
	desc(0, BUF, 64, 2, 0);             /* 64 bytes for the device */
	desc(1, BUF + 0x100, 16, 2 | 1, 2); /* a chain: 16 + 32 */
	desc(2, BUF + 0x200, 32, 2, 0);
	offer(0, 0);
	offer(1, 1);
	unsigned before = msis;
	bar_w(VPCI_NOTIFY, 2, 0);
	EQ(ram[USED + 2 - RAM_BASE], 2u, "both buffers are used");
	EQ(get32(USED + 4), 0u, "first used: chain 0");
	EQ(get32(USED + 8), 64u, "64 bytes");
	EQ(get32(USED + 12), 1u, "second used: chain 1");
	EQ(get32(USED + 16), 48u, "16 + 32 bytes");
	uint32_t zeros = 0;
	for (uint32_t i = 0; i < 64; i++)
		zeros += ram[BUF - RAM_BASE + i] == 0;
	OK(zeros < 8, "the buffer is filled");
	OK(memcmp(ram + (BUF - RAM_BASE), ram + (BUF + 0x200 - RAM_BASE), 32) != 0,
	   "with different bytes each time");
	EQ(ram[BUF + 64 - RAM_BASE], 0u, "and not one byte more");
	EQ(msis, before + 1, "one MSI for the notify");
	OK(msi_address == 0x08090040u && msi_data == 0x21, "with vector 1's address and data");
	bar_w(VPCI_NOTIFY, 2, 0);
	EQ(msis, before + 1, "a second notify with nothing new: nothing");
	EQ(bar(VPCI_ISR, 1), 1u, "ISR: a queue interrupt");
	EQ(bar(VPCI_ISR, 1), 0u, "reading cleared it");

	/* Masked: held in the PBA, sent when unmasked. */
	bar_w(VPCI_MSIX_TABLE + 28, 4, 1);
	offer(2, 0);
	bar_w(VPCI_NOTIFY, 2, 0);
	EQ(msis, before + 1, "a masked vector sends nothing");
	EQ(bar(VPCI_MSIX_PBA, 4), 2u, "its pending bit is set");
	bar_w(VPCI_MSIX_TABLE + 28, 4, 0);
	EQ(msis, before + 2, "unmasking sends it");
	EQ(bar(VPCI_MSIX_PBA, 4), 0u, "and clears the bit");
	/* The driver asks for no interrupt. */
	put16(AVAIL, 1);
	offer(3, 0);
	bar_w(VPCI_NOTIFY, 2, 0);
	EQ(msis, before + 2, "VIRTQ_AVAIL_F_NO_INTERRUPT: served without an MSI");
	EQ(ram[USED + 2 - RAM_BASE], 4u, "but served");
	put16(AVAIL, 0);
	EQ(d.requests, 4u, "four requests counted");
}

static void reset_and_queue(void)
{
	bar_w(0x14, 1, 0);
	memset(ram, 0, sizeof(ram));
	bar_w(0x14, 1, 1 | 2);
	bar_w(0x08, 4, 1);
	bar_w(0x0c, 4, 1);
	bar_w(0x14, 1, 1 | 2 | VPCI_STATUS_FEATURES_OK);
	queue_up();
}

static void test_hostile(void)
{
	reset_and_queue();
	unsigned before = msis;
	desc(0, RAM_BASE + RAM_SIZE - 8, 64, 2, 0); /* runs past the guest's RAM */
	offer(0, 0);
	bar_w(VPCI_NOTIFY, 2, 0);
	EQ(bar(0x14, 1) & VPCI_STATUS_NEEDS_RESET, VPCI_STATUS_NEEDS_RESET,
	   "a buffer past the guest's RAM: DEVICE_NEEDS_RESET");
	EQ(msis, before, "and no MSI");
	desc(0, BUF, 64, 2, 0);
	bar_w(VPCI_NOTIFY, 2, 0);
	EQ(ram[USED + 2 - RAM_BASE], 0u, "it stays stopped until a reset");

	reset_and_queue();
	desc(0, BUF, 8, 2 | 1, 1);
	desc(1, BUF, 8, 2 | 1, 0); /* 0 -> 1 -> 0 -> ... */
	offer(0, 0);
	bar_w(VPCI_NOTIFY, 2, 0);
	EQ(bar(0x14, 1) & VPCI_STATUS_NEEDS_RESET, VPCI_STATUS_NEEDS_RESET,
	   "a descriptor loop: DEVICE_NEEDS_RESET (the walk is bounded)");

	reset_and_queue();
	desc(0, BUF, 8, 2, 0);
	put16(AVAIL + 4, 0);
	put16(AVAIL + 2, 200); /* 200 new entries in a queue of 16 */
	bar_w(VPCI_NOTIFY, 2, 0);
	EQ(bar(0x14, 1) & VPCI_STATUS_NEEDS_RESET, VPCI_STATUS_NEEDS_RESET,
	   "an avail index past the queue: DEVICE_NEEDS_RESET");
	EQ(ram[USED + 2 - RAM_BASE], 0u, "nothing was served");

	reset_and_queue();
	desc(0, BUF, 8, 2, 17); /* no NEXT flag: next is ignored */
	put16(AVAIL + 4, 40);   /* a head beyond the queue */
	put16(AVAIL + 2, 1);
	bar_w(VPCI_NOTIFY, 2, 0);
	EQ(bar(0x14, 1) & VPCI_STATUS_NEEDS_RESET, VPCI_STATUS_NEEDS_RESET,
	   "a head beyond the queue: DEVICE_NEEDS_RESET");
	uint64_t v = 0;
	OK(!vpci_mmio(&d, &ops, BAR + 0x14, 2, false, &v),
	   "device_status read 16 bits wide: refused");
	OK(!vpci_mmio(&d, &ops, BAR + 1, 2, false, &v), "a misaligned access: refused");
	OK(vpci_mmio(&d, &ops, BAR + VPCI_BAR_SIZE, 4, false, &v) && v == 0xffffffffu,
	   "past BAR0: all-ones, as a master abort");
	EQ(bad_accesses, 1u, "the only access outside RAM was the guest's own bad buffer");
	struct vpci broken = d;
	broken.queue.size = 12;
	OK(!vpci_state_valid(&broken), "a state with a queue size no power of two is not valid");
}

/** A block request header at ipa: type and sector. */
static void blk_header(uint64_t ipa, uint32_t type, uint64_t sector)
{
	uint8_t *p = ram + (ipa - RAM_BASE);
	memset(p, 0, 16);
	for (uint32_t k = 0; k < 4; k++)
		p[k] = (uint8_t)(type >> (8 * k));
	for (uint32_t k = 0; k < 8; k++)
		p[8 + k] = (uint8_t)(sector >> (8 * k));
}

/** Run one request made available in avail slot idx; its status byte at status. */
static uint8_t blk_run(uint16_t idx, uint64_t status)
{
	ram[status - RAM_BASE] = 0xee;
	offer(idx, 0);
	uint64_t v = 0;
	OK(vpci_mmio(&d, &blk_ops, BAR + VPCI_NOTIFY, 2, true, &v), "notify accepted");
	return ram[status - RAM_BASE];
}

static void test_blk(void)
{
	memset(disk_image, 0, sizeof(disk_image));
	vpci_init_blk(&d, DISK_SECTORS);
	EQ(cfg(0x00, 4), 0x10421af4u, "block device: vendor 0x1af4, device 0x1042");
	EQ(cfg(0x08, 4) >> 8, 0x018000u, "class: mass storage, other");
	cfg_w(0x10, 4, BAR);
	cfg_w(0x04, 2, 0x0006);
	uint32_t devcfg = 0, hops = 0;
	for (uint32_t at = (uint32_t)cfg(0x34, 1); at != 0 && hops < 16; hops++) {
		if (cfg(at, 1) == 0x09 && cfg(at + 3, 1) == 4)
			devcfg = (uint32_t)cfg(at + 8, 4);
		at = (uint32_t)cfg(at + 1, 1);
	}
	EQ(devcfg, VPCI_DEVCFG, "a device-configuration capability, after MSI-X");
	EQ(bar(VPCI_DEVCFG, 4), DISK_SECTORS, "capacity, low half");
	EQ(bar(VPCI_DEVCFG + 4, 4), 0u, "capacity, high half");
	EQ(bar(VPCI_DEVCFG + 1, 1), 0u, "a byte of it");
	uint64_t v = 0;
	OK(!vpci_mmio(&d, &blk_ops, BAR + VPCI_DEVCFG + 2, 4, false, &v),
	   "a misaligned read of the configuration: refused");
	bar_w(0x14, 1, 1 | 2);
	bar_w(0x08, 4, 1);
	bar_w(0x0c, 4, 1);
	bar_w(0x14, 1, 1 | 2 | VPCI_STATUS_FEATURES_OK);
	memset(ram, 0, sizeof(ram));
	queue_up();

	/* OUT: header | 1024 bytes in two buffers | status, sector 2. */
	uint64_t hdr = BUF, data = BUF + 0x100, st = BUF + 0x900;
	for (uint32_t i = 0; i < 1024; i++)
		ram[data - RAM_BASE + i] = (uint8_t)(i * 7u + 3u);
	blk_header(hdr, VPCI_BLK_OUT, 2);
	desc(0, hdr, 16, 1, 1);
	desc(1, data, 600, 1, 2);
	desc(2, data + 600, 424, 1, 3);
	desc(3, st, 1, 2, 0);
	EQ(blk_run(0, st), VPCI_BLK_OK, "write 2 sectors at sector 2: OK");
	OK(memcmp(disk_image + 2 * VPCI_SECTOR, ram + (data - RAM_BASE), 1024) == 0,
	   "the disk holds them, bytes split over two buffers");
	EQ(disk_image[2 * VPCI_SECTOR - 1], 0u, "and nothing before");
	EQ(disk_image[4 * VPCI_SECTOR], 0u, "or after");
	EQ(get32(USED + 8), 1u, "used length: the status byte");

	/* IN: header | 1024 writable bytes | status (in the same descriptor as the data). */
	uint64_t back = BUF + 0x1000;
	blk_header(hdr, VPCI_BLK_IN, 2);
	desc(0, hdr, 16, 1, 1);
	desc(1, back, 512, 2 | 1, 2);
	desc(2, back + 512, 513, 2, 0);
	EQ(blk_run(1, back + 1024), VPCI_BLK_OK, "read them back: OK");
	OK(memcmp(ram + (back - RAM_BASE), disk_image + 2 * VPCI_SECTOR, 1024) == 0,
	   "the same bytes");
	EQ(get32(USED + 16), 1025u, "used length: data and status");

	/* Past the end: IOERR, the disk untouched. */
	uint8_t last[VPCI_SECTOR];
	memcpy(last, disk_image + 7 * VPCI_SECTOR, sizeof(last));
	blk_header(hdr, VPCI_BLK_OUT, 7);
	desc(0, hdr, 16, 1, 1);
	desc(1, data, 1024, 1, 2);
	desc(2, st, 1, 2, 0);
	EQ(blk_run(2, st), VPCI_BLK_IOERR, "a write past the last sector: IOERR");
	OK(memcmp(last, disk_image + 7 * VPCI_SECTOR, sizeof(last)) == 0, "nothing written");
	blk_header(hdr, VPCI_BLK_IN, UINT64_C(0xffffffffffffffff));
	desc(1, back, 512, 2 | 1, 2);
	EQ(blk_run(3, st), VPCI_BLK_IOERR, "a read at sector 2^64-1: IOERR (no overflow)");
	EQ(disk_outside, 0u, "the model never asked for the disk outside its capacity");

	blk_header(hdr, 99, 0);
	EQ(blk_run(4, st), VPCI_BLK_UNSUPP, "an unknown type: UNSUPP");
	blk_header(hdr, VPCI_BLK_FLUSH, 0);
	desc(1, st, 1, 2, 0);
	EQ(blk_run(5, st), VPCI_BLK_OK, "FLUSH: OK");
	blk_header(hdr, VPCI_BLK_GET_ID, 0);
	desc(1, back, 20, 2 | 1, 2);
	desc(2, st, 1, 2, 0);
	EQ(blk_run(6, st), VPCI_BLK_OK, "GET_ID: OK");
	OK(memcmp(ram + (back - RAM_BASE), "sephyp-vpci-disk", 16) == 0, "its serial");
	desc(0, BUF, 8, 1, 0); /* 8 readable bytes, nowhere to write the status */
	OK(blk_run(7, st) == 0xee, "a chain with no status byte: nothing written");
	EQ(bar(0x14, 1) & VPCI_STATUS_NEEDS_RESET, VPCI_STATUS_NEEDS_RESET,
	   "and DEVICE_NEEDS_RESET");
	bar_w(0x14, 1, 0);
	EQ(d.kind, VPCI_KIND_BLK, "a reset keeps the device a block device");
	EQ(d.capacity, DISK_SECTORS, "with its capacity");
	OK(vpci_state_valid(&d), "the state is well formed");
}

/** A block device at BAR, VERSION_1 negotiated, its queue up (queue_up), RAM and disk zeroed. */
static void blk_up(void)
{
	memset(disk_image, 0, sizeof(disk_image));
	vpci_init_blk(&d, DISK_SECTORS);
	cfg_w(0x10, 4, BAR);
	cfg_w(0x04, 2, 0x0006);
	cfg_w(0x74 + 2, 2, 0x8000); /* MSI-X enabled (its capability: test_config walks to it) */
	bar_w(0x14, 1, 1 | 2);
	bar_w(0x08, 4, 1);
	bar_w(0x0c, 4, 1);
	bar_w(0x14, 1, 1 | 2 | VPCI_STATUS_FEATURES_OK);
	memset(ram, 0, sizeof(ram));
	queue_up();
}

/**
 * The driver's interrupt handler runs with NO_INTERRUPT set; a request made available then
 * (from another CPU) is served while the handler, done, clears the flag and finds the old
 * used index (enable_at_publish). The device must read the flags after it publishes the
 * index: the MSI is the only thing that tells the driver about the request.
 */
static void test_interrupt_race(void)
{
	blk_up();
	uint64_t hdr = BUF, st = BUF + 0x100;
	blk_header(hdr, VPCI_BLK_FLUSH, 0);
	desc(0, hdr, 16, 1, 1);
	desc(1, st, 1, 2, 0);
	unsigned before = msis;
	put16(AVAIL, 1); /* VIRTQ_AVAIL_F_NO_INTERRUPT while the handler runs */
	enable_at_publish = true;
	EQ(blk_run(0, st), VPCI_BLK_OK, "a request made available inside the interrupt handler");
	enable_at_publish = false;
	EQ(msis, before + 1,
	   "NO_INTERRUPT cleared before the used index came out: the MSI is sent (no lost interrupt)");
	EQ(used_at_msi, 1u, "after the used index");
	put16(AVAIL, 1);
	EQ(blk_run(1, st), VPCI_BLK_OK, "another, NO_INTERRUPT set all along");
	EQ(msis, before + 1, "no MSI: the driver still polls the used ring");
	put16(AVAIL, 0);
}

#define CRASH_REQUESTS 3u
#define CRASH_DATA (BUF + 0x100)
#define CRASH_BACK (BUF + 0x1000)
#define CRASH_STATUS (BUF + 0x900)

static struct vpci crash_dev;
static uint8_t crash_ram[RAM_SIZE];

/** crash_setup's starting point again, as crash_prepare made it (no checks printed). */
static void crash_setup(void)
{
	d = crash_dev;
	memcpy(ram, crash_ram, sizeof(ram));
	memset(disk_image, 0, sizeof(disk_image));
	msis = 0;
	used_at_msi = 0;
}

/**
 * Three requests made available at once: write sectors 1-2 (1024 bytes), read them back,
 * flush; status bytes 0xee until served. Kept for crash_setup.
 */
static void crash_prepare(void)
{
	blk_up();
	for (uint32_t i = 0; i < 1024; i++)
		ram[CRASH_DATA - RAM_BASE + i] = (uint8_t)(i * 13u + 5u);
	blk_header(BUF, VPCI_BLK_OUT, 1);
	blk_header(BUF + 0x20, VPCI_BLK_IN, 1);
	blk_header(BUF + 0x40, VPCI_BLK_FLUSH, 0);
	desc(0, BUF, 16, 1, 1);
	desc(1, CRASH_DATA, 1024, 1, 2);
	desc(2, CRASH_STATUS, 1, 2, 0);
	desc(3, BUF + 0x20, 16, 1, 4);
	desc(4, CRASH_BACK, 1024, 2 | 1, 5);
	desc(5, CRASH_STATUS + 1, 1, 2, 0);
	desc(6, BUF + 0x40, 16, 1, 7);
	desc(7, CRASH_STATUS + 2, 1, 2, 0);
	for (uint16_t i = 0; i < CRASH_REQUESTS; i++) {
		ram[CRASH_STATUS + i - RAM_BASE] = 0xee;
		offer(i, (uint16_t)(3u * i));
	}
	crash_dev = d;
	memcpy(crash_ram, ram, sizeof(ram));
	crash_setup();
}

/** The guest's notify, the model stopped at ops call number `at` (-1: never). */
static bool notify_crashing(long at)
{
	crash_at = at;
	op_calls = 0;
	bool crashed = true;
	if (setjmp(crash_jump) == 0) {
		uint64_t v = 0;
		(void)vpci_mmio(&d, &blk_ops, BAR + VPCI_NOTIFY, 2, true, &v);
		crashed = false;
	}
	crash_at = -1;
	return crashed;
}

/** Every request served once, right, published, and an MSI after the last used index. */
static bool crash_outcome_ok(void)
{
	bool ok = ram[USED + 2 - RAM_BASE] == CRASH_REQUESTS && ram[USED + 3 - RAM_BASE] == 0 &&
	          d.requests == CRASH_REQUESTS && d.queue.due == 0 &&
	          !(d.status & VPCI_STATUS_NEEDS_RESET) && msis != 0 &&
	          used_at_msi == CRASH_REQUESTS;
	for (uint16_t i = 0; i < CRASH_REQUESTS; i++)
		ok = ok && ram[CRASH_STATUS + i - RAM_BASE] == VPCI_BLK_OK &&
		     get32(USED + 4 + 8u * i) == 3u * i;
	return ok && memcmp(disk_image + VPCI_SECTOR, ram + (CRASH_DATA - RAM_BASE), 1024) == 0 &&
	       memcmp(ram + (CRASH_BACK - RAM_BASE), ram + (CRASH_DATA - RAM_BASE), 1024) == 0;
}

/**
 * The kill test on the host: the model stopped before each of its steps in turn while it
 * serves a notify (its struct vpci kept, as the preserved region keeps it), then the notify
 * replayed, as the kernel requeues it for the successor; and stopped again at each step of
 * that replay, then replayed once more. Nothing may be lost: no request, no used index, no
 * MSI after the last one.
 */
static void test_crash_anywhere(void)
{
	crash_prepare();
	bad_accesses = disk_outside = 0;
	OK(!notify_crashing(-1), "the three requests, no crash");
	long steps = (long)op_calls;
	OK(crash_outcome_ok(), "served, published and signalled");
	OK(steps > 20, "the model's steps counted");
	unsigned bad_once = 0, bad_twice = 0, crashes = 0;
	for (long k = 0; k < steps; k++) {
		for (long j = -1; j < steps; j++) {
			crash_setup();
			crashes += notify_crashing(k);
			bool again = notify_crashing(j);
			if (again)
				(void)notify_crashing(-1);
			if (!crash_outcome_ok()) {
				if (j < 0)
					bad_once++;
				else
					bad_twice++;
			}
		}
	}
	EQ(crashes, (unsigned long)steps * (unsigned long)(steps + 1),
	   "the model was stopped at each step");
	EQ(bad_once, 0u, "stopped at any step and the notify replayed: nothing lost");
	EQ(bad_twice, 0u, "stopped again at any step of the replay, replayed again: nothing lost");
	EQ(bad_accesses + disk_outside, 0u, "no access outside the guest's RAM or the disk");

	/* A vector held while masked: the model dies sending it on the unmasking write. */
	crash_setup();
	bar_w(VPCI_MSIX_TABLE + 28, 4, 1);
	OK(!notify_crashing(-1), "the requests served with vector 1 masked");
	EQ(msis, 0u, "no MSI while masked");
	EQ(bar(VPCI_MSIX_PBA, 4), 2u, "its pending bit");
	crash_at = 0;
	op_calls = 0;
	uint64_t v = 0;
	bool died = true;
	if (setjmp(crash_jump) == 0) {
		(void)vpci_mmio(&d, &blk_ops, BAR + VPCI_MSIX_TABLE + 28, 4, true, &v);
		died = false;
	}
	crash_at = -1;
	OK(died && msis == 0, "unmasked: the model dies before the MSI is out");
	bar_w(VPCI_MSIX_TABLE + 28, 4, 0); /* the same write again, to the successor */
	OK(msis == 1u && used_at_msi == CRASH_REQUESTS, "its successor sends it");
	EQ(bar(VPCI_MSIX_PBA, 4), 0u, "and clears the pending bit");
}

int main(void)
{
	test_config();
	test_negotiation();
	test_serve();
	test_hostile();
	test_blk();
	test_interrupt_race();
	test_crash_anywhere();
	return tap_finish();
}
