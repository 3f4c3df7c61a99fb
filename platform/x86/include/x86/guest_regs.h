/**
 * A stopped vCPU's registers as the x86 exit path reads and writes them
 * (vapic.c, emulate.c): RAX, RSP and RIP live in the VMCB, the other GPRs
 * in vcpu_arch.gpr. Only saved state is touched, never a CPU's registers,
 * so another CPU may complete a blocked vCPU's access.
 */
#ifndef X86_GUEST_REGS_H
#define X86_GUEST_REGS_H

#include <arch/vcpu.h>
#include <x86/insn_decode.h>

#define X86_CR0_PE (UINT64_C(1) << 0)
#define X86_EFER_LME (UINT64_C(1) << 8)
#define X86_EFER_LMA (UINT64_C(1) << 10)
#define X86_CR0_PG (UINT64_C(1) << 31)
#define X86_RFLAGS_TF (UINT64_C(1) << 8)
#define X86_DR6_BS (UINT64_C(1) << 14)
/** CS attributes in the VMCB: descriptor bits 55:52 sit in 11:8 (L = 53, D = 54). */
#define X86_CS_ATTRIB_L (1u << 9)
#define X86_CS_ATTRIB_D (1u << 10)

/** The decoder's view of the guest's code segment. */
static inline enum insn_mode x86_guest_insn_mode(const struct vmcb_save *s)
{
	if ((s->efer & X86_EFER_LMA) && (s->cs.attrib & X86_CS_ATTRIB_L))
		return INSN_MODE_64;
	if ((s->cr0 & X86_CR0_PE) && (s->cs.attrib & X86_CS_ATTRIB_D))
		return INSN_MODE_32;
	return INSN_MODE_16;
}

/** Where GPR number reg (0 = RAX ... 15 = R15) of the vCPU lives. */
static inline u64 *x86_guest_gpr(struct vcpu_arch *a, u32 reg)
{
	if (reg == X86_REG_RAX)
		return &a->vmcb.save.rax;
	if (reg == X86_REG_RSP)
		return &a->vmcb.save.rsp;
	return &a->gpr[reg & 15u];
}

/** The instruction completed: step over it (no NRIPS under TCG) and end any STI shadow. */
static inline void x86_guest_advance(struct vmcb *vm, enum insn_mode mode, u32 length)
{
	vm->save.rip += length;
	if (mode != INSN_MODE_64)
		vm->save.rip &= 0xffffffffu;
	vm->ctrl.int_shadow &= ~(u64)VMCB_INT_SHADOW;
}

#endif /* X86_GUEST_REGS_H */
