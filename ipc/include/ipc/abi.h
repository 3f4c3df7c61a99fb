/**
 * The hypervisor's ABI: hypercall numbers, the logical register convention,
 * status codes, capability types and rights, and message labels.
 *
 * This header is the single definition shared by the kernel, every service,
 * every test partition and the host tools. It is freestanding C11 and has no
 * dependency other than <stdint.h>. docs/abi.md explains it in prose.
 *
 * Logical registers r0..r8 (see IPC_REG_* below) are mapped onto machine
 * registers by each platform:
 *
 *            r0   r1   r2   r3   r4   r5   r6   r7   r8
 *   arm64    x0   x1   x2   x3   x4   x5   x6   x7   x8    (HVC #0)
 *   x86_64   rax  rdi  rsi  rdx  r8   r9   r10  r11  r12   (VMMCALL)
 *
 * On entry r0 holds the hypercall number and r1 a capability slot (or the
 * first argument); on return r0 holds a status and r1..r8 the results. An IPC
 * message is a label (r2) plus IPC_MSG_WORDS words (r3..r8); on delivery r1
 * carries the badge of the capability the sender used.
 */
#ifndef IPC_ABI_H
#define IPC_ABI_H

#include <stdint.h>

/** Number of logical hypercall registers. */
#define IPC_REG_COUNT 9u
#define IPC_REG_NR 0u    /**< in: hypercall number; out: status */
#define IPC_REG_CAP 1u   /**< in: capability slot; out: badge / result */
#define IPC_REG_LABEL 2u /**< in/out: message label */
#define IPC_REG_WORD0 3u /**< in/out: first of the message words */

/** Words of payload carried by one message, besides the label. */
#define IPC_MSG_WORDS 6u

/** Hypercall numbers. Gaps leave room for related calls. */
enum hc_number {
	HC_NULL = 0,          /**< no-op round trip; returns STATUS_OK */
	HC_CONSOLE_WRITE = 1, /**< r1 = byte count (<= 56), r2..r8 = bytes */
	HC_EXIT = 2,          /**< r1 = exit code; stops the calling partition */
	HC_YIELD = 3,         /**< give up the rest of the time slice */

	HC_CALL = 8,       /**< r1 = endpoint slot; send and wait for reply */
	HC_REPLY_RECV = 9, /**< reply to the last caller, then receive on r1 */
	HC_RECV = 10,      /**< r1 = endpoint slot; wait for a message */
	HC_SEND = 11,      /**< r1 = endpoint slot; deliver only if a receiver waits */
	HC_REPLY = 12,     /**< reply to the last caller without receiving */
	/**
	 * Route a guest's MMIO range to an endpoint at run time (the device-model
	 * mediator's half of an ioreq server, docs/device-models.md): r1 = a
	 * guest capability with RIGHT_GUEST_DM, r2 = an endpoint capability with
	 * RIGHT_EP_SEND (where the accesses go, as IPC_LABEL_MMIO messages), r3 =
	 * the first guest-physical address, r4 = the size in bytes, r5 =
	 * IPC_ROUTE_MAP or IPC_ROUTE_UNMAP, r6 = the badge the messages carry.
	 * The range must not meet the guest's memory mappings, the manifest's
	 * emulated ranges or another route of that guest, and some partition must
	 * receive on the endpoint; an unmap names a route exactly (guest, endpoint,
	 * address, size). Returns r1 = the route's number (w5 of its messages is
	 * CFG_EMULATED_MAX + it). STATUS_BUSY when the kernel's routes are all taken.
	 * With IPC_ROUTE_PORTS in r5 (x86), r3/r4 are the first I/O port and the
	 * count instead: the ports must lie wholly inside one of the guest's
	 * manifest port windows (`ports` with `routed;`; STATUS_NO_RIGHTS if not)
	 * and meet no other port route of it; IN and OUT there arrive as
	 * IPC_LABEL_MMIO with IPC_MMIO_PORT.
	 */
	HC_GUEST_ROUTE = 13,

