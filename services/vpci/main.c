/**
 * The vpci device-model partition: one guest's virtio-pci device (vpci.c: an entropy source,
 * or a block device over a disk image) behind a generic ECAM host bridge, reached through the
 * emulation path, its MSIs sent through the guest's virtual ITS (the vits service).
 *
 * Capabilities, found by type:
 *   - an endpoint with recv: the emulated ranges deliver there (the ECAM window and the
 *     host bridge's memory window, where the guest places BAR0);
 *   - a guest capability with `emulate` and `dm` (its guest memory: HC_GUEST_COPY) whose badge
 *     says where the ECAM window is and what the device is (VPCI_BADGE_*): bits 7:0 its own
 *     slot, bits 31:8 the window's guest-physical address >> 20 (1 MiB aligned), bits 63:32
 *     the disk's size in MiB: 0 for the entropy source, else a block device over the disk
 *     image the manifest maps at VPCI_DISK_IPA in this partition (a region with `contents`,
 *     `preserve;` so that a restart keeps what the guest wrote);
 *   - an endpoint with send only: the vits service, whose badge on it (set by the manifest,
 *     services/vits/README.md) names the guest and the DeviceID, the PCI requester ID 0 of
 *     00:00.0. Without one, MSIs go nowhere (counted).
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

#include "vpci.h"

#define VPCI_STATE_IPA 0x400000u
#define VPCI_STATE_REGION 0x10000u
#define VPCI_LABEL_MSI 0x4d5349u /* the vits service's MSI label */
#define NO_SLOT CAP_SLOT_COUNT

#define VPCI_DISK_IPA UINT64_C(0x10000000)

#define VPCI_BADGE_SLOT(b) ((uint32_t)(b)&0xffu)
#define VPCI_BADGE_ECAM(b) ((((b) >> 8) & 0xffffffu) << 20)
#define VPCI_BADGE_DISK_MIB(b) ((b) >> 32)

_Static_assert(sizeof(struct vpci) <= VPCI_STATE_REGION,
               "struct vpci must fit in the preserved region");

static struct vpci *const dev = (struct vpci *)(uintptr_t)VPCI_STATE_IPA;

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
	uint32_t ep, guest, its;
	uint64_t ecam, disk_bytes;
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

/** An MSI: its data is the EventID; the vits service knows the guest and the DeviceID. */
static void msi(void *c, uint64_t address, uint32_t data)
{
	(void)address; /* the guest's ITS doorbell; the manifest wired the only one it has */
	struct slots *s = c;
	struct msg m = { .label = VPCI_LABEL_MSI, .w = { data } };
	if (s->its == NO_SLOT || svc_call(s->its, &m) != STATUS_OK || m.w[0] != 1u)
		s->lost_msis++;
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
	*s = (struct slots){ .ep = NO_SLOT, .guest = NO_SLOT, .its = NO_SLOT };
	for (uint32_t i = 0; i < CAP_SLOT_COUNT; i++) {
		uint32_t type, rights;
		uint64_t badge;
		if (svc_cap_info(i, &type, &rights, &badge) != STATUS_OK)
			continue;
		const uint32_t need = RIGHT_GUEST_EMULATE | RIGHT_GUEST_DM;
		if (type == CAP_ENDPOINT && (rights & RIGHT_EP_RECV) != 0 && s->ep == NO_SLOT)
			s->ep = i;
		else if (type == CAP_ENDPOINT && rights == RIGHT_EP_SEND && s->its == NO_SLOT)
			s->its = i;
		else if (type == CAP_GUEST && (rights & need) == need &&
		         VPCI_BADGE_SLOT(badge) == i && s->guest == NO_SLOT) {
			s->guest = i;
			s->ecam = VPCI_BADGE_ECAM(badge);
			s->disk_bytes = VPCI_BADGE_DISK_MIB(badge) << 20;
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
		           s.its == NO_SLOT ? ", no ITS: MSIs go nowhere" : "");
	}
	uint64_t r[IPC_REG_COUNT] = { HC_RECV, s.ep };
	svc_hypercall(r);
	for (;;) {
		uint64_t w0 = IPC_MMIO_ABORT, w1 = 0;
		bool received = r[0] == STATUS_OK;
		if (received && r[IPC_REG_LABEL] == IPC_LABEL_MMIO &&
		    VPCI_BADGE_SLOT(r[IPC_REG_CAP]) == s.guest) {
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
