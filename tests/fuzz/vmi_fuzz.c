/**
 * libFuzzer target for the vmi service (services/vmi/): the input is a guest memory image
 * (its length in the first byte) followed by a sequence of steps, each one of
 *   - a monitor request (any label and words, through vmi_request's decoding, from the
 *     monitor, the target itself or a stranger),
 *   - a stage-2 violation, a register, MSR or single-step trap as the kernel would report it
 *     (any vCPU, gfn, access bits and manifest rights),
 *   - an arm64 or x86 stage-1 walk with any register values over the fuzzed guest memory.
 * After every step it checks the engine's invariants: the ring holds at most 8 events; view 0
 * exists; every view's page entries are sorted, unique, in range, and never W, WX or DEFAULT;
 * remaps stay inside guest RAM; every vCPU's view exists; without a ring no vCPU is paused;
 * effective rights never exceed the manifest's. For a walk: a successful translation has a
 * power-of-two size of at least 4 KiB, an address below 2^52, permissions within VMI_P_ALL,
 * a level in range; a fault names a level in range. Any breach aborts (a finding).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

#define TARGET 3
#define MON 7
#define MEM_BASE 0x40000u
#define MEM_SIZE 0x8000u
#define GFNS 64u

static struct vmi_guest g;
static uint8_t mem[MEM_SIZE];

static bool rd(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
	(void)ctx;
	if (size != 1 && size != 2 && size != 4 && size != 8)
		abort(); /* the walker only asks for these */
	if (gpa < MEM_BASE || gpa - MEM_BASE > MEM_SIZE - size)
		return false;
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)mem[gpa - MEM_BASE + i] << (8 * i);
	*val = v;
	return true;
}

struct input {
	const uint8_t *p;
	size_t left;
};

static uint64_t take(struct input *in, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes && in->left != 0; i++, in->left--, in->p++)
		v |= (uint64_t)in->p[0] << (8 * i);
	return v;
}

/** Small values most of the time so that requests reach past the argument checks. */
static uint64_t arg(struct input *in)
{
	uint8_t kind = (uint8_t)take(in, 1);
	switch (kind & 3u) {
	case 0:
		return kind >> 2;
	case 1:
		return take(in, 1);
	case 2:
		return take(in, 2);
	default:
		return take(in, 8);
	}
}

static void check_invariants(void)
{
	if (g.ring_count > VMI_RING_SLOTS || g.ring_head >= VMI_RING_SLOTS || !g.views[0].used)
		abort();
	for (unsigned v = 0; v < VMI_MAX_VIEWS; v++) {
		const struct vmi_view *view = &g.views[v];
		if (!view->used)
			continue;
		if (view->page_count > VMI_MAX_PAGES || view->remap_count > VMI_MAX_REMAPS ||
		    !vmi_access_valid(view->default_access, false))
			abort();
		for (unsigned i = 0; i < view->page_count; i++) {
			if (view->pages[i].gfn >= GFNS ||
			    !vmi_access_valid(view->pages[i].access, false))
				abort();
			if (i > 0 && view->pages[i - 1].gfn >= view->pages[i].gfn)
				abort();
		}
		for (unsigned i = 0; i < view->remap_count; i++)
			if (view->remaps[i].old_gfn >= GFNS || view->remaps[i].new_gfn >= GFNS)
				abort();
		for (uint64_t gfn = 0; gfn < GFNS; gfn += 7)
			for (unsigned m = 0; m <= VMI_RWX; m++)
				if (vmi_effective(&g, v, gfn, m) & ~m)
					abort();
	}
	for (unsigned i = 0; i < g.cfg.vcpu_count; i++) {
		const struct vmi_vcpu *c = &g.vcpus[i];
		if (c->view >= VMI_MAX_VIEWS || !g.views[c->view].used)
			abort();
		if (!g.ring_enabled && (c->sync_paused || c->ring_paused || c->slot_wait))
			abort();
	}
}

