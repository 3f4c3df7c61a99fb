/**
 * The dm_op interface (issue 14): how an untrusted device model asks the dmop service to act
 * on the one guest it serves. Facts from Xen's public/hvm/dm_op.h (4.10) carry over (the
 * operations, their bounds and error rules); the layouts are this project's.
 *
 * A call is an IPC call to the dmop service's endpoint with label DMOP_LABEL and
 *
 *   word 0  the target guest (its partition index)
 *   word 1  nr_bufs: how many buffers follow (1 or 2; more is DMOP_ERR_TOO_MANY_BUFS)
 *   word 2  buffer 0: offset in the caller's shared region with the service
 *   word 3  buffer 0: length
 *   word 4  buffer 1: offset   (only with nr_bufs = 2)
 *   word 5  buffer 1: length
 *
 * Every buffer is described up front and checked (inside the region, long enough for what the
 * operation reads or writes) before any work is done. Buffer 0 holds struct dmop_op: the
 * operation, zero padding and the operation's arguments, never an address; results come back
 * in it. Buffer 1 carries an operation's array (modified_memory's extents, track_dirty_vram's
 * bitmap). The reply's word 0 is an ABI status (ipc/abi.h), word 1 the enum dmop_error that
 * says exactly what happened, word 2 for inject_msi 1 if the guest's MSI controller (its
 * virtual ITS) made the MSI an interrupt, 0 if it dropped it (an event the guest never
 * mapped; not an error, as on hardware):
 *
 *   Xen        dmop_error                status
 *   E2BIG      DMOP_ERR_TOO_MANY_BUFS    STATUS_INVALID_ARG
 *   EFAULT     DMOP_ERR_BUFFER           STATUS_INVALID_ARG
 *   EINVAL     DMOP_ERR_INVALID          STATUS_INVALID_ARG
 *   EPERM      DMOP_ERR_DENIED           STATUS_NO_RIGHTS
 *   ESRCH      DMOP_ERR_NO_TARGET        STATUS_INVALID_CAP
 *   EOPNOTSUPP DMOP_ERR_UNKNOWN_OP       STATUS_INVALID_CALL
 *   ERESTART   DMOP_ERR_CONTINUE         STATUS_WOULD_BLOCK  (call again with the same buffers)
 *   EBUSY      DMOP_ERR_BUSY             STATUS_BUSY
 *   ENOSPC     DMOP_ERR_NO_SPACE         STATUS_BUSY
 *   EEXIST     DMOP_ERR_EXISTS           STATUS_BUSY
 *   ENOENT     DMOP_ERR_NOT_FOUND        STATUS_INVALID_ARG
 *   -          DMOP_ERR_NOT_SUPPORTED    STATUS_INVALID_CALL (a known operation this machine or
 *                                        this target cannot carry out: port or PCI ranges on
 *                                        arm64, an MSI without a virtual ITS)
 *
 * The manifest configures the service through the badges of capabilities (below): the badge
 * of a device model's endpoint capability to the service names the model, the one guest it
 * may serve and its shared region, so a caller is known by what the manifest gave it, never
 * by anything it sends.
 */
#ifndef IPC_DMOP_H
#define IPC_DMOP_H

#include <stdint.h>

#define DMOP_LABEL 0x444d4f50u /* "DMOP" */
#define DMOP_MAX_BUFS 2u

enum dmop_error {
	DMOP_OK = 0,
	DMOP_ERR_TOO_MANY_BUFS,
	DMOP_ERR_BUFFER,
	DMOP_ERR_INVALID,
	DMOP_ERR_DENIED,
	DMOP_ERR_NO_TARGET,
	DMOP_ERR_UNKNOWN_OP,
	DMOP_ERR_CONTINUE,
	DMOP_ERR_BUSY,
	DMOP_ERR_NO_SPACE,
	DMOP_ERR_EXISTS,
	DMOP_ERR_NOT_FOUND,
	DMOP_ERR_NOT_SUPPORTED,
	DMOP_ERR_COUNT
};

