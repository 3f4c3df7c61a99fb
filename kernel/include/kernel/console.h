/**
 * The console: kernel lines (kprintf, print.h) and partition output
 * (HC_CONSOLE_WRITE) go, in the order they are printed, into one bounded
 * buffer that is drained to the UART without waiting: only while the UART's
 * transmitter has room (plat_console_try_putc), outside the kernel lock, at
 * each non-hypercall trap exit (console_drain) and when a CPU is idle. So no CPU holding
 * the kernel lock ever waits for the UART, and one partition's output can
 * delay others' kernel lines by at most the lines of one console write
 * copied into the buffer or one CONSOLE_DRAIN_CHUNK of non-blocking UART
 * writes (its console calls take no kernel lock, below).
 *
 * The console hypercalls (HC_CONSOLE_WRITE, _PUT, _READ) take only the
 * console lock, never the kernel lock (trap.c trap_console): a partition
 * writing the console in a loop cannot keep other CPUs out of the kernel.
 * So a partition's line, budget and drop count are all under the console
 * lock, and so is each call's capability check (see console_caps_lock).
 *
 * Partition output is line-buffered per partition and printed as
 * "[<partition>] <line>" followed by CR LF, so lines from different
 * partitions and CPUs never interleave and a partition's bytes never start
 * a console line. Control characters (CR, ESC and so ANSI escapes, C1
 * controls, DEL, bytes >= 0x80) are shown as '?'; tab is kept and CR is
 * dropped; an over-long line is broken at CONSOLE_LINE_MAX.
 *
 * Budget: each partition may print its share of CONSOLE_WINDOW_BYTES per
 * CONSOLE_WINDOW_NS, counting every byte that reaches the UART (prefix,
 * line, CR LF). The partitions' total stays below what the UART carries at
 * 115200 baud, leaving the rest for kernel lines. A line over the budget,
 * or one that does not fit in the partitions' part of the buffer, is dropped
 * whole and its bytes counted; the count is reported in one kernel line when
 * a later window opens, at most once per CONSOLE_REPORT_NS.
 *
 * Kernel lines are never dropped: they may also use CONSOLE_KERNEL_RESERVE,
 * which partition lines cannot fill; should even that be full, the kernel
 * line waits for the UART (kernel output only, which no partition can drive
 * at that rate). Before boot completes, at system off and at a panic the
 * buffer is written out synchronously.
 */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <kernel/cap.h>
#include <kernel/partition.h>

/** What the UART carries: 115200 baud, 8N1 is 10 bit times a byte. */
#define CONSOLE_UART_BYTES_PER_S 11520u
/** All partitions together, per second: below the UART's rate (the rest is the kernel's). */
#define CONSOLE_PARTITION_BYTES_PER_S 10240u
/*
 * One-second windows: a partition's burst (its TAP lines at start-up, say) may
 * use its whole second's share at once; the buffer holds all shares.
 */
#define CONSOLE_WINDOW_NS 1000000000u
/** What all partitions together may print per window; each gets 1/partition_count. */
#define CONSOLE_WINDOW_BYTES (CONSOLE_PARTITION_BYTES_PER_S)
#define CONSOLE_REPORT_NS 1000000000u /* at most one "dropped" line a second */
/** The buffer between printers and the UART; a power of two. */
#define CONSOLE_BUFFER_BYTES 16384u
/** The part of the buffer only kernel lines may use. */
#define CONSOLE_KERNEL_RESERVE 2048u
/**
 * At most this many bytes are written to the UART per lock hold when draining. Each trap
 * exit drains one chunk with interrupts masked, so it bounds what a draining CPU adds to its
 * interrupt latency: 64 gave the shared-CPU real-time partition a worst of 3,712 to 5,120
 * instructions in four runs, 16 gave 3,264 to 3,792 (docs/guests.md).
 */
#define CONSOLE_DRAIN_CHUNK 16u
/** The longest line a partition prints: "[" name "] " line CR LF. */
#define CONSOLE_PRINTED_LINE_MAX (1u + (CFG_NAME_MAX - 1u) + 2u + CONSOLE_LINE_MAX + 2u)

_Static_assert(CONSOLE_PARTITION_BYTES_PER_S < CONSOLE_UART_BYTES_PER_S,
               "partitions must not be able to print faster than the UART carries");
_Static_assert(CONSOLE_WINDOW_BYTES / CFG_PARTITION_MAX >= CONSOLE_PRINTED_LINE_MAX,
               "every partition's budget must hold at least one full line");
_Static_assert((CONSOLE_BUFFER_BYTES & (CONSOLE_BUFFER_BYTES - 1u)) == 0,
               "the console buffer size must be a power of two");
_Static_assert(CONSOLE_BUFFER_BYTES - CONSOLE_KERNEL_RESERVE >= CONSOLE_WINDOW_BYTES,
               "the partitions' part of the buffer must hold a whole window's budget");

/** Bytes in the console buffer not yet written to the UART (written under the console lock). */
extern u32 console_backlog;

void console_partition_write(struct partition *p, const char *bytes, u32 count);
/** Print the partition's buffered line now (also when it stops mid-line). */
void console_partition_flush(struct partition *p);
/**
 * The partition stops: print its buffered line and report any dropped
 * bytes not yet reported (once per stop, so no flood).
 */
