/** The dmop service's core (dmop.h). */
#include "dmop.h"

#include <ipc/abi.h>
#include <stddef.h>
#include <string.h>

void dmop_init(struct dmop *d)
{
	memset(d, 0, sizeof(*d));
}

static bool model_seen(const struct dmop *d, uint32_t id)
{
	for (uint32_t i = 0; i < DMOP_MODELS; i++)
		if (d->model[i].used && d->model[i].id == id)
			return true;
	return false;
}

static bool server_valid(const struct dmop *d, const struct dmop_server *s)
{
	if (!s->used)
		return true;
	if (s->bufioreq > 2u || !model_seen(d, s->owner))
		return false;
	for (uint32_t type = 0; type < DMOP_RANGE_TYPES; type++) {
		if (s->nr[type] > DMOP_RANGES)
			return false;
		for (uint32_t i = 0; i < s->nr[type]; i++)
			if (s->range[type][i].start > s->range[type][i].end)
				return false;
	}
	return true;
}

bool dmop_state_valid(const struct dmop *d)
{
	for (uint32_t i = 0; i < DMOP_MODELS; i++)
		if (d->model[i].used && d->model[i].denied > d->model[i].calls)
			return false;
	for (uint32_t t = 0; t < DMOP_TARGETS; t++) {
		const struct dmop_target *g = &d->target[t];
		if (!g->used)
			continue;
		for (uint32_t id = 0; id < DMOP_SERVERS; id++)
			if (!server_valid(d, &g->server[id]))
				return false;
		for (uint32_t l = 0; l < 4u; l++)
			if (g->link_route[l] > 15u)
				return false;
		for (uint32_t p = 0; p < DMOP_MEM_PAGES; p++)
			if (g->mem_type[p] != DMOP_MEM_RAM_RW &&
			    g->mem_type[p] != DMOP_MEM_RAM_RO &&
			    g->mem_type[p] != DMOP_MEM_IOREQ_SERVER)
				return false;
	}
	return true;
}

uint32_t dmop_status(enum dmop_error e)
{
	switch (e) {
	case DMOP_OK:
		return STATUS_OK;
	case DMOP_ERR_DENIED:
		return STATUS_NO_RIGHTS;
	case DMOP_ERR_NO_TARGET:
		return STATUS_INVALID_CAP;
	case DMOP_ERR_UNKNOWN_OP:
	case DMOP_ERR_NOT_SUPPORTED:
		return STATUS_INVALID_CALL;
	case DMOP_ERR_CONTINUE:
		return STATUS_WOULD_BLOCK;
	case DMOP_ERR_BUSY:
	case DMOP_ERR_NO_SPACE:
	case DMOP_ERR_EXISTS:
		return STATUS_BUSY;
	default:
		return STATUS_INVALID_ARG;
	}
}

/** The size of each operation's arguments in buffer 0 (0: no such operation). */
static uint32_t op_size(uint32_t op)
{
	switch (op) {
	case DMOP_CREATE_IOREQ_SERVER:
		return sizeof(struct dmop_create_ioreq_server);
	case DMOP_GET_IOREQ_SERVER_INFO:
		return sizeof(struct dmop_ioreq_server_info);
	case DMOP_MAP_IO_RANGE:
	case DMOP_UNMAP_IO_RANGE:
		return sizeof(struct dmop_io_range);
	case DMOP_SET_IOREQ_SERVER_STATE:
		return sizeof(struct dmop_ioreq_server_state);
	case DMOP_DESTROY_IOREQ_SERVER:
		return sizeof(struct dmop_destroy_ioreq_server);
	case DMOP_TRACK_DIRTY_VRAM:
		return sizeof(struct dmop_track_dirty_vram);
	case DMOP_SET_PCI_INTX_LEVEL:
		return sizeof(struct dmop_pci_intx_level);
	case DMOP_SET_ISA_IRQ_LEVEL:
		return sizeof(struct dmop_isa_irq_level);
	case DMOP_SET_PCI_LINK_ROUTE:
		return sizeof(struct dmop_pci_link_route);
	case DMOP_MODIFIED_MEMORY:
		return sizeof(struct dmop_modified_memory);
	case DMOP_SET_MEM_TYPE:
		return sizeof(struct dmop_set_mem_type);
	case DMOP_INJECT_EVENT:
		return sizeof(struct dmop_inject_event);
	case DMOP_INJECT_MSI:
		return sizeof(struct dmop_inject_msi);
	case DMOP_MAP_MEM_TYPE_TO_IOREQ_SERVER:
		return sizeof(struct dmop_map_mem_type);
	case DMOP_REMOTE_SHUTDOWN:
		return sizeof(struct dmop_remote_shutdown);
	case DMOP_RESTRICT:
		return 0u + 1u; /* no arguments; 1 marks it known */
	default:
		return 0;
	}
}

