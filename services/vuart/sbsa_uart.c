/**
 * The SBSA generic UART model (see sbsa_uart.h). Register behaviour: ARM DDI 0183 (PL011 TRM)
 * chapter 3 and ARM DEN 0029 appendix B; interrupt rules: Xen's vpl011 as summarised in the
 * project's feature notes, with FR's hardware reset value (TXFE|RXFE) instead of Xen's 0.
 */
#include <string.h>

#include "sbsa_uart.h"

/**
 * Identification registers of a PL011 r1p5 (DDI 0183 3.3.14-3.3.15): part 0x011, designer
 * 0x41 (ARM), revision 3; the PrimeCell ID 0xb105f00d. Linux's AMBA bus reads these when a
 * device tree names the UART "arm,pl011" / "arm,primecell".
 */
static const uint8_t periph_id[4] = { 0x11, 0x10, 0x34, 0x00 };
static const uint8_t cell_id[4] = { 0x0d, 0xf0, 0x05, 0xb1 };

struct sbsa_uart_config sbsa_uart_config_default(void)
{
	struct sbsa_uart_config cfg = { .in_size = 1024, .out_size = 2048, .trigger = 16 };
	return cfg;
}

static bool config_valid(uint32_t in_size, uint32_t out_size, uint32_t trigger)
{
	return in_size >= 2 && in_size <= SBSA_UART_RING_MAX && out_size >= 2 &&
	       out_size <= SBSA_UART_RING_MAX && trigger >= 1 && trigger < in_size &&
	       trigger < out_size;
}

/** The RIS bits whose conditions hold now; a RIS bit outside this set is cleared at once. */
static uint32_t conditions(const struct sbsa_uart *u)
{
	uint32_t c = 0;
	if (u->in_count > 0)
		c |= SBSA_UART_INT_RT;
	if (u->in_count >= u->in_size - u->trigger)
		c |= SBSA_UART_INT_RX;
	if (u->out_size - u->out_count >= u->trigger)
		c |= SBSA_UART_INT_TX;
	return c;
}

uint32_t sbsa_uart_mis(const struct sbsa_uart *u)
{
	return u->ris & u->imsc;
}

uint32_t sbsa_uart_fr(const struct sbsa_uart *u)
{
	uint32_t fr = 0;
	if (u->in_count == 0)
		fr |= SBSA_UART_FR_RXFE;
	if (u->in_count == u->in_size)
		fr |= SBSA_UART_FR_RXFF;
	if (u->out_count == 0)
		fr |= SBSA_UART_FR_TXFE;
	if (u->out_count == u->out_size)
		fr |= SBSA_UART_FR_TXFF;
	/*
	 * BUSY as the PL011 has it: set while anything waits to be sent, so a driver's "wait
	 * until sent" loop finishes once the service has drained the ring. (Xen sets it only
	 * with TXFF; either way a full ring reads TXFF|BUSY.)
	 */
	if (u->out_count != 0)
		fr |= SBSA_UART_FR_BUSY;
	return fr;
}

size_t sbsa_uart_input_room(const struct sbsa_uart *u)
{
	return u->in_size - u->in_count;
}

/**
 * Settles RIS after a change (events set bits, lapsed conditions clear them) and says what
 * the line does: raise for a new RIS & IMSC bit (Xen raises the SPI only then), lower when
 * RIS & IMSC becomes 0.
 */
static enum vuart_irq settle(struct sbsa_uart *u, uint32_t old_mis, uint32_t events)
{
	uint32_t cond = conditions(u);
	u->ris = (u->ris | (events & cond)) & cond;
	uint32_t mis = sbsa_uart_mis(u);
	if ((mis & ~old_mis) != 0) {
		u->line = 1;
		return VUART_IRQ_RAISE;
	}
	if (mis == 0 && u->line != 0) {
		u->line = 0;
		return VUART_IRQ_LOWER;
	}
	return VUART_IRQ_KEEP;
}

bool sbsa_uart_init(struct sbsa_uart *u, const struct sbsa_uart_config *cfg)
{
	if (!config_valid(cfg->in_size, cfg->out_size, cfg->trigger))
		return false;
	memset(u, 0, sizeof(*u));
	u->magic = SBSA_UART_MAGIC;
	u->version = SBSA_UART_VERSION;
	u->size = (uint32_t)sizeof(*u);
	u->in_size = cfg->in_size;
	u->out_size = cfg->out_size;
	u->trigger = cfg->trigger;
	/* RIS and IMSC reset to 0 (DDI 0183 3.3.10-3.3.11): no interrupt before the driver asks. */
	return true;
}

