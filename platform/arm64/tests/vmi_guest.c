/**
 * Introspection's kernel half (kernel/vmi.c, HC_VMI) under QEMU: a VM and a monitor service.
 *
 *   GUEST_VMI_VM     the monitored VM (vmi.dts): it writes to pages its monitor protects
 *                    and checks what happened; a write to a doorbell page (protected in
 *                    every view) tells the monitor it finished a phase.
 *   GUEST_VMI_MON    the monitor (a service): ATTACH, PROTECT, views, change_gfn; it
 *                    answers each event as the phase wants, then dies holding one.
 *   GUEST_VMI_BENCH_VM, GUEST_VMI_BENCH_MON   vmi_event_round_trip (tests/bench/vmi-arm64.dts):
 *                    a write to a page protected in the vCPU's view, caught, answered with
 *                    a switch to the view where it is writable, and completed; median of
 *                    2000 (both directions).
 *
 * The VM's RAM is 4 MiB at 0x100000, so PROT lies in a 2 MiB block the kernel splits.
 */
#include <ipc/abi.h>
#include <stddef.h>
#include <stdint.h>
#include <svc_arch.h>

int svc_main(uint64_t arg);
_Noreturn void svc_exit(uint64_t code);
void *memset(void *dst, int c, size_t n);

#define PROT UINT64_C(0x3f0000) /* protected in view 0 */
#define ALT UINT64_C(0x3e0000)  /* the frame change_gfn shows at PROT in view 1 */
#define P2 UINT64_C(0x3d0000)   /* protected in view 1 only */
#define DB UINT64_C(0x3c0000)   /* the doorbell: protected in views 0 and 1 */
#define RAM_LO UINT64_C(0x100000)
#define RAM_HI UINT64_C(0x500000)
#define MON_BADGE 0x77u

/* Capability slots. Monitor: */
#define MON_EP_RECV 0u
#define MON_EP_SEND 1u
#define MON_GUEST 2u
#define MON_GUEST_EMULATE 3u
#define MON_GO 4u
#define MON_READY 5u
/* VM: */
#define VM_GO 0u
#define VM_READY 1u

void *memset(void *dst, int c, size_t n)
{
	volatile uint8_t *d = dst;
	while (n-- > 0)
		*d++ = (uint8_t)c;
	return dst;
}

_Noreturn void svc_exit(uint64_t code)
{
	uint64_t r[9] = { HC_EXIT, code };
	arch_hypercall(r);
	for (;;)
		;
}

static void say(const char *s)
{
	uint64_t r[9] = { 0 };
	uint32_t k = 0;
	for (uint32_t i = 0;; i++) {
		if (s[i] != '\0')
			r[2 + k / 8] |= (uint64_t)(uint8_t)s[i] << (8 * (k % 8));
		k += s[i] != '\0';
		if (s[i] == '\0' || k == IPC_CONSOLE_MAX) {
			r[0] = HC_CONSOLE_WRITE;
			r[1] = k;
			arch_hypercall(r);
			for (uint32_t j = 1; j < 9; j++)
				r[j] = 0;
			k = 0;
		}
		if (s[i] == '\0')
			break;
	}
}

static void require(int ok, const char *what)
{
	if (ok)
		return;
	say("FAILED: ");
	say(what);
	say("\n");
	svc_exit(1);
}

static inline uint64_t rd(uint64_t a)
{
	return *(volatile uint64_t *)(uintptr_t)a;
}

static inline void wr(uint64_t a, uint64_t v)
{
	*(volatile uint64_t *)(uintptr_t)a = v;
}

#if defined(GUEST_VMI_MON) || defined(GUEST_VMI_BENCH_MON)
/** HC_VMI on the guest capability slot: r2 = op, r3.. = args; returns the status, *r1 = r1. */
static uint64_t vmi(uint64_t slot, uint64_t op, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                    uint64_t *r1)
{
	uint64_t r[9] = { HC_VMI, slot, op, a0, a1, a2, a3 };
	arch_hypercall(r);
	if (r1 != NULL)
		*r1 = r[1];
	return r[0];
}