static bool zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/** Whether every padding byte of the operation's arguments is zero. */
static bool pads_zero(const struct dmop_op *o)
{
	switch (o->op) {
	case DMOP_CREATE_IOREQ_SERVER:
		return zero(o->u.create.pad, 3) && o->u.create.pad2 == 0;
	case DMOP_GET_IOREQ_SERVER_INFO:
		return o->u.info.pad == 0;
	case DMOP_MAP_IO_RANGE:
	case DMOP_UNMAP_IO_RANGE:
		return zero(o->u.range.pad, 5);
	case DMOP_SET_IOREQ_SERVER_STATE:
		return zero(o->u.state.pad, 5);
	case DMOP_DESTROY_IOREQ_SERVER:
		return zero(o->u.destroy.pad, 6);
	case DMOP_TRACK_DIRTY_VRAM:
		return o->u.vram.pad == 0;
	case DMOP_SET_PCI_INTX_LEVEL:
		return zero(o->u.intx.pad, 2);
	case DMOP_SET_ISA_IRQ_LEVEL:
		return zero(o->u.isa.pad, 6);
	case DMOP_SET_PCI_LINK_ROUTE:
		return zero(o->u.link.pad, 6);
	case DMOP_SET_MEM_TYPE:
		return o->u.mem_type.pad == 0;
	case DMOP_INJECT_EVENT:
		return o->u.event.pad == 0 && o->u.event.pad2 == 0;
	case DMOP_INJECT_MSI:
		return o->u.msi.pad == 0;
	case DMOP_REMOTE_SHUTDOWN:
		return o->u.shutdown.pad == 0;
	default:
		return true;
	}
}

/* ---- who is calling, on what ------------------------------------------------------ */

static struct dmop_model *model(struct dmop *d, uint32_t caller, bool add)
{
	struct dmop_model *free_slot = NULL;
	for (uint32_t i = 0; i < DMOP_MODELS; i++) {
		if (d->model[i].used && d->model[i].id == caller)
			return &d->model[i];
		if (!d->model[i].used && free_slot == NULL)
			free_slot = &d->model[i];
	}
	if (!add || free_slot == NULL)
		return NULL;
	*free_slot = (struct dmop_model){ .used = true, .id = caller };
	return free_slot;
}

const struct dmop_model *dmop_model_of(const struct dmop *d, uint32_t caller)
{
	for (uint32_t i = 0; i < DMOP_MODELS; i++)
		if (d->model[i].used && d->model[i].id == caller)
			return &d->model[i];
	return NULL;
}

static struct dmop_target *target_state(struct dmop *d, uint32_t target)
{
	struct dmop_target *free_slot = NULL;
	for (uint32_t i = 0; i < DMOP_TARGETS; i++) {
		if (d->target[i].used && d->target[i].id == target)
			return &d->target[i];
		if (!d->target[i].used && free_slot == NULL)
			free_slot = &d->target[i];
	}
	if (free_slot != NULL) {
		memset(free_slot, 0, sizeof(*free_slot));
		free_slot->used = true;
		free_slot->id = target;
	}
	return free_slot;
}

/** One call in flight: what the operations need. */
struct call {
	const struct dmop_env *env;
	uint32_t caller, target;
	struct dmop_target *t;
	struct dmop_op *o;
	uint8_t *buf1;
	uint64_t buf1_len; /**< 0 when there is no buffer 1 */
};

