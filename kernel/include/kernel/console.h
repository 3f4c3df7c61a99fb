/**
 * Partition console output (HC_CONSOLE_WRITE). Each partition's bytes are
 * line-buffered and printed as "[<partition>] <line>", so output from
 * different partitions and CPUs never interleaves within a line and a
 * partition cannot forge a kernel line. Control characters other than tab
 * are shown as '?'; an over-long line is broken at CONSOLE_LINE_MAX.
 */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <kernel/partition.h>

void console_partition_write(struct partition *p, const char *bytes, u32 count);
/** Print the partition's buffered line now (also when it stops mid-line). */
void console_partition_flush(struct partition *p);

#endif /* KERNEL_CONSOLE_H */
