/**
 * libFuzzer target for the CMOS RTC model (services/vrtc/rtc.c): a random sequence of port
 * accesses (any offset, any width, any value; index writes with and without the NMI bit,
 * SET, DM and 24/12 changes and garbage times among them) at a time that moves forward by
 * random steps. Checked after every step (abort on failure):
 *  - rtc_state_valid() holds;
 *  - the status is RTC_BAD_ACCESS exactly for an offset past 1 or a width other than one
 *    byte, and a refused access changes nothing;
 *  - the index port reads 0xff; status A never shows UIP, D reads VRT, C only its four flags
 *    with IRQF set exactly when one of PF, AF, UF is set with its enable in status B;
 *  - NVRAM (0x0e-0x7f) and the alarms read back the last byte written there;
 *  - while SET is clear, the time registers are a real date and time in the format status B
 *    gives (BCD digits, hours 0-23 or 1-12 with the PM bit, day within the month).
 * ASan and UBSan catch out-of-bounds accesses and undefined behaviour (an overflowing clock).
 */
#include <stdlib.h>
#include <string.h>

#include "rtc.h"

struct input {
	const unsigned char *data;
	size_t size;
};

static uint64_t take(struct input *in, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++) {
		v <<= 8;
		if (in->size != 0) {
			v |= *in->data++;
			in->size--;
		}
	}
	return v;
}

static void check(bool ok)
{
	if (!ok)
		abort();
}

static struct rtc rtc;
static uint64_t now;
static uint8_t mirror[RTC_CMOS_SIZE]; /**< NVRAM and alarms as last written */

static uint8_t rd(uint8_t index)
{
	uint8_t v = index;
	check(rtc_access(&rtc, now, 0, 1, true, &v) == RTC_OK);
	check(rtc_access(&rtc, now, 1, 1, false, &v) == RTC_OK);
	return v;
}

static bool num(uint8_t b, uint32_t lo, uint32_t hi, bool binary)
{
	uint32_t v = b;
	if (!binary) {
		if ((b >> 4) > 9u || (b & 0xfu) > 9u)
			return false;
		v = (b >> 4) * 10u + (b & 0xfu);
	}
	return v >= lo && v <= hi;
}

/** While SET is clear the registers show a real date and time (rd() refreshes them). */
static void check_time(void)
{
	uint8_t b = rtc.cmos[RTC_STATUS_B];
	if (b & RTC_B_SET)
		return;
	bool bin = (b & RTC_B_DM) != 0;
	uint8_t index = rtc.index;
	check(num(rd(RTC_SECONDS), 0, 59, bin) && num(rd(RTC_MINUTES), 0, 59, bin));
	uint8_t h = rd(RTC_HOURS);
	if (b & RTC_B_24H)
		check(num(h, 0, 23, bin));
	else
		check(num(h & 0x7fu, 1, 12, bin));
	check(num(rd(RTC_WEEKDAY), 1, 7, bin) && num(rd(RTC_MONTH), 1, 12, bin) &&
	      num(rd(RTC_DAY), 1, 31, bin) && num(rd(RTC_YEAR), 0, 99, bin));
	uint8_t v = index; /* put the guest's index back */
	check(rtc_access(&rtc, now, 0, 1, true, &v) == RTC_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	now = take(&in, 4) * 1000u;
	rtc_init(&rtc, now);
	memcpy(mirror, rtc.cmos, sizeof(mirror));
	while (in.size != 0) {
		uint8_t how = (uint8_t)take(&in, 1);
		uint8_t value = (uint8_t)take(&in, 1);
		now += (how & 0x80u) ? take(&in, 3) : (how >> 4 & 7u) * 100000u;
		uint32_t offset = how & 3u, width = (how & 4u) ? 1u << (how >> 2 & 3u) : 1u;
		bool write = (how & 8u) != 0;
		struct rtc before = rtc;
		uint8_t v = value;
		enum rtc_status st = rtc_access(&rtc, now, offset, width, write, &v);
		check((st == RTC_BAD_ACCESS) == (offset > 1u || width != 1u));
		if (st == RTC_BAD_ACCESS) {
			check(memcmp(&before, &rtc, sizeof(rtc)) == 0 && v == value);
			continue;
		}
		check(rtc_state_valid(&rtc));
		uint8_t index = before.index;
		if (offset == 0 && !write)
			check(v == 0xff);
		if (offset == 1 && write &&
		    (index >= RTC_NVRAM_FIRST || index == RTC_SECONDS_ALARM ||
		     index == RTC_MINUTES_ALARM || index == RTC_HOURS_ALARM))
			mirror[index] = value;
		if (offset == 1 && !write) {
			uint8_t b = rtc.cmos[RTC_STATUS_B];
			if (index >= RTC_NVRAM_FIRST || index == RTC_SECONDS_ALARM ||
			    index == RTC_MINUTES_ALARM || index == RTC_HOURS_ALARM)
				check(v == mirror[index]);
			if (index == RTC_STATUS_A)
				check((v & RTC_A_UIP) == 0);
			if (index == RTC_STATUS_D)
				check(v == RTC_D_VRT);
			if (index == RTC_STATUS_C) {
				check((v & 0x0fu) == 0);
				bool irq = ((v & RTC_C_PF) && (b & RTC_B_PIE)) ||
				           ((v & RTC_C_AF) && (b & RTC_B_AIE)) ||
				           ((v & RTC_C_UF) && (b & RTC_B_UIE));
				check(((v & RTC_C_IRQF) != 0) == irq);
			}
		}
		check_time();
	}
	return 0;
}
