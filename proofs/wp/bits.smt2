; The bit axioms of proofs/wp/bits.h, checked over bit-vectors by Z3 for
; every value of the width: each block asserts the negation of one axiom,
; so each (check-sat) must answer unsat. proofs/run counts the answers.
; On naturals below 2^w, C's & is bvand, (uintw_t)~b is bvnot, / and % by
; a power of two are bvudiv and bvurem, and (uint32_t)x keeps bits 31..0.
(set-logic QF_BV)

; and_not_u64: (a & (uint64_t)~b) == 0  <==>  (a & b) == a
(push 1)
(declare-const a (_ BitVec 64))
(declare-const b (_ BitVec 64))
(assert (not (= (= (bvand a (bvnot b)) (_ bv0 64)) (= (bvand a b) a))))
(check-sat)
(pop 1)

; and_not_u32: the same for 32-bit words
(push 1)
(declare-const a (_ BitVec 32))
(declare-const b (_ BitVec 32))
(assert (not (= (= (bvand a (bvnot b)) (_ bv0 32)) (= (bvand a b) a))))
(check-sat)
(pop 1)

; page_mask_mod: (x & 4095) == 0  <==>  x % 4096 == 0
(push 1)
(declare-const x (_ BitVec 64))
(assert (not (= (= (bvand x (_ bv4095 64)) (_ bv0 64)) (= (bvurem x (_ bv4096 64)) (_ bv0 64)))))
(check-sat)
(pop 1)

; index_mask_mod: ((uint32_t)x & 511) == x % 512
(push 1)
(declare-const x (_ BitVec 64))
(assert (not (= (bvand ((_ extract 31 0) x) (_ bv511 32))
                ((_ extract 31 0) (bvurem x (_ bv512 64))))))
(check-sat)
(pop 1)

; lsr_12, lsr_21, lsr_30, lsr_39: x >> k == x / 2^k
(push 1)
(declare-const x (_ BitVec 64))
(assert (not (and (= (bvlshr x (_ bv12 64)) (bvudiv x (_ bv4096 64)))
                  (= (bvlshr x (_ bv21 64)) (bvudiv x (_ bv2097152 64)))
                  (= (bvlshr x (_ bv30 64)) (bvudiv x (_ bv1073741824 64)))
                  (= (bvlshr x (_ bv39 64)) (bvudiv x (_ bv549755813888 64))))))
(check-sat)
(pop 1)
