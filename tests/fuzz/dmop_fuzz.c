/**
 * libFuzzer target for the dmop service's core (services/dmop/dmop.c): random calls by four
 * device models on five guests (some theirs, some not, one their own id), any nr_bufs, buffer
 * descriptors inside, across and past the shared region, and buffer contents that are mostly a
 * well-formed operation with random arguments. Checked after every call (abort on failure):
 *  - a refused call had no effect on the machine (no route, line, event, MSI, shutdown, page
 *    type or dirty bit touched), also when the machine itself refuses (some lines, page
 *    batches and shutdown reasons: NOT_SUPPORTED, as the service's kernel glue answers);
 *  - the machine is only ever asked to act on a guest the caller may serve, never on the
 *    caller itself, and never, after the caller's dm_restrict, on another guest than its own;
 *  - lines, reasons and page ranges stay within their bounds;
 *  - the audit ring's newest record is this call.
 * ASan and UBSan catch out-of-bounds accesses and undefined behaviour.
 */
#include <stdlib.h>
#include <string.h>

#include "dmop.h"

#define RAM_PFN 0x40000u
#define RAM_PAGES 0x2000u

static struct dmop d;
static uint8_t region[4096];
static unsigned effects;
static uint32_t cur_caller, restricted_to[8];
static bool is_restricted[8];

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

static bool allowed(uint32_t caller, uint32_t target)
{
	return target != 4u && (target + caller) % 3u != 0;
}

/** The machine is asked about target: only one the caller may act on. */
static void asked(uint32_t target)
{
	if (!allowed(cur_caller, target) || target == cur_caller)
		abort();
	if (is_restricted[cur_caller] && restricted_to[cur_caller] != target)
		abort();
}

static void acted_on(uint32_t target)
{
	effects++;
	asked(target);
}

static bool f_allowed(void *ctx, uint32_t caller, uint32_t target)
{
	(void)ctx;
	return allowed(caller, target);
}
static bool f_exists(void *ctx, uint32_t target)
{
	(void)ctx;
	return target < 5u;
}
static uint32_t f_vcpus(void *ctx, uint32_t target)
{
	(void)ctx;
	(void)target;
	return 2;
}
static void f_ram(void *ctx, uint32_t target, uint64_t *first, uint64_t *pages)
{
	(void)ctx;
	(void)target;
	*first = RAM_PFN;
	*pages = RAM_PAGES;
}
static enum dmop_error f_route(void *ctx, uint32_t target, uint32_t id, uint32_t type,
                               uint64_t start, uint64_t end, bool map)
{
	(void)ctx;
	(void)map;
	acted_on(target);
	if (id >= DMOP_SERVERS || type >= DMOP_RANGE_TYPES || start > end)
		abort();
	return DMOP_OK;
}
static enum dmop_error f_irq(void *ctx, uint32_t target, enum dmop_irq_kind kind, uint32_t line,
                             uint32_t level)
{
	(void)ctx;
	asked(target);
	if (kind == DMOP_IRQ_ISA && line == 13u)
		return DMOP_ERR_NOT_SUPPORTED; /* a line the machine cannot drive */
	acted_on(target);
	if ((kind == DMOP_IRQ_PCI_INTX && (line > 127u || level > 1u)) ||
	    (kind == DMOP_IRQ_ISA && (line > 15u || level > 1u)) ||
	    (kind == DMOP_IRQ_LINK_ROUTE && (line > 3u || level > 15u)))
		abort();
	return DMOP_OK;
}
static enum dmop_error f_track(void *ctx, uint32_t target, uint64_t first, uint64_t nr,
                               uint8_t *bitmap)
{
	(void)ctx;
	acted_on(target);
	if (nr != 0 && (first < RAM_PFN || nr > RAM_PAGES || first - RAM_PFN > RAM_PAGES - nr))
		abort();
	for (uint64_t i = 0; i < nr; i++)
		if (((first + i) & 3u) == 0)
			bitmap[i / 8u] |= (uint8_t)(1u << (i % 8u));
	return DMOP_OK;
}
static void f_mark(void *ctx, uint32_t target, uint64_t pfn, uint64_t nr)
{
	(void)ctx;
	acted_on(target);
	if (pfn < RAM_PFN || nr == 0 || pfn - RAM_PFN + nr > RAM_PAGES)
		abort();
}
static enum dmop_error f_mem(void *ctx, uint32_t target, uint64_t pfn, uint64_t nr, uint32_t type)
{
	(void)ctx;
	(void)type;
	asked(target);
	if (nr == 13u)
		return DMOP_ERR_NOT_SUPPORTED;
	acted_on(target);
	if (pfn < RAM_PFN || nr == 0 || nr > DMOP_MEM_BATCH || pfn - RAM_PFN + nr > DMOP_MEM_PAGES)
		abort();
	return DMOP_OK;
}
static enum dmop_error f_event(void *ctx, uint32_t target, const struct dmop_inject_event *e)
{
	(void)ctx;
	acted_on(target);
	if (e->vcpu >= 2u || e->type > 7u)
		abort();
	return (e->vector & 1u) ? DMOP_ERR_BUSY : DMOP_OK;
}
static enum dmop_error f_msi(void *ctx, uint32_t target, uint64_t addr, uint32_t data)
{
	(void)ctx;
	(void)addr;
	(void)data;
	acted_on(target);
	return DMOP_OK;
}
static enum dmop_error f_write_server(void *ctx, uint32_t target, uint32_t owner, uint32_t id,
                                      bool on)
{
	(void)ctx;
	(void)owner;
	(void)id;
	(void)on;
	acted_on(target);
	return DMOP_OK;
}
static enum dmop_error f_shutdown(void *ctx, uint32_t target, uint32_t reason)
{
	(void)ctx;
	asked(target);
	if (reason == 4u)
		return DMOP_ERR_NOT_SUPPORTED;
	acted_on(target);
	if (reason > DMOP_SHUTDOWN_REASON_MAX)
		abort();
	return DMOP_OK;
}

