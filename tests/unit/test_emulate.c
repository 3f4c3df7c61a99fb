/** Emulated ranges (kernel/emulate.c) and HC_GUEST_IRQ on the fake platform. */
#include "system.h"
#include "tap.h"
#include <kernel/partition_ops.h>
#include <plat/memory.h>
#include <string.h>

#define RANGE 0x9000000u
#define BADGE 0x77u
/** A port range (x86 `ports`): a 16550's eight registers at COM1. */
#define PORTS 0x3f8u

static u32 g, s, ep;

/** A guest (VM, 1 vCPU) and its emulator on one CPU; the emulator waits on the endpoint. */
static void setup(bool inject_right)
{
	tsys_reset(1);
	s = tsys_partition("emul", 1);
	g = tsys_partition("guest", 1);
	kernel.cfg.partitions[g].type = PARTITION_VM;
	ep = tsys_endpoint();
	tsys_cap(s, 0, CAP_ENDPOINT, ep, RIGHT_EP_RECV, 0);
	tsys_cap(s, 1, CAP_GUEST, g, RIGHT_GUEST_EMULATE | (inject_right ? RIGHT_GUEST_INJECT : 0),
	         BADGE);
	tsys_cap(s, 2, CAP_GUEST, g, RIGHT_GUEST_MONITOR, 0);
	kernel.cfg.emulated[0] = (struct cfg_emulated){
		.guest = g, .ipa = RANGE, .size = 0x1000, .service = s, .endpoint = ep
	};
	kernel.cfg.emulated[1] = (struct cfg_emulated){ .guest = g,
		                                        .kind = CFG_EMULATED_PORTS,
		                                        .ipa = PORTS,
		                                        .size = 8,
		                                        .service = s,
		                                        .endpoint = ep };
	kernel.cfg.emulated_count = 2;
	OK(tsys_boot() == tsys_vcpu(s, 0), "emul: the emulator runs first");
	OK(hc(tsys_vcpu(s, 0), HC_RECV, 0, 0, 0) == tsys_vcpu(g, 0),
	   "emul: it waits, the guest runs");
	memset(&fake_mmio, 0, sizeof(fake_mmio));
}

static struct vcpu *access(struct vcpu *v, u64 address, u32 size, bool write, u64 value)
{
	struct trap t = { .kind = TRAP_MMIO,
		          .address = address,
		          .size = size,
		          .value = value,
		          .access = write ? IPC_ACCESS_WRITE : IPC_ACCESS_READ,
		          .arch_info = 0xa5 };
	return kernel_trap(v, &t);
}

/** An x86 IN (write false) or OUT of size bytes at port. */
static struct vcpu *port_access(struct vcpu *v, u64 port, u32 size, bool write, u64 value)
{
	struct trap t;
	trap_init(&t, TRAP_MMIO, 0xabcd, "port I/O");
	t.address = port;
	t.size = size;
	t.value = value;
	t.access = write ? IPC_ACCESS_WRITE : IPC_ACCESS_READ;
	t.arch_info = 0x5a;
	t.port = true;
	return kernel_trap(v, &t);
}

static struct vcpu *answer(struct vcpu *v, u64 status, u64 value)
{
	memset(v->arch.regs, 0, sizeof(v->arch.regs));
	v->arch.regs[0] = HC_REPLY_RECV;
	v->arch.regs[IPC_REG_CAP] = 0;
	v->arch.regs[IPC_REG_WORD0] = status;
	v->arch.regs[IPC_REG_WORD0 + 1] = value;
	struct trap t = { .kind = TRAP_HYPERCALL };
	return kernel_trap(v, &t);
}

static void test_read_write(void)
{
	setup(true);
	struct vcpu *vg = tsys_vcpu(g, 0), *vs = tsys_vcpu(s, 0);
	u64 pc = vg->arch.pc;
	OK(access(vg, RANGE + 0x18, 4, false, 0) == vs,
	   "emul: a load in the range goes to the emulator");
	EQ(vg->state, VCPU_BLOCKED_FAULT, "emul: the guest waits for the answer");
	EQ(reg(vs, IPC_REG_LABEL), IPC_LABEL_MMIO, "emul: label MMIO");
	EQ(reg(vs, IPC_REG_WORD0), RANGE + 0x18, "emul: w0 the address");
	EQ(reg(vs, IPC_REG_WORD0 + 1), 4u, "emul: w1 the size, no write bit");
	EQ(reg(vs, IPC_REG_WORD0 + 3) & IPC_MMIO_VCPU_MASK, 0u, "emul: w3 the vCPU index");
	EQ(reg(vs, IPC_REG_WORD0 + 3) >> IPC_MMIO_SERIAL_SHIFT, 1u,
	   "emul: and the serial number of its first access");
	EQ(reg(vs, IPC_REG_WORD0 + 4), 0x18u, "emul: w4 the offset in the range");
	EQ(reg(vs, IPC_REG_WORD0 + 5), 0u, "emul: w5 the range's index");
	EQ(reg(vs, IPC_REG_CAP), BADGE, "emul: the badge of the emulator's guest capability");
	OK(answer(vs, IPC_MMIO_DONE, 0x90) == vg, "emul: the answer runs the guest at once");
	OK(fake_mmio.completions == 1 && fake_mmio.value == 0x90 && fake_mmio.size == 4 &&
	           !fake_mmio.write && fake_mmio.arch_info == 0xa5,
	   "emul: the load completes with the emulator's value and the platform's arch_info");
	EQ(vg->arch.pc, pc + 4, "emul: past the instruction");
	EQ(vs->state, VCPU_BLOCKED_RECV, "emul: the emulator waits again");

	OK(access(vg, RANGE + 0x0, 1, true, 0x41) == vs, "emul: a store goes there too");
	EQ(reg(vs, IPC_REG_WORD0 + 1), 1u | IPC_MMIO_WRITE, "emul: w1 size 1 with the write bit");
	EQ(reg(vs, IPC_REG_WORD0 + 2), 0x41u, "emul: w2 the value stored");
	EQ(reg(vs, IPC_REG_WORD0 + 3) >> IPC_MMIO_SERIAL_SHIFT, 2u,
	   "emul: the vCPU's next access has the next serial number");
	answer(vs, IPC_MMIO_DONE, 0xdead);
	OK(fake_mmio.completions == 2 && fake_mmio.write, "emul: the store completes");

	access(vg, RANGE + 0x8, 8, false, 0);
	answer(vs, IPC_MMIO_ABORT, 0);
	OK(fake_mmio.aborts == 1 && fake_mmio.address == RANGE + 0x8,
	   "emul: an ABORT answer gives the guest a bus error at the address");
	EQ(vg->state, VCPU_RUNNING, "emul: and it runs on");
	access(vg, RANGE + 0x8, 4, false, 0);
	answer(vs, 0x1234, 0);
	EQ(fake_mmio.aborts, 2u, "emul: a garbage answer is an abort too, never kernel state");
	OK(!kernel.partitions[g].stopped && !kernel.partitions[s].stopped,
	   "emul: both partitions run");
}