	HC_SIGNAL = 16, /**< r1 = notification slot; OR the badge into its word */
	HC_WAIT = 17,   /**< r1 = notification slot; block until bits, return and clear */
	HC_POLL = 18,   /**< r1 = notification slot; return and clear, never block */

	/*
	 * The scheduling plan (ipc/sched.h, docs/abi.md, docs/scheduling.md):
	 * calls of a policy partition (manifest sched-policy) on the CPUs of its
	 * sched-cpus and the vCPUs of its `vcpus` capabilities.
	 */
	HC_SCHED_SET = 20,  /**< r1 = vcpus slot, r2 = vCPU, r3 = CPU, r4 = prio | flags, r5..r7 */
	HC_SCHED_RING = 21, /**< r1 = memory slot (the event ring), r2 = notification slot */
	HC_SCHED_INFO = 22, /**< r1 = vcpus slot, r2 = vCPU -> its state and accounting */

	HC_CAP_INFO = 24,     /**< r1 = slot -> r1 type, r2 rights, r3 badge */
	HC_CAP_DERIVE = 25,   /**< r1 = src, r2 = free dst slot, r3 = rights, r4 = badge */
	HC_CAP_DROP = 26,     /**< r1 = slot; empty it */
	HC_CAP_RESTRICT = 27, /**< r1 = slot, r2 = rights; narrow in place, for good */

	/**
	 * r1 = a guest capability with RIGHT_GUEST_INJECT, r3 = the guest's
	 * interrupt (arm64: an SPI INTID of its virtual GIC that no device is
	 * passed through on; x86: a vector 32..255, raised as an edge in the
	 * virtual local APIC of the guest's vCPU 0), r4 = IPC_GUEST_IRQ_RAISE
	 * (1) to raise the line, IPC_GUEST_IRQ_LOWER (0) to lower it (on x86
	 * lowering does nothing: the vector is an edge, the guest's EOI ends
	 * it). The emulator's way to interrupt the guest it serves.
	 *
	 * A virtual ITS's outputs (arm64, a VM the manifest gives `lpis`):
	 * r3 = an LPI INTID of that VM, r2 = the vCPU it targets, r4 =
	 * IPC_GUEST_IRQ_LPI_SET (make it pending there, retargeting it),
	 * IPC_GUEST_IRQ_LPI_CLEAR (not pending), IPC_GUEST_IRQ_LPI_CONFIG
	 * (re-read its property byte from the table the guest's GICR_PROPBASER
	 * names; r3 = 0: every LPI's), or IPC_GUEST_IRQ_LPI_MOVE (retarget it,
	 * its pending state with it, wherever that is: a vCPU may hold it in a
	 * list register). Returns r1 = 1 if the LPI was pending before (as the
	 * model knew it: one a vCPU listed may have been taken since).
	 * STATUS_INVALID_ARG for an LPI or vCPU the VM does not have.
	 */
	HC_GUEST_IRQ = 28,

	/**
	 * The console holder's output, written as it is (no prefix, no line
	 * buffering): r1 = a console capability with RIGHT_CONSOLE_WRITE,
	 * r2 = the console position of the first byte (bytes this holder had
	 * written before), r3 = byte count (<= IPC_CONSOLE_PUT_MAX), r4..r8 =
	 * bytes. Bytes before the kernel's position were taken already and are
	 * skipped, so writing a chunk again after a crash repeats nothing; a
	 * position past the kernel's is STATUS_INVALID_ARG. All of the new bytes
	 * are taken, or none (STATUS_WOULD_BLOCK while the console buffer is
	 * full). Lines reach the console whole; IPC_CONSOLE_PUT_SHOW in r3 shows
	 * the unfinished one now (a prompt). Returns r1 = the kernel's position.
	 */
	HC_CONSOLE_PUT = 29,
	/**
	 * Console input: r1 = a console capability with RIGHT_CONSOLE_READ, r2 =
	 * the position of the first byte wanted (bytes read and kept before).
	 * Input before it is dropped; returns r1 = the position of the first
	 * byte returned, r2 = count (<= IPC_CONSOLE_READ_MAX), r3..r8 = bytes.
	 * The kernel signals the capability's notification when input arrives.
	 */
	HC_CONSOLE_READ = 30,

