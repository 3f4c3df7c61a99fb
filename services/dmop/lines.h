/**
 * The interrupt lines a device model drives through dmop (set_isa_irq_level,
 * set_pci_intx_level, set_pci_link_route), as wires: which of a guest's
 * DMOP_GUEST_LINES lines are high. Plain C, host-tested (tests/unit/test_dmop_lines.c);
 * the service turns each change into HC_GUEST_IRQ on the SPI the manifest gives the line.
 *
 *   line  0..15   ISA IRQ n
 *   line 16..19   PCI link A..D while it is routed to no ISA IRQ
 *
 * A PCI device's INTx pin reaches link (device + pin) % 4 (the usual swizzle, which a generic
 * host bridge's interrupt-map describes); a link routed to ISA IRQ n (1..15) drives line n
 * instead. Lines are wired-OR: a line is high while any source driving it is.
 */
#ifndef DMOP_LINES_H
#define DMOP_LINES_H

#include "dmop.h"

#include <stdint.h>

struct dmop_lines {
	uint16_t isa;     /**< ISA IRQs the model drives high */
	uint32_t intx[4]; /**< bit device * 4 + pin: INTx asserted (128 bits) */
	uint8_t route[4]; /**< link -> ISA IRQ (0: not routed) */
	uint32_t driven;  /**< the levels last given to the guest (bit per line) */
};

/** Apply one change (the arguments of dmop_env.irq_level, checked by the core); the levels wanted. */
uint32_t dmop_lines_set(struct dmop_lines *l, enum dmop_irq_kind kind, uint32_t line,
                        uint32_t level);

/** The levels the sources ask for now (bit per line). */
uint32_t dmop_lines_wanted(const struct dmop_lines *l);

#endif /* DMOP_LINES_H */
