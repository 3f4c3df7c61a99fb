/** Emulated device ranges (see emulate.h). */
#include <kernel/cap.h>
#include <kernel/emulate.h>
#include <kernel/ipc.h>
#include <kernel/kernel.h>
#include <kernel/partition_ops.h>
#include <kernel/regs.h>
#include <kernel/sched.h>
#include <kernel/stage2.h>

/** Each partition's manifest MMIO ranges in one run of kernel.emul_mmio, in manifest order. */
static void emul_setup_runs(void)
{
	const struct config *cfg = &kernel.cfg;
	u32 n = 0;
	for (u32 p = 0; p < kernel.partition_count; p++) {
		kernel.partitions[p].emul_first = n;
		for (u32 i = 0; i < cfg->emulated_count; i++) {
			const struct cfg_emulated *e = &cfg->emulated[i];
			if (e->guest == p && e->kind == CFG_EMULATED_MMIO && n < CFG_EMULATED_MAX)
				kernel.emul_mmio[n++] = (struct emul_mmio_range){
					.ipa = e->ipa,
					.size = e->size,
					.badge = kernel.emulated_badge[i],
					.endpoint_obj = &kernel.endpoints[e->endpoint],
					.service = e->service,
					.endpoint = e->endpoint,
					.index = i,
				};
		}
		kernel.partitions[p].emul_count = n - kernel.partitions[p].emul_first;
	}
}

void emul_setup(void)
{
	const struct config *cfg = &kernel.cfg;
	for (u32 i = 0; i < cfg->emulated_count; i++) {
		const struct cfg_emulated *e = &cfg->emulated[i];
		kernel.emulated_badge[i] = 0;
		if (e->kind == CFG_EMULATED_ROUTED || e->kind == CFG_EMULATED_ROUTED_PORTS)
			continue;
		const struct cap_table *t = &kernel.partitions[e->service].caps;
		for (u32 s = 0; s < CAP_SLOT_COUNT; s++) {
			const struct cap *c = &t->slots[s];
			if (c->type == CAP_GUEST && c->object == e->guest &&
			    (c->rights & RIGHT_GUEST_EMULATE) != 0) {
				kernel.emulated_badge[i] = c->badge;
				break;
			}
		}
	}
	emul_setup_runs();
}

/** One emulated range as emul_access needs it: the manifest's or a run-time route. */
struct emul_range {
	u64 ipa, size, badge;
	u32 endpoint, service, index; /**< index: w5 of the message */
};

static bool emul_holds(u64 ipa, u64 size, u64 address, u32 len)
{
	return address >= ipa && address - ipa < size && len <= size - (address - ipa);
}

/**
 * The emulated range of partition p that holds [address, address + size):
 * among its port ranges and port routes for a port access, its MMIO ranges
 * and routes otherwise (port 0x3f8 and address 0x3f8 are different things).
 */
static bool emul_find(const struct partition *p, u64 address, u32 size, bool port,
                      struct emul_range *out)
{
	const struct config *cfg = &kernel.cfg;
	u32 kind = port ? CFG_EMULATED_PORTS : CFG_EMULATED_MMIO;
	for (u32 i = 0; i < cfg->emulated_count; i++) {
		const struct cfg_emulated *e = &cfg->emulated[i];
		if (e->guest == p->id && e->kind == kind &&
		    emul_holds(e->ipa, e->size, address, size)) {
			*out = (struct emul_range){
				e->ipa,      e->size,    kernel.emulated_badge[i],
				e->endpoint, e->service, i
			};
			return true;
		}
	}
	for (u32 r = 0; r < KERNEL_ROUTE_MAX; r++) {
		const struct emul_route *e = &kernel.routes[r];
		if (e->used && e->guest == p->id && e->port == port &&
		    emul_holds(e->ipa, e->size, address, size)) {
			*out = (struct emul_range){ e->ipa,      e->size,    e->badge,
				                    e->endpoint, e->service, CFG_EMULATED_MAX + r };
			return true;
		}
	}
	return false;
}

/** The access as an IPC_LABEL_MMIO kernel message to endpoint; the vCPU waits for the reply. */
static inline struct vcpu *emul_send(struct vcpu *v, const struct trap *t, u32 endpoint, u64 badge,
                                     u64 offset, u32 index)
{
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
	m->words[4] = offset;
	m->words[5] = index;
	m->badge = badge;
	return ipc_kernel_call(v, endpoint, m);
}

