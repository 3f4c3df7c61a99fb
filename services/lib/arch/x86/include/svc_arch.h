/**
 * The x86_64 partition primitives under <svc/svc.h>: the hypercall
 * instruction, an instruction counter and a guaranteed-undefined
 * instruction. Partitions run in long mode at CPL 0 inside an SVM guest,
 * switched there by crt0.S.
 */
#ifndef SVC_ARCH_H
#define SVC_ARCH_H

#include <stdint.h>

/**
 * The counter value crt0 read with its very first instruction, so a
 * benchmark can report instructions from reset to the partition's start.
 */
extern uint64_t svc_entry_counter;

/**
 * VMMCALL with the ABI's register mapping (ipc/abi.h): r0..r8 in rax rdi rsi
 * rdx r8 r9 r10 r11 r12, in and out. The kernel preserves every other
 * register.
 */
static inline void arch_hypercall(uint64_t r[9])
{
	register uint64_t r0 __asm__("rax") = r[0];
	register uint64_t r1 __asm__("rdi") = r[1];
	register uint64_t r2 __asm__("rsi") = r[2];
	register uint64_t r3 __asm__("rdx") = r[3];
	register uint64_t r4 __asm__("r8") = r[4];
	register uint64_t r5 __asm__("r9") = r[5];
	register uint64_t r6 __asm__("r10") = r[6];
	register uint64_t r7 __asm__("r11") = r[7];
	register uint64_t r8 __asm__("r12") = r[8];
	__asm__ volatile("vmmcall"
	                 : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3), "+r"(r4), "+r"(r5), "+r"(r6),
	                   "+r"(r7), "+r"(r8)
	                 :
	                 : "memory");
	r[0] = r0;
	r[1] = r1;
	r[2] = r2;
	r[3] = r3;
	r[4] = r4;
	r[5] = r5;
	r[6] = r6;
	r[7] = r7;
	r[8] = r8;
}

/** arch_hypercall for code that only runs as a service: the same VMMCALL (arm64 differs). */
static inline void arch_hypercall_service(uint64_t r[9])
{
	arch_hypercall(r);
}

/**
 * RDTSC. Under QEMU TCG with -icount shift=0,sleep=off the TSC is QEMU's
 * virtual clock, which then advances by exactly one per executed
 * instruction (host and guest alike, the VMCB's TSC offset being 0): the
 * difference of two reads counts the instructions between them. Without
 * -icount it is a time stamp, not a count (docs/platform-x86.md).
 */
static inline uint64_t arch_insn_counter(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

/** UD2: always #UD, which the kernel turns into a guest exception report. */
static inline void arch_undefined_instruction(void)
{
	__asm__ volatile("ud2" : : : "memory");
}

#endif /* SVC_ARCH_H */
