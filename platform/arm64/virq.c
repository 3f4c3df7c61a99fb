/**
 * The virtual GICv3 of each VM partition, connected to the hardware (see
 * arm64/virq.h and docs/interrupts.md).
 *
 * Where each piece of state lives:
 *   model (struct vgic)       arm64_vms[vmid].gic, under arm64_vms[vmid].lock
 *   list registers            the CPU's ICH_LR<n>_EL2 while the vCPU is loaded
 *                             there; folded into the model when it leaves
 *   lr_dirty (vcpu_arch)      set by whoever changes the model for a vCPU;
 *                             its CPU refills before it enters it again
 *   the guest's CPU interface ICH_VMCR/APRs, switched by vcpu.c
 *
 * The host runs the GIC with EOImode 1 (gic.c): a guest's interrupt that
 * comes from hardware (the virtual timer PPI, a passed-through SPI) has its
 * priority dropped here and stays active until the guest deactivates it
 * through a list register with the HW bit, so it cannot fire again before.
 */
#include <arch/virq.h>
#include <arm64/sysreg.h>
#include <arm64/virq.h>
#include <kernel/config.h>
#include <kernel/guest_mem.h>
#include <kernel/partition.h>
#include <kernel/trap.h>
#include <kernel/vcpu.h>
#include <kernel/virq.h>
#include <plat/timer.h>

/* ICH_HCR_EL2.En, ICH_VMCR_EL2.VENG1 and VPMR (ARM IHI 0069 12.5). */
#define ICH_HCR_EN UINT64_C(1)
#define ICH_VMCR_VENG1 (UINT64_C(1) << 1)
#define ICH_VMCR_VPMR_SHIFT 24

#define VIRQ_PRIORITY_IDLE 0xffu

static struct arm64_vm arm64_vms[CFG_PARTITION_MAX + 1];
/** The VM each physical SPI is passed through to (by INTID), or NULL. */
static struct arm64_vm *spi_owner[1020];
static u32 lr_count;
u32 arm64_vtimer_ppi;

static void lr_read_all(u64 *lr)
{
	for (u32 n = 0; n < lr_count; n++)
		lr[n] = arm64_lr_read(n);
}

static void lr_write_all(const u64 *lr)
{
	for (u32 n = 0; n < lr_count; n++)
		arm64_lr_write(n, lr[n]);
}

void arm64_virq_init(void)
{
	lr_count = (u32)(read_sysreg(S3_4_C12_C11_1) & 0x1fu) + 1u; /* ICH_VTR_EL2.ListRegs */
	if (lr_count > VGIC_LR_MAX)
		lr_count = VGIC_LR_MAX;
	arm64_vtimer_ppi = 16u + arm64_hw.timer_ppi[2];
}

static inline u32 vtimer_intid(void)
{
	return arm64_vtimer_ppi;
}

/** vCPU i's MPIDR as the guest reads it (VMPIDR_EL2, vcpu.c): Aff0 = i. */
static u64 vm_mpidr(u32 i)
{
	return i;
}

/** Route physical SPI intid to the CPU that runs v's vCPU 0, and enable it. */
static const char *virq_passthrough(struct arm64_vm *vm, u32 intid)
{
	if (intid < 32u || intid >= 1020u || intid - 32u >= VGIC_SPI_MAX)
		return "a passed-through interrupt must be an SPI (INTID 32-287)";
	if (spi_owner[intid] != NULL)
		return "an interrupt is passed through twice";
	if (!vgic_set_hw(&vm->gic, intid, intid))
		return "a passed-through SPI is beyond the VM's virtual distributor";
	spi_owner[intid] = vm;
	arm64_gic_route_spi(intid, arm64_hw.cpu_mpidr[vm->vcpu[0]->cpu]);
	return NULL;
}

