/** Interrupt lines as wires (lines.h). */
#include "lines.h"

uint32_t dmop_lines_wanted(const struct dmop_lines *l)
{
	uint32_t want = l->isa;
	for (uint32_t bit = 0; bit < 128u; bit++) {
		if ((l->intx[bit / 32u] >> (bit % 32u) & 1u) == 0)
			continue;
		uint32_t link = (bit / 4u + bit % 4u) % 4u; /* (device + pin) % 4 */
		want |= l->route[link] != 0 ? 1u << l->route[link] : 1u << (16u + link);
	}
	return want;
}

uint32_t dmop_lines_set(struct dmop_lines *l, enum dmop_irq_kind kind, uint32_t line,
                        uint32_t level)
{
	switch (kind) {
	case DMOP_IRQ_ISA:
		if (line < 16u)
			l->isa = (uint16_t)(level != 0 ? l->isa | 1u << line :
			                                 l->isa & ~(1u << line));
		break;
	case DMOP_IRQ_PCI_INTX:
		if (line < 128u) {
			uint32_t bit = 1u << (line % 32u);
			l->intx[line / 32u] = level != 0 ? l->intx[line / 32u] | bit :
			                                   l->intx[line / 32u] & ~bit;
		}
		break;
	case DMOP_IRQ_LINK_ROUTE:
		if (line < 4u && level < 16u)
			l->route[line] = (uint8_t)level;
		break;
	}
	return dmop_lines_wanted(l);
}
