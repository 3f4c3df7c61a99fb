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

/**
 * Put a vCPU in its reset state: it starts at entry (a guest-physical
 * address) with arg in the first argument register, in the boot mode of its
 * partition type (arm64: EL1h, MMU off; x86: PVH-style 32-bit protected mode,
 * paging off). vmid distinguishes the partition in the TLB (VMID / ASID).
 */
void arch_vcpu_reset(struct vcpu_arch *a, enum partition_type type, u64 entry, u64 arg, u32 vmid);

/**
 * Start a vCPU that has run before (and is now powered off) afresh, in the
 * reset state of arch_vcpu_reset at entry with arg, keeping its VMID. Its
 * state may still be in use by the CPU it last ran on (saved lazily): the
 * platform applies the reset no earlier than that save.
 */
void arch_vcpu_power_on(struct vcpu_arch *a, enum partition_type type, u64 entry, u64 arg);

/**
 * Let the vCPU use the CPU's performance counters directly (the manifest's
 * `pmu;`), after arch_vcpu_reset; the grant outlives later resets. Without
 * it the platform keeps the counters out of the partition's reach, since
 * they are per-CPU state every partition on the CPU would share. A platform
 * without such counters ignores it.
 */
void arch_vcpu_grant_pmu(struct vcpu_arch *a);

#endif /* ARCH_VCPU_H */
