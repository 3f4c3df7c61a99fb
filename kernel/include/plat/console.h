/** Platform seam: the kernel's console (PL011 on arm64, 16550 on x86). */
#ifndef PLAT_CONSOLE_H
#define PLAT_CONSOLE_H

#include <kernel/types.h>

/**
 * Write one byte to the console, blocking until the UART takes it. Only for
 * output that must not wait on anything else (a panic report); the kernel
 * console (kernel/console.c) uses plat_console_try_putc.
 */
void plat_console_putc(char c);

/**
 * Write one byte if the UART's transmitter has room now, else write nothing
 * and return false. Never waits. The byte is sent as is (no CR is added).
 */
bool plat_console_try_putc(char c);

/**
 * Read one byte the UART has received, if any; never waits. A platform without
 * console input leaves it to the kernel's default, which has none.
 */
bool plat_console_try_getc(char *c);

#endif /* PLAT_CONSOLE_H */
