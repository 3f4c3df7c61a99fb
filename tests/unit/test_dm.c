/**
 * Device-model mediation, the kernel's half (kernel/dm.c, HC_DM) on the fake platform:
 * read-only memory types, the dirty log, remote shutdown, and how their write lock and a
 * monitor's rights (kernel/vmi.c) combine. The fake encodes a page entry as
 * pa | 1 | rights << 1 (| 0x10 device, | 0x20 block, | 0x40 write lock).
 */
#include "system.h"
#include "tap.h"
#include <arch/stage2.h>
#include <kernel/partition_ops.h>
#include <kernel/stage2.h>
#include <fake.h>
#include <stdlib.h>
#include <string.h>

#define GRAM 0x200000u /* the guest's RAM: 4 MiB at 2 MiB, mapped with two blocks */
#define GRAM_SIZE 0x400000u
#define R IPC_ACCESS_READ
#define W IPC_ACCESS_WRITE
#define X IPC_ACCESS_EXEC
#define PG 0x1000u

static u32 g, d, other, ep;
static void *ram;

/**
 * A device model d (slot 0 receives on ep, 1 sends to it, 2 a guest capability with the dm
 * right over g, 3 one with the monitor right, 4 one with only inject, 5 dm over itself) and
 * a VM g with one vCPU.
 */
static void setup(u32 guest_rights)
{
	tsys_reset(1);
	d = tsys_partition("model", 1);
	g = tsys_partition("guest", 1);
	other = tsys_partition("other", 1);
	struct config *cfg = &kernel.cfg;
	cfg->partitions[g].type = PARTITION_VM;
	struct cfg_region *r = &cfg->regions[cfg->partitions[g].mappings[0].region];
	if (ram == NULL)
		ram = aligned_alloc(0x200000u, GRAM_SIZE);
	r->pa = (u64)(uintptr_t)ram;
	r->size = GRAM_SIZE;
	cfg->partitions[g].mappings[0].ipa = GRAM;
	cfg->partitions[g].mappings[0].rights = guest_rights;
	cfg->partitions[g].entry = GRAM;
	cfg->partitions[g].stage2_tables = 64;
	ep = tsys_endpoint();
	tsys_cap(d, 0, CAP_ENDPOINT, ep, RIGHT_EP_RECV, 0);
	tsys_cap(d, 1, CAP_ENDPOINT, ep, RIGHT_EP_SEND, 0);
	tsys_cap(d, 2, CAP_GUEST, g, RIGHT_GUEST_DM, 0);
	tsys_cap(d, 3, CAP_GUEST, g, RIGHT_GUEST_MONITOR, 0);
	tsys_cap(d, 4, CAP_GUEST, g, RIGHT_GUEST_INJECT, 0);
	tsys_cap(d, 5, CAP_GUEST, d, RIGHT_GUEST_DM, 0);
	tsys_cap(d, 6, CAP_GUEST, other, RIGHT_GUEST_DM, 0);
	tsys_cap(g, 0, CAP_ENDPOINT, ep, RIGHT_EP_SEND, 0);
	OK(tsys_boot() == tsys_vcpu(d, 0), "dm: the model runs first");
}

static u64 call(u64 nr, u32 slot, u64 op, u64 a0, u64 a1, u64 a2, u64 a3)
{
	struct vcpu *v = tsys_vcpu(d, 0);
	memset(v->arch.regs, 0, sizeof(v->arch.regs));
	v->arch.regs[0] = nr;
	v->arch.regs[IPC_REG_CAP] = slot;
	v->arch.regs[IPC_REG_LABEL] = op;
	v->arch.regs[IPC_REG_WORD0] = a0;
	v->arch.regs[IPC_REG_WORD0 + 1] = a1;
	v->arch.regs[IPC_REG_WORD0 + 2] = a2;
	v->arch.regs[IPC_REG_WORD0 + 3] = a3;
	struct trap t = { .kind = TRAP_HYPERCALL };
	kernel_trap(v, &t);
	return reg(v, 0);
}

static u64 dm(u32 slot, u64 op, u64 a0, u64 a1, u64 a2)
{
	return call(HC_DM, slot, op, a0, a1, a2, 0);
}

static u64 r1(void)
{
	return reg(tsys_vcpu(d, 0), IPC_REG_CAP);
}

