/**
 * Kernel and partition console output (see console.h and print.h).
 *
 * The buffer is a ring indexed by free-running counters: head counts bytes
 * put in, tail bytes written to the UART; head - tail bytes are pending,
 * mirrored in console_backlog for the one-load check at trap exit.
 * Both move only under console_lock, which is never held while waiting for
 * the UART except by a kernel line that found even the kernel's reserve full
 * (see console.h) and by console_flush_sync. Lock order: kernel lock, then
 * console lock; drainers take the console lock only with a try, so a CPU
 * that finds another draining goes on at once.
 */
#include <arch/cpu.h>
#include <kernel/boot.h>
#include <kernel/cap.h>
#include <kernel/console.h>
#include <kernel/kernel.h>
#include <kernel/lock.h>
#include <kernel/notification.h>
#include <kernel/print.h>
#include <plat/console.h>
#include <plat/timer.h>

#define RING_MASK (CONSOLE_BUFFER_BYTES - 1u)

static struct spinlock console_lock;
static char ring[CONSOLE_BUFFER_BYTES];
/** head counts bytes put into the buffer, tail bytes written to the UART. */
static u32 head, tail;
u32 console_backlog;
/** The holder was refused room; holder_wake_due: signal it after the console lock. */
static bool holder_waits, holder_wake_due;

static bool console_trylock(void)
{
	return __atomic_exchange_n(&console_lock.value, 1u, __ATOMIC_ACQUIRE) == 0;
}

static u32 ring_used(void)
{
	return head - tail;
}

static void ring_put(char c)
{
	ring[head & RING_MASK] = c;
	head++;
	__atomic_store_n(&console_backlog, head - tail, __ATOMIC_RELAXED);
}

/** Write buffered bytes while the UART takes them, at most max; true if the buffer emptied. */
static bool ring_drain_locked(u32 max)
{
	u32 n = 0;
	while (tail != head && n < max) {
		if (!plat_console_try_putc(ring[tail & RING_MASK]))
			return false;
		tail++;
		__atomic_store_n(&console_backlog, head - tail, __ATOMIC_RELAXED);
		n++;
	}
	if (holder_waits && ring_used() <= CONSOLE_HOLDER_WAKE) {
		holder_waits = false;
		holder_wake_due = true;
	}
	return tail == head;
}

/**
 * After a drain, with the console lock released (kernel lock, then console
 * lock): signal the holder that was waiting for room. True if it was due.
 */
static bool holder_wake(void)
{
	if (!__atomic_load_n(&holder_wake_due, __ATOMIC_RELAXED) ||
	    !__atomic_exchange_n(&holder_wake_due, false, __ATOMIC_ACQ_REL))
		return false;
	spin_lock(&kernel_lock);
	u32 n = console_holder_notification();
	if (n != CFG_NONE)
		notification_raise(&kernel.notifications[n], 1u);
	spin_unlock(&kernel_lock);
	return n != CFG_NONE;
}

bool console_holder_waits_room(void)
{
	return __atomic_load_n(&holder_waits, __ATOMIC_RELAXED);
}

/** Write buffered bytes until at most keep remain, waiting for the UART. */
static void ring_drain_wait_locked(u32 keep)
{
	while (ring_used() > keep) {
		if (!ring_drain_locked(ring_used() - keep))
			arch_cpu_relax();
	}
}

void console_drain_chunk(void)
{
	if (!console_trylock())
		return; /* another CPU is draining or printing: it will carry on */
	ring_drain_locked(CONSOLE_DRAIN_CHUNK);
	spin_unlock(&console_lock);
	holder_wake();
}

bool console_drain_idle(void)
{
	bool more = true;
	console_input_poll();
	while (more && console_trylock()) {
		/* A chunk at a time, so printers never wait long for the lock. */
		u32 before = tail;
		more = !ring_drain_locked(CONSOLE_DRAIN_CHUNK) &&
		       tail - before == CONSOLE_DRAIN_CHUNK;
		spin_unlock(&console_lock);
	}
	return holder_wake();
}

