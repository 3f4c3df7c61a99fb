/**
 * The console multiplexer (see console_mux.h).
 *
 * Console ring discipline: every piece of text goes into the ring whole or not at all, so the
 * console never shows half a prefix or half a notice. A call that finds too little room stops
 * and says how far it got; the caller drains the ring (console_mux_take) and calls again.
 */
#include <string.h>

#include "console_mux.h"

static const char notice_head[] = "[vuart] input goes to ";
static const char notice_tail[] = " (Ctrl-A x3 to switch)\n";
#define NOTICE_FIXED (sizeof(notice_head) - 1 + sizeof(notice_tail) - 1)
/** cols stops counting here; counting too few only allows fewer backspaces. */
#define COLS_MAX 0xffffu

static bool name_char_ok(uint8_t c)
{
	return c > 0x20 && c < 0x7f && c != '[' && c != ']';
}

void console_mux_init(struct console_mux *m)
{
	memset(m, 0, sizeof(*m));
	m->magic = CONSOLE_MUX_MAGIC;
	m->version = CONSOLE_MUX_VERSION;
	m->size = (uint32_t)sizeof(*m);
}

bool console_mux_add(struct console_mux *m, const char *name, uint32_t *index)
{
	if (m->guest_count >= CONSOLE_MUX_GUEST_MAX)
		return false;
	uint32_t len = 0;
	while (len <= CONSOLE_MUX_NAME_MAX && name[len] != '\0') {
		if (!name_char_ok((uint8_t)name[len]))
			return false;
		len++;
	}
	if (len == 0 || len > CONSOLE_MUX_NAME_MAX)
		return false;
	struct console_mux_guest *g = &m->guest[m->guest_count];
	memset(g, 0, sizeof(*g));
	memcpy(g->name, name, len);
	g->name_len = len;
	*index = m->guest_count++;
	if (*index == 0)
		m->notice_due = 1; /* input now has somewhere to go: say where */
	return true;
}

uint32_t console_mux_focus(const struct console_mux *m)
{
	return m->focus;
}

bool console_mux_state_valid(const struct console_mux *m)
{
	if (m->magic != CONSOLE_MUX_MAGIC || m->version != CONSOLE_MUX_VERSION ||
	    m->size != sizeof(*m))
		return false;
	if (m->guest_count > CONSOLE_MUX_GUEST_MAX || m->ctrl_a >= CONSOLE_MUX_SWITCH_COUNT ||
	    m->open > m->guest_count || m->notice_due > 1)
		return false;
	/* With no guest there is no focus and nothing to announce. */
	if (m->guest_count == 0 ? m->focus != 0 || m->notice_due != 0 : m->focus >= m->guest_count)
		return false;
	if (m->out_head >= CONSOLE_MUX_OUT_MAX || m->out_count > CONSOLE_MUX_OUT_MAX)
		return false;
	for (uint32_t i = 0; i < m->guest_count; i++) {
		const struct console_mux_guest *g = &m->guest[i];
		if (g->name_len == 0 || g->name_len > CONSOLE_MUX_NAME_MAX)
			return false;
		for (uint32_t c = 0; c < g->name_len; c++)
			if (!name_char_ok(g->name[c]))
				return false;
		if (g->line_len > CONSOLE_MUX_LINE_MAX || g->cols > COLS_MAX || g->last > 0xff ||
		    g->in_head >= CONSOLE_MUX_IN_MAX || g->in_count > CONSOLE_MUX_IN_MAX)
			return false;
	}
	return true;
}

/* The console ring. */

static size_t ring_room(const struct console_mux *m)
{
	return CONSOLE_MUX_OUT_MAX - m->out_count;
}

/** Appends n bytes; the caller has checked the room. */
static void ring_put(struct console_mux *m, const void *bytes, size_t n)
{
	const uint8_t *b = bytes;
	for (size_t i = 0; i < n; i++) {
		m->out[(m->out_head + m->out_count) % CONSOLE_MUX_OUT_MAX] = b[i];
		m->out_count++;
	}
}

