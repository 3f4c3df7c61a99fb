/**
 * libFuzzer target for the virtio-pci device model (services/vpci/vpci.c). A 64 KiB guest
 * memory holds the virtqueue and its buffers, filled from the input; then the input drives a
 * random sequence of configuration-space accesses (any offset, width and value), BAR0
 * accesses (the real registers mostly, any offset sometimes), notifies, and the guest
 * rewriting its rings. Usually it first sets the device up the way Linux does, so that the
 * queue really runs.
 * Half the inputs make it the block device over a 16-sector disk, half the entropy source.
 * Checked after every step (abort on failure):
 *  - vpci_state_valid() holds;
 *  - the device reads and writes guest memory only through the accessors (which refuse
 *    anything outside the 64 KiB; ASan catches any other access), and writes only where
 *    the guest made a buffer device-writable or the used ring is;
 *  - an MSI is sent only while MSI-X is enabled, with an address and data the guest wrote;
 *  - once DEVICE_NEEDS_RESET is set, nothing is served until a reset;
 *  - the block device asks for the disk only inside its capacity.
 */
#include <stdlib.h>
#include <string.h>

#include "vpci.h"

#define RAM_BASE UINT64_C(0x40000000)
#define RAM_SIZE 0x10000u
#define BAR UINT64_C(0x10000000)

static uint8_t ram[RAM_SIZE];
static struct vpci d;
static unsigned served_writes;

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
	if (d.status & VPCI_STATUS_NEEDS_RESET)
		abort(); /* a stopped device served something */
	served_writes++;
	memcpy(ram + (ipa - RAM_BASE), buf, len);
	return true;
}

static void g_msi(void *ctx, uint64_t address, uint32_t data)
{
	(void)ctx;
	(void)data;
	if (!(d.msix_ctl & 0x8000u))
		abort(); /* MSI-X off */
	bool known = false;
	for (unsigned i = 0; i < VPCI_MSIX_VECTORS; i++)
		known |= d.msix[i].address == address && d.msix[i].data == data;
	if (!known)
		abort();
}

#define DISK_SECTORS 16u
static uint8_t disk[DISK_SECTORS * VPCI_SECTOR];

static bool g_disk(void *ctx, uint64_t offset, void *buf, uint32_t len, bool write)
{
	(void)ctx;
	if (d.kind != VPCI_KIND_BLK || offset > sizeof(disk) || len > sizeof(disk) - offset)
		abort();
	if (write)
		memcpy(disk + offset, buf, len);
	else
		memcpy(buf, disk + offset, len);
	return true;
}

static const struct vpci_ops ops = { NULL, g_read, g_write, g_msi, g_disk };

static void bar_w(uint32_t off, uint32_t size, uint64_t v)
{
	(void)vpci_mmio(&d, &ops, BAR + off, size, true, &v);
}

static void cfg_w(uint32_t off, uint32_t size, uint64_t v)
{
	(void)vpci_config(&d, &ops, off, size, true, &v);
}

/** What virtio_pci_modern does: BAR0, memory on, MSI-X on, features, queue 0, DRIVER_OK. */
static void linux_setup(struct input *in)
{
	cfg_w(0x10, 4, BAR);
	cfg_w(0x04, 2, 0x6);
	cfg_w(0x76, 2, 0x8000);
	bar_w(0x14, 1, 3);
	bar_w(0x08, 4, 1);
	bar_w(0x0c, 4, 1);
	bar_w(0x14, 1, 3 | VPCI_STATUS_FEATURES_OK);
	bar_w(0x18, 2, 1u << (take(in, 1) % 7u));
	bar_w(0x20, 4, (uint32_t)(RAM_BASE + (take(in, 2) & 0xfff0u)));
	bar_w(0x28, 4, (uint32_t)(RAM_BASE + (take(in, 2) & 0xfffeu)));
	bar_w(0x30, 4, (uint32_t)(RAM_BASE + (take(in, 2) & 0xfffcu)));
	bar_w(0x1a, 2, take(in, 1) & 1u);
	bar_w(VPCI_MSIX_TABLE + 16u * (take(in, 1) & 1u) + 12u, 4, 0);
	bar_w(0x1c, 2, 1);
	bar_w(0x14, 1, 3 | VPCI_STATUS_FEATURES_OK | VPCI_STATUS_DRIVER_OK);
}

static uint32_t pick_size(struct input *in)
{
	static const uint32_t sizes[] = { 1, 2, 4, 8, 3 };
	return sizes[take(in, 1) % 5u];
}

static void check(void)
{
	if (!vpci_state_valid(&d))
		abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct input in = { data, size };
	uint64_t seed = take(&in, 8);
	if (take(&in, 1) & 1u)
		vpci_init_blk(&d, DISK_SECTORS);
	else
		vpci_init(&d, seed);
	memset(ram, 0, sizeof(ram));
	for (uint32_t i = 0; i < RAM_SIZE && in.size != 0 && i < (uint32_t)take(&in, 2); i++)
		ram[i] = (uint8_t)take(&in, 1);
	if (take(&in, 1) & 1u)
		linux_setup(&in);
	check();
	while (in.size != 0) {
		uint64_t v = take(&in, 8);
		uint32_t kind = (uint32_t)take(&in, 1) % 6u, sz = pick_size(&in);
		bool write = take(&in, 1) & 1u;
		uint32_t before = served_writes;
		bool stopped = d.status & VPCI_STATUS_NEEDS_RESET;
		switch (kind) {
		case 0:
			(void)vpci_config(&d, &ops, take(&in, 3) % (VPCI_ECAM_SIZE + 8u), sz, write,
			                  &v);
			break;
		case 1:
			(void)vpci_mmio(&d, &ops, BAR + (take(&in, 1) & 0x3fu), sz, write, &v);
			break;
		case 2:
			(void)vpci_mmio(&d, &ops, BAR + take(&in, 2), sz, write, &v);
			break;
		case 3:
			bar_w(VPCI_NOTIFY, 2, take(&in, 1) & 1u);
			break;
		case 4:
			ram[take(&in, 2) % RAM_SIZE] = (uint8_t)v;
			break;
		default:
			(void)vpci_mmio(&d, &ops, BAR + VPCI_MSIX_TABLE + (take(&in, 1) & 0x1cu), 4,
			                write, &v);
			break;
		}
		if (stopped && d.status & VPCI_STATUS_NEEDS_RESET && served_writes != before)
			abort();
		check();
	}
	return 0;
}
