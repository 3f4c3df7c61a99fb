/**
 * Device-model mediation, the kernel's half (docs/device-models.md): what the dmop service
 * asks of a guest's memory and life through HC_DM, on a guest capability with RIGHT_GUEST_DM.
 *
 * - Memory types: a range of the guest's RAM made read-only (Xen's HVMMEM_ram_ro: the guest's
 *   writes are dropped, the instruction has no effect), write-served (HVMMEM_ioreq_server:
 *   its writes go to a device model as emulated accesses, its reads are RAM's) or read-write
 *   again.
 * - A dirty log over one range of the guest's RAM (track_dirty_vram, modified_memory): a
 *   tracked page is write-locked until the guest writes it; the write unlocks it (it is now
 *   dirty) and runs; a fetch reports and locks again.
 * - remote_shutdown: the guest stops as its own PSCI SYSTEM_OFF would stop it.
 *
 * Both act through one bit of every stage-2 leaf, STAGE2_WLOCK (arch/stage2.h), apart from
 * the read, write and execute bits a monitor sets (kernel/vmi.c): the right in force is the
 * manifest's, intersected with the monitor's, less the write while the lock holds. So a
 * monitor's PROTECT never gives back a write a memory type or the dirty log took, and a type
 * change never gives back one the monitor took. The lock is kept in every view of the guest.
 *
 *   guest write -> trap_fault -> dm_fault: the page's write is held back by the lock ->
 *   read-only type: the instruction is stepped over; write-served: decoded and sent to the
 *   write server, the vCPU waits for its answer; else: unlocked (dirty) in every view, the
 *   write runs again.
 */
#ifndef KERNEL_DM_H
#define KERNEL_DM_H

#include <ipc/abi.h>
#include <kernel/types.h>

struct partition;
struct trap;
struct vcpu;

/** Typed ranges (read-only or write-served) a guest may have at once (neighbours merge). */
#define DM_TYPE_RANGES 32u

struct dm_range {
	u64 start, end; /**< guest-physical, [start, end), page aligned */
	u32 type;       /**< IPC_DM_RAM_RO or IPC_DM_RAM_WRITE_SERVER */
};

/** A guest's device-model state (in struct partition). */
struct dm_state {
	struct dm_range ro[DM_TYPE_RANGES]; /**< typed ranges, sorted, disjoint */
	u32 ro_count;
	u32 ws_endpoint; /**< where writes to write-served pages go (CFG_NONE: nowhere) */
	u32 ws_service;  /**< the partition receiving there */
	u64 ws_badge;
	u64 dirty_start, dirty_end; /**< the tracked range; empty when equal */
	u64 armed;                  /**< the tracked range is locked in every view below this */
	bool used;                  /**< some page may be locked */
};

/** Boot and restart: every page of the guest read-write, nothing tracked. */
void dm_init(struct partition *g);

/** HC_DM. */
struct vcpu *dm_call(struct vcpu *v);

/** What dm_fault made of a memory fault. */
enum dm_verdict {
	DM_NOT_MINE, /**< no lock of this kernel's half stopped it */
	DM_HANDLED,  /**< *next is the vCPU to run next */
	DM_FAULT,    /**< the guest's fault as it is (an instruction that cannot be dropped) */
};

/** A memory fault of v (trap_fault, before introspection sees it). */
enum dm_verdict dm_fault(struct vcpu *v, const struct trap *t, struct vcpu **next);

/** View `view` of g was just built or rebuilt (kernel/vmi.c): the locks go into it. */
bool dm_view_created(struct partition *g, u32 view);

/** The page at ipa of view `view` was just remapped: its lock again, as the page's state says. */
void dm_page_remapped(struct partition *g, u32 view, u64 ipa);

/** g stops (or restarts): its pages unlocked, its types, write server and log forgotten. */
void dm_partition_stopped(struct partition *g);

#endif /* KERNEL_DM_H */
