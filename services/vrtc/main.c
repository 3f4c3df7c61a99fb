/**
 * The vrtc device-model partition (x86): one guest's CMOS RTC at ports 0x70-0x71 (rtc.c),
 * served only through the dmop service. The manifest names no range it serves: the guest's
 * `/emulated` node is a port window (`routed; ports = <0x70 ...>`), and the model at its start
 * creates an ioreq server, maps the two ports to it (dmop routes them to the model's endpoint
 * with HC_GUEST_ROUTE), enables it and restricts itself to its guest (DMOP_RESTRICT); then it
 * drops every capability but its endpoint to dmop and its own endpoint, and serves.
 *
 * Capabilities, found by type:
 *   - an endpoint with recv: its own, where the guest's IN and OUT arrive (IPC_LABEL_MMIO with
 *     IPC_MMIO_PORT, badge DMOP_ROUTE_BADGE(guest, server), w4 the port's offset);
 *   - an endpoint with send only: the dmop service's (the manifest's DMOP_BADGE names this
 *     model, its guest and the shared region, mapped here at VRTC_DMOP_BUF);
 *   - notifications with signal (optional): each signalled once the RTC is served (a test
 *     waits for it), then dropped.
 *
 * Its state (the server's id, how far set-up went, the RTC) lives at VRTC_STATE_IPA in a
 * region the manifest marks `preserve;`: a restarted instance keeps the guest's NVRAM and
 * clock, goes on with set-up where its predecessor stopped, and answers the access the
 * kernel gives it again (the one its predecessor held when it died).
 *
 * Time: the TSC, at the rate the hypervisor's CPUID leaf 0x40000010 gives (kHz).
 *
 * VRTC_CRASH_TEST builds the kill test's variant (vrtc-crash): it dies once, on the first
 * write to NVRAM byte 0x7e, before applying it; its successor completes the write.
 */
#include <svc/svc.h>
#include <svc_arch.h>

#include <ipc/dmop.h>

#include "rtc.h"

#define VRTC_STATE_IPA 0x400000u
#define VRTC_STATE_REGION 0x1000u
#define VRTC_DMOP_BUF UINT64_C(0x500000)
#define VRTC_PORT_FIRST 0x70u
#define NO_SLOT CAP_SLOT_COUNT

#define VRTC_MAGIC 0x53435456u /* "VTCS" */
#define VRTC_VERSION 1u

/** How far set-up went: each step is kept before the next, so a successor goes on. */
enum vrtc_stage {
	VRTC_NONE,
	VRTC_CREATED,
	VRTC_MAPPED,
	VRTC_ENABLED,
	VRTC_RESTRICTED,
};

struct vrtc_saved {
	uint32_t magic, version;
	uint32_t stage, server;
	uint64_t served, restarts, crashes;
	struct rtc rtc;
};
_Static_assert(sizeof(struct vrtc_saved) <= VRTC_STATE_REGION,
               "the state must fit in the preserved region");

static struct vrtc_saved *const saved = (struct vrtc_saved *)(uintptr_t)VRTC_STATE_IPA;

struct slots {
	uint32_t ep, dmop, target;
};

static uint64_t tsc_khz;

static uint64_t now_us(void)
{
	uint64_t t = arch_insn_counter();
	/* t * 1000 / khz without overflow for any TSC a machine reaches. */
	return t / tsc_khz * 1000u + t % tsc_khz * 1000u / tsc_khz;
}

static uint64_t cpuid_eax(uint32_t leaf)
{
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(leaf), "c"(0));
	return a;
}

/**
 * One dm_op on its guest: op written whole (zero padding included) at the start of the shared
 * region, results read back. A call the service died in did nothing: it is made again.
 */
static uint64_t dm_op(const struct slots *s, struct dmop_op *op, uint64_t *err)
{
	volatile uint8_t *buf = (volatile uint8_t *)(uintptr_t)VRTC_DMOP_BUF;
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
	return st == STATUS_OK ? m.w[0] : st;
}

static struct dmop_op new_op(uint32_t number)
{
	struct dmop_op o;
	memset(&o, 0, sizeof(o));
	o.op = number;
	return o;
}

static bool refused(const char *what, uint64_t err)
{
	svc_printf("dmop: %s refused (error %u)\n", what, (unsigned)err);
	return false;
}

/** Through dmop: an ioreq server with ports 0x70-0x71, enabled, the model restricted. */
static bool set_up(const struct slots *s)
{
	uint64_t err;
	struct dmop_op o;
	if (saved->stage < VRTC_CREATED) {
		o = new_op(DMOP_CREATE_IOREQ_SERVER);
		if (dm_op(s, &o, &err) != STATUS_OK)
			return refused("create_ioreq_server", err);
		saved->server = o.u.create.id;
		saved->stage = VRTC_CREATED;
	}
	if (saved->stage < VRTC_MAPPED) {
		o = new_op(DMOP_MAP_IO_RANGE);
		o.u.range.id = (uint16_t)saved->server;
		o.u.range.type = DMOP_RANGE_PORT;
		o.u.range.start = VRTC_PORT_FIRST;
		o.u.range.end = VRTC_PORT_FIRST + RTC_PORTS - 1u;
		/* EXISTS: its predecessor mapped them and died before writing it down. */
		if (dm_op(s, &o, &err) != STATUS_OK && err != DMOP_ERR_EXISTS)
			return refused("map_io_range", err);
		saved->stage = VRTC_MAPPED;
	}
	if (saved->stage < VRTC_ENABLED) {
		o = new_op(DMOP_SET_IOREQ_SERVER_STATE);
		o.u.state.id = (uint16_t)saved->server;
		o.u.state.enabled = 1;
		if (dm_op(s, &o, &err) != STATUS_OK)
			return refused("set_ioreq_server_state", err);
		saved->stage = VRTC_ENABLED;
	}
	if (saved->stage < VRTC_RESTRICTED) {
		o = new_op(DMOP_RESTRICT);
		if (dm_op(s, &o, &err) != STATUS_OK)
			return refused("restrict", err);
		saved->stage = VRTC_RESTRICTED;
	}
	return true;
}

