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

/*
 * The platform seam of the stage-2 walk. The encoders are abstract logic
 * functions: the walk is proved for any encoding. plat_phys_to_virt is
 * assumed to give a table of the pool when the walk asks for one (the root,
 * and what a valid level-0..2 entry points at); that is assumption A2 in
 * proofs/README.md. s2_pool_table is defined in kernel/stage2.c.
 */
#include <arch/stage2.h>
#include <plat/memory.h>

/*@ axiomatic stage2_seam {
  logic u64 s2_table_l(integer pa);
  logic u64 s2_page_l(integer pa, integer rights, integer device);
  logic u64 s2_block_l(integer pa, integer rights, integer device);
  predicate s2_table_p(integer entry);
  predicate s2_valid_l(integer entry);
  logic integer s2_pa_l(integer entry);
  predicate s2_pool_table(u64 *p);
} */

/*@ assigns \nothing;
    ensures \result == s2_table_l(pa.pa);
*/
u64 arch_stage2_table_entry(paddr_t pa);

/*@ assigns \nothing;
    ensures \result == s2_page_l(pa.pa, rights, device);
*/
u64 arch_stage2_page_entry(paddr_t pa, u32 rights, bool device);

/*@ assigns \nothing;
    ensures \result == s2_block_l(pa.pa, rights, device);
*/
u64 arch_stage2_block_entry(paddr_t pa, u32 rights, bool device);

/*@ assigns \nothing;
    ensures \result <==> s2_table_p(entry);
*/
bool arch_stage2_entry_is_table(u64 entry);

/*@ assigns \nothing;
    ensures \result <==> s2_valid_l(entry);
*/
bool arch_stage2_entry_valid(u64 entry);

/*@ assigns \nothing;
    ensures \result.pa == s2_pa_l(entry);
*/
paddr_t arch_stage2_entry_pa(u64 entry);

/*@ assigns \nothing; */
u32 arch_stage2_entry_rights(u64 entry);

/*@ assigns \nothing; */
void arch_stage2_flush(u32 vmid);

/*@ assigns \nothing; */
bool arch_stage2_entry_device(u64 entry);

/*@ assigns \nothing; */
void arch_stage2_invalidate_ipa(u32 vmid, ipaddr_t ipa);

/*@ assigns \nothing;
    ensures s2_pool_table((u64 *)\result);
*/
void *plat_phys_to_virt(paddr_t pa);

/*@ assigns \nothing; */
paddr_t plat_virt_to_phys(const void *p);

#endif /* PROOFS_WP_PRELUDE_H */
