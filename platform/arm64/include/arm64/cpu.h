/**
 * The arm64 platform's internal interfaces: per-CPU state, the hardware
 * description read from the firmware DTB, and the functions the platform
 * files call on one another. Nothing here is visible to the kernel core.
 */
#ifndef ARM64_CPU_H
#define ARM64_CPU_H

#define ARM64_CPU_MAX 8
#define ARM64_STACK_SIZE 16384
#define ARM64_MEM_MAX 8

/* Offsets of struct arm64_cpu used by the assembly (checked in cpu.c). */
#define ARM64_CPU_CURRENT 72
#define ARM64_CPU_STACK_TOP 80
/* ... and by vectors.S's hop between two services (arm64_hop_services there). */
#define ARM64_CPU_LOADED 88
#define ARM64_CPU_VTTBR 96
#define ARM64_CPU_INDEX 136
#define ARM64_CPU_FP_TRAPPING 144
#define ARM64_CPU_ICH_HCR 152
#define ARM64_CPU_HCR 160
#define ARM64_CPU_SERVICE_CONTROLS 168
#define ARM64_CPU_VM_OWNER 176
#define ARM64_CPU_GIC_OWNER 184

/* Why a vCPU left guest mode: which EL2 vector it came through. */
#define ARM64_EXIT_SYNC 0
#define ARM64_EXIT_IRQ 1
#define ARM64_EXIT_FIQ 2
#define ARM64_EXIT_SERROR 3

/* Size of the register frame the kernel-fault vectors push (panic.c). */
#define ARM64_FRAME_SIZE 288

#ifndef __ASSEMBLER__

#include <arm64/keep.h>
#include <arm64/sysreg.h>
#include <kernel/lock.h>
#include <kernel/trap.h>
#include <kernel/types.h>

struct vcpu;
struct endpoint;
struct arm64_fp_regs;

/**
 * Per-CPU state, reached through TPIDR_EL2. The vectors load current and
 * stack_top at fixed offsets (checked in cpu.c).
 */
struct arm64_cpu {
	/** The hypercall path's trap (only syndrome changes): first, so &trap == cpu. */
	struct trap trap;
	struct vcpu *current;  /**< the vCPU running (or last entered) on this CPU */
	u64 stack_top;         /**< SP_EL2 while a guest runs */
	struct vcpu *loaded;   /**< whose EL1/FP state is in the registers */
	u64 vttbr;             /**< VTTBR_EL2 as last written */
	u64 cntvoff;           /**< CNTVOFF_EL2 as last written (head.S: 0) */
	u64 deadline_ns;       /**< the core's timer deadline; 0 = none */
	u64 guest_deadline_ns; /**< the loaded VM vCPU's emulated physical timer; 0 = none */
	u64 mpidr;
	u32 index;
	volatile u32 online;
	bool fp_trapping; /**< CPTR_EL2.TFP is set */
	/**
	 * MDSCR_EL1.SS and MDCR_EL2.TDE are set: a single-stepped VM runs here (vcpu.c).
	 * Next to fp_trapping: emulpath.S tests both with one load.
	 */
	bool step_live;
	bool has_sme; /**< arm64_has_sme, here for the assembly paths' one load */
	u64 ich_hcr;  /**< ICH_HCR_EL2 as last written */
	u64 hcr;      /**< HCR_EL2 as last written by a switch (head.S's value: 0 here) */
	/** SCTLR/CNTKCTL/CPACR_EL1 and TPIDRRO_EL0 hold the services' values (vcpu.c). */
	bool service_controls;
	/**
	 * A VM vCPU whose EL1 registers (vm_owner) or GIC interface state
	 * and list registers (gic_owner) are still in this CPU's registers
	 * after the CPU switched to a service, which reaches neither (vcpu.c):
	 * back into the same VM, nothing is restored; anything else saves them
	 * first. NULL when the registers hold no such leftover.
	 */
	struct vcpu *vm_owner;
	struct vcpu *gic_owner;
	/** The emulation path's trap (exit.c exit_dabt): kind TRAP_MMIO, set once. */
	struct trap mmio_trap;
	/*
	 * The kernel's tables fastpath.S changes, set once by arm64_cpu_init: one load from
	 * TPIDR_EL2 each instead of an address computed from a global symbol.
	 */
	struct vcpu **sched_current;  /**< &cpu_sched[index].current */
	u32 *sched_run_on;            /**< sched.run_on */
	struct endpoint *endpoints;   /**< kernel.endpoints */
	struct spinlock *kernel_lock; /**< &kernel_lock */
	/**
	 * fastpath.S's one test of this CPU's state: hcr while the CPU is in a
	 * service's state (service_controls, a service's HCR_EL2 with TGE, which
	 * no VM runs with, fp_trapping, no ICH_HCR_EL2), else 0.
	 * Every change of those four recomputes it: arm64_hop_note(), or the value
	 * the switch that made the change knows (vcpu.c). Going idle leaves it: a
	 * 0 there only keeps the fastpath off until the next switch.
	 */
	u64 hop_hcr;
};

