/**
 * Boot on arm64: from head.S (MMU on, BSS clear, EL2 controls set) to the
 * kernel core.
 *
 *   boot CPU                                 secondary CPU n
 *   --------                                 ---------------
 *   parse the firmware DTB, banner
 *   GIC distributor, this CPU's GIC/timer
 *   PSCI CPU_ON for every other DTB CPU ---> head.S -> arm64_secondary_main
 *   wait until they are online               GIC/timer, "cpu n online"
 *   find the boot package, fill boot_info    wait for kernel_boot to finish
 *   kernel_boot() ---------------------------> kernel_cpu_start(n)
 *   run the vCPU it returned                 run the vCPU it returned
 *
 * CPU indexes follow DTB order, with the boot CPU moved to index 0 if the
 * firmware booted another one (QEMU boots the first).
 */
#include <arch/cpu.h>
#include <arm64/cpu.h>
#include <arm64/virq.h>
#include <arm64/sysreg.h>
#include <kernel/boot.h>
#include <kernel/kernel.h>
#include <kernel/package.h>
#include <kernel/print.h>
#include <plat/cpu.h>
#include <plat/power.h>
#include <plat/timer.h>

#define MPIDR_AFF_MASK UINT64_C(0xff00ffffff)
/** How long the boot CPU waits for the secondaries (virtual time). */
#define SECONDARY_WAIT_NS UINT64_C(1000000000)

struct arm64_hw arm64_hw;
static struct boot_info boot_info;
static u32 cpus_online;
static u32 kernel_started;

/**
 * Stop the boot with a message, before anything has run; the last line is
 * the one the test runner reads the status from, as for the core's stops.
 */
static _Noreturn void setup_fail(const char *why)
{
	kprintf("[hyp] boot failed: %s\n", why);
	kprintf("[hyp] system off: status=1\n");
	plat_system_off(1);
}

/** Put the boot CPU at index 0 so that "cpu 0" is always the one that boots. */
static void setup_order_cpus(u64 self)
{
	for (u32 i = 1; i < arm64_hw.cpu_count; i++) {
		if (arm64_hw.cpu_mpidr[i] == self) {
			arm64_hw.cpu_mpidr[i] = arm64_hw.cpu_mpidr[0];
			arm64_hw.cpu_mpidr[0] = self;
		}
	}
}

/** Bring every other CPU up over PSCI and wait (bounded) until each is online. */
static void setup_secondaries(void)
{
	u64 entry = (u64)(uintptr_t)arm64_secondary_entry;
	u32 started = 1;

	for (u32 i = 1; i < arm64_hw.cpu_count; i++) {
		int64_t r = arm64_psci_cpu_on(arm64_hw.cpu_mpidr[i], entry, i);
		if (r == 0)
			started++;
		else
			kprintf("[hyp] cpu %u: PSCI CPU_ON failed (%ld)\n", i, (long)r);
	}
	u64 until = plat_timer_now_ns() + SECONDARY_WAIT_NS;
	while (__atomic_load_n(&cpus_online, __ATOMIC_ACQUIRE) < started &&
	       plat_timer_now_ns() < until)
		__asm__ volatile("wfe");
	if (__atomic_load_n(&cpus_online, __ATOMIC_ACQUIRE) < started)
		kprintf("[hyp] only %u of %u cpus came online\n", cpus_online, started);
}

/** The bring-up every CPU does for itself, then announce it. */
static void setup_this_cpu(u32 index)
{
	struct arm64_cpu *cpu = &arm64_cpus[index];

	arm64_cpu_init(index, read_sysreg(mpidr_el1) & MPIDR_AFF_MASK);
	arm64_gic_init_cpu(cpu);
	arm64_timer_init_cpu();
	cpu->online = 1;
	kprintf("[hyp] cpu %u online\n", index);
	__atomic_add_fetch(&cpus_online, 1u, __ATOMIC_RELEASE);
	__asm__ volatile("sev");
}

/**
 * The boot package follows the kernel image, 4 KiB aligned (tools/pack). It
 * must end within the Image header's image_size (offset 16), which is what
 * the boot loader promised to keep free for us.
 */
