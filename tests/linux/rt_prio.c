/**
 * The scheduling policy of the linux suite's shared-CPU system (tests/linux/linux-shared.dts):
 * one CPU runs both Linux guests, the vuart service and the real-time partition, and this
 * service, CPU 0's policy (`sched-policy`, `sched-cpus = <0>`), puts the real-time
 * partition's vCPU above everything else there (priority 1 against the default 0, a slice that
 * never ends: it runs until it waits again). Everything else keeps the kernel's default plan
 * (priority 0, 1 ms slices in turn). Then it waits for good: the plan stays.
 *
 * Capabilities: 0 `vcpus` with `schedule` over the real-time partition, 1 a notification it
 * waits on (nobody signals it).
 */
#include <ipc/abi.h>
#include <ipc/sched.h>
#include <stddef.h>
#include <stdint.h>
#include <svc_arch.h>

int svc_main(uint64_t arg);
_Noreturn void svc_exit(uint64_t code);
void *memset(void *dst, int c, size_t n);

#define RT_PRIO 1u

void *memset(void *dst, int c, size_t n)
{
	volatile uint8_t *d = dst;
	while (n-- > 0)
		*d++ = (uint8_t)c;
	return dst;
}

_Noreturn void svc_exit(uint64_t code)
{
	uint64_t r[IPC_REG_COUNT] = { HC_EXIT, code };
	arch_hypercall(r);
	for (;;)
		;
}

static void say(const char *s, uint32_t n)
{
	uint64_t r[IPC_REG_COUNT] = { HC_CONSOLE_WRITE, n };
	for (uint32_t i = 0; i < n && i < IPC_CONSOLE_MAX; i++)
		r[2 + i / 8] |= (uint64_t)(uint8_t)s[i] << (8 * (i % 8));
	arch_hypercall(r);
}

int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t r[IPC_REG_COUNT] = { HC_SCHED_SET, 0, 0, 0, RT_PRIO, 0, 0, 0 };
	arch_hypercall(r);
	if (r[0] != STATUS_OK) {
		static const char bad[] = "rt-prio: HC_SCHED_SET refused\n";
		say(bad, sizeof(bad) - 1u);
		svc_exit(1);
	}
	static const char ok[] = "rt-prio: rt above the rest on CPU 0\n";
	say(ok, sizeof(ok) - 1u);
	for (;;) {
		uint64_t w[IPC_REG_COUNT] = { HC_WAIT, 1 };
		arch_hypercall(w);
	}
}
