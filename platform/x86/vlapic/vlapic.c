/**
 * The virtual xAPIC register model (see x86/vlapic.h). Section references are to the Intel SDM
 * vol 3 chapter 10 ("Advanced Programmable Interrupt Controller"); AMD APM vol 2 chapter 16
 * describes the same xAPIC.
 */
#include <x86/vlapic.h>

typedef unsigned __int128 u128;

/** Version register: integrated APIC (0x14), max LVT entry 6 with CMCI, no EOI suppression. */
#define VLAPIC_VERSION_VALUE (0x14u | ((VLAPIC_LVT_COUNT - 1u) << 16))
/** Frequencies above 1 THz are rejected so that the 128-bit timer arithmetic cannot overflow. */
#define VLAPIC_HZ_MAX (1ull << 40)
/** ICR low bits software may write (10.6.1): vector, mode, dest mode, level, trigger, shorthand. */
#define ICR_LO_WRITABLE 0x000ccfffu
/** Mode bits of the timer LVT (10.5.4). */
#define LVT_TIMER_MODE (3u << 17)

/** Writable bits of each LVT entry (10.5.1 figure 10-8); delivery status and remote IRR are RO. */
static const uint32_t lvt_writable[VLAPIC_LVT_COUNT] = {
	[VLAPIC_LVT_IDX_TIMER] = 0x000100ffu | LVT_TIMER_MODE,
	[VLAPIC_LVT_IDX_THERMAL] = 0x000107ffu,
	[VLAPIC_LVT_IDX_PERF] = 0x000107ffu,
	[VLAPIC_LVT_IDX_LINT0] = 0x0001a7ffu,
	[VLAPIC_LVT_IDX_LINT1] = 0x0001a7ffu,
	[VLAPIC_LVT_IDX_ERROR] = 0x000100ffu,
	[VLAPIC_LVT_IDX_CMCI] = 0x000107ffu,
};

static bool bit_test(const uint32_t *set, unsigned v)
{
	return (set[v / 32] >> (v % 32)) & 1u;
}

static void bit_set(uint32_t *set, unsigned v)
{
	set[v / 32] |= 1u << (v % 32);
}

static void bit_clear(uint32_t *set, unsigned v)
{
	set[v / 32] &= ~(1u << (v % 32));
}

/*
 * IRR and ISR also keep a summary byte, bit i set while word i is not zero,
 * so that finding the highest vector (before every guest entry) is two
 * bit scans instead of a loop over eight words.
 */
static void vec_set(uint32_t *set, uint8_t *summary, unsigned v)
{
	bit_set(set, v);
	*summary |= (uint8_t)(1u << (v / 32));
}

static void vec_clear(uint32_t *set, uint8_t *summary, unsigned v)
{
	bit_clear(set, v);
	if (set[v / 32] == 0)
		*summary &= (uint8_t) ~(1u << (v / 32));
}

/** The highest vector set in a 256-bit register with its summary, or -1. */
static int vec_highest(const uint32_t *set, uint8_t summary)
{
	if (summary == 0)
		return -1;
	int i = 31 - __builtin_clz(summary);
	return i * 32 + 31 - __builtin_clz(set[i]);
}

/** The LVT index of a register offset, or -1. */
static int lvt_index(uint64_t offset)
{
	switch (offset) {
	case VLAPIC_LVT_TIMER:
		return VLAPIC_LVT_IDX_TIMER;
	case VLAPIC_LVT_THERMAL:
		return VLAPIC_LVT_IDX_THERMAL;
	case VLAPIC_LVT_PERF:
		return VLAPIC_LVT_IDX_PERF;
	case VLAPIC_LVT_LINT0:
		return VLAPIC_LVT_IDX_LINT0;
	case VLAPIC_LVT_LINT1:
		return VLAPIC_LVT_IDX_LINT1;
	case VLAPIC_LVT_ERROR:
		return VLAPIC_LVT_IDX_ERROR;
	case VLAPIC_LVT_CMCI:
		return VLAPIC_LVT_IDX_CMCI;
	default:
		return -1;
	}
}

