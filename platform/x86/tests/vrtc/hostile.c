/**
 * A hostile device model of the x86 dmop tests (vrtc.dts, vrtc-kill.dts): a service partition
 * holding an endpoint to the dmop service (DMOP_BADGE: itself, the VM, a shared region), its
 * own endpoint (dmop routes there), a notification it waits on (the vrtc model serves) and one
 * it signals (the VM may start). It tries what a compromised model would and must be refused
 * each time, with the exact dmop error:
 *   ports the vrtc model serves (EXISTS), ports outside the VM's port window (DENIED: the
 *   kernel routes ports only inside it), ports past 0xffff (INVALID), another guest as target
 *   and an event or an interrupt line into it (DENIED), HC_GUEST_ROUTE of its own (no guest
 *   capability: WRONG_TYPE); after dm_restrict to the VM, another target and a second restrict
 *   (DENIED).
 * and it does what a model may: ports inside the window mapped, unmapped, mapped again, the
 * server destroyed and the same ports mapped by a new one (so destroy unrouted them).
 */
#include <ipc/dmop.h>
#include <svc/svc.h>

#define SLOT_DMOP 0u
#define SLOT_READY 2u
#define SLOT_GO 3u
#define DMOP_BUF UINT64_C(0x500000)
#define VM 0u
#define OTHER 1u

static unsigned failures;

static void check(bool ok, const char *what)
{
	svc_printf("%s: %s\n", ok ? "passed" : "FAILED", what);
	failures += !ok;
}

/** One dm_op on target: w0 the status; *err the dmop error. */
static uint64_t dm_op(uint64_t target, struct dmop_op *op, uint64_t *err)
{
	volatile uint8_t *buf = (volatile uint8_t *)(uintptr_t)DMOP_BUF;
	const uint8_t *o = (const uint8_t *)op;
	for (uint32_t i = 0; i < sizeof(*op); i++)
		buf[i] = o[i];
	struct msg m = { .label = DMOP_LABEL, .w = { target, 1u, 0u, sizeof(*op) } };
	enum status st = svc_call(SLOT_DMOP, &m);
	for (uint32_t i = 0; i < sizeof(*op); i++)
		((uint8_t *)op)[i] = buf[i];
	*err = st == STATUS_OK ? m.w[1] : UINT64_MAX;
	return st == STATUS_OK ? m.w[0] : st;
}

static struct dmop_op new_op(uint32_t number)
{
	struct dmop_op o;
	memset(&o, 0, sizeof(o));
	o.op = number;
	return o;
}

/** The dmop error of one call (DMOP_OK: none). */
static uint64_t error_of(uint64_t target, struct dmop_op o)
{
	uint64_t err;
	(void)dm_op(target, &o, &err);
	return err;
}

static uint64_t ports(uint32_t op, uint16_t server, uint64_t first, uint64_t last)
{
	struct dmop_op o = new_op(op);
	o.u.range.id = server;
	o.u.range.type = DMOP_RANGE_PORT;
	o.u.range.start = first;
	o.u.range.end = last;
	return error_of(VM, o);
}

/** A new ioreq server on the VM (UINT16_MAX if refused). */
static uint16_t create(void)
{
	struct dmop_op o = new_op(DMOP_CREATE_IOREQ_SERVER);
	uint64_t err;
	(void)dm_op(VM, &o, &err);
	return err == DMOP_OK ? o.u.create.id : UINT16_MAX;
}

static uint64_t destroy(uint16_t server)
{
	struct dmop_op o = new_op(DMOP_DESTROY_IOREQ_SERVER);
	o.u.destroy.id = server;
	return error_of(VM, o);
}

