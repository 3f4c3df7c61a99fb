/**
 * A tiny EL1 guest for the arm64 platform tests. It needs nothing but the
 * arm64 crt0 and <svc_arch.h> (not the service library), so it tests the
 * platform alone: the hypercall path, WFI trapping, the timer preemption,
 * the instruction counter and the fault decoding. One variant per image,
 * chosen with -DGUEST_<NAME>.
 */
#include <ipc/abi.h>
#include <stddef.h>
#include <stdint.h>
#include <svc_arch.h>

int svc_main(uint64_t arg);
_Noreturn void svc_exit(uint64_t code);

void *memset(void *dst, int c, size_t n);

/** The compiler may turn loops into memset calls; this guest has no libc. */
void *memset(void *dst, int c, size_t n)
{
	volatile uint8_t *d = dst;
	while (n-- > 0)
		*d++ = (uint8_t)c;
	return dst;
}

static uint64_t hc(uint64_t nr, uint64_t a1)
{
	uint64_t r[9] = { nr, a1, 0, 0, 0, 0, 0, 0, 0 };
	arch_hypercall(r);
	return r[0];
}

_Noreturn void svc_exit(uint64_t code)
{
	hc(HC_EXIT, code);
	for (;;)
		;
}

/** HC_CONSOLE_WRITE: up to 56 bytes packed little-endian into r2..r8. */
static void put(const char *s, uint32_t n)
{
	uint64_t r[9] = { HC_CONSOLE_WRITE, 0, 0, 0, 0, 0, 0, 0, 0 };
	uint32_t k = 0;

	for (uint32_t i = 0; i < n; i++) {
		r[2 + k / 8] |= (uint64_t)(uint8_t)s[i] << (8 * (k % 8));
		k++;
		if (k == IPC_CONSOLE_MAX || i + 1 == n) {
			r[0] = HC_CONSOLE_WRITE;
			r[1] = k;
			arch_hypercall(r);
			for (uint32_t j = 1; j < 9; j++)
				r[j] = 0;
			k = 0;
		}
	}
}

static void puts_(const char *s)
{
	uint32_t n = 0;
	while (s[n] != 0)
		n++;
	put(s, n);
}

static __attribute__((unused)) void putu(uint64_t v)
{
	char b[24];
	int i = 23;
	b[i] = 0;
	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	puts_(&b[i]);
}

/** The cheapest round trip, as the minimum of several (the first warms up). */
static __attribute__((unused)) uint64_t measure_null(void)
{
	uint64_t best = ~UINT64_C(0);
	for (int i = 0; i < 8; i++) {
		uint64_t r[9] = { HC_NULL, 0, 0, 0, 0, 0, 0, 0, 0 };
		uint64_t t0 = arch_insn_counter();
		arch_hypercall(r);
		uint64_t t1 = arch_insn_counter();
		if (t1 - t0 < best)
			best = t1 - t0;
	}
	return best;
}

/**
 * Fill x19-x28 with known values, yield (the kernel switches to another
 * partition if one is ready on this CPU, which stores and reloads the
 * callee-saved registers on a different path than a plain hypercall), and
 * count the registers that came back changed.
 */
static __attribute__((unused)) uint64_t callee_saved_clobbered_by_yield(void)
{
	uint64_t bad;
	__asm__ volatile("mov x19, #19\n\tmov x20, #20\n\tmov x21, #21\n\tmov x22, #22\n\t"
	                 "mov x23, #23\n\tmov x24, #24\n\tmov x25, #25\n\tmov x26, #26\n\t"
	                 "mov x27, #27\n\tmov x28, #28\n\t"
	                 "mov x0, #3\n\tmov x1, #0\n\thvc #0\n\t"
	                 "mov %0, #0\n\t"
	                 "cmp x19, #19\n\tcinc %0, %0, ne\n\tcmp x20, #20\n\tcinc %0, %0, ne\n\t"
	                 "cmp x21, #21\n\tcinc %0, %0, ne\n\tcmp x22, #22\n\tcinc %0, %0, ne\n\t"
	                 "cmp x23, #23\n\tcinc %0, %0, ne\n\tcmp x24, #24\n\tcinc %0, %0, ne\n\t"
	                 "cmp x25, #25\n\tcinc %0, %0, ne\n\tcmp x26, #26\n\tcinc %0, %0, ne\n\t"
	                 "cmp x27, #27\n\tcinc %0, %0, ne\n\tcmp x28, #28\n\tcinc %0, %0, ne"
	                 : "=&r"(bad)
	                 :
	                 : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x19", "x20",
	                   "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28", "cc", "memory");
	return bad;
}