const char *arch_partition_setup(u32 vmid, enum partition_type type, struct vcpu *vcpus,
                                 u32 vcpu_count, const u32 *irqs, u32 irq_count, u32 lpi_count)
{
	if (type == PARTITION_SERVICE) {
		if (irq_count != 0)
			return "a service cannot take device interrupts (it has no virtual GIC)";
		if (lpi_count != 0)
			return "a service has no virtual GIC to take LPIs";
		return NULL;
	}
	if (vmid >= sizeof(arm64_vms) / sizeof(arm64_vms[0]) || vcpu_count > VGIC_VCPU_MAX)
		return "too many vCPUs for a virtual GIC (at most 8)";
	struct arm64_vm *vm = &arm64_vms[vmid];
	u64 mpidr[VGIC_VCPU_MAX];
	for (u32 i = 0; i < vcpu_count; i++) {
		mpidr[i] = vm_mpidr(i);
		vm->vcpu[i] = &vcpus[i];
		vcpus[i].arch.vm = vm;
		vcpus[i].arch.vm_cpu = i;
	}
	vm->vcpu_count = vcpu_count;
	/* The VM's virtual counter starts near zero at boot (CNTVOFF_EL2, switched by vcpu.c). */
	u64 now = read_sysreg(cntpct_el0);
	for (u32 i = 0; i < vcpu_count; i++)
		vcpus[i].arch.cntvoff = now;
	/* SPIs up to the highest one passed through, at least 32 (INTIDs 32-63). */
	u32 spis = 32;
	for (u32 i = 0; i < irq_count; i++)
		if (irqs[i] >= 32u && irqs[i] - 32u + 1u > spis)
			spis = irqs[i] - 32u + 1u;
	if (spis > VGIC_SPI_MAX || !vgic_init(&vm->gic, spis, vcpu_count, mpidr))
		return "a passed-through SPI is beyond INTID 287";
	/* The guest sees the GIC where the machine has it: a copy of the machine's DTB fits. */
	vm->gicd_ipa = arm64_hw.gicd;
	vm->gicr_ipa = arm64_hw.gicr;
	/* The virtual timer's PPI is the hardware's own, deactivated by the guest's EOI. */
	for (u32 i = 0; i < vcpu_count; i++) {
		struct vgic_irq *t = vgic_irq_get(&vm->gic, i, vtimer_intid());
		t->flags |= VGIC_IRQ_HW;
		t->pintid = (u16)vtimer_intid();
	}
	for (u32 i = 0; i < irq_count; i++) {
		const char *why = virq_passthrough(vm, irqs[i]);
		if (why != NULL)
			return why;
	}
	if (lpi_count != 0 && !vgic_lpi_init(&vm->gic, lpi_count))
		return "lpis: more LPIs than the virtual GIC has (512)";
	return NULL;
}

/** The CPU interface's idea of the highest active priority, from ICH_AP1R0_EL2 (5 bits). */
static u8 virq_running_priority(void)
{
	u32 ap = (u32)read_sysreg(S3_4_C12_C9_0);
	return ap == 0 ? VIRQ_PRIORITY_IDLE : (u8)(__builtin_ctz(ap) << 3);
}

static void virq_wake_released(struct arm64_vm *vm);

/** Fold and fill v's list registers (loaded on this CPU); the vm lock is held. */
static u64 virq_sync_locked(struct vcpu *v, u64 *lr)
{
	struct arm64_vm *vm = v->arch.vm;
	lr_read_all(lr);
	u32 others = vgic_lr_fold(&vm->gic, v->arch.vm_cpu, lr, lr_count);
	if (others != 0)
		__atomic_fetch_or(&vm->released, others, __ATOMIC_RELAXED);
	__atomic_store_n(&v->arch.lr_dirty, 0u, __ATOMIC_RELAXED);
	u64 hcr = ICH_HCR_EN | vgic_lr_fill(&vm->gic, v->arch.vm_cpu, lr, lr_count);
	lr_write_all(lr);
	v->arch.lr_hcr = hcr;
	return hcr;
}

static void virq_set_hcr(struct arm64_cpu *cpu, u64 hcr)
{
	if (hcr != cpu->ich_hcr) {
		write_sysreg(S3_4_C12_C11_0, hcr);
		cpu->ich_hcr = hcr;
		arm64_hop_note(cpu);
	}
}

