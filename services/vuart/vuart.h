/**
 * What the UART models of the vuart service have in common: the status of a trapped access
 * and what the caller must do with the guest's interrupt line afterwards.
 *
 * The kernel delivers each trapped guest access to the service as a message (offset, size,
 * write?, value); the service hands it to a model and replies with the value of a read, or
 * with "abort" when the model says VUART_BAD_ACCESS (the kernel then faults that guest only).
 * Every model call also says whether the guest's interrupt line changes.
 */
#ifndef VUART_VUART_H
#define VUART_VUART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** The outcome of one trapped access. */
enum vuart_status {
	VUART_OK,         /**< done (read-as-zero and write-ignored registers included) */
	VUART_BAD_ACCESS, /**< a width, alignment or offset the device does not take: abort */
};

/** What the caller does with the guest's interrupt line after a model call. */
enum vuart_irq {
	VUART_IRQ_KEEP,  /**< leave it as it is */
	VUART_IRQ_RAISE, /**< raise it (it may already be high: the model wants a new edge) */
	VUART_IRQ_LOWER, /**< lower it */
};

/** The answer to one trapped access. */
struct vuart_reply {
	uint32_t value;     /**< the value of a read (0 for a write) */
	enum vuart_irq irq; /**< the interrupt line */
};

#endif /* VUART_VUART_H */
