/**
 * The virtual local APIC of VM and PVH vCPUs in the SVM exit path
 * (vapic.c; the register model is vlapic.h). Services have none and never
 * reach these functions: x86_run tests vcpu_arch.vapic first.
 *
 *   x86_run:  x86_vapic_entry(v) --> VMRUN --> x86_vapic_exit(v) --> svm_exit
 *   svm_exit: NPF at 0xFEE00xxx       -> x86_vapic_mmio
 *             HLT                     -> x86_vapic_hlt
 *             RDMSR/WRMSR, CPUID      -> x86_vapic_msr, x86_vapic_cpuid
 */
#ifndef X86_VAPIC_H
#define X86_VAPIC_H

#include <kernel/trap.h>
#include <kernel/types.h>

struct vcpu;

/** Bus clock of the virtual APIC timer before its divider: 1 GHz, one count per ns. */
#define X86_VAPIC_BUS_HZ UINT64_C(1000000000)

const char *x86_vapic_setup(u32 part_id, struct vcpu *vcpus, u32 vcpu_count);
/**
 * HC_GUEST_IRQ: raise vector (32..255) as an edge in vCPU 0's local APIC
 * of partition vmid (kernel lock held). Returns 0 (vCPU 0 has it to take),
 * -1 if nothing was raised (raise false: an edge has no lowering), -2 if
 * the partition has no local APIC.
 */
int x86_vapic_raise(u32 vmid, u8 vector, bool raise);
void x86_vapic_entry(struct vcpu *v, u32 cpu);
void x86_vapic_exit(struct vcpu *v);
bool x86_vapic_mmio(struct vcpu *v, struct vcpu **next);
struct vcpu *x86_vapic_hlt(struct vcpu *v);
bool x86_vapic_msr(struct vcpu *v);
void x86_vapic_cpuid(struct vcpu *v);

#endif /* X86_VAPIC_H */
