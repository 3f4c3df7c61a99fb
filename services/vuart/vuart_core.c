/** The vuart service's core (see vuart_core.h). */
#include <string.h>

#include "vuart_core.h"

/** Keeps the compiler from moving stores across a commit point. */
#define VUART_BARRIER() __asm__ volatile("" ::: "memory")

bool vuart_decode(uint64_t label, const uint64_t w[IPC_MSG_WORDS], uint64_t badge,
                  struct vuart_request *rq)
{
	if (label != IPC_LABEL_MMIO)
		return false;
	uint64_t size = w[1] & IPC_MMIO_SIZE_MASK;
	if ((w[1] & ~(uint64_t)(IPC_MMIO_SIZE_MASK | IPC_MMIO_WRITE | IPC_MMIO_PORT)) != 0 ||
	    (size != 1 && size != 2 && size != 4 && size != 8))
		return false;
	rq->badge = badge;
	rq->size = (uint32_t)size;
	rq->write = (w[1] & IPC_MMIO_WRITE) != 0;
	rq->port = (w[1] & IPC_MMIO_PORT) != 0;
	rq->value = w[2];
	rq->vcpu = (uint32_t)(w[3] & IPC_MMIO_VCPU_MASK);
	rq->serial = (uint32_t)(w[3] >> IPC_MMIO_SERIAL_SHIFT);
	rq->offset = w[4];
	return true;
}

static uint32_t live(const struct vuart_state *st, uint32_t bit)
{
	return (st->sel & bit) != 0 ? 1u : 0u;
}

const struct vuart_guest *vuart_guest(const struct vuart_state *st, uint32_t g)
{
	return &st->guest[g][live(st, 1u << g)];
}

const struct vuart_console *vuart_console(const struct vuart_state *st)
{
	return &st->console[live(st, VUART_SEL_CONSOLE)];
}

uint32_t vuart_guest_find(const struct vuart_state *st, uint64_t badge)
{
	for (uint32_t g = 0; g < st->guest_count; g++)
		if (vuart_guest(st, g)->badge == badge)
			return g;
	return VUART_GUEST_MAX;
}

void vuart_tx_begin(struct vuart_tx *tx, struct vuart_state *st)
{
	tx->st = st;
	tx->flip = 0;
}

struct vuart_guest *vuart_tx_guest(struct vuart_tx *tx, uint32_t g)
{
	uint32_t bit = 1u << g, cur = live(tx->st, bit);
	if ((tx->flip & bit) == 0) {
		memcpy(&tx->st->guest[g][cur ^ 1u], &tx->st->guest[g][cur],
		       sizeof(struct vuart_guest));
		tx->flip |= bit;
	}
	return &tx->st->guest[g][cur ^ 1u];
}

struct vuart_console *vuart_tx_console(struct vuart_tx *tx)
{
	uint32_t cur = live(tx->st, VUART_SEL_CONSOLE);
	if ((tx->flip & VUART_SEL_CONSOLE) == 0) {
		memcpy(&tx->st->console[cur ^ 1u], &tx->st->console[cur],
		       sizeof(struct vuart_console));
		tx->flip |= VUART_SEL_CONSOLE;
	}
	return &tx->st->console[cur ^ 1u];
}

void vuart_tx_commit(struct vuart_tx *tx)
{
	/* The guests' copies about to be live answer their pure read as they are. */
	for (uint32_t g = 0; g < tx->st->guest_count; g++)
		if ((tx->flip & (1u << g)) != 0) {
			struct vuart_guest *v = &tx->st->guest[g][live(tx->st, 1u << g) ^ 1u];
			vuart_dev_pure(&v->dev, &v->pure);
		}
	uint32_t sel = tx->st->sel ^ tx->flip;
	VUART_BARRIER();                          /* every shadow copy is complete before ... */
	*(volatile uint32_t *)&tx->st->sel = sel; /* ... the one store that makes them live */
	VUART_BARRIER();
	tx->flip = 0;
}

