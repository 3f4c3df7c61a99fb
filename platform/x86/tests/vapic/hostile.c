/**
 * x86-vapic-hostile: accesses to the local APIC page that the model or the
 * decoder refuses. Each variant (built with one HOSTILE_* macro) is its own
 * VM; the kernel must stop that VM alone, as for any bad access, and the
 * other partitions keep running. HOSTILE_RESERVED is the legal case: a
 * reserved register reads 0 and sets ESR's illegal-register bit.
 */
#include "guest.h"

#define APIC_RESERVED 0x040u
#define ESR_ILLEGAL_REGISTER (1u << 7)

/** Nothing here enables interrupts; a spurious one is simply acknowledged. */
void guest_interrupt(uint8_t vector)
{
	(void)vector;
	apic_write(APIC_EOI, 0);
}

int svc_main(uint64_t arg)
{
	(void)arg;
	volatile uint8_t *apic = (volatile uint8_t *)(uintptr_t)APIC_BASE;
	(void)apic;
#if defined(HOSTILE_BYTE)
	(void)apic[APIC_ID]; /* 8-bit read */
#elif defined(HOSTILE_UNALIGNED)
	(void)*(volatile uint32_t *)(apic + APIC_ID + 2); /* 32-bit read at 0x022 */
#elif defined(HOSTILE_WIDE)
	(void)*(volatile uint64_t *)(apic + APIC_ID); /* 64-bit read */
#elif defined(HOSTILE_INSN)
	/* A read-modify-write: not one of the MOV forms the decoder takes. */
	__asm__ volatile("lock orl $0, (%0)" : : "r"(apic + APIC_TPR) : "memory");
#elif defined(HOSTILE_FETCH)
	((void (*)(void))(uintptr_t)APIC_BASE)(); /* execute the APIC page */
#elif defined(HOSTILE_RESERVED)
	tap_plan(3);
	guest_setup();
	apic_write(APIC_ESR, 0);
	tap_is(apic_read(APIC_RESERVED), 0, "a reserved register reads 0");
	apic_write(APIC_RESERVED, 0x12345678);
	apic_write(APIC_ESR, 0);
	tap_is(apic_read(APIC_ESR) & ESR_ILLEGAL_REGISTER, ESR_ILLEGAL_REGISTER,
	       "and sets ESR's illegal-register bit");
	apic_write(APIC_ESR, 0);
	tap_is(apic_read(APIC_ESR), 0, "ESR clears on the next write");
	tap_done();
#endif
	return 1; /* not reached by the faulting variants */
}
