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
/** A level-2 block: used where the IPA, the PA and the rest of the size allow. */
#define STAGE2_BLOCK_SIZE UINT64_C(0x200000)
/** A level-1 block, likewise (ARM DDI 0487 D8.2.6; AMD APM vol 2 15.25.5: a 1 GiB PDPE). */
#define STAGE2_HUGE_SIZE UINT64_C(0x40000000)

typedef u64 stage2_table[STAGE2_ENTRIES];

/*
 * In a .noinit section: boot does not clear these 2 MiB (about 100,000
 * instructions of the boot time), because stage2_table_alloc zeroes each
 * table as it hands it out. The platforms' linker scripts place .noinit.
 */
static stage2_table stage2_pool[STAGE2_POOL_PAGES]
        __attribute__((aligned(4096), section(".noinit.stage2_pool")));
static u32 stage2_pool_used;

/*@ axiomatic stage2_pool_tables {
  // What the proofs call a table: the start of one page of the pool.
  axiom s2_pool_table_def:
    \forall u64 *p; s2_pool_table(p) <==>
      (\exists integer i; 0 <= i < STAGE2_POOL_PAGES && p == &stage2_pool[i][0]);
} */

/** Take a zeroed table from the pool; NULL when it is empty. */
/*@ requires stage2_pool_used <= STAGE2_POOL_PAGES;
    assigns stage2_pool_used, stage2_pool[stage2_pool_used][0 .. STAGE2_ENTRIES - 1];
    ensures stage2_pool_used <= STAGE2_POOL_PAGES;
    behavior empty:
      assumes stage2_pool_used == STAGE2_POOL_PAGES;
      assigns \nothing;
      ensures \result == \null;
    behavior take:
      assumes stage2_pool_used < STAGE2_POOL_PAGES;
      assigns stage2_pool_used, stage2_pool[stage2_pool_used][0 .. STAGE2_ENTRIES - 1];
      ensures stage2_pool_used == \old(stage2_pool_used) + 1;
      ensures \result == &stage2_pool[\old(stage2_pool_used)][0] && s2_pool_table(\result);
      ensures \forall integer i; 0 <= i < STAGE2_ENTRIES ==> \result[i] == 0;
    complete behaviors;
    disjoint behaviors;
*/
static u64 *stage2_table_alloc(void)
{
	if (stage2_pool_used == STAGE2_POOL_PAGES)
		return NULL;
	u64 *t = stage2_pool[stage2_pool_used++];
	/*@ loop invariant 0 <= i <= STAGE2_ENTRIES;
	    loop invariant t == &stage2_pool[stage2_pool_used - 1][0];
	    loop invariant \forall integer j; 0 <= j < i ==> t[j] == 0;
	    loop assigns i, t[0 .. STAGE2_ENTRIES - 1];
	    loop variant STAGE2_ENTRIES - i;
	*/
	for (u32 i = 0; i < STAGE2_ENTRIES; i++)
		t[i] = 0;
	return t;
}

/*@ requires stage2_pool_used <= STAGE2_POOL_PAGES;
    assigns \nothing;
    ensures \result == STAGE2_POOL_PAGES - stage2_pool_used;
*/
u32 stage2_pool_free(void)
{
	return STAGE2_POOL_PAGES - stage2_pool_used;
}

/**
 * The index of ipa in a table of level (ARM DDI 0487 D8.2: 4 KiB granule,
 * 9 bits a level; AMD APM vol 2 15.25.5 uses the same split for NPT).
 */
/*@ requires level < STAGE2_LEVELS;
    assigns \nothing;
    ensures \result < STAGE2_ENTRIES;
    ensures level == 3 ==> \result == (ipa / 4096) % 512;
    ensures level == 2 ==> \result == (ipa / 2097152) % 512;
    ensures level == 1 ==> \result == (ipa / 1073741824) % 512;
    ensures level == 0 ==> \result == (ipa / 549755813888) % 512;
*/
static u32 stage2_index(u64 ipa, u32 level)
{
	return (u32)(ipa >> (PAGE_SHIFT + 9u * (STAGE2_LEVELS - 1u - level))) &
	       (STAGE2_ENTRIES - 1u);
}