/** The caller's own server id, or NULL (not found, or another model's: DENIED). */
static struct dmop_server *server(struct call *c, uint32_t id, enum dmop_error *e)
{
	if (id >= DMOP_SERVERS || !c->t->server[id].used) {
		*e = DMOP_ERR_NOT_FOUND;
		return NULL;
	}
	if (c->t->server[id].owner != c->caller) {
		*e = DMOP_ERR_DENIED;
		return NULL;
	}
	return &c->t->server[id];
}

/* ---- ioreq servers ----------------------------------------------------------------- */

static enum dmop_error op_create(struct call *c)
{
	struct dmop_create_ioreq_server *a = &c->o->u.create;
	if (a->handle_bufioreq > 2u)
		return DMOP_ERR_INVALID;
	for (uint32_t id = 0; id < DMOP_SERVERS; id++) {
		struct dmop_server *s = &c->t->server[id];
		if (s->used)
			continue;
		memset(s, 0, sizeof(*s));
		s->used = true;
		s->owner = c->caller;
		s->bufioreq = a->handle_bufioreq;
		a->id = (uint16_t)id;
		return DMOP_OK;
	}
	return DMOP_ERR_NO_SPACE;
}

static enum dmop_error op_info(struct call *c)
{
	enum dmop_error e;
	struct dmop_ioreq_server_info *a = &c->o->u.info;
	struct dmop_server *s = server(c, a->id, &e);
	if (s == NULL)
		return e;
	a->enabled = s->enabled;
	a->nr_ranges = s->nr[0] + s->nr[1] + s->nr[2];
	a->bufioreq = s->bufioreq;
	return DMOP_OK;
}

static bool range_valid(uint32_t type, uint64_t start, uint64_t end)
{
	if (type >= DMOP_RANGE_TYPES || start > end)
		return false;
	if (type == DMOP_RANGE_PORT)
		return end <= 0xffffu;
	if (type == DMOP_RANGE_PCI)
		return end <= 0xffffffffu; /* segment 16 bits, bus 8, device 5, function 3 */
	return true;
}

static enum dmop_error op_map_range(struct call *c)
{
	enum dmop_error e;
	struct dmop_io_range *a = &c->o->u.range;
	struct dmop_server *s = server(c, a->id, &e);
	if (s == NULL)
		return e;
	if (!range_valid(a->type, a->start, a->end))
		return DMOP_ERR_INVALID;
	/* No two ranges of one guest overlap, whichever server holds them. */
	for (uint32_t id = 0; id < DMOP_SERVERS; id++) {
		const struct dmop_server *o = &c->t->server[id];
		for (uint32_t i = 0; o->used && i < o->nr[a->type]; i++)
			if (a->start <= o->range[a->type][i].end &&
			    o->range[a->type][i].start <= a->end)
				return DMOP_ERR_EXISTS;
	}
	if (s->nr[a->type] >= DMOP_RANGES)
		return DMOP_ERR_NO_SPACE;
	e = c->env->route(c->env->ctx, c->target, a->id, a->type, a->start, a->end, true);
	if (e != DMOP_OK)
		return e;
	s->range[a->type][s->nr[a->type]++] = (struct dmop_range){ a->start, a->end };
	return DMOP_OK;
}

static void unroute(struct call *c, uint32_t id, uint32_t type, uint32_t i)
{
	struct dmop_server *s = &c->t->server[id];
	struct dmop_range r = s->range[type][i];
	(void)c->env->route(c->env->ctx, c->target, id, type, r.start, r.end, false);
	s->range[type][i] = s->range[type][--s->nr[type]];
}

static enum dmop_error op_unmap_range(struct call *c)
{
	enum dmop_error e;
	struct dmop_io_range *a = &c->o->u.range;
	struct dmop_server *s = server(c, a->id, &e);
	if (s == NULL)
		return e;
	if (a->type >= DMOP_RANGE_TYPES)
		return DMOP_ERR_INVALID;
	for (uint32_t i = 0; i < s->nr[a->type]; i++) {
		if (s->range[a->type][i].start == a->start && s->range[a->type][i].end == a->end) {
			unroute(c, a->id, a->type, i);
			return DMOP_OK;
		}
	}
	return DMOP_ERR_NOT_FOUND;
}

