/**
 * Console output through HC_CONSOLE_WRITE, buffered so that one hypercall
 * carries up to IPC_CONSOLE_MAX bytes; flushed at each newline.
 */
#include <svc/svc.h>
#include <svc_arch.h>

static char out_buf[IPC_CONSOLE_MAX];
static uint32_t out_len;

void svc_flush(void)
{
	if (out_len == 0)
		return;
	uint64_t r[IPC_REG_COUNT] = { HC_CONSOLE_WRITE, out_len };
	for (uint32_t i = 0; i < out_len; i++)
		r[IPC_REG_LABEL + i / 8u] |= (uint64_t)(unsigned char)out_buf[i] << (8u * (i % 8u));
	arch_hypercall(r);
	out_len = 0;
}

void svc_putc(char c)
{
	out_buf[out_len++] = c;
	if (c == '\n' || out_len == IPC_CONSOLE_MAX)
		svc_flush();
}

void svc_puts(const char *s)
{
	while (*s != '\0')
		svc_putc(*s++);
}

static void put_number(uint64_t v, unsigned base, bool negative, unsigned width, char pad)
{
	char digits[24];
	unsigned n = 0;
	do {
		unsigned d = (unsigned)(v % base);
		digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v != 0);
	if (negative)
		digits[n++] = '-';
	for (; width > n; width--)
		svc_putc(pad);
	while (n != 0)
		svc_putc(digits[--n]);
}

void svc_vprintf(const char *fmt, va_list ap)
{
	for (; *fmt != '\0'; fmt++) {
		if (*fmt != '%') {
			svc_putc(*fmt);
			continue;
		}
		fmt++;
		char pad = ' ';
		unsigned width = 0, longs = 0;
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned)(*fmt++ - '0');
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 'd': {
			long long v = longs != 0 ? va_arg(ap, long long) : va_arg(ap, int);
			put_number(v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, 10, v < 0,
			           width, pad);
			break;
		}
		case 'u':
		case 'x': {
			uint64_t v = longs != 0 ? va_arg(ap, unsigned long long) :
			                          va_arg(ap, unsigned);
			put_number(v, *fmt == 'u' ? 10 : 16, false, width, pad);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			svc_puts(s != NULL ? s : "(null)");
			break;
		}
		case 'c':
			svc_putc((char)va_arg(ap, int));
			break;
		case '%':
			svc_putc('%');
			break;
		case '\0':
			return;
		default:
			svc_putc('%');
			svc_putc(*fmt);
			break;
		}
	}
}

void svc_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	svc_vprintf(fmt, ap);
	va_end(ap);
}
