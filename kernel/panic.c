/** Kernel panics: internal invariant failures only (see check.h). */
#include <arch/cpu.h>
#include <kernel/check.h>
#include <kernel/print.h>

_Noreturn void kernel_panic(const char *file, int line, const char *what)
{
	kprintf("[hyp] KERNEL PANIC on cpu %u: %s (%s:%d)\n", arch_cpu_index(), what, file, line);
	arch_halt_all();
}
