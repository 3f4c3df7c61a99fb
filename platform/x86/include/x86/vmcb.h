/**
 * The AMD SVM Virtual Machine Control Block (AMD APM vol 2, appendix B).
 *
 *   0x000 +------------------+  control area: intercepts, ASID, exit code,
 *         | struct vmcb_ctrl |  nested paging (nCR3), event injection
 *   0x400 +------------------+  state save area: the guest's segments,
 *         | struct vmcb_save |  control registers, RIP, RSP, RAX, ...
 *   0x1000+------------------+
 *
 * Offsets are checked with static assertions below against table B-1 and
 * B-2 of the APM, because a field off by one word corrupts the guest
 * silently.
 */
#ifndef X86_VMCB_H
#define X86_VMCB_H

#include <stddef.h>
#include <stdint.h>

/** A segment register as the VMCB holds it (APM vol 2 §15.5.1). */
struct vmcb_seg {
	uint16_t selector;
	uint16_t attrib; /**< descriptor bits 47:40 in 7:0, bits 55:52 in 11:8 */
	uint32_t limit;
	uint64_t base;
};

/** VMCB control area (APM vol 2, table B-1). */
struct vmcb_ctrl {
	uint32_t intercept_cr;    /**< 0x000: reads 15:0, writes 31:16 */
	uint32_t intercept_dr;    /**< 0x004 */
	uint32_t intercept_exc;   /**< 0x008: one bit per exception vector */
	uint32_t intercept_misc1; /**< 0x00c: INTR .. SHUTDOWN */
	uint32_t intercept_misc2; /**< 0x010: VMRUN .. XSETBV */
	uint32_t intercept_misc3; /**< 0x014 */
	uint8_t reserved1[0x03c - 0x018];
	uint16_t pause_threshold; /**< 0x03c */
	uint16_t pause_count;     /**< 0x03e */
	uint64_t iopm_base_pa;    /**< 0x040 */
	uint64_t msrpm_base_pa;   /**< 0x048 */
	uint64_t tsc_offset;      /**< 0x050 */
	uint32_t asid;            /**< 0x058 */
	uint8_t tlb_control;      /**< 0x05c */
	uint8_t reserved2[3];
	uint64_t int_ctl;       /**< 0x060: V_TPR, V_IRQ, V_INTR_MASKING, ... */
	uint64_t int_shadow;    /**< 0x068 */
	uint64_t exit_code;     /**< 0x070 */
	uint64_t exit_info1;    /**< 0x078 */
	uint64_t exit_info2;    /**< 0x080 */
	uint64_t exit_int_info; /**< 0x088 */
	uint64_t np_enable;     /**< 0x090: bit 0 enables nested paging */
	uint64_t avic_apic_bar; /**< 0x098 */
	uint64_t ghcb_pa;       /**< 0x0a0 */
	uint64_t event_inj;     /**< 0x0a8 */
	uint64_t n_cr3;         /**< 0x0b0: nested page table root */
	uint64_t lbr_virt;      /**< 0x0b8 */
	uint32_t clean;         /**< 0x0c0: VMCB clean bits */
	uint32_t reserved3;
	uint64_t next_rip; /**< 0x0c8: only with NRIPS (not under TCG) */
	uint8_t insn_len;  /**< 0x0d0: only with DecodeAssists */
	uint8_t insn_bytes[15];
	uint8_t reserved4[0x400 - 0x0e0];
};

