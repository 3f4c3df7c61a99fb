/**
 * Support for the x86 local-APIC test guests (C partitions of type "vm",
 * built on the partition runtime, 64-bit after crt0): the xAPIC registers,
 * CPUID, MSRs and the TSC, and an IDT whose every vector calls
 * guest_interrupt() (each test defines it; vector 2 is an NMI). Exceptions
 * end the partition with exit code 100 + vector.
 */
#ifndef VAPIC_GUEST_H
#define VAPIC_GUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <svc/svc.h>

#define APIC_BASE 0xfee00000u
#define APIC_ID 0x020u
#define APIC_VERSION 0x030u
#define APIC_TPR 0x080u
#define APIC_PPR 0x0a0u
#define APIC_EOI 0x0b0u
#define APIC_SVR 0x0f0u
#define APIC_ISR 0x100u
#define APIC_IRR 0x200u
#define APIC_ESR 0x280u
#define APIC_ICR_LO 0x300u
#define APIC_ICR_HI 0x310u
#define APIC_LVT_TIMER 0x320u
#define APIC_TIMER_ICR 0x380u
#define APIC_TIMER_CCR 0x390u
#define APIC_TIMER_DCR 0x3e0u

#define LVT_MASKED (1u << 16)
#define LVT_PERIODIC (1u << 17)
#define LVT_TSC_DEADLINE (2u << 17)
#define ICR_NMI (4u << 8)
#define ICR_INIT (5u << 8)
#define ICR_SIPI (6u << 8)
#define ICR_ASSERT (1u << 14)
#define ICR_OTHERS (3u << 18)
#define ICR_SELF (1u << 18)
#define MSR_TSC_DEADLINE 0x6e0u

static inline uint32_t apic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(uintptr_t)(APIC_BASE + reg);
}

static inline void apic_write(uint32_t reg, uint32_t value)
{
	*(volatile uint32_t *)(uintptr_t)(APIC_BASE + reg) = value;
}

/** Sends vector (with the other ICR low bits in `flags`) to APIC ID dest. */
static inline void apic_ipi(uint8_t dest, uint32_t flags)
{
	apic_write(APIC_ICR_HI, (uint32_t)dest << 24);
	apic_write(APIC_ICR_LO, flags);
}

static inline bool apic_irr(uint8_t vector)
{
	return (apic_read(APIC_IRR + (vector / 32u) * 0x10u) >> (vector % 32u)) & 1u;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr"
	                 :
	                 : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
	                 : "memory");
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
	return ((uint64_t)hi << 32) | lo;
}

struct guest_cpuid {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct guest_cpuid guest_cpuid(uint32_t leaf)
{
	struct guest_cpuid r;
	__asm__ volatile("cpuid"
	                 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
	                 : "a"(leaf), "c"(0));
	return r;
}

static inline void irq_enable(void)
{
	__asm__ volatile("sti" : : : "memory");
}

static inline void irq_disable(void)
{
	__asm__ volatile("cli" : : : "memory");
}

/**
 * Called with IF = 0 after the caller found nothing to do: STI; HLT (the
 * STI shadow covers HLT, so an interrupt cannot slip in between the check
 * and the halt), then CLI again once an interrupt was handled.
 */
static inline void wait_for_interrupt(void)
{
	__asm__ volatile("sti; hlt; cli" : : : "memory");
}

/** With IF = 0: lets pending interrupts in for one instruction (STI's shadow covers the NOP). */
static inline void interrupt_window(void)
{
	__asm__ volatile("sti; nop; cli" : : : "memory");
}

/** Loads the shared IDT on this vCPU and enables its APIC (spurious vector 0xff). */
void guest_setup(void);

/** Points IDT vector `vector` at stub (an assembly routine that ends in IRETQ). */
void guest_set_gate(uint8_t vector, void (*stub)(void));

/** TSC ticks per millisecond (the hypervisor's CPUID leaf 0x40000010). */
uint64_t guest_tsc_per_ms(void);

/** Each test's interrupt handler (NMI = 2, vectors 32-255), called with IF = 0. */
void guest_interrupt(uint8_t vector);

#endif /* VAPIC_GUEST_H */
