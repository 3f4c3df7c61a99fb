/** null_loop_alone: bench_sched_work.c alone on its CPU, no policy (sched-alone.dts). */
#define WORK_PEERS 1u
#define WORK_FIGURE "null_loop_alone"
#include "bench_sched_work.c"