/** Its two endpoints; the notifications it signals once it serves (then dropped). */
static void find_slots(struct slots *s, uint32_t *notify, uint32_t *notify_count)
{
	*s = (struct slots){ .ep = NO_SLOT, .dmop = NO_SLOT };
	*notify_count = 0;
	for (uint32_t i = 0; i < CAP_SLOT_COUNT; i++) {
		uint32_t type, rights;
		uint64_t badge;
		if (svc_cap_info(i, &type, &rights, &badge) != STATUS_OK)
			continue;
		if (type == CAP_ENDPOINT && (rights & RIGHT_EP_RECV) != 0 && s->ep == NO_SLOT) {
			s->ep = i;
		} else if (type == CAP_ENDPOINT && rights == RIGHT_EP_SEND && s->dmop == NO_SLOT) {
			s->dmop = i;
			s->target = DMOP_BADGE_TARGET(badge);
		} else if (type == CAP_NOTIFICATION && (rights & RIGHT_NTF_SIGNAL) != 0) {
			notify[(*notify_count)++] = i;
		}
	}
}

/** After dm_restrict: everything but its two endpoints goes, for good. */
static void drop_others(const struct slots *s)
{
	for (uint32_t i = 0; i < CAP_SLOT_COUNT; i++)
		if (i != s->ep && i != s->dmop)
			(void)svc_cap_drop(i);
}

#ifdef VRTC_CRASH_TEST
/** The kill test: the first write to NVRAM byte 0x7e kills it, before anything is applied. */
static void crash_point(uint32_t offset, bool write)
{
	if (saved->crashes == 0 && offset == 1u && write && saved->rtc.index == 0x7eu) {
		saved->crashes++;
		arch_undefined_instruction(); /* a fault, not an exit: the kernel restarts it */
	}
}
#else
static void crash_point(uint32_t offset, bool write)
{
	(void)offset;
	(void)write;
}
#endif

/** One trapped access; false: not one of its guest's IN/OUT of its ports (abort). */
static bool serve(const struct slots *s, const uint64_t *r, uint64_t *value)
{
	uint64_t badge = r[IPC_REG_CAP], how = r[IPC_REG_WORD0 + 1], offset = r[IPC_REG_WORD0 + 4];
	if (r[IPC_REG_LABEL] != IPC_LABEL_MMIO ||
	    badge != DMOP_ROUTE_BADGE(s->target, saved->server) || (how & IPC_MMIO_PORT) == 0 ||
	    offset >= RTC_PORTS)
		return false;
	bool write = (how & IPC_MMIO_WRITE) != 0;
	uint8_t b = (uint8_t)r[IPC_REG_WORD0 + 2];
	crash_point((uint32_t)offset, write);
	if (rtc_access(&saved->rtc, now_us(), (uint32_t)offset,
	               (uint32_t)(how & IPC_MMIO_SIZE_MASK), write, &b) != RTC_OK)
		return false;
	saved->served++;
	*value = write ? 0 : b;
	return true;
}

int svc_main(uint64_t arg)
{
	(void)arg;
	static struct slots s;
	uint32_t notify[CAP_SLOT_COUNT], notify_count;
	find_slots(&s, notify, &notify_count);
	tsc_khz = cpuid_eax(0x40000010u);
	if (s.ep == NO_SLOT || s.dmop == NO_SLOT || tsc_khz == 0) {
		svc_printf("no endpoint, no dmop service or no TSC rate\n");
		return 1;
	}
	bool kept = saved->magic == VRTC_MAGIC && saved->version == VRTC_VERSION &&
	            saved->stage <= VRTC_RESTRICTED && rtc_state_valid(&saved->rtc);
	if (!kept) {
		memset(saved, 0, sizeof(*saved));
		rtc_init(&saved->rtc, now_us());
		saved->version = VRTC_VERSION;
		saved->magic = VRTC_MAGIC;
	} else {
		saved->restarts++;
	}
	if (!set_up(&s))
		return 1;
	if (kept)
		svc_printf("restarted (%u): server %u kept, %u accesses served before\n",
		           (unsigned)saved->restarts, (unsigned)saved->server,
		           (unsigned)saved->served);
	else
		svc_printf("CMOS RTC at ports 0x70-0x71 of guest %u through dmop (server %u)\n",
		           (unsigned)s.target, (unsigned)saved->server);
	for (uint32_t i = 0; i < notify_count; i++)
		(void)svc_signal(notify[i]);
	drop_others(&s);
	uint64_t r[IPC_REG_COUNT] = { HC_RECV, s.ep };
	svc_hypercall(r);
	for (;;) {
		uint64_t value = 0;
		bool received = r[0] == STATUS_OK;
		bool done = received && serve(&s, r, &value);
		for (uint32_t i = 0; i < IPC_REG_COUNT; i++)
			r[i] = 0;
		r[0] = received ? HC_REPLY_RECV : HC_RECV;
		r[1] = s.ep;
		r[IPC_REG_WORD0] = done ? IPC_MMIO_DONE : IPC_MMIO_ABORT;
		r[IPC_REG_WORD0 + 1] = value;
		svc_hypercall(r);
	}
}