/** Operation numbers (Xen's, plus DMOP_RESTRICT). */
enum dmop_op_number {
	DMOP_CREATE_IOREQ_SERVER = 1,
	DMOP_GET_IOREQ_SERVER_INFO = 2,
	DMOP_MAP_IO_RANGE = 3,
	DMOP_UNMAP_IO_RANGE = 4,
	DMOP_SET_IOREQ_SERVER_STATE = 5,
	DMOP_DESTROY_IOREQ_SERVER = 6,
	DMOP_TRACK_DIRTY_VRAM = 7,
	DMOP_SET_PCI_INTX_LEVEL = 8,
	DMOP_SET_ISA_IRQ_LEVEL = 9,
	DMOP_SET_PCI_LINK_ROUTE = 10,
	DMOP_MODIFIED_MEMORY = 11,
	DMOP_SET_MEM_TYPE = 12,
	DMOP_INJECT_EVENT = 13,
	DMOP_INJECT_MSI = 14,
	DMOP_MAP_MEM_TYPE_TO_IOREQ_SERVER = 15,
	DMOP_REMOTE_SHUTDOWN = 16,
	/** dm_restrict: the caller may act on this target only, for good. */
	DMOP_RESTRICT = 17,
	DMOP_OP_COUNT
};

/** map/unmap_io_range types; a PCI range is of SBDFs: segment << 16 | bus << 8 | dev << 3 | fn. */
enum dmop_range_type { DMOP_RANGE_PORT = 0, DMOP_RANGE_MEMORY = 1, DMOP_RANGE_PCI = 2 };
#define DMOP_RANGE_TYPES 3u

/** Memory types of set_mem_type (Xen's HVMMEM_*). */
enum dmop_mem_type {
	DMOP_MEM_RAM_RW = 0,
	DMOP_MEM_RAM_RO = 1,
	DMOP_MEM_MMIO_DM = 2,
	DMOP_MEM_IOREQ_SERVER = 4,
};

/** remote_shutdown reasons (Xen's SHUTDOWN_*). */
#define DMOP_SHUTDOWN_REASON_MAX 5u

/** Each operation's arguments; every pad field must be zero. "out": written by the service. */
struct dmop_create_ioreq_server {
	uint8_t handle_bufioreq; /**< 0 off, 1 legacy, 2 atomic */
	uint8_t pad[3];
	uint16_t id; /**< out */
	uint16_t pad2;
};

struct dmop_ioreq_server_info {
	uint16_t id;
	uint16_t pad;
	uint32_t enabled;   /**< out */
	uint32_t nr_ranges; /**< out: all types */
	uint32_t bufioreq;  /**< out */
};

struct dmop_io_range {
	uint16_t id;
	uint8_t type; /**< enum dmop_range_type */
	uint8_t pad[5];
	uint64_t start, end; /**< inclusive */
};

struct dmop_ioreq_server_state {
	uint16_t id;
	uint8_t enabled; /**< 0 or 1 */
	uint8_t pad[5];
};

struct dmop_destroy_ioreq_server {
	uint16_t id;
	uint8_t pad[6];
};

struct dmop_track_dirty_vram {
	uint32_t nr; /**< pages, at most 1 GiB of them; buffer 1 holds ceil(nr / 8) bytes of bitmap */
	uint32_t pad;
	uint64_t first_pfn;
};

struct dmop_pci_intx_level {
	uint16_t domain; /**< 0 */
	uint8_t bus;     /**< 0 */
	uint8_t device;  /**< 0..31 */
	uint8_t intx;    /**< 0..3: INTA..INTD */
	uint8_t level;   /**< 0 or 1 */
	uint8_t pad[2];
};

struct dmop_isa_irq_level {
	uint8_t isa_irq; /**< 0..15 */
	uint8_t level;   /**< 0 or 1 */
	uint8_t pad[6];
};

struct dmop_pci_link_route {
	uint8_t link;    /**< 0..3 */
	uint8_t isa_irq; /**< 1..15, or 0: not routed */
	uint8_t pad[6];
};

