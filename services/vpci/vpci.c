/** The virtio-pci entropy source and block device (vpci.h). */
#include "vpci.h"

#include <stddef.h>

/* Configuration space layout (PCI 3.0 6.1; virtio 1.1 4.1.4). */
#define CFG_ID 0x00u
#define CFG_COMMAND 0x04u
#define CFG_CLASS 0x08u
#define CFG_BAR0 0x10u
#define CFG_SUBSYSTEM 0x2cu
#define CFG_CAP_PTR 0x34u
#define CFG_INTERRUPT 0x3cu
#define CAP_COMMON 0x40u
#define CAP_NOTIFY 0x50u
#define CAP_ISR 0x64u
#define CAP_MSIX 0x74u
#define CAP_DEVICE 0x80u

#define STATUS_CAP_LIST 0x10u
#define COMMAND_WRITABLE 0x0406u /* memory space, bus master, INTx disable */
#define COMMAND_MEMORY 0x0002u
#define MSIX_ENABLE 0x8000u
#define MSIX_MASK_ALL 0x4000u
#define CAP_VENDOR 0x09u
#define CAP_ID_MSIX 0x11u
#define FEATURE_VERSION_1 (UINT64_C(1) << 32)

/* Split virtqueue (virtio 1.1 2.6). */
#define DESC_NEXT 1u
#define DESC_WRITE 2u
#define AVAIL_NO_INTERRUPT 1u
/** The most bytes one buffer gets (a larger one is returned partly filled). */
#define FILL_MAX 4096u
#define BLK_HEADER 16u
#define BLK_ID_SIZE 20u

/** One descriptor of a chain. */
struct seg {
	uint64_t addr;
	uint32_t len;
	bool write; /**< device-writable */
};

void vpci_init(struct vpci *d, uint64_t seed)
{
	*d = (struct vpci){ .magic = VPCI_MAGIC,
		            .msix_config = VPCI_NO_VECTOR,
		            .queue = { .size = VPCI_QUEUE_MAX, .vector = VPCI_NO_VECTOR },
		            .rng = seed | 1u };
	for (uint32_t i = 0; i < VPCI_MSIX_VECTORS; i++)
		d->msix[i].control = 1u; /* masked at reset (PCI 3.0 6.8.2.9) */
}

void vpci_init_blk(struct vpci *d, uint64_t sectors)
{
	vpci_init(d, 1u);
	d->kind = VPCI_KIND_BLK;
	d->capacity = sectors;
}

bool vpci_state_valid(const struct vpci *d)
{
	const struct vpci_queue *q = &d->queue;
	return d->magic == VPCI_MAGIC && d->kind <= VPCI_KIND_BLK &&
	       (d->command & ~COMMAND_WRITABLE) == 0 && (d->bar0 & (VPCI_BAR_SIZE - 1u)) == 0 &&
	       (d->msix_ctl & ~(MSIX_ENABLE | MSIX_MASK_ALL)) == 0 && q->size != 0 &&
	       q->size <= VPCI_QUEUE_MAX && (q->size & (q->size - 1u)) == 0 && q->enabled <= 1u &&
	       q->due <= 1u && d->queue_select <= 1u;
}

/* ---- configuration space ------------------------------------------------------------ */

