/**
 * The 16550A model (see ns16550.h). Behaviour follows the PC16550D datasheet: the register
 * summary (table II), the interrupt control functions (table IV: priorities, sources and what
 * resets each) and the reset table. What a virtual line cannot have is left out: parity,
 * framing and break errors, baud-rate timing (the divisor latch is kept and has no effect),
 * DMA mode signalling.
 */
#include <string.h>

#include "ns16550.h"

#define IER_MASK 0x0fu
#define MCR_MASK 0x1fu
#define FCR_KEPT (NS16550_FCR_ENABLE | NS16550_FCR_DMA | NS16550_FCR_TRIGGER)
#define MSR_DELTAS 0x0fu
/** The modem inputs of a port whose cable has a terminal on it: CTS, DSR and DCD asserted. */
#define MSR_INPUTS_EXTERNAL (NS16550_MSR_CTS | NS16550_MSR_DSR | NS16550_MSR_DCD)
/** The divisor latch's reset value is undefined; 12 is 9600 baud from a 1.8432 MHz clock. */
#define DIVISOR_RESET 12u

static bool fifo_on(const struct ns16550 *u)
{
	return (u->fcr & NS16550_FCR_ENABLE) != 0;
}

static bool loopback(const struct ns16550 *u)
{
	return (u->mcr & NS16550_MCR_LOOP) != 0;
}

/** Receive and transmit capacity: the 16-byte FIFOs, or the single RBR/THR without them. */
static uint8_t capacity(const struct ns16550 *u)
{
	return fifo_on(u) ? NS16550_FIFO_SIZE : 1;
}

/** The receive FIFO trigger level selected by FCR bits 7:6. */
static uint8_t rx_trigger(const struct ns16550 *u)
{
	static const uint8_t levels[4] = { 1, 4, 8, 14 };
	return levels[u->fcr >> 6];
}

/** MSR bits 7:4: in loopback they are MCR's outputs looped back (RTS->CTS, DTR->DSR,
 *  OUT1->RI, OUT2->DCD), otherwise a connected terminal. */
static uint8_t msr_inputs_now(const struct ns16550 *u)
{
	if (!loopback(u))
		return MSR_INPUTS_EXTERNAL;
	uint8_t v = 0;
	if (u->mcr & NS16550_MCR_RTS)
		v |= NS16550_MSR_CTS;
	if (u->mcr & NS16550_MCR_DTR)
		v |= NS16550_MSR_DSR;
	if (u->mcr & NS16550_MCR_OUT1)
		v |= NS16550_MSR_RI;
	if (u->mcr & NS16550_MCR_OUT2)
		v |= NS16550_MSR_DCD;
	return v;
}

/** Latches the delta bits for inputs that changed; TERI is RI's trailing edge only. */
static void update_msr(struct ns16550 *u)
{
	uint8_t now = msr_inputs_now(u);
	uint8_t changed = now ^ u->msr_inputs;
	if (changed & NS16550_MSR_CTS)
		u->msr_delta |= NS16550_MSR_DCTS;
	if (changed & NS16550_MSR_DSR)
		u->msr_delta |= NS16550_MSR_DDSR;
	if (changed & NS16550_MSR_DCD)
		u->msr_delta |= NS16550_MSR_DDCD;
	if ((u->msr_inputs & NS16550_MSR_RI) && !(now & NS16550_MSR_RI))
		u->msr_delta |= NS16550_MSR_TERI;
	u->msr_inputs = now;
}

uint8_t ns16550_lsr(const struct ns16550 *u)
{
	uint8_t v = u->lsr_oe;
	if (u->rx_count != 0)
		v |= NS16550_LSR_DR;
	if (u->tx_count == 0)
		v |= NS16550_LSR_THRE | NS16550_LSR_TEMT;
	return v;
}

/** The highest-priority enabled interrupt pending (datasheet table IV), without side effects. */
uint8_t ns16550_iir(const struct ns16550 *u)
{
	uint8_t id = NS16550_IIR_NONE;
	if ((u->ier & NS16550_IER_RLSI) && u->lsr_oe != 0)
		id = NS16550_IIR_RLSI;
	else if ((u->ier & NS16550_IER_RDI) && u->rx_count != 0)
		/*
		 * In FIFO mode below the trigger level the chip reports a character timeout once
		 * four character times pass without a read; the model has no time and reports it
		 * at once, so a partly filled FIFO is never stranded.
		 */
		id = fifo_on(u) && u->rx_count < rx_trigger(u) ? NS16550_IIR_TIMEOUT :
		                                                 NS16550_IIR_RDI;
	else if ((u->ier & NS16550_IER_THRI) && u->thre != 0)
		id = NS16550_IIR_THRI;
	else if ((u->ier & NS16550_IER_MSI) && u->msr_delta != 0)
		id = NS16550_IIR_MSI;
	return (uint8_t)(id | (fifo_on(u) ? NS16550_IIR_FIFO : 0));
}

