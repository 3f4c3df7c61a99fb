/** The CMOS RTC model (rtc.h); register behaviour from the MC146818A datasheet. */
#include "rtc.h"

#define US_PER_SEC UINT64_C(1000000)
#define SEC_PER_DAY INT64_C(86400)
/** The oscillator's 32.768 kHz: periodic rates are powers of two of its ticks. */
#define RTC_OSC_HZ UINT64_C(32768)
/** Offsets beyond this are no clock rtc_access made (years 2000-2099 and time since). */
#define RTC_OFFSET_MAX (INT64_C(1) << 40)

static bool is_time_reg(uint32_t reg)
{
	return reg == RTC_SECONDS || reg == RTC_MINUTES || reg == RTC_HOURS ||
	       (reg >= RTC_WEEKDAY && reg <= RTC_YEAR);
}

static bool binary(const struct rtc *r)
{
	return (r->cmos[RTC_STATUS_B] & RTC_B_DM) != 0;
}

static uint8_t to_reg(const struct rtc *r, uint32_t v)
{
	return binary(r) ? (uint8_t)v : (uint8_t)((v / 10u) << 4 | v % 10u);
}

/** A register's value as a number, or false for a BCD byte with a digit above 9. */
static bool from_reg(const struct rtc *r, uint8_t b, uint32_t *v)
{
	if (binary(r)) {
		*v = b;
		return true;
	}
	if ((b >> 4) > 9u || (b & 0xfu) > 9u)
		return false;
	*v = (b >> 4) * 10u + (b & 0xfu);
	return true;
}

int64_t rtc_days_from_civil(int64_t year, uint32_t month, uint32_t day)
{
	/* Shift the year to start in March, so February's leap day ends it; 400-year eras. */
	int64_t y = year - (month <= 2u);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (int64_t)(month > 2u ? month - 3u : month + 9u) + 2) / 5 + day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

struct civil {
	int64_t year;
	uint32_t month, day, hour, minute, second, weekday; /**< weekday 1 = Sunday */
};

static struct civil civil_from_seconds(int64_t t)
{
	int64_t days = t / SEC_PER_DAY, rest = t % SEC_PER_DAY;
	if (rest < 0) {
		rest += SEC_PER_DAY;
		days--;
	}
	struct civil c;
	c.hour = (uint32_t)(rest / 3600);
	c.minute = (uint32_t)(rest / 60 % 60);
	c.second = (uint32_t)(rest % 60);
	c.weekday = (uint32_t)(((days % 7) + 7 + 4) % 7) + 1u; /* 1970-01-01 was a Thursday */
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	c.day = (uint32_t)(doy - (153 * mp + 2) / 5 + 1);
	c.month = (uint32_t)(mp < 10 ? mp + 3 : mp - 9);
	c.year = yoe + era * 400 + (c.month <= 2u);
	return c;
}

static uint32_t days_in_month(int64_t year, uint32_t month)
{
	static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
	return days[month - 1u] + (month == 2u && leap);
}

static int64_t now_seconds(const struct rtc *r, uint64_t now_us)
{
	return (int64_t)(now_us / US_PER_SEC) + r->offset;
}

/** The time registers show the guest's clock at now_us, in status B's format. */
static void show(struct rtc *r, uint64_t now_us)
{
	struct civil c = civil_from_seconds(now_seconds(r, now_us));
	uint8_t *m = r->cmos;
	m[RTC_SECONDS] = to_reg(r, c.second);
	m[RTC_MINUTES] = to_reg(r, c.minute);
	if (r->cmos[RTC_STATUS_B] & RTC_B_24H) {
		m[RTC_HOURS] = to_reg(r, c.hour);
	} else {
		uint32_t h = c.hour % 12u;
		m[RTC_HOURS] =
		        (uint8_t)(to_reg(r, h == 0 ? 12u : h) | (c.hour >= 12u ? 0x80u : 0u));
	}
	m[RTC_WEEKDAY] = to_reg(r, c.weekday);
	m[RTC_DAY] = to_reg(r, c.day);
	m[RTC_MONTH] = to_reg(r, c.month);
	m[RTC_YEAR] = to_reg(r, (uint32_t)(c.year % 100));
}

