/**
 * AMD SVM: turning a CPU into a host, a vCPU into a VMCB, and every
 * #VMEXIT into a struct trap for the kernel core (AMD APM vol 2 §15).
 *
 * The run loop (x86_run) is the only place that enters guests:
 *
 *   v = kernel_boot() --> [ VMRUN v ] --> #VMEXIT --> svm_exit(v) --+
 *                            ^                                       |
 *                            +------- next vCPU (kernel_trap) <------+
 *   v == NULL: sleep (HLT), then kernel_trap(NULL, timer) or kernel_idle()
 *
 * What is intercepted and why is in docs/platform-x86.md.
 */
#include <arch/cpu.h>
#include <arch/vcpu.h>
#include <kernel/check.h>
#include <kernel/kernel.h>
#include <kernel/print.h>
#include <kernel/trap.h>
#include <kernel/vcpu.h>
#include <plat/memory.h>
#include <plat/power.h>
#include <string.h>
#include <kernel/config.h>
#include <x86/asid.h>
#include <x86/emulate.h>
#include <x86/guest_regs.h>
#include <x86/layout.h>
#include <x86/mmio_info.h>
#include <x86/vapic.h>
#include <x86/vlapic.h>

#include <x86/x86.h>

/** Host state area the CPU uses across VMRUN (VM_HSAVE_PA, §15.30.4). */
static u8 hsave_area[X86_CPU_MAX][4096] __attribute__((aligned(4096)));
/** Host FS/GS/TR/LDTR/syscall MSRs, VMSAVEd once per CPU (§15.5.2). */
static u8 host_state[X86_CPU_MAX][4096] __attribute__((aligned(4096)));
/** I/O and MSR permission maps shared by every vCPU (§15.10.1, §15.11). */
static u8 iopm[3 * 4096] __attribute__((aligned(4096)));
static u8 msrpm[2 * 4096] __attribute__((aligned(4096)));
/**
 * The maps of partitions whose monitor watches MSR writes (arch_vcpu_trap_msrs): the shared
 * map with those MSRs' write bits set, one per such partition (by vmid; 0: free).
 */
#define VMI_MSRPM_COUNT 4u
static u8 vmi_msrpm[VMI_MSRPM_COUNT][2 * 4096] __attribute__((aligned(4096)));
static u32 vmi_msrpm_vmid[VMI_MSRPM_COUNT];
/** ASIDs the CPU offers (CPUID 8000_000Ah:EBX); 0 is the host's. */
static u32 asid_count;
/**
 * Stage-2 generation of each vmid, counted up by arch_stage2_flush(): a
 * vCPU whose last entry saw an older one flushes its ASID on the next
 * VMRUN. The CPU entering the vCPU is the only one that writes its
 * TLB_CONTROL, so a flush asked for by another CPU cannot be overwritten.
 */
static u32 s2_generation[CFG_PARTITION_MAX + 1];
/** CPUID 7.0:ECX[3]: the CPU has protection keys, so PKRU must be switched. */
static bool has_pku;
/** CPUID 1:ECX[26]: XCR0 exists and is pinned to x87 only (x86_xstate_init). */
static bool has_xsave;

#define CR4_OSXSAVE (UINT64_C(1) << 18)
#define CR4_PKE (UINT64_C(1) << 22)

/**
 * Exceptions a service partition cannot handle (it has no IDT): all but
 * NMI, which has its own intercept. VMs and PVH guests handle their own.
 */
#define SERVICE_EXCEPTIONS 0xfffffffbu

#define MISC1_INTERCEPTS                                                                         \
	(VMCB_MISC1_INTR | VMCB_MISC1_NMI | VMCB_MISC1_SMI | VMCB_MISC1_INIT | VMCB_MISC1_INVD | \
	 VMCB_MISC1_RDPMC | VMCB_MISC1_HLT | VMCB_MISC1_INVLPGA | VMCB_MISC1_IOIO |              \
	 VMCB_MISC1_MSR | VMCB_MISC1_TASK_SWITCH | VMCB_MISC1_FERR_FREEZE | VMCB_MISC1_SHUTDOWN)
