/**
 * A PCI device for one guest, as plain C: a virtio entropy source (virtio 1.x "modern" PCI
 * transport, device ID 0x1044) or a virtio block device (0x1042) over a disk image, at
 * 00:00.0 behind a generic ECAM host bridge, with MSI-X. No hardware access: the guest's
 * memory (the virtqueue and its buffers), the disk and the MSIs are reached only through
 * struct vpci_ops, which the device-model partition (main.c) or a host test supplies.
 *
 * The guest sees (docs/device-models.md, "The virtio-pci device model"):
 *
 *   ECAM window, bus 0: device 0 function 0 is this device; every other function reads
 *   all-ones. Its header: vendor 0x1af4, device 0x1044 (class 0xff0000) or 0x1042 (class
 *   0x018000), revision 1, subsystem 0x1af4:0x0040, one 32-bit memory BAR (BAR0,
 *   VPCI_BAR_SIZE), no INTx pin, and four capabilities: virtio common, notify and ISR
 *   configuration (in BAR0), and MSI-X; the block device a fifth, its device configuration
 *   (the capacity in 512-byte sectors) at VPCI_DEVCFG.
 *
 *   BAR0: common configuration at VPCI_COMMON, the notify register at VPCI_NOTIFY (every
 *   queue's: notify_off 0, multiplier 0), ISR status at VPCI_ISR, the MSI-X table (two
 *   entries) at VPCI_MSIX_TABLE and its pending bits at VPCI_MSIX_PBA.
 *
 * One request queue (queue 0, at most VPCI_QUEUE_MAX entries, split layout, no indirect
 * descriptors, no event index). The entropy source fills every device-writable buffer the
 * guest posts with pseudo-random bytes. The block device serves virtio 1.1 5.2.6 requests (a
 * 16-byte header: type, reserved, sector; the data; a status byte, the chain's last
 * device-writable byte): IN reads the disk, OUT writes it, FLUSH and GET_ID succeed, a
 * request past the disk's end gets IOERR and any other type UNSUPP; no feature beyond
 * VERSION_1 is offered. Then the used index is published and the queue's MSI-X vector sent,
 * unless the driver's avail flags, read after the index is out, ask for no interrupt. A malformed ring
 * (a descriptor outside guest RAM, a chain longer than the queue) sets DEVICE_NEEDS_RESET and
 * stops the device until the guest resets it; it never reaches anything but the guest.
 */
#ifndef VPCI_VPCI_H
#define VPCI_VPCI_H

#include <stdbool.h>
#include <stdint.h>

#define VPCI_VENDOR 0x1af4u
#define VPCI_DEVICE 0x1044u     /* 0x1040 + virtio device type 4 (entropy source) */
#define VPCI_DEVICE_BLK 0x1042u /* 0x1040 + virtio device type 2 (block device) */
#define VPCI_SUBSYSTEM 0x0040u

#define VPCI_ECAM_SIZE 0x100000u /* bus 0: 32 devices x 8 functions x 4 KiB */
#define VPCI_BAR_SIZE 0x4000u
#define VPCI_COMMON 0x0000u
#define VPCI_COMMON_SIZE 0x38u
#define VPCI_NOTIFY 0x1000u
#define VPCI_ISR 0x2000u
#define VPCI_DEVCFG 0x2800u
#define VPCI_DEVCFG_SIZE 0x20u
#define VPCI_MSIX_TABLE 0x3000u
#define VPCI_MSIX_PBA 0x3800u
#define VPCI_MSIX_VECTORS 2u
#define VPCI_QUEUE_MAX 64u
#define VPCI_NO_VECTOR 0xffffu
#define VPCI_SECTOR 512u

/* What the device at 00:00.0 is. */
#define VPCI_KIND_RNG 0u
#define VPCI_KIND_BLK 1u

/* Block request types and status (virtio 1.1 5.2.6). */
#define VPCI_BLK_IN 0u
#define VPCI_BLK_OUT 1u
#define VPCI_BLK_FLUSH 4u
#define VPCI_BLK_GET_ID 8u
#define VPCI_BLK_OK 0u
#define VPCI_BLK_IOERR 1u
#define VPCI_BLK_UNSUPP 2u

