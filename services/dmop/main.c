/**
 * The dmop service partition: device models call it over IPC with the dm_op ABI
 * (ipc/dmop.h); it runs dmop_call() (dmop.c) with a struct dmop_env wired to the kernel.
 *
 * Capabilities are found by type and badge, so a manifest may put them anywhere
 * (ipc/dmop.h has the badge layouts; docs/device-models.md an example):
 *
 *   endpoint, recv          where device models call (the first one)
 *   guest, dm (+ inject)    each guest it mediates for; the badge names the guest, its vCPUs,
 *                           its RAM and the SPIs of a model's lines
 *   endpoint, send, 'R'     a device model's own endpoint: ioreq server ranges route there
 *   endpoint, send, 'M'     the vits service's, for one (guest, model) pair: inject_msi
 *
 * A caller is known by the badge of its endpoint capability, which the manifest sets: the
 * model's partition index, the one guest it may serve, and its shared region with this
 * service (mapped here at the IPA the badge gives, at or above DMOP_REGION_FLOOR). The
 * described buffers are copied out of the shared region before dmop_call() sees them and the
 * results copied back after, so a model that changes its buffers mid-call (another vCPU of
 * it) changes nothing the core has checked.
 *
 * What each operation does to the machine:
 *
 *   map/unmap_io_range   MEMORY, PCI (SBDF: IPC_ROUTE_PCI, the functions' configuration
 *                        space in the guest's ECAM window), and PORT on x86 (DMOP_HAS_PORTS):
 *                        HC_GUEST_ROUTE to the model's endpoint, badge DMOP_ROUTE_BADGE(guest,
 *                        server); the kernel routes ports only inside the guest's port
 *                        windows and functions only inside its ECAM window (else DENIED);
 *                        PORT on arm64: NOT_SUPPORTED
 *   set_*_level, link    lines.c, then HC_GUEST_IRQ on the SPIs the guest's badge gives
 *   inject_event         arm64: the vector is an SPI, raised and lowered (an edge)
 *   inject_msi           a call to the vits service (VITS_LABEL_MSI, the data as EventID)
 *   track_dirty_vram     HC_DM DIRTY_TRACK (a new range: armed, all reported written) and
 *                        DIRTY_FETCH, 64 pages a call
 *   modified_memory      HC_DM DIRTY_MARK over each extent
 *   set_mem_type         HC_DM MEM_TYPE: ram_ro (the guest's writes dropped), ram_rw, and
 *                        ioreq_server (its writes sent to the server's model, reads RAM's)
 *   map_mem_type_to_     HC_DM WRITE_SERVER: the model's endpoint (DMOP_EP_ROUTE) with its
 *   ioreq_server         server's route badge; unmapped (or the server destroyed): none, and
 *                        the type's pages become ram_rw
 *   remote_shutdown      HC_DM SHUTDOWN (the guest stops as its own SYSTEM_OFF stops it)
 *
 * The state (struct dmop, the lines, the guests it was made for) lives at DMOP_STATE_IPA, in
 * a region the manifest marks `preserve;`, so a restarted instance keeps every server, range,
 * restriction and the audit log (dmop_state_valid() first; a state that fails it, or was made
 * for other guests, is started afresh). What it did to the machine is reconciled at start:
 * the one route call that may have been in flight (an intent written before HC_GUEST_ROUTE)
 * is made to agree with the core's tables, and every line is driven to its recorded level.
 * A call it dies in is not audited and its caller gets STATUS_PEER_STOPPED: a call cut short
 * before the core changed anything, or inside a route call, may simply be made again. (A crash
 * after the core's work and before the reply would make a retry repeat it; the service has no
 * crash point there, and a model that retries checks with get_ioreq_server_info.)
 *
 * DMOP_CRASH_TEST builds the kill test's variant (dmop-crash): it faults at pseudo-random
 * points (a call received, nothing done; inside a route call, after the kernel's part),
 * DMOP_CRASH_LIMIT times in all, counting in the preserved state.
 */
#include <ipc/dmop.h>
#include <ipc/vits.h>
#include <svc/svc.h>
#include <svc_arch.h>