static bool sw_enabled(const struct vlapic *l)
{
	return (l->svr & VLAPIC_SVR_ENABLE) != 0;
}

static uint32_t timer_mode(const struct vlapic *l)
{
	return l->lvt[VLAPIC_LVT_IDX_TIMER] & LVT_TIMER_MODE;
}

/** Divide configuration (10.5.4 figure 10-10): bits 0, 1 and 3; 0b111 divides by 1. */
static uint32_t dcr_divisor(uint32_t dcr)
{
	uint32_t v = (dcr & 3u) | ((dcr >> 1) & 4u);
	return v == 7u ? 1u : 2u << v;
}

/**
 * Records an error (10.5.3): the bit shows in ESR after the next ESR write, and the error LVT
 * raises its vector unless masked. The vector is raised without the illegal-vector check, so that
 * an error vector below 16 cannot recurse.
 */
static void error_raise(struct vlapic *l, uint32_t bits)
{
	l->esr_pending |= bits;
	uint32_t lvt = l->lvt[VLAPIC_LVT_IDX_ERROR];
	if (!(lvt & VLAPIC_LVT_MASKED) && (lvt & 0xffu) >= 16u)
		vec_set(l->irr, &l->irr_summary, lvt & 0xffu);
}

/** A vector's arrival in IRR; vectors 0-15 are illegal (10.5.2) and flagged in ESR instead. */
static bool accept_vector(struct vlapic *l, uint8_t vector, bool level)
{
	if (vector < 16) {
		error_raise(l, VLAPIC_ESR_RECV_ILLEGAL_VECTOR);
		return false;
	}
	vec_set(l->irr, &l->irr_summary, vector);
	if (level)
		bit_set(l->tmr, vector);
	else
		bit_clear(l->tmr, vector);
	return true;
}

bool vlapic_init(struct vlapic *l, const struct vlapic_config *cfg)
{
	if (cfg->time_hz == 0 || cfg->time_hz > VLAPIC_HZ_MAX || cfg->bus_hz == 0 ||
	    cfg->bus_hz > VLAPIC_HZ_MAX)
		return false;
	if (cfg->tsc_deadline && (cfg->tsc_hz == 0 || cfg->tsc_hz > VLAPIC_HZ_MAX))
		return false;
	l->cfg = *cfg;
	vlapic_reset(l);
	return true;
}

/** Power-up and INIT state (10.4.7.1): everything cleared but the ID, LVTs masked, DFR all ones. */
void vlapic_reset(struct vlapic *l)
{
	l->tpr = 0;
	l->ldr = 0;
	l->dfr = 0xffffffffu;
	l->svr = 0xffu;
	l->icr_lo = 0;
	l->icr_hi = 0;
	l->esr = 0;
	l->esr_pending = 0;
	for (unsigned i = 0; i < VLAPIC_LVT_COUNT; i++)
		l->lvt[i] = VLAPIC_LVT_MASKED;
	for (unsigned i = 0; i < 8; i++) {
		l->irr[i] = 0;
		l->isr[i] = 0;
		l->tmr[i] = 0;
	}
	l->irr_summary = 0;
	l->isr_summary = 0;
	l->timer_icr = 0;
	l->timer_dcr = 0;
	l->timer_armed = false;
	l->timer_start = 0;
	l->timer_divisor = 2;
	l->tsc_deadline = 0;
}

/** PPR (10.8.3.1): TPR if its class is at least that of the highest in-service vector. */
uint32_t vlapic_ppr(const struct vlapic *l)
{
	int isrv = vec_highest(l->isr, l->isr_summary);
	uint32_t isr_class = isrv < 0 ? 0 : ((uint32_t)isrv & 0xf0u);
	return (l->tpr & 0xf0u) >= isr_class ? l->tpr : isr_class;
}

