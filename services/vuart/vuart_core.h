/**
 * The vuart service's core: plain C between the kernel's messages and the models, with no
 * hypercall in it, so that the host tests it (tests/unit/test_vuart_core.c). The partition glue
 * (main.c) receives, calls in here, then acts on what it is told (reply, interrupt, console).
 *
 *   kernel message (IPC_LABEL_MMIO) -> vuart_decode -> struct vuart_request
 *   request -> vuart_access(state) -> struct vuart_answer (reply, interrupt line)
 *   keyboard bytes -> vuart_input(state)           console bytes <- vuart_console_chunk()
 *
 * All state lives in one struct vuart_state with no pointers, kept in a region the kernel does
 * not clear when it restarts the service (`preserve;`, docs/manifest.md). Every change is a
 * transaction over shadow copies, committed by one store:
 *
 *   sel (bit g: guest g's live copy is [1]; bit VUART_SEL_CONSOLE: the console's)
 *   guest[g][0], guest[g][1]    one guest: its UART, the last access of each vCPU
 *   console[0], console[1]      the multiplexer, keyboard and console positions
 *
 * A transaction copies the live copy of each object it changes to the other slot, changes the
 * copies and then flips their bits in `sel` with one store. A crash at any instruction before
 * that store leaves the old state whole; after it, the new one. Because the record of a
 * vCPU's last access (its serial number and answer) is in the same copy as the UART the access
 * changed, a replayed access (the kernel requeues it when the service dies holding it) is found
 * applied exactly when its effects are visible, and is then answered from the record.
 *
 * Console output and keyboard input cross into the kernel by position (HC_CONSOLE_PUT,
 * HC_CONSOLE_READ): a chunk written again at the same position, or input read again from the
 * same position, is not repeated, so neither needs to be atomic with the state.
 */
#ifndef VUART_CORE_H
#define VUART_CORE_H

#include <ipc/abi.h>

#include "console_mux.h"
#include "vuart_dev.h"

/** Guests (emulated UARTs) one service serves, and vCPUs per guest whose accesses it tracks. */
#define VUART_GUEST_MAX 8u
#define VUART_VCPU_MAX 8u
/** The most bytes one console write carries (HC_CONSOLE_PUT: five registers). */
#define VUART_CHUNK_MAX 40u
#define VUART_SEL_CONSOLE (1u << 31)

/** "VUAR" in a little-endian word, and the layout version of struct vuart_state. */
#define VUART_STATE_MAGIC 0x52415556u
#define VUART_STATE_VERSION 5u

/**
 * The badge the manifest gives the service's guest capability over each guest, which the
 * kernel puts on that guest's messages: which capability slot raises its interrupt, which
 * interrupt (its SPI's INTID), which model (0: the SBSA UART, 1: a 16550A) and up to four
 * name characters for the console prefix (the first in bits 63:56; none: "vm<slot>").
 *
 *   63       32 31    19 18  17       8 7     0
 *   | name    |    0    |mod| INTID   | slot  |
 */
#define VUART_BADGE_SLOT(b) ((uint32_t)((b)&0xffu))
#define VUART_BADGE_INTID(b) ((uint32_t)(((b) >> 8) & 0x3ffu))
#define VUART_BADGE_MODEL(b) ((uint32_t)(((b) >> 18) & 1u))
#define VUART_BADGE_NAME(b) ((uint32_t)((b) >> 32))

/** One trapped access, decoded from the kernel's message (ipc/abi.h IPC_LABEL_MMIO). */
struct vuart_request {
	uint64_t badge;
	uint64_t offset; /**< in the emulated range */
	uint64_t value;  /**< a store's value */
	uint32_t size;   /**< 1, 2, 4 or 8 */
	uint32_t vcpu;   /**< the guest's vCPU index */
	uint32_t serial; /**< the vCPU's access number; the same on a replay */
	bool write;
	bool port; /**< an x86 port access (IPC_MMIO_PORT): offset is from the range's first port */
};

/** What to answer and what to do with the guest's interrupt line. */
struct vuart_answer {
	bool done;      /**< reply IPC_MMIO_DONE with value; false: IPC_MMIO_ABORT */
	uint32_t value; /**< a load's value */
	uint32_t guest; /**< the guest's index (valid when irq != VUART_IRQ_KEEP) */
	enum vuart_irq irq;
	bool replay;  /**< answered from the record: the access had been applied */
	bool changed; /**< the state changed (there may be console output to write) */
};

/** A vCPU's last access applied: a replay with the same serial gets the same answer. */
struct vuart_record {
	uint32_t valid; /**< 1 once an access was recorded */
	uint32_t serial;
	uint32_t done; /**< 1: IPC_MMIO_DONE, 0: abort */
	uint32_t value;
};

struct vuart_guest {
	uint64_t badge; /**< its guest capability's badge (VUART_BADGE_*) */
	uint32_t mux;   /**< its index in the multiplexer */
	uint32_t pad;
	struct vuart_record last[VUART_VCPU_MAX];
	/**
	 * vuart_dev_pure of dev, kept with it: set in a copy before its commit makes it live
	 * (vuart_tx_commit) and at start, so the polling loop answers FR or LSR from it.
	 */
	struct vuart_pure pure;
	struct vuart_dev dev; /**< its UART, the model its badge names */
};

