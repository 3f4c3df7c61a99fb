/** The few libc functions partitions (and the compiler) need. */
#include <stdint.h>
#include <svc/svc.h>

/** A word that may alias anything (the copies below move bytes of any type). */
typedef uint64_t __attribute__((may_alias)) svc_word;

/* Word at a time when both ends are 8-byte aligned (services copy state structs whole). */
void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if ((((uintptr_t)d | (uintptr_t)s) & 7u) == 0) {
		for (; n >= 8u; n -= 8u, d += 8, s += 8)
			*(svc_word *)(void *)d = *(const svc_word *)(const void *)s;
	}
	while (n-- != 0)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	if (((uintptr_t)d & 7u) == 0) {
		uint64_t w = (unsigned char)c * UINT64_C(0x0101010101010101);
		for (; n >= 8u; n -= 8u, d += 8)
			*(svc_word *)(void *)d = w;
	}
	while (n-- != 0)
		*d++ = (unsigned char)c;
	return dst;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n] != '\0')
		n++;
	return n;
}