/** The rights a leaf of view `view` was made with (RIGHT_MEM_* | STAGE2_WLOCK). */
static u32 leaf(u32 view, u64 ipa)
{
	struct partition *p = &kernel.partitions[g];
	paddr_t pa;
	u32 r = 0;
	OK(stage2_lookup(view == 0 ? &p->s2 : &p->vmi.views[view], ipa_init(ipa), &pa, &r),
	   "dm: (mapped)");
	return r;
}

/** The guest runs (the model waits on its endpoint); its vCPU. */
static struct vcpu *guest_runs(void)
{
	struct vcpu *n = hc(tsys_vcpu(d, 0), HC_RECV, 0, 0, 0);
	for (u32 i = 0; i < 4 && n != tsys_vcpu(g, 0); i++)
		n = hc(n, HC_YIELD, 0, 0, 0); /* "other" may come first */
	OK(n == tsys_vcpu(g, 0), "dm: the guest runs");
	return n;
}

/** The guest sends to the model, which runs again (to make its next call). */
static void model_runs(void)
{
	struct vcpu *n = hc(tsys_vcpu(g, 0), HC_SEND, 0, 0, 0);
	for (u32 i = 0; i < 4 && n != tsys_vcpu(d, 0); i++)
		n = hc(n, HC_YIELD, 0, 0, 0);
	OK(n == tsys_vcpu(d, 0), "dm: the model runs");
}

static struct vcpu *fault(struct vcpu *v, u64 ipa, u32 access)
{
	struct trap t;
	trap_init(&t, TRAP_MEM_FAULT, 0x9200004fu, NULL);
	t.address = ipa;
	t.access = access;
	return kernel_trap(v, &t);
}

static void test_calls(void)
{
	setup(R | W | X);
	EQ(dm(3, IPC_DM_MEM_TYPE, GRAM, PG, IPC_DM_RAM_RO), STATUS_NO_RIGHTS,
	   "dm: a guest capability with the monitor right but not dm cannot");
	EQ(dm(4, IPC_DM_MEM_TYPE, GRAM, PG, IPC_DM_RAM_RO), STATUS_NO_RIGHTS,
	   "dm: nor one with only inject");
	EQ(dm(1, IPC_DM_MEM_TYPE, GRAM, PG, IPC_DM_RAM_RO), STATUS_WRONG_TYPE,
	   "dm: nor an endpoint capability");
	EQ(dm(5, IPC_DM_MEM_TYPE, GRAM, PG, IPC_DM_RAM_RO), STATUS_INVALID_ARG,
	   "dm: a model never acts on itself");
	EQ(dm(6, IPC_DM_SHUTDOWN, 0, 0, 0), STATUS_INVALID_ARG, "dm: nor on a service");
	EQ(dm(2, IPC_DM_MEM_TYPE, GRAM + 0x10, PG, IPC_DM_RAM_RO), STATUS_INVALID_ARG,
	   "dm: an unaligned address");
	EQ(dm(2, IPC_DM_MEM_TYPE, GRAM, 0x10, IPC_DM_RAM_RO), STATUS_INVALID_ARG,
	   "dm: an unaligned size");
	EQ(dm(2, IPC_DM_MEM_TYPE, GRAM, 0, IPC_DM_RAM_RO), STATUS_INVALID_ARG, "dm: size 0");
	EQ(dm(2, IPC_DM_MEM_TYPE, GRAM + GRAM_SIZE - PG, 2 * PG, IPC_DM_RAM_RO), STATUS_INVALID_ARG,
	   "dm: a range running past the guest's RAM");
	EQ(dm(2, IPC_DM_MEM_TYPE, 0x9000000, PG, IPC_DM_RAM_RO), STATUS_INVALID_ARG,
	   "dm: a range outside it");
	EQ(dm(2, IPC_DM_MEM_TYPE, UINT64_MAX - 0xfff, 2 * PG, IPC_DM_RAM_RO), STATUS_INVALID_ARG,
	   "dm: a range that wraps");
	EQ(dm(2, IPC_DM_MEM_TYPE, GRAM, PG, 7), STATUS_INVALID_ARG, "dm: an unknown type");
	EQ(dm(2, 99, 0, 0, 0), STATUS_INVALID_ARG, "dm: an unknown operation");
	EQ(dm(2, IPC_DM_SHUTDOWN, 6, 0, 0), STATUS_INVALID_ARG, "dm: an unknown shutdown reason");
	EQ(dm(2, IPC_DM_DIRTY_TRACK, GRAM, IPC_DM_TRACK_MAX + PG, 0), STATUS_INVALID_ARG,
	   "dm: a tracked range over 1 GiB");
	EQ(dm(2, IPC_DM_DIRTY_FETCH, GRAM, 1, 0), STATUS_INVALID_ARG,
	   "dm: a fetch with nothing tracked");
	OK(!kernel.partitions[g].stopped && !kernel.partitions[d].stopped, "dm: everyone runs");
	EQ(leaf(0, GRAM), R | W | X, "dm: and nothing changed");
}