/** APR (10.6.2.4): the priority used for lowest-priority arbitration. */
uint32_t vlapic_apr(const struct vlapic *l)
{
	int isrv = vec_highest(l->isr, l->isr_summary), irrv = vec_highest(l->irr, l->irr_summary);
	uint32_t isr_class = isrv < 0 ? 0 : ((uint32_t)isrv & 0xf0u);
	uint32_t irr_class = irrv < 0 ? 0 : ((uint32_t)irrv & 0xf0u);
	uint32_t tpr_class = l->tpr & 0xf0u;
	if (tpr_class >= irr_class && tpr_class > isr_class)
		return l->tpr;
	uint32_t apr = tpr_class;
	if (isr_class > apr)
		apr = isr_class;
	if (irr_class > apr)
		apr = irr_class;
	return apr;
}

/**
 * The vector to inject (10.8.4): the highest in IRR whose priority class is above PPR's;
 * -1 if none.
 */
int vlapic_pending(const struct vlapic *l)
{
	int irrv = vec_highest(l->irr, l->irr_summary);
	if (irrv < 0 || ((uint32_t)irrv & 0xf0u) <= (vlapic_ppr(l) & 0xf0u))
		return -1;
	return irrv;
}

/** The processor took the vector (the caller injected it): IRR -> ISR. */
void vlapic_ack(struct vlapic *l, uint8_t vector)
{
	if (!bit_test(l->irr, vector))
		return;
	vec_clear(l->irr, &l->irr_summary, vector);
	vec_set(l->isr, &l->isr_summary, vector);
}

/** EOI (10.8.5): retires the highest in-service vector, whatever value is written. */
static void eoi(struct vlapic *l)
{
	int isrv = vec_highest(l->isr, l->isr_summary);
	if (isrv < 0)
		return;
	vec_clear(l->isr, &l->isr_summary, (unsigned)isrv);
	bit_clear(l->tmr, (unsigned)isrv);
}

/** Raises an interrupt from outside the APIC (an I/O APIC pin, a service's inject right). */
bool vlapic_raise(struct vlapic *l, uint8_t vector, bool level)
{
	return accept_vector(l, vector, level);
}

/* ---- timer (10.5.4) ---- */

static u128 scaled_now(const struct vlapic *l, uint64_t now)
{
	return (u128)now * l->cfg.bus_hz;
}

/** Length of one count in scaled time (time units times bus_hz). */
static u128 period_scaled(const struct vlapic *l)
{
	return (u128)l->timer_icr * l->timer_divisor * l->cfg.time_hz;
}

/** Counts elapsed in the current period at `now` (0 if the caller's time went backwards). */
static u128 counts_elapsed(const struct vlapic *l, uint64_t now)
{
	u128 nowb = scaled_now(l, now);
	if (nowb <= l->timer_start)
		return 0;
	return (nowb - l->timer_start) / ((u128)l->timer_divisor * l->cfg.time_hz);
}

static uint32_t current_count(const struct vlapic *l, uint64_t now)
{
	if (!l->timer_armed || timer_mode(l) == VLAPIC_TIMER_TSC_DEADLINE)
		return 0;
	u128 done = counts_elapsed(l, now);
	if (timer_mode(l) == VLAPIC_TIMER_PERIODIC)
		return l->timer_icr - (uint32_t)(done % l->timer_icr);
	return done >= l->timer_icr ? 0 : l->timer_icr - (uint32_t)done;
}

/** A write of the initial count starts (or, with 0, stops) the count at `now`. */
static void timer_load(struct vlapic *l, uint32_t count, uint64_t now)
{
	l->timer_icr = count;
	l->timer_divisor = dcr_divisor(l->timer_dcr);
	l->timer_start = scaled_now(l, now);
	l->timer_armed = count != 0;
}

