/** The GICv3 ITS model (its.h). */
#include "its.h"

#include <stddef.h>

#define BITS(hi, lo) ((~UINT64_C(0) >> (63u - (hi))) & ~((UINT64_C(1) << (lo)) - 1u))

/* What a write may change; the rest reads as the model fixes it. */
#define CBASER_WRITABLE \
	(GITS_VALID | BITS(61, 59) | BITS(55, 53) | BITS(51, 12) | BITS(11, 10) | BITS(7, 0))
#define BASER_WRITABLE \
	(GITS_VALID | BITS(61, 59) | BITS(55, 53) | BITS(47, 12) | BITS(11, 10) | BITS(7, 0))
#define CWRITER_OFFSET BITS(19, 5)

#define DTE_ITT BITS(51, 8)
#define DTE_BITS BITS(4, 0)
#define CTE_VALID 0x8000u
#define CTE_VCPU 0x7fffu

void its_init(struct its *s, uint32_t vcpus, uint32_t lpi_limit, uint32_t self_devid)
{
	*s = (struct its){ .magic = ITS_MAGIC,
		           .version = ITS_VERSION,
		           .vcpus = vcpus,
		           .lpi_limit = lpi_limit,
		           .self_devid = self_devid };
	s->baser[0] = (uint64_t)GITS_BASER_TYPE_DEVICES << GITS_BASER_TYPE_SHIFT |
	              (uint64_t)(8u - 1u) << GITS_BASER_ENTRY_SHIFT;
	s->baser[1] = (uint64_t)GITS_BASER_TYPE_COLLECTIONS << GITS_BASER_TYPE_SHIFT |
	              (uint64_t)(2u - 1u) << GITS_BASER_ENTRY_SHIFT;
}

static uint64_t queue_bytes(const struct its *s)
{
	return ((s->cbaser & 0xffu) + 1u) * GITS_PAGE;
}

static uint64_t table_bytes(uint64_t baser)
{
	return ((baser & 0xffu) + 1u) * GITS_PAGE;
}

static uint64_t table_base(uint64_t baser)
{
	return baser & BITS(47, 12);
}

bool its_state_valid(const struct its *s)
{
	uint64_t fixed0 = (uint64_t)GITS_BASER_TYPE_DEVICES << GITS_BASER_TYPE_SHIFT |
	                  (uint64_t)(8u - 1u) << GITS_BASER_ENTRY_SHIFT;
	uint64_t fixed1 = (uint64_t)GITS_BASER_TYPE_COLLECTIONS << GITS_BASER_TYPE_SHIFT |
	                  (uint64_t)(2u - 1u) << GITS_BASER_ENTRY_SHIFT;
	return s->magic == ITS_MAGIC && s->version == ITS_VERSION && s->vcpus != 0 &&
	       s->vcpus <= CTE_VCPU + 1u && s->lpi_limit >= ITS_LPI_BASE &&
	       (s->ctlr & ~GITS_CTLR_ENABLED) == 0 && (s->cbaser & ~CBASER_WRITABLE) == 0 &&
	       (s->baser[0] & ~BASER_WRITABLE) == fixed0 &&
	       (s->baser[1] & ~BASER_WRITABLE) == fixed1 && (s->cwriter & ~CWRITER_OFFSET) == 0 &&
	       (s->creadr & ~CWRITER_OFFSET) == 0 && s->cwriter < queue_bytes(s) &&
	       s->creadr < queue_bytes(s);
}

/* ---- the tables in guest memory ------------------------------------------------ */

struct its_run {
	struct its *s;
	const struct its_ops *ops;
	uint64_t cmd0;
	bool quiet; /**< a translation: counted, not logged (a device may retry at will) */
};

static bool fail(struct its_run *r, enum its_error e)
{
	r->s->errors[e]++;
	if (r->ops->log != NULL && !r->quiet)
		r->ops->log(r->ops->ctx, e, r->cmd0);
	return false;
}

static uint64_t le64(const uint8_t *b)
{
	uint64_t v = 0;
	for (uint32_t i = 8; i-- > 0;)
		v = v << 8 | b[i];
	return v;
}

static bool rd64(struct its_run *r, uint64_t ipa, uint64_t *v)
{
	uint8_t b[8];
	if (!r->ops->read(r->ops->ctx, ipa, b, 8u))
		return fail(r, ITS_ERR_READ);
	*v = le64(b);
	return true;
}

