/**
 * Host tests of the dmop service's core (services/dmop/dmop.c): Xen 4.10's dm_op rules (spec
 * section 4: three buffers are too many, a short buffer 0, non-zero padding, an unknown op, its
 * own domain, no such target; the bounds of set_pci_intx_level, set_isa_irq_level and
 * set_pci_link_route; set_mem_type continuing until done), dm_restrict (a restricted device
 * model is refused for other targets, for good), the ioreq servers and their ranges (owner,
 * overlap, 256 per type, routing on and off), the memory operations' checks, the audit ring
 * and the per-model denied counts. The fake machine records what the core asked of it.
 */
#include <stddef.h>
#include <string.h>

#include "dmop.h"
#include <ipc/abi.h>
#include "tap.h"

#define DM 7u    /* the device model's id */
#define GUEST 2u /* the guest it serves */
#define OTHER 3u /* a guest it does not serve */
#define RAM_PFN 0x40000u
#define RAM_PAGES 0x1000u

static struct dmop d;
static uint8_t region[8192];
static unsigned routes, unroutes, irqs, msis, shutdowns, mem_calls, events;
static uint32_t last_irq_line, last_irq_level, last_shutdown;
static enum dmop_irq_kind last_irq_kind;
static bool event_pending, dirty[RAM_PAGES];
/** What the fake machine answers to lines, memory types and shutdown (the service's NOT_SUPPORTED). */
static enum dmop_error machine_error;
static uint64_t marked;

static bool f_allowed(void *ctx, uint32_t caller, uint32_t target)
{
	(void)ctx;
	return target == GUEST || (caller == DM + 1u && target == OTHER);
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
	(void)target;
	(void)id;
	(void)type;
	(void)start;
	(void)end;
	if (map)
		routes++;
	else
		unroutes++;
	return DMOP_OK;
}
static enum dmop_error f_irq(void *ctx, uint32_t target, enum dmop_irq_kind kind, uint32_t line,
                             uint32_t level)
{
	(void)ctx;
	(void)target;
	irqs++;
	last_irq_kind = kind;
	last_irq_line = line;
	last_irq_level = level;
	return machine_error;
}
/** The fake's log: dirty[] pages written; a new range reports all of them (Xen's rule). */
static uint64_t track_first, track_nr;
static enum dmop_error f_track(void *ctx, uint32_t target, uint64_t first, uint64_t nr,
                               uint8_t *bitmap)
{
	(void)ctx;
	(void)target;
	bool fresh = first != track_first || nr != track_nr;
	track_first = first;
	track_nr = nr;
	for (uint64_t i = 0; i < nr; i++) {
		uint8_t bit = (uint8_t)(1u << (i % 8u));
		if (fresh || dirty[first + i - RAM_PFN])
			bitmap[i / 8u] |= bit;
		else
			bitmap[i / 8u] &= (uint8_t)~bit;
		dirty[first + i - RAM_PFN] = false;
	}
	return DMOP_OK;
}
static void f_mark(void *ctx, uint32_t target, uint64_t pfn, uint64_t nr)
{
	(void)ctx;
	(void)target;
	(void)pfn;
	marked += nr;
}
static enum dmop_error f_mem(void *ctx, uint32_t target, uint64_t pfn, uint64_t nr, uint32_t type)
{
	(void)ctx;
	(void)target;
	(void)pfn;
	(void)nr;
	(void)type;
	mem_calls++;
	return machine_error;
}
static enum dmop_error f_event(void *ctx, uint32_t target, const struct dmop_inject_event *e)
{
	(void)ctx;
	(void)target;
	(void)e;
	if (event_pending)
		return DMOP_ERR_BUSY;
	events++;
	return DMOP_OK;
}
static enum dmop_error f_msi(void *ctx, uint32_t target, uint64_t addr, uint32_t data)
{
	(void)ctx;
	(void)target;
	(void)addr;
	(void)data;
	msis++;
	return DMOP_OK;
}
static unsigned write_servers;
static bool write_server_on;
static enum dmop_error f_write_server(void *ctx, uint32_t target, uint32_t owner, uint32_t id,
                                      bool on)
{
	(void)ctx;
	(void)target;
	(void)owner;
	(void)id;
	write_servers++;
	write_server_on = on;
	return DMOP_OK;
}
static enum dmop_error f_shutdown(void *ctx, uint32_t target, uint32_t reason)
{
	(void)ctx;
	(void)target;
	shutdowns++;
	last_shutdown = reason;
	return machine_error;
}

