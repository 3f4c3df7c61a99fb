/**
 * The vpci device-model partition: one guest's virtio-pci device (vpci.c: an entropy source,
 * or a block device over a disk image) behind a generic ECAM host bridge, reached through the
 * emulation path, its MSIs sent through the guest's virtual ITS (the vits service).
 *
 * Capabilities, found by type:
 *   - an endpoint with recv: the emulated ranges deliver there (the ECAM window and the
 *     host bridge's memory window, where the guest places BAR0);
 *   - a guest capability with `dm` (its guest memory: HC_GUEST_COPY) whose badge says where
 *     the ECAM window is and what the device is (VPCI_BADGE_*): bits 7:0 its own slot, bits
 *     31:8 the window's guest-physical address >> 20 (1 MiB aligned), bits 47:32 the disk's
 *     size in MiB: 0 for the entropy source, else a block device over the disk image the
 *     manifest maps at VPCI_DISK_IPA in this partition (a region with `contents`,
 *     `preserve;` so that a restart keeps what the guest wrote); bits 55:48 the slot + 1 of
 *     its endpoint to the dmop service (0: none, the manifest's emulated ranges deliver here);
 *   - with dmop: the endpoint to the service (send; the manifest's DMOP_BADGE names this
 *     model, its guest and the shared region, mapped here at VPCI_DMOP_BUF). The model then
 *     creates an ioreq server, maps the ECAM window and the host bridge's memory window
 *     through it (the windows are `routed;` nodes of the manifest's /emulated: the kernel
 *     routes them here at run time, HC_GUEST_ROUTE), restricts itself to its guest
 *     (DMOP_RESTRICT) and sends its MSIs as inject_msi; the memory window is in the badge of
 *     its own endpoint capability (bits 23:0 its address >> 20, bits 39:24 its size in MiB);
 *   - without dmop, an endpoint with send only: the vits service, whose badge on it (set by
 *     the manifest, services/vits/README.md) names the guest and the DeviceID, the PCI
 *     requester ID 0 of 00:00.0. Without either, MSIs go nowhere (counted).
 * The device's state (struct vpci) lives at VPCI_STATE_IPA in a region the manifest marks
 * `preserve;`, so a restarted instance carries on; an access the last one applied and did
 * not answer comes again (a second notify serves what is left, publishes and signals: vpci.h,
 * struct vpci_queue).
 *
 * VPCI_CRASH_TEST builds the kill test's variant (vpci-crash): it faults at pseudo-random
 * points (between guest-memory and disk accesses in the middle of a request, before
 * answering), VPCI_CRASH_LIMIT times in all, counting in the preserved region.
 */
#include <svc/svc.h>
#include <svc_arch.h>

#include <ipc/dmop.h>

#include "vpci.h"

#define VPCI_STATE_IPA 0x400000u
#define VPCI_STATE_REGION 0x10000u
#define VPCI_LABEL_MSI 0x4d5349u /* the vits service's MSI label */
#define NO_SLOT CAP_SLOT_COUNT

#define VPCI_DISK_IPA UINT64_C(0x10000000)

#define VPCI_DMOP_BUF UINT64_C(0x500000)

#define VPCI_BADGE_SLOT(b) ((uint32_t)(b)&0xffu)
#define VPCI_BADGE_ECAM(b) ((((b) >> 8) & 0xffffffu) << 20)
#define VPCI_BADGE_DISK_MIB(b) (((b) >> 32) & 0xffffu)
#define VPCI_BADGE_DMOP_SLOT(b) ((uint32_t)((b) >> 48) & 0xffu) /* slot + 1; 0: none */
#define VPCI_EP_WINDOW(b) (((b)&0xffffffu) << 20)
#define VPCI_EP_WINDOW_SIZE(b) ((((b) >> 24) & 0xffffu) << 20)

_Static_assert(sizeof(struct vpci) <= VPCI_STATE_REGION,
               "struct vpci must fit in the preserved region");

static struct vpci *const dev = (struct vpci *)(uintptr_t)VPCI_STATE_IPA;

/** What the model keeps of its ioreq server across its restarts (after the device). */
struct dm_link {
	uint32_t magic; /**< VPCI_LINK_MAGIC once the server is set up */
	uint16_t server;
	uint16_t created; /**< the server exists (its ranges may not be mapped yet) */
};
#define VPCI_LINK_MAGIC 0x4b4e494cu /* "LINK" */
#define VPCI_LINK_IPA (VPCI_STATE_IPA + 0x8000u)
_Static_assert(sizeof(struct vpci) + 128u <= 0x8000u, "the device must end before the link");
static volatile struct dm_link *const link = (volatile struct dm_link *)(uintptr_t)VPCI_LINK_IPA;

