/**
 * A CMOS real-time clock as a PC wires it at I/O ports 0x70 and 0x71 (the Motorola MC146818A
 * and its successors; register map and bits from the MC146818A datasheet): plain C, no
 * hardware access, so the same code runs in the vrtc service and in host tests.
 *
 *   port 0x70 (offset 0)  write: the index of a CMOS byte (bits 6:0) and the NMI mask (bit 7:
 *                         1 disables NMIs; the model only keeps it); read: 0xff (write-only)
 *   port 0x71 (offset 1)  the byte at the index
 *
 *   index  register                      index  register
 *   0x00   seconds                       0x07   day of the month
 *   0x01   seconds alarm                 0x08   month
 *   0x02   minutes                       0x09   year (2000-2099)
 *   0x03   minutes alarm                 0x0a   status A: UIP (7, reads 0), divider (6:4), rate (3:0)
 *   0x04   hours (12-hour: bit 7 PM)     0x0b   status B: SET PIE AIE UIE SQWE DM 24/12 DSE
 *   0x05   hours alarm                   0x0c   status C (read-only, cleared by reading):
 *   0x06   day of the week (1 = Sunday)         IRQF PF AF UF in bits 7:4
 *                                        0x0d   status D (read-only): VRT (bit 7) = 1
 *   0x0e-0x7f  battery-backed RAM (NVRAM): read and written as they are
 *
 * Time. The model has no clock of its own: every access passes the time now in microseconds
 * from any monotonic source (the service: the TSC). The guest's clock is that time plus an
 * offset; it starts at 2000-01-01 00:00:00 (a Saturday) when the model is made. While SET
 * (status B bit 7) is 1 the time registers hold what the guest wrote and do not count; when it
 * clears, the clock runs from them. A time register written while SET is 0 changes that
 * field of the running clock. Values are BCD unless DM (status B bit 2) is set, hours 12-hour
 * (bit 7 PM, 12 for midnight and noon) unless 24/12 (bit 1) is set; what the guest writes is
 * read in the format status B has at that moment. A date or time that is not one (hour 0x25,
 * February 30, a non-BCD digit in BCD mode) leaves the clock where it was; the registers read
 * back the running time again once SET is cleared. The day of the week follows the date (what
 * the guest writes there is shown only while SET is 1). Seconds count, the chip's update
 * cycle is instantaneous: UIP always reads 0.
 *
 * Flags. Status C's UF is set when the clock passed at least one second boundary since C was
 * last read, AF when the time now matches the alarm (an alarm byte of 0xc0-0xff matches any
 * value), PF when at least one period of the rate select (status A bits 3:0, 0: none) passed
 * since C was last read; IRQF when one of them is set together with its enable bit in status
 * B. Nothing but reading C clears them; the model raises no interrupt line (a guest polls C).
 * DSE (daylight saving) and SQWE are kept and do nothing.
 *
 * Widths: one byte per access; a 2- or 4-byte access or an offset past 1 is RTC_BAD_ACCESS and
 * changes nothing (the service answers IPC_MMIO_ABORT: #GP(0) in the guest).
 */
#ifndef VRTC_RTC_H
#define VRTC_RTC_H

#include <stdbool.h>
#include <stdint.h>

#define RTC_PORTS 2u
#define RTC_CMOS_SIZE 128u
#define RTC_NVRAM_FIRST 0x0eu

#define RTC_SECONDS 0x00u
#define RTC_SECONDS_ALARM 0x01u
#define RTC_MINUTES 0x02u
#define RTC_MINUTES_ALARM 0x03u
#define RTC_HOURS 0x04u
#define RTC_HOURS_ALARM 0x05u
#define RTC_WEEKDAY 0x06u
#define RTC_DAY 0x07u
#define RTC_MONTH 0x08u
#define RTC_YEAR 0x09u
#define RTC_STATUS_A 0x0au
#define RTC_STATUS_B 0x0bu
#define RTC_STATUS_C 0x0cu
#define RTC_STATUS_D 0x0du

#define RTC_A_UIP 0x80u
#define RTC_B_SET 0x80u
#define RTC_B_PIE 0x40u
#define RTC_B_AIE 0x20u
#define RTC_B_UIE 0x10u
#define RTC_B_DM 0x04u /**< binary, not BCD */
#define RTC_B_24H 0x02u
#define RTC_C_IRQF 0x80u
#define RTC_C_PF 0x40u
#define RTC_C_AF 0x20u
#define RTC_C_UF 0x10u
#define RTC_D_VRT 0x80u

/** Status A and B after reset: 32.768 kHz divider, 1024 Hz rate; BCD, 24-hour. */
#define RTC_A_RESET 0x26u
#define RTC_B_RESET 0x02u

/** 2000-01-01 00:00:00 UTC in seconds since 1970: where a new model's clock starts. */
#define RTC_EPOCH_2000 UINT64_C(946684800)

#define RTC_MAGIC 0x43545256u /* "VRTC" */
#define RTC_VERSION 1u

enum rtc_status {
	RTC_OK,
	RTC_BAD_ACCESS,
};

/** One RTC; no pointers, so a copy (a preserved region after a restart) is the same device. */
struct rtc {
	uint32_t magic, version, size;
	uint8_t index;               /**< port 0x70 bits 6:0 */
	uint8_t nmi_masked;          /**< port 0x70 bit 7, kept */
	uint8_t cmos[RTC_CMOS_SIZE]; /**< time registers hold the last time shown or written */
	uint8_t pad;
	int64_t offset;     /**< the guest's clock in seconds since 1970 = now / 10^6 + offset */
	uint64_t c_read_us; /**< when status C was last read (or the model made) */
	int64_t c_read_sec; /**< the guest's second then */
};

/** Reset: the registers as after power-on, the clock at 2000-01-01 00:00:00 at now_us. */
void rtc_init(struct rtc *r, uint64_t now_us);

/**
 * A guest's access to offset (0: port 0x70, 1: port 0x71) of size bytes at now_us (never
 * less than an earlier call's); a write of *value, or a read into *value.
 */
enum rtc_status rtc_access(struct rtc *r, uint64_t now_us, uint32_t offset, uint32_t size,
                           bool write, uint8_t *value);

/** Whether a struct found in memory (after a restart) is one rtc_init and rtc_access made. */
bool rtc_state_valid(const struct rtc *r);

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1-12, day 1-31). */
int64_t rtc_days_from_civil(int64_t year, uint32_t month, uint32_t day);

#endif /* VRTC_RTC_H */