static const struct dmop_env env = { NULL,           f_allowed, f_exists, f_vcpus,   f_ram,
	                             f_route,        f_irq,     f_track,  f_mark,    f_mem,
	                             f_write_server, f_event,   f_msi,    f_shutdown };

/* Buffer 0 at offset 0 of the region, buffer 1 at 4096. */
#define B1 4096u

static struct dmop_op *op0(void)
{
	return (struct dmop_op *)(void *)region;
}

static void prepare(uint32_t op)
{
	memset(region, 0, sizeof(region));
	op0()->op = op;
}

static enum dmop_error call_as(uint32_t caller, uint32_t target, uint32_t nr_bufs, uint64_t len0,
                               uint64_t len1)
{
	uint64_t desc[4] = { 0, len0, B1, len1 };
	return dmop_call(&d, &env, caller, target, nr_bufs, desc, region, sizeof(region));
}

static enum dmop_error call1(uint32_t target)
{
	return call_as(DM, target, 1, sizeof(struct dmop_op), 0);
}

static void fresh(void)
{
	dmop_init(&d);
	routes = unroutes = irqs = msis = shutdowns = mem_calls = events = write_servers = 0;
	write_server_on = false;
	event_pending = false;
	machine_error = DMOP_OK;
	marked = 0;
	memset(dirty, 0, sizeof(dirty));
	track_first = track_nr = 0;
}

static void test_buffers_and_targets(void)
{
	fresh();
	prepare(DMOP_SET_ISA_IRQ_LEVEL);
	EQ(call_as(DM, GUEST, 3, sizeof(struct dmop_op), 8), DMOP_ERR_TOO_MANY_BUFS,
	   "nr_bufs 3: too many buffers (E2BIG)");
	EQ(call_as(DM, GUEST, 0, 0, 0), DMOP_ERR_BUFFER, "no buffer at all");
	EQ(call_as(DM, GUEST, 1, 4, 0), DMOP_ERR_BUFFER,
	   "buffer 0 shorter than the header (EFAULT)");
	EQ(call_as(DM, GUEST, 1, 8 + 4, 0), DMOP_ERR_BUFFER,
	   "buffer 0 shorter than the operation's arguments (EFAULT)");
	uint64_t desc[4] = { sizeof(region) - 8u, 16, 0, 0 };
	EQ(dmop_call(&d, &env, DM, GUEST, 1, desc, region, sizeof(region)), DMOP_ERR_BUFFER,
	   "buffer 0 running past the region (EFAULT)");
	uint64_t wrap[4] = { 8, UINT64_MAX, 0, 0 };
	EQ(dmop_call(&d, &env, DM, GUEST, 1, wrap, region, sizeof(region)), DMOP_ERR_BUFFER,
	   "a length that wraps (EFAULT)");
	EQ(call_as(DM, GUEST, 2, sizeof(struct dmop_op), sizeof(region)), DMOP_ERR_BUFFER,
	   "buffer 1 running past the region (EFAULT)");
	op0()->pad = 1;
	EQ(call1(GUEST), DMOP_ERR_INVALID, "non-zero header padding (EINVAL)");
	op0()->pad = 0;
	op0()->u.isa.pad[3] = 1;
	EQ(call1(GUEST), DMOP_ERR_INVALID, "non-zero padding in the arguments (EINVAL)");
	prepare(99);
	EQ(call1(GUEST), DMOP_ERR_UNKNOWN_OP, "an unknown operation (EOPNOTSUPP)");
	prepare(DMOP_SET_ISA_IRQ_LEVEL);
	EQ(call_as(GUEST, GUEST, 1, sizeof(struct dmop_op), 0), DMOP_ERR_DENIED,
	   "a guest acting on itself (EPERM)");
	EQ(call1(9), DMOP_ERR_NO_TARGET, "no such target (ESRCH)");
	EQ(call1(OTHER), DMOP_ERR_DENIED, "a target it was not given (EPERM)");
	EQ(call1(GUEST), DMOP_OK, "its own target: done");
	EQ(irqs, 1, "and only that one reached the machine");
	EQ(dmop_status(DMOP_ERR_TOO_MANY_BUFS), STATUS_INVALID_ARG, "E2BIG's status");
	EQ(dmop_status(DMOP_ERR_DENIED), STATUS_NO_RIGHTS, "EPERM's status");
	EQ(dmop_status(DMOP_ERR_NO_TARGET), STATUS_INVALID_CAP, "ESRCH's status");
	EQ(dmop_status(DMOP_ERR_UNKNOWN_OP), STATUS_INVALID_CALL, "EOPNOTSUPP's status");
	EQ(dmop_status(DMOP_ERR_CONTINUE), STATUS_WOULD_BLOCK, "ERESTART's status");
	EQ(dmop_status(DMOP_ERR_NOT_SUPPORTED), STATUS_INVALID_CALL, "not supported's status");
}