/** Rounds scaled time up to the caller's unit, saturating at the end of time. */
static uint64_t unscale_ceil(u128 t, uint64_t hz)
{
	u128 q = (t + hz - 1) / hz;
	return q > UINT64_MAX ? UINT64_MAX : (uint64_t)q;
}

/** IA32_TSC_DEADLINE in the caller's time unit, rounded up. */
static uint64_t tsc_to_time(const struct vlapic *l, uint64_t tsc)
{
	return unscale_ceil((u128)tsc * l->cfg.time_hz, l->cfg.tsc_hz);
}

/**
 * When the timer next expires (time units, rounded up), so the caller can set its own timer;
 * false if it is not armed. The expiry raises the vector at the first vlapic_advance() at or after
 * that time.
 */
bool vlapic_next_deadline(const struct vlapic *l, uint64_t *when)
{
	if (timer_mode(l) == VLAPIC_TIMER_TSC_DEADLINE) {
		if (l->tsc_deadline == 0)
			return false;
		*when = l->tsc_deadline_time;
		return true;
	}
	if (!l->timer_armed)
		return false;
	*when = unscale_ceil(l->timer_start + period_scaled(l), l->cfg.bus_hz);
	return true;
}

/** A masked timer still counts but raises nothing (10.5.1). */
static void timer_fire(struct vlapic *l)
{
	uint32_t lvt = l->lvt[VLAPIC_LVT_IDX_TIMER];
	if (!(lvt & VLAPIC_LVT_MASKED))
		accept_vector(l, (uint8_t)lvt, false);
}

/**
 * Time has reached `now`: an expired timer raises its vector once. A periodic timer reloads
 * from its initial count; periods that passed entirely before this call are coalesced into that one
 * interrupt, as an interrupt already pending in IRR would absorb them anyway.
 */
void vlapic_advance(struct vlapic *l, uint64_t now)
{
	if (timer_mode(l) == VLAPIC_TIMER_TSC_DEADLINE) {
		if (l->tsc_deadline != 0 && now >= l->tsc_deadline_time) {
			l->tsc_deadline = 0;
			timer_fire(l);
		}
		return;
	}
	if (!l->timer_armed)
		return;
	u128 period = period_scaled(l), nowb = scaled_now(l, now);
	if (nowb < l->timer_start + period)
		return;
	timer_fire(l);
	if (timer_mode(l) == VLAPIC_TIMER_PERIODIC)
		l->timer_start += (nowb - l->timer_start) / period * period;
	else
		l->timer_armed = false;
}

/**
 * IA32_TSC_DEADLINE (MSR 0x6e0, 10.5.4.1). False when the guest's CPUID does not offer the
 * mode (the caller raises #GP). Outside TSC-deadline mode the MSR reads 0 and writes are ignored.
 */
bool vlapic_tsc_deadline_read(const struct vlapic *l, uint64_t *value)
{
	if (!l->cfg.tsc_deadline)
		return false;
	*value = timer_mode(l) == VLAPIC_TIMER_TSC_DEADLINE ? l->tsc_deadline : 0;
	return true;
}

bool vlapic_tsc_deadline_write(struct vlapic *l, uint64_t value)
{
	if (!l->cfg.tsc_deadline)
		return false;
	if (timer_mode(l) == VLAPIC_TIMER_TSC_DEADLINE) {
		l->tsc_deadline = value;
		l->tsc_deadline_time = tsc_to_time(l, value);
	}
	return true;
}

/* ---- register access ---- */