bool sbsa_uart_state_valid(const struct sbsa_uart *u)
{
	if (u->magic != SBSA_UART_MAGIC || u->version != SBSA_UART_VERSION || u->size != sizeof(*u))
		return false;
	if (!config_valid(u->in_size, u->out_size, u->trigger))
		return false;
	if (u->in_head >= u->in_size || u->in_count > u->in_size || u->out_head >= u->out_size ||
	    u->out_count > u->out_size)
		return false;
	if ((u->imsc & ~SBSA_UART_IMSC_MASK) != 0 || (u->ris & ~conditions(u)) != 0)
		return false;
	return u->line == (sbsa_uart_mis(u) != 0 ? 1u : 0u);
}

/** Which registers take which widths: DR 8, 16 or 32 bits at offset 0, the rest 32 bits. */
static bool access_valid(uint64_t offset, uint32_t size)
{
	if (offset >= SBSA_UART_FRAME_SIZE)
		return false;
	if (offset == SBSA_UART_DR)
		return size == 1 || size == 2 || size == 4;
	return size == 4 && offset % 4 == 0;
}

static uint32_t read_dr(struct sbsa_uart *u)
{
	if (u->in_count == 0)
		return 0; /* Xen's answer for an empty ring; the driver checks RXFE first */
	uint32_t byte = u->in[u->in_head];
	u->in_head = (u->in_head + 1) % u->in_size;
	u->in_count--;
	return byte; /* bits 11:8 (the error flags) are always 0 */
}

static void write_dr(struct sbsa_uart *u, uint32_t value)
{
	if (u->out_count == u->out_size)
		return; /* dropped, as a PL011 drops a write to a full FIFO */
	u->out[(u->out_head + u->out_count) % u->out_size] = (uint8_t)value;
	u->out_count++;
}

static uint32_t read_reg(struct sbsa_uart *u, uint64_t offset)
{
	switch (offset) {
	case SBSA_UART_DR:
		return read_dr(u);
	case SBSA_UART_FR:
		return sbsa_uart_fr(u);
	case SBSA_UART_IMSC:
		return u->imsc;
	case SBSA_UART_RIS:
		return u->ris;
	case SBSA_UART_MIS:
		return sbsa_uart_mis(u);
	default:
		break;
	}
	if (offset >= SBSA_UART_PERIPH_ID0 && offset < SBSA_UART_CELL_ID0)
		return periph_id[(offset - SBSA_UART_PERIPH_ID0) / 4];
	if (offset >= SBSA_UART_CELL_ID0)
		return cell_id[(offset - SBSA_UART_CELL_ID0) / 4];
	return 0; /* RSR, ICR (write-only) and every other offset read as zero */
}

/** Returns the events the write causes (the RIS bits it may set). */
static uint32_t write_reg(struct sbsa_uart *u, uint64_t offset, uint32_t value)
{
	switch (offset) {
	case SBSA_UART_DR:
		write_dr(u, value);
		return SBSA_UART_INT_TX;
	case SBSA_UART_IMSC:
		u->imsc = value & SBSA_UART_IMSC_MASK;
		return 0;
	case SBSA_UART_ICR:
		u->ris &= ~value;
		return 0;
	default:
		return 0; /* FR, RIS, MIS and the IDs are read-only; RSR/ECR and the rest WI */
	}
}

enum vuart_status sbsa_uart_access(struct sbsa_uart *u, uint64_t offset, uint32_t size, bool write,
                                   uint64_t value, struct vuart_reply *reply)
{
	reply->value = 0;
	reply->irq = VUART_IRQ_KEEP;
	if (!access_valid(offset, size))
		return VUART_BAD_ACCESS;
	uint32_t old_mis = sbsa_uart_mis(u);
	uint32_t events = 0;
	if (write) {
		events = write_reg(u, offset, (uint32_t)value);
	} else {
		uint32_t v = read_reg(u, offset);
		reply->value = size == 4 ? v : v & ((1u << (size * 8)) - 1u);
	}
	reply->irq = settle(u, old_mis, events);
	return VUART_OK;
}

size_t sbsa_uart_put_input(struct sbsa_uart *u, const uint8_t *bytes, size_t count,
                           enum vuart_irq *irq)
{
	uint32_t old_mis = sbsa_uart_mis(u);
	size_t n = 0;
	while (n < count && u->in_count < u->in_size) {
		u->in[(u->in_head + u->in_count) % u->in_size] = bytes[n++];
		u->in_count++;
	}
	*irq = settle(u, old_mis, n > 0 ? SBSA_UART_INT_RX | SBSA_UART_INT_RT : 0);
	return n;
}

size_t sbsa_uart_take_output(struct sbsa_uart *u, uint8_t *buf, size_t cap, enum vuart_irq *irq)
{
	uint32_t old_mis = sbsa_uart_mis(u);
	size_t n = 0;
	while (n < cap && u->out_count > 0) {
		buf[n++] = u->out[u->out_head];
		u->out_head = (u->out_head + 1) % u->out_size;
		u->out_count--;
	}
	*irq = settle(u, old_mis, n > 0 ? SBSA_UART_INT_TX : 0);
	return n;
}
