/**
 * Software stage-1 walkers: translate a guest virtual address to a guest physical (intermediate
 * physical) address the way the guest's MMU would, by reading the guest's own page tables
 * through a callback that reads guest physical memory. The introspection service uses them to
 * find what a virtual address means to the guest (a faulting PC, a kernel symbol) and to read
 * guest memory by virtual address.
 *
 * arm64: VMSAv8-64 EL1&0 regime, long descriptors (ARM DDI 0487, chapter D5 "The AArch64
 * Virtual Memory System Architecture"): 4K/16K/64K granules, two VA ranges chosen by VA bit
 * 55, TBI0/1, EPD0/1, start level from TnSZ, blocks, APTable/XNTable/PXNTable inheritance
 * (ignored with HPD0/1), SCTLR_EL1.WXN, the access flag, an output size from TCR_EL1.IPS.
 * 52-bit addresses (LVA/LPA) are not modelled. MMU off is the identity map.
 *
 * x86: Intel SDM Vol. 3A chapter 4 (AMD APM Vol. 2 chapter 5 is the same here): paging off
 * (identity), 32-bit paging with PSE/PSE-36, PAE paging, 4-level paging with NX, 2 MiB and
 * 1 GiB pages, reserved-bit checks against MAXPHYADDR, CR0.WP, SMEP and SMAP. 5-level
 * paging (CR4.LA57) is refused as unsupported.
 *
 * Nothing here writes guest memory: accessed and dirty bits are left as they are. Every
 * table read goes through the callback, which must fail outside the guest's memory; the walk
 * then stops with VMI_WALK_READ_ERROR. No allocation, no global state, no C library.
 */
#ifndef SERVICES_VMI_WALK_H
#define SERVICES_VMI_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * Reads `size` (1, 2, 4 or 8) bytes of guest physical memory at `gpa`, little-endian, into
 * `*val`; false if any byte is outside the guest's memory.
 */
typedef bool (*vmi_gpa_read_fn)(void *ctx, uint64_t gpa, unsigned size, uint64_t *val);

/** How a walk ended. A fault records the level it happened at in `vmi_walk.level`. */
enum vmi_walk_status {
	VMI_WALK_OK = 0,
	VMI_WALK_TRANSLATION = 1,  /**< invalid descriptor, VA outside both ranges, EPD set */
	VMI_WALK_ADDRESS_SIZE = 2, /**< arm64: an output address above TCR_EL1.IPS */
	VMI_WALK_ACCESS_FLAG = 3,  /**< arm64: leaf with AF = 0 and no hardware AF update */
	VMI_WALK_RESERVED = 4,     /**< x86: a reserved bit set in a paging entry */
	VMI_WALK_NONCANONICAL = 5, /**< x86 4-level: bits 63:47 not a sign extension */
	VMI_WALK_READ_ERROR = 6,   /**< a table lies outside guest memory */
	VMI_WALK_UNSUPPORTED = 7,  /**< a configuration not modelled (x86 LA57, bad TG) */
	VMI_WALK_BAD_ARG = 8,      /**< NULL pointers */
};

/** Permissions of a translation (privileged = EL1 / CPL 0-2, user = EL0 / CPL 3). */
#define VMI_P_R 0x01u  /**< privileged read */
#define VMI_P_W 0x02u  /**< privileged write */
#define VMI_P_X 0x04u  /**< privileged execute */
#define VMI_P_UR 0x08u /**< user read */
#define VMI_P_UW 0x10u /**< user write */
#define VMI_P_UX 0x20u /**< user execute */
#define VMI_P_ALL 0x3fu

/** The outcome of a walk. */
struct vmi_walk {
	uint64_t gpa;  /**< guest physical address of the byte at the VA */
	uint64_t size; /**< size of the page or block that maps it (bytes) */
	uint8_t level; /**< arm64: 0-3 (leaf or fault level); x86: 4 PML4 .. 1 PT; 0 identity */
	uint8_t perm;  /**< VMI_P_* */
};

/** The arm64 system registers a walk depends on (values as the guest programmed them). */
struct vmi_arm64_regs {
	uint64_t sctlr_el1;
	uint64_t tcr_el1;
	uint64_t ttbr0_el1;
	uint64_t ttbr1_el1;
};

