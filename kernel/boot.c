/**
 * kernel_boot: turn the boot package into a running system.
 *
 *   package -> manifest (libfdt) -> struct config (validated)
 *           -> regions zeroed -> partitions, caps, endpoints,
 *              notifications -> stage-2 tables -> images copied in
 *           -> vCPUs reset and placed -> first vCPU
 *
 * manifest_load also places every region in free RAM and checks that each
 * image is in the package and fits. Any failure stops the boot before a
 * partition runs: nothing half starts.
 */
#include <arch/cpu.h>
#include <arch/virq.h>
#include <arch/vcpu.h>
#include <kernel/boot.h>
#include <kernel/emulate.h>
#include <kernel/kernel.h>
#include <kernel/lock.h>
#include <kernel/manifest.h>
#include <kernel/package.h>
#include <kernel/partition_ops.h>
#include <kernel/print.h>
#include <kernel/region.h>
#include <kernel/sched.h>
#include <plat/memory.h>
#include <plat/power.h>
#include <string.h>

struct kernel_state kernel;
static bool boot_done;
static struct manifest_errors boot_errors;

bool boot_complete(void)
{
	return __atomic_load_n(&boot_done, __ATOMIC_ACQUIRE);
}

bool boot_cpu_unused(u32 cpu)
{
	/* kernel.cpu_count is final before boot_done is set (release/acquire). */
	return boot_complete() && cpu >= kernel.cpu_count;
}

_Noreturn static void boot_fail(const char *what)
{
	kprintf("[hyp] boot failed: %s\n", what);
	kprintf("[hyp] system off: status=1\n");
	plat_system_off(1);
}

static void boot_load_manifest(const struct boot_info *bi)
{
	const void *fdt;
	u64 fdt_size;
	if (!package_valid(bi->package, bi->package_size))
		boot_fail("no valid boot package after the kernel image");
	if (!package_find(bi->package, "manifest", &fdt, &fdt_size))
		boot_fail("the boot package has no manifest");
	if (manifest_load(fdt, fdt_size, bi, &kernel.cfg, &boot_errors))
		return;
	for (u32 i = 0; i < boot_errors.count && i < MANIFEST_ERROR_MAX; i++) {
		char line[MANIFEST_PATH_MAX + CFG_NAME_MAX + MANIFEST_MESSAGE_MAX + 32];
		manifest_error_format(&boot_errors.errors[i], line, sizeof(line));
		kprintf("[hyp] %s\n", line);
	}
	if (boot_errors.count > MANIFEST_ERROR_MAX)
		kprintf("[hyp] manifest error: ... and %u more\n",
		        boot_errors.count - MANIFEST_ERROR_MAX);
	boot_fail("invalid manifest");
}

/**
 * Zero every RAM and shared region (manifest_load placed them in free RAM),
 * so no partition sees what memory held before.
 */
static void boot_clear_regions(void)
{
	const struct config *cfg = &kernel.cfg;
	for (u32 i = 0; i < cfg->region_count; i++) {
		const struct cfg_region *r = &cfg->regions[i];
		if (r->kind != REGION_DEVICE)
			memset(plat_phys_to_virt(pa_init(r->pa)), 0, r->size);
	}
}

/** Copy a VM's device tree where the validator placed it (cfg dtb_ipa, inside a RAM mapping). */
static void boot_load_dtb(const struct cfg_partition *cp, const struct boot_info *bi)
{
	const struct config *cfg = &kernel.cfg;
	const void *blob;
	u64 size;
	if (cp->dtb[0] == '\0')
		return;
	if (!package_find(bi->package, cp->dtb, &blob, &size))
		boot_fail("a device tree the validator found is missing");
	for (u32 m = 0; m < cp->mapping_count; m++) {
		const struct cfg_mapping *map = &cp->mappings[m];
		const struct cfg_region *r = &cfg->regions[map->region];
		u64 off = cp->dtb_ipa - map->ipa;
		if (cp->dtb_ipa >= map->ipa && off < r->size && size <= r->size - off) {
			u8 *dst = (u8 *)plat_phys_to_virt(pa_init(r->pa)) + off;
			memcpy(dst, blob, size);
			arch_clean_to_poc(dst, size);
			return;
		}
	}
	boot_fail("a device tree does not fit where the validator placed it");
}