static uint32_t cfg_read32(const struct vpci *d, uint32_t reg)
{
	switch (reg) {
	case CFG_ID:
		return (d->kind == VPCI_KIND_BLK ? VPCI_DEVICE_BLK : VPCI_DEVICE) << 16 |
		       VPCI_VENDOR;
	case CFG_COMMAND:
		return (uint32_t)STATUS_CAP_LIST << 16 | d->command;
	case CFG_CLASS:
		/* class: other (as QEMU's virtio-rng), or mass storage, other; revision 1: modern */
		return (d->kind == VPCI_KIND_BLK ? 0x01800000u : 0xff000000u) | 1u;
	case CFG_BAR0:
		return d->bar0; /* 32-bit, non-prefetchable memory */
	case CFG_SUBSYSTEM:
		return VPCI_SUBSYSTEM << 16 | VPCI_VENDOR;
	case CFG_CAP_PTR:
		return CAP_COMMON;
	case CFG_INTERRUPT:
		return d->interrupt_line; /* pin 0: no INTx */
	/* virtio_pci_cap: vndr, next, len, cfg_type | bar, id, pad | offset | length */
	case CAP_COMMON:
		return 1u << 24 | 16u << 16 | CAP_NOTIFY << 8 | CAP_VENDOR;
	case CAP_COMMON + 8u:
		return VPCI_COMMON;
	case CAP_COMMON + 12u:
		return VPCI_COMMON_SIZE;
	case CAP_NOTIFY:
		return 2u << 24 | 20u << 16 | CAP_ISR << 8 | CAP_VENDOR;
	case CAP_NOTIFY + 8u:
		return VPCI_NOTIFY;
	case CAP_NOTIFY + 12u:
		return 2u; /* one 16-bit register */
	case CAP_ISR:
		return 3u << 24 | 16u << 16 | CAP_MSIX << 8 | CAP_VENDOR;
	case CAP_ISR + 8u:
		return VPCI_ISR;
	case CAP_ISR + 12u:
		return 1u;
	case CAP_MSIX:
		return (uint32_t)(d->msix_ctl | (VPCI_MSIX_VECTORS - 1u)) << 16 |
		       (d->kind == VPCI_KIND_BLK ? CAP_DEVICE : 0u) << 8 | CAP_ID_MSIX;
	case CAP_MSIX + 4u:
		return VPCI_MSIX_TABLE; /* BIR 0 */
	case CAP_MSIX + 8u:
		return VPCI_MSIX_PBA;
	case CAP_DEVICE:
		return d->kind == VPCI_KIND_BLK ? 4u << 24 | 16u << 16 | CAP_VENDOR : 0u;
	case CAP_DEVICE + 8u:
		return d->kind == VPCI_KIND_BLK ? VPCI_DEVCFG : 0u;
	case CAP_DEVICE + 12u:
		return d->kind == VPCI_KIND_BLK ? VPCI_DEVCFG_SIZE : 0u;
	default:
		return 0; /* the notify multiplier, BARs 1-5, reserved */
	}
}

static void msix_pending_flush(struct vpci *d, const struct vpci_ops *ops);

static void cfg_write32(struct vpci *d, const struct vpci_ops *ops, uint32_t reg, uint32_t v,
                        uint32_t lanes)
{
	uint32_t old = cfg_read32(d, reg), n = (old & ~lanes) | (v & lanes);
	if (reg == CFG_COMMAND)
		d->command = (uint16_t)(n & COMMAND_WRITABLE);
	else if (reg == CFG_BAR0)
		d->bar0 = n & ~(VPCI_BAR_SIZE - 1u); /* sizing: all-ones reads back the size */
	else if (reg == CFG_INTERRUPT)
		d->interrupt_line = (uint8_t)n;
	else if (reg == CAP_MSIX) {
		d->msix_ctl = (uint16_t)((n >> 16) & (MSIX_ENABLE | MSIX_MASK_ALL));
		msix_pending_flush(d, ops);
	}
}

bool vpci_config(struct vpci *d, const struct vpci_ops *ops, uint64_t offset, uint32_t size,
                 bool write, uint64_t *value)
{
	if (offset >= VPCI_ECAM_SIZE || (size != 1u && size != 2u && size != 4u) ||
	    (offset & (size - 1u)) != 0)
		return false;
	bool ours = (offset >> 12) == 0; /* device 0, function 0 */
	uint32_t reg = (uint32_t)offset & 0xffcu, shift = 8u * ((uint32_t)offset & 3u);
	uint32_t lanes = (size == 4u ? 0xffffffffu : ((1u << (8u * size)) - 1u)) << shift;
	if (write) {
		if (ours)
			cfg_write32(d, ops, reg, (uint32_t)*value << shift, lanes);
		return true;
	}
	uint32_t v = ours ? cfg_read32(d, reg) : 0xffffffffu;
	*value = (v & lanes) >> shift;
	return true;
}

