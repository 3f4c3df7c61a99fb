/**
 * Freestanding string functions for the kernel and for Debian's prebuilt
 * libfdt.a. memcpy and memset move 8-byte words when both ends allow it:
 * boot zeroes every partition's RAM and copies its image with them, and
 * that is most of the kernel's share of boot time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/** A word that may alias any object, as these functions' accesses do. */
typedef uint64_t __attribute__((may_alias)) word_t;

/** Whether p is aligned for a 64-bit access. */
static int word_aligned(const void *p)
{
	return ((uintptr_t)p & 7u) == 0;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if (word_aligned(d) && word_aligned(s)) {
		for (; n >= 32; n -= 32, d += 32, s += 32) {
			uint64_t a = ((const word_t *)s)[0], b = ((const word_t *)s)[1];
			uint64_t c = ((const word_t *)s)[2], e = ((const word_t *)s)[3];
			((word_t *)d)[0] = a;
			((word_t *)d)[1] = b;
			((word_t *)d)[2] = c;
			((word_t *)d)[3] = e;
		}
	}
	while (n-- != 0)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if ((uintptr_t)d + n <= (uintptr_t)s || (uintptr_t)s + n <= (uintptr_t)d)
		return memcpy(dst, src, n); /* apart (HC_GUEST_COPY's pages): words at a time */
	if (d < s) {
		while (n-- != 0)
			*d++ = *s++;
	} else {
		while (n != 0) {
			n--;
			d[n] = s[n];
		}
	}
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	/*
	 * Bytes up to a word boundary first: the compiler zeroes small structs
	 * (a struct trap on every exit) through here, often from a field that
	 * is not word aligned.
	 */
	while (n != 0 && !word_aligned(d)) {
		*d++ = (unsigned char)c;
		n--;
	}
	uint64_t w = (unsigned char)c * UINT64_C(0x0101010101010101);
	for (; n >= 32; n -= 32, d += 32) {
		((word_t *)d)[0] = w;
		((word_t *)d)[1] = w;
		((word_t *)d)[2] = w;
		((word_t *)d)[3] = w;
	}
	for (; n >= 8; n -= 8, d += 8)
		*(word_t *)d = w;
	while (n-- != 0)
		*d++ = (unsigned char)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (size_t i = 0; i < n; i++) {
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	}
	return 0;
}

void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == (unsigned char)c)
			return (void *)(p + i);
	}
	return NULL;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n] != '\0')
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n] != '\0')
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i] || a[i] == '\0')
			return (unsigned char)a[i] - (unsigned char)b[i];
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (*s == '\0')
			return NULL;
	}
}

char *strrchr(const char *s, int c)
{
	const char *found = NULL;
	for (;; s++) {
		if (*s == (char)c)
			found = s;
		if (*s == '\0')
			return (char *)found;
	}
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

unsigned long strtoul(const char *s, char **end, int base)
{
	unsigned long v = 0;
	while (*s == ' ' || *s == '\t')
		s++;
	if ((base == 0 || base == 16) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		base = 16;
	} else if (base == 0) {
		base = s[0] == '0' ? 8 : 10;
	}
	for (; digit_value(*s) < base; s++)
		v = v * (unsigned long)base + (unsigned long)digit_value(*s);
	if (end != NULL)
		*end = (char *)s;
	return v;
}
