/**
 * Guest accesses an emulator service answers, x86 half (x86/emulate.h,
 * docs/emulation.md "x86"). The core never reads anything here: arch_info
 * (x86/mmio_info.h) carries what completion needs, and completion writes
 * only the blocked vCPU's saved state (VMCB and vcpu_arch.gpr), so the
 * emulator's CPU may complete it while the vCPU's own CPU runs another.
 *
 * IOIO EXITINFO1 (AMD APM vol 2 §15.10.2):
 *
 *   31       16 15   10 9   7  6    5    4    3   2   1  0
 *   +----------+-------+-----+----+----+----+---+---+---+---+
 *   |   port   |  seg  | A.. |SZ32|SZ16|SZ8 |REP|STR| 0 |IN |
 *   +----------+-------+-----+----+----+----+---+---+---+---+
 *
 * EXITINFO2 is the RIP of the next instruction (QEMU TCG fills it).
 */
#include <arch/vcpu.h>
#include <kernel/kernel.h>
#include <kernel/lock.h>
#include <kernel/partition.h>

#include <x86/emulate.h>
#include <x86/guest_mem.h>
#include <x86/guest_regs.h>
#include <x86/mmio_info.h>
#include <x86/vlapic.h>

#define IOIO_IN (1u << 0)
#define IOIO_STR (1u << 2)
#define IOIO_REP (1u << 3)
#define IOIO_SZ8 (1u << 4)
#define IOIO_SZ16 (1u << 5)
#define IOIO_SZ32 (1u << 6)

/** #GP with error code 0 (APM vol 2 §8.4.7): what a refused access becomes. */
#define GP0_EVENT (13u | VMCB_EVENT_TYPE_EXCEPTION | VMCB_EVENT_ERROR_VALID | VMCB_EVENT_VALID)

/** The decode of x86_emul_decode; `locked`: the caller holds the kernel lock already. */
static bool emul_decode(struct vcpu *v, struct insn_mmio *d, enum insn_mode *mode, bool locked)
{
	struct vmcb *vm = &v->arch.vmcb;
	u64 info = vm->ctrl.exit_info1;
	/* Executing the page, the guest's own page tables in it, or an event delivered through it. */
	if ((info & (NPF_INFO_FETCH | NPF_INFO_GUEST_WALK)) ||
	    (vm->ctrl.exit_int_info & VMCB_EVENT_VALID))
		return false;
	*mode = x86_guest_insn_mode(&vm->save);
	u8 bytes[INSN_MAX_LEN];
	const struct x86_guest_paging pg = {
		.cr0 = vm->save.cr0, .cr3 = vm->save.cr3, .cr4 = vm->save.cr4, .efer = vm->save.efer
	};
	u64 lin = *mode == INSN_MODE_64 ? vm->save.rip :
	                                  (vm->save.cs.base + vm->save.rip) & 0xffffffffu;
	if (!locked)
		spin_lock(&kernel_lock); /* the nested tables hold still during the walk */
	u32 n = x86_guest_read(&v->part->s2, &pg, lin, bytes, sizeof(bytes));
	if (!locked)
		spin_unlock(&kernel_lock);
	if (n == 0 || insn_decode(bytes, n, *mode, d) != INSN_OK)
		return false;
	/* Not the instruction that faulted (it changed since): let the fault stand. */
	return d->write == ((info & NPF_INFO_WRITE) != 0);
}

bool x86_emul_decode(struct vcpu *v, struct insn_mmio *d, enum insn_mode *mode)
{
	return emul_decode(v, d, mode, false);
}

u32 x86_emul_insn_length(struct vcpu *v)
{
	struct insn_mmio d;
	enum insn_mode mode;
	return emul_decode(v, &d, &mode, true) ? d.length : 0;
}

void x86_emul_npf(struct vcpu *v, struct trap *t)
{
	if ((t->address & ~(u64)(VLAPIC_SIZE - 1u)) == VLAPIC_BASE)
		return; /* the local APIC's page is never an emulator's */
	struct insn_mmio d;
	enum insn_mode mode;
	if (!x86_emul_decode(v, &d, &mode))
		return; /* stays the memory fault it is */
	t->kind = TRAP_MMIO;
	t->size = d.size;
	t->access = d.write ? IPC_ACCESS_WRITE : IPC_ACCESS_READ;
	t->value = d.write ? insn_store_value(&d, *x86_guest_gpr(&v->arch, d.reg)) : 0;
	t->arch_info = x86_mmio_info_pack(&d, mode);
}

bool arch_vcpu_decode_store(struct vcpu_arch *a, struct trap *t)
{
	struct vcpu *v = (struct vcpu *)a; /* arch is its first member */
	struct insn_mmio d;
	enum insn_mode mode;
	if (!emul_decode(v, &d, &mode, true) || !d.write)
		return false; /* the core holds the kernel lock */
	t->size = d.size;
	t->value = insn_store_value(&d, *x86_guest_gpr(a, d.reg));
	t->arch_info = x86_mmio_info_pack(&d, mode);
	return true;
}

