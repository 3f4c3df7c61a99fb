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
 *    +- /partitions  manifest_partition.c: names first (capabilities may
 *    |               name any partition), then properties, vcpu@N,
 *    |               mappings, caps
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
const char *const mf_no_props[] = { NULL };

enum mf_obj mf_lookup(const struct manifest_ctx *c, int node, u32 *index)
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
bool mf_ref(struct manifest_ctx *c, int node, const char *prop, enum mf_obj want, bool required,
            u32 *index)
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
void mf_no_children(struct manifest_ctx *c, int node)
{
	int child;
	fdt_for_each_subnode (child, c->fdt, node) {
		mf_error(c, child, NULL, "unexpected node");
	}
}

/** True when compatible is exactly want; records an error otherwise. */
bool mf_compatible(struct manifest_ctx *c, int node, const char *want)
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
	static const char *const props[] = {
		"compatible",       "size", "reg", "rights", "interrupts", "preserve", "contents",
		"guest-compatible", NULL
	};
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
	/* For the tools (a Linux VM's generated device tree): the kernel only checks it. */
	int glen;
	const char *gc = fdt_getprop(c->fdt, node, "guest-compatible", &glen);
	if (gc != NULL &&
	    (r->kind != REGION_DEVICE || glen <= 1 || gc[glen - 1] != '\0' || gc[0] == '\0'))
		mf_error(c, node, "guest-compatible",
		         "a device's compatible strings for its guest (only on a sephyp,device)");
	if (mf_flag(c, node, "preserve") == MF_OK) {
		r->preserve = true;
		if (r->kind != REGION_RAM)
			mf_error(
			        c, node, "preserve",
			        "only a sephyp,ram region is cleared by a restart (and so can be kept)");
	}
	const char *blob;
	if (mf_string(c, node, "contents", false, &blob) == MF_OK) {
		if (r->kind == REGION_DEVICE)
			mf_error(c, node, "contents",
			         "a device region's contents are the device's");
		else if (strlen(blob) >= CFG_NAME_MAX)
			mf_error(c, node, "contents", "name longer than %u characters",
			         CFG_NAME_MAX - 1u);
		else if (blob[0] == '\0' || mf_streq(blob, "manifest"))
			mf_error(c, node, "contents", "\"%s\" does not name an image", blob);
		else
			memcpy(r->contents, blob, strlen(blob) + 1u);
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

/**
 * Whether the machine has I/O ports. The manifest code sees the platform
 * only through boot_info; the one machine without ports (arm64) is the one
 * that refuses PVH partitions, whose entry is x86's too.
 */
static bool mf_has_ports(const struct manifest_ctx *c)
{
	return (c->bi->unsupported_types & (1u << PARTITION_PVH)) == 0;
}

/** `ports = <base count>` of an emulated node: x86 I/O ports base .. base + count - 1. */
static void mf_parse_ports(struct manifest_ctx *c, int node, struct cfg_emulated *e)
{
	u64 cells;
	e->kind = CFG_EMULATED_PORTS;
	if (fdt_getprop(c->fdt, node, "reg", NULL) != NULL)
		mf_error(c, node, "ports", "give reg (MMIO) or ports, not both");
	if (!mf_has_ports(c)) {
		mf_error(c, node, "ports", "this machine has no I/O ports (x86 only)");
		return;
	}
	if (mf_u64(c, node, "ports", true, &cells) != MF_OK)
		return;
	e->ipa = cells >> 32;
	e->size = cells & 0xffffffffu;
	if (e->size == 0)
		mf_error(c, node, "ports", "covers no port (count 0)");
	else if (e->ipa > 0xffffu || e->size > 0x10000u - e->ipa)
		mf_error(c, node, "ports", "ports 0x%llx+0x%llx go past port 0xffff",
		         (unsigned long long)e->ipa, (unsigned long long)e->size);
}

/** An emulated node's `reg`: a page-aligned MMIO range below the guest-physical limit. */
static void mf_parse_emulated_reg(struct manifest_ctx *c, int node, struct cfg_emulated *e)
{
	enum mf_read res = mf_reg(c, node, false, &e->ipa, &e->size);
	if (res == MF_ABSENT)
		mf_error(c, node, NULL,
		         e->kind == CFG_EMULATED_ROUTED ?
		                 "needs reg (the window's MMIO range)" :
		                 "needs reg (an MMIO range) or ports (x86 I/O ports)");
	if (res != MF_OK)
		return;
	if (!is_page_aligned(e->ipa) || !is_page_aligned(e->size) || e->size == 0)
		mf_error(c, node, "reg", "range 0x%llx+0x%llx is not page aligned",
		         (unsigned long long)e->ipa, (unsigned long long)e->size);
	else if (e->ipa >= CFG_IPA_LIMIT || e->size > CFG_IPA_LIMIT - e->ipa)
		mf_error(c, node, "reg", "range is beyond the guest-physical limit 0x%llx",
		         (unsigned long long)CFG_IPA_LIMIT);
}

/** One bus of PCI configuration space in an ECAM window. */
#define MF_ECAM_BUS UINT64_C(0x100000)

static void mf_parse_emulated(struct manifest_ctx *c, int root)
{
	static const char *const props[] = { "compatible", "guest",  "service",  "endpoint", "reg",
		                             "ports",      "routed", "pci-ecam", NULL };
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
		if (mf_flag(c, node, "routed") == MF_OK) {
			/* A window for run-time routes: no service, no endpoint; MMIO or ports. */
			e->kind = CFG_EMULATED_ROUTED;
			e->service = CFG_NONE;
			e->endpoint = CFG_NONE;
			static const char *const not_routed[] = { "service", "endpoint" };
			for (u32 k = 0; k < 2u; k++)
				if (fdt_getprop(c->fdt, node, not_routed[k], NULL) != NULL)
					mf_error(c, node, not_routed[k],
					         "a routed window names no %s: device models route "
					         "ranges in it at run time",
					         not_routed[k]);
			e->ecam = mf_flag(c, node, "pci-ecam") == MF_OK;
			if (fdt_getprop(c->fdt, node, "ports", NULL) != NULL) {
				mf_parse_ports(c, node, e);
				e->kind = CFG_EMULATED_ROUTED_PORTS;
				if (e->ecam)
					mf_error(c, node, "pci-ecam",
					         "a PCI configuration window is MMIO, not ports");
				continue;
			}
			mf_parse_emulated_reg(c, node, e);
			if (e->ecam && (e->ipa % MF_ECAM_BUS != 0 || e->size % MF_ECAM_BUS != 0 ||
			                e->size > 256u * MF_ECAM_BUS))
				mf_error(
				        c, node, "reg",
				        "an ECAM window is 1 MiB aligned, 1 MiB per bus, at most 256 "
				        "buses");
			continue;
		}
		if (fdt_getprop(c->fdt, node, "pci-ecam", NULL) != NULL)
			mf_error(c, node, "pci-ecam",
			         "only a routed window (routed;) is an ECAM window");
		ok = mf_ref(c, node, "service", MF_OBJ_PARTITION, true, &e->service) && ok;
		mf_ref(c, node, "endpoint", MF_OBJ_ENDPOINT, true, &e->endpoint);
		if (ok && e->guest == e->service)
			mf_error(c, node, "service",
			         "a partition cannot emulate devices for itself");
		if (fdt_getprop(c->fdt, node, "ports", NULL) != NULL) {
			mf_parse_ports(c, node, e);
			continue;
		}
		mf_parse_emulated_reg(c, node, e);
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

static u32 mf_token(const u8 *p)
{
	return ((u32)p[0] << 24) | ((u32)p[1] << 16) | ((u32)p[2] << 8) | (u32)p[3];
}

/**
 * Walk the structure block's tokens (Devicetree Specification v0.4,
 * section 5.4) before libfdt walks them. libfdt 1.6.1's fdt_next_tag()
 * adds a property's length to an int offset without an overflow check,
 * so a length such as 0xfffffff4 brings the offset back to the same token
 * and fdt_check_full() (and every other walker) loops for ever: a hang at
 * boot (tests/manifest/garbage.py, case prop-length-wrap). Every step here
 * moves forward, within the block the header check already bounded.
 */
static bool mf_check_tokens(struct manifest_ctx *c)
{
	if (fdt_version(c->fdt) < 17) {
		mf_error(c, -1, NULL, "device-tree version %u is too old (17 needed)",
		         fdt_version(c->fdt));
		return false;
	}
	const u8 *p = (const u8 *)c->fdt + fdt_off_dt_struct(c->fdt);
	u32 size = fdt_size_dt_struct(c->fdt);
	u32 pos = 0;
	while (size - pos >= 4u) {
		u32 token = mf_token(p + pos);
		pos += 4;
		if (token == FDT_BEGIN_NODE) {
			u32 n = (u32)strnlen((const char *)p + pos, size - pos);
			if (n == size - pos)
				break;
			pos += n + 1u;
		} else if (token == FDT_PROP) {
			if (size - pos < 8u)
				break;
			u32 len = mf_token(p + pos);
			if (len > size - pos - 8u) {
				mf_error(
				        c, -1, NULL,
				        "not a valid device-tree blob: property length 0x%x runs past the structure block",
				        len);
				return false;
			}
			pos += 8u + len;
		} else if (token == FDT_END) {
			return true;
		} else if (token != FDT_END_NODE && token != FDT_NOP) {
			mf_error(c, -1, NULL, "not a valid device-tree blob: unknown token 0x%x",
			         token);
			return false;
		}
		pos = (pos + 3u) & ~3u;
		if (pos > size)
			break;
	}
	mf_error(c, -1, NULL, "not a valid device-tree blob: the structure block is truncated");
	return false;
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
	if (err != 0) {
		mf_error(c, -1, NULL, "not a valid device-tree blob: %s", fdt_strerror(err));
		return false;
	}
	if (!mf_check_tokens(c))
		return false;
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
