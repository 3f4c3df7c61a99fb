/**
 * Per-CPU setup of the host: TSS with an interrupt stack for #DF/NMI/#MC,
 * the stack-protector canary block behind FS_BASE, and the CPU report in
 * the boot banner.
 */
#include <kernel/kernel.h>
#include <kernel/print.h>
#include <x86/layout.h>

#include <x86/x86.h>

/** The 64-bit TSS (AMD APM vol 2 §12.2.5, Intel SDM vol 3 §8.7). */
struct x86_tss {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __attribute__((packed));

/**
 * What FS points at: GCC's x86_64 stack protector reads its canary from
 * %fs:0x28 (Debian's libfdt.a is built with it), so each CPU gets this
 * small block and FS_BASE points to it.
 */
struct x86_canary_block {
	u64 reserved[5];
	u64 canary; /**< at 0x28 */
};

extern u64 x86_gdt[];
extern const struct {
	u16 limit;
	u64 base;
} __attribute__((packed)) x86_gdt_ptr;

u8 x86_stacks[X86_CPU_MAX][X86_STACK_SIZE] __attribute__((aligned(16)));
static u8 ist_stacks[X86_CPU_MAX][X86_IST_SIZE] __attribute__((aligned(16)));
static struct x86_tss tss[X86_CPU_MAX];
static struct x86_canary_block canary_blocks[X86_CPU_MAX];

/** Writes the 16-byte TSS descriptor (system type 9, available) of cpu and loads TR. */
static void tss_init(u32 cpu)
{
	struct x86_tss *t = &tss[cpu];
	t->ist[0] = (u64)(uintptr_t)&ist_stacks[cpu][X86_IST_SIZE];
	t->iomap_base = sizeof(*t); /* no I/O permission bitmap */
	u64 base = (u64)(uintptr_t)t;
	u64 limit = sizeof(*t) - 1;
	u32 slot = 3 + 2 * cpu;
	x86_gdt[slot] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (UINT64_C(0x89) << 40) |
	                (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	x86_gdt[slot + 1] = base >> 32;
	u16 sel = (u16)(slot * 8);
	__asm__ volatile("ltr %0" : : "r"(sel));
}

/** Everything a CPU needs before it takes an interrupt or calls libfdt. */
void x86_cpu_init(u32 cpu)
{
	__asm__ volatile("lgdt %0" : : "m"(x86_gdt_ptr));
	tss_init(cpu);
	/* The canary only has to be unpredictable to the guests, which never see it. */
	canary_blocks[cpu].canary = rdtsc() * UINT64_C(0x9e3779b97f4a7c15) ^
	                            UINT64_C(0x5e9a7d3c1b2f4e61);
	wrmsr(MSR_FS_BASE, (u64)(uintptr_t)&canary_blocks[cpu]);
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

/**
 * The banner's CPU lines, from CPUID: vendor, family/model/stepping and
 * brand (AMD APM vol 3 appendix E, Intel SDM vol 2 CPUID), then the
 * features this hypervisor uses or will use. LMCE is IA32_MCG_CAP bit 27
 * (Intel SDM vol 3 §16.3.1.1); CAT is CPUID.7.0:EBX[15] with the L3/L2
 * resources in CPUID.10h.0:EBX[1]/[2] (Intel SDM vol 3 §18.19).
 */
void x86_report_cpu(void)
{
	struct cpuid_regs r = cpuid(0, 0);
	u32 max_leaf = r.eax;
	char vendor[13];
	__builtin_memcpy(&vendor[0], &r.ebx, 4);
	__builtin_memcpy(&vendor[4], &r.edx, 4);
	__builtin_memcpy(&vendor[8], &r.ecx, 4);
	vendor[12] = 0;

	struct cpuid_regs l1 = cpuid(1, 0);
	u32 family = (l1.eax >> 8) & 0xf;
	u32 model = (l1.eax >> 4) & 0xf;
	if (family == 0xf) {
		family += (l1.eax >> 20) & 0xff;
		model |= ((l1.eax >> 16) & 0xf) << 4;
	}
	u32 max_ext = cpuid(0x80000000u, 0).eax;
	char brand[49] = "";
	if (max_ext >= 0x80000004u) {
		for (u32 i = 0; i < 3; i++) {
			struct cpuid_regs b = cpuid(0x80000002u + i, 0);
			__builtin_memcpy(&brand[16 * i], &b, 16);
		}
		brand[48] = 0;
	}
	const char *brand_start = brand;
	while (*brand_start == ' ')
		brand_start++;
	kprintf("[hyp] cpu: %s family 0x%x model 0x%x stepping %u: %s\n", vendor, family, model,
	        l1.eax & 0xf, brand_start);

	bool svm = max_ext >= 0x80000001u && (cpuid(0x80000001u, 0).ecx & (1u << 2));
	struct cpuid_regs svm_leaf = { 0, 0, 0, 0 };
	if (svm && max_ext >= 0x8000000au)
		svm_leaf = cpuid(0x8000000au, 0);
	struct cpuid_regs l7 = { 0, 0, 0, 0 };
	if (max_leaf >= 7)
		l7 = cpuid(7, 0);
	bool cat = (l7.ebx & (1u << 15)) != 0;
	struct cpuid_regs rdt = { 0, 0, 0, 0 };
	if (cat && max_leaf >= 0x10)
		rdt = cpuid(0x10, 0);
	bool mca = (l1.edx & (1u << 14)) != 0;
	bool lmce = mca && (rdmsr(MSR_MCG_CAP) & (UINT64_C(1) << 27));
	kprintf("[hyp] features: SVM=%s NPT=%s NRIPS=%s UMIP=%s x2APIC=%s CAT-L3=%s CAT-L2=%s LMCE=%s\n",
	        yes_no(svm), yes_no(svm_leaf.edx & 1u), yes_no(svm_leaf.edx & (1u << 3)),
	        yes_no(l7.ecx & (1u << 2)), yes_no(l1.ecx & (1u << 21)),
	        yes_no(rdt.ebx & (1u << 1)), yes_no(rdt.ebx & (1u << 2)), yes_no(lmce));
	if (svm)
		kprintf("[hyp] svm: revision %u, %u ASIDs\n", svm_leaf.eax & 0xff, svm_leaf.ebx);
}