struct dmop_modified_memory {
	/** Extents in buffer 1 (struct dmop_extent); on an error, the failing one's index + 1. */
	uint32_t nr_extents;
	uint32_t opaque; /**< must be 0 */
};

struct dmop_extent {
	uint64_t first_pfn, nr;
};

struct dmop_set_mem_type {
	uint32_t nr;       /**< pages left to change (a continuation lowers it) */
	uint16_t mem_type; /**< enum dmop_mem_type */
	uint16_t pad;
	uint64_t first_pfn; /**< the next page (a continuation raises it) */
};

struct dmop_inject_event {
	uint32_t vcpu;
	uint8_t vector;
	uint8_t type; /**< 0..7 (x86 event types) */
	uint8_t insn_len;
	uint8_t pad;
	uint32_t error_code;
	uint32_t pad2;
	uint64_t cr2;
};

struct dmop_inject_msi {
	uint32_t data;
	uint32_t pad;
	uint64_t addr;
};

struct dmop_map_mem_type {
	uint16_t id;
	uint16_t type;  /**< DMOP_MEM_IOREQ_SERVER */
	uint32_t flags; /**< DMOP_MEM_TYPE_WRITE, or 0 to unmap */
};
#define DMOP_MEM_TYPE_WRITE 1u

struct dmop_remote_shutdown {
	uint32_t reason; /**< 0..DMOP_SHUTDOWN_REASON_MAX */
	uint32_t pad;
};

/** Buffer 0. */
struct dmop_op {
	uint32_t op;  /**< enum dmop_op_number */
	uint32_t pad; /**< must be 0 */
	union {
		struct dmop_create_ioreq_server create;
		struct dmop_ioreq_server_info info;
		struct dmop_io_range range;
		struct dmop_ioreq_server_state state;
		struct dmop_destroy_ioreq_server destroy;
		struct dmop_track_dirty_vram vram;
		struct dmop_pci_intx_level intx;
		struct dmop_isa_irq_level isa;
		struct dmop_pci_link_route link;
		struct dmop_modified_memory modified;
		struct dmop_set_mem_type mem_type;
		struct dmop_inject_event event;
		struct dmop_inject_msi msi;
		struct dmop_map_mem_type map_mem_type;
		struct dmop_remote_shutdown shutdown;
	} u;
};

/*
 * The badge of a device model's endpoint capability to the dmop service (set by the manifest):
 *
 *   bits  7:0   the device model's partition index (the caller; its own domain is refused)
 *   bits 15:8   the one guest it may serve (a partition index)
 *   bits 39:16  its shared region's first page in the service's address space (IPA >> 12)
 *   bits 55:40  the region's size in 4 KiB pages (0: no region, every buffer refused)
 *   bit  63     DMOP_BADGE_AUDITOR: may read the audit log (DMOP_LABEL_AUDIT)
 */
#define DMOP_BADGE_CALLER(b) ((uint32_t)(b)&0xffu)
#define DMOP_BADGE_TARGET(b) ((uint32_t)((b) >> 8) & 0xffu)
#define DMOP_BADGE_REGION_PAGE(b) (((b) >> 16) & 0xffffffu)
#define DMOP_BADGE_REGION_PAGES(b) (((b) >> 40) & 0xffffu)
#define DMOP_BADGE_AUDITOR (UINT64_C(1) << 63)
#define DMOP_BADGE(caller, target, region_ipa, region_size)                                    \
	((uint64_t)(caller) | (uint64_t)(target) << 8 | ((uint64_t)(region_ipa) >> 12) << 16 | \
	 ((uint64_t)(region_size) >> 12) << 40)

/*
 * The badge of a guest capability the service holds (`dm`, and `inject` for interrupts):
 *
 *   bits  7:0   the guest's partition index (the target a model names)
 *   bits 15:8   its vCPUs
 *   bits 31:16  the first of its 20 SPIs for a device model's lines (0: none): ISA IRQs
 *               0..15 are SPI base + 0..15, PCI links A..D base + 16..19
 *   bits 47:32  its RAM's first MiB (IPA >> 20)
 *   bits 63:48  its RAM's size in MiB
 */