void console_partition_stop(struct partition *p);
/** One partition's budget per CONSOLE_WINDOW_NS, in bytes printed. */
u32 console_partition_budget(void);

/** Write up to CONSOLE_DRAIN_CHUNK buffered bytes while the UART has room; never waits. */
void console_drain_chunk(void);

/**
 * Called after the kernel lock is released on every non-hypercall trap exit
 * (the 1 ms slice timer brings every busy CPU there): drains some buffered
 * output if there is any. The hypercall fast path does not call it.
 */
static inline void console_drain(void)
{
	if (__builtin_expect(__atomic_load_n(&console_backlog, __ATOMIC_RELAXED) != 0, 0))
		console_drain_chunk();
}

/**
 * An idle CPU: drain until the buffer is empty or the UART is full; never waits.
 * True if that woke the console holder (it waits for room): the CPU has it to run.
 */
bool console_drain_idle(void);

/**
 * The console holder: the partition with a CAP_CONSOLE capability (at most one,
 * docs/emulation.md "Console ownership"). Its bytes are not prefixed or
 * filtered: it is the console's policy (the vuart service's multiplexer). They
 * are counted by position, so that a chunk written again after the holder's
 * restart is not repeated: console_holder_put() skips the bytes before the
 * kernel's position and takes the rest whole or not at all. They reach the
 * buffer a whole line at a time (a line of more than CONSOLE_HOLDER_LINE_MAX
 * is broken), so no kernel or partition line lands inside one, unless the
 * holder asks to show its unfinished line (see below).
 */
#define CONSOLE_HOLDER_LINE_MAX 256u
/**
 * The holder's bytes may fill the buffer only this far, so that the partitions'
 * budgets still fit beside them (their lines are never dropped for its sake) and
 * kernel lines keep their reserve. Past it, console_holder_put() answers
 * STATUS_WOULD_BLOCK, and once the UART has taken the buffer down to
 * CONSOLE_HOLDER_WAKE the kernel signals the holder's notification: like a
 * UART's transmit interrupt, so a holder waiting for room is never forgotten.
 */
#define CONSOLE_HOLDER_ROOM (CONSOLE_BUFFER_BYTES - CONSOLE_KERNEL_RESERVE - CONSOLE_WINDOW_BYTES)
#define CONSOLE_HOLDER_WAKE (CONSOLE_HOLDER_ROOM / 2u)
_Static_assert(CONSOLE_HOLDER_ROOM >= 4u * CONSOLE_HOLDER_LINE_MAX,
               "the holder needs room for a few whole lines");
/** Keyboard bytes kept for the holder until it reads past them; a power of two. */
#define CONSOLE_INPUT_BYTES 256u

/**
 * With `show`, the holder's unfinished line goes on the console now (a prompt,
 * an echo); until it ends, a kernel or partition line first ends it and then
 * draws it again, so that the holder's next bytes still continue it.
 */
enum status console_holder_put(const struct cap_table *caps, u64 slot, u64 pos, const char *bytes,
                               u32 count, bool show, u64 *kernel_pos);
/**
 * Input from pos on (bytes before pos are dropped): up to cap bytes into buf,
 * *got of them, *from the position of the first one (past pos if input was
 * lost).
 */
enum status console_holder_read(const struct cap_table *caps, u64 slot, u64 pos, char *buf, u32 cap,
                                u64 *from, u32 *got);

/*
 * The console hypercalls run without the kernel lock (trap.c trap_console),
 * so console_holder_put and console_holder_read check the caller's console
 * capability (slot of caps, the right each needs; count at most
 * IPC_CONSOLE_PUT_MAX, else STATUS_INVALID_ARG) under the console lock; on a
 * bad capability they answer its status and change nothing. Whoever changes
 * a partition's capability table (hypercall.c's HC_CAP_DERIVE, _RESTRICT,
 * _DROP, under the kernel lock) holds the console lock too, through these
 * two: so such a check never sees a slot half written by a vCPU of the same
 * partition on another CPU, and the call takes effect wholly before or after
 * the change. (The manifest fills the tables at boot, before any call.)
 */
void console_caps_lock(void);
void console_caps_unlock(void);
/**
 * Take what the UART received into the input buffer (dropped if no partition
 * holds the console, or if the buffer is full) and signal the holder's
 * notification. Called from the idle path without the kernel lock.
 */
void console_input_poll(void);

/**
 * The notification the console capability's holder is signalled on when
 * input arrives (kernel lock held), or CFG_NONE when no partition holds it.
 */
u32 console_holder_notification(void);

/**
 * Whether the holder was refused room and not yet signalled that there is
 * some: the system must stay on, because the next drain wakes it.
 */
bool console_holder_waits_room(void);

/** Write every buffered byte, waiting for the UART (system off; no later drain will come). */
void console_flush_sync(void);

/**
 * A kernel panic: write the buffer and then s straight to the UART, without
 * the console lock (the panic may have struck while it was held).
 */
void console_panic_write(const char *s);

#endif /* KERNEL_CONSOLE_H */
