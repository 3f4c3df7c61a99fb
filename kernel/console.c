/** Kernel and partition console output (see print.h and console.h). */
#include <kernel/console.h>
#include <kernel/lock.h>
#include <kernel/print.h>
#include <plat/console.h>

static struct spinlock console_lock;

static void console_write_locked(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			plat_console_putc('\r');
		plat_console_putc(s[i]);
	}
}

void kvprintf(const char *fmt, va_list ap)
{
	char buf[256];
	size_t n = kvsnprintf(buf, sizeof(buf), fmt, ap);
	spin_lock(&console_lock);
	console_write_locked(buf, n);
	spin_unlock(&console_lock);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

void console_partition_flush(struct partition *p)
{
	p->line[p->line_len] = '\0';
	kprintf("[%s] %s\n", p->name, p->line);
	p->line_len = 0;
}

void console_partition_write(struct partition *p, const char *bytes, u32 count)
{
	for (u32 i = 0; i < count; i++) {
		char c = bytes[i];
		if (c == '\n') {
			console_partition_flush(p);
			continue;
		}
		if (c == '\r')
			continue;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			c = '?';
		p->line[p->line_len++] = c;
		if (p->line_len == CONSOLE_LINE_MAX)
			console_partition_flush(p);
	}
}
