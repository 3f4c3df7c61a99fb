/**
 * The system-off policy: the machine powers off when the last vCPU that
 * could ever run again has stopped or blocked for good, with status 0 only
 * if every partition finished cleanly (the test runner reads it as QEMU's
 * exit code). The mechanism, plat_system_off, is the platform's
 * (plat/power.h).
 */
#ifndef KERNEL_POWER_H
#define KERNEL_POWER_H

/**
 * Called with the kernel lock held when a CPU has nothing to run: if boot
 * is complete and no vCPU anywhere is ready or running, report the exit
 * status and power off (does not return); otherwise return, and the CPU
 * waits for an interrupt.
 */
void power_off_if_finished(void);

#endif /* KERNEL_POWER_H */