static uint32_t read_reg(const struct vlapic *l, uint64_t offset, uint64_t now)
{
	if (offset >= VLAPIC_ISR && offset < VLAPIC_ISR + 0x80)
		return l->isr[(offset - VLAPIC_ISR) / 16];
	if (offset >= VLAPIC_TMR && offset < VLAPIC_TMR + 0x80)
		return l->tmr[(offset - VLAPIC_TMR) / 16];
	if (offset >= VLAPIC_IRR && offset < VLAPIC_IRR + 0x80)
		return l->irr[(offset - VLAPIC_IRR) / 16];
	int lvt = lvt_index(offset);
	if (lvt >= 0)
		return l->lvt[lvt];
	switch (offset) {
	case VLAPIC_ID:
		return (uint32_t)l->cfg.apic_id << 24;
	case VLAPIC_VERSION:
		return VLAPIC_VERSION_VALUE;
	case VLAPIC_TPR:
		return l->tpr;
	case VLAPIC_APR:
		return vlapic_apr(l);
	case VLAPIC_PPR:
		return vlapic_ppr(l);
	case VLAPIC_LDR:
		return l->ldr;
	case VLAPIC_DFR:
		return l->dfr;
	case VLAPIC_SVR:
		return l->svr;
	case VLAPIC_ESR:
		return l->esr;
	case VLAPIC_ICR_LO:
		return l->icr_lo; /* delivery status (bit 12) is always idle: delivery is immediate */
	case VLAPIC_ICR_HI:
		return l->icr_hi;
	case VLAPIC_TIMER_ICR:
		return l->timer_icr;
	case VLAPIC_TIMER_CCR:
		return current_count(l, now);
	case VLAPIC_TIMER_DCR:
		return l->timer_dcr;
	default:
		return 0; /* EOI and RRD (remote read is not supported) read as zero */
	}
}

/** Offsets of registers that exist; an access elsewhere is an illegal register address. */
static bool reg_exists(uint64_t offset)
{
	if (offset >= VLAPIC_ISR && offset < VLAPIC_IRR + 0x80)
		return true;
	if (lvt_index(offset) >= 0)
		return true;
	switch (offset) {
	case VLAPIC_ID:
	case VLAPIC_VERSION:
	case VLAPIC_TPR:
	case VLAPIC_APR:
	case VLAPIC_PPR:
	case VLAPIC_EOI:
	case VLAPIC_RRD:
	case VLAPIC_LDR:
	case VLAPIC_DFR:
	case VLAPIC_SVR:
	case VLAPIC_ESR:
	case VLAPIC_ICR_LO:
	case VLAPIC_ICR_HI:
	case VLAPIC_TIMER_ICR:
	case VLAPIC_TIMER_CCR:
	case VLAPIC_TIMER_DCR:
		return true;
	default:
		return false;
	}
}

/**
 * Checks width and alignment (10.4.1): registers are 32 bits wide on 16-byte boundaries and are
 * to be accessed with aligned 32-bit loads and stores. Anything narrower, wider or unaligned has
 * undefined results on hardware; here it is an error the caller turns into a fault of the guest.
 * Aligned 32-bit accesses to bytes 4-15 of a slot, and to reserved slots, read as zero and ignore
 * writes; a reserved slot also sets "illegal register address" in ESR (10.5.3).
 */
static enum vlapic_result check_access(struct vlapic *l, uint64_t offset, unsigned size, bool *reg)
{
	if (size != 4 || offset >= VLAPIC_SIZE || (offset & 3u) != 0)
		return VLAPIC_BAD_ACCESS;
	*reg = (offset & 0xfu) == 0 && reg_exists(offset);
	if ((offset & 0xfu) == 0 && !*reg)
		error_raise(l, VLAPIC_ESR_ILLEGAL_REGISTER);
	return VLAPIC_DONE;
}

enum vlapic_result vlapic_read(struct vlapic *l, uint64_t offset, unsigned size, uint64_t now,
                               uint32_t *value)
{
	bool reg = false;
	enum vlapic_result r = check_access(l, offset, size, &reg);
	if (r == VLAPIC_DONE)
		*value = reg ? read_reg(l, offset, now) : 0;
	return r;
}