static enum dmop_error intx(uint16_t domain, uint8_t bus, uint8_t dev, uint8_t pin, uint8_t level)
{
	prepare(DMOP_SET_PCI_INTX_LEVEL);
	op0()->u.intx = (struct dmop_pci_intx_level){ domain, bus, dev, pin, level, { 0, 0 } };
	return call1(GUEST);
}

static enum dmop_error isa(uint8_t irq, uint8_t level)
{
	prepare(DMOP_SET_ISA_IRQ_LEVEL);
	op0()->u.isa.isa_irq = irq;
	op0()->u.isa.level = level;
	return call1(GUEST);
}

static enum dmop_error link(uint8_t l, uint8_t irq)
{
	prepare(DMOP_SET_PCI_LINK_ROUTE);
	op0()->u.link.link = l;
	op0()->u.link.isa_irq = irq;
	return call1(GUEST);
}

static void test_irq_bounds(void)
{
	fresh();
	EQ(intx(1, 0, 0, 0, 1), DMOP_ERR_INVALID, "set_pci_intx_level: segment 1 refused");
	EQ(intx(0, 1, 0, 0, 1), DMOP_ERR_INVALID, "set_pci_intx_level: bus 1 refused");
	EQ(intx(0, 0, 32, 0, 1), DMOP_ERR_INVALID, "set_pci_intx_level: device 32 refused");
	EQ(intx(0, 0, 0, 4, 1), DMOP_ERR_INVALID, "set_pci_intx_level: INTx 4 refused");
	EQ(intx(0, 0, 0, 0, 2), DMOP_ERR_INVALID, "set_pci_intx_level: level 2 refused");
	EQ(irqs, 0, "nothing refused reached the machine");
	EQ(intx(0, 0, 31, 3, 1), DMOP_OK, "set_pci_intx_level: device 31, INTD, level 1");
	OK(last_irq_kind == DMOP_IRQ_PCI_INTX && last_irq_line == (31u << 2 | 3u) &&
	           last_irq_level == 1,
	   "that line driven high");
	EQ(isa(16, 1), DMOP_ERR_INVALID, "set_isa_irq_level: IRQ 16 refused");
	EQ(isa(3, 2), DMOP_ERR_INVALID, "set_isa_irq_level: level 2 refused");
	EQ(isa(15, 0), DMOP_OK, "set_isa_irq_level: IRQ 15 low");
	EQ(link(4, 5), DMOP_ERR_INVALID, "set_pci_link_route: link 4 refused");
	EQ(link(0, 16), DMOP_ERR_INVALID, "set_pci_link_route: IRQ 16 refused");
	EQ(link(3, 15), DMOP_OK, "set_pci_link_route: link 3 to IRQ 15");
	EQ(link(3, 0), DMOP_OK, "set_pci_link_route: link 3 not routed (0)");
	EQ(irqs, 4, "four accepted calls drove the machine");
}

static enum dmop_error mem_type(uint64_t pfn, uint32_t nr, uint16_t type)
{
	prepare(DMOP_SET_MEM_TYPE);
	op0()->u.mem_type.first_pfn = pfn;
	op0()->u.mem_type.nr = nr;
	op0()->u.mem_type.mem_type = type;
	return call1(GUEST);
}

