/** Capability lookup, rights checks and narrowing (kernel/cap.c). */
#include "tap.h"
#include <kernel/cap.h>

static struct cap_table table(void)
{
	struct cap_table t = { 0 };
	t.slots[0] = (struct cap){ .type = CAP_ENDPOINT,
		                   .rights = RIGHT_EP_SEND | RIGHT_EP_RECV,
		                   .object = 3 };
	t.slots[1] = (struct cap){
		.type = CAP_NOTIFICATION, .rights = RIGHT_NTF_SIGNAL, .object = 1, .badge = 4
	};
	t.slots[CAP_SLOT_COUNT - 1] =
	        (struct cap){ .type = CAP_MEMORY, .rights = RIGHTS_MEM_ALL, .object = 0 };
	return t;
}

static void test_lookup(void)
{
	struct cap_table t = table();
	const struct cap *c = NULL;
	EQ(cap_lookup(&t, 0, CAP_ENDPOINT, RIGHT_EP_SEND, &c), STATUS_OK,
	   "lookup: endpoint with send");
	OK(c == &t.slots[0], "lookup: returns the slot itself");
	EQ(cap_lookup(&t, 0, CAP_ENDPOINT, RIGHT_EP_SEND | RIGHT_EP_RECV, &c), STATUS_OK,
	   "lookup: both rights");
	EQ(cap_lookup(&t, 0, CAP_ENDPOINT, RIGHT_EP_GRANT, &c), STATUS_NO_RIGHTS,
	   "lookup: missing grant right");
	EQ(cap_lookup(&t, 0, CAP_NOTIFICATION, 0, &c), STATUS_WRONG_TYPE, "lookup: wrong type");
	EQ(cap_lookup(&t, 2, CAP_ENDPOINT, 0, &c), STATUS_INVALID_CAP, "lookup: empty slot");
	EQ(cap_lookup(&t, CAP_SLOT_COUNT, CAP_ENDPOINT, 0, &c), STATUS_INVALID_CAP,
	   "lookup: slot == count");
	EQ(cap_lookup(&t, UINT64_MAX, CAP_ENDPOINT, 0, &c), STATUS_INVALID_CAP,
	   "lookup: huge slot");
	EQ(cap_lookup(&t, (UINT64_C(1) << 32), CAP_ENDPOINT, 0, &c), STATUS_INVALID_CAP,
	   "lookup: slot that truncates to 0 is still rejected");
	EQ(cap_lookup(&t, CAP_SLOT_COUNT - 1, CAP_MEMORY, RIGHT_MEM_MAP, &c), STATUS_OK,
	   "lookup: last slot");
}

static void test_derive(void)
{
	struct cap_table t = table();
	EQ(cap_derive_decode(&t, 0, 5, RIGHT_EP_SEND, 9), STATUS_OK,
	   "derive: narrower rights, new badge");
	cap_derive_invoke(&t, 0, 5, RIGHT_EP_SEND, 9);
	EQ(t.slots[5].type, CAP_ENDPOINT, "derive: type copied");
	EQ(t.slots[5].rights, RIGHT_EP_SEND, "derive: rights narrowed");
	EQ(t.slots[5].object, 3, "derive: same object");
	EQ(t.slots[5].badge, 9, "derive: badge set");
	EQ(t.slots[0].rights, RIGHT_EP_SEND | RIGHT_EP_RECV, "derive: source untouched");
	EQ(cap_derive_decode(&t, 5, 6, RIGHT_EP_SEND | RIGHT_EP_RECV, 0), STATUS_NO_RIGHTS,
	   "derive: cannot widen rights");
	EQ(cap_derive_decode(&t, 5, 6, RIGHT_EP_SEND, 10), STATUS_INVALID_ARG,
	   "derive: cannot re-badge");
	EQ(cap_derive_decode(&t, 5, 6, 1u << 7, 0), STATUS_INVALID_ARG,
	   "derive: unknown right bit");
	EQ(cap_derive_decode(&t, 5, 6, UINT64_C(1) << 33, 0), STATUS_INVALID_ARG,
	   "derive: rights above 32 bits");
	EQ(cap_derive_decode(&t, 0, 1, RIGHT_EP_SEND, 0), STATUS_BUSY,
	   "derive: occupied destination");
	EQ(cap_derive_decode(&t, 2, 6, 0, 0), STATUS_INVALID_CAP, "derive: empty source");
	EQ(cap_derive_decode(&t, 0, CAP_SLOT_COUNT, 0, 0), STATUS_INVALID_CAP,
	   "derive: destination out of range");
	EQ(cap_derive_decode(&t, 99, 6, 0, 0), STATUS_INVALID_CAP, "derive: source out of range");
	EQ(cap_derive_decode(&t, 1, 7, RIGHT_NTF_SIGNAL, 0), STATUS_OK,
	   "derive: keep badge with 0");
	cap_derive_invoke(&t, 1, 7, RIGHT_NTF_SIGNAL, 0);
	EQ(t.slots[7].badge, 4, "derive: badge inherited");
}

static void test_restrict_drop(void)
{
	struct cap_table t = table();
	EQ(cap_restrict_decode(&t, 0, RIGHT_EP_RECV), STATUS_OK, "restrict: to a subset");
	cap_restrict_invoke(&t, 0, RIGHT_EP_RECV);
	EQ(t.slots[0].rights, RIGHT_EP_RECV, "restrict: applied in place");
	EQ(cap_restrict_decode(&t, 0, RIGHT_EP_SEND), STATUS_NO_RIGHTS,
	   "restrict: cannot regain a right");
	EQ(cap_restrict_decode(&t, 0, 0x80), STATUS_INVALID_ARG, "restrict: unknown right bit");
	EQ(cap_restrict_decode(&t, 3, 0), STATUS_INVALID_CAP, "restrict: empty slot");
	EQ(cap_drop_decode(&t, 1), STATUS_OK, "drop: full slot");
	cap_drop_invoke(&t, 1);
	EQ(t.slots[1].type, CAP_NULL, "drop: slot emptied");
	EQ(cap_drop_decode(&t, 1), STATUS_INVALID_CAP, "drop: twice");
	EQ(cap_drop_decode(&t, CAP_SLOT_COUNT + 5), STATUS_INVALID_CAP, "drop: out of range");
	EQ(cap_rights_mask(CAP_NULL), 0, "rights mask: null type has none");
	EQ(cap_rights_mask(77), 0, "rights mask: unknown type has none");
}

int main(void)
{
	test_lookup();
	test_derive();
	test_restrict_drop();
	return tap_finish();
}