	/**
	 * Guest memory for the service that serves or watches that guest: r1 =
	 * a guest capability with RIGHT_GUEST_EMULATE, RIGHT_GUEST_MONITOR or
	 * RIGHT_GUEST_DM, r2 = guest-physical address, r3 = byte count (1 ..
	 * IPC_GUEST_MEM_MAX) | IPC_GUEST_MEM_WRITE to write, r4..r8 = the bytes
	 * (written, or read back). The whole range must lie in one RAM mapping
	 * of the guest (a private or shared region, never a device) that gives
	 * the guest itself the right to read it (to write it, for a write);
	 * anything else is STATUS_INVALID_ARG and touches nothing.
	 */
	HC_GUEST_MEM = 31,

	/**
	 * Guest memory in bulk, for the same services as HC_GUEST_MEM: r1 = the guest
	 * capability, r2 = guest-physical address, r3 = byte count (1 ..
	 * IPC_GUEST_COPY_MAX) | IPC_GUEST_MEM_WRITE to copy into the guest, r4 = the
	 * address of the caller's own buffer (in its own address space). The guest's range
	 * follows HC_GUEST_MEM's rule; the buffer must lie in one RAM mapping of the caller
	 * that lets it write (a read from the guest) or read (a write to it). Anything else
	 * is STATUS_INVALID_ARG and copies nothing.
	 */
	HC_GUEST_COPY = 32,

