/**
 * The vuart service's core (services/vuart/vuart_core.c) on the host: decoding the kernel's
 * message, starting on a kept or a bad state, answering a replayed access from its record,
 * and the crash-safety of every transaction: a stream of accesses is run again and again with
 * a crash (a longjmp out of the service, as a fault would end it) at each crash point in turn,
 * and after each the successor must put every byte on the console exactly once, in order.
 */
#include <ipc/abi.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vuart_core.h"

#define BADGE_A ((UINT64_C(0x61620000) << 32) | (33u << 8) | 3u) /* "ab", INTID 33, slot 3 */
#define BADGE_B ((UINT64_C(0) << 32) | (34u << 8) | 4u)          /* no name: "vm4" */

static struct vuart_state *st;
static const uint64_t badges[2] = { BADGE_A, BADGE_B };

/* Crash points: crash_at counts down over vuart_crash_point() calls; 0 never crashes. */
static jmp_buf crash_env;
static unsigned crash_at, crash_points_seen;

void vuart_crash_point(void)
{
	crash_points_seen++;
	if (crash_at != 0 && --crash_at == 0)
		longjmp(crash_env, 1);
}

/* The kernel's side of the console holder: bytes by position (HC_CONSOLE_PUT). */
static char console[65536];
static uint64_t console_pos;

static void console_out(void)
{
	enum vuart_irq irq[VUART_GUEST_MAX];
	uint32_t n;
	while ((n = vuart_console_chunk(st, irq)) != 0) {
		const struct vuart_console *c = vuart_console(st);
		vuart_crash_point();
		if (c->out_pos <= console_pos && console_pos - c->out_pos < n) {
			uint32_t skip = (uint32_t)(console_pos - c->out_pos);
			memcpy(console + console_pos, c->out + skip, n - skip);
			console_pos += n - skip;
		}
		vuart_crash_point();
		vuart_console_written(st, console_pos);
	}
}

static void msg(uint64_t w[6], uint32_t size, bool write, uint64_t value, uint32_t vcpu,
                uint32_t serial, uint64_t offset)
{
	w[0] = 0x9000000u + offset;
	w[1] = size | (write ? IPC_MMIO_WRITE : 0u);
	w[2] = value;
	w[3] = vcpu | (uint64_t)serial << IPC_MMIO_SERIAL_SHIFT;
	w[4] = offset;
	w[5] = 0;
}

static struct vuart_answer do_access(uint64_t badge, uint32_t size, bool write, uint64_t value,
                                     uint32_t vcpu, uint32_t serial, uint64_t offset)
{
	uint64_t w[6];
	struct vuart_request rq;
	struct vuart_answer ans = { .done = false };
	msg(w, size, write, value, vcpu, serial, offset);
	if (vuart_decode(IPC_LABEL_MMIO, w, badge, &rq))
		vuart_access(st, &rq, &ans);
	return ans;
}

static void fresh(void)
{
	memset(st, 0xa5, sizeof(*st)); /* garbage: what a first start finds */
	memset(console, 0, sizeof(console));
	console_pos = 0;
	crash_at = 0;
	(void)vuart_start(st, badges, 2);
}

static void test_decode(void)
{
	uint64_t w[6];
	struct vuart_request rq;
	msg(w, 4, true, 0x41, 2, 7, 0x18);
	OK(vuart_decode(IPC_LABEL_MMIO, w, BADGE_A, &rq), "decode: a kernel MMIO message");
	OK(rq.size == 4 && rq.write && rq.value == 0x41 && rq.vcpu == 2 && rq.serial == 7 &&
	           rq.offset == 0x18 && rq.badge == BADGE_A,
	   "decode: size, direction, value, vCPU, serial, offset, badge");
	OK(!vuart_decode(IPC_LABEL_FAULT_MEM, w, BADGE_A, &rq), "decode: another label is refused");
	OK(!vuart_decode(0x1234, w, BADGE_A, &rq), "decode: a partition's label is refused");
	w[1] = 3;
	OK(!vuart_decode(IPC_LABEL_MMIO, w, BADGE_A, &rq), "decode: size 3 is refused");
	w[1] = 4 | (1u << 12);
	OK(!vuart_decode(IPC_LABEL_MMIO, w, BADGE_A, &rq), "decode: unknown bits in w1 refused");
	w[1] = 1 | IPC_MMIO_PORT;
	OK(vuart_decode(IPC_LABEL_MMIO, w, BADGE_A, &rq) && rq.port && rq.size == 1 && !rq.write,
	   "decode: an x86 port access (IPC_MMIO_PORT)");
	w[1] = 1;
	OK(vuart_decode(IPC_LABEL_MMIO, w, BADGE_A, &rq) && !rq.port, "decode: MMIO is not a port");
}