/** What the firmware's device tree says about the machine. */
struct arm64_hw {
	const void *dtb;
	u64 dtb_size;
	u32 mem_count;
	struct boot_mem_range mem[ARM64_MEM_MAX];
	u32 cpu_count; /**< CPUs the kernel uses: the first ARM64_CPU_MAX */
	u32 cpu_total; /**< CPUs in the DTB */
	u64 cpu_mpidr[ARM64_CPU_MAX];
	u64 gicd, gicd_size, gicr, gicr_size, gits; /**< 0 when absent */
	u64 uart;
	u32 uart_intid;   /**< the PL011's SPI as an INTID, 0 when not given */
	u32 maint_intid;  /**< GIC maintenance interrupt (INTID) */
	u32 timer_ppi[4]; /**< secure phys, non-secure phys, virtual, hypervisor */
	bool psci_smc;
};

/** Registers pushed by the kernel-fault vectors (vectors.S), for the panic report. */
struct arm64_frame {
	u64 x[31];
	u64 sp, elr, spsr, esr, far;
};

extern struct arm64_cpu arm64_cpus[ARM64_CPU_MAX];
extern struct arm64_hw arm64_hw;

/** hop_hcr from the fields it stands for: after any write of one of them. */
static inline void arm64_hop_note(struct arm64_cpu *cpu)
{
	bool service = cpu->service_controls && (cpu->hcr & HCR_TGE) != 0;
	cpu->hop_hcr = service && cpu->fp_trapping && cpu->ich_hcr == 0 ? cpu->hcr : 0;
}

static inline struct arm64_cpu *arm64_this_cpu(void)
{
	struct arm64_cpu *c;
	__asm__ volatile("mrs %0, tpidr_el2" : "=r"(c));
	return c;
}

/**
 * Wait, with YIELD, until the big kernel lock looks free, before entering
 * the core. Under QEMU's single-threaded round-robin TCG (which -icount
 * forces), a CPU spinning in spin_lock's plain load loop runs its whole
 * time budget, up to the next virtual-timer deadline or 2^31 instructions,
 * before the lock holder gets to run again; YIELD hands the thread to the
 * next CPU at once. The core's lock stays the real exclusion; this only
 * keeps the spinning out of it in the common case.
 */
void arm64_core_lock_wait_slow(void);

/** Wait only when the core's lock looks taken (kernel_lock_looks_busy, the core's seam). */
static inline void arm64_core_lock_wait(void)
{
	if (__builtin_expect(kernel_lock_looks_busy(), 0))
		arm64_core_lock_wait_slow();
}

/* dt.c: the firmware device tree. */
bool arm64_dt_parse(const void *dtb, struct arm64_hw *hw);
void arm64_dt_report(const struct arm64_hw *hw);

/* uart.c */
void arm64_uart_init(u64 base);
void arm64_uart_rx_irq_enable(void);

/* psci.c: firmware calls over SMC (ARM DEN 0022). */
u64 arm64_smc(u64 fn, u64 a1, u64 a2, u64 a3);
int64_t arm64_psci_cpu_on(u64 mpidr, u64 entry, u64 context);
void arm64_psci_cpu_off(void);
_Noreturn void arm64_psci_system_off(void);

/* gic.c: GICv3 (ARM IHI 0069). */
void arm64_gic_init(void);
void arm64_gic_init_cpu(struct arm64_cpu *cpu);
u32 arm64_gic_ack(void);
void arm64_gic_eoi(u32 intid);
void arm64_gic_drop(u32 intid);
void arm64_gic_deactivate(u32 intid);
void arm64_gic_route_spi(u32 intid, u64 mpidr);
void arm64_gic_send_sgi(u64 mpidr, u32 sgi);

/* timer.c: the EL2 physical timer (CNTHP). */
void arm64_timer_init(void);
void arm64_timer_init_cpu(void);
u32 arm64_timer_intid(void);
/** Physical counter ticks to nanoseconds. */
u64 arm64_ticks_to_ns(u64 ticks);
/** Handle a CNTHP interrupt; true when the core's deadline has passed. */
bool arm64_timer_expired(struct arm64_cpu *cpu);
/** Program CNTHP for the core's deadline, or earlier for an idle poll. */
void arm64_timer_program(struct arm64_cpu *cpu, u64 poll_ns);