void arm64_virq_refresh(struct arm64_cpu *cpu, struct vcpu *v)
{
	struct arm64_vm *vm = v->arch.vm;
	u64 lr[VGIC_LR_MAX];
	if (vm == NULL || __atomic_load_n(&v->arch.lr_dirty, __ATOMIC_ACQUIRE) == 0)
		return;
	spin_lock(&vm->lock);
	u64 hcr = virq_sync_locked(v, lr);
	spin_unlock(&vm->lock);
	virq_set_hcr(cpu, hcr);
	isb();
	virq_wake_released(vm);
}

/** The emulated physical timer's PPI (30 on QEMU virt: the non-secure EL1 physical timer). */
static u32 ptimer_intid(void)
{
	return 16u + arm64_hw.timer_ppi[1];
}

/** Whether v's emulated physical timer condition holds (ENABLE, not IMASK, counter >= CVAL). */
static bool ptimer_asserted(const struct vcpu *v, u64 now_ticks)
{
	return (v->arch.ptimer_ctl & (CNTV_ENABLE | CNTV_IMASK)) == CNTV_ENABLE &&
	       now_ticks >= v->arch.ptimer_cval;
}

/** How often a CPU looks again at a guest's physical timer line that stays high. */
#define PTIMER_HIGH_POLL_NS UINT64_C(1000000)

/** When v's physical timer fires (ns of the physical counter), 0 if it will not. */
static u64 ptimer_deadline_ns(const struct vcpu *v)
{
	if ((v->arch.ptimer_ctl & (CNTV_ENABLE | CNTV_IMASK)) != CNTV_ENABLE)
		return 0;
	return arm64_ticks_to_ns(v->arch.ptimer_cval) + 1u;
}

/**
 * Drive v's physical timer PPI from its condition (a level-sensitive
 * line), and arm this CPU's timer for when it will change (v is loaded).
 * True if the line is high.
 */
static __attribute__((noinline)) bool ptimer_update_armed(struct arm64_cpu *cpu, struct vcpu *v)
{
	struct arm64_vm *vm = v->arch.vm;
	bool high = ptimer_asserted(v, read_sysreg(cntpct_el0));
	v->arch.ptimer_line = high;
	spin_lock(&vm->lock);
	struct vgic_irq *irq = vgic_irq_get(&vm->gic, v->arch.vm_cpu, ptimer_intid());
	bool was = irq != NULL && (irq->flags & VGIC_IRQ_LINE);
	if (irq != NULL && was != high)
		vgic_set_level(&vm->gic, v->arch.vm_cpu, ptimer_intid(), high);
	spin_unlock(&vm->lock);
	/*
	 * A level still high must be listed again: the guest's handler may move CVAL to a
	 * deadline already past (catching up after a late interrupt) before its EOI, and the
	 * list register it holds then goes from active to invalid with nothing pending. The
	 * refill lists it pending and active, so it is taken again after the EOI.
	 */
	if (was != high || high)
		__atomic_store_n(&v->arch.lr_dirty, 1u, __ATOMIC_RELEASE);
	/*
	 * While the line is high the guest may end its handler without lowering
	 * it (a CVAL already past): the level must be listed again, which needs
	 * an exit. The kernel no longer ticks a CPU with one runnable vCPU
	 * (docs/scheduling.md), so look again every PTIMER_HIGH_POLL_NS.
	 */
	cpu->guest_deadline_ns = high ? plat_timer_now_ns() + PTIMER_HIGH_POLL_NS :
	                                ptimer_deadline_ns(v);
	arm64_timer_program(cpu, 0);
	return high;
}

/** ptimer_update_armed, with the common case inline: a guest that never uses the timer. */
static inline bool ptimer_update(struct arm64_cpu *cpu, struct vcpu *v)
{
	if (!(v->arch.ptimer_ctl & CNTV_ENABLE) && !v->arch.ptimer_line) {
		cpu->guest_deadline_ns = 0; /* off, and its line low */
		return false;
	}
	return ptimer_update_armed(cpu, v);
}

