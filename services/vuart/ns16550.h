/**
 * A 16550A UART (National/TI PC16550D) for an x86 guest's port I/O: eight byte-wide ports,
 * typically at 0x3f8 (COM1); the caller passes the offset 0-7. Plain C with no kernel or
 * runtime dependency, the same interface style as the SBSA UART (sbsa_uart.h):
 *
 *   guest IN/OUT -> ns16550_access()      -> value, VUART_BAD_ACCESS, interrupt line
 *   console      -> ns16550_put_input()   -> receive FIFO  -> RBR reads
 *   THR writes   -> transmit FIFO -> ns16550_take_output() -> console
 *
 * The FIFOs are the chip's: 16 bytes each with FCR bit 0 set, one byte (RBR, THR) without.
 * The transmitter is whoever drains the transmit FIFO, so THRE and TEMT mean "drained".
 * Interrupts are identified in the datasheet's priority order (line status, received data or
 * character timeout, THR empty, modem status); the line the caller drives is the INTR pin
 * gated by MCR.OUT2, as PC serial ports wire it to the interrupt controller.
 *
 * The state is one struct per guest with no pointers, kept and checked like the SBSA UART's.
 */
#ifndef VUART_NS16550_H
#define VUART_NS16550_H

#include "vuart.h"

/** Port offsets (PC16550D table II); DLAB is LCR bit 7. */
enum ns16550_reg {
	NS16550_RBR = 0, /**< read, DLAB 0: receive buffer; write: THR; DLAB 1: DLL */
	NS16550_IER = 1, /**< DLAB 0: interrupt enable; DLAB 1: DLM */
	NS16550_IIR = 2, /**< read: interrupt identification; write: FCR */
	NS16550_LCR = 3,
	NS16550_MCR = 4,
	NS16550_LSR = 5,
	NS16550_MSR = 6,
	NS16550_SCR = 7,
	NS16550_PORT_COUNT = 8,
};
#define NS16550_THR NS16550_RBR
#define NS16550_DLL NS16550_RBR
#define NS16550_DLM NS16550_IER
#define NS16550_FCR NS16550_IIR

/** IER bits. */
#define NS16550_IER_RDI 0x01u  /**< received data available (and character timeout) */
#define NS16550_IER_THRI 0x02u /**< transmitter holding register empty */
#define NS16550_IER_RLSI 0x04u /**< receiver line status */
#define NS16550_IER_MSI 0x08u  /**< modem status */

/** IIR values: bit 0 set means nothing pending; bits 7:6 are set while the FIFOs are on. */
#define NS16550_IIR_NONE 0x01u
#define NS16550_IIR_MSI 0x00u
#define NS16550_IIR_THRI 0x02u
#define NS16550_IIR_RDI 0x04u
#define NS16550_IIR_RLSI 0x06u
#define NS16550_IIR_TIMEOUT 0x0cu
#define NS16550_IIR_FIFO 0xc0u

/** FCR bits. */
#define NS16550_FCR_ENABLE 0x01u
#define NS16550_FCR_CLEAR_RX 0x02u
#define NS16550_FCR_CLEAR_TX 0x04u
#define NS16550_FCR_DMA 0x08u
#define NS16550_FCR_TRIGGER 0xc0u /**< 1, 4, 8 or 14 bytes */

/** LCR and MCR bits. */
#define NS16550_LCR_DLAB 0x80u
#define NS16550_MCR_DTR 0x01u
#define NS16550_MCR_RTS 0x02u
#define NS16550_MCR_OUT1 0x04u
#define NS16550_MCR_OUT2 0x08u
#define NS16550_MCR_LOOP 0x10u

/** LSR bits. Parity, framing and break (bits 2-4, 7) never occur on a virtual line. */
#define NS16550_LSR_DR 0x01u
#define NS16550_LSR_OE 0x02u
#define NS16550_LSR_THRE 0x20u
#define NS16550_LSR_TEMT 0x40u

/** MSR bits: deltas in 3:0 (cleared by reading MSR), the modem inputs in 7:4. */
#define NS16550_MSR_DCTS 0x01u
#define NS16550_MSR_DDSR 0x02u
#define NS16550_MSR_TERI 0x04u
#define NS16550_MSR_DDCD 0x08u
#define NS16550_MSR_CTS 0x10u
#define NS16550_MSR_DSR 0x20u
#define NS16550_MSR_RI 0x40u
#define NS16550_MSR_DCD 0x80u

#define NS16550_FIFO_SIZE 16u

/** "N550" in a little-endian word, and the layout version of struct ns16550. */
#define NS16550_MAGIC 0x3035354eu
#define NS16550_VERSION 1u

/**
 * One guest's UART. Fields are private to ns16550.c (tests read them); no pointers.
 *
 *   rx[]: [rx_head .. rx_head + rx_count) mod 16   received bytes for RBR reads
 *   tx[]: [tx_head .. tx_head + tx_count) mod 16   bytes the guest wrote to THR
 */
struct ns16550 {
	uint32_t magic;   /**< NS16550_MAGIC */
	uint32_t version; /**< NS16550_VERSION */
	uint32_t size;    /**< sizeof(struct ns16550) */
	uint8_t ier, lcr, mcr, scr;
	uint8_t dll, dlm;
	uint8_t fcr;        /**< enable, DMA mode and trigger bits as last programmed */
	uint8_t lsr_oe;     /**< NS16550_LSR_OE once a byte was lost, until LSR is read */
	uint8_t msr_delta;  /**< MSR bits 3:0 */
	uint8_t msr_inputs; /**< MSR bits 7:4 as last computed, to find the changes */
	uint8_t thre;       /**< the THR-empty interrupt is latched (datasheet table IV) */
	uint8_t line;       /**< 1 if the caller was last told to raise the line */
	uint8_t rx_head, rx_count, tx_head, tx_count;
	uint8_t rx[NS16550_FIFO_SIZE];
	uint8_t tx[NS16550_FIFO_SIZE];
};

void ns16550_init(struct ns16550 *u);
bool ns16550_state_valid(const struct ns16550 *u);

enum vuart_status ns16550_access(struct ns16550 *u, uint32_t offset, uint32_t size, bool write,
                                 uint32_t value, struct vuart_reply *reply);
size_t ns16550_put_input(struct ns16550 *u, const uint8_t *bytes, size_t count,
                         enum vuart_irq *irq);
size_t ns16550_take_output(struct ns16550 *u, uint8_t *buf, size_t cap, enum vuart_irq *irq);

size_t ns16550_input_room(const struct ns16550 *u);
uint8_t ns16550_iir(const struct ns16550 *u);
uint8_t ns16550_lsr(const struct ns16550 *u);
bool ns16550_irq_level(const struct ns16550 *u);

#endif /* VUART_NS16550_H */
