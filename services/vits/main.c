/**
 * The vits service partition: a virtual GICv3 ITS (its.c) for each guest it serves, reached
 * through the emulation path (a guest's GITS frame is a `sephyp,emulated` range whose endpoint
 * is this service's) and, for device models, through MSI messages on the same endpoint.
 *
 * Capabilities are found by type, so a manifest may put them anywhere: the endpoint (recv),
 * and per guest a guest capability with `emulate` and `inject` whose badge describes the
 * guest (VITS_BADGE_*, services/vits/README.md):
 *
 *   bits  7:0   the capability's own slot (so the badge of an access names the guest)
 *   bits 15:8   the guest's vCPUs: collection targets 0 .. n-1
 *   bits 31:16  the guest's LPIs (its manifest `lpis`): INTIDs 8192 .. 8192 + n - 1
 *   bits 47:32  the DeviceID of the guest's own writes to GITS_TRANSLATER (0xffff: none)
 *
 * The kernel checks every LPI and vCPU again (HC_GUEST_IRQ), so a wrong badge can only make
 * the guest's ITS refuse what the guest asks; it never reaches another guest's LPIs.
 *
 *   IPC_LABEL_MMIO      a guest's access to its GITS frame: its_mmio(), reply DONE/ABORT
 *   VITS_LABEL_MSI      w0 = EventID from a device model; the badge of the caller's endpoint
 *                       capability (set by the manifest, never by the caller) names the guest
 *                       (bits 7:0, its guest capability's slot here) and the DeviceID (47:32):
 *                       its_translate(); reply w0 = 1 if it became an LPI
 *
 * The tables live in the guest's memory, which this service reads and writes only through
 * HC_GUEST_MEM; struct its (registers and counters) lives at VITS_STATE_IPA, a region the
 * manifest marks `preserve;`, so a restarted instance carries on where the last one stopped.
 * An access the last instance applied and did not answer comes again: every register write
 * is idempotent (a CWRITER write finds CREADR there already) but TRANSLATER, whose second
 * MSI finds the LPI pending already (one interrupt, as an edge that fired twice), and a
 * command the last instance had half run when it died (CREADR had not passed it): run again,
 * it finds its own work done (a MAPTI then fails as a duplicate, leaving the same mapping).
 *
 * VITS_CRASH_TEST builds the kill test's variant (vits-crash): it faults at pseudo-random
 * points (taking an access, in the middle of a command's table accesses, before answering),
 * VITS_CRASH_LIMIT times in all, counting in the preserved state.
 */
#include <ipc/vits.h>
#include <svc/svc.h>
#include <svc_arch.h>

#include "its.h"

/** Where the manifest maps the preserved region, and the least size it may have. */
#define VITS_STATE_IPA 0x400000u
#define VITS_STATE_REGION 0x10000u
#define VITS_GUEST_MAX 8u

#define VITS_BADGE_SLOT(b) ((uint32_t)(b)&0xffu)
#define VITS_BADGE_VCPUS(b) ((uint32_t)((b) >> 8) & 0xffu)
#define VITS_BADGE_LPIS(b) ((uint32_t)((b) >> 16) & 0xffffu)
#define VITS_BADGE_DEVID(b) ((uint32_t)((b) >> 32) & 0xffffu)
#define VITS_NO_DEVID 0xffffu
/** Failed commands reported on the console per guest and start (all are counted in struct its). */
#define VITS_LOG_MAX 16u

#define VITS_STATE_MAGIC 0x53544956u /* "VITS" */

struct vits_guest {
	uint64_t badge;
	struct its its;
};

struct vits_state {
	uint32_t magic, count;
	struct vits_guest g[VITS_GUEST_MAX];
	uint64_t crashes, rng; /**< the kill test's (VITS_CRASH_TEST) */
};

_Static_assert(sizeof(struct vits_state) <= VITS_STATE_REGION,
               "struct vits_state must fit in the preserved region");

static struct vits_state *const state = (struct vits_state *)(uintptr_t)VITS_STATE_IPA;

#ifdef VITS_CRASH_TEST
#define VITS_CRASH_LIMIT 20u
/** One in this many crash points faults (the generator's state survives in the state region). */
#define VITS_CRASH_ODDS 13u
static void crash_point(void)
{
	if (state->crashes >= VITS_CRASH_LIMIT)
		return;
	state->rng = state->rng * 6364136223846793005ull + 1442695040888963407ull;
	if ((state->rng >> 33) % VITS_CRASH_ODDS == 0) {
		state->crashes++;
		arch_undefined_instruction(); /* a fault, not an exit: the kernel restarts it */
	}
}
#else
static void crash_point(void)
{
}
#endif

