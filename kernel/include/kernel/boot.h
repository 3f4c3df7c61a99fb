/** Building the system from its configuration, once, at boot. */
#ifndef KERNEL_BOOT_H
#define KERNEL_BOOT_H

#include <kernel/trap.h>

/** Whether kernel_boot has finished building every object. */
bool boot_complete(void);

/**
 * Build every object from kernel.cfg (already loaded and validated, with
 * region addresses placed) and return the first vCPU for this CPU. Called
 * by kernel_boot after manifest_load; unit tests call it with a config
 * they fill in themselves. Needs kernel.cpu_count set.
 */
struct vcpu *boot_build_system(const struct boot_info *bi);

#endif /* KERNEL_BOOT_H */