#define MISC2_INTERCEPTS                                                                     \
	(VMCB_MISC2_VMRUN | VMCB_MISC2_VMMCALL | VMCB_MISC2_VMLOAD | VMCB_MISC2_VMSAVE |     \
	 VMCB_MISC2_STGI | VMCB_MISC2_CLGI | VMCB_MISC2_SKINIT | VMCB_MISC2_MONITOR |        \
	 VMCB_MISC2_MWAIT | VMCB_MISC2_MWAIT_ARMED | VMCB_MISC2_XSETBV | VMCB_MISC2_WBINVD | \
	 VMCB_MISC2_RDPRU)

/** PAT reset value (AMD APM vol 2 §7.8.2): the guest starts with it. */
#define PAT_DEFAULT UINT64_C(0x0007040600070406)

/**
 * Clears the two intercept bits of msr in the MSR permission map
 * (§15.11: three 2 KiB ranges, two bits per MSR, read then write).
 */
static u32 msrpm_bit(u32 msr)
{
	if (msr < 0x2000u)
		return msr * 2u;
	if (msr >= 0xc0000000u && msr < 0xc0002000u)
		return 0x800u * 8u + (msr - 0xc0000000u) * 2u;
	return UINT32_MAX;
}

static void msrpm_allow(u32 msr)
{
	u32 bit = msrpm_bit(msr);
	if (bit != UINT32_MAX)
		msrpm[bit / 8] &= (u8) ~(3u << (bit % 8));
}

/**
 * Pins the extended state a guest can reach to what svm_entry.S switches.
 * XCR0 is not switched by VMRUN and guests cannot XSETBV (intercepted):
 * setting it to x87 only here, whatever firmware left, keeps AVX, AVX-512,
 * AMX and the other XSAVE components disabled for every guest, so the
 * FXSAVE image is their whole x87/SSE state (AMD APM vol 2 §11.5.2). PKRU
 * is outside XCR0's reach (WRPKRU needs only the guest's CR4.PKE), so the
 * host sets CR4.PKE to be able to switch it (APM vol 2 §5.6.6); the host
 * maps no user pages, so its own accesses never consult PKRU.
 */
static void x86_xstate_init(void)
{
	u64 cr4;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	has_xsave = (cpuid(1, 0).ecx & (1u << 26)) != 0;
	if (has_xsave) {
		cr4 |= CR4_OSXSAVE;
		__asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
		xsetbv0(1u);
	}
	has_pku = cpuid(0, 0).eax >= 7u && (cpuid(7, 0).ecx & (1u << 3));
	if (has_pku) {
		cr4 |= CR4_PKE;
		__asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
	}
}

/**
 * Makes this CPU an SVM host: EFER.SVME, the host save area, and the
 * permission maps (every port and MSR intercepted except the MSRs that
 * VMRUN/VMLOAD/VMSAVE switch per guest anyway).
 */
void x86_svm_init(u32 cpu)
{
	struct cpuid_regs ext = cpuid(0x80000001u, 0);
	if (!(ext.ecx & (1u << 2)) || !(cpuid(0x8000000au, 0).edx & 1u)) {
		kprintf("[hyp] boot failed: this CPU has no AMD SVM with nested paging\n");
		kprintf("[hyp] system off: status=1\n");
		plat_system_off(1);
	}
	asid_count = cpuid(0x8000000au, 0).ebx;
	if (asid_count < 2u) {
		kprintf("[hyp] boot failed: SVM offers no ASID for guests\n");
		kprintf("[hyp] system off: status=1\n");
		plat_system_off(1);
	}
	x86_xstate_init();
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, plat_virt_to_phys(hsave_area[cpu]).pa);
	if (cpu == 0) {
		memset(iopm, 0xff, sizeof(iopm));
		memset(msrpm, 0xff, sizeof(msrpm));
		/* Switched per guest by VMRUN (EFER) and VMLOAD/VMSAVE (the rest). */
		static const u32 switched[] = {
			0x174,       /* SYSENTER_CS */
			0x175,       /* SYSENTER_ESP */
			0x176,       /* SYSENTER_EIP */
			0xc0000080u, /* EFER */
			0xc0000081u, /* STAR */
			0xc0000082u, /* LSTAR */
			0xc0000083u, /* CSTAR */
			0xc0000084u, /* SFMASK */
			0xc0000100u, /* FS base */
			0xc0000101u, /* GS base */
			0xc0000102u, /* KernelGSbase */
		};

		for (u32 i = 0; i < ARRAY_COUNT(switched); i++)
			msrpm_allow(switched[i]);
	}
	u64 pa = plat_virt_to_phys(host_state[cpu]).pa;
	__asm__ volatile("vmsave %0" : : "a"(pa) : "memory");
}

