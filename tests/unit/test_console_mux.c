/**
 * Host tests of the console multiplexer (services/vuart/console_mux.c): guest names, the input
 * focus and its switch by Ctrl-A three times, the Ctrl-As held back and then delivered, the
 * notice line, whole prefixed lines from guests whose partial lines interleave, partial lines
 * shown by a flush, long lines, the filter that keeps one guest from drawing over another's
 * text, back-pressure when the console ring is full, and the persistence check.
 */
#include <string.h>

#include "tap.h"
#include "console_mux.h"

static struct console_mux mux;
static char console[16384];

/** Everything the console would show since the last call, as a C string. */
static const char *shown(void)
{
	size_t n = console_mux_take(&mux, (uint8_t *)console, sizeof(console) - 1);
	console[n] = '\0';
	return console;
}

static bool shows(const char *want, const char *name)
{
	const char *got = shown();
	bool ok = OK(strcmp(got, want) == 0, name);
	if (!ok)
		printf("#   got \"%s\"\n#   want \"%s\"\n", got, want);
	return ok;
}

static size_t say(uint32_t guest, const char *s)
{
	return console_mux_output(&mux, guest, (const uint8_t *)s, strlen(s));
}

static size_t type(const char *s)
{
	return console_mux_input(&mux, (const uint8_t *)s, strlen(s));
}

/** The bytes queued for a guest, consumed, as a C string. */
static const char *typed(uint32_t guest)
{
	static char buf[CONSOLE_MUX_IN_MAX + 1];
	size_t n = console_mux_input_peek(&mux, guest, (uint8_t *)buf, CONSOLE_MUX_IN_MAX);
	console_mux_input_consume(&mux, guest, n);
	buf[n] = '\0';
	return buf;
}

static void three_guests(void)
{
	uint32_t i;
	console_mux_init(&mux);
	console_mux_add(&mux, "linux", &i);
	console_mux_add(&mux, "rtos", &i);
	console_mux_add(&mux, "fw", &i);
	shown();
}

static void test_names(void)
{
	uint32_t i = 99;
	console_mux_init(&mux);
	OK(console_mux_state_valid(&mux), "an empty multiplexer is valid");
	EQ(type("abc"), 3, "input with no guest is taken and dropped");
	OK(console_mux_add(&mux, "linux", &i) && i == 0, "the first guest is number 0");
	shows("[vuart] input goes to linux (Ctrl-A x3 to switch)\n",
	      "the first guest gets the focus, and the console says so");
	OK(console_mux_add(&mux, "sel4-test_2", &i) && i == 1, "the second is number 1");
	OK(!console_mux_add(&mux, "", &i), "an empty name is refused");
	OK(!console_mux_add(&mux, "two words", &i), "a name with a space is refused");
	OK(!console_mux_add(&mux, "a]b", &i), "a name with ']' is refused");
	OK(!console_mux_add(&mux, "esc\x1b", &i), "a name with a control character is refused");
	OK(!console_mux_add(&mux, "seventeen-chars-x", &i), "a name over 16 characters is refused");
	OK(console_mux_add(&mux, "sixteen-chars-xx", &i), "a name of 16 characters is taken");
	for (uint32_t n = 3; n < CONSOLE_MUX_GUEST_MAX; n++)
		console_mux_add(&mux, "g", &i);
	OK(!console_mux_add(&mux, "one-too-many", &i), "a guest past the maximum is refused");
	EQ(mux.guest_count, CONSOLE_MUX_GUEST_MAX, "the maximum is there");
	OK(console_mux_state_valid(&mux), "the state is valid");
}

static void test_focus(void)
{
	three_guests();
	EQ(console_mux_focus(&mux), 0, "input starts at guest 0");
	EQ(type("ls\r"), 3, "typing is taken");
	OK(strcmp(typed(0), "ls\r") == 0, "and goes to guest 0");
	EQ(type("\x01\x01\x01"), 3, "Ctrl-A x3 is taken");
	EQ(console_mux_focus(&mux), 1, "and moves the focus to guest 1");
	shows("[vuart] input goes to rtos (Ctrl-A x3 to switch)\n", "the console says so");
	OK(strcmp(typed(0), "") == 0 && strcmp(typed(1), "") == 0,
	   "the three Ctrl-As are delivered to nobody");
	type("x");
	OK(strcmp(typed(1), "x") == 0, "input now goes to guest 1");
	type("\x01\x01\x01\x01\x01\x01");
	EQ(console_mux_focus(&mux), 0, "twice more: guest 2, then round to guest 0");
	shows("[vuart] input goes to fw (Ctrl-A x3 to switch)\n"
	      "[vuart] input goes to linux (Ctrl-A x3 to switch)\n",
	      "a notice for each switch");
}