#include "dmop.h"
#include "lines.h"

#define DMOP_PAGE 4096u
/** Shared regions must lie at or above this IPA (the service's own RAM is below). */
#define DMOP_REGION_FLOOR UINT64_C(0x1000000)
/** The largest shared region (a 1 GiB track_dirty_vram bitmap is 32 KiB). */
#define DMOP_REGION_MAX 0x10000u
#define DMOP_EPS 8u
/** Where the manifest maps the preserved state region, and the least size it may have. */
#define DMOP_STATE_IPA 0x400000u
#define DMOP_STATE_REGION 0x40000u
#define DMOP_STATE_MAGIC 0x53504d44u /* "DMPS" */
#define DMOP_STATE_VERSION 2u        /* 2: the intent's range type */

struct guest {
	uint32_t slot, index;
	uint64_t badge;
	bool inject;
	uint64_t track_first, track_nr; /**< the range the kernel's dirty log tracks */
	struct dmop_lines *lines;       /**< in the preserved state */
};

/** A route call in flight: written before HC_GUEST_ROUTE, cleared when the call returns. */
struct intent {
	uint32_t pending, target, ep_slot, type; /**< type: DMOP_RANGE_MEMORY or _PORT */
	uint64_t start, end;
};

/** Everything that survives a restart (DMOP_STATE_IPA). */
struct dmop_saved {
	uint32_t magic, version;
	uint64_t size;
	uint32_t generation, guest_count;
	uint64_t guest_badge[DMOP_TARGETS]; /**< the guests it was made for, in slot order */
	struct dmop_lines lines[DMOP_TARGETS];
	struct intent intent;
	uint64_t crashes, rng; /**< the kill test's (DMOP_CRASH_TEST) */
	struct dmop d;
};

_Static_assert(sizeof(struct dmop_saved) <= DMOP_STATE_REGION,
               "the preserved state must fit in its region");

static struct dmop_saved *const saved = (struct dmop_saved *)(uintptr_t)DMOP_STATE_IPA;

#ifdef DMOP_CRASH_TEST
#define DMOP_CRASH_LIMIT 10u
#define DMOP_CRASH_ODDS 13u
/** route: the first crash is always in the first route call, so that reconciling is tested. */
static void crash_point(bool route)
{
	if (saved->crashes >= DMOP_CRASH_LIMIT)
		return;
	saved->rng = saved->rng * 6364136223846793005ull + 1442695040888963407ull;
	if ((saved->rng >> 33) % DMOP_CRASH_ODDS == 0 || (route && saved->crashes == 0)) {
		saved->crashes++;
		arch_undefined_instruction(); /* a fault, not an exit: the kernel restarts it */
	}
}
#else
static void crash_point(bool route)
{
	(void)route;
}
#endif

struct ep {
	uint32_t slot, model, guest; /**< guest: DMOP_EP_MSI only */
};

static struct guest guests[DMOP_TARGETS];
static uint32_t guest_count;
static struct ep routes[DMOP_EPS], msis[DMOP_EPS];
static uint32_t route_count, msi_count;
static uint8_t bounce[DMOP_REGION_MAX];

/** The call in flight: who makes it (dmop_env's ctx). */
struct caller {
	uint64_t badge;
	uint64_t delivered; /**< inject_msi: 1 if the virtual ITS made it an LPI (reply w2) */
};

static struct guest *guest_of(uint32_t index)
{
	for (uint32_t i = 0; i < guest_count; i++)
		if (guests[i].index == index)
			return &guests[i];
	return NULL;
}

static uint64_t hc6(uint64_t nr, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                    uint64_t r6)
{
	uint64_t r[IPC_REG_COUNT] = { nr, r1, r2, r3, r4, r5, r6 };
	svc_hypercall(r);
	return r[0];
}

/* ---- struct dmop_env ------------------------------------------------------------------ */

static bool env_allowed(void *ctx, uint32_t caller, uint32_t target)
{
	const struct caller *c = ctx;
	return DMOP_BADGE_CALLER(c->badge) == caller && DMOP_BADGE_TARGET(c->badge) == target;
}