static enum dmop_error op_state(struct call *c)
{
	enum dmop_error e;
	struct dmop_ioreq_server_state *a = &c->o->u.state;
	struct dmop_server *s = server(c, a->id, &e);
	if (s == NULL)
		return e;
	if (a->enabled > 1u)
		return DMOP_ERR_INVALID;
	s->enabled = a->enabled != 0;
	return DMOP_OK;
}

/** The ioreq_server type loses its server: its pages become ram_rw (Xen's rule). */
static void drop_write_server(struct call *c, struct dmop_server *s, uint32_t id)
{
	if (!s->mem_write)
		return;
	(void)c->env->write_server(c->env->ctx, c->target, s->owner, id, false);
	s->mem_write = false;
	for (uint32_t p = 0; p < DMOP_MEM_PAGES; p++)
		if (c->t->mem_type[p] == DMOP_MEM_IOREQ_SERVER)
			c->t->mem_type[p] = DMOP_MEM_RAM_RW;
}

static enum dmop_error op_destroy(struct call *c)
{
	enum dmop_error e;
	uint32_t id = c->o->u.destroy.id;
	struct dmop_server *s = server(c, id, &e);
	if (s == NULL)
		return e;
	for (uint32_t type = 0; type < DMOP_RANGE_TYPES; type++)
		while (s->nr[type] != 0)
			unroute(c, id, type, s->nr[type] - 1u);
	drop_write_server(c, s, id);
	s->used = false;
	return DMOP_OK;
}

static enum dmop_error op_map_mem_type(struct call *c)
{
	enum dmop_error e;
	struct dmop_map_mem_type *a = &c->o->u.map_mem_type;
	struct dmop_server *s = server(c, a->id, &e);
	if (s == NULL)
		return e;
	if (a->type != DMOP_MEM_IOREQ_SERVER || (a->flags & ~DMOP_MEM_TYPE_WRITE) != 0)
		return DMOP_ERR_INVALID;
	for (uint32_t id = 0; a->flags != 0 && id < DMOP_SERVERS; id++)
		if (c->t->server[id].used && c->t->server[id].mem_write && &c->t->server[id] != s)
			return DMOP_ERR_BUSY; /* one server takes the type's writes */
	if (a->flags == 0) {
		drop_write_server(c, s, a->id);
		return DMOP_OK;
	}
	e = c->env->write_server(c->env->ctx, c->target, s->owner, a->id, true);
	if (e == DMOP_OK)
		s->mem_write = true;
	return e;
}

/* ---- interrupts and events ---------------------------------------------------------- */

static enum dmop_error op_intx(struct call *c)
{
	const struct dmop_pci_intx_level *a = &c->o->u.intx;
	if (a->domain != 0 || a->bus != 0 || a->device > 31u || a->intx > 3u || a->level > 1u)
		return DMOP_ERR_INVALID;
	return c->env->irq_level(c->env->ctx, c->target, DMOP_IRQ_PCI_INTX,
	                         (uint32_t)a->device << 2 | a->intx, a->level);
}

static enum dmop_error op_isa(struct call *c)
{
	const struct dmop_isa_irq_level *a = &c->o->u.isa;
	if (a->isa_irq > 15u || a->level > 1u)
		return DMOP_ERR_INVALID;
	return c->env->irq_level(c->env->ctx, c->target, DMOP_IRQ_ISA, a->isa_irq, a->level);
}

static enum dmop_error op_link(struct call *c)
{
	const struct dmop_pci_link_route *a = &c->o->u.link;
	if (a->link > 3u || a->isa_irq > 15u)
		return DMOP_ERR_INVALID;
	enum dmop_error e =
	        c->env->irq_level(c->env->ctx, c->target, DMOP_IRQ_LINK_ROUTE, a->link, a->isa_irq);
	if (e == DMOP_OK)
		c->t->link_route[a->link] = a->isa_irq;
	return e;
}

