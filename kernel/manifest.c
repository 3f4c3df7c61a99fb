/**
 * The manifest parser: a flattened device tree (docs/manifest.md) in,
 * a struct config out. Runs once at boot in the kernel, and in
 * tools/manifest and the fuzzer on the host, with the same code.
 *
 *   manifest_load
 *    +- blob checks (fdt_check_full: Devicetree Specification v0.4, ch. 5)
 *    +- /            compatible = "sephyp,manifest-v1"
 *    +- /hypervisor  cpus, log-level
 *    +- /memory      regions (ram, shared, device) -> regions[], devices[]
 *    +- /ipc         endpoints, notifications
 *    +- /partitions  names first (capabilities may name any partition),
 *    |               then properties, vcpu@N, mappings, caps
 *    +- /emulated    ranges a service emulates for a guest
 *    +- manifest_check (manifest_check.c): rules across objects, placement
 *
 * The parser keeps going after an error so that one run reports as many
 * problems as it can; cross-object rules run only on a clean parse, since
 * they would otherwise report consequences of the first error.
 */
#include <libfdt.h>
#include <string.h>

#include <kernel/print.h>

#include "manifest_internal.h"

/** Scratch state; manifest_load runs once at boot, so static is fine. */
static struct manifest_ctx mf_ctx;

/** For container nodes that carry no schema property. */
static const char *const mf_no_props[] = { NULL };

/** What a phandle may point at. */
enum mf_obj { MF_OBJ_NONE, MF_OBJ_REGION, MF_OBJ_ENDPOINT, MF_OBJ_NOTIFICATION, MF_OBJ_PARTITION };

static enum mf_obj mf_lookup(const struct manifest_ctx *c, int node, u32 *index)
{
	const struct config *cfg = c->cfg;
	for (u32 i = 0; i < cfg->region_count; i++) {
		if (c->region_node[i] == node) {
			*index = i;
			return MF_OBJ_REGION;
		}
	}
	for (u32 i = 0; i < cfg->endpoint_count; i++) {
		if (c->endpoint_node[i] == node) {
			*index = i;
			return MF_OBJ_ENDPOINT;
		}
	}
	for (u32 i = 0; i < cfg->notification_count; i++) {
		if (c->notification_node[i] == node) {
			*index = i;
			return MF_OBJ_NOTIFICATION;
		}
	}
	for (u32 i = 0; i < cfg->partition_count; i++) {
		if (c->partition_node[i] == node) {
			*index = i;
			return MF_OBJ_PARTITION;
		}
	}
	return MF_OBJ_NONE;
}

/** Resolve a phandle property that must name an object of kind want. */
static bool mf_ref(struct manifest_ctx *c, int node, const char *prop, enum mf_obj want,
                   bool required, u32 *index)
{
	static const char *const what[] = { "", "a memory region", "an endpoint", "a notification",
		                            "a partition" };
	int target;
	if (mf_phandle(c, node, prop, required, &target) != MF_OK)
		return false;
	if (mf_lookup(c, target, index) != want) {
		char path[MANIFEST_PATH_MAX];
		if (fdt_get_path(c->fdt, target, path, (int)sizeof(path)) != 0)
			path[0] = '\0';
		mf_error(c, node, prop, "%s is not %s", path, what[want]);
		return false;
	}
	return true;
}

/** Error on every child node: leaf nodes of the schema have none. */
static void mf_no_children(struct manifest_ctx *c, int node)
{
	int child;
	fdt_for_each_subnode (child, c->fdt, node) {
		mf_error(c, child, NULL, "unexpected node");
	}
}

/** True when compatible is exactly want; records an error otherwise. */
static bool mf_compatible(struct manifest_ctx *c, int node, const char *want)
{
	const char *s;
	if (mf_string(c, node, "compatible", true, &s) != MF_OK)
		return false;
	if (!mf_streq(s, want)) {
		mf_error(c, node, "compatible", "\"%s\" here, expected \"%s\"", s, want);
		return false;
	}
	return true;
}