/* ---- MSI-X --------------------------------------------------------------------------- */

static void msix_send(struct vpci *d, const struct vpci_ops *ops, uint16_t vector)
{
	if (vector >= VPCI_MSIX_VECTORS || !(d->msix_ctl & MSIX_ENABLE))
		return;
	if ((d->msix_ctl & MSIX_MASK_ALL) || (d->msix[vector].control & 1u)) {
		d->msix_pba |= 1u << vector; /* sent when unmasked */
		return;
	}
	d->msis++;
	ops->msi(ops->ctx, d->msix[vector].address, d->msix[vector].data);
}

static void msix_pending_flush(struct vpci *d, const struct vpci_ops *ops)
{
	for (uint16_t i = 0; i < VPCI_MSIX_VECTORS; i++) {
		if (!(d->msix_pba & (1u << i)) || !(d->msix_ctl & MSIX_ENABLE) ||
		    (d->msix_ctl & MSIX_MASK_ALL) || (d->msix[i].control & 1u))
			continue;
		/* Sent, then cleared: a model that dies in between sends it again when the
		 * unmasking access comes again to its successor (a spurious MSI at worst). */
		msix_send(d, ops, i);
		d->msix_pba &= ~(1u << i);
	}
}

/** An MSI-X table access (offset inside the table), 32-bit only. */
static bool msix_table(struct vpci *d, const struct vpci_ops *ops, uint32_t off, bool write,
                       uint64_t *value)
{
	struct vpci_msix_entry *e = &d->msix[off / 16u];
	uint32_t word = (off % 16u) / 4u;
	if (!write) {
		*value = word == 0 ? (uint32_t)e->address :
		         word == 1 ? (uint32_t)(e->address >> 32) :
		         word == 2 ? e->data :
		                     e->control;
		return true;
	}
	uint32_t v = (uint32_t)*value;
	if (word == 0)
		e->address = (e->address & ~UINT64_C(0xffffffff)) | (v & ~3u);
	else if (word == 1)
		e->address = (e->address & 0xffffffffu) | (uint64_t)v << 32;
	else if (word == 2)
		e->data = v;
	else {
		e->control = v & 1u;
		msix_pending_flush(d, ops);
	}
	return true;
}

/* ---- the request queue ---------------------------------------------------------------- */

