/**
 * The trusted bit facts of the WP proofs, force-included (-include) into
 * every Frama-C run by proofs/run. The provers available here (CVC4, Z3
 * through Why3) treat C's & and ~ on integers as uninterpreted beyond a few
 * axioms, so they cannot link the code's form of a rights check,
 *
 *     (rights & ~(u64)have) == 0        (no right outside have)
 *
 * to the contracts' form (rights & have) == rights, nor a shift or a mask
 * to division and remainder. The axioms below state those links for the
 * widths and constants the kernel uses. They are not taken on faith:
 * proofs/wp/bits.smt2 checks the same statements over bit-vectors with Z3
 * (the "bit axioms" line of proofs/run), for every value of the width.
 */
#ifndef PROOFS_WP_BITS_H
#define PROOFS_WP_BITS_H

#include <stdint.h>

/*@ axiomatic proof_bits {
  axiom and_not_u64:
    \forall integer a, b; 0 <= a <= 0xffffffffffffffff ==> 0 <= b <= 0xffffffffffffffff ==>
      (((a & (uint64_t)~b) == 0) <==> ((a & b) == a));
  axiom and_not_u32:
    \forall integer a, b; 0 <= a <= 0xffffffff ==> 0 <= b <= 0xffffffff ==>
      (((a & (uint32_t)~b) == 0) <==> ((a & b) == a));
  axiom page_mask_mod:
    \forall integer x; 0 <= x <= 0xffffffffffffffff ==> (((x & 4095) == 0) <==> x % 4096 == 0);
  axiom index_mask_mod:
    \forall integer x; 0 <= x <= 0xffffffffffffffff ==> (((uint32_t)x & 511) == x % 512);
  axiom lsr_12: \forall integer x; 0 <= x <= 0xffffffffffffffff ==> (x >> 12) == x / 4096;
  axiom lsr_21: \forall integer x; 0 <= x <= 0xffffffffffffffff ==> (x >> 21) == x / 2097152;
  axiom lsr_30: \forall integer x; 0 <= x <= 0xffffffffffffffff ==> (x >> 30) == x / 1073741824;
  axiom lsr_39: \forall integer x; 0 <= x <= 0xffffffffffffffff ==> (x >> 39) == x / 549755813888;
} */

#endif /* PROOFS_WP_BITS_H */
