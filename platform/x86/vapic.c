/**
 * The virtual local APIC of VM and PVH vCPUs in the SVM exit path
 * (docs/interrupts.md, x86 half). One vlapic (vlapic/vlapic.c) per vCPU,
 * APIC ID = vCPU index, all of a partition's behind one lock:
 *
 *   vapic_parts[vmid]
 *   +--------------------------------------+
 *   | lock                                 |  taken around every vlapic_* call
 *   | lapic[0] lapic[1] ... [vcpu_count-1] |  vCPU i's xAPIC (SDM vol 3 ch. 10)
 *   | vcpus -> the partition's vCPUs       |  IPI targets to wake
 *   | nmi[i]                               |  an NMI waits for vCPU i's entry
 *   +--------------------------------------+
 *
 * Lock order: kernel lock, then a partition's vapic lock. Only
 * x86_vapic_raise (HC_GUEST_IRQ, which the core calls with the kernel lock
 * held) nests them; nothing takes the kernel lock under a vapic lock:
 * kernel_vcpu_interrupt() and kernel_power() are called after the vapic
 * lock is dropped (kernel/virq.h explains why no wake-up is lost).
 *
 * Time is the kernel's clock in nanoseconds (plat_timer_now_ns). The guest's
 * TSC is offset to count from the same origin (arch_vcpu_reset), so a
 * TSC-deadline value converts to that clock with the calibrated TSC rate.
 *
 * Delivery (AMD APM vol 2 §15.20-21): before each VMRUN the highest
 * deliverable vector goes into EVENTINJ when the guest can take it now
 * (RFLAGS.IF = 1, no interrupt shadow, no other event being injected), else
 * into V_IRQ (with V_IGN_TPR: the model already applied the TPR), which the
 * CPU delivers itself once the guest sets IF. After the #VMEXIT the vector
 * is acknowledged (IRR -> ISR) only if the guest took it: V_IRQ was
 * consumed, and EXITINTINFO does not hand the event back.
 */
#include <arch/cpu.h>
#include <kernel/config.h>
#include <kernel/kernel.h>
#include <kernel/lock.h>
#include <kernel/partition.h>
#include <kernel/vcpu.h>
#include <kernel/vcpu_power.h>
#include <kernel/virq.h>
#include <plat/timer.h>

#include <x86/emulate.h>
#include <x86/guest_regs.h>
#include <x86/insn_decode.h>
#include <x86/vapic.h>
#include <x86/vlapic.h>
#include <x86/x86.h>

#define RFLAGS_IF (UINT64_C(1) << 9)

#define MSR_APIC_BASE 0x1bu
#define MSR_TSC_DEADLINE 0x6e0u
#define APIC_BASE_BSP (UINT64_C(1) << 8)
#define APIC_BASE_ENABLE (UINT64_C(1) << 11)

#define CPUID_1_ECX_X2APIC (1u << 21)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_80000001_ECX_SVM (1u << 2)

/** How the vector of this trip was handed to the guest (vcpu_arch.inj_how). */
enum vapic_inj {
	INJ_NONE,
	INJ_EVENT, /**< EVENTINJ: delivered by VMRUN itself unless EXITINTINFO returns it */
	INJ_VIRQ,  /**< V_IRQ: delivered when the guest sets IF; int_ctl says whether it did */
};

struct vapic_part {
	struct spinlock lock;
	u32 count;
	struct vcpu *vcpus;
	struct vlapic lapic[CFG_VCPU_MAX];
	bool nmi[CFG_VCPU_MAX]; /**< an NMI IPI waits for vCPU i's next entry */
};

/** Indexed by vmid (1..CFG_PARTITION_MAX, as the ASIDs); services leave theirs unused. */
static struct vapic_part vapic_parts[CFG_PARTITION_MAX + 1];

static struct vapic_part *part_of(const struct vcpu *v)
{
	return &vapic_parts[v->arch.vmid];
}

const char *x86_vapic_setup(u32 vmid, struct vcpu *vcpus, u32 vcpu_count)
{
	if (vmid > CFG_PARTITION_MAX || vcpu_count > CFG_VCPU_MAX)
		return "too many vCPUs for the virtual local APIC";
	struct vapic_part *vp = &vapic_parts[vmid];
	vp->count = vcpu_count;
	vp->vcpus = vcpus;
	for (u32 i = 0; i < vcpu_count; i++) {
		const struct vlapic_config cfg = {
			.apic_id = (u8)i,
			.time_hz = UINT64_C(1000000000),
			.bus_hz = X86_VAPIC_BUS_HZ,
			.tsc_deadline = true,
			.tsc_hz = x86_timer_tsc_hz(),
		};
		if (!vlapic_init(&vp->lapic[i], &cfg))
			return "the virtual local APIC cannot use the measured TSC rate";
	}
	return NULL;
}

