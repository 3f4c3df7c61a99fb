/**
 * libFuzzer target for the hypercall ABI: the input is a sequence of
 * events (STORM_EVENT_BYTES each: a hypercall with its arguments, a fault,
 * a timer or a WFI) that the running vCPU of a small four-partition system
 * performs one after another. After every kernel entry the object
 * invariants of tests/unit/storm.c must hold; ASan/UBSan check every access,
 * and a kernel panic aborts (the fake platform). The system is built once
 * and restored from a snapshot for each input, so every input starts alike.
 */
#include "storm.h"
#include <kernel/lock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct kernel_state snapshot_kernel;
static struct cpu_sched snapshot_sched[CFG_CPU_MAX];
static struct sched_state snapshot_plan; /* the plan and the contexts (kernel/sched.h) */
static struct vcpu *snapshot_first;
static bool built;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!built) {
		storm_build();
		snapshot_first = tsys_boot();
		memcpy(&snapshot_kernel, &kernel, sizeof(kernel));
		memcpy(snapshot_sched, cpu_sched, sizeof(cpu_sched));
		memcpy(&snapshot_plan, &sched, sizeof(sched));
		built = true;
	}
	memcpy(&kernel, &snapshot_kernel, sizeof(kernel));
	memcpy(cpu_sched, snapshot_sched, sizeof(cpu_sched));
	memcpy(&sched, &snapshot_plan, sizeof(sched));
	kernel_lock.value = 0;
	fake_console_clear();
	struct vcpu *v = snapshot_first;
	for (size_t at = 0; at + STORM_EVENT_BYTES <= size; at += STORM_EVENT_BYTES) {
		if (FAKE_EXPECT_EXIT(v = storm_event(v, data + at)))
			break; /* everything stopped or blocked for good: a clean end */
		const char *broken = storm_check();
		if (broken == NULL && v == NULL)
			broken = "the kernel returned no vCPU without powering off";
		if (broken != NULL) {
			fprintf(stderr, "invariant broken after event %zu: %s\n",
			        at / STORM_EVENT_BYTES, broken);
			abort();
		}
	}
	return 0;
}