static struct vmcb_seg seg(u16 selector, u16 attrib, u32 limit)
{
	return (struct vmcb_seg){
		.selector = selector, .attrib = attrib, .limit = limit, .base = 0
	};
}

/**
 * PVH-style start (docs/platform-x86.md): 32-bit protected mode with flat
 * 4 GiB segments, paging off, EIP = entry, EBX = arg, x87/SSE in their
 * FNINIT state, nested paging on with the partition's stage-2 root.
 */
void arch_vcpu_reset(struct vcpu_arch *a, enum partition_type type, u64 entry, u64 arg,
                     paddr_t s2_root, u32 vmid)
{
	CHECK(vmid != 0); /* ASID 0 is the host's: VMRUN would refuse it (§15.5.1) */
	memset(a, 0, sizeof(*a));
	struct vmcb_ctrl *c = &a->vmcb.ctrl;
	c->intercept_exc = type == PARTITION_SERVICE ? SERVICE_EXCEPTIONS : 0;
	/*
	 * VMRUN does not switch DR0-DR3 (§15.5.1): a guest could read another's
	 * breakpoint addresses. Nothing here uses them yet, so access stops the
	 * partition; DR6/DR7 are in the VMCB.
	 */
	c->intercept_dr = VMCB_DR0_3_ACCESS;
	c->intercept_misc1 = MISC1_INTERCEPTS;
	c->intercept_misc2 = MISC2_INTERCEPTS;
	c->iopm_base_pa = plat_virt_to_phys(iopm).pa;
	c->msrpm_base_pa = plat_virt_to_phys(msrpm).pa;
	/*
	 * ASID = vmid while the CPU has enough (QEMU offers 16, so 1..14 are
	 * owned; the core's vmids run 1..CFG_PARTITION_MAX); past that,
	 * partitions share the last ASID and flush it on every entry (x86/asid.h).
	 */
	CHECK(vmid <= CFG_PARTITION_MAX);
	bool shared;
	c->asid = x86_asid_for(vmid, asid_count, &shared);
	a->exit_work = shared ? VCPU_EXIT_FLUSH_ASID : 0;
	a->s2_seen = __atomic_load_n(&s2_generation[vmid], __ATOMIC_ACQUIRE);
	c->int_ctl = VMCB_INT_CTL_V_INTR_MASKING;
	c->np_enable = 1;
	if (type != PARTITION_SERVICE) {
		/*
		 * A virtual local APIC (vapic.c): CPUID offers its TSC-deadline
		 * mode, and the TSC counts from the kernel clock's origin so
		 * deadlines convert to it.
		 */
		a->vapic = 1;
		a->s2_seen |= VCPU_S2_SEEN_VAPIC;
		a->exit_work |= VCPU_EXIT_VAPIC;
		c->intercept_misc1 |= VMCB_MISC1_CPUID;
		c->tsc_offset = (u64)0 - x86_timer_tsc_boot();
	}

	struct vmcb_save *s = &a->vmcb.save;
	s->cs = seg(0x08, 0xc9b, 0xffffffffu); /* code, exec/read, DPL 0, 32-bit, 4 KiB granules */
	s->ds = s->es = s->ss = s->fs = s->gs = seg(0x10, 0xc93, 0xffffffffu);
	s->tr = seg(0, 0x08b, 0x67); /* busy 32-bit TSS, as after a task load */
	s->ldtr = seg(0, 0x082, 0);
	s->gdtr = seg(0, 0, 0);
	s->idtr = seg(0, 0, 0);
	s->efer = EFER_SVME; /* VMRUN requires it in the guest's EFER too */
	s->cr0 = 0x11;       /* PE | ET */
	s->rflags = 0x2;
	s->rip = entry;
	s->dr6 = 0xffff0ff0u;
	s->dr7 = 0x400u;
	s->g_pat = PAT_DEFAULT;
	a->gpr[X86_REG_RBX] = arg;
	/* FNINIT's x87 control word and the reset MXCSR (AMD APM vol 2 §11.4.4). */
	u16 fcw = 0x37f;
	u32 mxcsr = 0x1f80;
	memcpy(&a->fpu[0], &fcw, sizeof(fcw));
	memcpy(&a->fpu[24], &mxcsr, sizeof(mxcsr));
	a->vmid = vmid;
	/* The partition's tables exist before its vCPUs are reset: nCR3 is fixed from here on. */
	CHECK(s2_root.pa != 0);
	c->n_cr3 = s2_root.pa;
	c->tlb_control = VMCB_TLB_FLUSH_ASID;
}