static void test_types(void)
{
	setup(R | W | X);
	u32 before = stage2_pool_free();
	EQ(dm(2, IPC_DM_MEM_TYPE, GRAM + 3 * PG, 2 * PG, IPC_DM_RAM_RO), STATUS_OK,
	   "dm: two pages inside a 2 MiB block made read-only");
	EQ(r1(), 2u * PG, "dm: r1 = the bytes done");
	EQ(before - stage2_pool_free(), 1u, "dm: the block was split (one table)");
	EQ(leaf(0, GRAM + 3 * PG), R | W | X | STAGE2_WLOCK, "dm: locked, its write right kept");
	EQ(leaf(0, GRAM + 5 * PG), R | W | X, "dm: the page after is not");
	EQ(call(HC_VMI, 3, IPC_VMI_GET, 0, GRAM + 3 * PG, 0, 0), STATUS_OK, "dm: (GET)");
	EQ(r1(), R | X, "dm: the monitor's GET sees the write not in force");

	struct vcpu *vg = guest_runs();
	vg->arch.pc = GRAM + 0x100;
	OK(fault(vg, GRAM + 3 * PG + 8, W) == vg, "dm: the guest's write to it: the guest runs on");
	EQ(vg->arch.pc, GRAM + 0x104u, "dm: past the write, which was dropped");
	OK(!kernel.partitions[g].stopped, "dm: no fault for the guest");
	EQ(leaf(0, GRAM + 3 * PG), R | W | X | STAGE2_WLOCK, "dm: still read-only");
	OK(fault(vg, GRAM + 3 * PG, R) != vg && kernel.partitions[g].stopped,
	   "dm: a read fault there is no write: not the model's (an ordinary fault)");

	setup(R | W | X);
	EQ(dm(2, IPC_DM_MEM_TYPE, GRAM, 2 * PG, IPC_DM_RAM_RO), STATUS_OK, "dm: pages 0-1 ro");
	EQ(dm(2, IPC_DM_MEM_TYPE, GRAM + 2 * PG, PG, IPC_DM_RAM_RO), STATUS_OK, "dm: page 2 ro");
	EQ(kernel.partitions[g].dm.ro_count, 1u, "dm: neighbours merge into one range");
	EQ(dm(2, IPC_DM_MEM_TYPE, GRAM + PG, PG, IPC_DM_RAM_RW), STATUS_OK, "dm: page 1 rw again");
	EQ(kernel.partitions[g].dm.ro_count, 2u, "dm: the range is cut in two");
	EQ(leaf(0, GRAM + PG), R | W | X, "dm: page 1 unlocked");
	EQ(leaf(0, GRAM + 2 * PG), R | W | X | STAGE2_WLOCK, "dm: page 2 still locked");
	vg = guest_runs();
	u64 pc = vg->arch.pc;
	OK(fault(vg, GRAM + 2 * PG, W) == vg && vg->arch.pc == pc + 4,
	   "dm: a write to page 2 is dropped");

	/* The list is bounded: the 33rd range is refused whole. */
	setup(R | W | X);
	for (u32 i = 0; i < DM_TYPE_RANGES; i++)
		EQ(dm(2, IPC_DM_MEM_TYPE, GRAM + 2u * i * PG, PG, IPC_DM_RAM_RO), STATUS_OK,
		   "dm: one more read-only range");
	EQ(dm(2, IPC_DM_MEM_TYPE, GRAM + 2u * DM_TYPE_RANGES * PG, PG, IPC_DM_RAM_RO), STATUS_BUSY,
	   "dm: the 33rd disjoint range is refused");
	EQ(leaf(0, GRAM + 2u * DM_TYPE_RANGES * PG), R | W | X, "dm: and left as it was");
	EQ(dm(2, IPC_DM_MEM_TYPE, GRAM + PG, PG, IPC_DM_RAM_RO), STATUS_OK,
	   "dm: a page joining two ranges still fits (they merge)");
	EQ(kernel.partitions[g].dm.ro_count, DM_TYPE_RANGES - 1u, "dm: one range fewer");

	/* A long change goes in batches of IPC_DM_PAGES_MAX pages. */
	setup(R | W | X);
	EQ(dm(2, IPC_DM_MEM_TYPE, GRAM, GRAM_SIZE, IPC_DM_RAM_RO), STATUS_OK,
	   "dm: all 4 MiB read-only");
	EQ(r1(), (u64)IPC_DM_PAGES_MAX * PG, "dm: the first 512 pages done");
	EQ(leaf(0, GRAM + 0x200000), R | W | X, "dm: the rest not yet");
	EQ(dm(2, IPC_DM_MEM_TYPE, GRAM + r1(), GRAM_SIZE - 0x200000, IPC_DM_RAM_RO), STATUS_OK,
	   "dm: the caller goes on from there");
	EQ(leaf(0, GRAM + GRAM_SIZE - PG), R | W | X | STAGE2_WLOCK, "dm: all of it locked");
	EQ(kernel.partitions[g].dm.ro_count, 1u, "dm: as one range");
}