static void mf_parse_hypervisor(struct manifest_ctx *c, int root)
{
	static const char *const props[] = { "cpus", "log-level", NULL };
	static const char *const levels[] = { "none", "error", "warning", "info", "debug", "all" };
	struct config *cfg = c->cfg;
	int node = fdt_subnode_offset(c->fdt, root, "hypervisor");

	c->hypervisor_node = node;
	cfg->log_level = CFG_LOG_INFO;
	if (node < 0) {
		mf_error(c, -1, NULL, "missing required node hypervisor");
		return;
	}
	mf_check_props(c, node, props);
	mf_no_children(c, node);
	u32 cpus = 0;
	if (mf_u32(c, node, "cpus", true, &cpus) == MF_OK) {
		if (cpus == 0 || cpus > CFG_CPU_MAX)
			mf_error(c, node, "cpus", "%u is out of range 1..%u", cpus, CFG_CPU_MAX);
		else if (cpus > c->bi->cpu_count)
			mf_error(c, node, "cpus", "the manifest needs %u CPUs, the machine has %u",
			         cpus, c->bi->cpu_count);
		else
			cfg->cpu_count = cpus;
	}
	const char *level;
	if (mf_string(c, node, "log-level", false, &level) == MF_OK) {
		u32 i = 0;
		while (i < ARRAY_COUNT(levels) && !mf_streq(level, levels[i]))
			i++;
		if (i == ARRAY_COUNT(levels))
			mf_error(c, node, "log-level",
			         "unknown level \"%s\" (none, error, warning, info, debug, all)",
			         level);
		else
			cfg->log_level = i;
	}
}

/** interrupts = <n ...> of a device region. */
static void mf_parse_irqs(struct manifest_ctx *c, int node, struct cfg_device *dev)
{
	int len;
	const u8 *p = fdt_getprop(c->fdt, node, "interrupts", &len);
	if (p == NULL)
		return;
	if (len == 0 || len % 4 != 0 || (u32)len / 4u > CFG_DEVICE_IRQ_MAX) {
		mf_error(c, node, "interrupts", "expected 1..%u interrupt numbers, got %d bytes",
		         CFG_DEVICE_IRQ_MAX, len);
		return;
	}
	for (int i = 0; i < len; i += 4) {
		u32 irq = ((u32)p[i] << 24) | ((u32)p[i + 1] << 16) | ((u32)p[i + 2] << 8) |
		          p[i + 3];
		if (irq >= 1020u) {
			mf_error(c, node, "interrupts", "interrupt %u out of range 0..1019", irq);
			return;
		}
		for (u32 k = 0; k < dev->irq_count; k++) {
			if (dev->irqs[k] == irq) {
				mf_error(c, node, "interrupts", "interrupt %u listed twice", irq);
				return;
			}
		}
		dev->irqs[dev->irq_count++] = irq;
	}
}

