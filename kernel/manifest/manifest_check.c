/**
 * Rules across objects, run on a cleanly parsed manifest: memory against
 * the machine, ownership, rights, placement of vCPUs, emulated ranges,
 * images. Every rule names the node whose property is wrong.
 *
 * Also places each RAM or shared region without a fixed reg in free RAM
 * (first fit, 1 GiB aligned when at least 1 GiB and there is such room, else
 * 2 MiB aligned when at least 2 MiB, so stage-2 can use block mappings, ARM
 * DDI 0487 D8.3 / AMD APM vol 2 15.25.5), so that the placement is part of
 * what the host tool checks.
 */
#include <libfdt.h>
#include <string.h>

#include <kernel/package.h>

#include "manifest_internal.h"

#define MF_BLOCK (UINT64_C(2) << 20)
#define MF_HUGE (UINT64_C(1) << 30)

/**
 * Two non-empty ranges [a, a+as) and [b, b+bs) share a byte. The parser
 * guarantees the preconditions for every manifest range (non-zero sizes,
 * no wrap-around). Proved with Frama-C 25 WP + RTE (5/5 goals, CVC4 1.8),
 * the callers' preconditions are not (they follow from the parser's checks):
 *   frama-c -machdep gcc_x86_64 -wp -wp-rte -wp-fct mf_overlap \
 *     -wp-prover cvc4,z3 -cpp-extra-args="-Iipc/include -Ikernel/include
 *     -Ikernel/manifest -I/usr/include" kernel/manifest/manifest_check.c
 */
/*@ requires as > 0 && bs > 0;
    requires a + as <= 18446744073709551615 && b + bs <= 18446744073709551615;
    assigns \nothing;
    ensures \result != 0 <==> (\exists integer x; a <= x < a + as && b <= x < b + bs);
 */
static bool mf_overlap(u64 a, u64 as, u64 b, u64 bs)
{
	return a < b + bs && b < a + as;
}

static const char *mf_name_of(const struct manifest_ctx *c, int node)
{
	const char *n = fdt_get_name(c->fdt, node, NULL);
	return n != NULL ? n : "?";
}

/**
 * A device range against the MMIO the kernel keeps (boot_info.kept_mmio):
 * the interrupt controller and the console UART the kernel drives. The error
 * names the part that is the kernel's.
 */
static void mf_check_kept_mmio(struct manifest_ctx *c, int node, const struct cfg_region *r)
{
	const struct boot_info *bi = c->bi;
	for (u32 k = 0; k < bi->kept_mmio_count && k < BOOT_KEPT_MAX; k++) {
		const struct boot_kept *m = &bi->kept_mmio[k];
		if (m->size == 0 || m->base + m->size < m->base ||
		    !mf_overlap(r->pa, r->size, m->base, m->size))
			continue;
		u64 lo = r->pa > m->base ? r->pa : m->base;
		u64 hi = r->pa + r->size < m->base + m->size ? r->pa + r->size : m->base + m->size;
		mf_error(c, node, "reg", "0x%llx-0x%llx is the kernel's %s", (unsigned long long)lo,
		         (unsigned long long)(hi - 1u), m->what != NULL ? m->what : "device");
	}
}

/** Fixed regions against the machine's RAM, reserved ranges and each other. */
static void mf_check_fixed(struct manifest_ctx *c)
{
	const struct boot_info *bi = c->bi;
	const struct config *cfg = c->cfg;

	for (u32 i = 0; i < cfg->region_count; i++) {
		const struct cfg_region *r = &cfg->regions[i];
		int node = c->region_node[i];
		if (!r->pa_fixed)
			continue;
		bool in_ram = false;
		for (u32 k = 0; k < bi->ram_count && k < BOOT_RANGE_MAX; k++) {
			const struct boot_mem_range *m = &bi->ram[k];
			if (r->kind == REGION_DEVICE &&
			    mf_overlap(r->pa, r->size, m->base, m->size))
				mf_error(c, node, "reg", "device range 0x%llx+0x%llx overlaps RAM",
				         (unsigned long long)r->pa, (unsigned long long)r->size);
			if (r->pa >= m->base && r->pa - m->base <= m->size &&
			    r->size <= m->size - (r->pa - m->base))
				in_ram = true;
		}
		if (r->kind == REGION_DEVICE) {
			mf_check_kept_mmio(c, node, r);
			continue;
		}
		if (!in_ram) {
			mf_error(c, node, "reg", "0x%llx+0x%llx is outside RAM",
			         (unsigned long long)r->pa, (unsigned long long)r->size);
			continue;
		}
		for (u32 k = 0; k < bi->reserved_count && k < BOOT_RANGE_MAX; k++) {
			const struct boot_mem_range *m = &bi->reserved[k];
			if (mf_overlap(r->pa, r->size, m->base, m->size))
				mf_error(c, node, "reg",
				         "overlaps the kernel or boot data at 0x%llx+0x%llx",
				         (unsigned long long)m->base, (unsigned long long)m->size);
		}
	}
	for (u32 i = 0; i < cfg->region_count; i++) {
		for (u32 k = 0; k < i; k++) {
			const struct cfg_region *a = &cfg->regions[i], *b = &cfg->regions[k];
			if (a->pa_fixed && b->pa_fixed &&
			    mf_overlap(a->pa, a->size, b->pa, b->size))
				mf_error(c, c->region_node[i], "reg", "overlaps region %s",
				         b->name);
		}
	}
}

