/** null_loop_policy: bench_sched_work.c under the null policy partition (sched-null.dts). */
#define WORK_PEERS 1u
#define WORK_FIGURE "null_loop_policy"
#include "bench_sched_work.c"
