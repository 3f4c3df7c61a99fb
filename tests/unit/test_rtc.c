/**
 * Host tests of the CMOS RTC model (services/vrtc/rtc.c): the index register and its NMI bit,
 * reset values, NVRAM, the clock in BCD and binary, 24- and 12-hour, counting and carrying
 * across a minute, a day, a month and a leap day, SET freezing and setting the clock, writes
 * that are no time, status C's flags and their enables, widths, and the check of a struct
 * found in memory after a restart. Expected values: the MC146818A datasheet's register map.
 */
#include <string.h>

#include "rtc.h"
#include "tap.h"

#define SEC UINT64_C(1000000)

static struct rtc rtc;
static uint64_t now = 5 * SEC + 250000; /* any monotonic microseconds */

static void out(uint32_t port, uint8_t v)
{
	uint8_t b = v;
	if (rtc_access(&rtc, now, port - 0x70u, 1, true, &b) != RTC_OK)
		printf("# refused OUT 0x%x\n", port);
}

static uint8_t in(uint32_t port)
{
	uint8_t b = 0;
	if (rtc_access(&rtc, now, port - 0x70u, 1, false, &b) != RTC_OK)
		printf("# refused IN 0x%x\n", port);
	return b;
}

static uint8_t cmos(uint8_t index)
{
	out(0x70, index);
	return in(0x71);
}

static void cmos_set(uint8_t index, uint8_t v)
{
	out(0x70, index);
	out(0x71, v);
}

/** Sets the clock with SET: registers in status B's current format. */
static void set_time(uint8_t year, uint8_t month, uint8_t day, uint8_t hour, uint8_t min,
                     uint8_t sec)
{
	uint8_t b = cmos(RTC_STATUS_B);
	cmos_set(RTC_STATUS_B, b | RTC_B_SET);
	cmos_set(RTC_YEAR, year);
	cmos_set(RTC_MONTH, month);
	cmos_set(RTC_DAY, day);
	cmos_set(RTC_HOURS, hour);
	cmos_set(RTC_MINUTES, min);
	cmos_set(RTC_SECONDS, sec);
	cmos_set(RTC_STATUS_B, b & (uint8_t)~RTC_B_SET);
}

static void test_reset_and_index(void)
{
	rtc_init(&rtc, now);
	OK(rtc_state_valid(&rtc), "reset: a valid state");
	EQ(cmos(RTC_STATUS_A), RTC_A_RESET, "reset: status A 0x26 (32.768 kHz, 1024 Hz)");
	EQ(cmos(RTC_STATUS_B), RTC_B_RESET, "reset: status B 24-hour, BCD");
	EQ(cmos(RTC_STATUS_D), RTC_D_VRT, "status D: VRT, the battery is good");
	EQ(cmos(RTC_YEAR), 0x00, "reset: year 00 (2000)");
	EQ(cmos(RTC_MONTH), 0x01, "reset: January");
	EQ(cmos(RTC_DAY), 0x01, "reset: the 1st");
	EQ(cmos(RTC_WEEKDAY), 7, "reset: 2000-01-01 was a Saturday (7; Sunday is 1)");
	EQ(cmos(RTC_HOURS), 0x00, "reset: midnight");
	EQ(cmos(RTC_SECONDS), 0x00, "reset: 0 seconds");
	EQ(in(0x70), 0xff, "the index port reads 0xff (write-only)");
	out(0x70, 0x80 | 0x40);
	OK(rtc.index == 0x40 && rtc.nmi_masked == 1, "index bit 7 masks NMIs and is no index bit");
	in(0x71);
	out(0x70, 0x40);
	OK(rtc.nmi_masked == 0, "index bit 7 clear: NMIs unmasked");
}

static void test_nvram(void)
{
	rtc_init(&rtc, now);
	for (uint32_t i = RTC_NVRAM_FIRST; i < RTC_CMOS_SIZE; i++)
		cmos_set((uint8_t)i, (uint8_t)(i ^ 0xa5u));
	bool all = true;
	for (uint32_t i = RTC_NVRAM_FIRST; i < RTC_CMOS_SIZE; i++)
		all = all && cmos((uint8_t)i) == (uint8_t)(i ^ 0xa5u);
	OK(all, "nvram: bytes 0x0e-0x7f keep what is written");
	cmos_set(0x80 | 0x20, 0x11); /* the NMI bit on the index: the same byte 0x20 */
	EQ(cmos(0x20), 0x11, "nvram: the index with the NMI bit set names the same byte");
	cmos_set(RTC_SECONDS_ALARM, 0x45);
	EQ(cmos(RTC_SECONDS_ALARM), 0x45, "the alarm registers keep what is written");
}

