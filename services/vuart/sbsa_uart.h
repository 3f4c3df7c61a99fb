/**
 * The SBSA generic UART (ARM DEN 0029, appendix B): the subset of the PL011 (ARM DDI 0183) that
 * an arm64 guest's sbsa-uart or pl011 driver uses, emulated for one guest behind a 4 KiB MMIO
 * frame. Plain C with no kernel or runtime dependency: the vuart service calls it for each
 * trapped access and moves bytes between it and the console.
 *
 *   guest MMIO -> sbsa_uart_access()      -> value, VUART_BAD_ACCESS, interrupt line
 *   console    -> sbsa_uart_put_input()   -> input ring  -> DR reads
 *   DR writes  -> output ring -> sbsa_uart_take_output() -> console
 *
 * Interrupts follow Xen's vpl011 (with the ring sizes as parameters): RTI while the input ring
 * is non-empty, RXI once it is within `trigger` bytes of full, TXI while the output ring has
 * at least `trigger` bytes free. An event (a byte in, a byte written, bytes drained) sets a
 * bit whose condition holds; a bit whose condition stops holding clears at once; ICR clears
 * bits until the next event. The line is raised only for a new RIS & IMSC bit and lowered when
 * RIS & IMSC becomes 0.
 *
 * The state is one struct per guest with no pointers, so that the service can keep it in
 * memory that survives its own restart and check it with sbsa_uart_state_valid() afterwards.
 */
#ifndef VUART_SBSA_UART_H
#define VUART_SBSA_UART_H

#include "vuart.h"

/** The guest-visible frame: 4 KiB, registers at 32-bit offsets. */
#define SBSA_UART_FRAME_SIZE 0x1000u

/** Register offsets (DDI 0183 table 3-1; those past ICR are RAZ/WI here except the IDs). */
enum sbsa_uart_reg {
	SBSA_UART_DR = 0x000,
	SBSA_UART_RSR = 0x004, /**< RSR on read, ECR on write; RAZ/WI */
	SBSA_UART_FR = 0x018,
	SBSA_UART_IMSC = 0x038,
	SBSA_UART_RIS = 0x03c,
	SBSA_UART_MIS = 0x040,
	SBSA_UART_ICR = 0x044,
	SBSA_UART_PERIPH_ID0 = 0xfe0, /**< PeriphID0-3 at 0xfe0-0xfec, CellID0-3 at 0xff0-0xffc */
	SBSA_UART_CELL_ID0 = 0xff0,
};

/** FR bits (DDI 0183 3.3.3). */
#define SBSA_UART_FR_BUSY (1u << 3)
#define SBSA_UART_FR_RXFE (1u << 4)
#define SBSA_UART_FR_TXFF (1u << 5)
#define SBSA_UART_FR_RXFF (1u << 6)
#define SBSA_UART_FR_TXFE (1u << 7)

/** Interrupt bits of IMSC, RIS, MIS and ICR (DDI 0183 3.3.10-3.3.13). */
#define SBSA_UART_INT_RX (1u << 4) /**< RXI: the input ring reached its trigger level */
#define SBSA_UART_INT_TX (1u << 5) /**< TXI: the output ring has room */
#define SBSA_UART_INT_RT (1u << 6) /**< RTI: input is waiting */
/** The IMSC bits a PL011 has (modem, error and FIFO interrupts); only RX/TX/RT ever fire. */
#define SBSA_UART_IMSC_MASK 0x7ffu
#define SBSA_UART_INT_MASK (SBSA_UART_INT_RX | SBSA_UART_INT_TX | SBSA_UART_INT_RT)

/** The largest ring the struct holds; a configuration picks sizes up to this. */
#define SBSA_UART_RING_MAX 4096u

/** "SBSA" in a little-endian word, and the layout version of struct sbsa_uart. */
#define SBSA_UART_MAGIC 0x41534253u
#define SBSA_UART_VERSION 1u

/**
 * Ring sizes and the trigger distance. sbsa_uart_config_default() gives Xen's: 1024 bytes
 * in, 2048 out, trigger 16 (RXI at 1008 bytes in, TXI while at most 2032 bytes are out).
 */
struct sbsa_uart_config {
	uint32_t in_size;  /**< 2 .. SBSA_UART_RING_MAX */
	uint32_t out_size; /**< 2 .. SBSA_UART_RING_MAX */
	uint32_t trigger;  /**< 1 .. min(in_size, out_size) - 1 */
};

/**
 * One guest's UART. Fields are private to sbsa_uart.c (tests read them). Every field is a
 * fixed-size integer or array and the struct holds no pointer, so a copy anywhere in memory
 * is the same UART.
 *
 *   in[]:  [in_head .. in_head + in_count) mod in_size   bytes for the guest's DR reads
 *   out[]: [out_head .. out_head + out_count) mod out_size  bytes the guest wrote
 */
struct sbsa_uart {
	uint32_t magic;   /**< SBSA_UART_MAGIC */
	uint32_t version; /**< SBSA_UART_VERSION */
	uint32_t size;    /**< sizeof(struct sbsa_uart) */
	uint32_t in_size, out_size, trigger;
	uint32_t in_head, in_count;
	uint32_t out_head, out_count;
	uint32_t imsc; /**< IMSC as written (bits 10:0) */
	uint32_t ris;  /**< raw interrupt status: RXI, TXI, RTI only */
	uint32_t line; /**< 1 if the caller was last told to raise the line, 0 if lowered */
	uint8_t in[SBSA_UART_RING_MAX];
	uint8_t out[SBSA_UART_RING_MAX];
};

struct sbsa_uart_config sbsa_uart_config_default(void);
bool sbsa_uart_init(struct sbsa_uart *u, const struct sbsa_uart_config *cfg);
bool sbsa_uart_state_valid(const struct sbsa_uart *u);

enum vuart_status sbsa_uart_access(struct sbsa_uart *u, uint64_t offset, uint32_t size, bool write,
                                   uint64_t value, struct vuart_reply *reply);
size_t sbsa_uart_put_input(struct sbsa_uart *u, const uint8_t *bytes, size_t count,
                           enum vuart_irq *irq);
size_t sbsa_uart_take_output(struct sbsa_uart *u, uint8_t *buf, size_t cap, enum vuart_irq *irq);

uint32_t sbsa_uart_fr(const struct sbsa_uart *u);
uint32_t sbsa_uart_mis(const struct sbsa_uart *u);
size_t sbsa_uart_input_room(const struct sbsa_uart *u);

#endif /* VUART_SBSA_UART_H */