/**
 * Put seed into d0, d15 and d31, yield (another partition on this CPU
 * does the same with its own seed), and count the registers that came back
 * changed. The kernel switches FP/SIMD state lazily (a trap on first use),
 * so this checks that path.
 */
static __attribute__((unused)) uint64_t fp_clobbered_by_yield(uint64_t seed)
{
	uint64_t bad;
	__asm__ volatile(".arch_extension fp\n\t.arch_extension simd\n\t"
	                 "fmov d0, %1\n\tfmov d15, %1\n\tfmov d31, %1\n\t"
	                 "mov x0, #3\n\tmov x1, #0\n\thvc #0\n\t"
	                 "mov %0, #0\n\t"
	                 "fmov x9, d0\n\tcmp x9, %1\n\tcinc %0, %0, ne\n\t"
	                 "fmov x9, d15\n\tcmp x9, %1\n\tcinc %0, %0, ne\n\t"
	                 "fmov x9, d31\n\tcmp x9, %1\n\tcinc %0, %0, ne"
	                 : "=&r"(bad)
	                 : "r"(seed)
	                 : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "cc",
	                   "memory");
	return bad;
}

/**
 * Put seed into TTBR0_EL1, MAIR_EL1 and CONTEXTIDR_EL1 (the MMU stays off),
 * yield to the other partition, which does the same, and count the
 * registers that came back changed. The kernel loads these lazily for
 * services (HCR_EL2.TVM/TRVM trap on first access), so this checks that.
 */
static __attribute__((unused)) uint64_t vm_regs_clobbered_by_yield(uint64_t seed)
{
	uint64_t bad;
	__asm__ volatile("msr ttbr0_el1, %1\n\tmsr mair_el1, %1\n\tmsr contextidr_el1, %2\n\t"
	                 "mov x0, #3\n\tmov x1, #0\n\thvc #0\n\t"
	                 "mov %0, #0\n\t"
	                 "mrs x9, ttbr0_el1\n\tcmp x9, %1\n\tcinc %0, %0, ne\n\t"
	                 "mrs x9, mair_el1\n\tcmp x9, %1\n\tcinc %0, %0, ne\n\t"
	                 "mrs x9, contextidr_el1\n\tcmp x9, %2\n\tcinc %0, %0, ne"
	                 : "=&r"(bad)
	                 : "r"(seed), "r"(seed & 0xffffffffu)
	                 : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "cc",
	                   "memory");
	return bad;
}

/**
 * Put values into ICC_PMR_EL1 and ICC_AP1R0_EL1 (with HCR_EL2.IMO the
 * virtual interface's, held in ICH_VMCR_EL2 and ICH_AP1R0_EL2) and
 * TPIDR2_EL0 (SME), yield to the other partition, which does the same, and
 * count what came back changed.
 */
static __attribute__((unused)) uint64_t cpu_regs_clobbered_by_yield(uint64_t pmr, uint64_t tp2,
                                                                    uint64_t apr, uint64_t disr)
{
	uint64_t bad;
	__asm__ volatile("msr S3_0_C4_C6_0, %1\n\tmsr S3_3_C13_C0_5, %2\n\t"
	                 "msr S3_0_C12_C9_0, %3\n\tmsr S3_0_C12_C1_1, %4\n\t"
	                 "mov x0, #3\n\tmov x1, #0\n\thvc #0\n\t"
	                 "mov %0, #0\n\t"
	                 "mrs x9, S3_0_C4_C6_0\n\tcmp x9, %1\n\tcinc %0, %0, ne\n\t"
	                 "mrs x9, S3_3_C13_C0_5\n\tcmp x9, %2\n\tcinc %0, %0, ne\n\t"
	                 "mrs x9, S3_0_C12_C9_0\n\tcmp x9, %3\n\tcinc %0, %0, ne\n\t"
	                 "mrs x9, S3_0_C12_C1_1\n\tcmp x9, %4\n\tcinc %0, %0, ne"
	                 : "=&r"(bad)
	                 : "r"(pmr), "r"(tp2), "r"(apr), "r"(disr)
	                 : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "cc",
	                   "memory");
	return bad;
}