static bool wr64(struct its_run *r, uint64_t ipa, uint64_t v)
{
	uint8_t b[8];
	for (uint32_t i = 0; i < 8u; i++)
		b[i] = (uint8_t)(v >> (8u * i));
	return r->ops->write(r->ops->ctx, ipa, b, 8u) || fail(r, ITS_ERR_READ);
}

/** The device table entry's address; false if devid is beyond the table. */
static bool dte_at(struct its_run *r, uint32_t devid, uint64_t *ipa)
{
	uint64_t b = r->s->baser[0];
	if (!(b & GITS_VALID) || devid >= (UINT64_C(1) << ITS_DEVID_BITS) ||
	    devid >= table_bytes(b) / 8u)
		return fail(r, ITS_ERR_DEVICE);
	*ipa = table_base(b) + (uint64_t)devid * 8u;
	return true;
}

/** A mapped device's ITT and its EventID bits. */
static bool device(struct its_run *r, uint32_t devid, uint64_t *itt, uint32_t *bits)
{
	uint64_t at = 0, e = 0; /* zero: the analyzer cannot see that fail() returns false */
	if (!dte_at(r, devid, &at) || !rd64(r, at, &e))
		return false;
	if (!(e & GITS_VALID))
		return fail(r, ITS_ERR_DEVICE);
	*itt = e & DTE_ITT;
	*bits = (uint32_t)(e & DTE_BITS) + 1u;
	if (*bits > ITS_EVENTID_BITS)
		return fail(r, ITS_ERR_DEVICE); /* the guest wrote the table itself */
	return true;
}

static bool cte_at(struct its_run *r, uint32_t icid, uint64_t *ipa)
{
	uint64_t b = r->s->baser[1];
	if (!(b & GITS_VALID) || icid >= table_bytes(b) / 2u)
		return fail(r, ITS_ERR_COLLECTION);
	*ipa = table_base(b) + (uint64_t)icid * 2u;
	return true;
}

/** The vCPU a mapped collection targets. */
static bool collection(struct its_run *r, uint32_t icid, uint32_t *vcpu)
{
	uint64_t at = 0;
	uint8_t b[2];
	if (!cte_at(r, icid, &at))
		return false;
	if (!r->ops->read(r->ops->ctx, at, b, 2u))
		return fail(r, ITS_ERR_READ);
	uint32_t e = (uint32_t)b[0] | (uint32_t)b[1] << 8;
	if (!(e & CTE_VALID))
		return fail(r, ITS_ERR_COLLECTION);
	*vcpu = e & CTE_VCPU;
	return *vcpu < r->s->vcpus || fail(r, ITS_ERR_VCPU);
}

/** A translation: where its ITT entry is, its LPI (0: unmapped) and collection. */
struct its_event {
	uint64_t ite;
	uint32_t lpi, icid;
};

static bool event_entry(struct its_run *r, uint32_t devid, uint32_t event, struct its_event *ev)
{
	uint64_t itt = 0, e = 0;
	uint32_t bits = 0;
	*ev = (struct its_event){ 0 };
	if (!device(r, devid, &itt, &bits))
		return false;
	if (event >= (UINT64_C(1) << bits))
		return fail(r, ITS_ERR_EVENT);
	ev->ite = itt + (uint64_t)event * ITS_ITT_ENTRY;
	if (!rd64(r, ev->ite, &e))
		return false;
	ev->lpi = (uint32_t)e;
	ev->icid = (uint32_t)(e >> 32) & 0xffffu;
	return true;
}

/** A mapped event whose LPI is the guest's (the guest may have written its ITT itself). */
static bool mapped_event(struct its_run *r, uint32_t devid, uint32_t event, struct its_event *ev)
{
	if (!event_entry(r, devid, event, ev))
		return false;
	if (ev->lpi == 0)
		return fail(r, ITS_ERR_UNMAPPED);
	if (ev->lpi < ITS_LPI_BASE || ev->lpi >= r->s->lpi_limit)
		return fail(r, ITS_ERR_LPI);
	return true;
}

static bool set_pending(struct its_run *r, uint32_t vcpu, uint32_t lpi, bool pending)
{
	return r->ops->set_pending(r->ops->ctx, vcpu, lpi, pending);
}

/* ---- commands ------------------------------------------------------------------- */