static void mf_parse_region(struct manifest_ctx *c, int node)
{
	static const char *const props[] = { "compatible", "size",       "reg",
		                             "rights",     "interrupts", NULL };
	struct config *cfg = c->cfg;

	if (cfg->region_count == CFG_REGION_MAX) {
		mf_error(c, node, NULL, "too many memory regions (at most %u)", CFG_REGION_MAX);
		return;
	}
	u32 idx = cfg->region_count++;
	struct cfg_region *r = &cfg->regions[idx];
	c->region_node[idx] = node;
	r->owner = CFG_NONE;
	mf_node_name(c, node, r->name);
	mf_check_props(c, node, props);
	mf_no_children(c, node);
	mf_mem_letters(c, node, "rights", true, &r->rights);

	const char *compat;
	if (mf_string(c, node, "compatible", true, &compat) != MF_OK)
		return;
	if (mf_streq(compat, "sephyp,ram"))
		r->kind = REGION_RAM;
	else if (mf_streq(compat, "sephyp,shared"))
		r->kind = REGION_SHARED;
	else if (mf_streq(compat, "sephyp,device"))
		r->kind = REGION_DEVICE;
	else {
		mf_error(c, node, "compatible",
		         "unknown region type \"%s\" (sephyp,ram, sephyp,shared or sephyp,device)",
		         compat);
		return;
	}

	u64 base = 0, size = 0;
	enum mf_read has_reg = mf_reg(c, node, r->kind == REGION_DEVICE, &base, &size);
	enum mf_read has_size = mf_u64(c, node, "size", false, &r->size);
	if (has_reg == MF_BAD || has_size == MF_BAD)
		return;
	if (has_reg == MF_OK && has_size == MF_OK) {
		mf_error(c, node, "size", "give either size or reg, not both");
		return;
	}
	if (has_reg == MF_OK) {
		r->pa = base;
		r->size = size;
		r->pa_fixed = true;
		if (!is_page_aligned(base))
			mf_error(c, node, "reg", "base 0x%llx is not page aligned",
			         (unsigned long long)base);
		if (base + size < base)
			mf_error(c, node, "reg", "range wraps around the address space");
	} else if (has_size == MF_ABSENT) {
		if (r->kind != REGION_DEVICE)
			mf_error(c, node, "size", "missing required property");
		return;
	}
	const char *prop = has_reg == MF_OK ? "reg" : "size";
	if (r->size == 0)
		mf_error(c, node, prop, "size is zero");
	else if (!is_page_aligned(r->size))
		mf_error(c, node, prop, "size 0x%llx is not a multiple of the page size",
		         (unsigned long long)r->size);

	if (r->kind == REGION_DEVICE) {
		if (cfg->device_count == CFG_DEVICE_MAX) {
			mf_error(c, node, NULL, "too many devices (at most %u)", CFG_DEVICE_MAX);
			return;
		}
		struct cfg_device *dev = &cfg->devices[cfg->device_count++];
		memcpy(dev->name, r->name, sizeof(dev->name));
		dev->region = idx;
		dev->owner = CFG_NONE;
		mf_parse_irqs(c, node, dev);
	} else if (fdt_getprop(c->fdt, node, "interrupts", NULL) != NULL) {
		mf_error(c, node, "interrupts", "only a sephyp,device region has interrupts");
	}
}

static void mf_parse_ipc(struct manifest_ctx *c, int root)
{
	static const char *const props[] = { "compatible", NULL };
	struct config *cfg = c->cfg;
	int ipc = fdt_subnode_offset(c->fdt, root, "ipc");
	int node;

	if (ipc < 0)
		return;
	mf_check_props(c, ipc, props + 1);
	fdt_for_each_subnode (node, c->fdt, ipc) {
		const char *compat;
		mf_check_props(c, node, props);
		mf_no_children(c, node);
		if (mf_string(c, node, "compatible", true, &compat) != MF_OK)
			continue;
		if (mf_streq(compat, "sephyp,endpoint")) {
			if (cfg->endpoint_count == CFG_ENDPOINT_MAX) {
				mf_error(c, node, NULL, "too many endpoints (at most %u)",
				         CFG_ENDPOINT_MAX);
				continue;
			}
			c->endpoint_node[cfg->endpoint_count] = node;
			mf_node_name(c, node, cfg->endpoint_names[cfg->endpoint_count++]);
		} else if (mf_streq(compat, "sephyp,notification")) {
			if (cfg->notification_count == CFG_NOTIFICATION_MAX) {
				mf_error(c, node, NULL, "too many notifications (at most %u)",
				         CFG_NOTIFICATION_MAX);
				continue;
			}
			c->notification_node[cfg->notification_count] = node;
			mf_node_name(c, node, cfg->notification_names[cfg->notification_count++]);
		} else {
			mf_error(
			        c, node, "compatible",
			        "unknown IPC object \"%s\" (sephyp,endpoint or sephyp,notification)",
			        compat);
		}
	}
}

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
		cap->type = CAP_NOTIFICATION;
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
	if (has_kind == MF_OK && cap->type != CAP_GUEST && cap->type != CAP_VCPUS)
		mf_error(c, node, "kind", "only a capability to a partition has a kind");
	mf_cap_rights(c, node, cap->type, &cap->rights);
	enum mf_read has_badge = mf_u64(c, node, "badge", false, &cap->badge);
	if (has_badge == MF_OK && cap->type != CAP_ENDPOINT && cap->type != CAP_NOTIFICATION)
		mf_error(c, node, "badge",
		         "only endpoint and notification capabilities carry a badge");
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