/** VMCB state save area (APM vol 2, table B-2), offsets from 0x400. */
struct vmcb_save {
	struct vmcb_seg es, cs, ss, ds, fs, gs; /**< 0x400 .. 0x45f */
	struct vmcb_seg gdtr, ldtr, idtr, tr;   /**< 0x460 .. 0x49f */
	uint8_t reserved1[0x4cb - 0x4a0];
	uint8_t cpl; /**< 0x4cb */
	uint32_t reserved2;
	uint64_t efer; /**< 0x4d0 */
	uint8_t reserved3[0x548 - 0x4d8];
	uint64_t cr4;    /**< 0x548 */
	uint64_t cr3;    /**< 0x550 */
	uint64_t cr0;    /**< 0x558 */
	uint64_t dr7;    /**< 0x560 */
	uint64_t dr6;    /**< 0x568 */
	uint64_t rflags; /**< 0x570 */
	uint64_t rip;    /**< 0x578 */
	uint8_t reserved4[0x5d8 - 0x580];
	uint64_t rsp;                                     /**< 0x5d8 */
	uint64_t s_cet, ssp, isst_addr;                   /**< 0x5e0 .. 0x5f7 */
	uint64_t rax;                                     /**< 0x5f8 */
	uint64_t star, lstar, cstar, sfmask;              /**< 0x600 .. 0x61f */
	uint64_t kernel_gs_base;                          /**< 0x620 */
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip; /**< 0x628 .. 0x63f */
	uint64_t cr2;                                     /**< 0x640 */
	uint8_t reserved5[0x668 - 0x648];
	uint64_t g_pat;                                        /**< 0x668 */
	uint64_t dbgctl;                                       /**< 0x670 */
	uint64_t br_from, br_to, last_excp_from, last_excp_to; /**< 0x678 .. 0x697 */
	uint8_t reserved6[0xc00 - 0x298];
};

struct vmcb {
	struct vmcb_ctrl ctrl;
	struct vmcb_save save;
};

_Static_assert(offsetof(struct vmcb_ctrl, pause_threshold) == 0x03c, "vmcb layout");
_Static_assert(offsetof(struct vmcb_ctrl, iopm_base_pa) == 0x040, "vmcb layout");
_Static_assert(offsetof(struct vmcb_ctrl, asid) == 0x058, "vmcb layout");
_Static_assert(offsetof(struct vmcb_ctrl, int_ctl) == 0x060, "vmcb layout");
_Static_assert(offsetof(struct vmcb_ctrl, exit_code) == 0x070, "vmcb layout");
_Static_assert(offsetof(struct vmcb_ctrl, np_enable) == 0x090, "vmcb layout");
_Static_assert(offsetof(struct vmcb_ctrl, n_cr3) == 0x0b0, "vmcb layout");
_Static_assert(offsetof(struct vmcb_ctrl, next_rip) == 0x0c8, "vmcb layout");
_Static_assert(sizeof(struct vmcb_ctrl) == 0x400, "vmcb layout");
_Static_assert(offsetof(struct vmcb, save.tr) == 0x490, "vmcb layout");
_Static_assert(offsetof(struct vmcb, save.cpl) == 0x4cb, "vmcb layout");
_Static_assert(offsetof(struct vmcb, save.efer) == 0x4d0, "vmcb layout");
_Static_assert(offsetof(struct vmcb, save.cr4) == 0x548, "vmcb layout");
_Static_assert(offsetof(struct vmcb, save.rip) == 0x578, "vmcb layout");
_Static_assert(offsetof(struct vmcb, save.rsp) == 0x5d8, "vmcb layout");
_Static_assert(offsetof(struct vmcb, save.rax) == 0x5f8, "vmcb layout");
_Static_assert(offsetof(struct vmcb, save.cr2) == 0x640, "vmcb layout");
_Static_assert(offsetof(struct vmcb, save.g_pat) == 0x668, "vmcb layout");
_Static_assert(sizeof(struct vmcb) == 0x1000, "vmcb layout");

/* Intercept bits (APM vol 2, table B-1). */
#define VMCB_MISC1_INTR (1u << 0)
#define VMCB_MISC1_NMI (1u << 1)
#define VMCB_MISC1_SMI (1u << 2)
#define VMCB_MISC1_INIT (1u << 3)
#define VMCB_MISC1_RDPMC (1u << 15)
#define VMCB_MISC1_CPUID (1u << 18)
#define VMCB_MISC1_INVD (1u << 22)
#define VMCB_MISC1_HLT (1u << 24)
#define VMCB_MISC1_INVLPGA (1u << 26)
#define VMCB_MISC1_IOIO (1u << 27)
#define VMCB_MISC1_MSR (1u << 28)
#define VMCB_MISC1_TASK_SWITCH (1u << 29)
#define VMCB_MISC1_FERR_FREEZE (1u << 30)
#define VMCB_MISC1_SHUTDOWN (1u << 31)

