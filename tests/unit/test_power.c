/** vCPU power (kernel/vcpu_power.c) on the fake platform. */
#include "system.h"
#include "tap.h"
#include <kernel/vcpu_power.h>
#include <string.h>

static struct vcpu *power(struct vcpu *v, enum power_op op, u32 target, u64 entry, u64 arg,
                          enum power_result *r)
{
	struct power_req req = { .op = op, .target = target, .entry = entry, .arg = arg };
	return kernel_power(v, &req, r);
}

static void test_cpu_on_off(void)
{
	tsys_reset(1);
	u32 g = tsys_partition("guest", 2), o = tsys_partition("other", 1);
	kernel.cfg.partitions[g].type = PARTITION_VM;
	struct vcpu *v0 = tsys_vcpu(g, 0), *v1 = tsys_vcpu(g, 1), *vo = tsys_vcpu(o, 0);
	enum power_result r;
	OK(tsys_boot() == v0, "power: a VM's vCPU 0 runs first");
	EQ(v1->state, VCPU_OFF, "power: a VM's other vCPUs start powered off");
	OK(power(v0, POWER_AFFINITY_INFO, 1, 0, 0, &r) == v0 && r == POWER_IS_OFF,
	   "power: AFFINITY_INFO says vCPU 1 is off");
	power(v0, POWER_CPU_ON, 2, 0x100000, 0, &r);
	EQ(r, POWER_NO_SUCH_VCPU, "power: CPU_ON of a vCPU the partition does not have");
	power(v0, POWER_CPU_ON, 1, 0x40000000, 0, &r);
	EQ(r, POWER_BAD_ENTRY, "power: CPU_ON outside the partition's memory");
	power(v0, POWER_CPU_ON, 1, 0x100000 + 4096, 0, &r);
	EQ(r, POWER_BAD_ENTRY, "power: CPU_ON one byte past its mapping (4 KiB)");
	power(v0, POWER_CPU_ON, 1, 0x100002, 0, &r);
	EQ(r, POWER_BAD_ENTRY, "power: CPU_ON at a misaligned entry");
	power(v0, POWER_CPU_ON, 0, 0x100000, 0, &r);
	EQ(r, POWER_ALREADY_ON, "power: CPU_ON of a running vCPU");
	u32 resets = v1->arch.reset_count;
	OK(power(v0, POWER_CPU_ON, 1, 0x100800, 0x77, &r) == v0 && r == POWER_OK,
	   "power: CPU_ON of vCPU 1 succeeds and the caller runs on");
	EQ(v1->state, VCPU_READY, "power: vCPU 1 is ready");
	OK(v1->arch.pc == 0x100800 && v1->arch.arg == 0x77 && v1->arch.reset_count == resets + 1,
	   "power: vCPU 1 reset at the entry with the argument");
	power(v0, POWER_CPU_ON, 1, 0x100800, 0, &r);
	EQ(r, POWER_ALREADY_ON, "power: a second CPU_ON finds it on");
	struct vcpu *next = trap_event(v0, TRAP_TIMER, 0, 0);
	next = next == vo ? trap_event(vo, TRAP_TIMER, 0, 0) : next;
	OK(next == v1, "power: vCPU 1 gets the CPU");
	next = power(v1, POWER_CPU_OFF, 0, 0, 0, &r);
	OK(next != v1 && v1->state == VCPU_OFF, "power: CPU_OFF powers the caller off");
	OK(!kernel.partitions[g].stopped, "power: CPU_OFF leaves the partition running");
}

static void test_off_gives_up_reply(void)
{
	tsys_reset(1);
	u32 c = tsys_partition("client", 1), s = tsys_partition("server", 2);
	kernel.cfg.partitions[s].type = PARTITION_VM;
	u32 ep = tsys_endpoint();
	tsys_cap(c, 0, CAP_ENDPOINT, ep, RIGHT_EP_SEND, 0);
	tsys_cap(s, 0, CAP_ENDPOINT, ep, RIGHT_EP_RECV, 0);
	struct vcpu *vc = tsys_vcpu(c, 0), *vs = tsys_vcpu(s, 0);
	enum power_result r;
	tsys_boot();
	OK(hc(vc, HC_CALL, 0, 0, 0) == vs, "power: the client's call waits; the server runs");
	OK(hc(vs, HC_RECV, 0, 0, 0) == vs && vs->caller == vc, "power: server holds the reply");
	struct vcpu *next = power(vs, POWER_CPU_OFF, 0, 0, 0, &r);
	OK(next == vc && reg(vc, 0) == STATUS_PEER_STOPPED,
	   "power: a vCPU powering off releases its caller with PEER_STOPPED");
	OK(vs->caller == NULL && vs->state == VCPU_OFF, "power: the server vCPU is off");
}

static void test_system_off(void)
{
	tsys_reset(1);
	u32 g = tsys_partition("guest", 2), o = tsys_partition("other", 1);
	kernel.cfg.partitions[g].type = PARTITION_VM;
	struct vcpu *v0 = tsys_vcpu(g, 0), *v1 = tsys_vcpu(g, 1), *vo = tsys_vcpu(o, 0);
	enum power_result r;
	tsys_boot();
	OK(power(v0, POWER_SYSTEM_OFF, 0, 0, 0, &r) == vo, "power: SYSTEM_OFF, the other runs");
	OK(kernel.partitions[g].stopped && v0->state == VCPU_STOPPED && v1->state == VCPU_STOPPED,
	   "power: SYSTEM_OFF stops every vCPU of that partition, the off ones too");
	EQ(kernel.exit_status, 0, "power: SYSTEM_OFF is a clean stop");
	OK(strstr(tsys_console(), "partition 'guest' stopped: system off requested") != NULL,
	   "power: the stop is reported");
	OK(!kernel.partitions[o].stopped, "power: the other partition runs on");
}

static void test_services_start_all(void)
{
	tsys_reset(1);
	u32 s = tsys_partition("svc", 2);
	tsys_boot();
	EQ(tsys_vcpu(s, 1)->state, VCPU_READY, "power: a service's vCPUs all start");
}

int main(void)
{
	test_cpu_on_off();
	test_off_gives_up_reply();
	test_system_off();
	test_services_start_all();
	return tap_finish();
}