/* Output assembly. */

/** A byte counts as a console column only if it is sure to take one: printable ASCII, tab. */
static bool takes_column(uint8_t c)
{
	return (c >= 0x20 && c < 0x7f) || c == '\t';
}

static void count_column(struct console_mux_guest *g, uint8_t c)
{
	if (takes_column(c) && g->cols < COLS_MAX)
		g->cols++;
}

/**
 * The guest's partial line went off the console (another line ended it): its buffered text
 * will start a new console line, so backspaces in it may now reach only that text.
 */
static void recount(struct console_mux_guest *g)
{
	uint32_t kept = 0;
	g->cols = 0;
	for (uint32_t i = 0; i < g->line_len; i++) {
		uint8_t c = g->line[i];
		if (c == '\b') {
			if (g->cols == 0)
				continue;
			g->cols--;
		} else {
			count_column(g, c);
		}
		g->line[kept++] = c;
	}
	g->line_len = kept;
}

/** Ends the partial line the console shows; the caller has checked the room for '\n'. */
static void close_open(struct console_mux *m)
{
	if (m->open == 0)
		return;
	ring_put(m, "\n", 1);
	recount(&m->guest[m->open - 1]);
	m->open = 0;
}

static size_t notice_len(const struct console_mux *m)
{
	return NOTICE_FIXED + m->guest[m->focus].name_len;
}

/** Puts the focus notice in the ring if it is due; false while it is due and does not fit. */
static bool emit_notice(struct console_mux *m)
{
	if (m->notice_due == 0)
		return true;
	if (ring_room(m) < (m->open != 0 ? 1u : 0u) + notice_len(m))
		return false;
	close_open(m);
	const struct console_mux_guest *g = &m->guest[m->focus];
	ring_put(m, notice_head, sizeof(notice_head) - 1);
	ring_put(m, g->name, g->name_len);
	ring_put(m, notice_tail, sizeof(notice_tail) - 1);
	m->notice_due = 0;
	return true;
}

/**
 * Puts guest i's buffered text on the console: after ending another guest's partial line,
 * after "[name] " unless the console already shows this guest's line, and followed by '\n'
 * when `end` (the line is complete). False, with nothing done, if it does not fit.
 */
static bool emit_line(struct console_mux *m, uint32_t i, bool end)
{
	struct console_mux_guest *g = &m->guest[i];
	if (!emit_notice(m))
		return false;
	bool continues = m->open == i + 1;
	size_t need = g->line_len + (end ? 1u : 0u);
	if (!continues)
		need += (m->open != 0 ? 1u : 0u) + g->name_len + 3u;
	if (ring_room(m) < need)
		return false;
	if (!continues) {
		close_open(m);
		ring_put(m, "[", 1);
		ring_put(m, g->name, g->name_len);
		ring_put(m, "] ", 2);
	}
	ring_put(m, g->line, g->line_len);
	g->line_len = 0;
	if (end) {
		ring_put(m, "\n", 1);
		g->cols = 0;
		m->open = 0;
	} else {
		m->open = i + 1;
	}
	return true;
}

/** What a guest byte becomes on the console; false if it is dropped. */
static bool filter(struct console_mux_guest *g, uint8_t c, uint8_t *kept)
{
	uint8_t prev = (uint8_t)g->last;
	g->last = c;
	if (c == '\r')
		return false;
	if (c == '\b') {
		if (g->cols == 0)
			return false; /* it would erase the prefix or another guest's text */
		g->cols--;
		*kept = c;
		return true;
	}
	if ((c < 0x20 && c != '\t') || c == 0x7f || (prev == 0xc2 && c >= 0x80 && c < 0xa0))
		c = '?'; /* ESC and the like, DEL, U+0080-U+009F (C1 controls) */
	count_column(g, c);
	*kept = c;
	return true;
}

