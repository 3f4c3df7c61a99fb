/** A guest's RAM by guest-physical address (see guest_mem.h). */
#include <kernel/config.h>
#include <kernel/guest_mem.h>
#include <kernel/kernel.h>
#include <plat/memory.h>
#include <string.h>

void *guest_mem_at(const struct partition *g, u64 ipa, u64 len, u32 need)
{
	if (len == 0 || ipa + len < ipa)
		return NULL;
	const struct cfg_partition *cp = &kernel.cfg.partitions[g->id];
	for (u32 i = 0; i < cp->mapping_count; i++) {
		const struct cfg_mapping *m = &cp->mappings[i];
		const struct cfg_region *r = &kernel.cfg.regions[m->region];
		if (r->kind == REGION_DEVICE || ipa < m->ipa || ipa - m->ipa >= r->size)
			continue;
		/* In this mapping: all of it, with the rights, or nothing (mappings never overlap). */
		if (len > r->size - (ipa - m->ipa) || (m->rights & need) != need)
			return NULL;
		return plat_phys_to_virt(pa_init(r->pa + (ipa - m->ipa)));
	}
	return NULL;
}

void guest_mem_copy(void *dst, const void *src, u64 len)
{
	uintptr_t ends = (uintptr_t)dst | (uintptr_t)src;
	if ((len == 2u || len == 4u || len == 8u) && (ends & (len - 1u)) == 0) {
		/* volatile: one access each way, which the compiler may neither split nor widen */
		if (len == 2u)
			*(volatile u16 *)dst = *(const volatile u16 *)src;
		else if (len == 4u)
			*(volatile u32 *)dst = *(const volatile u32 *)src;
		else
			*(volatile u64 *)dst = *(const volatile u64 *)src;
		return;
	}
	memmove(dst, src, len);
}