static void test_mem_type(void)
{
	fresh();
	EQ(mem_type(RAM_PFN, 200, DMOP_MEM_RAM_RO), DMOP_ERR_CONTINUE,
	   "set_mem_type of 200 pages: the first 64 done, continue (ERESTART)");
	OK(op0()->u.mem_type.first_pfn == RAM_PFN + 64u && op0()->u.mem_type.nr == 136,
	   "buffer 0 says where to go on");
	unsigned calls = 1;
	enum dmop_error e = DMOP_ERR_CONTINUE;
	while (e == DMOP_ERR_CONTINUE && calls < 10) {
		e = call1(GUEST);
		calls++;
	}
	OK(e == DMOP_OK && calls == 4 && op0()->u.mem_type.nr == 0,
	   "calling again with the same buffer finishes in four calls");
	OK(d.target[0].mem_type[0] == DMOP_MEM_RAM_RO &&
	           d.target[0].mem_type[199] == DMOP_MEM_RAM_RO &&
	           d.target[0].mem_type[200] == DMOP_MEM_RAM_RW,
	   "exactly those 200 pages are read-only");
	EQ(mem_type(RAM_PFN, 1, DMOP_MEM_IOREQ_SERVER), DMOP_ERR_INVALID,
	   "ram_ro -> ioreq_server refused");
	EQ(mem_type(RAM_PFN + 300, 1, DMOP_MEM_IOREQ_SERVER), DMOP_ERR_INVALID,
	   "ram_rw -> ioreq_server refused while no server takes the type");
	prepare(DMOP_CREATE_IOREQ_SERVER);
	call1(GUEST);
	prepare(DMOP_MAP_MEM_TYPE_TO_IOREQ_SERVER);
	op0()->u.map_mem_type = (struct dmop_map_mem_type){ 0, DMOP_MEM_IOREQ_SERVER, 2 };
	EQ(call1(GUEST), DMOP_ERR_INVALID, "map_mem_type_to_ioreq_server: only the write flag");
	op0()->u.map_mem_type.flags = DMOP_MEM_TYPE_WRITE;
	EQ(call1(GUEST), DMOP_OK, "map_mem_type_to_ioreq_server: writes to server 0");
	EQ(mem_type(RAM_PFN + 300, 2, DMOP_MEM_IOREQ_SERVER), DMOP_OK,
	   "ram_rw -> ioreq_server now");
	EQ(mem_type(RAM_PFN + 300, 1, DMOP_MEM_RAM_RW), DMOP_OK, "and back to ram_rw");
	EQ(mem_type(RAM_PFN, 1, DMOP_MEM_MMIO_DM), DMOP_ERR_INVALID, "RAM -> mmio_dm refused");
	EQ(mem_type(RAM_PFN + RAM_PAGES - 1u, 2, DMOP_MEM_RAM_RO), DMOP_ERR_INVALID,
	   "pages past the guest's RAM refused");
	EQ(mem_type(RAM_PFN, 1, 3), DMOP_ERR_INVALID, "an unknown type refused");
	EQ(mem_type(RAM_PFN + 199, 3, DMOP_MEM_IOREQ_SERVER), DMOP_ERR_INVALID,
	   "a range with one page that cannot change (ram_ro) is refused whole");
	OK(d.target[0].mem_type[200] == DMOP_MEM_RAM_RW &&
	           d.target[0].mem_type[201] == DMOP_MEM_RAM_RW,
	   "and nothing of it changed");
	EQ(write_servers, 1u, "the machine was told once which server takes the writes");
	OK(write_server_on, "(on)");
	EQ(mem_type(RAM_PFN + 300, 2, DMOP_MEM_IOREQ_SERVER), DMOP_OK, "two pages ioreq_server");
	prepare(DMOP_MAP_MEM_TYPE_TO_IOREQ_SERVER);
	op0()->u.map_mem_type = (struct dmop_map_mem_type){ 0, DMOP_MEM_IOREQ_SERVER, 0 };
	EQ(call1(GUEST), DMOP_OK, "map_mem_type_to_ioreq_server with no flags: unmapped");
	OK(write_servers == 2u && !write_server_on, "the machine was told there is none");
	OK(d.target[0].mem_type[300] == DMOP_MEM_RAM_RW &&
	           d.target[0].mem_type[301] == DMOP_MEM_RAM_RW,
	   "its pages are ram_rw again (Xen's rule)");
	op0()->u.map_mem_type.flags = DMOP_MEM_TYPE_WRITE;
	EQ(call1(GUEST), DMOP_OK, "mapped again");
	EQ(mem_type(RAM_PFN + 310, 1, DMOP_MEM_IOREQ_SERVER), DMOP_OK, "a page ioreq_server");
	prepare(DMOP_DESTROY_IOREQ_SERVER);
	op0()->u.destroy.id = 0;
	EQ(call1(GUEST), DMOP_OK, "the server destroyed");
	OK(write_servers == 4u && !write_server_on && d.target[0].mem_type[310] == DMOP_MEM_RAM_RW,
	   "its type's pages ram_rw again, the machine told");
}