void x86_emul_ioio(struct vcpu *v, struct trap *t)
{
	const struct vmcb *vm = &v->arch.vmcb;
	u64 info = vm->ctrl.exit_info1;
	u64 length = vm->ctrl.exit_info2 - vm->save.rip;
	u8 size = (info & IOIO_SZ8) ? 1 : (info & IOIO_SZ16) ? 2 : (info & IOIO_SZ32) ? 4 : 0;
	if (size == 0 || length == 0 || length > INSN_MAX_LEN)
		return;
	bool in = (info & IOIO_IN) != 0;
	/*
	 * INS/OUTS move memory too: not emulated. In an emulated range the core
	 * refuses them with #GP(0) (t->refuse); elsewhere they stay the port fault.
	 */
	t->refuse = (info & (IOIO_STR | IOIO_REP)) != 0;
	t->kind = TRAP_MMIO;
	t->port = true;
	t->address = (info >> 16) & 0xffffu;
	t->size = size;
	t->access = in ? IPC_ACCESS_READ : IPC_ACCESS_WRITE;
	t->value = in ? 0 : vm->save.rax & ((UINT64_C(1) << (8u * size)) - 1u);
	t->arch_info = x86_mmio_info_port(size, (u8)length, x86_guest_insn_mode(&vm->save));
}

void arch_vcpu_mmio_complete(struct vcpu_arch *a, u64 arch_info, u32 size, bool write, u64 value)
{
	(void)size; /* the same as arch_info's */
	struct insn_mmio d;
	enum insn_mode mode;
	x86_mmio_info_unpack(arch_info, &d, &mode);
	if (!write) {
		u64 *reg = x86_guest_gpr(a, d.reg);
		*reg = insn_load_result(&d, *reg, value);
	}
	x86_guest_advance(&a->vmcb, mode, d.length);
}

/**
 * x86 has no bus error for an MMIO or port access: the guest takes #GP(0)
 * at the instruction (RIP unchanged) when it next runs. EVENTINJ is
 * free: the vCPU exited on the access, so nothing was being injected, and
 * the local APIC's delivery leaves a valid EVENTINJ alone (vapic.c).
 */
void arch_vcpu_mmio_abort(struct vcpu_arch *a, u64 arch_info, u64 address)
{
	(void)arch_info;
	(void)address;
	a->vmcb.ctrl.event_inj = GP0_EVENT; /* error code 0 in bits 63:32 */
	a->exit_work |= VCPU_EXIT_EVENT;
}

/**
 * The entry that carried the #GP is over: delivered, or handed back in
 * EXITINTINFO (an exit during its delivery), which goes in again.
 */
void x86_emul_exit(struct vcpu_arch *a)
{
	struct vmcb_ctrl *c = &a->vmcb.ctrl;
	u64 back = c->exit_int_info;
	a->exit_work &= (u8)~VCPU_EXIT_EVENT;
	c->event_inj = 0;
	if ((back & VMCB_EVENT_VALID) && (back & 0xffffffffu) == GP0_EVENT) {
		c->event_inj = back;
		a->exit_work |= VCPU_EXIT_EVENT;
	}
}

/** IPC_VMI_REG_* of control register cr (0, 3 or 4). */
static u32 cr_reg(u32 cr)
{
	return cr == 0 ? IPC_VMI_REG_CR0 : cr == 3 ? IPC_VMI_REG_CR3 : IPC_VMI_REG_CR4;
}

static u64 *cr_field(struct vmcb_save *s, u32 reg)
{
	return reg == IPC_VMI_REG_CR0 ? &s->cr0 : reg == IPC_VMI_REG_CR3 ? &s->cr3 : &s->cr4;
}