static bool env_exists(void *ctx, uint32_t target)
{
	(void)ctx;
	return guest_of(target) != NULL;
}

static uint32_t env_vcpus(void *ctx, uint32_t target)
{
	(void)ctx;
	const struct guest *g = guest_of(target);
	return g != NULL ? DMOP_GUEST_VCPUS(g->badge) : 0;
}

static void env_ram(void *ctx, uint32_t target, uint64_t *first_pfn, uint64_t *pages)
{
	(void)ctx;
	const struct guest *g = guest_of(target);
	*first_pfn = g != NULL ? DMOP_GUEST_RAM_MB(g->badge) << 8 : 0;
	*pages = g != NULL ? DMOP_GUEST_RAM_MBS(g->badge) << 8 : 0;
}

static const struct ep *route_ep(uint32_t model)
{
	for (uint32_t i = 0; i < route_count; i++)
		if (routes[i].model == model)
			return &routes[i];
	return NULL;
}

/** HC_GUEST_ROUTE's operation for a range of this type (ports: IPC_ROUTE_PORTS). */
static uint64_t route_op(uint32_t type, bool map)
{
	return (map ? IPC_ROUTE_MAP : IPC_ROUTE_UNMAP) |
	       (type == DMOP_RANGE_PORT ? IPC_ROUTE_PORTS : 0u) |
	       (type == DMOP_RANGE_PCI ? IPC_ROUTE_PCI : 0u);
}

static enum dmop_error env_route(void *ctx, uint32_t target, uint32_t id, uint32_t type,
                                 uint64_t start, uint64_t end, bool map)
{
	const struct caller *c = ctx;
	const struct guest *g = guest_of(target);
	const struct ep *ep = route_ep(DMOP_BADGE_CALLER(c->badge));
	bool routable = type == DMOP_RANGE_MEMORY || type == DMOP_RANGE_PCI ||
	                (type == DMOP_RANGE_PORT && DMOP_HAS_PORTS);
	if (!routable || g == NULL || ep == NULL)
		return DMOP_ERR_NOT_SUPPORTED;
	if (end == UINT64_MAX)
		return DMOP_ERR_INVALID; /* its size does not fit in 64 bits */
	saved->intent = (struct intent){ 1, target, ep->slot, type, start, end };
	uint64_t s = hc6(HC_GUEST_ROUTE, g->slot, ep->slot, start, end - start + 1u,
	                 route_op(type, map), DMOP_ROUTE_BADGE(target, id));
	crash_point(true); /* the kernel's part done, the core's not: the successor reconciles */
	switch (s) {
	case STATUS_OK:
		return DMOP_OK;
	case STATUS_BUSY:
		return DMOP_ERR_NO_SPACE; /* the kernel's routes are all taken */
	case STATUS_INVALID_ARG:
		/* It meets the guest's memory, a manifest range or another route (or the IPA space). */
		return map ? DMOP_ERR_EXISTS : DMOP_ERR_NOT_FOUND;
	default:
		/*
		 * STATUS_NO_RIGHTS: ports outside the guest's port windows, functions outside its
		 * ECAM window (the manifest's, not the model's to take).
		 */
		return DMOP_ERR_DENIED;
	}
}

/** Drive the guest's lines to what its sources want, one HC_GUEST_IRQ per change. */
static enum dmop_error drive(struct guest *g, uint32_t want)
{
	uint32_t base = DMOP_GUEST_SPI_BASE(g->badge);
	uint32_t change = (want ^ g->lines->driven) & ((1u << DMOP_GUEST_LINES) - 1u);
	for (uint32_t line = 0; line < DMOP_GUEST_LINES; line++) {
		if ((change >> line & 1u) == 0)
			continue;
		bool high = (want >> line & 1u) != 0;
		uint64_t s = hc6(HC_GUEST_IRQ, g->slot, 0, base + line,
		                 high ? IPC_GUEST_IRQ_RAISE : IPC_GUEST_IRQ_LOWER, 0, 0);
		if (s != STATUS_OK)
			return DMOP_ERR_INVALID; /* the manifest's SPI is not one the guest has */
		g->lines->driven ^= 1u << line;
	}
	return DMOP_OK;
}

