/** sched_overhead_pct_1ms_plan: bench_sched_work.c under the kernel's default plan (sched-overhead-plan.dts). */
#define WORK_FIGURE "sched_overhead_pct_1ms_plan"
#include "bench_sched_work.c"
