/** The one stdlib function libfdt.a uses. */
#ifndef KLIB_STDLIB_H
#define KLIB_STDLIB_H

unsigned long strtoul(const char *s, char **end, int base);

#endif /* KLIB_STDLIB_H */
