/**
 * Request decoding for the vmi service (request.h): decode (check every word) then invoke.
 */
#include "request.h"

/** Words 0..used-1 may carry arguments; the rest must be zero. */
static bool unused_zero(const struct vmi_msg *in, unsigned used)
{
	for (unsigned i = used; i < IPC_MSG_WORDS; i++)
		if (in->w[i] != 0)
			return false;
	return true;
}

static bool is_bool(uint64_t v)
{
	return v <= 1;
}

/*
 * GET_EVENT answer:
 *   w0 = reason | flags << 8 (bits 8..31) | vcpu << 32 | view << 48
 *   w1 = pc
 *   w2 = gfn << 12 | offset              (MEM_ACCESS, SINGLESTEP)
 *   w3 = access | index << 32            (MEM_ACCESS: VMI_MA_*; WRITE_REG, MOV_TO_MSR: index)
 *   w4 = gla (MEM_ACCESS) or new value
 *   w5 = old value
 */
void vmi_event_encode(const struct vmi_event *ev, uint64_t w[IPC_MSG_WORDS])
{
	w[0] = (uint64_t)(ev->reason & 0xffu) | (uint64_t)(ev->flags & 0xffffffu) << 8 |
	       (uint64_t)ev->vcpu << 32 | (uint64_t)ev->view << 48;
	w[1] = ev->pc;
	w[2] = ev->gfn << 12 | (ev->offset & 0xfffu);
	w[3] = (uint64_t)ev->access | (uint64_t)ev->index << 32;
	w[4] = ev->reason == VMI_REASON_MEM_ACCESS ? ev->gla : ev->new_value;
	w[5] = ev->old_value;
}

void vmi_event_decode(const uint64_t w[IPC_MSG_WORDS], struct vmi_event *ev)
{
	*ev = (struct vmi_event){ .version = VMI_EVENT_VERSION };
	ev->reason = (uint32_t)(w[0] & 0xffu);
	ev->flags = (uint32_t)((w[0] >> 8) & 0xffffffu);
	ev->vcpu = (uint16_t)(w[0] >> 32);
	ev->view = (uint16_t)(w[0] >> 48);
	ev->pc = w[1];
	ev->gfn = w[2] >> 12;
	ev->offset = w[2] & 0xfffu;
	ev->access = (uint32_t)w[3];
	ev->index = (uint32_t)(w[3] >> 32);
	if (ev->reason == VMI_REASON_MEM_ACCESS)
		ev->gla = w[4];
	else
		ev->new_value = w[4];
	ev->old_value = w[5];
}

static int walk_request(const struct vmi_guest *g, const struct vmi_walk_ctx *walk,
                        const struct vmi_msg *in, struct vmi_msg *out)
{
	const uint64_t vcpu = in->w[0], va = in->w[1];
	if (walk == 0)
		return VMI_EOPNOTSUPP;
	if (vcpu >= g->cfg.vcpu_count)
		return VMI_EINVAL;
	const struct vmi_walk_ctx *w = &walk[vcpu];
	if (in->label == VMI_OP_TRANSLATE) {
		struct vmi_walk t;
		enum vmi_walk_status st =
		        w->is_x86 ? vmi_walk_x86(&w->x86, va, w->read, w->ctx, &t) :
		                    vmi_walk_arm64(&w->arm64, va, w->read, w->ctx, &t);
		if (st != VMI_WALK_OK) {
			out->w[0] = st;
			out->w[1] = t.level;
			return VMI_ENOENT;
		}
		out->w[0] = t.gpa;
		out->w[1] = t.size;
		out->w[2] = t.perm | (uint64_t)t.level << 8;
		return VMI_OK;
	}
	const uint64_t len = in->w[2];
	if (len > VMI_READ_VA_MAX)
		return VMI_EINVAL;
	uint8_t buf[VMI_READ_VA_MAX];
	size_t done = 0;
	enum vmi_walk_status st = vmi_read_va(w, va, buf, (size_t)len, &done);
	for (size_t i = 0; i < done; i++)
		out->w[i / 8] |= (uint64_t)buf[i] << (8 * (i % 8));
	out->w[5] = done;
	return st == VMI_WALK_OK ? VMI_OK : VMI_ENOENT;
}

