/**
 * The device model of the x86 dmop memory test (dmop-mem.dts): through the dmop service it
 * makes 100 pages of its VM read-only (set_mem_type, 64 pages a call, continued once) and
 * read-write again, tracks 16 pages (track_dirty_vram: a new range reports all, then exactly
 * what the VM wrote), and last shuts the VM down (remote_shutdown).
 */
#include <ipc/dmop.h>
#include <svc/svc.h>

#define SLOT_DMOP 0u
#define SLOT_GO 1u
#define SLOT_READY 2u
#define DMOP_BUF UINT64_C(0x500000)
#define RO_PFN 0x200u
#define RO_PAGES 100u
#define DIRTY_PFN 0x2e0u

static unsigned failures;

static void check(bool ok, const char *what)
{
	svc_printf("%s: %s\n", ok ? "passed" : "FAILED", what);
	failures += !ok;
}

/** One dm_op on the VM with op in buffer 0 and len bytes of b1 in buffer 1: the dmop error. */
static uint64_t dm_op(struct dmop_op *op, uint8_t *b1, uint32_t len)
{
	volatile uint8_t *buf = (volatile uint8_t *)(uintptr_t)DMOP_BUF;
	for (uint32_t i = 0; i < sizeof(*op); i++)
		buf[i] = ((const uint8_t *)op)[i];
	for (uint32_t i = 0; i < len; i++)
		buf[0x800 + i] = b1[i];
	struct msg m = { .label = DMOP_LABEL,
		         .w = { 0, len != 0 ? 2u : 1u, 0u, sizeof(*op), 0x800, len } };
	enum status st = svc_call(SLOT_DMOP, &m);
	for (uint32_t i = 0; i < sizeof(*op); i++)
		((uint8_t *)op)[i] = buf[i];
	for (uint32_t i = 0; i < len; i++)
		b1[i] = buf[0x800 + i];
	return st == STATUS_OK ? m.w[1] : UINT64_MAX;
}

static struct dmop_op new_op(uint32_t number)
{
	struct dmop_op o;
	memset(&o, 0, sizeof(o));
	o.op = number;
	return o;
}

static uint32_t mem_type(uint16_t type, uint64_t *err)
{
	struct dmop_op o = new_op(DMOP_SET_MEM_TYPE);
	o.u.mem_type.first_pfn = RO_PFN;
	o.u.mem_type.nr = RO_PAGES;
	o.u.mem_type.mem_type = type;
	uint32_t continued = 0;
	while ((*err = dm_op(&o, NULL, 0)) == DMOP_ERR_CONTINUE && continued < 10)
		continued++;
	return continued;
}

static uint32_t vram(uint64_t *err)
{
	struct dmop_op o = new_op(DMOP_TRACK_DIRTY_VRAM);
	o.u.vram.first_pfn = DIRTY_PFN;
	o.u.vram.nr = 16;
	uint8_t bits[2] = { 0x5a, 0x5a };
	*err = dm_op(&o, bits, 2);
	return (uint32_t)bits[0] | (uint32_t)bits[1] << 8;
}

static void handoff(void)
{
	uint64_t bits;
	(void)svc_signal(SLOT_GO);
	(void)svc_wait(SLOT_READY, &bits);
}

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t err, bits;
	(void)svc_wait(SLOT_READY, &bits);
	uint32_t c = mem_type(DMOP_MEM_RAM_RO, &err);
	check(err == DMOP_OK && c == 1, "set_mem_type ram_ro over 100 pages: continued once, done");
	handoff();
	c = mem_type(DMOP_MEM_RAM_RW, &err);
	check(err == DMOP_OK && c == 1, "set_mem_type ram_rw over them");
	uint32_t b = vram(&err);
	check(err == DMOP_OK && b == 0xffffu, "track_dirty_vram of a new range: all 16 reported");
	b = vram(&err);
	check(err == DMOP_OK && b == 0, "and again: none");
	handoff();
	handoff();
	b = vram(&err);
	check(err == DMOP_OK && b == ((1u << 3) | (1u << 12)),
	      "the VM wrote pages 3 and 12: exactly those reported");
	struct dmop_op o = new_op(DMOP_REMOTE_SHUTDOWN);
	o.u.shutdown.reason = DMOP_SHUTDOWN_REASON_MAX;
	err = dm_op(&o, NULL, 0);
	check(err == DMOP_OK, "remote_shutdown (soft reset) of its VM");
	svc_printf("%s\n", failures == 0 ? "all done" : "FAILED");
	return (int)failures;
}