/* Starting. */

static void guest_name(uint64_t badge, char name[8])
{
	uint32_t n = 0, chars = VUART_BADGE_NAME(badge);
	for (int shift = 24; shift >= 0; shift -= 8) {
		char c = (char)((chars >> shift) & 0xffu);
		if (c > 0x20 && c < 0x7f && c != '[' && c != ']')
			name[n++] = c;
	}
	if (n == 0) {
		uint32_t slot = VUART_BADGE_SLOT(badge);
		name[n++] = 'v';
		name[n++] = 'm';
		if (slot >= 100)
			name[n++] = (char)('0' + slot / 100);
		if (slot >= 10)
			name[n++] = (char)('0' + slot / 10 % 10);
		name[n++] = (char)('0' + slot % 10);
	}
	name[n] = '\0';
}

static bool records_valid(const struct vuart_guest *g)
{
	for (uint32_t i = 0; i < VUART_VCPU_MAX; i++)
		if (g->last[i].valid > 1 || g->last[i].done > 1)
			return false;
	return true;
}

/** The parts that hold everything else: the header and the guests it was made for. */
static bool header_valid(const struct vuart_state *st, const uint64_t *badges, uint32_t count)
{
	if (st->magic != VUART_STATE_MAGIC || st->version != VUART_STATE_VERSION ||
	    st->size != sizeof(*st) || st->guest_count != count)
		return false;
	uint32_t used = VUART_SEL_CONSOLE | ((1u << st->guest_count) - 1u);
	if ((st->sel & ~used) != 0)
		return false;
	for (uint32_t g = 0; g < count; g++)
		if (st->badge[g] != badges[g])
			return false;
	return true;
}

static bool guest_valid(const struct vuart_state *st, uint32_t g)
{
	const struct vuart_guest *v = vuart_guest(st, g);
	return v->badge == st->badge[g] && vuart_dev_valid(&v->dev) &&
	       v->dev.model == VUART_BADGE_MODEL(v->badge) && v->mux == g && records_valid(v);
}

static bool console_valid(const struct vuart_state *st)
{
	const struct vuart_console *c = vuart_console(st);
	if (!console_mux_state_valid(&c->mux) || c->mux.guest_count != st->guest_count ||
	    c->out_len > VUART_CHUNK_MAX)
		return false;
	for (uint32_t g = 0; g < st->guest_count; g++) {
		char name[8];
		guest_name(st->badge[g], name);
		const struct console_mux_guest *m = &c->mux.guest[g];
		if (m->name_len >= sizeof(name))
			return false;
		for (uint32_t i = 0; i < m->name_len; i++)
			if (m->name[i] != (uint8_t)name[i])
				return false;
		if (name[m->name_len] != '\0')
			return false;
	}
	return true;
}

bool vuart_state_valid(const struct vuart_state *st)
{
	if (st->guest_count > VUART_GUEST_MAX || !header_valid(st, st->badge, st->guest_count) ||
	    !console_valid(st))
		return false;
	for (uint32_t g = 0; g < st->guest_count; g++)
		if (!guest_valid(st, g))
			return false;
	return true;
}

/** Guest g's live copy: a fresh UART of its model, no access recorded. */
static void guest_reset(struct vuart_state *st, uint32_t g)
{
	struct vuart_guest *v = &st->guest[g][live(st, 1u << g)];
	memset(v, 0, sizeof(*v));
	v->badge = st->badge[g];
	v->mux = g;
	vuart_dev_init(&v->dev, (enum vuart_model)VUART_BADGE_MODEL(st->badge[g]));
}

