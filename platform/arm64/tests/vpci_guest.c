/**
 * A bare-metal VM that drives the vpci device model's virtio block device (services/vpci)
 * the way a driver does, for the device-model benchmarks (tests/bench/vpci-arm64.dts):
 *
 *   dm_ioreq_round_trip  a configuration-space read (the vendor and device IDs at offset 0
 *                        of the ECAM window) trapped, served by the device model and
 *                        completed: median of 1000.
 *   virtio_blk_read_4k   one 4 KiB read request (header, 4096-byte buffer, status) made
 *                        available and the queue notified; the notify's store returns once
 *                        the model has served the request and published it in the used ring
 *                        (vpci.c serves inside the notify's emulation): median of 100.
 *
 * Every sample also checks what it measured (the IDs; status OK, the used index, the
 * disk's bytes in the buffer), and a failed check ends the run with "FAILED: ...".
 */
#include <ipc/abi.h>
#include <stddef.h>
#include <stdint.h>
#include <svc_arch.h>

int svc_main(uint64_t arg);
_Noreturn void svc_exit(uint64_t code);
void *memset(void *dst, int c, size_t n);

#define ECAM UINT64_C(0x3f000000)
#define BAR UINT64_C(0x10000000)
#define QSIZE 16u
#define DESC UINT64_C(0x180000)
#define AVAIL UINT64_C(0x181000)
#define USED UINT64_C(0x182000)
#define HEADER UINT64_C(0x183000)
#define STATUS UINT64_C(0x183100)
#define DATA UINT64_C(0x184000)
#define DISK_MARK 0u /* the disk region is zero: a read gives zeros */

void *memset(void *dst, int c, size_t n)
{
	volatile uint8_t *d = dst;
	while (n-- > 0)
		*d++ = (uint8_t)c;
	return dst;
}

_Noreturn void svc_exit(uint64_t code)
{
	uint64_t r[9] = { HC_EXIT, code };
	arch_hypercall(r);
	for (;;)
		;
}

static void say(const char *s)
{
	uint64_t r[9] = { 0 };
	uint32_t k = 0;
	for (uint32_t i = 0;; i++) {
		if (s[i] != '\0')
			r[2 + k / 8] |= (uint64_t)(uint8_t)s[i] << (8 * (k % 8));
		k += s[i] != '\0';
		if (s[i] == '\0' || k == IPC_CONSOLE_MAX) {
			r[0] = HC_CONSOLE_WRITE;
			r[1] = k;
			arch_hypercall(r);
			for (uint32_t j = 1; j < 9; j++)
				r[j] = 0;
			k = 0;
		}
		if (s[i] == '\0')
			break;
	}
}

static void require(int ok, const char *what)
{
	if (ok)
		return;
	say("FAILED: ");
	say(what);
	say("\n");
	svc_exit(1);
}

static inline uint64_t counter(void)
{
	uint64_t v;
	__asm__ volatile("isb\n\tmrs %0, pmccntr_el0" : "=r"(v));
	return v;
}

static inline uint32_t r32(uint64_t a)
{
	return *(volatile uint32_t *)(uintptr_t)a;
}

static inline void w32(uint64_t a, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)a = v;
}

static inline uint16_t r16(uint64_t a)
{
	return *(volatile uint16_t *)(uintptr_t)a;
}

static inline void w16(uint64_t a, uint16_t v)
{
	*(volatile uint16_t *)(uintptr_t)a = v;
}

static inline void w8(uint64_t a, uint8_t v)
{
	*(volatile uint8_t *)(uintptr_t)a = v;
}

static inline uint8_t r8(uint64_t a)
{
	return *(volatile uint8_t *)(uintptr_t)a;
}

static void desc(uint32_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)(DESC + 16u * i);
	for (uint32_t k = 0; k < 8; k++)
		p[k] = (uint8_t)(addr >> (8 * k));
	for (uint32_t k = 0; k < 4; k++)
		p[8 + k] = (uint8_t)(len >> (8 * k));
	p[12] = (uint8_t)flags;
	p[13] = (uint8_t)(flags >> 8);
	p[14] = (uint8_t)next;
	p[15] = (uint8_t)(next >> 8);
}

