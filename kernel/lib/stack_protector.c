/**
 * Stack-protector support for Debian's prebuilt libfdt.a, which is compiled
 * with -fstack-protector-strong. On arm64 the canary is this global; on
 * x86_64 it is read from %fs:0x28, which platform/x86 sets up.
 */
#include <kernel/check.h>
#include <stdint.h>

uintptr_t __stack_chk_guard = (uintptr_t)0x5e9a7d3c1b2f4e61ull;

_Noreturn void __stack_chk_fail(void);

_Noreturn void __stack_chk_fail(void)
{
	kernel_panic(__FILE__, __LINE__, "stack smashing detected");
}
