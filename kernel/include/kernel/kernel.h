/**
 * The kernel's global state: every object, in fixed arrays, built once at
 * boot from the configuration (kernel/boot.c). Nothing is allocated later.
 *
 * Locking: one big kernel lock (kernel/lock.c) is held from the moment a
 * trap enters the core until it returns the next vCPU, as in seL4's SMP
 * kernel. Kernel entries are short and bounded, so contention stays low
 * and the core stays simple to reason about.
 */
#ifndef KERNEL_KERNEL_H
#define KERNEL_KERNEL_H

#include <kernel/config.h>
#include <kernel/endpoint.h>
#include <kernel/notification.h>
#include <kernel/partition.h>
#include <kernel/vcpu.h>

#define KERNEL_VCPU_MAX CFG_VCPU_TOTAL_MAX
#define KERNEL_VERSION "0.1.0"

/** Routes of guest-physical ranges to an endpoint made at run time (HC_GUEST_ROUTE). */
#define KERNEL_ROUTE_MAX 64u

/** A manifest MMIO range as the emulation path searches it (kernel_state.emul_mmio). */
struct emul_mmio_range {
	u64 ipa, size;
	u64 endpoint; /**< where its accesses are delivered (a pair with the next) */
	struct endpoint *endpoint_obj; /**< &kernel.endpoints[endpoint] */
	u64 index; /**< its index in the manifest's table, word 5 of the message (a pair with badge) */
	u64 badge;   /**< emulated_badge[index] */
	u32 service; /**< the partition that emulates it */
	u32 pad[3];  /**< 64 bytes: the assembly steps with a shift */
};
_Static_assert(sizeof(struct emul_mmio_range) == 64, "emulpath.S steps through the runs by 64");

struct emul_route {
	bool used;
	u32 guest;    /**< partition whose accesses trap */
	u64 ipa;      /**< first address */
	u64 size;     /**< bytes */
	u32 endpoint; /**< where the accesses are delivered */
	u32 service;  /**< the partition that receives there (its stop faults the accesses) */
	u64 badge;    /**< delivered with each access */
	bool port;    /**< x86 I/O ports (ipa: the first port, size: how many) */
};

struct kernel_state {
	struct config cfg;
	u32 cpu_count;
	u32 partition_count;
	struct partition partitions[CFG_PARTITION_MAX];
	u32 vcpu_count;
	struct vcpu vcpus[KERNEL_VCPU_MAX];
	struct endpoint endpoints[CFG_ENDPOINT_MAX];
	struct notification notifications[CFG_NOTIFICATION_MAX];
	int exit_status; /**< 0 unless some partition failed */
	/** The boot package, kept for restarting partitions from their images. */
	const void *package;
	/** Per emulated range: the badge of its emulator's guest capability (emulate.c). */
	u64 emulated_badge[CFG_EMULATED_MAX];
	/**
	 * The manifest's MMIO ranges (CFG_EMULATED_MMIO) again, partition by partition in
	 * manifest order (each partition's run: partition.emul_first, emul_count), set by
	 * emul_setup and never changed: the emulation path's assembly (platform/arm64/
	 * emulpath.S) searches a VM's own run.
	 */
	struct emul_mmio_range emul_mmio[CFG_EMULATED_MAX];
	/** Ranges routed at run time (HC_GUEST_ROUTE, emulate.c), after the manifest's. */
	struct emul_route routes[KERNEL_ROUTE_MAX];
	/**
	 * console_holder_notification's answer, found once (false: look again): the capability
	 * tables change only at boot and through HC_CAP_DERIVE/RESTRICT/DROP, which clear it.
	 */
	bool console_holder_known;
	u32 console_holder;
};

extern struct kernel_state kernel;

#endif /* KERNEL_KERNEL_H */