void arm64_virq_ptimer_check(struct arm64_cpu *cpu)
{
	struct vcpu *t = cpu->loaded;
	if (cpu->guest_deadline_ns == 0 || t == NULL || t->arch.vm == NULL)
		return;
	if (plat_timer_now_ns() < cpu->guest_deadline_ns)
		return;
	if (ptimer_update(cpu, t))
		kernel_vcpu_interrupt(t); /* wake it, if it waits; it refills before it runs */
}

u64 arm64_virq_ptimer_access(struct arm64_cpu *cpu, struct vcpu *v, u32 op2, bool read, u64 value)
{
	u64 now = read_sysreg(cntpct_el0);
	struct vcpu_arch *a = &v->arch;
	if (read) {
		switch (op2) {
		case 0: /* CNTP_TVAL_EL0: CVAL - count, as a signed 32-bit value */
			return (u64)(u32)(a->ptimer_cval - now);
		case 1: /* CNTP_CTL_EL0 */
			return a->ptimer_ctl | (now >= a->ptimer_cval ? CNTV_ISTATUS : 0u);
		default: /* CNTP_CVAL_EL0 */
			return a->ptimer_cval;
		}
	}
	if (op2 == 0)
		a->ptimer_cval = now + (u64)(int64_t)(int32_t)(u32)value;
	else if (op2 == 1)
		a->ptimer_ctl = (u32)value & (CNTV_ENABLE | CNTV_IMASK);
	else
		a->ptimer_cval = value;
	ptimer_update(cpu, v);
	return 0;
}

void arm64_virq_save(struct vcpu *v)
{
	arm64_this_cpu()->guest_deadline_ns = 0;
	struct arm64_vm *vm = v->arch.vm;
	u64 lr[VGIC_LR_MAX];
	if (vm == NULL)
		return;
	lr_read_all(lr);
	spin_lock(&vm->lock);
	u32 others = vgic_lr_fold(&vm->gic, v->arch.vm_cpu, lr, lr_count);
	if (others != 0)
		__atomic_fetch_or(&vm->released, others, __ATOMIC_RELAXED);
	spin_unlock(&vm->lock);
	virq_wake_released(vm);
	for (u32 n = 0; n < lr_count; n++) {
		/* The timer PPI listed with HW is active here: it must not stay so for the next vCPU. */
		if ((lr[n] & VGIC_LR_HW) && (lr[n] & (VGIC_LR_PENDING | VGIC_LR_ACTIVE)) &&
		    (lr[n] & VGIC_LR_VINTID_MASK) == vtimer_intid())
			arm64_gic_deactivate(vtimer_intid());
		if (lr[n] != 0)
			arm64_lr_write(n, 0);
	}
}

u64 arm64_virq_load(struct vcpu *v)
{
	struct arm64_vm *vm = v->arch.vm;
	u64 lr[VGIC_LR_MAX];
	if (vm == NULL)
		return 0;
	ptimer_update(arm64_this_cpu(), v); /* it may have come due while v was away */
	spin_lock(&vm->lock);
	__atomic_store_n(&v->arch.lr_dirty, 0u, __ATOMIC_RELAXED);
	u64 hcr = ICH_HCR_EN | vgic_lr_fill(&vm->gic, v->arch.vm_cpu, lr, lr_count);
	spin_unlock(&vm->lock);
	lr_write_all(lr);
	v->arch.lr_hcr = hcr;
	return hcr;
}

u64 arm64_virq_resume(struct vcpu *v)
{
	ptimer_update(arm64_this_cpu(), v);
	return v->arch.lr_hcr;
}

/**
 * Interrupt intid became pending for v, which runs on this CPU: the fast
 * path lists it in a free list register at once; anything else refills.
 * The vm lock is held.
 */
static void virq_inject_here(struct arm64_cpu *cpu, struct vcpu *v, u32 intid)
{
	struct arm64_vm *vm = v->arch.vm;
	u32 n;
	u64 value;
	if (__atomic_load_n(&v->arch.lr_dirty, __ATOMIC_ACQUIRE) == 0) {
		u32 free = (u32)read_sysreg(S3_4_C12_C11_5); /* ICH_ELRSR_EL2 */
		if (vgic_lr_inject(&vm->gic, v->arch.vm_cpu, intid, free, lr_count, &n, &value)) {
			arm64_lr_write(n, value);
			return;
		}
	}
	u64 lr[VGIC_LR_MAX];
	virq_set_hcr(cpu, virq_sync_locked(v, lr));
}

