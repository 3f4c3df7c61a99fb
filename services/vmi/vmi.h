/**
 * The introspection engine of the vmi service: the state it keeps for one monitored guest and
 * the operations on it, as plain C with no kernel, no hardware and no allocation. Behaviour
 * follows Xen 4.10's mem_access, vm_event, monitor and altp2m (the team's spec,
 * xen-4.10-features.md section 3); docs/introspection.md lists where it differs and why.
 *
 *   struct vmi_guest
 *   +-- views[10]           view 0 = the host view (what the manifest maps), 1..9 alternates
 *   |     +-- default_access, pages[] (gfn -> access, sorted), remaps[] (change_gfn)
 *   +-- vcpus[]             active view, sync pause, ring pause, singlestep, deferred write
 *   +-- ring[8]             vm_event requests for the monitor (FIFO)
 *   +-- monitor settings    register writes (enable, sync, onchangeonly, mask), MSR bitmaps,
 *                           singlestep
 *
 * Errors are Xen's errno values (negative). The engine never trusts its inputs: every index,
 * gfn, access type and flag is checked, and an input it cannot use is refused or ignored, never
 * acted upon half way.
 */
#ifndef SERVICES_VMI_VMI_H
#define SERVICES_VMI_VMI_H

#include <stdbool.h>
#include <stdint.h>

#define VMI_MAX_VIEWS 10u
#define VMI_MAX_VCPUS 8u
#define VMI_RING_SLOTS 8u   /**< Xen: one 4 KiB page of 312-byte entries, rounded down to 2^n */
#define VMI_MAX_PAGES 8192u /**< per-page settings per view (32 MiB: a Linux kernel's code) */
#define VMI_MAX_REMAPS 32u  /**< change_gfn entries per view */
#define VMI_GFN_DEFAULT (~UINT64_C(0)) /**< set_access on this gfn sets the view's default */
#define VMI_GFN_INVALID (~UINT64_C(0)) /**< change_gfn to this gfn undoes the remap */
#define VMI_EVENT_VERSION 2u           /**< Xen's vm_event interface version 2 */

/** Xen's errno values, as the engine returns them. */
enum vmi_err {
	VMI_OK = 0,
	VMI_IGNORED = 1, /**< a response that Xen would ignore (bad version, vCPU, not paused) */
	VMI_EPERM = -1,
	VMI_ENOMEM = -12,
	VMI_EBUSY = -16,
	VMI_EEXIST = -17,
	VMI_EINVAL = -22,
	VMI_ENOSYS = -38,
	VMI_EOPNOTSUPP = -95,
};

/** Access types, with Xen's XENMEM_access_* numbering. */
enum vmi_access {
	VMI_ACCESS_N = 0,
	VMI_ACCESS_R = 1,
	VMI_ACCESS_W = 2, /**< refused: write without read (see vmi_access_valid) */
	VMI_ACCESS_RW = 3,
	VMI_ACCESS_X = 4,
	VMI_ACCESS_RX = 5,
	VMI_ACCESS_WX = 6, /**< refused like W */
	VMI_ACCESS_RWX = 7,
	VMI_ACCESS_RX2RW = 8, /**< rx; a write silently makes it rw */
	VMI_ACCESS_N2RWX = 9, /**< nothing; any access makes it rwx and sends an event */
	VMI_ACCESS_DEFAULT = 10,
	VMI_ACCESS_COUNT
};

/** Rights, as the kernel's IPC_ACCESS_* bits: read 1, write 2, execute 4. */
#define VMI_R 1u
#define VMI_W 2u
#define VMI_X 4u
#define VMI_RWX 7u

/** Registers whose writes can be monitored (arm64 via HCR_EL2.TVM, x86 via intercepts). */
enum vmi_reg {
	VMI_REG_X86_CR0 = 0,
	VMI_REG_X86_CR3 = 1,
	VMI_REG_X86_CR4 = 2,
	VMI_REG_X86_XCR0 = 3,
	VMI_REG_ARM_SCTLR = 4,
	VMI_REG_ARM_TTBR0 = 5,
	VMI_REG_ARM_TTBR1 = 6,
	VMI_REG_ARM_TCR = 7,
	VMI_REG_ARM_VBAR = 8,
	VMI_REG_COUNT
};

/** Event reasons (Xen's VM_EVENT_REASON_* where one exists). */
enum vmi_reason {
	VMI_REASON_MEM_ACCESS = 1,
	VMI_REASON_WRITE_REG = 2, /**< Xen: WRITE_CTRLREG */
	VMI_REASON_MOV_TO_MSR = 3,
	VMI_REASON_SINGLESTEP = 4,
	VMI_REASON_GUEST_REQUEST = 5, /**< Xen: GUEST_REQUEST; index = offset, new_value = value */
};