/** The first busy range (reserved, fixed or placed) that [base, base+size) hits. */
static bool mf_busy(const struct manifest_ctx *c, u32 upto, u64 base, u64 size, u64 *end)
{
	const struct boot_info *bi = c->bi;
	const struct config *cfg = c->cfg;
	for (u32 k = 0; k < bi->reserved_count && k < BOOT_RANGE_MAX; k++) {
		if (mf_overlap(base, size, bi->reserved[k].base, bi->reserved[k].size)) {
			*end = bi->reserved[k].base + bi->reserved[k].size;
			return true;
		}
	}
	for (u32 k = 0; k < cfg->region_count; k++) {
		const struct cfg_region *r = &cfg->regions[k];
		bool taken = r->kind != REGION_DEVICE && (r->pa_fixed || k < upto);
		if (taken && mf_overlap(base, size, r->pa, r->size)) {
			*end = r->pa + r->size;
			return true;
		}
	}
	return false;
}

/** Region i at the first free place aligned to align; false if there is none. */
static bool mf_place_at(struct manifest_ctx *c, u32 i, u64 align)
{
	const struct boot_info *bi = c->bi;
	struct cfg_region *r = &c->cfg->regions[i];
	for (u32 k = 0; k < bi->ram_count && k < BOOT_RANGE_MAX; k++) {
		u64 lo = bi->ram[k].base, hi = bi->ram[k].base + bi->ram[k].size;
		u64 at = (lo + align - 1u) & ~(align - 1u);
		u64 end;
		/* Each step passes one busy range, so this ends. */
		while (at >= lo && at < hi && r->size <= hi - at) {
			if (!mf_busy(c, i, at, r->size, &end)) {
				r->pa = at;
				return true;
			}
			at = (end + align - 1u) & ~(align - 1u);
		}
	}
	return false;
}

static void mf_place(struct manifest_ctx *c)
{
	struct config *cfg = c->cfg;

	for (u32 i = 0; i < cfg->region_count; i++) {
		const struct cfg_region *r = &cfg->regions[i];
		if (r->pa_fixed || r->kind == REGION_DEVICE)
			continue;
		/* The largest block size the region can use first, then smaller ones. */
		bool placed = (r->size >= MF_HUGE && mf_place_at(c, i, MF_HUGE)) ||
		              (r->size >= MF_BLOCK && mf_place_at(c, i, MF_BLOCK)) ||
		              mf_place_at(c, i, PAGE_SIZE);
		if (!placed)
			mf_error(c, c->region_node[i], "size",
			         "0x%llx bytes do not fit in free RAM",
			         (unsigned long long)r->size);
	}
}

/** Give region ri to partition pi; error if another partition already has it. */
static void mf_own(struct manifest_ctx *c, u32 pi, u32 ri, int node, const char *prop)
{
	struct config *cfg = c->cfg;
	struct cfg_region *r = &cfg->regions[ri];
	if (r->kind == REGION_SHARED)
		return;
	if (r->owner == CFG_NONE) {
		r->owner = pi;
		for (u32 d = 0; d < cfg->device_count; d++) {
			if (cfg->devices[d].region == ri)
				cfg->devices[d].owner = pi;
		}
	} else if (r->owner != pi) {
		if (r->kind == REGION_DEVICE)
			mf_error(c, node, prop, "device %s is already given to partition %s",
			         r->name, cfg->partitions[r->owner].name);
		else
			mf_error(
			        c, node, prop,
			        "private region %s already belongs to partition %s (use sephyp,shared)",
			        r->name, cfg->partitions[r->owner].name);
	}
}

