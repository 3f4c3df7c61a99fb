/** The smallest partition: prints through the console hypercall and exits. */
#include <svc/svc.h>

int svc_main(uint64_t arg)
{
	(void)arg;
	tap_plan(2);
	tap_ok(svc_null() == STATUS_OK, "null hypercall returns OK");
	svc_printf("hello from a partition\n");
	tap_ok(true, "printed through HC_CONSOLE_WRITE");
	tap_done();
}