bool ns16550_irq_level(const struct ns16550 *u)
{
	/* OUT2 enables the PC's interrupt buffer; loopback forces the OUT pins inactive. */
	return (ns16550_iir(u) & NS16550_IIR_NONE) == 0 && (u->mcr & NS16550_MCR_OUT2) &&
	       !loopback(u);
}

/** Tells the caller how the line moved since it was last told. */
static enum vuart_irq settle(struct ns16550 *u)
{
	uint8_t level = ns16550_irq_level(u) ? 1 : 0;
	if (level == u->line)
		return VUART_IRQ_KEEP;
	u->line = level;
	return level ? VUART_IRQ_RAISE : VUART_IRQ_LOWER;
}

void ns16550_init(struct ns16550 *u)
{
	memset(u, 0, sizeof(*u));
	u->magic = NS16550_MAGIC;
	u->version = NS16550_VERSION;
	u->size = (uint32_t)sizeof(*u);
	u->dll = DIVISOR_RESET;
	u->msr_inputs = MSR_INPUTS_EXTERNAL;
	/* The rest resets to 0: IER, LCR, MCR, FCR; IIR reads 0x01 and LSR 0x60 as a result. */
}

bool ns16550_state_valid(const struct ns16550 *u)
{
	if (u->magic != NS16550_MAGIC || u->version != NS16550_VERSION || u->size != sizeof(*u))
		return false;
	if ((u->ier & ~IER_MASK) != 0 || (u->mcr & ~MCR_MASK) != 0 || (u->fcr & ~FCR_KEPT) != 0)
		return false;
	if ((u->lsr_oe & ~NS16550_LSR_OE) != 0 || (u->msr_delta & ~MSR_DELTAS) != 0 ||
	    u->msr_inputs != msr_inputs_now(u))
		return false;
	if (u->rx_head >= NS16550_FIFO_SIZE || u->tx_head >= NS16550_FIFO_SIZE ||
	    u->rx_count > capacity(u) || u->tx_count > capacity(u))
		return false;
	/* THRE is latched only when the transmitter is empty; loopback never holds bytes. */
	if (u->thre > 1 || (u->thre != 0 && u->tx_count != 0) || (loopback(u) && u->tx_count != 0))
		return false;
	return u->line == (ns16550_irq_level(u) ? 1 : 0);
}