/** What the machine cannot do is reported, and the service records none of it. */
static void test_machine_refuses(void)
{
	fresh();
	machine_error = DMOP_ERR_NOT_SUPPORTED;
	EQ(isa(5, 1), DMOP_ERR_NOT_SUPPORTED, "a line the machine cannot drive: NOT_SUPPORTED");
	EQ(dmop_status(DMOP_ERR_NOT_SUPPORTED), STATUS_INVALID_CALL, "with STATUS_INVALID_CALL");
	EQ(link(1, 10), DMOP_ERR_NOT_SUPPORTED, "a link route the machine refuses");
	OK(d.target[0].link_route[1] == 0, "is not recorded");
	EQ(mem_type(RAM_PFN, 1, DMOP_MEM_RAM_RO), DMOP_ERR_NOT_SUPPORTED,
	   "set_mem_type the machine cannot apply: NOT_SUPPORTED");
	OK(d.target[0].mem_type[0] == DMOP_MEM_RAM_RW, "and the page keeps its type");
	prepare(DMOP_REMOTE_SHUTDOWN);
	EQ(call1(GUEST), DMOP_ERR_NOT_SUPPORTED, "remote_shutdown the machine cannot do");
	const struct dmop_model *m = dmop_model_of(&d, DM);
	OK(m != NULL && m->refused == 4 && m->denied == 0, "four refusals, no denial");
	machine_error = DMOP_OK;
	EQ(link(1, 10), DMOP_OK, "once the machine takes it, the route is recorded");
	OK(d.target[0].link_route[1] == 10, "link B -> ISA IRQ 10");
}

static uint16_t create(uint32_t caller)
{
	prepare(DMOP_CREATE_IOREQ_SERVER);
	call_as(caller, GUEST, 1, sizeof(struct dmop_op), 0);
	return op0()->u.create.id;
}

static enum dmop_error range(uint32_t caller, uint32_t op, uint16_t id, uint8_t type, uint64_t s,
                             uint64_t e)
{
	prepare(op);
	op0()->u.range.id = id;
	op0()->u.range.type = type;
	op0()->u.range.start = s;
	op0()->u.range.end = e;
	return call_as(caller, GUEST, 1, sizeof(struct dmop_op), 0);
}