#define VMCB_MISC2_VMRUN (1u << 0)
#define VMCB_MISC2_VMMCALL (1u << 1)
#define VMCB_MISC2_VMLOAD (1u << 2)
#define VMCB_MISC2_VMSAVE (1u << 3)
#define VMCB_MISC2_STGI (1u << 4)
#define VMCB_MISC2_CLGI (1u << 5)
#define VMCB_MISC2_SKINIT (1u << 6)
#define VMCB_MISC2_ICEBP (1u << 8)
#define VMCB_MISC2_MONITOR (1u << 10)
#define VMCB_MISC2_MWAIT (1u << 11)
#define VMCB_MISC2_MWAIT_ARMED (1u << 12)
#define VMCB_MISC2_WBINVD (1u << 9) /**< WBINVD and WBNOINVD */
#define VMCB_MISC2_XSETBV (1u << 13)
#define VMCB_MISC2_RDPRU (1u << 14)

#define VMCB_INT_CTL_V_IRQ (UINT64_C(1) << 8)
#define VMCB_INT_CTL_V_INTR_PRIO_SHIFT 16u
#define VMCB_INT_CTL_V_IGN_TPR (UINT64_C(1) << 20)
#define VMCB_INT_CTL_V_INTR_MASKING (UINT64_C(1) << 24)
#define VMCB_INT_CTL_V_INTR_VECTOR_SHIFT 32u
/** The fields a virtual interrupt request occupies in int_ctl (§15.21.4). */
#define VMCB_INT_CTL_V_REQUEST                                                    \
	(VMCB_INT_CTL_V_IRQ | (UINT64_C(0xf) << VMCB_INT_CTL_V_INTR_PRIO_SHIFT) | \
	 VMCB_INT_CTL_V_IGN_TPR | (UINT64_C(0xff) << VMCB_INT_CTL_V_INTR_VECTOR_SHIFT))
/** int_shadow bit 0: the guest is in an STI or MOV SS shadow (§15.21.5). */
#define VMCB_INT_SHADOW 1u

/* EVENTINJ and EXITINTINFO (§15.20): vector, type, error-code valid, valid. */
#define VMCB_EVENT_VECTOR_MASK 0xffu
#define VMCB_EVENT_TYPE_MASK (7u << 8)
#define VMCB_EVENT_TYPE_INTR (0u << 8)
#define VMCB_EVENT_TYPE_NMI (2u << 8)
#define VMCB_EVENT_TYPE_EXCEPTION (3u << 8)
#define VMCB_EVENT_ERROR_VALID (1u << 11)
#define VMCB_EVENT_VALID (1u << 31)
#define VMCB_TLB_FLUSH_NONE 0u
#define VMCB_TLB_FLUSH_ALL 1u
#define VMCB_TLB_FLUSH_ASID 3u

/** DR0-DR3 reads (bits 0-3) and writes (bits 16-19). */
#define VMCB_DR0_3_ACCESS 0x000f000fu

/* Exit codes (APM vol 2, appendix C). */
#define VMEXIT_DR_BASE 0x20u
#define VMEXIT_CR_WRITE_BASE 0x10u /**< + n: a write of CRn (APM vol 2 appendix C) */
#define VMEXIT_EXCP_BASE 0x40u
#define VMEXIT_INTR 0x60u
#define VMEXIT_NMI 0x61u
#define VMEXIT_SMI 0x62u
#define VMEXIT_INIT 0x63u
#define VMEXIT_CPUID 0x72u
#define VMEXIT_HLT 0x78u
#define VMEXIT_IOIO 0x7bu
#define VMEXIT_MSR 0x7cu
#define VMEXIT_SHUTDOWN 0x7fu
#define VMEXIT_VMRUN 0x80u
#define VMEXIT_VMMCALL 0x81u
#define VMEXIT_WBINVD 0x89u
#define VMEXIT_XSETBV 0x8du
#define VMEXIT_NPF 0x400u
#define VMEXIT_INVALID UINT64_C(0xffffffffffffffff)

/* EXITINFO1 of a nested page fault (APM vol 2 §15.25.6). */
#define NPF_INFO_PRESENT (UINT64_C(1) << 0) /**< a present entry refused it: rights */
#define NPF_INFO_WRITE (UINT64_C(1) << 1)
#define NPF_INFO_FETCH (UINT64_C(1) << 4)
/** The fault hit a guest page table during the guest's own walk, not the final access. */
#define NPF_INFO_GUEST_WALK (UINT64_C(1) << 33)

#endif /* X86_VMCB_H */