bool x86_emul_cr_write(struct vcpu *v, u32 cr, struct trap *t)
{
	struct vmcb *vm = &v->arch.vmcb;
	enum insn_mode mode = x86_guest_insn_mode(&vm->save);
	u8 b[INSN_MAX_LEN];
	const struct x86_guest_paging pg = {
		.cr0 = vm->save.cr0, .cr3 = vm->save.cr3, .cr4 = vm->save.cr4, .efer = vm->save.efer
	};
	u64 lin = mode == INSN_MODE_64 ? vm->save.rip :
	                                 (vm->save.cs.base + vm->save.rip) & 0xffffffffu;
	spin_lock(&kernel_lock); /* the nested tables hold still during the walk */
	u32 n = x86_guest_read(&v->part->s2, &pg, lin, b, sizeof(b));
	spin_unlock(&kernel_lock);
	u32 i = 0, rex = 0;
	if (mode == INSN_MODE_64 && i < n && (b[i] & 0xf0u) == 0x40u)
		rex = b[i++];
	u64 value;
	if (i + 1u < n && b[i] == 0x0fu && b[i + 1u] == 0x06u && cr == 0) {
		value = vm->save.cr0 & ~UINT64_C(8); /* CLTS: CR0.TS cleared */
		i += 2u;
	} else if (i + 2u < n && b[i] == 0x0fu && b[i + 1u] == 0x22u && (b[i + 2u] >> 6) == 3u &&
	           ((b[i + 2u] >> 3) & 7u) + ((rex & 4u) ? 8u : 0u) == cr) {
		/* MOV CRn, r64 (0F 22 /r, mod 3): REX.R extends CRn, REX.B the register. */
		u32 gpr = (b[i + 2u] & 7u) + ((rex & 1u) ? 8u : 0u);
		value = *x86_guest_gpr(&v->arch, gpr);
		if (mode != INSN_MODE_64)
			value &= 0xffffffffu;
		i += 3u;
	} else {
		return false; /* LMSW, or not what the intercept says: a plain fault */
	}
	v->arch.cr_len = (u8)i;
	t->kind = TRAP_REG_WRITE;
	t->address = cr_reg(cr);
	t->value = value;
	t->arch_info = *cr_field(&vm->save, cr_reg(cr));
	return true;
}

u64 *x86_vmi_msr_field(struct vmcb_save *s, u32 msr)
{
	switch (msr) {
	case 0x174u:
		return &s->sysenter_cs;
	case 0x175u:
		return &s->sysenter_esp;
	case 0x176u:
		return &s->sysenter_eip;
	case 0xc0000081u:
		return &s->star;
	case 0xc0000082u:
		return &s->lstar;
	case 0xc0000083u:
		return &s->cstar;
	case 0xc0000084u:
		return &s->sfmask;
	case 0xc0000100u:
		return &s->fs.base;
	case 0xc0000101u:
		return &s->gs.base;
	case 0xc0000102u:
		return &s->kernel_gs_base;
	default:
		return NULL;
	}
}

/**
 * What WRMSR accepts (APM vol 2): SFMASK's high half is reserved, the others but STAR and
 * SYSENTER_CS hold addresses, which must be canonical (48-bit); VMRUN would refuse them too.
 */
static bool msr_value_ok(u32 msr, u64 value)
{
	if (msr == 0xc0000081u || msr == 0x174u)
		return true;
	if (msr == 0xc0000084u)
		return (value >> 32) == 0;
	u64 top = value >> 47;
	return top == 0 || top == (UINT64_C(1) << 17) - 1u;
}

bool x86_emul_msr_write(struct vcpu *v, struct trap *t)
{
	struct vcpu_arch *a = &v->arch;
	struct vmcb_save *s = &a->vmcb.save;
	u32 msr = (u32)a->gpr[X86_REG_RCX];
	u64 value = a->gpr[X86_REG_RDX] << 32 | (s->rax & 0xffffffffu);
	u64 *field = x86_vmi_msr_field(s, msr);
	if (field == NULL || !msr_value_ok(msr, value)) {
		arch_vcpu_mmio_abort(a, 0, 0); /* #GP(0) at the WRMSR, as the CPU would */
		return false;
	}
	bool watched = false;
	for (u32 i = 0; i < a->vmi_msr_count; i++)
		watched |= a->vmi_msrs[i] == msr;
	if (!watched) {
		*field = value; /* a map another of its vCPUs changed: not this one's business */
		s->rip += 2u;
		return false;
	}
	a->msr_held = msr;
	a->cr_len = 2u; /* WRMSR: 0F 30 */
	t->kind = TRAP_REG_WRITE;
	t->address = IPC_VMI_REG_MSR | (u64)msr << 32;
	t->value = value;
	t->arch_info = *field;
	return true;
}

void arch_vcpu_reg_write_done(struct vcpu_arch *a, u32 reg, u64 value, bool commit)
{
	struct vmcb_save *s = &a->vmcb.save;
	s->rip += a->cr_len;
	if (reg == IPC_VMI_REG_MSR) {
		u64 *field = x86_vmi_msr_field(s, a->msr_held);
		if (commit && field != NULL)
			*field = value; /* the guest's, in its VMCB: never the host's MSR */
		return;
	}
	if (!commit)
		return;
	*cr_field(s, reg) = value;
	if (reg == IPC_VMI_REG_CR0) {
		/* What the MOV would have done to EFER.LMA (APM vol 2 14.6.1). */
		if ((s->efer & X86_EFER_LME) && (value & X86_CR0_PG))
			s->efer |= X86_EFER_LMA;
		else
			s->efer &= ~X86_EFER_LMA;
	}
	a->ran_on = 0; /* its translations may change: the ASID is flushed at its next entry */
}