/**
 * VMRUN's #VMEXIT leaves every register of the vCPU in memory: reset at once. Its stage-2
 * root (its view) and the CR writes its monitor watches (kernel/vmi.c) stay.
 */
void arch_vcpu_power_on(struct vcpu_arch *a, enum partition_type type, u64 entry, u64 arg)
{
	u32 watched = a->vmcb.ctrl.intercept_cr & 0xffff0000u;
	arch_vcpu_reset(a, type, entry, arg, pa_init(a->vmcb.ctrl.n_cr3), a->vmid);
	a->vmcb.ctrl.intercept_cr |= watched;
}

static const char *guest_exception_name(u32 vector)
{
	switch (vector) {
	case 0:
		return "divide error";
	case 1:
		return "debug exception";
	case 3:
		return "breakpoint";
	case 6:
		return "undefined instruction";
	case 8:
		return "double fault";
	case 12:
		return "stack fault";
	case 13:
		return "general protection fault";
	case 14:
		return "page fault";
	case 17:
		return "alignment check";
	case 18:
		return "machine check";
	default:
		return "exception";
	}
}

/**
 * A physical interrupt made the guest exit (it is still pending: INTR exits
 * before acknowledging, §15.21.2). Open a GIF window (IF is 1 in the run
 * loop) so the IDT handler takes it, then report what it was.
 */
static struct vcpu *take_interrupts(struct vcpu *v, u32 cpu)
{
	__asm__ volatile("stgi; nop; clgi" : : : "memory");
	struct trap t = { .kind = TRAP_TIMER };
	if (x86_events[cpu].timer) {
		x86_events[cpu].timer = false;
		/*
		 * A vCPU's own APIC timer: re-entering it delivers the interrupt.
		 * If the vCPU running now has no local APIC, a VM armed the timer
		 * and handed the CPU over without the scheduler (a direct IPC
		 * switch): the core's deadline goes back on the timer.
		 */
		if (x86_timer_fired_for_guest(cpu) && !x86_events[cpu].kick) {
			if (!v->arch.vapic)
				x86_timer_guest_deadline(cpu, 0);
			return v;
		}
		x86_events[cpu].kick = false;
	} else if (x86_events[cpu].kick) {
		x86_events[cpu].kick = false;
		t.kind = TRAP_IRQ;
	} else {
		return v; /* spurious, or one the host has no use for */
	}
	return kernel_trap(v, &t);
}

static struct vcpu *svm_exit_slow(struct vcpu *v, u32 cpu, u64 code);

/** Decodes a #VMEXIT of v into a trap for the core (exit codes: APM vol 2 appendix C). */
static struct vcpu *svm_exit(struct vcpu *v, u32 cpu)
{
	struct vmcb *vm = &v->arch.vmcb;
	u64 code = vm->ctrl.exit_code;

	if (code == VMEXIT_VMMCALL) {
		vm->save.rip += 3; /* no NRIPS under TCG: VMMCALL is 0F 01 D9 */
		return kernel_trap_hypercall(v);
	}
	return svm_exit_slow(v, cpu, code);
}