size_t console_mux_output(struct console_mux *m, uint32_t guest, const uint8_t *bytes, size_t count)
{
	if (guest >= m->guest_count)
		return 0;
	struct console_mux_guest *g = &m->guest[guest];
	size_t n = 0;
	for (; n < count; n++) {
		uint8_t c = bytes[n];
		if (c == '\n') {
			if (!emit_line(m, guest, true))
				break;
			g->last = 0;
			continue;
		}
		/* A full buffer is broken into a line of its own before the byte is judged. */
		if (g->line_len == CONSOLE_MUX_LINE_MAX && !emit_line(m, guest, true))
			break;
		uint8_t kept;
		if (filter(g, c, &kept))
			g->line[g->line_len++] = kept;
	}
	return n;
}

size_t console_mux_output_room(const struct console_mux *m, uint32_t guest)
{
	if (guest >= m->guest_count)
		return 0;
	const struct console_mux_guest *g = &m->guest[guest];
	size_t room = ring_room(m);
	size_t fixed = 1u + g->line_len + (m->notice_due ? 1u + notice_len(m) : 0u);
	if (room <= fixed)
		return 0;
	/* At worst every byte is a '\n' that costs a prefix and itself. */
	return (room - fixed) / (g->name_len + 4u);
}

bool console_mux_flush(struct console_mux *m, uint32_t guest)
{
	if (guest >= m->guest_count)
		return false;
	if (m->guest[guest].line_len == 0)
		return emit_notice(m);
	return emit_line(m, guest, false);
}

size_t console_mux_take(struct console_mux *m, uint8_t *buf, size_t cap)
{
	(void)emit_notice(m);
	size_t n = 0;
	while (n < cap && m->out_count > 0) {
		buf[n++] = m->out[m->out_head];
		m->out_head = (m->out_head + 1) % CONSOLE_MUX_OUT_MAX;
		m->out_count--;
	}
	(void)emit_notice(m);
	return n;
}

/* Input. */

static bool queue_push(struct console_mux_guest *g, uint8_t c)
{
	if (g->in_count >= CONSOLE_MUX_IN_MAX)
		return false;
	g->in[(g->in_head + g->in_count) % CONSOLE_MUX_IN_MAX] = c;
	g->in_count++;
	return true;
}

size_t console_mux_input(struct console_mux *m, const uint8_t *bytes, size_t count)
{
	if (m->guest_count == 0)
		return count; /* nobody to type to */
	size_t n = 0;
	for (; n < count; n++) {
		uint8_t c = bytes[n];
		if (c == CONSOLE_MUX_CTRL_A) {
			if (++m->ctrl_a == CONSOLE_MUX_SWITCH_COUNT) {
				m->ctrl_a = 0;
				m->focus = (m->focus + 1) % m->guest_count;
				m->notice_due = 1;
				(void)emit_notice(m);
			}
			continue;
		}
		struct console_mux_guest *g = &m->guest[m->focus];
		if (CONSOLE_MUX_IN_MAX - g->in_count < m->ctrl_a + 1u)
			break; /* the Ctrl-As held back and this byte go together or not at all */
		for (; m->ctrl_a > 0; m->ctrl_a--)
			(void)queue_push(g, CONSOLE_MUX_CTRL_A);
		(void)queue_push(g, c);
	}
	return n;
}

size_t console_mux_input_peek(const struct console_mux *m, uint32_t guest, uint8_t *buf, size_t cap)
{
	if (guest >= m->guest_count)
		return 0;
	const struct console_mux_guest *g = &m->guest[guest];
	size_t n = 0;
	for (; n < cap && n < g->in_count; n++)
		buf[n] = g->in[(g->in_head + n) % CONSOLE_MUX_IN_MAX];
	return n;
}

void console_mux_input_consume(struct console_mux *m, uint32_t guest, size_t count)
{
	if (guest >= m->guest_count)
		return;
	struct console_mux_guest *g = &m->guest[guest];
	uint32_t n = count < g->in_count ? (uint32_t)count : g->in_count;
	g->in_head = (g->in_head + n) % CONSOLE_MUX_IN_MAX;
	g->in_count -= n;
}
