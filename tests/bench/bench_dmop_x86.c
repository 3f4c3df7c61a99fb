/**
 * dm_port_round_trip on x86_64: a VM reads the CMOS RTC's status D (`in al, dx` at port
 * 0x71, index 0x0d set once) that the vrtc device model serves through a port route the
 * dmop service programmed (services/vrtc, docs/device-models.md "x86: port I/O through
 * dmop"). Each read is an IOIO exit, TRAP_MMIO, the route's lookup, the kernel message to the
 * model, its HC_REPLY_RECV and the completion into AL: the same trip as mmio_emulated_read
 * (bench_emu_x86.c) over a run-time route instead of a manifest range. It waits (notification
 * slot 0) until the model serves. Median of 1001, counted with RDTSC (one tick per
 * instruction under -icount), the counter's own cost removed.
 */
#include "bench.h"

#define READS 1001u
#define RTC_STATUS_D 0x0du
#define RTC_D_VRT 0x80u

static uint64_t samples[READS];

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t bits;
	if (svc_wait(0, &bits) != STATUS_OK) {
		svc_printf("FAILED: no word from the device model\n");
		return 1;
	}
	uint64_t overhead = bench_counter_overhead();
	uint8_t d = RTC_STATUS_D;
	__asm__ volatile("out %%al, %%dx" : : "a"(d), "d"((uint16_t)0x70) : "memory");
	for (unsigned i = 0; i < READS; i++) {
		uint64_t t0 = arch_insn_counter();
		__asm__ volatile("in %%dx, %%al" : "=a"(d) : "d"((uint16_t)0x71) : "memory");
		uint64_t t1 = arch_insn_counter();
		samples[i] = t1 - t0 - overhead;
		if (d != RTC_D_VRT) {
			svc_printf("FAILED: status D read 0x%x\n", d);
			return 1;
		}
	}
	bench_report("dm_port_round_trip", bench_median(samples, READS));
	return 0;
}
