/**
 * The console multiplexer of the vuart service: several guests share one physical console.
 *
 *   keyboard bytes -> console_mux_input() -> Ctrl-A x3 recogniser -> the focused guest's
 *                     input queue -> console_mux_input_peek()/_consume() -> its UART
 *   a guest's UART output -> console_mux_output() -> its line buffer -> whole lines,
 *                     "[name] " in front -> the console ring -> console_mux_take()
 *
 * Input: Ctrl-A (0x01) three times in a row moves the input focus to the next guest (as on
 * Xen's console) and is not delivered; fewer Ctrl-As followed by any other byte are delivered
 * before that byte. A notice line "[vuart] input goes to <name> (Ctrl-A x3 to switch)" says
 * where input goes now.
 *
 * Output: each guest's bytes are assembled into lines, and a line reaches the console whole,
 * with the guest's name in front, so that guests' lines interleave readably. A line longer
 * than the buffer is broken. console_mux_flush() shows a partial line (a prompt, an echo);
 * the guest's next bytes continue it unless another guest's line came in between, which first
 * ends it. Guest bytes are filtered so that no guest can draw over another's text: '\r' is
 * dropped; a backspace is kept only while it erases the guest's own text on the current
 * console line; other control characters, DEL and UTF-8-encoded C1 controls show as '?'.
 * The console is assumed to take UTF-8.
 *
 * Plain C: bounded buffers, no allocation, no pointers in the state (kept and checked like
 * the UART models'). Nothing a guest sends is ever lost: a call takes what fits and says how
 * much that was.
 */
#ifndef VUART_CONSOLE_MUX_H
#define VUART_CONSOLE_MUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_MUX_GUEST_MAX 16u
#define CONSOLE_MUX_NAME_MAX 16u  /**< characters in a guest's name */
#define CONSOLE_MUX_LINE_MAX 160u /**< a guest's line buffer; a longer line is broken */
#define CONSOLE_MUX_IN_MAX 64u    /**< a guest's queue of keyboard bytes */
#define CONSOLE_MUX_OUT_MAX 4096u /**< the console ring */
#define CONSOLE_MUX_CTRL_A 0x01u
#define CONSOLE_MUX_SWITCH_COUNT 3u /**< Ctrl-As in a row that switch the focus */

/** "CMUX" in a little-endian word, and the layout version of struct console_mux. */
#define CONSOLE_MUX_MAGIC 0x58554d43u
#define CONSOLE_MUX_VERSION 1u

/** One guest's side of the console. */
struct console_mux_guest {
	uint8_t name[CONSOLE_MUX_NAME_MAX];
	uint32_t name_len;
	uint32_t line_len; /**< bytes in line[] not yet on the console */
	/**
	 * Characters of this guest's text on the current console line (shown and buffered):
	 * how far its backspaces may go without reaching the "[name] " prefix.
	 */
	uint32_t cols;
	uint32_t last; /**< the previous byte kept (to spot UTF-8 C1 controls) */
	uint32_t in_head, in_count;
	uint8_t line[CONSOLE_MUX_LINE_MAX];
	uint8_t in[CONSOLE_MUX_IN_MAX];
};

/**
 * The multiplexer. `open` names the guest (index + 1) whose partial line the console shows
 * with its cursor after it, 0 if the console is at the start of a line.
 *
 *   out[]: [out_head .. out_head + out_count) mod CONSOLE_MUX_OUT_MAX   bytes for the console
 */
struct console_mux {
	uint32_t magic;   /**< CONSOLE_MUX_MAGIC */
	uint32_t version; /**< CONSOLE_MUX_VERSION */
	uint32_t size;    /**< sizeof(struct console_mux) */
	uint32_t guest_count;
	uint32_t focus;      /**< the guest that gets keyboard input */
	uint32_t ctrl_a;     /**< Ctrl-As held back, 0 .. CONSOLE_MUX_SWITCH_COUNT - 1 */
	uint32_t open;       /**< see above */
	uint32_t notice_due; /**< 1 while the focus notice waits for room in the ring */
	uint32_t out_head, out_count;
	uint8_t out[CONSOLE_MUX_OUT_MAX];
	struct console_mux_guest guest[CONSOLE_MUX_GUEST_MAX];
};

void console_mux_init(struct console_mux *m);
bool console_mux_add(struct console_mux *m, const char *name, uint32_t *index);
bool console_mux_state_valid(const struct console_mux *m);

size_t console_mux_input(struct console_mux *m, const uint8_t *bytes, size_t count);
uint32_t console_mux_focus(const struct console_mux *m);
size_t console_mux_input_peek(const struct console_mux *m, uint32_t guest, uint8_t *buf,
                              size_t cap);
void console_mux_input_consume(struct console_mux *m, uint32_t guest, size_t count);

size_t console_mux_output(struct console_mux *m, uint32_t guest, const uint8_t *bytes,
                          size_t count);
size_t console_mux_output_room(const struct console_mux *m, uint32_t guest);
bool console_mux_flush(struct console_mux *m, uint32_t guest);
size_t console_mux_take(struct console_mux *m, uint8_t *buf, size_t cap);

#endif /* VUART_CONSOLE_MUX_H */
