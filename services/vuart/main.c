/**
 * The vuart service partition: the glue between the kernel and vuart_core.c.
 *
 * Capabilities are found by type (HC_CAP_INFO over every slot), so a manifest may put them
 * anywhere: the endpoint the emulated ranges deliver to (recv, and send for vCPU 1), a guest
 * capability with `emulate` and `inject` per guest (its badge: VUART_BADGE_*), optionally the
 * console capability (kind = "console") and a `wait` capability on its notification. The
 * state lives at VUART_STATE_IPA, a region the manifest marks `preserve;`.
 *
 *   vCPU 0: recv -> an access: vuart_access -> reply DONE/ABORT, HC_GUEST_IRQ
 *                   a doorbell from vCPU 1: keyboard bytes (HC_CONSOLE_READ) -> vuart_input
 *           then the console: vuart_console_chunk -> HC_CONSOLE_PUT -> vuart_console_written
 *   vCPU 1: waits on the console notification (input, or room again for waiting output),
 *           then calls vCPU 0's endpoint: a doorbell, so that all state has one writer.
 *
 * Without a console capability the output goes through HC_CONSOLE_WRITE (the kernel then puts
 * "[vuart] " in front of each line) and there is no input.
 *
 * VUART_CRASH_TEST builds the kill test's variant: it faults at pseudo-random points of its
 * loop (vuart_crash_point), 100 times in all, counting in the preserved state.
 */
#include <svc/svc.h>
#include <svc_arch.h>

#include "vuart_core.h"

/** Where the manifest maps the preserved region (at least sizeof(struct vuart_state)). */
#define VUART_STATE_IPA 0x400000u
/** Doorbell label (a partition's own label: the kernel bit is clear). */
#define VUART_LABEL_DOORBELL 0x7675u

/** The preserved region the manifests give it (256 KiB) holds the whole state. */
#define VUART_STATE_REGION 0x40000u
_Static_assert(sizeof(struct vuart_state) <= VUART_STATE_REGION,
               "struct vuart_state must fit in the preserved region");

static struct vuart_state *const state = (struct vuart_state *)(uintptr_t)VUART_STATE_IPA;

struct slots {
	uint32_t ep, console, ntf;
	uint32_t guest_count;
	uint64_t badges[VUART_GUEST_MAX];
};

#define NO_SLOT 0xffffffffu

static void find_slots(struct slots *s)
{
	s->ep = s->console = s->ntf = NO_SLOT;
	s->guest_count = 0;
	for (uint32_t i = 0; i < CAP_SLOT_COUNT; i++) {
		uint32_t type, rights;
		uint64_t badge;
		if (svc_cap_info(i, &type, &rights, &badge) != STATUS_OK)
			continue;
		if (type == CAP_ENDPOINT && (rights & RIGHT_EP_RECV) != 0 && s->ep == NO_SLOT)
			s->ep = i;
		else if (type == CAP_CONSOLE && s->console == NO_SLOT)
			s->console = i;
		else if (type == CAP_NOTIFICATION && (rights & RIGHT_NTF_WAIT) != 0 &&
		         s->ntf == NO_SLOT)
			s->ntf = i;
		else if (type == CAP_GUEST && (rights & RIGHT_GUEST_EMULATE) != 0 &&
		         VUART_BADGE_SLOT(badge) == i && s->guest_count < VUART_GUEST_MAX)
			s->badges[s->guest_count++] = badge;
	}
}

#ifdef VUART_CRASH_TEST
/** Crashes in all: the kill test's count. */
#define CRASH_LIMIT 100u
/**
 * The kill test: a fault at one in VUART_CRASH_ODDS of these points, from a generator whose
 * state survives in the preserved region (so every successor crashes somewhere else).
 */
#define VUART_CRASH_ODDS 23u
void vuart_crash_point(void)
{
	uint64_t *crashes = &state->test_word[0], *rng = &state->test_word[1];
	if (*crashes >= CRASH_LIMIT)
		return;
	*rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
	if ((*rng >> 33) % VUART_CRASH_ODDS == 0) {
		*crashes = *crashes + 1;
		arch_undefined_instruction(); /* a fault, not an exit: the kernel restarts it */
	}
}

/** The kill test's report, once, when the last crash's successor starts. */
static void crash_report(const struct vuart_answer *ans)
{
	uint64_t *replays = &state->test_word[2], *reported = &state->test_word[3];
	if (ans != NULL && ans->replay)
		*replays = *replays + 1;
	if (ans == NULL && state->test_word[0] >= CRASH_LIMIT && *reported == 0) {
		*reported = 1;
		svc_printf("crashed %u times; %u replayed accesses answered from the record\n",
		           (unsigned)state->test_word[0], (unsigned)*replays);
	}
}
#else
void vuart_crash_point(void)
{
}

