/** TAP output for test partitions (see svc.h). */
#include <svc/svc.h>

static unsigned tap_planned, tap_run, tap_failed;

void tap_plan(unsigned count)
{
	tap_planned = count;
	svc_printf("1..%u\n", count);
}

bool tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;
	tap_run++;
	if (!cond)
		tap_failed++;
	svc_printf("%sok %u - ", cond ? "" : "not ", tap_run);
	va_start(ap, fmt);
	svc_vprintf(fmt, ap);
	va_end(ap);
	svc_putc('\n');
	return cond;
}

bool tap_is(uint64_t got, uint64_t want, const char *name)
{
	bool ok = tap_ok(got == want, "%s", name);
	if (!ok)
		svc_printf("# got 0x%lx, want 0x%lx\n", (unsigned long)got, (unsigned long)want);
	return ok;
}

_Noreturn void tap_done(void)
{
	if (tap_run != tap_planned)
		svc_printf("# planned %u tests but ran %u\n", tap_planned, tap_run);
	svc_exit(tap_failed == 0 && tap_run == tap_planned ? 0 : 1);
}