static void mf_check_mappings(struct manifest_ctx *c, u32 pi)
{
	struct config *cfg = c->cfg;
	struct cfg_partition *p = &cfg->partitions[pi];

	for (u32 i = 0; i < p->mapping_count; i++) {
		const struct cfg_mapping *m = &p->mappings[i];
		const struct cfg_region *r = &cfg->regions[m->region];
		int node = c->mapping_node[pi][i];
		if ((m->rights & ~r->rights) != 0) {
			char want[4], have[4];
			mf_mem_string(m->rights, want);
			mf_mem_string(r->rights, have);
			mf_error(c, node, "rights", "\"%s\" exceeds what region %s grants (\"%s\")",
			         want, r->name, have);
		}
		for (u32 k = 0; k < i; k++) {
			const struct cfg_mapping *o = &p->mappings[k];
			if (mf_overlap(m->ipa, r->size, o->ipa, cfg->regions[o->region].size))
				mf_error(c, node, "ipa", "0x%llx+0x%llx overlaps mapping %s",
				         (unsigned long long)m->ipa, (unsigned long long)r->size,
				         mf_name_of(c, c->mapping_node[pi][k]));
		}
		if (i == p->image_mapping && r->kind == REGION_DEVICE)
			mf_error(c, node, "load-image", "an image cannot be loaded into device %s",
			         r->name);
		/*
		 * Policy (docs/manifest.md): an image is code the partition runs;
		 * in a shared region another partition could rewrite it.
		 */
		if (i == p->image_mapping && r->kind == REGION_SHARED)
			mf_error(c, node, "load-image",
			         "an image cannot be loaded into shared region %s", r->name);
		mf_own(c, pi, m->region, node, "region");
	}
	if (p->image_mapping == CFG_NONE)
		return;
	bool entry_ok = false;
	for (u32 i = 0; i < p->mapping_count; i++) {
		const struct cfg_mapping *m = &p->mappings[i];
		u64 size = cfg->regions[m->region].size;
		if ((m->rights & RIGHT_MEM_EXEC) != 0 && p->entry >= m->ipa &&
		    p->entry - m->ipa < size)
			entry_ok = true;
	}
	if (!entry_ok)
		mf_error(c, c->partition_node[pi], "entry",
		         "0x%llx is not inside an executable mapping",
		         (unsigned long long)p->entry);
}

/** The mapping of partition pi that holds IPA range [ipa, ipa+size), or CFG_NONE. */
static u32 mf_mapping_at(const struct config *cfg, u32 pi, u64 ipa, u64 size)
{
	const struct cfg_partition *p = &cfg->partitions[pi];
	for (u32 i = 0; i < p->mapping_count; i++) {
		const struct cfg_mapping *m = &p->mappings[i];
		u64 msize = cfg->regions[m->region].size;
		if (ipa >= m->ipa && ipa - m->ipa < msize && size <= msize - (ipa - m->ipa))
			return i;
	}
	return CFG_NONE;
}

/**
 * Where a VM's device tree goes: device-tree-ipa, or by default the last
 * 2 MiB of the load-image mapping (64 KiB when that mapping is under 4 MiB),
 * inside memory of its own (not a device, not a shared region).
 */
static void mf_check_dtb(struct manifest_ctx *c, u32 pi)
{
	struct config *cfg = c->cfg;
	struct cfg_partition *p = &cfg->partitions[pi];
	int node = c->partition_node[pi];
	if (p->dtb[0] == '\0')
		return;
	if (p->dtb_ipa == 0 && p->image_mapping != CFG_NONE) {
		const struct cfg_mapping *m = &p->mappings[p->image_mapping];
		u64 size = cfg->regions[m->region].size;
		u64 room = size >= 2u * CFG_DTB_ROOM_BIG ? CFG_DTB_ROOM_BIG : CFG_DTB_ROOM_SMALL;
		if (size <= room) {
			mf_error(
			        c, node, "device-tree",
			        "mapping %s (0x%llx bytes) has no room for a device tree after the image",
			        mf_name_of(c, c->mapping_node[pi][p->image_mapping]),
			        (unsigned long long)size);
			return;
		}
		p->dtb_ipa = m->ipa + size - room;
		return;
	}
	if ((p->dtb_ipa & 7u) != 0) {
		mf_error(c, node, "device-tree-ipa", "0x%llx is not 8-byte aligned",
		         (unsigned long long)p->dtb_ipa);
		return;
	}
	u32 mi = mf_mapping_at(cfg, pi, p->dtb_ipa, 8);
	const struct cfg_region *r = mi == CFG_NONE ? NULL : &cfg->regions[p->mappings[mi].region];
	if (r == NULL || r->kind != REGION_RAM)
		mf_error(c, node, "device-tree-ipa",
		         "0x%llx is not inside a RAM mapping of the partition's own",
		         (unsigned long long)p->dtb_ipa);
}

/** True when partition pi holds a capability of type on object with all of rights. */
static bool mf_holds(const struct config *cfg, u32 pi, enum cap_type type, u32 object, u32 rights)
{
	const struct cfg_partition *p = &cfg->partitions[pi];
	for (u32 i = 0; i < p->cap_count; i++) {
		const struct cfg_cap *cap = &p->caps[i];
		if (cap->type == type && cap->object == object && (cap->rights & rights) == rights)
			return true;
	}
	return false;
}