/** The console's live copy: the guests' names, nothing queued, positions 0 (to be synced). */
static void console_reset(struct vuart_state *st)
{
	struct vuart_console *c = &st->console[live(st, VUART_SEL_CONSOLE)];
	memset(c, 0, sizeof(*c));
	console_mux_init(&c->mux);
	for (uint32_t g = 0; g < st->guest_count; g++) {
		char name[8];
		uint32_t index;
		guest_name(st->badge[g], name);
		(void)console_mux_add(&c->mux, name, &index); /* valid names, g < GUEST_MAX */
	}
}

uint32_t vuart_start(struct vuart_state *st, const uint64_t *badges, uint32_t count)
{
	if (count > VUART_GUEST_MAX)
		count = VUART_GUEST_MAX;
	uint32_t reset = 0;
	if (!header_valid(st, badges, count)) {
		memset(st, 0, sizeof(*st));
		st->magic = VUART_STATE_MAGIC;
		st->version = VUART_STATE_VERSION;
		st->size = sizeof(*st);
		st->guest_count = count;
		for (uint32_t g = 0; g < count; g++)
			st->badge[g] = badges[g];
		reset = VUART_START_FRESH;
	}
	/* A part that fails its check is reset alone; the others are kept as they are. */
	for (uint32_t g = 0; g < count; g++) {
		if (reset == VUART_START_FRESH || !guest_valid(st, g)) {
			guest_reset(st, g);
			reset |= 1u << g;
		}
	}
	if (reset == VUART_START_FRESH || !console_valid(st)) {
		console_reset(st);
		reset |= VUART_SEL_CONSOLE;
	}
	/* Whatever the last instance left in the pure reads' answers: as the UARTs are now. */
	for (uint32_t g = 0; g < count; g++) {
		struct vuart_guest *v = &st->guest[g][live(st, 1u << g)];
		vuart_dev_pure(&v->dev, &v->pure);
	}
	st->generation++;
	return reset;
}

/* Moving bytes. */

static void irq_merge(enum vuart_irq *acc, enum vuart_irq irq)
{
	if (irq != VUART_IRQ_KEEP)
		*acc = irq;
}

/** Guest g's output into the multiplexer, as much as it is sure to take. */
static void drain(struct vuart_tx *tx, uint32_t g, enum vuart_irq *irq)
{
	struct vuart_guest *v = vuart_tx_guest(tx, g);
	if (vuart_dev_out_count(&v->dev) == 0)
		return;
	struct vuart_console *c = vuart_tx_console(tx);
	uint8_t buf[64];
	for (;;) {
		size_t room = console_mux_output_room(&c->mux, v->mux);
		if (room > sizeof(buf))
			room = sizeof(buf);
		enum vuart_irq i = VUART_IRQ_KEEP;
		size_t n = room == 0 ? 0 : vuart_dev_take_output(&v->dev, buf, room, &i);
		irq_merge(irq, i);
		if (n == 0)
			return;
		(void)console_mux_output(&c->mux, v->mux, buf, n);
	}
}

/** Keyboard bytes waiting in the multiplexer for guest g into its UART, as they fit. */
static void top_up(struct vuart_tx *tx, uint32_t g, enum vuart_irq *irq)
{
	const struct vuart_console *cur = vuart_console(tx->st);
	const struct vuart_guest *vcur = vuart_guest(tx->st, g);
	if ((tx->flip & VUART_SEL_CONSOLE) == 0 && cur->mux.guest[vcur->mux].in_count == 0)
		return; /* nothing waits: no copy needed */
	struct vuart_console *c = vuart_tx_console(tx);
	struct vuart_guest *v = vuart_tx_guest(tx, g);
	uint8_t buf[CONSOLE_MUX_IN_MAX];
	size_t room = vuart_dev_input_room(&v->dev);
	size_t n = console_mux_input_peek(&c->mux, v->mux, buf,
	                                  room < sizeof(buf) ? room : sizeof(buf));
	enum vuart_irq i = VUART_IRQ_KEEP;
	console_mux_input_consume(&c->mux, v->mux, vuart_dev_put_input(&v->dev, buf, n, &i));
	irq_merge(irq, i);
}

