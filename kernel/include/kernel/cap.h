/**
 * Capabilities: each names one kernel object and a set of rights.
 * A partition's table has CAP_SLOT_COUNT slots filled from the manifest.
 * Holders can only narrow: derive into an empty slot with a subset of the
 * rights, restrict in place, or drop. The ACSL contracts below are proved
 * with Frama-C/WP by proofs/run (see proofs/README.md).
 */
#ifndef KERNEL_CAP_H
#define KERNEL_CAP_H

#include <ipc/abi.h>
#include <kernel/types.h>

struct cap {
	u32 type;   /**< enum cap_type; CAP_NULL = empty slot */
	u32 rights; /**< subset of cap_rights_mask(type) */
	u32 object; /**< index of the object in its kernel array */
	u64 badge;  /**< given to receivers / OR'd into notification words */
};

struct cap_table {
	struct cap slots[CAP_SLOT_COUNT];
};

/*@
  // Logic mirror of cap_rights_mask, used by the contracts below.
  logic integer cap_mask_l(integer type) =
    type == CAP_ENDPOINT ? RIGHTS_EP_ALL :
    type == CAP_NOTIFICATION ? RIGHTS_NTF_ALL :
    type == CAP_MEMORY ? RIGHTS_MEM_ALL :
    type == CAP_VCPUS ? RIGHTS_VCPUS_ALL :
    type == CAP_GUEST ? RIGHTS_GUEST_ALL : 0;

  // A slot index names a slot of the table and that slot is not empty.
  predicate cap_full(struct cap_table *t, integer slot) =
    0 <= slot < CAP_SLOT_COUNT && t->slots[slot].type != CAP_NULL;
*/

/** The rights that exist for a type (0 for CAP_NULL and unknown types). */
/*@ assigns \nothing;
    ensures \result == cap_mask_l(type);
*/
u32 cap_rights_mask(u32 type);

/**
 * Find the capability in slot, check its type and that it has every right
 * in need. On success *out points at the slot.
 */
/*@ requires \valid_read(t);
    requires \valid(out);
    requires \separated(out, t);
    assigns *out;
    behavior out_of_range:
      assumes slot >= CAP_SLOT_COUNT;
      assigns \nothing;
      ensures \result == STATUS_INVALID_CAP;
    behavior empty:
      assumes slot < CAP_SLOT_COUNT && t->slots[slot].type == CAP_NULL;
      assigns \nothing;
      ensures \result == STATUS_INVALID_CAP;
    behavior wrong_type:
      assumes slot < CAP_SLOT_COUNT && t->slots[slot].type != CAP_NULL;
      assumes t->slots[slot].type != type;
      assigns \nothing;
      ensures \result == STATUS_WRONG_TYPE;
    behavior no_rights:
      assumes slot < CAP_SLOT_COUNT && t->slots[slot].type != CAP_NULL;
      assumes t->slots[slot].type == type;
      assumes (t->slots[slot].rights & need) != need;
      assigns \nothing;
      ensures \result == STATUS_NO_RIGHTS;
    behavior found:
      assumes slot < CAP_SLOT_COUNT && t->slots[slot].type != CAP_NULL;
      assumes t->slots[slot].type == type;
      assumes (t->slots[slot].rights & need) == need;
      assigns *out;
      ensures \result == STATUS_OK;
      ensures *out == &t->slots[slot];
      ensures (*out)->type == type && ((need & (*out)->rights) == need);
    complete behaviors;
    disjoint behaviors;
*/
enum status cap_lookup(const struct cap_table *t, u64 slot, u32 type, u32 need,
                       const struct cap **out);

/** Decode a derive: src must exist, dst be empty, rights a subset. */
/*@ requires \valid_read(t);
    assigns \nothing;
    ensures \result == STATUS_OK <==>
      cap_full(t, src) && dst < CAP_SLOT_COUNT && t->slots[dst].type == CAP_NULL &&
      rights <= 0xffffffff && ((rights & cap_mask_l(t->slots[src].type)) == rights) &&
      ((rights & t->slots[src].rights) == rights) &&
      (badge == 0 || t->slots[src].badge == 0);
    ensures \result == STATUS_OK ==> src != dst;
*/
enum status cap_derive_decode(const struct cap_table *t, u64 src, u64 dst, u64 rights, u64 badge);
/** Invoke a decoded derive. */
/*@ requires \valid(t);
    requires src < CAP_SLOT_COUNT && dst < CAP_SLOT_COUNT;
    assigns t->slots[dst];
    ensures t->slots[dst].type == \old(t->slots[src].type);
    ensures t->slots[dst].object == \old(t->slots[src].object);
    ensures t->slots[dst].rights == (\old(t->slots[src].rights) & rights);
    ensures ((t->slots[dst].rights & \old(t->slots[src].rights)) == t->slots[dst].rights);
    ensures ((t->slots[dst].rights & rights) == t->slots[dst].rights);
    ensures t->slots[dst].badge == (badge != 0 ? badge : \old(t->slots[src].badge));
*/
void cap_derive_invoke(struct cap_table *t, u32 src, u32 dst, u32 rights, u64 badge);

/*@ requires \valid_read(t);
    assigns \nothing;
    ensures \result == STATUS_OK <==>
      cap_full(t, slot) && rights <= 0xffffffff &&
      ((rights & cap_mask_l(t->slots[slot].type)) == rights) &&
      ((rights & t->slots[slot].rights) == rights);
*/
enum status cap_restrict_decode(const struct cap_table *t, u64 slot, u64 rights);
/*@ requires \valid(t) && slot < CAP_SLOT_COUNT;
    assigns t->slots[slot].rights;
    ensures t->slots[slot].rights == (\old(t->slots[slot].rights) & rights);
    ensures ((t->slots[slot].rights & \old(t->slots[slot].rights)) == t->slots[slot].rights);
*/
void cap_restrict_invoke(struct cap_table *t, u32 slot, u32 rights);

/*@ requires \valid_read(t);
    assigns \nothing;
    ensures \result == STATUS_OK <==> cap_full(t, slot);
    ensures \result == STATUS_OK || \result == STATUS_INVALID_CAP;
*/
enum status cap_drop_decode(const struct cap_table *t, u64 slot);
/*@ requires \valid(t) && slot < CAP_SLOT_COUNT;
    assigns t->slots[slot];
    ensures t->slots[slot].type == CAP_NULL && t->slots[slot].rights == 0;
    ensures t->slots[slot].badge == 0;
*/
void cap_drop_invoke(struct cap_table *t, u32 slot);

#endif /* KERNEL_CAP_H */
