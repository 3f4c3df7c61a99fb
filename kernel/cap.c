/**
 * Capability lookup, rights checks and the three narrowing operations.
 *
 * Every function here works on one partition's table and never widens a
 * right: Frama-C/WP proves (proofs/run, contracts in cap.h) that cap_lookup
 * returns only a slot of the asked type holding every needed right, and
 * that derive/restrict leave rights that are a subset of the source's.
 */
#include <kernel/cap.h>

u32 cap_rights_mask(u32 type)
{
	switch (type) {
	case CAP_ENDPOINT:
		return RIGHTS_EP_ALL;
	case CAP_NOTIFICATION:
		return RIGHTS_NTF_ALL;
	case CAP_MEMORY:
		return RIGHTS_MEM_ALL;
	case CAP_VCPUS:
		return RIGHTS_VCPUS_ALL;
	case CAP_GUEST:
		return RIGHTS_GUEST_ALL;
	default:
		return 0;
	}
}

enum status cap_lookup(const struct cap_table *t, u64 slot, u32 type, u32 need,
                       const struct cap **out)
{
	if (slot >= CAP_SLOT_COUNT)
		return STATUS_INVALID_CAP;
	const struct cap *c = &t->slots[slot];
	if (c->type == CAP_NULL)
		return STATUS_INVALID_CAP;
	if (c->type != type)
		return STATUS_WRONG_TYPE;
	if ((c->rights & need) != need)
		return STATUS_NO_RIGHTS;
	*out = c;
	return STATUS_OK;
}

/** A slot index is valid and the slot holds a capability. */
/*@ requires \valid_read(t);
    assigns \nothing;
    ensures \result == STATUS_OK <==> cap_full(t, slot);
    ensures \result == STATUS_OK || \result == STATUS_INVALID_CAP;
*/
static enum status cap_slot_full(const struct cap_table *t, u64 slot)
{
	if (slot >= CAP_SLOT_COUNT || t->slots[slot].type == CAP_NULL)
		return STATUS_INVALID_CAP;
	return STATUS_OK;
}

enum status cap_derive_decode(const struct cap_table *t, u64 src, u64 dst, u64 rights, u64 badge)
{
	enum status s = cap_slot_full(t, src);
	if (s != STATUS_OK)
		return s;
	if (dst >= CAP_SLOT_COUNT)
		return STATUS_INVALID_CAP;
	if (t->slots[dst].type != CAP_NULL)
		return STATUS_BUSY;
	const struct cap *c = &t->slots[src];
	if (rights > 0xffffffffu || (rights & ~(u64)cap_rights_mask(c->type)) != 0)
		return STATUS_INVALID_ARG;
	if ((rights & ~(u64)c->rights) != 0)
		return STATUS_NO_RIGHTS;
	/* A badge may be set once, on an unbadged capability; 0 keeps the source's. */
	if (badge != 0 && c->badge != 0)
		return STATUS_INVALID_ARG;
	return STATUS_OK;
}

void cap_derive_invoke(struct cap_table *t, u32 src, u32 dst, u32 rights, u64 badge)
{
	/* Field by field from a copy, so WP reasons about each store (proofs/README.md). */
	const struct cap c = t->slots[src];
	struct cap *d = &t->slots[dst];
	d->type = c.type;
	d->rights = c.rights & rights;
	d->object = c.object;
	d->badge = badge != 0 ? badge : c.badge;
}

enum status cap_restrict_decode(const struct cap_table *t, u64 slot, u64 rights)
{
	enum status s = cap_slot_full(t, slot);
	if (s != STATUS_OK)
		return s;
	const struct cap *c = &t->slots[slot];
	if (rights > 0xffffffffu || (rights & ~(u64)cap_rights_mask(c->type)) != 0)
		return STATUS_INVALID_ARG;
	if ((rights & ~(u64)c->rights) != 0)
		return STATUS_NO_RIGHTS;
	return STATUS_OK;
}

void cap_restrict_invoke(struct cap_table *t, u32 slot, u32 rights)
{
	t->slots[slot].rights &= rights;
}

enum status cap_drop_decode(const struct cap_table *t, u64 slot)
{
	return cap_slot_full(t, slot);
}

void cap_drop_invoke(struct cap_table *t, u32 slot)
{
	struct cap *c = &t->slots[slot];
	c->type = CAP_NULL;
	c->rights = 0;
	c->object = 0;
	c->badge = 0;
}
