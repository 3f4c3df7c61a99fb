/**
 * Stage-2 (arm64) / nested (x86 NPT) translation of one partition.
 *
 *   root (level 0) -> level 1 -> level 2 -> level 3 -> 4 KiB page
 *   512 entries each, IPA bits [47:39] [38:30] [29:21] [20:12]
 *
 * Tables come from a fixed pool in the kernel image; nothing is allocated
 * after boot. Only kernel/boot.c maps, and only after region_mapping_allowed
 * (region.h) said yes. The walk's contracts are in kernel/stage2.c and are
 * proved with Frama-C/WP by proofs/run; proofs/README.md says exactly what
 * they cover.
 */
#ifndef KERNEL_STAGE2_H
#define KERNEL_STAGE2_H

#include <ipc/abi.h>
#include <kernel/types.h>

#define STAGE2_POOL_PAGES 512u
#define STAGE2_IPA_BITS 48u

struct stage2 {
	paddr_t root; /**< level-0 table */
	u32 vmid;     /**< TLB tag: VMID (arm64) / ASID (x86) */
};

/** Take a fresh, zeroed root table; false if the pool is exhausted. */
bool stage2_init(struct stage2 *s2, u32 vmid);

/**
 * Map [ipa, ipa+size) to [pa, pa+size) with rights. Both addresses and size
 * must be page aligned and the IPA range below 2^STAGE2_IPA_BITS; false if a
 * page is already mapped or the pool runs out.
 */
bool stage2_map(struct stage2 *s2, ipaddr_t ipa, paddr_t pa, u64 size, u32 rights, bool device);

/** Look an IPA up: the physical page and rights, or false if unmapped. */
bool stage2_lookup(const struct stage2 *s2, ipaddr_t ipa, paddr_t *pa, u32 *rights);

/**
 * Give the mapped pages of [ipa, ipa + size) the rights (old & ~mask) | (rights & mask) at run
 * time, keeping their addresses and memory type: introspection (kernel/vmi.c) sets the
 * read, write and execute bits, device-model mediation (kernel/dm.c) the STAGE2_WLOCK bit. A 1 GiB or 2 MiB block wholly
 * inside the range is rewritten as it is; one the range covers only in part is split first
 * (break-before-make: cleared, its VMID flushed, then the table of smaller entries stored),
 * each split taking one table of the pool and one of *tables. At most max_changes entries
 * are written or split; *done tells how many bytes from ipa are done. False, with *done
 * set, at an unmapped page, when *tables or the pool runs out, or for arguments that are
 * unaligned or out of range.
 */
bool stage2_protect(const struct stage2 *s2, ipaddr_t ipa, u64 size, u32 rights, u32 mask,
                    u32 max_changes, u32 *tables, u64 *done);

/**
 * Map the page at ipa, mapped now, to the normal-memory page pa with rights instead
 * (change_gfn), splitting blocks as stage2_protect does. Break-before-make: the old entry is
 * cleared and the IPA invalidated before the new one is stored.
 */
bool stage2_remap(const struct stage2 *s2, ipaddr_t ipa, paddr_t pa, u32 rights, u32 *tables);

/** Pages left in the table pool (for the boot report and tests). */
u32 stage2_pool_free(void);

#endif /* KERNEL_STAGE2_H */