/** The model of target changed from another vCPU's or CPU's side: make it look. */
static void virq_poke(struct vcpu *target)
{
	__atomic_store_n(&target->arch.lr_dirty, 1u, __ATOMIC_RELEASE);
	kernel_vcpu_interrupt(target);
}

/** Tell the vCPUs a fold released interrupts to (vm->released); the vm lock is not held. */
static void virq_wake_released(struct arm64_vm *vm)
{
	if (__atomic_load_n(&vm->released, __ATOMIC_RELAXED) == 0)
		return;
	u32 others = __atomic_exchange_n(&vm->released, 0u, __ATOMIC_ACQ_REL);
	for (u32 i = 0; i < vm->vcpu_count; i++)
		if (others & (1u << i))
			virq_poke(vm->vcpu[i]);
}

/** A passed-through SPI fired: pend it in its VM and tell the vCPU it is routed to. */
static void virq_spi(struct arm64_cpu *cpu, struct vcpu *cur, struct arm64_vm *vm, u32 intid)
{
	struct vcpu *target = NULL;
	spin_lock(&vm->lock);
	vgic_raise(&vm->gic, 0, intid);
	for (u32 i = 0; i < vm->vcpu_count && target == NULL; i++)
		if (vgic_routed_to(&vm->gic, i, intid))
			target = vm->vcpu[i];
	if (target != NULL && target == cur && cpu->loaded == cur) {
		virq_inject_here(cpu, cur, intid);
		target = NULL;
	}
	spin_unlock(&vm->lock);
	virq_wake_released(vm);
	if (target != NULL)
		virq_poke(target);
}

/**
 * The virtual timer of t (this CPU's loaded vCPU: the one running, or one
 * waiting in WFI while the CPU idles) fired; the vm lock is held.
 */
static void virq_vtimer(struct arm64_cpu *cpu, struct vcpu *t, u32 intid)
{
	struct arm64_vm *vm = t->arch.vm;
	/*
	 * Still pending or active in a list register with the HW bit: the same
	 * timer event, fired again because switching the vCPU out deactivated
	 * the physical interrupt (arm64_virq_save). The guest's EOI ends it; a
	 * second latch here would give it a second, spurious interrupt.
	 */
	int n = vgic_lr_of(&vm->gic, t->arch.vm_cpu, intid);
	if (n >= 0 && !(((u32)read_sysreg(S3_4_C12_C11_5) >> n) & 1u))
		return;
	vgic_raise(&vm->gic, t->arch.vm_cpu, intid);
	virq_inject_here(cpu, t, intid);
}

bool arm64_virq_irq(struct arm64_cpu *cpu, struct vcpu *cur, u32 intid)
{
	struct arm64_vm *vm = cur != NULL ? cur->arch.vm : NULL;
	if (intid == vtimer_intid()) {
		arm64_gic_drop(intid);
		struct vcpu *t = cpu->loaded;
		if (t != NULL && t->arch.vm != NULL && (cur == NULL || cur == t)) {
			spin_lock(&t->arch.vm->lock);
			virq_vtimer(cpu, t, intid);
			spin_unlock(&t->arch.vm->lock);
			isb();
			virq_wake_released(t->arch.vm);
			if (t != cur)
				kernel_vcpu_interrupt(t); /* it waits in WFI while this CPU idles */
			return true;
		}
		/* A service's timer: it has no interrupts to take, so mask it rather than storm. */
		write_sysreg(cntv_ctl_el0, read_sysreg(cntv_ctl_el0) | CNTV_IMASK);
		arm64_gic_deactivate(intid);
		return true;
	}
	if (intid == arm64_hw.maint_intid) {
		/* Level: it stays asserted until the list registers are refilled. */
		arm64_gic_eoi(intid);
		if (vm != NULL && cpu->loaded == cur) {
			__atomic_store_n(&cur->arch.lr_dirty, 1u, __ATOMIC_RELAXED);
			arm64_virq_refresh(cpu, cur);
		} else {
			virq_set_hcr(cpu, cpu->ich_hcr & ~(u64)(VGIC_HCR_UIE | VGIC_HCR_NPIE));
		}
		return true;
	}
	if (intid >= 32u && intid < 1020u && spi_owner[intid] != NULL) {
		arm64_gic_drop(intid);
		virq_spi(cpu, cur, spi_owner[intid], intid);
		isb();
		return true;
	}
	return false;
}

