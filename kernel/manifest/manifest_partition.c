/**
 * The /partitions part of the manifest parser (see manifest.c for the
 * whole): each partition's properties, its vcpu@N nodes, its mappings and
 * its capabilities. Partition names are registered before any partition
 * is parsed, so that a capability may name a partition defined later.
 */
#include <libfdt.h>
#include <string.h>

#include <kernel/print.h>
#include <kernel/stage2.h>

#include "manifest_internal.h"

static void mf_parse_mapping(struct manifest_ctx *c, u32 pi, int node)
{
	static const char *const props[] = { "region", "ipa", "rights", "load-image", NULL };
	struct cfg_partition *p = &c->cfg->partitions[pi];

	if (p->mapping_count == CFG_MAPPING_MAX) {
		mf_error(c, node, NULL, "too many mappings (at most %u)", CFG_MAPPING_MAX);
		return;
	}
	u32 mi = p->mapping_count++;
	struct cfg_mapping *m = &p->mappings[mi];
	c->mapping_node[pi][mi] = node;
	mf_check_props(c, node, props);
	mf_no_children(c, node);
	mf_mem_letters(c, node, "rights", true, &m->rights);
	if (mf_flag(c, node, "load-image") == MF_OK) {
		if (p->image_mapping != CFG_NONE)
			mf_error(c, node, "load-image",
			         "the image is already loaded by another mapping");
		else
			p->image_mapping = mi;
	}
	if (!mf_ref(c, node, "region", MF_OBJ_REGION, true, &m->region))
		return;
	const struct cfg_region *r = &c->cfg->regions[m->region];
	enum mf_read has_ipa = mf_u64(c, node, "ipa", !r->pa_fixed, &m->ipa);
	if (has_ipa == MF_ABSENT && r->pa_fixed)
		m->ipa = r->pa; /* identity: the guest sees the device where it is */
	if (has_ipa == MF_BAD || (has_ipa == MF_ABSENT && !r->pa_fixed))
		return;
	if (!is_page_aligned(m->ipa))
		mf_error(c, node, "ipa", "0x%llx is not page aligned", (unsigned long long)m->ipa);
	else if (m->ipa >= CFG_IPA_LIMIT || r->size > CFG_IPA_LIMIT - m->ipa)
		mf_error(c, node, "ipa",
		         "0x%llx + 0x%llx is beyond the guest-physical limit 0x%llx",
		         (unsigned long long)m->ipa, (unsigned long long)r->size,
		         (unsigned long long)CFG_IPA_LIMIT);
}