/**
 * A Linux partition's initramfs, where the validator placed it (initrd_ipa,
 * right below the device tree in the image's mapping; mf_check_linux).
 */
static void boot_load_initrd(const struct cfg_partition *cp, const struct boot_info *bi,
                             const struct cfg_mapping *im, const struct cfg_region *r)
{
	const void *blob;
	u64 size;
	if (cp->initrd[0] == '\0')
		return;
	if (!package_find(bi->package, cp->initrd, &blob, &size))
		boot_fail("an initrd the validator found is missing");
	u64 off = cp->initrd_ipa - im->ipa;
	if (cp->initrd_ipa < im->ipa || off > r->size || size > r->size - off)
		boot_fail("an initrd does not fit where the validator placed it");
	u8 *dst = (u8 *)plat_phys_to_virt(pa_init(r->pa)) + off;
	memcpy(dst, blob, size);
	arch_clean_to_poc(dst, size);
}

/** Map a partition's regions and copy its image (and device tree) in. */
static void boot_build_memory(struct partition *p, const struct cfg_partition *cp,
                              const struct boot_info *bi)
{
	const struct config *cfg = &kernel.cfg;
	if (!stage2_init(&p->s2, p->id + 1u))
		boot_fail("stage-2 table pool exhausted");
	vmi_init(p, vmi_quota(&kernel.cfg, p->id));
	dm_init(p);
	for (u32 m = 0; m < cp->mapping_count; m++) {
		const struct cfg_mapping *map = &cp->mappings[m];
		const struct cfg_region *r = &cfg->regions[map->region];
		if (!region_mapping_allowed(r, p->id, map->rights))
			boot_fail("a mapping the validator let through is not allowed");
		if (!stage2_map(&p->s2, ipa_init(map->ipa), pa_init(r->pa), r->size, map->rights,
		                r->kind == REGION_DEVICE))
			boot_fail("stage-2 mapping failed (overlap or table pool exhausted)");
	}
	boot_load_dtb(cp, bi);
	if (cp->image[0] == '\0')
		return;
	const void *image;
	u64 image_size;
	if (!package_find(bi->package, cp->image, &image, &image_size)) {
		kprintf("[hyp] partition '%s': image '%s' is not in the boot package\n", cp->name,
		        cp->image);
		boot_fail("missing image");
	}
	const struct cfg_mapping *im = &cp->mappings[cp->image_mapping];
	const struct cfg_region *r = &cfg->regions[im->region];
	if (cp->image_offset > r->size || image_size > r->size - cp->image_offset) {
		kprintf("[hyp] partition '%s': image '%s' (%llu bytes) is larger than region '%s'\n",
		        cp->name, cp->image, (unsigned long long)image_size, r->name);
		boot_fail("image does not fit");
	}
	u8 *base = plat_phys_to_virt(pa_init(r->pa));
	memcpy(base + cp->image_offset, image, image_size);
	arch_clean_to_poc(base + cp->image_offset, image_size);
	boot_load_initrd(cp, bi, im, r);
}

/** Give the platform the partition's vCPUs and the interrupts of its devices. */
static void boot_setup_interrupts(struct partition *p)
{
	const struct config *cfg = &kernel.cfg;
	u32 irqs[CFG_DEVICE_MAX * CFG_DEVICE_IRQ_MAX];
	u32 count = 0;
	for (u32 d = 0; d < cfg->device_count; d++) {
		const struct cfg_device *dev = &cfg->devices[d];
		for (u32 i = 0; dev->owner == p->id && i < dev->irq_count; i++)
			irqs[count++] = dev->irqs[i];
	}
	p->irq_sources = count != 0;
	const char *why = arch_partition_setup(p->s2.vmid, p->type, p->vcpus, p->vcpu_count, irqs,
	                                       count, kernel.cfg.partitions[p->id].lpi_count);
	if (why != NULL) {
		kprintf("[hyp] partition '%s': %s\n", p->name, why);
		boot_fail("the platform cannot set the partition up");
	}
}

