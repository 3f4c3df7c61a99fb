/**
 * Partitions: the unit of isolation. Each has its capability table, its
 * stage-2 tables, and its vCPUs; all are built at boot from the manifest.
 */
#ifndef KERNEL_PARTITION_H
#define KERNEL_PARTITION_H

#include <ipc/abi.h>
#include <kernel/cap.h>
#include <kernel/config.h>
#include <kernel/dm.h>
#include <kernel/stage2.h>
#include <kernel/types.h>
#include <kernel/vmi.h>

struct vcpu;
struct endpoint;

#define CONSOLE_LINE_MAX 120u

/**
 * What the proved cap_lookup found for one endpoint capability of a partition: its slot,
 * its endpoint and its badge. The arm64 assembly IPC fastpath (platform/arm64/fastpath.S)
 * keeps one for calls and one for answers and looks a slot up again only when the slot
 * differs; C never reads them. A slot of CAP_SLOT_COUNT or more (partition_caps_changed's)
 * matches no call, since the fastpath also tests the caller's slot against the count.
 */
struct ipc_memo {
	u64 slot;
	struct endpoint *endpoint;
	u64 badge;
};

enum { IPC_MEMO_CALL, IPC_MEMO_ANSWER, IPC_MEMO_COUNT };

struct partition {
	u32 id;
	const char *name;
	enum partition_type type;
	/** Its run of kernel.emul_mmio (emul_setup): first entry and count, a pair near the top. */
	u32 emul_first, emul_count;
	/** The fastpath's memos of caps (struct ipc_memo): forgotten at every change to caps. */
	struct ipc_memo ipc_memo[IPC_MEMO_COUNT];
	struct cap_table caps;
	struct stage2 s2;
	struct vcpu *vcpus; /**< vcpu_count consecutive entries of the kernel array */
	u32 vcpu_count;
	bool stopped;
	bool irq_sources; /**< devices with interrupts are passed through to it */
	bool restarting; /**< partition_stop is restarting it (ipc.c requeues its kernel callers) */
	u32 restarts;    /**< how often it was restarted */
	/**
	 * Restarts in a row after which the partition had made no progress:
	 * it delivered no reply (ipc.c sets replied) and lived less than
	 * PARTITION_CALM_NS. From the fourth on, the restart waits, doubling.
	 */
	u32 restart_streak;
	bool replied;       /**< it delivered a reply since it last started */
	u64 started_ns;     /**< when it last started (boot or restart) */
	u32 fault_endpoint; /**< CFG_NONE: a fault stops the partition */
	u64 fault_badge;
	u32 line_len; /**< console output is line-buffered per partition */
	char line[CONSOLE_LINE_MAX + 1];
	u64 console_window_ns; /**< start of the current console budget window */
	u32 console_used;      /**< bytes printed in that window */
	u32 console_dropped;   /**< bytes dropped over budget, not yet reported */
	u64 console_report_ns; /**< when the last "dropped" line was printed */
	struct vmi_state vmi;  /**< introspection: its monitor and views (kernel/vmi.c) */
	struct dm_state dm;    /**< its device model's memory types and dirty log (kernel/dm.c) */
};

/**
 * p's capability table changed (or was just built): every memo of it is forgotten. Every
 * code path that writes p->caps calls this under the kernel lock, before the lock is
 * released (kernel/boot.c, kernel/hypercall.c).
 */
static inline void partition_caps_changed(struct partition *p)
{
	for (u32 i = 0; i < IPC_MEMO_COUNT; i++)
		p->ipc_memo[i] = (struct ipc_memo){ .slot = ~(u64)0 };
}

#endif /* KERNEL_PARTITION_H */
