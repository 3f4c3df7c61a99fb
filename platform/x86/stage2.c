/**
 * Nested page table (NPT) entries: the AMD64 long-mode 4-level format
 * (AMD APM vol 2 §5.3.3 and §15.25.5). The nested walk treats every access
 * as a user access, so U/S is set at every level; R/W gives write, NX
 * (needs host EFER.NXE, set in boot.S) takes execute away, PCD|PWT makes
 * device pages uncacheable (PAT index 3 with the reset PAT, §7.8).
 *
 * AMD64 entries have no "readable" bit: a present page can be read. So the
 * exact RIGHT_MEM_* set is also kept in software-available bits 52..54,
 * and bit 9 marks an entry the kernel wrote, so that a mapping with no
 * rights (or write without read) reads back as what was asked. Bit 55 is
 * STAGE2_WLOCK: W is then clear whatever the rights say.
 *
 *   63  62..56  55  54..52   51..12   11  10   9   8..5   4    3    2   1   0
 *   NX  0       WL  rights   address  0   0   SW  0     PCD  PWT  U   W   P
 */
#include <arch/stage2.h>
#include <ipc/abi.h>
#include <kernel/types.h>

#include <x86/x86.h>

#define NPT_P (UINT64_C(1) << 0)
#define NPT_W (UINT64_C(1) << 1)
#define NPT_U (UINT64_C(1) << 2)
#define NPT_PWT (UINT64_C(1) << 3)
#define NPT_PCD (UINT64_C(1) << 4)
#define NPT_PS (UINT64_C(1) << 7)
#define NPT_SW_VALID (UINT64_C(1) << 9)
#define NPT_RIGHTS_SHIFT 52u
#define NPT_RIGHTS_MASK (UINT64_C(7) << NPT_RIGHTS_SHIFT)
#define NPT_WLOCK (UINT64_C(1) << 55)
#define NPT_NX (UINT64_C(1) << 63)
#define NPT_ADDR_MASK UINT64_C(0x000ffffffffff000)

#define NPT_RWX (RIGHT_MEM_READ | RIGHT_MEM_WRITE | RIGHT_MEM_EXEC)

u64 arch_stage2_table_entry(paddr_t pa)
{
	return (pa.pa & NPT_ADDR_MASK) | NPT_P | NPT_W | NPT_U | NPT_SW_VALID;
}

u64 arch_stage2_page_entry(paddr_t pa, u32 rights, bool device)
{
	u32 r = rights & NPT_RWX;
	u64 e = (pa.pa & NPT_ADDR_MASK) | NPT_U | NPT_SW_VALID | ((u64)r << NPT_RIGHTS_SHIFT);
	if (r != 0)
		e |= NPT_P;
	if (rights & STAGE2_WLOCK)
		e |= NPT_WLOCK;
	else if (r & RIGHT_MEM_WRITE)
		e |= NPT_W;
	if (!(r & RIGHT_MEM_EXEC))
		e |= NPT_NX;
	if (device)
		e |= NPT_PCD | NPT_PWT;
	return e;
}

/** A 2 MiB page: a page-directory entry with PS set (AMD APM vol 2 5.3.4). */
u64 arch_stage2_block_entry(paddr_t pa, u32 rights, bool device)
{
	return arch_stage2_page_entry(pa, rights, device) | NPT_PS;
}

bool arch_stage2_entry_is_table(u64 entry)
{
	return (entry & NPT_SW_VALID) != 0 && (entry & NPT_PS) == 0;
}

bool arch_stage2_entry_valid(u64 entry)
{
	return (entry & NPT_SW_VALID) != 0;
}

paddr_t arch_stage2_entry_pa(u64 entry)
{
	return pa_init(entry & NPT_ADDR_MASK);
}

u32 arch_stage2_entry_rights(u64 entry)
{
	return (u32)((entry & NPT_RIGHTS_MASK) >> NPT_RIGHTS_SHIFT) |
	       ((entry & NPT_WLOCK) ? STAGE2_WLOCK : 0u);
}

bool arch_stage2_entry_device(u64 entry)
{
	return (entry & (NPT_PCD | NPT_PWT)) == (NPT_PCD | NPT_PWT);
}

/** One ASID for all of a partition's views: a vCPU that changes view flushes it. */
u32 arch_stage2_view_vmid(u32 base, u32 view)
{
	(void)view;
	return base;
}

/**
 * SVM has no invalidation by guest-physical address (INVLPGA takes a virtual one), so one
 * page costs the vmid's flush on each vCPU's next VMRUN, as arch_stage2_flush.
 */
void arch_stage2_invalidate_ipa(u32 vmid, ipaddr_t ipa)
{
	(void)ipa;
	x86_svm_stage2_changed(vmid);
}

/**
 * Table writes are ordinary stores, coherent with the walker on x86; stale
 * translations of the ASID are dropped by TLB_CONTROL = 3 on the next VMRUN
 * of each vCPU of the partition (AMD APM vol 2 §15.16.1): svm.c counts the
 * vmid's generation up, and each vCPU compares it before its next entry,
 * on whichever CPU (the core kicks CPUs whose vCPUs must notice a change).
 */
void arch_stage2_flush(u32 vmid)
{
	x86_svm_stage2_changed(vmid);
}