/** vm_event flags (request and response), Xen's values. */
#define VMI_EF_VCPU_PAUSED (1u << 0)
#define VMI_EF_TOGGLE_SINGLESTEP (1u << 2)
#define VMI_EF_EMULATE (1u << 3)
#define VMI_EF_EMULATE_NOWRITE (1u << 4)
#define VMI_EF_DENY (1u << 6)
#define VMI_EF_ALTERNATE_P2M (1u << 7)
#define VMI_EF_SET_REGISTERS (1u << 8)
#define VMI_EF_RESPONSE_MASK                                                                       \
	(VMI_EF_VCPU_PAUSED | VMI_EF_TOGGLE_SINGLESTEP | VMI_EF_EMULATE | VMI_EF_EMULATE_NOWRITE | \
	 VMI_EF_DENY | VMI_EF_ALTERNATE_P2M | VMI_EF_SET_REGISTERS)

/** mem_access event details (Xen's MEM_ACCESS_* bits). */
#define VMI_MA_R (1u << 0)
#define VMI_MA_W (1u << 1)
#define VMI_MA_X (1u << 2)
#define VMI_MA_GLA_VALID (1u << 3)
#define VMI_MA_FAULT_WITH_GLA (1u << 4)
#define VMI_MA_FAULT_IN_GPT (1u << 5)

/** One request on the ring, for the monitor. */
struct vmi_event {
	uint32_t version; /**< VMI_EVENT_VERSION */
	uint32_t flags;   /**< VMI_EF_VCPU_PAUSED if the vCPU waits for the answer */
	uint32_t reason;  /**< enum vmi_reason */
	uint16_t vcpu;
	uint16_t view;   /**< the vCPU's active view */
	uint64_t pc;     /**< guest PC / RIP at the event */
	uint64_t gfn;    /**< MEM_ACCESS: the frame; SINGLESTEP: frame of the PC if known */
	uint64_t offset; /**< MEM_ACCESS: offset in the frame */
	uint64_t gla;    /**< MEM_ACCESS: guest linear address if VMI_MA_GLA_VALID */
	uint32_t access; /**< MEM_ACCESS: VMI_MA_* */
	uint32_t index;  /**< WRITE_REG: enum vmi_reg; MOV_TO_MSR: the MSR */
	uint64_t new_value;
	uint64_t old_value;
};

/** The monitor's answer to one event. */
struct vmi_response {
	uint32_t version; /**< must be VMI_EVENT_VERSION, or the response is ignored */
	uint32_t flags;   /**< VMI_EF_* */
	uint16_t vcpu;
	uint16_t view;   /**< with VMI_EF_ALTERNATE_P2M */
	uint64_t pc;     /**< with VMI_EF_SET_REGISTERS: new PC */
	uint64_t gpr[4]; /**< with VMI_EF_SET_REGISTERS: x0-x3 / rax, rbx, rcx, rdx */
};

/** What the kernel glue must do for a vCPU after a response (all false: nothing). */
struct vmi_action {
	bool unpause;         /**< the vCPU runs again */
	bool emulate;         /**< emulate the faulting instruction with the page's real rights */
	bool emulate_nowrite; /**< emulate it but discard its writes */
	bool skip;            /**< deny a memory access: step over the instruction, no effect */
	bool commit_write;    /**< perform the deferred register write (reg, value) */
	bool drop_write;      /**< a deferred register write was denied */
	bool view_changed;    /**< the vCPU's active view is now `view` */
	bool set_regs;        /**< load pc and gpr[] */
	bool singlestep_changed;
	bool singlestep; /**< the new single-step state */
	uint8_t reg;
	uint8_t view;
	uint64_t value;
	uint64_t pc;
	uint64_t gpr[4];
};

/** A page's setting in a view. */
struct vmi_page {
	uint64_t gfn;
	uint8_t access; /**< enum vmi_access, never DEFAULT, W or WX */
};

/** A change_gfn remap in a view: accesses to old_gfn reach new_gfn's frame. */
struct vmi_remap {
	uint64_t old_gfn;
	uint64_t new_gfn;
};

struct vmi_view {
	bool used;
	uint8_t default_access;
	uint16_t page_count;
	uint16_t remap_count;
	struct vmi_page pages[VMI_MAX_PAGES]; /**< sorted by gfn */
	struct vmi_remap remaps[VMI_MAX_REMAPS];
};

