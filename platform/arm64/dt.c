/**
 * What the firmware's device tree (the DTB QEMU passes in x0) says about
 * the machine: RAM, CPUs (their MPIDRs, in DTB order), the GICv3
 * distributor, redistributors and ITS, the PL011 UART, the architected
 * timer's interrupts and the PSCI conduit. Read once on the boot CPU with
 * libfdt, before the kernel core starts.
 *
 * Bindings used (Linux Documentation/devicetree/bindings): memory
 * (device_type = "memory", reg), cpus/cpu@N (reg = MPIDR affinity bits),
 * arm,gic-v3 (reg = GICD, GICR; child arm,gic-v3-its), arm,pl011,
 * arm,armv8-timer (interrupts = secure, non-secure, virtual, hypervisor
 * PPIs), arm,psci-* (method).
 */
#include <arm64/cpu.h>
#include <kernel/print.h>
#include <libfdt.h>

/** Read a cells-wide big-endian number (1 or 2 cells) and advance. */
static u64 dt_read_cells(const fdt32_t **p, int cells)
{
	u64 v = 0;
	for (int i = 0; i < cells; i++) {
		v = (v << 32) | fdt32_ld(*p);
		(*p)++;
	}
	return v;
}

/** The index-th (base, size) pair of a node's reg, using the parent's cell counts. */
static bool dt_reg(const void *fdt, int node, int index, u64 *base, u64 *size)
{
	int parent = fdt_parent_offset(fdt, node);
	int ac = fdt_address_cells(fdt, parent);
	int sc = fdt_size_cells(fdt, parent);
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, "reg", &len);

	if (p == NULL || ac < 1 || ac > 2 || sc < 0 || sc > 2)
		return false;
	if (len < (index + 1) * (ac + sc) * 4)
		return false;
	p += index * (ac + sc);
	*base = dt_read_cells(&p, ac);
	*size = dt_read_cells(&p, sc);
	return true;
}

static void dt_memory(const void *fdt, struct arm64_hw *hw)
{
	int node = fdt_node_offset_by_prop_value(fdt, -1, "device_type", "memory", sizeof("memory"));

	while (node >= 0) {
		u64 base, size;
		for (int i = 0; dt_reg(fdt, node, i, &base, &size); i++) {
			if (hw->mem_count < ARM64_MEM_MAX && size != 0)
				hw->mem[hw->mem_count++] = (struct boot_mem_range){ base, size };
		}
		node = fdt_node_offset_by_prop_value(fdt, node, "device_type", "memory", sizeof("memory"));
	}
}

static void dt_cpus(const void *fdt, struct arm64_hw *hw)
{
	int cpus = fdt_path_offset(fdt, "/cpus");
	int node;

	if (cpus < 0)
		return;
	int ac = fdt_address_cells(fdt, cpus);
	fdt_for_each_subnode(node, fdt, cpus) {
		int len;
		const char *type = fdt_getprop(fdt, node, "device_type", &len);
		const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);
		if (type == NULL || reg == NULL || len < ac * 4 || ac < 1 || ac > 2)
			continue;
		if (len < 4 || type[0] != 'c' || type[1] != 'p' || type[2] != 'u' || type[3] != 0)
			continue;
		if (hw->cpu_count < ARM64_CPU_MAX)
			hw->cpu_mpidr[hw->cpu_count++] = dt_read_cells(&reg, ac);
	}
}

static void dt_gic(const void *fdt, struct arm64_hw *hw)
{
	int node = fdt_node_offset_by_compatible(fdt, -1, "arm,gic-v3");

	if (node < 0)
		return;
	dt_reg(fdt, node, 0, &hw->gicd, &hw->gicd_size);
	dt_reg(fdt, node, 1, &hw->gicr, &hw->gicr_size);
	int its = fdt_node_offset_by_compatible(fdt, -1, "arm,gic-v3-its");
	u64 size;
	if (its >= 0)
		dt_reg(fdt, its, 0, &hw->gits, &size);
}

static void dt_timer(const void *fdt, struct arm64_hw *hw)
{
	int node = fdt_node_offset_by_compatible(fdt, -1, "arm,armv8-timer");
	int len;
	const fdt32_t *irq = node >= 0 ? fdt_getprop(fdt, node, "interrupts", &len) : NULL;

	/* Defaults from the Arm Base System Architecture: PPIs 13, 14, 11, 10. */
	static const u32 defaults[4] = { 13, 14, 11, 10 };
	for (u32 i = 0; i < 4u; i++) {
		/* Each interrupt is <type number flags>; type 1 = PPI. */
		if (irq != NULL && len >= (int)((i + 1) * 12) && fdt32_ld(&irq[i * 3]) == 1)
			hw->timer_ppi[i] = fdt32_ld(&irq[i * 3 + 1]);
		else
			hw->timer_ppi[i] = defaults[i];
	}
}

/** Parse the firmware DTB; false if it is not a valid device tree. */
bool arm64_dt_parse(const void *dtb, struct arm64_hw *hw)
{
	u64 size;

	if (dtb == NULL || fdt_check_header(dtb) != 0)
		return false;
	hw->dtb = dtb;
	hw->dtb_size = fdt_totalsize(dtb);
	dt_memory(dtb, hw);
	dt_cpus(dtb, hw);
	dt_gic(dtb, hw);
	dt_timer(dtb, hw);
	int uart = fdt_node_offset_by_compatible(dtb, -1, "arm,pl011");
	if (uart >= 0)
		dt_reg(dtb, uart, 0, &hw->uart, &size);
	int psci = fdt_node_offset_by_compatible(dtb, -1, "arm,psci-0.2");
	if (psci < 0)
		psci = fdt_node_offset_by_compatible(dtb, -1, "arm,psci");
	int len;
	const char *method = psci >= 0 ? fdt_getprop(dtb, psci, "method", &len) : NULL;
	hw->psci_smc = method != NULL && len >= 4 && method[0] == 's' && method[1] == 'm' &&
		       method[2] == 'c' && method[3] == 0;
	return true;
}

/** The banner lines about the hardware, as "[hyp] ..." lines. */
void arm64_dt_report(const struct arm64_hw *hw)
{
	kprintf("[hyp] dtb: 0x%lx, %lu bytes\n", (u64)(uintptr_t)hw->dtb, hw->dtb_size);
	for (u32 i = 0; i < hw->mem_count; i++)
		kprintf("[hyp] memory: 0x%lx-0x%lx (%lu MiB)\n", hw->mem[i].base,
			hw->mem[i].base + hw->mem[i].size - 1, hw->mem[i].size >> 20);
	kprintf("[hyp] cpus: %u\n", hw->cpu_count);
	for (u32 i = 0; i < hw->cpu_count; i++)
		kprintf("[hyp] cpu %u: mpidr 0x%lx\n", i, hw->cpu_mpidr[i]);
	kprintf("[hyp] gic-v3: distributor 0x%lx, redistributors 0x%lx (0x%lx bytes)\n", hw->gicd,
		hw->gicr, hw->gicr_size);
	if (hw->gits != 0)
		kprintf("[hyp] gic-v3 its: 0x%lx\n", hw->gits);
	else
		kprintf("[hyp] gic-v3 its: none\n");
	kprintf("[hyp] uart: pl011 at 0x%lx\n", hw->uart);
	kprintf("[hyp] timer: ppi secure %u, non-secure %u, virtual %u, hypervisor %u\n",
		hw->timer_ppi[0], hw->timer_ppi[1], hw->timer_ppi[2], hw->timer_ppi[3]);
	kprintf("[hyp] psci: %s\n", hw->psci_smc ? "smc" : "unusable (no smc method)");
}
