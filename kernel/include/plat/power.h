/** Platform seam: ending the system. */
#ifndef PLAT_POWER_H
#define PLAT_POWER_H

/**
 * Power the machine off. status is 0 when every partition finished cleanly;
 * the platform makes it visible to the test runner (QEMU exit code).
 */
_Noreturn void plat_system_off(int status);

#endif /* PLAT_POWER_H */