/** Every exit but VMMCALL, kept out of the hypercall path. */
static __attribute__((noinline)) struct vcpu *svm_exit_slow(struct vcpu *v, u32 cpu, u64 code)
{
	if (code == VMEXIT_INTR)
		return take_interrupts(v, cpu); /* first: a vCPU's timer comes this way */
	struct vmcb *vm = &v->arch.vmcb;
	/*
	 * VMRUN that fails its consistency checks exits with -1 (VMEXIT_INVALID;
	 * -2 and -3 are the SEV-ES busy / idle codes), §15.5.1 and appendix C.
	 * QEMU's TCG stores it as a 32-bit -1, so the low half decides.
	 */
	if ((u32)code >= 0xfffffffdu)
		code = VMEXIT_INVALID;
	struct trap t = { .kind = TRAP_GUEST_EXCEPTION, .syndrome = code };
	switch (code) {
	case VMEXIT_NPF: {
		u64 info = vm->ctrl.exit_info1;
		struct vcpu *next;
		if (v->arch.vapic &&
		    (vm->ctrl.exit_info2 & ~(u64)(VLAPIC_SIZE - 1u)) == VLAPIC_BASE &&
		    x86_vapic_mmio(v, &next))
			return next;
		t.kind = TRAP_MEM_FAULT;
		t.address = vm->ctrl.exit_info2;
		t.access = (info & NPF_INFO_FETCH) ? IPC_ACCESS_EXEC :
		           (info & NPF_INFO_WRITE) ? IPC_ACCESS_WRITE :
		                                     IPC_ACCESS_READ;
		t.syndrome = info;
		t.what = "nested page";
		/*
		 * A decodable load or store: the core finds its emulator, or faults it as above.
		 * Emulated ranges are never mapped: a present entry's refusal (a monitor's rights,
		 * kernel/vmi.c) is a plain memory fault, decoded only if its monitor skips it.
		 */
		if (!(info & NPF_INFO_PRESENT))
			x86_emul_npf(v, &t);
		break;
	}
	case VMEXIT_NMI:
	case VMEXIT_SMI:
	case VMEXIT_INIT:
		return v; /* the host took or ignores it; the guest just resumes */
	case VMEXIT_HLT:
		if (v->arch.vapic)
			return x86_vapic_hlt(v);
		vm->save.rip += 1;
		t.kind = TRAP_WFI;
		break;
	case VMEXIT_SHUTDOWN:
		t.what = "triple fault";
		break;
	case VMEXIT_IOIO:
		/*
		 * Every port is intercepted (one IOPM for all): IN/OUT go to the
		 * core as TRAP_MMIO, which answers them from the guest's emulated
		 * port ranges or faults them as "port I/O" with EXITINFO1.
		 */
		t.what = "port I/O";
		t.syndrome = vm->ctrl.exit_info1;
		x86_emul_ioio(v, &t);
		break;
	case VMEXIT_CPUID:
		x86_vapic_cpuid(v); /* intercepted only for vCPUs with a local APIC */
		return v;
	case VMEXIT_MSR:
		/* A write of an MSR the VMCB holds: intercepted only for its monitor. */
		if (vm->ctrl.exit_info1 == 1u &&
		    x86_vmi_msr_field(&vm->save, (u32)v->arch.gpr[X86_REG_RCX]) != NULL) {
			if (!x86_emul_msr_write(v, &t))
				return v;
			break;
		}
		if (v->arch.vapic && x86_vapic_msr(v))
			return v;
		t.what = "MSR access";
		t.syndrome = v->arch.gpr[X86_REG_RCX];
		break;
	case VMEXIT_CR_WRITE_BASE + 0:
	case VMEXIT_CR_WRITE_BASE + 3:
	case VMEXIT_CR_WRITE_BASE + 4:
		/* A control register its monitor watches (kernel/vmi.c). */
		t.what = "control register write (not decoded)";
		(void)x86_emul_cr_write(v, (u32)(code - VMEXIT_CR_WRITE_BASE), &t);
		break;
	case VMEXIT_INVALID:
		/* VMRUN refused the state the guest left in its VMCB (§15.5.1). */
		t.what = "invalid guest state";
		break;
	case VMEXIT_XSETBV:
		t.what = "XCR0 write (XSETBV)";
		break;
	case VMEXIT_WBINVD:
		/* It would write back and drop every partition's cached lines. */
		t.what = "cache flush (WBINVD)";
		break;
	default:
		if (code == VMEXIT_EXCP_BASE + 1u && v->arch.vmi_step &&
		    (vm->save.dr6 & X86_DR6_BS)) {
			/* Its single step (arch_vcpu_set_step): hidden from the guest, to the core. */
			vm->save.dr6 &= ~X86_DR6_BS;
			t.kind = TRAP_STEP;
			t.what = NULL;
		} else if (code >= VMEXIT_EXCP_BASE && code < VMEXIT_EXCP_BASE + 32) {
			t.what = guest_exception_name((u32)(code - VMEXIT_EXCP_BASE));
			/* #PF: EXITINFO2 is the faulting linear address (CR2), §15.12. */
			if (code == VMEXIT_EXCP_BASE + 14)
				t.address = vm->ctrl.exit_info2;
		} else if (code >= VMEXIT_DR_BASE && code < VMEXIT_DR_BASE + 32) {
			t.what = "debug register access";
		} else {
			t.what = "intercepted instruction";
		}
		break;
	}
	return kernel_trap(v, &t);
}

