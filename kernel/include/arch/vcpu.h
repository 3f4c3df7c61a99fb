/**
 * Platform seam: a vCPU's architectural state.
 *
 * The platform's <arch_vcpu.h> (platform/<arch>/include/) defines
 * struct vcpu_arch, embedded by value in struct vcpu, and the static inline
 * accessors below, which the hypercall paths use on every call:
 *
 *   u64  arch_vcpu_reg(const struct vcpu_arch *a, u32 i);   logical r0..r8
 *   void arch_vcpu_set_reg(struct vcpu_arch *a, u32 i, u64 v);
 *   u64  arch_vcpu_pc(const struct vcpu_arch *a);
 *
 * Logical registers are the ones of ipc/abi.h (IPC_REG_*).
 */
#ifndef ARCH_VCPU_H
#define ARCH_VCPU_H

#include <arch_vcpu.h>
#include <ipc/abi.h>
#include <kernel/types.h>

struct trap;

/**
 * Put a vCPU in its reset state: it starts at entry (a guest-physical
 * address) with arg in the first argument register, in the boot mode of its
 * partition type (arm64: EL1h, MMU off; x86: PVH-style 32-bit protected mode,
 * paging off). s2_root is the physical address of the partition's stage-2
 * (nested) root table and vmid tags the partition in the TLB (VMID / ASID):
 * the platform keeps what it needs of them in vcpu_arch (arm64: the VTTBR
 * value; x86: nCR3 and the ASID in the VMCB), so it never reads the core's
 * partition or stage-2 objects.
 */
void arch_vcpu_reset(struct vcpu_arch *a, enum partition_type type, u64 entry, u64 arg,
                     paddr_t s2_root, u32 vmid);

/**
 * Start a vCPU that has run before (and is now powered off) afresh, in the
 * reset state of arch_vcpu_reset at entry with arg, keeping its stage-2 root
 * and VMID. Its state may still be in use by the CPU it last ran on (saved
 * lazily): the platform applies the reset no earlier than that save.
 */
void arch_vcpu_power_on(struct vcpu_arch *a, enum partition_type type, u64 entry, u64 arg);

/**
 * Complete an emulated access (TRAP_MMIO) an emulator answered: a load
 * writes value, narrowed to size bytes and extended as the instruction
 * asked (arch_info, the platform's own from the trap), into its register;
 * both advance the vCPU past the instruction. The vCPU is not running; its
 * general registers are in vcpu_arch.
 */
void arch_vcpu_mmio_complete(struct vcpu_arch *a, u64 arch_info, u32 size, bool write, u64 value);

/**
 * The access cannot complete (the emulator refused it or is gone): the
 * vCPU takes its architecture's bus error for address when it next runs.
 */
void arch_vcpu_mmio_abort(struct vcpu_arch *a, u64 arch_info, u64 address);

/**
 * Run the vCPU on another stage-2 root and TLB tag from its next entry on (an introspection
 * view, kernel/vmi.c). The vCPU is not running anywhere.
 */
void arch_vcpu_set_stage2(struct vcpu_arch *a, paddr_t s2_root, u32 vmid);

/**
 * Step the vCPU over the instruction that just faulted, with no effect (an access its monitor
 * denied). arch_info is the platform's from the fault's trap (a decoded load or store keeps
 * what completing it needs, the instruction's length among it; 0 if it was not decoded).
 * False if the platform cannot tell the instruction's length (x86 without a decode).
 */
bool arch_vcpu_skip_insn(struct vcpu_arch *a, u64 arch_info);

/**
 * Decode the store that just faulted on a page whose writes a device model serves
 * (kernel/dm.c): t->size, t->value and t->arch_info as for a TRAP_MMIO store, so that
 * arch_vcpu_mmio_complete finishes it. arm64 decoded it at the exit from the syndrome (t->size
 * is then not 0); x86 decodes the instruction at RIP now. False if it cannot (no syndrome, an
 * instruction the decoder does not know, not a store).
 */
bool arch_vcpu_decode_store(struct vcpu_arch *a, struct trap *t);

/**
 * What the platform knows of the vCPU's memory fault the core is handling now (syndrome is
 * the trap's): IPC_VMI_GLA_VALID with *gla its guest virtual address (FAR on arm64), and
 * IPC_VMI_IN_GPT if it was the guest's own page-table walk.
 */
u32 arch_vcpu_fault_info(const struct vcpu_arch *a, u64 syndrome, u64 *gla);

/**
 * Single-step the vCPU (TRAP_STEP after each instruction) or stop; the vCPU is not running.
 * False if the platform cannot.
 */
bool arch_vcpu_set_step(struct vcpu_arch *a, bool on);

/** The IPC_VMI_REG_* registers whose writes the platform can trap (a mask of 1 << reg). */
u32 arch_vmi_regs_supported(void);

/**
 * Trap the vCPU's writes of the registers in mask (1 << IPC_VMI_REG_*) from its next entry
 * (TRAP_REG_WRITE); 0 stops it. The vCPU is not running on another CPU now, or the change
 * waits for its next entry there.
 */
void arch_vcpu_trap_regs(struct vcpu_arch *a, u32 mask);

/**
 * Finish a held register write (TRAP_REG_WRITE): perform it (commit) or drop it, and step
 * the vCPU past the instruction. The vCPU is not running; the platform applies the value
 * when it next enters (its registers may still be loaded on the CPU it last ran on).
 */
void arch_vcpu_reg_write_done(struct vcpu_arch *a, u32 reg, u64 value, bool commit);

/**
 * The vCPU stops for a monitor's event (kernel/vmi.c) on the CPU it ran on, its registers
 * still in that CPU: keep what arch_vcpu_vmi_regs reads later, from any CPU.
 */
void arch_vcpu_vmi_pause(struct vcpu_arch *a);

/**
 * The translation registers of a vCPU paused on a monitor's event (HC_VMI GET_REGS):
 * arm64 SCTLR_EL1, TCR_EL1, TTBR0_EL1, TTBR1_EL1; x86 CR0, CR3, CR4, EFER (as the guest sees
 * it).
 */
void arch_vcpu_vmi_regs(const struct vcpu_arch *a, u64 out[4]);

/**
 * A monitor's SET_REGS for a vCPU paused on its event: the PC and three general registers
 * (arm64 x0..x2, x86 RAX, RBX, RCX). Nothing else (PSTATE, RFLAGS, modes) is touched, so the
 * guest stays in the mode it was in.
 */
void arch_vcpu_vmi_set_regs(struct vcpu_arch *a, u64 pc, const u64 gpr[3]);

/** Whether the platform can hold a guest's writes of this MSR (HC_VMI MONITOR_MSR). */
bool arch_vmi_msr_supported(u32 msr);

/**
 * Hold the vCPU's writes of these MSRs (TRAP_REG_WRITE with IPC_VMI_REG_MSR | msr << 32) from
 * its next entry; n = 0 stops it. Every vCPU of the partition gets the same list. False if the
 * platform has no room for another partition's list (nothing changed for this vCPU).
 */
bool arch_vcpu_trap_msrs(struct vcpu_arch *a, const u32 *msrs, u32 n);

#endif /* ARCH_VCPU_H */