/** MAPD with V = 0: every event the device had loses its pending state. */
static void discard_device(struct its_run *r, uint64_t itt, uint32_t bits)
{
	for (uint64_t event = 0; event < (UINT64_C(1) << bits); event++) {
		uint64_t e;
		uint32_t vcpu;
		if (!rd64(r, itt + event * ITS_ITT_ENTRY, &e))
			return; /* the rest of a broken ITT is unreachable as well */
		uint32_t lpi = (uint32_t)e;
		if (lpi >= ITS_LPI_BASE && lpi < r->s->lpi_limit &&
		    collection(r, (uint32_t)(e >> 32) & 0xffffu, &vcpu))
			(void)set_pending(r, vcpu, lpi, false);
	}
}

static bool cmd_mapd(struct its_run *r, const uint64_t *c)
{
	uint32_t devid = (uint32_t)(c[0] >> 32), bits = (uint32_t)(c[1] & DTE_BITS) + 1u;
	uint64_t at, old;
	if (!dte_at(r, devid, &at) || !rd64(r, at, &old))
		return false;
	if (c[2] & GITS_VALID) {
		if (bits > ITS_EVENTID_BITS)
			return fail(r, ITS_ERR_SIZE);
		return wr64(r, at, GITS_VALID | (c[2] & DTE_ITT) | (bits - 1u));
	}
	uint32_t old_bits = (uint32_t)(old & DTE_BITS) + 1u;
	if ((old & GITS_VALID) && old_bits <= ITS_EVENTID_BITS)
		discard_device(r, old & DTE_ITT, old_bits);
	return wr64(r, at, 0);
}

static bool cmd_mapc(struct its_run *r, const uint64_t *c)
{
	uint32_t icid = (uint32_t)(c[2] & 0xffffu);
	uint64_t target = (c[2] >> 16) & 0xffffffffu; /* PTA = 0: a processor number */
	uint64_t at;
	if (!cte_at(r, icid, &at))
		return false;
	uint32_t e = 0;
	if (c[2] & GITS_VALID) {
		if (target >= r->s->vcpus)
			return fail(r, ITS_ERR_VCPU);
		e = CTE_VALID | (uint32_t)target;
	}
	uint8_t b[2] = { (uint8_t)e, (uint8_t)(e >> 8) };
	return r->ops->write(r->ops->ctx, at, b, 2u) || fail(r, ITS_ERR_READ);
}

static bool cmd_mapti(struct its_run *r, const uint64_t *c, bool mapi)
{
	uint32_t devid = (uint32_t)(c[0] >> 32), event = (uint32_t)c[1];
	uint32_t lpi = mapi ? event : (uint32_t)(c[1] >> 32), icid = (uint32_t)(c[2] & 0xffffu);
	struct its_event ev;
	uint32_t vcpu;
	if (!event_entry(r, devid, event, &ev) || !collection(r, icid, &vcpu))
		return false;
	if (lpi < ITS_LPI_BASE || lpi >= r->s->lpi_limit)
		return fail(r, ITS_ERR_LPI);
	if (ev.lpi != 0)
		return fail(r, ITS_ERR_MAPPED);
	if (!wr64(r, ev.ite, (uint64_t)icid << 32 | lpi))
		return false;
	/* The LPI's property byte counts from its mapping on (as Xen reads it at MAPTI). */
	r->ops->inv(r->ops->ctx, vcpu, lpi);
	return true;
}

/** INT, CLEAR, DISCARD, INV: the event's LPI on its collection's vCPU. */
static bool cmd_event(struct its_run *r, const uint64_t *c, uint32_t op)
{
	struct its_event ev;
	uint32_t vcpu;
	if (!mapped_event(r, (uint32_t)(c[0] >> 32), (uint32_t)c[1], &ev))
		return false;
	bool target = collection(r, ev.icid, &vcpu);
	if (op == ITS_CMD_DISCARD) {
		if (target)
			(void)set_pending(r, vcpu, ev.lpi, false);
		return wr64(r, ev.ite, 0);
	}
	if (!target)
		return false;
	if (op == ITS_CMD_INT)
		(void)set_pending(r, vcpu, ev.lpi, true);
	else if (op == ITS_CMD_CLEAR)
		(void)set_pending(r, vcpu, ev.lpi, false);
	else
		r->ops->inv(r->ops->ctx, vcpu, ev.lpi);
	return true;
}