static void test_ioreq_servers(void)
{
	fresh();
	prepare(DMOP_CREATE_IOREQ_SERVER);
	op0()->u.create.handle_bufioreq = 3;
	EQ(call1(GUEST), DMOP_ERR_INVALID, "create_ioreq_server: bufioreq 3 refused");
	uint16_t id = create(DM);
	EQ(id, 0, "create_ioreq_server: server 0");
	EQ(range(DM, DMOP_MAP_IO_RANGE, id, DMOP_RANGE_PORT, 0x70, 0x71), DMOP_OK,
	   "map ports 0x70-0x71 (the CMOS RTC)");
	EQ(range(DM, DMOP_MAP_IO_RANGE, id, DMOP_RANGE_PORT, 0x71, 0x72), DMOP_ERR_EXISTS,
	   "an overlapping port range refused");
	EQ(range(DM, DMOP_MAP_IO_RANGE, id, DMOP_RANGE_PORT, 0x10000, 0x10001), DMOP_ERR_INVALID,
	   "ports past 0xffff refused");
	EQ(range(DM, DMOP_MAP_IO_RANGE, id, DMOP_RANGE_MEMORY, 0x2000, 0x1000), DMOP_ERR_INVALID,
	   "start after end refused");
	EQ(range(DM, DMOP_MAP_IO_RANGE, id, 3, 0, 1), DMOP_ERR_INVALID,
	   "an unknown range type refused");
	EQ(range(DM, DMOP_MAP_IO_RANGE, id, DMOP_RANGE_PCI, 0x0008, 0x000f), DMOP_OK,
	   "PCI 0000:00:01.0-7 mapped");
	uint16_t theirs = create(DM + 1u);
	EQ(range(DM, DMOP_MAP_IO_RANGE, theirs, DMOP_RANGE_MEMORY, 0x9000000, 0x9000fff),
	   DMOP_ERR_DENIED, "a range on another device model's server refused");
	EQ(range(DM + 1u, DMOP_MAP_IO_RANGE, theirs, DMOP_RANGE_MEMORY, 0x9000000, 0x9000fff),
	   DMOP_OK, "its owner maps it");
	EQ(range(DM, DMOP_MAP_IO_RANGE, id, DMOP_RANGE_MEMORY, 0x9000800, 0x9000800),
	   DMOP_ERR_EXISTS, "a range inside another server's refused");
	enum dmop_error e = DMOP_OK;
	unsigned n = 0;
	for (; e == DMOP_OK && n < 300; n++)
		e = range(DM, DMOP_MAP_IO_RANGE, id, DMOP_RANGE_MEMORY, 0x100000u + n * 0x1000u,
		          0x100000u + n * 0x1000u + 0xfffu);
	OK(e == DMOP_ERR_NO_SPACE && n == DMOP_RANGES + 1u,
	   "256 memory ranges per server, not 257");
	EQ(range(DM, DMOP_UNMAP_IO_RANGE, id, DMOP_RANGE_PORT, 0x70, 0x70), DMOP_ERR_NOT_FOUND,
	   "unmap of a range never mapped (not exactly) refused");
	EQ(range(DM, DMOP_UNMAP_IO_RANGE, id, DMOP_RANGE_PORT, 0x70, 0x71), DMOP_OK, "unmap ports");
	EQ(routes - unroutes, 1u + 256u + 1u, "routes the machine holds: PCI, 256 memory, theirs");
	prepare(DMOP_GET_IOREQ_SERVER_INFO);
	op0()->u.info.id = id;
	EQ(call1(GUEST), DMOP_OK, "get_ioreq_server_info");
	EQ(op0()->u.info.nr_ranges, 257, "257 ranges (PCI and 256 memory)");
	prepare(DMOP_SET_IOREQ_SERVER_STATE);
	op0()->u.state.id = id;
	op0()->u.state.enabled = 2;
	EQ(call1(GUEST), DMOP_ERR_INVALID, "enabled = 2 refused");
	op0()->u.state.enabled = 1;
	EQ(call1(GUEST), DMOP_OK, "enabled");
	prepare(DMOP_DESTROY_IOREQ_SERVER);
	op0()->u.destroy.id = theirs;
	EQ(call1(GUEST), DMOP_ERR_DENIED, "destroying another's server refused");
	op0()->u.destroy.id = id;
	EQ(call1(GUEST), DMOP_OK, "destroy its own");
	EQ(routes - unroutes, 1, "every range of it unrouted; theirs stays");
	op0()->u.destroy.id = id;
	EQ(call1(GUEST), DMOP_ERR_NOT_FOUND, "a destroyed server is gone");
	for (unsigned i = 0; i < DMOP_SERVERS; i++)
		create(DM);
	prepare(DMOP_CREATE_IOREQ_SERVER);
	EQ(call1(GUEST), DMOP_ERR_NO_SPACE, "no more servers than the guest may have");
}

