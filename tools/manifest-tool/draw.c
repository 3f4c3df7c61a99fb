/**
 * The picture of a system: partitions (boxes, with their private RAM),
 * shared regions and devices, IPC objects, and one edge per mapping and
 * per capability labelled with its rights. Since capabilities can only be
 * narrowed at run time, this graph bounds every information flow the
 * system will ever have (docs/manifest.md, "Drawing").
 *
 * Output is Graphviz DOT; dot (Debian's graphviz) renders it to SVG.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "manifest_internal.h"
#include "tool.h"

static const char *const type_names[] = { "service", "vm", "pvh" };

/** "4 KiB", "128 MiB": a short size for labels (static buffer, one use per call site). */
static const char *size_text(u64 size)
{
	static char buf[4][32];
	static u32 next;
	char *b = buf[next++ % 4u];
	if (size >= (UINT64_C(1) << 20) && (size & ((UINT64_C(1) << 20) - 1u)) == 0)
		snprintf(b, 32, "%llu MiB", (unsigned long long)(size >> 20));
	else
		snprintf(b, 32, "%llu KiB", (unsigned long long)(size >> 10));
	return b;
}

static void draw_partition(FILE *f, const struct config *cfg, u32 pi)
{
	const struct cfg_partition *p = &cfg->partitions[pi];
	fprintf(f,
	        "  p%u [shape=box, style=\"rounded,filled\", fillcolor=\"%s\", label=\"%s\\n%s, %u vCPU%s",
	        pi, p->type == PARTITION_SERVICE ? "#dbe9f6" : "#fde9c8", p->name,
	        type_names[p->type % 3u], p->vcpu_count, p->vcpu_count == 1 ? "" : "s");
	u64 all = (UINT64_C(1) << cfg->cpu_count) - 1u;
	for (u32 v = 0; v < p->vcpu_count; v++) {
		const struct cfg_vcpu *vc = &p->vcpus[v];
		if (vc->hard_affinity != all || vc->soft_affinity != vc->hard_affinity)
			fprintf(f, "\\nvCPU%u: CPUs 0x%llx, prefers 0x%llx", v,
			        (unsigned long long)vc->hard_affinity,
			        (unsigned long long)vc->soft_affinity);
	}
	if (p->sched_kind != CFG_SCHED_NONE)
		fprintf(f, "\\nschedules CPUs 0x%llx (%s)", (unsigned long long)p->sched_cpus,
		        p->sched_kind == CFG_SCHED_STATIC ? "null" : "credit2");
	for (u32 m = 0; m < p->mapping_count; m++) {
		const struct cfg_region *r = &cfg->regions[p->mappings[m].region];
		char rights[4];
		if (r->kind != REGION_RAM)
			continue;
		mf_mem_string(p->mappings[m].rights, rights);
		fprintf(f, "\\n%s %s %s @0x%llx", r->name, size_text(r->size), rights,
		        (unsigned long long)p->mappings[m].ipa);
	}
	fprintf(f, "\"];\n");
}

/** Private RAM shows inside its partition's box, unless a capability names it. */
static bool region_capped(const struct config *cfg, u32 ri)
{
	for (u32 i = 0; i < cfg->partition_count; i++) {
		const struct cfg_partition *p = &cfg->partitions[i];
		for (u32 k = 0; k < p->cap_count; k++) {
			if (p->caps[k].type == CAP_MEMORY && p->caps[k].object == ri)
				return true;
		}
	}
	return false;
}

static void draw_objects(FILE *f, const struct config *cfg)
{
	for (u32 i = 0; i < cfg->region_count; i++) {
		const struct cfg_region *r = &cfg->regions[i];
		char rights[4];
		if (r->kind == REGION_RAM && !region_capped(cfg, i))
			continue;
		mf_mem_string(r->rights, rights);
		if (r->kind == REGION_SHARED)
			fprintf(f,
			        "  r%u [shape=cylinder, style=filled, fillcolor=\"#e2f0d9\", label=\"%s\\nshared %s %s\"];\n",
			        i, r->name, size_text(r->size), rights);
		else if (r->kind == REGION_DEVICE)
			fprintf(f,
			        "  r%u [shape=component, label=\"%s\\ndevice 0x%llx+0x%llx\"];\n",
			        i, r->name, (unsigned long long)r->pa, (unsigned long long)r->size);
		else
			fprintf(f, "  r%u [shape=note, label=\"%s\\nprivate %s\"];\n", i, r->name,
			        size_text(r->size));
	}
	for (u32 i = 0; i < cfg->endpoint_count; i++)
		fprintf(f, "  e%u [shape=diamond, label=\"%s\\nendpoint\"];\n", i,
		        cfg->endpoint_names[i]);
	for (u32 i = 0; i < cfg->notification_count; i++)
		fprintf(f, "  n%u [shape=octagon, label=\"%s\\nnotification\"];\n", i,
		        cfg->notification_names[i]);
}