static bool cmd_movi(struct its_run *r, const uint64_t *c)
{
	struct its_event ev;
	uint32_t to, icid = (uint32_t)(c[2] & 0xffffu);
	if (!mapped_event(r, (uint32_t)(c[0] >> 32), (uint32_t)c[1], &ev) ||
	    !collection(r, icid, &to))
		return false;
	/* Its pending state moves with it (IHI 0069 6.3.11). */
	r->ops->move(r->ops->ctx, to, ev.lpi);
	return wr64(r, ev.ite, (uint64_t)icid << 32 | ev.lpi);
}

static void run_command(struct its_run *r, const uint64_t *c)
{
	uint32_t op = (uint32_t)(c[0] & 0xffu);
	uint32_t vcpu;
	r->cmd0 = c[0];
	r->s->commands++;
	switch (op) {
	case ITS_CMD_MAPD:
		(void)cmd_mapd(r, c);
		break;
	case ITS_CMD_MAPC:
		(void)cmd_mapc(r, c);
		break;
	case ITS_CMD_MAPTI:
	case ITS_CMD_MAPI:
		(void)cmd_mapti(r, c, op == ITS_CMD_MAPI);
		break;
	case ITS_CMD_INT:
	case ITS_CMD_CLEAR:
	case ITS_CMD_DISCARD:
	case ITS_CMD_INV:
		(void)cmd_event(r, c, op);
		break;
	case ITS_CMD_MOVI:
		(void)cmd_movi(r, c);
		break;
	case ITS_CMD_INVALL:
		if (collection(r, (uint32_t)(c[2] & 0xffffu), &vcpu))
			r->ops->invall(r->ops->ctx, vcpu);
		break;
	case ITS_CMD_SYNC:
		/* Everything is done by now; only the target is checked. */
		if (((c[2] >> 16) & 0xffffffffu) >= r->s->vcpus)
			(void)fail(r, ITS_ERR_VCPU);
		break;
	case ITS_CMD_MOVALL:
		break; /* as in Xen: ignored (collections are moved with MAPC) */
	default:
		(void)fail(r, ITS_ERR_UNKNOWN_COMMAND);
		break;
	}
}

/** Run every command between CREADR and CWRITER, each once, then CREADR = CWRITER. */
static void run_queue(struct its *s, const struct its_ops *ops)
{
	if (!(s->ctlr & GITS_CTLR_ENABLED))
		return;
	struct its_run r = { s, ops, 0, false };
	uint64_t size = queue_bytes(s), base = s->cbaser & BITS(51, 12);
	for (uint64_t n = size / ITS_CMD_SIZE; s->creadr != s->cwriter && n > 0; n--) {
		uint8_t b[ITS_CMD_SIZE];
		if (ops->read(ops->ctx, base + s->creadr, b, sizeof(b))) {
			uint64_t c[4];
			for (uint32_t i = 0; i < 4u; i++)
				c[i] = le64(b + 8u * i);
			run_command(&r, c);
		} else {
			r.cmd0 = 0;
			(void)fail(&r, ITS_ERR_READ);
		}
		s->creadr = (s->creadr + ITS_CMD_SIZE) % size;
	}
	s->creadr = s->cwriter;
}

/* ---- registers ------------------------------------------------------------------ */

static uint64_t typer(void)
{
	return 1u /* Physical */ | (uint64_t)(ITS_ITT_ENTRY - 1u) << 4 |
	       (uint64_t)(ITS_EVENTID_BITS - 1u) << 8 | (uint64_t)(ITS_DEVID_BITS - 1u) << 13;
}

/** A 64-bit register read as a whole or as either 32-bit half. */
static bool read64(uint64_t reg, uint64_t offset, uint32_t size, uint64_t *value)
{
	if (size == 8u && (offset & 7u) == 0)
		*value = reg;
	else if (size == 4u && (offset & 3u) == 0)
		*value = (offset & 4u) ? reg >> 32 : reg & 0xffffffffu;
	else
		return false;
	return true;
}

/** The new value of a 64-bit register after a whole or half write; false if refused. */
static bool merge64(uint64_t reg, uint64_t offset, uint32_t size, uint64_t value, uint64_t *out)
{
	if (size == 8u && (offset & 7u) == 0)
		*out = value;
	else if (size == 4u && (offset & 4u))
		*out = (reg & 0xffffffffu) | value << 32;
	else if (size == 4u && (offset & 3u) == 0)
		*out = (reg & ~UINT64_C(0xffffffff)) | (value & 0xffffffffu);
	else
		return false;
	return true;
}

