/**
 * The emulator of the x86 emulation test (device.h): answers every
 * IPC_LABEL_MMIO message on endpoint slot 0, MMIO and port accesses alike,
 * with raw hypercalls (r0 status, r1 badge, r2 label, r3.. the words).
 * Slot 1 is its guest capability (emulate, inject) over the VM it raises
 * interrupts in.
 */
#include <svc/svc.h>
#include <svc_arch.h>

#include "device.h"

/* One file, two services: the mute one uses none of the answering helpers. */
#pragma GCC diagnostic ignored "-Wunused-function"

#define EP_SLOT 0
#define GUEST_SLOT 1

static uint64_t data, scratch, bad;

/** HC_GUEST_IRQ through slot; returns the status. */
static uint64_t guest_irq(uint64_t vector, uint64_t level)
{
	uint64_t q[9] = { HC_GUEST_IRQ, GUEST_SLOT, 0, vector, level, 0, 0, 0, 0 };
	arch_hypercall(q);
	return q[0];
}

/**
 * A store to IRQ: vectors below 32 are exceptions and refused, lowering an
 * edge does nothing but is allowed; then the vector written is raised.
 */
static void raise_irq(uint64_t vector)
{
	if (guest_irq(20, 1) != STATUS_INVALID_ARG || guest_irq(256, 1) != STATUS_INVALID_ARG ||
	    guest_irq(vector, 0) != STATUS_OK)
		bad++;
	if (guest_irq(vector, 1) != STATUS_OK)
		bad++;
}

static uint64_t mmio(uint64_t off, uint64_t size, bool write, uint64_t value, uint64_t badge,
                     uint64_t *status)
{
	if (size == 8) {
		*status = IPC_MMIO_ABORT;
		return 0;
	}
	switch (write ? off | 0x1000u : off) {
	case EMU_DATA | 0x1000u:
		data = value;
		return 0;
	case EMU_DATA:
		return data;
	case EMU_SIGNED:
		return 0x80f0;
	case EMU_FR:
		return 0x90;
	case EMU_IRQ | 0x1000u:
		raise_irq(value);
		return 0;
	case EMU_GARBAGE:
	case EMU_GARBAGE | 0x1000u:
		*status = 0x55;
		return 0;
	case EMU_BADGE:
		return badge;
	case EMU_BAD:
		return bad;
	default:
		return 0;
	}
}

static uint64_t port(uint64_t off, bool write, uint64_t value)
{
	if (off == EMU_LSR)
		return write ? 0 : EMU_LSR_VALUE;
	if (write)
		scratch = value;
	return scratch;
}

#if defined(EMU_MUTE)
/*
 * An emulator that takes an access and never answers: it keeps the reply
 * right and waits on a notification nobody signals (slot 1). Its VM waits
 * for good; nothing else is held up.
 */
int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t r[9] = { HC_RECV, EP_SLOT, 0, 0, 0, 0, 0, 0, 0 };
	arch_hypercall(r);
	svc_printf("holding an access and never answering\n");
	for (;;) {
		uint64_t w[9] = { HC_WAIT, 1, 0, 0, 0, 0, 0, 0, 0 };
		arch_hypercall(w);
	}
}
#else
int svc_main(uint64_t arg)
{
	(void)arg;
	uint64_t r[9] = { HC_RECV, EP_SLOT, 0, 0, 0, 0, 0, 0, 0 };
	arch_hypercall(r);
	for (;;) {
		uint64_t status = IPC_MMIO_DONE, value = 0;
		if (r[0] != STATUS_OK || r[2] != IPC_LABEL_MMIO) {
			bad++;
			status = IPC_MMIO_ABORT;
		} else {
			uint64_t address = r[3], w1 = r[4], off = r[7];
			uint64_t size = w1 & IPC_MMIO_SIZE_MASK;
			bool write = (w1 & IPC_MMIO_WRITE) != 0,
			     is_port = (w1 & IPC_MMIO_PORT) != 0;
			/* A port access names a port, with a size an IN/OUT can have. */
			if (is_port != (address < 0x10000u) || (is_port && size == 8))
				bad++;
			if (is_port)
				value = port(off, write, r[5]);
			else
				value = mmio(off, size, write, r[5], r[1], &status);
		}
		r[0] = HC_REPLY_RECV;
		r[1] = EP_SLOT;
		r[2] = 0; /* a partition's label: the kernel bit would be refused */
		r[3] = status;
		r[4] = value;
		arch_hypercall(r);
	}
}
#endif
