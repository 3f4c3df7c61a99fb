/**
 * The dmop service's memory operations under QEMU (platform/arm64/tests/dmop-mem.dts): a
 * device model acts on its VM's memory through dmop, which acts through the kernel's HC_DM.
 *
 *   GUEST_DMOPMEM_VM  the VM: between phases it waits on "go" and signals "ready"; it reads
 *                     PCI configuration space in its ECAM window, writes its pages and checks
 *                     what the model's memory types let through.
 *   GUEST_DMOPMEM_DM  the model: an ioreq server with PCI functions 00:01.0-7 (by SBDF), then
 *                     set_mem_type ram_ro over 200 pages (three continuations),
 *                     track_dirty_vram, modified_memory, refusals, then remote_shutdown.
 *
 * The VM's RAM is 2 MiB at 0x100000: RO (200 pages from 0x200000) lies in a 2 MiB block the
 * kernel splits; DIRTY (16 pages) lies after it.
 */
#include <ipc/abi.h>
#include <ipc/dmop.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <svc_arch.h>

int svc_main(uint64_t arg);
_Noreturn void svc_exit(uint64_t code);
void *memset(void *dst, int c, size_t n);

#define RO_BASE UINT64_C(0x200000)
#define RO_PAGES 200u
#define DIRTY_BASE UINT64_C(0x2d0000)
#define DIRTY_PAGES 16u
#define PAGE 0x1000u
#define ECAM UINT64_C(0x3f000000) /* the VM's ECAM window: bus 0 */
#define FN(dev, fn) (ECAM + ((uint64_t)(dev) << 15) + ((uint64_t)(fn) << 12))
#define PCI_DONE 0xffcu
#define IOREQ_BASE \
	(RO_BASE + \
	 20u * PAGE) /* 2 pages of the ioreq_server type for a while */ /* the VM's write at this offset of 00:01.0 ends the PCI phase */
#define OLD 0x1111u
#define NEW 0x2222u

/* Capability slots: the VM waits on GO and signals READY; the model the other way round. */
#define VM_GO 0u
#define VM_READY 1u
#define DM_DMOP 0u
#define DM_GO 1u
#define DM_READY 2u
#define DM_EP 3u                  /* its own endpoint (recv): the VM's accesses to its functions */
#define DM_BUF UINT64_C(0x200000) /* the model's shared region with the service */

void *memset(void *dst, int c, size_t n)
{
	volatile uint8_t *d = dst;
	while (n-- > 0)
		*d++ = (uint8_t)c;
	return dst;
}

_Noreturn void svc_exit(uint64_t code)
{
	uint64_t r[9] = { HC_EXIT, code };
	arch_hypercall(r);
	for (;;)
		;
}

static uint64_t hc(uint64_t nr, uint64_t a1)
{
	uint64_t r[9] = { nr, a1 };
	arch_hypercall(r);
	return r[0];
}

static void say(const char *s)
{
	uint64_t r[9] = { 0 };
	uint32_t k = 0;
	for (uint32_t i = 0;; i++) {
		if (s[i] != '\0')
			r[2 + k / 8] |= (uint64_t)(uint8_t)s[i] << (8 * (k % 8));
		k += s[i] != '\0';
		if (s[i] == '\0' || k == IPC_CONSOLE_MAX) {
			r[0] = HC_CONSOLE_WRITE;
			r[1] = k;
			arch_hypercall(r);
			for (uint32_t j = 1; j < 9; j++)
				r[j] = 0;
			k = 0;
		}
		if (s[i] == '\0')
			break;
	}
}

static uint32_t failures;

static void check(int ok, const char *what)
{
	say(ok ? "passed: " : "FAILED: ");
	say(what);
	say("\n");
	failures += !ok;
}

static inline uint32_t rd(uint64_t a)
{
	return *(volatile uint32_t *)(uintptr_t)a;
}

static inline void wr(uint64_t a, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)a = v;
}

static inline uint16_t rd16(uint64_t a)
{
	return *(volatile uint16_t *)(uintptr_t)a;
}

#if defined(GUEST_DMOPMEM_VM)

/** Phase over: tell the model, wait for its next word. */
static void handoff(void)
{
	(void)hc(HC_SIGNAL, VM_READY);
	(void)hc(HC_WAIT, VM_GO);
}

