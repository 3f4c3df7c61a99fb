/**
 * Host tests of the vmi service's request decoding (services/vmi/request.c): every label
 * reaches its operation, malformed messages (unknown label, stray words, values out of range)
 * are -EINVAL and change nothing, events survive encoding, and the walker answers TRANSLATE
 * and READ_VA for a vCPU's translation state.
 */
#include <string.h>

#include "tap.h"
#include "request.h"

#define TARGET 3
#define MON 7

static struct vmi_guest g;
static uint8_t mem[0x4000]; /* guest memory at gpa 0x10000 */

static bool rd(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
	(void)ctx;
	if (gpa < 0x10000 || gpa - 0x10000 > sizeof(mem) - size)
		return false;
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)mem[gpa - 0x10000 + i] << (8 * i);
	*val = v;
	return true;
}

static int req(uint64_t label, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3,
               struct vmi_msg *out, struct vmi_effects *fx)
{
	struct vmi_msg in = { .label = label, .w = { w0, w1, w2, w3, 0, 0 } };
	return vmi_request(&g, NULL, MON, &in, out, fx);
}

int main(void)
{
	struct vmi_guest_config c = { .id = TARGET,
		                      .monitor_id = MON,
		                      .vcpu_count = 2,
		                      .gfn_count = 1024,
		                      .ring_pfn_set = true,
		                      .altp2m_allowed = true };
	vmi_guest_init(&g, &c);
	struct vmi_msg out;
	struct vmi_effects fx;

	EQ(req(0, 0, 0, 0, 0, &out, &fx), VMI_EINVAL, "label 0: -EINVAL");
	EQ(req(99, 0, 0, 0, 0, &out, &fx), VMI_EINVAL, "unknown label: -EINVAL");
	EQ((int64_t)out.label, VMI_EINVAL, "  the answer's label carries the status");
	EQ(req(VMI_OP_RING_ENABLE, 1, 0, 0, 0, &out, &fx), VMI_EINVAL, "a stray word: -EINVAL");
	OK(!g.ring_enabled, "  nothing done");
	EQ(req(VMI_OP_SET_ACCESS, 0, 5, 1, UINT64_C(1) << 32 | 1, &out, &fx), VMI_EINVAL,
	   "access type above 32 bits: -EINVAL");
	EQ(vmi_view_access(&g, 0, 5), VMI_ACCESS_RWX, "  nothing changed");
	EQ(req(VMI_OP_SET_ACCESS, 0, 5, 1, VMI_ACCESS_R, &out, &fx), VMI_OK, "SET_ACCESS");
	OK(fx.views_changed, "  the glue resynchronises stage 2");
	EQ(req(VMI_OP_GET_ACCESS, 0, 5, 0, 0, &out, &fx), VMI_OK, "GET_ACCESS");
	EQ(out.w[0], VMI_ACCESS_R, "  r");
	EQ(req(VMI_OP_MONITOR_MSR, 0x10, 2, 0, 0, &out, &fx), VMI_EINVAL, "enable flag 2: -EINVAL");
	EQ(req(VMI_OP_MONITOR_REG, VMI_REG_ARM_TCR, 8, 0, 0, &out, &fx), VMI_EINVAL,
	   "unknown monitor flag: -EINVAL");
	EQ(req(VMI_OP_MONITOR_REG, VMI_REG_ARM_TCR, VMI_MON_ENABLE | VMI_MON_SYNC, 0, 0, &out, &fx),
	   VMI_OK, "MONITOR_REG TCR_EL1 sync");
	OK(g.regs[VMI_REG_ARM_TCR].enabled && g.regs[VMI_REG_ARM_TCR].sync, "  set");
	EQ(req(VMI_OP_GET_EVENT, 0, 0, 0, 0, &out, &fx), VMI_ENOENT, "GET_EVENT, empty: -ENOENT");
	EQ(req(VMI_OP_RING_ENABLE, 0, 0, 0, 0, &out, &fx), VMI_OK, "RING_ENABLE");

	struct vmi_fault f = { .vcpu = 1,
		               .gfn = 5,
		               .offset = 0x123,
		               .access = VMI_W,
		               .manifest = VMI_RWX,
		               .gla_valid = true,
		               .gla = 0xffff000012345123u,
		               .pc = 0xffff000000081234u };
	vmi_violation(&g, &f, NULL);
	EQ(req(VMI_OP_GET_EVENT, 0, 0, 0, 0, &out, &fx), VMI_OK, "GET_EVENT");
	struct vmi_event ev;
	vmi_event_decode(out.w, &ev);
	OK(ev.reason == VMI_REASON_MEM_ACCESS && ev.vcpu == 1 && ev.gfn == 5 &&
	           ev.offset == 0x123 && ev.gla == 0xffff000012345123u &&
	           ev.pc == 0xffff000000081234u && ev.flags == VMI_EF_VCPU_PAUSED &&
	           (ev.access & VMI_MA_W),
	   "  decodes to the event queued");
	struct vmi_msg in = { .label = VMI_OP_RESPOND,
		              .w = { 1 | (uint64_t)(VMI_EF_VCPU_PAUSED | VMI_EF_DENY) << 32,
		                     VMI_EVENT_VERSION } };
	EQ(vmi_request(&g, NULL, MON, &in, &out, &fx), VMI_OK, "RESPOND deny");
	OK(fx.vcpu == 1 && fx.action.unpause && fx.action.skip, "  vCPU 1 steps over the write");
	EQ(vmi_request(&g, NULL, TARGET, &in, &out, &fx), VMI_EPERM, "the target itself: -EPERM");
	in.w[0] = UINT64_C(0x10000);
	EQ(vmi_request(&g, NULL, MON, &in, &out, &fx), VMI_EINVAL, "vCPU above 16 bits: -EINVAL");

	EQ(req(VMI_OP_ALTP2M_STATE, 1, 0, 0, 0, &out, &fx), VMI_OK, "ALTP2M_STATE on");
	EQ(req(VMI_OP_ALTP2M_CREATE, VMI_ACCESS_RWX, 0, 0, 0, &out, &fx), VMI_OK, "ALTP2M_CREATE");
	EQ(out.w[0], 1, "  view 1");
	EQ(req(VMI_OP_CHANGE_GFN, 1, 7, 8, 0, &out, &fx), VMI_OK, "CHANGE_GFN");
	EQ(vmi_view_frame(&g, 1, 7), 8, "  remapped");
	EQ(req(VMI_OP_ALTP2M_SWITCH, 1, 0, 0, 0, &out, &fx), VMI_OK, "ALTP2M_SWITCH");
	EQ(req(VMI_OP_ALTP2M_DESTROY, 0, 0, 0, 0, &out, &fx), VMI_EBUSY,
	   "ALTP2M_DESTROY 0: -EBUSY");
	EQ(req(VMI_OP_MONITOR_SINGLESTEP, 1, 0, 0, 0, &out, &fx), VMI_OK, "MONITOR_SINGLESTEP");
	EQ(req(VMI_OP_TRANSLATE, 0, 0x1000, 0, 0, &out, &fx), VMI_EOPNOTSUPP,
	   "TRANSLATE without vCPU state: -EOPNOTSUPP");

	/* TRANSLATE and READ_VA with an arm64 vCPU: 4K granule, 39 bits, start at level 1. */
	memset(mem, 0, sizeof(mem));
	const uint64_t l1 = 0x10000, l2 = 0x11000, l3 = 0x12000, page = 0x13000;
	uint64_t e1 = l2 | 3, e2 = l3 | 3, e3 = page | 3 | (1u << 10);
	memcpy(&mem[l1 - 0x10000], &e1, 8);
	memcpy(&mem[l2 - 0x10000], &e2, 8);
	memcpy(&mem[l3 - 0x10000 + 8], &e3, 8);
	memcpy(&mem[page - 0x10000 + 0x10], "introspection!", 14);
	struct vmi_walk_ctx walk[2] = { 0 };
	walk[1].arm64 = (struct vmi_arm64_regs){ .sctlr_el1 = 1,
		                                 .tcr_el1 = 25 | (UINT64_C(5) << 32),
		                                 .ttbr0_el1 = l1 };
	walk[1].read = rd;
	in = (struct vmi_msg){ .label = VMI_OP_TRANSLATE, .w = { 1, 0x1010 } };
	EQ(vmi_request(&g, walk, MON, &in, &out, &fx), VMI_OK, "TRANSLATE");
	EQ(out.w[0], page + 0x10, "  gpa");
	EQ(out.w[1], 4096, "  size");
	EQ(out.w[2] >> 8, 3, "  level 3");
	in = (struct vmi_msg){ .label = VMI_OP_READ_VA, .w = { 1, 0x1010, 14 } };
	EQ(vmi_request(&g, walk, MON, &in, &out, &fx), VMI_OK, "READ_VA");
	EQ(out.w[5], 14, "  14 bytes");
	char text[17] = { 0 };
	memcpy(text, out.w, 16);
	OK(memcmp(text, "introspection!", 14) == 0, "  the guest's bytes");
	in.w[2] = VMI_READ_VA_MAX + 1;
	EQ(vmi_request(&g, walk, MON, &in, &out, &fx), VMI_EINVAL,
	   "READ_VA longer than 40: -EINVAL");
	in = (struct vmi_msg){ .label = VMI_OP_TRANSLATE, .w = { 1, 0x3000 } };
	EQ(vmi_request(&g, walk, MON, &in, &out, &fx), VMI_ENOENT, "TRANSLATE of an unmapped VA");
	EQ(out.w[0], VMI_WALK_TRANSLATION, "  translation fault");
	EQ(out.w[1], 3, "  at level 3");
	in.w[0] = 2;
	EQ(vmi_request(&g, walk, MON, &in, &out, &fx), VMI_EINVAL, "TRANSLATE for vCPU 2: -EINVAL");
	return tap_finish();
}