/** What its.c's callbacks need: the guest's capability slot; log lines said this start. */
struct guest_ctx {
	uint32_t slot, logged;
};

static struct guest_ctx ctx[VITS_GUEST_MAX];
static struct its_ops ops[VITS_GUEST_MAX];

/** n bytes into little-endian registers, and back (HC_GUEST_MEM's r4..r8). */
static void pack_bytes(uint64_t *regs, const uint8_t *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		regs[i / 8u] |= (uint64_t)b[i] << (8u * (i % 8u));
}

static void unpack_bytes(uint8_t *b, const uint64_t *regs, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		b[i] = (uint8_t)(regs[i / 8u] >> (8u * (i % 8u)));
}

static bool guest_mem(void *c, uint64_t ipa, void *buf, uint32_t len, bool write)
{
	const struct guest_ctx *g = c;
	uint8_t *b = buf;
	crash_point(); /* in the middle of a command: the successor runs it again */
	while (len != 0) {
		uint32_t n = len < IPC_GUEST_MEM_MAX ? len : IPC_GUEST_MEM_MAX;
		uint64_t r[IPC_REG_COUNT] = { HC_GUEST_MEM, g->slot, ipa,
			                      n | (write ? IPC_GUEST_MEM_WRITE : 0u) };
		if (write)
			pack_bytes(&r[4], b, n);
		svc_hypercall(r);
		if (r[0] != STATUS_OK)
			return false;
		if (!write)
			unpack_bytes(b, &r[4], n);
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

static uint64_t lpi_call(const struct guest_ctx *g, uint32_t vcpu, uint32_t lpi, uint32_t op)
{
	uint64_t r[IPC_REG_COUNT] = { HC_GUEST_IRQ, g->slot, vcpu, lpi, op };
	svc_hypercall(r);
	return r[0] == STATUS_OK ? r[1] : 0;
}

static bool set_pending(void *c, uint32_t vcpu, uint32_t lpi, bool pending)
{
	return lpi_call(c, vcpu, lpi, pending ? IPC_GUEST_IRQ_LPI_SET : IPC_GUEST_IRQ_LPI_CLEAR) !=
	       0;
}

static void inv(void *c, uint32_t vcpu, uint32_t lpi)
{
	(void)lpi_call(c, vcpu, lpi, IPC_GUEST_IRQ_LPI_CONFIG);
}

static void invall(void *c, uint32_t vcpu)
{
	(void)lpi_call(c, vcpu, 0, IPC_GUEST_IRQ_LPI_CONFIG);
}

static void move(void *c, uint32_t vcpu, uint32_t lpi)
{
	(void)lpi_call(c, vcpu, lpi, IPC_GUEST_IRQ_LPI_MOVE);
}

static void log_failure(void *c, enum its_error e, uint64_t cmd)
{
	static const char *const why[ITS_ERR_COUNT] = {
		[ITS_ERR_NONE] = "none",
		[ITS_ERR_UNKNOWN_COMMAND] = "unknown command",
		[ITS_ERR_READ] = "outside the guest's memory",
		[ITS_ERR_DEVICE] = "no such device",
		[ITS_ERR_EVENT] = "EventID beyond the device's table",
		[ITS_ERR_COLLECTION] = "no such collection",
		[ITS_ERR_VCPU] = "no such vCPU",
		[ITS_ERR_LPI] = "not one of the guest's LPIs",
		[ITS_ERR_MAPPED] = "event already mapped",
		[ITS_ERR_UNMAPPED] = "event not mapped",
		[ITS_ERR_SIZE] = "too many EventID bits",
	};
	struct guest_ctx *g = c;
	if (g->logged >= VITS_LOG_MAX)
		return;
	g->logged++;
	svc_printf("guest slot %u: command 0x%02x (device %u) failed: %s\n", (unsigned)g->slot,
	           (unsigned)(cmd & 0xffu), (unsigned)(cmd >> 32),
	           (unsigned)e < ITS_ERR_COUNT ? why[e] : "?");
}

/** Guest capabilities with emulate and inject whose badge names their own slot, in slot order. */
static uint32_t find_guests(uint64_t *badges, uint32_t *ep)
{
	uint32_t n = 0;
	*ep = CAP_SLOT_COUNT;
	for (uint32_t i = 0; i < CAP_SLOT_COUNT; i++) {
		uint32_t type, rights;
		uint64_t badge;
		if (svc_cap_info(i, &type, &rights, &badge) != STATUS_OK)
			continue;
		if (type == CAP_ENDPOINT && (rights & RIGHT_EP_RECV) != 0 && *ep == CAP_SLOT_COUNT)
			*ep = i;
		const uint32_t need = RIGHT_GUEST_EMULATE | RIGHT_GUEST_INJECT;
		if (type == CAP_GUEST && (rights & need) == need && VITS_BADGE_SLOT(badge) == i &&
		    VITS_BADGE_VCPUS(badge) != 0 && VITS_BADGE_LPIS(badge) != 0 &&
		    n < VITS_GUEST_MAX)
			badges[n++] = badge;
	}
	return n;
}

/** Keep what the last instance left for the same guests, reset the rest; how many were kept. */
static uint32_t start(const uint64_t *badges, uint32_t count)
{
	bool valid = state->magic == VITS_STATE_MAGIC && state->count <= VITS_GUEST_MAX;
	uint32_t kept = 0;
	for (uint32_t i = 0; i < count; i++) {
		struct vits_guest *g = &state->g[i];
		uint64_t b = badges[i];
		if (valid && i < state->count && g->badge == b && its_state_valid(&g->its) &&
		    g->its.vcpus == VITS_BADGE_VCPUS(b) &&
		    g->its.lpi_limit == ITS_LPI_BASE + VITS_BADGE_LPIS(b)) {
			kept++;
		} else {
			g->badge = b;
			uint32_t dev = VITS_BADGE_DEVID(b);
			its_init(&g->its, VITS_BADGE_VCPUS(b), ITS_LPI_BASE + VITS_BADGE_LPIS(b),
			         dev == VITS_NO_DEVID ? ITS_NO_DEVICE : dev);
		}
		ctx[i] = (struct guest_ctx){ .slot = VITS_BADGE_SLOT(b) };
		ops[i] = (struct its_ops){ .ctx = &ctx[i],
			                   .read = mem_read,
			                   .write = mem_write,
			                   .set_pending = set_pending,
			                   .inv = inv,
			                   .invall = invall,
			                   .log = log_failure,
			                   .move = move };
	}
	state->count = count;
	state->magic = VITS_STATE_MAGIC;
	return kept;
}

/** The guest an access or MSI names by its guest capability's slot; count if none. */
static uint32_t guest_of(uint64_t badge)
{
	uint32_t i = 0;
	while (i < state->count && VITS_BADGE_SLOT(state->g[i].badge) != VITS_BADGE_SLOT(badge))
		i++;
	return i;
}

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t badges[VITS_GUEST_MAX];
	uint32_t ep;
	uint32_t count = find_guests(badges, &ep);
	if (ep == CAP_SLOT_COUNT || count == 0) {
		svc_printf("no endpoint or no guest to serve\n");
		return 1;
	}
	uint32_t kept = start(badges, count);
	if (kept == 0)
		svc_printf("serving %u guest(s)\n", (unsigned)count);
	else
		svc_printf("restarted (%u crashes): kept the ITS of %u of %u guest(s)\n",
		           (unsigned)state->crashes, (unsigned)kept, (unsigned)count);
	uint64_t r[IPC_REG_COUNT] = { HC_RECV, ep };
	svc_hypercall(r);
	for (;;) {
		uint64_t w0 = IPC_MMIO_ABORT, w1 = 0;
		bool received = r[0] == STATUS_OK;
		uint32_t g = received ? guest_of(r[IPC_REG_CAP]) : count;
		crash_point(); /* holding the access, nothing applied: the successor gets it */
		if (g < count && r[IPC_REG_LABEL] == IPC_LABEL_MMIO) {
			uint64_t how = r[IPC_REG_WORD0 + 1], value = r[IPC_REG_WORD0 + 2];
			bool write = (how & IPC_MMIO_WRITE) != 0;
			if ((how & IPC_MMIO_PORT) == 0 &&
			    its_mmio(&state->g[g].its, &ops[g], r[IPC_REG_WORD0 + 4],
			             (uint32_t)(how & IPC_MMIO_SIZE_MASK), write, &value)) {
				w0 = IPC_MMIO_DONE;
				w1 = write ? 0 : value;
			}
		} else if (g < count && r[IPC_REG_LABEL] == VITS_LABEL_MSI) {
			uint32_t dev = VITS_BADGE_DEVID(r[IPC_REG_CAP]);
			w0 = dev != VITS_NO_DEVID && r[IPC_REG_WORD0] <= UINT32_MAX &&
			     its_translate(&state->g[g].its, &ops[g], dev,
			                   (uint32_t)r[IPC_REG_WORD0]);
		}
		crash_point(); /* applied, not answered: the successor gets it again */
		for (uint32_t i = 0; i < IPC_REG_COUNT; i++)
			r[i] = 0;
		r[0] = received ? HC_REPLY_RECV : HC_RECV;
		r[1] = ep;
		r[IPC_REG_WORD0] = w0;
		r[IPC_REG_WORD0 + 1] = w1;
		svc_hypercall(r);
	}
}
