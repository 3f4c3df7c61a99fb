/**
 * The EL2 stage-1 identity map. The kernel runs with its MMU on so that RAM
 * is Normal write-back memory: unaligned accesses (libfdt, string copies)
 * and exclusive loads/stores (the kernel lock) need it, and Device memory,
 * which is what every access is with the MMU off, allows neither
 * (DDI 0487 B2.5.2, B2.9).
 *
 *   level 0 (512 GiB per entry)  entry 0 -> level 1 table, others invalid
 *   level 1 (1 GiB blocks)       [0, 1 GiB)     Device-nGnRE, execute-never
 *                                [1, 256 GiB)   Normal WB, inner shareable
 *                                [256, 512 GiB) Device-nGnRE, execute-never
 *
 * This is QEMU virt's layout (hw/arm/virt.c): MMIO below 1 GiB, RAM from
 * 1 GiB, the high GIC redistributor and PCIe windows from 256 GiB. setup.c
 * checks that every RAM range of the firmware DTB falls in the Normal part.
 *
 * arm64_mmu_build runs before the MMU is on and before BSS is cleared, so
 * the tables live in their own section and every entry is written here.
 */
#include <arm64/cpu.h>

/* VMSAv8-64 block/table descriptor bits, DDI 0487 D8.3. */
#define PTE_TABLE UINT64_C(3)
#define PTE_BLOCK UINT64_C(1)
#define PTE_ATTR(i) ((u64)(i) << 2) /**< MAIR_EL2 index (head.S) */
#define PTE_SH_INNER (UINT64_C(3) << 8)
#define PTE_AF (UINT64_C(1) << 10)
#define PTE_XN (UINT64_C(1) << 54)
#define ATTR_DEVICE 0u
#define ATTR_NORMAL 1u

#define GIB (UINT64_C(1) << 30)
#define NORMAL_FIRST 1u   /**< first 1 GiB block that is RAM */
#define NORMAL_LIMIT 256u /**< first 1 GiB block past RAM */

u64 arm64_pt_l0[512] __attribute__((aligned(4096), section(".pgtable")));
u64 arm64_pt_l1[512] __attribute__((aligned(4096), section(".pgtable")));

/**
 * Write both tables. Runs with the MMU off: plain aligned stores only, and
 * no loop turned into a memset call (memset may use unaligned stores).
 */
__attribute__((optimize("no-tree-loop-distribute-patterns"))) void arm64_mmu_build(void)
{
	for (u32 i = 0; i < 512u; i++) {
		u64 base = (u64)i * GIB;
		bool normal = i >= NORMAL_FIRST && i < NORMAL_LIMIT;
		arm64_pt_l1[i] = base | PTE_BLOCK | PTE_AF |
		                 (normal ? PTE_ATTR(ATTR_NORMAL) | PTE_SH_INNER :
		                           PTE_ATTR(ATTR_DEVICE) | PTE_XN);
		arm64_pt_l0[i] = 0;
	}
	arm64_pt_l0[0] = (u64)(uintptr_t)arm64_pt_l1 | PTE_TABLE;
	__asm__ volatile("dsb sy" ::: "memory");
}

/** Whether [base, base+size) is mapped as Normal memory by the table above. */
bool arm64_mmu_is_normal(u64 base, u64 size)
{
	return base >= NORMAL_FIRST * GIB && size <= NORMAL_LIMIT * GIB - base;
}