static void mf_check_caps(struct manifest_ctx *c, u32 pi)
{
	struct config *cfg = c->cfg;
	struct cfg_partition *p = &cfg->partitions[pi];
	for (u32 i = 0; i < p->cap_count; i++) {
		const struct cfg_cap *cap = &p->caps[i];
		if (cap->type != CAP_MEMORY)
			continue;
		const struct cfg_region *r = &cfg->regions[cap->object];
		u32 rwx = cap->rights & (RIGHT_MEM_READ | RIGHT_MEM_WRITE | RIGHT_MEM_EXEC);
		if ((rwx & ~r->rights) != 0) {
			char have[4];
			mf_mem_string(r->rights, have);
			mf_error(c, c->cap_node[pi][i], "rights",
			         "exceed what region %s grants (\"%s\")", r->name, have);
		}
		mf_own(c, pi, cap->object, c->cap_node[pi][i], "object");
	}
	if (p->fault_endpoint != CFG_NONE) {
		bool ok = false;
		for (u32 k = 0; k < cfg->partition_count; k++) {
			if (k != pi &&
			    mf_holds(cfg, k, CAP_ENDPOINT, p->fault_endpoint, RIGHT_EP_RECV))
				ok = true;
		}
		if (!ok)
			mf_error(c, c->partition_node[pi], "fault-handler",
			         "no other partition holds a recv capability on endpoint %s",
			         cfg->endpoint_names[p->fault_endpoint]);
	}
}

/**
 * Static (null) policies: Hall's condition, every CPU subset fits its confined vCPUs. The
 * policy's own vCPUs do not count: it places none of them (the kernel never reports them to
 * it); it runs above what it schedules on its CPU and waits there.
 */
static void mf_check_static(struct manifest_ctx *c, u32 pi)
{
	const struct config *cfg = c->cfg;
	u64 cpus = cfg->partitions[pi].sched_cpus;
	for (u64 s = cpus;; s = (s - 1u) & cpus) {
		u32 need = 0, have = 0;
		for (u32 k = 0; k < cfg->partition_count; k++) {
			const struct cfg_partition *q = &cfg->partitions[k];
			for (u32 v = 0; v < q->vcpu_count && k != pi; v++) {
				if ((q->vcpus[v].hard_affinity & ~s) == 0)
					need++;
			}
		}
		for (u32 b = 0; b < CFG_CPU_MAX; b++)
			have += (u32)((s >> b) & 1u);
		if (need > have) {
			mf_error(c, c->partition_node[pi], "sched-policy",
			         "null policy cannot place %u vCPUs on %u CPUs (mask 0x%llx)", need,
			         have, (unsigned long long)s);
			return;
		}
		if (s == 0)
			return;
	}
}

static void mf_check_sched(struct manifest_ctx *c)
{
	struct config *cfg = c->cfg;
	u32 total = 0;
	for (u32 pi = 0; pi < cfg->partition_count; pi++) {
		const struct cfg_partition *p = &cfg->partitions[pi];
		total += p->vcpu_count;
		for (u32 v = 0; v < p->vcpu_count; v++) {
			if ((p->vcpus[v].soft_affinity & p->vcpus[v].hard_affinity) == 0)
				mf_error(c, c->vcpu_node[pi][v], "soft-affinity",
				         "no CPU in common with the hard affinity");
		}
		if (p->sched_kind == CFG_SCHED_NONE)
			continue;
		if (p->type != PARTITION_SERVICE)
			mf_error(c, c->partition_node[pi], "sched-policy",
			         "only a service partition can be a scheduling policy");
		for (u32 cpu = 0; cpu < CFG_CPU_MAX; cpu++) {
			if ((p->sched_cpus & (UINT64_C(1) << cpu)) == 0)
				continue;
			if (cfg->sched_policy[cpu] != CFG_NONE)
				mf_error(c, c->partition_node[pi], "sched-cpus",
				         "CPU %u is already scheduled by %s", cpu,
				         cfg->partitions[cfg->sched_policy[cpu]].name);
			else
				cfg->sched_policy[cpu] = pi;
		}
		if (p->sched_kind == CFG_SCHED_STATIC)
			mf_check_static(c, pi);
	}
	if (total > CFG_VCPU_TOTAL_MAX)
		mf_error(c, -1, NULL, "%u vCPUs in the system, at most %u", total,
		         CFG_VCPU_TOTAL_MAX);
}

/**
 * The first interrupt id range the kernel keeps (boot_info.kept_irq) that
 * holds id, or NULL: the kernel's own interrupts (timer, kick, UART) and,
 * per platform, ids no device can own (per-CPU SGIs/PPIs, x86 exceptions).
 */
static const struct boot_kept *mf_kept_irq(const struct boot_info *bi, u32 id)
{
	for (u32 k = 0; k < bi->kept_irq_count && k < BOOT_KEPT_MAX; k++) {
		const struct boot_kept *m = &bi->kept_irq[k];
		if (id >= m->base && id - m->base < m->size)
			return m;
	}
	return NULL;
}