static void test_outside(void)
{
	setup(true);
	struct vcpu *vg = tsys_vcpu(g, 0);
	OK(FAKE_EXPECT_EXIT(access(vg, RANGE + 0xffe, 4, false, 0)),
	   "emul: (the guest stops, the emulator waits: nothing left, system off)");
	OK(kernel.partitions[g].stopped, "emul: an access running past the range's end is a fault");
	OK(strstr(tsys_console(), "stage-2 fault at 0x9000ffe") != NULL, "emul: reported as one");
	setup(true);
	vg = tsys_vcpu(g, 0);
	OK(FAKE_EXPECT_EXIT(access(vg, RANGE + 0x1000, 4, true, 1)), "emul: (system off again)");
	OK(kernel.partitions[g].stopped, "emul: an access outside every range is a fault");
	OK(fake_mmio.completions == 0 && fake_mmio.aborts == 0, "emul: nothing was completed");
}

static void test_emulator_stops(void)
{
	setup(true);
	struct vcpu *vg = tsys_vcpu(g, 0), *vs = tsys_vcpu(s, 0);
	access(vg, RANGE, 4, false, 0);
	partition_stop(vs->part, "test", false);
	EQ(fake_mmio.aborts, 1u,
	   "emul: the emulator stopping mid-access leaves the guest a bus error");
	EQ(vg->state, VCPU_READY, "emul: and the guest runnable");
	OK(!kernel.partitions[g].stopped, "emul: the guest is not stopped with it");
	OK(kernel_idle(0) == vg, "emul: the guest runs again");
	OK(FAKE_EXPECT_EXIT(access(vg, RANGE, 4, false, 0)), "emul: (then nothing is left)");
	OK(kernel.partitions[g].stopped, "emul: a later access to its range is a fault");
	OK(strstr(tsys_console(), "emulator stopped") != NULL, "emul: reported as such");
}

static void test_ports(void)
{
	setup(true);
	struct vcpu *vg = tsys_vcpu(g, 0), *vs = tsys_vcpu(s, 0);
	OK(kernel.partitions[g].emul_count == 1 &&
	           kernel.emul_mmio[kernel.partitions[g].emul_first].index == 0,
	   "ports: the emulation path's run holds the MMIO range, not the port range");
	OK(port_access(vg, PORTS + 5, 1, false, 0) == vs,
	   "ports: an IN from a port in the range goes to the emulator");
	EQ(reg(vs, IPC_REG_WORD0), PORTS + 5, "ports: w0 the port");
	EQ(reg(vs, IPC_REG_WORD0 + 1), 1u | IPC_MMIO_PORT, "ports: w1 the size and the port bit");
	EQ(reg(vs, IPC_REG_WORD0 + 4), 5u, "ports: w4 the offset from the range's first port");
	EQ(reg(vs, IPC_REG_WORD0 + 5), 1u, "ports: w5 the port range's index");
	answer(vs, IPC_MMIO_DONE, 0x60);
	OK(fake_mmio.completions == 1 && fake_mmio.value == 0x60 && fake_mmio.arch_info == 0x5a,
	   "ports: the IN completes with the emulator's value");
	OK(port_access(vg, PORTS, 2, true, 0x1234) == vs, "ports: an OUT goes there too");
	EQ(reg(vs, IPC_REG_WORD0 + 1), 2u | IPC_MMIO_PORT | IPC_MMIO_WRITE,
	   "ports: w1 with the write bit");
	EQ(reg(vs, IPC_REG_WORD0 + 2), 0x1234u, "ports: w2 the value written");
	answer(vs, IPC_MMIO_DONE, 0);
	OK(access(vg, RANGE, 4, false, 0) == vs, "ports: MMIO still reaches the MMIO range");
	EQ(reg(vs, IPC_REG_WORD0 + 1), 4u, "ports: without the port bit");
	answer(vs, IPC_MMIO_DONE, 0);

	OK(FAKE_EXPECT_EXIT(access(vg, PORTS + 5, 1, false, 0)),
	   "ports: (the guest stops: nothing left)");
	OK(kernel.partitions[g].stopped, "ports: an MMIO access at a port's number is no port");
	OK(strstr(tsys_console(), "stage-2 fault at 0x3fd") != NULL, "ports: a memory fault");

	setup(true);
	vg = tsys_vcpu(g, 0);
	OK(FAKE_EXPECT_EXIT(port_access(vg, RANGE, 1, false, 0)), "ports: (system off again)");
	OK(kernel.partitions[g].stopped, "ports: a port at an MMIO range's address is no MMIO");
	OK(strstr(tsys_console(), "port I/O, pc") != NULL && strstr(tsys_console(), "0xabcd"),
	   "ports: reported as the platform's port fault, with its syndrome");

	setup(true);
	vg = tsys_vcpu(g, 0);
	OK(FAKE_EXPECT_EXIT(port_access(vg, PORTS + 7, 2, true, 0)), "ports: (system off again)");
	OK(kernel.partitions[g].stopped, "ports: an access running past the port range's end");
	EQ(fake_mmio.completions, 0u, "ports: none of these was completed");
}

static struct vcpu *guest_irq(struct vcpu *v, u64 slot, u64 intid, u64 level)
{
	memset(v->arch.regs, 0, sizeof(v->arch.regs));
	v->arch.regs[0] = HC_GUEST_IRQ;
	v->arch.regs[IPC_REG_CAP] = slot;
	v->arch.regs[IPC_REG_WORD0] = intid;
	v->arch.regs[IPC_REG_WORD0 + 1] = level;
	struct trap t = { .kind = TRAP_HYPERCALL };
	return kernel_trap(v, &t);
}

static void test_guest_irq(void)
{
	tsys_reset(1);
	s = tsys_partition("emul", 1);
	g = tsys_partition("guest", 1);
	kernel.cfg.partitions[g].type = PARTITION_VM;
	tsys_cap(s, 1, CAP_GUEST, g, RIGHT_GUEST_EMULATE | RIGHT_GUEST_INJECT, BADGE);
	tsys_cap(s, 2, CAP_GUEST, g, RIGHT_GUEST_EMULATE, 0);
	struct vcpu *vg = tsys_vcpu(g, 0), *vs = tsys_vcpu(s, 0);
	OK(tsys_boot() == vs, "irq: the emulator runs first");
	OK(trap_event(vs, TRAP_TIMER, 0, 0) == vg, "irq: then the guest");
	struct trap w = { .kind = TRAP_WAIT_IRQ };
	OK(kernel_trap(vg, &w) == vs, "irq: the guest waits for an interrupt");
	u32 before = fake_injects;
	OK(guest_irq(vs, 1, 33, 1) == vs && reg(vs, 0) == STATUS_OK,
	   "irq: raising SPI 33 succeeds");
	OK(fake_injects == before + 1 && fake_inject_last_intid == 33 && fake_inject_last_level,
	   "irq: the platform's model gets it");
	EQ(vg->state, VCPU_READY, "irq: the vCPU the platform names is woken");
	guest_irq(vs, 1, 33, 0);
	OK(reg(vs, 0) == STATUS_OK && !fake_inject_last_level, "irq: lowering the line");
	guest_irq(vs, 2, 33, 1);
	EQ(reg(vs, 0), STATUS_NO_RIGHTS, "irq: a guest capability without inject is refused");
	guest_irq(vs, 5, 33, 1);
	EQ(reg(vs, 0), STATUS_INVALID_CAP, "irq: an empty slot is refused");
	guest_irq(vs, 1, 99, 1);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "irq: a line the platform refuses");
	guest_irq(vs, 1, 33, 6);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "irq: an operation other than 0..5");
	guest_irq(vs, 1, 33, IPC_GUEST_IRQ_LPI_SET);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "irq: an LPI operation on an SPI");
	guest_irq(vs, 1, UINT64_C(0x100000021), 1);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "irq: an interrupt id beyond 32 bits");
	EQ(fake_injects, before + 2, "irq: none of the refused calls reached the platform");
	partition_stop(vg->part, "test", false);
	guest_irq(vs, 1, 33, 1);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "irq: a stopped guest takes none");
}