	/**
	 * Introspection (docs/introspection.md): r1 = a guest capability with
	 * RIGHT_GUEST_MONITOR over a VM (never the caller itself), r2 = the
	 * operation (IPC_VMI_*), r3.. its arguments:
	 * - ATTACH r3 = endpoint slot (RIGHT_EP_SEND), r4 = badge: the guest's
	 *   access events (IPC_LABEL_VMI_MEM) go there. STATUS_BUSY if another
	 *   capability holder's monitor is attached.
	 * - DETACH: no more events; every view back to the manifest's rights,
	 *   every vCPU to view 0, every paused vCPU released (it retries).
	 * - PROTECT r3 = view, r4 = guest-physical address, r5 = size, r6 =
	 *   rights (IPC_ACCESS_* bits): pages of one RAM mapping get those rights
	 *   intersected with the manifest's. At most IPC_VMI_PROTECT_MAX pages a
	 *   call; returns r1 = bytes done (call again for the rest).
	 * - GET r3 = view, r4 = address: r1 = the rights in force there.
	 * - VIEW_CREATE r3 = view (1 .. IPC_VMI_VIEWS - 1), r4 = rights: a view
	 *   mapping the guest's memory like view 0 with those rights (again
	 *   intersected with the manifest's). STATUS_BUSY if it exists.
	 * - VIEW_DESTROY r3 = view: STATUS_BUSY for view 0 or a view some vCPU
	 *   uses.
	 * - VIEW_SWITCH r3 = vCPU (IPC_VMI_ALL_VCPUS: all), r4 = view; a vCPU
	 *   running on a CPU right now is STATUS_BUSY (pause it on an event).
	 * - CHANGE_GFN r3 = view (>= 1), r4 = page address, r5 = the page whose
	 *   frame it shows in that view (IPC_VMI_GFN_RESET: its own again).
	 * - SINGLESTEP r3 = vCPU, r4 = 1 on / 0 off: the vCPU (not running
	 *   now: paused on an event) stops after each instruction with an
	 *   IPC_LABEL_VMI_STEP event (arm64: a software step; x86: RFLAGS.TF).
	 * - MONITOR_REGS r3 = a mask of 1 << IPC_VMI_REG_*: writes of those
	 *   registers become IPC_LABEL_VMI_REG events (0: none). A register the
	 *   platform cannot trap is STATUS_INVALID_ARG (arm64: SCTLR, TTBR0,
	 *   TTBR1, TCR through HCR_EL2.TVM; x86: CR0, CR3, CR4).
	 * - GET_REGS r3 = vCPU: its translation registers, for a software
	 *   walk, in r3..r6: arm64 SCTLR_EL1, TCR_EL1, TTBR0_EL1, TTBR1_EL1;
	 *   x86 CR0, CR3, CR4, EFER. Only while it waits for an answer to one
	 *   of its events (IPC_LABEL_VMI_*): else STATUS_BUSY.
	 * - SET_REGS r3 = vCPU, r4 = PC, r5..r7 = arm64 x0..x2 / x86 RAX, RBX,
	 *   RCX: a vCPU waiting for an answer to one of its events (else
	 *   STATUS_BUSY) resumes at that PC with those registers, whatever the
	 *   answer (a skip does not move it; a register write is done or
	 *   dropped, the PC stays the one given).
	 * - MONITOR_MSR r3 = MSR, r4 = 1 on / 0 off: the VM's writes of it
	 *   become IPC_LABEL_VMI_REG events (w0 = IPC_VMI_REG_MSR | MSR << 32),
	 *   held like a register's. Only MSRs the platform keeps for the guest
	 *   (x86: the VMCB's SYSENTER_CS/ESP/EIP, STAR, LSTAR, CSTAR, SFMASK,
	 *   FS/GS base, KernelGSbase; arm64: none), else STATUS_INVALID_ARG; at
	 *   most 8 a guest, and STATUS_BUSY when the platform has no room.
	 * Nothing of the guest outside its RAM mappings can be touched.
	 */
	HC_VMI = 33,

	/**
	 * Device-model mediation (docs/device-models.md), for the dmop service: r1 = a guest
	 * capability with RIGHT_GUEST_DM over a VM (never the caller itself), r2 = the
	 * operation (IPC_DM_*), r3.. its arguments. Addresses and sizes are page aligned and
	 * lie in one RAM mapping of the guest (a private or shared region, never a device).
	 * - MEM_TYPE r3 = address, r4 = size, r5 = IPC_DM_RAM_RW, IPC_DM_RAM_RO or
	 *   IPC_DM_RAM_WRITE_SERVER: the guest's writes to a read-only page are dropped (the
	 *   instruction has no effect); its writes to a write-server page go to the write
	 *   server as IPC_LABEL_MMIO messages (w5 = IPC_MMIO_INDEX_MEM_TYPE) and are done when
	 *   it answers (the server writes the page itself if it wants to); reads and fetches
	 *   of both go on. At most IPC_DM_PAGES_MAX pages a call: r1 = bytes done (call again
	 *   for the rest). STATUS_BUSY: the guest's typed ranges are all taken (or its table
	 *   quota); STATUS_BAD_STATE: a write-server page with no write server.
	 * - WRITE_SERVER r3 = endpoint slot (send) or IPC_DM_NO_SERVER, r4 = badge: where the
	 *   writes to write-server pages go. No server: those pages become read-write.
	 * - DIRTY_TRACK r3 = address, r4 = size (0: stop): the guest's writes to that range
	 *   are logged from now on; it replaces the range tracked before. r1 = bytes of the
	 *   range armed (every page write-locked in every view); call again with the same
	 *   range until r1 = size. A page not armed yet counts as written.
	 * - DIRTY_FETCH r3 = address, r4 = pages (1 .. IPC_DM_FETCH_MAX) of the tracked
	 *   range: r1 = a bitmap (bit i: page i was written since it was last fetched),
	 *   r2 = pages done; those pages are logged afresh.
	 * - DIRTY_MARK r3 = address, r4 = size: the tracked pages of the range count as
	 *   written (modified_memory: a device model wrote them). At most IPC_DM_PAGES_MAX
	 *   pages a call: r1 = bytes done.
	 * - SHUTDOWN r3 = reason (IPC_DM_SHUTDOWN_*): the guest stops as its own PSCI
	 *   SYSTEM_OFF would stop it (a restartable guest restarts); CRASH and WATCHDOG
	 *   count as failures. A stopped guest: nothing happens.
	 * A stopped guest (between a stop and its restart, or for good) is STATUS_PEER_STOPPED
	 * for the other operations; a restarted one has every page read-write, nothing tracked.
	 */
	HC_DM = 34,

