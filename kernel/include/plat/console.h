/** Platform seam: the kernel's console (PL011 on arm64, 16550 on x86). */
#ifndef PLAT_CONSOLE_H
#define PLAT_CONSOLE_H

/** Write one byte to the console, blocking until the UART takes it. */
void plat_console_putc(char c);

#endif /* PLAT_CONSOLE_H */