static void test_start(void)
{
	memset(st, 0xa5, sizeof(*st));
	OK(vuart_start(st, badges, 2) == VUART_START_FRESH && st->generation == 1 &&
	           st->guest_count == 2,
	   "start: garbage is replaced by a fresh state, generation 1");
	OK(vuart_state_valid(st), "start: the fresh state is valid");
	OK(vuart_start(st, badges, 2) == 0 && st->generation == 2, "start: a valid state is kept");
	OK(vuart_start(st, badges, 1) == VUART_START_FRESH,
	   "start: a state for other guests is not");
	(void)vuart_start(st, badges, 2);
	const struct vuart_console *c = vuart_console(st);
	OK(c->mux.guest[0].name_len == 2 && memcmp(c->mux.guest[0].name, "ab", 2) == 0 &&
	           c->mux.guest[1].name_len == 3 && memcmp(c->mux.guest[1].name, "vm4", 3) == 0,
	   "start: names from the badges (\"vm<slot>\" without one)");
	st->sel |= 1u << 5;
	OK(!vuart_state_valid(st), "start: a live-copy bit for a guest that does not exist: bad");
	st->sel &= ~(1u << 5);
	struct vuart_guest *g = &st->guest[0][st->sel & 1u];
	g->dev.u.sbsa.out_count = 99999;
	OK(!vuart_state_valid(st), "start: a UART that fails its own check: bad");
	g->dev.u.sbsa.out_count = 0;
	g->dev.model = VUART_MODEL_16550;
	OK(!vuart_state_valid(st), "start: a UART of another model than its badge names: bad");
	g->dev.model = VUART_MODEL_SBSA;
	g->last[1].valid = 2;
	OK(!vuart_state_valid(st), "start: a bad access record: bad");
	g->last[1].valid = 0;
	OK(vuart_state_valid(st), "start: repaired, it passes again");

	/* A part that fails its check is reset alone. */
	(void)do_access(BADGE_A, 1, true, 'q', 0, 1, 0);
	struct vuart_guest *b = &st->guest[1][(st->sel >> 1) & 1u];
	b->dev.u.sbsa.in_count = 99999;
	OK(vuart_start(st, badges, 2) == 1u << 1, "start: a bad UART: only that guest is reset");
	OK(vuart_guest(st, 1)->dev.u.sbsa.in_count == 0 && vuart_state_valid(st),
	   "start: it is fresh and the state valid");
	OK(vuart_guest(st, 0)->last[0].serial == 1 && vuart_console(st)->mux.guest[0].line_len == 1,
	   "start: the other guest's record and the console's buffered byte are kept");
	struct vuart_console *cw = &st->console[(st->sel >> 31) & 1u];
	cw->mux.focus = 7;
	OK(vuart_start(st, badges, 2) == VUART_SEL_CONSOLE,
	   "start: a bad multiplexer: only the console is reset (its positions to be synced)");
	OK(vuart_guest(st, 0)->last[0].serial == 1 && vuart_console(st)->mux.guest[0].line_len == 0,
	   "start: the guests are kept, the console's buffered byte is gone");
	cw = &st->console[(st->sel >> 31) & 1u];
	cw->mux.guest[1].name[0] = 'X';
	OK(vuart_start(st, badges, 2) == VUART_SEL_CONSOLE,
	   "start: a guest's name that is not its badge's: the console is reset");
}