static void test_ctrl_a_restored(void)
{
	three_guests();
	type("\x01");
	OK(strcmp(typed(0), "") == 0, "one Ctrl-A is held back");
	type("\x01"
	     "b");
	OK(strcmp(typed(0), "\x01\x01"
	                    "b") == 0,
	   "Ctrl-A Ctrl-A b: all three delivered, in order");
	type("\x01q\x01\x01");
	OK(strcmp(typed(0), "\x01q") == 0, "a byte between resets the count");
	EQ(console_mux_focus(&mux), 0, "no switch: the Ctrl-As were not three in a row");
	type("\x01");
	EQ(console_mux_focus(&mux), 1, "the third in a row after q switches");
	type("\x01\x01\x01\x01");
	EQ(console_mux_focus(&mux), 2, "four: switch, and one held back");
	type("z");
	OK(strcmp(typed(2), "\x01z") == 0, "the fourth goes to the new guest with the next byte");
	OK(strcmp(typed(1), "") == 0, "the old guest got none of them");
	shown();
}

static void test_input_queue(void)
{
	three_guests();
	uint8_t bytes[CONSOLE_MUX_IN_MAX + 8];
	memset(bytes, 'k', sizeof(bytes));
	EQ(console_mux_input(&mux, bytes, sizeof(bytes)), CONSOLE_MUX_IN_MAX,
	   "the queue takes 64 bytes and says so");
	uint8_t got[4];
	EQ(console_mux_input_peek(&mux, 0, got, 4), 4, "peek shows bytes");
	console_mux_input_consume(&mux, 0, 1);
	EQ(mux.guest[0].in_count, CONSOLE_MUX_IN_MAX - 1, "consume drops what the UART took");
	EQ(type("\x01\x01"
	        "x"),
	   2, "two Ctrl-As and a byte need 3 places: only the Ctrl-As taken");
	console_mux_input_consume(&mux, 0, 2);
	EQ(type("x"), 1, "with room, the held Ctrl-As and the byte go together");
	console_mux_input_consume(&mux, 0, CONSOLE_MUX_IN_MAX - 3);
	OK(strcmp(typed(0), "\x01\x01x") == 0, "in order at the end of the queue");
	console_mux_input_consume(&mux, 7, 1);
	EQ(console_mux_input_peek(&mux, 7, got, 4), 0, "a guest that does not exist has nothing");
}

static void test_lines(void)
{
	three_guests();
	EQ(say(0, "hello "), 6, "a partial line is taken");
	shows("", "and not shown");
	say(1, "boot: ");
	say(0, "world\n");
	shows("[linux] hello world\n", "guest 0's line appears whole once it ends");
	say(1, "ok\r\n");
	shows("[rtos] boot: ok\n", "guest 1's line too, without its \\r");
	say(0, "a\nb\n");
	say(2, "c\n");
	shows("[linux] a\n[linux] b\n[fw] c\n", "every line gets its prefix");
	say(0, "\n");
	shows("[linux] \n", "an empty line is a prefix alone");
	EQ(say(9, "x\n"), 0, "a guest that does not exist sends nothing");
}

static void test_flush(void)
{
	three_guests();
	say(0, "login: ");
	OK(console_mux_flush(&mux, 0), "flush");
	shows("[linux] login: ", "flush shows a partial line (a prompt)");
	say(0, "r");
	console_mux_flush(&mux, 0);
	shows("r", "the guest's echo continues it");
	say(1, "tick\n");
	shows("\n[rtos] tick\n", "another guest's line ends it first");
	say(0, "oot\n");
	shows("[linux] oot\n", "the rest comes on a fresh prefixed line");
	say(0, "$ ");
	console_mux_flush(&mux, 0);
	say(2, "partial");
	console_mux_flush(&mux, 2);
	shows("[linux] $ \n[fw] partial", "another guest's flush also ends the open line");
	say(2, " more\n");
	shows(" more\n", "and its own line completes without a second prefix");
	OK(console_mux_flush(&mux, 1), "a flush with nothing buffered succeeds");
	shows("", "and shows nothing");
	say(0, "x");
	console_mux_flush(&mux, 0);
	type("\x01\x01\x01");
	shows("[linux] x\n[vuart] input goes to rtos (Ctrl-A x3 to switch)\n",
	      "the notice ends an open line first");
}