static struct vcpu *lpi(struct vcpu *v, u64 slot, u64 vcpu, u64 intid, u64 op)
{
	memset(v->arch.regs, 0, sizeof(v->arch.regs));
	v->arch.regs[0] = HC_GUEST_IRQ;
	v->arch.regs[IPC_REG_CAP] = slot;
	v->arch.regs[IPC_REG_LABEL] = vcpu;
	v->arch.regs[IPC_REG_WORD0] = intid;
	v->arch.regs[IPC_REG_WORD0 + 1] = op;
	struct trap t = { .kind = TRAP_HYPERCALL };
	return kernel_trap(v, &t);
}

/** The LPI operations of HC_GUEST_IRQ (a virtual ITS's outputs); the fake has LPIs 8192..8255. */
static void test_guest_lpi(void)
{
	tsys_reset(1);
	s = tsys_partition("its", 1);
	g = tsys_partition("guest", 2);
	kernel.cfg.partitions[g].type = PARTITION_VM;
	tsys_cap(s, 1, CAP_GUEST, g, RIGHT_GUEST_EMULATE | RIGHT_GUEST_INJECT, BADGE);
	tsys_cap(s, 2, CAP_GUEST, g, RIGHT_GUEST_EMULATE, 0);
	struct vcpu *vs = tsys_vcpu(s, 0), *vg1 = tsys_vcpu(g, 1);
	kernel.cfg.partitions[s].vcpus[0].hard_affinity = 1;
	OK(tsys_boot() == vs, "lpi: the service runs first");
	u32 before = fake_lpi_calls;
	lpi(vs, 1, 1, 8200, IPC_GUEST_IRQ_LPI_SET);
	OK(reg(vs, 0) == STATUS_OK && reg(vs, 1) == 0, "lpi: SET on vCPU 1, not pending before");
	OK(fake_lpi_last_vcpu == 1 && fake_lpi_last_intid == 8200 &&
	           fake_lpi_last_op == IPC_GUEST_IRQ_LPI_SET,
	   "lpi: the platform gets the vCPU, the LPI and the operation");
	lpi(vs, 1, 1, 8200, IPC_GUEST_IRQ_LPI_SET);
	OK(reg(vs, 0) == STATUS_OK && reg(vs, 1) == 1, "lpi: r1 says it was pending");
	lpi(vs, 1, 0, 8200, IPC_GUEST_IRQ_LPI_CLEAR);
	OK(reg(vs, 0) == STATUS_OK && fake_lpi_last_op == IPC_GUEST_IRQ_LPI_CLEAR, "lpi: CLEAR");
	lpi(vs, 1, 0, 0, IPC_GUEST_IRQ_LPI_CONFIG);
	OK(reg(vs, 0) == STATUS_OK && fake_lpi_last_intid == 0, "lpi: CONFIG of every LPI");
	lpi(vs, 1, 1, 8201, IPC_GUEST_IRQ_LPI_MOVE);
	OK(reg(vs, 0) == STATUS_OK && fake_lpi_last_op == IPC_GUEST_IRQ_LPI_MOVE &&
	           fake_lpi_last_vcpu == 1,
	   "lpi: MOVE to vCPU 1");
	u32 ok_calls = fake_lpi_calls;
	lpi(vs, 1, 2, 8200, IPC_GUEST_IRQ_LPI_SET);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "lpi: a vCPU the guest does not have");
	lpi(vs, 1, UINT64_C(1) << 32, 8200, IPC_GUEST_IRQ_LPI_SET);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "lpi: a vCPU number beyond 32 bits");
	EQ(fake_lpi_calls, ok_calls, "lpi: the core refused those itself");
	lpi(vs, 1, 0, 8256, IPC_GUEST_IRQ_LPI_SET);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "lpi: an LPI the guest does not have");
	lpi(vs, 1, 0, 0, IPC_GUEST_IRQ_LPI_SET);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "lpi: SET of INTID 0");
	lpi(vs, 2, 0, 8200, IPC_GUEST_IRQ_LPI_SET);
	EQ(reg(vs, 0), STATUS_NO_RIGHTS, "lpi: a guest capability without inject");
	EQ(fake_lpi_calls - before, 5u, "lpi: only the five accepted calls changed the model");
	EQ(vg1->state, VCPU_OFF, "lpi: an interrupt does not start a vCPU that is off");
}

static struct vcpu *gmem(struct vcpu *v, u64 slot, u64 ipa, u64 how, const u64 *words)
{
	memset(v->arch.regs, 0, sizeof(v->arch.regs));
	v->arch.regs[0] = HC_GUEST_MEM;
	v->arch.regs[IPC_REG_CAP] = slot;
	v->arch.regs[IPC_REG_LABEL] = ipa;
	v->arch.regs[IPC_REG_WORD0] = how;
	for (u32 i = 0; words != NULL && i < IPC_GUEST_MEM_MAX / 8u; i++)
		v->arch.regs[IPC_REG_WORD0 + 1 + i] = words[i];
	struct trap t = { .kind = TRAP_HYPERCALL };
	return kernel_trap(v, &t);
}

static struct vcpu *gcopy(struct vcpu *v, u64 slot, u64 ipa, u64 how, u64 buf)
{
	memset(v->arch.regs, 0, sizeof(v->arch.regs));
	v->arch.regs[0] = HC_GUEST_COPY;
	v->arch.regs[IPC_REG_CAP] = slot;
	v->arch.regs[IPC_REG_LABEL] = ipa;
	v->arch.regs[IPC_REG_WORD0] = how;
	v->arch.regs[IPC_REG_WORD0 + 1] = buf;
	struct trap t = { .kind = TRAP_HYPERCALL };
	return kernel_trap(v, &t);
}