/*@ requires \valid(s2) && stage2_pool_used <= STAGE2_POOL_PAGES;
    requires \separated(s2, &stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1]);
    assigns stage2_pool_used, stage2_pool[stage2_pool_used][0 .. STAGE2_ENTRIES - 1], *s2;
    ensures stage2_pool_used <= STAGE2_POOL_PAGES;
    ensures \result ==> s2->vmid == vmid;
*/
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
 * The table of level stop (1, 2 or 3) covering ipa, creating intermediate
 * tables when create is set; NULL if absent, if a block is in the way, or if
 * the pool is empty.
 */
/*@ requires \valid_read(s2) && stage2_pool_used <= STAGE2_POOL_PAGES;
    requires 1 <= stop <= 3;
    requires \separated(s2, &stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1]);
    ensures stage2_pool_used <= STAGE2_POOL_PAGES;
    ensures \result == \null || s2_pool_table(\result);
    assigns stage2_pool_used,
            stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1];
    behavior walk:
      assumes !create;
      assigns \nothing;
      ensures stage2_pool_used == \old(stage2_pool_used);
      ensures \forall integer i, j; 0 <= i < STAGE2_POOL_PAGES ==>
        0 <= j < STAGE2_ENTRIES ==> stage2_pool[i][j] == \old(stage2_pool[i][j]);
    behavior build:
      assumes create;
      assigns stage2_pool_used,
              stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1];
    complete behaviors;
    disjoint behaviors;
*/
static u64 *stage2_table_at(const struct stage2 *s2, u64 ipa, u32 stop, bool create)
{
	u64 *table = plat_phys_to_virt(s2->root);
	/*@ loop invariant 0 <= level <= stop;
	    loop invariant s2_pool_table(table);
	    loop invariant stage2_pool_used <= STAGE2_POOL_PAGES;
	    for walk: loop invariant stage2_pool_used == \at(stage2_pool_used, Pre);
	    for walk: loop invariant \forall integer i, j; 0 <= i < STAGE2_POOL_PAGES ==>
	      0 <= j < STAGE2_ENTRIES ==> stage2_pool[i][j] == \at(stage2_pool[i][j], Pre);
	    for walk: loop assigns level, table;
	    for build: loop assigns level, table, stage2_pool_used,
	      stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1];
	    loop variant stop - level;
	*/
	for (u32 level = 0; level < stop; level++) {
		u64 *entry = &table[stage2_index(ipa, level)];
		if (!arch_stage2_entry_valid(*entry)) {
			if (!create)
				return NULL;
			u64 *next = stage2_table_alloc();
			if (next == NULL)
				return NULL;
			*entry = arch_stage2_table_entry(plat_virt_to_phys(next));
		} else if (!arch_stage2_entry_is_table(*entry)) {
			return NULL; /* a block: there is no table below it */
		}
		table = plat_phys_to_virt(arch_stage2_entry_pa(*entry));
	}
	return table;
}

/**
 * Proved (proofs/README.md): it writes nothing but pool tables; it maps only
 * when the arguments are aligned, non-empty and in range; every leaf entry
 * it stores maps the page (or, where ipa + off and pa + off are 1 GiB or
 * 2 MiB aligned and that much remains, the level-1 or level-2 block) ipa +
 * off to pa + off for some off < size, and only where no valid entry was.
 */
