/**
 * The kernel core's entry points from the platform. The platform turns
 * every exit from a vCPU (a trap, an exception, an interrupt) into a
 * struct trap, calls kernel_trap(), and resumes whatever vCPU that returns.
 *
 *    platform                         kernel core
 *    --------                         -----------
 *    reset -> early init -> kernel_boot(boot_info) -> first vCPU or NULL
 *    secondary CPU online -> kernel_cpu_start(cpu) -> first vCPU or NULL
 *    vCPU exits -> struct trap -> kernel_trap(cur, trap) -> next vCPU or NULL
 *    idle CPU woke up -> kernel_idle(cpu) -> vCPU or NULL (wait again)
 *
 * A NULL result means "nothing to run here": the platform waits for an
 * interrupt and calls kernel_idle() (or kernel_trap() with a NULL vCPU for
 * the interrupt itself).
 */
#ifndef KERNEL_TRAP_H
#define KERNEL_TRAP_H

#include <kernel/types.h>

struct vcpu;

enum trap_kind {
	TRAP_HYPERCALL,       /**< HVC / VMMCALL; arguments in the vCPU registers */
	TRAP_MEM_FAULT,       /**< stage-2 / nested page fault */
	TRAP_GUEST_EXCEPTION, /**< the guest took an exception it cannot handle */
	TRAP_TIMER,           /**< this CPU's hypervisor timer expired */
	TRAP_IRQ,             /**< another physical interrupt (or an IPI) */
	TRAP_WFI,             /**< the guest waits for an interrupt it cannot get: a yield */
	TRAP_WAIT_IRQ,        /**< the guest waits for a virtual interrupt (kernel/virq.h) */
	TRAP_MMIO,            /**< a decoded load/store at an unmapped guest address (emulate.h) */
	/**
	 * A VM's write of a register its monitor watches (kernel/vmi.c): address = the
	 * register (IPC_VMI_REG_*), value = the value written, arch_info = the value before.
	 * The write is held and the PC not advanced: arch_vcpu_reg_write_done finishes it.
	 */
	TRAP_REG_WRITE,
	TRAP_STEP, /**< a single-stepped vCPU executed an instruction (kernel/vmi.c) */
};

struct trap {
	enum trap_kind kind;
	u64 address;      /**< TRAP_MEM_FAULT: faulting guest-physical address */
	u32 access;       /**< TRAP_MEM_FAULT: IPC_ACCESS_* */
	u64 syndrome;     /**< platform syndrome (ESR_EL2, VMCB exit code) for reports */
	const char *what; /**< short static description for reports, may be NULL */
	u64 wake_ns;      /**< TRAP_WAIT_IRQ: wake it by then anyway (its timer); 0 = never */
	/**
	 * TRAP_MMIO (with address, and access READ or WRITE): the size in bytes,
	 * the value a store writes, and what the platform needs to complete the
	 * instruction later (arch_vcpu_mmio_complete: target register, sign
	 * extension, instruction length); opaque to the core.
	 */
	u32 size;
	/**
	 * TRAP_MMIO: an I/O port access (x86 IN/OUT), address the port. It
	 * matches only the `ports` ranges of the manifest, an MMIO access only
	 * the `reg` ones; outside every range it is the fault what and
	 * syndrome describe (TRAP_GUEST_EXCEPTION, not a memory fault). It
	 * sits in the padding after size: the struct keeps its size, which
	 * arm64's per-CPU offsets (arm64/cpu.h) depend on.
	 */
	bool port;
	/**
	 * TRAP_MMIO: an access the platform cannot complete (x86 INS/OUTS, which
	 * move memory too). Inside an emulated range or route of the guest it is
	 * refused as an emulator's abort is (x86: #GP(0)) without reaching the
	 * emulator; outside, it is the fault what and syndrome describe. Also in
	 * the padding after size.
	 */
	bool refuse;
	u64 value;
	u64 arch_info;
};

/**
 * A trap of kind with syndrome and what, every other field zero, set field
 * by field: `struct trap t = { ... }` makes the compiler zero the struct
 * through memset first, on every exit that builds one.
 */