int x86_vapic_raise(u32 vmid, u8 vector, bool raise)
{
	if (vmid > CFG_PARTITION_MAX || vapic_parts[vmid].count == 0)
		return -2; /* a service: it has no local APIC */
	if (!raise)
		return -1;
	struct vapic_part *vp = &vapic_parts[vmid];
	spin_lock(&vp->lock);
	bool taken = vlapic_raise(&vp->lapic[0], vector, false);
	spin_unlock(&vp->lock);
	return taken ? 0 : -1;
}

void x86_vapic_entry(struct vcpu *v, u32 cpu)
{
	struct vapic_part *vp = part_of(v);
	struct vlapic *l = &vp->lapic[v->index];
	u64 now = plat_timer_now_ns();
	u64 deadline;
	struct vcpu_arch *a = &v->arch;
	struct vmcb_ctrl *c = &a->vmcb.ctrl;
	spin_lock(&vp->lock);
	vlapic_advance(l, now);
	int vector = vlapic_pending(l);
	if (!vlapic_next_deadline(l, &deadline))
		deadline = 0;
	if (vp->nmi[v->index] && !(c->event_inj & VMCB_EVENT_VALID)) {
		/* NMIs are not masked by IF; a returned one is pended again (x86_vapic_exit). */
		vp->nmi[v->index] = false;
		c->event_inj = 2u | VMCB_EVENT_TYPE_NMI | VMCB_EVENT_VALID;
	}
	spin_unlock(&vp->lock);
	x86_timer_guest_deadline(cpu, deadline);

	c->int_ctl &= ~VMCB_INT_CTL_V_REQUEST;
	a->inj_how = INJ_NONE;
	if (vector < 0)
		return;
	a->inj_vector = (u8)vector;
	if ((a->vmcb.save.rflags & RFLAGS_IF) && !(c->int_shadow & VMCB_INT_SHADOW) &&
	    !(c->event_inj & VMCB_EVENT_VALID)) {
		c->event_inj = (u32)vector | VMCB_EVENT_TYPE_INTR | VMCB_EVENT_VALID;
		a->inj_how = INJ_EVENT;
	} else {
		c->int_ctl |= VMCB_INT_CTL_V_IRQ | VMCB_INT_CTL_V_IGN_TPR |
		              ((u64)((u32)vector >> 4) << VMCB_INT_CTL_V_INTR_PRIO_SHIFT) |
		              ((u64)vector << VMCB_INT_CTL_V_INTR_VECTOR_SHIFT);
		a->inj_how = INJ_VIRQ;
	}
}

/** x86_vapic_exit when something was injected or an event was cut short. */
static __attribute__((noinline)) void vapic_exit_events(struct vcpu *v)
{
	struct vcpu_arch *a = &v->arch;
	struct vmcb_ctrl *c = &a->vmcb.ctrl;
	u64 info = c->exit_int_info;
	if ((info & VMCB_EVENT_VALID) && (info & VMCB_EVENT_TYPE_MASK) == VMCB_EVENT_TYPE_NMI) {
		struct vapic_part *vp = part_of(v);
		spin_lock(&vp->lock);
		vp->nmi[v->index] = true; /* its delivery did not complete */
		spin_unlock(&vp->lock);
	}
	if (a->inj_how == INJ_NONE)
		return;
	bool returned = (info & VMCB_EVENT_VALID) &&
	                (info & VMCB_EVENT_TYPE_MASK) == VMCB_EVENT_TYPE_INTR &&
	                (info & VMCB_EVENT_VECTOR_MASK) == a->inj_vector;
	bool taken = !returned;
	if (a->inj_how == INJ_VIRQ)
		taken = taken && !(c->int_ctl & VMCB_INT_CTL_V_IRQ);
	else
		c->event_inj = 0; /* consumed or returned in EXITINTINFO: never twice */
	c->int_ctl &= ~VMCB_INT_CTL_V_REQUEST;
	a->inj_how = INJ_NONE;
	if (!taken)
		return; /* still in IRR: the next entry offers it again */
	struct vapic_part *vp = part_of(v);
	spin_lock(&vp->lock);
	vlapic_ack(&vp->lapic[v->index], a->inj_vector);
	spin_unlock(&vp->lock);
}

void x86_vapic_exit(struct vcpu *v)
{
	const struct vcpu_arch *a = &v->arch;
	if (a->inj_how != INJ_NONE || (a->vmcb.ctrl.exit_int_info & VMCB_EVENT_VALID))
		vapic_exit_events(v);
}