static void mf_parse_cap(struct manifest_ctx *c, u32 pi, int node)
{
	static const char *const props[] = { "reg", "object", "kind", "rights", "badge", NULL };
	struct cfg_partition *p = &c->cfg->partitions[pi];

	mf_check_props(c, node, props);
	mf_no_children(c, node);
	if (p->cap_count == CAP_SLOT_COUNT) {
		mf_error(c, node, NULL, "too many capabilities (at most %u)", CAP_SLOT_COUNT);
		return;
	}
	u32 ci = p->cap_count++;
	struct cfg_cap *cap = &p->caps[ci];
	c->cap_node[pi][ci] = node;
	cap->slot = CFG_NONE;

	u32 slot, unit;
	if (mf_u32(c, node, "reg", true, &slot) == MF_OK) {
		if (slot >= CAP_SLOT_COUNT)
			mf_error(c, node, "reg", "slot %u out of range 0..%u", slot,
			         CAP_SLOT_COUNT - 1u);
		else if (mf_unit_address(c, node, &unit) && unit != slot)
			mf_error(c, node, "reg", "slot %u does not match the unit address %x", slot,
			         unit);
		else
			cap->slot = slot;
		for (u32 k = 0; k < ci && cap->slot != CFG_NONE; k++) {
			if (p->caps[k].slot == slot) {
				mf_error(c, node, "reg", "slot %u is already used by %s", slot,
				         fdt_get_name(c->fdt, c->cap_node[pi][k], NULL));
				cap->slot = CFG_NONE;
			}
		}
	}

	int target;
	if (mf_phandle(c, node, "object", true, &target) != MF_OK)
		return;
	const char *kind = NULL;
	enum mf_read has_kind = mf_string(c, node, "kind", false, &kind);
	switch (mf_lookup(c, target, &cap->object)) {
	case MF_OBJ_ENDPOINT:
		cap->type = CAP_ENDPOINT;
		break;
	case MF_OBJ_NOTIFICATION:
		/* kind = "console": the console, whose input signals this notification. */
		cap->type = has_kind == MF_OK && mf_streq(kind, "console") ? CAP_CONSOLE :
		                                                             CAP_NOTIFICATION;
		if (has_kind == MF_OK && cap->type != CAP_CONSOLE) {
			mf_error(c, node, "kind",
			         "unknown kind \"%s\" for a notification (console)", kind);
			return;
		}
		break;
	case MF_OBJ_REGION:
		cap->type = CAP_MEMORY;
		break;
	case MF_OBJ_PARTITION:
		if (has_kind != MF_OK) {
			if (has_kind == MF_ABSENT)
				mf_error(c, node, "kind",
				         "required for a partition object (guest or vcpus)");
			return;
		}
		if (mf_streq(kind, "guest"))
			cap->type = CAP_GUEST;
		else if (mf_streq(kind, "vcpus"))
			cap->type = CAP_VCPUS;
		else {
			mf_error(c, node, "kind", "unknown kind \"%s\" (guest or vcpus)", kind);
			return;
		}
		if (cap->type == CAP_GUEST && cap->object == pi)
			mf_error(c, node, "object",
			         "a partition cannot hold a guest capability to itself");
		break;
	default:
		mf_error(c, node, "object",
		         "not an endpoint, notification, memory region or partition");
		return;
	}
	if (has_kind == MF_OK && cap->type != CAP_GUEST && cap->type != CAP_VCPUS &&
	    cap->type != CAP_CONSOLE)
		mf_error(c, node, "kind",
		         "only a capability to a partition or a notification has a kind");
	mf_cap_rights(c, node, cap->type, &cap->rights);
	enum mf_read has_badge = mf_u64(c, node, "badge", false, &cap->badge);
	/* A guest capability's badge marks the emulated-access messages about that guest. */
	if (has_badge == MF_OK && cap->type != CAP_ENDPOINT && cap->type != CAP_NOTIFICATION &&
	    cap->type != CAP_GUEST)
		mf_error(c, node, "badge",
		         "only endpoint, notification and guest capabilities carry a badge");
}

static void mf_parse_vcpu(struct manifest_ctx *c, u32 pi, int node)
{
	static const char *const props[] = { "reg", "affinity", "soft-affinity", NULL };
	struct cfg_partition *p = &c->cfg->partitions[pi];
	u32 v, unit;

	mf_check_props(c, node, props);
	mf_no_children(c, node);
	if (mf_u32(c, node, "reg", true, &v) != MF_OK)
		return;
	if (v >= p->vcpu_count) {
		mf_error(c, node, "reg", "vCPU %u does not exist (vcpus = <%u>)", v, p->vcpu_count);
		return;
	}
	if (mf_unit_address(c, node, &unit) && unit != v) {
		mf_error(c, node, "reg", "vCPU %u does not match the unit address %x", v, unit);
		return;
	}
	if (c->vcpu_node[pi][v] >= 0) {
		mf_error(c, node, "reg", "vCPU %u is described twice", v);
		return;
	}
	c->vcpu_node[pi][v] = node;
	struct cfg_vcpu *vc = &p->vcpus[v];
	mf_cpu_list(c, node, "affinity", &vc->hard_affinity);
	if (mf_cpu_list(c, node, "soft-affinity", &vc->soft_affinity) == MF_ABSENT)
		vc->soft_affinity = vc->hard_affinity;
}

/**
 * linux { bootargs; initrd; uart; uart-interrupt; its; pci; pci-mmio; }: the image is an arm64
 * Linux Image (loaded at its text_offset, kernel/linux_image.c) and tools/pack
 * generates the device tree named by the partition's device-tree property.
 * The kernel uses initrd (the blob copied below the device tree); the other
 * properties only shape the generated tree, but are checked here all the same.
 */