static void test_with_monitor(void)
{
	setup(R | W | X);
	EQ(call(HC_VMI, 3, IPC_VMI_ATTACH, 1, 7, 0, 0), STATUS_OK, "dm: a monitor attaches");
	EQ(dm(2, IPC_DM_MEM_TYPE, GRAM, PG, IPC_DM_RAM_RO), STATUS_OK, "dm: page 0 read-only");
	EQ(call(HC_VMI, 3, IPC_VMI_PROTECT, 0, GRAM, PG, R | W | X), STATUS_OK,
	   "dm: the monitor asks rwx for it");
	EQ(leaf(0, GRAM), R | W | X | STAGE2_WLOCK, "dm: the lock stays: PROTECT cannot undo it");
	EQ(call(HC_VMI, 3, IPC_VMI_PROTECT, 0, GRAM, PG, R | X), STATUS_OK,
	   "dm: the monitor takes the write away");
	EQ(dm(2, IPC_DM_MEM_TYPE, GRAM, PG, IPC_DM_RAM_RW), STATUS_OK, "dm: page 0 rw again");
	EQ(leaf(0, GRAM), R | X, "dm: the type change does not give back the monitor's write");
	EQ(dm(2, IPC_DM_MEM_TYPE, GRAM + PG, PG, IPC_DM_RAM_RO), STATUS_OK, "dm: page 1 ro");
	EQ(call(HC_VMI, 3, IPC_VMI_PROTECT, 0, GRAM + PG, PG, R | X), STATUS_OK,
	   "dm: and write-protected by the monitor too");
	struct vcpu *vg = guest_runs();
	OK(fault(vg, GRAM + PG, W) == tsys_vcpu(d, 0) &&
	           reg(tsys_vcpu(d, 0), IPC_REG_LABEL) == IPC_LABEL_VMI_MEM,
	   "dm: a write there goes to the monitor first (Xen checks mem_access first)");

	/* A view made later gets the locks. */
	setup(R | W | X);
	EQ(dm(2, IPC_DM_MEM_TYPE, GRAM + 4 * PG, PG, IPC_DM_RAM_RO), STATUS_OK, "dm: page 4 ro");
	EQ(dm(2, IPC_DM_DIRTY_TRACK, GRAM + 0x10000, 4 * PG, 0), STATUS_OK, "dm: 4 pages tracked");
	EQ(call(HC_VMI, 3, IPC_VMI_VIEW_CREATE, 1, R | W | X, 0, 0), STATUS_OK, "dm: view 1");
	EQ(leaf(1, GRAM + 4 * PG), R | W | X | STAGE2_WLOCK, "dm: the read-only page is in it");
	EQ(leaf(1, GRAM + 0x11000), R | W | X | STAGE2_WLOCK, "dm: so are the tracked ones");
	EQ(leaf(1, GRAM + 5 * PG), R | W | X, "dm: nothing else");
	EQ(call(HC_VMI, 3, IPC_VMI_VIEW_SWITCH, 0, 1, 0, 0), STATUS_OK,
	   "dm: (the guest in view 1)");
	vg = guest_runs();
	OK(fault(vg, GRAM + 0x11000, W) == vg, "dm: a write in view 1 runs after a fault");
	EQ(leaf(0, GRAM + 0x11000), R | W | X, "dm: the page is dirty (unlocked) in view 0");
	EQ(leaf(1, GRAM + 0x11000), R | W | X, "dm: and in view 1");
	model_runs();
	EQ(dm(2, IPC_DM_DIRTY_FETCH, GRAM + 0x10000, 4, 0), STATUS_OK, "dm: fetch");
	EQ(r1(), 2u, "dm: page 1 of the range written");
	EQ(leaf(1, GRAM + 0x11000), R | W | X | STAGE2_WLOCK, "dm: locked again in every view");
}