static void mf_check_devices(struct manifest_ctx *c)
{
	const struct config *cfg = c->cfg;
	for (u32 d = 0; d < cfg->device_count; d++) {
		const struct cfg_device *dev = &cfg->devices[d];
		for (u32 i = 0; i < dev->irq_count; i++) {
			const struct boot_kept *m = mf_kept_irq(c->bi, dev->irqs[i]);
			if (m != NULL)
				mf_error(c, c->region_node[dev->region], "interrupts",
				         "interrupt %u is the kernel's %s", dev->irqs[i],
				         m->what != NULL ? m->what : "interrupt");
		}
		for (u32 e = 0; e < d; e++) {
			for (u32 i = 0; i < dev->irq_count; i++) {
				for (u32 k = 0; k < cfg->devices[e].irq_count; k++) {
					if (dev->irqs[i] == cfg->devices[e].irqs[k])
						mf_error(
						        c, c->region_node[dev->region],
						        "interrupts",
						        "interrupt %u is already used by device %s",
						        dev->irqs[i], cfg->devices[e].name);
				}
			}
		}
	}
}

/**
 * A device's interrupts go to its owner's virtual interrupt controller,
 * which only vm and pvh partitions have (after the mappings gave owners).
 */
static void mf_check_device_owners(struct manifest_ctx *c)
{
	const struct config *cfg = c->cfg;
	for (u32 d = 0; d < cfg->device_count; d++) {
		const struct cfg_device *dev = &cfg->devices[d];
		if (dev->irq_count != 0 && dev->owner < cfg->partition_count &&
		    cfg->partitions[dev->owner].type == PARTITION_SERVICE)
			mf_error(c, c->region_node[dev->region], "interrupts",
			         "service %s has no virtual interrupt controller to take them "
			         "(only vm and pvh partitions do)",
			         cfg->partitions[dev->owner].name);
	}
}

static void mf_check_emulated(struct manifest_ctx *c)
{
	const struct config *cfg = c->cfg;
	for (u32 i = 0; i < cfg->emulated_count; i++) {
		const struct cfg_emulated *e = &cfg->emulated[i];
		const struct cfg_partition *g = &cfg->partitions[e->guest];
		int node = c->emulated_node[i];
		bool ports = e->kind == CFG_EMULATED_PORTS || e->kind == CFG_EMULATED_ROUTED_PORTS;
		/* Ports are their own address space: only other port ranges can overlap them. */
		for (u32 m = 0; m < g->mapping_count && !ports; m++) {
			const struct cfg_mapping *map = &g->mappings[m];
			if (mf_overlap(e->ipa, e->size, map->ipa, cfg->regions[map->region].size))
				mf_error(c, node, "reg", "overlaps mapping %s of guest %s",
				         mf_name_of(c, c->mapping_node[e->guest][m]), g->name);
		}
		/* Where the guest sees the kernel's own model (its GIC, its local APIC). */
		for (u32 k = 0; k < c->bi->kept_mmio_count && k < BOOT_KEPT_MAX && !ports; k++) {
			const struct boot_kept *m = &c->bi->kept_mmio[k];
			if (m->modelled && g->type != PARTITION_SERVICE &&
			    mf_overlap(e->ipa, e->size, m->base,
			               m->view > m->size ? m->view : m->size))
				mf_error(
				        c, node, "reg",
				        "covers the kernel's model of the %s (0x%llx), which guest %s "
				        "sees there: its accesses would never reach %s",
				        m->what != NULL ? m->what : "device",
				        (unsigned long long)m->base, g->name,
				        e->kind == CFG_EMULATED_ROUTED ?
				                "its device models" :
				                cfg->partitions[e->service].name);
		}
		for (u32 k = 0; k < i; k++) {
			const struct cfg_emulated *o = &cfg->emulated[k];
			bool o_ports = o->kind == CFG_EMULATED_PORTS ||
			               o->kind == CFG_EMULATED_ROUTED_PORTS;
			if (o->guest == e->guest && o_ports == ports &&
			    mf_overlap(e->ipa, e->size, o->ipa, o->size))
				mf_error(c, node, ports ? "ports" : "reg",
				         "overlaps emulated %s %s", ports ? "port range" : "range",
				         o->name);
		}
		if (e->kind == CFG_EMULATED_ROUTED || e->kind == CFG_EMULATED_ROUTED_PORTS)
			continue; /* nobody is named: the routes' owners are checked at run time */
		if (cfg->partitions[e->service].type != PARTITION_SERVICE)
			mf_error(c, node, "service", "%s is not a service partition",
			         cfg->partitions[e->service].name);
		else if (!mf_holds(cfg, e->service, CAP_GUEST, e->guest, RIGHT_GUEST_EMULATE))
			mf_error(c, node, "service",
			         "%s holds no guest capability with emulate over %s",
			         cfg->partitions[e->service].name, g->name);
		if (!mf_holds(cfg, e->service, CAP_ENDPOINT, e->endpoint, RIGHT_EP_RECV))
			mf_error(c, node, "endpoint", "%s holds no recv capability on endpoint %s",
			         cfg->partitions[e->service].name,
			         cfg->endpoint_names[e->endpoint]);
		/*
		 * Its service alone receives there: the accesses are the guest's, and a service
		 * that stopped for good then leaves no receiver (the emulation path relies on it,
		 * platform/arm64/emulpath.S).
		 */
		for (u32 p = 0; p < cfg->partition_count; p++)
			if (p != e->service &&
			    mf_holds(cfg, p, CAP_ENDPOINT, e->endpoint, RIGHT_EP_RECV))
				mf_error(c, node, "endpoint",
				         "%s also holds a recv capability on endpoint %s: only the "
				         "range's service %s may receive its accesses",
				         cfg->partitions[p].name, cfg->endpoint_names[e->endpoint],
				         cfg->partitions[e->service].name);
	}
}

