/**
 * Introspection, the kernel's half (kernel/vmi.c, HC_VMI) on the fake platform: rights a
 * monitor sets apart from the manifest's, access events that pause the vCPU, the answers,
 * views and change_gfn, and a monitor that goes away. The fake encodes a page entry as
 * pa | 1 | rights << 1 (| 0x10 device, | 0x20 block).
 */
#include "system.h"
#include <kernel/ipc.h>
#include "tap.h"
#include <kernel/partition_ops.h>
#include <kernel/stage2.h>
#include <kernel/vcpu_power.h>
#include <stdlib.h>
#include <string.h>

#define GRAM 0x200000u /* the guest's RAM: 4 MiB at 2 MiB, mapped with two blocks */
#define GRAM_SIZE 0x400000u
#define BADGE 0x5eu
#define R IPC_ACCESS_READ
#define W IPC_ACCESS_WRITE
#define X IPC_ACCESS_EXEC

static u32 g, m, other, ep;
static void *ram;

/** A monitor (slot 0 receives on ep, 1 sends to it, 2 monitors g), a VM g with 2 vCPUs. */
static void setup(u32 guest_rights)
{
	tsys_reset(2);
	m = tsys_partition("monitor", 1);
	g = tsys_partition("guest", 2);
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
	cfg->partitions[g].stage2_tables = 64; /* the manifest's `stage2-tables` */
	/* A second RAM mapping, read-only for the guest: one page at 0x100000. */
	u32 ro = cfg->region_count++;
	cfg->regions[ro] = cfg->regions[cfg->partitions[other].mappings[0].region];
	cfg->regions[ro].owner = g;
	cfg->regions[ro].rights = R;
	cfg->partitions[g].mappings[1] =
	        (struct cfg_mapping){ .region = ro, .ipa = 0x100000, .rights = R };
	cfg->partitions[g].mapping_count = 2;
	cfg->partitions[g].vcpus[1].hard_affinity = 2u; /* vCPU 1 on CPU 1, the rest on 0 */
	cfg->partitions[g].vcpus[0].hard_affinity = 1u;
	cfg->partitions[m].vcpus[0].hard_affinity = 1u;
	cfg->partitions[other].vcpus[0].hard_affinity = 1u;
	ep = tsys_endpoint();
	tsys_cap(m, 0, CAP_ENDPOINT, ep, RIGHT_EP_RECV, 0);
	tsys_cap(m, 1, CAP_ENDPOINT, ep, RIGHT_EP_SEND, 0);
	tsys_cap(m, 2, CAP_GUEST, g, RIGHT_GUEST_MONITOR, 0);
	tsys_cap(m, 3, CAP_GUEST, g, RIGHT_GUEST_EMULATE, 0);
	tsys_cap(other, 0, CAP_GUEST, m, RIGHT_GUEST_MONITOR, 0);
	tsys_cap(g, 0, CAP_ENDPOINT, ep, RIGHT_EP_SEND, 0);
	struct vcpu *vm = tsys_vcpu(m, 0), *vg = tsys_vcpu(g, 0), *vg1 = tsys_vcpu(g, 1);
	OK(tsys_boot() == vm, "vmi: the monitor runs first");
	fake_fault_gla = 0;
	/* The guest starts its vCPU 1 (on CPU 1), then hands CPU 0 back to the monitor. */
	OK(hc(vm, HC_RECV, 0, 0, 0) == vg, "vmi: the monitor waits, the guest runs");
	struct power_req on = { .op = POWER_CPU_ON, .target = 1, .entry = GRAM, .arg = 0 };
	enum power_result res;
	OK(kernel_power(vg, &on, &res) == vg && res == POWER_OK, "vmi: vCPU 1 powered on");
	fake_cpu = 1;
	OK(kernel_idle(1) == vg1, "vmi: guest vCPU 1 runs on CPU 1");
	fake_cpu = 0;
	struct vcpu *n = hc(vg, HC_SEND, 0, 0, 0);
	if (n == vg)
		n = hc(vg, HC_YIELD, 0, 0, 0);
	for (u32 i = 0; i < 4 && n != vm; i++)
		n = hc(n, HC_YIELD, 0, 0, 0); /* "other" may come first */
	OK(n == vm, "vmi: the monitor runs again");
}

