/**
 * The host's interrupt descriptor table and what each vector means to the
 * kernel. Exceptions in host mode are kernel bugs: they print a full
 * "KERNEL PANIC" report and power off through isa-debug-exit, so a test
 * run ends at once instead of timing out. Guest exceptions never come here:
 * they are #VMEXITs (svm.c).
 */
#include <arch/cpu.h>
#include <kernel/console.h>
#include <kernel/print.h>
#include <plat/console.h>
#include <x86/layout.h>

#include <x86/x86.h>

/** A 64-bit interrupt gate (AMD APM vol 2 §4.8.4, Intel SDM vol 3 §6.14.1). */
struct idt_gate {
	u16 offset_low;
	u16 selector;
	u8 ist;
	u8 type_attr;
	u16 offset_mid;
	u32 offset_high;
	u32 reserved;
} __attribute__((packed));

#define IDT_INTERRUPT_GATE 0x8eu /* present, DPL 0, 64-bit interrupt gate */
#define X86_STUB_SIZE 16u

extern const u8 x86_isr_stubs[];
static struct idt_gate idt[256] __attribute__((aligned(16)));
struct x86_cpu_events x86_events[X86_CPU_MAX];

static const char *const exception_names[32] = {
	"divide error",
	"debug",
	"NMI",
	"breakpoint",
	"overflow",
	"bound range",
	"invalid opcode",
	"device not available",
	"double fault",
	"coprocessor overrun",
	"invalid TSS",
	"segment not present",
	"stack fault",
	"general protection",
	"page fault",
	"reserved",
	"x87 error",
	"alignment check",
	"machine check",
	"SIMD error",
	"virtualization",
	"control protection",
	"reserved",
	"reserved",
	"reserved",
	"reserved",
	"reserved",
	"reserved",
	"hypervisor injection",
	"VMM communication",
	"security",
	"reserved",
};

/** Builds the IDT once; every CPU loads the same one. */
void x86_idt_init(void)
{
	for (u32 v = 0; v < 256; v++) {
		u64 addr = (u64)(uintptr_t)&x86_isr_stubs[v * X86_STUB_SIZE];
		/* #DF, NMI and #MC switch to IST1: they can arrive with a broken stack. */
		u8 ist = (v == 2 || v == 8 || v == 18) ? 1 : 0;
		idt[v] = (struct idt_gate){
			.offset_low = (u16)addr,
			.selector = 0x08,
			.ist = ist,
			.type_attr = IDT_INTERRUPT_GATE,
			.offset_mid = (u16)(addr >> 16),
			.offset_high = (u32)(addr >> 32),
		};
	}
}

/** Loads the IDT on the calling CPU. */
static void idt_load(void)
{
	struct {
		u16 limit;
		u64 base;
	} __attribute__((packed)) ptr = { sizeof(idt) - 1, (u64)(uintptr_t)idt };
	__asm__ volatile("lidt %0" : : "m"(ptr));
}

/**
 * Prints straight to the UART, bypassing the console lock: the exception
 * may have hit while that lock was held.
 */
static void panic_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void panic_print(const char *fmt, ...)
{
	char buf[200];
	va_list ap;
	va_start(ap, fmt);
	size_t n = kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n')
			plat_console_putc('\r');
		plat_console_putc(buf[i]);
	}
}

typedef unsigned long long ull;

_Noreturn static void exception_panic(const struct x86_frame *f)
{
	u64 cr2;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	console_panic_write(""); /* what the kernel buffered before, so it is not lost */
	panic_print("[hyp] KERNEL PANIC: exception %llu (%s) error 0x%llx on cpu %u\n",
	            (ull)f->vector, exception_names[f->vector & 31], (ull)f->error,
	            arch_cpu_index());
	panic_print("[hyp]   rip %016llx cs %llx rflags %016llx rsp %016llx cr2 %016llx\n",
	            (ull)f->rip, (ull)f->cs, (ull)f->rflags, (ull)f->rsp, (ull)cr2);
	panic_print("[hyp]   rax %016llx rbx %016llx rcx %016llx rdx %016llx\n", (ull)f->rax,
	            (ull)f->rbx, (ull)f->rcx, (ull)f->rdx);
	panic_print("[hyp]   rsi %016llx rdi %016llx rbp %016llx r8  %016llx\n", (ull)f->rsi,
	            (ull)f->rdi, (ull)f->rbp, (ull)f->r8);
	panic_print("[hyp]   r9  %016llx r10 %016llx r11 %016llx r12 %016llx\n", (ull)f->r9,
	            (ull)f->r10, (ull)f->r11, (ull)f->r12);
	panic_print("[hyp]   r13 %016llx r14 %016llx r15 %016llx\n", (ull)f->r13, (ull)f->r14,
	            (ull)f->r15);
	arch_halt_all();
}

/**
 * Called by every stub in entry.S. Exceptions panic; device interrupts only
 * note an event for the run loop (x86_run), which turns it into a trap.
 */
void x86_interrupt(struct x86_frame *f)
{
	u64 v = f->vector;
	if (v == 2) {
		/* NMI: nothing in this kernel sends one; ignore rather than die. */
	} else if (v < 32) {
		exception_panic(f);
	} else if (v == X86_VEC_TIMER) {
		/*
		 * An expiry counts only if the timer is armed and has run down:
		 * an interrupt of an earlier deadline can still be pending (the
		 * host holds interrupts off) after the kernel armed a new one.
		 */
		struct x86_cpu_events *e = &x86_events[arch_cpu_index()];
		if (e->timer_armed && lapic_read(LAPIC_TIMER_CUR) == 0) {
			e->timer_armed = false;
			e->timer = true;
		}
		lapic_write(LAPIC_EOI, 0);
	} else if (v == X86_VEC_HALT) {
		x86_halt_forever(); /* another CPU panicked or powered off */
	} else if (v == X86_VEC_KICK) {
		x86_events[arch_cpu_index()].kick = true;
		lapic_write(LAPIC_EOI, 0);
	} else if (v >= X86_VEC_PIC_BASE && v < X86_VEC_PIC_BASE + 16) {
		/* The PIC is masked: only its spurious IRQ 7/15 can come, which needs no EOI. */
	} else if (v != X86_VEC_SPURIOUS) {
		lapic_write(LAPIC_EOI, 0);
	}
}

/** Per-CPU part: load the IDT. */
void x86_idt_load(void)
{
	idt_load();
}