static enum dmop_error env_irq(void *ctx, uint32_t target, enum dmop_irq_kind kind, uint32_t line,
                               uint32_t level)
{
	(void)ctx;
	struct guest *g = guest_of(target);
	if (g == NULL || !g->inject || DMOP_GUEST_SPI_BASE(g->badge) == 0)
		return DMOP_ERR_NOT_SUPPORTED; /* the manifest gave this guest no lines */
	struct dmop_lines before = *g->lines;
	enum dmop_error e = drive(g, dmop_lines_set(g->lines, kind, line, level));
	if (e != DMOP_OK) {
		/* What the kernel refused is not recorded; what it took stays driven. */
		uint32_t driven = g->lines->driven;
		*g->lines = before;
		g->lines->driven = driven;
	}
	return e;
}

/** HC_DM on guest g: the status; r1 and r2 where asked for. */
static uint64_t hc_dm(const struct guest *g, uint64_t op, uint64_t a0, uint64_t a1, uint64_t a2,
                      uint64_t *r1, uint64_t *r2)
{
	uint64_t r[IPC_REG_COUNT] = { HC_DM, g->slot, op, a0, a1, a2 };
	svc_hypercall(r);
	if (r1 != NULL)
		*r1 = r[IPC_REG_CAP];
	if (r2 != NULL)
		*r2 = r[IPC_REG_LABEL];
	return r[0];
}

static enum dmop_error dm_error(uint64_t status)
{
	switch (status) {
	case STATUS_OK:
		return DMOP_OK;
	case STATUS_BUSY:
		return DMOP_ERR_NO_SPACE; /* the guest's table quota or read-only ranges are spent */
	case STATUS_NO_RIGHTS:
	case STATUS_INVALID_CAP:
	case STATUS_WRONG_TYPE:
		return DMOP_ERR_NOT_SUPPORTED; /* the manifest gave no dm right over this guest */
	case STATUS_PEER_STOPPED:
		return DMOP_ERR_NO_TARGET; /* stopped (Xen: a dying domain, -ESRCH) */
	default:
		return DMOP_ERR_INVALID;
	}
}

/**
 * The kernel's dirty log (HC_DM DIRTY_*): a range other than the one tracked is armed first
 * (every page write-locked) and reported written whole, as Xen does for a new range; then
 * each call fetches 64 pages at a time. A restarted service does not know the range any
 * more: it arms again (the kernel goes on where it was) and reports all pages once; so does a
 * call after the guest restarted, whose log the kernel forgot (a fetch then finds no range).
 */
static enum dmop_error env_track_dirty(void *ctx, uint32_t target, uint64_t first, uint64_t nr,
                                       uint8_t *bitmap)
{
	(void)ctx;
	struct guest *g = guest_of(target);
	if (g == NULL)
		return DMOP_ERR_NOT_SUPPORTED;
	uint64_t s, done = 0, count = 0;
	if (nr == 0) {
		g->track_first = g->track_nr = 0;
		return dm_error(hc_dm(g, IPC_DM_DIRTY_TRACK, 0, 0, 0, NULL, NULL));
	}
	if (first == g->track_first && nr == g->track_nr) {
		for (uint64_t i = 0; i < nr; i += count) {
			uint64_t n = nr - i < IPC_DM_FETCH_MAX ? nr - i : IPC_DM_FETCH_MAX,
			         bits = 0;
			s = hc_dm(g, IPC_DM_DIRTY_FETCH, (first + i) * DMOP_PAGE, n, 0, &bits,
			          &count);
			if (s == STATUS_INVALID_ARG && i == 0)
				break; /* the kernel tracks no such range (the guest restarted) */
			for (uint64_t b = 0; b < count; b++) {
				uint8_t bit = (uint8_t)(1u << ((i + b) % 8u));
				if ((bits >> b) & 1u)
					bitmap[(i + b) / 8u] |= bit;
				else
					bitmap[(i + b) / 8u] &= (uint8_t)~bit;
			}
			if (s != STATUS_OK)
				return dm_error(s); /* pages past those done stay as they were */
			if (i + count >= nr)
				return DMOP_OK;
		}
	}
	/* A new range: armed (every page locked), then reported written whole. */
	g->track_first = g->track_nr = 0;
	do {
		s = hc_dm(g, IPC_DM_DIRTY_TRACK, first * DMOP_PAGE, nr * DMOP_PAGE, 0, &done, NULL);
	} while (s == STATUS_OK && done < nr * DMOP_PAGE);
	if (s != STATUS_OK)
		return dm_error(s);
	g->track_first = first;
	g->track_nr = nr;
	for (uint64_t i = 0; i < nr; i++)
		bitmap[i / 8u] |= (uint8_t)(1u << (i % 8u));
	return DMOP_OK;
}