#if defined(GUEST_EL2_ESCAPE)
/**
 * Forge an exception return: SPSR_EL1 = spsr (a mode this partition must
 * never get), ELR_EL1 = the label below, then jump to VBAR_EL1 (0) + 0x200
 * as if an exception had been taken with no vectors installed. That is a
 * stage-2 instruction abort the kernel reports to the fault handler, which
 * answers "resume": the kernel then resumes at ELR_EL1 with a PSTATE it
 * builds. Returns CurrentEL.EL where execution went on.
 */
static uint64_t forged_return_el(uint64_t spsr)
{
	uint64_t el;
	__asm__ volatile("adr x9, 1f\n\t"
	                 "msr elr_el1, x9\n\t"
	                 "msr spsr_el1, %1\n\t"
	                 "mov x9, #0x200\n\t"
	                 "br x9\n"
	                 "1:\tmrs %0, CurrentEL\n\t"
	                 "lsr %0, %0, #2"
	                 : "=r"(el)
	                 : "r"(spsr)
	                 : "x9", "memory");
	return el;
}
#endif

#if defined(GUEST_PSCI)
/** An SMCCC call by HVC (or by SMC with via_smc): x0 = fid, x1..x3 = arguments. */
static int64_t smccc(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3, int via_smc)
{
	register uint64_t x0 __asm__("x0") = fid;
	register uint64_t x1 __asm__("x1") = a1;
	register uint64_t x2 __asm__("x2") = a2;
	register uint64_t x3 __asm__("x3") = a3;
	if (via_smc)
		__asm__ volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
	else
		__asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
	return (int64_t)x0;
}

#define PSCI_CPU_ON64 UINT64_C(0xc4000003)
#define PSCI_AFFINITY_INFO64 UINT64_C(0xc4000004)

/* Written by the secondary vCPU: the context id it got in x0, its MPIDR, a count of starts. */
static volatile uint64_t sec_ctx, sec_mpidr, sec_starts, sec_release;
uint64_t psci_secondary_stack[512] __attribute__((aligned(16)));
void psci_secondary_main(uint64_t ctx);

/* The secondary's entry point for CPU_ON: a stack, then C. */
__asm__(".pushsection .text\n"
        ".global psci_secondary_entry\n"
        "psci_secondary_entry:\n"
        "\tadrp x9, psci_secondary_stack + 4096\n"
        "\tadd x9, x9, #:lo12:psci_secondary_stack + 4096\n"
        "\tmov sp, x9\n"
        "\tbl psci_secondary_main\n"
        "1:\tb 1b\n"
        ".popsection\n");
void psci_secondary_entry(void);

void psci_secondary_main(uint64_t ctx)
{
	uint64_t mpidr;
	__asm__ volatile("mrs %0, mpidr_el1" : "=r"(mpidr));
	sec_mpidr = mpidr;
	sec_ctx = ctx;
	sec_starts = sec_starts + 1;
	while (sec_release != sec_starts)
		hc(HC_YIELD, 0);       /* stay on until vCPU 0 has checked ALREADY_ON */
	smccc(0x84000002, 0, 0, 0, 0); /* CPU_OFF: does not return */
	sec_ctx = 0xbad;
	for (;;)
		;
}

static void check(int ok, const char *what)
{
	puts_(ok ? "passed: " : "FAILED: ");
	puts_(what);
	puts_("\n");
}

/** Let the secondary's start `starts` go off, and yield until it is. */
static void wait_secondary_off(uint64_t starts)
{
	sec_release = starts;
	for (int i = 0; i < 1000; i++) {
		if (sec_starts == starts && smccc(PSCI_AFFINITY_INFO64, 1, 0, 0, 0) == 1)
			return;
		hc(HC_YIELD, 0);
	}
}
#endif

#if defined(GUEST_IDREGS)
static void check(int ok, const char *what)
{
	puts_(ok ? "passed: " : "FAILED: ");
	puts_(what);
	puts_("\n");
}

