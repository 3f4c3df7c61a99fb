/**
 * Data cache maintenance for images boot copies into partitions.
 *
 * A guest may start with its MMU and data cache off (the arm64 Linux boot
 * protocol, Documentation/arch/arm64/booting.rst): its first loads then go
 * to memory, past the lines EL2 wrote through its cacheable mapping. So each
 * line of a copied image is cleaned to the point of coherency (DC CVAC,
 * DDI 0487 D7.5.9), with the line size from CTR_EL0.DminLine (D19.2.34).
 */
#include <arch/cpu.h>
#include <arm64/sysreg.h>

void arch_clean_to_poc(const void *va, u64 size)
{
	u64 line = UINT64_C(4) << ((read_sysreg(ctr_el0) >> 16) & 0xfu);
	u64 start = (u64)(uintptr_t)va & ~(line - 1u);
	u64 end = (u64)(uintptr_t)va + size;

	for (u64 a = start; a < end; a += line)
		__asm__ volatile("dc cvac, %0" ::"r"(a) : "memory");
	__asm__ volatile("dsb sy" ::: "memory");
}
