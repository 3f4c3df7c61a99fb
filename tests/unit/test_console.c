/**
 * The console (kernel/console.c) on the fake platform: what a partition is
 * charged, how a flood is bounded, that nothing waits on a full UART, and
 * that a partition's bytes cannot pass for a kernel line.
 */
#include "system.h"
#include "tap.h"
#include <kernel/console.h>
#include <kernel/lock.h>
#include <kernel/partition_ops.h>
#include <kernel/print.h>
#include <kernel/sched.h>
#include <string.h>

/* Make v write count bytes (at most IPC_CONSOLE_MAX) to its console. */
static struct vcpu *console_write(struct vcpu *v, const void *bytes, u32 count)
{
	memset(v->arch.regs, 0, sizeof(v->arch.regs));
	v->arch.regs[0] = HC_CONSOLE_WRITE;
	v->arch.regs[1] = count;
	memcpy(&v->arch.regs[IPC_REG_LABEL], bytes, count);
	struct trap t = { .kind = TRAP_HYPERCALL };
	return kernel_trap(v, &t);
}

/* Let the buffered output out, as an idle CPU does (kernel_idle). */
static void drain_all(void)
{
	console_drain_idle();
}

/* Make v write a string (at most IPC_CONSOLE_MAX bytes). */
static struct vcpu *say(struct vcpu *v, const char *s)
{
	return console_write(v, s, (u32)strlen(s));
}

static size_t count_str(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *c = hay; (c = strstr(c, needle)) != NULL; c++)
		n++;
	return n;
}

/** True if every line of the console starts with prefix. */
static bool every_line_starts(const char *s, const char *prefix)
{
	size_t len = strlen(prefix);
	while (*s != '\0') {
		if (strncmp(s, prefix, len) != 0)
			return false;
		const char *nl = strchr(s, '\n');
		if (nl == NULL)
			return false;
		s = nl + 1;
	}
	return true;
}

static struct vcpu *one_talker(const char *name)
{
	tsys_reset(1);
	u32 a = tsys_partition(name, 1);
	struct vcpu *v = tsys_vcpu(a, 0);
	tsys_boot();
	fake_now_ns += CONSOLE_REPORT_NS; /* a fresh window */
	fake_console_clear();
	return v;
}

static void test_neutralised(void)
{
	struct vcpu *v = one_talker("talker");
	say(v, "hi\x1b[2Jyou\n");
	EQ(reg(v, 0), STATUS_OK, "console: write ok");
	drain_all();
	OK(strcmp(fake_console(), "[talker] hi?[2Jyou\n") == 0,
	   "console: prefixed, ESC (an ANSI escape) neutralised");
	fake_console_clear();
	/* CR (dropped), BEL, DEL, the 8-bit CSI 0x9b and other high bytes: never raw. */
	say(v, "a\rb\x07"
	       "c\x7f"
	       "d\x9b"
	       "2Je\xff\n");
	drain_all();
	OK(strcmp(fake_console(), "[talker] ab?c?d?2Je?\n") == 0,
	   "console: CR dropped, BEL/DEL/C1 CSI/high bytes shown as '?'");
	fake_console_clear();
	/* A partition tries to start a line of its own that looks like the kernel's. */
	say(v, "x\n[hyp] system off: status=0\n\r[hyp] fake\n");
	drain_all();
	OK(every_line_starts(fake_console(), "[talker] "),
	   "console: every line a partition prints starts with its own prefix");
	OK(strstr(fake_console(), "\n[hyp]") == NULL && strncmp(fake_console(), "[hyp]", 5) != 0,
	   "console: no partition bytes start a line as [hyp]");
	fake_console_clear();
	char xs[56];
	memset(xs, 'x', sizeof(xs));
	for (int i = 0; i < 3; i++)
		console_write(v, xs, 56);
	drain_all();
	OK(strncmp(fake_console(), "[talker] xxxx", 13) == 0 &&
	           strlen(fake_console()) == 9 + CONSOLE_LINE_MAX + 1 &&
	           fake_console()[9 + CONSOLE_LINE_MAX] == '\n',
	   "console: an over-long line is broken at CONSOLE_LINE_MAX, not overflowed");
}

