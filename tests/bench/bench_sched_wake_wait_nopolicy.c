/** sched_wake_to_run_nopolicy: the same wake-up with no policy partition (sched-wake-nopolicy.dts). */
#define WAKE_FIGURE "sched_wake_to_run_nopolicy"
#include "bench_sched_wake_wait.c"