	/**
	 * Numbers at or above this are invalid. On arm64 a value with bit 31 of
	 * W0 set is an SMCCC function ID (PSCI), handled as firmware: keep every
	 * hypercall number far below that.
	 */
	HC_NUMBER_LIMIT = 35
};

/** The one status enum of the whole ABI, returned in r0. */
enum status {
	STATUS_OK = 0,
	STATUS_INVALID_CALL = 1, /**< unknown hypercall number */
	STATUS_INVALID_CAP = 2,  /**< slot out of range or empty */
	STATUS_WRONG_TYPE = 3,   /**< the capability names another kind of object */
	STATUS_NO_RIGHTS = 4,    /**< the capability lacks a needed right */
	STATUS_INVALID_ARG = 5,  /**< an argument is out of range or malformed */
	STATUS_WOULD_BLOCK = 6,  /**< a non-blocking operation found no partner */
	STATUS_BUSY = 7,         /**< the target slot or object is in use */
	STATUS_BAD_STATE = 8,    /**< the caller is not in a state that allows this */
	STATUS_PEER_STOPPED = 9, /**< the partner partition stopped mid-operation */
	STATUS_LIMIT
};

/** Capability (object) types. */
enum cap_type {
	CAP_NULL = 0,
	CAP_ENDPOINT = 1,
	CAP_NOTIFICATION = 2,
	CAP_MEMORY = 3, /**< a memory region */
	CAP_VCPUS = 4,  /**< a set of vCPUs the holder may schedule */
	CAP_GUEST = 5,  /**< a guest partition the holder may monitor/serve */
	/**
	 * The console (manifest `kind = "console"` on a notification, which the
	 * kernel signals when input arrives): its holder writes unprefixed and
	 * reads the keyboard. At most one partition holds it.
	 */
	CAP_CONSOLE = 6,
	CAP_TYPE_LIMIT
};

/*
 * Rights. Each type has its own small set; a right outside the type's mask
 * is invalid wherever rights are passed in.
 */
#define RIGHT_EP_SEND (1u << 0)  /**< send and call */
#define RIGHT_EP_RECV (1u << 1)  /**< receive */
#define RIGHT_EP_GRANT (1u << 2) /**< reserved: pass capabilities along */
#define RIGHTS_EP_ALL (RIGHT_EP_SEND | RIGHT_EP_RECV | RIGHT_EP_GRANT)

#define RIGHT_NTF_SIGNAL (1u << 0)
#define RIGHT_NTF_WAIT (1u << 1)
#define RIGHTS_NTF_ALL (RIGHT_NTF_SIGNAL | RIGHT_NTF_WAIT)

#define RIGHT_MEM_READ (1u << 0)
#define RIGHT_MEM_WRITE (1u << 1)
#define RIGHT_MEM_EXEC (1u << 2)
#define RIGHT_MEM_MAP (1u << 3)
#define RIGHTS_MEM_ALL (RIGHT_MEM_READ | RIGHT_MEM_WRITE | RIGHT_MEM_EXEC | RIGHT_MEM_MAP)