/** modified_memory: the tracked pages of the extent count as written. */
static void env_mark_dirty(void *ctx, uint32_t target, uint64_t pfn, uint64_t nr)
{
	(void)ctx;
	const struct guest *g = guest_of(target);
	uint64_t done = 0;
	for (uint64_t at = 0; g != NULL && at < nr * DMOP_PAGE; at += done)
		if (hc_dm(g, IPC_DM_DIRTY_MARK, pfn * DMOP_PAGE + at, nr * DMOP_PAGE - at, 0, &done,
		          NULL) != STATUS_OK ||
		    done == 0)
			return;
}

/** Memory types through HC_DM: ram_ro, ram_rw, and ioreq_server (the kernel's write-served). */
static enum dmop_error env_mem_type(void *ctx, uint32_t target, uint64_t pfn, uint64_t nr,
                                    uint32_t type)
{
	(void)ctx;
	const struct guest *g = guest_of(target);
	uint64_t kind = type == DMOP_MEM_RAM_RO       ? IPC_DM_RAM_RO :
	                type == DMOP_MEM_IOREQ_SERVER ? IPC_DM_RAM_WRITE_SERVER :
	                                                IPC_DM_RAM_RW;
	if (g == NULL ||
	    (type != DMOP_MEM_RAM_RW && type != DMOP_MEM_RAM_RO && type != DMOP_MEM_IOREQ_SERVER))
		return DMOP_ERR_NOT_SUPPORTED;
	uint64_t done = 0;
	for (uint64_t at = 0; at < nr * DMOP_PAGE; at += done) {
		uint64_t s = hc_dm(g, IPC_DM_MEM_TYPE, pfn * DMOP_PAGE + at, nr * DMOP_PAGE - at,
		                   kind, &done, NULL);
		if (s != STATUS_OK)
			return dm_error(s);
	}
	return DMOP_OK;
}

/**
 * The ioreq_server type's writes: to the owner's endpoint with the route badge of its server
 * (the model tells them apart from its ranges' accesses by w5 = IPC_MMIO_INDEX_MEM_TYPE).
 */
static enum dmop_error env_write_server(void *ctx, uint32_t target, uint32_t owner, uint32_t id,
                                        bool on)
{
	(void)ctx;
	const struct guest *g = guest_of(target);
	const struct ep *ep = route_ep(owner);
	if (g == NULL || (on && ep == NULL))
		return DMOP_ERR_NOT_SUPPORTED; /* no endpoint of that model to send the writes to */
	return dm_error(hc_dm(g, IPC_DM_WRITE_SERVER, on ? ep->slot : IPC_DM_NO_SERVER,
	                      DMOP_ROUTE_BADGE(target, id), 0, NULL, NULL));
}

static enum dmop_error env_event(void *ctx, uint32_t target, const struct dmop_inject_event *e)
{
	(void)ctx;
	const struct guest *g = guest_of(target);
	if (g == NULL || !g->inject)
		return DMOP_ERR_NOT_SUPPORTED;
	if (e->type != 0 || e->vector < 32u)
		return DMOP_ERR_INVALID; /* arm64: an external interrupt on an SPI only */
	if (hc6(HC_GUEST_IRQ, g->slot, 0, e->vector, IPC_GUEST_IRQ_RAISE, 0, 0) != STATUS_OK)
		return DMOP_ERR_INVALID;
	(void)hc6(HC_GUEST_IRQ, g->slot, 0, e->vector, IPC_GUEST_IRQ_LOWER, 0, 0);
	return DMOP_OK;
}