static void draw_edges(FILE *f, const struct config *cfg, u32 pi)
{
	const struct cfg_partition *p = &cfg->partitions[pi];
	for (u32 m = 0; m < p->mapping_count; m++) {
		const struct cfg_mapping *map = &p->mappings[m];
		char rights[4];
		if (cfg->regions[map->region].kind == REGION_RAM)
			continue;
		mf_mem_string(map->rights, rights);
		fprintf(f, "  p%u -> r%u [label=\"map %s\\n@0x%llx\"];\n", pi, map->region, rights,
		        (unsigned long long)map->ipa);
	}
	for (u32 i = 0; i < p->cap_count; i++) {
		const struct cfg_cap *c = &p->caps[i];
		/* The object's node, by capability type (a console names a notification). */
		static const char prefix[CAP_TYPE_LIMIT] = { '?', 'e', 'n', 'r', 'p', 'p', 'n' };
		char rights[64];
		mf_rights_string(c->type, c->rights, rights, sizeof(rights));
		fprintf(f, "  p%u -> %c%u [label=\"[%u] %s%s", pi, prefix[c->type % CAP_TYPE_LIMIT],
		        c->object, c->slot,
		        c->type == CAP_GUEST   ? "guest: " :
		        c->type == CAP_VCPUS   ? "vcpus: " :
		        c->type == CAP_CONSOLE ? "console: " :
		                                 "",
		        rights);
		if (c->badge != 0)
			fprintf(f, "\\nbadge 0x%llx", (unsigned long long)c->badge);
		fprintf(f, "\"%s];\n",
		        c->type == CAP_GUEST || c->type == CAP_VCPUS ? ", color=\"#b03030\"" : "");
	}
	if (p->fault_endpoint != CFG_NONE)
		fprintf(f, "  p%u -> e%u [style=dotted, label=\"faults\"];\n", pi,
		        p->fault_endpoint);
}

static void draw_dot(FILE *f, const struct config *cfg)
{
	fprintf(f,
	        "digraph manifest {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n"
	        "  edge [fontname=\"Helvetica\", fontsize=9];\n");
	for (u32 i = 0; i < cfg->partition_count; i++)
		draw_partition(f, cfg, i);
	draw_objects(f, cfg);
	for (u32 i = 0; i < cfg->partition_count; i++)
		draw_edges(f, cfg, i);
	for (u32 i = 0; i < cfg->emulated_count; i++) {
		const struct cfg_emulated *e = &cfg->emulated[i];
		if (e->kind == CFG_EMULATED_ROUTED || e->kind == CFG_EMULATED_ROUTED_PORTS) {
			fprintf(f,
			        "  w%u [shape=box, style=dashed, label=\"%s\\n0x%llx+0x%llx\\nrouted at run time\"];\n  w%u -> p%u [style=dashed];\n",
			        i, e->name, (unsigned long long)e->ipa, (unsigned long long)e->size,
			        i, e->guest);
			continue;
		}
		fprintf(f,
		        "  p%u -> p%u [style=dashed, label=\"emulates %s\\n0x%llx+0x%llx via %s\"];\n",
		        e->service, e->guest, e->name, (unsigned long long)e->ipa,
		        (unsigned long long)e->size, cfg->endpoint_names[e->endpoint]);
	}
	fprintf(f, "}\n");
}

bool tool_draw(const struct config *cfg, const char *out)
{
	size_t n = strlen(out);
	if (n > 4 && strcmp(out + n - 4, ".dot") == 0) {
		FILE *f = fopen(out, "w");
		if (f == NULL) {
			perror(out);
			return false;
		}
		draw_dot(f, cfg);
		return fclose(f) == 0;
	}
	int fds[2];
	if (pipe(fds) != 0)
		return false;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[0], 0);
		close(fds[0]);
		close(fds[1]);
		execlp("dot", "dot", "-Tsvg", "-o", out, (char *)NULL);
		perror("dot");
		_exit(127);
	}
	close(fds[0]);
	FILE *f = fdopen(fds[1], "w");
	if (pid < 0 || f == NULL)
		return false;
	draw_dot(f, cfg);
	fclose(f);
	int status = 0;
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "%s: dot failed\n", out);
		return false;
	}
	return true;
}