static void test_access(void)
{
	fresh();
	struct vuart_answer a = do_access(BADGE_A, 4, false, 0, 0, 1, 0x18);
	OK(a.done && a.value == 0x90 && !a.replay, "access: FR reads 0x90");
	a = do_access(BADGE_A, 1, true, 'h', 0, 2, 0);
	OK(a.done && !a.replay, "access: a DR store is applied");
	a = do_access(BADGE_A, 1, true, 'h', 0, 2, 0);
	OK(a.done && a.replay, "access: the same serial again is a replay");
	OK(vuart_guest(st, 0)->last[0].serial == 2, "access: the record holds the serial");
	a = do_access(BADGE_A, 8, false, 0, 0, 3, 0);
	OK(!a.done, "access: a 64-bit load: abort");
	a = do_access(BADGE_A, 8, false, 0, 0, 3, 0);
	OK(!a.done && a.replay, "access: its replay: abort again");
	a = do_access(BADGE_A, 4, true, 0x10, 0, 4, SBSA_UART_IMSC);
	OK(a.done && a.irq == VUART_IRQ_KEEP, "access: IMSC written");
	a = do_access(BADGE_A, 1, true, '\n', 0, 5, 0);
	OK(a.done && a.changed, "access: a DR store changes the state");
	console_out();
	OK(strcmp(console, "[vuart] input goes to ab (Ctrl-A x3 to switch)\n[ab] h\n") == 0,
	   "access: one 'h' on the console, after the focus notice");
	a = do_access(0x777, 4, false, 0, 0, 6, 0x18);
	OK(!a.done && a.guest == VUART_GUEST_MAX, "access: an unknown badge: abort");
	a = do_access(BADGE_A, 4, false, 0, VUART_VCPU_MAX, 7, 0x18);
	OK(!a.done, "access: a vCPU past the records: abort");
	a = do_access(BADGE_B, 1, true, 'x', 0, 2, 0);
	OK(a.done && !a.replay, "access: the other guest's vCPU 0 has its own serials");
	vuart_console_sync(st, 1000, 7);
	OK(vuart_console(st)->out_pos == 1000 && vuart_console(st)->in_pos == 7,
	   "sync: a fresh state counts from the kernel's positions");
}

/** A guest whose badge names the 16550A: the same service, port-sized accesses. */
static void test_16550(void)
{
	static const uint64_t mixed[2] = { BADGE_A,
		                           (UINT64_C(0x78383600) << 32) | (1u << 18) | 4u };
	memset(st, 0, sizeof(*st));
	memset(console, 0, sizeof(console));
	console_pos = 0;
	(void)vuart_start(st, mixed, 2);
	OK(vuart_guest(st, 1)->dev.model == VUART_MODEL_16550, "16550: the badge picks the model");
	struct vuart_answer a = do_access(mixed[1], 1, false, 0, 0, 1, 5);
	OK(a.done && a.value == 0x60, "16550: LSR reads THRE|TEMT after reset");
	a = do_access(mixed[1], 4, false, 0, 0, 2, 0);
	OK(!a.done, "16550: a 32-bit port access: abort");
	const char *text = "pc\n";
	bool all = true;
	for (uint32_t i = 0; text[i] != '\0'; i++)
		all = all && do_access(mixed[1], 1, true, (uint8_t)text[i], 0, 3 + i, 0).done;
	OK(all, "16550: THR writes");
	a = do_access(mixed[1], 1, true, 'x', 0, 5, 0);
	OK(a.replay, "16550: a replayed THR write is not written again");
	console_out();
	OK(strstr(console, "[x86] pc\n") != NULL && strstr(console, "x\n") == NULL,
	   "16550: its line on the console, once");
	a = do_access(mixed[1], 1, true, 0x08, 0, 6, 4); /* MCR: OUT2, the PC's interrupt gate */
	struct vuart_answer b = do_access(mixed[1], 1, true, 0x01, 0, 7, 1); /* IER: RDI */
	OK(a.done && b.done, "16550: MCR and IER written");
	struct vuart_answer in;
	(void)vuart_input(st, 0, (const uint8_t *)"\x01\x01\x01k", 4, &in);
	OK(in.guest == 1 && in.irq == VUART_IRQ_RAISE,
	   "16550: Ctrl-A x3 moves the focus to it; a byte raises its line");
	a = do_access(mixed[1], 1, false, 0, 0, 8, 0);
	OK(a.done && a.value == 'k', "16550: RBR reads it");
}