/* mmu.c: the EL2 identity map. */
void arm64_mmu_build(void);
bool arm64_mmu_is_normal(u64 base, u64 size);

/* stage2.c */
void arm64_stage2_init_cpu(void);
/** The guest-physical address bits stage 2 translates (40..48), or 0 if the CPU has too few (stage2.c). */
u32 arm64_ipa_bits(void);

/* vcpu.c: switching the EL1 and FP state between vCPUs. */
extern bool arm64_has_sme;
extern bool arm64_has_ras;
extern u32 arm64_ich_apr_count;
void arm64_vcpu_switch(struct arm64_cpu *cpu, struct vcpu *next);

/** Write the held register write its monitor allowed (vcpu_arch.sysreg_pending) into v's
 *  EL1 registers, loaded on this CPU. */
void arm64_vcpu_apply_sysreg(struct vcpu *v);
/**
 * Give up what this CPU holds of a vCPU the core placed on another CPU: the EL1
 * registers or GIC state a VM left here for a service (vm_owner, gic_owner), saved,
 * so that the other CPU, which kicked this one and waits, can load it (vcpu.c).
 */
void arm64_vcpu_release_moved(struct arm64_cpu *cpu);
void arm64_vcpu_fp_load(struct arm64_cpu *cpu, struct vcpu *v);
/** Inject a synchronous external data abort at far into v, whose EL1 state is loaded here. */
void arm64_inject_dabt(struct vcpu *v, u64 far);
/**
 * From vectors.S after an exit that leaves the loaded vCPU for next: the VM -> service and the
 * service -> VM hop of the emulation path, or arm64_exit_switch for anything unusual.
 */
struct vcpu *arm64_exit_switch_from_vm(struct vcpu *next);
struct vcpu *arm64_exit_switch_to_vm(struct vcpu *next);

/* exit.c: guest exits, called from vectors.S; returns the vCPU to enter. */
struct vcpu *arm64_guest_sync(struct vcpu *v, struct arm64_cpu *cpu);
/**
 * A hypercall (esr: its syndrome) into the core's hypercall path, for fastpath.S when
 * neither it nor the C IPC fastpath (kernel/ipc.c ipc_fast) took it.
 */
struct vcpu *arm64_exit_hypercall(struct vcpu *v, struct arm64_cpu *cpu, u64 esr);
struct vcpu *arm64_guest_exit(struct vcpu *v, u64 kind);
/** After a guest exit that leaves v: switch to next, or idle if it is NULL. */
struct vcpu *arm64_exit_switch(struct vcpu *next);
/** After vectors.S stored x20-x29 of v for a tagged exit: finish it (exit.c). */
struct vcpu *arm64_exit_complete(struct vcpu *v);

/* cpu.c */
_Noreturn void arm64_run(struct vcpu *v);
void arm64_cpu_init(u32 index, u64 mpidr);
/** Wait (WFI) until there is a vCPU for this CPU, and return it. */
struct vcpu *arm64_idle(struct arm64_cpu *cpu);
/** The value a partition reads from ID group 3 register (crm, op2) whose hardware value is hw. */
u64 arm64_idreg_for_guest(u32 crm, u32 op2, u64 hw);
/** Whether a trapped system register access (ESR_EL2) is an ID group 3 read (HCR_EL2.TID3). */
bool arm64_idreg_is_read(u64 esr);
/** The value that read gives the partition. */
u64 arm64_idreg_read(u64 esr);
/** An SMCCC call (PSCI and friends) from v, by HVC or SMC (smccc.c). */
struct vcpu *arm64_smccc(struct vcpu *v);

/* setup.c: the C entry points of head.S. */
_Noreturn void arm64_boot_main(const void *dtb);
_Noreturn void arm64_secondary_main(u64 index);
void arm64_boot_hook(void);

/* panic.c */
_Noreturn void arm64_kernel_fault(struct arm64_frame *f, u64 vector);

/* Assembly (head.S, vectors.S, fpsimd.S). */
_Noreturn void arm64_vcpu_enter(struct vcpu *v);
void arm64_fp_save(struct arm64_fp_regs *fp);
void arm64_fp_restore(const struct arm64_fp_regs *fp);
void arm64_secondary_entry(void);
extern char __image_start[], __image_end[];

#endif /* __ASSEMBLER__ */
#endif /* ARM64_CPU_H */