/* device_status bits (virtio 1.1, 2.1). */
#define VPCI_STATUS_DRIVER_OK 4u
#define VPCI_STATUS_FEATURES_OK 8u
#define VPCI_STATUS_NEEDS_RESET 0x40u

/** How the model reaches its guest: memory by IPA, and MSIs (an address and data pair). */
struct vpci_ops {
	void *ctx;
	/** Copy guest memory [ipa, ipa + len); false (nothing copied) if any of it is not RAM. */
	bool (*read)(void *ctx, uint64_t ipa, void *buf, uint32_t len);
	bool (*write)(void *ctx, uint64_t ipa, const void *buf, uint32_t len);
	/** A message-signalled interrupt: the guest's MSI-X entry's address and data. */
	void (*msi)(void *ctx, uint64_t address, uint32_t data);
	/**
	 * The block device's disk: len bytes at byte offset, which the model has checked lie
	 * inside its capacity. false: an I/O error (the request gets IOERR). NULL: no disk.
	 */
	bool (*disk)(void *ctx, uint64_t offset, void *buf, uint32_t len, bool write);
};

struct vpci_msix_entry {
	uint64_t address;
	uint32_t data, control; /**< control bit 0: masked */
};

/**
 * Served requests complete in order, so the used ring's next slot is always last_avail's: the
 * one store `last_avail++` commits a served chain. A model that dies before it serves the
 * chain again, to the same disk sectors, guest buffers and used slot; after it, never again.
 */
struct vpci_queue {
	uint16_t size, vector, enabled;
	uint16_t last_avail; /**< the next avail ring slot the device takes (and used slot) */
	uint16_t used_idx;   /**< the used ring's index as the device last published it */
	uint16_t due;        /**< served chains not yet published and signalled */
	uint64_t desc, driver, device;
};

#define VPCI_MAGIC 0x49435056u /* "VPCI" */

/** The whole device: all a restarted device model has to keep (plain data). */
struct vpci {
	uint32_t magic;
	uint32_t kind;     /**< VPCI_KIND_* */
	uint64_t capacity; /**< the block device's, in VPCI_SECTOR sectors */
	/* PCI configuration space */
	uint16_t command;
	uint8_t interrupt_line;
	uint32_t bar0;     /**< as the guest programmed it (the size bits read back as zero) */
	uint16_t msix_ctl; /**< MSI-X Message Control: bit 15 enable, bit 14 function mask */
	uint32_t msix_pba; /**< pending bits of masked vectors */
	struct vpci_msix_entry msix[VPCI_MSIX_VECTORS];
	/* virtio common configuration */
	uint32_t device_feature_select, driver_feature_select;
	uint64_t driver_features;
	uint8_t status, isr, generation;
	uint16_t msix_config, queue_select;
	struct vpci_queue queue;
	/* the entropy source and counters */
	uint64_t rng;
	uint64_t requests, bytes, msis, errors;
};

/** Reset state (power on) of the entropy source; seed seeds the pseudo-random bytes. */
void vpci_init(struct vpci *d, uint64_t seed);

/** Reset state of the block device over a disk of `sectors` 512-byte sectors. */
void vpci_init_blk(struct vpci *d, uint64_t sectors);

/** Whether d, found in memory after a restart, is a well-formed struct vpci. */
bool vpci_state_valid(const struct vpci *d);

/**
 * An access to the ECAM window at offset (bus 0 only): reads fill *value. false: refused
 * (a width or alignment config space does not have). Unmasking MSI-X here sends what waited.
 */
bool vpci_config(struct vpci *d, const struct vpci_ops *ops, uint64_t offset, uint32_t size,
                 bool write, uint64_t *value);

/**
 * An access to guest-physical address ipa in the host bridge's memory window: BAR0 when the
 * guest enabled memory decoding and placed it there, all-ones reads and ignored writes
 * elsewhere (as a PCI master abort). false: refused (a width or alignment BAR0's registers
 * do not have). A notify write runs the queue.
 */
bool vpci_mmio(struct vpci *d, const struct vpci_ops *ops, uint64_t ipa, uint32_t size, bool write,
               uint64_t *value);

#endif /* VPCI_VPCI_H */
