/**
 * The fake platform's vCPU state: just the logical registers, so host unit
 * tests can play a partition by setting registers and calling kernel_trap.
 */
#ifndef FAKE_ARCH_VCPU_H
#define FAKE_ARCH_VCPU_H

#include <ipc/abi.h>
#include <kernel/types.h>

struct vcpu_arch {
	u64 regs[IPC_REG_COUNT];
	u64 pc;
	u32 type;
	u64 s2_root; /**< what arch_vcpu_reset was given, for tests */
	u32 vmid;
	u64 arg;
	u32 reset_count;
};

static inline u64 arch_vcpu_reg(const struct vcpu_arch *a, u32 i)
{
	return a->regs[i];
}

static inline void arch_vcpu_set_reg(struct vcpu_arch *a, u32 i, u64 v)
{
	a->regs[i] = v;
}

static inline u64 arch_vcpu_pc(const struct vcpu_arch *a)
{
	return a->pc;
}

#endif /* FAKE_ARCH_VCPU_H */