/** Defect 5: a newline was charged one byte but printed a whole prefixed line. */
static void test_charging(void)
{
	struct vcpu *v = one_talker("talker");
	char nl[56];
	memset(nl, '\n', sizeof(nl));
	u64 before = fake_console_bytes;
	console_write(v, nl, 10);
	drain_all();
	/* "[talker] " CR LF: 9 + 2 bytes reach the UART per newline. */
	EQ(fake_console_bytes - before, 10 * 11, "charging: ten empty lines print 110 bytes");
	EQ(v->part->console_used, fake_console_bytes - before,
	   "charging: the partition is charged every byte that reached the UART (prefix, CR, LF)");
	before = fake_console_bytes;
	say(v, "ab\n");
	drain_all();
	EQ(v->part->console_used, 110 + 13, "charging: a line costs prefix + text + CR LF");
	EQ(fake_console_bytes - before, 13, "charging: ... which is what reached the UART");
}

/** A flood of empty lines and long lines: the UART sees at most the budget per window. */
static void test_flood_bounded(void)
{
	struct vcpu *v = one_talker("talker");
	char nl[56], ys[56];
	memset(nl, '\n', sizeof(nl));
	memset(ys, 'y', sizeof(ys));
	u32 budget = console_partition_budget();
	EQ(budget, CONSOLE_WINDOW_BYTES, "flood: one partition gets the whole window");
	OK(budget * (1000000000u / CONSOLE_WINDOW_NS) < CONSOLE_UART_BYTES_PER_S,
	   "flood: the budget per second is below the UART's 115200 baud");
	bool within = true;
	u64 printed = 0;
	for (int w = 0; w < 5; w++) {
		u64 before = fake_console_bytes;
		u32 accepted = 0;
		for (int i = 0; i < 200; i++) {
			console_write(v, (i & 1) ? nl : ys, 56);
			accepted += reg(v, 0) == STATUS_OK;
		}
		drain_all();
		u64 out = fake_console_bytes - before;
		/* A window may also carry the kernel's report line (CR LF ended): not charged. */
		const char *r = strstr(fake_console(), "[hyp]");
		u64 report = r == NULL ? 0 : (u64)(strchr(r, '\n') - r) + 2u;
		within = within && accepted == 200 && out - report <= budget &&
		         out >= budget - CONSOLE_PRINTED_LINE_MAX;
		printed += out;
		fake_console_clear();
		fake_now_ns += CONSOLE_WINDOW_NS;
	}
	OK(within, "flood: every write is accepted; the UART gets the budget, no more, per window");
	OK(printed <= 5u * (budget + 128u),
	   "flood: five windows print five budgets and at most a report line each");
}

