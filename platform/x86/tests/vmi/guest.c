/**
 * The VM of the x86 introspection test (vmi.dts): the same phases as arm64's
 * (platform/arm64/tests/vmi_guest.c GUEST_VMI_VM). Its stores are plain MOVs, which the exit
 * path decodes, so a denied one can be stepped over on x86 too.
 */
#include "../vapic/guest.h"
#include "common.h"

void guest_interrupt(uint8_t vector)
{
	(void)vector;
	apic_write(APIC_EOI, 0);
}

static unsigned failures;

static void check(bool ok, const char *what)
{
	svc_printf("%s: %s\n", ok ? "passed" : "FAILED", what);
	failures += !ok;
}

int svc_main(uint64_t arg)
{
	(void)arg;
	wr(PROT, 0xa);
	wr(ALT, 0xa17);
	svc_signal(VM_READY);
	uint64_t bits;
	svc_wait(VM_GO, &bits);
	wr(PROT, 0xb);
	check(rd(PROT) == 0xa,
	      "its write to the protected page was denied (stepped over); it runs on");
	wr(PROT, 0xc);
	check(rd(PROT) == 0xc, "the monitor allowed its next write (lifted the protection)");
	wr(DB + 8, 1);
	wr(PROT, 0xd);
	wr(PROT, 0xe);
	check(rd(PROT) == 0xe,
	      "a write answered with a switch to view 1 landed, and the next one too");
	wr(P2, 0xf);
	check(rd(P2) == 0xf, "the write to P2, caught in view 1, landed back in view 0");
	wr(DB + 16, 1);
	check(rd(PROT) == 0xa17, "change_gfn: in view 1 PROT shows another frame");
	wr(DB + 24, 1);
	check(rd(PROT) == 0xe && rd(DB + 8) == 0 && rd(DB + 16) == 0,
	      "back in view 0 with its own frame; doorbell writes all denied");
	uint64_t cr4, now;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	wr(DB + 32, 1);
	__asm__ volatile("mov %0, %%cr4" ::"r"(cr4 | 4u) : "memory"); /* TSD */
	__asm__ volatile("mov %%cr4, %0" : "=r"(now));
	check(now == cr4, "its CR4 write was denied: DENY keeps the old CR4 value");
	__asm__ volatile("mov %0, %%cr4" ::"r"(cr4 | 4u) : "memory");
	__asm__ volatile("mov %%cr4, %0" : "=r"(now));
	check(now == (cr4 | 4u), "the next one was allowed");
	__asm__ volatile("mov %0, %%cr4" ::"r"(cr4) : "memory");
	uint32_t lo, hi, lo2, hi2;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0x176u));
	__asm__ volatile("wrmsr" ::"c"(0x176u), "a"(0x81234000u), "d"(0xffffffffu) : "memory");
	__asm__ volatile("rdmsr" : "=a"(lo2), "=d"(hi2) : "c"(0x176u));
	check(lo2 == lo && hi2 == hi, "its SYSENTER_EIP write was denied: the MSR kept its value");
	wr(DB + 40, 1);
	/* A few instructions without memory for its monitor to single-step through. */
	__asm__ volatile("nop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop" ::: "memory");
	wr(PROT, 0x60);
	check(rd(PROT) == 0x60, "its monitor died holding its write: the write landed");
	wr(DB, 0x61);
	check(rd(DB) == 0x61, "the manifest's rights are back");
	svc_printf("all done: %u failed\n", failures);
	return failures == 0 ? 0 : 1;
}