/*@ requires \valid(s2) && stage2_pool_used <= STAGE2_POOL_PAGES;
    requires \separated(s2, &stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1]);
    assigns stage2_pool_used,
            stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1];
    ensures stage2_pool_used <= STAGE2_POOL_PAGES;
    ensures \result ==> size != 0 && size % PAGE_SIZE == 0 &&
                        ipa.ipa % PAGE_SIZE == 0 && pa.pa % PAGE_SIZE == 0 &&
                        ipa.ipa + size <= (1 << STAGE2_IPA_BITS) && pa.pa + size <= UINT64_MAX;
*/
bool stage2_map(struct stage2 *s2, ipaddr_t ipa, paddr_t pa, u64 size, u32 rights, bool device)
{
	const u64 limit = UINT64_C(1) << STAGE2_IPA_BITS;
	if (!is_page_aligned(ipa.ipa) || !is_page_aligned(pa.pa) || !is_page_aligned(size) ||
	    size == 0)
		return false;
	if (ipa.ipa >= limit || size > limit - ipa.ipa || pa.pa > UINT64_MAX - size)
		return false;
	u64 off = 0;
	/*@ loop invariant 0 <= off <= size && off % PAGE_SIZE == 0;
	    loop invariant stage2_pool_used <= STAGE2_POOL_PAGES;
	    loop assigns off, stage2_pool_used,
	      stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1];
	    loop variant size - off;
	*/
	while (off < size) {
		bool huge = (ipa.ipa + off) % STAGE2_HUGE_SIZE == 0 &&
		            (pa.pa + off) % STAGE2_HUGE_SIZE == 0 && size - off >= STAGE2_HUGE_SIZE;
		bool block = (ipa.ipa + off) % STAGE2_BLOCK_SIZE == 0 &&
		             (pa.pa + off) % STAGE2_BLOCK_SIZE == 0 &&
		             size - off >= STAGE2_BLOCK_SIZE;
		u32 level = huge  ? STAGE2_LEVELS - 3u :
		            block ? STAGE2_LEVELS - 2u :
		                    STAGE2_LEVELS - 1u;
		u64 *table = stage2_table_at(s2, ipa.ipa + off, level, true);
		if (table == NULL)
			return false;
		u64 *entry = &table[stage2_index(ipa.ipa + off, level)];
		if (arch_stage2_entry_valid(*entry))
			return false;
		/*@ assert ipa.ipa <= ipa.ipa + off < ipa.ipa + size <= (1 << STAGE2_IPA_BITS); */
		/*@ assert pa.pa <= pa.pa + off < pa.pa + size; */
		/*@ assert !s2_valid_l(*entry); */
		if (huge) {
			/* The same descriptor as a level-2 block on both platforms. */
			*entry = arch_stage2_block_entry(pa_init(pa.pa + off), rights, device);
			/*@ assert *entry == s2_block_l(pa.pa + off, rights, device); */
			off += STAGE2_HUGE_SIZE;
		} else if (block) {
			*entry = arch_stage2_block_entry(pa_init(pa.pa + off), rights, device);
			/*@ assert *entry == s2_block_l(pa.pa + off, rights, device); */
			off += STAGE2_BLOCK_SIZE;
		} else {
			*entry = arch_stage2_page_entry(pa_init(pa.pa + off), rights, device);
			/*@ assert *entry == s2_page_l(pa.pa + off, rights, device); */
			off += PAGE_SIZE;
		}
	}
	arch_stage2_flush(s2->vmid);
	return true;
}

/**
 * The table holding the valid leaf entry that translates ipa (a level-1 or level-2 block,
 * or a level-3 page) and that entry's level, or NULL if ipa is unmapped.
 */
/*@ requires \valid_read(s2) && \valid(level);
    requires \separated(level, &stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1]);
    assigns *level;
    ensures \result == \null || (s2_pool_table(\result) && 1 <= *level <= 3);
    ensures \result != \null ==> \exists integer k;
      0 <= k < STAGE2_POOL_PAGES && \result == &stage2_pool[k][0];
*/
static u64 *stage2_leaf_table(const struct stage2 *s2, u64 ipa, u32 *level)
{
	u64 *table = plat_phys_to_virt(s2->root);
	/*@ loop invariant 0 <= l <= STAGE2_LEVELS - 1;
	    loop invariant s2_pool_table(table);
	    loop assigns l, table, *level;
	    loop variant STAGE2_LEVELS - 1 - l;
	*/
	for (u32 l = 0; l < STAGE2_LEVELS - 1u; l++) {
		u64 entry = table[stage2_index(ipa, l)];
		if (!arch_stage2_entry_valid(entry))
			return NULL;
		if (!arch_stage2_entry_is_table(entry)) {
			if (l == 0)
				return NULL; /* no level-0 blocks exist */
			*level = l;
			return table;
		}
		table = plat_phys_to_virt(arch_stage2_entry_pa(entry));
	}
	if (!arch_stage2_entry_valid(table[stage2_index(ipa, STAGE2_LEVELS - 1u)]))
		return NULL;
	*level = STAGE2_LEVELS - 1u;
	return table;
}

/**
 * Replace the block entry table[i] of level (1 or 2) by a table of the next level's 512
 * entries with its addresses, rights and memory type (ARM DDI 0487 D8.16.1: a change of
 * block size needs break-before-make; the block is cleared and its VMID flushed before the
 * table entry is stored).
 */