/** Drops are counted in printed bytes and reported at most once a second. */
static void test_drops_reported(void)
{
	struct vcpu *v = one_talker("talker");
	char zs[56];
	memset(zs, 'z', sizeof(zs));
	zs[55] = '\n';
	/* 200 lines of "[talker] " + 55 z + CR LF = 66 bytes; the budget takes floor(B / 66). */
	for (int i = 0; i < 200; i++)
		console_write(v, zs, 56);
	u32 fit = console_partition_budget() / 66u;
	drain_all();
	EQ(count_str(fake_console(), "[talker] zzz"), fit, "drops: whole lines up to the budget");
	OK(strstr(fake_console(), "dropped") == NULL, "drops: no report before the window ends");
	EQ(v->part->console_dropped, (200 - fit) * 66, "drops: counted in bytes they would print");
	fake_now_ns += CONSOLE_WINDOW_NS;
	fake_console_clear();
	say(v, "\n");
	drain_all();
	char want[96];
	snprintf(want, sizeof(want), "[hyp] partition 'talker': %u console bytes dropped",
	         (200 - fit) * 66);
	OK(strstr(fake_console(), want) != NULL, "drops: one kernel line reports them");
	size_t reports = 0;
	for (int w = 0; w < 12; w++) {
		fake_console_clear();
		fake_now_ns += CONSOLE_WINDOW_NS;
		for (int i = 0; i < 200; i++)
			console_write(v, zs, 56);
		drain_all();
		reports += count_str(fake_console(), "bytes dropped");
	}
	/* The first window's drops are reported when the second opens, and so on. */
	EQ(reports, 11u * (u64)CONSOLE_WINDOW_NS / CONSOLE_REPORT_NS,
	   "drops: 12 flooded windows give one report a second, no more");
	/* Drops not yet reported are reported when the partition stops. */
	fake_console_clear();
	for (int i = 0; i < 200; i++)
		console_write(v, zs, 56);
	OK(v->part->console_dropped != 0, "drops: a new flood, not yet reported");
	memset(v->arch.regs, 0, sizeof(v->arch.regs));
	v->arch.regs[0] = HC_EXIT;
	struct trap t = { .kind = TRAP_HYPERCALL };
	OK(FAKE_EXPECT_EXIT(kernel_trap(v, &t)), "drops: the partition exits (system off)");
	const char *report = strstr(fake_console(), "[hyp] partition 'talker': ");
	const char *stop = strstr(fake_console(), "[hyp] partition 'talker' stopped");
	OK(report != NULL && stop != NULL && report < stop,
	   "drops: the stop reports the drops not yet reported, before the stop line");
}

/** A full UART: nothing waits, nothing is written, output resumes in order after. */
static void test_uart_full(void)
{
	tsys_reset(2);
	u32 a = tsys_partition("flood", 1), b = tsys_partition("quiet", 1);
	kernel.cfg.partitions[a].vcpus[0].hard_affinity = 0x2;
	kernel.cfg.partitions[b].vcpus[0].hard_affinity = 0x1;
	struct vcpu *va = tsys_vcpu(a, 0), *vb = tsys_vcpu(b, 0);
	OK(tsys_boot() == vb, "uart full: 'quiet' runs on CPU 0");
	fake_cpu = 1;
	OK(kernel_idle(1) == va, "uart full: 'flood' runs on CPU 1");
	fake_cpu = 0;
	fake_now_ns += CONSOLE_REPORT_NS;
	fake_console_clear();
	fake_console_room = 0;
	fake_console_waits = 0;
	fake_console_refusals = 0;
	u64 before = fake_console_bytes;
	char ws[56];
	memset(ws, 'w', sizeof(ws));
	ws[55] = '\n';
	fake_cpu = 1;
	for (int i = 0; i < 500; i++)
		console_write(va, ws, 56);
	fake_cpu = 0;
	say(vb, "still here\n");
	/* A kernel line too: printed under the kernel lock, it must not wait either. */
	fake_cpu = 1;
	struct trap t = { .kind = TRAP_HYPERCALL };
	memset(va->arch.regs, 0, sizeof(va->arch.regs));
	va->arch.regs[0] = HC_EXIT;
	va->arch.regs[1] = 0;
	kernel_trap(va, &t);
	fake_cpu = 0;
	console_drain_idle();
	EQ(fake_console_bytes, before, "uart full: no byte is written while the UART reports full");
	EQ(fake_console_waits, 0, "uart full: no write waited on the full UART");
	OK(fake_console_refusals > 0, "uart full: the kernel did try (non-blocking)");
	OK(console_backlog > 0 && console_backlog <= CONSOLE_BUFFER_BYTES,
	   "uart full: output waits in the buffer, which stays bounded");
	fake_console_room = UINT32_MAX;
	drain_all();
	const char *out = fake_console();
	const char *quiet = strstr(out, "[quiet] still here\n");
	const char *stop = strstr(out, "[hyp] partition 'flood' stopped: exited with code 0\n");
	OK(quiet != NULL && stop != NULL && quiet < stop,
	   "uart full: afterwards the lines come out whole and in the order printed");
	OK(every_line_starts(out, "["), "uart full: no line is cut");
}