int vmi_request(struct vmi_guest *g, const struct vmi_walk_ctx *walk, uint16_t caller,
                const struct vmi_msg *in, struct vmi_msg *out, struct vmi_effects *fx)
{
	*out = (struct vmi_msg){ 0 };
	*fx = (struct vmi_effects){ 0 };
	const uint64_t *w = in->w;
	static const uint8_t used[] = {
		[VMI_OP_SET_ACCESS] = 4,         [VMI_OP_GET_ACCESS] = 2,
		[VMI_OP_RING_ENABLE] = 0,        [VMI_OP_RING_DISABLE] = 0,
		[VMI_OP_GET_EVENT] = 0,          [VMI_OP_RESPOND] = 6,
		[VMI_OP_MONITOR_REG] = 3,        [VMI_OP_MONITOR_MSR] = 2,
		[VMI_OP_MONITOR_SINGLESTEP] = 1, [VMI_OP_ALTP2M_STATE] = 1,
		[VMI_OP_ALTP2M_CREATE] = 1,      [VMI_OP_ALTP2M_DESTROY] = 1,
		[VMI_OP_ALTP2M_SWITCH] = 1,      [VMI_OP_CHANGE_GFN] = 3,
		[VMI_OP_TRANSLATE] = 2,          [VMI_OP_READ_VA] = 3,
	};
	int rc = VMI_EINVAL;
	if (in->label == 0 || in->label >= sizeof(used) || !unused_zero(in, used[in->label])) {
		out->label = (uint64_t)(int64_t)rc;
		return rc;
	}
	/* Views, access types and flags fit in 32 bits; anything larger is malformed. */
	switch ((enum vmi_op)in->label) {
	case VMI_OP_SET_ACCESS:
		if (w[0] > UINT32_MAX || w[3] > UINT32_MAX)
			break;
		rc = vmi_set_access(g, caller, (uint32_t)w[0], w[1], w[2], (uint32_t)w[3]);
		fx->views_changed = rc == VMI_OK;
		break;
	case VMI_OP_GET_ACCESS: {
		uint32_t access = 0;
		if (w[0] > UINT32_MAX)
			break;
		rc = vmi_get_access(g, caller, (uint32_t)w[0], w[1], &access);
		out->w[0] = access;
		break;
	}
	case VMI_OP_RING_ENABLE:
		rc = vmi_ring_enable(g, caller);
		break;
	case VMI_OP_RING_DISABLE:
		rc = vmi_ring_disable(g, caller, &fx->released);
		out->w[0] = fx->released;
		break;
	case VMI_OP_GET_EVENT: {
		struct vmi_event ev;
		if (caller == g->cfg.id || caller != g->cfg.monitor_id) {
			rc = VMI_EPERM;
			break;
		}
		rc = vmi_ring_get(g, &ev, &fx->woken) ? VMI_OK : VMI_ENOENT;
		if (rc == VMI_OK)
			vmi_event_encode(&ev, out->w);
		break;
	}
	case VMI_OP_RESPOND: {
		struct vmi_response r = { .version = (uint32_t)w[1],
			                  .flags = (uint32_t)(w[0] >> 32),
			                  .vcpu = (uint16_t)w[0],
			                  .view = (uint16_t)(w[1] >> 32),
			                  .pc = w[2],
			                  .gpr = { w[3], w[4], w[5], 0 } };
		if ((w[0] & 0xffffffffu) > UINT16_MAX || (w[1] >> 32) > UINT16_MAX)
			break;
		rc = vmi_respond(g, caller, &r, &fx->action);
		fx->vcpu = r.vcpu;
		break;
	}
	case VMI_OP_MONITOR_REG:
		if (w[0] > UINT32_MAX || (w[1] & ~(uint64_t)7u) != 0)
			break;
		rc = vmi_monitor_reg(g, caller, (uint32_t)w[0], w[1] & VMI_MON_ENABLE,
		                     w[1] & VMI_MON_SYNC, w[1] & VMI_MON_ONCHANGEONLY, w[2]);
		break;
	case VMI_OP_MONITOR_MSR:
		if (!is_bool(w[1]))
			break;
		rc = vmi_monitor_msr(g, caller, w[0], w[1] != 0);
		break;
	case VMI_OP_MONITOR_SINGLESTEP:
		if (!is_bool(w[0]))
			break;
		rc = vmi_monitor_singlestep(g, caller, w[0] != 0);
		break;
	case VMI_OP_ALTP2M_STATE:
		if (!is_bool(w[0]))
			break;
		rc = vmi_altp2m_set_state(g, caller, w[0] != 0);
		fx->views_changed = rc == VMI_OK;
		break;
	case VMI_OP_ALTP2M_CREATE: {
		uint32_t view = 0;
		if (w[0] > UINT32_MAX)
			break;
		rc = vmi_altp2m_create(g, caller, (uint32_t)w[0], &view);
		out->w[0] = view;
		break;
	}
	case VMI_OP_ALTP2M_DESTROY:
	case VMI_OP_ALTP2M_SWITCH:
		if (w[0] > UINT32_MAX)
			break;
		rc = in->label == VMI_OP_ALTP2M_DESTROY ?
		             vmi_altp2m_destroy(g, caller, (uint32_t)w[0]) :
		             vmi_altp2m_switch(g, caller, (uint32_t)w[0]);
		fx->views_changed = rc == VMI_OK;
		break;
	case VMI_OP_CHANGE_GFN:
		if (w[0] > UINT32_MAX)
			break;
		rc = vmi_change_gfn(g, caller, (uint32_t)w[0], w[1], w[2]);
		fx->views_changed = rc == VMI_OK;
		break;
	case VMI_OP_TRANSLATE:
	case VMI_OP_READ_VA:
		if (caller == g->cfg.id || caller != g->cfg.monitor_id) {
			rc = VMI_EPERM;
			break;
		}
		rc = walk_request(g, walk, in, out);
		break;
	}
	out->label = (uint64_t)(int64_t)rc;
	return rc;
}