/** An event, as the kernel delivered it in r (label r2, words r3..r8, badge r1). */
struct event {
	uint64_t addr, access, pc, vcpu, view, gla;
};

static struct event decode(const uint64_t r[9])
{
	require(r[0] == STATUS_OK && r[2] == IPC_LABEL_VMI_MEM, "an access event (label VMI_MEM)");
	require(r[1] == MON_BADGE, "with the badge given to ATTACH");
	return (struct event){ r[3], r[4], r[5], r[6] & 0xffffffffu, r[6] >> IPC_VMI_VIEW_SHIFT,
		               r[7] };
}

/** Answer the pending event (action, view + 1 or 0) and wait for the next one in r. */
static void answer_recv(uint64_t r[9], uint64_t action, uint64_t view_plus1)
{
	for (uint32_t i = 0; i < 9; i++)
		r[i] = 0;
	r[0] = HC_REPLY_RECV;
	r[1] = MON_EP_RECV;
	r[3] = action;
	r[4] = view_plus1;
	arch_hypercall(r);
}
#endif

#ifdef GUEST_VMI_MON
static void setup(void)
{
	uint64_t out = 0;
	require(vmi(MON_GUEST_EMULATE, IPC_VMI_GET, 0, PROT, 0, 0, NULL) == STATUS_NO_RIGHTS,
	        "a guest capability without the monitor right is refused");
	say("passed: a guest capability without the monitor right is refused\n");
	require(vmi(MON_GUEST, IPC_VMI_ATTACH, MON_EP_SEND, MON_BADGE, 0, 0, NULL) == STATUS_OK,
	        "ATTACH");
	require(vmi(MON_GUEST, IPC_VMI_PROTECT, 0, PROT, 0x1000, IPC_ACCESS_READ | IPC_ACCESS_EXEC,
	            &out) == STATUS_OK &&
	                out == 0x1000,
	        "PROTECT PROT rx in view 0");
	require(vmi(MON_GUEST, IPC_VMI_PROTECT, 0, DB, 0x1000, IPC_ACCESS_READ, &out) == STATUS_OK,
	        "PROTECT the doorbell r in view 0");
	require(vmi(MON_GUEST, IPC_VMI_VIEW_CREATE, 1, 7, 0, 0, NULL) == STATUS_OK,
	        "create view 1 rwx");
	require(vmi(MON_GUEST, IPC_VMI_PROTECT, 1, P2, 0x1000, IPC_ACCESS_READ, &out) == STATUS_OK,
	        "PROTECT P2 r in view 1");
	require(vmi(MON_GUEST, IPC_VMI_PROTECT, 1, DB, 0x1000, IPC_ACCESS_READ, &out) == STATUS_OK,
	        "PROTECT the doorbell r in view 1");
	require(vmi(MON_GUEST, IPC_VMI_GET, 0, PROT, 0, 0, &out) == STATUS_OK &&
	                out == (IPC_ACCESS_READ | IPC_ACCESS_EXEC),
	        "GET PROT in view 0: rx");
	require(vmi(MON_GUEST, IPC_VMI_GET, 1, PROT, 0, 0, &out) == STATUS_OK && out == 7,
	        "GET PROT in view 1: rwx");
	require(vmi(MON_GUEST, IPC_VMI_PROTECT, 0, RAM_HI, 0x1000, 0, NULL) == STATUS_INVALID_ARG,
	        "PROTECT past the guest's RAM is invalid");
	say("passed: attached; PROT read-only in view 0, view 1 writable but for P2\n");
}

/** Wait until the VM has written what it checks later (before anything is protected). */
static void wait_ready(void)
{
	uint64_t r[9] = { HC_WAIT, MON_READY };
	arch_hypercall(r);
}

#define MON_STATE UINT64_C(0x200000) /* preserved across its restart */

