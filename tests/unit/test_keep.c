/**
 * The arm64 kernel's kept ranges (platform/arm64/keep.c): the GIC frames a VM sees modelled
 * by the kernel cover its whole view, up to VGIC_VCPU_MAX redistributors, even on a machine
 * whose own redistributor region is smaller. The manifest check refuses an emulated range
 * anywhere in that view, which is what lets platform/arm64/emulpath.S find a manifest range
 * without testing the virtual GIC's frames first.
 */
#include <string.h>

#include <arm64/keep.h>
#include <arm64/vgic.h>

#include "tap.h"

static const struct boot_kept *find(const struct boot_info *bi, const char *what)
{
	for (u32 i = 0; i < bi->kept_mmio_count; i++)
		if (strcmp(bi->kept_mmio[i].what, what) == 0)
			return &bi->kept_mmio[i];
	return NULL;
}

static void check(u64 gicr_size, u64 want_view, const char *name)
{
	struct boot_info bi;
	memset(&bi, 0, sizeof(bi));
	const struct arm64_keep_hw hw = {
		.gicd = 0x08000000,
		.gicd_size = 0x10000,
		.gicr = 0x080a0000,
		.gicr_size = gicr_size,
		.maint_intid = 25,
		.timer_ppi = { 13, 14, 11, 10 },
	};
	arm64_keep(&bi, &hw);
	const struct boot_kept *d = find(&bi, "GIC distributor"),
	                       *r = find(&bi, "GIC redistributors");
	OK(d != NULL && d->modelled && d->size == 0x10000 && d->view == VGIC_DIST_SIZE,
	   "the distributor: modelled, its frame the view");
	OK(r != NULL && r->modelled && r->size == gicr_size, name);
	EQ(r != NULL ? r->view : 0, want_view, "its view");
}

int main(void)
{
	const u64 all = (u64)VGIC_VCPU_MAX * VGIC_REDIST_STRIDE;
	check(2u * VGIC_REDIST_STRIDE, all,
	      "two CPUs' redistributors: the view still holds VGIC_VCPU_MAX vCPUs' frames");
	check(0xf60000, 0xf60000, "QEMU virt's region, larger than any VM's view: itself");
	return tap_finish();
}