struct vcpu *x86_vapic_hlt(struct vcpu *v)
{
	struct vmcb *vm = &v->arch.vmcb;
	vm->save.rip += 1;
	vm->ctrl.int_shadow &= ~(u64)VMCB_INT_SHADOW; /* STI; HLT: the shadow ended with HLT */
	/* Cleared before looking, so an interrupt raised after the look is not lost (virq.h). */
	__atomic_store_n(&v->irq_wake, 0u, __ATOMIC_SEQ_CST);
	struct vapic_part *vp = part_of(v);
	struct vlapic *l = &vp->lapic[v->index];
	u64 deadline;
	spin_lock(&vp->lock);
	vlapic_advance(l, plat_timer_now_ns());
	int vector = vlapic_pending(l);
	if (!vlapic_next_deadline(l, &deadline))
		deadline = 0;
	bool nmi = vp->nmi[v->index];
	spin_unlock(&vp->lock);
	if (nmi)
		return v; /* an NMI ends a halt whatever IF says */
	/*
	 * With RFLAGS.IF = 0 no maskable interrupt ends the halt: the vCPU
	 * waits anyway (an interrupt or its timer wakes it for another look,
	 * and the guest halts again), rather than spin through HLT exits.
	 */
	if (vector >= 0 && (vm->save.rflags & RFLAGS_IF))
		return v; /* the next entry delivers it */
	struct trap t = { .kind = TRAP_WAIT_IRQ, .wake_ns = deadline };
	return kernel_trap(v, &t);
}

/**
 * An ICR write of vCPU self (vapic lock held): every target the VM has
 * takes the message; *wake collects the vCPUs to interrupt and *sipi those
 * a Startup IPI reached. An INIT only resets the target's model (in
 * vlapic_ipi_accept); an NMI waits in vapic_part.nmi for the target's
 * next entry.
 */
static void ipi_send(struct vapic_part *vp, u32 self, const struct vlapic_ipi *ipi, u64 *wake,
                     u64 *sipi)
{
	const struct vlapic *list[CFG_VCPU_MAX];
	for (u32 i = 0; i < vp->count; i++)
		list[i] = &vp->lapic[i];
	u64 targets = vlapic_ipi_targets(ipi, list, vp->count, self);
	for (u32 i = 0; i < vp->count; i++) {
		if (!(targets & (UINT64_C(1) << i)))
			continue;
		enum vlapic_event ev = vlapic_ipi_accept(&vp->lapic[i], ipi);
		if (ev == VLAPIC_EV_SIPI) {
			*sipi |= UINT64_C(1) << i;
			continue;
		}
		if (ev == VLAPIC_EV_NMI)
			vp->nmi[i] = true;
		if (ev != VLAPIC_EV_INIT && i != self)
			*wake |= UINT64_C(1) << i;
	}
}

/**
 * What the interrupt messages of one ICR write do outside the models:
 * targets are woken or kicked; a Startup IPI starts a vCPU that is off
 * through the core's CPU_ON, at guest-physical vector << 12 in the PVH
 * start state (32-bit protected mode, not real mode; EBX = its index).
 */
static struct vcpu *ipi_finish(struct vcpu *v, struct vapic_part *vp, u64 wake, u64 sipi, u8 vector)
{
	for (u32 i = 0; i < vp->count; i++) {
		if (wake & (UINT64_C(1) << i))
			kernel_vcpu_interrupt(&vp->vcpus[i]);
	}
	struct vcpu *next = v;
	for (u32 i = 0; i < vp->count && next == v; i++) {
		if (!(sipi & (UINT64_C(1) << i)))
			continue;
		const struct power_req req = {
			.op = POWER_CPU_ON, .target = i, .entry = (u64)vector << 12, .arg = i
		};
		enum power_result result;
		next = kernel_power(v, &req, &result); /* a second SIPI finds it on: ignored */
	}
	return next;
}

bool x86_vapic_mmio(struct vcpu *v, struct vcpu **next)
{
	struct vcpu_arch *a = &v->arch;
	struct vmcb *vm = &a->vmcb;
	struct insn_mmio d;
	enum insn_mode mode;
	if (!x86_emul_decode(v, &d, &mode))
		return false;

	struct vapic_part *vp = part_of(v);
	struct vlapic *l = &vp->lapic[v->index];
	u64 offset = vm->ctrl.exit_info2 & (VLAPIC_SIZE - 1u);
	u64 now = plat_timer_now_ns();
	u64 *reg = x86_guest_gpr(a, d.reg);
	struct vlapic_ipi ipi = { 0 };
	u64 wake = 0, sipi = 0;
	enum vlapic_result r;
	spin_lock(&vp->lock);
	if (d.write) {
		u32 value = (u32)insn_store_value(&d, *reg);
		r = vlapic_write(l, offset, d.size, value, now, &ipi);
		if (r == VLAPIC_IPI)
			ipi_send(vp, v->index, &ipi, &wake, &sipi);
	} else {
		u32 value = 0;
		r = vlapic_read(l, offset, d.size, now, &value);
		if (r == VLAPIC_DONE)
			*reg = insn_load_result(&d, *reg, value);
	}
	spin_unlock(&vp->lock);
	if (r == VLAPIC_BAD_ACCESS)
		return false;
	x86_guest_advance(vm, mode, d.length);
	*next = r == VLAPIC_IPI ? ipi_finish(v, vp, wake, sipi, ipi.vector) : v;
	return true;
}

