/** Address-range arithmetic and the mapping ownership rule (see region.h). */
#include <kernel/region.h>

bool range_valid(u64 base, u64 size)
{
	return size != 0 && is_page_aligned(base) && is_page_aligned(size) &&
	       base <= UINT64_MAX - size;
}

bool range_overlaps(u64 a, u64 a_size, u64 b, u64 b_size)
{
	return a < b + b_size && b < a + a_size;
}

bool range_contains(u64 outer, u64 outer_size, u64 inner, u64 inner_size)
{
	return inner >= outer && inner - outer <= outer_size &&
	       inner_size <= outer_size - (inner - outer);
}

bool region_mapping_allowed(const struct cfg_region *region, u32 partition, u32 rights)
{
	if ((rights & ~region->rights) != 0)
		return false;
	if (region->kind == REGION_SHARED)
		return true;
	return region->owner == partition;
}