/* SCTLR_EL1 and TCR_EL1 fields used (ARM DDI 0487, D13.2). */
#define ARM_SCTLR_M (UINT64_C(1) << 0)
#define ARM_SCTLR_WXN (UINT64_C(1) << 19)
#define ARM_TCR_T0SZ_SHIFT 0
#define ARM_TCR_EPD0 (UINT64_C(1) << 7)
#define ARM_TCR_TG0_SHIFT 14 /**< 0b00 4K, 0b01 64K, 0b10 16K */
#define ARM_TCR_T1SZ_SHIFT 16
#define ARM_TCR_EPD1 (UINT64_C(1) << 23)
#define ARM_TCR_TG1_SHIFT 30 /**< 0b01 16K, 0b10 4K, 0b11 64K */
#define ARM_TCR_IPS_SHIFT 32
#define ARM_TCR_TBI0 (UINT64_C(1) << 37)
#define ARM_TCR_TBI1 (UINT64_C(1) << 38)
#define ARM_TCR_HA (UINT64_C(1) << 39)
#define ARM_TCR_HD (UINT64_C(1) << 40)
#define ARM_TCR_HPD0 (UINT64_C(1) << 41)
#define ARM_TCR_HPD1 (UINT64_C(1) << 42)

/* VMSAv8-64 stage-1 descriptor bits (ARM DDI 0487, D5.3). */
#define ARM_DESC_VALID (UINT64_C(1) << 0)
#define ARM_DESC_TABLE (UINT64_C(1) << 1) /**< table (levels 0-2) or page (level 3) */
#define ARM_DESC_AP1 (UINT64_C(1) << 6)   /**< EL0 access */
#define ARM_DESC_AP2 (UINT64_C(1) << 7)   /**< read-only */
#define ARM_DESC_AF (UINT64_C(1) << 10)
#define ARM_DESC_DBM (UINT64_C(1) << 51)
#define ARM_DESC_PXN (UINT64_C(1) << 53)
#define ARM_DESC_UXN (UINT64_C(1) << 54)
#define ARM_DESC_PXNTABLE (UINT64_C(1) << 59)
#define ARM_DESC_UXNTABLE (UINT64_C(1) << 60)
#define ARM_DESC_APTABLE0 (UINT64_C(1) << 61) /**< no EL0 access below */
#define ARM_DESC_APTABLE1 (UINT64_C(1) << 62) /**< no writes below */

/**
 * Translates `va` with the guest's EL1&0 stage-1 regime. Returns the status and fills `*out`
 * (on a fault only `level` is meaningful).
 */
enum vmi_walk_status vmi_walk_arm64(const struct vmi_arm64_regs *regs, uint64_t va,
                                    vmi_gpa_read_fn read, void *ctx, struct vmi_walk *out);

/** The x86 control registers a walk depends on. */
struct vmi_x86_regs {
	uint64_t cr0;
	uint64_t cr3;
	uint64_t cr4;
	uint64_t efer;
	uint8_t maxphyaddr; /**< CPUID 0x80000008 EAX[7:0]; 0 is taken as 52 */
};

#define X86_CR0_WP (UINT64_C(1) << 16)
#define X86_CR0_PG (UINT64_C(1) << 31)
#define X86_CR4_PSE (UINT64_C(1) << 4)
#define X86_CR4_PAE (UINT64_C(1) << 5)
#define X86_CR4_LA57 (UINT64_C(1) << 12)
#define X86_CR4_SMEP (UINT64_C(1) << 20)
#define X86_CR4_SMAP (UINT64_C(1) << 21)
#define X86_EFER_LMA (UINT64_C(1) << 10)
#define X86_EFER_NXE (UINT64_C(1) << 11)

#define X86_PTE_P (UINT64_C(1) << 0)
#define X86_PTE_RW (UINT64_C(1) << 1)
#define X86_PTE_US (UINT64_C(1) << 2)
#define X86_PTE_PS (UINT64_C(1) << 7)
#define X86_PTE_XD (UINT64_C(1) << 63)

/** Translates the linear address `va` with the guest's paging mode; as vmi_walk_arm64. */
enum vmi_walk_status vmi_walk_x86(const struct vmi_x86_regs *regs, uint64_t va,
                                  vmi_gpa_read_fn read, void *ctx, struct vmi_walk *out);

/** Which walker a virtual read uses. */
struct vmi_walk_ctx {
	bool is_x86;
	struct vmi_arm64_regs arm64;
	struct vmi_x86_regs x86;
	vmi_gpa_read_fn read;
	void *ctx;
};

/**
 * Reads `len` bytes at guest virtual address `va` into `buf`, translating page by page (a
 * read may cross pages that map to unrelated frames). Needs privileged read permission.
 * Returns VMI_WALK_OK or the first failure; `*done` (if not NULL) is the count copied.
 */
enum vmi_walk_status vmi_read_va(const struct vmi_walk_ctx *w, uint64_t va, void *buf, size_t len,
                                 size_t *done);

#endif /* SERVICES_VMI_WALK_H */