void console_flush_sync(void)
{
	spin_lock(&console_lock);
	ring_drain_wait_locked(0);
	spin_unlock(&console_lock);
}

/** Write n bytes of s straight to the UART, CR before each LF, waiting for room. */
static void uart_write_wait(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		while (s[i] == '\n' && !plat_console_try_putc('\r'))
			arch_cpu_relax();
		while (!plat_console_try_putc(s[i]))
			arch_cpu_relax();
	}
}

void console_panic_write(const char *s)
{
	while (tail != head) {
		if (plat_console_try_putc(ring[tail & RING_MASK]))
			tail++;
		else
			arch_cpu_relax();
	}
	size_t n = 0;
	while (s[n] != '\0')
		n++;
	uart_write_wait(s, n);
}

/* The console holder (console.h). Its state is under console_lock. */

/**
 * Bytes the holder has written (its next position) and its unfinished line,
 * of which the first holder_shown bytes are on the console already (it asked
 * to show them: a prompt, an echo).
 */
static u64 holder_pos;
static char holder_line[CONSOLE_HOLDER_LINE_MAX];
static u32 holder_len, holder_shown;
/** Keyboard bytes: [in_tail, in_head) by position, kept at position % CONSOLE_INPUT_BYTES. */
static char in_ring[CONSOLE_INPUT_BYTES];
static u64 in_head, in_tail;

/** What another line costs on top of itself while the holder's line is shown: CR LF, redraw. */
static u32 holder_break_cost(void)
{
	return holder_shown != 0 ? 2u + holder_shown : 0u;
}

/** Before a kernel or partition line: end the holder's shown line (room checked). */
static void holder_break(void)
{
	if (holder_shown == 0)
		return;
	ring_put('\r');
	ring_put('\n');
}

/** After that line: show the holder's line again, so its next bytes continue it. */
static void holder_redraw(void)
{
	for (u32 i = 0; i < holder_shown; i++)
		ring_put(holder_line[i]);
}

void kvprintf(const char *fmt, va_list ap)
{
	char buf[256];
	size_t n = kvsnprintf(buf, sizeof(buf), fmt, ap);
	u32 need = (u32)n;
	for (size_t i = 0; i < n; i++)
		need += buf[i] == '\n';
	spin_lock(&console_lock);
	if (!boot_complete() && head == tail) {
		/* During boot no trap exit drains yet, and a failed boot powers off: write now. */
		uart_write_wait(buf, n);
		spin_unlock(&console_lock);
		return;
	}
	/* Never dropped: wait for room only if even the kernel's reserve is full. */
	need += holder_break_cost();
	ring_drain_wait_locked(CONSOLE_BUFFER_BYTES - need);
	holder_break();
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n')
			ring_put('\r');
		ring_put(buf[i]);
	}
	holder_redraw();
	if (!boot_complete())
		ring_drain_wait_locked(0);
	spin_unlock(&console_lock);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

u32 console_partition_budget(void)
{
	u32 n = kernel.partition_count != 0 ? kernel.partition_count : 1u;
	return CONSOLE_WINDOW_BYTES / n;
}

static void count_dropped(struct partition *p, u32 bytes)
{
	p->console_dropped +=
	        bytes <= UINT32_MAX - p->console_dropped ? bytes : UINT32_MAX - p->console_dropped;
}

/**
 * Print p's buffered line as "[name] line" CR LF if its budget and the
 * partitions' part of the buffer both hold all of it; else drop it whole
 * and count every byte it would have printed. Console lock held.
 */
static void partition_flush_locked(struct partition *p)
{
	u32 name_len = 0;
	while (p->name[name_len] != '\0')
		name_len++;
	u32 printed = 1u + name_len + 2u + p->line_len + 2u;
	if (printed > console_partition_budget() - p->console_used ||
	    ring_used() + printed + holder_break_cost() >
	            CONSOLE_BUFFER_BYTES - CONSOLE_KERNEL_RESERVE) {
		count_dropped(p, printed);
	} else {
		holder_break();
		ring_put('[');
		for (u32 i = 0; i < name_len; i++)
			ring_put(p->name[i]);
		ring_put(']');
		ring_put(' ');
		for (u32 i = 0; i < p->line_len; i++)
			ring_put(p->line[i]);
		ring_put('\r');
		ring_put('\n');
		holder_redraw();
		p->console_used += printed;
	}
	p->line_len = 0;
}