/*@ requires \valid_read(s2) && stage2_pool_used <= STAGE2_POOL_PAGES;
    requires level == 1 || level == 2;
    requires s2_pool_table(table) && i < STAGE2_ENTRIES;
    requires \separated(s2, &stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1]);
    assigns stage2_pool_used,
            stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1];
    ensures stage2_pool_used <= STAGE2_POOL_PAGES;
*/
static bool stage2_split(const struct stage2 *s2, u64 *table, u32 i, u32 level)
{
	const u64 old = table[i];
	const u64 base = arch_stage2_entry_pa(old).pa;
	const u32 rights = arch_stage2_entry_rights(old);
	const bool device = arch_stage2_entry_device(old);
	const u64 step = level == 1u ? STAGE2_BLOCK_SIZE : PAGE_SIZE;
	if (base > UINT64_MAX - STAGE2_HUGE_SIZE)
		return false;
	u64 *t = stage2_table_alloc();
	if (t == NULL)
		return false;
	/*@ loop invariant 0 <= j <= STAGE2_ENTRIES;
	    loop invariant s2_pool_table(t);
	    loop assigns j, t[0 .. STAGE2_ENTRIES - 1];
	    loop variant STAGE2_ENTRIES - j;
	*/
	for (u32 j = 0; j < STAGE2_ENTRIES; j++) {
		paddr_t pa = pa_init(base + (u64)j * step);
		t[j] = level == 1u ? arch_stage2_block_entry(pa, rights, device) :
		                     arch_stage2_page_entry(pa, rights, device);
	}
	table[i] = 0;
	arch_stage2_flush(s2->vmid);
	table[i] = arch_stage2_table_entry(plat_virt_to_phys(t));
	return true;
}

/** The bytes a leaf entry of level (1, 2 or 3) translates. */
/*@ requires 1 <= level <= 3;
    assigns \nothing;
    ensures \result == STAGE2_HUGE_SIZE || \result == STAGE2_BLOCK_SIZE || \result == PAGE_SIZE;
    ensures level == 3 ==> \result == PAGE_SIZE;
*/
static u64 stage2_leaf_span(u32 level)
{
	return level == 1u ? STAGE2_HUGE_SIZE : level == 2u ? STAGE2_BLOCK_SIZE : PAGE_SIZE;
}

enum stage2_step {
	STAGE2_STEP_FAIL,  /**< unmapped, or a split that could not be made */
	STAGE2_STEP_SPLIT, /**< a block was split: look again (no bytes done) */
	STAGE2_STEP_WROTE, /**< the leaf got the rights */
	STAGE2_STEP_SKIP,  /**< the leaf had them already */
};

/**
 * One step of stage2_protect at `at`, with `left` bytes of the range still to do: the leaf
 * translating `at` gets `rights` in the bits of `mask` if it lies wholly inside the range, or
 * is split first if it is a block the range covers only in part. *step is the bytes done.
 */
/*@ requires \valid_read(s2) && \valid(tables) && \valid(step);
    requires stage2_pool_used <= STAGE2_POOL_PAGES;
    requires left > 0;
    requires \separated(s2, &stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1]);
    requires \separated(tables, step, &stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1]);
    assigns *tables, *step, stage2_pool_used,
            stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1];
    ensures stage2_pool_used <= STAGE2_POOL_PAGES;
    ensures \result <= STAGE2_STEP_SKIP;
    ensures *step <= left;
    ensures \result == STAGE2_STEP_SKIP ==> *step > 0;
    ensures \result == STAGE2_STEP_WROTE ==> *step > 0;
*/
static enum stage2_step stage2_protect_at(const struct stage2 *s2, u64 at, u64 left, u32 rights,
                                          u32 mask, u32 *tables, u64 *step)
{
	u32 level = 0;
	*step = 0;
	u64 *table = stage2_leaf_table(s2, at, &level);
	if (table == NULL)
		return STAGE2_STEP_FAIL;
	const u32 i = stage2_index(at, level);
	const u64 span = stage2_leaf_span(level);
	const u64 into = at % span;
	const u64 old = table[i];
	const u32 now = arch_stage2_entry_rights(old);
	const u32 want = (now & ~mask) | (rights & mask);
	if (now == want) {
		/* Already so: on to the end of this leaf (or of the range). */
		u64 rest = span - into;
		if (rest > left)
			rest = left;
		*step = rest;
		return STAGE2_STEP_SKIP;
	}
	if (into != 0 || left < span) {
		/* The range covers part of a block: smaller entries first. */
		if (level == STAGE2_LEVELS - 1u || *tables == 0)
			return STAGE2_STEP_FAIL;
		if (!stage2_split(s2, table, i, level))
			return STAGE2_STEP_FAIL;
		*tables -= 1u;
		return STAGE2_STEP_SPLIT;
	}
	const paddr_t pa = arch_stage2_entry_pa(old);
	const bool device = arch_stage2_entry_device(old);
	/* Rights only: no break-before-make needed (D8.16.1); the caller invalidates. */
	if (level == STAGE2_LEVELS - 1u)
		table[i] = arch_stage2_page_entry(pa, want, device);
	else
		table[i] = arch_stage2_block_entry(pa, want, device);
	*step = span;
	return STAGE2_STEP_WROTE;
}