static void write_lvt(struct vlapic *l, int idx, uint32_t value)
{
	uint32_t old = l->lvt[idx];
	uint32_t v = value & lvt_writable[idx];
	if (idx == VLAPIC_LVT_IDX_TIMER) {
		uint32_t mode = v & LVT_TIMER_MODE;
		/* Mode 3 is reserved, and mode 2 exists only if CPUID offers it (10.5.4.1). */
		if (mode == (3u << 17) ||
		    (mode == VLAPIC_TIMER_TSC_DEADLINE && !l->cfg.tsc_deadline))
			v = (v & ~LVT_TIMER_MODE) | (old & LVT_TIMER_MODE);
		/* Changing the mode disarms the timer (10.5.4.1). */
		if ((v & LVT_TIMER_MODE) != (old & LVT_TIMER_MODE)) {
			l->timer_armed = false;
			l->timer_icr = 0;
			l->tsc_deadline = 0;
		}
	}
	/* While software-disabled, the mask bits stay set (10.4.7.2). */
	if (!sw_enabled(l))
		v |= VLAPIC_LVT_MASKED;
	l->lvt[idx] = v;
}

/**
 * An ICR low write sends the message (10.6.1). Illegal vectors of fixed and lowest-priority
 * messages are refused with "send illegal vector". The self and all-including-self shorthands are
 * valid with fixed delivery only (table 10-3), so other modes with them send nothing, as do SMI
 * (a guest has no SMM here), the reserved modes, and an INIT level de-assert (a synchronisation
 * message with nothing to do; table 10-4 note 3).
 */
static enum vlapic_result send_ipi(struct vlapic *l, struct vlapic_ipi *ipi)
{
	uint32_t lo = l->icr_lo;
	ipi->vector = (uint8_t)lo;
	ipi->mode = (uint8_t)((lo >> 8) & 7u);
	ipi->logical = (lo & (1u << 11)) != 0;
	ipi->shorthand = (uint8_t)((lo >> 18) & 3u);
	ipi->dest = (uint8_t)(l->icr_hi >> 24);
	if (ipi->mode != VLAPIC_DM_FIXED &&
	    (ipi->shorthand == VLAPIC_SH_SELF || ipi->shorthand == VLAPIC_SH_ALL))
		return VLAPIC_DONE;
	switch (ipi->mode) {
	case VLAPIC_DM_FIXED:
	case VLAPIC_DM_LOWEST:
		if (ipi->vector < 16) {
			error_raise(l, VLAPIC_ESR_SEND_ILLEGAL_VECTOR);
			return VLAPIC_DONE;
		}
		return VLAPIC_IPI;
	case VLAPIC_DM_INIT:
		if ((lo & (1u << 15)) && !(lo & (1u << 14)))
			return VLAPIC_DONE;
		return VLAPIC_IPI;
	case VLAPIC_DM_NMI:
	case VLAPIC_DM_SIPI:
		return VLAPIC_IPI;
	default:
		return VLAPIC_DONE;
	}
}

enum vlapic_result vlapic_write(struct vlapic *l, uint64_t offset, unsigned size, uint32_t value,
                                uint64_t now, struct vlapic_ipi *ipi)
{
	bool reg = false;
	enum vlapic_result r = check_access(l, offset, size, &reg);
	if (r != VLAPIC_DONE || !reg)
		return r;
	int lvt = lvt_index(offset);
	if (lvt >= 0) {
		write_lvt(l, lvt, value);
		return VLAPIC_DONE;
	}
	switch (offset) {
	case VLAPIC_TPR:
		l->tpr = value & 0xffu;
		break;
	case VLAPIC_EOI:
		eoi(l);
		break;
	case VLAPIC_LDR:
		l->ldr = value & 0xff000000u;
		break;
	case VLAPIC_DFR:
		l->dfr = (value & 0xf0000000u) | 0x0fffffffu;
		break;
	case VLAPIC_SVR:
		/* Bit 12 (EOI-broadcast suppression) is reserved: the version register does not offer
		 * it. Clearing the enable bit masks every LVT entry (10.4.7.2). */
		l->svr = value & 0x3ffu;
		if (!sw_enabled(l))
			for (unsigned i = 0; i < VLAPIC_LVT_COUNT; i++)
				l->lvt[i] |= VLAPIC_LVT_MASKED;
		break;
	case VLAPIC_ESR:
		/* A write latches the errors seen since the previous write (10.5.3). */
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		break;
	case VLAPIC_ICR_HI:
		l->icr_hi = value & 0xff000000u;
		break;
	case VLAPIC_ICR_LO:
		l->icr_lo = value & ICR_LO_WRITABLE;
		return send_ipi(l, ipi);
	case VLAPIC_TIMER_ICR:
		/* In TSC-deadline mode the initial count is ignored (10.5.4.1). */
		if (timer_mode(l) != VLAPIC_TIMER_TSC_DEADLINE)
			timer_load(l, value, now);
		break;
	case VLAPIC_TIMER_DCR:
		/* The new divisor applies from the next load of the initial count. */
		l->timer_dcr = value & 0xbu;
		break;
	default:
		break; /* ID, version, APR, PPR, RRD, ISR, TMR, IRR, current count: read-only */
	}
	return VLAPIC_DONE;
}