static const struct dmop_env env = { NULL,           f_allowed, f_exists, f_vcpus,   f_ram,
	                             f_route,        f_irq,     f_track,  f_mark,    f_mem,
	                             f_write_server, f_event,   f_msi,    f_shutdown };

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct input in = { data, size };
	dmop_init(&d);
	memset(is_restricted, 0, sizeof(is_restricted));
	while (in.size != 0) {
		uint32_t caller = (uint32_t)(take(&in, 1) % 4u);
		uint32_t target = (uint32_t)(take(&in, 1) % 6u);
		uint32_t nr_bufs = (uint32_t)(take(&in, 1) % 4u);
		uint64_t desc[4];
		for (unsigned i = 0; i < 4; i++) {
			uint64_t r = take(&in, 1);
			desc[i] = r < 200u ? (i % 2u ? 40u + r : r * 16u) : take(&in, 8);
		}
		memset(region, 0, sizeof(region));
		uint64_t at = desc[0] < sizeof(region) ? desc[0] : 0;
		uint32_t op = (uint32_t)(take(&in, 1) % (DMOP_OP_COUNT + 2u));
		memcpy(region + at, &op, at + 4u <= sizeof(region) ? 4u : 0u);
		size_t n = (size_t)take(&in, 1);
		for (size_t i = 0; i < n; i++) {
			size_t where = (size_t)(take(&in, 2) % sizeof(region));
			region[where] = (uint8_t)take(&in, 1);
		}
		unsigned before = effects;
		cur_caller = caller;
		uint32_t seq = d.audit_count;
		enum dmop_error e =
		        dmop_call(&d, &env, caller, target, nr_bufs, desc, region, sizeof(region));
		struct dmop_audit a;
		uint32_t kept = d.audit_count < DMOP_AUDIT ? d.audit_count : DMOP_AUDIT;
		if (d.audit_count != seq + 1u || !dmop_audit_get(&d, kept - 1u, &a) ||
		    a.seq != seq || a.caller != caller || a.target != target ||
		    a.error != (uint16_t)e)
			abort();
		/* The operation the service read (the random bytes may have replaced op). */
		if (e != DMOP_OK && e != DMOP_ERR_CONTINUE && effects != before &&
		    a.op != DMOP_INJECT_EVENT)
			abort(); /* inject_event's EBUSY comes from the machine itself */
		if (e == DMOP_OK && a.op == DMOP_RESTRICT && !is_restricted[caller]) {
			is_restricted[caller] = true;
			restricted_to[caller] = target;
		}
	}
	return 0;
}