static void test_dirty(void)
{
	setup(R | W | X);
	const u64 base = GRAM + 0x20000;
	EQ(dm(2, IPC_DM_DIRTY_TRACK, base, 8 * PG, 0), STATUS_OK, "dm: track 8 pages");
	EQ(r1(), 8u * PG, "dm: all armed in one call");
	EQ(dm(2, IPC_DM_DIRTY_FETCH, base, 8, 0), STATUS_OK, "dm: fetch");
	EQ(r1(), 0u, "dm: nothing written yet");
	EQ(reg(tsys_vcpu(d, 0), IPC_REG_LABEL), 8u, "dm: r2 = 8 pages done");
	struct vcpu *vg = guest_runs();
	u64 pc = vg->arch.pc;
	OK(fault(vg, base + 3 * PG + 0x10, W) == vg, "dm: the guest writes page 3: it runs on");
	EQ(vg->arch.pc, pc, "dm: at the same instruction (it is done again, now allowed)");
	EQ(leaf(0, base + 3 * PG), R | W | X, "dm: page 3 may be written freely now");
	setup(R | W | X);
	EQ(dm(2, IPC_DM_DIRTY_TRACK, base, 8 * PG, 0), STATUS_OK, "dm: track 8 pages");
	vg = guest_runs();
	OK(fault(vg, base + 3 * PG, W) == vg, "dm: page 3 written");
	OK(fault(vg, base + 7 * PG, W) == vg, "dm: page 7 written");
	model_runs();
	EQ(dm(2, IPC_DM_DIRTY_MARK, base + 5 * PG, PG, 0), STATUS_OK,
	   "dm: the model marks page 5 (modified_memory)");
	EQ(dm(2, IPC_DM_DIRTY_MARK, GRAM, PG, 0), STATUS_OK, "dm: marking an untracked page: ok");
	EQ(leaf(0, GRAM), R | W | X, "dm: which is left alone");
	EQ(dm(2, IPC_DM_DIRTY_FETCH, base, 8, 0), STATUS_OK, "dm: fetch");
	EQ(r1(), (1u << 3) | (1u << 5) | (1u << 7), "dm: pages 3, 5 and 7");
	EQ(dm(2, IPC_DM_DIRTY_FETCH, base, 8, 0), STATUS_OK, "dm: fetch again");
	EQ(r1(), 0u, "dm: nothing since");
	EQ(dm(2, IPC_DM_DIRTY_FETCH, base + 6 * PG, 3, 0), STATUS_INVALID_ARG,
	   "dm: a fetch running past the tracked range");
	EQ(dm(2, IPC_DM_DIRTY_FETCH, base, IPC_DM_FETCH_MAX + 1, 0), STATUS_INVALID_ARG,
	   "dm: a fetch of more than 64 pages");
	EQ(dm(2, IPC_DM_DIRTY_FETCH, base + PG + 4, 1, 0), STATUS_INVALID_ARG,
	   "dm: an unaligned fetch");

	/* Read-only pages in the tracked range are never dirty and stay locked. */
	EQ(dm(2, IPC_DM_MEM_TYPE, base + 2 * PG, PG, IPC_DM_RAM_RO), STATUS_OK, "dm: page 2 ro");
	EQ(dm(2, IPC_DM_DIRTY_MARK, base, 8 * PG, 0), STATUS_OK, "dm: all 8 marked");
	EQ(leaf(0, base + 2 * PG), R | W | X | STAGE2_WLOCK, "dm: the read-only page stays locked");
	EQ(dm(2, IPC_DM_DIRTY_FETCH, base, 8, 0), STATUS_OK, "dm: fetch");
	EQ(r1(), 0xfbu, "dm: all but the read-only page");

	/* A new range replaces the old, whose pages are free again (but the read-only one). */
	EQ(dm(2, IPC_DM_DIRTY_TRACK, GRAM + 0x100000, 2 * PG, 0), STATUS_OK, "dm: another range");
	EQ(leaf(0, base + 4 * PG), R | W | X, "dm: the old range's pages unlocked");
	EQ(leaf(0, base + 2 * PG), R | W | X | STAGE2_WLOCK, "dm: but its read-only page");
	EQ(dm(2, IPC_DM_DIRTY_FETCH, base, 1, 0), STATUS_INVALID_ARG,
	   "dm: the old range is no longer tracked");
	EQ(dm(2, IPC_DM_DIRTY_TRACK, 0, 0, 0), STATUS_OK, "dm: tracking stops");
	EQ(leaf(0, GRAM + 0x100000), R | W | X, "dm: its pages unlocked");

	/* A long arming goes in batches; a page not armed yet counts as written. */
	EQ(dm(2, IPC_DM_DIRTY_TRACK, GRAM, 0x300000, 0), STATUS_OK, "dm: track 768 pages");
	EQ(r1(), (u64)IPC_DM_PAGES_MAX * PG, "dm: 512 armed");
	EQ(dm(2, IPC_DM_DIRTY_FETCH, GRAM + 0x200000 - 2 * PG, 4, 0), STATUS_OK,
	   "dm: fetch across the armed edge");
	EQ(r1(), 0xcu, "dm: the pages not armed yet are reported");
	EQ(dm(2, IPC_DM_DIRTY_TRACK, GRAM, 0x300000, 0), STATUS_OK, "dm: same range: go on");
	EQ(r1(), 0x300000u, "dm: all armed");
}

