/** Building the system from its configuration, once, at boot. */
#ifndef KERNEL_BOOT_H
#define KERNEL_BOOT_H

#include <kernel/trap.h>

/** Whether kernel_boot has finished building every object. */
bool boot_complete(void);

/**
 * Whether this physical CPU is outside the system the manifest describes
 * (its index at or past the manifest's `cpus`), once boot is complete. The
 * platform takes such a CPU out for good (plat_cpu_park): it runs nothing,
 * polls nothing and takes no lock, so it cannot disturb the CPUs in use.
 */
bool boot_cpu_unused(u32 cpu);

/**
 * Build every object from kernel.cfg (already loaded and validated, with
 * region addresses placed) and return the first vCPU for this CPU. Called
 * by kernel_boot after manifest_load; unit tests call it with a config
 * they fill in themselves. Needs kernel.cpu_count set.
 */
struct vcpu *boot_build_system(const struct boot_info *bi);

#endif /* KERNEL_BOOT_H */