/** v puts count bytes at console position pos (HC_CONSOLE_PUT); returns its status. */
static u64 holder_put(struct vcpu *v, u32 slot, u64 pos, const char *bytes, u32 count)
{
	memset(v->arch.regs, 0, sizeof(v->arch.regs));
	v->arch.regs[0] = HC_CONSOLE_PUT;
	v->arch.regs[1] = slot;
	v->arch.regs[2] = pos;
	v->arch.regs[3] = count;
	memcpy(&v->arch.regs[4], bytes, count < IPC_CONSOLE_PUT_MAX ? count : IPC_CONSOLE_PUT_MAX);
	struct trap t = { .kind = TRAP_HYPERCALL };
	kernel_trap(v, &t);
	return v->arch.regs[0];
}

/**
 * The console holder (CAP_CONSOLE): unprefixed output by position, whole lines, a chunk
 * written again skipped; keyboard input kept, read by position, its notification signalled;
 * a partition without the capability refused.
 */
static void test_holder(void)
{
	tsys_reset(1);
	u32 h = tsys_partition("vuart", 2);
	u32 o = tsys_partition("other", 1);
	u32 n = tsys_notification();
	tsys_cap(h, 0, CAP_CONSOLE, n, RIGHT_CONSOLE_WRITE | RIGHT_CONSOLE_READ, 0);
	tsys_cap(h, 1, CAP_NOTIFICATION, n, RIGHT_NTF_WAIT, 0);
	tsys_cap(h, 2, CAP_CONSOLE, n, RIGHT_CONSOLE_READ, 0);
	tsys_cap(o, 0, CAP_NOTIFICATION, n, RIGHT_NTF_WAIT, 0);
	struct vcpu *v = tsys_boot(), *w = tsys_vcpu(h, 1);
	EQ(holder_put(v, 0, 0, "[g] ab", 6), STATUS_OK, "holder: takes bytes at position 0");
	EQ(v->arch.regs[1], 6u, "holder: and says its position");
	drain_all();
	OK(strstr(tsys_console(), "[g] ab") == NULL, "holder: a partial line waits");
	EQ(holder_put(v, 0, 3, " abcd\n[h] x\n", 12), STATUS_OK,
	   "holder: a chunk overlapping what it took");
	EQ(v->arch.regs[1], 15u, "holder: only the new bytes count");
	drain_all();
	char seen[256];
	size_t k = 0;
	for (const char *c = tsys_console(); *c != '\0' && k + 1 < sizeof(seen); c++)
		if (*c != '\r')
			seen[k++] = *c;
	seen[k] = '\0';
	OK(strstr(seen, "\n[g] abcd\n[h] x\n") != NULL,
	   "holder: unprefixed whole lines, the repeated bytes skipped, CR LF");
	/* A prompt shown before its line ends; a kernel line in between draws it again. */
	memset(v->arch.regs, 0, sizeof(v->arch.regs));
	v->arch.regs[0] = HC_CONSOLE_PUT;
	v->arch.regs[2] = 15;
	v->arch.regs[3] = 6u | IPC_CONSOLE_PUT_SHOW;
	memcpy(&v->arch.regs[4], "[g] > ", 6);
	struct trap t = { .kind = TRAP_HYPERCALL };
	kernel_trap(v, &t);
	drain_all();
	size_t before = strlen(tsys_console());
	OK(v->arch.regs[0] == STATUS_OK && v->arch.regs[1] == 21 &&
	           strcmp(tsys_console() + before - 6, "[g] > ") == 0,
	   "holder: IPC_CONSOLE_PUT_SHOW shows the unfinished line");
	kprintf("[hyp] between\n");
	drain_all();
	OK(strcmp(tsys_console() + before, "\n[hyp] between\n[g] > ") == 0,
	   "holder: a kernel line ends it first and draws it again after");
	EQ(holder_put(v, 0, 21, "ok\n", 3), STATUS_OK, "holder: the line goes on");
	drain_all();
	OK(strcmp(tsys_console() + before, "\n[hyp] between\n[g] > ok\n") == 0,
	   "holder: its next bytes continue the drawn line, not repeating it");
	EQ(holder_put(v, 0, 5, "cd\n", 3), STATUS_OK, "holder: a chunk it wrote before");
	EQ(v->arch.regs[1], 24u, "holder: changes nothing");
	EQ(holder_put(v, 0, 25, "z", 1), STATUS_INVALID_ARG,
	   "holder: a position past the kernel's");
	static const char many[IPC_CONSOLE_PUT_MAX + 1];
	EQ(holder_put(v, 0, 24, many, IPC_CONSOLE_PUT_MAX + 1), STATUS_INVALID_ARG,
	   "holder: too many bytes");
	EQ(holder_put(v, 1, 24, "z", 1), STATUS_WRONG_TYPE, "holder: not the console capability");
	EQ(holder_put(v, 5, 24, "z", 1), STATUS_INVALID_CAP, "holder: no capability");
	EQ(holder_put(v, 2, 24, "z", 1), STATUS_NO_RIGHTS, "holder: writing needs the write right");

	/* Input: vCPU 1 waits on the notification; the keyboard types while the CPU idles. */
	v->state = VCPU_READY;
	w->state = VCPU_RUNNING;
	cpu_sched[0].current = w;
	hc(w, HC_WAIT, 1, 0, 0);
	OK(w->waiting_on == &kernel.notifications[n], "holder: its input vCPU waits");
	fake_console_rx = "hi!";
	fake_console_rx_len = 3;
	drain_all();
	OK(w->waiting_on == NULL && w->arch.regs[0] == STATUS_OK && w->arch.regs[1] == 1u,
	   "holder: typed bytes signal the console's notification");
	v->state = VCPU_RUNNING;
	cpu_sched[0].current = v;
	hc(v, HC_CONSOLE_READ, 0, 0, 0);
	OK(v->arch.regs[0] == STATUS_OK && v->arch.regs[1] == 0 && v->arch.regs[2] == 3 &&
	           memcmp(&v->arch.regs[3], "hi!", 3) == 0,
	   "holder: HC_CONSOLE_READ returns them with their position");
	hc(v, HC_CONSOLE_READ, 0, 2, 0);
	OK(v->arch.regs[1] == 2 && v->arch.regs[2] == 1 && (char)v->arch.regs[3] == '!',
	   "holder: reading from a later position drops what it has kept");
	hc(v, HC_CONSOLE_READ, 0, 0, 0);
	OK(v->arch.regs[1] == 2 && v->arch.regs[2] == 1, "holder: dropped bytes do not come back");
	hc(v, HC_CONSOLE_READ, 1, 0, 0);
	EQ(v->arch.regs[0], STATUS_WRONG_TYPE, "holder: reading needs the console capability");
}

