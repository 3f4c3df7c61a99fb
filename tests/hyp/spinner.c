/**
 * A CPU-bound partition for the scheduling tests: it counts in a loop until
 * the word at SPIN_STOP_IPA (a shared region the policy writes) is non-zero,
 * then exits with code 0.
 */
#include <svc/svc.h>

#define SPIN_STOP_IPA 0x200000u

int svc_main(uint64_t arg)
{
	(void)arg;
	volatile const uint64_t *stop = (volatile const uint64_t *)(uintptr_t)SPIN_STOP_IPA;
	volatile uint64_t count = 0;
	while (*stop == 0)
		count++;
	svc_exit(0);
}
