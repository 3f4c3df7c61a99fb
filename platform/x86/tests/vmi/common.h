/**
 * What the x86 introspection test's VM (guest.c) and monitor (monitor.c) share: the pages
 * of the VM's RAM the monitor protects, and their capability slots (vmi.dts). The VM's RAM is
 * 4 MiB at 0x100000, so PROT lies in a 2 MiB block of its nested tables that the kernel splits.
 */
#ifndef X86_TESTS_VMI_COMMON_H
#define X86_TESTS_VMI_COMMON_H

#include <stdint.h>

#define PROT UINT64_C(0x3f0000) /* protected in view 0 */
#define ALT UINT64_C(0x3e0000)  /* the frame change_gfn shows at PROT in view 1 */
#define P2 UINT64_C(0x3d0000)   /* protected in view 1 only */
#define DB UINT64_C(0x3c0000)   /* the doorbell: protected in views 0 and 1 */
#define RAM_LO UINT64_C(0x100000)
#define RAM_HI UINT64_C(0x500000)
#define MON_BADGE 0x77u

/* The monitor's slots. */
#define MON_EP_RECV 0u
#define MON_EP_SEND 1u
#define MON_GUEST 2u
#define MON_GUEST_EMULATE 3u
#define MON_GO 4u
#define MON_READY 5u
/* The VM's. */
#define VM_GO 0u
#define VM_READY 1u

static inline uint64_t rd(uint64_t a)
{
	return *(volatile uint64_t *)(uintptr_t)a;
}

static inline void wr(uint64_t a, uint64_t v)
{
	*(volatile uint64_t *)(uintptr_t)a = v;
}

#endif