void console_partition_flush(struct partition *p)
{
	spin_lock(&console_lock);
	partition_flush_locked(p);
	spin_unlock(&console_lock);
}

/**
 * The "dropped" report of p, if one is due (its count, else 0), taken under
 * the console lock; kprintf prints it after (it takes the lock itself).
 */
static u32 console_take_drops(struct partition *p, u64 now)
{
	u32 dropped = p->console_dropped;
	p->console_dropped = 0;
	if (dropped != 0)
		p->console_report_ns = now;
	return dropped;
}

static void console_report_drops(const struct partition *p, u32 dropped)
{
	if (dropped != 0)
		kprintf("[hyp] partition '%s': %u console bytes dropped (budget %u per %u ms)\n",
		        p->name, dropped, console_partition_budget(), CONSOLE_WINDOW_NS / 1000000u);
}

/**
 * Open a new budget window for p when due; dropped bytes are reported at
 * most once per CONSOLE_REPORT_NS, so the report itself cannot become a
 * flood (the count accumulates meanwhile). Console lock held; returns the
 * count to report (0: none).
 */
static u32 console_window_locked(struct partition *p)
{
	u64 now = plat_timer_now_ns();
	u32 dropped = 0;
	if (now - p->console_window_ns < CONSOLE_WINDOW_NS)
		return 0;
	if (p->console_dropped != 0 && now - p->console_report_ns >= CONSOLE_REPORT_NS)
		dropped = console_take_drops(p, now);
	p->console_window_ns = now;
	p->console_used = 0;
	return dropped;
}

void console_partition_stop(struct partition *p)
{
	spin_lock(&console_lock);
	if (p->line_len != 0)
		partition_flush_locked(p);
	u32 dropped = console_take_drops(p, plat_timer_now_ns());
	spin_unlock(&console_lock);
	console_report_drops(p, dropped);
}

void console_partition_write(struct partition *p, const char *bytes, u32 count)
{
	spin_lock(&console_lock);
	u32 dropped = console_window_locked(p);
	for (u32 i = 0; i < count; i++) {
		unsigned char c = (unsigned char)bytes[i];
		if (c == '\n') {
			partition_flush_locked(p);
			continue;
		}
		if (c == '\r')
			continue;
		/* No byte of a partition may move the cursor or start a terminal sequence. */
		if ((c < 0x20 && c != '\t') || c >= 0x7f)
			c = '?';
		p->line[p->line_len++] = (char)c;
		if (p->line_len == CONSOLE_LINE_MAX)
			partition_flush_locked(p);
	}
	spin_unlock(&console_lock);
	console_report_drops(p, dropped);
}

/** The rest of the holder's line into the buffer, with CR LF when `end`; room checked. */
static void holder_line_out(bool end)
{
	for (u32 i = holder_shown; i < holder_len; i++)
		ring_put(holder_line[i]);
	holder_shown = holder_len;
	if (end) {
		ring_put('\r');
		ring_put('\n');
		holder_len = holder_shown = 0;
	}
}

void console_caps_lock(void)
{
	spin_lock(&console_lock);
}

void console_caps_unlock(void)
{
	spin_unlock(&console_lock);
}

/** The caller's console capability, looked up under the console lock (console_caps_lock). */
static enum status holder_cap_locked(const struct cap_table *caps, u64 slot, u32 right)
{
	const struct cap *c;
	return cap_lookup(caps, slot, CAP_CONSOLE, right, &c);
}

