/** sched_wake_to_run_policy_cpu: the same wake-up, the policy on the waiter's CPU (sched-wake-samecpu.dts). */
#define WAKE_FIGURE "sched_wake_to_run_policy_cpu"
#include "bench_sched_wake_wait.c"