struct vmi_vcpu {
	uint8_t view;
	bool sync_paused;   /**< waits for the monitor's response to `pending_reason` */
	bool ring_paused;   /**< paused by the pause-when-full rule, until ring space frees */
	bool slot_wait;     /**< its event found the ring full: it retries when woken */
	bool singlestep;    /**< single-stepping (toggled by responses) */
	bool write_pending; /**< a deferred register / MSR write */
	uint8_t pending_reason;
	uint8_t pending_reg;
	uint32_t pending_msr;
	uint64_t pending_value;
};

/** Register-write monitoring options for one register. */
struct vmi_reg_monitor {
	bool enabled;
	bool sync;
	bool onchangeonly;
	uint64_t mask; /**< a change only in these bits sends no event */
};

/** The guest's static description, from the manifest (checked by vmi_guest_init). */
struct vmi_guest_config {
	uint16_t id;         /**< the target partition */
	uint16_t monitor_id; /**< the partition holding the monitor right (never `id`) */
	bool is_x86;
	uint16_t vcpu_count;  /**< 1..VMI_MAX_VCPUS */
	uint64_t gfn_count;   /**< frames 0..gfn_count-1 are the guest's RAM */
	bool ring_pfn_set;    /**< Xen's HVM_PARAM_MONITOR_RING_PFN: a ring page exists */
	bool altp2m_allowed;  /**< Xen's HVM_PARAM_ALTP2M is not "disabled" */
	bool access_required; /**< a violation with no listener stops the guest */
};

#define VMI_MSR_BITMAP_BYTES (0x2000u / 8u)

struct vmi_guest {
	struct vmi_guest_config cfg;
	bool altp2m_active;
	bool ring_enabled;
	bool crashed; /**< access_required with no listener: the guest is to be stopped */
	uint8_t ring_head;
	uint8_t ring_count;
	uint8_t last_woken;
	bool singlestep_monitor;
	struct vmi_reg_monitor regs[VMI_REG_COUNT];
	uint8_t msr_bitmap[3][VMI_MSR_BITMAP_BYTES]; /**< 0-0x1fff, 0x40000000-, 0xc0000000- */
	struct vmi_event ring[VMI_RING_SLOTS];
	struct vmi_vcpu vcpus[VMI_MAX_VCPUS];
	struct vmi_view views[VMI_MAX_VIEWS];
};

/* ---- access.c: types, views, altp2m, change_gfn ------------------------------------------ */

/** Starts monitoring state for a guest: view 0 with default rwx, no ring, no events. */
int vmi_guest_init(struct vmi_guest *g, const struct vmi_guest_config *cfg);

/** Whether a value is an access type that set_access accepts (not W or WX). */
bool vmi_access_valid(uint32_t access, bool allow_default);

/** The rights an access type grants (VMI_R|W|X); DEFAULT, W and WX grant nothing. */
unsigned vmi_access_rights(uint32_t access);

/**
 * XENMEM_access_op_set_access: sets `nr` pages from `gfn` (or the view's default if gfn is
 * VMI_GFN_DEFAULT) in view `view`. DEFAULT on a page removes its own setting.
 */
int vmi_set_access(struct vmi_guest *g, uint16_t caller, uint32_t view, uint64_t gfn, uint64_t nr,
                   uint32_t access);

/** XENMEM_access_op_get_access: the page's access type (or the view's default). */
int vmi_get_access(const struct vmi_guest *g, uint16_t caller, uint32_t view, uint64_t gfn,
                   uint32_t *access);

/** The access type in force for a gfn in a view: its own, else view 0's, else the default. */
uint8_t vmi_view_access(const struct vmi_guest *g, uint32_t view, uint64_t gfn);

/** A view's own entry for a gfn, or NULL. */
const struct vmi_page *vmi_page_find(const struct vmi_view *v, uint64_t gfn);
/** Sets or (access DEFAULT) removes one page's entry in a view; -ENOMEM when it is full. */
int vmi_page_set(struct vmi_view *v, uint64_t gfn, uint8_t access);

/** The rights the kernel maps: what the manifest grants, intersected with the access type. */
unsigned vmi_effective(const struct vmi_guest *g, uint32_t view, uint64_t gfn, unsigned manifest);

/** The frame behind a gfn in a view (change_gfn), or the gfn itself. */
uint64_t vmi_view_frame(const struct vmi_guest *g, uint32_t view, uint64_t gfn);

int vmi_altp2m_set_state(struct vmi_guest *g, uint16_t caller, bool on);
int vmi_altp2m_create(struct vmi_guest *g, uint16_t caller, uint32_t default_access,
                      uint32_t *view);
int vmi_altp2m_destroy(struct vmi_guest *g, uint16_t caller, uint32_t view);
int vmi_altp2m_switch(struct vmi_guest *g, uint16_t caller, uint32_t view);
int vmi_change_gfn(struct vmi_guest *g, uint16_t caller, uint32_t view, uint64_t old_gfn,
                   uint64_t new_gfn);

