/**
 * Building small systems for host tests of the kernel core: fill
 * kernel.cfg directly (as manifest_load would), boot it on the fake
 * platform, and play partitions by setting registers and trapping.
 */
#ifndef TESTS_SYSTEM_H
#define TESTS_SYSTEM_H

#include <fake.h>
#include <kernel/boot.h>
#include <kernel/kernel.h>
#include <kernel/sched.h>
#include <kernel/trap.h>

/** Forget every object and start a new configuration with cpu_count CPUs. */
void tsys_reset(u32 cpu_count);
/** Add a service partition with vcpu_count vCPUs and a private 4 KiB RAM region. */
u32 tsys_partition(const char *name, u32 vcpu_count);
u32 tsys_endpoint(void);
u32 tsys_notification(void);
void tsys_cap(u32 partition, u32 slot, u32 type, u32 object, u32 rights, u64 badge);
/** Build the system; returns the first vCPU for CPU 0. */
struct vcpu *tsys_boot(void);
struct vcpu *tsys_vcpu(u32 partition, u32 index);

/** Make v issue hypercall nr with r1..r3 (others zero); returns the next vCPU. */
struct vcpu *hc(struct vcpu *v, u64 nr, u64 r1, u64 r2, u64 r3);
/** Trap v with a non-hypercall event. */
struct vcpu *trap_event(struct vcpu *v, enum trap_kind kind, u64 address, u32 access);

/** The console output so far, after draining what the kernel buffered. */
const char *tsys_console(void);

static inline u64 reg(const struct vcpu *v, u32 i)
{
	return v->arch.regs[i];
}

#endif /* TESTS_SYSTEM_H */
