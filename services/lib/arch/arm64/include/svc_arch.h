/**
 * The arm64 partition primitives <svc/svc.h> is built on: the hypercall
 * (HVC #0 from a VM at EL1, SVC #0 from a service at EL0; logical r0..r8 in
 * x0..x8 both ways, see ipc/abi.h; a service's SVC may lose x9-x17, the
 * AAPCS64's temporaries, docs/abi.md), the
 * instruction counter for benchmarks and a guaranteed undefined instruction
 * for fault tests.
 */
#ifndef SVC_ARCH_H
#define SVC_ARCH_H

#include <stdint.h>

/** PMCCNTR_EL0 as crt0's very first instruction read it. */
extern uint64_t svc_entry_counter;

/** Non-zero in a service (EL0, enters the kernel with SVC): set by crt0 from x1. */
extern uint32_t svc_el0;

/** One hypercall: r[0..8] go in x0..x8 and come back from them. */
static inline void arch_hypercall(uint64_t r[9])
{
	register uint64_t x0 __asm__("x0") = r[0];
	register uint64_t x1 __asm__("x1") = r[1];
	register uint64_t x2 __asm__("x2") = r[2];
	register uint64_t x3 __asm__("x3") = r[3];
	register uint64_t x4 __asm__("x4") = r[4];
	register uint64_t x5 __asm__("x5") = r[5];
	register uint64_t x6 __asm__("x6") = r[6];
	register uint64_t x7 __asm__("x7") = r[7];
	register uint64_t x8 __asm__("x8") = r[8];

	__asm__ volatile("cbz %w9, 1f\n\t"
	                 "svc #0\n\t"
	                 "b 2f\n"
	                 "1:\thvc #0\n"
	                 "2:"
	                 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x5), "+r"(x6),
	                   "+r"(x7), "+r"(x8)
	                 : "r"(svc_el0)
	                 : "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17", "memory");
	r[0] = x0;
	r[1] = x1;
	r[2] = x2;
	r[3] = x3;
	r[4] = x4;
	r[5] = x5;
	r[6] = x6;
	r[7] = x7;
	r[8] = x8;
}

/**
 * arch_hypercall for code that only ever runs as a service partition (at EL0): SVC #0 alone,
 * without arch_hypercall's test of svc_el0 (an emulator's hot loop; the manifest check lets
 * only services emulate).
 */
static inline void arch_hypercall_service(uint64_t r[9])
{
	register uint64_t x0 __asm__("x0") = r[0];
	register uint64_t x1 __asm__("x1") = r[1];
	register uint64_t x2 __asm__("x2") = r[2];
	register uint64_t x3 __asm__("x3") = r[3];
	register uint64_t x4 __asm__("x4") = r[4];
	register uint64_t x5 __asm__("x5") = r[5];
	register uint64_t x6 __asm__("x6") = r[6];
	register uint64_t x7 __asm__("x7") = r[7];
	register uint64_t x8 __asm__("x8") = r[8];

	__asm__ volatile("svc #0"
	                 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x5), "+r"(x6),
	                   "+r"(x7), "+r"(x8)
	                 :
	                 : "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17", "memory");
	r[0] = x0;
	r[1] = x1;
	r[2] = x2;
	r[3] = x3;
	r[4] = x4;
	r[5] = x5;
	r[6] = x6;
	r[7] = x7;
	r[8] = x8;
}

/**
 * The PMU cycle counter. Under QEMU -icount shift=0 it advances by one per
 * executed instruction (the kernel enables it, counting EL2 as well, and
 * answers the trapped read with it).
 */
static inline uint64_t arch_insn_counter(void)
{
	uint64_t v;
	__asm__ volatile("isb\n\tmrs %0, pmccntr_el0" : "=r"(v));
	return v;
}

/** UDF #0: permanently undefined (DDI 0487 C6.2.365). */
static inline void arch_undefined_instruction(void)
{
	__asm__ volatile("udf #0" ::: "memory");
}

#endif /* SVC_ARCH_H */
