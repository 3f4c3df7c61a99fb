/**
 * The x86 ASID rule (platform/x86/include/x86/asid.h): no ASID is used by
 * two partitions unless every user of it flushes on each entry, whatever
 * the number of partitions and of ASIDs. Before the rule reserved the
 * last ASID for sharers, the partition whose vmid equalled the last ASID
 * owned it without flushing while later partitions shared it.
 */
#include <x86/asid.h>

#include "tap.h"

int main(void)
{
	bool ok_range = true, ok_flush = true, ok_owned = true;
	for (uint32_t count = 2; count <= 64; count++) {
		for (uint32_t parts = 1; parts <= 80; parts++) {
			uint32_t users[64] = { 0 };
			bool every_user_flushes[64];
			for (uint32_t a = 0; a < 64; a++)
				every_user_flushes[a] = true;
			for (uint32_t vmid = 1; vmid <= parts; vmid++) {
				bool shared;
				uint32_t asid = x86_asid_for(vmid, count, &shared);
				if (asid == 0 || asid >= count) {
					ok_range = false;
					continue;
				}
				users[asid]++;
				every_user_flushes[asid] = every_user_flushes[asid] && shared;
				/* With enough ASIDs a partition owns its own and needs no flush. */
				if (vmid < count - 1u && (shared || asid != vmid))
					ok_owned = false;
			}
			for (uint32_t a = 1; a < count; a++)
				if (users[a] > 1 && !every_user_flushes[a])
					ok_flush = false;
		}
	}
	OK(ok_range, "every ASID is in 1..count-1 (0 is the host's)");
	OK(ok_flush, "an ASID used by several partitions is flushed on entry by every one of them");
	OK(ok_owned, "while ASIDs last, each partition owns its own and is not flushed");
	return tap_finish();
}