#define RIGHT_VCPUS_SCHEDULE (1u << 0)
#define RIGHTS_VCPUS_ALL RIGHT_VCPUS_SCHEDULE

#define RIGHT_GUEST_MONITOR (1u << 0)
#define RIGHT_GUEST_EMULATE (1u << 1)
#define RIGHT_GUEST_INJECT (1u << 2)
#define RIGHT_GUEST_DM (1u << 3)
#define RIGHTS_GUEST_ALL \
	(RIGHT_GUEST_MONITOR | RIGHT_GUEST_EMULATE | RIGHT_GUEST_INJECT | RIGHT_GUEST_DM)

#define RIGHT_CONSOLE_WRITE (1u << 0)
#define RIGHT_CONSOLE_READ (1u << 1)
#define RIGHTS_CONSOLE_ALL (RIGHT_CONSOLE_WRITE | RIGHT_CONSOLE_READ)

/** Capability slots per partition (fixed at build time). */
#define CAP_SLOT_COUNT 32u

/**
 * Labels with this bit set are produced only by the kernel (fault and event
 * messages); a partition that tries to send one gets STATUS_INVALID_ARG, so a
 * receiver can trust the bit.
 */
#define IPC_LABEL_KERNEL (UINT64_C(1) << 63)

/**
 * A memory access outside the partition's map, delivered to its fault
 * handler endpoint: w0 = faulting IPA, w1 = access (IPC_ACCESS_*),
 * w2 = guest PC, w3 = vCPU index, w4 = platform syndrome.
 * The handler replies with w0 = IPC_FAULT_RESUME (retry the access) or
 * IPC_FAULT_STOP (stop the partition).
 */
#define IPC_LABEL_FAULT_MEM (IPC_LABEL_KERNEL | 1u)
/** A guest exception it cannot handle (undefined instruction, ...): same words. */
#define IPC_LABEL_FAULT_EXC (IPC_LABEL_KERNEL | 2u)

/**
 * A guest's load or store in a range the manifest gives to an emulator
 * service (`sephyp,emulated`), delivered to the range's endpoint:
 * w0 = guest-physical address, w1 = size in bytes (1, 2, 4 or 8) |
 * IPC_MMIO_WRITE for a store | IPC_MMIO_PORT for an I/O port access (x86
 * IN/OUT to a range the manifest gives as `ports`: w0 is then the port
 * number and w4 its offset from the range's first port; the size is 1, 2
 * or 4; an IN completes into AL, AX or EAX), w2 = the value stored
 * (zero-extended),
 * w3 = the guest's vCPU index (bits 31:0) and the access's serial number
 * (bits 63:32: counts the vCPU's emulated accesses; the same number when a
 * restarted server receives the access again, so that it can tell an access
 * it had applied before dying), w4 = offset of the address in the range,
 * w5 = the range's index among the manifest's emulated ranges; the badge
 * is the one of the service's guest capability over that guest.
 * The reply completes the access: w0 = IPC_MMIO_DONE with w1 = the value a
 * load reads (the kernel narrows and extends it as the instruction asks),
 * or IPC_MMIO_ABORT (any other w0 too): the guest takes the bus error of
 * its architecture (arm64: a synchronous external abort; x86, which has
 * none for MMIO or ports: #GP(0) at the instruction) and goes on.
 */
#define IPC_LABEL_MMIO (IPC_LABEL_KERNEL | 3u)
#define IPC_MMIO_SIZE_MASK 0xfu
#define IPC_MMIO_WRITE (1u << 8)
#define IPC_MMIO_PORT (1u << 9)
#define IPC_MMIO_VCPU_MASK 0xffffffffu
#define IPC_MMIO_SERIAL_SHIFT 32u
#define IPC_MMIO_DONE 0u
#define IPC_MMIO_ABORT 1u