static void test_long_line(void)
{
	three_guests();
	char line[CONSOLE_MUX_LINE_MAX + 11];
	memset(line, 'y', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	EQ(say(0, line), CONSOLE_MUX_LINE_MAX + 10, "a line longer than the buffer is taken");
	const char *got = shown();
	OK(strncmp(got, "[linux] yyy", 11) == 0 && strlen(got) == 8 + CONSOLE_MUX_LINE_MAX + 1 &&
	           got[strlen(got) - 1] == '\n',
	   "its first 160 bytes come as a line of their own");
	say(0, "\n");
	shows("[linux] yyyyyyyyyy\n", "the rest comes on a prefixed line");
}

static void test_filter(void)
{
	three_guests();
	say(0, "ab\b\bc\n");
	shows("[linux] ab\b\bc\n", "backspaces over the guest's own text are kept");
	say(0, "a\b\b\b\b\bX\n");
	shows("[linux] a\bX\n", "backspaces past its text are dropped: the prefix stays");
	say(0, "\x1b[2J\x1b[H\x07\x7f\n");
	shows("[linux] ?[2J?[H??\n", "ESC, BEL and DEL show as '?'");
	say(0, "caf\xc3\xa9 \xe2\x80\x94 ok\n");
	shows("[linux] caf\xc3\xa9 \xe2\x80\x94 ok\n", "UTF-8 text passes");
	say(0, "\xc2\x9b"
	       "2J\n");
	shows("[linux] \xc2?2J\n", "a UTF-8 C1 control (CSI) loses its second byte");
	say(0, "\xc3\xa9\xc3\xa9\b\b\b\n");
	shows("[linux] \xc3\xa9\xc3\xa9\n", "non-ASCII text does not count for backspaces");
	say(0, "\tx\b\b\b\n");
	shows("[linux] \tx\b\b\n", "a tab counts as one column");
	say(0, "12345");
	console_mux_flush(&mux, 0);
	say(0, "\b\b");
	say(1, "other\n");
	say(0, "\b\b\b\b\bZ\n");
	shows("[linux] 12345\n[rtos] other\n[linux] Z\n",
	      "after another guest's line, a guest's buffered backspaces cannot reach back");
}

static void test_backpressure(void)
{
	three_guests();
	static uint8_t lines[CONSOLE_MUX_OUT_MAX];
	memset(lines, '\n', sizeof(lines));
	size_t room = console_mux_output_room(&mux, 0);
	OK(room > 0, "there is room");
	EQ(say(0, ""), 0, "nothing is nothing");
	EQ(console_mux_output(&mux, 0, lines, room), room, "output_room bytes are all taken");
	size_t taken = console_mux_output(&mux, 0, lines, sizeof(lines));
	OK(taken < sizeof(lines), "a full console ring takes part and says so");
	EQ(mux.out_count + 9 > CONSOLE_MUX_OUT_MAX, 1, "the ring is full to within one line");
	EQ(console_mux_output_room(&mux, 0), 0, "no room is promised");
	type("\x01\x01\x01");
	EQ(console_mux_focus(&mux), 1, "the focus switches even with the ring full");
	uint8_t buf[64];
	console_mux_take(&mux, buf, sizeof(buf));
	const char *got = shown();
	const char *notice = "[vuart] input goes to rtos (Ctrl-A x3 to switch)\n";
	OK(strlen(got) >= strlen(notice) && strcmp(got + strlen(got) - strlen(notice), notice) == 0,
	   "the notice follows once there is room");
	EQ(console_mux_output(&mux, 0, lines, 1), 1, "output flows again");
	OK(console_mux_state_valid(&mux), "the state is valid");
}

static void test_persistence(void)
{
	three_guests();
	say(0, "abc");
	type("\x01");
	static struct console_mux copy;
	memcpy(&copy, &mux, sizeof(copy));
	OK(console_mux_state_valid(&copy), "a copy elsewhere in memory is valid");
	static const struct {
		size_t off;
		uint32_t value;
		const char *what;
	} bad[] = {
		{ offsetof(struct console_mux, magic), 1, "a wrong magic is refused" },
		{ offsetof(struct console_mux, version), 0, "another layout version is refused" },
		{ offsetof(struct console_mux, size), 8, "another struct size is refused" },
		{ offsetof(struct console_mux, guest_count), 17, "too many guests are refused" },
		{ offsetof(struct console_mux, focus), 3, "a focus past the guests is refused" },
		{ offsetof(struct console_mux, ctrl_a), 3, "three held-back Ctrl-As are refused" },
		{ offsetof(struct console_mux, open), 4, "an open line of no guest is refused" },
		{ offsetof(struct console_mux, out_head), CONSOLE_MUX_OUT_MAX,
		  "a ring head out of range is refused" },
		{ offsetof(struct console_mux, out_count), CONSOLE_MUX_OUT_MAX + 1,
		  "a ring count too large is refused" },
		{ offsetof(struct console_mux, guest[1].name_len), 0, "an empty name is refused" },
		{ offsetof(struct console_mux, guest[1].line_len), CONSOLE_MUX_LINE_MAX + 1,
		  "a line longer than its buffer is refused" },
		{ offsetof(struct console_mux, guest[2].in_head), CONSOLE_MUX_IN_MAX,
		  "an input head out of range is refused" },
		{ offsetof(struct console_mux, guest[2].in_count), CONSOLE_MUX_IN_MAX + 1,
		  "an input count too large is refused" },
		{ offsetof(struct console_mux, guest[0].name), 0x5d, "a name with ']' is refused" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(&copy, &mux, sizeof(copy));
		memcpy((uint8_t *)&copy + bad[i].off, &bad[i].value, sizeof(uint32_t));
		OK(!console_mux_state_valid(&copy), bad[i].what);
	}
	console_mux_init(&copy);
	copy.notice_due = 1;
	OK(!console_mux_state_valid(&copy), "a notice due with no guest to name is refused");
}

int main(void)
{
	test_names();
	test_focus();
	test_ctrl_a_restored();
	test_input_queue();
	test_lines();
	test_flush();
	test_long_line();
	test_filter();
	test_backpressure();
	test_persistence();
	return tap_finish();
}