int svc_main(uint64_t arg)
{
	(void)arg;
	(void)hc(HC_WAIT, VM_GO); /* the model has its PCI functions */
	check(rd(FN(1, 0)) == 0x10421af4u && rd(FN(1, 7)) == (0x10421af4u | 7u << 16),
	      "configuration reads of 00:01.0 and 00:01.7 (routed by SBDF) answered by the model");
	check(rd(FN(1, 0) + 0x100) == 0xc0de0100u, "with the offset in the function's 4 KiB");
	wr(FN(2, 0), 0);
	check(rd(FN(2, 0)) == 0xffffffffu && rd16(FN(0, 0) + 2) == 0xffffu,
	      "00:02.0 and 00:00.0, claimed by nobody, read all ones; a write there is dropped");
	wr(FN(1, 0) + PCI_DONE, 1);
	for (uint32_t i = 0; i <= RO_PAGES; i++)
		wr(RO_BASE + i * PAGE, OLD);
	handoff(); /* the model makes 200 pages read-only */
	wr(RO_BASE, NEW);
	wr(RO_BASE + (RO_PAGES - 1u) * PAGE + 0xffc, NEW);
	*(volatile uint64_t *)(uintptr_t)(RO_BASE + 99u * PAGE + 8u) = 0x3333u;
	check(rd(RO_BASE) == OLD && rd(RO_BASE + (RO_PAGES - 1u) * PAGE + 0xffc) == 0 &&
	              rd(RO_BASE + 99u * PAGE + 8u) == 0,
	      "writes to its read-only pages are dropped, the VM runs on");
	wr(RO_BASE + RO_PAGES * PAGE, NEW);
	check(rd(RO_BASE + RO_PAGES * PAGE) == NEW, "the page after them is written");
	handoff(); /* the model makes them read-write again */
	wr(RO_BASE, NEW);
	wr(RO_BASE + 150u * PAGE, NEW);
	check(rd(RO_BASE) == NEW && rd(RO_BASE + 150u * PAGE) == NEW,
	      "read-write again: its writes are kept");
	handoff(); /* the model maps the ioreq_server type to its server and gives it 2 pages */
	wr(IOREQ_BASE, 0x5151u);
	wr(IOREQ_BASE + PAGE + 0x20, 0x5252u);
	check(rd(IOREQ_BASE) == OLD && rd(IOREQ_BASE + PAGE + 0x20) == 0,
	      "stores to ioreq_server pages went to the model (the pages unchanged), reads are RAM's");
	handoff(); /* the model unmaps the type: the pages become ram_rw; it tracks dirty pages */
	wr(IOREQ_BASE, 0x6161u);
	check(rd(IOREQ_BASE) == 0x6161u, "the type unmapped: ram_rw again, the store kept");
	wr(DIRTY_BASE + 2u * PAGE + 0x40, 7);
	wr(DIRTY_BASE + 9u * PAGE, 7);
	wr(DIRTY_BASE + 9u * PAGE + 0x800, 8);
	(void)rd(DIRTY_BASE + 4u * PAGE);
	check(rd(DIRTY_BASE + 9u * PAGE + 0x800) == 8, "writes to tracked pages are kept");
	handoff(); /* the model fetches the log, marks a page, fetches again */
	wr(DIRTY_BASE + 15u * PAGE, 1);
	say(failures == 0 ? "all done\n" : "FAILED\n");
	handoff(); /* the model fetches, then shuts the VM down while it waits */
	say("FAILED: still running after remote_shutdown\n");
	for (;;)
		(void)hc(HC_WAIT, VM_GO);
}

#elif defined(GUEST_DMOPMEM_DM)

static uint64_t last_err;
static uint16_t server;

/** One dm_op call on the VM with o in buffer 0 (and extra bytes in buffer 1); o read back. */
static uint64_t dm_call(struct dmop_op *o, const void *b1, uint64_t b1_len, void *b1_out)
{
	volatile uint8_t *buf = (volatile uint8_t *)(uintptr_t)DM_BUF;
	for (uint32_t i = 0; i < sizeof(*o); i++)
		buf[i] = ((const uint8_t *)o)[i];
	for (uint64_t i = 0; b1 != NULL && i < b1_len; i++)
		buf[0x800 + i] = ((const uint8_t *)b1)[i];
	uint64_t r[9] = { HC_CALL, DM_DMOP,    DMOP_LABEL, 0,     b1_len != 0 ? 2 : 1,
		          0,       sizeof(*o), 0x800,      b1_len };
	arch_hypercall(r);
	for (uint32_t i = 0; i < sizeof(*o); i++)
		((uint8_t *)o)[i] = buf[i];
	for (uint64_t i = 0; b1_out != NULL && i < b1_len; i++)
		((uint8_t *)b1_out)[i] = buf[0x800 + i];
	last_err = r[4];
	return r[0] == STATUS_OK ? r[4] : 0xdead0000u + r[0];
}

static struct dmop_op op(uint32_t n)
{
	struct dmop_op o;
	memset(&o, 0, sizeof(o));
	o.op = n;
	return o;
}

