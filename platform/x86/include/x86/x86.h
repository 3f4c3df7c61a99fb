/**
 * Internals of the x86_64 platform: instruction wrappers, the memory map
 * and the functions the platform's files share. Nothing outside
 * platform/x86/ includes this.
 */
#ifndef X86_X86_H
#define X86_X86_H

#include <kernel/trap.h>
#include <kernel/types.h>
#include <x86/keep.h>

struct vcpu;
struct vcpu_arch;

/* Memory map (see docs/platform-x86.md); the LAPIC base and the vectors are in x86/keep.h. */
#define X86_DEBUG_EXIT_PORT 0xf4u
#define X86_COM1 0x3f8u

/** isa-debug-exit value written by arch_halt_all (QEMU exits with 255). */
#define X86_PANIC_EXIT_STATUS 0x7fu

/* MSRs (AMD APM vol 2 appendix A, Intel SDM vol 4). */
#define MSR_EFER 0xc0000080u
#define MSR_FS_BASE 0xc0000100u
#define MSR_VM_HSAVE_PA 0xc0010117u
#define MSR_MCG_CAP 0x179u
#define EFER_SVME (UINT64_C(1) << 12)

static inline void outb(u16 port, u8 v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(u16 port, u32 v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline u8 inb(u16 port)
{
	u8 v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

/** RDPKRU / WRPKRU (AMD APM vol 3): ECX (and EDX for WRPKRU) must be 0. */
static inline u32 rdpkru(void)
{
	u32 v, hi;
	__asm__ volatile("rdpkru" : "=a"(v), "=d"(hi) : "c"(0u));
	return v;
}
static inline void wrpkru(u32 v)
{
	__asm__ volatile("wrpkru" : : "a"(v), "c"(0u), "d"(0u) : "memory");
}

/** XCR0 (AMD APM vol 2 §11.5.2): needs CR4.OSXSAVE. */
static inline u64 xgetbv0(void)
{
	u32 lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0u));
	return ((u64)hi << 32) | lo;
}
static inline void xsetbv0(u64 v)
{
	__asm__ volatile("xsetbv" : : "c"(0u), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

struct cpuid_regs {
	u32 eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(u32 leaf, u32 sub)
{
	struct cpuid_regs r;
	__asm__ volatile("cpuid"
	                 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
	                 : "a"(leaf), "c"(sub));
	return r;
}

static inline u32 lapic_read(u32 reg)
{
	return *(volatile u32 *)(uintptr_t)(X86_LAPIC_BASE + reg);
}
static inline void lapic_write(u32 reg, u32 v)
{
	*(volatile u32 *)(uintptr_t)(X86_LAPIC_BASE + reg) = v;
}

#define LAPIC_ID 0x020u
#define LAPIC_EOI 0x0b0u
#define LAPIC_SVR 0x0f0u
#define LAPIC_ICR_LO 0x300u
#define LAPIC_ICR_HI 0x310u
#define LAPIC_LVT_TIMER 0x320u
#define LAPIC_LVT_LINT0 0x350u
#define LAPIC_LVT_LINT1 0x360u
#define LAPIC_TIMER_INIT 0x380u
#define LAPIC_TIMER_CUR 0x390u
#define LAPIC_TIMER_DIV 0x3e0u

/** Registers pushed by the interrupt stubs (entry.S), lowest address first. */
struct x86_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error;
	u64 rip, cs, rflags, rsp, ss;
};

/** Interrupt events noted by the IDT handlers, consumed by the run loop. */
struct x86_cpu_events {
	volatile bool timer;       /**< the armed deadline passed */
	volatile bool kick;        /**< another CPU sent X86_VEC_KICK */
	volatile bool look;        /**< it kicked itself: idle asks the core before halting */
	volatile bool timer_armed; /**< plat_timer_set armed it, no expiry seen yet */
	u64 core_ns;               /**< the core's deadline (plat_timer_set), 0 = none */
	u64 armed_ns;              /**< with armed_guest: the vCPU deadline the timer counts to */
	bool armed_guest;          /**< armed for a vCPU's APIC timer, before core_ns */
};

extern struct x86_cpu_events x86_events[];

/* power.c */
_Noreturn void x86_halt_forever(void);

/* console.c */
void x86_console_init(void);

/* cpu.c */
void x86_cpu_init(u32 cpu);
void x86_cpu_register(u32 cpu);
void x86_report_cpu(void);

/* idt.c */
void x86_idt_init(void);
void x86_interrupt(struct x86_frame *f);
void x86_idt_load(void);

/* timer.c */
void x86_timer_init(void);
void x86_timer_init_cpu(void);
u64 x86_timer_tsc_hz(void);
u64 x86_timer_tsc_boot(void);
void x86_timer_guest_deadline(u32 cpu, u64 guest_ns);
bool x86_timer_fired_for_guest(u32 cpu);

/* smp.c */
u32 x86_smp_start(void);
void x86_smp_release(void);

/* svm.c */
void x86_svm_init(u32 cpu);
_Noreturn void x86_run(struct vcpu *v);
void x86_svm_stage2_changed(u32 vmid);

/*
 * svm_entry.S: svm_vmrun(a, host_save_pa) enters the guest of a until its
 * next #VMEXIT. Not a C function: it preserves only RBP and RSP, so
 * x86_run calls it from inline assembly that names every other register.
 */

/**
 * Sleeps until an interrupt in the run loop's state (GIF = 0, IF = 1): the
 * STI shadow covers HLT, so an interrupt that arrives after STGI wakes it
 * instead of being taken before it sleeps (AMD APM vol 2 §15.17).
 */
static inline void x86_halt_in_run_loop(void)
{
	__asm__ volatile("cli; stgi; sti; hlt; clgi" : : : "memory");
}

/* boot.S: the identity map of the low 4 GiB. */
extern u64 x86_boot_pml4[];

#endif /* X86_X86_H */
