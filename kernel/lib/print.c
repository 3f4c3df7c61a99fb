/**
 * A small printf-style formatter (see print.h for the conversions). It
 * writes through a bounded buffer cursor, so it cannot overrun: output past
 * the end is counted but dropped.
 */
#include <kernel/print.h>

struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void out_char(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_number(struct out *o, u64 v, u32 base, bool negative, u32 width, char pad)
{
	char digits[24];
	u32 n = 0;
	do {
		u32 d = (u32)(v % base);
		digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v != 0);
	if (negative)
		digits[n++] = '-';
	while (width > n) {
		out_char(o, pad);
		width--;
	}
	while (n != 0)
		out_char(o, digits[--n]);
}

size_t kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	for (; *fmt != '\0'; fmt++) {
		if (*fmt != '%') {
			out_char(&o, *fmt);
			continue;
		}
		fmt++;
		char pad = ' ';
		u32 width = 0;
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (u32)(*fmt++ - '0');
		u32 longs = 0;
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		if (*fmt == 'z') {
			longs = 2;
			fmt++;
		}
		switch (*fmt) {
		case 'd': {
			long long v = longs >= 2 ? va_arg(ap, long long) :
			              longs == 1 ? va_arg(ap, long) :
			                           va_arg(ap, int);
			u64 mag = v < 0 ? (u64)0 - (u64)v : (u64)v;
			out_number(&o, mag, 10, v < 0, width, pad);
			break;
		}
		case 'u':
		case 'x': {
			u64 v = longs >= 2 ? va_arg(ap, unsigned long long) :
			        longs == 1 ? va_arg(ap, unsigned long) :
			                     va_arg(ap, unsigned int);
			out_number(&o, v, *fmt == 'u' ? 10 : 16, false, width, pad);
			break;
		}
		case 'p':
			out_char(&o, '0');
			out_char(&o, 'x');
			out_number(&o, (u64)(uintptr_t)va_arg(ap, void *), 16, false, width, pad);
			break;
		case 'c':
			out_char(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (s == NULL)
				s = "(null)";
			size_t n = 0;
			while (s[n] != '\0')
				n++;
			for (; width > n; width--)
				out_char(&o, ' ');
			for (size_t i = 0; i < n; i++)
				out_char(&o, s[i]);
			break;
		}
		case '%':
			out_char(&o, '%');
			break;
		case '\0':
			fmt--;
			break;
		default:
			out_char(&o, '%');
			out_char(&o, *fmt);
			break;
		}
	}
	if (size != 0)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len < size ? o.len : (size == 0 ? 0 : size - 1);
}

size_t ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