static void test_write_server(void)
{
	setup(R | W | X);
	const u64 page = GRAM + 0x40000;
	EQ(dm(2, IPC_DM_MEM_TYPE, page, PG, IPC_DM_RAM_WRITE_SERVER), STATUS_BAD_STATE,
	   "dm: a write-served page with no write server: refused");
	EQ(dm(2, IPC_DM_WRITE_SERVER, 2, 0, 0), STATUS_WRONG_TYPE,
	   "dm: a write server that is no endpoint: refused");
	EQ(dm(2, IPC_DM_WRITE_SERVER, 0, 0, 0), STATUS_NO_RIGHTS,
	   "dm: an endpoint capability without send: refused");
	EQ(dm(2, IPC_DM_WRITE_SERVER, 1, 0x5e5e, 0), STATUS_OK,
	   "dm: the model is the write server");
	EQ(dm(2, IPC_DM_MEM_TYPE, page, 2 * PG, IPC_DM_RAM_WRITE_SERVER), STATUS_OK,
	   "dm: two pages write-served");
	EQ(dm(2, IPC_DM_MEM_TYPE, page + 2 * PG, PG, IPC_DM_RAM_RO), STATUS_OK,
	   "dm: the page after them read-only");
	EQ(kernel.partitions[g].dm.ro_count, 2u, "dm: two ranges: types do not merge");
	EQ(leaf(0, page), R | W | X | STAGE2_WLOCK, "dm: locked");

	struct vcpu *vg = guest_runs(), *vd = tsys_vcpu(d, 0);
	u64 pc = vg->arch.pc;
	struct trap t;
	trap_init(&t, TRAP_MEM_FAULT, 0x9200004fu, NULL);
	t.address = page + PG + 0x18;
	t.access = W;
	t.size = 4;
	t.value = 0xabcd;
	t.arch_info = 0x77;
	memset(&fake_mmio, 0, sizeof(fake_mmio));
	OK(kernel_trap(vg, &t) == vd, "dm: the guest's store to it goes to the write server");
	EQ(vg->state, VCPU_BLOCKED_FAULT, "dm: the guest waits for the answer");
	EQ(reg(vd, IPC_REG_LABEL), IPC_LABEL_MMIO, "dm: as an MMIO message");
	EQ(reg(vd, IPC_REG_CAP), 0x5e5eu, "dm: with the write server's badge");
	EQ(reg(vd, IPC_REG_WORD0), page + PG + 0x18, "dm: w0 the address");
	EQ(reg(vd, IPC_REG_WORD0 + 1), 4u | IPC_MMIO_WRITE, "dm: w1 a 4-byte write");
	EQ(reg(vd, IPC_REG_WORD0 + 2), 0xabcdu, "dm: w2 the value");
	EQ(reg(vd, IPC_REG_WORD0 + 4), PG + 0x18u, "dm: w4 the offset in the range");
	EQ(reg(vd, IPC_REG_WORD0 + 5), IPC_MMIO_INDEX_MEM_TYPE, "dm: w5 says a memory type's");
	memset(vd->arch.regs, 0, sizeof(vd->arch.regs));
	vd->arch.regs[0] = HC_REPLY_RECV;
	vd->arch.regs[IPC_REG_WORD0] = IPC_MMIO_DONE;
	struct trap h = { .kind = TRAP_HYPERCALL };
	struct vcpu *n = kernel_trap(vd, &h);
	OK(n == vg && fake_mmio.completions == 1 && fake_mmio.write &&
	           fake_mmio.arch_info == 0x77u && vg->arch.pc == pc + 4,
	   "dm: the answer completes the store (as the platform decoded it): past it");
	EQ(leaf(0, page + PG), R | W | X | STAGE2_WLOCK, "dm: the page stays write-served");
	trap_init(&t, TRAP_MEM_FAULT, 0x9200004fu, NULL);
	t.address = page;
	t.access = W;
	OK(kernel_trap(vg, &t) != vg && kernel.partitions[g].stopped,
	   "dm: a store the platform cannot decode is the guest's fault");

	setup(R | W | X);
	EQ(dm(2, IPC_DM_WRITE_SERVER, 1, 0x5e5e, 0), STATUS_OK, "dm: (a write server)");
	EQ(dm(2, IPC_DM_MEM_TYPE, page, PG, IPC_DM_RAM_WRITE_SERVER), STATUS_OK,
	   "dm: (a page write-served)");
	EQ(dm(2, IPC_DM_MEM_TYPE, page + PG, PG, IPC_DM_RAM_RO), STATUS_OK, "dm: (one read-only)");
	EQ(dm(2, IPC_DM_WRITE_SERVER, IPC_DM_NO_SERVER, 0, 0), STATUS_OK,
	   "dm: the write server goes");
	EQ(leaf(0, page), R | W | X, "dm: its page is read-write again");
	EQ(leaf(0, page + PG), R | W | X | STAGE2_WLOCK, "dm: the read-only page stays so");
	EQ(kernel.partitions[g].dm.ro_count, 1u, "dm: one typed range left");
}