int svc_main(uint64_t arg)
{
	(void)arg;
	if (rd(MON_STATE) == 0xdead) {
		say("successor: its guest got the manifest's rights back; nothing to watch\n");
		uint64_t r[9] = { HC_RECV, MON_EP_RECV };
		for (;;) {
			arch_hypercall(r); /* nothing is attached: no event comes */
			require(0, "the successor got an event it never asked for");
		}
	}
	wait_ready();
	setup();
	uint64_t r[9] = { HC_SIGNAL, MON_GO };
	arch_hypercall(r);
	for (uint32_t i = 0; i < 9; i++)
		r[i] = 0;
	r[0] = HC_RECV;
	r[1] = MON_EP_RECV;
	arch_hypercall(r);
	/* Phase 1: deny. */
	struct event e = decode(r);
	require(e.addr == PROT && e.access == (IPC_ACCESS_WRITE | IPC_VMI_GLA_VALID) &&
	                e.gla == PROT,
	        "phase 1: a write at PROT, its virtual address known");
	require(e.pc >= RAM_LO && e.pc < RAM_HI && e.vcpu == 0 && e.view == 0,
	        "phase 1: from the VM's code, vCPU 0, view 0");
	say("passed: the VM's write to PROT caught with its PC; denied\n");
	answer_recv(r, IPC_VMI_SKIP, 0);
	/* Phase 2: allow by lifting the protection. */
	e = decode(r);
	require(e.addr == PROT && e.view == 0, "phase 2: the next write at PROT");
	require(vmi(MON_GUEST, IPC_VMI_PROTECT, 0, PROT, 0x1000, 7, NULL) == STATUS_OK,
	        "phase 2: lift");
	answer_recv(r, IPC_VMI_RETRY, 0);
	/* Doorbell 1: protect PROT again. */
	e = decode(r);
	require(e.addr == DB + 8, "doorbell 1");
	require(vmi(MON_GUEST, IPC_VMI_PROTECT, 0, PROT, 0x1000, 5, NULL) == STATUS_OK,
	        "re-protect");
	answer_recv(r, IPC_VMI_SKIP, 0);
	/* Phase 3: allow by a switch to view 1. */
	e = decode(r);
	require(e.addr == PROT && e.view == 0, "phase 3: a write at PROT in view 0");
	answer_recv(r, IPC_VMI_RETRY, 2);
	/* Phase 4: P2 in view 1, back to view 0. */
	e = decode(r);
	require(e.addr == P2 && e.view == 1, "phase 4: a write at P2 in view 1");
	say("passed: the write to P2 was caught in view 1; back to view 0\n");
	answer_recv(r, IPC_VMI_RETRY, 1);
	/* Doorbell 2: change_gfn in view 1, and the VM to view 1. */
	e = decode(r);
	require(e.addr == DB + 16 && e.view == 0, "doorbell 2");
	require(vmi(MON_GUEST, IPC_VMI_CHANGE_GFN, 1, PROT, ALT, 0, NULL) == STATUS_OK,
	        "change_gfn PROT -> ALT in view 1");
	require(vmi(MON_GUEST, IPC_VMI_CHANGE_GFN, 0, PROT, ALT, 0, NULL) == STATUS_INVALID_ARG,
	        "change_gfn in view 0 is invalid");
	answer_recv(r, IPC_VMI_SKIP, 2);
	/* Doorbell 3: undo, back to view 0; view 1 cannot go while in use, then can. */
	e = decode(r);
	require(e.addr == DB + 24 && e.view == 1, "doorbell 3");
	require(vmi(MON_GUEST, IPC_VMI_CHANGE_GFN, 1, PROT, IPC_VMI_GFN_RESET, 0, NULL) ==
	                STATUS_OK,
	        "change_gfn back");
	require(vmi(MON_GUEST, IPC_VMI_VIEW_DESTROY, 1, 0, 0, 0, NULL) == STATUS_BUSY,
	        "view 1 in use cannot be destroyed");
	require(vmi(MON_GUEST, IPC_VMI_VIEW_SWITCH, 0, 0, 0, 0, NULL) == STATUS_OK,
	        "switch the paused vCPU to view 0");
	require(vmi(MON_GUEST, IPC_VMI_VIEW_DESTROY, 1, 0, 0, 0, NULL) == STATUS_OK,
	        "destroy view 1");
	require(vmi(MON_GUEST, IPC_VMI_VIEW_DESTROY, 0, 0, 0, 0, NULL) == STATUS_BUSY,
	        "view 0 cannot be destroyed");
	say("passed: change_gfn and back; view 1 destroyed once unused, view 0 never\n");
	answer_recv(r, IPC_VMI_SKIP, 0);
	/* Doorbell 4: watch TTBR0 and TCR writes. */
	e = decode(r);
	require(e.addr == DB + 32, "doorbell 4");
	require(vmi(MON_GUEST, IPC_VMI_MONITOR_REGS, 1u << IPC_VMI_REG_CR0, 0, 0, 0, NULL) ==
	                STATUS_INVALID_ARG,
	        "an x86 register on arm64 is invalid");
	require(vmi(MON_GUEST, IPC_VMI_MONITOR_REGS,
	            (1u << IPC_VMI_REG_TTBR0) | (1u << IPC_VMI_REG_TCR), 0, 0, 0,
	            NULL) == STATUS_OK,
	        "MONITOR_REGS TTBR0 and TCR");
	answer_recv(r, IPC_VMI_SKIP, 0);
	/* Register phase: deny the first TTBR0 write, allow the second. */
	require(r[0] == STATUS_OK && r[2] == IPC_LABEL_VMI_REG && r[1] == MON_BADGE,
	        "a register event (label VMI_REG)");
	require(r[3] == IPC_VMI_REG_TTBR0 && r[4] == 0x1000 && r[5] >= RAM_LO && r[5] < RAM_HI &&
	                r[7] == 0x5000,
	        "TTBR0 written 0x1000 over 0x5000, from the VM's code");
	say("passed: the VM's TTBR0 write caught with old and new values; denied\n");
	answer_recv(r, IPC_VMI_SKIP, 0);
	require(r[2] == IPC_LABEL_VMI_REG && r[3] == IPC_VMI_REG_TTBR0 && r[4] == 0x2000 &&
	                r[7] == 0x5000,
	        "TTBR0 written 0x2000, still 0x5000 before");
	answer_recv(r, IPC_VMI_RETRY, 0);
	/* Doorbell 5: stop watching. */
	e = decode(r);
	require(e.addr == DB + 40, "doorbell 5: no event for MAIR or TTBR1 came first");
	require(vmi(MON_GUEST, IPC_VMI_MONITOR_REGS, 0, 0, 0, 0, NULL) == STATUS_OK, "stop");
	say("passed: register events: TTBR0 denied then allowed; MAIR and TTBR1 not reported\n");
	/* Single-step the paused vCPU for three instructions, then let it run. */
	require(vmi(MON_GUEST, IPC_VMI_SINGLESTEP, 0, 2, 0, 0, NULL) == STATUS_INVALID_ARG,
	        "SINGLESTEP takes 0 or 1");
	require(vmi(MON_GUEST, IPC_VMI_SINGLESTEP, 0, 1, 0, 0, NULL) == STATUS_OK, "SINGLESTEP on");
	answer_recv(r, IPC_VMI_SKIP, 0);
	uint64_t last = 0;
	for (uint32_t i = 0; i < 3; i++) {
		require(r[0] == STATUS_OK && r[2] == IPC_LABEL_VMI_STEP && r[1] == MON_BADGE &&
		                r[5] >= RAM_LO && r[5] < RAM_HI &&
		                r[5] == (i == 0 ? r[5] : last + 4) && (r[6] & 0xffffffffu) == 0,
		        "a step event: vCPU 0, one instruction (4 bytes) further each time");
		last = r[5];
		if (i == 2)
			require(vmi(MON_GUEST, IPC_VMI_SINGLESTEP, 0, 0, 0, 0, NULL) == STATUS_OK,
			        "SINGLESTEP off while it waits");
		answer_recv(r, IPC_VMI_RETRY, 0);
	}
	say("passed: single-step: three step events, one instruction apart, then off\n");
	/* Phase 6: the next event is held while the monitor dies. */
	e = decode(r);
	require(e.addr == PROT && e.view == 0, "phase 6: a write at PROT");
	say("dies holding the VM's write\n");
	wr(MON_STATE, 0xdead);
	__asm__ volatile("udf #0");
	return 0;
}
#endif

