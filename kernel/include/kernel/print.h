/**
 * Kernel console output. kprintf supports %s %c %d %u %x %lx %llx %lu %llu
 * %ld %lld %p and %%, with an optional zero-pad width (%016llx). Output goes
 * into the console buffer under the console lock (see console.h), so lines
 * from different CPUs do not interleave; it is never dropped.
 */
#ifndef KERNEL_PRINT_H
#define KERNEL_PRINT_H

#include <stdarg.h>
#include <kernel/types.h>

void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);

/** Format into buf (always NUL-terminated); returns the length written. */
size_t ksnprintf(char *buf, size_t size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
size_t kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif /* KERNEL_PRINT_H */