/** Nanoseconds of the physical counter at which v's virtual timer fires, 0 if it will not. */
static u64 virq_timer_wake_ns(bool *due)
{
	u64 ctl = read_sysreg(cntv_ctl_el0);
	*due = false;
	if (!(ctl & CNTV_ENABLE) || (ctl & CNTV_IMASK))
		return 0;
	if (ctl & CNTV_ISTATUS) {
		*due = true;
		return 0;
	}
	u64 cval = read_sysreg(cntv_cval_el0) + read_sysreg(cntvoff_el2);
	/* Rounded up: the core's timer must not wake it a tick before its own. */
	u64 ns = arm64_ticks_to_ns(cval) + 1u;
	return ns;
}

struct vcpu *arm64_virq_wfi(struct vcpu *v)
{
	struct arm64_cpu *cpu = arm64_this_cpu();
	struct arm64_vm *vm = v->arch.vm;

	__atomic_store_n(&v->irq_wake, 0u, __ATOMIC_SEQ_CST);
	bool wake = false;
	u32 all = (1u << lr_count) - 1u;
	/*
	 * Nothing listed, nothing changed since the last fill and that fill
	 * listed everything pending: nothing to take, without a fold or a scan.
	 */
	if (__atomic_load_n(&v->arch.lr_dirty, __ATOMIC_ACQUIRE) != 0 ||
	    vm->gic.cpu[v->arch.vm_cpu].overflow ||
	    ((u32)read_sysreg(S3_4_C12_C11_5) & all) != all) {
		u64 lr[VGIC_LR_MAX];
		u64 vmcr = read_sysreg(S3_4_C12_C11_7); /* ICH_VMCR_EL2 */
		spin_lock(&vm->lock);
		u64 hcr = virq_sync_locked(v, lr);
		wake = (vmcr & ICH_VMCR_VENG1) &&
		       vgic_deliverable(&vm->gic, v->arch.vm_cpu, (u8)(vmcr >> ICH_VMCR_VPMR_SHIFT),
		                        virq_running_priority());
		spin_unlock(&vm->lock);
		virq_set_hcr(cpu, hcr);
		virq_wake_released(vm);
	}
	bool due;
	u64 wake_ns = virq_timer_wake_ns(&due);
	u64 pt = ptimer_deadline_ns(v);
	if (pt != 0 && (wake_ns == 0 || pt < wake_ns))
		wake_ns = pt;
	if (wake || due)
		return v; /* an interrupt is there to take (or fires on entry) */
	struct trap t;
	trap_init(&t, TRAP_WAIT_IRQ, 0, NULL);
	t.wake_ns = wake_ns;
	arm64_core_lock_wait();
	return kernel_trap(v, &t);
}

bool arm64_virq_is_mmio(const struct vcpu *v, u64 ipa)
{
	const struct arm64_vm *vm = v->arch.vm;
	if (vm == NULL)
		return false;
	return ipa - vm->gicd_ipa < VGIC_DIST_SIZE ||
	       ipa - vm->gicr_ipa < (u64)vm->vcpu_count * VGIC_REDIST_STRIDE;
}

