/**
 * Which ASID a partition's vCPUs run under (AMD APM vol 2 §15.16). Kept
 * apart from svm.c, with no other dependency, so that a host unit test
 * (tests/unit/test_x86_asid.c) checks the rule itself.
 *
 * ASID 0 is the host's. While there are enough, a partition owns the ASID
 * equal to its vmid. The last ASID is never owned: every partition past
 * the owned ones shares it and flushes it on every VMRUN. If an owner used
 * the shared ASID too, it would run without a flush over TLB entries
 * another partition's tables left there.
 */
#ifndef X86_ASID_H
#define X86_ASID_H

#include <stdbool.h>
#include <stdint.h>

/**
 * The ASID for vmid (>= 1) on a CPU offering asid_count ASIDs (>= 2,
 * CPUID 8000_000Ah:EBX); *shared tells whether it must be flushed on
 * every entry because other partitions use it too.
 */
static inline uint32_t x86_asid_for(uint32_t vmid, uint32_t asid_count, bool *shared)
{
	*shared = vmid >= asid_count - 1u;
	return *shared ? asid_count - 1u : vmid;
}

#endif /* X86_ASID_H */