static void check_walk(enum vmi_walk_status st, const struct vmi_walk *w, bool x86)
{
	if (st == VMI_WALK_OK) {
		if (w->size < 4096 || (w->size & (w->size - 1)) != 0 || w->gpa >> 52 != 0 ||
		    (w->perm & ~VMI_P_ALL) != 0 || w->level > (x86 ? 4 : 3))
			abort();
	} else if (st > VMI_WALK_BAD_ARG || w->level > (x86 ? 5 : 3)) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	/*
	 * The first byte says how much of the input (0-960 bytes, in 64-byte steps) seeds the
	 * start of guest memory, where the walks' tables begin; the steps follow.
	 */
	memset(mem, 0, sizeof(mem));
	const uint8_t first = (uint8_t)take(&in, 1);
	size_t seed = (size_t)(first % 16) * 64;
	if (seed > in.left)
		seed = in.left;
	memcpy(mem, in.p, seed);
	in.p += seed;
	in.left -= seed;

	struct vmi_guest_config c = { .id = TARGET,
		                      .monitor_id = MON,
		                      .is_x86 = (size & 1u) != 0,
		                      .vcpu_count = (uint16_t)(1 + size % VMI_MAX_VCPUS),
		                      .gfn_count = GFNS,
		                      .ring_pfn_set = (size & 2u) != 0 || size % 3 != 0,
		                      .altp2m_allowed = (size & 4u) == 0,
		                      .access_required = (size & 8u) != 0 };
	if (vmi_guest_init(&g, &c) != VMI_OK)
		abort();
	if (first & 0x10u) {
		/* A monitor already at work, so that short inputs reach the deep states. */
		uint32_t view;
		(void)vmi_ring_enable(&g, MON);
		(void)vmi_altp2m_set_state(&g, MON, true);
		(void)vmi_altp2m_create(&g, MON, VMI_ACCESS_RX, &view);
		(void)vmi_altp2m_create(&g, MON, VMI_ACCESS_N2RWX, &view);
		(void)vmi_set_access(&g, MON, 0, 0, 16,
		                     (first >> 5) % 8 == 2 ? 1 : (first >> 5) % 8);
	}
	struct vmi_walk_ctx walk[VMI_MAX_VCPUS] = { 0 };
	for (unsigned i = 0; i < VMI_MAX_VCPUS; i++) {
		walk[i].is_x86 = c.is_x86;
		walk[i].read = rd;
	}

	for (unsigned steps = 0; in.left != 0 && steps < 512; steps++) {
		const uint8_t kind = (uint8_t)take(&in, 1);
		const uint16_t vcpu = (uint16_t)(kind >> 4 & 7u);
		switch (kind & 15u) {
		case 0:
		case 1:
		case 2:
		case 3: {
			struct vmi_msg m = { .label = take(&in, 1) % 20 }, out;
			struct vmi_effects fx;
			/* Operations use 0 to 6 words; the rest must be zero to pass decoding. */
			const unsigned words = (unsigned)take(&in, 1) % (IPC_MSG_WORDS + 1);
			for (unsigned i = 0; i < words; i++)
				m.w[i] = arg(&in);
			const uint16_t caller = (kind & 3u) != 3 ? MON :
			                                           (uint16_t)take(&in, 1) % 10;
			int rc = vmi_request(&g, walk, caller, &m, &out, &fx);
			if ((int64_t)out.label != rc || (caller != MON && rc == VMI_OK))
				abort();
			break;
		}
		case 4:
		case 5:
		case 6: {
			struct vmi_fault f = { .vcpu = vcpu,
				               .gfn = arg(&in),
				               .offset = arg(&in),
				               .access = 1u << (take(&in, 1) % 4),
				               .manifest = (unsigned)take(&in, 1) & 7u,
				               .gla_valid = kind & 0x80u,
				               .gla = arg(&in),
				               .pc = arg(&in) };
			bool rp = false;
			enum vmi_fault_outcome o = vmi_violation(&g, &f, &rp);
			if (o > VMI_FO_BAD || (rp && vmi_vcpu_runnable(&g, vcpu)))
				abort();
			break;
		}
		case 7: {
			bool rp;
			uint64_t old = arg(&in), val = arg(&in);
			if (vmi_reg_write(&g, vcpu, (uint32_t)take(&in, 1) % 12, old, val, 0, &rp) >
			    VMI_WO_BAD)
				abort();
			break;
		}
		case 8: {
			bool rp;
			uint64_t msr = take(&in, 1) & 1 ? 0xc0000000u + take(&in, 2) : take(&in, 2);
			if (vmi_msr_write(&g, vcpu, msr, 0, arg(&in), 0, &rp) > VMI_WO_BAD)
				abort();
			break;
		}
		case 9: {
			bool rp;
			if (vmi_singlestep_trap(&g, vcpu, arg(&in), arg(&in), &rp) > VMI_FO_BAD)
				abort();
			break;
		}
		case 10: {
			struct vmi_event ev;
			uint32_t woken = 0;
			(void)vmi_ring_get(&g, &ev, &woken);
			for (unsigned i = 0; i < VMI_MAX_VCPUS; i++)
				if ((woken >> i & 1u) && !vmi_vcpu_runnable(&g, (uint16_t)i))
					abort();
			break;
		}
		case 11:
		case 12: {
			/* A walk with fuzzed registers; table bases land in guest memory often. */
			struct vmi_walk w;
			enum vmi_walk_status st;
			if (kind & 1u) {
				struct vmi_arm64_regs r = { .sctlr_el1 = take(&in, 1),
					                    .tcr_el1 = take(&in, 8),
					                    .ttbr0_el1 = MEM_BASE + take(&in, 2),
					                    .ttbr1_el1 = MEM_BASE + take(&in, 2) };
				st = vmi_walk_arm64(&r, take(&in, 8), rd, NULL, &w);
				check_walk(st, &w, false);
				walk[vcpu].arm64 = r;
			} else {
				struct vmi_x86_regs r = { .cr0 = take(&in, 4) | (1u << 31),
					                  .cr3 = MEM_BASE + take(&in, 2),
					                  .cr4 = take(&in, 4),
					                  .efer = take(&in, 2),
					                  .maxphyaddr = (uint8_t)take(&in, 1) };
				st = vmi_walk_x86(&r, take(&in, 8), rd, NULL, &w);
				check_walk(st, &w, true);
				walk[vcpu].x86 = r;
			}
			break;
		}
		default: {
			/* A response from the monitor with likely-valid fields. */
			struct vmi_response r = { .version = take(&in, 1) & 1 ? VMI_EVENT_VERSION :
				                                                1,
				                  .flags = (uint32_t)arg(&in),
				                  .vcpu = vcpu,
				                  .view = (uint16_t)(take(&in, 1) % 12) };
			struct vmi_action a;
			int rc = vmi_respond(&g, MON, &r, &a);
			if (rc != VMI_OK && rc != VMI_IGNORED)
				abort();
			if (a.skip + a.emulate + a.emulate_nowrite > 1 ||
			    (a.commit_write && a.drop_write))
				abort();
			break;
		}
		}
		check_invariants();
	}
	return 0;
}