/**
 * Stage-2 tables of vmid changed: each of its vCPUs flushes its ASID on
 * its next VMRUN, on whichever CPU that is (AMD APM vol 2 §15.16.1).
 */
void x86_svm_stage2_changed(u32 vmid)
{
	if (vmid <= CFG_PARTITION_MAX)
		__atomic_add_fetch(&s2_generation[vmid], 1u, __ATOMIC_RELEASE);
}

/**
 * Before VMRUN, when the vCPU's stage-2 generation is not the vmid's: the
 * tables changed (flush the ASID), or it has a local APIC (whose delivery
 * runs before every entry; see VCPU_S2_SEEN_VAPIC); or when it enters on
 * another CPU than last time (flush the ASID there too).
 */
static __attribute__((noinline)) void entry_work(struct vcpu *v, u32 gen, u32 cpu)
{
	struct vcpu_arch *a = &v->arch;
	if (a->ran_on != cpu + 1u) {
		/* The core moved it here (or it is its first entry). */
		a->ran_on = cpu + 1u;
		a->vmcb.ctrl.tlb_control = VMCB_TLB_FLUSH_ASID;
	}
	if ((a->s2_seen & ~VCPU_S2_SEEN_VAPIC) != gen) {
		a->s2_seen = gen | (a->s2_seen & VCPU_S2_SEEN_VAPIC);
		a->vmcb.ctrl.tlb_control = VMCB_TLB_FLUSH_ASID;
	}
	if (a->vapic)
		x86_vapic_entry(v, cpu);
}

/** After the #VMEXIT of a vCPU with exit_work: a shared ASID, a local APIC. */
static __attribute__((noinline)) void exit_work(struct vcpu *v)
{
	struct vcpu_arch *a = &v->arch;
	a->vmcb.ctrl.tlb_control = (a->exit_work & VCPU_EXIT_FLUSH_ASID) ? VMCB_TLB_FLUSH_ASID :
	                                                                   VMCB_TLB_FLUSH_NONE;
	if (a->exit_work & VCPU_EXIT_VAPIC)
		x86_vapic_exit(v);
	if (a->exit_work & VCPU_EXIT_EVENT)
		x86_emul_exit(a);
}

/** Nothing to run: sleep until an interrupt (unless kicked already), then ask the core again. */
static struct vcpu *idle(u32 cpu)
{
	if (!x86_events[cpu].kick)
		x86_halt_in_run_loop();
	if (x86_events[cpu].timer) {
		x86_events[cpu].timer = false;
		struct trap t = { .kind = TRAP_TIMER };
		return kernel_trap(NULL, &t);
	}
	x86_events[cpu].kick = false;
	return kernel_idle(cpu);
}