static bool write_ctlr(struct its *s, const struct its_ops *ops, uint64_t v)
{
	if (!(v & GITS_CTLR_ENABLED)) {
		s->ctlr = 0;
		return true;
	}
	/* Enabling needs the command queue and both tables (Xen: all three Valid). */
	if (!(s->cbaser & GITS_VALID) || !(s->baser[0] & GITS_VALID) || !(s->baser[1] & GITS_VALID))
		return true;
	s->ctlr = GITS_CTLR_ENABLED;
	run_queue(s, ops);
	return true;
}

static bool its_write(struct its *s, const struct its_ops *ops, uint64_t off, uint32_t size,
                      uint64_t v)
{
	uint64_t n;
	if (off == GITS_CTLR)
		return size == 4u && write_ctlr(s, ops, v);
	if (off == GITS_TRANSLATER) {
		if (size != 4u)
			return false;
		(void)its_translate(s, ops, s->self_devid,
		                    (uint32_t)v); /* nothing, if untranslatable */
		return true;
	}
	if ((off & ~7u) == GITS_CBASER) {
		if (!merge64(s->cbaser, off, size, v, &n))
			return false;
		if (!(s->ctlr & GITS_CTLR_ENABLED)) { /* ignored while enabled */
			s->cbaser = n & CBASER_WRITABLE;
			s->creadr = 0;
			if (s->cwriter >= queue_bytes(s))
				s->cwriter = 0;
		}
		return true;
	}
	if ((off & ~7u) == GITS_CWRITER) {
		if (!merge64(s->cwriter, off, size, v, &n))
			return false;
		n &= CWRITER_OFFSET;
		if (n < queue_bytes(s)) { /* past the queue's end: runs nothing */
			s->cwriter = n;
			run_queue(s, ops);
		}
		return true;
	}
	if (off >= GITS_BASER0 && off < GITS_BASER0 + 16u) {
		uint64_t *b = &s->baser[(off - GITS_BASER0) / 8u];
		if (!merge64(*b, off, size, v, &n))
			return false;
		if (!(s->ctlr & GITS_CTLR_ENABLED))
			*b = (*b & ~BASER_WRITABLE) | (n & BASER_WRITABLE);
		return true;
	}
	/* Read-only and reserved registers: writes ignored at the sizes they have. */
	return size == 4u || (size == 8u && (off & 7u) == 0);
}

bool its_mmio(struct its *s, const struct its_ops *ops, uint64_t offset, uint32_t size, bool write,
              uint64_t *value)
{
	if (offset >= GITS_FRAME_SIZE || (size != 4u && size != 8u) || (offset & (size - 1u)) != 0)
		return false;
	if (write)
		return its_write(s, ops, offset, size, *value);
	uint64_t off = offset;
	switch (off & ~UINT64_C(7)) {
	case GITS_CTLR: /* CTLR at 0, IIDR at 4 */
		if (size != 4u)
			return false;
		*value = off == GITS_CTLR ?
		                 s->ctlr | (s->cwriter == s->creadr ? GITS_CTLR_QUIESCENT : 0u) :
		                 0u;
		return true;
	case GITS_TYPER:
		return read64(typer(), off, size, value);
	case GITS_CBASER:
		return read64(s->cbaser, off, size, value);
	case GITS_CWRITER:
		return read64(s->cwriter, off, size, value);
	case GITS_CREADR:
		return read64(s->creadr, off, size, value);
	default:
		break;
	}
	if (off >= GITS_BASER0 && off < GITS_BASER0 + 16u)
		return read64(s->baser[(off - GITS_BASER0) / 8u], off, size, value);
	if (off == GITS_PIDR2) {
		*value =
		        0x3bu; /* ArchRev 3 (GICv3), JEDEC-assigned bit and designer bits 6:4 of ARM */
		return size == 4u;
	}
	*value = 0; /* BASER2-7, TRANSLATER (write-only) and the reserved space read as zero */
	return true;
}

bool its_translate(struct its *s, const struct its_ops *ops, uint32_t devid, uint32_t event)
{
	struct its_run r = { s, ops, (uint64_t)devid << 32 | ITS_CMD_INT, true };
	struct its_event ev;
	uint32_t vcpu;
	if (!(s->ctlr & GITS_CTLR_ENABLED) || devid == ITS_NO_DEVICE ||
	    !mapped_event(&r, devid, event, &ev) || !collection(&r, ev.icid, &vcpu)) {
		s->translate_errors++;
		return false;
	}
	s->translations++;
	(void)set_pending(&r, vcpu, ev.lpi, true);
	return true;
}
