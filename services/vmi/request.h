/**
 * The vmi service's request interface: how a monitor's IPC message (a label and
 * IPC_MSG_WORDS words, ipc/abi.h) is decoded into one engine operation (vmi.h) or one walker
 * call (walk.h), and how the answer is encoded. Decoding checks every word: an unknown label,
 * a value out of range or a non-zero word the operation does not use is -EINVAL, and nothing is
 * changed. docs/introspection.md has the table of operations.
 */
#ifndef SERVICES_VMI_REQUEST_H
#define SERVICES_VMI_REQUEST_H

#include <ipc/abi.h>

#include "vmi.h"
#include "walk.h"

/** Request labels (the label word of the monitor's message). */
enum vmi_op {
	VMI_OP_SET_ACCESS = 1,   /**< w0 view, w1 gfn (~0: default), w2 nr, w3 access */
	VMI_OP_GET_ACCESS = 2,   /**< w0 view, w1 gfn -> r0 access */
	VMI_OP_RING_ENABLE = 3,  /**< - */
	VMI_OP_RING_DISABLE = 4, /**< - -> r0 vCPUs released (mask) */
	VMI_OP_GET_EVENT = 5,    /**< - -> the event (see vmi_event_encode); -ENOENT if none */
	VMI_OP_RESPOND = 6,      /**< w0 vcpu | flags << 32, w1 version | view << 32, w2 pc,
	                                w3..w5 gpr0..2 */
	VMI_OP_MONITOR_REG = 7,  /**< w0 reg, w1 VMI_MON_*, w2 mask */
	VMI_OP_MONITOR_MSR = 8,  /**< w0 msr, w1 enable (0/1) */
	VMI_OP_MONITOR_SINGLESTEP = 9, /**< w0 enable (0/1) */
	VMI_OP_ALTP2M_STATE = 10,      /**< w0 on (0/1) */
	VMI_OP_ALTP2M_CREATE = 11,     /**< w0 default access -> r0 view */
	VMI_OP_ALTP2M_DESTROY = 12,    /**< w0 view */
	VMI_OP_ALTP2M_SWITCH = 13,     /**< w0 view */
	VMI_OP_CHANGE_GFN = 14,        /**< w0 view, w1 old gfn, w2 new gfn (~0: undo) */
	VMI_OP_TRANSLATE = 15, /**< w0 vcpu, w1 va -> r0 gpa, r1 size, r2 perm | level << 8 */
	VMI_OP_READ_VA = 16,   /**< w0 vcpu, w1 va, w2 len (<= 40) -> r0..r4 bytes, r5 count */
};

#define VMI_MON_ENABLE 1u
#define VMI_MON_SYNC 2u
#define VMI_MON_ONCHANGEONLY 4u
#define VMI_READ_VA_MAX 40u
#define VMI_ENOENT (-2)

/** A message as the service receives or sends it. */
struct vmi_msg {
	uint64_t label;
	uint64_t w[IPC_MSG_WORDS];
};

/** What the glue must apply to the guest after a request (all zero: nothing). */
struct vmi_effects {
	struct vmi_action action; /**< VMI_OP_RESPOND: for vCPU `vcpu` */
	uint16_t vcpu;
	uint32_t woken;     /**< vCPUs that ring space released */
	uint32_t released;  /**< vCPUs a ring disable released */
	bool views_changed; /**< access, views or remaps changed: resynchronise stage 2 */
};

/**
 * Decodes and performs one request from partition `caller` on guest `g`. `walk` gives each
 * vCPU's translation state (index = vCPU; may be NULL: TRANSLATE and READ_VA are then
 * -EOPNOTSUPP). The answer is `out` (label = status, negative on error). Returns the status.
 */
int vmi_request(struct vmi_guest *g, const struct vmi_walk_ctx *walk, uint16_t caller,
                const struct vmi_msg *in, struct vmi_msg *out, struct vmi_effects *fx);

/** The event in the six words of a GET_EVENT answer (and back, for the client library). */
void vmi_event_encode(const struct vmi_event *ev, uint64_t w[IPC_MSG_WORDS]);
void vmi_event_decode(const uint64_t w[IPC_MSG_WORDS], struct vmi_event *ev);

#endif /* SERVICES_VMI_REQUEST_H */