static void test_shutdown(void)
{
	setup(R | W | X);
	EQ(dm(2, IPC_DM_DIRTY_TRACK, GRAM, 4 * PG, 0), STATUS_OK, "dm: (some pages tracked)");
	EQ(dm(2, IPC_DM_MEM_TYPE, GRAM + 0x10000, PG, IPC_DM_RAM_RO), STATUS_OK,
	   "dm: (a page read-only)");
	kernel.exit_status = 0;
	EQ(dm(2, IPC_DM_SHUTDOWN, IPC_DM_SHUTDOWN_POWEROFF, 0, 0), STATUS_OK, "dm: poweroff");
	OK(kernel.partitions[g].stopped, "dm: the guest stopped");
	OK(!kernel.partitions[d].stopped && !kernel.partitions[other].stopped, "dm: nobody else");
	EQ(kernel.exit_status, 0, "dm: a poweroff is no failure");
	OK(!kernel.partitions[g].dm.used && kernel.partitions[g].dm.ro_count == 0,
	   "dm: its types and log are forgotten");
	EQ(leaf(0, GRAM + 0x10000), R | W | X, "dm: and its pages unlocked");
	EQ(dm(2, IPC_DM_SHUTDOWN, IPC_DM_SHUTDOWN_POWEROFF, 0, 0), STATUS_OK,
	   "dm: a stopped guest shut down again: nothing happens");

	setup(R | W | X);
	EQ(dm(2, IPC_DM_SHUTDOWN, IPC_DM_SHUTDOWN_CRASH, 0, 0), STATUS_OK, "dm: crash");
	OK(kernel.partitions[g].stopped && kernel.exit_status == 1,
	   "dm: the guest stopped, counted as a failure");
}

int main(void)
{
	test_calls();
	test_types();
	test_with_monitor();
	test_dirty();
	test_write_server();
	test_shutdown();
	free(ram);
	return tap_finish();
}
