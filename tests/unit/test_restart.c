/** Restartable partitions (kernel/partition.c partition_revive) on the fake platform. */
#include "system.h"
#include "tap.h"
#include <kernel/partition_ops.h>
#include <string.h>

#define RANGE 0x9000000u

static u32 g, s, ep;

/** A guest VM and its restartable emulator, on CPU 0 and CPU 1; the emulator waits. */
static void setup(bool restartable)
{
	tsys_reset(2);
	s = tsys_partition("emul", 1);
	g = tsys_partition("guest", 1);
	kernel.cfg.partitions[g].type = PARTITION_VM;
	kernel.cfg.partitions[s].restartable = restartable;
	kernel.cfg.partitions[s].vcpus[0].hard_affinity = 2; /* CPU 1 */
	kernel.cfg.partitions[g].vcpus[0].hard_affinity = 1; /* CPU 0 */
	ep = tsys_endpoint();
	tsys_cap(s, 0, CAP_ENDPOINT, ep, RIGHT_EP_RECV, 0);
	tsys_cap(s, 1, CAP_GUEST, g, RIGHT_GUEST_EMULATE, 0);
	kernel.cfg.emulated[0] = (struct cfg_emulated){
		.guest = g, .ipa = RANGE, .size = 0x1000, .service = s, .endpoint = ep
	};
	kernel.cfg.emulated_count = 1;
	OK(tsys_boot() == tsys_vcpu(g, 0), "restart: the guest runs on CPU 0");
	fake_cpu = 1;
	OK(kernel_idle(1) == tsys_vcpu(s, 0), "restart: the emulator on CPU 1");
	OK(hc(tsys_vcpu(s, 0), HC_RECV, 0, 0, 0) == NULL, "restart: it waits for accesses");
	fake_cpu = 0;
	memset(&fake_mmio, 0, sizeof(fake_mmio));
}

static struct vcpu *access(struct vcpu *v, u64 address)
{
	struct trap t = {
		.kind = TRAP_MMIO, .address = address, .size = 4, .access = IPC_ACCESS_READ
	};
	return kernel_trap(v, &t);
}

static void test_crash_mid_access(void)
{
	setup(true);
	struct vcpu *vg = tsys_vcpu(g, 0), *vs = tsys_vcpu(s, 0);
	access(vg, RANGE + 0x18);
	EQ(vs->state, VCPU_READY, "restart: the emulator has the access");
	fake_cpu = 1;
	OK(kernel_idle(1) == vs && reg(vs, IPC_REG_WORD0) == RANGE + 0x18,
	   "restart: it received it");
	/* Its RAM holds some state when it crashes. */
	unsigned char *ram = (unsigned char *)(uintptr_t)kernel.cfg
	                             .regions[kernel.cfg.partitions[s].mappings[0].region]
	                             .pa;
	ram[100] = 0x5a;
	u32 kicks = fake_kicks;
	struct vcpu *next = trap_event(vs, TRAP_MEM_FAULT, 0x7000000, IPC_ACCESS_WRITE);
	OK(strstr(tsys_console(), "; restarting it (1)") != NULL &&
	           strstr(tsys_console(),
	                  "partition 'emul' stopped: vcpu 0: test fault fault at 0x7000000") !=
	                   NULL,
	   "restart: the crash is reported with the restart");
	OK(!kernel.partitions[s].stopped && kernel.partitions[s].restarts == 1,
	   "restart: it runs again");
	OK(next == NULL && fake_kicks == kicks + 1,
	   "restart: its CPU idles and kicks itself, to enter the fresh vCPU through a full switch");
	EQ(vs->state, VCPU_READY, "restart: the vCPU is ready");
	OK(vs->arch.pc == 0x100000 && vs->arch.reset_count >= 2, "restart: reset at its entry");
	EQ(ram[100], 0, "restart: its RAM was cleared");
	EQ(vg->state, VCPU_BLOCKED_SEND, "restart: the guest's access waits for the successor");
	EQ(fake_mmio.aborts, 0u, "restart: and was not aborted");
	OK(kernel_idle(1) == vs, "restart: the successor runs");
	OK(hc(vs, HC_RECV, 0, 0, 0) == vs && reg(vs, IPC_REG_WORD0) == RANGE + 0x18 &&
	           reg(vs, IPC_REG_LABEL) == IPC_LABEL_MMIO,
	   "restart: the successor receives the same access first");
	memset(vs->arch.regs, 0, sizeof(vs->arch.regs));
	vs->arch.regs[0] = HC_REPLY_RECV;
	vs->arch.regs[IPC_REG_WORD0] = IPC_MMIO_DONE;
	vs->arch.regs[IPC_REG_WORD0 + 1] = 0x90;
	struct trap h = { .kind = TRAP_HYPERCALL };
	kernel_trap(vs, &h);
	OK(fake_mmio.completions == 1 && fake_mmio.value == 0x90,
	   "restart: its answer completes the access");
	EQ(vg->state, VCPU_READY, "restart: the guest goes on");
	EQ(kernel.exit_status, 0, "restart: a restarted crash is not a system failure");
	fake_cpu = 0;
}

