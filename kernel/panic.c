/** Kernel panics: internal invariant failures only (see check.h). */
#include <arch/cpu.h>
#include <kernel/check.h>
#include <kernel/console.h>
#include <kernel/print.h>

_Noreturn void kernel_panic(const char *file, int line, const char *what)
{
	char buf[256];
	ksnprintf(buf, sizeof(buf), "[hyp] KERNEL PANIC on cpu %u: %s (%s:%d)\n", arch_cpu_index(),
	          what, file, line);
	/* Synchronously: the buffered output first, then the report (no drain will come). */
	console_panic_write(buf);
	arch_halt_all();
}
