/**
 * The VMs of the x86 emulation test (emu.dts), on the local-APIC test
 * guests' IDT (../vapic/guest.c):
 *
 *   default      loads and stores of 1, 2 and 4 bytes, MOVZX/MOVSX, AH and
 *                R9/R14 as registers, a 64-bit access the service refuses
 *                and a garbage answer (each a #GP(0) the guest handles and
 *                survives), the service raising a vector, the badge; IN and
 *                OUT of the emulated 16550's ports; then a load just past
 *                the range, which stops it alone.
 *   EMU_STRAY    an IN from its emulated LSR, then one from a port outside
 *                its range: the port fault stops it.
 *   EMU_NOHANDLER  a 64-bit load the service refuses, without an IDT: the
 *                #GP(0) triple-faults it, and it is stopped.
 *   EMU_MUTED    an IN from its emulated LSR, whose emulator takes it and never
 *                answers: it waits for good.
 */
#include "../vapic/guest.h"
#include "device.h"

#define EMU_VECTOR 0x50u

static volatile unsigned irq_count;
/** Written by gp_stub: #GPs taken, the last error code; gp_skip is what it steps over. */
volatile uint64_t gp_count, gp_error, gp_skip;

void gp_stub(void);

/*
 * #GP pushes an error code: record it, step the return RIP over the
 * faulting instruction (gp_skip bytes, set before the access) and return.
 */
__asm__(".pushsection .text\n"
        ".globl gp_stub\n"
        "gp_stub:\n"
        "push %rax\n"
        "mov 8(%rsp), %rax\n"
        "mov %rax, gp_error(%rip)\n"
        "mov gp_skip(%rip), %rax\n"
        "add %rax, 16(%rsp)\n"
        "incq gp_count(%rip)\n"
        "pop %rax\n"
        "add $8, %rsp\n"
        "iretq\n"
        ".popsection\n");

void guest_interrupt(uint8_t vector)
{
	if (vector == EMU_VECTOR)
		irq_count++;
	apic_write(APIC_EOI, 0);
}

#if !defined(EMU_NOHANDLER) && !defined(EMU_MUTED)
static void check(bool ok, const char *what)
{
	svc_printf("%s: %s\n", ok ? "passed" : "FAILED", what);
}

static uint8_t inb(uint16_t p)
{
	uint8_t v;
	__asm__ volatile("in %%dx, %%al" : "=a"(v) : "d"(p) : "memory");
	return v;
}
#endif

#if !defined(EMU_STRAY) && !defined(EMU_NOHANDLER) && !defined(EMU_MUTED)
static volatile void *emu(uint32_t off)
{
	return (volatile void *)(uintptr_t)(EMU_BASE + off);
}

static void outb(uint16_t p, uint8_t v)
{
	__asm__ volatile("out %%al, %%dx" : : "a"(v), "d"(p) : "memory");
}

static void mmio_tests(void)
{
	volatile uint32_t *data32 = emu(EMU_DATA);
	check(*(volatile uint32_t *)emu(EMU_FR) == 0x90,
	      "a 32-bit load of the emulated FR returns the service's value");
	*data32 = 0x12345678;
	check(*data32 == 0x12345678, "a 32-bit store reaches the service and a load reads it back");
	*(volatile uint16_t *)emu(EMU_DATA) = 0xbeef;
	check(*(volatile uint16_t *)emu(EMU_DATA) == 0xbeef, "16-bit accesses");
	*(volatile uint8_t *)emu(EMU_DATA) = 0xab;
	check(*(volatile uint8_t *)emu(EMU_DATA) == 0xab, "8-bit accesses");

	int32_t sb, sw;
	uint32_t zb, zw;
	__asm__ volatile("movsbl (%1), %0" : "=r"(sb) : "r"(emu(EMU_SIGNED)) : "memory");
	__asm__ volatile("movzbl (%1), %0" : "=r"(zb) : "r"(emu(EMU_SIGNED)) : "memory");
	__asm__ volatile("movswl (%1), %0" : "=r"(sw) : "r"(emu(EMU_SIGNED)) : "memory");
	__asm__ volatile("movzwl (%1), %0" : "=r"(zw) : "r"(emu(EMU_SIGNED)) : "memory");
	check(sb == -16 && zb == 0xf0, "MOVSX and MOVZX of a byte (0xf0: -16 and 240)");
	check(sw == (int32_t)0xffff80f0 && zw == 0x80f0, "MOVSX and MOVZX of a word (0x80f0)");

	uint64_t ah = 0x1122334455667788ull;
	__asm__ volatile("mov (%1), %%ah" : "+a"(ah) : "r"(emu(EMU_FR)) : "memory");
	check(ah == 0x1122334455669088ull, "a load into AH changes bits 15:8 alone");

	uint64_t r14;
	*data32 = 0xcafe;
	__asm__ volatile("mov $-1, %%r14; mov (%1), %%r14d; mov %%r14, %0"
	                 : "=r"(r14)
	                 : "r"(emu(EMU_DATA))
	                 : "r14", "memory");
	__asm__ volatile("mov %0, %%r9; mov %%r9d, (%1)"
	                 :
	                 : "r"((uint64_t)0x5a5a), "r"(emu(EMU_DATA))
	                 : "r9", "memory");
	check(r14 == 0xcafe && *data32 == 0x5a5a,
	      "a load into R14D (clearing bits 63:32) and a store from R9D");
	__asm__ volatile("movl $0x7e57, (%0)" : : "r"(emu(EMU_DATA)) : "memory");
	check(*data32 == 0x7e57, "a store of an immediate");

	/* movq (%rdi),%rax is 48 8b 07; movl (%rdi),%eax is 8b 07. */
	gp_skip = 3;
	__asm__ volatile("movq (%%rdi), %%rax" : : "D"(emu(EMU_DATA)) : "rax", "memory");
	check(gp_count == 1 && gp_error == 0,
	      "a 64-bit access the service refuses: the guest takes #GP(0) and goes on");
	gp_skip = 2;
	__asm__ volatile("movl (%%rdi), %%eax" : : "D"(emu(EMU_GARBAGE)) : "rax", "memory");
	check(gp_count == 2 && gp_error == 0, "a garbage answer from the service: #GP(0) too");

	*(volatile uint32_t *)emu(EMU_IRQ) = EMU_VECTOR;
	for (unsigned i = 0; i < 100 && irq_count == 0; i++)
		wait_for_interrupt();
	check(irq_count == 1, "the service raised vector 0x50 in the guest (HC_GUEST_IRQ)");
	check(*(volatile uint32_t *)emu(EMU_BAD) == 0, "the service saw only well-formed messages");
	check(*(volatile uint32_t *)emu(EMU_BADGE) == EMU_GUEST_BADGE,
	      "with the badge of its guest capability");
}

