/** The hostile-partition storm (see storm.c). */
#ifndef TESTS_STORM_H
#define TESTS_STORM_H

#include "system.h"

#define STORM_PARTITIONS 4u
/** Bytes that describe one event for storm_event. */
#define STORM_EVENT_BYTES 12u

/** A fresh system of STORM_PARTITIONS partitions (5 vCPUs, 2 endpoints, 1 notification). */
void storm_build(void);

/** NULL if every object invariant holds, else which one broke. */
const char *storm_check(void);

/** Run one event described by STORM_EVENT_BYTES bytes from the running vCPU v. */
struct vcpu *storm_event(struct vcpu *v, const u8 *event);

#endif /* TESTS_STORM_H */