static void test_clock(void)
{
	rtc_init(&rtc, now);
	set_time(0x26, 0x12, 0x05, 0x19, 0x59, 0x58);
	EQ(cmos(RTC_SECONDS), 0x58, "clock: set to 2026-12-05 19:59:58");
	EQ(cmos(RTC_WEEKDAY), 7, "clock: a Saturday (the day of the week follows the date)");
	now += 2 * SEC;
	OK(cmos(RTC_SECONDS) == 0x00 && cmos(RTC_MINUTES) == 0x00 && cmos(RTC_HOURS) == 0x20,
	   "clock: two seconds later 20:00:00 (BCD carries)");
	set_time(0x26, 0x12, 0x31, 0x23, 0x59, 0x59);
	now += SEC;
	OK(cmos(RTC_YEAR) == 0x27 && cmos(RTC_MONTH) == 0x01 && cmos(RTC_DAY) == 0x01 &&
	           cmos(RTC_HOURS) == 0x00,
	   "clock: New Year's Eve midnight carries into 2027-01-01");
	set_time(0x28, 0x02, 0x28, 0x23, 0x59, 0x59);
	now += SEC;
	OK(cmos(RTC_MONTH) == 0x02 && cmos(RTC_DAY) == 0x29, "clock: 2028 is a leap year");
	set_time(0x27, 0x02, 0x28, 0x23, 0x59, 0x59);
	now += SEC;
	OK(cmos(RTC_MONTH) == 0x03 && cmos(RTC_DAY) == 0x01, "clock: 2027 is not");
	EQ(rtc_days_from_civil(2000, 3, 1), 11017, "civil: 2000-03-01 is day 11017");

	/* Binary, 12-hour. */
	cmos_set(RTC_STATUS_B, RTC_B_DM);
	set_time(26, 12, 5, 0x80 | 7, 30, 0); /* 7:30 PM */
	cmos_set(RTC_STATUS_B, RTC_B_DM | RTC_B_24H);
	EQ(cmos(RTC_HOURS), 19, "binary: 7 PM in 12-hour is 19 in 24-hour");
	EQ(cmos(RTC_MINUTES), 30, "binary: minutes 30");
	cmos_set(RTC_STATUS_B, RTC_B_DM);
	set_time(26, 12, 5, 12, 0, 0); /* 12 AM: midnight */
	cmos_set(RTC_STATUS_B, RTC_B_24H);
	EQ(cmos(RTC_HOURS), 0x00, "12-hour: 12 AM is midnight (BCD again)");
	cmos_set(RTC_STATUS_B, 0);
	EQ(cmos(RTC_HOURS), 0x12, "12-hour BCD: midnight reads 12 AM");
	set_time(0x26, 0x12, 0x05, 0x80 | 0x12, 0, 0);
	cmos_set(RTC_STATUS_B, RTC_B_24H);
	EQ(cmos(RTC_HOURS), 0x12, "12-hour: 12 PM is noon");
	cmos_set(RTC_STATUS_B, RTC_B_RESET);
}

static void test_set(void)
{
	rtc_init(&rtc, now);
	set_time(0x26, 0x06, 0x15, 0x10, 0x20, 0x30);
	cmos_set(RTC_STATUS_B, RTC_B_24H | RTC_B_SET | RTC_B_UIE);
	EQ(cmos(RTC_STATUS_B), RTC_B_24H | RTC_B_SET, "SET: clears UIE");
	now += 5 * SEC;
	EQ(cmos(RTC_SECONDS), 0x30, "SET: the clock does not count");
	cmos_set(RTC_WEEKDAY, 3);
	EQ(cmos(RTC_WEEKDAY), 3, "SET: a written day of the week reads back");
	cmos_set(RTC_HOURS, 0x25);
	now += 2 * SEC;
	cmos_set(RTC_STATUS_B, RTC_B_24H);
	EQ(cmos(RTC_HOURS), 0x10, "a written hour 25 is no time: the clock ran on as it was");
	EQ(cmos(RTC_SECONDS), 0x37, "... 7 seconds later");
	EQ(cmos(RTC_WEEKDAY), 2, "... on its own day of the week (2026-06-15: a Monday)");
	cmos_set(RTC_DAY, 0x31); /* June has 30 days */
	EQ(cmos(RTC_DAY), 0x15, "June 31st is no date: refused");
	cmos_set(RTC_MINUTES, 0x1a);
	EQ(cmos(RTC_MINUTES), 0x20, "a BCD digit above 9: refused");
	cmos_set(RTC_MINUTES, 0x45);
	OK(cmos(RTC_MINUTES) == 0x45 && cmos(RTC_HOURS) == 0x10,
	   "a time register written while SET is 0 changes that field of the running clock");
	now += SEC;
	EQ(cmos(RTC_SECONDS), 0x38, "and the clock runs on from it");
}