/**
 * The holder against a slow UART: its bytes fill only CONSOLE_HOLDER_ROOM, so other
 * partitions' lines still fit; refused, it is remembered (the system stays on, the CPU's
 * timer ticks for the drain), and the drain that makes room signals its notification.
 */
static void test_holder_room(void)
{
	tsys_reset(1);
	u32 h = tsys_partition("vuart", 2);
	u32 o = tsys_partition("other", 1);
	u32 n = tsys_notification();
	tsys_cap(h, 0, CAP_CONSOLE, n, RIGHT_CONSOLE_WRITE | RIGHT_CONSOLE_READ, 0);
	tsys_cap(h, 1, CAP_NOTIFICATION, n, RIGHT_NTF_WAIT, 0);
	struct vcpu *v = tsys_boot(), *w = tsys_vcpu(h, 1), *vo = tsys_vcpu(o, 0);
	drain_all();
	fake_now_ns += CONSOLE_REPORT_NS;
	fake_console_room = 0; /* the UART takes nothing for now */
	char line[IPC_CONSOLE_PUT_MAX];
	memset(line, 'x', sizeof(line));
	line[sizeof(line) - 1] = '\n';
	u64 pos = 0, status = STATUS_OK;
	u32 puts = 0;
	while (status == STATUS_OK && puts < 1000) {
		status = holder_put(v, 0, pos, line, sizeof(line));
		pos = v->arch.regs[1];
		puts++;
	}
	EQ(status, STATUS_WOULD_BLOCK, "holder room: refused once its share is full");
	/* Refused when its worst case (every byte a line: 3 each) would not fit. */
	OK(console_backlog <= CONSOLE_HOLDER_ROOM &&
	           console_backlog + CONSOLE_HOLDER_LINE_MAX + 3u * sizeof(line) >
	                   CONSOLE_HOLDER_ROOM,
	   "holder room: it filled CONSOLE_HOLDER_ROOM, no more");
	OK(console_holder_waits_room() && sched_any_runnable(),
	   "holder room: the refusal is remembered, and keeps the system on");
	OK(fake_timer_deadline != 0 && fake_timer_deadline <= fake_now_ns + SCHED_CONSOLE_TICK_NS,
	   "holder room: the CPU's timer ticks for the drain");
	/* Another partition's line still fits beside it. */
	v->state = VCPU_READY;
	vo->state = VCPU_RUNNING;
	cpu_sched[0].current = vo;
	say(vo, "not dropped\n");
	EQ(vo->part->console_dropped, 0u, "holder room: another partition's line is not dropped");
	/* The holder's input vCPU waits on the notification. */
	vo->state = VCPU_READY;
	w->state = VCPU_RUNNING;
	cpu_sched[0].current = w;
	hc(w, HC_WAIT, 1, 0, 0);
	OK(w->waiting_on == &kernel.notifications[n], "holder room: its vCPU 1 waits");
	fake_console_room = 16u; /* one chunk */
	console_drain_chunk();
	OK(w->waiting_on == &kernel.notifications[n],
	   "holder room: a drain that leaves the buffer above CONSOLE_HOLDER_WAKE wakes nobody");
	fake_console_room = UINT32_MAX;
	drain_all();
	OK(w->waiting_on == NULL && w->arch.regs[0] == STATUS_OK,
	   "holder room: the drain below CONSOLE_HOLDER_WAKE signals its notification");
	OK(!console_holder_waits_room(), "holder room: once");
	w->state = VCPU_READY;
	v->state = VCPU_RUNNING;
	cpu_sched[0].current = v;
	EQ(holder_put(v, 0, pos, line, sizeof(line)), STATUS_OK, "holder room: it writes again");
	drain_all();
	OK(strstr(tsys_console(), "[other] not dropped") != NULL, "holder room: the line came out");
}

