/**
 * mmio_emulated_read on x86_64: a VM reads the LSR of the 16550A the vuart
 * service emulates (services/vuart) by port I/O, `in al, dx` at
 * port 0x3f8 + 5. Each read is an IOIO exit, TRAP_MMIO, the kernel message
 * to the service, its HC_REPLY_RECV, and the completion into AL. Median of
 * 1001 round trips, counted with RDTSC (one tick per instruction under
 * -icount, as in bench_vtimer.c), the counter's own cost removed.
 */
#include "bench.h"
#include "device.h"

#define EMU_READS 1001u

static uint64_t samples[EMU_READS];

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t overhead = bench_counter_overhead();
	uint8_t lsr = 0;
	for (unsigned i = 0; i < EMU_READS; i++) {
		uint64_t t0 = arch_insn_counter();
		__asm__ volatile("in %%dx, %%al" : "=a"(lsr) : "d"(EMU_PORT + EMU_LSR) : "memory");
		uint64_t t1 = arch_insn_counter();
		samples[i] = t1 - t0 - overhead;
		if (lsr != EMU_LSR_VALUE) {
			svc_printf("FAILED: the LSR read 0x%x\n", lsr);
			return 1;
		}
	}
	bench_report("mmio_emulated_read", bench_median(samples, EMU_READS));
	return 0;
}
