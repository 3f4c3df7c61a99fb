/**
 * Guest memory through the guest's own paging (guest_mem.c): what the
 * MMIO emulation needs to fetch a trapped instruction. Plain C over the
 * core's stage-2 lookup, so the host unit tests build it too.
 */
#ifndef X86_GUEST_MEM_H
#define X86_GUEST_MEM_H

#include <kernel/types.h>

struct stage2;

/** The registers that select a guest's paging mode and tables (from its VMCB). */
struct x86_guest_paging {
	u64 cr0, cr3, cr4, efer;
};

/**
 * The guest-physical address of linear address lin: paging off, 32-bit,
 * PAE or 4-level; false if a table is missing, not present or not readable
 * through s2, or the mode is 5-level.
 */
bool x86_guest_translate(const struct stage2 *s2, const struct x86_guest_paging *pg, u64 lin,
                         u64 *gpa);

/**
 * Copies up to max bytes at linear address lin into bytes, stopping at the
 * end of its page; returns how many, 0 if it does not translate to memory
 * the partition may read or execute.
 */
u32 x86_guest_read(const struct stage2 *s2, const struct x86_guest_paging *pg, u64 lin, u8 *bytes,
                   u32 max);

#endif /* X86_GUEST_MEM_H */
