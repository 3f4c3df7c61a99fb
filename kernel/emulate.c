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

/**
 * The emulated range of partition p that holds [address, address + size),
 * or CFG_NONE: among its port ranges for a port access, its MMIO ranges
 * otherwise (port 0x3f8 and address 0x3f8 are different things).
 */
static u32 emul_find(const struct partition *p, u64 address, u32 size, bool port)
{
	const struct config *cfg = &kernel.cfg;
	u32 kind = port ? CFG_EMULATED_PORTS : CFG_EMULATED_MMIO;
	for (u32 i = 0; i < cfg->emulated_count; i++) {
		const struct cfg_emulated *e = &cfg->emulated[i];
		if (e->guest == p->id && e->kind == kind && address >= e->ipa &&
		    address - e->ipa < e->size && size <= e->size - (address - e->ipa))
			return i;
	}
	return CFG_NONE;
}

struct vcpu *emul_access(struct vcpu *v, const struct trap *t)
{
	u32 i = emul_find(v->part, t->address, t->size, t->port);
	const struct cfg_emulated *e = i == CFG_NONE ? NULL : &kernel.cfg.emulated[i];
	if (e == NULL || kernel.partitions[e->service].stopped) {
		/*
		 * Nobody emulates it (any more): a plain memory fault, or for a
		 * port the fault the platform described (x86: "port I/O"); the
		 * platform's what names either (NULL: "stage-2").
		 */
		struct trap fault = *t;
		fault.kind = t->port ? TRAP_GUEST_EXCEPTION : TRAP_MEM_FAULT;
		if (e != NULL)
			fault.what = "access to an emulated range whose emulator stopped";
		return trap_fault(v, &fault);
	}
	bool write = (t->access & IPC_ACCESS_WRITE) != 0;
	v->mmio.address = t->address;
	v->mmio.arch_info = t->arch_info;
	v->mmio.size = t->size;
	v->mmio.write = write;
	/* A new access, a new number; a requeued one keeps its message and so its number. */
	v->mmio.serial++;
	/* The message is built where the kernel keeps it (requeued as is after a restart). */
	struct kernel_msg *m = &v->kmsg;
	m->label = IPC_LABEL_MMIO;
	m->words[0] = t->address;
	m->words[1] = t->size | (write ? IPC_MMIO_WRITE : 0u) | (t->port ? IPC_MMIO_PORT : 0u);
	m->words[2] = write ? t->value : 0;
	m->words[3] = v->index | (u64)v->mmio.serial << IPC_MMIO_SERIAL_SHIFT;
	m->words[4] = t->address - e->ipa;
	m->words[5] = i;
	m->badge = kernel.emulated_badge[i];
	return ipc_kernel_call(v, e->endpoint, m);
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