/** The guest's ECAM window (`routed; pci-ecam;`) holding [address, address + len), or NULL. */
static const struct cfg_emulated *emul_ecam(u32 g, u64 address, u64 len)
{
	const struct config *cfg = &kernel.cfg;
	for (u32 i = 0; i < cfg->emulated_count; i++) {
		const struct cfg_emulated *e = &cfg->emulated[i];
		if (e->guest == g && e->kind == CFG_EMULATED_ROUTED && e->ecam &&
		    address >= e->ipa && address - e->ipa < e->size &&
		    len <= e->size - (address - e->ipa))
			return e;
	}
	return NULL;
}

struct vcpu *emul_access(struct vcpu *v, const struct trap *t)
{
	struct emul_range e;
	bool found = emul_find(v->part, t->address, t->size, t->port, &e);
	if (!found && !t->port && !t->refuse &&
	    emul_ecam(v->part->id, t->address, t->size) != NULL) {
		/* No device model claims this function: it is absent (all ones, writes dropped). */
		arch_vcpu_mmio_complete(&v->arch, t->arch_info, t->size,
		                        (t->access & IPC_ACCESS_WRITE) != 0, ~UINT64_C(0));
		return v;
	}
	if (!found || kernel.partitions[e.service].stopped) {
		/*
		 * Nobody emulates it (any more): a plain memory fault, or for a
		 * port the fault the platform described (x86: "port I/O"); the
		 * platform's what names either (NULL: "stage-2").
		 */
		struct trap fault = *t;
		fault.kind = t->port ? TRAP_GUEST_EXCEPTION : TRAP_MEM_FAULT;
		if (found)
			fault.what = "access to an emulated range whose emulator stopped";
		return trap_fault(v, &fault);
	}
	if (t->refuse) {
		/* Its emulator could not answer it (string I/O): the guest's fault, as an abort. */
		arch_vcpu_mmio_abort(&v->arch, t->arch_info, t->address);
		return v;
	}
	return emul_send(v, t, e.endpoint, e.badge, t->address - e.ipa, e.index);
}

struct vcpu *emul_deliver(struct vcpu *v, const struct trap *t, u32 endpoint, u64 badge, u64 offset,
                          u32 index)
{
	return emul_send(v, t, endpoint, badge, offset, index);
}

/* ---- run-time routes (HC_GUEST_ROUTE) ------------------------------------------------ */

static bool emul_meets(u64 a, u64 asize, u64 b, u64 bsize)
{
	return a < b + bsize && b < a + asize;
}

/**
 * Whether the ports [first, first + count) of guest g lie wholly inside one of its port
 * windows (`ports` with `routed;`). Ports are routed only there: a guest's other ports are
 * the kernel's or nobody's (docs/emulation.md, "x86"), never a device model's to take.
 */
static bool emul_port_window(u32 g, u64 first, u64 count)
{
	const struct config *cfg = &kernel.cfg;
	for (u32 i = 0; i < cfg->emulated_count; i++) {
		const struct cfg_emulated *e = &cfg->emulated[i];
		if (e->guest == g && e->kind == CFG_EMULATED_ROUTED_PORTS &&
		    emul_holds(e->ipa, e->size, first, (u32)count))
			return true;
	}
	return false;
}

/**
 * Whether [ipa, ipa + size) meets anything of guest g's: memory, emulated ranges, routes;
 * for ports (port) only its port routes (emul_route_do checked the port window first).
 * A routed window (CFG_EMULATED_ROUTED) is where routes go: it is no obstacle.
 */
static bool emul_route_taken(u32 g, u64 ipa, u64 size, bool port)
{
	const struct config *cfg = &kernel.cfg;
	if (port) {
		for (u32 r = 0; r < KERNEL_ROUTE_MAX; r++) {
			const struct emul_route *e = &kernel.routes[r];
			if (e->used && e->guest == g && e->port &&
			    emul_meets(ipa, size, e->ipa, e->size))
				return true;
		}
		return false; /* manifest port ranges never meet a port window (manifest_check.c) */
	}
	const struct cfg_partition *cp = &cfg->partitions[g];
	for (u32 i = 0; i < cp->mapping_count; i++) {
		const struct cfg_mapping *m = &cp->mappings[i];
		if (emul_meets(ipa, size, m->ipa, cfg->regions[m->region].size))
			return true;
	}
	for (u32 i = 0; i < cfg->emulated_count; i++) {
		const struct cfg_emulated *e = &cfg->emulated[i];
		if (e->guest == g && e->kind == CFG_EMULATED_MMIO &&
		    emul_meets(ipa, size, e->ipa, e->size))
			return true;
	}
	for (u32 r = 0; r < KERNEL_ROUTE_MAX; r++) {
		const struct emul_route *e = &kernel.routes[r];
		if (e->used && e->guest == g && !e->port && emul_meets(ipa, size, e->ipa, e->size))
			return true;
	}
	return false;
}