static void boot_build_partition(u32 index, const struct boot_info *bi)
{
	const struct cfg_partition *cp = &kernel.cfg.partitions[index];
	struct partition *p = &kernel.partitions[index];
	p->id = index;
	p->name = cp->name;
	p->type = cp->type;
	p->fault_endpoint = cp->fault_endpoint;
	p->fault_badge = cp->fault_badge;
	for (u32 c = 0; c < cp->cap_count; c++) {
		const struct cfg_cap *cc = &cp->caps[c];
		p->caps.slots[cc->slot] = (struct cap){ .type = cc->type,
			                                .rights = cc->rights,
			                                .object = cc->object,
			                                .badge = cc->badge };
	}
	partition_caps_changed(p);
	boot_build_memory(p, cp, bi);
	if (kernel.vcpu_count + cp->vcpu_count > KERNEL_VCPU_MAX)
		boot_fail("too many vCPUs in the system");
	p->vcpus = &kernel.vcpus[kernel.vcpu_count];
	p->vcpu_count = cp->vcpu_count;
	for (u32 i = 0; i < cp->vcpu_count; i++) {
		struct vcpu *v = &kernel.vcpus[kernel.vcpu_count];
		v->part = p;
		v->index = i;
		v->id = kernel.vcpu_count++;
		v->hard_affinity = cp->vcpus[i].hard_affinity;
		v->soft_affinity = cp->vcpus[i].soft_affinity;
		v->cpu = sched_place(v->hard_affinity, v->soft_affinity, kernel.cpu_count);
		if (v->cpu == CFG_NONE)
			boot_fail("a vCPU has no usable CPU in its affinity");
		/* x0 / the first argument: the vCPU's index, or for vCPU 0 its device tree. */
		u64 arg = i == 0 && cp->dtb[0] != '\0' ? cp->dtb_ipa : i;
		arch_vcpu_reset(&v->arch, cp->type, cp->entry, arg, p->s2.root, p->s2.vmid);
	}
	boot_setup_interrupts(p);
}

struct vcpu *boot_build_system(const struct boot_info *bi)
{
	boot_clear_regions();
	kernel.package = bi->package;
	for (u32 i = 0; i < kernel.cfg.region_count; i++)
		region_fill_contents(&kernel.cfg.regions[i]);
	kernel.partition_count = kernel.cfg.partition_count;
	for (u32 i = 0; i < kernel.partition_count; i++)
		boot_build_partition(i, bi);
	kernel.console_holder_known = false; /* the capability tables are complete now */
	/* The tables reserved for introspection must be there when a monitor asks for them. */
	u32 reserved = 0;
	for (u32 i = 0; i < kernel.partition_count; i++)
		reserved += kernel.partitions[i].vmi.tables_left;
	if (reserved > stage2_pool_free()) {
		kprintf("[hyp] stage-2 tables reserved for introspection: %u, left in the pool: %u\n",
		        reserved, stage2_pool_free());
		boot_fail("stage-2 table quotas (stage2-tables) exceed the pool");
	}
	emul_setup();
	for (u32 i = 0; i < kernel.vcpu_count; i++) {
		struct vcpu *v = &kernel.vcpus[i];
		/* A VM's other vCPUs wait for its vCPU 0 to start them (vcpu_power.h). */
		if (v->part->type != PARTITION_SERVICE && v->index != 0)
			v->state = VCPU_OFF;
		else
			sched_make_ready(v);
	}
	kprintf("[hyp] %u partitions, %u vCPUs, %u endpoints, %u notifications; %u stage-2 pages "
	        "free, %u of them reserved for introspection\n",
	        kernel.partition_count, kernel.vcpu_count, kernel.cfg.endpoint_count,
	        kernel.cfg.notification_count, stage2_pool_free(), reserved);
	__atomic_store_n(&boot_done, true, __ATOMIC_RELEASE);
	return sched_next(arch_cpu_index(), NULL, false);
}

struct vcpu *kernel_boot(const struct boot_info *bi)
{
	spin_lock(&kernel_lock);
	kprintf("[hyp] kernel core %s: %u CPUs, package %llu bytes\n", KERNEL_VERSION,
	        bi->cpu_count, (unsigned long long)bi->package_size);
	kernel.cpu_count = bi->cpu_count < CFG_CPU_MAX ? bi->cpu_count : CFG_CPU_MAX;
	boot_load_manifest(bi);
	if (kernel.cfg.cpu_count < kernel.cpu_count)
		kernel.cpu_count = kernel.cfg.cpu_count;
	struct vcpu *first = boot_build_system(bi);
	spin_unlock(&kernel_lock);
	return first;
}
