/**
 * One guest's UART, whichever model it is: the SBSA UART (arm64 MMIO) or the 16550A (x86 port
 * I/O). vuart_core.c calls these and never a model directly, so the service serves both kinds
 * with the same transactions, records and console. Plain C like the models.
 */
#ifndef VUART_DEV_H
#define VUART_DEV_H

#include "ns16550.h"
#include "sbsa_uart.h"

enum vuart_model {
	VUART_MODEL_SBSA = 0,  /**< SBSA generic UART, 4 KiB of MMIO */
	VUART_MODEL_16550 = 1, /**< 16550A, 8 byte-wide ports */
};

/** A guest's device: the model tag and its state (no pointers: kept across restarts). */
struct vuart_dev {
	uint32_t model; /**< enum vuart_model */
	uint32_t pad;
	union {
		struct sbsa_uart sbsa;
		struct ns16550 ns;
	} u;
};

void vuart_dev_init(struct vuart_dev *d, enum vuart_model model);
bool vuart_dev_valid(const struct vuart_dev *d);
enum vuart_status vuart_dev_access(struct vuart_dev *d, uint64_t offset, uint32_t size, bool write,
                                   uint64_t value, struct vuart_reply *reply);
size_t vuart_dev_put_input(struct vuart_dev *d, const uint8_t *bytes, size_t count,
                           enum vuart_irq *irq);
size_t vuart_dev_take_output(struct vuart_dev *d, uint8_t *buf, size_t cap, enum vuart_irq *irq);
size_t vuart_dev_input_room(const struct vuart_dev *d);
/** Bytes waiting to be read by the guest, and written by it but not yet taken. */
uint32_t vuart_dev_in_count(const struct vuart_dev *d);
uint32_t vuart_dev_out_count(const struct vuart_dev *d);
/** The level the service last gave the guest's line. */
bool vuart_dev_line(const struct vuart_dev *d);
/** What a register is to the service: data (moves bytes), interrupt enables, anything else. */
enum vuart_role {
	VUART_ROLE_OTHER,
	VUART_ROLE_DATA,   /**< SBSA DR; 16550 RBR/THR (offset 0) */
	VUART_ROLE_ENABLE, /**< SBSA IMSC; 16550 IER (offset 1) */
};
enum vuart_role vuart_dev_role(const struct vuart_dev *d, uint64_t offset);

/**
 * An access that only reads and changes nothing (the SBSA UART's FR, what a driver polls):
 * true with its value; false for any other, which needs vuart_dev_access.
 */
bool vuart_dev_pure_read(const struct vuart_dev *d, uint64_t offset, uint32_t size,
                         uint32_t *value);

/**
 * The one load of d that vuart_dev_pure_read answers, with its answer as d is now: offset,
 * size (0 while it is no pure read: a 16550 whose OE is set) and value.
 */
struct vuart_pure {
	uint32_t offset, size, value, pad;
};
void vuart_dev_pure(const struct vuart_dev *d, struct vuart_pure *p);

#endif /* VUART_DEV_H */