static void test_memory_ops(void)
{
	fresh();
	prepare(DMOP_TRACK_DIRTY_VRAM);
	op0()->u.vram.first_pfn = RAM_PFN;
	op0()->u.vram.nr = 20;
	dirty[3] = dirty[17] = true;
	EQ(call_as(DM, GUEST, 2, sizeof(struct dmop_op), 2), DMOP_ERR_BUFFER,
	   "track_dirty_vram: 2 bytes of bitmap for 20 pages refused");
	EQ(call_as(DM, GUEST, 2, sizeof(struct dmop_op), 3), DMOP_OK, "with 3 bytes: done");
	OK(region[B1] == 0xff && region[B1 + 1] == 0xff && (region[B1 + 2] & 0x0f) == 0x0f,
	   "a new range: every page reported written");
	dirty[3] = dirty[17] = true;
	EQ(call_as(DM, GUEST, 2, sizeof(struct dmop_op), 3), DMOP_OK, "the same range again");
	OK(region[B1] == 0x08 && region[B1 + 1] == 0 && (region[B1 + 2] & 0x0f) == 0x02,
	   "the bitmap holds pages 3 and 17");
	EQ(call_as(DM, GUEST, 2, sizeof(struct dmop_op), 3), DMOP_OK, "again");
	OK(region[B1] == 0 && (region[B1 + 2] & 0x0f) == 0, "and they were cleared");
	op0()->u.vram.nr = 0;
	EQ(call_as(DM, GUEST, 2, sizeof(struct dmop_op), 0), DMOP_OK,
	   "track_dirty_vram of 0 pages stops tracking");
	EQ(track_nr, 0u, "(the machine was told)");
	op0()->u.vram.nr = 20;
	op0()->u.vram.nr = (uint32_t)DMOP_VRAM_MAX + 1u;
	EQ(call_as(DM, GUEST, 2, sizeof(struct dmop_op), 4096), DMOP_ERR_INVALID,
	   "track_dirty_vram of more than 1 GiB refused");

	prepare(DMOP_MODIFIED_MEMORY);
	op0()->u.modified.nr_extents = 3;
	struct dmop_extent x[3] = { { RAM_PFN, 4 },
		                    { RAM_PFN + 10, 2 },
		                    { RAM_PFN + RAM_PAGES, 1 } };
	memcpy(region + B1, x, sizeof(x));
	op0()->u.modified.opaque = 1;
	EQ(call_as(DM, GUEST, 2, sizeof(struct dmop_op), sizeof(x)), DMOP_ERR_INVALID,
	   "modified_memory: opaque must be 0");
	op0()->u.modified.opaque = 0;
	EQ(call_as(DM, GUEST, 2, sizeof(struct dmop_op), 2 * sizeof(x[0])), DMOP_ERR_BUFFER,
	   "modified_memory: buffer 1 too short for 3 extents");
	EQ(call_as(DM, GUEST, 2, sizeof(struct dmop_op), sizeof(x)), DMOP_ERR_INVALID,
	   "modified_memory: the third extent lies outside RAM");
	OK(op0()->u.modified.nr_extents == 3 && marked == 0,
	   "nr_extents names the failing one (index + 1), and nothing was marked");
	op0()->u.modified.nr_extents = 2;
	EQ(call_as(DM, GUEST, 2, sizeof(struct dmop_op), sizeof(x)), DMOP_OK, "the first two");
	EQ(marked, 6, "six pages marked dirty");
}

static void test_events(void)
{
	fresh();
	prepare(DMOP_INJECT_EVENT);
	op0()->u.event.vcpu = 2;
	EQ(call1(GUEST), DMOP_ERR_INVALID, "inject_event to vCPU 2 of 2 refused");
	op0()->u.event.vcpu = 1;
	op0()->u.event.type = 8;
	EQ(call1(GUEST), DMOP_ERR_INVALID, "inject_event of type 8 refused");
	op0()->u.event.type = 0;
	EQ(call1(GUEST), DMOP_OK, "inject_event");
	event_pending = true;
	EQ(call1(GUEST), DMOP_ERR_BUSY, "inject_event while one is pending: EBUSY");
	prepare(DMOP_INJECT_MSI);
	op0()->u.msi.addr = 0x8090040;
	op0()->u.msi.data = 5;
	EQ(call1(GUEST), DMOP_OK, "inject_msi");
	EQ(msis, 1, "the MSI reached the machine");
	prepare(DMOP_REMOTE_SHUTDOWN);
	op0()->u.shutdown.reason = DMOP_SHUTDOWN_REASON_MAX + 1u;
	EQ(call1(GUEST), DMOP_ERR_INVALID, "remote_shutdown with an unknown reason refused");
	op0()->u.shutdown.reason = 3;
	EQ(call1(GUEST), DMOP_OK, "remote_shutdown");
	OK(shutdowns == 1 && last_shutdown == 3, "the guest shut down (crash)");
}

