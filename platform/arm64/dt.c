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

#define DT_DEPTH_MAX 16

/** The properties of one node that matter here, gathered in one pass. */
struct dt_props {
	const char *device_type, *compatible, *method;
	int compatible_len;
	const fdt32_t *reg, *interrupts;
	int reg_len, interrupts_len;
	int address_cells, size_cells; /**< for this node's children */
};

static bool dt_streq(const char *a, const char *b)
{
	while (*a != 0 && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/** Read a cells-wide big-endian number (0 to 2 cells) and advance. */
static u64 dt_read_cells(const fdt32_t **p, int cells)
{
	u64 v = 0;
	for (int i = 0; i < cells; i++) {
		v = (v << 32) | fdt32_ld(*p);
		(*p)++;
	}
	return v;
}

/**
 * One property (offset: its FDT_PROP tag, which fdt_next_tag has bounds
 * checked, value length included) into the node's gathered props.
 */
static void dt_prop(const void *fdt, int offset, struct dt_props *pr)
{
	const struct fdt_property *prop = fdt_offset_ptr(fdt, offset, sizeof(*prop));
	if (prop == NULL)
		return;
	int len = (int)fdt32_ld(&prop->len);
	const char *name = fdt_string(fdt, (int)fdt32_ld(&prop->nameoff));
	const void *v = prop->data;
	if (name == NULL || len < 0)
		return;
	bool is_string = len > 0 && ((const char *)v)[len - 1] == 0;
	if (dt_streq(name, "device_type") && is_string) {
		pr->device_type = v;
	} else if (dt_streq(name, "compatible")) {
		pr->compatible = v;
		pr->compatible_len = len;
	} else if (dt_streq(name, "reg")) {
		pr->reg = v;
		pr->reg_len = len;
	} else if (dt_streq(name, "interrupts")) {
		pr->interrupts = v;
		pr->interrupts_len = len;
	} else if (dt_streq(name, "method") && is_string) {
		pr->method = v;
	} else if (dt_streq(name, "#address-cells") && len == 4) {
		pr->address_cells = (int)fdt32_ld(v);
	} else if (dt_streq(name, "#size-cells") && len == 4) {
		pr->size_cells = (int)fdt32_ld(v);
	}
}

/** The index-th (base, size) pair of reg, with the parent's cell counts. */
static bool dt_reg(const struct dt_props *pr, const struct dt_props *parent, int index, u64 *base,
                   u64 *size)
{
	int ac = parent->address_cells, sc = parent->size_cells;
	const fdt32_t *p = pr->reg;

	if (p == NULL || ac < 1 || ac > 2 || sc < 0 || sc > 2)
		return false;
	if (pr->reg_len < (index + 1) * (ac + sc) * 4)
		return false;
	p += index * (ac + sc);
	*base = dt_read_cells(&p, ac);
	*size = dt_read_cells(&p, sc);
	return true;
}

static bool dt_compatible(const struct dt_props *pr, const char *want)
{
	return pr->compatible != NULL &&
	       fdt_stringlist_contains(pr->compatible, pr->compatible_len, want);
}

/** One node: whatever of interest it is. */
static void dt_node(const struct dt_props *pr, const struct dt_props *parent, struct arm64_hw *hw)
{
	u64 base, size;

	if (pr->device_type != NULL && dt_streq(pr->device_type, "memory")) {
		for (int i = 0; dt_reg(pr, parent, i, &base, &size); i++) {
			if (hw->mem_count < ARM64_MEM_MAX && size != 0)
				hw->mem[hw->mem_count++] = (struct boot_mem_range){ base, size };
		}
	} else if (pr->device_type != NULL && dt_streq(pr->device_type, "cpu")) {
		int ac = parent->address_cells;
		const fdt32_t *reg = pr->reg;
		if (reg != NULL && ac >= 1 && ac <= 2 && pr->reg_len >= ac * 4) {
			hw->cpu_total++;
			if (hw->cpu_count < ARM64_CPU_MAX)
				hw->cpu_mpidr[hw->cpu_count++] = dt_read_cells(&reg, ac);
		}
	}
	if (pr->compatible == NULL)
		return;
	if (dt_compatible(pr, "arm,gic-v3")) {
		dt_reg(pr, parent, 0, &hw->gicd, &hw->gicd_size);
		dt_reg(pr, parent, 1, &hw->gicr, &hw->gicr_size);
		/* <1 n flags>: the maintenance interrupt is PPI n (INTID 16 + n). */
		if (pr->interrupts != NULL && pr->interrupts_len >= 12 &&
		    fdt32_ld(&pr->interrupts[0]) == 1)
			hw->maint_intid = 16u + fdt32_ld(&pr->interrupts[1]);
	} else if (dt_compatible(pr, "arm,gic-v3-its")) {
		dt_reg(pr, parent, 0, &hw->gits, &size);
	} else if (dt_compatible(pr, "arm,pl011")) {
		if (hw->uart == 0) {
			dt_reg(pr, parent, 0, &hw->uart, &size);
			/* <0 n flags>: SPI n is INTID 32 + n. */
			if (pr->interrupts != NULL && pr->interrupts_len >= 12 &&
			    fdt32_ld(&pr->interrupts[0]) == 0)
				hw->uart_intid = 32u + fdt32_ld(&pr->interrupts[1]);
		}
	} else if (dt_compatible(pr, "arm,armv8-timer")) {
		/* Each interrupt is <type number flags>; type 1 = PPI. */
		for (u32 i = 0; i < 4u; i++) {
			if (pr->interrupts != NULL && pr->interrupts_len >= (int)((i + 1) * 12) &&
			    fdt32_ld(&pr->interrupts[i * 3]) == 1)
				hw->timer_ppi[i] = fdt32_ld(&pr->interrupts[i * 3 + 1]);
		}
	} else if (dt_compatible(pr, "arm,psci-0.2") || dt_compatible(pr, "arm,psci")) {
		hw->psci_smc = pr->method != NULL && dt_streq(pr->method, "smc");
	}
}

/** A node's properties are complete: act on it (the root has no parent). */
static void dt_done(struct dt_props *levels, int depth, struct arm64_hw *hw)
{
	if (depth > 0 && depth < DT_DEPTH_MAX)
		dt_node(&levels[depth], &levels[depth - 1], hw);
}

/**
 * Parse the firmware DTB in one pass over its structure block with
 * fdt_next_tag: a node's properties come before its subnodes, so a node is
 * complete at its first child or its end. libfdt's lookups by name
 * (fdt_getprop, fdt_parent_offset) and its node iterator rescan properties
 * each time; QEMU's DTB has 60 nodes and 300 properties. The parents'
 * #address-cells/#size-cells are kept per depth. False if dtb is not a
 * valid device tree.
 */
bool arm64_dt_parse(const void *dtb, struct arm64_hw *hw)
{
	/* Defaults from the Arm Base System Architecture: PPIs 13, 14, 11, 10. */
	static const u32 timer_defaults[4] = { 13, 14, 11, 10 };
	static struct dt_props levels[DT_DEPTH_MAX];
	int depth = -1, offset = 0, next = 0;
	bool open = false; /* levels[depth] still gathering properties */

	if (dtb == NULL || fdt_check_header(dtb) != 0)
		return false;
	hw->dtb = dtb;
	hw->dtb_size = fdt_totalsize(dtb);
	for (u32 i = 0; i < 4u; i++)
		hw->timer_ppi[i] = timer_defaults[i];
	hw->maint_intid = ARM64_GIC_MAINT_DEFAULT;
	for (;;) {
		u32 tag = fdt_next_tag(dtb, offset, &next);
		if (tag == FDT_END)
			return next >= 0 && depth == -1;
		/* Always forward: libfdt 1.6.1 can step back on a huge property length. */
		if (next <= offset)
			return false;
		if (tag == FDT_BEGIN_NODE) {
			if (open)
				dt_done(levels, depth, hw);
			depth++;
			open = depth < DT_DEPTH_MAX;
			if (open)
				levels[depth] =
				        (struct dt_props){ .address_cells = 2, .size_cells = 1 };
		} else if (tag == FDT_PROP && open) {
			dt_prop(dtb, offset, &levels[depth]);
		} else if (tag == FDT_END_NODE) {
			if (open)
				dt_done(levels, depth, hw);
			open = false;
			depth--;
		}
		offset = next;
	}
}

/** The banner lines about the hardware, as "[hyp] ..." lines. */
void arm64_dt_report(const struct arm64_hw *hw)
{
	kprintf("[hyp] dtb: 0x%lx, %lu bytes\n", (u64)(uintptr_t)hw->dtb, hw->dtb_size);
	for (u32 i = 0; i < hw->mem_count; i++)
		kprintf("[hyp] memory: 0x%lx-0x%lx (%lu MiB)\n", hw->mem[i].base,
		        hw->mem[i].base + hw->mem[i].size - 1, hw->mem[i].size >> 20);
	if (hw->cpu_total > hw->cpu_count)
		kprintf("[hyp] cpus: %u (the kernel uses the first %u)\n", hw->cpu_total,
		        hw->cpu_count);
	else
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
