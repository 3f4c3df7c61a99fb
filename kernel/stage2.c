/**
 * The stage-2 / nested page-table walk, shared by both platforms. Entry
 * encodings come from the platform (arch/stage2.h); tables come from a
 * fixed pool in the kernel image.
 *
 *   IPA: | 47..39 | 38..30 | 29..21 | 20..12 | 11..0 |
 *          level0   level1   level2   level3   offset
 */
#include <arch/stage2.h>
#include <kernel/stage2.h>
#include <plat/memory.h>

#define STAGE2_ENTRIES 512u
#define STAGE2_LEVELS 4u

typedef u64 stage2_table[STAGE2_ENTRIES];

static stage2_table stage2_pool[STAGE2_POOL_PAGES] __attribute__((aligned(4096)));
static u32 stage2_pool_used;

/** Take a zeroed table from the pool; NULL when it is empty. */
static u64 *stage2_table_alloc(void)
{
	if (stage2_pool_used == STAGE2_POOL_PAGES)
		return NULL;
	u64 *t = stage2_pool[stage2_pool_used++];
	for (u32 i = 0; i < STAGE2_ENTRIES; i++)
		t[i] = 0;
	return t;
}

u32 stage2_pool_free(void)
{
	return STAGE2_POOL_PAGES - stage2_pool_used;
}

static u32 stage2_index(u64 ipa, u32 level)
{
	return (u32)(ipa >> (PAGE_SHIFT + 9u * (STAGE2_LEVELS - 1u - level))) & (STAGE2_ENTRIES - 1u);
}

bool stage2_init(struct stage2 *s2, u32 vmid)
{
	u64 *root = stage2_table_alloc();
	if (root == NULL)
		return false;
	s2->root = plat_virt_to_phys(root);
	s2->vmid = vmid;
	return true;
}

/**
 * The level-3 table covering ipa, creating intermediate tables when create
 * is set; NULL if absent (or the pool is empty).
 */
static u64 *stage2_leaf_table(const struct stage2 *s2, u64 ipa, bool create)
{
	u64 *table = plat_phys_to_virt(s2->root);
	for (u32 level = 0; level < STAGE2_LEVELS - 1u; level++) {
		u64 *entry = &table[stage2_index(ipa, level)];
		if (!arch_stage2_entry_valid(*entry)) {
			if (!create)
				return NULL;
			u64 *next = stage2_table_alloc();
			if (next == NULL)
				return NULL;
			*entry = arch_stage2_table_entry(plat_virt_to_phys(next));
		}
		table = plat_phys_to_virt(arch_stage2_entry_pa(*entry));
	}
	return table;
}

bool stage2_map(struct stage2 *s2, ipaddr_t ipa, paddr_t pa, u64 size, u32 rights, bool device)
{
	const u64 limit = UINT64_C(1) << STAGE2_IPA_BITS;
	if (!is_page_aligned(ipa.ipa) || !is_page_aligned(pa.pa) || !is_page_aligned(size) || size == 0)
		return false;
	if (ipa.ipa >= limit || size > limit - ipa.ipa || pa.pa > UINT64_MAX - size)
		return false;
	for (u64 off = 0; off < size; off += PAGE_SIZE) {
		u64 *leaf = stage2_leaf_table(s2, ipa.ipa + off, true);
		if (leaf == NULL)
			return false;
		u64 *entry = &leaf[stage2_index(ipa.ipa + off, STAGE2_LEVELS - 1u)];
		if (arch_stage2_entry_valid(*entry))
			return false;
		*entry = arch_stage2_page_entry(pa_init(pa.pa + off), rights, device);
	}
	arch_stage2_flush(s2->vmid);
	return true;
}

bool stage2_lookup(const struct stage2 *s2, ipaddr_t ipa, paddr_t *pa, u32 *rights)
{
	if (ipa.ipa >= (UINT64_C(1) << STAGE2_IPA_BITS))
		return false;
	u64 *leaf = stage2_leaf_table(s2, ipa.ipa, false);
	if (leaf == NULL)
		return false;
	u64 entry = leaf[stage2_index(ipa.ipa, STAGE2_LEVELS - 1u)];
	if (!arch_stage2_entry_valid(entry))
		return false;
	*pa = pa_init(arch_stage2_entry_pa(entry).pa | (ipa.ipa & PAGE_MASK));
	*rights = arch_stage2_entry_rights(entry);
	return true;
}