/** Subnodes mappings { }, caps { } and vcpu@N of a partition. */
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
		} else if (name[0] == 'v' && name[1] == 'c' && name[2] == 'p' && name[3] == 'u' &&
		           (name[4] == '@' || name[4] == '\0')) {
			mf_parse_vcpu(c, pi, child);
		} else {
			mf_error(c, child, NULL, "unexpected node (mappings, caps or vcpu@N)");
		}
	}
}

static void mf_parse_partition(struct manifest_ctx *c, u32 pi, int node)
{
	static const char *const props[] = { "compatible",   "type",          "image",
		                             "entry",        "vcpus",         "weight",
		                             "cap",          "fault-handler", "fault-badge",
		                             "sched-policy", "sched-cpus",    NULL };
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

	p->image_mapping = CFG_NONE;
	mf_parse_partition_children(c, pi, node);

	if (p->image[0] != '\0' && p->image_mapping == CFG_NONE)
		mf_error(c, node, "image", "no mapping has load-image");
	enum mf_read has_entry = mf_u64(c, node, "entry", false, &p->entry);
	if (has_entry == MF_ABSENT && p->image_mapping != CFG_NONE)
		p->entry = p->mappings[p->image_mapping].ipa;
}

static void mf_parse_partitions(struct manifest_ctx *c, int root)
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

static void mf_parse_emulated(struct manifest_ctx *c, int root)
{
	static const char *const props[] = { "compatible", "guest", "service",
		                             "endpoint",   "reg",   NULL };
	struct config *cfg = c->cfg;
	int top = fdt_subnode_offset(c->fdt, root, "emulated");
	int node;

	if (top < 0)
		return;
	mf_check_props(c, top, mf_no_props);
	fdt_for_each_subnode (node, c->fdt, top) {
		if (cfg->emulated_count == CFG_EMULATED_MAX) {
			mf_error(c, node, NULL, "too many emulated ranges (at most %u)",
			         CFG_EMULATED_MAX);
			continue;
		}
		struct cfg_emulated *e = &cfg->emulated[cfg->emulated_count];
		c->emulated_node[cfg->emulated_count++] = node;
		mf_node_name(c, node, e->name);
		mf_check_props(c, node, props);
		mf_no_children(c, node);
		mf_compatible(c, node, "sephyp,emulated");
		bool ok = mf_ref(c, node, "guest", MF_OBJ_PARTITION, true, &e->guest);
		ok = mf_ref(c, node, "service", MF_OBJ_PARTITION, true, &e->service) && ok;
		mf_ref(c, node, "endpoint", MF_OBJ_ENDPOINT, true, &e->endpoint);
		if (ok && e->guest == e->service)
			mf_error(c, node, "service",
			         "a partition cannot emulate devices for itself");
		if (mf_reg(c, node, true, &e->ipa, &e->size) != MF_OK)
			continue;
		if (!is_page_aligned(e->ipa) || !is_page_aligned(e->size) || e->size == 0)
			mf_error(c, node, "reg", "range 0x%llx+0x%llx is not page aligned",
			         (unsigned long long)e->ipa, (unsigned long long)e->size);
		else if (e->ipa >= CFG_IPA_LIMIT || e->size > CFG_IPA_LIMIT - e->ipa)
			mf_error(c, node, "reg", "range is beyond the guest-physical limit 0x%llx",
			         (unsigned long long)CFG_IPA_LIMIT);
	}
}

