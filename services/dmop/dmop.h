/**
 * The dmop service's core (issue 14) as plain C: one entry, dmop_call(), through which an
 * untrusted device model acts on one guest; the rules of Xen 4.10's dm_op (spec section 4)
 * on this project's ABI (ipc/dmop.h). It decides; what a decision does to the machine (a range
 * routed, an interrupt line driven, an MSI injected) goes out through struct dmop_env, which
 * the service supplies from kernel calls and the host tests from a fake. Nothing here trusts a
 * byte of the caller's buffers: each is described up front and checked before any work.
 *
 * State: the device models seen (their dm_restrict and denied counts), per target the ioreq
 * servers with their I/O ranges, interrupt routing, page types, and an audit ring of every call.
 */
#ifndef DMOP_DMOP_H
#define DMOP_DMOP_H

#include <ipc/dmop.h>
#include <stdbool.h>
#include <stdint.h>

#define DMOP_MODELS 8u       /**< device models the service tracks */
#define DMOP_TARGETS 4u      /**< guests it mediates for */
#define DMOP_SERVERS 4u      /**< ioreq servers per guest */
#define DMOP_RANGES 256u     /**< I/O ranges per server and type (Xen's MAX_NR_IO_RANGES) */
#define DMOP_MEM_PAGES 4096u /**< guest pages whose type it tracks (16 MiB from the RAM's start) */
#define DMOP_MEM_BATCH 64u   /**< pages set_mem_type changes per call before it continues */
#define DMOP_VRAM_MAX (UINT64_C(1) << 18) /**< track_dirty_vram: 1 GiB of 4 KiB pages */
#define DMOP_AUDIT 64u                    /**< audit records kept */

/** Interrupt lines a device model drives (dmop_env.irq_level). */
enum dmop_irq_kind { DMOP_IRQ_PCI_INTX, DMOP_IRQ_ISA, DMOP_IRQ_LINK_ROUTE };

/** What the service does to the machine, and what it asks of it. */
struct dmop_env {
	void *ctx;
	/** Whether device model `caller` may serve `target` (the manifest's capabilities). */
	bool (*allowed)(void *ctx, uint32_t caller, uint32_t target);
	bool (*target_exists)(void *ctx, uint32_t target);
	uint32_t (*target_vcpus)(void *ctx, uint32_t target);
	/** The target's RAM as page frames [first, first + pages). */
	void (*target_ram)(void *ctx, uint32_t target, uint64_t *first_pfn, uint64_t *pages);
	/** Route (or stop routing) accesses wholly inside [start, end] of `type` to server id. */
	enum dmop_error (*route)(void *ctx, uint32_t target, uint32_t id, uint32_t type,
	                         uint64_t start, uint64_t end, bool map);
	/** Drive a line (LINK_ROUTE: line = the link, level = the ISA IRQ it now routes to). */
	enum dmop_error (*irq_level)(void *ctx, uint32_t target, enum dmop_irq_kind kind,
	                             uint32_t line, uint32_t level);
	/**
	 * track_dirty_vram: bit i of bitmap (ceil(nr / 8) bytes, other bits untouched) set if
	 * page first_pfn + i was written since the last call for this range, cleared if not;
	 * a range other than the last one is tracked from now on, its pages all reported
	 * written (Xen's rule). nr = 0 stops tracking.
	 */
	enum dmop_error (*track_dirty)(void *ctx, uint32_t target, uint64_t first_pfn, uint64_t nr,
	                               uint8_t *bitmap);
	void (*mark_dirty)(void *ctx, uint32_t target, uint64_t pfn, uint64_t nr);
	/** The page types' effect (read-only, trapped to a server) on the target's memory. */
	/** Called before the service records the change: an error leaves the types as they were. */
	enum dmop_error (*mem_type)(void *ctx, uint32_t target, uint64_t pfn, uint64_t nr,
	                            uint32_t type);
	/**
	 * The ioreq_server type's writes go to server id of device model owner (on), or to
	 * nobody (off: the machine's pages of that type become ram_rw, as the core's do).
	 */
	enum dmop_error (*write_server)(void *ctx, uint32_t target, uint32_t owner, uint32_t id,
	                                bool on);
	enum dmop_error (*inject_event)(void *ctx, uint32_t target,
	                                const struct dmop_inject_event *e);
	enum dmop_error (*inject_msi)(void *ctx, uint32_t target, uint64_t addr, uint32_t data);
	enum dmop_error (*shutdown)(void *ctx, uint32_t target, uint32_t reason);
};

struct dmop_range {
	uint64_t start, end;
};

struct dmop_server {
	bool used, enabled;
	uint8_t bufioreq;
	bool mem_write; /**< receives writes to DMOP_MEM_IOREQ_SERVER pages */
	uint32_t owner; /**< the device model that created it */
	uint32_t nr[DMOP_RANGE_TYPES];
	struct dmop_range range[DMOP_RANGE_TYPES][DMOP_RANGES];
};

struct dmop_target {
	bool used;
	uint32_t id;
	struct dmop_server server[DMOP_SERVERS];
	uint8_t link_route[4];
	uint8_t mem_type[DMOP_MEM_PAGES];
};

struct dmop_model {
	bool used, restricted;
	uint32_t id, restrict_target;
	uint64_t calls, denied;
	uint64_t refused; /**< calls that failed, whatever the error (CONTINUE is no failure) */
};

struct dmop_audit {
	uint32_t seq;
	uint32_t caller, target;
	uint16_t op;    /**< 0 when the call failed before its operation was read */
	uint16_t error; /**< enum dmop_error */
};

struct dmop {
	struct dmop_model model[DMOP_MODELS];
	struct dmop_target target[DMOP_TARGETS];
	struct dmop_audit audit[DMOP_AUDIT];
	uint32_t audit_count;    /**< records written; the ring keeps the last DMOP_AUDIT */
	uint64_t denied_unknown; /**< denials of callers that did not fit in model[] */
};

void dmop_init(struct dmop *d);

/**
 * Whether a state found in memory (a restarted service's, from a preserved region) can be
 * used as it is: every count within its array, every stored value one the core could have
 * written (range bounds, memory types, link routes, server owners among the models seen).
 * It says nothing of whether the machine agrees (the service reconciles its routes).
 */
bool dmop_state_valid(const struct dmop *d);

/**
 * One dm_op call by device model `caller` on `target`, its nr_bufs buffers described in desc
 * (offset, length pairs) inside the caller's shared region [region, region + region_size).
 * Results are written back into buffer 0 (and buffer 1 where the operation fills it).
 */
enum dmop_error dmop_call(struct dmop *d, const struct dmop_env *env, uint32_t caller,
                          uint32_t target, uint32_t nr_bufs, const uint64_t desc[2 * DMOP_MAX_BUFS],
                          uint8_t *region, uint64_t region_size);

/** The ABI status (ipc/abi.h enum status) for a dmop_error. */
uint32_t dmop_status(enum dmop_error e);

/** Audit record i counting from the oldest still kept; false past the end. */
bool dmop_audit_get(const struct dmop *d, uint32_t i, struct dmop_audit *out);

/** The device model record of caller, or NULL if it never called. */
const struct dmop_model *dmop_model_of(const struct dmop *d, uint32_t caller);

#endif /* DMOP_DMOP_H */