static void setup_package(void)
{
	const struct package_header *h = (const void *)__image_end;
	u64 image_size = *(const u64 *)(const void *)(__image_start + 16);
	u64 room = image_size - ((u64)(uintptr_t)__image_end - (u64)(uintptr_t)__image_start);

	for (u32 i = 0; i < 8u; i++) {
		if (h->magic[i] != PACKAGE_MAGIC[i])
			setup_fail(
			        "no boot package after the kernel image (build it with tools/pack)");
	}
	if (h->total_size < sizeof(*h) || h->total_size > room)
		setup_fail("boot package size is out of range");
	u64 pkg = (u64)(uintptr_t)h, dtb = (u64)(uintptr_t)arm64_hw.dtb;
	if (pkg < dtb + arm64_hw.dtb_size && dtb < pkg + h->total_size)
		setup_fail("the boot loader put the device tree over the boot package");
	boot_info.package = h;
	boot_info.package_size = h->total_size;
}

/** CPUs the manifest does not use that have switched themselves off (plat_cpu_park). */
static u32 cpus_parked;

/**
 * A CPU the manifest does not use: its timer off, counted, then PSCI CPU_OFF,
 * so that it never wakes (and under QEMU's round robin never takes a turn
 * from the CPUs in use). If the firmware refuses, it waits in WFI with
 * interrupts masked and nothing armed, acknowledging whatever ends the wait.
 */
_Noreturn void plat_cpu_park(void)
{
	write_sysreg(cnthp_ctl_el2, 0);
	isb();
	__atomic_add_fetch(&cpus_parked, 1u, __ATOMIC_RELEASE);
	arm64_psci_cpu_off();
	for (;;) {
		arch_wait_for_interrupt();
		u32 intid = arm64_gic_ack();
		if (intid < 1020u)
			arm64_gic_eoi(intid);
	}
}

/**
 * Before the first vCPU: wait (bounded) until every CPU the manifest does not
 * use has switched itself off, so that none is still about when partitions run.
 */
static void setup_wait_parked(void)
{
	u32 unused = 0;
	for (u32 i = 1; i < boot_info.cpu_count; i++)
		unused += boot_cpu_unused(i) ? 1u : 0u;
	u64 until = plat_timer_now_ns() + SECONDARY_WAIT_NS;
	while (__atomic_load_n(&cpus_parked, __ATOMIC_ACQUIRE) < unused &&
	       plat_timer_now_ns() < until)
		arch_cpu_relax(); /* YIELD: under QEMU's round robin, their turn */
}

/** RAM from the DTB; reserved: the kernel image with its package, and the DTB. */
static void setup_boot_info(void)
{
	const struct arm64_hw *hw = &arm64_hw;
	u64 kernel_base = (u64)(uintptr_t)__image_start;
	u64 kernel_end = (u64)(uintptr_t)__image_end + boot_info.package_size;

	boot_info.cpu_count = __atomic_load_n(&cpus_online, __ATOMIC_ACQUIRE);
	for (u32 i = 0; i < hw->mem_count && i < BOOT_RANGE_MAX; i++) {
		if (!arm64_mmu_is_normal(hw->mem[i].base, hw->mem[i].size)) {
			kprintf("[hyp] memory 0x%lx: outside the kernel's RAM map, ignored\n",
			        hw->mem[i].base);
			continue;
		}
		boot_info.ram[boot_info.ram_count++] = hw->mem[i];
	}
	boot_info.reserved[0] =
	        (struct boot_mem_range){ kernel_base,
		                         ((kernel_end - kernel_base) + PAGE_MASK) & ~PAGE_MASK };
	u64 dtb = (u64)(uintptr_t)hw->dtb & ~PAGE_MASK;
	u64 dtb_end = ((u64)(uintptr_t)hw->dtb + hw->dtb_size + PAGE_MASK) & ~PAGE_MASK;
	boot_info.reserved[1] = (struct boot_mem_range){ dtb, dtb_end - dtb };
	boot_info.reserved_count = 2;
	boot_info.unsupported_types = 1u << PARTITION_PVH; /* PVH entry is x86 only */
	const struct arm64_keep_hw keep = {
		.gicd = hw->gicd,
		.gicd_size = hw->gicd_size,
		.gicr = hw->gicr,
		.gicr_size = hw->gicr_size,
		.gits = hw->gits,
		.uart = hw->uart,
		.uart_intid = hw->uart_intid,
		.maint_intid = hw->maint_intid,
		.timer_ppi = { hw->timer_ppi[0], hw->timer_ppi[1], hw->timer_ppi[2],
		               hw->timer_ppi[3] },
	};
	arm64_keep(&boot_info, &keep);
	/*
	 * The manifest keeps every IPA below 2^40 (kernel/manifest/manifest_check.c), so
	 * any IPA size from 40 to 48 bits covers it.
	 */
	u32 ipa_bits = arm64_ipa_bits();
	kprintf("[hyp] stage 2: %u-bit guest-physical addresses\n", ipa_bits);
	if (ipa_bits == 0)
		setup_fail("stage 2 needs a physical address size of at least 40 bits");
	kprintf("[hyp] reserved: kernel+package 0x%lx-0x%lx, dtb 0x%lx-0x%lx\n", kernel_base,
	        kernel_base + boot_info.reserved[0].size - 1, dtb, dtb_end - 1);
}