/**
 * A preserved region keeps a restartable service's state across its restarts: its owner must
 * be restartable (nothing else restarts), and the image is not loaded into it (a restart
 * copies the image in again). Only one partition holds the console.
 */
static void mf_check_preserve_console(struct manifest_ctx *c)
{
	const struct config *cfg = c->cfg;
	for (u32 ri = 0; ri < cfg->region_count; ri++) {
		const struct cfg_region *r = &cfg->regions[ri];
		if (!r->preserve || r->kind != REGION_RAM || r->owner == CFG_NONE)
			continue;
		const struct cfg_partition *p = &cfg->partitions[r->owner];
		if (!p->restartable)
			mf_error(c, c->region_node[ri], "preserve",
			         "its owner %s is not restartable: nothing would keep it", p->name);
		else if (p->image_mapping != CFG_NONE && p->mappings[p->image_mapping].region == ri)
			mf_error(c, c->region_node[ri], "preserve",
			         "%s loads its image into it: a restart overwrites it", p->name);
	}
	u32 holder = CFG_NONE;
	for (u32 pi = 0; pi < cfg->partition_count; pi++) {
		const struct cfg_partition *p = &cfg->partitions[pi];
		for (u32 i = 0; i < p->cap_count; i++) {
			if (p->caps[i].type != CAP_CONSOLE)
				continue;
			if (holder != CFG_NONE && holder != pi)
				mf_error(c, c->cap_node[pi][i], "kind",
				         "the console is already held by %s",
				         cfg->partitions[holder].name);
			else if (holder == pi)
				mf_error(c, c->cap_node[pi][i], "kind",
				         "%s holds the console twice", p->name);
			holder = pi;
		}
	}
}

/** A little-endian u64 of a blob, which need not be aligned. */
static u64 mf_le64(const u8 *b)
{
	u64 v = 0;
	for (u32 i = 8; i-- > 0;)
		v = v << 8 | b[i];
	return v;
}

/**
 * A Linux partition's Image (Documentation/arch/arm64/booting.rst, "Call
 * the kernel image"): the 64-byte header's magic "ARM\x64" at 0x38, its
 * text_offset at 0x08 and image_size (the whole span with BSS) at 0x10.
 * The Image goes at the load-image mapping's IPA (2 MiB aligned) plus
 * text_offset; the span must end below the device tree; the initrd goes
 * right below the device tree (4 KiB aligned) and above that span. Fills
 * image_offset, entry and initrd_ipa.
 */