/**
 * HC_GUEST_MEM and HC_GUEST_COPY: the guest's RAM (4 KiB at 0x100000 here), by its own
 * mapping's rights, and for the copy the service's buffer by the service's.
 */
static void test_guest_mem(void)
{
	tsys_reset(1);
	s = tsys_partition("its", 1);
	g = tsys_partition("guest", 1);
	u32 other = tsys_partition("other", 1);
	kernel.cfg.partitions[g].type = PARTITION_VM;
	tsys_cap(s, 1, CAP_GUEST, g, RIGHT_GUEST_EMULATE, BADGE);
	tsys_cap(s, 2, CAP_GUEST, g, RIGHT_GUEST_MONITOR, 0);
	tsys_cap(s, 3, CAP_GUEST, g, RIGHT_GUEST_INJECT, 0);
	tsys_cap(s, 4, CAP_ENDPOINT, tsys_endpoint(), RIGHT_EP_SEND, 0);
	/* A device range of the guest at 0x200000 (its pa: other's RAM, never to be touched). */
	struct config *cfg = &kernel.cfg;
	u32 dev = cfg->region_count++;
	cfg->regions[dev] = (struct cfg_region){ .kind = REGION_DEVICE,
		                                 .size = 4096,
		                                 .pa = cfg->regions[other].pa,
		                                 .rights = RIGHT_MEM_READ | RIGHT_MEM_WRITE,
		                                 .owner = g };
	struct cfg_partition *cp = &cfg->partitions[g];
	cp->mappings[cp->mapping_count++] = (struct cfg_mapping){
		.region = dev, .ipa = 0x200000, .rights = RIGHT_MEM_READ | RIGHT_MEM_WRITE
	};
	struct vcpu *vs = tsys_vcpu(s, 0);
	OK(tsys_boot() == vs, "mem: the service runs first");
	u8 *ram = plat_phys_to_virt(pa_init(cfg->regions[cp->mappings[0].region].pa));
	u8 *other_ram = plat_phys_to_virt(pa_init(cfg->regions[other].pa));
	for (u32 i = 0; i < 4096; i++)
		ram[i] = (u8)(i * 7u);
	memset(other_ram, 0x5a, 4096);

	u64 want = 0;
	for (u32 i = 0; i < 8; i++)
		want |= (u64)(u8)((0x10u + i) * 7u) << (8u * i);
	gmem(vs, 1, 0x100010, 8, NULL);
	OK(reg(vs, 0) == STATUS_OK && reg(vs, IPC_REG_WORD0 + 1) == want,
	   "mem: 8 bytes read, little-endian in r4");
	want = (u64)(u8)(0xffdu * 7u) | (u64)(u8)(0xffeu * 7u) << 8 | (u64)(u8)(0xfffu * 7u) << 16;
	gmem(vs, 2, 0x100ffd, 3, NULL);
	OK(reg(vs, 0) == STATUS_OK && reg(vs, IPC_REG_WORD0 + 1) == want,
	   "mem: a monitor reads the last 3 bytes, the rest of r4 zero");
	u64 w[5] = { 0x0807060504030201ull, 0x100f0e0d0c0b0a09ull, 0x1817161514131211ull,
		     0x201f1e1d1c1b1a19ull, 0x2827262524232221ull };
	gmem(vs, 1, 0x100800, IPC_GUEST_MEM_MAX | IPC_GUEST_MEM_WRITE, w);
	OK(reg(vs, 0) == STATUS_OK && ram[0x800] == 1 && ram[0x827] == 0x28 &&
	           ram[0x828] == (u8)(0x828u * 7u) && ram[0x7ff] == (u8)(0x7ffu * 7u),
	   "mem: 40 bytes written, not one more");
	u8 before[4096];
	memcpy(before, ram, sizeof(before));
	gmem(vs, 1, 0x100fe0, IPC_GUEST_MEM_MAX | IPC_GUEST_MEM_WRITE, w);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "mem: a write past the mapping's end is refused");
	gmem(vs, 1, 0x100000, (IPC_GUEST_MEM_MAX + 1u) | IPC_GUEST_MEM_WRITE, w);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "mem: 41 bytes are refused");
	gmem(vs, 1, 0x100000, 0, NULL);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "mem: 0 bytes are refused");
	gmem(vs, 1, 0xfffff, 2, NULL);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "mem: a read starting below the mapping");
	gmem(vs, 1, UINT64_MAX - 3u, 8, NULL);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "mem: an address range that wraps");
	gmem(vs, 1, 0x200000, 8 | IPC_GUEST_MEM_WRITE, w);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "mem: a device mapping is never written");
	gmem(vs, 1, 0x200000, 8, NULL);
	OK(reg(vs, 0) == STATUS_INVALID_ARG && reg(vs, IPC_REG_WORD0 + 1) == 0, "mem: nor read");
	OK(other_ram[0] == 0x5a && other_ram[7] == 0x5a, "mem: what lies behind it is untouched");
	gmem(vs, 3, 0x100000, 8, NULL);
	EQ(reg(vs, 0), STATUS_NO_RIGHTS, "mem: inject alone does not reach memory");
	gmem(vs, 4, 0x100000, 8, NULL);
	EQ(reg(vs, 0), STATUS_WRONG_TYPE, "mem: an endpoint is not a guest");
	gmem(vs, 9, 0x100000, 8, NULL);
	EQ(reg(vs, 0), STATUS_INVALID_CAP, "mem: an empty slot");
	/* The guest's own mapping made read-only: a write is refused, a read is not. */
	cp->mappings[0].rights = RIGHT_MEM_READ | RIGHT_MEM_EXEC;
	gmem(vs, 1, 0x100000, 8 | IPC_GUEST_MEM_WRITE, w);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "mem: no write where the guest may not write");
	gmem(vs, 1, 0x100000, 8, NULL);
	EQ(reg(vs, 0), STATUS_OK, "mem: a read there is fine");
	OK(memcmp(before, ram, sizeof(before)) == 0,
	   "mem: no refused call changed the guest's RAM");

	/* HC_GUEST_COPY: between the guest's RAM and the service's own (4 KiB at 0x100000). */
	cp->mappings[0].rights = RIGHT_MEM_READ | RIGHT_MEM_WRITE;
	u8 *own =
	        plat_phys_to_virt(pa_init(cfg->regions[cfg->partitions[s].mappings[0].region].pa));
	memset(own, 0, 4096);
	gcopy(vs, 1, 0x100000, 4096, 0x100000);
	OK(reg(vs, 0) == STATUS_OK && memcmp(own, ram, 4096) == 0,
	   "copy: the guest's whole page into the service's in one call");
	memset(own + 0x100, 0xc3, 0x300);
	gcopy(vs, 1, 0x100400, 0x300 | IPC_GUEST_MEM_WRITE, 0x100100);
	OK(reg(vs, 0) == STATUS_OK && ram[0x400] == 0xc3 && ram[0x6ff] == 0xc3 &&
	           ram[0x3ff] == (u8)(0x3ffu * 7u) && ram[0x700] == (u8)(0x700u * 7u),
	   "copy: 768 bytes into the guest, not one more");
	memcpy(before, ram, sizeof(before));
	u8 own_before[4096];
	memcpy(own_before, own, sizeof(own_before));
	gcopy(vs, 1, 0x100001, 4096, 0x100000);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "copy: a guest range past its mapping");
	gcopy(vs, 1, 0x100000, 4096, 0x100001);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "copy: a buffer past the service's own mapping");
	gcopy(vs, 1, 0x100000, 8, 0x200000);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "copy: a buffer the service does not have");
	gcopy(vs, 1, 0x200000, 8, 0x100000);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "copy: the guest's device range is never read");
	gcopy(vs, 1, 0x100000, 0, 0x100000);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "copy: 0 bytes");
	gcopy(vs, 1, 0x100000, IPC_GUEST_COPY_MAX + 1u, 0x100000);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "copy: more than IPC_GUEST_COPY_MAX");
	gcopy(vs, 3, 0x100000, 8, 0x100000);
	EQ(reg(vs, 0), STATUS_NO_RIGHTS, "copy: inject alone does not reach memory");
	cfg->partitions[s].mappings[0].rights = RIGHT_MEM_READ | RIGHT_MEM_EXEC;
	gcopy(vs, 1, 0x100000, 8, 0x100000);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "copy: no read into a buffer the service may not write");
	cfg->partitions[s].mappings[0].rights = RIGHT_MEM_READ | RIGHT_MEM_WRITE;
	cp->mappings[0].rights = RIGHT_MEM_READ | RIGHT_MEM_EXEC;
	gcopy(vs, 1, 0x100000, 8 | IPC_GUEST_MEM_WRITE, 0x100000);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "copy: no write where the guest may not write");
	OK(memcmp(before, ram, sizeof(before)) == 0 && memcmp(own_before, own, 4096) == 0 &&
	           other_ram[0] == 0x5a,
	   "copy: no refused call changed either side, or what lies behind the device range");
}

