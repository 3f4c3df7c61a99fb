/** The generic stage-2 walk and the range rules (kernel/stage2.c, kernel/region.c). */
#include "tap.h"
#include <fake.h>
#include <kernel/region.h>
#include <kernel/stage2.h>

static unsigned char ram[8 * 4096] __attribute__((aligned(4096)));

static void test_map_lookup(void)
{
	struct stage2 s2;
	u32 before = stage2_pool_free();
	OK(stage2_init(&s2, 7), "init takes a root table");
	EQ(s2.vmid, 7, "init records the vmid");
	paddr_t pa = pa_init((u64)(uintptr_t)ram);
	OK(stage2_map(&s2, ipa_init(0x100000), pa, 0x3000, RIGHT_MEM_READ | RIGHT_MEM_WRITE, false),
	   "map three pages");
	EQ(before - stage2_pool_free(), 4, "one root plus three lower tables used");
	paddr_t got;
	u32 rights;
	OK(stage2_lookup(&s2, ipa_init(0x101234), &got, &rights), "lookup inside the mapping");
	EQ(got.pa, pa.pa + 0x1234, "lookup gives the physical address with offset");
	EQ(rights, RIGHT_MEM_READ | RIGHT_MEM_WRITE, "lookup gives the rights");
	OK(!stage2_lookup(&s2, ipa_init(0x103000), &got, &rights),
	   "page after the mapping is unmapped");
	OK(!stage2_lookup(&s2, ipa_init(0xfff000), &got, &rights), "page elsewhere is unmapped");
	OK(!stage2_lookup(&s2, ipa_init(UINT64_C(1) << 48), &got, &rights),
	   "IPA beyond 48 bits is unmapped");
	OK(!stage2_map(&s2, ipa_init(0x102000), pa, 0x1000, RIGHT_MEM_READ, false),
	   "remapping a page fails");
	OK(!stage2_map(&s2, ipa_init(0x200800), pa, 0x1000, RIGHT_MEM_READ, false),
	   "unaligned IPA fails");
	OK(!stage2_map(&s2, ipa_init(0x200000), pa_init(pa.pa + 8), 0x1000, RIGHT_MEM_READ, false),
	   "unaligned PA fails");
	OK(!stage2_map(&s2, ipa_init(0x200000), pa, 0x800, RIGHT_MEM_READ, false),
	   "partial page fails");
	OK(!stage2_map(&s2, ipa_init(0x200000), pa, 0, RIGHT_MEM_READ, false),
	   "empty mapping fails");
	OK(!stage2_map(&s2, ipa_init((UINT64_C(1) << 48) - 0x1000), pa, 0x2000, RIGHT_MEM_READ,
	               false),
	   "mapping past the IPA space fails");
	OK(stage2_map(&s2, ipa_init(UINT64_C(0x8000000000)), pa, 0x1000, RIGHT_MEM_EXEC, true),
	   "map in another level-0 slot");
	OK(stage2_lookup(&s2, ipa_init(UINT64_C(0x8000000000)), &got, &rights) &&
	           rights == RIGHT_MEM_EXEC,
	   "second mapping visible with its rights");
	OK(fake_flushes > 0, "mapping flushes the TLB");
}

/* 2 MiB blocks where the IPA, the PA and the remaining size allow; pages elsewhere. */
static void test_blocks(void)
{
	struct stage2 s2;
	paddr_t got;
	u32 rights;
	OK(stage2_init(&s2, 9), "init for the block test");
	u32 before = stage2_pool_free();
	OK(stage2_map(&s2, ipa_init(0x40000000), pa_init(0x80000000), 0x401000,
	              RIGHT_MEM_READ | RIGHT_MEM_EXEC, false),
	   "map 4 MiB + 4 KiB, 2 MiB aligned");
	EQ(before - stage2_pool_free(), 3, "two blocks and a page: level 1, level 2, one level 3");
	OK(stage2_lookup(&s2, ipa_init(0x40123456), &got, &rights) && got.pa == 0x80123456,
	   "lookup inside the first block");
	EQ(rights, RIGHT_MEM_READ | RIGHT_MEM_EXEC, "a block keeps the rights");
	OK(stage2_lookup(&s2, ipa_init(0x403fffff), &got, &rights) && got.pa == 0x803fffff,
	   "last byte of the second block");
	OK(stage2_lookup(&s2, ipa_init(0x40400abc), &got, &rights) && got.pa == 0x80400abc,
	   "the page after the blocks");
	OK(!stage2_lookup(&s2, ipa_init(0x40401000), &got, &rights), "nothing after the page");
	OK(!stage2_map(&s2, ipa_init(0x40201000), pa_init(0x1000), 0x1000, RIGHT_MEM_READ, false),
	   "a page inside a block is refused");
	OK(!stage2_map(&s2, ipa_init(0x40200000), pa_init(0x80200000), 0x200000, RIGHT_MEM_READ,
	               false),
	   "a block over a block is refused");
	before = stage2_pool_free();
	OK(stage2_map(&s2, ipa_init(0x60000000), pa_init(0x80001000), 0x200000, RIGHT_MEM_READ,
	              false),
	   "a PA that is not 2 MiB aligned");
	EQ(before - stage2_pool_free(), 1, "is mapped with pages (one more level-3 table)");
}