static void routes(void)
{
	uint16_t id = create();
	check(id != UINT16_MAX, "an ioreq server of its own on the VM");
	check(ports(DMOP_MAP_IO_RANGE, id, 0x70, 0x71) == DMOP_ERR_EXISTS,
	      "ports 0x70-0x71, which the vrtc model serves: EXISTS");
	check(ports(DMOP_MAP_IO_RANGE, id, 0x71, 0x72) == DMOP_ERR_EXISTS,
	      "ports 0x71-0x72, overlapping them: EXISTS");
	check(ports(DMOP_MAP_IO_RANGE, id, 0x76, 0x78) == DMOP_ERR_DENIED,
	      "ports 0x76-0x78, running past the VM's port window: DENIED by the kernel");
	check(ports(DMOP_MAP_IO_RANGE, id, 0x3f8, 0x3ff) == DMOP_ERR_DENIED,
	      "COM1's ports, outside the window: DENIED");
	check(ports(DMOP_MAP_IO_RANGE, id, 0xfff0, 0x10000) == DMOP_ERR_INVALID,
	      "ports past 0xffff: INVALID");
	bool cycle = ports(DMOP_MAP_IO_RANGE, id, 0x72, 0x73) == DMOP_OK &&
	             ports(DMOP_UNMAP_IO_RANGE, id, 0x72, 0x72) == DMOP_ERR_NOT_FOUND &&
	             ports(DMOP_UNMAP_IO_RANGE, id, 0x72, 0x73) == DMOP_OK &&
	             ports(DMOP_MAP_IO_RANGE, id, 0x72, 0x73) == DMOP_OK;
	check(cycle, "ports 0x72-0x73 inside the window: mapped, unmapped (exactly), mapped again");
	check(destroy(id) == DMOP_OK, "its server destroyed");
	uint16_t again = create();
	check(again != UINT16_MAX && ports(DMOP_MAP_IO_RANGE, again, 0x72, 0x73) == DMOP_OK &&
	              destroy(again) == DMOP_OK,
	      "a new server maps the same ports: destroy unrouted them");
}

static void other_guest(void)
{
	struct dmop_op o = new_op(DMOP_CREATE_IOREQ_SERVER);
	check(error_of(OTHER, o) == DMOP_ERR_DENIED, "an ioreq server on another guest: DENIED");
	o = new_op(DMOP_INJECT_EVENT);
	o.u.event.vector = 0x40;
	check(error_of(OTHER, o) == DMOP_ERR_DENIED, "an event into another guest: DENIED");
	o = new_op(DMOP_SET_ISA_IRQ_LEVEL);
	o.u.isa.isa_irq = 8;
	o.u.isa.level = 1;
	check(error_of(OTHER, o) == DMOP_ERR_DENIED, "another guest's IRQ 8: DENIED");
	uint64_t r[IPC_REG_COUNT] = {
		HC_GUEST_ROUTE, SLOT_DMOP, 1, 0x70, 2, IPC_ROUTE_MAP | IPC_ROUTE_PORTS, 0
	};
	svc_hypercall(r);
	check(r[0] == STATUS_WRONG_TYPE, "HC_GUEST_ROUTE of its own, without a guest capability");
}

static void restricted(void)
{
	struct dmop_op o = new_op(DMOP_RESTRICT);
	check(error_of(VM, o) == DMOP_OK, "dm_restrict to the VM");
	o = new_op(DMOP_CREATE_IOREQ_SERVER);
	check(error_of(OTHER, o) == DMOP_ERR_DENIED, "then another target: DENIED");
	o = new_op(DMOP_RESTRICT);
	check(error_of(OTHER, o) == DMOP_ERR_DENIED, "then dm_restrict to another guest: DENIED");
	uint16_t id = create();
	check(id != UINT16_MAX && destroy(id) == DMOP_OK, "its own target still works");
}

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t bits;
	if (svc_wait(SLOT_READY, &bits) != STATUS_OK)
		svc_printf("FAILED: waiting for the vrtc model\n");
	routes();
	other_guest();
	restricted();
	svc_printf("hostile model: %u failed\n", failures);
	(void)svc_signal(SLOT_GO);
	return failures != 0;
}