static void crash_report(const struct vuart_answer *ans)
{
	(void)ans;
}
#endif

static void set_line(uint32_t g, enum vuart_irq irq)
{
	if (irq == VUART_IRQ_KEEP || g >= state->guest_count)
		return;
	uint64_t badge = vuart_guest(state, g)->badge;
	uint64_t r[IPC_REG_COUNT] = { HC_GUEST_IRQ, VUART_BADGE_SLOT(badge), 0,
		                      VUART_BADGE_INTID(badge), irq == VUART_IRQ_RAISE ? 1u : 0u };
	svc_hypercall(r);
}

/** Writes the console's pending chunks while the kernel takes them. */
static void console_out(const struct slots *s)
{
	enum vuart_irq irq[VUART_GUEST_MAX];
	uint32_t n;
	while ((n = vuart_console_chunk(state, irq)) != 0) {
		for (uint32_t g = 0; g < state->guest_count; g++)
			set_line(g, irq[g]);
		const struct vuart_console *c = vuart_console(state);
		vuart_crash_point();
		if (s->console == NO_SLOT) {
			for (uint32_t i = 0; i < n; i++)
				svc_putc((char)c->out[i]);
			svc_flush();
			vuart_console_written(state, c->out_pos + n);
			continue;
		}
		uint64_t r[IPC_REG_COUNT] = { HC_CONSOLE_PUT, s->console, c->out_pos, n };
		for (uint32_t i = 0; i < n; i++)
			r[4 + i / 8u] |= (uint64_t)c->out[i] << (8u * (i % 8u));
		svc_hypercall(r);
		if (r[0] != STATUS_OK)
			return; /* full: vCPU 1 rings again soon */
		vuart_crash_point();
		vuart_console_written(state, r[1]);
	}
	/* A guest's unfinished line the multiplexer shows (a prompt): the kernel shows it too. */
	const struct vuart_console *c = vuart_console(state);
	if (s->console != NO_SLOT && c->mux.open != 0 && c->out_len == 0) {
		uint64_t r[IPC_REG_COUNT] = { HC_CONSOLE_PUT, s->console, c->out_pos,
			                      IPC_CONSOLE_PUT_SHOW };
		svc_hypercall(r);
	}
}

/** Keyboard bytes from the kernel into the focused guest. */
static void console_in(const struct slots *s)
{
	if (s->console == NO_SLOT)
		return;
	for (;;) {
		uint64_t r[IPC_REG_COUNT] = { HC_CONSOLE_READ, s->console,
			                      vuart_console(state)->in_pos };
		svc_hypercall(r);
		if (r[0] != STATUS_OK || r[2] == 0 || r[2] > IPC_CONSOLE_READ_MAX)
			return;
		uint8_t bytes[IPC_CONSOLE_READ_MAX];
		for (uint32_t i = 0; i < r[2]; i++)
			bytes[i] = (uint8_t)(r[3 + i / 8u] >> (8u * (i % 8u)));
		struct vuart_answer ans;
		uint64_t before = vuart_console(state)->in_pos;
		uint64_t next = vuart_input(state, r[1], bytes, (size_t)r[2], &ans);
		set_line(ans.guest, ans.irq);
		if (next == before)
			return; /* the focused guest's queue is full: the rest waits in the kernel */
	}
}

/**
 * vCPU 1: turns console input and room for output into calls to vCPU 0. It never returns: a
 * service's exit would stop (and so restart) the whole partition. The kernel signals the
 * console's notification when keyboard bytes arrive and when the console has room again
 * after refusing output (CONSOLE_HOLDER_WAKE), so output waiting for room waits there too.
 * Without the notification it has nothing to wait for and only retries waiting output.
 */
static _Noreturn void doorbell(const struct slots *s)
{
	for (;;) {
		uint64_t bits;
		if (s->ntf == NO_SLOT || svc_wait(s->ntf, &bits) != STATUS_OK)
			svc_yield();
		struct msg m = { .label = VUART_LABEL_DOORBELL };
		(void)svc_call(s->ep, &m);
	}
}

/**
 * The hot path: loads with no effect (FR, LSR: vuart_pure_access) answered, and the next
 * message received, with the registers in locals that never reach memory (the main loop's
 * array does), until a message is not one; r holds it then, hint the guest found last.
 */
