/**
 * guest_mem_copy (kernel/guest_mem.c), HC_GUEST_MEM's and HC_GUEST_COPY's copy: every length
 * from 0 to 40 at every alignment of both ends, apart and overlapping, copies exactly the bytes
 * asked and touches nothing around them. (That an aligned 2-, 4- or 8-byte copy is one access
 * each way is its construction, volatile accesses of that size: a single thread cannot see it.)
 */
#include "tap.h"
#include <kernel/guest_mem.h>
#include <string.h>

#define SPAN 64u

static unsigned char buf[3 * SPAN] __attribute__((aligned(16)));
static unsigned char want[3 * SPAN];

/** Fill buf with a pattern that differs at every byte, and want with the same. */
static void fill(unsigned seed)
{
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7u + seed * 13u + 1u);
	memcpy(want, buf, sizeof(buf));
}

/** One copy of len bytes from buf[from] to buf[to], against a byte-by-byte model. */
static bool one(unsigned from, unsigned to, unsigned len, unsigned seed)
{
	fill(seed);
	unsigned char tmp[SPAN];
	memcpy(tmp, &want[from], len);
	memcpy(&want[to], tmp, len);
	guest_mem_copy(&buf[to], &buf[from], len);
	return memcmp(buf, want, sizeof(buf)) == 0;
}

int main(void)
{
	unsigned apart = 0, apart_all = 0, near = 0, near_all = 0;
	for (unsigned len = 0; len <= 40; len++) {
		for (unsigned a = 0; a < 8; a++) {
			for (unsigned b = 0; b < 8; b++) {
				/* apart: the source in the first span, the destination in the third */
				apart += one(a, 2u * SPAN + b, len, len + a + b);
				apart_all++;
				/* overlapping both ways, as two views of one shared region can */
				near += one(SPAN + a, SPAN + b + 3u, len, len * 3u + a);
				near += one(SPAN + b + 3u, SPAN + a, len, len * 5u + b);
				near_all += 2;
			}
		}
	}
	EQ(apart, apart_all, "every length 0..40 at every alignment of both ends, apart");
	EQ(near, near_all, "the same overlapping, both directions");
	/* The aligned field a virtio driver polls: its value whole, its neighbours untouched. */
	fill(99);
	uint16_t idx = 0x0100;
	guest_mem_copy(&buf[SPAN + 2], &idx, 2);
	uint16_t got;
	memcpy(&got, &buf[SPAN + 2], 2);
	OK(got == 0x0100 && buf[SPAN + 1] == want[SPAN + 1] && buf[SPAN + 4] == want[SPAN + 4],
	   "an aligned 16-bit index: its value, nothing beside it");
	uint64_t w = 0x1122334455667788u, r = 0;
	guest_mem_copy(&buf[2 * SPAN], &w, 8);
	guest_mem_copy(&r, &buf[2 * SPAN], 8);
	OK(r == w, "an aligned 64-bit word there and back");
	return tap_finish();
}