static struct vcpu *route(struct vcpu *v, u64 guest, u64 ep, u64 ipa, u64 size, u64 op, u64 badge)
{
	memset(v->arch.regs, 0, sizeof(v->arch.regs));
	v->arch.regs[0] = HC_GUEST_ROUTE;
	v->arch.regs[IPC_REG_CAP] = guest;
	v->arch.regs[IPC_REG_LABEL] = ep;
	v->arch.regs[IPC_REG_WORD0] = ipa;
	v->arch.regs[IPC_REG_WORD0 + 1] = size;
	v->arch.regs[IPC_REG_WORD0 + 2] = op;
	v->arch.regs[IPC_REG_WORD0 + 3] = badge;
	struct trap t = { .kind = TRAP_HYPERCALL };
	return kernel_trap(v, &t);
}

#define ROUTED 0x10000000u

/**
 * HC_GUEST_ROUTE: the emulator (it holds the guest's `dm` right and send on its own
 * endpoint) routes a range at run time; the guest's access there reaches it like a
 * manifest range's, with the route's badge; overlaps, rights and limits are checked.
 */
static void test_routes(void)
{
	tsys_reset(1);
	s = tsys_partition("dm", 1);
	g = tsys_partition("guest", 1);
	kernel.cfg.partitions[g].type = PARTITION_VM;
	ep = tsys_endpoint();
	u32 lonely = tsys_endpoint(); /* nobody receives there */
	tsys_cap(s, 0, CAP_ENDPOINT, ep, RIGHT_EP_RECV | RIGHT_EP_SEND, 0);
	tsys_cap(s, 1, CAP_GUEST, g, RIGHT_GUEST_DM, 0);
	tsys_cap(s, 2, CAP_GUEST, g, RIGHT_GUEST_EMULATE | RIGHT_GUEST_INJECT, BADGE);
	tsys_cap(s, 3, CAP_ENDPOINT, lonely, RIGHT_EP_SEND, 0);
	tsys_cap(s, 4, CAP_ENDPOINT, ep, RIGHT_EP_RECV, 0);
	kernel.cfg.emulated[0] = (struct cfg_emulated){
		.guest = g, .ipa = RANGE, .size = 0x1000, .service = s, .endpoint = ep
	};
	/* A routed window (`routed;`) around the routes below: no service, no endpoint. */
	kernel.cfg.emulated[1] = (struct cfg_emulated){ .guest = g,
		                                        .kind = CFG_EMULATED_ROUTED,
		                                        .ipa = ROUTED,
		                                        .size = 0x100000,
		                                        .service = CFG_NONE,
		                                        .endpoint = CFG_NONE };
	kernel.cfg.emulated_count = 2;
	memset(kernel.routes, 0, sizeof(kernel.routes));
	struct vcpu *vs = tsys_vcpu(s, 0), *vg = tsys_vcpu(g, 0);
	OK(tsys_boot() == vs, "route: the device model's mediator runs first");
	EQ(kernel.emulated_badge[1], 0u, "route: a routed window has no service's badge");
	/* The emulation path's run of the guest's MMIO ranges: the manifest's one, not the window. */
	EQ(kernel.partitions[g].emul_count, 1u, "runs: the guest's one MMIO range, not its window");
	EQ(kernel.partitions[s].emul_count, 0u, "runs: the device model has none");
	const struct emul_mmio_range *mr = &kernel.emul_mmio[kernel.partitions[g].emul_first];
	OK(mr->ipa == RANGE && mr->size == 0x1000 && mr->badge == BADGE && mr->service == s &&
	           mr->endpoint == ep && mr->endpoint_obj == &kernel.endpoints[ep] &&
	           mr->index == 0,
	   "runs: its address, size, badge, service, endpoint and manifest index");
	route(vs, 1, 0, ROUTED, 0x4000, IPC_ROUTE_MAP, 0x77aa);
	OK(reg(vs, 0) == STATUS_OK && reg(vs, 1) == 0,
	   "route: a 16 KiB range routed (route 0) inside the routed window");
	route(vs, 1, 0, ROUTED + 0x3000, 0x2000, IPC_ROUTE_MAP, 0);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "route: one overlapping it is refused");
	route(vs, 1, 0, RANGE, 0x10, IPC_ROUTE_MAP, 0);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "route: over the manifest's emulated range: refused");
	route(vs, 1, 0, 0x100000, 0x1000, IPC_ROUTE_MAP, 0);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "route: over the guest's RAM: refused");
	route(vs, 2, 0, ROUTED + 0x8000, 0x1000, IPC_ROUTE_MAP, 0);
	EQ(reg(vs, 0), STATUS_NO_RIGHTS, "route: a guest capability without dm: refused");
	route(vs, 1, 4, ROUTED + 0x8000, 0x1000, IPC_ROUTE_MAP, 0);
	EQ(reg(vs, 0), STATUS_NO_RIGHTS, "route: an endpoint capability without send: refused");
	route(vs, 1, 3, ROUTED + 0x8000, 0x1000, IPC_ROUTE_MAP, 0);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "route: an endpoint nobody receives on: refused");
	route(vs, 1, 0, ROUTED + 0x8000, 0, IPC_ROUTE_MAP, 0);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "route: size 0: refused");
	route(vs, 1, 0, UINT64_MAX - 0xfff, 0x2000, IPC_ROUTE_MAP, 0);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "route: a range that wraps: refused");
	route(vs, 1, 0, ROUTED + 0x8000, 0x1000, 7, 0);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "route: an unknown operation: refused");

	OK(hc(vs, HC_RECV, 0, 0, 0) == vg, "route: the mediator waits, the guest runs");
	memset(&fake_mmio, 0, sizeof(fake_mmio));
	OK(access(vg, ROUTED + 0x1008, 4, true, 0x55) == vs,
	   "route: a store in the routed range goes to the endpoint");
	EQ(reg(vs, IPC_REG_LABEL), IPC_LABEL_MMIO, "route: as an MMIO message");
	EQ(reg(vs, IPC_REG_CAP), 0x77aau, "route: with the route's badge");
	EQ(reg(vs, IPC_REG_WORD0 + 4), 0x1008u, "route: w4 the offset in the route");
	EQ(reg(vs, IPC_REG_WORD0 + 5), CFG_EMULATED_MAX + 0u, "route: w5 past the manifest's");
	OK(answer(vs, IPC_MMIO_DONE, 0) == vg && fake_mmio.completions == 1,
	   "route: the answer completes it");
	OK(access(vg, RANGE + 4, 4, false, 0) == vs && reg(vs, IPC_REG_CAP) == BADGE,
	   "route: the manifest's range keeps its own badge");
	/* A reply alone (no receive): the mediator runs on and unmaps the route. */
	memset(vs->arch.regs, 0, sizeof(vs->arch.regs));
	vs->arch.regs[0] = HC_REPLY;
	vs->arch.regs[IPC_REG_WORD0] = IPC_MMIO_DONE;
	struct trap t = { .kind = TRAP_HYPERCALL };
	OK(kernel_trap(vs, &t) == vs, "route: the mediator answers and runs on");
	route(vs, 1, 0, ROUTED, 0x2000, IPC_ROUTE_UNMAP, 0);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "route: an unmap must name the route exactly");
	route(vs, 1, 0, ROUTED, 0x4000, IPC_ROUTE_UNMAP, 0);
	OK(reg(vs, 0) == STATUS_OK && !kernel.routes[0].used, "route: unmapped");
	u32 taken = 0;
	for (u32 i = 0; i < KERNEL_ROUTE_MAX + 1u; i++) {
		route(vs, 1, 0, ROUTED + 0x1000 * (u64)i, 0x1000, IPC_ROUTE_MAP, i);
		taken += reg(vs, 0) == STATUS_OK;
		if (i == KERNEL_ROUTE_MAX)
			EQ(reg(vs, 0), STATUS_BUSY, "route: one more than the kernel holds: BUSY");
	}
	EQ(taken, KERNEL_ROUTE_MAX, "route: the kernel holds 64 routes");
	OK(!kernel.partitions[g].stopped && !kernel.partitions[s].stopped,
	   "route: both partitions run");
	memset(kernel.routes, 0, sizeof(kernel.routes));
}