/**
 * An access that a monitor's rights stopped (HC_VMI), delivered to the
 * monitor's endpoint while the vCPU waits: w0 = guest-physical address,
 * w1 = access (IPC_ACCESS_*) | IPC_VMI_GLA_VALID if w4 holds the guest
 * virtual address | IPC_VMI_IN_GPT if it was the guest's own page-table
 * walk, w2 = guest PC, w3 = vCPU index | its view << 32, w4 = the guest
 * virtual address, w5 = the platform syndrome; the badge is ATTACH's.
 * The reply: w0 = IPC_VMI_RETRY (run the access again, under the rights in
 * force now) or IPC_VMI_SKIP (deny it: step over the instruction, which
 * has no effect; x86 cannot and retries), w1 = a view to switch the vCPU
 * to plus one (0: stay). A malformed reply is a retry with no switch.
 */
#define IPC_LABEL_VMI_MEM (IPC_LABEL_KERNEL | 4u)
#define IPC_VMI_GLA_VALID (1u << 8)
#define IPC_VMI_IN_GPT (1u << 9)
#define IPC_VMI_VIEW_SHIFT 32u
#define IPC_VMI_RETRY 0u
#define IPC_VMI_SKIP 1u

/**
 * A VM's write of a register its monitor watches (HC_VMI MONITOR_REGS),
 * delivered like IPC_LABEL_VMI_MEM while the vCPU waits, the write held:
 * w0 = the register (IPC_VMI_REG_*), w1 = the value written, w2 = guest PC,
 * w3 = vCPU index | its view << 32, w4 = the register's value before. The
 * reply: w0 = IPC_VMI_RETRY performs the write, IPC_VMI_SKIP drops it; the
 * vCPU goes on after the instruction either way; w1 as for VMI_MEM. If the
 * monitor goes away first, the write is performed.
 */
#define IPC_LABEL_VMI_REG (IPC_LABEL_KERNEL | 5u)
/**
 * A single-stepped vCPU (HC_VMI SINGLESTEP) executed one instruction: w2 = its
 * PC now (after it), w3 = vCPU index | its view << 32. It waits; any reply
 * lets it go on (w1 as for VMI_MEM); SINGLESTEP off, called while it waits,
 * ends the stepping.
 */
#define IPC_LABEL_VMI_STEP (IPC_LABEL_KERNEL | 6u)
#define IPC_VMI_REG_SCTLR 0u
#define IPC_VMI_REG_TTBR0 1u
#define IPC_VMI_REG_TTBR1 2u
#define IPC_VMI_REG_TCR 3u
#define IPC_VMI_REG_CR0 8u
#define IPC_VMI_REG_CR3 9u
#define IPC_VMI_REG_CR4 10u
#define IPC_VMI_REG_MSR 16u /**< w0's low half; the MSR in its high half (MONITOR_MSR) */

/** HC_VMI operations (r2), views and limits. */
#define IPC_VMI_ATTACH 0u
#define IPC_VMI_DETACH 1u
#define IPC_VMI_PROTECT 2u
#define IPC_VMI_GET 3u
#define IPC_VMI_VIEW_CREATE 4u
#define IPC_VMI_VIEW_DESTROY 5u
#define IPC_VMI_VIEW_SWITCH 6u
#define IPC_VMI_CHANGE_GFN 7u
#define IPC_VMI_MONITOR_REGS 8u
#define IPC_VMI_SINGLESTEP 9u
#define IPC_VMI_GET_REGS 10u
#define IPC_VMI_SET_REGS 11u
#define IPC_VMI_MONITOR_MSR 12u
#define IPC_VMI_VIEWS 10u
#define IPC_VMI_PROTECT_MAX 512u
#define IPC_VMI_ALL_VCPUS 0xffffffffu
#define IPC_VMI_GFN_RESET (~UINT64_C(0))