static enum dmop_error op_event(struct call *c)
{
	const struct dmop_inject_event *a = &c->o->u.event;
	if (a->vcpu >= c->env->target_vcpus(c->env->ctx, c->target) || a->type > 7u)
		return DMOP_ERR_INVALID;
	return c->env->inject_event(c->env->ctx, c->target, a);
}

static enum dmop_error op_msi(struct call *c)
{
	return c->env->inject_msi(c->env->ctx, c->target, c->o->u.msi.addr, c->o->u.msi.data);
}

static enum dmop_error op_shutdown(struct call *c)
{
	if (c->o->u.shutdown.reason > DMOP_SHUTDOWN_REASON_MAX)
		return DMOP_ERR_INVALID;
	return c->env->shutdown(c->env->ctx, c->target, c->o->u.shutdown.reason);
}

/* ---- memory --------------------------------------------------------------------------- */

/** Whether [pfn, pfn + nr) lies in the target's RAM (nr > 0). */
static bool in_ram(struct call *c, uint64_t pfn, uint64_t nr)
{
	uint64_t first, pages;
	c->env->target_ram(c->env->ctx, c->target, &first, &pages);
	return nr != 0 && pfn >= first && pfn - first < pages && nr <= pages - (pfn - first);
}

static enum dmop_error op_vram(struct call *c)
{
	const struct dmop_track_dirty_vram *a = &c->o->u.vram;
	if (a->nr == 0)
		return c->env->track_dirty(c->env->ctx, c->target, 0, 0, c->buf1); /* stop */
	if (a->nr > DMOP_VRAM_MAX || !in_ram(c, a->first_pfn, a->nr))
		return DMOP_ERR_INVALID;
	if (c->buf1_len < ((uint64_t)a->nr + 7u) / 8u)
		return DMOP_ERR_BUFFER;
	return c->env->track_dirty(c->env->ctx, c->target, a->first_pfn, a->nr, c->buf1);
}

static enum dmop_error op_modified(struct call *c)
{
	struct dmop_modified_memory *a = &c->o->u.modified;
	if (a->opaque != 0 || a->nr_extents == 0)
		return DMOP_ERR_INVALID;
	if (c->buf1_len / sizeof(struct dmop_extent) < a->nr_extents)
		return DMOP_ERR_BUFFER;
	/* Every extent is checked before any is marked. */
	for (uint32_t i = 0; i < a->nr_extents; i++) {
		struct dmop_extent x;
		memcpy(&x, c->buf1 + (size_t)i * sizeof(x), sizeof(x));
		if (!in_ram(c, x.first_pfn, x.nr)) {
			a->nr_extents = i + 1u;
			return DMOP_ERR_INVALID;
		}
	}
	for (uint32_t i = 0; i < a->nr_extents; i++) {
		struct dmop_extent x;
		memcpy(&x, c->buf1 + (size_t)i * sizeof(x), sizeof(x));
		c->env->mark_dirty(c->env->ctx, c->target, x.first_pfn, x.nr);
	}
	return DMOP_OK;
}

/** Whether a page of type `from` may become `to` (Xen's set_mem_type rules). */
static bool mem_change_ok(struct call *c, uint32_t from, uint32_t to)
{
	bool ram = from == DMOP_MEM_RAM_RW || from == DMOP_MEM_RAM_RO;
	if (to == DMOP_MEM_RAM_RW || to == DMOP_MEM_RAM_RO)
		return ram || (from == DMOP_MEM_IOREQ_SERVER && to == DMOP_MEM_RAM_RW);
	if (to == DMOP_MEM_IOREQ_SERVER) {
		if (from != DMOP_MEM_RAM_RW)
			return false;
		for (uint32_t id = 0; id < DMOP_SERVERS; id++)
			if (c->t->server[id].used && c->t->server[id].mem_write)
				return true;
		return false; /* no server takes the writes */
	}
	return false; /* MMIO_DM only for holes, which are not RAM */
}