static void mf_parse_linux(struct manifest_ctx *c, u32 pi, int node)
{
	static const char *const props[] = { "bootargs", "initrd", "uart",     "uart-interrupt",
		                             "its",      "pci",    "pci-mmio", NULL };
	struct cfg_partition *p = &c->cfg->partitions[pi];
	const char *s;
	int target;
	u32 intid;

	if (p->linux_image) {
		mf_error(c, node, NULL, "a partition has one linux node");
		return;
	}
	p->linux_image = true;
	mf_check_props(c, node, props);
	mf_no_children(c, node);
	(void)mf_string(c, node, "bootargs", false, &s);
	if (mf_string(c, node, "initrd", false, &s) == MF_OK) {
		if (strlen(s) >= CFG_NAME_MAX || mf_streq(s, "manifest"))
			mf_error(c, node, "initrd",
			         "not an image name (at most %u characters, not \"manifest\")",
			         CFG_NAME_MAX - 1u);
		else
			memcpy(p->initrd, s, strlen(s) + 1u);
	}
	enum mf_read has_uart = mf_phandle(c, node, "uart", false, &target);
	if (has_uart == MF_OK) {
		int parent = fdt_parent_offset(c->fdt, target);
		const char *pname = parent < 0 ? NULL : fdt_get_name(c->fdt, parent, NULL);
		if (pname == NULL || !mf_streq(pname, "emulated"))
			mf_error(c, node, "uart", "names no node of /emulated");
	}
	enum mf_read has_irq = mf_u32(c, node, "uart-interrupt", false, &intid);
	if (has_irq == MF_OK && (intid < 32u || intid >= 1020u))
		mf_error(c, node, "uart-interrupt", "%u is not an SPI (32..1019)", intid);
	if ((has_uart == MF_ABSENT) != (has_irq == MF_ABSENT))
		mf_error(c, node, has_uart == MF_ABSENT ? "uart" : "uart-interrupt",
		         "uart and uart-interrupt go together");
	if (mf_phandle(c, node, "its", false, &target) == MF_OK) {
		int parent = fdt_parent_offset(c->fdt, target);
		const char *pname = parent < 0 ? NULL : fdt_get_name(c->fdt, parent, NULL);
		if (pname == NULL || !mf_streq(pname, "emulated"))
			mf_error(c, node, "its", "names no node of /emulated");
		else if (p->lpi_count == 0)
			mf_error(c, node, "its", "a virtual ITS needs the partition's lpis");
	}
	static const char *const pci[] = { "pci", "pci-mmio" };
	enum mf_read has[2];
	for (u32 i = 0; i < 2u; i++) {
		has[i] = mf_phandle(c, node, pci[i], false, &target);
		if (has[i] != MF_OK)
			continue;
		int parent = fdt_parent_offset(c->fdt, target);
		const char *pname = parent < 0 ? NULL : fdt_get_name(c->fdt, parent, NULL);
		if (pname == NULL || !mf_streq(pname, "emulated"))
			mf_error(c, node, pci[i], "names no node of /emulated");
	}
	if ((has[0] == MF_ABSENT) != (has[1] == MF_ABSENT))
		mf_error(c, node, has[0] == MF_ABSENT ? "pci" : "pci-mmio",
		         "pci (the ECAM window) and pci-mmio (the memory window) go together");
	else if (has[0] == MF_OK && fdt_getprop(c->fdt, node, "its", NULL) == NULL)
		mf_error(c, node, "pci", "a PCI host bridge needs its (the MSIs' virtual ITS)");
}

/** Subnodes mappings { }, caps { }, linux { } and vcpu@N of a partition. */
static void mf_parse_partition_children(struct manifest_ctx *c, u32 pi, int node)
{
	int child, sub;
	fdt_for_each_subnode (child, c->fdt, node) {
		const char *name = fdt_get_name(c->fdt, child, NULL);
		if (name == NULL) {
			mf_error(c, child, NULL, "node has no name");
		} else if (mf_streq(name, "mappings")) {
			mf_check_props(c, child, mf_no_props);
			fdt_for_each_subnode (sub, c->fdt, child)
				mf_parse_mapping(c, pi, sub);
		} else if (mf_streq(name, "caps")) {
			mf_check_props(c, child, mf_no_props);
			fdt_for_each_subnode (sub, c->fdt, child)
				mf_parse_cap(c, pi, sub);
		} else if (mf_streq(name, "linux")) {
			mf_parse_linux(c, pi, child);
		} else if (name[0] == 'v' && name[1] == 'c' && name[2] == 'p' && name[3] == 'u' &&
		           (name[4] == '@' || name[4] == '\0')) {
			mf_parse_vcpu(c, pi, child);
		} else {
			mf_error(c, child, NULL,
			         "unexpected node (mappings, caps, linux or vcpu@N)");
		}
	}
}

