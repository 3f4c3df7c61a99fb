/**
 * The x86 half of device emulation in services (docs/emulation.md, x86):
 * the SVM exit path turns a nested page fault or an IOIO exit into the
 * core's TRAP_MMIO (kernel/emulate.h), and arch_vcpu_mmio_complete/abort
 * (emulate.c) finish the instruction when the emulator answers.
 *
 *   NPF (not the APIC page) -> x86_emul_npf:  fetch + decode the MOV at RIP
 *   IOIO                    -> x86_emul_ioio: port, size, direction, next RIP
 *        both: TRAP_MMIO -> kernel_trap -> emul_access (range? emulator : fault)
 */
#ifndef X86_EMULATE_H
#define X86_EMULATE_H

#include <kernel/trap.h>
#include <kernel/vcpu.h>
#include <x86/insn_decode.h>

/**
 * The instruction at v's RIP that made the nested page fault of this exit,
 * fetched through the guest's paging and decoded; false if it cannot be
 * (a fetch or a page walk faulted, an event was being delivered, not one
 * of the MOV forms, or not the access that faulted).
 */
bool x86_emul_decode(struct vcpu *v, struct insn_mmio *d, enum insn_mode *mode);

/**
 * v exited on a write of CR0, CR3 or CR4 its monitor watches: decode the MOV-to-CR (or CLTS)
 * at its RIP into t (TRAP_REG_WRITE); false for a form it does not decode (LMSW).
 */
bool x86_emul_cr_write(struct vcpu *v, u32 cr, struct trap *t);

/** The VMCB field a guest's MSR lives in, for the MSRs a monitor may watch; NULL otherwise. */
u64 *x86_vmi_msr_field(struct vmcb_save *s, u32 msr);

/**
 * v exited on a WRMSR of an MSR the VMCB holds (x86_vmi_msr_field), intercepted because its
 * monitor watches it: true with t the held write (TRAP_REG_WRITE); false if done here (not
 * watched: written; a value WRMSR refuses: #GP(0)).
 */
bool x86_emul_msr_write(struct vcpu *v, struct trap *t);

/**
 * The length of the load or store v's nested page fault stopped, decoded now (the kernel lock
 * held: a monitor's skip, kernel/vmi.c); 0 if it does not decode as one.
 */
u32 x86_emul_insn_length(struct vcpu *v);

/** t holds v's nested page fault: make it TRAP_MMIO if the instruction decodes. */
void x86_emul_npf(struct vcpu *v, struct trap *t);

/** t holds v's IOIO exit: make it TRAP_MMIO with the port flag unless it is INS/OUTS. */
void x86_emul_ioio(struct vcpu *v, struct trap *t);

/** After a #VMEXIT of a vCPU that had a #GP injected for a refused access (VCPU_EXIT_EVENT). */
void x86_emul_exit(struct vcpu_arch *a);

#endif /* X86_EMULATE_H */
