/**
 * A hostile-partition storm: random hypercalls with random arguments, and
 * random faults, timers and WFIs, from whichever vCPU is running, for many
 * thousands of steps on many seeds. After every kernel entry the kernel's
 * objects must still be consistent and no capability may have gained a
 * right. ASan/UBSan watch every step; the fake platform aborts on a panic.
 */
#include "storm.h"
#include "tap.h"
#include <string.h>

#define STORM_STEPS 20000u
#define STORM_SEEDS 120u /* each seed builds a system: 4 root tables from the pool */

static u64 rng_state;

static u64 rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static struct vcpu *storm_step(struct vcpu *v)
{
	u8 event[STORM_EVENT_BYTES];
	for (u32 i = 0; i < STORM_EVENT_BYTES; i++)
		event[i] = (u8)rng();
	return storm_event(v, event);
}

int main(void)
{
	u64 total_steps = 0, power_offs = 0;
	const char *broken = NULL;
	for (u32 seed = 1; seed <= STORM_SEEDS && broken == NULL; seed++) {
		rng_state = 0x9e3779b97f4a7c15ull * seed;
		storm_build();
		struct vcpu *v = tsys_boot();
		for (u32 step = 0; step < STORM_STEPS && broken == NULL; step++) {
			bool off = FAKE_EXPECT_EXIT(v = storm_step(v));
			total_steps++;
			if (off) {
				/* Everything stopped or blocked for good: on to the next seed. */
				power_offs++;
				break;
			}
			broken = storm_check();
			if (v == NULL && broken == NULL)
				broken = "the kernel returned no vCPU without powering off";
		}
	}
	printf("# %llu steps, %llu power-offs\n", (unsigned long long)total_steps,
	       (unsigned long long)power_offs);
	OK(broken == NULL, broken != NULL ? broken : "objects stay consistent through the storm");
	OK(total_steps >= 20000,
	   "tens of thousands of steps ran without a panic or sanitizer report");
	OK(strstr(tsys_console(), "PANIC") == NULL, "no kernel panic on the console");
	return tap_finish();
}