static char *fmt_u(char *b, uint64_t v)
{
	char t[24];
	uint32_t n = 0;
	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n != 0)
		*b++ = t[--n];
	*b = '\0';
	return b;
}

static void report(const char *name, uint64_t value)
{
	char line[96] = "BENCH name=";
	char *e = line + 11;
	while (*name != '\0')
		*e++ = *name++;
	const char *v = " value=";
	while (*v != '\0')
		*e++ = *v++;
	e = fmt_u(e, value);
	const char *unit = " unit=insns\n";
	while (*unit != '\0')
		*e++ = *unit++;
	*e = '\0';
	say(line);
}

static uint64_t median(uint64_t *s, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		uint64_t x = s[i];
		uint32_t j = i;
		for (; j > 0 && s[j - 1] > x; j--)
			s[j] = s[j - 1];
		s[j] = x;
	}
	return (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** The virtio-pci handshake (virtio 1.1 3.1.1, 4.1.4.3), one queue, no MSI-X vector. */
static void set_up(void)
{
	w32(ECAM + 0x10, (uint32_t)BAR);
	w16(ECAM + 0x04, 0x0006); /* memory space, bus master */
	w8(BAR + 0x14, 1 | 2);    /* ACKNOWLEDGE, DRIVER */
	w32(BAR + 0x00, 1);
	require(r32(BAR + 0x04) == 1u, "the device offers VERSION_1 (feature bit 32)");
	w32(BAR + 0x08, 1);
	w32(BAR + 0x0c, 1);
	w8(BAR + 0x14, 1 | 2 | 8);
	require((r8(BAR + 0x14) & 8) != 0, "FEATURES_OK stuck");
	w16(BAR + 0x16, 0);
	w16(BAR + 0x18, QSIZE);
	w32(BAR + 0x20, (uint32_t)DESC);
	w32(BAR + 0x28, (uint32_t)AVAIL);
	w32(BAR + 0x30, (uint32_t)USED);
	w16(BAR + 0x1c, 1);
	w8(BAR + 0x14, 1 | 2 | 8 | 4); /* DRIVER_OK */
	memset((void *)(uintptr_t)AVAIL, 0, 0x2000);
	w16(AVAIL, 1); /* VIRTQ_AVAIL_F_NO_INTERRUPT: the used index is polled */
}

int svc_main(uint64_t arg)
{
	(void)arg;
	static uint64_t samples[1000];
	uint64_t a = counter(), b = counter(), overhead = b - a;

	for (uint32_t i = 0; i < 1000; i++) {
		uint64_t t0 = counter();
		uint32_t id = r32(ECAM);
		uint64_t t1 = counter();
		require(id == 0x10421af4u, "00:00.0 is a virtio block device (1af4:1042)");
		samples[i] = t1 - t0 - overhead;
	}
	report("dm_ioreq_round_trip", median(samples, 1000));

	set_up();
	desc(0, HEADER, 16, 1, 1);                /* the header: device-readable, NEXT */
	desc(1, DATA, 4096, 2 | 1, 2);            /* the buffer: device-writable, NEXT */
	desc(2, STATUS, 1, 2, 0);                 /* the status byte */
	memset((void *)(uintptr_t)HEADER, 0, 16); /* VIRTIO_BLK_T_IN, sector 0 */
	for (uint16_t i = 0; i < 100; i++) {
		memset((void *)(uintptr_t)DATA, 0xa5, 4096);
		w8(STATUS, 0xff);
		w16(AVAIL + 4u + 2u * (i % QSIZE), 0);
		__asm__ volatile("dmb ishst" ::: "memory");
		w16(AVAIL + 2, (uint16_t)(i + 1u));
		__asm__ volatile("dmb ish" ::: "memory");
		uint64_t t0 = counter();
		w16(BAR + 0x1000, 0); /* notify queue 0 */
		uint64_t t1 = counter();
		require(r16(USED + 2) == (uint16_t)(i + 1u), "the request is in the used ring");
		require(r8(STATUS) == 0, "its status is OK");
		require(r8(DATA) == DISK_MARK && r8(DATA + 4095) == DISK_MARK,
		        "the buffer holds the disk's bytes");
		samples[i] = t1 - t0 - overhead;
	}
	report("virtio_blk_read_4k", median(samples, 100));
	return 0;
}