#define DMOP_GUEST_INDEX(b) ((uint32_t)(b)&0xffu)
#define DMOP_GUEST_VCPUS(b) ((uint32_t)((b) >> 8) & 0xffu)
#define DMOP_GUEST_SPI_BASE(b) ((uint32_t)((b) >> 16) & 0xffffu)
#define DMOP_GUEST_RAM_MB(b) (((b) >> 32) & 0xffffu)
#define DMOP_GUEST_RAM_MBS(b) (((b) >> 48) & 0xffffu)
#define DMOP_GUEST_LINES 20u

/*
 * Endpoint capabilities the service holds with `send`, told apart by bits 63:56 of the badge:
 *
 *   DMOP_EP_ROUTE   a device model's own endpoint (it receives there): where the guest's
 *                   accesses to its ioreq servers' MMIO ranges go. Bits 7:0: the model.
 *   DMOP_EP_MSI     the vits service's endpoint for one (guest, model) pair: inject_msi
 *                   sends its data as the EventID there. Bits 7:0 and 47:32 are the vits
 *                   service's (the guest's slot there, the DeviceID; services/vits), bits
 *                   23:16 the model, bits 55:48 the guest.
 */
#define DMOP_EP_KIND(b) ((uint32_t)((b) >> 56) & 0xffu)
#define DMOP_EP_ROUTE 0x52u /* 'R' */
#define DMOP_EP_MSI 0x4du   /* 'M' */
#define DMOP_EP_ROUTE_MODEL(b) ((uint32_t)(b)&0xffu)
#define DMOP_EP_MSI_MODEL(b) ((uint32_t)((b) >> 16) & 0xffu)
#define DMOP_EP_MSI_GUEST(b) ((uint32_t)((b) >> 48) & 0xffu)

/**
 * The badge the kernel puts on a guest's access to a range a device model mapped through an
 * ioreq server (IPC_LABEL_MMIO on the model's endpoint): bit 62 set, the guest in bits 23:8,
 * the server's id in bits 7:0. w4 is the offset from the range's start.
 */
#define DMOP_ROUTE_BADGE_TAG (UINT64_C(1) << 62)
#define DMOP_ROUTE_BADGE(guest, id) \
	(DMOP_ROUTE_BADGE_TAG | (uint64_t)((guest)&0xffffu) << 8 | ((id)&0xffu))
#define DMOP_ROUTE_BADGE_GUEST(b) ((uint32_t)((b) >> 8) & 0xffffu)
#define DMOP_ROUTE_BADGE_ID(b) ((uint32_t)(b)&0xffu)

/**
 * The audit log, for a caller whose badge has DMOP_BADGE_AUDITOR (the management service, a
 * test): an IPC call with label DMOP_LABEL_AUDIT and
 *
 *   DMOP_AUDIT_RECORD  w1 = i: the i-th record counting from the oldest kept. Reply w0 status
 *                      (STATUS_INVALID_ARG past the end), w1 = records written in all, w2 =
 *                      its sequence number, w3 = caller, w4 = target, w5 = op | error << 16
 *   DMOP_AUDIT_MODEL   w1 = a device model's partition index. Reply w0 status
 *                      (STATUS_INVALID_ARG if it never called), w1 = its calls, w2 = denied
 *                      (DMOP_ERR_DENIED), w3 = refused (any error but CONTINUE), w4 = 1 if
 *                      restricted, w5 = the target it restricted itself to
 *
 * Anyone else gets STATUS_NO_RIGHTS.
 */
#define DMOP_LABEL_AUDIT 0x44415544u /* "DAUD" */
#define DMOP_AUDIT_RECORD 0u
#define DMOP_AUDIT_MODEL 1u

#endif /* IPC_DMOP_H */