/**
 * Two partitions, 'flood' on CPU 1 (restartable if asked) and 'quiet' on CPU 0, both
 * running; 'flood' holds the console (slot 0 write and read, slot 1 read only).
 */
static struct vcpu *two_cpus(bool restartable, struct vcpu **quiet)
{
	tsys_reset(2);
	u32 a = tsys_partition("flood", 1), b = tsys_partition("quiet", 1);
	u32 n = tsys_notification();
	tsys_cap(a, 0, CAP_CONSOLE, n, RIGHT_CONSOLE_WRITE | RIGHT_CONSOLE_READ, 0);
	tsys_cap(a, 1, CAP_CONSOLE, n, RIGHT_CONSOLE_READ, 0);
	kernel.cfg.partitions[a].restartable = restartable;
	kernel.cfg.partitions[a].vcpus[0].hard_affinity = 0x2;
	kernel.cfg.partitions[b].vcpus[0].hard_affinity = 0x1;
	struct vcpu *va = tsys_vcpu(a, 0);
	*quiet = tsys_vcpu(b, 0);
	tsys_boot();
	fake_cpu = 1;
	kernel_idle(1);
	fake_cpu = 0;
	fake_now_ns += CONSOLE_REPORT_NS;
	fake_console_clear();
	return va;
}

/**
 * The console calls take no kernel lock: with CPU 0 inside the kernel (the test holds
 * the lock), CPU 1's writes, puts and reads complete without waiting for it (with the
 * lock they spun on it: fake_relax_exits turns that wait into an exit the test sees).
 */
