/**
 * Force-included (-include) into every Frama-C run by proofs/run, before
 * the kernel file under proof. It gives contracts to what the proved files
 * call but do not own: the static inline helpers of kernel/types.h and the
 * platform seam (arch/stage2.h, plat/memory.h), whose real bodies live in
 * platform/<arch>/ and are not proved here. The contracts are the
 * assumptions of the proof; proofs/README.md lists them.
 */
#ifndef PROOFS_WP_PRELUDE_H
#define PROOFS_WP_PRELUDE_H

#include "bits.h"

#include <kernel/types.h>

/*@ assigns \nothing;
    ensures \result <==> (v & PAGE_MASK) == 0;
*/
static inline bool is_page_aligned(u64 v);

/*@ assigns \nothing;
    ensures \result.pa == v;
*/
static inline paddr_t pa_init(u64 v);

/*@ assigns \nothing;
    ensures \result.ipa == v;
*/
static inline ipaddr_t ipa_init(u64 v);

#endif /* PROOFS_WP_PRELUDE_H */
