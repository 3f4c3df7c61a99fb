/** Short names for the logical hypercall registers of the current vCPU. */
#ifndef KERNEL_REGS_H
#define KERNEL_REGS_H

#include <kernel/vcpu.h>

static inline u64 reg_get(const struct vcpu *v, u32 i)
{
	return arch_vcpu_reg(&v->arch, i);
}

static inline void reg_set(struct vcpu *v, u32 i, u64 value)
{
	arch_vcpu_set_reg(&v->arch, i, value);
}

static inline void reg_status(struct vcpu *v, enum status s)
{
	arch_vcpu_set_reg(&v->arch, IPC_REG_NR, (u64)s);
}

#endif /* KERNEL_REGS_H */
