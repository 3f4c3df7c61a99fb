/**
 * Partition console output (HC_CONSOLE_WRITE). Each partition's bytes are
 * line-buffered and printed as "[<partition>] <line>", so output from
 * different partitions and CPUs never interleaves within a line and a
 * partition cannot forge a kernel line. Control characters other than tab
 * are shown as '?'; an over-long line is broken at CONSOLE_LINE_MAX.
 *
 * Each partition may print CONSOLE_BUDGET_BYTES per CONSOLE_WINDOW_NS; the
 * rest is dropped and counted, and the count is reported in one line when
 * a later window opens, at most once per CONSOLE_REPORT_NS. So a partition cannot flood the console, nor hold
 * the kernel (which prints under its lock) at UART speed for long.
 */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <kernel/partition.h>

#define CONSOLE_BUDGET_BYTES 4096u
#define CONSOLE_WINDOW_NS 10000000u   /* 10 ms */
#define CONSOLE_REPORT_NS 1000000000u /* at most one "dropped" line a second */

void console_partition_write(struct partition *p, const char *bytes, u32 count);
/** Print the partition's buffered line now (also when it stops mid-line). */
void console_partition_flush(struct partition *p);

#endif /* KERNEL_CONSOLE_H */