static void __attribute__((flatten))
serve_pure(uint64_t ep, uint64_t r[IPC_REG_COUNT], uint32_t *hint)
{
	uint64_t m[IPC_REG_COUNT];
#pragma GCC unroll 16
	for (uint32_t i = 0; i < IPC_REG_COUNT; i++)
		m[i] = r[i];
	/*
	 * The guest's live copy: nothing here commits, so it stays the live one (vuart_core.h).
	 * First a copy that answers nothing (pure.size 0), whatever badge it matches.
	 */
	static const struct vuart_guest none = { .badge = 0 };
	const struct vuart_guest *cur = &none;
	uint32_t pure;
	while (m[0] == STATUS_OK && m[IPC_REG_LABEL] == IPC_LABEL_MMIO) {
		if (cur->badge != m[IPC_REG_CAP]) {
			cur = vuart_pure_guest(state, m[IPC_REG_CAP], hint);
			if (cur == NULL)
				break;
		}
		if (!vuart_pure_read(cur, m[IPC_REG_WORD0 + 1], m[IPC_REG_WORD0 + 3],
		                     m[IPC_REG_WORD0 + 4], &pure))
			break;
		vuart_crash_point(); /* a successor answers it again: it changed nothing */
		/*
		 * The answer: words 0 and 1 (the kernel reads no other word of an emulated
		 * access's answer, and the request's words are the guest's own), label 0.
		 */
		m[0] = HC_REPLY_RECV;
		m[IPC_REG_CAP] = ep;
		m[IPC_REG_LABEL] = 0;
		m[IPC_REG_WORD0] = IPC_MMIO_DONE;
		m[IPC_REG_WORD0 + 1] = pure;
		arch_hypercall_service(m); /* only a service emulates (the manifest's rule) */
	}
#pragma GCC unroll 16
	for (uint32_t i = 0; i < IPC_REG_COUNT; i++)
		r[i] = m[i];
}

int svc_main(uint64_t arg)
{
	struct slots s;
	find_slots(&s);
	if (s.ep == NO_SLOT)
		return 1;
	if (arg != 0)
		doorbell(&s);
	uint32_t reset = vuart_start(state, s.badges, s.guest_count);
	/* Lines may have been left either way by the last instance: say them again. */
	for (uint32_t g = 0; g < state->guest_count; g++)
		set_line(g, vuart_dev_line(&vuart_guest(state, g)->dev) ? VUART_IRQ_RAISE :
		                                                          VUART_IRQ_LOWER);
	if ((reset & VUART_SEL_CONSOLE) != 0 && s.console != NO_SLOT) {
		/* Position 0 is never past the kernel's: these only ask where it is. */
		uint64_t put[IPC_REG_COUNT] = { HC_CONSOLE_PUT, s.console, 0, 0 };
		uint64_t get[IPC_REG_COUNT] = { HC_CONSOLE_READ, s.console, 0 };
		svc_hypercall(put);
		svc_hypercall(get);
		vuart_console_sync(state, put[0] == STATUS_OK ? put[1] : 0,
		                   get[0] == STATUS_OK ? get[1] : 0);
	}
	if (reset == VUART_START_FRESH)
		svc_printf("serving %u guest(s)\n", (unsigned)state->guest_count);
	else if (reset != 0)
		svc_printf(
		        "kept its state (start %u) but reset 0x%x (bit g: guest g, bit 31: console)\n",
		        (unsigned)state->generation, (unsigned)reset);
	crash_report(NULL);
	/* The registers of HC_RECV / HC_REPLY_RECV as they are: no message copies on this path. */
	uint64_t r[IPC_REG_COUNT] = { HC_RECV, s.ep };
	uint32_t hint = 0; /* the guest found last: a polling guest is found at once */
	svc_hypercall(r);
	for (;;) {
		serve_pure(s.ep, r, &hint);
		/* Not a load with no effect (serve_pure answers those): a request. */
		uint64_t done = IPC_MMIO_ABORT, value = 0;
		bool out = true;
		if (r[0] == STATUS_OK && r[IPC_REG_LABEL] == IPC_LABEL_MMIO) {
			struct vuart_request rq;
			struct vuart_answer ans = { .done = false };
			vuart_crash_point(); /* holding the access, nothing applied */
			if (vuart_decode(r[IPC_REG_LABEL], &r[IPC_REG_WORD0], r[IPC_REG_CAP], &rq))
				vuart_access(state, &rq, &ans);
			vuart_crash_point(); /* applied, not answered: the successor gets it again */
			crash_report(&ans);
			done = ans.done ? IPC_MMIO_DONE : IPC_MMIO_ABORT;
			value = ans.value;
			set_line(ans.guest, ans.irq);
			out = ans.changed;
		} else if (r[0] == STATUS_OK && r[IPC_REG_LABEL] == VUART_LABEL_DOORBELL) {
			console_in(&s);
		}
		if (out)
			console_out(&s);
		bool received = r[0] == STATUS_OK;
		/* Nothing of the request goes back with the answer (nine stores, unrolled). */
#pragma GCC unroll 16
		for (uint32_t i = 0; i < IPC_REG_COUNT; i++)
			r[i] = 0;
		r[0] = received ? HC_REPLY_RECV : HC_RECV;
		r[1] = s.ep;
		r[IPC_REG_WORD0] = done;
		r[IPC_REG_WORD0 + 1] = value;
		svc_hypercall(r);
	}
}
