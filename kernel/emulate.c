/** Emulated device ranges (see emulate.h). */
#include <kernel/emulate.h>
#include <kernel/ipc.h>
#include <kernel/kernel.h>
#include <kernel/partition_ops.h>
#include <kernel/sched.h>

void emul_setup(void)
{
	const struct config *cfg = &kernel.cfg;
	for (u32 i = 0; i < cfg->emulated_count; i++) {
		const struct cfg_emulated *e = &cfg->emulated[i];
		const struct cap_table *t = &kernel.partitions[e->service].caps;
		kernel.emulated_badge[i] = 0;
		for (u32 s = 0; s < CAP_SLOT_COUNT; s++) {
			const struct cap *c = &t->slots[s];
			if (c->type == CAP_GUEST && c->object == e->guest &&
			    (c->rights & RIGHT_GUEST_EMULATE) != 0) {
				kernel.emulated_badge[i] = c->badge;
				break;
			}
		}
	}
}

/** The emulated range of partition p that holds [address, address + size), or CFG_NONE. */
static u32 emul_find(const struct partition *p, u64 address, u32 size)
{
	const struct config *cfg = &kernel.cfg;
	for (u32 i = 0; i < cfg->emulated_count; i++) {
		const struct cfg_emulated *e = &cfg->emulated[i];
		if (e->guest == p->id && address >= e->ipa && address - e->ipa < e->size &&
		    size <= e->size - (address - e->ipa))
			return i;
	}
	return CFG_NONE;
}

struct vcpu *emul_access(struct vcpu *v, const struct trap *t)
{
	u32 i = emul_find(v->part, t->address, t->size);
	const struct cfg_emulated *e = i == CFG_NONE ? NULL : &kernel.cfg.emulated[i];
	if (e == NULL || kernel.partitions[e->service].stopped) {
		/* Nobody emulates it (any more): the access is a plain memory fault. */
		struct trap fault = *t;
		fault.kind = TRAP_MEM_FAULT;
		fault.what = e == NULL ? NULL :
		                         "access to an emulated range whose emulator stopped";
		return trap_fault(v, &fault);
	}
	bool write = (t->access & IPC_ACCESS_WRITE) != 0;
	v->mmio.address = t->address;
	v->mmio.arch_info = t->arch_info;
	v->mmio.size = t->size;
	v->mmio.write = write;
	/* A new access, a new number; a requeued one keeps its message and so its number. */
	v->mmio.serial++;
	struct kernel_msg m = {
		.label = IPC_LABEL_MMIO,
		.words = { t->address, t->size | (write ? IPC_MMIO_WRITE : 0u),
		           write ? t->value : 0,
		           v->index | (u64)v->mmio.serial << IPC_MMIO_SERIAL_SHIFT,
		           t->address - e->ipa, i },
		.badge = kernel.emulated_badge[i],
	};
	return ipc_kernel_call(v, e->endpoint, &m);
}

void emul_reply(struct vcpu *caller, u64 status, u64 value)
{
	if (status == IPC_MMIO_DONE)
		arch_vcpu_mmio_complete(&caller->arch, caller->mmio.arch_info, caller->mmio.size,
		                        caller->mmio.write, value);
	else
		arch_vcpu_mmio_abort(&caller->arch, caller->mmio.arch_info, caller->mmio.address);
	caller->kernel_sender = false;
}

void emul_abandon(struct vcpu *caller)
{
	arch_vcpu_mmio_abort(&caller->arch, caller->mmio.arch_info, caller->mmio.address);
	caller->kernel_sender = false;
	sched_make_ready(caller);
}