#ifdef VPCI_CRASH_TEST
#define VPCI_CRASH_LIMIT 20u
/** One in this many crash points faults. */
#define VPCI_CRASH_ODDS 250u

/** The kill test's counters, after the device in the preserved region. */
struct crash_state {
	uint64_t crashes, rng;
};
_Static_assert(sizeof(struct vpci) + 64u + sizeof(struct crash_state) <= VPCI_STATE_REGION,
               "the crash counters must fit in the preserved region");
static struct crash_state *const crash =
        (struct crash_state *)(uintptr_t)(VPCI_STATE_IPA + ((sizeof(struct vpci) + 63u) & ~63u));

static void crash_point(void)
{
	if (crash->crashes >= VPCI_CRASH_LIMIT)
		return;
	crash->rng = crash->rng * 6364136223846793005ull + 1442695040888963407ull;
	if ((crash->rng >> 33) % VPCI_CRASH_ODDS == 0) {
		crash->crashes++;
		arch_undefined_instruction(); /* a fault, not an exit: the kernel restarts it */
	}
}
#else
static void crash_point(void)
{
}
#endif

struct slots {
	uint32_t ep, guest, its, dmop;
	uint32_t target; /**< the guest's partition index (dmop's badge names it) */
	uint64_t ecam, disk_bytes, window, window_size;
	uint64_t lost_msis;
};

/** The guest's RAM to or from a buffer of this partition's own (HC_GUEST_COPY). */
static bool guest_mem(void *c, uint64_t ipa, void *buf, uint32_t len, bool write)
{
	const struct slots *s = c;
	uint8_t *b = buf;
	crash_point();
	while (len != 0) {
		uint32_t n = len < IPC_GUEST_COPY_MAX ? len : IPC_GUEST_COPY_MAX;
		uint64_t r[IPC_REG_COUNT] = { HC_GUEST_COPY, s->guest, ipa,
			                      n | (write ? IPC_GUEST_MEM_WRITE : 0u),
			                      (uint64_t)(uintptr_t)b };
		svc_hypercall(r);
		if (r[0] != STATUS_OK)
			return false;
		ipa += n;
		b += n;
		len -= n;
	}
	return true;
}

static bool mem_read(void *c, uint64_t ipa, void *buf, uint32_t len)
{
	return guest_mem(c, ipa, buf, len, false);
}

static bool mem_write(void *c, uint64_t ipa, const void *buf, uint32_t len)
{
	return guest_mem(c, ipa, (void *)(uintptr_t)buf, len, true);
}

/**
 * One dm_op on its guest: op written whole (zero padding included) at the start of the shared
 * region, results read back. A call the service died in did nothing: it is made again.
 */
static uint64_t dm_op(const struct slots *s, struct dmop_op *op, uint64_t *err, uint64_t *extra)
{
	volatile uint8_t *buf = (volatile uint8_t *)(uintptr_t)VPCI_DMOP_BUF;
	const uint8_t *o = (const uint8_t *)op;
	struct msg m;
	enum status st;
	do {
		for (uint32_t i = 0; i < sizeof(*op); i++)
			buf[i] = o[i];
		m = (struct msg){ .label = DMOP_LABEL, .w = { s->target, 1u, 0u, sizeof(*op) } };
		st = svc_call(s->dmop, &m);
	} while (st == STATUS_PEER_STOPPED);
	for (uint32_t i = 0; i < sizeof(*op); i++)
		((uint8_t *)op)[i] = buf[i];
	*err = st == STATUS_OK ? m.w[1] : DMOP_ERR_INVALID;
	if (extra != NULL)
		*extra = m.w[2];
	return st == STATUS_OK ? m.w[0] : st;
}

static struct dmop_op new_op(uint32_t number)
{
	struct dmop_op o;
	memset(&o, 0, sizeof(o));
	o.op = number;
	return o;
}

