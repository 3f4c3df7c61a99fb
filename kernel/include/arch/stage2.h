/**
 * Platform seam: descriptor encodings for the stage-2 (arm64) / nested
 * (x86 NPT) tables. kernel/stage2.c owns the walk: 4 levels of 512 entries,
 * 4 KiB granule, 48-bit guest-physical space, page entries at level 3 and
 * 2 MiB block entries at level 2.
 * The platform says only how an entry is encoded and how the tables are
 * made live.
 */
#ifndef ARCH_STAGE2_H
#define ARCH_STAGE2_H

#include <kernel/types.h>

/**
 * A leaf's rights are RIGHT_MEM_READ/WRITE/EXEC and STAGE2_WLOCK: the write right held back
 * (a device model's memory type or dirty log, kernel/dm.c). A locked entry keeps its write
 * right in software bits but does not grant it; arch_stage2_entry_rights gives back exactly
 * the set the entry was made with.
 */
#define STAGE2_WLOCK (1u << 8)

/** Entry pointing at the next-level table at pa. */
u64 arch_stage2_table_entry(paddr_t pa);

/**
 * Level-3 entry mapping the page at pa with RIGHT_MEM_READ/WRITE/EXEC
 * rights, as normal memory or device memory.
 */
u64 arch_stage2_page_entry(paddr_t pa, u32 rights, bool device);

/**
 * Level-2 block entry mapping the 2 MiB at pa (2 MiB aligned) with the
 * same rights and memory type as a page entry would.
 */
u64 arch_stage2_block_entry(paddr_t pa, u32 rights, bool device);

/** Whether a valid level-0..2 entry points at a next-level table (not a block). */
bool arch_stage2_entry_is_table(u64 entry);

/** Whether an entry (at any level) is valid. */
bool arch_stage2_entry_valid(u64 entry);

/** The physical address an entry points to (table or page). */
paddr_t arch_stage2_entry_pa(u64 entry);

/** The rights (RIGHT_MEM_* and STAGE2_WLOCK) a valid leaf entry was made with. */
u32 arch_stage2_entry_rights(u64 entry);

/** Whether a valid leaf entry (page or block) maps device memory. */
bool arch_stage2_entry_device(u64 entry);

/** Make table writes visible to the walker and drop stale TLB entries of vmid. */
void arch_stage2_flush(u32 vmid);

/**
 * Make a changed leaf entry visible to the walker and drop every TLB entry of vmid that may
 * hold the old translation of the 4 KiB page at ipa (arm64: TLBI IPAS2E1IS, then the
 * VMID's stage-1 entries, which are not tagged by IPA; x86: the vmid's flush).
 */
void arch_stage2_invalidate_ipa(u32 vmid, ipaddr_t ipa);

/**
 * The TLB tag of view `view` (1 .. IPC_VMI_VIEWS - 1) of the partition tagged base: arm64
 * gives each view its own VMID; x86 keeps the partition's ASID for all its views and flushes
 * it when a vCPU changes view (arch_vcpu_set_stage2).
 */
u32 arch_stage2_view_vmid(u32 base, u32 view);

#endif /* ARCH_STAGE2_H */