static void mf_parse_partition(struct manifest_ctx *c, u32 pi, int node)
{
	static const char *const props[] = {
		"compatible",    "type",        "image",           "entry",       "vcpus",
		"weight",        "cap",         "fault-handler",   "fault-badge", "sched-policy",
		"sched-cpus",    "device-tree", "device-tree-ipa", "restartable", "lpis",
		"stage2-tables", NULL
	};
	static const char *const types[] = { "service", "vm", "pvh" };
	struct config *cfg = c->cfg;
	struct cfg_partition *p = &cfg->partitions[pi];
	const char *s;

	mf_check_props(c, node, props);
	mf_compatible(c, node, "sephyp,partition");
	if (mf_string(c, node, "type", true, &s) == MF_OK) {
		u32 t = 0;
		while (t < ARRAY_COUNT(types) && !mf_streq(s, types[t]))
			t++;
		if (t == ARRAY_COUNT(types))
			mf_error(c, node, "type",
			         "unknown partition type \"%s\" (service, vm or pvh)", s);
		else if ((c->bi->unsupported_types & (1u << t)) != 0)
			mf_error(c, node, "type",
			         "partition type \"%s\" is not supported on this platform", s);
		else
			p->type = (enum partition_type)t;
	}
	if (mf_string(c, node, "image", true, &s) == MF_OK) {
		if (strlen(s) >= CFG_NAME_MAX)
			mf_error(c, node, "image", "name longer than %u characters",
			         CFG_NAME_MAX - 1u);
		else if (mf_streq(s, "manifest"))
			mf_error(c, node, "image",
			         "\"manifest\" names the manifest blob, not an image");
		else
			memcpy(p->image, s, strlen(s) + 1u);
	}
	if (mf_string(c, node, "device-tree", false, &s) == MF_OK) {
		if (strlen(s) >= CFG_NAME_MAX || mf_streq(s, "manifest"))
			mf_error(c, node, "device-tree",
			         "not an image name (at most %u characters, not \"manifest\")",
			         CFG_NAME_MAX - 1u);
		else
			memcpy(p->dtb, s, strlen(s) + 1u);
	}
	p->vcpu_count = 1;
	if (mf_u32(c, node, "vcpus", false, &p->vcpu_count) == MF_OK &&
	    (p->vcpu_count == 0 || p->vcpu_count > CFG_VCPU_MAX)) {
		mf_error(c, node, "vcpus", "%u is out of range 1..%u", p->vcpu_count, CFG_VCPU_MAX);
		p->vcpu_count = 1;
	}
	for (u32 v = 0; v < CFG_VCPU_MAX; v++) {
		c->vcpu_node[pi][v] = -1;
		p->vcpus[v].hard_affinity = (UINT64_C(1) << cfg->cpu_count) - 1u;
		p->vcpus[v].soft_affinity = p->vcpus[v].hard_affinity;
	}
	if (mf_u32(c, node, "lpis", false, &p->lpi_count) == MF_OK &&
	    (p->lpi_count == 0 || p->lpi_count > CFG_LPI_MAX || p->type != PARTITION_VM)) {
		mf_error(c, node, "lpis", "%u: a VM's LPIs are 1..%u (a virtual ITS's targets)",
		         p->lpi_count, CFG_LPI_MAX);
		p->lpi_count = 0;
	}
	p->stage2_tables = CFG_NONE;
	if (mf_u32(c, node, "stage2-tables", false, &p->stage2_tables) == MF_OK &&
	    (p->stage2_tables > STAGE2_POOL_PAGES || p->type == PARTITION_SERVICE)) {
		mf_error(c, node, "stage2-tables",
		         "%u: a VM's introspection tables are 0..%u (and a service has none)",
		         p->stage2_tables, STAGE2_POOL_PAGES);
		p->stage2_tables = CFG_NONE;
	}
	p->weight = 256;
	if (mf_u32(c, node, "weight", false, &p->weight) == MF_OK &&
	    (p->weight == 0 || p->weight > 65535u))
		mf_error(c, node, "weight", "%u is out of range 1..65535", p->weight);
	if (mf_u32(c, node, "cap", false, &p->cap_percent) == MF_OK && p->cap_percent > 100u)
		mf_error(c, node, "cap", "%u%% is out of range 0..100", p->cap_percent);

	p->fault_endpoint = CFG_NONE;
	mf_ref(c, node, "fault-handler", MF_OBJ_ENDPOINT, false, &p->fault_endpoint);
	if (mf_u64(c, node, "fault-badge", false, &p->fault_badge) == MF_OK &&
	    fdt_getprop(c->fdt, node, "fault-handler", NULL) == NULL)
		mf_error(c, node, "fault-badge", "given without fault-handler");

	enum mf_read has_policy = mf_string(c, node, "sched-policy", false, &s);
	if (has_policy == MF_OK) {
		if (mf_streq(s, "credit2"))
			p->sched_kind = CFG_SCHED_SHARED;
		else if (mf_streq(s, "null"))
			p->sched_kind = CFG_SCHED_STATIC;
		else
			mf_error(c, node, "sched-policy", "unknown policy \"%s\" (credit2 or null)",
			         s);
	}
	enum mf_read has_cpus = mf_cpu_list(c, node, "sched-cpus", &p->sched_cpus);
	if (has_policy == MF_OK && has_cpus == MF_ABSENT)
		mf_error(c, node, "sched-cpus", "missing: which CPUs does this policy schedule?");
	if (has_policy == MF_ABSENT && has_cpus == MF_OK)
		mf_error(c, node, "sched-policy",
		         "missing: sched-cpus needs a policy (credit2 or null)");

	if (mf_flag(c, node, "restartable") == MF_OK) {
		p->restartable = true;
		if (p->type != PARTITION_SERVICE)
			mf_error(c, node, "restartable", "only a service partition is restarted");
	}
	p->image_mapping = CFG_NONE;
	mf_parse_partition_children(c, pi, node);

	if (p->image[0] != '\0' && p->image_mapping == CFG_NONE)
		mf_error(c, node, "image", "no mapping has load-image");
	enum mf_read has_entry = mf_u64(c, node, "entry", false, &p->entry);
	if (has_entry == MF_ABSENT && p->image_mapping != CFG_NONE)
		p->entry = p->mappings[p->image_mapping].ipa;
	enum mf_read has_dtb_ipa = mf_u64(c, node, "device-tree-ipa", false, &p->dtb_ipa);
	if (has_dtb_ipa == MF_OK && p->dtb[0] == '\0')
		mf_error(c, node, "device-tree-ipa", "given without device-tree");
	if (has_dtb_ipa == MF_OK && p->dtb_ipa == 0)
		mf_error(c, node, "device-tree-ipa",
		         "0 is not a place (leave it out for the default)");
	if (p->linux_image && p->type != PARTITION_VM)
		mf_error(c, node, "type", "only a vm partition runs a linux image");
	if (p->linux_image && p->dtb[0] == '\0')
		mf_error(c, node, "device-tree",
		         "missing: a linux partition names its generated device tree");
	if (p->dtb[0] != '\0' && p->type != PARTITION_VM)
		mf_error(c, node, "device-tree", "only a vm partition is given a device tree");
	if (p->dtb[0] != '\0' && has_dtb_ipa == MF_ABSENT) {
		if (p->image_mapping == CFG_NONE)
			mf_error(c, node, "device-tree",
			         "no mapping has load-image (the default place is its end)");
		else
			p->dtb_ipa = 0; /* placed at the end of that mapping by the checker */
	}
}

void mf_parse_partitions(struct manifest_ctx *c, int root)
{
	struct config *cfg = c->cfg;
	int parts = fdt_subnode_offset(c->fdt, root, "partitions");
	int node;

	if (parts < 0) {
		mf_error(c, -1, NULL, "missing required node partitions");
		return;
	}
	mf_check_props(c, parts, mf_no_props);
	/* Names first: any capability may name any partition. */
	fdt_for_each_subnode (node, c->fdt, parts) {
		if (cfg->partition_count == CFG_PARTITION_MAX) {
			mf_error(c, node, NULL, "too many partitions (at most %u)",
			         CFG_PARTITION_MAX);
			continue;
		}
		c->partition_node[cfg->partition_count] = node;
		mf_node_name(c, node, cfg->partitions[cfg->partition_count++].name);
	}
	if (cfg->partition_count == 0)
		mf_error(c, parts, NULL, "no partitions");
	for (u32 i = 0; i < cfg->partition_count; i++)
		mf_parse_partition(c, i, c->partition_node[i]);
}