enum arm64_mmio_result arm64_virq_mmio(struct vcpu *v, u64 ipa, u64 esr, u64 wvalue, u64 *value)
{
	struct arm64_vm *vm = v->arch.vm;
	if (!arm64_virq_is_mmio(v, ipa))
		return ARM64_MMIO_NOT_OURS;
	if (!(esr & ISS_ISV))
		return ARM64_MMIO_BAD; /* a load/store pair or the like: no single register */
	u32 size = 1u << ISS_SAS(esr);
	bool write = (esr & ISS_WNR) != 0, dist = ipa - vm->gicd_ipa < VGIC_DIST_SIZE;
	u64 off = dist ? ipa - vm->gicd_ipa : ipa - vm->gicr_ipa;
	if (size < 8u)
		wvalue &= (UINT64_C(1) << (size * 8u)) - 1u;
	bool ok;
	spin_lock(&vm->lock);
	if (write)
		ok = dist ? vgic_dist_write(&vm->gic, off, size, wvalue) :
		            vgic_redist_write(&vm->gic, off, size, wvalue);
	else
		ok = dist ? vgic_dist_read(&vm->gic, off, size, value) :
		            vgic_redist_read(&vm->gic, off, size, value);
	spin_unlock(&vm->lock);
	if (!ok)
		return ARM64_MMIO_BAD;
	if (!write) {
		u32 bits = size * 8u;
		if ((esr & ISS_SSE) && bits < 64u && ((*value >> (bits - 1u)) & 1u))
			*value |= ~UINT64_C(0) << bits;
		if (!(esr & ISS_SF))
			*value &= 0xffffffffu;
		return ARM64_MMIO_DONE;
	}
	/*
	 * A write may enable, pend, route or wake anything: every vCPU of the VM
	 * looks at the model again (its own before it returns to the guest).
	 */
	for (u32 i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *t = vm->vcpu[i];
		if (t == v)
			__atomic_store_n(&t->arch.lr_dirty, 1u, __ATOMIC_RELAXED);
		else if (t->state != VCPU_OFF && t->state != VCPU_STOPPED)
			virq_poke(t);
	}
	return ARM64_MMIO_DONE;
}

void arm64_virq_sgi(struct arm64_cpu *cpu, struct vcpu *v, u32 op2, u64 value)
{
	struct arm64_vm *vm = v->arch.vm;
	if (op2 != 5u)
		return; /* ASGI1R / SGI0R: Group 0 and the other Security state do not exist here */
	spin_lock(&vm->lock);
	u32 hit = vgic_sgi(&vm->gic, v->arch.vm_cpu, value);
	spin_unlock(&vm->lock);
	for (u32 i = 0; i < vm->vcpu_count; i++) {
		if (!(hit & (1u << i)))
			continue;
		if (vm->vcpu[i] == v)
			__atomic_store_n(&v->arch.lr_dirty, 1u, __ATOMIC_RELAXED);
		else
			virq_poke(vm->vcpu[i]);
	}
	arm64_virq_refresh(cpu, v);
}

int arch_virq_inject(u32 vmid, u32 intid, bool level)
{
	if (vmid >= sizeof(arm64_vms) / sizeof(arm64_vms[0]))
		return -2;
	struct arm64_vm *vm = &arm64_vms[vmid];
	if (vm->vcpu_count == 0 || intid < 32u || intid >= 1020u || spi_owner[intid] != NULL)
		return -2; /* not a VM, not an SPI, or a device's own line */
	int target = -1;
	spin_lock(&vm->lock);
	if (!vgic_set_level(&vm->gic, 0, intid, level)) {
		spin_unlock(&vm->lock);
		return -2; /* beyond its distributor */
	}
	for (u32 i = 0; i < vm->vcpu_count && target < 0; i++)
		if (vgic_routed_to(&vm->gic, i, intid))
			target = (int)i;
	spin_unlock(&vm->lock);
	/* The core wakes or kicks it (kernel lock held); its CPU refills first. */
	if (target >= 0)
		__atomic_store_n(&vm->vcpu[target]->arch.lr_dirty, 1u, __ATOMIC_RELEASE);
	return target;
}

/** GICR_PROPBASER fields: IDbits [4:0] (ID bits - 1), the table's PA [51:12] (IHI 0069 12.11.32). */
#define PROPBASER_IDBITS(r) ((u32)(r)&0x1fu)
#define PROPBASER_PA(r) ((r)&0x000ffffffffff000ull)

