/**
 * The arm64 virtual-interrupt mechanism: each VM partition's virtual GICv3
 * (the model in vgic/) connected to the hardware. virq.c traps the guest's
 * distributor and redistributor frames (stage-2 faults) and ICC_SGI1R_EL1,
 * keeps the list registers of the vCPU a CPU runs, forwards the virtual
 * timer's interrupt and the passed-through SPIs, and waits in WFI through
 * the core (kernel/virq.h). docs/interrupts.md describes the whole.
 *
 * Services have no vGIC (vcpu_arch.vm is NULL): every function here leaves
 * them as they were.
 */
#ifndef ARM64_VIRQ_H
#define ARM64_VIRQ_H

#include <arm64/cpu.h>
#include <arm64/sysreg.h>
#include <arm64/vgic.h>
#include <kernel/vcpu.h>
#include <kernel/lock.h>

struct vcpu;

/** A VM partition's interrupt state. */
struct arm64_vm {
	struct spinlock lock; /**< around every use of gic */
	struct vgic gic;
	struct vcpu *vcpu[VGIC_VCPU_MAX];
	u32 vcpu_count;
	u64 gicd_ipa; /**< the guest's distributor frame (64 KiB) */
	u64 gicr_ipa; /**< its redistributors: 128 KiB per vCPU */
	/**
	 * vCPUs a fold released a pending interrupt to (vgic_lr_fold: an LPI or SPI
	 * retargeted while another vCPU listed it), poked once vm->lock is dropped.
	 */
	u32 released;
};

/** Boot CPU: read how many list registers the virtual interface has. */
void arm64_virq_init(void);

/** CPU switch: v's list registers into the model (it leaves the CPU). */
void arm64_virq_save(struct vcpu *v);
/** CPU switch: fill v's list registers; returns ICH_HCR_EL2 for it. */
u64 arm64_virq_load(struct vcpu *v);
/**
 * CPU switch back into v whose list registers never left this CPU (only a
 * service ran meanwhile, vcpu.c gic_owner): returns ICH_HCR_EL2 for it.
 */
u64 arm64_virq_resume(struct vcpu *v);
/** Before entering v again on this CPU: refill its list registers if its model changed. */
void arm64_virq_refresh(struct arm64_cpu *cpu, struct vcpu *v);

/**
 * A physical interrupt the platform acknowledged while cur (may be NULL:
 * idle) ran here: true if it was a guest's (the virtual timer, the
 * maintenance interrupt, a passed-through SPI) and is taken care of,
 * false if it is the kernel's own (the caller EOIs it).
 */
bool arm64_virq_irq(struct arm64_cpu *cpu, struct vcpu *cur, u32 intid);

/** The virtual timer's INTID (27 on QEMU virt), from the firmware's device tree. */
extern u32 arm64_vtimer_ppi;

/* ICH_LR<n>_EL2: op0 3, op1 4, CRn 12, CRm 12 + n / 8, op2 n % 8. */
/* clang-format off */
#define LR_CASES(X) \
	X(0, S3_4_C12_C12_0) X(1, S3_4_C12_C12_1) X(2, S3_4_C12_C12_2) X(3, S3_4_C12_C12_3) \
	X(4, S3_4_C12_C12_4) X(5, S3_4_C12_C12_5) X(6, S3_4_C12_C12_6) X(7, S3_4_C12_C12_7) \
	X(8, S3_4_C12_C13_0) X(9, S3_4_C12_C13_1) X(10, S3_4_C12_C13_2) X(11, S3_4_C12_C13_3) \
	X(12, S3_4_C12_C13_4) X(13, S3_4_C12_C13_5) X(14, S3_4_C12_C13_6) X(15, S3_4_C12_C13_7)
/* clang-format on */

static inline u64 arm64_lr_read(u32 n)
{
	switch (n) {
#define LR_READ(i, reg) \
	case i:         \
		return read_sysreg(reg);
		LR_CASES(LR_READ)
#undef LR_READ
	default:
		return 0;
	}
}

static inline void arm64_lr_write(u32 n, u64 value)
{
	switch (n) {
#define LR_WRITE(i, reg)                  \
	case i:                           \
		write_sysreg(reg, value); \
		break;
		LR_CASES(LR_WRITE)
#undef LR_WRITE
	default:
		break;
	}
}

/**
 * The hot path of the virtual timer's interrupt (intid arm64_vtimer_ppi)
 * while v, a VM's vCPU, is loaded and runs here: list it again in the list
 * register the guest emptied since the last time (vgic_lr_relist), nothing
 * else. False: nothing was done, take the general path (arm64_virq_irq).
 * Inline, on the exit path of every timer tick of every VM.
 */
static inline bool arm64_virq_vtimer_fast(struct vcpu *v)
{
	struct arm64_vm *vm = v->arch.vm;
	u32 n;
	u64 value;
	spin_lock(&vm->lock);
	bool done = __atomic_load_n(&v->arch.lr_dirty, __ATOMIC_ACQUIRE) == 0 &&
	            vgic_lr_relist(&vm->gic, v->arch.vm_cpu, arm64_vtimer_ppi,
	                           (u32)read_sysreg(S3_4_C12_C11_5), &n, &value);
	if (done) {
		arm64_gic_drop(arm64_vtimer_ppi);
		arm64_lr_write(n, value);
	}
	spin_unlock(&vm->lock);
	return done;
}

/**
 * The EL1 physical timer of a VM, emulated: a trapped access by v to
 * CNTP_TVAL_EL0 (op2 0), CNTP_CTL_EL0 (1) or CNTP_CVAL_EL0 (2); returns
 * what a read gives. Its interrupt is the level-sensitive PPI 30 in v's
 * vGIC, timed by the CPU's CNTHP while v is loaded (guest_deadline_ns) and
 * by the core's wake time while v waits in WFI.
 */
u64 arm64_virq_ptimer_access(struct arm64_cpu *cpu, struct vcpu *v, u32 op2, bool read, u64 value);
/** CNTHP fired: raise the loaded vCPU's physical timer PPI if it came due. */
void arm64_virq_ptimer_check(struct arm64_cpu *cpu);

/** WFI by a VM: resume it if an interrupt can be taken, else wait in the core. */
struct vcpu *arm64_virq_wfi(struct vcpu *v);

enum arm64_mmio_result {
	ARM64_MMIO_NOT_OURS, /**< not in v's vGIC frames: an ordinary stage-2 fault */
	ARM64_MMIO_DONE,     /**< emulated; for a load, *value is what it reads */
	ARM64_MMIO_BAD,      /**< a width, alignment or offset the GIC does not have */
};

/**
 * A stage-2 data abort of v at ipa, syndrome esr (ISV set, so SAS/SRT/WnR
 * are valid), store value wvalue: emulate it if it lies in v's vGIC frames.
 */
enum arm64_mmio_result arm64_virq_mmio(struct vcpu *v, u64 ipa, u64 esr, u64 wvalue, u64 *value);

/** Whether ipa lies in v's vGIC frames. */
bool arm64_virq_is_mmio(const struct vcpu *v, u64 ipa);

/** A trapped ICC_SGI1R_EL1 (op2 5), ICC_ASGI1R_EL1 (6) or ICC_SGI0R_EL1 (7) write by v. */
void arm64_virq_sgi(struct arm64_cpu *cpu, struct vcpu *v, u32 op2, u64 value);

#endif /* ARM64_VIRQ_H */
