/** Reads an unmapped address for ever; its fault handler decides what happens. */
#include <svc/svc.h>

int svc_main(uint64_t arg)
{
	(void)arg;
	for (;;)
		(void)*(volatile uint64_t *)(uintptr_t)0x7000000;
}