static void test_lockless(void)
{
	struct vcpu *vq;
	struct vcpu *va = two_cpus(false, &vq);
	OK(va->state == VCPU_RUNNING && va->cpu == 1 && vq->state == VCPU_RUNNING,
	   "lockless: 'flood' runs on CPU 1, 'quiet' on CPU 0");
	spin_lock(&kernel_lock); /* CPU 0 is in the kernel */
	fake_relax_exits = true;
	fake_cpu = 1;
	struct vcpu *next = NULL;
	bool waited = FAKE_EXPECT_EXIT(next = say(va, "while CPU 0 is in the kernel\n"));
	OK(!waited && next == va && reg(va, 0) == STATUS_OK,
	   "lockless: a console write does not wait for the kernel lock another CPU holds");
	u64 status = STATUS_INVALID_CALL;
	/* The holder's position is the kernel's (earlier tests moved it): ask with no bytes. */
	waited = FAKE_EXPECT_EXIT(status = holder_put(va, 0, 0, "", 0));
	u64 pos = reg(va, 1);
	OK(!waited && status == STATUS_OK, "lockless: nor does the holder's HC_CONSOLE_PUT");
	waited = FAKE_EXPECT_EXIT(status = holder_put(va, 0, pos, "put\n", 4));
	OK(!waited && status == STATUS_OK && reg(va, 1) == pos + 4u,
	   "lockless: it takes the bytes at its position");
	waited = FAKE_EXPECT_EXIT(status = holder_put(va, 1, pos + 4u, "no\n", 3));
	OK(!waited && status == STATUS_NO_RIGHTS && reg(va, 1) == 1u,
	   "lockless: its capability is still checked (slot 1 lacks the write right), r1 kept");
	waited = FAKE_EXPECT_EXIT(status = holder_put(va, 5, pos + 4u, "no\n", 3));
	OK(!waited && status == STATUS_INVALID_CAP, "lockless: an empty slot is refused");
	char longer[IPC_CONSOLE_PUT_MAX + 1u];
	memset(longer, 'n', sizeof(longer));
	waited = FAKE_EXPECT_EXIT(status = holder_put(va, 0, pos + 4u, longer, sizeof(longer)));
	OK(!waited && status == STATUS_INVALID_ARG && reg(va, 1) == 0u,
	   "lockless: an over-long put is refused, r1 kept");
	waited = FAKE_EXPECT_EXIT(next = hc(va, HC_CONSOLE_READ, 1, 0, 0));
	OK(!waited && next == va && reg(va, 0) == STATUS_OK, "lockless: nor does HC_CONSOLE_READ");
	waited = FAKE_EXPECT_EXIT(next = hc(va, HC_CONSOLE_READ, 2, 0, 0));
	OK(!waited && next == va && reg(va, 0) == STATUS_INVALID_CAP,
	   "lockless: which checks its capability too");
	fake_relax_exits = false;
	spin_unlock(&kernel_lock);
	fake_cpu = 0;
	drain_all();
	OK(strstr(tsys_console(), "[flood] while CPU 0 is in the kernel\n") != NULL &&
	           strstr(tsys_console(), "put\n") != NULL &&
	           strstr(tsys_console(), "no\n") == NULL && strstr(tsys_console(), "nnn") == NULL,
	   "lockless: what was written came out, what was refused did not");
	/* Dropped, the capability cannot be used, with or without the lock. */
	fake_cpu = 1;
	hc(va, HC_CAP_DROP, 0, 0, 0);
	EQ(reg(va, 0), STATUS_OK, "lockless: the holder drops its console capability");
	EQ(holder_put(va, 0, pos + 4u, "gone\n", 5), STATUS_INVALID_CAP,
	   "lockless: a put on the dropped slot is refused");
	fake_cpu = 0;
}

/**
 * A stop from another CPU against a console call under way on the stopped vCPU's CPU
 * (vcpu_lockless_close): the stop waits for it; a later call of the old life changes
 * nothing; the restarted vCPU's first call takes the kernel lock and opens the way again.
 */