static void mf_check_linux(struct manifest_ctx *c, u32 pi, const void *data, u64 size)
{
	struct config *cfg = c->cfg;
	struct cfg_partition *p = &cfg->partitions[pi];
	const struct cfg_mapping *m = &p->mappings[p->image_mapping];
	u64 room = cfg->regions[m->region].size;
	int node = c->partition_node[pi];
	const u8 *b = data;
	if (size < 64u || b[0x38] != 'A' || b[0x39] != 'R' || b[0x3a] != 'M' || b[0x3b] != 0x64) {
		mf_error(c, node, "image",
		         "\"%s\" is not an arm64 Linux Image (no \"ARM\\x64\" at 0x38)", p->image);
		return;
	}
	u64 text_offset = mf_le64(b + 8), span = mf_le64(b + 16);
	if ((m->ipa & (CFG_LINUX_ALIGN - 1u)) != 0) {
		mf_error(c, node, "image",
		         "a Linux Image needs its load-image mapping 2 MiB aligned, "
		         "not at 0x%llx",
		         (unsigned long long)m->ipa);
		return;
	}
	if (span < size)
		span = size; /* image_size 0: a kernel older than 3.17, or a lying header */
	if (text_offset >= room || (text_offset & (PAGE_SIZE - 1u)) != 0 ||
	    span > room - text_offset) {
		mf_error(c, node, "image",
		         "\"%s\" (text_offset 0x%llx, 0x%llx bytes) does not fit in mapping %s "
		         "(0x%llx bytes)",
		         p->image, (unsigned long long)text_offset, (unsigned long long)span,
		         mf_name_of(c, c->mapping_node[pi][p->image_mapping]),
		         (unsigned long long)room);
		return;
	}
	u64 end = m->ipa + text_offset + span; /* no wrap: the mapping is below 2^40 */
	if (p->dtb_ipa >= m->ipa && p->dtb_ipa < end) {
		mf_error(c, node, "device-tree",
		         "at 0x%llx it would overlap the Linux image (up to 0x%llx)",
		         (unsigned long long)p->dtb_ipa, (unsigned long long)end);
		return;
	}
	p->image_offset = text_offset;
	p->entry = m->ipa + text_offset;
	if (p->initrd[0] == '\0')
		return;
	const void *initrd;
	u64 initrd_size;
	if (!package_find(c->bi->package, p->initrd, &initrd, &initrd_size)) {
		mf_error(c, node, "initrd", "\"%s\" is not in the boot package", p->initrd);
		return;
	}
	if (p->dtb_ipa < end || p->dtb_ipa - m->ipa > room || p->dtb_ipa - end < initrd_size) {
		mf_error(
		        c, node, "initrd",
		        "\"%s\" (0x%llx bytes) does not fit between the Linux image (up to 0x%llx) "
		        "and the device tree (0x%llx)",
		        p->initrd, (unsigned long long)initrd_size, (unsigned long long)end,
		        (unsigned long long)p->dtb_ipa);
		return;
	}
	p->initrd_ipa = (p->dtb_ipa - initrd_size) & ~(u64)(PAGE_SIZE - 1u);
	if (p->initrd_ipa < end)
		mf_error(c, node, "initrd", "\"%s\" does not fit below the device tree", p->initrd);
}

/** Images from the boot package: present, and no larger than the mapping they load into. */
static void mf_check_images(struct manifest_ctx *c)
{
	const struct boot_info *bi = c->bi;
	const struct config *cfg = c->cfg;
	if (bi->package == NULL)
		return;
	if (!package_valid(bi->package, bi->package_size)) {
		mf_error(c, -1, NULL, "the boot package is malformed");
		return;
	}
	for (u32 pi = 0; pi < cfg->partition_count; pi++) {
		const struct cfg_partition *p = &cfg->partitions[pi];
		const void *data;
		u64 size;
		if (p->image[0] == '\0' || p->image_mapping == CFG_NONE)
			continue;
		if (!package_find(bi->package, p->image, &data, &size)) {
			mf_error(c, c->partition_node[pi], "image",
			         "\"%s\" is not in the boot package", p->image);
			continue;
		}
		const struct cfg_mapping *m = &p->mappings[p->image_mapping];
		u64 room = cfg->regions[m->region].size;
		if (p->linux_image)
			mf_check_linux(c, pi, data, size);
		else if (size > room)
			mf_error(c, c->partition_node[pi], "image",
			         "\"%s\" is 0x%llx bytes, larger than mapping %s (0x%llx bytes)",
			         p->image, (unsigned long long)size,
			         mf_name_of(c, c->mapping_node[pi][p->image_mapping]),
			         (unsigned long long)room);
		else if (p->dtb[0] != '\0' && p->dtb_ipa >= m->ipa && p->dtb_ipa - m->ipa < size)
			mf_error(c, c->partition_node[pi], "device-tree",
			         "at 0x%llx it would overlap image \"%s\" (0x%llx bytes at 0x%llx)",
			         (unsigned long long)p->dtb_ipa, p->image, (unsigned long long)size,
			         (unsigned long long)m->ipa);
	}
	for (u32 ri = 0; ri < cfg->region_count; ri++) {
		const struct cfg_region *r = &cfg->regions[ri];
		const void *data;
		u64 size;
		if (r->contents[0] == '\0')
			continue;
		if (!package_find(bi->package, r->contents, &data, &size))
			mf_error(c, c->region_node[ri], "contents",
			         "\"%s\" is not in the boot package", r->contents);
		else if (size > r->size)
			mf_error(c, c->region_node[ri], "contents",
			         "\"%s\" is 0x%llx bytes, larger than the region (0x%llx bytes)",
			         r->contents, (unsigned long long)size,
			         (unsigned long long)r->size);
	}
	for (u32 pi = 0; pi < cfg->partition_count; pi++) {
		const struct cfg_partition *p = &cfg->partitions[pi];
		const void *data;
		u64 size;
		if (p->dtb[0] == '\0' || p->dtb_ipa == 0)
			continue;
		int node = c->partition_node[pi];
		if (!package_find(bi->package, p->dtb, &data, &size)) {
			mf_error(c, node, "device-tree", "\"%s\" is not in the boot package",
			         p->dtb);
			continue;
		}
		const u8 *b = data;
		if (size < 40u || b[0] != 0xd0 || b[1] != 0x0d || b[2] != 0xfe || b[3] != 0xed) {
			mf_error(c, node, "device-tree", "\"%s\" is not a device-tree blob",
			         p->dtb);
			continue;
		}
		if (mf_mapping_at(cfg, pi, p->dtb_ipa, size) == CFG_NONE)
			mf_error(c, node, "device-tree",
			         "\"%s\" (0x%llx bytes) does not fit in the mapping at 0x%llx",
			         p->dtb, (unsigned long long)size, (unsigned long long)p->dtb_ipa);
	}
}

