/**
 * vCPUs and the seams around them: the vCPU queues (kernel/vcpu.c), what
 * boot hands each platform vCPU through arch_vcpu_reset, and the system-off
 * policy (kernel/power.c).
 */
#include "system.h"
#include "tap.h"
#include <kernel/power.h>
#include <string.h>

static void test_queue(void)
{
	struct vcpu v[4];
	struct vcpu_queue q = { 0 };
	memset(v, 0, sizeof(v));
	OK(vcpu_queue_pop(&q) == NULL, "queue: pop from an empty queue gives NULL");
	for (int i = 0; i < 4; i++)
		vcpu_queue_push(&q, &v[i]);
	OK(vcpu_queue_remove(&q, &v[3]), "queue: remove the tail");
	OK(q.tail == &v[2], "queue: the tail moves back");
	OK(vcpu_queue_remove(&q, &v[1]), "queue: remove from the middle");
	OK(!vcpu_queue_remove(&q, &v[1]), "queue: removing it again finds nothing");
	vcpu_queue_push(&q, &v[3]);
	OK(vcpu_queue_pop(&q) == &v[0] && vcpu_queue_pop(&q) == &v[2] &&
	           vcpu_queue_pop(&q) == &v[3],
	   "queue: the rest comes out first in, first out");
	OK(q.head == NULL && q.tail == NULL && vcpu_queue_pop(&q) == NULL,
	   "queue: empty again after the last pop");
	vcpu_queue_push(&q, &v[0]);
	OK(vcpu_queue_remove(&q, &v[0]) && q.head == NULL && q.tail == NULL,
	   "queue: removing the only vCPU empties it");
}

/*
 * The platform keeps the stage-2 root and vmid it is given at reset (for
 * VTTBR_EL2 / nCR3 + ASID) instead of reading the core's partition: each
 * vCPU must be given exactly its own partition's.
 */
static void test_reset_seam(void)
{
	tsys_reset(1);
	u32 a = tsys_partition("a", 2), b = tsys_partition("b", 1);
	tsys_boot();
	const struct partition *pa = &kernel.partitions[a], *pb = &kernel.partitions[b];
	OK(pa->s2.root.pa != pb->s2.root.pa && pa->s2.vmid != pb->s2.vmid,
	   "reset: the partitions have their own root table and vmid");
	bool own = true;
	for (u32 i = 0; i < 2; i++) {
		const struct vcpu *v = tsys_vcpu(a, i);
		own = own && v->arch.s2_root == pa->s2.root.pa && v->arch.vmid == pa->s2.vmid;
		own = own && v->arch.arg == i;
	}
	const struct vcpu *vb = tsys_vcpu(b, 0);
	own = own && vb->arch.s2_root == pb->s2.root.pa && vb->arch.vmid == pb->s2.vmid;
	OK(own, "reset: every vCPU gets its own partition's root, vmid and index");
	struct vcpu *v1 = tsys_vcpu(a, 1);
	arch_vcpu_power_on(&v1->arch, PARTITION_SERVICE, 0x200000, 7);
	OK(v1->arch.pc == 0x200000 && v1->arch.arg == 7 && v1->arch.s2_root == pa->s2.root.pa &&
	           v1->arch.vmid == pa->s2.vmid,
	   "reset: a power-on restarts the vCPU with its partition's root and vmid");
}

static void test_power_off(void)
{
	tsys_reset(1);
	u32 a = tsys_partition("a", 1), b = tsys_partition("b", 1);
	struct vcpu *cur = tsys_boot();
	OK(!FAKE_EXPECT_EXIT(power_off_if_finished()), "power: no power-off while vCPUs can run");
	struct vcpu *va = tsys_vcpu(a, 0), *vb = tsys_vcpu(b, 0);
	OK(cur == va, "power: a runs first");
	cur = hc(va, HC_EXIT, 0, 0, 0);
	OK(cur == vb, "power: b runs after a exits");
	fake_console_clear();
	fake_exit_status = -2;
	OK(FAKE_EXPECT_EXIT(hc(vb, HC_EXIT, 3, 0, 0)),
	   "power: the last exit powers the machine off");
	EQ(fake_exit_status, 1, "power: status 1 after a partition failed (exit code 3)");
	OK(strstr(fake_console(), "[hyp] system off: status=1") != NULL,
	   "power: the power-off is reported");
}

int main(void)
{
	test_queue();
	test_reset_seam();
	test_power_off();
	return tap_finish();
}
