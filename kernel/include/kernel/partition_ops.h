/** Partition life cycle after boot. */
#ifndef KERNEL_PARTITION_OPS_H
#define KERNEL_PARTITION_OPS_H

#include <kernel/partition.h>

/**
 * Stop every vCPU of p for good, detach them from IPC (partners are
 * released with STATUS_PEER_STOPPED) and report why, once. failed marks
 * the system's final status as failed. Stopping a stopped partition does
 * nothing, so a guest cannot make the kernel log twice.
 */
void partition_stop(struct partition *p, const char *why, bool failed);

struct cfg_region;

/**
 * Copy r's `contents` blob (kernel.package) into it, if it names one: at boot after every
 * region is cleared, and when a restart clears the region again.
 */
void region_fill_contents(const struct cfg_region *r);

struct trap;
struct vcpu;

/**
 * v faulted (t: TRAP_MEM_FAULT or TRAP_GUEST_EXCEPTION): the fault goes to
 * its partition's fault handler if it has one, else the partition stops
 * with a report. Returns the vCPU to run next (trap.c).
 */
struct vcpu *trap_fault(struct vcpu *v, const struct trap *t);

#endif /* KERNEL_PARTITION_OPS_H */
