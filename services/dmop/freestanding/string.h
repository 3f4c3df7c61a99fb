/**
 * The core includes <string.h> for memcpy and memset; a partition has no C
 * library, so this declares the runtime's (services/lib/string.c). Only the
 * partition build sees this folder; the host build uses the C library's.
 */
#ifndef DMOP_FREESTANDING_STRING_H
#define DMOP_FREESTANDING_STRING_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);

#endif /* DMOP_FREESTANDING_STRING_H */
