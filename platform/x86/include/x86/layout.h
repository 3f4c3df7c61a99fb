/**
 * Sizes shared by the platform's C and assembly files.
 */
#ifndef X86_LAYOUT_H
#define X86_LAYOUT_H

/** Physical CPUs the platform supports (matches CFG_CPU_MAX). */
#define X86_CPU_MAX 8
/** Kernel stack per CPU. */
#define X86_STACK_SIZE 16384
/** Stack for #DF, NMI and #MC (IST1), per CPU: usable even if RSP is bad. */
#define X86_IST_SIZE 4096

/** Where application processors start (a page below 1 MiB: SIPI vector 8). */
#define X86_AP_TRAMPOLINE 0x8000

#endif /* X86_LAYOUT_H */
