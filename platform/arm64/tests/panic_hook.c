/**
 * Linked only into the panic-test kernel (tests/meson.build): replaces the
 * weak arm64_boot_hook() with a load from 1 TiB, outside the EL2 identity
 * map (mmu.c maps the first 512 GiB), so the CPU takes a data abort at EL2
 * and the kernel-fault path must report it and power off.
 */
#include <arm64/cpu.h>

void arm64_boot_hook(void)
{
	u64 v = *(volatile u64 *)(uintptr_t)UINT64_C(0x10000000000);
	(void)v;
}
