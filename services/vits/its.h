/**
 * A GICv3 Interrupt Translation Service for one guest, as plain C (ARM IHI 0069, chapters 5
 * and 6; the behaviour of Xen 4.10's virtual ITS where that is sound: docs/its.md lists the
 * differences). No hardware access: guest memory and the guest's LPIs are reached only
 * through struct its_ops, which the vits service (main.c) or a host test supplies.
 *
 * The model owns the GITS register frame (CTLR, IIDR, TYPER, CBASER, CWRITER, CREADR,
 * BASER0/1, PIDR2, TRANSLATER). Its translation state lives in the guest's memory, in the
 * tables the guest gave it through BASER0 (devices), BASER1 (collections) and MAPD (each
 * device's interrupt translation table), in this format (little-endian):
 *
 *   device table entry, 8 bytes:     bit 63 valid | ITT address [51:8] | EventID bits - 1 [4:0]
 *   collection table entry, 2 bytes: bit 15 valid | vCPU number [14:0]
 *   ITT entry, 8 bytes:              vLPI [31:0] (0: unmapped) | collection [47:32]
 *
 * so a restarted service, which keeps only struct its (the registers), finds every mapping
 * again. Commands run synchronously on a CWRITER write while the ITS is enabled; a command
 * that fails is counted and reported through its_ops.log, and CREADR moves past it anyway:
 * the ITS never stalls.
 */
#ifndef VITS_ITS_H
#define VITS_ITS_H

#include <stdbool.h>
#include <stdint.h>

/* GITS register offsets (IHI 0069 12.19). TRANSLATER is in the second 64 KiB frame. */
#define GITS_CTLR 0x0000u
#define GITS_IIDR 0x0004u
#define GITS_TYPER 0x0008u
#define GITS_CBASER 0x0080u
#define GITS_CWRITER 0x0088u
#define GITS_CREADR 0x0090u
#define GITS_BASER0 0x0100u
#define GITS_BASER7 0x0138u
#define GITS_PIDR2 0xffe8u
#define GITS_TRANSLATER 0x10040u
#define GITS_FRAME_SIZE 0x20000u

#define GITS_CTLR_ENABLED (1u << 0)
#define GITS_CTLR_QUIESCENT (1u << 31)
#define GITS_VALID (UINT64_C(1) << 63)
#define GITS_BASER_INDIRECT (UINT64_C(1) << 62)
#define GITS_BASER_TYPE_SHIFT 56
#define GITS_BASER_TYPE_DEVICES 1u
#define GITS_BASER_TYPE_COLLECTIONS 4u
#define GITS_BASER_ENTRY_SHIFT 48
#define GITS_PAGE 4096u

/* Command numbers (IHI 0069 6.3). */
#define ITS_CMD_MOVI 0x01u
#define ITS_CMD_INT 0x03u
#define ITS_CMD_CLEAR 0x04u
#define ITS_CMD_SYNC 0x05u
#define ITS_CMD_MAPD 0x08u
#define ITS_CMD_MAPC 0x09u
#define ITS_CMD_MAPTI 0x0au
#define ITS_CMD_MAPI 0x0bu
#define ITS_CMD_INV 0x0cu
#define ITS_CMD_INVALL 0x0du
#define ITS_CMD_MOVALL 0x0eu
#define ITS_CMD_DISCARD 0x0fu
#define ITS_CMD_SIZE 32u

/** The first LPI INTID (IHI 0069 2.2.1). */
#define ITS_LPI_BASE 8192u
/** What TYPER advertises: DeviceID and EventID bits, 8-byte ITT entries, PTA = 0. */
#define ITS_DEVID_BITS 16u
#define ITS_EVENTID_BITS 16u
#define ITS_ITT_ENTRY 8u