/** The time the registers hold (year 2000 + YEAR), or false if they hold no time. */
static bool read_time(const struct rtc *r, int64_t *t)
{
	const uint8_t *m = r->cmos;
	uint32_t s, mi, h, d, mo, y;
	if (!from_reg(r, m[RTC_SECONDS], &s) || !from_reg(r, m[RTC_MINUTES], &mi) ||
	    !from_reg(r, m[RTC_DAY], &d) || !from_reg(r, m[RTC_MONTH], &mo) ||
	    !from_reg(r, m[RTC_YEAR], &y))
		return false;
	if (r->cmos[RTC_STATUS_B] & RTC_B_24H) {
		if (!from_reg(r, m[RTC_HOURS], &h) || h > 23u)
			return false;
	} else {
		if (!from_reg(r, m[RTC_HOURS] & 0x7fu, &h) || h == 0 || h > 12u)
			return false;
		h = h % 12u + ((m[RTC_HOURS] & 0x80u) ? 12u : 0u);
	}
	if (s > 59u || mi > 59u || y > 99u || mo == 0 || mo > 12u || d == 0 ||
	    d > days_in_month(2000 + (int64_t)y, mo))
		return false;
	*t = rtc_days_from_civil(2000 + (int64_t)y, mo, d) * SEC_PER_DAY + h * 3600 + mi * 60 + s;
	return true;
}

/** The clock runs from the registers, if they hold a time; else it runs on as it was. */
static void set_clock(struct rtc *r, uint64_t now_us)
{
	int64_t t;
	if (read_time(r, &t))
		r->offset = t - (int64_t)(now_us / US_PER_SEC);
}

static bool alarm_matches(const struct rtc *r)
{
	static const uint8_t pairs[3][2] = { { RTC_SECONDS_ALARM, RTC_SECONDS },
		                             { RTC_MINUTES_ALARM, RTC_MINUTES },
		                             { RTC_HOURS_ALARM, RTC_HOURS } };
	for (uint32_t i = 0; i < 3u; i++) {
		uint8_t alarm = r->cmos[pairs[i][0]];
		if ((alarm & 0xc0u) != 0xc0u && alarm != r->cmos[pairs[i][1]])
			return false;
	}
	return true;
}

/** Status C at now_us, which its read then clears (the flags restart from now). */
static uint8_t read_c(struct rtc *r, uint64_t now_us)
{
	uint8_t b = r->cmos[RTC_STATUS_B], c = 0;
	if ((b & RTC_B_SET) == 0) {
		if (now_us / US_PER_SEC != r->c_read_us / US_PER_SEC)
			c |= RTC_C_UF;
		show(r, now_us);
		if (alarm_matches(r))
			c |= RTC_C_AF;
	}
	uint32_t rate = r->cmos[RTC_STATUS_A] & 0xfu;
	if (rate != 0) {
		/* Rates 1 and 2 are 3.90625 and 7.8125 ms with the 32.768 kHz base: those of 8 and 9. */
		uint64_t period = UINT64_C(1) << (rate < 3u ? rate + 6u : rate - 1u);
		uint64_t elapsed = now_us - r->c_read_us;
		if (elapsed > US_PER_SEC)
			elapsed =
			        US_PER_SEC; /* longer than the longest period (0.5 s): no overflow */
		if (elapsed * RTC_OSC_HZ / US_PER_SEC >= period)
			c |= RTC_C_PF;
	}
	if (((c & RTC_C_PF) && (b & RTC_B_PIE)) || ((c & RTC_C_AF) && (b & RTC_B_AIE)) ||
	    ((c & RTC_C_UF) && (b & RTC_B_UIE)))
		c |= RTC_C_IRQF;
	r->c_read_us = now_us;
	return c;
}