const struct vuart_guest *vuart_pure_guest(const struct vuart_state *st, uint64_t badge,
                                           uint32_t *hint)
{
	uint32_t g = *hint;
	const struct vuart_guest *cur = g < st->guest_count ? vuart_guest(st, g) : NULL;
	if (cur == NULL || cur->badge != badge) {
		g = vuart_guest_find(st, badge);
		if (g == VUART_GUEST_MAX)
			return NULL;
		*hint = g;
		cur = vuart_guest(st, g);
	}
	return cur;
}

bool vuart_pure_read(const struct vuart_guest *cur, uint64_t kind, uint64_t who, uint64_t offset,
                     uint32_t *value)
{
	/* A load of any size (vuart_dev_pure_read takes only the one it answers), MMIO or port. */
	if ((kind & ~(uint64_t)(IPC_MMIO_SIZE_MASK | IPC_MMIO_PORT)) != 0)
		return false;
	uint32_t vcpu = (uint32_t)(who & IPC_MMIO_VCPU_MASK);
	if (vcpu >= VUART_VCPU_MAX)
		return false;
	/* A replay of an access that was recorded is answered from its record (vuart_access). */
	const struct vuart_record *rec = &cur->last[vcpu];
	if (rec->valid && rec->serial == (uint32_t)(who >> IPC_MMIO_SERIAL_SHIFT))
		return false;
	/* vuart_dev_pure_read's answer, kept with the copy (its size is 0 while there is none). */
	if (offset != cur->pure.offset || (kind & IPC_MMIO_SIZE_MASK) != cur->pure.size)
		return false;
	*value = cur->pure.value;
	return true;
}

bool vuart_pure_access(const struct vuart_state *st, const uint64_t w[IPC_MSG_WORDS],
                       uint64_t badge, uint32_t *hint, uint32_t *value)
{
	const struct vuart_guest *cur = vuart_pure_guest(st, badge, hint);
	return cur != NULL && vuart_pure_read(cur, w[1], w[3], w[4], value);
}

void vuart_access(struct vuart_state *st, const struct vuart_request *rq, struct vuart_answer *ans)
{
	ans->done = false;
	ans->value = 0;
	ans->irq = VUART_IRQ_KEEP;
	ans->replay = false;
	ans->changed = false;
	uint32_t g = vuart_guest_find(st, rq->badge);
	ans->guest = g;
	if (g == VUART_GUEST_MAX || rq->vcpu >= VUART_VCPU_MAX)
		return;
	const struct vuart_guest *cur = vuart_guest(st, g);
	const struct vuart_record *rec = &cur->last[rq->vcpu];
	if (rec->valid && rec->serial == rq->serial) {
		ans->done = rec->done != 0;
		ans->value = rec->value;
		ans->replay = true;
		return;
	}
	if (!rq->write && vuart_dev_pure_read(&cur->dev, rq->offset, rq->size, &ans->value)) {
		/* Reading FR changes nothing: no transaction, no record (a replay reads it again). */
		ans->done = true;
		return;
	}
	struct vuart_tx tx;
	vuart_tx_begin(&tx, st);
	struct vuart_guest *v = vuart_tx_guest(&tx, g);
	struct vuart_reply reply;
	enum vuart_status s =
	        vuart_dev_access(&v->dev, rq->offset, rq->size, rq->write, rq->value, &reply);
	ans->done = s == VUART_OK;
	ans->value = reply.value;
	irq_merge(&ans->irq, reply.irq);
	v->last[rq->vcpu] = (struct vuart_record){ 1, rq->serial, ans->done ? 1u : 0u, ans->value };
	enum vuart_role role = vuart_dev_role(&v->dev, rq->offset);
	if (ans->done && role == VUART_ROLE_DATA && rq->write)
		drain(&tx, g, &ans->irq);
	if (ans->done && role == VUART_ROLE_DATA && !rq->write)
		top_up(&tx, g, &ans->irq);
	/*
	 * It has read all its input, or it (re)programs its interrupts with nothing left to
	 * send: it waits for the user, so show its unfinished line (a prompt, an echo).
	 */
	bool waits = role == VUART_ROLE_ENABLE || (role == VUART_ROLE_DATA && !rq->write);
	if (ans->done && waits && vuart_dev_in_count(&v->dev) == 0 &&
	    vuart_dev_out_count(&v->dev) == 0)
		(void)console_mux_flush(&vuart_tx_console(&tx)->mux, v->mux);
	vuart_crash_point();
	vuart_tx_commit(&tx); /* the access's effects and its record become visible together */
	ans->changed = true;
}