struct vuart_console {
	struct console_mux mux;
	uint64_t out_pos; /**< console position of out[0]: bytes of the console written before */
	uint64_t in_pos;  /**< keyboard bytes taken from the kernel so far */
	uint32_t out_len; /**< bytes in out[], taken from the mux and not yet known written */
	uint8_t out[VUART_CHUNK_MAX];
};

struct vuart_state {
	uint32_t magic;   /**< VUART_STATE_MAGIC */
	uint32_t version; /**< VUART_STATE_VERSION */
	uint32_t size;    /**< sizeof(struct vuart_state) */
	uint32_t guest_count;
	uint32_t generation; /**< starts of the service on this state (1 after a fresh one) */
	uint32_t sel;        /**< which copy of each object is live; see above */
	uint64_t badge[VUART_GUEST_MAX]; /**< the guests it was made for (written when fresh) */
	uint64_t test_word[4]; /**< for a test variant's own counters (not transactional) */
	struct vuart_guest guest[VUART_GUEST_MAX][2];
	struct vuart_console console[2];
};

/** An open transaction: the objects already copied to their shadow slots. */
struct vuart_tx {
	struct vuart_state *st;
	uint32_t flip;
};

/**
 * Called where a crash would be worst (an access applied, not committed; a chunk taken, not
 * committed). The glue defines it: nothing, or a fault in the kill test's variant; the host
 * test jumps out of the transaction to play a crash.
 */
void vuart_crash_point(void);

bool vuart_decode(uint64_t label, const uint64_t w[IPC_MSG_WORDS], uint64_t badge,
                  struct vuart_request *rq);

/** vuart_start's answer when nothing could be kept (a first start, another layout or guests). */
#define VUART_START_FRESH 0xffffffffu

/**
 * Starts the service on st: keeps what it finds if the header is valid for exactly these
 * guests (their badges in this order), resetting only a guest or the console whose check
 * fails; else makes it fresh. Counts the start in st->generation. Returns what was reset:
 * bit g for guest g, VUART_SEL_CONSOLE for the console (its positions must then be synced),
 * VUART_START_FRESH for everything; 0 if everything was kept.
 */
uint32_t vuart_start(struct vuart_state *st, const uint64_t *badges, uint32_t count);
bool vuart_state_valid(const struct vuart_state *st);

const struct vuart_guest *vuart_guest(const struct vuart_state *st, uint32_t g);
const struct vuart_console *vuart_console(const struct vuart_state *st);
uint32_t vuart_guest_find(const struct vuart_state *st, uint64_t badge);

void vuart_tx_begin(struct vuart_tx *tx, struct vuart_state *st);
struct vuart_guest *vuart_tx_guest(struct vuart_tx *tx, uint32_t g);
struct vuart_console *vuart_tx_console(struct vuart_tx *tx);
void vuart_tx_commit(struct vuart_tx *tx);

/**
 * The polling loop's hot read, answered straight from the kernel message's words w (label
 * IPC_LABEL_MMIO) and badge: a load that vuart_dev_pure_read answers (the SBSA UART's FR, a
 * 16550's LSR while OE is clear) by a known guest, not a replay of its vCPU's recorded access.
 * Then *value is what vuart_access would answer, nothing changes and true is returned; for
 * anything else false, and the caller takes vuart_decode and vuart_access. *hint is the index
 * of the guest found last (any value: it is checked), kept by the caller between calls.
 */
bool vuart_pure_access(const struct vuart_state *st, const uint64_t w[IPC_MSG_WORDS],
                       uint64_t badge, uint32_t *hint, uint32_t *value);

/**
 * vuart_pure_access in its two halves, for a loop that answers many: the live copy of the
 * guest whose badge is badge (*hint as above), or NULL; it stays the live copy until the next
 * vuart_tx_commit, so the loop keeps it while it only answers pure reads. Then the answer to
 * the message of that guest whose words 1, 3 and 4 are kind, who and offset.
 */
const struct vuart_guest *vuart_pure_guest(const struct vuart_state *st, uint64_t badge,
                                           uint32_t *hint);
bool vuart_pure_read(const struct vuart_guest *cur, uint64_t kind, uint64_t who, uint64_t offset,
                     uint32_t *value);

/** Handles one access (a transaction of its own when it changes anything). */
void vuart_access(struct vuart_state *st, const struct vuart_request *rq, struct vuart_answer *ans);

/**
 * Keyboard bytes read from the kernel at position pos (HC_CONSOLE_READ): those past in_pos go
 * to the focused guest. Returns the new in_pos (what to read from next); irq/guest say what to
 * do with the focused guest's line.
 */
uint64_t vuart_input(struct vuart_state *st, uint64_t pos, const uint8_t *bytes, size_t count,
                     struct vuart_answer *ans);

/**
 * The next console chunk: out[]/out_len of the live console, taken from the multiplexer
 * first if it was empty, after moving the guests' waiting output into the multiplexer (irq[g]
 * says what to do with guest g's line). Returns out_len (0: nothing to write).
 */
uint32_t vuart_console_chunk(struct vuart_state *st, enum vuart_irq irq[VUART_GUEST_MAX]);
/**
 * A fresh state (after a first start, or one that failed its check) starts counting console
 * bytes where the kernel is: out_pos and in_pos from HC_CONSOLE_PUT and HC_CONSOLE_READ.
 */
void vuart_console_sync(struct vuart_state *st, uint64_t out_pos, uint64_t in_pos);
/** The kernel took the chunk (its position is now `pos`): drop it. */
void vuart_console_written(struct vuart_state *st, uint64_t pos);

#endif /* VUART_CORE_H */
