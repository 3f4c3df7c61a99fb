/** Cache maintenance seam (arch/cpu.h): x86 caches are coherent with every access. */
#include <arch/cpu.h>

void arch_clean_to_poc(const void *va, u64 size)
{
	(void)va;
	(void)size;
}