static enum dmop_error env_msi(void *ctx, uint32_t target, uint64_t addr, uint32_t data)
{
	struct caller *c = ctx;
	(void)addr; /* the guest's one doorbell is its virtual ITS's GITS_TRANSLATER */
	for (uint32_t i = 0; i < msi_count; i++) {
		if (msis[i].model != DMOP_BADGE_CALLER(c->badge) || msis[i].guest != target)
			continue;
		struct msg m = { .label = VITS_LABEL_MSI, .w = { data } };
		/* A write the ITS drops (an unmapped event) is dropped as on hardware: no error. */
		if (svc_call(msis[i].slot, &m) != STATUS_OK)
			return DMOP_ERR_BUSY;
		c->delivered = m.w[0] == 1u;
		return DMOP_OK;
	}
	return DMOP_ERR_NOT_SUPPORTED;
}

static enum dmop_error env_shutdown(void *ctx, uint32_t target, uint32_t reason)
{
	(void)ctx;
	const struct guest *g = guest_of(target);
	if (g == NULL)
		return DMOP_ERR_NOT_SUPPORTED;
	return dm_error(hc_dm(g, IPC_DM_SHUTDOWN, reason, 0, 0, NULL, NULL));
}

/* ---- the calls -------------------------------------------------------------------------- */

/** Whether [offset, offset + len) lies in a region of size bytes. */
static bool inside(uint64_t offset, uint64_t len, uint64_t size)
{
	return offset <= size && len <= size - offset;
}

/** One dm_op call: words as received, the caller's badge; fills the reply's words 0..2. */
static void dm_op(uint64_t badge, const uint64_t *w, uint64_t *out)
{
	struct caller c = { badge, 0 };
	const struct dmop_env env = {
		&c,      env_allowed,     env_exists,     env_vcpus,    env_ram,          env_route,
		env_irq, env_track_dirty, env_mark_dirty, env_mem_type, env_write_server, env_event,
		env_msi, env_shutdown,
	};
	/* No truncation may alias: 2^32 is no guest, 2^32 + 1 buffers are too many. */
	uint32_t target = w[0] <= UINT32_MAX ? (uint32_t)w[0] : UINT32_MAX;
	uint32_t nr_bufs = w[1] <= DMOP_MAX_BUFS ? (uint32_t)w[1] : DMOP_MAX_BUFS + 1u;
	uint64_t ipa = DMOP_BADGE_REGION_PAGE(badge) * DMOP_PAGE;
	uint64_t size = DMOP_BADGE_REGION_PAGES(badge) * DMOP_PAGE;
	if (ipa < DMOP_REGION_FLOOR || size > DMOP_REGION_MAX)
		size = 0; /* a manifest mistake: every buffer is refused */
	const uint8_t *region = (const uint8_t *)(uintptr_t)ipa;
	const uint64_t *desc = &w[2];
	for (uint32_t b = 0; b < nr_bufs && b < DMOP_MAX_BUFS; b++)
		if (inside(desc[2 * b], desc[2 * b + 1], size))
			memcpy(&bounce[desc[2 * b]], region + desc[2 * b], desc[2 * b + 1]);
	enum dmop_error e = dmop_call(&saved->d, &env, DMOP_BADGE_CALLER(badge), target, nr_bufs,
	                              desc, bounce, size);
	for (uint32_t b = 0; b < nr_bufs && b < DMOP_MAX_BUFS; b++)
		if (inside(desc[2 * b], desc[2 * b + 1], size))
			memcpy((uint8_t *)(uintptr_t)ipa + desc[2 * b], &bounce[desc[2 * b]],
			       desc[2 * b + 1]);
	out[0] = dmop_status(e);
	out[1] = e;
	out[2] = c.delivered;
}