/* ---- IPI routing (10.6.2) ---- */

/** Logical destination (10.6.2.2): flat compares bit masks, cluster compares cluster and mask. */
static bool logical_match(const struct vlapic *l, uint8_t mda)
{
	uint8_t ldr = (uint8_t)(l->ldr >> 24);
	if (mda == 0xff)
		return true;
	if ((l->dfr >> 28) == 0xfu)
		return (ldr & mda) != 0;
	if ((mda >> 4) != (ldr >> 4) && (mda >> 4) != 0xfu)
		return false;
	return (ldr & mda & 0x0fu) != 0;
}

static bool dest_match(const struct vlapic *l, const struct vlapic_ipi *ipi)
{
	if (ipi->logical)
		return logical_match(l, ipi->dest);
	return ipi->dest == 0xff || ipi->dest == l->cfg.apic_id;
}

/**
 * The vLAPICs (indices into lapics[], at most 64) that an IPI sent by lapics[self] reaches. A
 * lowest-priority message goes to the lowest-indexed match only: arbitration by APR is optional
 * for a virtual machine, and one fixed target keeps delivery deterministic.
 */
uint64_t vlapic_ipi_targets(const struct vlapic_ipi *ipi, const struct vlapic *const *lapics,
                            size_t count, size_t self)
{
	uint64_t mask = 0;
	if (count > 64)
		count = 64;
	for (size_t i = 0; i < count; i++) {
		bool hit;
		switch (ipi->shorthand) {
		case VLAPIC_SH_SELF:
			hit = i == self;
			break;
		case VLAPIC_SH_ALL:
			hit = true;
			break;
		case VLAPIC_SH_OTHERS:
			hit = i != self;
			break;
		default:
			hit = dest_match(lapics[i], ipi);
			break;
		}
		if (hit)
			mask |= 1ull << i;
	}
	if (ipi->mode == VLAPIC_DM_LOWEST && mask != 0)
		mask = 1ull << __builtin_ctzll(mask);
	return mask;
}

/** Delivers an IPI to one of its targets; INIT resets the target (10.4.7.3), keeping its ID. */
enum vlapic_event vlapic_ipi_accept(struct vlapic *target, const struct vlapic_ipi *ipi)
{
	switch (ipi->mode) {
	case VLAPIC_DM_FIXED:
	case VLAPIC_DM_LOWEST:
		accept_vector(target, ipi->vector, false);
		return VLAPIC_EV_NONE;
	case VLAPIC_DM_NMI:
		return VLAPIC_EV_NMI;
	case VLAPIC_DM_INIT:
		vlapic_reset(target);
		return VLAPIC_EV_INIT;
	case VLAPIC_DM_SIPI:
		return VLAPIC_EV_SIPI;
	default:
		return VLAPIC_EV_NONE;
	}
}