_Noreturn void x86_run(struct vcpu *v)
{
	u32 cpu = arch_cpu_index();
	u64 host_pa = plat_virt_to_phys(host_state[cpu]).pa;
	/* From here on GIF = 0 and IF = 1 (see svm_entry.S). */
	__asm__ volatile("clgi; sti" : : : "memory");
	for (;;) {
		while (v == NULL)
			v = idle(cpu);
		/*
		 * svm_vmrun preserves only RBP and RSP: declaring the rest
		 * clobbered lets the compiler keep just what it needs instead
		 * of the callee saving all six callee-saved registers.
		 */
		struct vcpu_arch *a = &v->arch;
		u32 gen = __atomic_load_n(&s2_generation[a->vmid], __ATOMIC_ACQUIRE);
		if (gen != a->s2_seen || a->ran_on != cpu + 1u)
			entry_work(v, gen, cpu);
		/*
		 * PKRU is not in the VMCB and XCR0 leaves it out of every XSAVE
		 * image: a guest that sets CR4.PKE could read the last one's.
		 */
		if (has_pku)
			wrpkru(a->pkru);
		u64 hpa = host_pa;
		__asm__ volatile("call svm_vmrun"
		                 : "+D"(a), "+S"(hpa)
		                 :
		                 : "rax", "rbx", "rcx", "rdx", "r8", "r9", "r10", "r11", "r12",
		                   "r13", "r14", "r15", "memory", "cc");
		a = &v->arch; /* RDI is the guest's now, whatever "+D" says */
		if (has_pku)
			a->pkru = rdpkru();
		/*
		 * XSETBV is intercepted, but QEMU's TCG (7.2) runs it in the
		 * guest anyway: a changed XCR0 is put back before anything else
		 * runs on this CPU and stops the guest like the intercept would.
		 */
		if (has_xsave && xgetbv0() != 1u) {
			xsetbv0(1u);
			a->vmcb.ctrl.exit_code = VMEXIT_XSETBV;
		}
		if (a->exit_work == 0)
			a->vmcb.ctrl.tlb_control = VMCB_TLB_FLUSH_NONE;
		else
			exit_work(v);
		v = svm_exit(v, cpu);
	}
}

/** Takes effect at its next VMRUN, with its ASID flushed there (entry_work: ran_on). */
void arch_vcpu_set_stage2(struct vcpu_arch *a, paddr_t s2_root, u32 vmid)
{
	(void)vmid;
	a->vmcb.ctrl.n_cr3 = s2_root.pa;
	a->ran_on = 0;
}

/**
 * A load or store the exit path decoded (x86_emul_npf) carries its length in arch_info; one
 * it did not decode (a permission fault, arch_info 0) is decoded now; an instruction the
 * decoder does not understand cannot be stepped over.
 */
bool arch_vcpu_skip_insn(struct vcpu_arch *a, u64 arch_info)
{
	struct insn_mmio d;
	enum insn_mode mode;
	if (arch_info == 0) {
		/* Not decoded at the exit (a permission fault): now, under the kernel lock. */
		u32 len = x86_emul_insn_length((struct vcpu *)a); /* arch is its first member */
		if (len == 0)
			return false;
		a->vmcb.save.rip += len;
		return true;
	}
	x86_mmio_info_unpack(arch_info, &d, &mode);
	if (d.length == 0)
		return false;
	a->vmcb.save.rip += d.length;
	return true;
}

/** SVM reports no guest linear address with a nested page fault; EXITINFO1 says the walk. */
u32 arch_vcpu_fault_info(const struct vcpu_arch *a, u64 syndrome, u64 *gla)
{
	(void)a;
	(void)gla;
	return (syndrome & NPF_INFO_GUEST_WALK) ? IPC_VMI_IN_GPT : 0u;
}

/** CR0, CR3 and CR4 writes, through the VMCB's CR write intercepts (APM vol 2 15.9). */
u32 arch_vmi_regs_supported(void)
{
	return (1u << IPC_VMI_REG_CR0) | (1u << IPC_VMI_REG_CR3) | (1u << IPC_VMI_REG_CR4);
}