static void test_flags(void)
{
	rtc_init(&rtc, now);
	EQ(cmos(RTC_STATUS_C) & (uint8_t)~RTC_C_PF, RTC_C_AF,
	   "C: at reset the alarm (00:00:00) matches the time (midnight): AF alone");
	set_time(0x26, 0x12, 0x05, 0x13, 0x00, 0x00);
	EQ(cmos(RTC_STATUS_C) & (uint8_t)~RTC_C_PF, 0,
	   "C: at 13:00 no alarm, and no update when read again at once");
	cmos_set(RTC_STATUS_A, 0x20); /* no periodic rate */
	EQ(cmos(RTC_STATUS_A), 0x20, "A: the rate bits are written");
	EQ(cmos(RTC_STATUS_C), 0, "C: without a rate no PF");
	now += SEC;
	EQ(cmos(RTC_STATUS_C), RTC_C_UF, "C: a second later UF, without UIE no IRQF");
	EQ(cmos(RTC_STATUS_C), 0, "C: reading cleared it");
	cmos_set(RTC_STATUS_B, RTC_B_24H | RTC_B_UIE);
	now += SEC;
	EQ(cmos(RTC_STATUS_C), RTC_C_UF | RTC_C_IRQF, "C: with UIE, UF sets IRQF");
	cmos_set(RTC_STATUS_B, RTC_B_24H | RTC_B_AIE);
	cmos_set(RTC_SECONDS_ALARM, 0xc0);
	cmos_set(RTC_MINUTES_ALARM, 0xff);
	cmos_set(RTC_HOURS_ALARM, 0xc5);
	EQ(cmos(RTC_STATUS_C), RTC_C_AF | RTC_C_IRQF, "C: an alarm of don't-care bytes matches");
	cmos_set(RTC_HOURS_ALARM, 0x05);
	EQ(cmos(RTC_STATUS_C), 0, "C: hour 5 does not match 13:00");
	cmos_set(RTC_STATUS_A, 0x2f); /* 2 Hz: 500 ms */
	now += 400000;
	EQ(cmos(RTC_STATUS_C), 0, "C: 400 ms is less than a 500 ms period: no PF");
	now += 500000;
	EQ(cmos(RTC_STATUS_C), RTC_C_PF | RTC_C_UF, "C: 500 ms: PF (and a second passed: UF)");
	cmos_set(RTC_STATUS_B, RTC_B_24H | RTC_B_PIE);
	now += 500000;
	EQ(cmos(RTC_STATUS_C) & (RTC_C_PF | RTC_C_IRQF), RTC_C_PF | RTC_C_IRQF,
	   "C: PF with PIE sets IRQF");
	cmos_set(RTC_STATUS_C, 0xff);
	cmos_set(RTC_STATUS_D, 0x00);
	OK(cmos(RTC_STATUS_C) == 0 && cmos(RTC_STATUS_D) == RTC_D_VRT, "C and D are read-only");
	cmos_set(RTC_STATUS_A, 0xa6);
	EQ(cmos(RTC_STATUS_A), 0x26, "A: UIP is read-only and reads 0");
}

static void test_widths(void)
{
	rtc_init(&rtc, now);
	struct rtc before = rtc;
	uint8_t v = 0x12;
	EQ(rtc_access(&rtc, now, 0, 2, true, &v), RTC_BAD_ACCESS, "a 16-bit OUT is refused");
	EQ(rtc_access(&rtc, now, 1, 4, false, &v), RTC_BAD_ACCESS, "a 32-bit IN is refused");
	EQ(rtc_access(&rtc, now, 2, 1, false, &v), RTC_BAD_ACCESS, "an offset past 1 is refused");
	OK(memcmp(&before, &rtc, sizeof(rtc)) == 0 && v == 0x12, "refusals change nothing");
}

static void test_valid(void)
{
	rtc_init(&rtc, now);
	cmos_set(0x30, 0x77);
	struct rtc copy;
	memcpy(&copy, &rtc, sizeof(copy));
	OK(rtc_state_valid(&copy), "a copy is valid");
	uint8_t b = 0;
	EQ(rtc_access(&copy, now, 1, 1, false, &b), RTC_OK, "and is the same device");
	EQ(b, 0x77, "with its NVRAM");
	struct rtc bad = copy;
	bad.magic ^= 1;
	OK(!rtc_state_valid(&bad), "a wrong magic is refused");
	bad = copy;
	bad.size--;
	OK(!rtc_state_valid(&bad), "a wrong size is refused");
	bad = copy;
	bad.index = 0x80;
	OK(!rtc_state_valid(&bad), "an index past 0x7f is refused");
	bad = copy;
	bad.nmi_masked = 2;
	OK(!rtc_state_valid(&bad), "an NMI bit other than 0 or 1 is refused");
	bad = copy;
	bad.cmos[RTC_STATUS_A] |= RTC_A_UIP;
	OK(!rtc_state_valid(&bad), "UIP stored is refused");
	bad = copy;
	bad.cmos[RTC_STATUS_D] = 0;
	OK(!rtc_state_valid(&bad), "a status D other than VRT is refused");
	bad = copy;
	bad.offset = INT64_MAX;
	OK(!rtc_state_valid(&bad), "an offset no clock has is refused");
}

int main(void)
{
	test_reset_and_index();
	test_nvram();
	test_clock();
	test_set();
	test_flags();
	test_widths();
	test_valid();
	return tap_finish();
}
