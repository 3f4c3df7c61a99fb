/**
 * x86_64 (AMD SVM) vCPU state, embedded by value in struct vcpu.
 *
 *   struct vcpu_arch (4 KiB aligned, first member of struct vcpu)
 *   +--------------------+ 0x0000  VMCB: the guest's RAX, RSP, RIP, RFLAGS,
 *   | struct vmcb        |         segments and control registers live
 *   +--------------------+ 0x1000  here; VMRUN takes its physical address
 *   | gpr[16]            |         the other GPRs, saved by svm_entry.S
 *   +--------------------+ 0x1080  around VMRUN (indexed by x86 register
 *   | fpu[512] (FXSAVE)  |         number: 1 rcx, 2 rdx, 3 rbx, 5 rbp, ...)
 *   | vmid, PKRU, ASID   |         x87/SSE state: VMRUN does not switch it
 *   +--------------------+
 *
 * Logical hypercall registers (ipc/abi.h): r0 = rax (in the VMCB), r1..r8 =
 * rdi rsi rdx r8 r9 r10 r11 r12.
 */
#ifndef ARCH_VCPU_X86_H
#define ARCH_VCPU_X86_H

/* Offsets used by svm_entry.S. */
#define VCPU_ARCH_GPR_OFFSET 0x1000
#define VCPU_ARCH_FPU_OFFSET 0x1080
#define X86_REG_RAX 0
#define X86_REG_RCX 1
#define X86_REG_RDX 2
#define X86_REG_RBX 3
#define X86_REG_RSP 4
#define X86_REG_RBP 5
#define X86_REG_RSI 6
#define X86_REG_RDI 7
#define X86_REG_R8 8
#define X86_REG_R12 12

#ifndef __ASSEMBLER__

#include <stdint.h>

#define VCPU_S2_SEEN_VAPIC 0x80000000u
#define VCPU_EXIT_FLUSH_ASID 1u /**< the ASID is shared: flush it on every entry */
#define VCPU_EXIT_VAPIC 2u      /**< acknowledge what the guest took (vapic.c) */
#define VCPU_EXIT_EVENT 4u      /**< a #GP for a refused access was injected (emulate.c) */
#include <x86/vmcb.h>

struct vcpu_arch {
	struct vmcb vmcb; /**< first: its address is the one VMRUN takes */
	uint64_t gpr[16]; /**< guest GPRs other than RAX and RSP */
	/**
	 * The guest's x87/SSE registers in FXSAVE format (AMD APM vol 2
	 * §11.4.4): VMRUN leaves them alone, so svm_entry.S swaps them, or
	 * one partition would read another's.
	 */
	uint8_t fpu[512] __attribute__((aligned(16)));
	uint32_t vmid; /**< the partition's stage-2 vmid (the ASID, see svm.c) */
	/**
	 * The vmid's stage-2 generation at the last flush (svm.c), with
	 * VCPU_S2_SEEN_VAPIC set for a vCPU with a local APIC: no generation
	 * reaches that bit, so the compare every entry makes sends such a vCPU
	 * to the slower entry, and services pay nothing for the APIC.
	 */
	uint32_t s2_seen;
	uint32_t pkru; /**< protection-key rights: not in the VMCB nor in XCR0's image */
	/**
	 * The CPU (index + 1) it last entered on: on another one its ASID is flushed first,
	 * because that CPU's TLB may still hold the ASID's translations from before a
	 * stage-2 change it never saw (s2_seen counts flushes per vCPU, not per CPU).
	 */
	uint32_t ran_on;
	/** VCPU_EXIT_* bits: work after every #VMEXIT; 0 for most services. */
	uint8_t exit_work;
	/** A VM or PVH vCPU: it has a virtual local APIC (vapic.c); services have none. */
	uint8_t vapic;
	/** How the vector in inj_vector was handed to the guest for this trip (vapic.c). */
	uint8_t inj_how;
	uint8_t inj_vector;
	/** The length of its MOV-to-CR or WRMSR held for its monitor (emulate.c, kernel/vmi.c). */
	uint8_t cr_len;
	/** Single-stepped for its monitor (arch_vcpu_set_step). */
	uint8_t vmi_step;
	/** MSRs whose writes its monitor watches (arch_vcpu_trap_msrs), and the one held. */
	uint8_t vmi_msr_count;
	uint32_t vmi_msrs[8];
	uint32_t msr_held;
} __attribute__((aligned(4096)));

_Static_assert(__builtin_offsetof(struct vcpu_arch, gpr) == VCPU_ARCH_GPR_OFFSET, "svm_entry.S");
_Static_assert(__builtin_offsetof(struct vcpu_arch, fpu) == VCPU_ARCH_FPU_OFFSET, "svm_entry.S");

/** x86 register number of each logical register r1..r8 (r0 is the VMCB's RAX). */
#define X86_LOGICAL_REG(i) \
	((i) == 1 ? X86_REG_RDI : (i) == 2 ? X86_REG_RSI : (i) == 3 ? X86_REG_RDX : (i) + 4u)

/** Logical register i (0..8) of the ABI. */
static inline uint64_t arch_vcpu_reg(const struct vcpu_arch *a, uint32_t i)
{
	return i == 0 ? a->vmcb.save.rax : a->gpr[X86_LOGICAL_REG(i) & 15u];
}

static inline void arch_vcpu_set_reg(struct vcpu_arch *a, uint32_t i, uint64_t v)
{
	if (i == 0)
		a->vmcb.save.rax = v;
	else
		a->gpr[X86_LOGICAL_REG(i) & 15u] = v;
}

/** Guest RIP, for fault reports. */
static inline uint64_t arch_vcpu_pc(const struct vcpu_arch *a)
{
	return a->vmcb.save.rip;
}

#endif /* __ASSEMBLER__ */
#endif /* ARCH_VCPU_X86_H */
