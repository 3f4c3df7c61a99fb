/** Small systems for host tests (see system.h). */
#include "system.h"
#include <kernel/console.h>
#include <kernel/lock.h>
#include <stdio.h>
#include <string.h>

#define TSYS_RAM_PAGES 16u

static unsigned char tsys_ram[TSYS_RAM_PAGES][4096] __attribute__((aligned(4096)));

void tsys_reset(u32 cpu_count)
{
	memset(&kernel, 0, sizeof(kernel));
	memset(cpu_sched, 0, sizeof(cpu_sched));
	memset(&sched, 0, sizeof(sched));
	/* A test that ended in plat_system_off longjmp'd out holding the lock. */
	kernel_lock.value = 0;
	kernel.cfg.cpu_count = cpu_count;
	kernel.cpu_count = cpu_count;
	fake_cpu = 0;
	fake_setup_calls = 0;
	fake_setup_irqs = 0;
	fake_setup_refuse = NULL;
	fake_console_room = UINT32_MAX;
	console_flush_sync(); /* what an earlier test left buffered */
	fake_console_clear();
}

u32 tsys_partition(const char *name, u32 vcpu_count)
{
	struct config *cfg = &kernel.cfg;
	u32 index = cfg->partition_count++;
	u32 region = cfg->region_count++;
	struct cfg_region *r = &cfg->regions[region];
	snprintf(r->name, sizeof(r->name), "%s-ram", name);
	r->kind = REGION_RAM;
	r->size = 4096;
	r->pa = (u64)(uintptr_t)tsys_ram[index % TSYS_RAM_PAGES];
	r->rights = RIGHT_MEM_READ | RIGHT_MEM_WRITE | RIGHT_MEM_EXEC;
	r->owner = index;
	struct cfg_partition *p = &cfg->partitions[index];
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->type = PARTITION_SERVICE;
	p->entry = 0x100000;
	p->weight = 256;
	p->vcpu_count = vcpu_count;
	for (u32 i = 0; i < vcpu_count; i++)
		p->vcpus[i] = (struct cfg_vcpu){ .hard_affinity = ~UINT64_C(0),
			                         .soft_affinity = ~UINT64_C(0) };
	p->mapping_count = 1;
	p->mappings[0] =
	        (struct cfg_mapping){ .region = region, .ipa = 0x100000, .rights = r->rights };
	p->fault_endpoint = CFG_NONE;
	return index;
}

u32 tsys_endpoint(void)
{
	return kernel.cfg.endpoint_count++;
}

u32 tsys_notification(void)
{
	return kernel.cfg.notification_count++;
}

void tsys_cap(u32 partition, u32 slot, u32 type, u32 object, u32 rights, u64 badge)
{
	struct cfg_partition *p = &kernel.cfg.partitions[partition];
	p->caps[p->cap_count++] = (struct cfg_cap){
		.slot = slot, .type = type, .object = object, .rights = rights, .badge = badge
	};
}

struct vcpu *tsys_boot(void)
{
	struct boot_info bi = { .cpu_count = kernel.cpu_count };
	struct vcpu *first = boot_build_system(&bi);
	console_flush_sync(); /* the boot lines, as the first trap exit would */
	return first;
}

struct vcpu *tsys_vcpu(u32 partition, u32 index)
{
	/* Boot lays vCPUs out in partition order; valid before and after boot. */
	u32 first = 0;
	for (u32 i = 0; i < partition; i++)
		first += kernel.cfg.partitions[i].vcpu_count;
	return &kernel.vcpus[first + index];
}

struct vcpu *hc(struct vcpu *v, u64 nr, u64 r1, u64 r2, u64 r3)
{
	memset(v->arch.regs, 0, sizeof(v->arch.regs));
	v->arch.regs[0] = nr;
	v->arch.regs[1] = r1;
	v->arch.regs[2] = r2;
	v->arch.regs[3] = r3;
	struct trap t = { .kind = TRAP_HYPERCALL };
	return kernel_trap(v, &t);
}

struct vcpu *trap_event(struct vcpu *v, enum trap_kind kind, u64 address, u32 access)
{
	struct trap t = { .kind = kind, .address = address, .access = access, .what = "test fault" };
	return kernel_trap(v, &t);
}

const char *tsys_console(void)
{
	console_drain_idle();
	return fake_console();
}
