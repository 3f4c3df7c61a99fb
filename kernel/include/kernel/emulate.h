/**
 * Emulated device ranges: a guest's load or store in a range the manifest
 * gives to an emulator service reaches that service as a kernel message
 * (IPC_LABEL_MMIO, ipc/abi.h), and the service's reply completes it.
 *
 *   guest vCPU                 kernel                         emulator service
 *   ----------                 ------                         ----------------
 *   ldr w0, [uart+0x18]  ->  TRAP_MMIO (platform decoded:
 *                            address, size, value, arch_info)
 *                            emul_access: find the range,
 *                            ipc_kernel_call(endpoint)    ->  HC_RECV returns
 *   (BLOCKED_FAULT)                                           the MMIO message
 *                            emul_reply:                  <-  HC_REPLY(_RECV):
 *                            arch_vcpu_mmio_complete          w0 DONE, w1 value
 *   resumes after the load   (or _abort)
 *
 * A decoded access outside every range of its partition is an ordinary
 * memory fault (its fault handler, or a stop); an emulator that stops
 * while a guest waits on it leaves the guest a bus error, not a hang.
 * Besides the manifest's ranges, a holder of the guest's `dm` right may
 * route more at run time (HC_GUEST_ROUTE: kernel.routes, after them).
 */
#ifndef KERNEL_EMULATE_H
#define KERNEL_EMULATE_H

#include <kernel/trap.h>
#include <kernel/vcpu.h>

/** Boot: each range's badge, from its emulator's guest capability. */
void emul_setup(void);

/**
 * TRAP_MMIO from v (kernel lock held): deliver it to its emulator, or
 * treat it as the memory fault it is. Returns the vCPU to run next.
 */
struct vcpu *emul_access(struct vcpu *v, const struct trap *t);

/**
 * Send v's decoded access t (a TRAP_MMIO-like trap: size, value, arch_info) as an
 * IPC_LABEL_MMIO message to endpoint with badge, w4 = offset and w5 = index; v waits and the
 * reply completes it (emul_reply). For accesses the core routes itself (kernel/dm.c).
 */
struct vcpu *emul_deliver(struct vcpu *v, const struct trap *t, u32 endpoint, u64 badge, u64 offset,
                          u32 index);

/** The partition that receives on endpoint ep (the first with the right), or CFG_NONE. */
u32 emul_receiver(u32 ep);

/** Whether a vCPU blocked as a kernel sender waits for an emulator (not a fault handler). */
static inline bool emul_waiting(const struct vcpu *v)
{
	return v->kernel_sender && v->kmsg.label == IPC_LABEL_MMIO;
}

/** The emulator's reply (w0 status, w1 value) completes caller's access; it may run. */
void emul_reply(struct vcpu *caller, u64 status, u64 value);

/** The emulator gave up without a reply (it stopped or received again): a bus error. */
void emul_abandon(struct vcpu *caller);

/** HC_GUEST_ROUTE: map or unmap a run-time route (ipc/abi.h); v is the caller. */
struct vcpu *emul_route_call(struct vcpu *v);

#endif /* KERNEL_EMULATE_H */