static inline void trap_init(struct trap *t, enum trap_kind kind, u64 syndrome, const char *what)
{
	t->kind = kind;
	t->address = 0;
	t->access = 0;
	t->syndrome = syndrome;
	t->what = what;
	t->wake_ns = 0;
	t->size = 0;
	t->value = 0;
	t->port = false;
	t->refuse = false;
	t->arch_info = 0;
}

struct boot_mem_range {
	u64 base;
	u64 size;
};

#define BOOT_RANGE_MAX 8u
#define BOOT_KEPT_MAX 12u

/**
 * A resource the kernel keeps for itself (its interrupt controller, its
 * console, its own interrupt ids): the manifest may not hand it to a
 * partition. what names it in the manifest error ("GIC distributor").
 */
struct boot_kept {
	u64 base; /**< MMIO: physical base; interrupt: the first id */
	u64 size; /**< MMIO: bytes; interrupt: how many ids */
	const char *what;
	/**
	 * MMIO a VM (or PVH guest) sees at the same guest-physical address as
	 * the kernel's own model of it (arm64: the GIC distributor and
	 * redistributors; x86: the local APIC page): no emulated range of such
	 * a guest may cover it, since its accesses never reach a service.
	 */
	bool modelled;
	/**
	 * For a modelled range: the bytes from base a guest may see the model in, at least size
	 * (arm64: the redistributors of up to VGIC_VCPU_MAX vCPUs, wherever the machine's own
	 * end). No emulated range may cover any of it, so the emulation path's assembly
	 * (platform/arm64/emulpath.S) finds a manifest range without testing the model's frames.
	 */
	u64 view;
};

/** What the platform found before the kernel core starts. */
struct boot_info {
	const void *package; /**< the boot package (manifest + images) */
	u64 package_size;
	u32 cpu_count; /**< CPUs online or about to come online */
	u32 ram_count;
	struct boot_mem_range ram[BOOT_RANGE_MAX];
	u32 reserved_count; /**< kernel image, package, firmware tables, ... */
	struct boot_mem_range reserved[BOOT_RANGE_MAX];
	/** Bit (1 << enum partition_type) for each type this machine cannot run (pvh on arm64). */
	u32 unsupported_types;
	/** MMIO the kernel drives itself; no device region may overlap it. */
	u32 kept_mmio_count;
	struct boot_kept kept_mmio[BOOT_KEPT_MAX];
	/**
	 * Interrupt ids the kernel takes or that are private to each CPU; no
	 * device may name one. The first entry that matches names the error, so
	 * specific entries come before wide ones.
	 */
	u32 kept_irq_count;
	struct boot_kept kept_irq[BOOT_KEPT_MAX];
};

/** Append a kept range (platform set-up and the host tool); false when the list is full. */
static inline bool boot_keep(u32 *count, struct boot_kept *list, u64 base, u64 size,
                             const char *what)
{
	if (*count >= BOOT_KEPT_MAX || size == 0)
		return false;
	list[(*count)++] = (struct boot_kept){ base, size, what, false, size };
	return true;
}

/**
 * boot_keep() for MMIO that VMs see modelled by the kernel (boot_kept.modelled), in a window
 * of view bytes from base (the larger of size and view).
 */
static inline bool boot_keep_modelled(u32 *count, struct boot_kept *list, u64 base, u64 size,
                                      u64 view, const char *what)
{
	if (!boot_keep(count, list, base, size, what))
		return false;
	list[*count - 1u].modelled = true;
	list[*count - 1u].view = view > size ? view : size;
	return true;
}

struct vcpu *kernel_boot(const struct boot_info *bi);
struct vcpu *kernel_cpu_start(u32 cpu);
struct vcpu *kernel_trap(struct vcpu *cur, const struct trap *t);
/**
 * kernel_trap() of a TRAP_HYPERCALL trap of the running vCPU cur, for a
 * platform that tells hypercalls apart on its own (the hot path), without
 * kernel_trap's tests of cur and the kind.
 */
struct vcpu *kernel_trap_hypercall(struct vcpu *cur);
/**
 * kernel_trap() of a TRAP_MMIO trap (a decoded load or store, the emulation
 * path) with cur not NULL: the same, for a platform whose exit already knows
 * the kind, without kernel_trap's test of it.
 */
struct vcpu *kernel_trap_mmio(struct vcpu *cur, const struct trap *t);
struct vcpu *kernel_idle(u32 cpu);

#endif /* KERNEL_TRAP_H */