/** HC_VMI by the monitor: r1 = slot, r2 = op, r3.. args; returns the status. */
static u64 vmi(u32 slot, u64 op, u64 a0, u64 a1, u64 a2, u64 a3)
{
	struct vcpu *v = tsys_vcpu(m, 0);
	memset(v->arch.regs, 0, sizeof(v->arch.regs));
	v->arch.regs[0] = HC_VMI;
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

static u32 rights_at(u32 view, u64 ipa)
{
	EQ(vmi(2, IPC_VMI_GET, view, ipa, 0, 0), STATUS_OK, "vmi: GET works");
	return (u32)reg(tsys_vcpu(m, 0), IPC_REG_CAP);
}

/** The rights in force, read from the tables (for when the monitor is not running). */
static u32 now_rights(u32 view, u64 ipa)
{
	struct partition *p = &kernel.partitions[g];
	paddr_t pa;
	u32 r = 0;
	OK(stage2_lookup(view == 0 ? &p->s2 : &p->vmi.views[view], ipa_init(ipa), &pa, &r),
	   "vmi: (mapped)");
	return r & (R | W | X);
}

static struct vcpu *fault(struct vcpu *v, u64 ipa, u32 access)
{
	struct trap t;
	trap_init(&t, TRAP_MEM_FAULT, 0x9200004fu, NULL);
	t.address = ipa;
	t.access = access;
	return kernel_trap(v, &t);
}

static struct vcpu *answer(u64 action, u64 view_plus1)
{
	struct vcpu *v = tsys_vcpu(m, 0);
	memset(v->arch.regs, 0, sizeof(v->arch.regs));
	v->arch.regs[0] = HC_REPLY_RECV;
	v->arch.regs[IPC_REG_CAP] = 0;
	v->arch.regs[IPC_REG_WORD0] = action;
	v->arch.regs[IPC_REG_WORD0 + 1] = view_plus1;
	struct trap t = { .kind = TRAP_HYPERCALL };
	return kernel_trap(v, &t);
}

/** The monitor waits for events; g's vCPU 0 is current on CPU 0 afterwards. */
static struct vcpu *monitor_waits(void)
{
	struct vcpu *next = hc(tsys_vcpu(m, 0), HC_RECV, 0, 0, 0);
	OK(next == tsys_vcpu(g, 0), "vmi: the monitor waits, the guest runs");
	return next;
}

static void test_rights(void)
{
	setup(R | W | X);
	EQ(vmi(2, IPC_VMI_ATTACH, 1, BADGE, 0, 0), STATUS_OK, "vmi: ATTACH");
	EQ(vmi(3, IPC_VMI_PROTECT, 0, GRAM, 0x1000, R), STATUS_NO_RIGHTS,
	   "vmi: a guest capability without the monitor right cannot");
	EQ(vmi(1, IPC_VMI_PROTECT, 0, GRAM, 0x1000, R), STATUS_WRONG_TYPE,
	   "vmi: nor can an endpoint capability");
	u32 before = stage2_pool_free();
	u32 flushes = fake_ipa_flushes;
	EQ(vmi(2, IPC_VMI_PROTECT, 0, GRAM + 0x3000, 0x1000, R | X), STATUS_OK,
	   "vmi: PROTECT one page inside a 2 MiB block");
	EQ(reg(tsys_vcpu(m, 0), IPC_REG_CAP), 0x1000u, "vmi: r1 = the bytes done");
	EQ(before - stage2_pool_free(), 1u, "vmi: the block was split into pages (one table)");
	EQ(rights_at(0, GRAM + 0x3000), R | X, "vmi: the page has the new rights");
	EQ(rights_at(0, GRAM + 0x2000), R | W | X, "vmi: its neighbour keeps the manifest's");
	EQ(rights_at(0, GRAM + 0x200000), R | W | X, "vmi: the other block is untouched");
	EQ(fake_ipa_flushes, flushes + 1u, "vmi: one page changed: invalidated by IPA");
	paddr_t pa;
	u32 r;
	OK(stage2_lookup(&kernel.partitions[g].s2, ipa_init(GRAM + 0x3004), &pa, &r) &&
	           pa.pa == (u64)(uintptr_t)ram + 0x3004,
	   "vmi: the page still maps its own frame");
	before = stage2_pool_free();
	EQ(vmi(2, IPC_VMI_PROTECT, 0, GRAM + 0x200000, 0x200000, R), STATUS_OK,
	   "vmi: PROTECT a whole block");
	EQ(before - stage2_pool_free(), 0u, "vmi: a whole block changes without a split");
	EQ(reg(tsys_vcpu(m, 0), IPC_REG_CAP), 0x200000u, "vmi: all of it done");
	EQ(rights_at(0, GRAM + 0x3ff000), R, "vmi: its last page is read-only");

	EQ(vmi(2, IPC_VMI_PROTECT, 0, GRAM, 0x200000, 0), STATUS_OK,
	   "vmi: PROTECT 512 pages of the split block to nothing");
	EQ(reg(tsys_vcpu(m, 0), IPC_REG_CAP), 0x200000u, "vmi: 512 pages fit in one call");
	EQ(rights_at(0, GRAM), 0u, "vmi: no rights");

	/* Bad arguments. */
	EQ(vmi(2, IPC_VMI_PROTECT, 0, GRAM + 0x400000, 0x1000, R), STATUS_INVALID_ARG,
	   "vmi: a page outside the guest's RAM");
	EQ(vmi(2, IPC_VMI_PROTECT, 0, GRAM + 0x3ff000, 0x2000, R), STATUS_INVALID_ARG,
	   "vmi: a range running past its RAM");
	EQ(vmi(2, IPC_VMI_PROTECT, 0, GRAM + 0x10, 0x1000, R), STATUS_INVALID_ARG,
	   "vmi: an unaligned address");
	EQ(vmi(2, IPC_VMI_PROTECT, 0, GRAM, 0, R), STATUS_INVALID_ARG, "vmi: size 0");
	EQ(vmi(2, IPC_VMI_PROTECT, 0, GRAM, 0x1000, 8u), STATUS_INVALID_ARG,
	   "vmi: a right that does not exist");
	EQ(vmi(2, IPC_VMI_PROTECT, 1, GRAM, 0x1000, R), STATUS_INVALID_ARG,
	   "vmi: a view that does not exist");
	EQ(vmi(2, IPC_VMI_PROTECT, 0, UINT64_MAX - 0xfff, 0x2000, R), STATUS_INVALID_ARG,
	   "vmi: a range that wraps");
	EQ(vmi(2, 99, 0, 0, 0, 0), STATUS_INVALID_ARG, "vmi: an unknown operation");
	OK(!kernel.partitions[g].stopped && !kernel.partitions[m].stopped, "vmi: everyone runs");

	/* What the manifest forbids stays forbidden. */
	setup(R | X);
	EQ(vmi(2, IPC_VMI_PROTECT, 0, GRAM, 0x1000, R | W | X), STATUS_OK,
	   "vmi: PROTECT asking for rwx on a page the manifest gives rx");
	EQ(rights_at(0, GRAM), R | X, "vmi: gets rx: the intersection with the manifest");
}

static void test_events(void)
{
	setup(R | W | X);
	struct vcpu *vm = tsys_vcpu(m, 0);
	EQ(vmi(2, IPC_VMI_ATTACH, 1, BADGE, 0, 0), STATUS_OK, "vmi: ATTACH");
	EQ(vmi(2, IPC_VMI_PROTECT, 0, GRAM + 0x5000, 0x1000, R | X), STATUS_OK,
	   "vmi: write-protect a page");
	struct vcpu *vg = monitor_waits();
	vg->arch.pc = 0x201234;
	u64 pc = vg->arch.pc;
	fake_fault_gla = 0xffff000000005008u;
	OK(fault(vg, GRAM + 0x5008, W) == vm, "vmi: a write to it goes to the monitor");
	EQ(vg->state, VCPU_BLOCKED_FAULT, "vmi: the vCPU waits for the answer");
	EQ(reg(vm, IPC_REG_LABEL), IPC_LABEL_VMI_MEM, "vmi: label VMI_MEM");
	EQ(reg(vm, IPC_REG_CAP), BADGE, "vmi: with ATTACH's badge");
	EQ(reg(vm, IPC_REG_WORD0), GRAM + 0x5008u, "vmi: w0 the address");
	EQ(reg(vm, IPC_REG_WORD0 + 1), W | IPC_VMI_GLA_VALID, "vmi: w1 write, GLA valid");
	EQ(reg(vm, IPC_REG_WORD0 + 2), pc, "vmi: w2 the writer's PC");
	EQ(reg(vm, IPC_REG_WORD0 + 3), 0u, "vmi: w3 vCPU 0 in view 0");
	EQ(reg(vm, IPC_REG_WORD0 + 4), 0xffff000000005008u, "vmi: w4 the virtual address");
	OK(answer(IPC_VMI_SKIP, 0) == vg, "vmi: a SKIP answer runs the guest at once");
	EQ(vg->arch.pc, pc + 4, "vmi: past the denied instruction");
	EQ(now_rights(0, GRAM + 0x5000), R | X, "vmi: still write-protected");
	vg = tsys_vcpu(g, 0);

	OK(fault(vg, GRAM + 0x5010, W) == vm, "vmi: the next write is caught again");
	EQ(vmi(2, IPC_VMI_PROTECT, 0, GRAM + 0x5000, 0x1000, R | W | X), STATUS_OK,
	   "vmi: the monitor lifts the protection");
	pc = vg->arch.pc;
	OK(answer(IPC_VMI_RETRY, 0) == vg, "vmi: a RETRY answer runs the guest");
	EQ(vg->arch.pc, pc, "vmi: at the same instruction, which now succeeds");

	OK(fault(vg, GRAM + 0x7000, R) == vm,
	   "vmi: a fault on a page whose rights allow the access (changed meanwhile) still "
	   "goes to the monitor, which answers a retry");
	OK(answer(IPC_VMI_RETRY, 0) == vg, "vmi: (answered)");
	OK(fault(vg, 0x9000000, R) != vm && kernel.partitions[g].stopped,
	   "vmi: a fault outside the guest's RAM is an ordinary one (the guest stops)");
	OK(!kernel.partitions[m].stopped, "vmi: the monitor runs on");

	/* A read the manifest forbids is never the monitor's. */
	setup(R | X);
	vm = tsys_vcpu(m, 0);
	EQ(vmi(2, IPC_VMI_ATTACH, 1, BADGE, 0, 0), STATUS_OK, "vmi: ATTACH");
	EQ(vmi(2, IPC_VMI_PROTECT, 0, GRAM, 0x1000, 0), STATUS_OK, "vmi: protect a page to n");
	vg = monitor_waits();
	OK(fault(vg, GRAM + 0x10, W) != vm && kernel.partitions[g].stopped,
	   "vmi: a write the manifest forbids is an ordinary fault, not an event");

	/* A malformed answer is a retry. */
	setup(R | W | X);
	vm = tsys_vcpu(m, 0);
	vmi(2, IPC_VMI_ATTACH, 1, BADGE, 0, 0);
	vmi(2, IPC_VMI_PROTECT, 0, GRAM, 0x1000, R);
	vg = monitor_waits();
	pc = vg->arch.pc;
	OK(fault(vg, GRAM, W) == vm, "vmi: (an event)");
	OK(answer(0x777, 0x999) == vg, "vmi: a garbage answer runs the guest");
	OK(vg->arch.pc == pc && vg->view == 0, "vmi: as a retry in the same view");
}

static void test_views(void)
{
	setup(R | W | X);
	struct vcpu *vm = tsys_vcpu(m, 0);
	EQ(vmi(2, IPC_VMI_ATTACH, 1, BADGE, 0, 0), STATUS_OK, "vmi: ATTACH");
	EQ(vmi(2, IPC_VMI_VIEW_CREATE, 0, R | W | X, 0, 0), STATUS_INVALID_ARG,
	   "vmi: view 0 cannot be created");
	EQ(vmi(2, IPC_VMI_VIEW_CREATE, IPC_VMI_VIEWS, R | W | X, 0, 0), STATUS_INVALID_ARG,
	   "vmi: an 11th view is invalid");
	EQ(vmi(2, IPC_VMI_VIEW_CREATE, 1, R | X, 0, 0), STATUS_OK, "vmi: create view 1 as rx");
	EQ(vmi(2, IPC_VMI_VIEW_CREATE, 1, R | X, 0, 0), STATUS_BUSY, "vmi: twice is busy");
	EQ(rights_at(1, GRAM + 0x123000), R | X, "vmi: view 1 is rx everywhere");
	EQ(rights_at(0, GRAM + 0x123000), R | W | X, "vmi: view 0 is as it was");
	EQ(vmi(2, IPC_VMI_VIEW_DESTROY, 0, 0, 0, 0), STATUS_BUSY, "vmi: destroying view 0 is busy");

	struct vcpu *vg = tsys_vcpu(g, 0);
	EQ(vmi(2, IPC_VMI_VIEW_SWITCH, 1, 1, 0, 0), STATUS_BUSY,
	   "vmi: a vCPU running now cannot be switched");
	EQ(vmi(2, IPC_VMI_VIEW_SWITCH, IPC_VMI_ALL_VCPUS, 1, 0, 0), STATUS_BUSY,
	   "vmi: nor all of them while one runs");
	EQ(vg->view, 0u, "vmi: (and none was)");
	EQ(vmi(2, IPC_VMI_VIEW_SWITCH, 0, 1, 0, 0), STATUS_OK,
	   "vmi: vCPU 0 (not running) switches to view 1");
	EQ(vg->view, 1u, "vmi: its active view is 1");
	EQ(vg->arch.s2_root, kernel.partitions[g].vmi.views[1].root.pa,
	   "vmi: it runs on view 1's tables");
	OK(vg->arch.vmid != kernel.partitions[g].s2.vmid, "vmi: under their own tag");
	EQ(vmi(2, IPC_VMI_VIEW_SWITCH, 2, 1, 0, 0), STATUS_INVALID_ARG, "vmi: no vCPU 2");
	EQ(vmi(2, IPC_VMI_VIEW_SWITCH, 0, 4, 0, 0), STATUS_INVALID_ARG, "vmi: no view 4");
	EQ(vmi(2, IPC_VMI_VIEW_DESTROY, 1, 0, 0, 0), STATUS_BUSY,
	   "vmi: a view some vCPU uses cannot be destroyed");
	EQ(vmi(2, IPC_VMI_VIEW_SWITCH, 0, 0, 0, 0), STATUS_OK, "vmi: vCPU 0 back to view 0");
	EQ(vg->arch.s2_root, kernel.partitions[g].s2.root.pa, "vmi: on the partition's tables");

	/* An event in view 0 answered with a switch to view 1. */
	vmi(2, IPC_VMI_PROTECT, 0, GRAM, 0x1000, R);
	monitor_waits();
	OK(fault(vg, GRAM, W) == vm, "vmi: vCPU 0 faults in view 0");
	EQ(reg(vm, IPC_REG_WORD0 + 3), 0u, "vmi: w3 says vCPU 0, view 0");
	OK(answer(IPC_VMI_RETRY, 2) == vg && vg->view == 1,
	   "vmi: the answer switches it to view 1 (view + 1 = 2)");
	OK(fault(vg, GRAM + 0x1000, W) == vm, "vmi: a write in view 1 (rx) is caught");
	EQ(reg(vm, IPC_REG_WORD0 + 3), (u64)1 << IPC_VMI_VIEW_SHIFT, "vmi: w3 says view 1");

	/* change_gfn in view 1: page GRAM + 0x1000 shows the frame of GRAM + 0x9000. */
	EQ(vmi(2, IPC_VMI_CHANGE_GFN, 0, GRAM + 0x1000, GRAM + 0x9000, 0), STATUS_INVALID_ARG,
	   "vmi: change_gfn in view 0 is invalid");
	EQ(vmi(2, IPC_VMI_CHANGE_GFN, 1, GRAM + 0x1000, GRAM + 0x400000, 0), STATUS_INVALID_ARG,
	   "vmi: nor to a frame outside the guest's RAM");
	EQ(vmi(2, IPC_VMI_CHANGE_GFN, 1, GRAM + 0x1000, 0x100000, 0), STATUS_INVALID_ARG,
	   "vmi: nor to a frame of a mapping that allows less (the guest's read-only page)");
	EQ(vmi(2, IPC_VMI_CHANGE_GFN, 1, GRAM + 0x1000, GRAM + 0x9000, 0), STATUS_OK,
	   "vmi: change_gfn in view 1");
	paddr_t pa;
	u32 r;
	OK(stage2_lookup(&kernel.partitions[g].vmi.views[1], ipa_init(GRAM + 0x1000), &pa, &r) &&
	           pa.pa == (u64)(uintptr_t)ram + 0x9000 && r == (R | X),
	   "vmi: view 1 maps it to the other frame, with the page's rights");
	OK(stage2_lookup(&kernel.partitions[g].s2, ipa_init(GRAM + 0x1000), &pa, &r) &&
	           pa.pa == (u64)(uintptr_t)ram + 0x1000,
	   "vmi: view 0 still maps its own frame");
	EQ(vmi(2, IPC_VMI_CHANGE_GFN, 1, GRAM + 0x1000, IPC_VMI_GFN_RESET, 0), STATUS_OK,
	   "vmi: change_gfn back");
	OK(stage2_lookup(&kernel.partitions[g].vmi.views[1], ipa_init(GRAM + 0x1000), &pa, &r) &&
	           pa.pa == (u64)(uintptr_t)ram + 0x1000,
	   "vmi: view 1 maps the page's own frame again");
	EQ(vmi(2, IPC_VMI_CHANGE_GFN, 1, GRAM + 0x1000, IPC_VMI_GFN_RESET, 0), STATUS_INVALID_ARG,
	   "vmi: resetting a page that is not remapped is invalid");

	/* Views 1..9 exist at most; a destroyed view is re-created clean. */
	for (u32 k = 2; k < IPC_VMI_VIEWS; k++)
		EQ(vmi(2, IPC_VMI_VIEW_CREATE, k, R | W | X, 0, 0), STATUS_OK,
		   "vmi: create views 2..9");
	EQ(vmi(2, IPC_VMI_CHANGE_GFN, 2, GRAM, GRAM + 0x1000, 0), STATUS_OK,
	   "vmi: change_gfn in view 2");
	EQ(vmi(2, IPC_VMI_PROTECT, 2, GRAM + 0x2000, 0x1000, 0), STATUS_OK,
	   "vmi: protect in view 2");
	EQ(vmi(2, IPC_VMI_VIEW_DESTROY, 2, 0, 0, 0), STATUS_OK, "vmi: destroy view 2");
	EQ(vmi(2, IPC_VMI_GET, 2, GRAM, 0, 0), STATUS_INVALID_ARG, "vmi: it is gone");
	u32 before = stage2_pool_free();
	EQ(vmi(2, IPC_VMI_VIEW_CREATE, 2, R | W | X, 0, 0), STATUS_OK, "vmi: create view 2 again");
	EQ(before - stage2_pool_free(), 0u, "vmi: it reuses its tables");
	EQ(rights_at(2, GRAM + 0x2000), R | W | X, "vmi: with the rights it was created with");
	OK(stage2_lookup(&kernel.partitions[g].vmi.views[2], ipa_init(GRAM), &pa, &r) &&
	           pa.pa == (u64)(uintptr_t)ram,
	   "vmi: and no remap left over");
	OK(answer(IPC_VMI_RETRY, 1) == vg && vg->view == 0, "vmi: answered: back to view 0");
}

static void test_monitor_goes(void)
{
	setup(R | W | X);
	struct vcpu *vm = tsys_vcpu(m, 0);
	EQ(vmi(0, IPC_VMI_ATTACH, 1, BADGE, 0, 0), STATUS_WRONG_TYPE,
	   "vmi: ATTACH needs a guest capability");
	EQ(vmi(2, IPC_VMI_ATTACH, 0, BADGE, 0, 0), STATUS_NO_RIGHTS,
	   "vmi: and an endpoint it may send to");
	EQ(vmi(2, IPC_VMI_DETACH, 0, 0, 0, 0), STATUS_BAD_STATE, "vmi: DETACH before ATTACH");
	EQ(vmi(2, IPC_VMI_ATTACH, 1, BADGE, 0, 0), STATUS_OK, "vmi: ATTACH");
	vmi(2, IPC_VMI_PROTECT, 0, GRAM, 0x400000, R | X);
	vmi(2, IPC_VMI_VIEW_CREATE, 3, R, 0, 0);
	vmi(2, IPC_VMI_VIEW_SWITCH, 1, 3, 0, 0);
	struct vcpu *vg = monitor_waits();
	OK(fault(vg, GRAM + 0x8000, W) == vm, "vmi: an event is pending");
	/* The monitor crashes while vCPU 0 waits for it. */
	struct vcpu *next = trap_event(vm, TRAP_MEM_FAULT, 0xdead000, IPC_ACCESS_READ);
	OK(next != vm, "vmi: the monitor stops");
	OK(kernel.partitions[m].stopped && !kernel.partitions[g].stopped,
	   "vmi: the monitor stopped, the guest did not");
	OK(vg->state == VCPU_READY || vg->state == VCPU_RUNNING,
	   "vmi: the paused vCPU runs again: nothing stays paused");
	paddr_t pa;
	u32 r;
	OK(stage2_lookup(&kernel.partitions[g].s2, ipa_init(GRAM + 0x8000), &pa, &r) &&
	           r == (R | W | X),
	   "vmi: the guest has the manifest's rights back");
	OK(tsys_vcpu(g, 1)->view == 0 &&
	           tsys_vcpu(g, 1)->arch.s2_root == kernel.partitions[g].s2.root.pa,
	   "vmi: and every vCPU view 0");

	/* Queued events (not yet received) are released too; and DETACH does the same. */
	setup(R | W | X);
	vm = tsys_vcpu(m, 0);
	vmi(2, IPC_VMI_ATTACH, 1, BADGE, 0, 0);
	vmi(2, IPC_VMI_PROTECT, 0, GRAM, 0x1000, R);
	struct vcpu *vg1 = tsys_vcpu(g, 1);
	fake_cpu = 1;
	OK(fault(vg1, GRAM, W) != vm, "vmi: its event waits: the monitor is not receiving");
	EQ(vg1->state, VCPU_BLOCKED_SEND, "vmi: in the endpoint's queue");
	fake_cpu = 0;
	EQ(vmi(2, IPC_VMI_DETACH, 0, 0, 0, 0), STATUS_OK, "vmi: DETACH");
	EQ(vg1->state, VCPU_READY, "vmi: the queued vCPU is released");
	EQ(rights_at(0, GRAM), R | W | X, "vmi: with the manifest's rights");
	EQ(vmi(2, IPC_VMI_PROTECT, 0, GRAM, 0x1000, R), STATUS_OK,
	   "vmi: a protect with nobody attached");
	fake_cpu = 1;
	OK(kernel_idle(1) == vg1, "vmi: vCPU 1 runs again");
	OK(fault(vg1, GRAM, W) == vg1, "vmi: with no monitor the access just runs again");
	fake_cpu = 0;
	EQ(rights_at(0, GRAM), R | W | X, "vmi: the page got the manifest's rights back");

	/* Nobody monitors itself, and a service is no target. */
	tsys_reset(1);
	m = tsys_partition("monitor", 1);
	other = tsys_partition("other", 1);
	tsys_cap(m, 0, CAP_GUEST, m, RIGHT_GUEST_MONITOR, 0);
	tsys_cap(m, 1, CAP_GUEST, other, RIGHT_GUEST_MONITOR, 0);
	OK(tsys_boot() == tsys_vcpu(m, 0), "vmi: the monitor runs first");
	EQ(vmi(0, IPC_VMI_GET, 0, 0x100000, 0, 0), STATUS_INVALID_ARG, "vmi: never itself");
	EQ(vmi(1, IPC_VMI_GET, 0, 0x100000, 0, 0), STATUS_INVALID_ARG,
	   "vmi: a service cannot be monitored");
}

static struct vcpu *reg_write(struct vcpu *v, u32 reg, u64 value, u64 old)
{
	struct trap t;
	trap_init(&t, TRAP_REG_WRITE, 0x62000000u, "register write");
	t.address = reg;
	t.value = value;
	t.arch_info = old;
	return kernel_trap(v, &t);
}

/** A held MSR write: the platform's TRAP_REG_WRITE with the MSR in the high half. */
static struct vcpu *msr_write(struct vcpu *v, u64 w0, u64 value, u64 old)
{
	struct trap t;
	trap_init(&t, TRAP_REG_WRITE, 0, "MSR write");
	t.address = w0;
	t.value = value;
	t.arch_info = old;
	return kernel_trap(v, &t);
}

static void test_regs(void)
{
	setup(R | W | X);
	struct vcpu *vm = tsys_vcpu(m, 0);
	EQ(vmi(2, IPC_VMI_ATTACH, 1, BADGE, 0, 0), STATUS_OK, "vmi regs: ATTACH");
	EQ(vmi(2, IPC_VMI_MONITOR_REGS, 1u << 8, 0, 0, 0), STATUS_INVALID_ARG,
	   "vmi regs: a register the platform cannot trap is invalid");
	EQ(vmi(2, IPC_VMI_MONITOR_REGS, 1u << IPC_VMI_REG_TTBR0, 0, 0, 0), STATUS_OK,
	   "vmi regs: watch TTBR0");
	EQ(fake_trap_regs, 1u << IPC_VMI_REG_TTBR0, "vmi regs: the platform traps it");
	/* MSR writes: a list of MSRs the platform holds, events like a register's. */
	const u64 lstar = 0xc0000082u, msr_w0 = IPC_VMI_REG_MSR | lstar << 32;
	EQ(vmi(2, IPC_VMI_MONITOR_MSR, 0x10, 1, 0, 0), STATUS_INVALID_ARG,
	   "vmi msr: an MSR the platform cannot hold is invalid");
	EQ(vmi(2, IPC_VMI_MONITOR_MSR, lstar, 2, 0, 0), STATUS_INVALID_ARG,
	   "vmi msr: on is 0 or 1");
	EQ(vmi(2, IPC_VMI_MONITOR_MSR, lstar, 1, 0, 0), STATUS_OK, "vmi msr: watch LSTAR");
	EQ(fake_trap_msr_count, 1u, "vmi msr: the platform holds one MSR's writes");
	EQ(vmi(2, IPC_VMI_MONITOR_REGS, 1u << IPC_VMI_REG_TTBR0, 0, 0, 0), STATUS_OK,
	   "vmi msr: MONITOR_REGS again (the MSRs stay watched)");
	fake_trap_msrs_full = true;
	EQ(vmi(2, IPC_VMI_MONITOR_MSR, 0x176, 1, 0, 0), STATUS_BUSY,
	   "vmi msr: the platform has no room: busy");
	fake_trap_msrs_full = false;
	EQ(fake_trap_msr_count, 1u, "vmi msr: and the list stays as it was");
	struct vcpu *vg = monitor_waits();
	u64 pc = vg->arch.pc;
	fake_reg_done_count = 0;
	OK(reg_write(vg, IPC_VMI_REG_TTBR0, 0x1000, 0x5000) == vm,
	   "vmi regs: a TTBR0 write goes to the monitor");
	EQ(vg->state, VCPU_BLOCKED_FAULT, "vmi regs: the vCPU waits, its write held");
	EQ(fake_reg_done_count, 0u, "vmi regs: nothing written yet");
	OK(reg(vm, IPC_REG_LABEL) == IPC_LABEL_VMI_REG && reg(vm, IPC_REG_CAP) == BADGE,
	   "vmi regs: label VMI_REG, ATTACH's badge");
	OK(reg(vm, IPC_REG_WORD0) == IPC_VMI_REG_TTBR0 && reg(vm, IPC_REG_WORD0 + 1) == 0x1000 &&
	           reg(vm, IPC_REG_WORD0 + 2) == pc && reg(vm, IPC_REG_WORD0 + 4) == 0x5000,
	   "vmi regs: w0 the register, w1 the new value, w2 the PC, w4 the old value");
	OK(answer(IPC_VMI_SKIP, 0) == vg, "vmi regs: a SKIP answer runs the guest");
	OK(fake_reg_done_count == 1 && !fake_reg_done_commit && vg->arch.pc == pc + 4,
	   "vmi regs: the write dropped, the vCPU past the instruction");
	/* SET_REGS with the answer: the PC given wins over the step past the instruction. */
	OK(reg_write(vg, IPC_VMI_REG_TTBR0, 0x1800, 0x5000) == vm, "vmi regs: another write");
	EQ(vmi(2, IPC_VMI_SET_REGS, 0, 0x208000, 7, 8), STATUS_OK, "vmi set_regs: a paused vCPU");
	EQ(vmi(2, IPC_VMI_SET_REGS, 1, 0x208000, 7, 8), STATUS_BUSY,
	   "vmi set_regs: a vCPU not paused on an event is busy");
	EQ(vmi(2, IPC_VMI_SET_REGS, 5, 0, 0, 0), STATUS_INVALID_ARG, "vmi set_regs: no vCPU 5");
	OK(vg->arch.pc == pc + 4, "vmi set_regs: nothing changes before the answer");
	OK(answer(IPC_VMI_SKIP, 0) == vg && !fake_reg_done_commit && vg->arch.pc == 0x208000 &&
	           vg->arch.regs[0] == 7 && vg->arch.regs[1] == 8 && vg->arch.regs[2] == 0,
	   "vmi set_regs: dropped, and it resumes at the PC and registers set");
	vg->arch.pc = pc + 4;
	OK(reg_write(vg, IPC_VMI_REG_TTBR0, 0x2000, 0x5000) == vm, "vmi regs: the next write too");
	OK(answer(IPC_VMI_RETRY, 0) == vg && fake_reg_done_commit &&
	           fake_reg_done_value == 0x2000 && fake_reg_done_reg == IPC_VMI_REG_TTBR0,
	   "vmi regs: a RETRY answer performs it");
	OK(reg_write(vg, IPC_VMI_REG_TCR, 0x77, 0) == vg && fake_reg_done_commit &&
	           fake_reg_done_value == 0x77 && fake_reg_done_count == 4,
	   "vmi regs: an unwatched register is written at once, no event");
	OK(msr_write(vg, msr_w0, 0xffff800000001000u, 0xffff800000002000u) == vm,
	   "vmi msr: an LSTAR write goes to the monitor");
	OK(reg(vm, IPC_REG_LABEL) == IPC_LABEL_VMI_REG && reg(vm, IPC_REG_WORD0) == msr_w0 &&
	           reg(vm, IPC_REG_WORD0 + 1) == 0xffff800000001000u &&
	           reg(vm, IPC_REG_WORD0 + 4) == 0xffff800000002000u,
	   "vmi msr: w0 IPC_VMI_REG_MSR | the MSR << 32, w1 the value, w4 the old one");
	OK(answer(IPC_VMI_SKIP, 0) == vg && !fake_reg_done_commit &&
	           fake_reg_done_reg == IPC_VMI_REG_MSR,
	   "vmi msr: SKIP drops it");
	OK(reg_write(vg, IPC_VMI_REG_TTBR0, 0x3000, 0x2000) == vm, "vmi regs: one more held");
	trap_event(vm, TRAP_MEM_FAULT, 0xdead000, IPC_ACCESS_READ);
	OK(kernel.partitions[m].stopped, "vmi regs: the monitor dies holding it");
	OK(fake_reg_done_count == 6 && fake_reg_done_commit && fake_reg_done_value == 0x3000,
	   "vmi regs: the held write is performed (Xen commits deferred writes)");
	OK(vg->state == VCPU_READY || vg->state == VCPU_RUNNING, "vmi regs: the vCPU runs on");
	EQ(fake_trap_regs, 0u, "vmi regs: and its writes are no longer trapped");
	EQ(fake_trap_msr_count, 0u, "vmi msr: nor its MSR writes");
}

static struct vcpu *step(struct vcpu *v)
{
	struct trap t;
	trap_init(&t, TRAP_STEP, 0, NULL);
	return kernel_trap(v, &t);
}

static void test_step(void)
{
	setup(R | W | X);
	struct vcpu *vm = tsys_vcpu(m, 0), *vg = tsys_vcpu(g, 0);
	EQ(vmi(2, IPC_VMI_ATTACH, 1, BADGE, 0, 0), STATUS_OK, "vmi step: ATTACH");
	EQ(vmi(2, IPC_VMI_SINGLESTEP, 1, 1, 0, 0), STATUS_BUSY,
	   "vmi step: a vCPU running now cannot be made to step");
	EQ(vmi(2, IPC_VMI_SINGLESTEP, 2, 1, 0, 0), STATUS_INVALID_ARG, "vmi step: no vCPU 2");
	EQ(vmi(2, IPC_VMI_SINGLESTEP, 0, 2, 0, 0), STATUS_INVALID_ARG, "vmi step: on is 0 or 1");
	EQ(vmi(2, IPC_VMI_SINGLESTEP, 0, 1, 0, 0), STATUS_OK, "vmi step: vCPU 0 steps");
	OK(fake_step, "vmi step: the platform steps it");
	EQ(vmi(2, IPC_VMI_GET_REGS, 0, 0, 0, 0), STATUS_BUSY,
	   "vmi get_regs: a vCPU that has not stopped for an event is busy");
	monitor_waits();
	const u32 pauses = fake_vmi_pauses;
	vg->arch.pc = 0x201000;
	OK(step(vg) == vm, "vmi step: its step goes to the monitor");
	OK(reg(vm, IPC_REG_LABEL) == IPC_LABEL_VMI_STEP && reg(vm, IPC_REG_WORD0 + 2) == 0x201000 &&
	           reg(vm, IPC_REG_WORD0 + 3) == 0 && reg(vm, IPC_REG_CAP) == BADGE,
	   "vmi step: label VMI_STEP, w2 the PC, w3 vCPU 0 in view 0, the badge");
	EQ(vg->state, VCPU_BLOCKED_FAULT, "vmi step: the vCPU waits");
	/* GET_REGS: a paused vCPU's translation registers, as the platform kept them. */
	fake_vmi_regs[0] = 0x30d00801;
	fake_vmi_regs[1] = 0x25;
	fake_vmi_regs[2] = 0x40001000;
	fake_vmi_regs[3] = 0x40002000;
	EQ(fake_vmi_pauses, pauses + 1u, "vmi regs: the platform kept its registers at the event");
	EQ(vmi(2, IPC_VMI_GET_REGS, 0, 0, 0, 0), STATUS_OK, "vmi get_regs: a paused vCPU");
	OK(reg(vm, IPC_REG_WORD0) == 0x30d00801 && reg(vm, IPC_REG_WORD0 + 1) == 0x25 &&
	           reg(vm, IPC_REG_WORD0 + 2) == 0x40001000 &&
	           reg(vm, IPC_REG_WORD0 + 3) == 0x40002000,
	   "vmi get_regs: r3..r6 the four registers");
	EQ(vmi(2, IPC_VMI_GET_REGS, 1, 0, 0, 0), STATUS_BUSY,
	   "vmi get_regs: a vCPU not paused on an event is busy");
	EQ(vmi(2, IPC_VMI_GET_REGS, 2, 0, 0, 0), STATUS_INVALID_ARG, "vmi get_regs: no vCPU 2");
	EQ(vmi(3, IPC_VMI_GET_REGS, 0, 0, 0, 0), STATUS_NO_RIGHTS,
	   "vmi get_regs: a capability without the monitor right");
	EQ(vmi(2, IPC_VMI_SINGLESTEP, 0, 0, 0, 0), STATUS_OK,
	   "vmi step: the monitor ends the stepping while it waits");
	OK(!fake_step, "vmi step: the platform stops stepping it");
	OK(answer(IPC_VMI_RETRY, 0) == vg && vg->arch.pc == 0x201000,
	   "vmi step: the answer lets it go on (the instruction was done already)");
	/* The monitor dies while the vCPU steps: the stepping ends with it. */
	setup(R | W | X);
	vm = tsys_vcpu(m, 0);
	vg = tsys_vcpu(g, 0);
	vmi(2, IPC_VMI_ATTACH, 1, BADGE, 0, 0);
	vmi(2, IPC_VMI_SINGLESTEP, 0, 1, 0, 0);
	monitor_waits();
	OK(step(vg) == vm, "vmi step: a step event");
	trap_event(vm, TRAP_MEM_FAULT, 0xdead000, IPC_ACCESS_READ);
	OK(kernel.partitions[m].stopped && !fake_step &&
	           (vg->state == VCPU_READY || vg->state == VCPU_RUNNING),
	   "vmi step: the monitor dies: the vCPU runs on, no longer stepped");
}

/** A write event of guest vCPU 0 received by the monitor, which is about to answer it. */
static struct vcpu *event_received(u64 action, u64 view_plus1)
{
	setup(R | W | X);
	vmi(2, IPC_VMI_ATTACH, 1, BADGE, 0, 0);
	vmi(2, IPC_VMI_PROTECT, 0, GRAM, 0x400000, R | X);
	vmi(2, IPC_VMI_VIEW_CREATE, 3, R, 0, 0);
	struct vcpu *vg = monitor_waits();
	OK(fault(vg, GRAM + 0x8000, W) == tsys_vcpu(m, 0), "fastpath: the event is received");
	struct vcpu *v = tsys_vcpu(m, 0);
	memset(v->arch.regs, 0, sizeof(v->arch.regs));
	v->arch.regs[0] = HC_REPLY_RECV;
	v->arch.regs[IPC_REG_WORD0] = action;
	v->arch.regs[IPC_REG_WORD0 + 1] = view_plus1;
	return v;
}

/** What an answer leaves that the IPC fastpath could get wrong. */
struct answered {
	struct vcpu *next;
	u32 guest_state, monitor_state, view, kernel_sender, run_on;
	bool on_view_root, monitor_queued;
	u64 pc;
};

static struct answered answered_now(struct vcpu *next)
{
	struct vcpu *vg = tsys_vcpu(g, 0), *vm = tsys_vcpu(m, 0);
	const struct partition *p = &kernel.partitions[g];
	struct answered a;
	memset(&a, 0, sizeof(a)); /* padding too: the two are compared with memcmp */
	a.next = next;
	a.guest_state = vg->state;
	a.monitor_state = vm->state;
	a.view = vg->view;
	a.kernel_sender = vg->kernel_sender;
	a.run_on = sched.run_on[vm->id];
	a.on_view_root = vg->arch.s2_root ==
	                 (vg->view == 0 ? p->s2.root.pa : p->vmi.views[vg->view].root.pa);
	a.monitor_queued = kernel.endpoints[ep].receivers.head == vm;
	a.pc = vg->arch.pc;
	return a;
}

/** The IPC fastpath (kernel/ipc.c ipc_fast) answers an event as the slow path does. */
static void test_fastpath(void)
{
	static const u64 answers[][2] = { { IPC_VMI_RETRY, 0 },
		                          { IPC_VMI_RETRY, 4 },
		                          { IPC_VMI_SKIP, 0 } };
	for (u32 i = 0; i < 3; i++) {
		struct vcpu *v = event_received(answers[i][0], answers[i][1]);
		struct answered fast = answered_now(ipc_fast(v));
		v = event_received(answers[i][0], answers[i][1]);
		struct trap t = { .kind = TRAP_HYPERCALL };
		struct answered slow = answered_now(kernel_trap(v, &t));
		OK(fast.next == tsys_vcpu(g, 0), "fastpath: it takes the answer, the guest runs");
		OK(memcmp(&fast, &slow, sizeof(fast)) == 0, "fastpath: as the slow path leaves it");
		EQ(fast.view, answers[i][1] == 4 ? 3 : 0, "fastpath: in the view the answer chose");
		OK(fast.on_view_root, "fastpath: on that view's tables");
		OK(fast.monitor_queued && fast.kernel_sender == 0,
		   "fastpath: the monitor waits again, the event is done");
	}
}

int main(void)
{
	test_rights();
	test_events();
	test_views();
	test_monitor_goes();
	test_regs();
	test_step();
	test_fastpath();
	free(ram);
	return tap_finish();
}