enum status console_holder_put(const struct cap_table *caps, u64 slot, u64 pos, const char *bytes,
                               u32 count, bool show, u64 *kernel_pos)
{
	spin_lock(&console_lock);
	enum status s = holder_cap_locked(caps, slot, RIGHT_CONSOLE_WRITE);
	if (s != STATUS_OK) {
		spin_unlock(&console_lock);
		return s;
	}
	if (count > IPC_CONSOLE_PUT_MAX) {
		spin_unlock(&console_lock);
		return STATUS_INVALID_ARG;
	}
	u32 skip = holder_pos >= pos && holder_pos - pos < count ? (u32)(holder_pos - pos) : count;
	/* At worst every byte ends a line: the line so far, each byte, CR LF each time. */
	u32 need = holder_len + 3u * (count - skip);
	if (pos > holder_pos) {
		s = STATUS_INVALID_ARG;
	} else if (ring_used() + need > CONSOLE_HOLDER_ROOM) {
		s = STATUS_WOULD_BLOCK;
		holder_waits = true;
	} else {
		for (u32 i = skip; i < count; i++) {
			if (bytes[i] == '\n' || holder_len == CONSOLE_HOLDER_LINE_MAX)
				holder_line_out(true);
			if (bytes[i] != '\n')
				holder_line[holder_len++] = bytes[i];
		}
		holder_pos += count - skip;
		if (show)
			holder_line_out(false);
	}
	*kernel_pos = holder_pos;
	spin_unlock(&console_lock);
	return s;
}

enum status console_holder_read(const struct cap_table *caps, u64 slot, u64 pos, char *buf, u32 cap,
                                u64 *from, u32 *got)
{
	spin_lock(&console_lock);
	enum status s = holder_cap_locked(caps, slot, RIGHT_CONSOLE_READ);
	if (s != STATUS_OK) {
		spin_unlock(&console_lock);
		return s;
	}
	if (pos > in_tail)
		in_tail = pos < in_head ? pos : in_head; /* read and kept by the holder: drop */
	u64 first = pos > in_tail ? pos : in_tail;
	u32 n = 0;
	for (u64 p = first; p < in_head && n < cap; p++)
		buf[n++] = in_ring[p % CONSOLE_INPUT_BYTES];
	*from = first;
	*got = n;
	spin_unlock(&console_lock);
	return STATUS_OK;
}

/** The console capability's notification, or CFG_NONE if no partition holds the console. */
/** The first console capability with the read right, in partition then slot order. */
static u32 console_holder_find(void)
{
	for (u32 p = 0; p < kernel.partition_count; p++) {
		const struct cap_table *t = &kernel.partitions[p].caps;
		for (u32 i = 0; i < CAP_SLOT_COUNT; i++)
			if (t->slots[i].type == CAP_CONSOLE &&
			    (t->slots[i].rights & RIGHT_CONSOLE_READ) != 0)
				return t->slots[i].object;
	}
	return CFG_NONE;
}

u32 console_holder_notification(void)
{
	/* Asked on every idle dispatch of CPU 0 (sched_arm): found once, not each time. */
	if (!kernel.console_holder_known) {
		kernel.console_holder = console_holder_find();
		kernel.console_holder_known = true;
	}
	return kernel.console_holder;
}

void console_input_poll(void)
{
	char c;
	u32 got = 0;
	if (!console_trylock())
		return; /* another CPU holds it: it or a later poll takes the bytes */
	while (plat_console_try_getc(&c)) {
		if (in_head - in_tail < CONSOLE_INPUT_BYTES) {
			in_ring[in_head % CONSOLE_INPUT_BYTES] = c;
			in_head++;
			got++;
		}
	}
	spin_unlock(&console_lock);
	if (got == 0)
		return;
	spin_lock(&kernel_lock);
	u32 n = console_holder_notification();
	if (n != CFG_NONE)
		notification_raise(&kernel.notifications[n], 1u);
	spin_unlock(&kernel_lock);
	if (n == CFG_NONE) {
		spin_lock(&console_lock);
		in_tail = in_head; /* nobody reads the keyboard: dropped, as ever */
		spin_unlock(&console_lock);
	}
}

/** A platform without console input (its own plat_console_try_getc overrides this). */
__attribute__((weak)) bool plat_console_try_getc(char *c)
{
	(void)c;
	return false;
}