#ifdef GUEST_VMI_VM
int svc_main(uint64_t arg)
{
	(void)arg;
	wr(PROT, 0xa);
	wr(ALT, 0xa17);
	uint64_t r[9] = { HC_SIGNAL, VM_READY };
	arch_hypercall(r);
	uint64_t w[9] = { HC_WAIT, VM_GO };
	arch_hypercall(w);
	wr(PROT, 0xb);
	require(rd(PROT) == 0xa, "phase 1: the denied write left the page as it was");
	say("passed: its write to the protected page was denied; it runs on\n");
	wr(PROT, 0xc);
	require(rd(PROT) == 0xc, "phase 2: the allowed write landed");
	say("passed: the monitor allowed its next write (lifted the protection)\n");
	wr(DB + 8, 1);
	wr(PROT, 0xd);
	require(rd(PROT) == 0xd, "phase 3: the write landed in view 1");
	wr(PROT, 0xe);
	require(rd(PROT) == 0xe, "phase 3: view 1 stays writable");
	say("passed: a write answered with a switch to view 1 landed, and the next one too\n");
	wr(P2, 0xf);
	require(rd(P2) == 0xf, "phase 4: the write to P2 landed back in view 0");
	wr(DB + 16, 1);
	require(rd(PROT) == 0xa17, "phase 5: change_gfn shows ALT's frame at PROT in view 1");
	say("passed: change_gfn: in view 1 PROT shows another frame\n");
	wr(DB + 24, 1);
	require(rd(PROT) == 0xe, "phase 5: its own frame again in view 0");
	require(rd(DB + 8) == 0 && rd(DB + 16) == 0, "the doorbell writes were all denied");
	say("passed: back in view 0 with its own frame; doorbell writes all denied\n");
	__asm__ volatile("msr ttbr0_el1, %0" ::"r"(UINT64_C(0x5000)));
	wr(DB + 32, 1);
	__asm__ volatile("msr ttbr0_el1, %0" ::"r"(UINT64_C(0x1000)));
	uint64_t ttbr0;
	__asm__ volatile("mrs %0, ttbr0_el1" : "=r"(ttbr0));
	require(ttbr0 == 0x5000, "the denied TTBR0 write left it as it was");
	__asm__ volatile("msr ttbr0_el1, %0" ::"r"(UINT64_C(0x2000)));
	__asm__ volatile("mrs %0, ttbr0_el1" : "=r"(ttbr0));
	require(ttbr0 == 0x2000, "the allowed TTBR0 write landed");
	uint64_t mair, ttbr1;
	__asm__ volatile("msr mair_el1, %0" ::"r"(UINT64_C(0x44)));
	__asm__ volatile("msr ttbr1_el1, %0" ::"r"(UINT64_C(0x3000)));
	__asm__ volatile("mrs %0, mair_el1" : "=r"(mair));
	__asm__ volatile("mrs %0, ttbr1_el1" : "=r"(ttbr1));
	require(mair == 0x44 && ttbr1 == 0x3000, "MAIR and TTBR1 (trapped, not watched) landed");
	wr(DB + 40, 1);
	/* A few instructions without memory for its monitor to single-step through. */
	__asm__ volatile("nop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop" ::: "memory");
	say("passed: its TTBR0 write was denied, the next allowed; MAIR and TTBR1 written\n");
	wr(PROT, 0x60);
	require(rd(PROT) == 0x60, "phase 6: the write held by the dead monitor landed");
	wr(DB, 0x61);
	require(rd(DB) == 0x61, "phase 6: the doorbell is writable again");
	say("passed: its monitor died holding its write: the write landed, the manifest's "
	    "rights are back\n");
	say("all done\n");
	return 0;
}
#endif