static void write_b(struct rtc *r, uint64_t now_us, uint8_t v)
{
	uint8_t old = r->cmos[RTC_STATUS_B];
	if (v & RTC_B_SET)
		v &= (uint8_t)~RTC_B_UIE; /* the datasheet: SET clears UIE */
	if ((old & RTC_B_SET) == 0 && (v & RTC_B_SET) != 0)
		show(r, now_us); /* frozen at the time it was set, in the format it had */
	r->cmos[RTC_STATUS_B] = v;
	if ((old & RTC_B_SET) != 0 && (v & RTC_B_SET) == 0)
		set_clock(r, now_us);
}

static uint8_t read_data(struct rtc *r, uint64_t now_us)
{
	uint32_t reg = r->index;
	if (is_time_reg(reg) && (r->cmos[RTC_STATUS_B] & RTC_B_SET) == 0)
		show(r, now_us);
	switch (reg) {
	case RTC_STATUS_A:
		return r->cmos[RTC_STATUS_A] &
		       (uint8_t)~RTC_A_UIP; /* the update is instantaneous */
	case RTC_STATUS_C:
		return read_c(r, now_us);
	case RTC_STATUS_D:
		return RTC_D_VRT;
	default:
		return r->cmos[reg];
	}
}

static void write_data(struct rtc *r, uint64_t now_us, uint8_t v)
{
	uint32_t reg = r->index;
	if (is_time_reg(reg)) {
		if (r->cmos[RTC_STATUS_B] & RTC_B_SET) {
			r->cmos[reg] = v;
			return;
		}
		show(r, now_us);
		r->cmos[reg] = v;
		set_clock(r, now_us);
		return;
	}
	switch (reg) {
	case RTC_STATUS_A:
		r->cmos[RTC_STATUS_A] = v & (uint8_t)~RTC_A_UIP;
		return;
	case RTC_STATUS_B:
		write_b(r, now_us, v);
		return;
	case RTC_STATUS_C:
	case RTC_STATUS_D:
		return; /* read-only */
	default:
		r->cmos[reg] = v;
	}
}

void rtc_init(struct rtc *r, uint64_t now_us)
{
	*r = (struct rtc){ .magic = RTC_MAGIC, .version = RTC_VERSION, .size = sizeof(*r) };
	r->cmos[RTC_STATUS_A] = RTC_A_RESET;
	r->cmos[RTC_STATUS_B] = RTC_B_RESET;
	r->cmos[RTC_STATUS_D] = RTC_D_VRT;
	r->offset = (int64_t)RTC_EPOCH_2000 - (int64_t)(now_us / US_PER_SEC);
	r->c_read_us = now_us;
	show(r, now_us);
}

enum rtc_status rtc_access(struct rtc *r, uint64_t now_us, uint32_t offset, uint32_t size,
                           bool write, uint8_t *value)
{
	if (size != 1u || offset >= RTC_PORTS)
		return RTC_BAD_ACCESS;
	if (offset == 0) {
		if (write) {
			r->index = *value & 0x7fu;
			r->nmi_masked = *value >> 7;
		} else {
			*value = 0xff; /* the index register is write-only */
		}
		return RTC_OK;
	}
	if (write)
		write_data(r, now_us, *value);
	else
		*value = read_data(r, now_us);
	return RTC_OK;
}

bool rtc_state_valid(const struct rtc *r)
{
	return r->magic == RTC_MAGIC && r->version == RTC_VERSION && r->size == sizeof(*r) &&
	       r->index < RTC_CMOS_SIZE && r->nmi_masked <= 1u && r->pad == 0 &&
	       (r->cmos[RTC_STATUS_A] & RTC_A_UIP) == 0 && r->cmos[RTC_STATUS_C] == 0 &&
	       r->cmos[RTC_STATUS_D] == RTC_D_VRT && r->offset > -RTC_OFFSET_MAX &&
	       r->offset < RTC_OFFSET_MAX;
}