u32 emul_receiver(u32 ep)
{
	for (u32 p = 0; p < kernel.partition_count; p++)
		for (u32 s = 0; s < CAP_SLOT_COUNT; s++) {
			const struct cap *c = &kernel.partitions[p].caps.slots[s];
			if (c->type == CAP_ENDPOINT && c->object == ep &&
			    (c->rights & RIGHT_EP_RECV))
				return p;
		}
	return CFG_NONE;
}

static enum status emul_route_do(struct vcpu *v, u64 *index)
{
	const struct cap *guest, *ep;
	enum status s = cap_lookup(&v->part->caps, reg_get(v, IPC_REG_CAP), CAP_GUEST,
	                           RIGHT_GUEST_DM, &guest);
	if (s == STATUS_OK)
		s = cap_lookup(&v->part->caps, reg_get(v, IPC_REG_LABEL), CAP_ENDPOINT,
		               RIGHT_EP_SEND, &ep);
	if (s != STATUS_OK)
		return s;
	u64 ipa = reg_get(v, IPC_REG_WORD0), size = reg_get(v, IPC_REG_WORD0 + 1u);
	u64 op = reg_get(v, IPC_REG_WORD0 + 2u), badge = reg_get(v, IPC_REG_WORD0 + 3u);
	bool port = (op & IPC_ROUTE_PORTS) != 0, pci = (op & IPC_ROUTE_PCI) != 0;
	u64 limit = port ? UINT64_C(0x10000) : UINT64_C(1) << STAGE2_IPA_BITS;
	op &= ~(u64)(IPC_ROUTE_PORTS | IPC_ROUTE_PCI);
	if (size == 0 || ipa + size < ipa || ipa + size > limit || (port && pci))
		return STATUS_INVALID_ARG;
	u32 g = guest->object;
	if (pci) {
		/* Functions by SBDF: their 4 KiB each of the ECAM window, segment 0 only. */
		const struct cfg_emulated *w = NULL;
		for (u32 i = 0; i < kernel.cfg.emulated_count && w == NULL; i++) {
			const struct cfg_emulated *e = &kernel.cfg.emulated[i];
			if (e->guest == g && e->kind == CFG_EMULATED_ROUTED && e->ecam)
				w = e; /* the guest's first: segment 0 */
		}
		if (w == NULL || ipa > 0xffffu || size > (w->size >> 12) ||
		    ipa > (w->size >> 12) - size)
			return STATUS_NO_RIGHTS; /* no such window, or functions outside it */
		ipa = w->ipa + (ipa << 12);
		size <<= 12;
	}
	if (op == IPC_ROUTE_UNMAP) {
		for (u32 r = 0; r < KERNEL_ROUTE_MAX; r++) {
			struct emul_route *e = &kernel.routes[r];
			if (e->used && e->guest == g && e->endpoint == ep->object &&
			    e->port == port && e->ipa == ipa && e->size == size) {
				e->used = false;
				*index = r;
				return STATUS_OK;
			}
		}
		return STATUS_INVALID_ARG;
	}
	if (op != IPC_ROUTE_MAP)
		return STATUS_INVALID_ARG;
	/* Ports outside the manifest's windows were given to no device model. */
	if (port && !emul_port_window(g, ipa, size))
		return STATUS_NO_RIGHTS;
	if (emul_route_taken(g, ipa, size, port))
		return STATUS_INVALID_ARG;
	u32 service = emul_receiver(ep->object);
	if (service == CFG_NONE)
		return STATUS_INVALID_ARG;
	for (u32 r = 0; r < KERNEL_ROUTE_MAX; r++) {
		struct emul_route *e = &kernel.routes[r];
		if (!e->used) {
			*e = (struct emul_route){ true,       g,       ipa,   size,
				                  ep->object, service, badge, port };
			*index = r;
			return STATUS_OK;
		}
	}
	return STATUS_BUSY;
}

struct vcpu *emul_route_call(struct vcpu *v)
{
	u64 index = 0;
	enum status s = emul_route_do(v, &index);
	reg_status(v, s);
	if (s == STATUS_OK)
		reg_set(v, IPC_REG_CAP, index);
	return v;
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