/**
 * Proved (proofs/README.md): it writes nothing but pool tables; it succeeds only for an
 * aligned range in the IPA space, and reports no more bytes done than asked for.
 */
/*@ requires \valid_read(s2) && \valid(tables) && \valid(done);
    requires stage2_pool_used <= STAGE2_POOL_PAGES;
    requires \separated(s2, &stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1]);
    requires \separated(tables, done, &stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1]);
    assigns *tables, *done, stage2_pool_used,
            stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1];
    ensures stage2_pool_used <= STAGE2_POOL_PAGES;
    ensures *done <= size;
    ensures \result ==> size % PAGE_SIZE == 0 && ipa.ipa % PAGE_SIZE == 0 &&
                        ipa.ipa + size <= (1 << STAGE2_IPA_BITS);
*/
bool stage2_protect(const struct stage2 *s2, ipaddr_t ipa, u64 size, u32 rights, u32 mask,
                    u32 max_changes, u32 *tables, u64 *done)
{
	const u64 limit = UINT64_C(1) << STAGE2_IPA_BITS;
	*done = 0;
	if (!is_page_aligned(ipa.ipa) || !is_page_aligned(size) || ipa.ipa >= limit ||
	    size > limit - ipa.ipa)
		return false;
	u64 off = 0, last = 0, step = 0;
	u32 changes = 0, written = 0;
	bool ok = true;
	/*@ loop invariant 0 <= off <= size;
	    loop invariant 0 <= changes <= max_changes && written <= changes;
	    loop invariant stage2_pool_used <= STAGE2_POOL_PAGES;
	    loop assigns off, last, step, changes, written, ok, *tables, stage2_pool_used,
	      stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1];
	    loop variant (size - off) + (max_changes - changes);
	*/
	while (off < size && changes < max_changes) {
		enum stage2_step r = stage2_protect_at(s2, ipa.ipa + off, size - off, rights, mask,
		                                       tables, &step);
		if (r == STAGE2_STEP_FAIL) {
			ok = false;
			break;
		}
		if (r != STAGE2_STEP_SKIP)
			changes++;
		if (r == STAGE2_STEP_WROTE) {
			written++;
			last = ipa.ipa + off;
		}
		off += step;
	}
	/* (A split flushed the VMID itself.) */
	if (written == 1u)
		arch_stage2_invalidate_ipa(s2->vmid, ipa_init(last));
	else if (written != 0)
		arch_stage2_flush(s2->vmid);
	*done = off;
	return ok;
}