/** Root: compatible first, so a device tree that is not a manifest gets one clear error. */
static bool mf_parse_root(struct manifest_ctx *c)
{
	static const char *const props[] = { "compatible", "model", NULL };
	static const char *const nodes[] = { "hypervisor", "memory",   "ipc",
		                             "partitions", "emulated", NULL };
	int root = fdt_path_offset(c->fdt, "/");
	int node;

	if (root < 0) {
		mf_error(c, -1, NULL, "device tree has no root node");
		return false;
	}
	const char *compat;
	enum mf_read res = mf_string(c, root, "compatible", false, &compat);
	if (res != MF_OK || !mf_streq(compat, MANIFEST_COMPATIBLE)) {
		mf_error(c, root, "compatible", "not a system manifest (expected \"%s\")",
		         MANIFEST_COMPATIBLE);
		return false;
	}
	mf_check_props(c, root, props);
	fdt_for_each_subnode (node, c->fdt, root) {
		const char *name = fdt_get_name(c->fdt, node, NULL);
		u32 i = 0;
		while (nodes[i] != NULL && (name == NULL || !mf_streq(name, nodes[i])))
			i++;
		if (nodes[i] == NULL)
			mf_error(
			        c, node, NULL,
			        "unexpected node (hypervisor, memory, ipc, partitions or emulated)");
	}
	mf_parse_hypervisor(c, root);
	int mem = fdt_subnode_offset(c->fdt, root, "memory");
	if (mem >= 0) {
		mf_check_props(c, mem, mf_no_props);
		fdt_for_each_subnode (node, c->fdt, mem)
			mf_parse_region(c, node);
	}
	mf_parse_ipc(c, root);
	mf_parse_partitions(c, root);
	mf_parse_emulated(c, root);
	return c->errs->count == 0;
}

bool manifest_load(const void *fdt, u64 size, const struct boot_info *bi, struct config *cfg,
                   struct manifest_errors *errs)
{
	struct manifest_ctx *c = &mf_ctx;

	memset(c, 0, sizeof(*c));
	memset(cfg, 0, sizeof(*cfg));
	errs->count = 0;
	c->fdt = fdt;
	c->bi = bi;
	c->cfg = cfg;
	c->errs = errs;
	for (u32 i = 0; i < CFG_CPU_MAX; i++)
		cfg->sched_policy[i] = CFG_NONE;

	/* Untrusted blob: the header, then every block and tag (fdt_check_full). */
	if (fdt == NULL || size < sizeof(struct fdt_header)) {
		mf_error(c, -1, NULL, "manifest blob missing or shorter than a device-tree header");
		return false;
	}
	if (size > INT32_MAX) {
		mf_error(c, -1, NULL, "manifest blob larger than 2 GiB");
		return false;
	}
	int err = fdt_check_header(fdt);
	if (err == 0 && fdt_totalsize(fdt) > size)
		err = -FDT_ERR_TRUNCATED;
	if (err == 0)
		err = fdt_check_full(fdt, (size_t)size);
	if (err != 0) {
		mf_error(c, -1, NULL, "not a valid device-tree blob: %s", fdt_strerror(err));
		return false;
	}
	if (!mf_parse_root(c))
		return false;
	manifest_check(c);
	return errs->count == 0;
}

size_t manifest_error_format(const struct manifest_error *e, char *buf, size_t size)
{
	if (e->property[0] == '\0')
		return ksnprintf(buf, size, "manifest error: %s: %s", e->path, e->message);
	return ksnprintf(buf, size, "manifest error: %s: %s: %s", e->path, e->property, e->message);
}