static void test_input(void)
{
	fresh();
	(void)do_access(BADGE_A, 4, true, SBSA_UART_INT_RX | SBSA_UART_INT_RT, 0, 1,
	                SBSA_UART_IMSC);
	struct vuart_answer a;
	uint64_t next = vuart_input(st, 0, (const uint8_t *)"hi", 2, &a);
	OK(next == 2 && a.guest == 0 && a.irq == VUART_IRQ_RAISE,
	   "input: bytes reach the focused guest and raise its line");
	next = vuart_input(st, 0, (const uint8_t *)"hi", 2, &a);
	OK(next == 2 && a.irq == VUART_IRQ_KEEP, "input: the same position again adds nothing");
	a = do_access(BADGE_A, 4, false, 0, 0, 2, 0);
	struct vuart_answer b = do_access(BADGE_A, 4, false, 0, 0, 3, 0);
	OK(a.value == 'h' && b.value == 'i', "input: DR reads them in order");
	b = do_access(BADGE_A, 4, false, 0, 0, 3, 0);
	OK(b.replay && b.value == 'i', "input: a replayed DR read gets the same byte");
	a = do_access(BADGE_A, 4, false, 0, 0, 4, SBSA_UART_FR);
	OK(a.value & SBSA_UART_FR_RXFE, "input: and nothing is read twice");
}

/**
 * A guest writes lines "n=000".."n=<count-1>" byte by byte. Crashes: crash_at for the first
 * (0: none), then one more every `every` crash points (0: no more). Returns the console.
 */
static const char *stream(unsigned count, unsigned first, unsigned every, unsigned *crashes)
{
	fresh();
	char text[8192];
	size_t len = 0;
	for (unsigned i = 0; i < count; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "n=%03u\n", i);
	crash_at = first;
	static volatile size_t i;
	static volatile uint32_t serial;
	static volatile bool answered;
	static volatile unsigned crashed;
	i = 0;
	serial = 1;
	answered = false;
	crashed = 0;
	if (setjmp(crash_env) != 0) {
		/* The successor: the kernel keeps the state region and requeues a held access. */
		crashed++;
		crash_at = crashed < 60 ? every : 0;
		(void)vuart_start(st, badges, 2);
		console_out();
	}
	while (i < len) {
		if (!answered) {
			struct vuart_answer a =
			        do_access(BADGE_A, 1, true, (uint8_t)text[i], 0, serial, 0);
			if (!a.done)
				return "access refused";
			vuart_crash_point(); /* applied, not answered */
			answered = true;
		}
		i++;
		serial++;
		answered = false;
		console_out();
	}
	crash_at = 0;
	console_out();
	*crashes = crashed;
	return console;
}

static void test_crash_everywhere(void)
{
	unsigned crashes;
	static char want[16384];
	snprintf(want, sizeof(want), "%s", stream(40, 0, 0, &crashes));
	OK(strncmp(want, "[vuart] input goes to ab", 24) == 0 && strstr(want, "[ab] n=039\n") &&
	           crashes == 0,
	   "crash: the stream without a crash");
	unsigned bad = 0, tried = 0;
	crash_points_seen = 0;
	(void)stream(40, 0, 0, &crashes);
	unsigned points = crash_points_seen;
	for (unsigned k = 1; k <= points; k++) {
		const char *got = stream(40, k, 0, &crashes);
		tried++;
		if (crashes != 1 || strcmp(got, want) != 0) {
			if (bad++ == 0)
				printf("# crash at point %u of %u: got %zu bytes, want %zu\n", k,
				       points, strlen(got), strlen(want));
		}
	}
	printf("# %u crash points in the stream\n", points);
	OK(bad == 0 && tried > 40,
	   "crash: at each crash point in turn, every byte once and in order");
	bad = 0;
	for (unsigned every = 2; every < 12; every++) {
		const char *got = stream(40, every, every, &crashes);
		if (crashes < 10 || strcmp(got, want) != 0)
			bad++;
	}
	OK(bad == 0,
	   "crash: crashing every 2 to 11 points, again and again: nothing lost or doubled");
}

