/**
 * Address-range arithmetic and the ownership rule for mappings, shared by
 * the manifest validator, the boot-time builder and the proofs
 * (proofs/wp/region.c proves them free of overflow and exactly right).
 *
 * A range is [base, base + size). Valid ranges are non-empty, page aligned
 * and do not wrap around the 64-bit space.
 */
#ifndef KERNEL_REGION_H
#define KERNEL_REGION_H

#include <kernel/config.h>
#include <kernel/types.h>

bool range_valid(u64 base, u64 size);

/** Whether two valid ranges share at least one byte. */
bool range_overlaps(u64 a, u64 a_size, u64 b, u64 b_size);

/** Whether the valid range inner lies wholly inside the valid range outer. */
bool range_contains(u64 outer, u64 outer_size, u64 inner, u64 inner_size);

/**
 * Whether partition may map region with rights: the partition owns the
 * region (private RAM or a device) or the region is shared, and rights are
 * a subset of what the region grants.
 */
bool region_mapping_allowed(const struct cfg_region *region, u32 partition, u32 rights);

#endif /* KERNEL_REGION_H */
