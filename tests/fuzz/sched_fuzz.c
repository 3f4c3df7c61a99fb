/**
 * libFuzzer target for the scheduling policies (services/sched/: null and Credit2), driven
 * through the host simulator (tests/unit/sched_sim.c). The input picks the policy, the CPU
 * count and (Credit2) the runqueue layout, then a sequence of operations: vCPUs created with
 * random workloads and destroyed, blocked and woken, random hard and soft affinities, domain
 * weights and caps, ratelimits, CPUs leaving and joining, malformed events, and stretches of
 * virtual time. Checked after every operation (abort on failure):
 *  - the simulator's invariants: a vCPU runs only if it exists and is runnable, never outside
 *    its hard affinity, never on two CPUs at once; no answer overflows;
 *  - a CPU outside the pool runs nothing;
 *  - a capped domain never runs more than its cap in any cap period (the largest cap it had
 *    since the cap was turned on);
 *  - Credit2: each CPU's current vCPU is RUNNING there and every RUNNING vCPU is some CPU's
 *    current; a cap pool never holds more than one period's budget; slices are non-zero;
 *  - null: at most one vCPU per CPU, CPU and vCPU agree, waiters hold no CPU and appear once;
 *  - malformed events and controls are refused with an error and change nothing visible.
 * ASan and UBSan catch out-of-bounds accesses, overflows and undefined behaviour.
 */
#include <stdlib.h>
#include <string.h>

#include "sched_sim.h"

struct input {
	const unsigned char *data;
	size_t size;
};

static uint32_t take(struct input *in, unsigned bytes)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < bytes; i++) {
		v <<= 8;
		if (in->size != 0) {
			v |= *in->data++;
			in->size--;
		}
	}
	return v;
}

static struct sim m;
static uint32_t cap_max[SCHED_MAX_DOMS];

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void check_null(void)
{
	const struct null_sched *s = &m.p.null;
	check(s->wait_count <= SCHED_MAX_VCPUS);
	for (uint32_t c = 0; c < SCHED_MAX_CPUS; c++) {
		uint32_t v = s->cpu_vcpu[c];
		if (v == SCHED_NO_VCPU)
			continue;
		check(v < SCHED_MAX_VCPUS && s->vcpu[v].exists && s->vcpu[v].cpu == c);
		check(sched_mask_has(s->online, c));
	}
	for (uint32_t v = 0; v < SCHED_MAX_VCPUS; v++) {
		const struct null_vcpu *nv = &s->vcpu[v];
		uint32_t seen = 0;
		for (uint32_t i = 0; i < s->wait_count; i++)
			seen += s->wait[i] == v;
		if (!nv->exists) {
			check(seen == 0 && nv->cpu == 0xff);
			continue;
		}
		check(nv->cpu == 0xff ? seen == 1 : seen == 0);
		if (nv->cpu != 0xff)
			check(s->cpu_vcpu[nv->cpu] == v);
	}
}

static void check_credit2(void)
{
	const struct c2_sched *s = &m.p.c2;
	for (uint32_t c = 0; c < SCHED_MAX_CPUS; c++) {
		uint32_t v = s->cpu[c].cur;
		if (v == SCHED_NO_VCPU)
			continue;
		check(sched_mask_has(s->online, c));
		check(v < SCHED_MAX_VCPUS && s->vcpu[v].state == C2_RUNNING && s->vcpu[v].cpu == c);
	}
	for (uint32_t v = 0; v < SCHED_MAX_VCPUS; v++)
		if (s->vcpu[v].state == C2_RUNNING)
			check(s->vcpu[v].cpu < SCHED_MAX_CPUS && s->cpu[s->vcpu[v].cpu].cur == v);
	for (uint32_t d = 0; d < SCHED_MAX_DOMS; d++)
		if (s->dom[d].cap != 0)
			check(s->dom[d].pool <= s->dom[d].tot_budget);
	for (uint32_t i = 0; i < m.out.count; i++)
		if (m.out.d[i].kind == SCHED_DEC_RUN)
			check(m.out.d[i].slice != 0);
}