/** HC_DM operations (r2), memory types, shutdown reasons and limits. */
#define IPC_DM_MEM_TYPE 0u
#define IPC_DM_DIRTY_TRACK 1u
#define IPC_DM_DIRTY_FETCH 2u
#define IPC_DM_DIRTY_MARK 3u
#define IPC_DM_SHUTDOWN 4u
#define IPC_DM_WRITE_SERVER 5u
#define IPC_DM_RAM_RW 0u
#define IPC_DM_RAM_RO 1u
#define IPC_DM_RAM_WRITE_SERVER 2u
#define IPC_DM_NO_SERVER (~UINT64_C(0))
/** w5 of the IPC_LABEL_MMIO message of a write to an IPC_DM_RAM_WRITE_SERVER page. */
#define IPC_MMIO_INDEX_MEM_TYPE 0xffffu
#define IPC_DM_SHUTDOWN_POWEROFF 0u
#define IPC_DM_SHUTDOWN_REBOOT 1u
#define IPC_DM_SHUTDOWN_SUSPEND 2u
#define IPC_DM_SHUTDOWN_CRASH 3u
#define IPC_DM_SHUTDOWN_WATCHDOG 4u
#define IPC_DM_SHUTDOWN_SOFT_RESET 5u
#define IPC_DM_PAGES_MAX 512u
#define IPC_DM_FETCH_MAX 64u
/** Largest tracked range: 1 GiB (Xen's track_dirty_vram bound). */
#define IPC_DM_TRACK_MAX (UINT64_C(1) << 30)

#define IPC_ACCESS_READ (1u << 0)
#define IPC_ACCESS_WRITE (1u << 1)
#define IPC_ACCESS_EXEC (1u << 2)

#define IPC_FAULT_RESUME 0u
#define IPC_FAULT_STOP 1u

/** HC_GUEST_ROUTE operations (r5). */
#define IPC_ROUTE_MAP 0u
#define IPC_ROUTE_UNMAP 1u
/** Or'ed into r5: the range is x86 I/O ports, not guest-physical addresses. */
#define IPC_ROUTE_PORTS (1u << 8)
/**
 * Or'ed into r5: the range is PCI functions by SBDF (r3 = the first, segment << 16 | bus << 8 |
 * device << 3 | function; r4 = how many): their configuration space in the guest's ECAM
 * window (an /emulated node with `routed; pci-ecam;`), segment 0.
 */
#define IPC_ROUTE_PCI (1u << 9)

/** HC_GUEST_IRQ operations (r4). */
#define IPC_GUEST_IRQ_LOWER 0u
#define IPC_GUEST_IRQ_RAISE 1u
#define IPC_GUEST_IRQ_LPI_SET 2u
#define IPC_GUEST_IRQ_LPI_CLEAR 3u
#define IPC_GUEST_IRQ_LPI_CONFIG 4u
#define IPC_GUEST_IRQ_LPI_MOVE 5u

/** Largest HC_GUEST_MEM: five registers of bytes. */
#define IPC_GUEST_MEM_MAX 40u
#define IPC_GUEST_MEM_WRITE (1u << 31)
/** Largest HC_GUEST_COPY: four pages. */
#define IPC_GUEST_COPY_MAX 16384u

/** Largest HC_CONSOLE_WRITE: seven registers of bytes. */
#define IPC_CONSOLE_MAX 56u
/** Largest HC_CONSOLE_PUT (five registers) and HC_CONSOLE_READ (six). */
#define IPC_CONSOLE_PUT_MAX 40u
#define IPC_CONSOLE_PUT_SHOW (1u << 31)
#define IPC_CONSOLE_READ_MAX 48u

/** Partition types, as named in the manifest. */
enum partition_type {
	PARTITION_SERVICE = 0,
	PARTITION_VM = 1,
	PARTITION_PVH = 2, /**< x86 only */
	PARTITION_TYPE_LIMIT
};

#endif /* IPC_ABI_H */