/** set_mem_type over [pfn, pfn + nr), continued until done: the number of continuations. */
static uint32_t mem_type(uint64_t pfn, uint32_t nr, uint16_t type, uint64_t *err)
{
	struct dmop_op o = op(DMOP_SET_MEM_TYPE);
	o.u.mem_type.first_pfn = pfn;
	o.u.mem_type.nr = nr;
	o.u.mem_type.mem_type = type;
	uint32_t continued = 0;
	while ((*err = dm_call(&o, NULL, 0, NULL)) == DMOP_ERR_CONTINUE && continued < 100)
		continued++;
	return continued;
}

static uint32_t vram(uint64_t pfn, uint32_t nr, uint8_t bitmap[2], uint64_t *err)
{
	struct dmop_op o = op(DMOP_TRACK_DIRTY_VRAM);
	o.u.vram.first_pfn = pfn;
	o.u.vram.nr = nr;
	uint8_t in[2] = { 0x55, 0x55 }; /* whatever it held: every bit is written */
	*err = dm_call(&o, in, 2, bitmap);
	return (uint32_t)bitmap[0] | (uint32_t)bitmap[1] << 8;
}

/** The VM may go on; wait until it finished its phase. */
static void handoff(void)
{
	(void)hc(HC_SIGNAL, DM_GO);
	(void)hc(HC_WAIT, DM_READY);
}

/** An ioreq server with 00:01.0-7; serve the VM's accesses until it says it is done. */
static void pci_phase(void)
{
	uint64_t err;
	struct dmop_op o = op(DMOP_CREATE_IOREQ_SERVER);
	err = dm_call(&o, NULL, 0, NULL);
	server = o.u.create.id;
	o = op(DMOP_MAP_IO_RANGE);
	o.u.range = (struct dmop_io_range){
		.id = server, .type = DMOP_RANGE_PCI, .start = 8, .end = 15
	};
	uint64_t err2 = dm_call(&o, NULL, 0, NULL);
	o = op(DMOP_SET_IOREQ_SERVER_STATE);
	o.u.state.id = server;
	o.u.state.enabled = 1;
	uint64_t err3 = dm_call(&o, NULL, 0, NULL);
	check(err == DMOP_OK && err2 == DMOP_OK && err3 == DMOP_OK,
	      "an ioreq server with PCI functions 00:01.0-7 (SBDF 8-15), enabled");
	o = op(DMOP_MAP_IO_RANGE);
	o.u.range = (struct dmop_io_range){
		.id = server, .type = DMOP_RANGE_PCI, .start = 0x100, .end = 0x100
	};
	err = dm_call(&o, NULL, 0, NULL);
	check(err == DMOP_ERR_DENIED, "01:00.0, past the VM's one-bus ECAM window: DENIED");
	(void)hc(HC_SIGNAL, DM_GO);
	uint32_t bad = 0;
	for (bool done = false; !done;) {
		uint64_t r[9] = { HC_RECV, DM_EP };
		arch_hypercall(r);
		uint64_t value = 0;
		if (r[0] != STATUS_OK || r[2] != IPC_LABEL_MMIO ||
		    r[1] != DMOP_ROUTE_BADGE(0, server) || r[3] < FN(1, 0) || r[3] >= FN(2, 0)) {
			bad++;
			continue;
		}
		uint64_t fn = (r[3] - FN(1, 0)) >> 12, off = r[3] & 0xfffu;
		if ((r[4] & IPC_MMIO_WRITE) != 0)
			done = off == PCI_DONE;
		else if (off == 0)
			value = 0x10421af4u | fn << 16;
		else
			value = 0xc0de0000u | off;
		uint64_t q[9] = { HC_REPLY, 0, 0, IPC_MMIO_DONE, value };
		arch_hypercall(q);
	}
	check(bad == 0, "every access came for its functions, with its route's badge");
}

