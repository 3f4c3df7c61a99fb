/**
 * Synchronous IPC over endpoints. Each function decodes the calling vCPU's
 * arguments first (any failure leaves every object untouched and returns
 * a status in r0) and then invokes, and returns the vCPU to run next on
 * this CPU (the caller itself, a partner reached by direct switch, another
 * ready vCPU, or NULL for idle).
 *
 *   caller                 endpoint                 server
 *   HC_CALL ----------->  [senders]  <----------- HC_RECV / HC_REPLY_RECV
 *   BLOCKED_REPLY  <--- one-shot reply right (server->caller) --- HC_REPLY(_RECV)
 *
 * A call that finds a receiver waiting on the same CPU switches straight
 * to it, and its reply_recv switches straight back: the fast path, with the
 * caller's time slice donated to the server.
 */
#ifndef KERNEL_IPC_H
#define KERNEL_IPC_H

#include <kernel/vcpu.h>

struct vcpu *ipc_call(struct vcpu *v);
struct vcpu *ipc_recv(struct vcpu *v);
struct vcpu *ipc_reply_recv(struct vcpu *v);
struct vcpu *ipc_send(struct vcpu *v);
struct vcpu *ipc_reply(struct vcpu *v);

/**
 * The fastpath of HC_CALL and HC_REPLY_RECV (r0 is one of them), for a
 * platform's hypercall exit to try before the core's trap entry: a call to
 * an endpoint whose first receiver waits on v's CPU, and a reply_recv that
 * answers a caller waiting on v's CPU (BLOCKED_REPLY) while no sender is
 * queued, switch directly, under the kernel lock, leaving exactly the state
 * ipc_call / ipc_reply_recv would (scheduling context donation included).
 * Anything else (a refused capability, a kernel message, another CPU, a
 * queue, pending VCPU_AFTER_* work, the lock held elsewhere) returns NULL
 * with nothing changed: the caller then takes the slow path.
 */
struct vcpu *ipc_fast(struct vcpu *v);

/**
 * Deliver a kernel-made message (a fault report, an emulated access; it may
 * be v->kmsg itself) to endpoint on v's behalf,
 * as if v had called it; v waits in VCPU_BLOCKED_FAULT for the answer.
 */
struct vcpu *ipc_kernel_call(struct vcpu *v, u32 endpoint, const struct kernel_msg *m);

/** Detach a stopping vCPU from every IPC relation, releasing its partners. */
void ipc_cancel(struct vcpu *v);

/**
 * v gives up the reply right it holds, if any (it powers off): the caller
 * gets STATUS_PEER_STOPPED, or, for a fault, its partition stops (which
 * can be v's own: check v's state afterwards).
 */
void ipc_give_up_reply(struct vcpu *v);

/**
 * Take back v's kernel message (an introspection event whose monitor went away): off its
 * endpoint's queue if still there, or out of the server that holds its reply right. v is
 * left blocked; the caller makes it ready.
 */
void ipc_withdraw_kernel_call(struct vcpu *v);

#endif /* KERNEL_IPC_H */
