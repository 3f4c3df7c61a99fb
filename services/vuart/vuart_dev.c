/** One guest's UART, either model (see vuart_dev.h). */
#include <string.h>

#include "vuart_dev.h"

void vuart_dev_init(struct vuart_dev *d, enum vuart_model model)
{
	memset(d, 0, sizeof(*d));
	d->model = model;
	if (model == VUART_MODEL_16550) {
		ns16550_init(&d->u.ns);
	} else {
		struct sbsa_uart_config cfg = sbsa_uart_config_default();
		(void)sbsa_uart_init(&d->u.sbsa, &cfg); /* the default configuration is valid */
	}
}

bool vuart_dev_valid(const struct vuart_dev *d)
{
	if (d->model == VUART_MODEL_16550)
		return ns16550_state_valid(&d->u.ns);
	return d->model == VUART_MODEL_SBSA && sbsa_uart_state_valid(&d->u.sbsa);
}

enum vuart_status vuart_dev_access(struct vuart_dev *d, uint64_t offset, uint32_t size, bool write,
                                   uint64_t value, struct vuart_reply *reply)
{
	if (d->model == VUART_MODEL_16550) {
		if (offset > UINT32_MAX) {
			reply->value = 0;
			reply->irq = VUART_IRQ_KEEP;
			return VUART_BAD_ACCESS;
		}
		return ns16550_access(&d->u.ns, (uint32_t)offset, size, write, (uint32_t)value,
		                      reply);
	}
	return sbsa_uart_access(&d->u.sbsa, offset, size, write, value, reply);
}

size_t vuart_dev_put_input(struct vuart_dev *d, const uint8_t *bytes, size_t count,
                           enum vuart_irq *irq)
{
	if (d->model == VUART_MODEL_16550)
		return ns16550_put_input(&d->u.ns, bytes, count, irq);
	return sbsa_uart_put_input(&d->u.sbsa, bytes, count, irq);
}

size_t vuart_dev_take_output(struct vuart_dev *d, uint8_t *buf, size_t cap, enum vuart_irq *irq)
{
	if (d->model == VUART_MODEL_16550)
		return ns16550_take_output(&d->u.ns, buf, cap, irq);
	return sbsa_uart_take_output(&d->u.sbsa, buf, cap, irq);
}

size_t vuart_dev_input_room(const struct vuart_dev *d)
{
	if (d->model == VUART_MODEL_16550)
		return ns16550_input_room(&d->u.ns);
	return sbsa_uart_input_room(&d->u.sbsa);
}

uint32_t vuart_dev_in_count(const struct vuart_dev *d)
{
	return d->model == VUART_MODEL_16550 ? d->u.ns.rx_count : d->u.sbsa.in_count;
}

uint32_t vuart_dev_out_count(const struct vuart_dev *d)
{
	return d->model == VUART_MODEL_16550 ? d->u.ns.tx_count : d->u.sbsa.out_count;
}

bool vuart_dev_line(const struct vuart_dev *d)
{
	return d->model == VUART_MODEL_16550 ? d->u.ns.line != 0 : d->u.sbsa.line != 0;
}

bool vuart_dev_pure_read(const struct vuart_dev *d, uint64_t offset, uint32_t size, uint32_t *value)
{
	if (d->model == VUART_MODEL_16550) {
		/* LSR clears OE when read: pure only while OE is clear (IIR reads are never). */
		if (offset != NS16550_LSR || size != 1)
			return false;
		uint8_t lsr = ns16550_lsr(&d->u.ns);
		if (lsr & NS16550_LSR_OE)
			return false;
		*value = lsr;
		return true;
	}
	if (offset != SBSA_UART_FR || size != 4)
		return false;
	*value = sbsa_uart_fr(&d->u.sbsa);
	return true;
}

void vuart_dev_pure(const struct vuart_dev *d, struct vuart_pure *p)
{
	bool ns = d->model == VUART_MODEL_16550;
	uint32_t value = 0;
	p->offset = ns ? NS16550_LSR : SBSA_UART_FR;
	p->size = ns ? 1u : 4u;
	if (!vuart_dev_pure_read(d, p->offset, p->size, &value))
		p->size = 0;
	p->value = value;
	p->pad = 0;
}

enum vuart_role vuart_dev_role(const struct vuart_dev *d, uint64_t offset)
{
	if (offset == 0)
		return VUART_ROLE_DATA; /* DR; RBR/THR (DLL while DLAB is set: no bytes move) */
	if (d->model == VUART_MODEL_16550)
		return offset == 1 ? VUART_ROLE_ENABLE : VUART_ROLE_OTHER;
	return offset == SBSA_UART_IMSC ? VUART_ROLE_ENABLE : VUART_ROLE_OTHER;
}