/**
 * Called once the boot CPU is set up, before the secondaries start. Empty
 * in the kernel; the platform's panic test links a kernel whose
 * tests/panic_hook.c replaces it with a deliberate EL2 fault (a link-time
 * choice, no #ifdef).
 */
__attribute__((weak)) void arm64_boot_hook(void)
{
}

/** The boot CPU, from head.S: MMU on, BSS clear, EL2 controls set. */
_Noreturn void arm64_boot_main(const void *dtb)
{
	u64 self = read_sysreg(mpidr_el1) & MPIDR_AFF_MASK;

	kprintf("[hyp] sephyp %s arm64\n", KERNEL_VERSION);
	kprintf("[hyp] running at EL%lu\n", (read_sysreg(CurrentEL) >> 2) & 3u);
	if (!arm64_dt_parse(dtb, &arm64_hw))
		setup_fail("no valid device tree in x0");
	arm64_uart_init(arm64_hw.uart);
	if (arm64_hw.cpu_count == 0) {
		arm64_hw.cpu_mpidr[0] = self;
		arm64_hw.cpu_count = 1;
	}
	setup_order_cpus(self);
	arm64_dt_report(&arm64_hw);
	if (arm64_hw.gicd == 0 || arm64_hw.gicr == 0)
		setup_fail("no GICv3 in the device tree");
	if (!arm64_hw.psci_smc && arm64_hw.cpu_count > 1) {
		kprintf("[hyp] no PSCI over SMC: using cpu 0 only\n");
		arm64_hw.cpu_count = 1;
	}
	arm64_has_sme = ((read_sysreg(id_aa64pfr1_el1) >> 24) & 0xfu) != 0;
	arm64_has_ras = ((read_sysreg(id_aa64pfr0_el1) >> 28) & 0xfu) != 0;
	/* ICH_VTR_EL2.PREbits + 1 preemption bits: 5 -> 1 APR, 6 -> 2, 7 -> 4. */
	u32 prebits = (u32)((read_sysreg(S3_4_C12_C11_1) >> 26) & 7u) + 1u;
	arm64_ich_apr_count = prebits >= 7u ? 4u : prebits == 6u ? 2u : 1u;
	arm64_virq_init();
	arm64_timer_init();
	arm64_gic_init();
	setup_this_cpu(0);
	if (arm64_hw.uart_intid != 0) {
		/* Console input by interrupt, on CPU 0 (exit.c exit_irq). */
		arm64_gic_route_spi(arm64_hw.uart_intid, arm64_hw.cpu_mpidr[0]);
		arm64_uart_rx_irq_enable();
	}
	arm64_boot_hook();
	setup_secondaries();
	setup_package();
	setup_boot_info();

	struct vcpu *v = kernel_boot(&boot_info);
	__atomic_store_n(&kernel_started, 1u, __ATOMIC_RELEASE);
	__asm__ volatile("sev");
	setup_wait_parked();
	arm64_run(v);
}

/** A secondary CPU, from head.S after PSCI CPU_ON: index = the context we passed. */
_Noreturn void arm64_secondary_main(u64 index)
{
	setup_this_cpu((u32)index);
	while (__atomic_load_n(&kernel_started, __ATOMIC_ACQUIRE) == 0)
		__asm__ volatile("wfe");
	arm64_core_lock_wait();
	arm64_run(kernel_cpu_start((u32)index));
}
