/**
 * Address-range arithmetic and the ownership rule for mappings, shared by
 * the boot-time builder and the proofs: the ACSL contracts below are
 * proved with Frama-C/WP by proofs/run (free of overflow, exactly right).
 *
 * A range is [base, base + size). Valid ranges are non-empty, page aligned
 * and do not wrap around the 64-bit space.
 */
#ifndef KERNEL_REGION_H
#define KERNEL_REGION_H

#include <kernel/config.h>
#include <kernel/types.h>

/*@ assigns \nothing;
    ensures \result <==> size != 0 && (base & PAGE_MASK) == 0 && (size & PAGE_MASK) == 0 &&
                         base + size <= UINT64_MAX;
*/
bool range_valid(u64 base, u64 size);

/**
 * Whether two valid ranges share at least one byte. Proved exact over the
 * integers for any ranges that do not wrap (which range_valid implies).
 */
/*@ requires a + a_size <= UINT64_MAX && b + b_size <= UINT64_MAX;
    assigns \nothing;
    ensures \result <==> a < b + b_size && b < a + a_size;
    // The meaning: for non-empty ranges, a shared byte exists (max(a, b)
    // is one) exactly when the result is true.
    ensures \result && a_size != 0 && b_size != 0 ==>
            a <= \max(a, b) < a + a_size && b <= \max(a, b) < b + b_size;
    ensures !\result ==> (\forall integer x; !(a <= x < a + a_size && b <= x < b + b_size));
*/
bool range_overlaps(u64 a, u64 a_size, u64 b, u64 b_size);

/**
 * Whether the valid range inner lies wholly inside the valid range outer.
 * Exact, without overflow, for every input (no precondition).
 */
/*@ assigns \nothing;
    ensures \result <==> outer <= inner && inner + inner_size <= outer + outer_size;
    ensures inner_size != 0 ==>
      (\result <==> (\forall integer x; inner <= x < inner + inner_size ==>
                                        outer <= x < outer + outer_size));
*/
bool range_contains(u64 outer, u64 outer_size, u64 inner, u64 inner_size);

/**
 * Whether partition may map region with rights: the partition owns the
 * region (private RAM or a device) or the region is shared, and rights are
 * a subset of what the region grants.
 */
/*@ requires \valid_read(region);
    assigns \nothing;
    ensures \result <==> (rights & region->rights) == rights &&
                         (region->kind == REGION_SHARED || region->owner == partition);
*/
bool region_mapping_allowed(const struct cfg_region *region, u32 partition, u32 rights);

#endif /* KERNEL_REGION_H */
