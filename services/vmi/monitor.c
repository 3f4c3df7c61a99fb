/**
 * The example monitor application (docs/introspection.md, tests/linux/linux-vmi.dts): it
 * write-protects a Linux guest's kernel code through the vmi service and reports every write
 * to it with the writer's PC, denying it. It holds an endpoint to the vmi service (a client
 * badge with the monitor bit) and the notification the service signals; nothing over the guest.
 *
 * The guest tells it where its kernel code lies, with guest requests (ipc/vmi.h: stores to the
 * doorbell range the service emulates): offset VMIMON_START the first byte's guest-physical
 * address, VMIMON_END the address after the last, VMIMON_ARM 1 to protect [start, end) in view
 * 0 with access type rx. The Linux test reads the range from /proc/iomem ("Kernel code", root
 * only) and writes it with busybox devmem; nothing is protected before that, so Linux's own
 * patching of its text at boot (alternatives, jump labels) runs unwatched.
 *
 * Every event that is not a write to the protected range is allowed (a paused vCPU answered
 * with VCPU_PAUSED alone; after a guest request there is nothing to answer). For a denied
 * write it also translates the writer's virtual address itself (TRANSLATE: the service walks
 * the guest's stage 1 with the registers of the vCPU paused on the event).
 */
#include <ipc/vmi.h>
#include <svc/svc.h>

#include "request.h"

#define VMIMON_START 0x0u
#define VMIMON_END 0x8u
#define VMIMON_ARM 0x10u
#define PAGE 4096u

static uint32_t svc_ep = CAP_SLOT_COUNT, events = CAP_SLOT_COUNT;
static uint64_t start, end;
static bool armed;
static uint64_t denied;

static int req(uint64_t label, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3, uint64_t *out)
{
	struct msg m = { .label = label, .w = { w0, w1, w2, w3 } };
	enum status s = svc_call(svc_ep, &m);
	if (s != STATUS_OK)
		return -1000 - (int)s;
	if (out != NULL)
		for (uint32_t i = 0; i < IPC_MSG_WORDS; i++)
			out[i] = m.w[i];
	return VMI_LABEL_STATUS(m.label);
}

static void guest_request(const struct vmi_event *ev)
{
	if (ev->index == VMIMON_START)
		start = ev->new_value;
	else if (ev->index == VMIMON_END)
		end = ev->new_value;
	if (ev->index != VMIMON_ARM || ev->new_value != 1u)
		return;
	uint64_t first = start / PAGE, last = (end + PAGE - 1u) / PAGE;
	if (armed || end <= start || last - first > VMI_MAX_PAGES) {
		svc_printf("refused to protect 0x%llx-0x%llx%s\n", (unsigned long long)start,
		           (unsigned long long)end, armed ? ": armed already" : "");
		return;
	}
	int rc = req(VMI_OP_SET_ACCESS, 0, first, last - first, VMI_ACCESS_RX, NULL);
	armed = rc == VMI_OK;
	svc_printf("kernel code 0x%llx-0x%llx write-protected (%llu pages): %s (%d)\n",
	           (unsigned long long)start, (unsigned long long)end,
	           (unsigned long long)(last - first), armed ? "done" : "refused", rc);
}

static void mem_access(const struct vmi_event *ev)
{
	const uint64_t gpa = ev->gfn * PAGE + ev->offset;
	const bool text = armed && gpa >= start && gpa < end;
	const bool write = (ev->access & VMI_MA_W) != 0;
	uint32_t flags = VMI_EF_VCPU_PAUSED;
	if (text && write) {
		flags |= VMI_EF_DENY;
		denied++;
		svc_printf(
		        "denied a write to kernel code: IPA 0x%llx, PC 0x%llx, vCPU %u, VA 0x%llx "
		        "(%llu denied)\n",
		        (unsigned long long)gpa, (unsigned long long)ev->pc, (unsigned)ev->vcpu,
		        (unsigned long long)ev->gla, (unsigned long long)denied);
		/* Its own walk of the writer's address, with the paused vCPU's registers. */
		uint64_t out[IPC_MSG_WORDS] = { 0 };
		int tr = (ev->access & VMI_MA_GLA_VALID) == 0 ?
		                 VMI_EINVAL :
		                 req(VMI_OP_TRANSLATE, ev->vcpu, ev->gla, 0, 0, out);
		if (tr == VMI_OK)
			svc_printf("the writer's VA 0x%llx translates to IPA 0x%llx (level %u)\n",
			           (unsigned long long)ev->gla, (unsigned long long)out[0],
			           (unsigned)(out[2] >> 8));
		else
			svc_printf("the writer's VA 0x%llx: no translation (%d)\n",
			           (unsigned long long)ev->gla, tr);
	}
	if ((ev->flags & VMI_EF_VCPU_PAUSED) == 0)
		return;
	int rc = req(VMI_OP_RESPOND, ev->vcpu | (uint64_t)flags << 32, VMI_EVENT_VERSION, 0, 0,
	             NULL);
	if (rc != VMI_OK)
		svc_printf("response to vCPU %u: %d\n", (unsigned)ev->vcpu, rc);
}

int svc_main(uint64_t arg)
{
	(void)arg;
	for (uint32_t i = 0; i < CAP_SLOT_COUNT; i++) {
		uint32_t type, rights;
		uint64_t badge;
		if (svc_cap_info(i, &type, &rights, &badge) != STATUS_OK)
			continue;
		if (type == CAP_ENDPOINT && (rights & RIGHT_EP_SEND) != 0 &&
		    svc_ep == CAP_SLOT_COUNT)
			svc_ep = i;
		else if (type == CAP_NOTIFICATION && (rights & RIGHT_NTF_WAIT) != 0)
			events = i;
	}
	if (svc_ep == CAP_SLOT_COUNT || events == CAP_SLOT_COUNT) {
		svc_printf("needs an endpoint to the vmi service and a notification\n");
		return 1;
	}
	int rc = req(VMI_OP_RING_ENABLE, 0, 0, 0, 0, NULL);
	svc_printf("watching (ring: %d); waiting for the kernel code's range\n", rc);
	for (;;) {
		uint64_t out[IPC_MSG_WORDS], bits;
		rc = req(VMI_OP_GET_EVENT, 0, 0, 0, 0, out);
		if (rc != VMI_OK) {
			if (rc == -1000 - STATUS_PEER_STOPPED || rc == VMI_ENOSYS)
				(void)req(VMI_OP_RING_ENABLE, 0, 0, 0, 0, NULL); /* a new service */
			(void)svc_wait(events, &bits);
			continue;
		}
		struct vmi_event ev;
		vmi_event_decode(out, &ev);
		if (ev.reason == VMI_REASON_GUEST_REQUEST)
			guest_request(&ev);
		else if (ev.reason == VMI_REASON_MEM_ACCESS)
			mem_access(&ev);
	}
}