static void test_lockless_stop(void)
{
	struct vcpu *vq;
	struct vcpu *va = two_cpus(true, &vq);
	va->lockless = VCPU_LOCKLESS_IN; /* CPU 1 is in a console call of va */
	fake_relax_exits = true;
	OK(FAKE_EXPECT_EXIT(vcpu_lockless_close(va)) && va->lockless == VCPU_LOCKLESS_IN,
	   "lockless stop: a stop waits while the vCPU is in a console call");
	fake_relax_exits = false;
	va->lockless = VCPU_LOCKLESS_OPEN; /* the call left */
	spin_lock(&kernel_lock);
	partition_stop(va->part, "stopped by the test", false);
	spin_unlock(&kernel_lock);
	EQ(va->lockless, VCPU_LOCKLESS_CLOSED, "lockless stop: then it closes the vCPU's way");
	OK(va->state != VCPU_RUNNING && (va->after & VCPU_AFTER_FRESH) != 0,
	   "lockless stop: the partition was restarted, its vCPU reset");
	fake_relax_exits = true;
	OK(FAKE_EXPECT_EXIT(vcpu_lockless_close(va)) == false,
	   "lockless stop: closing it again does not wait");
	fake_relax_exits = false;
	/* CPU 1 comes to the console call it trapped for before the stop: the old life's. */
	fake_cpu = 1;
	memset(va->arch.regs, 0, sizeof(va->arch.regs));
	va->arch.regs[0] = HC_CONSOLE_WRITE;
	va->arch.regs[1] = 4;
	memcpy(&va->arch.regs[IPC_REG_LABEL], "old\n", 4);
	struct trap t = { .kind = TRAP_HYPERCALL };
	OK(kernel_trap(va, &t) != va, "lockless stop: the old life's call does not resume it");
	EQ(reg(va, 0), HC_CONSOLE_WRITE,
	   "lockless stop: nor answers into the new life's registers (r0 as it was)");
	/* The new life runs, its first console call takes the lock and opens the way. */
	OK(kernel_idle(1) == va && va->state == VCPU_RUNNING,
	   "lockless stop: the restarted vCPU runs");
	say(va, "new life\n");
	EQ(reg(va, 0), STATUS_OK, "lockless stop: its console write works");
	EQ(va->lockless, VCPU_LOCKLESS_OPEN, "lockless stop: and opened its way again");
	spin_lock(&kernel_lock);
	fake_relax_exits = true;
	bool waited = FAKE_EXPECT_EXIT(say(va, "lockless again\n"));
	fake_relax_exits = false;
	spin_unlock(&kernel_lock);
	OK(!waited && reg(va, 0) == STATUS_OK, "lockless stop: its next ones skip the kernel lock");
	fake_cpu = 0;
	drain_all();
	const char *out = tsys_console();
	OK(strstr(out, "old") == NULL, "lockless stop: the old life's line never printed");
	OK(strstr(out, "[flood] new life\n") != NULL && strstr(out, "[flood] lockless again\n"),
	   "lockless stop: the new life's lines did");
}

/**
 * A line broken by a stop: the stop prints what the partition buffered (under the
 * console lock, like its writes) and its drop count, once.
 */
static void test_stop_flushes(void)
{
	struct vcpu *vq;
	struct vcpu *va = two_cpus(false, &vq);
	fake_cpu = 1;
	say(va, "unfinished");
	fake_cpu = 0;
	va->part->console_dropped = 77;
	spin_lock(&kernel_lock);
	partition_stop(va->part, "stopped by the test", false);
	spin_unlock(&kernel_lock);
	drain_all();
	const char *out = tsys_console();
	const char *line = strstr(out, "[flood] unfinished\n");
	const char *drops = strstr(out, "[hyp] partition 'flood': 77 console bytes dropped");
	OK(line != NULL && drops != NULL && line < drops,
	   "stop: the buffered line, then the drop count");
	EQ(va->part->line_len, 0u, "stop: the line buffer is empty");
	EQ(va->part->console_dropped, 0u, "stop: the count was reported");
}

int main(void)
{
	test_holder();
	test_holder_room();
	test_neutralised();
	test_charging();
	test_flood_bounded();
	test_drops_reported();
	test_uart_full();
	test_lockless();
	test_lockless_stop();
	test_stop_flushes();
	return tap_finish();
}