/** DMOP_LABEL_AUDIT (ipc/dmop.h): reply words 0..5. */
static void audit(uint64_t badge, const uint64_t *w, uint64_t *out)
{
	out[0] = STATUS_INVALID_ARG;
	if ((badge & DMOP_BADGE_AUDITOR) == 0) {
		out[0] = STATUS_NO_RIGHTS;
		return;
	}
	struct dmop_audit a;
	const struct dmop_model *m;
	if (w[0] == DMOP_AUDIT_RECORD && w[1] <= UINT32_MAX &&
	    dmop_audit_get(&saved->d, (uint32_t)w[1], &a)) {
		out[0] = STATUS_OK;
		out[1] = saved->d.audit_count;
		out[2] = a.seq;
		out[3] = a.caller;
		out[4] = a.target;
		out[5] = a.op | (uint64_t)a.error << 16;
	} else if (w[0] == DMOP_AUDIT_MODEL && w[1] <= UINT32_MAX &&
	           (m = dmop_model_of(&saved->d, (uint32_t)w[1])) != NULL) {
		out[0] = STATUS_OK;
		out[1] = m->calls;
		out[2] = m->denied;
		out[3] = m->refused;
		out[4] = m->restricted;
		out[5] = m->restrict_target;
	}
}

/** The endpoint it receives on, and the guests and endpoints the manifest gave it. */
static uint32_t find_caps(void)
{
	uint32_t ep = CAP_SLOT_COUNT;
	for (uint32_t i = 0; i < CAP_SLOT_COUNT; i++) {
		uint32_t type, rights;
		uint64_t badge;
		if (svc_cap_info(i, &type, &rights, &badge) != STATUS_OK)
			continue;
		if (type == CAP_ENDPOINT && (rights & RIGHT_EP_RECV) != 0 && ep == CAP_SLOT_COUNT) {
			ep = i;
		} else if (type == CAP_GUEST && (rights & RIGHT_GUEST_DM) != 0 &&
		           guest_count < DMOP_TARGETS &&
		           guest_of(DMOP_GUEST_INDEX(badge)) == NULL) {
			guests[guest_count++] = (struct guest){
				.slot = i,
				.index = DMOP_GUEST_INDEX(badge),
				.badge = badge,
				.inject = (rights & RIGHT_GUEST_INJECT) != 0,
			};
		} else if (type == CAP_ENDPOINT && (rights & RIGHT_EP_SEND) != 0) {
			if (DMOP_EP_KIND(badge) == DMOP_EP_ROUTE && route_count < DMOP_EPS)
				routes[route_count++] =
				        (struct ep){ i, DMOP_EP_ROUTE_MODEL(badge), 0 };
			else if (DMOP_EP_KIND(badge) == DMOP_EP_MSI && msi_count < DMOP_EPS)
				msis[msi_count++] = (struct ep){ i, DMOP_EP_MSI_MODEL(badge),
					                         DMOP_EP_MSI_GUEST(badge) };
		}
	}
	return ep;
}

/* ---- what survives a restart ------------------------------------------------------------ */

/** Whether the preserved state was made for these guests and holds only what the core writes. */
static bool state_kept(void)
{
	if (saved->magic != DMOP_STATE_MAGIC || saved->version != DMOP_STATE_VERSION ||
	    saved->size != sizeof(*saved) || saved->guest_count != guest_count)
		return false;
	for (uint32_t i = 0; i < guest_count; i++)
		if (saved->guest_badge[i] != guests[i].badge)
			return false;
	return dmop_state_valid(&saved->d);
}

static void state_fresh(void)
{
	uint64_t crashes = saved->crashes, rng = saved->rng;
	memset(saved, 0, sizeof(*saved));
	dmop_init(&saved->d);
	saved->crashes = crashes;
	saved->rng = rng;
	saved->version = DMOP_STATE_VERSION;
	saved->size = sizeof(*saved);
	saved->guest_count = guest_count;
	for (uint32_t i = 0; i < guest_count; i++)
		saved->guest_badge[i] = guests[i].badge;
	saved->magic = DMOP_STATE_MAGIC;
}