static void port_tests(void)
{
	outb(EMU_PORT, 0x41);
	check(inb(EMU_PORT) == 0x41, "OUT then IN of a byte port of the emulated 16550");
	uint64_t rax = 0x1122334455667788ull;
	__asm__ volatile("in %%dx, %%al" : "+a"(rax) : "d"(EMU_PORT + EMU_LSR) : "memory");
	check(rax == 0x1122334455667760ull, "IN AL from its LSR reads 0x60 and keeps RAX's rest");
	__asm__ volatile("out %%ax, %%dx" : : "a"(0xbeefu), "d"(EMU_PORT) : "memory");
	rax = 0x1122334455667788ull;
	__asm__ volatile("in %%dx, %%ax" : "+a"(rax) : "d"(EMU_PORT) : "memory");
	check(rax == 0x112233445566beefull, "OUT and IN of 16 bits (AX)");
	__asm__ volatile("out %%eax, %%dx" : : "a"(0xdeadbeefu), "d"(EMU_PORT + 4) : "memory");
	rax = UINT64_MAX;
	__asm__ volatile("in %%dx, %%eax" : "+a"(rax) : "d"(EMU_PORT + 4) : "memory");
	check(rax == 0xdeadbeefull, "OUT and IN of 32 bits (EAX, bits 63:32 cleared)");
	uint8_t post;
	__asm__ volatile("out %%al, $0x80; mov $0, %%al; in $0x80, %%al"
	                 : "=a"(post)
	                 : "a"(0x5cu)
	                 : "memory");
	check(post == 0x5c, "OUT and IN with an immediate port (0x80, a range of one port)");
}

int svc_main(uint64_t arg)
{
	(void)arg;
	guest_setup();
	guest_set_gate(13, gp_stub);
	mmio_tests();
	port_tests();
	svc_printf("loading just past the emulated range\n");
	(void)*(volatile uint32_t *)emu(0x1000);
	svc_printf("FAILED: the load past the range went through\n");
	return 1;
}
#elif defined(EMU_MUTED)
int svc_main(uint64_t arg)
{
	(void)arg;
	svc_printf("reading the port whose emulator never answers\n");
	uint8_t v;
	__asm__ volatile("in %%dx, %%al"
	                 : "=a"(v)
	                 : "d"((uint16_t)(EMU_PORT + EMU_LSR))
	                 : "memory");
	svc_printf("FAILED: the mute emulator's port answered 0x%x\n", v);
	return 1;
}
#elif defined(EMU_NOHANDLER)
int svc_main(uint64_t arg)
{
	(void)arg;
	svc_printf("a 64-bit load the service refuses, with no IDT\n");
	(void)*(volatile uint64_t *)(uintptr_t)EMU_BASE;
	svc_printf("FAILED: the refused load went through\n");
	return 1;
}
#else
int svc_main(uint64_t arg)
{
	(void)arg;
	check(inb(EMU_PORT + EMU_LSR) == EMU_LSR_VALUE, "its own emulated LSR reads 0x60");
	svc_printf("reading port 0x2fd, outside its emulated ports\n");
	(void)inb(0x2fd);
	svc_printf("FAILED: the port outside the range was read\n");
	return 1;
}
#endif