uint64_t vuart_input(struct vuart_state *st, uint64_t pos, const uint8_t *bytes, size_t count,
                     struct vuart_answer *ans)
{
	ans->irq = VUART_IRQ_KEEP;
	ans->guest = VUART_GUEST_MAX;
	const struct vuart_console *cur = vuart_console(st);
	if (st->guest_count == 0 || pos > cur->in_pos)
		return cur->in_pos;
	uint64_t skip = cur->in_pos - pos;
	if (skip >= count)
		return cur->in_pos;
	struct vuart_tx tx;
	vuart_tx_begin(&tx, st);
	struct vuart_console *c = vuart_tx_console(&tx);
	c->in_pos += console_mux_input(&c->mux, bytes + skip, count - (size_t)skip);
	uint32_t focus = console_mux_focus(&c->mux);
	for (uint32_t g = 0; g < st->guest_count; g++) {
		if (vuart_guest(st, g)->mux == focus) {
			top_up(&tx, g, &ans->irq);
			ans->guest = g;
		}
	}
	uint64_t next = c->in_pos;
	vuart_crash_point();
	vuart_tx_commit(&tx);
	return next;
}

uint32_t vuart_console_chunk(struct vuart_state *st, enum vuart_irq irq[VUART_GUEST_MAX])
{
	struct vuart_tx tx;
	vuart_tx_begin(&tx, st);
	/* Output the multiplexer had no room for, now that the console took some. */
	for (uint32_t g = 0; g < st->guest_count; g++) {
		irq[g] = VUART_IRQ_KEEP;
		if (vuart_dev_out_count(&vuart_guest(st, g)->dev) != 0)
			drain(&tx, g, &irq[g]);
	}
	const struct vuart_console *cur = vuart_console(st);
	if ((tx.flip & VUART_SEL_CONSOLE) == 0 && cur->out_len == 0 && cur->mux.out_count == 0 &&
	    cur->mux.notice_due == 0) {
		vuart_tx_commit(&tx);
		return 0;
	}
	struct vuart_console *c = vuart_tx_console(&tx);
	if (c->out_len == 0)
		c->out_len = (uint32_t)console_mux_take(&c->mux, c->out, VUART_CHUNK_MAX);
	uint32_t n = c->out_len;
	vuart_crash_point();
	vuart_tx_commit(&tx);
	return n;
}

void vuart_console_written(struct vuart_state *st, uint64_t pos)
{
	const struct vuart_console *cur = vuart_console(st);
	if (cur->out_len == 0 || pos < cur->out_pos + cur->out_len)
		return;
	struct vuart_tx tx;
	vuart_tx_begin(&tx, st);
	struct vuart_console *c = vuart_tx_console(&tx);
	c->out_pos += c->out_len;
	c->out_len = 0;
	vuart_tx_commit(&tx);
}

void vuart_console_sync(struct vuart_state *st, uint64_t out_pos, uint64_t in_pos)
{
	struct vuart_tx tx;
	vuart_tx_begin(&tx, st);
	struct vuart_console *c = vuart_tx_console(&tx);
	c->out_pos = out_pos;
	c->in_pos = in_pos;
	vuart_tx_commit(&tx);
}
