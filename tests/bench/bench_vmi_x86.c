/**
 * vmi_event_round_trip and altp2m_switch on x86_64 (tests/bench/vmi-x86.dts): built twice. BENCH_VMI_VM is the
 * VM: 1000 times it writes to a page protected in its view (caught, answered by the monitor
 * with a switch to the view where the page is writable, completed), then to a page protected
 * only in that view (the same, back); each write is one sample, median of 2000, counted with
 * RDTSC (one tick per instruction under -icount), the counter's own cost removed.
 * BENCH_VMI_MON is the monitor service answering (HC_VMI, docs/introspection.md); first it
 * measures altp2m_switch, a VIEW_SWITCH call on the VM's waiting vCPU.
 */
#include "../../platform/x86/tests/vmi/common.h"
#include "bench.h"

#ifdef BENCH_VMI_VM
static uint64_t samples[2000];

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t bits;
	svc_signal(VM_READY);
	svc_wait(VM_GO, &bits);
	uint64_t overhead = bench_counter_overhead();
	for (unsigned i = 0; i < 1000; i++) {
		uint64_t t0 = arch_insn_counter();
		wr(PROT, i); /* view 0: caught, answered with view 1 */
		uint64_t t1 = arch_insn_counter();
		wr(P2, i); /* view 1: caught, answered with view 0 */
		uint64_t t2 = arch_insn_counter();
		if (rd(PROT) != i || rd(P2) != i) {
			svc_printf("FAILED: a write did not land\n");
			return 1;
		}
		samples[2 * i] = t1 - t0 - overhead;
		samples[2 * i + 1] = t2 - t1 - overhead;
	}
	bench_report("vmi_event_round_trip", bench_median(samples, 2000));
	return 0;
}
#else
static uint64_t vmi(uint64_t op, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	uint64_t r[IPC_REG_COUNT] = { HC_VMI, MON_GUEST, op, a0, a1, a2, a3 };
	svc_hypercall(r);
	return r[0];
}

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t bits;
	svc_wait(MON_READY, &bits);
	if (vmi(IPC_VMI_ATTACH, MON_EP_SEND, MON_BADGE, 0, 0) != STATUS_OK ||
	    vmi(IPC_VMI_PROTECT, 0, PROT, 0x1000, 5) != STATUS_OK ||
	    vmi(IPC_VMI_VIEW_CREATE, 1, 7, 0, 0) != STATUS_OK ||
	    vmi(IPC_VMI_PROTECT, 1, P2, 0x1000, 5) != STATUS_OK) {
		svc_printf("FAILED: set-up\n");
		return 1;
	}
	/*
	 * altp2m_switch: HC_VMI VIEW_SWITCH of the VM's vCPU (waiting for MON_GO, so not
	 * running) to view 1 and back, median of 1000 calls each way.
	 */
	static uint64_t samples[1000];
	uint64_t overhead = bench_counter_overhead();
	for (unsigned i = 0; i < 1000; i++) {
		uint64_t t0 = arch_insn_counter();
		uint64_t st = vmi(IPC_VMI_VIEW_SWITCH, 0, (i & 1u) ? 0 : 1, 0, 0);
		uint64_t t1 = arch_insn_counter();
		if (st != STATUS_OK) {
			svc_printf("FAILED: VIEW_SWITCH of the waiting vCPU\n");
			return 1;
		}
		samples[i] = t1 - t0 - overhead;
	}
	bench_report("altp2m_switch", bench_median(samples, 1000));
	svc_signal(MON_GO);
	struct msg m;
	enum status s = svc_recv(MON_EP_RECV, &m);
	for (;;) {
		if (s != STATUS_OK || m.label != IPC_LABEL_VMI_MEM) {
			svc_printf("FAILED: not an access event\n");
			return 1;
		}
		uint64_t view = m.w[3] >> IPC_VMI_VIEW_SHIFT;
		/* Allow: run it in the other view, where the page is writable. */
		m = (struct msg){ .label = 0, .w = { IPC_VMI_RETRY, view == 0 ? 2u : 1u } };
		s = svc_reply_recv(MON_EP_RECV, &m);
	}
}
#endif
