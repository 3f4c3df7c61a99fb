/**
 * Introspection, the kernel's half (docs/introspection.md): per-page rights a monitor sets
 * on a guest apart from the manifest's (the effective right is the intersection), up to
 * IPC_VMI_VIEWS stage-2 views per guest with an active view per vCPU, change_gfn inside a
 * view, and access events that pause the vCPU until the monitor answers. The policy (access
 * types, the event ring, Xen's rules) lives in services/vmi; every call here needs a
 * capability with RIGHT_GUEST_MONITOR over the guest (HC_VMI).
 *
 *   guest fault -> trap_fault -> vmi_fault: the manifest allows it, the monitor's rights
 *   do not -> IPC_LABEL_VMI_MEM to the monitor's endpoint, the vCPU waits -> the reply
 *   (vmi_reply) retries or skips the access, maybe in another view.
 */
#ifndef KERNEL_VMI_H
#define KERNEL_VMI_H

#include <ipc/abi.h>
#include <kernel/stage2.h>
#include <kernel/types.h>
#include <kernel/vcpu.h>

struct cfg_mapping;
struct partition;
struct trap;

/** change_gfn entries a guest may have at once, over all its views. */
#define VMI_REMAP_MAX 32u
/**
 * Stage-2 tables reserved at boot for a VM that some partition may monitor or serve as a
 * device model (it holds a guest capability with the monitor or dm right over it), unless its
 * manifest says `stage2-tables`: its views and block splits (introspection, memory types, the
 * dirty log: kernel/dm.c) take them from the pool, over its life.
 */
#define VMI_TABLE_QUOTA 64u
/** MSRs whose writes a guest's monitor may watch at once (HC_VMI MONITOR_MSR). */
#define VMI_MSR_MAX 8u

struct vmi_remap {
	u64 ipa;
	u8 view;
	bool used;
};

/** A guest's introspection state (in struct partition). */
struct vmi_state {
	u32 monitor; /**< the partition whose endpoint gets the events, CFG_NONE if none */
	u32 endpoint;
	u64 badge;
	u32 tables_left; /**< of VMI_TABLE_QUOTA */
	u16 views_used;  /**< bit k: view k exists (bit 0, the partition's own s2, always) */
	u16 views_built; /**< bit k: views[k] has its tables (kept after a destroy) */
	bool touched;    /**< some right of view 0 may differ from the manifest's */
	u32 regs;        /**< registers whose writes are events (1 << IPC_VMI_REG_*) */
	bool stepping;   /**< some vCPU may be single-stepped (HC_VMI SINGLESTEP) */
	u32 msr_count;   /**< MSRs whose writes are events (IPC_VMI_REG_MSR set in regs) */
	u32 msrs[VMI_MSR_MAX];
	struct stage2 views[IPC_VMI_VIEWS]; /**< [0] unused */
	struct vmi_remap remaps[VMI_REMAP_MAX];
};

/** Boot: no monitor, view 0 only, `tables` reserved for it (vmi_quota). */
void vmi_init(struct partition *g, u32 tables);

/** The tables to reserve for partition id at boot (its manifest's, or the default). */
u32 vmi_quota(const struct config *cfg, u32 id);

/** The guest's RAM mapping (a private or shared region, never a device) holding the range. */
const struct cfg_mapping *vmi_ram(const struct partition *g, u64 ipa, u64 size);

/** HC_VMI. */
struct vcpu *vmi_call(struct vcpu *v);

/**
 * A memory fault of v (trap_fault): if the manifest allows the access and only a monitor's
 * rights stopped it, the event goes to the monitor (or, with none listening, the page gets
 * the manifest's rights back), *next is the vCPU to run next (NULL: idle) and the result is
 * true; false if it is an ordinary fault.
 */
bool vmi_fault(struct vcpu *v, const struct trap *t, struct vcpu **next);

/** Whether v waits for a monitor's answer to an access or register event. */
static inline bool vmi_waiting(const struct vcpu *v)
{
	return v->kernel_sender &&
	       (v->kmsg.label == IPC_LABEL_VMI_MEM || v->kmsg.label == IPC_LABEL_VMI_REG ||
	        v->kmsg.label == IPC_LABEL_VMI_STEP);
}

/** A single-stepped vCPU's step (TRAP_STEP): the event, or the stepping ended. */
struct vcpu *vmi_step(struct vcpu *v);

/** A held register write of v (TRAP_REG_WRITE): the event, or the write done at once. */
struct vcpu *vmi_reg_write(struct vcpu *v, const struct trap *t);

/** The monitor's reply (w0 action, w1 view + 1 or 0) to caller's event; caller may run. */
void vmi_reply(struct vcpu *caller, u64 action, u64 view_plus1);

/** The monitor gave up caller's event without answering: it retries the access. */
void vmi_abandon(struct vcpu *caller);

/**
 * Partition p stopped (partition_stop, before a restart): the guests it monitored, and p
 * itself if monitored, get the manifest's rights and view 0 back; no vCPU stays paused.
 */
void vmi_partition_stopped(struct partition *p);

#endif /* KERNEL_VMI_H */