static void test_exit_restarts(void)
{
	setup(true);
	struct vcpu *vs = tsys_vcpu(s, 0);
	fake_cpu = 1;
	kernel_idle(1);
	vs->state = VCPU_RUNNING;
	cpu_sched[1].current = vs;
	hc(vs, HC_EXIT, 3, 0, 0);
	OK(!kernel.partitions[s].stopped && kernel.partitions[s].restarts == 1,
	   "restart: a restartable service that exits is restarted too");
	fake_cpu = 0;
}

/** Restarted from another CPU while it ran: what it traps for next is its old life's. */
static void test_remote_restart(void)
{
	setup(true);
	struct vcpu *vs = tsys_vcpu(s, 0);
	fake_cpu = 1;
	kernel_idle(1);
	vs->state = VCPU_RUNNING;
	cpu_sched[1].current = vs;
	fake_cpu = 0;
	u32 kicks = fake_kicks;
	partition_stop(vs->part, "stopped from CPU 0", false);
	OK(kernel.partitions[s].restarts == 1 && fake_kicks > kicks,
	   "restart: restarted from another CPU, its CPU is kicked");
	fake_cpu = 1;
	trap_event(vs, TRAP_MEM_FAULT, 0x7000000, IPC_ACCESS_WRITE);
	EQ(kernel.partitions[s].restarts, 1u,
	   "restart: a fault of its old life, trapped late, does not restart it again");
	OK(!kernel.partitions[s].stopped, "restart: it stays running");
	fake_cpu = 0;
}

static void test_not_restartable(void)
{
	setup(false);
	struct vcpu *vg = tsys_vcpu(g, 0), *vs = tsys_vcpu(s, 0);
	access(vg, RANGE);
	fake_cpu = 1;
	kernel_idle(1);
	trap_event(vs, TRAP_MEM_FAULT, 0x7000000, IPC_ACCESS_WRITE);
	OK(kernel.partitions[s].stopped,
	   "restart: a partition not marked restartable stays stopped");
	EQ(fake_mmio.aborts, 1u, "restart: and the guest's access gets a bus error");
	fake_cpu = 0;
}

/**
 * A region marked `preserve;` keeps its contents across a restart, and the requeued access
 * carries the serial number it had, so the successor can tell it applied it already.
 */
static void test_preserved_and_serial(void)
{
	setup(true);
	struct vcpu *vg = tsys_vcpu(g, 0), *vs = tsys_vcpu(s, 0);
	struct cfg_region *r = &kernel.cfg.regions[kernel.cfg.partitions[s].mappings[0].region];
	r->preserve = true;
	unsigned char *ram = (unsigned char *)(uintptr_t)r->pa;
	access(vg, RANGE + 0x18);
	fake_cpu = 1;
	kernel_idle(1);
	u64 w3 = reg(vs, IPC_REG_WORD0 + 3);
	OK((w3 & IPC_MMIO_VCPU_MASK) == 0 && w3 >> IPC_MMIO_SERIAL_SHIFT != 0,
	   "restart: w3 carries the vCPU index and a serial number");
	ram[100] = 0x5a;
	trap_event(vs, TRAP_MEM_FAULT, 0x7000000, IPC_ACCESS_WRITE);
	EQ(ram[100], 0x5a, "restart: a preserved region is not cleared");
	kernel_idle(1);
	OK(hc(vs, HC_RECV, 0, 0, 0) == vs && reg(vs, IPC_REG_WORD0 + 3) == w3,
	   "restart: the requeued access has the same serial number");
	r->preserve = false;
	fake_cpu = 0;
}

/**
 * A service that crashes at once on every start: three restarts go ahead at once, then each
 * waits (1 ms, 2 ms, ...) as a sleeping vCPU, and the log says so once, not on every crash.
 * A reply it delivers is progress: the next crash restarts it at once again.
 */