static void rx_clear(struct ns16550 *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

static void tx_clear(struct ns16550 *u)
{
	if (u->tx_count != 0)
		u->thre = 1; /* the transmitter just became empty */
	u->tx_head = 0;
	u->tx_count = 0;
}

/** Puts one received byte in the receive FIFO; a full FIFO loses it and sets OE. */
static bool rx_push(struct ns16550 *u, uint8_t byte)
{
	if (u->rx_count >= capacity(u)) {
		u->lsr_oe = NS16550_LSR_OE;
		return false;
	}
	u->rx[(u->rx_head + u->rx_count) % NS16550_FIFO_SIZE] = byte;
	u->rx_count++;
	return true;
}

static uint8_t tx_pop(struct ns16550 *u)
{
	uint8_t byte = u->tx[u->tx_head];
	u->tx_head = (uint8_t)((u->tx_head + 1) % NS16550_FIFO_SIZE);
	u->tx_count--;
	if (u->tx_count == 0)
		u->thre = 1;
	return byte;
}

/** In loopback the transmitter's output is the receiver's input, at once. */
static void loop_back(struct ns16550 *u)
{
	while (u->tx_count != 0)
		(void)rx_push(u, tx_pop(u));
}

static void write_thr(struct ns16550 *u, uint8_t byte)
{
	u->thre = 0; /* writing THR resets the THRE interrupt */
	if (u->tx_count < capacity(u)) {
		u->tx[(u->tx_head + u->tx_count) % NS16550_FIFO_SIZE] = byte;
		u->tx_count++;
	}
	/* A byte written to a full transmitter is lost, as on the chip. */
	if (loopback(u))
		loop_back(u);
}

static void write_ier(struct ns16550 *u, uint8_t value)
{
	uint8_t old = u->ier;
	u->ier = value & IER_MASK;
	/* Enabling the THRE interrupt with the transmitter empty interrupts at once. */
	if (!(old & NS16550_IER_THRI) && (u->ier & NS16550_IER_THRI) && u->tx_count == 0)
		u->thre = 1;
}

static void write_fcr(struct ns16550 *u, uint8_t value)
{
	if ((value ^ u->fcr) & NS16550_FCR_ENABLE) {
		/* Changing FCR bit 0 clears both FIFOs. */
		rx_clear(u);
		tx_clear(u);
	}
	if (!(value & NS16550_FCR_ENABLE)) {
		/* The other bits are programmed only together with bit 0. */
		u->fcr &= (uint8_t)~NS16550_FCR_ENABLE;
		return;
	}
	u->fcr = value & FCR_KEPT;
	if (value & NS16550_FCR_CLEAR_RX)
		rx_clear(u);
	if (value & NS16550_FCR_CLEAR_TX)
		tx_clear(u);
}

static void write_mcr(struct ns16550 *u, uint8_t value)
{
	u->mcr = value & MCR_MASK;
	update_msr(u);
	if (loopback(u))
		loop_back(u);
}

static void write_port(struct ns16550 *u, uint32_t offset, uint8_t value)
{
	bool dlab = (u->lcr & NS16550_LCR_DLAB) != 0;
	switch (offset) {
	case NS16550_THR:
		if (dlab)
			u->dll = value;
		else
			write_thr(u, value);
		break;
	case NS16550_IER:
		if (dlab)
			u->dlm = value;
		else
			write_ier(u, value);
		break;
	case NS16550_FCR:
		write_fcr(u, value);
		break;
	case NS16550_LCR:
		u->lcr = value;
		break;
	case NS16550_MCR:
		write_mcr(u, value);
		break;
	case NS16550_SCR:
		u->scr = value;
		break;
	default:
		break; /* LSR and MSR: writes are for factory testing; ignored */
	}
}

static uint8_t read_rbr(struct ns16550 *u)
{
	if (u->rx_count == 0)
		return 0;
	uint8_t byte = u->rx[u->rx_head];
	u->rx_head = (uint8_t)((u->rx_head + 1) % NS16550_FIFO_SIZE);
	u->rx_count--;
	return byte;
}

static uint8_t read_port(struct ns16550 *u, uint32_t offset)
{
	bool dlab = (u->lcr & NS16550_LCR_DLAB) != 0;
	uint8_t v;
	switch (offset) {
	case NS16550_RBR:
		return dlab ? u->dll : read_rbr(u);
	case NS16550_IER:
		return dlab ? u->dlm : u->ier;
	case NS16550_IIR:
		v = ns16550_iir(u);
		/* Reading IIR resets the THRE interrupt when that is what it reports. */
		if ((v & 0x0fu) == NS16550_IIR_THRI)
			u->thre = 0;
		return v;
	case NS16550_LCR:
		return u->lcr;
	case NS16550_MCR:
		return u->mcr;
	case NS16550_LSR:
		v = ns16550_lsr(u);
		u->lsr_oe = 0; /* reading LSR resets the error bits and the line-status interrupt */
		return v;
	case NS16550_MSR:
		v = (uint8_t)(u->msr_inputs | u->msr_delta);
		u->msr_delta = 0;
		return v;
	default:
		return u->scr;
	}
}

enum vuart_status ns16550_access(struct ns16550 *u, uint32_t offset, uint32_t size, bool write,
                                 uint32_t value, struct vuart_reply *reply)
{
	reply->value = 0;
	reply->irq = VUART_IRQ_KEEP;
	/* Eight byte-wide ports: a word access has no register to go to. */
	if (offset >= NS16550_PORT_COUNT || size != 1)
		return VUART_BAD_ACCESS;
	if (write)
		write_port(u, offset, (uint8_t)value);
	else
		reply->value = read_port(u, offset);
	reply->irq = settle(u);
	return VUART_OK;
}

size_t ns16550_input_room(const struct ns16550 *u)
{
	return loopback(u) ? 0 : (size_t)(capacity(u) - u->rx_count);
}

size_t ns16550_put_input(struct ns16550 *u, const uint8_t *bytes, size_t count, enum vuart_irq *irq)
{
	size_t n = 0;
	/* In loopback the receiver is cut off from the line: nothing arrives, nothing is lost. */
	if (!loopback(u))
		while (n < count && rx_push(u, bytes[n]))
			n++;
	*irq = settle(u);
	return n;
}

size_t ns16550_take_output(struct ns16550 *u, uint8_t *buf, size_t cap, enum vuart_irq *irq)
{
	size_t n = 0;
	while (n < cap && u->tx_count != 0)
		buf[n++] = tx_pop(u);
	*irq = settle(u);
	return n;
}