/** Reads the service answers without a transaction: FR, and a 16550's LSR while OE is clear. */
static void test_pure_reads(void)
{
	struct vuart_dev d;
	uint32_t v = 0;
	vuart_dev_init(&d, VUART_MODEL_16550);
	OK(vuart_dev_pure_read(&d, NS16550_LSR, 1, &v) &&
	           v == (NS16550_LSR_THRE | NS16550_LSR_TEMT),
	   "pure read: a 16550's LSR after reset (THRE|TEMT)");
	OK(!vuart_dev_pure_read(&d, NS16550_LSR, 2, &v), "pure read: not a 16-bit LSR read");
	OK(!vuart_dev_pure_read(&d, NS16550_IIR, 1, &v),
	   "pure read: never IIR (a read clears THRI)");
	/* Overrun in loopback: a 17th byte into the 16-byte receive FIFO is lost and sets OE. */
	struct vuart_reply r;
	vuart_dev_access(&d, NS16550_FCR, 1, true, NS16550_FCR_ENABLE, &r);
	vuart_dev_access(&d, NS16550_MCR, 1, true, NS16550_MCR_LOOP, &r);
	for (unsigned i = 0; i < NS16550_FIFO_SIZE + 1u; i++)
		vuart_dev_access(&d, NS16550_THR, 1, true, 'x', &r);
	OK(!vuart_dev_pure_read(&d, NS16550_LSR, 1, &v),
	   "pure read: not while OE is set (the read must clear it)");
	OK(vuart_dev_access(&d, NS16550_LSR, 1, false, 0, &r) == VUART_OK &&
	           (r.value & NS16550_LSR_OE) != 0,
	   "pure read: the model's LSR read reports OE");
	OK(vuart_dev_pure_read(&d, NS16550_LSR, 1, &v) && (v & NS16550_LSR_OE) == 0 &&
	           (v & NS16550_LSR_DR) != 0,
	   "pure read: and cleared it: the next LSR read is pure again (DR still set)");
	vuart_dev_init(&d, VUART_MODEL_SBSA);
	OK(vuart_dev_pure_read(&d, SBSA_UART_FR, 4, &v) && v == 0x90u,
	   "pure read: the SBSA UART's FR after reset (TXFE|RXFE)");
}

/** w for a read of size at offset by vcpu with serial (msg() above), and the fast answer. */
static bool pure(uint64_t badge, uint32_t size, bool write, uint32_t vcpu, uint32_t serial,
                 uint64_t offset, uint32_t *hint, uint32_t *value)
{
	uint64_t w[6];
	msg(w, size, write, 0, vcpu, serial, offset);
	return vuart_pure_access(st, w, badge, hint, value);
}

/**
 * The polling loop's fast answer (vuart_pure_access) gives what vuart_access gives, and takes
 * only what it can answer without a change: everything else goes to vuart_access.
 */
static void test_pure_access(void)
{
	fresh();
	uint32_t hint = 7, v = 0;
	OK(pure(BADGE_A, 4, false, 0, 1, SBSA_UART_FR, &hint, &v) && v == 0x90u && hint == 0,
	   "pure access: FR after reset, the guest found from a stale hint");
	OK(pure(BADGE_B, 4, false, 1, 1, SBSA_UART_FR, &hint, &v) && v == 0x90u && hint == 1,
	   "pure access: the other guest's FR; the hint follows it");
	(void)do_access(BADGE_A, 1, true, 'z', 0, 2, 0);
	struct vuart_answer a = do_access(BADGE_A, 4, false, 0, 0, 3, SBSA_UART_FR);
	uint32_t sel = st->sel;
	OK(pure(BADGE_A, 4, false, 0, 3, SBSA_UART_FR, &hint, &v) && a.done && v == a.value,
	   "pure access: FR with output waiting, as vuart_access reads it");
	OK(!pure(BADGE_A, 4, false, 0, 2, SBSA_UART_FR, &hint, &v),
	   "pure access: not the recorded serial (a replay: vuart_access answers it)");
	OK(!pure(BADGE_A, 4, true, 0, 4, SBSA_UART_FR, &hint, &v), "pure access: not a store");
	OK(!pure(BADGE_A, 4, false, 0, 4, SBSA_UART_DR, &hint, &v), "pure access: not a DR read");
	OK(!pure(BADGE_A, 2, false, 0, 4, SBSA_UART_FR, &hint, &v) &&
	           !pure(BADGE_A, 8, false, 0, 4, SBSA_UART_FR, &hint, &v),
	   "pure access: not a 16- or 64-bit FR read (vuart_access aborts them)");
	OK(!pure(0x777, 4, false, 0, 4, SBSA_UART_FR, &hint, &v),
	   "pure access: not an unknown badge");
	OK(!pure(BADGE_A, 4, false, VUART_VCPU_MAX, 4, SBSA_UART_FR, &hint, &v),
	   "pure access: not a vCPU past the records");
	uint64_t w[6];
	msg(w, 4, false, 0, 0, 4, SBSA_UART_FR);
	w[1] |= 1u << 12;
	OK(!vuart_pure_access(st, w, BADGE_A, &hint, &v), "pure access: not unknown bits in w1");
	OK(st->sel == sel && vuart_guest(st, 0)->last[0].serial == 2,
	   "pure access: nothing changed, no record written");
}