void arch_vcpu_trap_regs(struct vcpu_arch *a, u32 mask)
{
	u32 w = 0;
	if (mask & (1u << IPC_VMI_REG_CR0))
		w |= 1u << 16;
	if (mask & (1u << IPC_VMI_REG_CR3))
		w |= 1u << (16 + 3);
	if (mask & (1u << IPC_VMI_REG_CR4))
		w |= 1u << (16 + 4);
	a->vmcb.ctrl.intercept_cr = (a->vmcb.ctrl.intercept_cr & 0xffffu) | w;
}

bool arch_vmi_msr_supported(u32 msr)
{
	static struct vmcb_save any; /* only the field's address is asked for */
	return x86_vmi_msr_field(&any, msr) != NULL;
}

/**
 * The partition's own map (by vmid), a copy of the shared one with the write bits of msrs set;
 * reads stay the guest's. n = 0: back to the shared map, the partition's given up.
 */
bool arch_vcpu_trap_msrs(struct vcpu_arch *a, const u32 *msrs, u32 n)
{
	u32 k = VMI_MSRPM_COUNT;
	for (u32 i = 0; i < VMI_MSRPM_COUNT; i++)
		if (vmi_msrpm_vmid[i] == a->vmid)
			k = i;
	if (n == 0 || n > ARRAY_COUNT(a->vmi_msrs)) {
		if (k < VMI_MSRPM_COUNT)
			vmi_msrpm_vmid[k] = 0;
		a->vmcb.ctrl.msrpm_base_pa = plat_virt_to_phys(msrpm).pa;
		a->vmi_msr_count = 0;
		return n == 0;
	}
	for (u32 i = 0; k == VMI_MSRPM_COUNT && i < VMI_MSRPM_COUNT; i++)
		if (vmi_msrpm_vmid[i] == 0)
			k = i;
	if (k == VMI_MSRPM_COUNT)
		return false;
	vmi_msrpm_vmid[k] = a->vmid;
	memcpy(vmi_msrpm[k], msrpm, sizeof(msrpm));
	for (u32 i = 0; i < n; i++) {
		u32 bit = msrpm_bit(msrs[i]) + 1u; /* the write bit */
		vmi_msrpm[k][bit / 8] |= (u8)(1u << (bit % 8));
		a->vmi_msrs[i] = msrs[i];
	}
	a->vmi_msr_count = (u8)n;
	a->vmcb.ctrl.msrpm_base_pa = plat_virt_to_phys(vmi_msrpm[k]).pa;
	return true;
}

/** The VMCB holds them whenever the vCPU is not running. */
void arch_vcpu_vmi_pause(struct vcpu_arch *a)
{
	(void)a;
}

void arch_vcpu_vmi_regs(const struct vcpu_arch *a, u64 out[4])
{
	out[0] = a->vmcb.save.cr0;
	out[1] = a->vmcb.save.cr3;
	out[2] = a->vmcb.save.cr4;
	out[3] = a->vmcb.save.efer & ~(u64)EFER_SVME; /* VMRUN's, not the guest's */
}

void arch_vcpu_vmi_set_regs(struct vcpu_arch *a, u64 pc, const u64 gpr[3])
{
	a->vmcb.save.rip = pc;
	a->vmcb.save.rax = gpr[0];
	a->gpr[X86_REG_RBX] = gpr[1];
	a->gpr[X86_REG_RCX] = gpr[2];
}

/**
 * RFLAGS.TF makes the guest take a #DB trap after each instruction (APM vol 2 13.1.4), which
 * the #DB intercept turns into an exit before the guest sees it (svm_exit_slow: TRAP_STEP).
 */
bool arch_vcpu_set_step(struct vcpu_arch *a, bool on)
{
	struct vmcb *vm = &a->vmcb;
	a->vmi_step = on;
	if (on) {
		vm->save.rflags |= X86_RFLAGS_TF;
		vm->ctrl.intercept_exc |= 1u << 1;
	} else {
		vm->save.rflags &= ~X86_RFLAGS_TF;
		if (a->vapic) /* a VM intercepts no exception; a service every one */
			vm->ctrl.intercept_exc &= ~(1u << 1);
	}
	return true;
}