/**
 * A partition's name prefixes its console lines ("[name] ..."), so it may
 * neither be the kernel's own prefix "hyp" (in any case, with or without a
 * unit address) nor hold a character that could fake a prefix: only the
 * node-name characters of the Devicetree Specification 0.4 (2.2.1) pass,
 * which dtc enforces but a hand-made blob need not.
 */
static void mf_check_partition_name(struct manifest_ctx *c, u32 pi)
{
	const char *name = c->cfg->partitions[pi].name;
	u32 len = 0;
	for (const char *s = name; *s != '\0'; s++) {
		char ch = *s;
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		          (ch >= '0' && ch <= '9') || ch == ',' || ch == '.' || ch == '_' ||
		          ch == '+' || ch == '-' || ch == '@';
		if (!ok) {
			mf_error(c, c->partition_node[pi], NULL,
			         "partition name has character 0x%02x, which the console "
			         "could show as part of a prefix",
			         (unsigned)(unsigned char)ch);
			return;
		}
		if (ch != '@' && len == (u32)(s - name))
			len++;
	}
	if (len == 3 && (name[0] | 0x20) == 'h' && (name[1] | 0x20) == 'y' &&
	    (name[2] | 0x20) == 'p')
		mf_error(c, c->partition_node[pi], NULL,
		         "partition name %s is reserved: its console lines would read as the "
		         "kernel's [hyp] lines",
		         name);
}

/** Duplicate names among regions, among IPC objects, and among partitions. */
static void mf_check_names(struct manifest_ctx *c)
{
	const struct config *cfg = c->cfg;
	for (u32 i = 0; i < cfg->partition_count; i++)
		mf_check_partition_name(c, i);
	for (u32 i = 0; i < cfg->region_count; i++) {
		for (u32 k = 0; k < i; k++) {
			if (mf_streq(cfg->regions[i].name, cfg->regions[k].name))
				mf_error(c, c->region_node[i], NULL, "duplicate region name %s",
				         cfg->regions[i].name);
		}
	}
	for (u32 i = 0; i < cfg->partition_count; i++) {
		for (u32 k = 0; k < i; k++) {
			if (mf_streq(cfg->partitions[i].name, cfg->partitions[k].name))
				mf_error(c, c->partition_node[i], NULL,
				         "duplicate partition name %s", cfg->partitions[i].name);
		}
	}
	for (u32 i = 0; i < cfg->endpoint_count + cfg->notification_count; i++) {
		for (u32 k = 0; k < i; k++) {
			const char *a = i < cfg->endpoint_count ?
			                        cfg->endpoint_names[i] :
			                        cfg->notification_names[i - cfg->endpoint_count];
			const char *b = k < cfg->endpoint_count ?
			                        cfg->endpoint_names[k] :
			                        cfg->notification_names[k - cfg->endpoint_count];
			int node = i < cfg->endpoint_count ?
			                   c->endpoint_node[i] :
			                   c->notification_node[i - cfg->endpoint_count];
			if (mf_streq(a, b))
				mf_error(c, node, NULL, "duplicate IPC object name %s", a);
		}
	}
}

void manifest_check(struct manifest_ctx *c)
{
	struct config *cfg = c->cfg;
	mf_check_names(c);
	mf_check_fixed(c);
	mf_check_devices(c);
	for (u32 pi = 0; pi < cfg->partition_count; pi++) {
		mf_check_mappings(c, pi);
		mf_check_dtb(c, pi);
	}
	mf_check_device_owners(c);
	for (u32 pi = 0; pi < cfg->partition_count; pi++)
		mf_check_caps(c, pi);
	mf_check_sched(c);
	mf_check_emulated(c);
	mf_check_preserve_console(c);
	if (c->errs->count == 0)
		mf_place(c);
	if (c->errs->count == 0)
		mf_check_images(c);
}
