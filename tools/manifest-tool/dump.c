/**
 * `check --print`: the parsed struct config as stable text, so tests can
 * compare what the parser built (placement, owners, defaults, masks), not
 * only what it rejected, and integrators can see where regions landed.
 */
#include <stdio.h>

#include "manifest_internal.h"
#include "tool.h"

static const char *const kind_names[] = { "ram", "shared", "device" };
static const char *const type_names[] = { "service", "vm", "pvh" };
static const char *const cap_names[CAP_TYPE_LIMIT] = { "null",   "endpoint", "notification",
	                                               "memory", "vcpus",    "guest",
	                                               "console" };

static const char *partition_name(const struct config *cfg, u32 i)
{
	return i < cfg->partition_count ? cfg->partitions[i].name : "-";
}

static const char *object_name(const struct config *cfg, const struct cfg_cap *c)
{
	switch (c->type) {
	case CAP_ENDPOINT:
		return cfg->endpoint_names[c->object];
	case CAP_NOTIFICATION:
	case CAP_CONSOLE:
		return cfg->notification_names[c->object];
	case CAP_MEMORY:
		return cfg->regions[c->object].name;
	default:
		return partition_name(cfg, c->object);
	}
}

static void dump_partition(const struct config *cfg, u32 pi)
{
	const struct cfg_partition *p = &cfg->partitions[pi];
	printf("partition %u %s %s image %s entry 0x%llx weight %u cap %u fault %s badge 0x%llx sched %u cpus 0x%llx\n",
	       pi, p->name, type_names[p->type % 3u], p->image, (unsigned long long)p->entry,
	       p->weight, p->cap_percent,
	       p->fault_endpoint == CFG_NONE ? "-" : cfg->endpoint_names[p->fault_endpoint],
	       (unsigned long long)p->fault_badge, p->sched_kind,
	       (unsigned long long)p->sched_cpus);
	if (p->dtb[0] != '\0')
		printf("  device-tree %s at 0x%llx\n", p->dtb, (unsigned long long)p->dtb_ipa);
	if (p->stage2_tables != CFG_NONE)
		printf("  stage2-tables %u\n", p->stage2_tables);
	for (u32 v = 0; v < p->vcpu_count; v++)
		printf("  vcpu %u hard 0x%llx soft 0x%llx\n", v,
		       (unsigned long long)p->vcpus[v].hard_affinity,
		       (unsigned long long)p->vcpus[v].soft_affinity);
	for (u32 m = 0; m < p->mapping_count; m++) {
		char r[4];
		mf_mem_string(p->mappings[m].rights, r);
		printf("  mapping %u %s ipa 0x%llx %s%s\n", m,
		       cfg->regions[p->mappings[m].region].name,
		       (unsigned long long)p->mappings[m].ipa, r,
		       m == p->image_mapping ? " load-image" : "");
	}
	for (u32 i = 0; i < p->cap_count; i++) {
		const struct cfg_cap *c = &p->caps[i];
		char r[64];
		mf_rights_string(c->type, c->rights, r, sizeof(r));
		printf("  cap %u %s %s %s badge 0x%llx\n", c->slot,
		       cap_names[c->type % CAP_TYPE_LIMIT], object_name(cfg, c), r,
		       (unsigned long long)c->badge);
	}
}

void tool_dump(const struct config *cfg)
{
	printf("cpus %u log-level %u sched-policy", cfg->cpu_count, cfg->log_level);
	for (u32 i = 0; i < cfg->cpu_count; i++)
		printf(" %s", cfg->sched_policy[i] == CFG_NONE ?
		                      "-" :
		                      partition_name(cfg, cfg->sched_policy[i]));
	printf("\n");
	for (u32 i = 0; i < cfg->region_count; i++) {
		const struct cfg_region *r = &cfg->regions[i];
		char rights[4];
		mf_mem_string(r->rights, rights);
		printf("region %u %s %s pa 0x%llx size 0x%llx %s %s owner %s%s\n", i, r->name,
		       kind_names[r->kind % 3u], (unsigned long long)r->pa,
		       (unsigned long long)r->size, r->pa_fixed ? "fixed" : "placed", rights,
		       partition_name(cfg, r->owner), r->preserve ? " preserve" : "");
	}
	for (u32 i = 0; i < cfg->device_count; i++) {
		const struct cfg_device *d = &cfg->devices[i];
		printf("device %u %s region %u owner %s irqs", i, d->name, d->region,
		       partition_name(cfg, d->owner));
		for (u32 k = 0; k < d->irq_count; k++)
			printf(" %u", d->irqs[k]);
		printf("\n");
	}
	for (u32 i = 0; i < cfg->endpoint_count; i++)
		printf("endpoint %u %s\n", i, cfg->endpoint_names[i]);
	for (u32 i = 0; i < cfg->notification_count; i++)
		printf("notification %u %s\n", i, cfg->notification_names[i]);
	for (u32 i = 0; i < cfg->partition_count; i++)
		dump_partition(cfg, i);
	for (u32 i = 0; i < cfg->emulated_count; i++) {
		const struct cfg_emulated *e = &cfg->emulated[i];
		bool ports = e->kind == CFG_EMULATED_PORTS;
		if (e->kind == CFG_EMULATED_ROUTED_PORTS) {
			printf("emulated %u %s guest %s routed ports 0x%llx count 0x%llx\n", i,
			       e->name, partition_name(cfg, e->guest), (unsigned long long)e->ipa,
			       (unsigned long long)e->size);
			continue;
		}
		if (e->kind == CFG_EMULATED_ROUTED) {
			printf("emulated %u %s guest %s routed ipa 0x%llx size 0x%llx%s\n", i,
			       e->name, partition_name(cfg, e->guest), (unsigned long long)e->ipa,
			       (unsigned long long)e->size, e->ecam ? " pci-ecam" : "");
			continue;
		}
		printf("emulated %u %s guest %s service %s endpoint %s %s 0x%llx %s 0x%llx\n", i,
		       e->name, partition_name(cfg, e->guest), partition_name(cfg, e->service),
		       cfg->endpoint_names[e->endpoint], ports ? "ports" : "ipa",
		       (unsigned long long)e->ipa, ports ? "count" : "size",
		       (unsigned long long)e->size);
	}
}