bool x86_vapic_msr(struct vcpu *v)
{
	struct vcpu_arch *a = &v->arch;
	struct vmcb *vm = &a->vmcb;
	u32 msr = (u32)a->gpr[X86_REG_RCX];
	bool write = (vm->ctrl.exit_info1 & 1u) != 0;
	u64 value = (a->gpr[X86_REG_RDX] << 32) | (vm->save.rax & 0xffffffffu);
	struct vapic_part *vp = part_of(v);
	bool ok;
	if (msr == MSR_TSC_DEADLINE) {
		struct vlapic *l = &vp->lapic[v->index];
		spin_lock(&vp->lock);
		ok = write ? vlapic_tsc_deadline_write(l, value) :
		             vlapic_tsc_deadline_read(l, &value);
		spin_unlock(&vp->lock);
	} else if (msr == MSR_APIC_BASE) {
		/* Fixed: xAPIC mode at 0xFEE00000, enabled; vCPU 0 is the bootstrap processor. */
		u64 base = VLAPIC_BASE | APIC_BASE_ENABLE | (v->index == 0 ? APIC_BASE_BSP : 0);
		ok = !write || value == base;
		value = base;
	} else {
		return false;
	}
	if (!ok)
		return false;
	if (!write) {
		vm->save.rax = value & 0xffffffffu;
		a->gpr[X86_REG_RDX] = value >> 32;
	}
	x86_guest_advance(vm, INSN_MODE_64, 2); /* RDMSR / WRMSR are 0F 32 / 0F 30 */
	return true;
}

/** "sephypsephyp" as CPUID returns a vendor string: EBX, ECX, EDX in order. */
#define HV_SIGNATURE_EBX 0x68706573u /* "seph" */
#define HV_SIGNATURE_ECX 0x65737079u /* "ypse" */
#define HV_SIGNATURE_EDX 0x70796870u /* "phyp" */

/**
 * CPUID of a vCPU with a local APIC: the host's values, except that leaf 1
 * offers xAPIC with TSC-deadline mode, the initial APIC ID and the
 * hypervisor bit, SVM is hidden, and the hypervisor range 0x400000xx has
 * a signature and the timing leaf 0x40000010 (EAX = TSC kHz, EBX = APIC
 * bus kHz, the layout VMware defined and Linux reads), so that a guest can
 * count time without calibrating.
 */
void x86_vapic_cpuid(struct vcpu *v)
{
	struct vcpu_arch *a = &v->arch;
	struct vmcb *vm = &a->vmcb;
	u32 leaf = (u32)vm->save.rax;
	struct cpuid_regs r = cpuid(leaf, (u32)a->gpr[X86_REG_RCX]);
	if (leaf == 1) {
		r.ecx = (r.ecx & ~CPUID_1_ECX_X2APIC) | CPUID_1_ECX_TSC_DEADLINE |
		        CPUID_1_ECX_HYPERVISOR;
		r.ebx = (r.ebx & 0x00ffffffu) | (v->index << 24);
	} else if (leaf == 0x80000001u) {
		r.ecx &= ~CPUID_80000001_ECX_SVM; /* VMRUN is intercepted: no nesting */
	} else if (leaf == 0x40000000u) {
		r = (struct cpuid_regs){ 0x40000010u, HV_SIGNATURE_EBX, HV_SIGNATURE_ECX,
			                 HV_SIGNATURE_EDX };
	} else if (leaf == 0x40000010u) {
		r = (struct cpuid_regs){ (u32)(x86_timer_tsc_hz() / 1000u),
			                 (u32)(X86_VAPIC_BUS_HZ / 1000u), 0, 0 };
	} else if ((leaf & 0xffffff00u) == 0x40000000u) {
		r = (struct cpuid_regs){ 0, 0, 0, 0 };
	}
	vm->save.rax = r.eax;
	a->gpr[X86_REG_RBX] = r.ebx;
	a->gpr[X86_REG_RCX] = r.ecx;
	a->gpr[X86_REG_RDX] = r.edx;
	x86_guest_advance(vm, INSN_MODE_64, 2); /* 0F A2 */
}
