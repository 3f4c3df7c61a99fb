/**
 * Host tests of the dmop service's interrupt lines (services/dmop/lines.c): ISA IRQs, PCI INTx
 * through the (device + pin) % 4 swizzle to links A..D, a link routed to an ISA IRQ, and the
 * wired-OR of sources sharing a line.
 */
#include <string.h>

#include "lines.h"
#include "tap.h"

#define LINK(n) (1u << (16u + (n)))
#define INTX(dev, pin) ((dev) << 2 | (pin))

int main(void)
{
	struct dmop_lines l;
	memset(&l, 0, sizeof(l));
	EQ(dmop_lines_set(&l, DMOP_IRQ_ISA, 5, 1), 1u << 5, "ISA IRQ 5 high: line 5");
	EQ(dmop_lines_set(&l, DMOP_IRQ_ISA, 15, 1), 1u << 5 | 1u << 15, "and ISA IRQ 15");
	EQ(dmop_lines_set(&l, DMOP_IRQ_ISA, 5, 0), 1u << 15, "ISA IRQ 5 low again");
	EQ(dmop_lines_set(&l, DMOP_IRQ_ISA, 15, 0), 0, "all low");

	EQ(dmop_lines_set(&l, DMOP_IRQ_PCI_INTX, INTX(0, 0), 1), LINK(0), "00.0 INTA: link A");
	EQ(dmop_lines_set(&l, DMOP_IRQ_PCI_INTX, INTX(1, 0), 1), LINK(0) | LINK(1),
	   "01.0 INTA: link B (swizzle)");
	EQ(dmop_lines_set(&l, DMOP_IRQ_PCI_INTX, INTX(3, 1), 1), LINK(0) | LINK(1),
	   "03.0 INTB: link A, shared with 00.0");
	EQ(dmop_lines_set(&l, DMOP_IRQ_PCI_INTX, INTX(0, 0), 0), LINK(0) | LINK(1),
	   "00.0 lowers INTA: link A stays high while 03.0 drives it (wired-OR)");
	EQ(dmop_lines_set(&l, DMOP_IRQ_PCI_INTX, INTX(3, 1), 0), LINK(1), "then it falls");

	EQ(dmop_lines_set(&l, DMOP_IRQ_LINK_ROUTE, 1, 10), 1u << 10,
	   "link B routed to ISA IRQ 10: its source drives line 10 instead");
	EQ(dmop_lines_set(&l, DMOP_IRQ_ISA, 10, 1), 1u << 10, "ISA IRQ 10 itself high too");
	EQ(dmop_lines_set(&l, DMOP_IRQ_PCI_INTX, INTX(1, 0), 0), 1u << 10,
	   "01.0 lowers: line 10 stays high for the ISA source");
	EQ(dmop_lines_set(&l, DMOP_IRQ_ISA, 10, 0), 0, "both low: line 10 low");
	EQ(dmop_lines_set(&l, DMOP_IRQ_PCI_INTX, INTX(31, 3), 1), LINK(2),
	   "31.0 INTD: link (31 + 3) % 4 = C");
	EQ(dmop_lines_set(&l, DMOP_IRQ_LINK_ROUTE, 2, 0), LINK(2), "link C unrouted: its own line");
	EQ(dmop_lines_set(&l, DMOP_IRQ_LINK_ROUTE, 1, 0), LINK(2),
	   "unrouting link B changes nothing");
	EQ(dmop_lines_wanted(&l), LINK(2), "wanted() agrees");
	return tap_finish();
}