/** Whether the core records [start, end] as a range of target's of type (the server's id). */
static bool recorded(uint32_t target, uint32_t type, uint64_t start, uint64_t end, uint32_t *id)
{
	for (uint32_t t = 0; t < DMOP_TARGETS && type < DMOP_RANGE_TYPES; t++) {
		const struct dmop_target *g = &saved->d.target[t];
		for (uint32_t i = 0; g->used && g->id == target && i < DMOP_SERVERS; i++) {
			const struct dmop_server *sv = &g->server[i];
			for (uint32_t r = 0; sv->used && r < sv->nr[type]; r++)
				if (sv->range[type][r].start == start &&
				    sv->range[type][r].end == end) {
					*id = i;
					return true;
				}
		}
	}
	return false;
}

/**
 * The route call a predecessor died in, made to agree with the core's tables: routed if the
 * core records the range (a map it finished, an unmap it had not), unrouted if not. The
 * kernel's answer is not needed: the route is then as it should be, whichever it was.
 */
static void reconcile_route(void)
{
	const struct intent in = saved->intent;
	const struct guest *g = guest_of(in.target);
	uint32_t id;
	if (in.pending == 0 || g == NULL ||
	    (in.type != DMOP_RANGE_MEMORY && in.type != DMOP_RANGE_PORT)) {
		saved->intent.pending = 0; /* no route call of ours: nothing to agree with */
		return;
	}
	bool routed = recorded(in.target, in.type, in.start, in.end, &id);
	uint64_t s = hc6(HC_GUEST_ROUTE, g->slot, in.ep_slot, in.start, in.end - in.start + 1u,
	                 route_op(in.type, routed), routed ? DMOP_ROUTE_BADGE(in.target, id) : 0);
	svc_printf("a route call was cut short: guest %u 0x%llx-0x%llx %s (%s)\n",
	           (unsigned)in.target, (unsigned long long)in.start, (unsigned long long)in.end,
	           routed ? "routed" : "unrouted", s == STATUS_OK ? "changed" : "as it was");
	saved->intent.pending = 0;
}

/**
 * Every line to the level its sources ask for. The sources are recorded before a line is
 * driven and the line's record after, so a predecessor that died in between left a line whose
 * record differs from what it asks for: driving from the record redoes that one call (raising
 * a raised line, or lowering a low one, changes nothing).
 */
static void redrive(void)
{
	for (uint32_t i = 0; i < guest_count; i++) {
		struct guest *g = &guests[i];
		if (g->inject && DMOP_GUEST_SPI_BASE(g->badge) != 0)
			(void)drive(g, dmop_lines_wanted(g->lines));
	}
}

int svc_main(uint64_t arg)
{
	(void)arg;
	uint32_t ep = find_caps();
	if (ep == CAP_SLOT_COUNT || guest_count == 0) {
		svc_printf("no endpoint or no guest to mediate for\n");
		return 1;
	}
	for (uint32_t i = 0; i < guest_count; i++)
		guests[i].lines = &saved->lines[i];
	if (state_kept()) {
		saved->generation++;
		reconcile_route();
		redrive();
		svc_printf(
		        "restarted (%u crashes): kept the state of %u guest(s), %u audit records\n",
		        (unsigned)saved->crashes, (unsigned)guest_count,
		        (unsigned)saved->d.audit_count);
	} else {
		state_fresh();
		svc_printf("mediating for %u guest(s): %u device model endpoint(s), %u MSI "
		           "endpoint(s)\n",
		           (unsigned)guest_count, (unsigned)route_count, (unsigned)msi_count);
	}
	struct msg m;
	enum status s = svc_recv(ep, &m);
	for (;;) {
		uint64_t out[IPC_MSG_WORDS] = { STATUS_INVALID_CALL, DMOP_ERR_UNKNOWN_OP };
		if (s == STATUS_OK && m.label == DMOP_LABEL) {
			crash_point(false); /* received, nothing done: the caller calls again */
			dm_op(m.badge, m.w, out);
		} else if (s == STATUS_OK && m.label == DMOP_LABEL_AUDIT)
			audit(m.badge, m.w, out);
		bool received = s == STATUS_OK;
		m.label = 0;
		for (uint32_t i = 0; i < IPC_MSG_WORDS; i++)
			m.w[i] = out[i];
		s = received ? svc_reply_recv(ep, &m) : svc_recv(ep, &m);
	}
}
