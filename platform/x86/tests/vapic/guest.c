/** The IDT of the local-APIC test guests (see guest.h). */
#include "guest.h"

/** An interrupt gate: 64-bit, present, DPL 0, type 0xE (IF cleared on entry). */
struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint16_t flags;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
};

static struct idt_gate idt[256] __attribute__((aligned(16)));
extern const uint8_t guest_stubs[]; /* 256 stubs, 16 bytes apart */

/*
 * Stub n pushes a zero in place of an error code where the CPU pushes none
 * (vectors 8, 10-14, 17, 21 and 29-30 push one), then n, and jumps to the
 * common part, which saves the registers the C calling convention does not
 * preserve and calls guest_entry(vector).
 */
__asm__(".pushsection .text\n"
        ".balign 16\n"
        ".globl guest_stubs\n"
        "guest_stubs:\n"
        ".set n, 0\n"
        ".rept 256\n"
        ".balign 16\n"
        ".if n == 8 || (n >= 10 && n <= 14) || n == 17 || n == 21 || n == 29 || n == 30\n"
        "nop; nop\n"
        ".else\n"
        "push $0\n"
        ".endif\n"
        "push $n\n"
        "jmp guest_common\n"
        ".set n, n + 1\n"
        ".endr\n"
        "guest_common:\n"
        "push %rax; push %rcx; push %rdx; push %rsi; push %rdi\n"
        "push %r8; push %r9; push %r10; push %r11\n"
        "mov 72(%rsp), %rdi\n"
        "call guest_entry\n"
        "pop %r11; pop %r10; pop %r9; pop %r8\n"
        "pop %rdi; pop %rsi; pop %rdx; pop %rcx; pop %rax\n"
        "add $16, %rsp\n"
        "iretq\n"
        ".popsection\n");

void guest_entry(uint64_t vector);

void guest_entry(uint64_t vector)
{
	if (vector < 32 && vector != 2)
		svc_exit(100 + vector); /* an exception: this guest is broken */
	guest_interrupt((uint8_t)vector);
}

static void gate(unsigned vector, uint64_t a)
{
	idt[vector] = (struct idt_gate){
		.offset_lo = (uint16_t)a,
		.selector = 0x08,
		.flags = 0x8e00,
		.offset_mid = (uint16_t)(a >> 16),
		.offset_hi = (uint32_t)(a >> 32),
	};
}

void guest_set_gate(uint8_t vector, void (*stub)(void))
{
	gate(vector, (uint64_t)(uintptr_t)stub);
}

void guest_setup(void)
{
	if (idt[0].flags == 0) {
		for (unsigned i = 0; i < 256; i++)
			gate(i, (uint64_t)(uintptr_t)&guest_stubs[i * 16u]);
	}
	/* The 10-byte IDTR image: limit, then the 64-bit base. */
	uint64_t base = (uint64_t)(uintptr_t)idt;
	uint16_t ptr[5] = { sizeof(idt) - 1u, (uint16_t)base, (uint16_t)(base >> 16),
		            (uint16_t)(base >> 32), (uint16_t)(base >> 48) };
	__asm__ volatile("lidt %0" : : "m"(ptr) : "memory");
	apic_write(APIC_SVR, 0x100u | 0xffu);
}

uint64_t guest_tsc_per_ms(void)
{
	return guest_cpuid(0x40000010u).eax;
}