/**
 * intid's property byte, from the table vCPU cpu's GICR_PROPBASER names in the
 * guest's memory; 0 (disabled) where that table does not reach it or is not the
 * guest's readable RAM.
 */
static u8 virq_lpi_property(const struct partition *g, const struct vgic *gic, u32 cpu, u32 intid)
{
	u64 prop = gic->cpu[cpu].propbaser;
	if (PROPBASER_IDBITS(prop) < 13u || intid >= (1ull << (PROPBASER_IDBITS(prop) + 1u)))
		return 0;
	const u8 *b =
	        guest_mem_at(g, PROPBASER_PA(prop) + (intid - VGIC_LPI_BASE), 1, RIGHT_MEM_READ);
	return b != NULL ? *b : 0;
}

int arch_virq_lpi(const struct partition *g, u32 vcpu, u32 intid, u32 op, bool *was_pending)
{
	*was_pending = false;
	u32 vmid = g->s2.vmid;
	if (vmid >= sizeof(arm64_vms) / sizeof(arm64_vms[0]))
		return -2;
	struct arm64_vm *vm = &arm64_vms[vmid];
	if (vm->vcpu_count == 0 || vm->gic.lpi_count == 0 || vcpu >= vm->vcpu_count)
		return -2;
	u32 end = VGIC_LPI_BASE + vm->gic.lpi_count;
	bool all = op == IPC_GUEST_IRQ_LPI_CONFIG && intid == 0;
	if (!all && (intid < VGIC_LPI_BASE || intid >= end))
		return -2;
	int target = -1;
	spin_lock(&vm->lock);
	if (!all)
		*was_pending = vgic_irq_pending(vgic_irq_get(&vm->gic, vcpu, intid));
	switch (op) {
	case IPC_GUEST_IRQ_LPI_SET:
	case IPC_GUEST_IRQ_LPI_MOVE: {
		if (op == IPC_GUEST_IRQ_LPI_SET)
			vgic_lpi_raise(&vm->gic, vcpu, intid);
		else
			vgic_lpi_move(&vm->gic, vcpu, intid);
		struct vgic_irq *irq = vgic_irq_get(&vm->gic, vcpu, intid);
		if (vgic_irq_pending(irq) && vgic_routed_to(&vm->gic, vcpu, intid))
			target = (int)vcpu;
		/*
		 * Still in the list register of the vCPU it was on (it took it, and has not
		 * exited since): that one must fold it first, which hands it on (vm->released).
		 */
		u32 owner = irq->owner;
		if (owner != 0 && owner - 1u != vcpu && owner - 1u < vm->vcpu_count) {
			__atomic_store_n(&vm->vcpu[owner - 1u]->arch.lr_dirty, 1u,
			                 __ATOMIC_RELEASE);
			virq_wake_locked(vm->vcpu[owner - 1u]);
		}
		break;
	}
	case IPC_GUEST_IRQ_LPI_CLEAR:
		vgic_lpi_clear(&vm->gic, intid);
		break;
	case IPC_GUEST_IRQ_LPI_CONFIG:
		for (u32 i = all ? VGIC_LPI_BASE : intid; i < (all ? end : intid + 1u); i++) {
			vgic_lpi_config(&vm->gic, i, virq_lpi_property(g, &vm->gic, vcpu, i));
			/* Enabled while pending: its vCPU takes it now (the core wakes the first). */
			u32 t = vm->gic.lpi_target[i - VGIC_LPI_BASE];
			if (vgic_irq_pending(vgic_irq_get(&vm->gic, t, i)) &&
			    vgic_routed_to(&vm->gic, t, i)) {
				__atomic_store_n(&vm->vcpu[t]->arch.lr_dirty, 1u, __ATOMIC_RELEASE);
				if (target < 0)
					target = (int)t;
			}
		}
		break;
	default:
		spin_unlock(&vm->lock);
		return -2;
	}
	spin_unlock(&vm->lock);
	/* Its CPU refills the list registers before it runs (the core wakes or kicks it). */
	if (target >= 0)
		__atomic_store_n(&vm->vcpu[target]->arch.lr_dirty, 1u, __ATOMIC_RELEASE);
	return target;
}