/** What went wrong with a command (its_ops.log, counted in struct its). */
enum its_error {
	ITS_ERR_NONE = 0,
	ITS_ERR_UNKNOWN_COMMAND,
	ITS_ERR_READ,       /**< the command or a table entry lies outside the guest's memory */
	ITS_ERR_DEVICE,     /**< DeviceID beyond the device table, or the device unmapped */
	ITS_ERR_EVENT,      /**< EventID beyond the device's ITT */
	ITS_ERR_COLLECTION, /**< ICID beyond the collection table, or the collection unmapped */
	ITS_ERR_VCPU,       /**< a target vCPU the guest does not have */
	ITS_ERR_LPI,        /**< a pINTID outside the guest's LPIs */
	ITS_ERR_MAPPED,     /**< MAPTI/MAPI of an event that is already mapped */
	ITS_ERR_UNMAPPED,   /**< an event that is not mapped */
	ITS_ERR_SIZE,       /**< MAPD with more EventID bits than TYPER offers */
	ITS_ERR_COUNT
};

/** How the model reaches the guest: its memory (by IPA) and its LPIs. */
struct its_ops {
	void *ctx;
	/** Copy guest memory [ipa, ipa + len); false (nothing copied) if any of it is not RAM. */
	bool (*read)(void *ctx, uint64_t ipa, void *buf, uint32_t len);
	bool (*write)(void *ctx, uint64_t ipa, const void *buf, uint32_t len);
	/** Make lpi pending (or not) on vcpu; returns whether it was pending there. */
	bool (*set_pending)(void *ctx, uint32_t vcpu, uint32_t lpi, bool pending);
	/** INV: lpi's configuration (its property byte) may have changed; INVALL: every LPI's. */
	void (*inv)(void *ctx, uint32_t vcpu, uint32_t lpi);
	void (*invall)(void *ctx, uint32_t vcpu);
	/** A command failed (cmd: its first doubleword; never for a translation); may be NULL. */
	void (*log)(void *ctx, enum its_error e, uint64_t cmd);
	/**
	 * MOVI: lpi now targets vcpu, its pending state with it (the platform knows where it
	 * is pending: a vCPU may be holding it in a list register right now).
	 */
	void (*move)(void *ctx, uint32_t vcpu, uint32_t lpi);
};

#define ITS_MAGIC 0x53544956u /* "VITS" */
#define ITS_VERSION 1u

/** One guest's ITS: the registers and counters, all a restart has to keep. */
struct its {
	uint32_t magic, version;
	uint32_t vcpus;     /**< the guest's vCPUs: valid collection targets 0..vcpus-1 */
	uint32_t lpi_limit; /**< the guest's LPIs are ITS_LPI_BASE..lpi_limit-1 */
	uint32_t ctlr;      /**< ENABLED only */
	/**
	 * The DeviceID of the guest's own writes to GITS_TRANSLATER (the requester is its
	 * CPU, which the manifest names); ITS_NO_DEVICE: such writes translate nothing.
	 */
	uint32_t self_devid;
	uint64_t cbaser, cwriter, creadr;
	uint64_t baser[2];
	uint64_t commands;                       /**< commands run */
	uint64_t errors[ITS_ERR_COUNT];          /**< failed commands and translations, by reason */
	uint64_t translations, translate_errors; /**< MSIs that became an LPI, and that did not */
};

#define ITS_NO_DEVICE 0xffffffffu

/**
 * Reset state for a guest of `vcpus` vCPUs whose LPIs end below lpi_limit, whose own
 * TRANSLATER writes come from DeviceID self_devid (or ITS_NO_DEVICE).
 */
void its_init(struct its *s, uint32_t vcpus, uint32_t lpi_limit, uint32_t self_devid);

/** Whether s, found in memory after a restart, is a well-formed struct its. */
bool its_state_valid(const struct its *s);

/**
 * A guest access to the GITS frame at offset (of GITS_FRAME_SIZE): reads fill *value. false:
 * the access is refused (a width or alignment the register does not have), which the service
 * answers with an abort. Writes to CWRITER and CTLR run the command queue.
 */
bool its_mmio(struct its *s, const struct its_ops *ops, uint64_t offset, uint32_t size, bool write,
              uint64_t *value);

/**
 * An MSI: EventID event from the device `devid` (named by whoever the requester is, never by
 * the guest), as a write to GITS_TRANSLATER. false if it translates to nothing.
 */
bool its_translate(struct its *s, const struct its_ops *ops, uint32_t devid, uint32_t event);

#endif /* VITS_ITS_H */