/* A 1 GiB level-1 block where the IPA, the PA and the size allow, then 2 MiB, then pages. */
static void test_huge_blocks(void)
{
	struct stage2 s2;
	paddr_t got;
	u32 rights;
	OK(stage2_init(&s2, 11), "init for the 1 GiB block test");
	u32 before = stage2_pool_free();
	OK(stage2_map(&s2, ipa_init(0x40000000), pa_init(UINT64_C(0x100000000)), 0x40201000,
	              RIGHT_MEM_READ | RIGHT_MEM_WRITE, false),
	   "map 1 GiB + 2 MiB + 4 KiB, 1 GiB aligned");
	EQ(before - stage2_pool_free(), 3, "a 1 GiB block, a 2 MiB block and a page: 3 tables");
	OK(stage2_lookup(&s2, ipa_init(0x40000000), &got, &rights) &&
	           got.pa == UINT64_C(0x100000000),
	   "lookup at the start of the 1 GiB block");
	OK(stage2_lookup(&s2, ipa_init(0x7fffffff), &got, &rights) &&
	           got.pa == UINT64_C(0x13fffffff),
	   "lookup at the last byte of the 1 GiB block");
	EQ(rights, RIGHT_MEM_READ | RIGHT_MEM_WRITE, "the 1 GiB block keeps the rights");
	OK(stage2_lookup(&s2, ipa_init(0x801fffff), &got, &rights) &&
	           got.pa == UINT64_C(0x1401fffff),
	   "the 2 MiB block after it");
	OK(stage2_lookup(&s2, ipa_init(0x80200010), &got, &rights) &&
	           got.pa == UINT64_C(0x140200010),
	   "the page after that");
	OK(!stage2_lookup(&s2, ipa_init(0x80201000), &got, &rights), "nothing after the page");
	OK(!stage2_map(&s2, ipa_init(0x50000000), pa_init(0x1000), 0x1000, RIGHT_MEM_READ, false),
	   "a page inside the 1 GiB block is refused");
	OK(!stage2_map(&s2, ipa_init(0x50000000), pa_init(0x200000), 0x200000, RIGHT_MEM_READ,
	               false),
	   "a 2 MiB block inside the 1 GiB block is refused");
	before = stage2_pool_free();
	OK(stage2_map(&s2, ipa_init(UINT64_C(0x100000000)), pa_init(UINT64_C(0x180200000)),
	              0x40000000, RIGHT_MEM_READ, false),
	   "1 GiB at a PA that is only 2 MiB aligned");
	EQ(before - stage2_pool_free(), 1, "is mapped with 2 MiB blocks (one level-2 table)");
}

static void test_ranges(void)
{
	OK(range_valid(0x1000, 0x1000), "valid range");
	OK(!range_valid(0x1000, 0), "empty range invalid");
	OK(!range_valid(0x1001, 0x1000), "unaligned base invalid");
	OK(!range_valid(0x1000, 0x1800), "unaligned size invalid");
	OK(!range_valid(UINT64_MAX - 0xfff, 0x2000), "wrapping range invalid");
	OK(range_overlaps(0x1000, 0x2000, 0x2000, 0x1000), "overlap: inner");
	OK(!range_overlaps(0x1000, 0x1000, 0x2000, 0x1000), "adjacent ranges do not overlap");
	OK(range_overlaps(0x2000, 0x1000, 0x1000, 0x2000), "overlap is symmetric");
	OK(range_contains(0x1000, 0x3000, 0x2000, 0x2000), "contains: tail");
	OK(!range_contains(0x1000, 0x3000, 0x2000, 0x3000), "contains: sticking out");
	OK(!range_contains(0x2000, 0x1000, 0x1000, 0x1000), "contains: below");
	struct cfg_region own = { .kind = REGION_RAM,
		                  .rights = RIGHT_MEM_READ | RIGHT_MEM_WRITE,
		                  .owner = 2 };
	struct cfg_region shared = { .kind = REGION_SHARED,
		                     .rights = RIGHT_MEM_READ,
		                     .owner = CFG_NONE };
	OK(region_mapping_allowed(&own, 2, RIGHT_MEM_READ), "owner may map");
	OK(!region_mapping_allowed(&own, 3, RIGHT_MEM_READ),
	   "another partition may not map private RAM");
	OK(!region_mapping_allowed(&own, 2, RIGHT_MEM_EXEC),
	   "owner may not exceed the region's rights");
	OK(region_mapping_allowed(&shared, 5, RIGHT_MEM_READ), "shared region, allowed rights");
	OK(!region_mapping_allowed(&shared, 5, RIGHT_MEM_WRITE),
	   "shared region, right it does not grant");
}

int main(void)
{
	test_map_lookup();
	test_blocks();
	test_huge_blocks();
	test_ranges();
	return tap_finish();
}