#define RTC 0x70u

/**
 * HC_GUEST_ROUTE with IPC_ROUTE_PORTS (x86): ports are routed only inside a port window
 * (`ports` with `routed;`), never over another port route; IN and OUT there reach the
 * endpoint as port messages; an unmap names the route exactly (ports, not an MMIO range
 * at the same numbers); the wrong endpoint or guest right is refused as for MMIO.
 */
static void test_port_routes(void)
{
	tsys_reset(1);
	s = tsys_partition("dm", 1);
	g = tsys_partition("guest", 1);
	u32 other = tsys_partition("other", 1);
	kernel.cfg.partitions[g].type = PARTITION_VM;
	kernel.cfg.partitions[other].type = PARTITION_VM;
	ep = tsys_endpoint();
	u32 lonely = tsys_endpoint();
	tsys_cap(s, 0, CAP_ENDPOINT, ep, RIGHT_EP_RECV | RIGHT_EP_SEND, 0);
	tsys_cap(s, 1, CAP_GUEST, g, RIGHT_GUEST_DM, 0);
	tsys_cap(s, 2, CAP_GUEST, g, RIGHT_GUEST_EMULATE, BADGE);
	tsys_cap(s, 3, CAP_ENDPOINT, lonely, RIGHT_EP_SEND, 0);
	tsys_cap(s, 4, CAP_GUEST, other, RIGHT_GUEST_DM, 0);
	tsys_cap(other, 0, CAP_ENDPOINT, tsys_endpoint(), RIGHT_EP_RECV, 0); /* it waits there */
	/* COM1 served by the manifest; a port window at the RTC's 0x70-0x77; the other's at 0x70. */
	kernel.cfg.emulated[0] = (struct cfg_emulated){ .guest = g,
		                                        .kind = CFG_EMULATED_PORTS,
		                                        .ipa = PORTS,
		                                        .size = 8,
		                                        .service = s,
		                                        .endpoint = ep };
	kernel.cfg.emulated[1] = (struct cfg_emulated){ .guest = g,
		                                        .kind = CFG_EMULATED_ROUTED_PORTS,
		                                        .ipa = RTC,
		                                        .size = 8,
		                                        .service = CFG_NONE,
		                                        .endpoint = CFG_NONE };
	kernel.cfg.emulated[2] = (struct cfg_emulated){ .guest = g,
		                                        .kind = CFG_EMULATED_ROUTED,
		                                        .ipa = ROUTED,
		                                        .size = 0x100000,
		                                        .service = CFG_NONE,
		                                        .endpoint = CFG_NONE };
	kernel.cfg.emulated[3] = (struct cfg_emulated){ .guest = other,
		                                        .kind = CFG_EMULATED_ROUTED_PORTS,
		                                        .ipa = RTC,
		                                        .size = 2,
		                                        .service = CFG_NONE,
		                                        .endpoint = CFG_NONE };
	kernel.cfg.emulated_count = 4;
	memset(kernel.routes, 0, sizeof(kernel.routes));
	struct vcpu *vs = tsys_vcpu(s, 0), *vg = tsys_vcpu(g, 0), *vo = tsys_vcpu(other, 0);
	const u64 map = IPC_ROUTE_MAP | IPC_ROUTE_PORTS, unmap = IPC_ROUTE_UNMAP | IPC_ROUTE_PORTS;
	OK(tsys_boot() == vs, "port route: the mediator runs first");
	EQ(kernel.emulated_badge[1], 0u, "port route: a port window has no service's badge");
	route(vs, 1, 0, RTC, 2, map, 0x7070);
	OK(reg(vs, 0) == STATUS_OK && reg(vs, 1) == 0 && kernel.routes[0].port,
	   "port route: ports 0x70-0x71 routed (route 0) inside the port window");
	route(vs, 1, 0, RTC + 1, 1, map, 0);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "port route: one overlapping it is refused");
	route(vs, 1, 0, RTC + 6, 4, map, 0);
	EQ(reg(vs, 0), STATUS_NO_RIGHTS, "port route: running past the window's end: refused");
	route(vs, 1, 0, 0x80, 1, map, 0);
	EQ(reg(vs, 0), STATUS_NO_RIGHTS, "port route: outside every port window: refused");
	route(vs, 1, 0, PORTS, 8, map, 0);
	EQ(reg(vs, 0), STATUS_NO_RIGHTS, "port route: over the manifest's port range: refused");
	route(vs, 1, 0, 0xffff, 2, map, 0);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "port route: past port 0xffff: refused");
	route(vs, 1, 0, RTC + 4, 0, map, 0);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "port route: no port: refused");
	route(vs, 1, 0, ROUTED, 0x1000, map, 0);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "port route: an MMIO window is no port window (0xffff)");
	route(vs, 2, 0, RTC + 4, 1, map, 0);
	EQ(reg(vs, 0), STATUS_NO_RIGHTS, "port route: a guest capability without dm: refused");
	route(vs, 1, 3, RTC + 4, 1, map, 0);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "port route: an endpoint nobody receives on: refused");
	route(vs, 1, 0, RTC + 4, 1, 2u | IPC_ROUTE_PORTS, 0);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "port route: an unknown operation: refused");
	route(vs, 1, 0, ROUTED, 0x1000, IPC_ROUTE_MAP, 0x3333);
	OK(reg(vs, 0) == STATUS_OK && reg(vs, 1) == 1, "port route: MMIO routes live beside them");
	route(vs, 4, 0, RTC, 2, map, 0x4444);
	OK(reg(vs, 0) == STATUS_OK && reg(vs, 1) == 2,
	   "port route: the same ports of another guest are its own");
	route(vs, 4, 0, RTC + 4, 1, map, 0);
	EQ(reg(vs, 0), STATUS_NO_RIGHTS,
	   "port route: through the other guest's capability, only inside its window (2 ports)");
	route(vs, 1, 0, RTC + 4, 2, map, 0);
	OK(reg(vs, 0) == STATUS_OK && reg(vs, 1) == 3, "port route: 0x74-0x75 routed (route 3)");
	route(vs, 4, 0, RTC + 4, 2, unmap, 0);
	EQ(reg(vs, 0), STATUS_INVALID_ARG,
	   "port route: an unmap through the other guest's capability misses this guest's route");
	route(vs, 1, 0, RTC + 4, 2, unmap, 0);
	OK(reg(vs, 0) == STATUS_OK && !kernel.routes[3].used, "port route: its own unmap takes it");

	struct vcpu *next = hc(vs, HC_RECV, 0, 0, 0);
	if (next == vo)
		next = hc(vo, HC_RECV, 0, 0, 0);
	OK(next == vg, "port route: the mediator and the other guest wait, the guest runs");
	memset(&fake_mmio, 0, sizeof(fake_mmio));
	OK(port_access(vg, RTC + 1, 1, false, 0) == vs,
	   "port route: an IN from port 0x71 goes to the endpoint");
	EQ(reg(vs, IPC_REG_LABEL), IPC_LABEL_MMIO, "port route: as an MMIO message");
	EQ(reg(vs, IPC_REG_CAP), 0x7070u, "port route: with the route's badge");
	EQ(reg(vs, IPC_REG_WORD0), RTC + 1u, "port route: w0 the port");
	EQ(reg(vs, IPC_REG_WORD0 + 1), 1u | IPC_MMIO_PORT, "port route: w1 size and port bit");
	EQ(reg(vs, IPC_REG_WORD0 + 4), 1u, "port route: w4 the offset in the route");
	EQ(reg(vs, IPC_REG_WORD0 + 5), CFG_EMULATED_MAX + 0u, "port route: w5 past the manifest's");
	OK(answer(vs, IPC_MMIO_DONE, 0x42) == vg && fake_mmio.completions == 1 &&
	           fake_mmio.value == 0x42 && fake_mmio.arch_info == 0x5a,
	   "port route: the answer completes the IN with its value");
	OK(port_access(vg, RTC, 1, true, 0x8b) == vs &&
	           reg(vs, IPC_REG_WORD0 + 1) == (1u | IPC_MMIO_PORT | IPC_MMIO_WRITE) &&
	           reg(vs, IPC_REG_WORD0 + 2) == 0x8bu,
	   "port route: an OUT to 0x70 arrives with its value");
	OK(answer(vs, IPC_MMIO_DONE, 0) == vg && fake_mmio.completions == 2,
	   "port route: the OUT completes");
	OK(access(vg, ROUTED + 4, 4, false, 0) == vs && reg(vs, IPC_REG_CAP) == 0x3333u &&
	           reg(vs, IPC_REG_WORD0 + 1) == 4u,
	   "port route: the MMIO route still gets MMIO, without the port bit");
	answer(vs, IPC_MMIO_DONE, 0);
	/* INS/OUTS (string I/O) in the routed ports: refused in place, the emulator never asked. */
	struct trap ins;
	trap_init(&ins, TRAP_MMIO, 0xabcd, "port I/O");
	ins.address = RTC + 1;
	ins.size = 1;
	ins.access = IPC_ACCESS_READ;
	ins.port = true;
	ins.refuse = true;
	OK(kernel_trap(vg, &ins) == vg && fake_mmio.aborts == 1 && fake_mmio.completions == 3,
	   "port route: a string IN from a routed port is refused (abort) and the guest goes on");
	/* A reply alone (no receive): the mediator runs on and unroutes. */
	memset(vs->arch.regs, 0, sizeof(vs->arch.regs));
	vs->arch.regs[0] = HC_REPLY;
	vs->arch.regs[IPC_REG_WORD0] = IPC_MMIO_DONE;
	OK(access(vg, ROUTED + 4, 4, false, 0) == vs, "port route: (one more to answer)");
	struct trap t = { .kind = TRAP_HYPERCALL };
	OK(kernel_trap(vs, &t) == vs, "port route: the mediator answers and runs on");
	route(vs, 1, 0, RTC, 2, IPC_ROUTE_UNMAP, 0);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "port route: an MMIO unmap does not name ports");
	route(vs, 1, 0, RTC, 1, unmap, 0);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "port route: an unmap must name the route exactly");
	route(vs, 1, 0, RTC, 2, unmap, 0);
	OK(reg(vs, 0) == STATUS_OK && reg(vs, 1) == 0 && !kernel.routes[0].used,
	   "port route: unmapped");
	OK(kernel.routes[2].used, "port route: the other guest's route stays");
	next = hc(vs, HC_RECV, 0, 0, 0);
	if (next == vo)
		next = hc(vo, HC_RECV, 0, 0, 0);
	OK(next == vg, "port route: the mediator waits again");
	OK(FAKE_EXPECT_EXIT(port_access(vg, RTC + 1, 1, false, 0)),
	   "port route: (the guest stops: nothing left)");
	OK(kernel.partitions[g].stopped && strstr(tsys_console(), "port I/O, pc") != NULL,
	   "port route: an IN from an unrouted port is the platform's port fault");
	EQ(fake_mmio.completions, 3u, "port route: nothing more was completed");
	memset(kernel.routes, 0, sizeof(kernel.routes));
}