static enum dmop_error op_mem_type(struct call *c)
{
	struct dmop_set_mem_type *a = &c->o->u.mem_type;
	uint32_t to = a->mem_type;
	if (to != DMOP_MEM_RAM_RW && to != DMOP_MEM_RAM_RO && to != DMOP_MEM_MMIO_DM &&
	    to != DMOP_MEM_IOREQ_SERVER)
		return DMOP_ERR_INVALID;
	if (a->nr == 0)
		return DMOP_OK;
	uint64_t first, pages;
	c->env->target_ram(c->env->ctx, c->target, &first, &pages);
	if (!in_ram(c, a->first_pfn, a->nr) || a->first_pfn - first + a->nr > DMOP_MEM_PAGES)
		return DMOP_ERR_INVALID; /* holes and pages past the tracked ones */
	/* Checked whole first, then changed in batches: a continuation never meets a refusal. */
	uint64_t at = a->first_pfn - first;
	for (uint64_t i = 0; i < a->nr; i++)
		if (c->t->mem_type[at + i] != to && !mem_change_ok(c, c->t->mem_type[at + i], to))
			return DMOP_ERR_INVALID;
	uint32_t n = a->nr < DMOP_MEM_BATCH ? a->nr : DMOP_MEM_BATCH;
	enum dmop_error e = c->env->mem_type(c->env->ctx, c->target, a->first_pfn, n, to);
	if (e != DMOP_OK)
		return e;
	memset(&c->t->mem_type[at], (int)to, n);
	a->first_pfn += n;
	a->nr -= n;
	return a->nr != 0 ? DMOP_ERR_CONTINUE : DMOP_OK;
}

/* ---- the entry ------------------------------------------------------------------------ */

static enum dmop_error run(struct call *c)
{
	switch (c->o->op) {
	case DMOP_CREATE_IOREQ_SERVER:
		return op_create(c);
	case DMOP_GET_IOREQ_SERVER_INFO:
		return op_info(c);
	case DMOP_MAP_IO_RANGE:
		return op_map_range(c);
	case DMOP_UNMAP_IO_RANGE:
		return op_unmap_range(c);
	case DMOP_SET_IOREQ_SERVER_STATE:
		return op_state(c);
	case DMOP_DESTROY_IOREQ_SERVER:
		return op_destroy(c);
	case DMOP_TRACK_DIRTY_VRAM:
		return op_vram(c);
	case DMOP_SET_PCI_INTX_LEVEL:
		return op_intx(c);
	case DMOP_SET_ISA_IRQ_LEVEL:
		return op_isa(c);
	case DMOP_SET_PCI_LINK_ROUTE:
		return op_link(c);
	case DMOP_MODIFIED_MEMORY:
		return op_modified(c);
	case DMOP_SET_MEM_TYPE:
		return op_mem_type(c);
	case DMOP_INJECT_EVENT:
		return op_event(c);
	case DMOP_INJECT_MSI:
		return op_msi(c);
	case DMOP_MAP_MEM_TYPE_TO_IOREQ_SERVER:
		return op_map_mem_type(c);
	case DMOP_REMOTE_SHUTDOWN:
		return op_shutdown(c);
	default:
		return DMOP_ERR_UNKNOWN_OP;
	}
}

/** A buffer's place in the region, or NULL if any byte of it lies outside. */
static uint8_t *buffer(uint8_t *region, uint64_t region_size, uint64_t offset, uint64_t len)
{
	if (offset > region_size || len > region_size - offset)
		return NULL;
	return region + offset;
}

static void audit(struct dmop *d, uint32_t caller, uint32_t target, uint32_t op, enum dmop_error e)
{
	struct dmop_audit *r = &d->audit[d->audit_count % DMOP_AUDIT];
	*r = (struct dmop_audit){ d->audit_count, caller, target, (uint16_t)op, (uint16_t)e };
	d->audit_count++;
}

