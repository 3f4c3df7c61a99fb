/** The system-off policy (see power.h). */
#include <kernel/boot.h>
#include <kernel/console.h>
#include <kernel/kernel.h>
#include <kernel/power.h>
#include <kernel/print.h>
#include <kernel/sched.h>
#include <plat/power.h>

COLD void power_off_if_finished(void)
{
	/*
	 * Only a kernel entry on behalf of a running vCPU wakes a blocked one
	 * (IPC, a signal; there are no timeouts): when none is ready or running
	 * on any CPU, none ever will be.
	 */
	if (!boot_complete() || sched_any_runnable())
		return;
	kprintf("[hyp] system off: status=%d\n", kernel.exit_status);
	console_flush_sync(); /* the status line is the test runner's verdict */
	plat_system_off(kernel.exit_status);
}