static void check_all(void)
{
	check(m.violations == 0);
	sched_cpumask_t online = m.kind == SIM_NULL ? m.p.null.online : m.p.c2.online;
	for (uint32_t c = 0; c < m.cpu_count; c++)
		if (!sched_mask_has(online, c))
			check(m.cpu[c].vcpu == SCHED_NO_VCPU);
	for (uint32_t d = 0; d < SCHED_MAX_DOMS; d++) {
		uint64_t bound = (uint64_t)C2_CAP_PERIOD * cap_max[d] / 100;
		if (m.dom[d].capped)
			check(m.dom[d].win_max <= bound && m.dom[d].win_ran <= bound);
	}
	if (m.kind == SIM_NULL)
		check_null();
	else
		check_credit2();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	uint32_t head = take(&in, 1);
	uint32_t cpus = 1 + (head >> 1) % 8;
	if (head & 1)
		sim_init_null(&m, cpus);
	else if (sim_init_credit2(&m, cpus, take(&in, 1) % 5) != SCHED_OK)
		abort();
	memset(cap_max, 0, sizeof(cap_max));
	for (uint32_t step = 0; step < 400 && in.size != 0; step++) {
		uint32_t op = take(&in, 1) % 10, v = take(&in, 1) % (SCHED_MAX_VCPUS + 2);
		struct sim_vcpu *sv = v < SCHED_MAX_VCPUS ? &m.vcpu[v] : NULL;
		bool exists = sv != NULL && sv->exists;
		int rc;
		switch (op) {
		case 0: {
			uint32_t dom = take(&in, 1) % (SCHED_MAX_DOMS + 1);
			uint64_t run = (uint64_t)(take(&in, 1) % 4) * take(&in, 2) * 100;
			uint64_t sleep = (uint64_t)take(&in, 2) * 100;
			rc = sim_create(&m, v, dom, run, sleep);
			check((rc == SCHED_OK) ==
			      (v < SCHED_MAX_VCPUS && !exists && dom < SCHED_MAX_DOMS));
			break;
		}
		case 1:
			if (exists)
				sv->exists = false;
			rc = sim_event(&m, SCHED_EV_STOPPED, 0, v, 0);
			check((rc == SCHED_OK) == exists);
			break;
		case 2:
			if (exists && sv->runnable) {
				sv->runnable = false;
				sv->wake_at = m.now + (uint64_t)take(&in, 2) * 1000;
			}
			rc = sim_event(&m, SCHED_EV_BLOCKED, 0, v, 0);
			check((rc == SCHED_OK) == exists);
			break;
		case 3:
			if (exists && !sv->runnable) {
				sv->runnable = true;
				sv->wait_start = m.now;
			}
			rc = sim_event(&m, SCHED_EV_WOKEN, 0, v, 0);
			check((rc == SCHED_OK) == exists);
			break;
		case 4: {
			sched_cpumask_t hard = take(&in, 1), soft = take(&in, 1);
			sched_cpumask_t before = exists ? sv->hard : 0;
			rc = sim_affinity(&m, v < SCHED_MAX_VCPUS ? v : 1000, hard, soft);
			if (rc != SCHED_OK && exists)
				check(sv->hard == before);
			if (!exists)
				check(rc == SCHED_ENOENT);
			break;
		}
		case 5: {
			uint32_t dom = take(&in, 1) % (SCHED_MAX_DOMS + 1);
			uint32_t weight = take(&in, 3) % 70000, cap = take(&in, 2) % 900;
			if (m.kind != SIM_CREDIT2)
				break;
			rc = sim_set_dom(&m, dom, weight, cap);
			check(rc != SCHED_OK || (weight <= C2_WEIGHT_MAX && dom < SCHED_MAX_DOMS));
			if (rc == SCHED_OK && cap == 0)
				cap_max[dom] = 0;
			else if (rc == SCHED_OK && cap > cap_max[dom])
				cap_max[dom] = cap;
			break;
		}
		case 6:
			if (m.kind == SIM_CREDIT2) {
				uint32_t us = take(&in, 3) % 600000;
				rc = c2_set_ratelimit(&m.p.c2, us);
				check((rc == SCHED_OK) == (us == 0 || (us >= 100 && us <= 500000)));
			}
			break;
		case 7:
			sim_run(&m, (uint64_t)take(&in, 2) * 500);
			break;
		case 8: {
			/* One of the machine's CPUs, or one out of range (refused). */
			uint32_t cpu = take(&in, 1) % (cpus + 1);
			if (cpu == cpus)
				cpu = SCHED_MAX_CPUS + (v & 0xf);
			rc = sim_event(&m, (v & 1) ? SCHED_EV_CPU_ADD : SCHED_EV_CPU_REMOVE, cpu, 0,
			               0);
			if (cpu >= SCHED_MAX_CPUS)
				check(rc != SCHED_OK);
			break;
		}
		default: {
			/* Malformed: a vCPU nobody created, a CPU out of range, an unknown kind. */
			uint32_t kind = take(&in, 1);
			uint32_t bad = SCHED_MAX_VCPUS + take(&in, 2);
			if (kind == SCHED_EV_SLICE_END || kind == SCHED_EV_CPU_IDLE) {
				rc = sim_event(&m, kind, SCHED_MAX_CPUS + take(&in, 1), 0, 0);
				check(rc == SCHED_EINVAL);
			} else if (kind >= SCHED_EV_COUNT || kind == SCHED_EV_WOKEN ||
			           kind == SCHED_EV_BLOCKED || kind == SCHED_EV_STOPPED ||
			           kind == SCHED_EV_CREATED) {
				rc = sim_event(&m, kind, 0, bad, 0);
				check(rc == SCHED_EINVAL);
			}
			break;
		}
		}
		check_all();
	}
	return 0;
}