/** Everything before the operation itself: buffers, then who may do what to whom. */
static enum dmop_error admit(struct call *c, struct dmop_model *m, uint32_t nr_bufs,
                             const uint64_t *desc, uint8_t *region, uint64_t region_size,
                             uint8_t **buf0)
{
	if (nr_bufs > DMOP_MAX_BUFS)
		return DMOP_ERR_TOO_MANY_BUFS;
	if (nr_bufs == 0)
		return DMOP_ERR_BUFFER;
	uint8_t *b0 = buffer(region, region_size, desc[0], desc[1]);
	if (b0 == NULL || desc[1] < offsetof(struct dmop_op, u))
		return DMOP_ERR_BUFFER;
	*buf0 = b0; /* from here on the audit names the operation asked for */
	if (nr_bufs == 2) {
		c->buf1 = buffer(region, region_size, desc[2], desc[3]);
		if (c->buf1 == NULL)
			return DMOP_ERR_BUFFER;
		c->buf1_len = desc[3];
	}
	if (m == NULL)
		return DMOP_ERR_DENIED; /* more device models than the service tracks */
	if (m->restricted && c->target != m->restrict_target)
		return DMOP_ERR_DENIED;
	if (c->target == c->caller)
		return DMOP_ERR_DENIED; /* its own domain */
	if (!c->env->target_exists(c->env->ctx, c->target))
		return DMOP_ERR_NO_TARGET;
	if (!c->env->allowed(c->env->ctx, c->caller, c->target))
		return DMOP_ERR_DENIED;
	return DMOP_OK;
}

enum dmop_error dmop_call(struct dmop *d, const struct dmop_env *env, uint32_t caller,
                          uint32_t target, uint32_t nr_bufs, const uint64_t desc[2 * DMOP_MAX_BUFS],
                          uint8_t *region, uint64_t region_size)
{
	struct dmop_op o;
	struct call c = { env, caller, target, NULL, &o, NULL, 0 };
	struct dmop_model *m = model(d, caller, true);
	uint8_t *buf0 = NULL;
	uint32_t op = 0;
	enum dmop_error e = admit(&c, m, nr_bufs, desc, region, region_size, &buf0);
	memset(&o, 0, sizeof(o));
	if (buf0 != NULL) {
		memcpy(&o, buf0, offsetof(struct dmop_op, u));
		op = o.op;
	}
	if (e == DMOP_OK) {
		uint32_t need = op_size(o.op);
		if (o.pad != 0)
			e = DMOP_ERR_INVALID;
		else if (need == 0)
			e = DMOP_ERR_UNKNOWN_OP;
		else if (o.op != DMOP_RESTRICT && desc[1] - offsetof(struct dmop_op, u) < need)
			e = DMOP_ERR_BUFFER;
	}
	if (e == DMOP_OK && op == DMOP_RESTRICT) {
		/* For good: nothing un-restricts, and a second one names the same target. */
		m->restricted = true;
		m->restrict_target = target;
	} else if (e == DMOP_OK) {
		memcpy(&o.u, buf0 + offsetof(struct dmop_op, u), op_size(op));
		c.t = target_state(d, target);
		if (!pads_zero(&o))
			e = DMOP_ERR_INVALID;
		else if (c.t == NULL)
			e = DMOP_ERR_NO_SPACE; /* more guests than the service tracks */
		else
			e = run(&c);
		/* Results (and a continuation's progress) go back into buffer 0. */
		if (e == DMOP_OK || e == DMOP_ERR_CONTINUE || op == DMOP_MODIFIED_MEMORY)
			memcpy(buf0 + offsetof(struct dmop_op, u), &o.u, op_size(op));
	}
	if (m != NULL) {
		m->calls++;
		if (e == DMOP_ERR_DENIED)
			m->denied++;
		if (e != DMOP_OK && e != DMOP_ERR_CONTINUE)
			m->refused++;
	} else if (e == DMOP_ERR_DENIED) {
		d->denied_unknown++;
	}
	audit(d, caller, target, op, e);
	return e;
}

bool dmop_audit_get(const struct dmop *d, uint32_t i, struct dmop_audit *out)
{
	uint32_t count = d->audit_count;
	uint32_t first = count > DMOP_AUDIT ? count - DMOP_AUDIT : 0u;
	if (i >= count - first)
		return false;
	*out = d->audit[(first + i) % DMOP_AUDIT];
	return true;
}