#if defined(GUEST_VMI_BENCH_VM) || defined(GUEST_VMI_BENCH_MON)
static inline uint64_t counter(void)
{
	uint64_t v;
	__asm__ volatile("isb\n\tmrs %0, pmccntr_el0" : "=r"(v));
	return v;
}

static char *fmt_u(char *b, uint64_t v)
{
	char t[24];
	uint32_t n = 0;
	do {
		t[n++] = (char)('0' + v % 10u);
		v /= 10u;
	} while (v != 0);
	while (n != 0)
		*b++ = t[--n];
	*b = '\0';
	return b;
}

static void report(const char *name, uint64_t value)
{
	char line[96] = "BENCH name=";
	char *e = line + 11;
	while (*name != '\0')
		*e++ = *name++;
	const char *v = " value=";
	while (*v != '\0')
		*e++ = *v++;
	e = fmt_u(e, value);
	const char *unit = " unit=insns\n";
	while (*unit != '\0')
		*e++ = *unit++;
	*e = '\0';
	say(line);
}

static uint64_t median(uint64_t *s, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		uint64_t x = s[i];
		uint32_t j = i;
		for (; j > 0 && s[j - 1] > x; j--)
			s[j] = s[j - 1];
		s[j] = x;
	}
	return (s[n / 2 - 1] + s[n / 2]) / 2;
}
#endif

