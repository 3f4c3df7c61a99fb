/**
 * Linked only into the CHECK-test kernel (tests/meson.build): replaces the
 * weak arm64_boot_hook() with a failing CHECK, so the core's kernel_panic()
 * reports it and arch_halt_all() must stop the machine.
 */
#include <arm64/cpu.h>
#include <kernel/check.h>

void arm64_boot_hook(void)
{
	CHECK(arm64_this_cpu()->index == 12345u);
}