/*@ requires \valid_read(s2) && \valid(tables);
    requires stage2_pool_used <= STAGE2_POOL_PAGES;
    requires \separated(s2, &stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1]);
    requires \separated(tables, &stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1]);
    assigns *tables, stage2_pool_used,
            stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1];
    ensures stage2_pool_used <= STAGE2_POOL_PAGES;
    ensures \result ==> ipa.ipa % PAGE_SIZE == 0 && pa.pa % PAGE_SIZE == 0 &&
                        ipa.ipa < (1 << STAGE2_IPA_BITS);
*/
bool stage2_remap(const struct stage2 *s2, ipaddr_t ipa, paddr_t pa, u32 rights, u32 *tables)
{
	if (!is_page_aligned(ipa.ipa) || !is_page_aligned(pa.pa) ||
	    ipa.ipa >= (UINT64_C(1) << STAGE2_IPA_BITS))
		return false;
	/* Down to the page's level-3 table: the 1 GiB or 2 MiB block over it split first. */
	u32 level = 0;
	u64 *table = stage2_leaf_table(s2, ipa.ipa, &level);
	/*@ loop invariant table == \null || (s2_pool_table(table) && 1 <= level <= 3);
	    loop invariant stage2_pool_used <= STAGE2_POOL_PAGES;
	    loop invariant 0 <= n <= 2;
	    loop assigns n, table, level, *tables, stage2_pool_used,
	      stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1];
	    loop variant 2 - n;
	*/
	for (u32 n = 0; n < 2u && table != NULL && level < STAGE2_LEVELS - 1u; n++) {
		if (*tables == 0 || !stage2_split(s2, table, stage2_index(ipa.ipa, level), level))
			return false;
		*tables -= 1u;
		table = stage2_leaf_table(s2, ipa.ipa, &level);
	}
	if (table == NULL || level != STAGE2_LEVELS - 1u)
		return false;
	const u32 i = stage2_index(ipa.ipa, STAGE2_LEVELS - 1u);
	/* A new output address: break-before-make (D8.16.1). */
	table[i] = 0;
	arch_stage2_invalidate_ipa(s2->vmid, ipa);
	table[i] = arch_stage2_page_entry(pa, rights, false);
	arch_stage2_invalidate_ipa(s2->vmid, ipa);
	return true;
}

/*@ requires \valid_read(s2) && \valid(pa) && \valid(rights);
    requires stage2_pool_used <= STAGE2_POOL_PAGES;
    requires \separated(s2, &stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1]);
    requires \separated(pa, rights);
    requires \separated(pa, &stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1]);
    requires \separated(rights, &stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1]);
    assigns *pa, *rights, stage2_pool_used,
            stage2_pool[0 .. STAGE2_POOL_PAGES - 1][0 .. STAGE2_ENTRIES - 1];
    // The assigns clause is the one of the walk it calls; the walk never writes:
    ensures stage2_pool_used == \old(stage2_pool_used);
    ensures \forall integer i, j; 0 <= i < STAGE2_POOL_PAGES ==>
      0 <= j < STAGE2_ENTRIES ==> stage2_pool[i][j] == \old(stage2_pool[i][j]);
    ensures \result ==> ipa.ipa < (1 << STAGE2_IPA_BITS);
*/
bool stage2_lookup(const struct stage2 *s2, ipaddr_t ipa, paddr_t *pa, u32 *rights)
{
	if (ipa.ipa >= (UINT64_C(1) << STAGE2_IPA_BITS))
		return false;
	u64 *table = stage2_table_at(s2, ipa.ipa, STAGE2_LEVELS - 3u, false);
	if (table == NULL)
		return false;
	u64 entry = table[stage2_index(ipa.ipa, STAGE2_LEVELS - 3u)];
	if (!arch_stage2_entry_valid(entry))
		return false;
	u64 offset_mask = STAGE2_HUGE_SIZE - 1u;
	/* Down a level for each table entry: a 1 GiB block, a 2 MiB block or a page. */
	if (arch_stage2_entry_is_table(entry)) {
		u64 *mid = plat_phys_to_virt(arch_stage2_entry_pa(entry));
		entry = mid[stage2_index(ipa.ipa, STAGE2_LEVELS - 2u)];
		if (!arch_stage2_entry_valid(entry))
			return false;
		offset_mask = STAGE2_BLOCK_SIZE - 1u;
	}
	if (offset_mask == STAGE2_BLOCK_SIZE - 1u && arch_stage2_entry_is_table(entry)) {
		u64 *leaf = plat_phys_to_virt(arch_stage2_entry_pa(entry));
		entry = leaf[stage2_index(ipa.ipa, STAGE2_LEVELS - 1u)];
		if (!arch_stage2_entry_valid(entry))
			return false;
		offset_mask = PAGE_MASK;
	}
	*pa = pa_init(arch_stage2_entry_pa(entry).pa | (ipa.ipa & offset_mask));
	*rights = arch_stage2_entry_rights(entry);
	return true;
}