/** An MSI: its data is the EventID; vits (or dmop's MSI endpoint) knows guest and DeviceID. */
static void msi(void *c, uint64_t address, uint32_t data)
{
	struct slots *s = c;
	if (s->dmop != NO_SLOT) {
		struct dmop_op o = new_op(DMOP_INJECT_MSI);
		o.u.msi.data = data;
		o.u.msi.addr = address;
		uint64_t err, lpi = 0;
		if (dm_op(s, &o, &err, &lpi) != STATUS_OK || lpi != 1u)
			s->lost_msis++;
		return;
	}
	struct msg m = { .label = VPCI_LABEL_MSI, .w = { data } };
	if (s->its == NO_SLOT || svc_call(s->its, &m) != STATUS_OK || m.w[0] != 1u)
		s->lost_msis++;
}

/** An MMIO range [start, start + size) mapped to the ioreq server; EXISTS: mapped before. */
static bool dm_map(const struct slots *s, uint16_t server, uint64_t start, uint64_t size)
{
	struct dmop_op o = new_op(DMOP_MAP_IO_RANGE);
	o.u.range.id = server;
	o.u.range.type = DMOP_RANGE_MEMORY;
	o.u.range.start = start;
	o.u.range.end = start + size - 1u;
	uint64_t err;
	uint64_t st = dm_op(s, &o, &err, NULL);
	return st == STATUS_OK || err == DMOP_ERR_EXISTS;
}

/**
 * Through dmop: an ioreq server with the ECAM window and the memory window, enabled, then
 * the model restricted to its guest. Each step is kept (struct dm_link), so a successor
 * goes on where a crash stopped it. false: the service refused (said on the console).
 */
static bool dm_set_up(const struct slots *s)
{
	if (link->magic == VPCI_LINK_MAGIC)
		return true;
	uint64_t err;
	if (!link->created) {
		struct dmop_op o = new_op(DMOP_CREATE_IOREQ_SERVER);
		if (dm_op(s, &o, &err, NULL) != STATUS_OK) {
			svc_printf("dmop: create_ioreq_server refused (error %u)\n", (unsigned)err);
			return false;
		}
		link->server = o.u.create.id;
		link->created = 1;
	}
	uint16_t server = link->server;
	if (!dm_map(s, server, s->ecam, VPCI_ECAM_SIZE) ||
	    !dm_map(s, server, s->window, s->window_size)) {
		svc_printf("dmop: map_io_range refused\n");
		return false;
	}
	struct dmop_op o = new_op(DMOP_SET_IOREQ_SERVER_STATE);
	o.u.state.id = server;
	o.u.state.enabled = 1;
	if (dm_op(s, &o, &err, NULL) != STATUS_OK) {
		svc_printf("dmop: set_ioreq_server_state refused (error %u)\n", (unsigned)err);
		return false;
	}
	o = new_op(DMOP_RESTRICT);
	if (dm_op(s, &o, &err, NULL) != STATUS_OK) {
		svc_printf("dmop: restrict refused (error %u)\n", (unsigned)err);
		return false;
	}
	link->magic = VPCI_LINK_MAGIC;
	return true;
}

/** The disk image, mapped at VPCI_DISK_IPA; vpci.c checked the range against the capacity. */
static bool disk(void *c, uint64_t offset, void *buf, uint32_t len, bool write)
{
	const struct slots *s = c;
	crash_point();
	if (offset > s->disk_bytes || len > s->disk_bytes - offset)
		return false;
	uint8_t *at = (uint8_t *)(uintptr_t)(VPCI_DISK_IPA + offset);
	if (write)
		memcpy(at, buf, len);
	else
		memcpy(buf, at, len);
	return true;
}

static void find_slots(struct slots *s)
{
	*s = (struct slots){ .ep = NO_SLOT, .guest = NO_SLOT, .its = NO_SLOT, .dmop = NO_SLOT };
	uint32_t dmop_slot = NO_SLOT;
	for (uint32_t i = 0; i < CAP_SLOT_COUNT; i++) {
		uint32_t type, rights;
		uint64_t badge;
		if (svc_cap_info(i, &type, &rights, &badge) != STATUS_OK)
			continue;
		if (type == CAP_GUEST && (rights & RIGHT_GUEST_DM) != 0 &&
		    VPCI_BADGE_SLOT(badge) == i && s->guest == NO_SLOT) {
			s->guest = i;
			s->ecam = VPCI_BADGE_ECAM(badge);
			s->disk_bytes = VPCI_BADGE_DISK_MIB(badge) << 20;
			if (VPCI_BADGE_DMOP_SLOT(badge) != 0)
				dmop_slot = VPCI_BADGE_DMOP_SLOT(badge) - 1u;
		}
	}
	for (uint32_t i = 0; i < CAP_SLOT_COUNT; i++) {
		uint32_t type, rights;
		uint64_t badge;
		if (svc_cap_info(i, &type, &rights, &badge) != STATUS_OK || type != CAP_ENDPOINT)
			continue;
		if (i == dmop_slot && (rights & RIGHT_EP_SEND) != 0) {
			s->dmop = i;
			s->target = DMOP_BADGE_TARGET(badge);
		} else if ((rights & RIGHT_EP_RECV) != 0 && s->ep == NO_SLOT) {
			s->ep = i;
			s->window = VPCI_EP_WINDOW(badge);
			s->window_size = VPCI_EP_WINDOW_SIZE(badge);
		} else if (rights == RIGHT_EP_SEND && s->its == NO_SLOT) {
			s->its = i;
		}
	}
}