/** The ioreq_server type: its server is this model's; the VM's two stores come here. */
static void ioreq_phase(void)
{
	uint64_t err, err2;
	struct dmop_op o = op(DMOP_MAP_MEM_TYPE_TO_IOREQ_SERVER);
	o.u.map_mem_type.id = server;
	o.u.map_mem_type.type = DMOP_MEM_IOREQ_SERVER;
	o.u.map_mem_type.flags = DMOP_MEM_TYPE_WRITE;
	err = dm_call(&o, NULL, 0, NULL);
	(void)mem_type(IOREQ_BASE >> 12, 2, DMOP_MEM_IOREQ_SERVER, &err2);
	check(err == DMOP_OK && err2 == DMOP_OK,
	      "map_mem_type_to_ioreq_server (writes), 2 pages ram_rw -> ioreq_server");
	(void)hc(HC_SIGNAL, DM_GO);
	static const uint64_t want[2][2] = { { IOREQ_BASE, 0x5151u },
		                             { IOREQ_BASE + PAGE + 0x20, 0x5252u } };
	uint32_t good = 0;
	for (uint32_t i = 0; i < 2u; i++) {
		uint64_t r[9] = { HC_RECV, DM_EP };
		arch_hypercall(r);
		good += r[0] == STATUS_OK && r[2] == IPC_LABEL_MMIO &&
		        r[1] == DMOP_ROUTE_BADGE(0, server) && r[3] == want[i][0] &&
		        r[4] == (4u | IPC_MMIO_WRITE) && r[5] == want[i][1] &&
		        r[8] == IPC_MMIO_INDEX_MEM_TYPE;
		uint64_t q[9] = { HC_REPLY, 0, 0, IPC_MMIO_DONE };
		arch_hypercall(q);
	}
	check(good == 2u, "the VM's two stores came here: address, value, w5 a memory type's");
	(void)hc(HC_WAIT, DM_READY);
	o.u.map_mem_type.flags = 0;
	err = dm_call(&o, NULL, 0, NULL);
	check(err == DMOP_OK, "map_mem_type_to_ioreq_server unmapped: its pages ram_rw again");
}

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t err, err2;
	uint8_t bits[2];
	pci_phase();
	(void)hc(HC_WAIT, DM_READY);
	uint32_t c = mem_type(RO_BASE >> 12, RO_PAGES, DMOP_MEM_RAM_RO, &err);
	check(err == DMOP_OK && c == 3, "set_mem_type ram_ro over 200 pages: 64 a call, "
	                                "continued 3 times, done");
	handoff();
	c = mem_type(RO_BASE >> 12, RO_PAGES, DMOP_MEM_RAM_RW, &err);
	check(err == DMOP_OK && c == 3, "set_mem_type ram_rw over them, continued likewise");
	handoff();
	(void)mem_type(0x400, 1, DMOP_MEM_RAM_RO, &err);
	(void)mem_type(RO_BASE >> 12, 1, DMOP_MEM_IOREQ_SERVER, &err2);
	check(err == DMOP_ERR_INVALID && err2 == DMOP_ERR_INVALID,
	      "set_mem_type outside the VM's RAM, or ioreq_server with no server taking writes: "
	      "INVALID");
	ioreq_phase();
	uint32_t b = vram(DIRTY_BASE >> 12, DIRTY_PAGES, bits, &err);
	check(err == DMOP_OK && b == 0xffffu,
	      "track_dirty_vram of a new range: every page reported written");
	b = vram(DIRTY_BASE >> 12, DIRTY_PAGES, bits, &err);
	check(err == DMOP_OK && b == 0, "and again: nothing written since");
	handoff();
	b = vram(DIRTY_BASE >> 12, DIRTY_PAGES, bits, &err);
	check(err == DMOP_OK && b == ((1u << 2) | (1u << 9)),
	      "the VM wrote pages 2 and 9 (twice): exactly those reported");
	struct dmop_op o = op(DMOP_MODIFIED_MEMORY);
	o.u.modified.nr_extents = 1;
	struct dmop_extent x = { (DIRTY_BASE >> 12) + 5u, 1 };
	err = dm_call(&o, &x, sizeof(x), NULL);
	b = vram(DIRTY_BASE >> 12, DIRTY_PAGES, bits, &err2);
	check(err == DMOP_OK && err2 == DMOP_OK && b == (1u << 5),
	      "modified_memory of page 5: reported by the next fetch, alone");
	handoff();
	b = vram(DIRTY_BASE >> 12, DIRTY_PAGES, bits, &err);
	check(err == DMOP_OK && b == (1u << 15), "page 15 written after the fetch: reported");
	o = op(DMOP_REMOTE_SHUTDOWN);
	o.u.shutdown.reason = 9;
	err = dm_call(&o, NULL, 0, NULL);
	check(err == DMOP_ERR_INVALID, "remote_shutdown with reason 9: INVALID");
	o.u.shutdown.reason = 0;
	err = dm_call(&o, NULL, 0, NULL);
	check(err == DMOP_OK, "remote_shutdown (poweroff) of its VM");
	(void)vram(DIRTY_BASE >> 12, DIRTY_PAGES, bits, &err);
	(void)mem_type(RO_BASE >> 12, 1, DMOP_MEM_RAM_RO, &err2);
	check(err == DMOP_ERR_NO_TARGET && err2 == DMOP_ERR_NO_TARGET,
	      "the VM is gone: track_dirty_vram and set_mem_type NO_TARGET");
	say(failures == 0 ? "all done\n" : "FAILED\n");
	svc_exit(failures);
}

#endif