/* ---- event.c: the ring, violations, monitor events, responses ------------------------------ */

int vmi_ring_enable(struct vmi_guest *g, uint16_t caller);
/** Disables the ring and releases every vCPU (deferred writes are committed). */
int vmi_ring_disable(struct vmi_guest *g, uint16_t caller, uint32_t *released_mask);
/** Takes the oldest event; wakes vCPUs that ring space frees (`*woken_mask`). */
bool vmi_ring_get(struct vmi_guest *g, struct vmi_event *ev, uint32_t *woken_mask);

/** What happens to a vCPU whose access was stopped by stage 2. */
enum vmi_fault_outcome {
	VMI_FO_NOT_MINE = 0, /**< the manifest forbids the access: an ordinary fault */
	VMI_FO_RETRY = 1,    /**< the rights changed (or already allow it): run the access again */
	VMI_FO_PAUSED = 2,   /**< a sync event is queued; the vCPU waits for the response */
	VMI_FO_WAIT = 3,     /**< the ring is full: the vCPU waits for space, then retries */
	VMI_FO_CRASH = 4,    /**< access_required and no listener: stop the guest */
	VMI_FO_BAD = 5,      /**< malformed input (vCPU, gfn, access bits) */
};

/** A stage-2 access violation on a monitored guest, as the kernel reports it. */
struct vmi_fault {
	uint16_t vcpu;
	uint64_t gfn;
	uint64_t offset;   /**< in the frame */
	unsigned access;   /**< VMI_R, VMI_W or VMI_X (one of them) */
	unsigned manifest; /**< the rights the manifest grants on this gfn */
	bool gla_valid;
	bool in_gpt; /**< the access was the guest's page-table walk */
	uint64_t gla;
	uint64_t pc;
};

/** Handles a violation; `*ring_paused` is set if the vCPU must also stop for ring space. */
enum vmi_fault_outcome vmi_violation(struct vmi_guest *g, const struct vmi_fault *f,
                                     bool *ring_paused);

/** Monitor options (XEN_DOMCTL_monitor_op). */
int vmi_monitor_reg(struct vmi_guest *g, uint16_t caller, uint32_t reg, bool enable, bool sync,
                    bool onchangeonly, uint64_t mask);
int vmi_monitor_msr(struct vmi_guest *g, uint16_t caller, uint64_t msr, bool enable);
int vmi_monitor_singlestep(struct vmi_guest *g, uint16_t caller, bool enable);

/** What a trapped register or MSR write does next. */
enum vmi_write_outcome {
	VMI_WO_COMMIT = 0,   /**< no event (or an async one): perform the write */
	VMI_WO_DEFERRED = 1, /**< sync event queued: the write waits for the response */
	VMI_WO_WAIT = 2,     /**< ring full: retry the write when woken */
	VMI_WO_BAD = 3,      /**< malformed input */
};

enum vmi_write_outcome vmi_reg_write(struct vmi_guest *g, uint16_t vcpu, uint32_t reg,
                                     uint64_t old_value, uint64_t new_value, uint64_t pc,
                                     bool *ring_paused);
enum vmi_write_outcome vmi_msr_write(struct vmi_guest *g, uint16_t vcpu, uint64_t msr,
                                     uint64_t old_value, uint64_t new_value, uint64_t pc,
                                     bool *ring_paused);
/** A single-step trap: a sync event if the monitor asked for them and the vCPU steps. */
enum vmi_fault_outcome vmi_singlestep_trap(struct vmi_guest *g, uint16_t vcpu, uint64_t pc,
                                           uint64_t pc_gfn, bool *ring_paused);

/**
 * A guest request (Xen's HVMOP_guest_request_vm_event; here a store to a doorbell page the
 * service emulates): an event without a pause carrying `index` and `value`. VMI_FO_RETRY: done
 * (queued, or dropped without a ring); VMI_FO_WAIT: the ring is full, nothing queued (the vCPU
 * is marked waiting for a slot); VMI_FO_BAD: malformed. `*ring_paused` as for vmi_violation.
 */
enum vmi_fault_outcome vmi_guest_request(struct vmi_guest *g, uint16_t vcpu, uint64_t pc,
                                         uint32_t index, uint64_t value, bool *ring_paused);

/** Applies a response (vm_event resume); `*a` says what the kernel glue does. */
int vmi_respond(struct vmi_guest *g, uint16_t caller, const struct vmi_response *r,
                struct vmi_action *a);

/** Whether a vCPU may run (not paused for a response, for ring space, or a slot). */
bool vmi_vcpu_runnable(const struct vmi_guest *g, uint16_t vcpu);

#endif /* SERVICES_VMI_VMI_H */