int svc_main(uint64_t arg)
{
	(void)arg;
	static struct slots s;
	find_slots(&s);
	if (s.ep == NO_SLOT || s.guest == NO_SLOT) {
		svc_printf("no endpoint or no guest to serve\n");
		return 1;
	}
	if (s.dmop != NO_SLOT && (s.window_size == 0 || !dm_set_up(&s)))
		return 1;
	const struct vpci_ops ops = { &s, mem_read, mem_write, msi,
		                      s.disk_bytes != 0 ? disk : NULL };
	if (vpci_state_valid(dev)) {
#ifdef VPCI_CRASH_TEST
		svc_printf("restarted (%u crashes): kept the device (%u requests served)\n",
		           (unsigned)crash->crashes, (unsigned)dev->requests);
#else
		svc_printf("restarted: kept the device (%u requests served)\n",
		           (unsigned)dev->requests);
#endif
	} else {
		if (s.disk_bytes != 0)
			vpci_init_blk(dev, s.disk_bytes / VPCI_SECTOR);
		else
			vpci_init(dev, UINT64_C(0x9e3779b97f4a7c15) ^ s.ecam);
		svc_printf("%s at 00:00.0, ECAM at 0x%lx%s\n",
		           s.disk_bytes != 0 ? "virtio-blk" : "virtio-rng", (unsigned long)s.ecam,
		           s.dmop != NO_SLOT ? ", through dmop (ioreq server, MSIs by inject_msi)" :
		           s.its == NO_SLOT  ? ", no ITS: MSIs go nowhere" :
		                               "");
	}
	uint64_t r[IPC_REG_COUNT] = { HC_RECV, s.ep };
	svc_hypercall(r);
	for (;;) {
		uint64_t w0 = IPC_MMIO_ABORT, w1 = 0;
		bool received = r[0] == STATUS_OK;
		uint64_t badge = r[IPC_REG_CAP];
		bool ours = s.dmop != NO_SLOT ? (badge & DMOP_ROUTE_BADGE_TAG) != 0 &&
		                                        DMOP_ROUTE_BADGE_GUEST(badge) == s.target &&
		                                        DMOP_ROUTE_BADGE_ID(badge) == link->server :
		                                VPCI_BADGE_SLOT(badge) == s.guest;
		if (received && r[IPC_REG_LABEL] == IPC_LABEL_MMIO && ours) {
			uint64_t ipa = r[IPC_REG_WORD0], how = r[IPC_REG_WORD0 + 1];
			uint64_t value = r[IPC_REG_WORD0 + 2];
			uint32_t size = (uint32_t)(how & IPC_MMIO_SIZE_MASK);
			bool write = (how & IPC_MMIO_WRITE) != 0, done;
			if (how & IPC_MMIO_PORT)
				done = false;
			else if (ipa >= s.ecam && ipa - s.ecam < VPCI_ECAM_SIZE)
				done = vpci_config(dev, &ops, ipa - s.ecam, size, write, &value);
			else
				done = vpci_mmio(dev, &ops, ipa, size, write, &value);
			if (done) {
				w0 = IPC_MMIO_DONE;
				w1 = write ? 0 : value;
			}
			crash_point();
		}
		for (uint32_t i = 0; i < IPC_REG_COUNT; i++)
			r[i] = 0;
		r[0] = received ? HC_REPLY_RECV : HC_RECV;
		r[1] = s.ep;
		r[IPC_REG_WORD0] = w0;
		r[IPC_REG_WORD0 + 1] = w1;
		svc_hypercall(r);
	}
}
