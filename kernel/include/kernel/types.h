/**
 * Basic kernel types. Addresses are one-member structs so that a guest
 * (intermediate physical) address can never be used as a host physical
 * address, or a kernel virtual one, by mistake.
 */
#ifndef KERNEL_TYPES_H
#define KERNEL_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t u64;
typedef uint32_t u32;
typedef uint16_t u16;
typedef uint8_t u8;

/** Host physical address. */
typedef struct {
	u64 pa;
} paddr_t;
/** Guest physical address (stage-2 input: IPA on arm64, GPA on x86). */
typedef struct {
	u64 ipa;
} ipaddr_t;
/** Kernel virtual address. */
typedef struct {
	uintptr_t va;
} vaddr_t;

static inline paddr_t pa_init(u64 v)
{
	return (paddr_t){ v };
}
static inline ipaddr_t ipa_init(u64 v)
{
	return (ipaddr_t){ v };
}

#define PAGE_SHIFT 12u
#define PAGE_SIZE (UINT64_C(1) << PAGE_SHIFT)
#define PAGE_MASK (PAGE_SIZE - 1u)

static inline bool is_page_aligned(u64 v)
{
	return (v & PAGE_MASK) == 0;
}

#define ARRAY_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/**
 * For cold paths next to hot ones: keeps their stack buffers and saved
 * registers out of the hot function's frame (the hypercall entry pays for
 * every byte of it on every call).
 */
#define COLD __attribute__((noinline, cold))

#endif /* KERNEL_TYPES_H */