#define ECAM 0x30000000u

/**
 * HC_GUEST_ROUTE with IPC_ROUTE_PCI: functions by SBDF, their 4 KiB of configuration space in
 * the guest's ECAM window (`routed; pci-ecam;`, here 2 buses); an access no route covers is
 * an absent function's (reads all ones, writes dropped), answered by the kernel at once.
 */
static void test_pci_routes(void)
{
	tsys_reset(1);
	s = tsys_partition("dm", 1);
	g = tsys_partition("guest", 1);
	u32 o = tsys_partition("other", 1);
	kernel.cfg.partitions[g].type = PARTITION_VM;
	kernel.cfg.partitions[o].type = PARTITION_VM;
	ep = tsys_endpoint();
	tsys_cap(s, 0, CAP_ENDPOINT, ep, RIGHT_EP_RECV | RIGHT_EP_SEND, 0);
	tsys_cap(s, 1, CAP_GUEST, g, RIGHT_GUEST_DM, 0);
	tsys_cap(s, 2, CAP_GUEST, o, RIGHT_GUEST_DM, 0);
	kernel.cfg.emulated[0] = (struct cfg_emulated){ .guest = g,
		                                        .kind = CFG_EMULATED_ROUTED,
		                                        .ipa = ECAM,
		                                        .size = 0x200000,
		                                        .service = CFG_NONE,
		                                        .endpoint = CFG_NONE,
		                                        .ecam = true };
	/* The other guest has a routed window that is no ECAM. */
	kernel.cfg.emulated[1] = (struct cfg_emulated){ .guest = o,
		                                        .kind = CFG_EMULATED_ROUTED,
		                                        .ipa = ECAM,
		                                        .size = 0x200000,
		                                        .service = CFG_NONE,
		                                        .endpoint = CFG_NONE };
	kernel.cfg.emulated_count = 2;
	memset(kernel.routes, 0, sizeof(kernel.routes));
	struct vcpu *vs = tsys_vcpu(s, 0), *vg = tsys_vcpu(g, 0);
	OK(tsys_boot() == vs, "pci route: the mediator runs first");
	const u64 map = IPC_ROUTE_MAP | IPC_ROUTE_PCI, unmap = IPC_ROUTE_UNMAP | IPC_ROUTE_PCI;
	/* 00:01.0 - 00:01.7: SBDF 8..15. */
	route(vs, 1, 0, 8, 8, map, 0x9c1);
	OK(reg(vs, 0) == STATUS_OK && kernel.routes[0].used &&
	           kernel.routes[0].ipa == ECAM + 0x8000 && kernel.routes[0].size == 0x8000,
	   "pci route: 00:01.0-7 routed as their 32 KiB of the ECAM window");
	route(vs, 1, 0, 0x100, 1, map, 0);
	OK(reg(vs, 0) == STATUS_OK && kernel.routes[1].ipa == ECAM + 0x100000,
	   "pci route: 01:00.0 lies on the window's second bus");
	route(vs, 1, 0, 0x200, 1, map, 0);
	EQ(reg(vs, 0), STATUS_NO_RIGHTS, "pci route: bus 2 is past the window");
	route(vs, 1, 0, 0x1ff, 2, map, 0);
	EQ(reg(vs, 0), STATUS_NO_RIGHTS, "pci route: a range running past it");
	route(vs, 1, 0, 0x10008, 1, map, 0);
	EQ(reg(vs, 0), STATUS_NO_RIGHTS, "pci route: segment 1: no such window");
	route(vs, 1, 0, 12, 1, map, 0);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "pci route: a function already routed: refused");
	route(vs, 1, 0, ECAM + 0x8000, 0x1000, IPC_ROUTE_MAP, 0);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "pci route: nor can MMIO take it");
	route(vs, 2, 0, 8, 1, map, 0);
	EQ(reg(vs, 0), STATUS_NO_RIGHTS, "pci route: a guest with no ECAM window: refused");
	route(vs, 1, 0, 8, 1, map | IPC_ROUTE_PORTS, 0);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "pci route: ports and PCI at once: refused");
	route(vs, 1, 0, 8, 0, map, 0);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "pci route: no function: refused");

	OK(hc(vs, HC_RECV, 0, 0, 0) == vg, "pci route: the mediator waits, the guest runs");
	memset(&fake_mmio, 0, sizeof(fake_mmio));
	OK(access(vg, ECAM + 0x9000, 4, false, 0) == vs && reg(vs, IPC_REG_CAP) == 0x9c1u &&
	           reg(vs, IPC_REG_WORD0) == ECAM + 0x9000u &&
	           reg(vs, IPC_REG_WORD0 + 4) == 0x1000u,
	   "pci route: a read of 00:01.1's vendor ID goes to the model, with the route's badge");
	OK(answer(vs, IPC_MMIO_DONE, 0x10421af4) == vg && fake_mmio.value == 0x10421af4u,
	   "pci route: and is answered by it");
	OK(access(vg, ECAM + 0x10000, 4, false, 0) == vg && fake_mmio.completions == 2 &&
	           fake_mmio.value == ~UINT64_C(0),
	   "pci route: 00:02.0, claimed by nobody, reads all ones at once");
	OK(access(vg, ECAM + 0x10004, 2, true, 0x7) == vg && fake_mmio.completions == 3 &&
	           fake_mmio.write,
	   "pci route: a write there is dropped, the guest runs on");
	OK(!kernel.partitions[g].stopped, "pci route: the guest runs");

	memset(vs->arch.regs, 0, sizeof(vs->arch.regs));
	vs->arch.regs[0] = HC_REPLY;
	OK(access(vg, ECAM + 0x8000, 4, false, 0) == vs, "pci route: (one more to answer)");
	struct trap t = { .kind = TRAP_HYPERCALL };
	OK(kernel_trap(vs, &t) == vs, "pci route: the mediator answers and runs on");
	route(vs, 1, 0, 8, 4, unmap, 0);
	EQ(reg(vs, 0), STATUS_INVALID_ARG, "pci route: an unmap names the range exactly");
	route(vs, 1, 0, 8, 8, unmap, 0);
	OK(reg(vs, 0) == STATUS_OK && !kernel.routes[0].used, "pci route: unmapped");
	memset(kernel.routes, 0, sizeof(kernel.routes));
}

int main(void)
{
	test_read_write();
	test_outside();
	test_emulator_stops();
	test_ports();
	test_guest_irq();
	test_guest_lpi();
	test_guest_mem();
	test_routes();
	test_port_routes();
	test_pci_routes();
	return tap_finish();
}
