/**
 * The devices of the x86 emulation test (emu.dts) and benchmark
 * (tests/bench/emu-x86.dts), as the emulator (service.c) answers them.
 *
 * MMIO, 4 KiB at EMU_BASE:
 *   0x00 DATA    a store is kept, a load returns it
 *   0x10 SIGNED  reads 0x80f0 (so a byte is 0xf0: sign and zero extension)
 *   0x18 FR      reads 0x90
 *   0x40 IRQ     a store of vector v raises v in the guest (HC_GUEST_IRQ)
 *   0x80 GARBAGE answered with a status the kernel does not know
 *   0x84 BADGE   the badge the service's message came with
 *   0x88 BAD     how many malformed messages the service saw
 *   any 64-bit access is refused (IPC_MMIO_ABORT)
 * Ports, a 16550's eight at EMU_PORT (0x3f8, COM1), and in emu.dts the
 * POST port 0x80 as a range of its own:
 *   +5   LSR     reads 0x60 (THRE | TEMT: transmitter empty)
 *   else         one scratch value: an OUT keeps it, an IN returns it
 */
#ifndef EMU_DEVICE_H
#define EMU_DEVICE_H

#define EMU_BASE 0xc0000000u
#define EMU_DATA 0x00u
#define EMU_SIGNED 0x10u
#define EMU_FR 0x18u
#define EMU_IRQ 0x40u
#define EMU_GARBAGE 0x80u
#define EMU_BADGE 0x84u
#define EMU_BAD 0x88u

#define EMU_PORT 0x3f8u
#define EMU_LSR 5u
#define EMU_LSR_VALUE 0x60u

/** The badges of the service's guest capabilities (emu.dts). */
#define EMU_GUEST_BADGE 0xe3u
#define EMU_STRAY_BADGE 0xe5u

#endif /* EMU_DEVICE_H */
