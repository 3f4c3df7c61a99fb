/**
 * counter: prints the virtual counter and its frequency ("counter TICKS HZ"), for the
 * linux suite's linux_boot_to_shell figure (tests/linux/run.py --bench): a static
 * arm64 Linux program without libc, built by tools/lib/hyptools/linux.py with the
 * cross compiler the arm64 build uses. Linux lets EL0 read CNTVCT_EL0 (its vDSO does).
 */
#include <stdint.h>

static long sys3(long nr, long a, long b, long c)
{
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	__asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	return x0;
}

static char *decimal(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10u);
		v /= 10u;
	} while (v != 0);
	return end;
}

void _start(void)
{
	uint64_t ticks, hz;
	__asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(ticks));
	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(hz));
	char buf[64];
	char *end = buf + sizeof(buf);
	*--end = '\n';
	end = decimal(end, hz);
	*--end = ' ';
	end = decimal(end, ticks);
	static const char word[] = "counter ";
	for (int i = (int)sizeof(word) - 2; i >= 0; i--)
		*--end = word[i];
	sys3(64 /* write */, 1, (long)end, (long)(buf + sizeof(buf) - end));
	sys3(93 /* exit */, 0, 0, 0);
	for (;;)
		;
}
