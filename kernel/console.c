/** Kernel and partition console output (see print.h and console.h). */
#include <kernel/console.h>
#include <kernel/lock.h>
#include <kernel/print.h>
#include <plat/console.h>
#include <plat/timer.h>

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

/**
 * How many of count bytes p may print now; opens a new window when due.
 * Dropped bytes are reported at most once per CONSOLE_REPORT_NS, so the
 * report itself cannot become a flood.
 */
static u32 console_budget(struct partition *p, u32 count)
{
	u64 now = plat_timer_now_ns();
	if (now - p->console_window_ns >= CONSOLE_WINDOW_NS) {
		if (p->console_dropped != 0 && now - p->console_report_ns >= CONSOLE_REPORT_NS) {
			console_partition_flush(p);
			kprintf("[hyp] partition '%s': %u console bytes dropped (budget %u per window)\n",
			        p->name, p->console_dropped, CONSOLE_BUDGET_BYTES);
			p->console_dropped = 0;
			p->console_report_ns = now;
		}
		p->console_window_ns = now;
		p->console_used = 0;
	}
	u32 left = CONSOLE_BUDGET_BYTES - p->console_used;
	u32 allowed = count < left ? count : left;
	p->console_used += allowed;
	u32 dropped = count - allowed;
	p->console_dropped += dropped <= UINT32_MAX - p->console_dropped ? dropped : 0;
	return allowed;
}

void console_partition_write(struct partition *p, const char *bytes, u32 count)
{
	count = console_budget(p, count);
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