static uint64_t rng_next(struct vpci *d)
{
	/* xorshift64*: pseudo-random, not a secret (a device model has no entropy of its own) */
	uint64_t x = d->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	d->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

static bool rd16(const struct vpci_ops *ops, uint64_t ipa, uint16_t *v)
{
	uint8_t b[2];
	if (!ops->read(ops->ctx, ipa, b, 2u))
		return false;
	*v = (uint16_t)(b[0] | b[1] << 8);
	return true;
}

static bool wr_le(const struct vpci_ops *ops, uint64_t ipa, uint64_t v, uint32_t len)
{
	uint8_t b[8];
	for (uint32_t i = 0; i < len; i++)
		b[i] = (uint8_t)(v >> (8u * i));
	return ops->write(ops->ctx, ipa, b, len);
}

/** Fill len bytes of a device-writable buffer at ipa with pseudo-random bytes. */
static bool fill(struct vpci *d, const struct vpci_ops *ops, uint64_t ipa, uint32_t len)
{
	uint8_t b[64];
	while (len != 0) {
		uint32_t n = len < sizeof(b) ? len : (uint32_t)sizeof(b);
		uint64_t r = 0;
		for (uint32_t i = 0; i < sizeof(b); i++) {
			if (i % 8u == 0)
				r = rng_next(d);
			b[i] = (uint8_t)(r >> (8u * (i % 8u)));
		}
		if (!ops->write(ops->ctx, ipa, b, n))
			return false;
		ipa += n;
		len -= n;
	}
	return true;
}

/** The chain from head, in order, into segs (at most the queue's size); false: malformed. */
static bool chain(const struct vpci *d, const struct vpci_ops *ops, uint16_t head, struct seg *segs,
                  uint32_t *count)
{
	const struct vpci_queue *q = &d->queue;
	uint16_t i = head;
	for (uint32_t n = 0; n < q->size; n++) {
		uint8_t b[16];
		if (i >= q->size || !ops->read(ops->ctx, q->desc + 16u * i, b, sizeof(b)))
			return false;
		uint64_t addr = 0;
		for (uint32_t k = 0; k < 8u; k++)
			addr |= (uint64_t)b[k] << (8u * k);
		uint16_t flags = (uint16_t)(b[12] | b[13] << 8);
		segs[n] = (struct seg){ .addr = addr,
			                .len = (uint32_t)b[8] | (uint32_t)b[9] << 8 |
			                       (uint32_t)b[10] << 16 | (uint32_t)b[11] << 24,
			                .write = (flags & DESC_WRITE) != 0 };
		if (!(flags & DESC_NEXT)) {
			*count = n + 1u;
			return true;
		}
		i = (uint16_t)(b[14] | b[15] << 8);
	}
	return false; /* longer than the queue: a loop */
}

/** The entropy source: fill what the chain lets the device write (FILL_MAX at most). */
static bool serve_rng(struct vpci *d, const struct vpci_ops *ops, const struct seg *segs,
                      uint32_t count, uint32_t *len)
{
	*len = 0;
	for (uint32_t n = 0; n < count; n++) {
		if (!segs[n].write)
			continue;
		uint32_t take = segs[n].len < FILL_MAX - *len ? segs[n].len : FILL_MAX - *len;
		if (!fill(d, ops, segs[n].addr, take))
			return false;
		*len += take;
	}
	return true;
}

/**
 * Move len bytes between the disk at byte disk_off and the chain's device-writable
 * (to_guest) or device-readable buffers, after the first `skip` bytes of those, through a
 * bounce buffer of a page. false: a guest buffer outside its RAM or a disk error.
 */
static bool blk_move(const struct vpci_ops *ops, const struct seg *segs, uint32_t count,
                     bool to_guest, uint32_t skip, uint64_t len, uint64_t disk_off)
{
	static _Alignas(8) uint8_t b[4096]; /* one model, one request at a time */
	for (uint32_t n = 0; n < count && len != 0; n++) {
		if (segs[n].write != to_guest)
			continue;
		if (skip >= segs[n].len) {
			skip -= segs[n].len;
			continue;
		}
		uint64_t addr = segs[n].addr + skip;
		uint32_t left = segs[n].len - skip;
		skip = 0;
		while (left != 0 && len != 0) {
			uint32_t k = left < sizeof(b) ? left : (uint32_t)sizeof(b);
			if (k > len)
				k = (uint32_t)len;
			bool ok = to_guest ? ops->disk(ops->ctx, disk_off, b, k, false) &&
			                             ops->write(ops->ctx, addr, b, k) :
			                     ops->read(ops->ctx, addr, b, k) &&
			                             ops->disk(ops->ctx, disk_off, b, k, true);
			if (!ok)
				return false;
			addr += k;
			left -= k;
			len -= k;
			disk_off += k;
		}
	}
	return len == 0;
}

/** Bytes of the chain's buffers the device may read (write: false) or write (true). */
static uint64_t chain_bytes(const struct seg *segs, uint32_t count, bool write)
{
	uint64_t total = 0;
	for (uint32_t n = 0; n < count; n++)
		if (segs[n].write == write)
			total += segs[n].len;
	return total;
}

/** The guest-physical address of the chain's last device-writable byte (the status). */
static uint64_t status_byte(const struct seg *segs, uint32_t count)
{
	for (uint32_t n = count; n-- > 0;)
		if (segs[n].write && segs[n].len != 0)
			return segs[n].addr + segs[n].len - 1u;
	return 0;
}

/** One block request (virtio 1.1 5.2.6); false: malformed (no status byte, a bad buffer). */
static bool serve_blk(struct vpci *d, const struct vpci_ops *ops, const struct seg *segs,
                      uint32_t count, uint32_t *len)
{
	uint64_t readable = chain_bytes(segs, count, false);
	uint64_t writable = chain_bytes(segs, count, true);
	if (writable == 0)
		return false;             /* nowhere to put the status */
	uint64_t data_in = writable - 1u; /* the device-writable bytes before the status */
	uint8_t status = VPCI_BLK_IOERR;
	*len = 1u;
	if (readable >= BLK_HEADER) {
		/* The header, from the first readable bytes, wherever the guest split them. */
		uint8_t header[BLK_HEADER] = { 0 };
		uint32_t got = 0;
		for (uint32_t n = 0; n < count && got < BLK_HEADER; n++) {
			if (segs[n].write)
				continue;
			uint32_t k = segs[n].len < BLK_HEADER - got ? segs[n].len :
			                                              BLK_HEADER - got;
			if (k != 0 && !ops->read(ops->ctx, segs[n].addr, header + got, k))
				return false;
			got += k;
		}
		uint32_t type = (uint32_t)header[0] | (uint32_t)header[1] << 8 |
		                (uint32_t)header[2] << 16 | (uint32_t)header[3] << 24;
		uint64_t sector = 0;
		for (uint32_t k = 0; k < 8u; k++)
			sector |= (uint64_t)header[8u + k] << (8u * k);
		uint64_t bytes = type == VPCI_BLK_IN ? data_in : readable - BLK_HEADER;
		bool inside = ops->disk != NULL && sector <= d->capacity &&
		              bytes <= (d->capacity - sector) * VPCI_SECTOR;
		if (type == VPCI_BLK_IN && inside) {
			if (blk_move(ops, segs, count, true, 0, bytes, sector * VPCI_SECTOR)) {
				status = VPCI_BLK_OK;
				*len = (uint32_t)(bytes + 1u);
			}
		} else if (type == VPCI_BLK_OUT && inside) {
			if (blk_move(ops, segs, count, false, BLK_HEADER, bytes,
			             sector * VPCI_SECTOR))
				status = VPCI_BLK_OK;
		} else if (type == VPCI_BLK_FLUSH) {
			status = VPCI_BLK_OK; /* the disk is memory: nothing is held back */
		} else if (type == VPCI_BLK_GET_ID) {
			static const char id[BLK_ID_SIZE] = "sephyp-vpci-disk";
			uint32_t k = data_in < BLK_ID_SIZE ? (uint32_t)data_in : BLK_ID_SIZE;
			for (uint32_t n = 0; n < count && k != 0; n++) {
				if (!segs[n].write)
					continue;
				uint32_t m = segs[n].len < k ? segs[n].len : k;
				if (!ops->write(ops->ctx, segs[n].addr, id + (BLK_ID_SIZE - k), m))
					return false;
				k -= m;
			}
			status = VPCI_BLK_OK;
			*len = (data_in < BLK_ID_SIZE ? (uint32_t)data_in : BLK_ID_SIZE) + 1u;
		} else if (type != VPCI_BLK_IN && type != VPCI_BLK_OUT) {
			status = VPCI_BLK_UNSUPP;
		}
	}
	return ops->write(ops->ctx, status_byte(segs, count), &status, 1u);
}

static void needs_reset(struct vpci *d)
{
	d->errors++;
	d->status |= VPCI_STATUS_NEEDS_RESET;
}

/** The guest notified queue 0: serve every buffer it made available since the last time. */
static void run_queue(struct vpci *d, const struct vpci_ops *ops)
{
	struct vpci_queue *q = &d->queue;
	if (!q->enabled || !(d->status & VPCI_STATUS_DRIVER_OK) ||
	    (d->status & VPCI_STATUS_NEEDS_RESET))
		return;
	uint16_t avail_idx, avail_flags;
	if (!rd16(ops, q->driver + 2u, &avail_idx))
		return needs_reset(d);
	if ((uint16_t)(avail_idx - q->last_avail) > q->size)
		return needs_reset(d); /* more than the queue holds: a broken index */
	if (q->last_avail != avail_idx)
		q->due =
		        1u; /* before serving: a successor that finds it set publishes and signals */
	while (q->last_avail != avail_idx) {
		uint16_t head;
		uint32_t len, count;
		struct seg segs[VPCI_QUEUE_MAX];
		if (!rd16(ops, q->driver + 4u + 2u * (q->last_avail % q->size), &head) ||
		    !chain(d, ops, head, segs, &count) ||
		    !(d->kind == VPCI_KIND_BLK ? serve_blk(d, ops, segs, count, &len) :
		                                 serve_rng(d, ops, segs, count, &len)))
			return needs_reset(d);
		uint64_t slot = q->device + 4u + 8u * (q->last_avail % q->size);
		if (!wr_le(ops, slot, head, 4u) || !wr_le(ops, slot + 4u, len, 4u))
			return needs_reset(d);
		q->last_avail++; /* the commit (struct vpci_queue) */
		d->requests++;
		d->bytes += len;
	}
	if (!q->due)
		return;
	q->used_idx = q->last_avail;
	if (!wr_le(ops, q->device + 2u, q->used_idx, 2u))
		return needs_reset(d);
	d->isr |= 1u;
	/*
	 * The driver's flags are read after the used index is out, never before it (virtio 1.1
	 * 2.6.7.2), with a full barrier between the two: the driver clears NO_INTERRUPT and
	 * then looks at the used index once more (Linux's virtqueue_enable_cb), so one of the
	 * two sees the other. Flags read earlier may say NO_INTERRUPT while a driver that has
	 * since cleared it has already found the old index: it waits for an MSI that never
	 * comes (the linux disk hang).
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!rd16(ops, q->driver, &avail_flags))
		return needs_reset(d);
	if (!(avail_flags & AVAIL_NO_INTERRUPT))
		msix_send(d, ops, q->vector); /* again after a restart at worst: a spurious MSI */
	q->due = 0;
}

/* ---- BAR0 ----------------------------------------------------------------------------- */

static void device_reset(struct vpci *d)
{
	uint64_t rng = d->rng;
	uint16_t command = d->command, ctl = d->msix_ctl;
	uint32_t bar0 = d->bar0;
	uint8_t line = d->interrupt_line, generation = d->generation;
	struct vpci_msix_entry msix[VPCI_MSIX_VECTORS];
	for (uint32_t i = 0; i < VPCI_MSIX_VECTORS; i++)
		msix[i] = d->msix[i];
	uint64_t requests = d->requests, bytes = d->bytes, msis = d->msis, errors = d->errors;
	uint32_t kind = d->kind;
	uint64_t capacity = d->capacity;
	/* A virtio reset leaves the PCI function as it is (its BAR, MSI-X table, command). */
	vpci_init(d, rng);
	d->kind = kind;
	d->capacity = capacity;
	d->command = command;
	d->msix_ctl = ctl;
	d->bar0 = bar0;
	d->interrupt_line = line;
	d->generation = (uint8_t)(generation + 1u);
	for (uint32_t i = 0; i < VPCI_MSIX_VECTORS; i++)
		d->msix[i] = msix[i];
	d->requests = requests;
	d->bytes = bytes;
	d->msis = msis;
	d->errors = errors;
}

static uint64_t common_read(const struct vpci *d, uint32_t off)
{
	const struct vpci_queue *q = &d->queue;
	bool q0 = d->queue_select == 0;
	switch (off) {
	case 0x00:
		return d->device_feature_select;
	case 0x04:
		return d->device_feature_select == 1 ? (uint32_t)(FEATURE_VERSION_1 >> 32) : 0u;
	case 0x08:
		return d->driver_feature_select;
	case 0x0c:
		return d->driver_feature_select < 2u ?
		               (uint32_t)(d->driver_features >> (32u * d->driver_feature_select)) :
		               0u;
	case 0x10:
		return d->msix_config;
	case 0x12:
		return 1u; /* num_queues */
	case 0x14:
		return d->status;
	case 0x15:
		return d->generation;
	case 0x16:
		return d->queue_select;
	case 0x18:
		return q0 ? q->size : 0u;
	case 0x1a:
		return q0 ? q->vector : VPCI_NO_VECTOR;
	case 0x1c:
		return q0 ? q->enabled : 0u;
	case 0x1e:
		return 0u; /* queue_notify_off */
	case 0x20:
	case 0x24:
		return q0 ? (uint32_t)(q->desc >> (off == 0x24 ? 32 : 0)) : 0u;
	case 0x28:
	case 0x2c:
		return q0 ? (uint32_t)(q->driver >> (off == 0x2c ? 32 : 0)) : 0u;
	case 0x30:
	case 0x34:
		return q0 ? (uint32_t)(q->device >> (off == 0x34 ? 32 : 0)) : 0u;
	default:
		return 0u;
	}
}

static void set_half(uint64_t *reg, bool high, uint64_t v)
{
	*reg = high ? (*reg & 0xffffffffu) | (v & 0xffffffffu) << 32 :
	              (*reg & ~UINT64_C(0xffffffff)) | (v & 0xffffffffu);
}

static void common_write(struct vpci *d, uint32_t off, uint64_t v)
{
	struct vpci_queue *q = &d->queue;
	bool q0 = d->queue_select == 0, live = q->enabled != 0;
	switch (off) {
	case 0x00:
		d->device_feature_select = (uint32_t)v;
		break;
	case 0x08:
		d->driver_feature_select = (uint32_t)v;
		break;
	case 0x0c:
		if (d->driver_feature_select < 2u && !(d->status & VPCI_STATUS_FEATURES_OK))
			set_half(&d->driver_features, d->driver_feature_select == 1, v);
		break;
	case 0x10:
		d->msix_config = v < VPCI_MSIX_VECTORS ? (uint16_t)v : VPCI_NO_VECTOR;
		break;
	case 0x14:
		if (v == 0) {
			device_reset(d);
		} else {
			uint8_t s = (uint8_t)v;
			/* FEATURES_OK holds only for features this device offers (VERSION_1). */
			if ((s & VPCI_STATUS_FEATURES_OK) &&
			    (d->driver_features & ~FEATURE_VERSION_1) != 0)
				s &= (uint8_t)~VPCI_STATUS_FEATURES_OK;
			d->status = (uint8_t)(s | (d->status & VPCI_STATUS_NEEDS_RESET));
		}
		break;
	case 0x16:
		d->queue_select = v == 0 ? 0u : 1u; /* 1: no such queue (reads as absent) */
		break;
	case 0x18:
		if (q0 && !live && v != 0 && v <= VPCI_QUEUE_MAX && (v & (v - 1u)) == 0)
			q->size = (uint16_t)v;
		break;
	case 0x1a:
		if (q0)
			q->vector = v < VPCI_MSIX_VECTORS ? (uint16_t)v : VPCI_NO_VECTOR;
		break;
	case 0x1c:
		if (q0 && v == 1u)
			q->enabled = 1u; /* only a reset disables a queue (virtio 1.1 4.1.4.3) */
		break;
	case 0x20:
	case 0x24:
		if (q0 && !live)
			set_half(&q->desc, off == 0x24, v);
		break;
	case 0x28:
	case 0x2c:
		if (q0 && !live)
			set_half(&q->driver, off == 0x2c, v);
		break;
	case 0x30:
	case 0x34:
		if (q0 && !live)
			set_half(&q->device, off == 0x34, v);
		break;
	default:
		break; /* read-only or reserved */
	}
}

/** The width a common-configuration field has (virtio 1.1 4.1.4.3); 0 for none. */
static uint32_t common_width(uint32_t off)
{
	if (off == 0x14 || off == 0x15)
		return 1u;
	if (off >= 0x10 && off < 0x20)
		return 2u;
	return off < VPCI_COMMON_SIZE ? 4u : 0u;
}

static bool bar_access(struct vpci *d, const struct vpci_ops *ops, uint32_t off, uint32_t size,
                       bool write, uint64_t *value)
{
	if (off < VPCI_COMMON + VPCI_COMMON_SIZE) {
		if (common_width(off) != size)
			return false;
		if (write)
			common_write(d, off, *value);
		else
			*value = common_read(d, off);
		return true;
	}
	if (off == VPCI_NOTIFY) {
		if (size != 2u)
			return false;
		if (write && *value == 0)
			run_queue(d, ops);
		else if (!write)
			*value = 0;
		return true;
	}
	if (off >= VPCI_DEVCFG && off < VPCI_DEVCFG + VPCI_DEVCFG_SIZE &&
	    d->kind == VPCI_KIND_BLK) {
		/* struct virtio_blk_config: capacity (le64) first; the rest needs features. */
		if ((size != 1u && size != 2u && size != 4u) || (off & (size - 1u)) != 0)
			return false;
		if (!write) {
			uint32_t at = off - VPCI_DEVCFG;
			*value = at < 8u ? (d->capacity >> (8u * at)) &
			                           (size == 4u ? 0xffffffffu :
			                                         (1u << (8u * size)) - 1u) :
			                   0u;
		}
		return true;
	}
	if (off == VPCI_ISR) {
		if (size != 1u)
			return false;
		if (!write) {
			*value = d->isr; /* reading clears it (virtio 1.1 4.1.4.5) */
			d->isr = 0;
		}
		return true;
	}
	if (off >= VPCI_MSIX_TABLE && off < VPCI_MSIX_TABLE + 16u * VPCI_MSIX_VECTORS)
		return size == 4u && msix_table(d, ops, off - VPCI_MSIX_TABLE, write, value);
	if (off >= VPCI_MSIX_PBA && off < VPCI_MSIX_PBA + 8u) {
		if (size != 4u && size != 8u)
			return false;
		if (!write)
			*value = off == VPCI_MSIX_PBA ? d->msix_pba : 0u;
		return true;
	}
	if (!write)
		*value = 0; /* reserved: reads as zero, writes ignored */
	return true;
}

bool vpci_mmio(struct vpci *d, const struct vpci_ops *ops, uint64_t ipa, uint32_t size, bool write,
               uint64_t *value)
{
	if ((size != 1u && size != 2u && size != 4u && size != 8u) || (ipa & (size - 1u)) != 0)
		return false;
	bool decoded = (d->command & COMMAND_MEMORY) && d->bar0 != 0 && ipa >= d->bar0 &&
	               ipa - d->bar0 < VPCI_BAR_SIZE;
	if (!decoded) {
		if (!write)
			*value = size == 8u ? ~UINT64_C(0) : (UINT64_C(1) << (8u * size)) - 1u;
		return true;
	}
	return bar_access(d, ops, (uint32_t)(ipa - d->bar0), size, write, value);
}