/** Whether the polling loop answers guest g's pure read as the model itself does now. */
static bool pure_matches(uint64_t badge, uint32_t g, uint32_t serial)
{
	const struct vuart_dev *d = &vuart_guest(st, g)->dev;
	bool ns = d->model == VUART_MODEL_16550;
	uint32_t size = ns ? 1u : 4u, off = ns ? NS16550_LSR : SBSA_UART_FR, want = 0, got = 0,
	         hint = 0;
	bool model = vuart_dev_pure_read(d, off, size, &want);
	bool fast = pure(badge, size, false, 1, serial, off, &hint, &got);
	return model == fast && (!model || want == got);
}

/**
 * The pure reads' answers kept with each copy (vuart_guest.pure) follow every change of the
 * UARTs: writes, reads of DR/RBR, keyboard input, output drained to the console, and a
 * restart, on an SBSA UART and a 16550 (whose LSR read is no pure read while OE is set).
 */
static void test_pure_kept(void)
{
	static const uint64_t mixed[2] = { BADGE_A,
		                           (UINT64_C(0x78383600) << 32) | (1u << 18) | 4u };
	memset(st, 0, sizeof(*st));
	memset(console, 0, sizeof(console));
	console_pos = 0;
	crash_at = 0;
	(void)vuart_start(st, mixed, 2);
	uint32_t seed = 12345, serial = 1, bad = 0, fr_seen = 0, lsr_seen = 0;
	uint64_t in_pos = 0;
	for (uint32_t i = 0; i < 4000; i++) {
		seed = seed * 1103515245u + 12345u;
		uint32_t r = seed >> 8, g = r & 1u, op = (r >> 1) % 6u;
		uint64_t badge = mixed[g];
		bool ns = g == 1;
		if (op == 0 || op == 1) { /* a byte written to DR / THR */
			(void)do_access(badge, ns ? 1u : 4u, true, 'a' + (r >> 4) % 26u, 0,
			                serial++, 0);
		} else if (op == 2) { /* DR / RBR read */
			(void)do_access(badge, ns ? 1u : 4u, false, 0, 0, serial++, 0);
		} else if (op == 3) { /* keyboard bytes to the guest in focus, or a focus switch */
			uint8_t bytes[3] = { (r >> 3) % 4u == 0 ? 1u : 'k', 1u, 1u };
			struct vuart_answer a;
			in_pos = vuart_input(st, in_pos, bytes, (r >> 3) % 4u == 0 ? 3u : 1u, &a);
		} else if (op == 4) {
			console_out();
		} else if ((r >> 6) % 8u == 0) {
			(void)vuart_start(st, mixed, 2); /* a restart keeps the state */
		}
		for (uint32_t h = 0; h < 2; h++)
			if (!pure_matches(mixed[h], h, serial++))
				bad++;
		uint32_t fr = 0, lsr = 0;
		if (vuart_dev_pure_read(&vuart_guest(st, 0)->dev, SBSA_UART_FR, 4, &fr))
			fr_seen |= 1u << ((fr >> 3) & 31u); /* BUSY, RXFE, TXFF, RXFF, TXFE */
		if (vuart_dev_pure_read(&vuart_guest(st, 1)->dev, NS16550_LSR, 1, &lsr))
			lsr_seen |= 1u << ((lsr & 1u) | (lsr >> 4 & 6u)); /* DR, THRE, TEMT */
	}
	EQ(bad, 0u, "pure kept: the polling loop's FR and LSR answers are the model's, always");
	OK(__builtin_popcount(fr_seen) >= 2 && __builtin_popcount(lsr_seen) >= 2,
	   "pure kept: (FR and LSR took different values along the way)");
}

int main(void)
{
	st = malloc(sizeof(*st));
	if (st == NULL)
		return 1;
	test_decode();
	test_start();
	test_access();
	test_input();
	test_16550();
	test_pure_reads();
	test_pure_access();
	test_pure_kept();
	test_crash_everywhere();
	free(st);
	return tap_finish();
}