static void test_crash_loop_backoff(void)
{
	setup(true);
	struct vcpu *vg = tsys_vcpu(g, 0), *vs = tsys_vcpu(s, 0);
	struct partition *ps = &kernel.partitions[s];
	fake_cpu = 1;
	vs->state = VCPU_RUNNING; /* it was waiting for accesses: now it runs, and crashes */
	cpu_sched[1].current = vs;
	for (u32 i = 1; i <= 3; i++) {
		if (i > 1)
			kernel_idle(1);
		trap_event(vs, TRAP_MEM_FAULT, 0x7000000, IPC_ACCESS_WRITE);
		OK(ps->restarts == i && vs->state == VCPU_READY,
		   "restart: a crash without progress, within the free ones: restarted at once");
	}
	kernel_idle(1);
	u64 t4 = fake_now_ns;
	trap_event(vs, TRAP_MEM_FAULT, 0x7000000, IPC_ACCESS_WRITE);
	OK(ps->restarts == 4 && vs->state == VCPU_BLOCKED_IRQ && vs->wake_ns == t4 + 1000000u,
	   "restart: the fourth in a row waits 1 ms, asleep");
	OK(strstr(tsys_console(), "restarting it (4) after a pause") != NULL,
	   "restart: the pause is reported");
	OK(kernel_idle(1) == NULL, "restart: nothing runs on its CPU meanwhile");
	fake_now_ns = t4 + 1000000u;
	OK(kernel_idle(1) == vs, "restart: at the wake time it starts");
	u64 t5 = fake_now_ns;
	trap_event(vs, TRAP_MEM_FAULT, 0x7000000, IPC_ACCESS_WRITE);
	OK(vs->state == VCPU_BLOCKED_IRQ && vs->wake_ns == t5 + 2000000u,
	   "restart: the next one waits twice as long");
	OK(strstr(tsys_console(), "restarting it (5) after a pause") != NULL,
	   "restart: each pause is reported");
	fake_now_ns = t5 + 2000000u;
	OK(kernel_idle(1) == vs, "restart: and starts then");
	/* Up to the 25th: past ten, one report in ten; the wait stops growing at 1 s. */
	for (u32 i = 6; i <= 25; i++) {
		trap_event(vs, TRAP_MEM_FAULT, 0x7000000, IPC_ACCESS_WRITE);
		fake_now_ns = vs->wake_ns;
		kernel_idle(1);
	}
	const char *log = tsys_console();
	OK(strstr(log, "restarting it (10)") != NULL && strstr(log, "restarting it (11)") == NULL &&
	           strstr(log, "restarting it (19)") == NULL &&
	           strstr(log, "restarting it (20)") != NULL,
	   "restart: past the tenth, one report in ten");
	trap_event(vs, TRAP_MEM_FAULT, 0x7000000, IPC_ACCESS_WRITE);
	EQ(vs->wake_ns - fake_now_ns, 1000000000u, "restart: the wait stops growing at 1 s");
	fake_now_ns = vs->wake_ns;
	OK(kernel_idle(1) == vs, "restart: and it starts once more");
	/* Progress: it answers an access. */
	fake_cpu = 0;
	access(vg, RANGE + 0x18);
	fake_cpu = 1;
	OK(hc(vs, HC_RECV, 0, 0, 0) == vs, "restart: it receives an access");
	memset(vs->arch.regs, 0, sizeof(vs->arch.regs));
	vs->arch.regs[0] = HC_REPLY_RECV;
	vs->arch.regs[IPC_REG_WORD0] = IPC_MMIO_DONE;
	struct trap h = { .kind = TRAP_HYPERCALL };
	kernel_trap(vs, &h);
	OK(ps->replied, "restart: a reply is progress");
	vs->state = VCPU_RUNNING;
	cpu_sched[1].current = vs;
	trap_event(vs, TRAP_MEM_FAULT, 0x7000000, IPC_ACCESS_WRITE);
	OK(vs->state == VCPU_READY && ps->restart_streak == 0,
	   "restart: after progress, a crash restarts it at once again");
	fake_cpu = 0;
}

int main(void)
{
	test_crash_loop_backoff();
	test_preserved_and_serial();
	test_crash_mid_access();
	test_exit_restarts();
	test_remote_restart();
	test_not_restartable();
	return tap_finish();
}