#if defined(GUEST_VMI_BENCH_VM)
int svc_main(uint64_t arg)
{
	(void)arg;
	static uint64_t samples[2000];
	uint64_t s[9] = { HC_SIGNAL, VM_READY };
	arch_hypercall(s);
	uint64_t r[9] = { HC_WAIT, VM_GO };
	arch_hypercall(r);
	uint64_t a = counter(), b = counter(), overhead = b - a;
	for (uint32_t i = 0; i < 1000; i++) {
		uint64_t t0 = counter();
		wr(PROT, i); /* view 0: caught, answered with view 1 */
		uint64_t t1 = counter();
		wr(P2, i); /* view 1: caught, answered with view 0 */
		uint64_t t2 = counter();
		require(rd(PROT) == i && rd(P2) == i, "both writes landed");
		samples[2 * i] = t1 - t0 - overhead;
		samples[2 * i + 1] = t2 - t1 - overhead;
	}
	report("vmi_event_round_trip", median(samples, 2000));
	return 0;
}
#endif

#if defined(GUEST_VMI_BENCH_MON)
int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t w[9] = { HC_WAIT, MON_READY };
	arch_hypercall(w);
	require(vmi(MON_GUEST, IPC_VMI_ATTACH, MON_EP_SEND, MON_BADGE, 0, 0, NULL) == STATUS_OK &&
	                vmi(MON_GUEST, IPC_VMI_PROTECT, 0, PROT, 0x1000, 5, NULL) == STATUS_OK &&
	                vmi(MON_GUEST, IPC_VMI_VIEW_CREATE, 1, 7, 0, 0, NULL) == STATUS_OK &&
	                vmi(MON_GUEST, IPC_VMI_PROTECT, 1, P2, 0x1000, 5, NULL) == STATUS_OK,
	        "set-up");
	/*
	 * altp2m_switch: HC_VMI VIEW_SWITCH of the VM's vCPU (waiting for MON_GO, so not
	 * running) to view 1 and back, median of 1000 calls each way.
	 */
	static uint64_t samples[1000];
	uint64_t a = counter(), b = counter(), overhead = b - a;
	for (uint32_t i = 0; i < 1000; i++) {
		uint64_t t0 = counter();
		uint64_t st = vmi(MON_GUEST, IPC_VMI_VIEW_SWITCH, 0, (i & 1u) ? 0 : 1, 0, 0, NULL);
		uint64_t t1 = counter();
		require(st == STATUS_OK, "VIEW_SWITCH of the waiting vCPU");
		samples[i] = t1 - t0 - overhead;
	}
	report("altp2m_switch", median(samples, 1000));
	uint64_t r[9] = { HC_SIGNAL, MON_GO };
	arch_hypercall(r);
	for (uint32_t i = 0; i < 9; i++)
		r[i] = 0;
	r[0] = HC_RECV;
	r[1] = MON_EP_RECV;
	arch_hypercall(r);
	for (;;) {
		struct event e = decode(r);
		/* Allow: run it in the other view, where the page is writable. */
		answer_recv(r, IPC_VMI_RETRY, e.view == 0 ? 2 : 1);
	}
	return 0;
}
#endif
