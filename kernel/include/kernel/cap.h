/**
 * Capabilities: each names one kernel object and a set of rights.
 * A partition's table has CAP_SLOT_COUNT slots filled from the manifest.
 * Holders can only narrow: derive into an empty slot with a subset of the
 * rights, restrict in place, or drop. Proved in proofs/wp/cap.c.
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

/** The rights that exist for a type (0 for CAP_NULL and unknown types). */
u32 cap_rights_mask(u32 type);

/**
 * Find the capability in slot, check its type and that it has every right
 * in need. On success *out points at the slot.
 */
enum status cap_lookup(const struct cap_table *t, u64 slot, u32 type, u32 need, const struct cap **out);

/** Decode a derive: src must exist, dst be empty, rights a subset. */
enum status cap_derive_decode(const struct cap_table *t, u64 src, u64 dst, u64 rights, u64 badge);
/** Invoke a decoded derive. */
void cap_derive_invoke(struct cap_table *t, u32 src, u32 dst, u32 rights, u64 badge);

enum status cap_restrict_decode(const struct cap_table *t, u64 slot, u64 rights);
void cap_restrict_invoke(struct cap_table *t, u32 slot, u32 rights);

enum status cap_drop_decode(const struct cap_table *t, u64 slot);
void cap_drop_invoke(struct cap_table *t, u32 slot);

#endif /* KERNEL_CAP_H */
