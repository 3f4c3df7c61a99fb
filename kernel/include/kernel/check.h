/**
 * The two assertion tiers (see docs/architecture.md):
 *
 * - CHECK(cond): always compiled in. For internal kernel invariants only;
 *   failing one is a kernel bug and halts every CPU with a report. It must
 *   never test anything a partition controls: hypercall arguments, guest
 *   memory and guest registers are validated by decode functions that
 *   return a status instead.
 * - Decode failures are not assertions at all: they return an enum status.
 */
#ifndef KERNEL_CHECK_H
#define KERNEL_CHECK_H

_Noreturn void kernel_panic(const char *file, int line, const char *what);

#define CHECK(cond)                                              \
	do {                                                     \
		if (!(cond))                                     \
			kernel_panic(__FILE__, __LINE__, #cond); \
	} while (0)

#endif /* KERNEL_CHECK_H */
