/**
 * An exception taken from EL2 itself is a kernel bug (guests' exceptions
 * come through the lower-EL vectors). Report it on the console, with no
 * lock (the fault may have happened while the console lock was held), and
 * power the machine off so that the test runner sees the report at once
 * instead of waiting for a timeout.
 */
#include <arch/cpu.h>
#include <arm64/cpu.h>
#include <arm64/sysreg.h>
#include <kernel/console.h>
#include <kernel/print.h>
#include <plat/console.h>

static u32 panic_entered;

/** Format one line and write it straight to the UART. */
static void __attribute__((format(printf, 1, 2))) panic_line(const char *fmt, ...)
{
	char buf[160];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (const char *p = buf; *p != 0; p++)
		plat_console_putc(*p);
}

/** This CPU's index if TPIDR_EL2 is set up yet, else -1. */
static int panic_cpu(void)
{
	struct arm64_cpu *cpu = arm64_this_cpu();

	if (cpu >= &arm64_cpus[0] && cpu < &arm64_cpus[ARM64_CPU_MAX])
		return (int)cpu->index;
	return -1;
}

_Noreturn void arm64_kernel_fault(struct arm64_frame *f, u64 vector)
{
	static const char *const kinds[4] = { "synchronous", "irq", "fiq", "serror" };

	if (__atomic_exchange_n(&panic_entered, 1u, __ATOMIC_ACQ_REL) != 0)
		arch_halt_all(); /* a second fault, or another CPU: the first report wins */
	console_panic_write(""); /* what the kernel buffered before, so it is not lost */
	panic_line("[hyp] KERNEL PANIC: %s exception at EL2 on cpu %d (mpidr 0x%lx)\n",
	           kinds[vector & 3u], panic_cpu(), read_sysreg(mpidr_el1));
	panic_line("[hyp] ESR 0x%lx (EC 0x%lx) ELR 0x%lx FAR 0x%lx\n", f->esr,
	           (f->esr >> ESR_EC_SHIFT) & ESR_EC_MASK, f->elr, f->far);
	panic_line("[hyp] SPSR 0x%lx SP 0x%lx\n", f->spsr, f->sp);
	for (u32 i = 0; i < 31u; i += 4u) {
		if (i + 3u < 31u)
			panic_line("[hyp] x%u 0x%016lx x%u 0x%016lx x%u 0x%016lx x%u 0x%016lx\n", i,
			           f->x[i], i + 1u, f->x[i + 1u], i + 2u, f->x[i + 2u], i + 3u,
			           f->x[i + 3u]);
		else
			panic_line("[hyp] x%u 0x%016lx x%u 0x%016lx x%u 0x%016lx\n", i, f->x[i],
			           i + 1u, f->x[i + 1u], i + 2u, f->x[i + 2u]);
	}
	panic_line("[hyp] stopping all CPUs\n");
	arch_halt_all();
}
