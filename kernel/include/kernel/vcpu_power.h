/**
 * vCPU power: starting and stopping a partition's own vCPUs, and ending the
 * partition, at its own request (arm64 PSCI CPU_ON / CPU_OFF /
 * AFFINITY_INFO / SYSTEM_OFF / SYSTEM_RESET, later x86 INIT-SIPI). The
 * platform decodes the firmware interface and calls kernel_power(); the
 * core knows nothing of PSCI.
 *
 *   state        how it gets there                   leaves by
 *   VCPU_OFF     boot (a VM's vCPUs other than 0),   POWER_CPU_ON from a vCPU of the
 *                POWER_CPU_OFF                       same partition (reset at entry, arg)
 *   others       POWER_CPU_ON                        POWER_CPU_OFF, partition stop
 *
 * A partition can start only its own vCPUs, and only at an entry address
 * inside one of its own executable mappings.
 */
#ifndef KERNEL_VCPU_POWER_H
#define KERNEL_VCPU_POWER_H

#include <kernel/types.h>

struct vcpu;

enum power_op {
	POWER_CPU_ON,        /**< start vCPU `target` at `entry` with `arg` */
	POWER_CPU_OFF,       /**< power the calling vCPU off */
	POWER_AFFINITY_INFO, /**< whether vCPU `target` is on */
	POWER_SUSPEND,       /**< wait for an interrupt (a WFI) */
	POWER_SYSTEM_OFF,    /**< stop the calling partition, cleanly */
	POWER_SYSTEM_RESET,  /**< restart the calling partition (not yet: stops it) */
};

struct power_req {
	enum power_op op;
	u32 target; /**< vCPU index within the caller's partition */
	u64 entry;  /**< guest-physical entry address (POWER_CPU_ON) */
	u64 arg;    /**< first argument register at entry (POWER_CPU_ON) */
};

enum power_result {
	POWER_OK,
	POWER_NO_SUCH_VCPU, /**< target is not a vCPU of the caller's partition */
	POWER_ALREADY_ON,   /**< CPU_ON of a vCPU that is on */
	POWER_BAD_ENTRY,    /**< CPU_ON at an address the partition cannot execute */
	POWER_IS_OFF,       /**< AFFINITY_INFO: the vCPU is off (POWER_OK: on) */
};

/**
 * Carry out req for cur under the kernel lock and return the vCPU to run
 * next on this CPU (cur itself unless it went off, waits or stopped);
 * *result says what happened. Like kernel_trap(), an entry from the
 * platform.
 */
struct vcpu *kernel_power(struct vcpu *cur, const struct power_req *req, enum power_result *result);

#endif /* KERNEL_VCPU_POWER_H */
