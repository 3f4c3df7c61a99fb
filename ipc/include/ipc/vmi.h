/**
 * The vmi service's interface (services/vmi/main.c, docs/introspection.md): how the manifest
 * tells the service what it holds (capability badges), and how a monitor client reaches it.
 * The request labels and their words are services/vmi/request.h's (enum vmi_op); the engine's
 * errors come back in the reply's label as negative Xen errno values.
 *
 * The service's capabilities, found by type, rights and badge (any slot):
 *
 *   endpoint, recv, badge VMI_EP_REQUESTS    where clients call (vCPU 0 serves it)
 *   endpoint, recv, badge VMI_EP_EVENTS      where the kernel's IPC_LABEL_VMI_* arrive
 *                                            (vCPU 1 takes them, one at a time)
 *   endpoint, send, badge VMI_EP_EVENTS      to the events endpoint: HC_VMI ATTACH's
 *   endpoint, send, badge VMI_BADGE_INTERNAL to the requests endpoint: vCPU 1 asks vCPU 0
 *   notification, signal + wait, badge 1     vCPU 1 waits there for a client's answer
 *   notification, signal, VMI_NTF_CLIENT(t)  a client's: signalled when target t has events
 *   guest, monitor, VMI_GUEST_BADGE(...)     each target: index, vCPUs, RAM base and size
 *
 * A client holds one capability: an endpoint send to the requests endpoint with badge
 * VMI_CLIENT_BADGE(its partition index, target, may monitor). Without VMI_CLIENT_MONITOR in
 * its badge every operation on the target is -EPERM, as for a domain without the privilege.
 */
#ifndef IPC_VMI_H
#define IPC_VMI_H

#include <stdint.h>

#define VMI_EP_REQUESTS 1u
#define VMI_EP_EVENTS 2u

/** A client's badge: bits 0-15 its partition, 16-23 the target's index, bit 62 monitor. */
#define VMI_CLIENT_MONITOR (UINT64_C(1) << 62)
#define VMI_BADGE_INTERNAL (UINT64_C(1) << 63)
#define VMI_CLIENT_BADGE(caller, target, monitor)                          \
	((uint64_t)((caller)&0xffffu) | (uint64_t)((target)&0xffu) << 16 | \
	 ((monitor) ? VMI_CLIENT_MONITOR : 0))
#define VMI_CLIENT_CALLER(b) ((uint32_t)(b)&0xffffu)
#define VMI_CLIENT_TARGET(b) ((uint32_t)((b) >> 16) & 0xffu)

/**
 * A target: bits 0-7 its partition index, 8-15 vCPUs, 16 VMI_GUEST_FLAT, 32-47 RAM base MiB,
 * 48-63 RAM MiB. VMI_GUEST_FLAT says the guest starts with its MMU off (arm64) or paging off
 * (x86, CR0.PG clear): TRANSLATE and READ_VA walk it as the identity until the service has
 * read a vCPU's translation registers (HC_VMI GET_REGS, at a pause on an event); any other
 * guest's walks are -EBUSY until then.
 */
#define VMI_GUEST_FLAT (UINT64_C(1) << 16)
#define VMI_GUEST_BADGE(index, vcpus, ram_mb, ram_mbs)                \
	((uint64_t)((index)&0xffu) | (uint64_t)((vcpus)&0xffu) << 8 | \
	 (uint64_t)((ram_mb)&0xffffu) << 32 | (uint64_t)((ram_mbs)&0xffffu) << 48)
#define VMI_GUEST_INDEX(b) ((uint32_t)(b)&0xffu)
#define VMI_GUEST_VCPUS(b) ((uint32_t)((b) >> 8) & 0xffu)
#define VMI_GUEST_RAM_MB(b) ((uint32_t)((b) >> 32) & 0xffffu)
#define VMI_GUEST_RAM_MBS(b) ((uint32_t)((b) >> 48) & 0xffffu)

/**
 * Guest requests (Xen's HVMOP_guest_request_vm_event): a target's stores to an MMIO range the
 * manifest gives the service to emulate (`sephyp,emulated` with the events endpoint; the guest
 * capability then has the emulate right too) become GUEST_REQUEST events (reason 5) with the
 * offset in the range as the index and the stored value; loads read 0. A store finding the ring
 * full is refused (the guest takes the bus error of its architecture).
 */

/** A client's notification (the service's capability to it): target in bits 0-7. */
#define VMI_NTF_CLIENT_TAG (UINT64_C(1) << 62)
#define VMI_NTF_CLIENT(target) (VMI_NTF_CLIENT_TAG | ((target)&0xffu))

/**
 * A reply's label: the status (0, 1 for an ignored response, or a negative errno) as a 32-bit
 * two's complement number, since a label with bit 63 set is the kernel's (IPC_LABEL_KERNEL).
 */
#define VMI_STATUS_LABEL(rc) ((uint64_t)(uint32_t)(int32_t)(rc))
#define VMI_LABEL_STATUS(label) ((int)(int32_t)(uint32_t)(label))

/**
 * Internal labels (badge VMI_BADGE_INTERNAL only): vCPU 1 hands vCPU 0 a kernel event: an
 * access (IPC_LABEL_VMI_MEM), a guest request (IPC_LABEL_MMIO), a held register write
 * (IPC_LABEL_VMI_REG), a single-step (IPC_LABEL_VMI_STEP).
 */
#define VMI_INTERNAL_EVENT 0x100u
#define VMI_INTERNAL_GUEST_REQUEST 0x101u
#define VMI_INTERNAL_REG_EVENT 0x102u
#define VMI_INTERNAL_STEP_EVENT 0x103u

#endif /* IPC_VMI_H */