#define ID_FIELD(v, shift) (((v) >> (shift)) & 0xfu)
#endif

#if defined(GUEST_STATE_WRITER) || defined(GUEST_STATE_READER)
/* Shared page (manifest): flag words at IPA 0x200000; [0] reader ready, [1] writer done. */
#define FLAGS ((volatile uint64_t *)0x200000)

/* One reader per system register the state test uses (a plain function for each, after an ISB). */
#define DEF_RD(reg)                                                 \
	static __attribute__((unused)) uint64_t rd_##reg(void)      \
	{                                                           \
		uint64_t v;                                         \
		__asm__ volatile("isb\n\tmrs %0, " #reg : "=r"(v)); \
		return v;                                           \
	}
DEF_RD(cntkctl_el1)
DEF_RD(cntv_cval_el0)
DEF_RD(csselr_el1)
DEF_RD(pmccfiltr_el0)
DEF_RD(pmccntr_el0)
DEF_RD(pmcr_el0)
DEF_RD(pmovsset_el0)
DEF_RD(pmselr_el0)
DEF_RD(pmuserenr_el0)
DEF_RD(tpidr_el0)
DEF_RD(tpidr_el1)
DEF_RD(tpidrro_el0)
#define RD(reg) rd_##reg()
#define WR(reg, v) __asm__ volatile("msr " reg ", %0\n\tisb" : : "r"((uint64_t)(v)) : "memory")

/* Markers the writer leaves in per-CPU state; the reader must never see them. */
#define MARK_SELR 5u
#define MARK_USERENR 0xfu
#define MARK_CCFILTR (UINT64_C(1) << 31) /* P: stop counting EL1 */
#define MARK_TPIDR UINT64_C(0xdeadbeef00000001)
#define MARK_CNTKCTL 0x3u
#define MARK_CVAL UINT64_C(0x00dead0000000000)
#define MARK_CSSELR 1u

static void yield_until(const volatile uint64_t *flag)
{
	while (*flag == 0)
		(void)hc(HC_YIELD, 0);
}

/** One TAP line per class of state (the reader prints the plan first). */
static __attribute__((unused)) void report(int ok, const char *what)
{
	static uint64_t n;
	puts_(ok ? "ok " : "not ok ");
	putu(++n);
	puts_(" - ");
	puts_(what);
	puts_("\n");
}
#endif

#if defined(GUEST_SPIN_A) || defined(GUEST_SPIN_B)
/* Shared page (manifest): flag words at IPA 0x200000. */
#define FLAGS ((volatile uint64_t *)0x200000)
#ifdef GUEST_SPIN_A
#define MINE 0
#else
#define MINE 1
#endif
#endif

int svc_main(uint64_t arg)
{
	(void)arg;
#if defined(GUEST_HELLO)
	uint64_t entry = svc_entry_counter;
	puts_("hello from EL1\n");
	puts_("null hypercall status ");
	putu(hc(HC_NULL, 0));
	puts_("\n");
	uint64_t best = measure_null();
	puts_("null hypercall round trip: ");
	putu(best);
	puts_(" instructions (meaningful under -icount)\n");
	puts_("reset to first instruction: ");
	putu(entry);
	puts_(" instructions\n");
	/*
	 * A VM's WFI waits for an interrupt: its virtual timer, due at once,
	 * is one (a service's WFI just yields; EL0 may not touch the timer).
	 */
	if (!svc_el0)
		__asm__ volatile("msr cntv_tval_el0, %0\n\tmsr cntv_ctl_el0, %1\n\tisb"
		                 :
		                 : "r"(UINT64_C(16)), "r"(UINT64_C(1)));
	for (int i = 0; i < 3; i++)
		__asm__ volatile("wfi");
	if (!svc_el0)
		__asm__ volatile("msr cntv_ctl_el0, xzr\n\tisb");
	puts_("wfi trapped and resumed\n");
	uint64_t regs[9] = { HC_NULL, 11, 22, 33, 44, 55, 66, 77, 88 };
	arch_hypercall(regs);
	int kept = regs[1] == 11 && regs[8] == 88;
	puts_(kept ? "registers kept across the hypercall\n" : "registers CLOBBERED\n");
	/* Debug registers are not the partition's: they must read as zero. */
	uint64_t mdscr, bvr;
	__asm__ volatile("msr mdscr_el1, %2\n\tmsr dbgbvr0_el1, %2\n\tisb\n\t"
	                 "mrs %0, mdscr_el1\n\tmrs %1, dbgbvr0_el1"
	                 : "=r"(mdscr), "=r"(bvr)
	                 : "r"(UINT64_C(0x8000)));
	puts_(mdscr == 0 && bvr == 0 ? "debug registers read as zero\n" :
	                               "debug registers WRITABLE\n");
	/* SMC is trapped (HCR_EL2.TSC): a firmware call nobody implements is "not supported". */
	register uint64_t x0 __asm__("x0") = UINT64_C(0xb2000000); /* a Trusted OS call */
	__asm__ volatile("smc #0" : "+r"(x0) : : "x1", "x2", "x3", "memory");
	puts_(x0 == ~UINT64_C(0) ? "smc returned NOT_SUPPORTED\n" : "smc reached firmware\n");
	return kept ? 0 : 1;
#elif defined(GUEST_UD)
	puts_("executing an undefined instruction\n");
	arch_undefined_instruction();
	puts_("still running after UDF\n");
	return 1;
#elif defined(GUEST_JUMP)
	/*
	 * A service (EL0) jumps where a VM's EL1 vector table would be at
	 * VBAR_EL1 = 0: it must be reported as its own stage-2 fault, never
	 * from the EL1 registers a VM left in the CPU.
	 */
	puts_("jumping to IPA 0x200\n");
	((void (*)(void))(uintptr_t)0x200)();
	puts_("returned from 0x200\n");
	return 1;
#elif defined(GUEST_PTIMER)
	/* The EL1 physical timer is the kernel's to share out (CNTHCTL_EL2.EL1PCEN = 0). */
	puts_("touching the EL1 physical timer\n");
	__asm__ volatile("msr cntp_ctl_el0, %0" : : "r"(UINT64_C(1)));
	puts_("physical timer writable\n");
	return 1;
#elif defined(GUEST_SGI)
	/* Physical SGIs from a guest would reach other partitions' CPUs (HCR_EL2.IMO traps them). */
	puts_("sending a physical SGI\n");
	__asm__ volatile("msr S3_0_C12_C11_5, %0" : : "r"(UINT64_C(0xffff)));
	puts_("SGI sent\n");
	return 1;
#elif defined(GUEST_LOR)
	/* LORegion registers are not switched between partitions (HCR_EL2.TLOR traps them). */
	puts_("reading LORC_EL1\n");
	uint64_t lorc;
	__asm__ volatile("mrs %0, S3_0_C10_C4_3" : "=r"(lorc));
	puts_("LORC_EL1 readable\n");
	return (int)lorc + 1;
#elif defined(GUEST_MEM)
	puts_("reading unmapped IPA 0x40000000\n");
	uint64_t v = *(volatile uint64_t *)0x40000000;
	puts_("read returned\n");
	return (int)v;
#elif defined(GUEST_EL2_ESCAPE)
	/* EL2h with D, A, I, F masked; then AArch32 Hyp mode (M[4] set, RW = 1 forbids it). */
	static const uint64_t modes[] = { 0x3c9, 0x3da };
	int bad = 0;
	for (unsigned i = 0; i < 2; i++) {
		puts_(i == 0 ? "forging an exception return to EL2h\n" :
		               "forging an exception return to AArch32 Hyp\n");
		uint64_t el = forged_return_el(modes[i]);
		puts_("resumed at EL");
		putu(el);
		puts_("\n");
		bad += el != 1;
	}
	return bad;
#elif defined(GUEST_PSCI)
	uint64_t entry = (uint64_t)(uintptr_t)psci_secondary_entry;
	check(smccc(0x84000000, 0, 0, 0, 0) == 0x10001, "PSCI_VERSION is 1.1");
	check(smccc(0x80000000, 0, 0, 0, 1) == 0x10001, "SMCCC_VERSION by SMC is 1.1");
	check(smccc(0x8400000a, PSCI_CPU_ON64, 0, 0, 0) == 0, "PSCI_FEATURES(CPU_ON) supported");
	check(smccc(0x8400000a, 0x80000000, 0, 0, 0) == 0,
	      "PSCI_FEATURES(SMCCC_VERSION) supported");
	check(smccc(0x8400000a, 0x8400001f, 0, 0, 0) == -1,
	      "PSCI_FEATURES of an unknown function: NOT_SUPPORTED");
	check(smccc(0x8400001f, 0, 0, 0, 1) == -1, "an unknown function id: NOT_SUPPORTED");
	check(smccc(0x84000006, 0, 0, 0, 0) == 2, "MIGRATE_INFO_TYPE: no Trusted OS");
	check(smccc(PSCI_AFFINITY_INFO64, 1, 0, 0, 0) == 1, "vCPU 1 starts powered off");
	check(smccc(PSCI_AFFINITY_INFO64, 0, 0, 0, 0) == 0, "vCPU 0 is on");
	check(smccc(PSCI_AFFINITY_INFO64, 1, 1, 0, 0) == -2,
	      "AFFINITY_INFO above level 0: INVALID_PARAMETERS");
	check(smccc(PSCI_CPU_ON64, 2, entry, 0, 0) == -2,
	      "CPU_ON of a vCPU the partition does not have: INVALID_PARAMETERS");
	check(smccc(PSCI_CPU_ON64, UINT64_C(0x100000001), entry, 0, 0) == -2,
	      "CPU_ON of an MPIDR with Aff3 set: INVALID_PARAMETERS");
	check(smccc(PSCI_CPU_ON64, 1, 0x40000000, 0, 0) == -9,
	      "CPU_ON at an entry outside the partition: INVALID_ADDRESS");
	check(smccc(PSCI_CPU_ON64, 0, entry, 0, 0) == -4, "CPU_ON of itself: ALREADY_ON");
	check(smccc(PSCI_CPU_ON64, 1, entry, 0x1234, 0) == 0, "CPU_ON of vCPU 1");
	int64_t again = smccc(PSCI_CPU_ON64, 1, entry, 0x1234, 0);
	check(again == -4, "CPU_ON of a started vCPU: ALREADY_ON");
	wait_secondary_off(1);
	check(sec_starts == 1 && sec_ctx == 0x1234, "vCPU 1 ran at the entry with the context id");
	check((sec_mpidr & 0xff) == 1, "vCPU 1's MPIDR_EL1 says Aff0 = 1");
	check(smccc(PSCI_AFFINITY_INFO64, 1, 0, 0, 0) == 1, "CPU_OFF: vCPU 1 is off again");
	check(smccc(0x84000003, 1, entry, 0x5678, 1) == 0, "CPU_ON (SMC32) starts it again");
	wait_secondary_off(2);
	check(sec_starts == 2 && sec_ctx == 0x5678, "vCPU 1 restarted with the new context id");
	puts_("powering the partition off\n");
	smccc(0x84000008, 0, 0, 0, 0); /* SYSTEM_OFF */
	puts_("FAILED: SYSTEM_OFF returned\n");
	return 1;
#elif defined(GUEST_IDREGS)
	uint64_t pfr0, pfr1, zfr0, dfr0, isar1, mmfr0, mmfr1, reserved;
	__asm__ volatile("mrs %0, id_aa64pfr0_el1\n\tmrs %1, id_aa64pfr1_el1\n\t"
	                 "mrs %2, S3_0_C0_C4_4\n\tmrs %3, id_aa64dfr0_el1\n\t"
	                 "mrs %4, id_aa64isar1_el1\n\tmrs %5, id_aa64mmfr0_el1\n\t"
	                 "mrs %6, id_aa64mmfr1_el1\n\tmrs %7, S3_0_C0_C3_3"
	                 : "=r"(pfr0), "=r"(pfr1), "=r"(zfr0), "=r"(dfr0), "=r"(isar1), "=r"(mmfr0),
	                   "=r"(mmfr1), "=r"(reserved));
	check(ID_FIELD(pfr0, 32) == 0 && zfr0 == 0, "SVE hidden (ID_AA64PFR0.SVE, ID_AA64ZFR0)");
	check(ID_FIELD(pfr0, 8) == 0 && ID_FIELD(pfr0, 12) == 0, "no EL2 or EL3 for a guest");
	check(ID_FIELD(pfr0, 28) == 0, "RAS hidden");
	check(ID_FIELD(pfr0, 4) != 0 && ID_FIELD(pfr0, 24) == 1,
	      "EL1 AArch64 and the GIC system registers still shown");
	check(ID_FIELD(pfr1, 8) == 0 && ID_FIELD(pfr1, 24) == 0, "MTE and SME hidden");
	check(ID_FIELD(dfr0, 8) == 0 && ID_FIELD(dfr0, 0) == 6, "PMU hidden, Armv8.0 debug");
	check(ID_FIELD(isar1, 4) == 0 && ID_FIELD(isar1, 8) == 0 && ID_FIELD(isar1, 24) == 0 &&
	              ID_FIELD(isar1, 28) == 0,
	      "pointer authentication hidden");
	check(ID_FIELD(mmfr0, 0) <= 5, "PARange at most 48 bits");
	check(ID_FIELD(mmfr1, 8) == 0 && ID_FIELD(mmfr1, 16) == 0, "VHE and LORegions hidden");
	check(reserved == 0, "a reserved ID encoding reads as zero");
	/* An emulated read into x20-x29, which the fast return does not reload. */
	uint64_t hi_pfr0, hi_mdscr;
	__asm__ volatile("mov x23, #0x5555\n\tmrs x23, id_aa64pfr0_el1\n\tmov %0, x23\n\t"
	                 "mov x27, #0x5555\n\tmrs x27, mdscr_el1\n\tmov %1, x27"
	                 : "=r"(hi_pfr0), "=r"(hi_mdscr)
	                 :
	                 : "x23", "x27");
	check(hi_pfr0 == pfr0, "an emulated ID register read into x23 arrives");
	check(hi_mdscr == 0, "an emulated debug register read into x27 reads as zero");
	/* The PMU is the machine's: a partition can neither stop, reset nor program it. */
	uint64_t c0, c1, sel;
	__asm__ volatile("isb\n\tmrs %0, pmccntr_el0\n\t"
	                 "msr pmcr_el0, xzr\n\tmsr pmccntr_el0, xzr\n\t"
	                 "msr pmcntenclr_el0, %3\n\tmsr pmselr_el0, %4\n\tisb\n\t"
	                 "mrs %2, pmselr_el0\n\tmrs %1, pmccntr_el0"
	                 : "=&r"(c0), "=&r"(c1), "=&r"(sel)
	                 : "r"(~UINT64_C(0)), "r"(UINT64_C(5)));
	check(c1 > c0, "a partition cannot stop or reset the cycle counter");
	check(sel == 0, "PMU writes are ignored (PMSELR_EL0 reads zero)");
	return 0;
#elif defined(GUEST_RESUMER)
	/* Fault handler (endpoint slot 0): answers the first two faults with "resume". */
	for (int i = 0; i < 2; i++) {
		uint64_t r[9] = { HC_RECV, 0, 0, 0, 0, 0, 0, 0, 0 };
		arch_hypercall(r);
		if (r[0] != STATUS_OK || r[2] != IPC_LABEL_FAULT_EXC) {
			puts_("unexpected message\n");
			return 1;
		}
		puts_("resuming the faulted partition\n");
		uint64_t a[9] = { HC_REPLY, 0, 0, IPC_FAULT_RESUME, 0, 0, 0, 0, 0 };
		arch_hypercall(a);
		if (a[0] != STATUS_OK)
			return 1;
	}
	return 0;
#elif defined(GUEST_STATE_WRITER)
	/* Sets every class to a marker, then checks its PMU writes were ignored. */
	yield_until(&FLAGS[0]);
	WR("pmcr_el0", 0); /* E = 0 would stop every counter on the CPU */
	WR("pmcntenclr_el0", UINT64_C(1) << 31);
	WR("pmselr_el0", MARK_SELR);
	WR("pmuserenr_el0", MARK_USERENR);
	WR("pmccfiltr_el0", MARK_CCFILTR);
	WR("pmovsset_el0", UINT64_C(1) << 31);
	WR("tpidr_el0", MARK_TPIDR);
	WR("tpidrro_el0", MARK_TPIDR);
	WR("tpidr_el1", MARK_TPIDR);
	WR("cntkctl_el1", MARK_CNTKCTL);
	WR("cntv_cval_el0", MARK_CVAL);
	WR("csselr_el1", MARK_CSSELR);
	int kept = (RD(pmcr_el0) & 1u) != 0 && RD(pmselr_el0) != MARK_SELR &&
	           RD(pmuserenr_el0) != MARK_USERENR;
	puts_(kept ? "PMU writes ignored\n" : "PMU WRITABLE\n");
	FLAGS[1] = 1;
	return 0;
#elif defined(GUEST_STATE_READER)
	/* Own values first, then let the writer run on this CPU, then compare. */
	WR("tpidr_el0", 0x1111);
	WR("tpidrro_el0", 0x2222);
	WR("tpidr_el1", 0x3333);
	WR("cntkctl_el1", 0);
	WR("cntv_cval_el0", 0x4444);
	WR("csselr_el1", 0);
	FLAGS[0] = 1;
	yield_until(&FLAGS[1]);
	puts_("1..6\n");
	/* The PMU is the machine's (exit.c): the writer's markers must not show. */
	report((RD(pmcr_el0) & 1u) != 0, "PMU counters still enabled (PMCR_EL0.E)");
	uint64_t c0 = RD(pmccntr_el0), c1 = RD(pmccntr_el0);
	report(c1 != c0 && RD(pmccfiltr_el0) != MARK_CCFILTR,
	       "cycle counter still counting (PMCCNTR_EL0, PMCCFILTR_EL0)");
	report(RD(pmselr_el0) != MARK_SELR && RD(pmuserenr_el0) != MARK_USERENR &&
	               (RD(pmovsset_el0) >> 31) == 0,
	       "PMU selection, EL0 access, overflow (PMSELR, PMUSERENR, PMOVSSET)");
	report(RD(tpidr_el0) == 0x1111 && RD(tpidrro_el0) == 0x2222 && RD(tpidr_el1) == 0x3333,
	       "thread ID registers (TPIDR_EL0, TPIDRRO_EL0, TPIDR_EL1)");
	report(RD(cntkctl_el1) == 0 && RD(cntv_cval_el0) == 0x4444,
	       "EL1 timer controls (CNTKCTL_EL1, CNTV_CVAL_EL0)");
	report(RD(csselr_el1) == 0, "cache size selection (CSSELR_EL1)");
	return 0;
#elif defined(GUEST_SPIN_A) || defined(GUEST_SPIN_B)
	uint64_t bad = callee_saved_clobbered_by_yield();
	puts_(bad == 0 ? "x19-x28 survived a yield\n" : "x19-x28 CLOBBERED by a yield\n");
	bad = fp_clobbered_by_yield(UINT64_C(0x1111111111111111) * (MINE + 1));
	puts_(bad == 0 ? "fp registers survived a yield\n" : "fp registers CLOBBERED by a yield\n");
	bad = vm_regs_clobbered_by_yield(UINT64_C(0x0000123412341000) * (MINE + 1));
	puts_(bad == 0 ? "stage-1 controls survived a yield\n" :
	                 "stage-1 controls CLOBBERED by a yield\n");
	/* DISR_EL1 (VDISR_EL2 under HCR_EL2.AMO): A (bit 31) and an ISS that differ. */
	bad = cpu_regs_clobbered_by_yield(MINE ? 0x80 : 0xf0, UINT64_C(0x7777) * (MINE + 1),
	                                  MINE + 1u, MINE ? 0x80000011u : 0x80000022u);
	puts_(bad == 0 ? "virtual PMR, AP1R0, TPIDR2 and DISR survived a yield\n" :
	                 "virtual PMR, AP1R0, TPIDR2 or DISR CLOBBERED by a yield\n");
	/* Set my flag, then spin until the other's: only timer preemption lets it run. */
	FLAGS[MINE] = 1;
	uint64_t spins = 0;
	while (FLAGS[1 - MINE] == 0) {
		if (++spins == (UINT64_C(1) << 32)) {
			puts_("never preempted\n");
			return 1;
		}
	}
	puts_("saw the other partition's flag\n");
	return 0;
#else
#error "choose a GUEST_* variant"
#endif
}