static void test_restrict_and_audit(void)
{
	fresh();
	prepare(DMOP_SET_ISA_IRQ_LEVEL);
	EQ(call_as(DM + 1u, OTHER, 1, sizeof(struct dmop_op), 0), DMOP_OK,
	   "model 8 may serve guest 3 as well as guest 2");
	prepare(DMOP_RESTRICT);
	EQ(call_as(DM + 1u, GUEST, 1, 8, 0), DMOP_OK, "model 8 restricts itself to guest 2");
	prepare(DMOP_SET_ISA_IRQ_LEVEL);
	EQ(call_as(DM + 1u, OTHER, 1, sizeof(struct dmop_op), 0), DMOP_ERR_DENIED,
	   "after dm_restrict, another target is refused");
	EQ(call_as(DM + 1u, GUEST, 1, sizeof(struct dmop_op), 0), DMOP_OK,
	   "its own target still works");
	prepare(DMOP_RESTRICT);
	EQ(call_as(DM + 1u, OTHER, 1, 8, 0), DMOP_ERR_DENIED,
	   "a second dm_restrict to another target is refused: it never widens");
	EQ(call_as(DM + 1u, GUEST, 1, 8, 0), DMOP_OK, "to the same target it changes nothing");
	prepare(DMOP_SET_ISA_IRQ_LEVEL);
	EQ(call_as(DM + 1u, OTHER, 1, sizeof(struct dmop_op), 0), DMOP_ERR_DENIED, "still refused");
	const struct dmop_model *m = dmop_model_of(&d, DM + 1u);
	OK(m != NULL && m->restricted && m->denied == 3 && m->calls == 7,
	   "model 8: restricted, 7 calls, 3 denied");

	struct dmop_audit a;
	OK(dmop_audit_get(&d, 0, &a) && a.seq == 0 && a.caller == DM + 1u && a.target == OTHER &&
	           a.op == DMOP_SET_ISA_IRQ_LEVEL && a.error == DMOP_OK,
	   "audit 0: model 8, guest 3, set_isa_irq_level, done");
	OK(dmop_audit_get(&d, 2, &a) && a.op == DMOP_SET_ISA_IRQ_LEVEL &&
	           a.error == DMOP_ERR_DENIED,
	   "audit 2: the refused call, with its reason");
	OK(!dmop_audit_get(&d, 7, &a), "seven records, no eighth");
	for (unsigned i = 0; i < 100; i++)
		call_as(DM, GUEST, 3, 0, 0);
	OK(dmop_audit_get(&d, 0, &a) && a.seq == 107u - DMOP_AUDIT &&
	           a.error == DMOP_ERR_TOO_MANY_BUFS && a.op == 0,
	   "the ring keeps the last 64 (a call refused before buffer 0 was found reads op 0)");
	OK(!dmop_audit_get(&d, DMOP_AUDIT, &a), "and no more");
	prepare(DMOP_SET_ISA_IRQ_LEVEL);
	op0()->u.isa.isa_irq = 16;
	EQ(call_as(DM + 1u, GUEST, 1, sizeof(struct dmop_op), 0), DMOP_ERR_INVALID,
	   "an IRQ past 15 on its own target");
	OK(m->denied == 3 && m->refused == 4 && m->calls == 8,
	   "refused counts every failed call, denied only the denials");
}

/** A state found after a restart: used only if every count and value is one the core writes. */
static void test_state_valid(void)
{
	fresh();
	OK(dmop_state_valid(&d), "a fresh state is valid");
	uint16_t id = create(DM);
	EQ(range(DM, DMOP_MAP_IO_RANGE, id, DMOP_RANGE_MEMORY, 0x10000000, 0x10000fff), DMOP_OK,
	   "a range mapped");
	EQ(mem_type(RAM_PFN, 3, DMOP_MEM_RAM_RO), DMOP_OK, "three pages read-only");
	OK(dmop_state_valid(&d), "a state the core wrote is valid");
	d.target[0].server[id].nr[DMOP_RANGE_MEMORY] = DMOP_RANGES + 1u;
	OK(!dmop_state_valid(&d), "a range count past the array is not");
	d.target[0].server[id].nr[DMOP_RANGE_MEMORY] = 1;
	d.target[0].server[id].range[DMOP_RANGE_MEMORY][0].start = 0x20000000;
	OK(!dmop_state_valid(&d), "nor a range that ends before it starts");
	d.target[0].server[id].range[DMOP_RANGE_MEMORY][0].start = 0x10000000;
	d.target[0].server[id].owner = 99;
	OK(!dmop_state_valid(&d), "nor a server owned by a model never seen");
	d.target[0].server[id].owner = DM;
	d.target[0].mem_type[1] = DMOP_MEM_MMIO_DM;
	OK(!dmop_state_valid(&d), "nor a page type the core never sets");
	d.target[0].mem_type[1] = DMOP_MEM_RAM_RO;
	d.target[0].link_route[2] = 16;
	OK(!dmop_state_valid(&d), "nor a link routed past ISA IRQ 15");
	d.target[0].link_route[2] = 0;
	OK(dmop_state_valid(&d), "put back, it is valid again");
}

int main(void)
{
	test_buffers_and_targets();
	test_irq_bounds();
	test_mem_type();
	test_ioreq_servers();
	test_memory_ops();
	test_events();
	test_restrict_and_audit();
	test_machine_refuses();
	test_state_valid();
	return tap_finish();
}
