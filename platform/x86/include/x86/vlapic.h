/**
 * A virtual xAPIC (local APIC in xAPIC mode) for one vCPU: the register model of the 4 KiB MMIO
 * page at 0xFEE00000 (Intel SDM vol 3 ch. 10, AMD APM vol 2 ch. 16), interrupt acceptance
 * (IRR/ISR/TMR, TPR/PPR), inter-processor interrupts and the APIC timer.
 *
 * Plain C without hardware access: the caller (the SVM exit path) decodes the trapped access,
 * passes the time, injects the vector that vlapic_pending() names and routes IPIs between the
 * vLAPICs of a partition. Nothing here can be made to panic or log by a guest.
 *
 *   guest MMIO -> vlapic_read/vlapic_write -> registers
 *                                          -> VLAPIC_IPI: caller calls vlapic_ipi_targets()
 *                                             and vlapic_ipi_accept() on every target
 *   caller time -> vlapic_advance(now)     -> timer vector into IRR
 *   vlapic_pending() -> EVENTINJ / V_IRQ  -> vlapic_ack() moves IRR to ISR; EOI clears ISR
 *
 * Time is in the caller's unit (nanoseconds, or TSC ticks), of which there are time_hz per
 * second; the timer counts at bus_hz divided by the divide configuration.
 */
#ifndef X86_VLAPIC_H
#define X86_VLAPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VLAPIC_BASE 0xfee00000u
#define VLAPIC_SIZE 0x1000u

/** Register offsets in the xAPIC page (SDM vol 3 table 10-1). */
enum vlapic_reg {
	VLAPIC_ID = 0x020,
	VLAPIC_VERSION = 0x030,
	VLAPIC_TPR = 0x080,
	VLAPIC_APR = 0x090,
	VLAPIC_PPR = 0x0a0,
	VLAPIC_EOI = 0x0b0,
	VLAPIC_RRD = 0x0c0,
	VLAPIC_LDR = 0x0d0,
	VLAPIC_DFR = 0x0e0,
	VLAPIC_SVR = 0x0f0,
	VLAPIC_ISR = 0x100, /**< eight registers, 0x100..0x170 */
	VLAPIC_TMR = 0x180, /**< 0x180..0x1f0 */
	VLAPIC_IRR = 0x200, /**< 0x200..0x270 */
	VLAPIC_ESR = 0x280,
	VLAPIC_LVT_CMCI = 0x2f0,
	VLAPIC_ICR_LO = 0x300,
	VLAPIC_ICR_HI = 0x310,
	VLAPIC_LVT_TIMER = 0x320,
	VLAPIC_LVT_THERMAL = 0x330,
	VLAPIC_LVT_PERF = 0x340,
	VLAPIC_LVT_LINT0 = 0x350,
	VLAPIC_LVT_LINT1 = 0x360,
	VLAPIC_LVT_ERROR = 0x370,
	VLAPIC_TIMER_ICR = 0x380,
	VLAPIC_TIMER_CCR = 0x390,
	VLAPIC_TIMER_DCR = 0x3e0,
};

/** The local vector table entries, in the order of struct vlapic's lvt[]. */
enum vlapic_lvt {
	VLAPIC_LVT_IDX_TIMER,
	VLAPIC_LVT_IDX_THERMAL,
	VLAPIC_LVT_IDX_PERF,
	VLAPIC_LVT_IDX_LINT0,
	VLAPIC_LVT_IDX_LINT1,
	VLAPIC_LVT_IDX_ERROR,
	VLAPIC_LVT_IDX_CMCI,
	VLAPIC_LVT_COUNT,
};

#define VLAPIC_LVT_MASKED (1u << 16)
#define VLAPIC_TIMER_ONESHOT (0u << 17)
#define VLAPIC_TIMER_PERIODIC (1u << 17)
#define VLAPIC_TIMER_TSC_DEADLINE (2u << 17)
#define VLAPIC_SVR_ENABLE (1u << 8)

/** ESR bits (SDM vol 3 figure 10-9). */
#define VLAPIC_ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define VLAPIC_ESR_RECV_ILLEGAL_VECTOR (1u << 6)
#define VLAPIC_ESR_ILLEGAL_REGISTER (1u << 7)

/** ICR delivery modes (SDM vol 3 figure 10-12, bits 10:8). */
enum vlapic_delivery {
	VLAPIC_DM_FIXED = 0,
	VLAPIC_DM_LOWEST = 1,
	VLAPIC_DM_SMI = 2,
	VLAPIC_DM_NMI = 4,
	VLAPIC_DM_INIT = 5,
	VLAPIC_DM_SIPI = 6,
};

/** ICR destination shorthands (bits 19:18). */
enum vlapic_shorthand {
	VLAPIC_SH_NONE = 0,
	VLAPIC_SH_SELF = 1,
	VLAPIC_SH_ALL = 2,
	VLAPIC_SH_OTHERS = 3,
};

/** What the caller fixes for a vLAPIC; vlapic_init() rejects a configuration it cannot run. */
struct vlapic_config {
	uint8_t apic_id;
	uint64_t time_hz;  /**< units of the caller's time per second (1e9 for ns) */
	uint64_t bus_hz;   /**< APIC timer input clock before the divider */
	bool tsc_deadline; /**< the guest's CPUID.01H:ECX[24] offers TSC-deadline mode */
	uint64_t tsc_hz;   /**< guest TSC frequency; needed only with tsc_deadline */
};

/** The result of one trapped access. */
enum vlapic_result {
	VLAPIC_DONE,       /**< completed (including read-as-zero / write-ignored) */
	VLAPIC_IPI,        /**< an ICR write: the caller delivers *ipi */
	VLAPIC_BAD_ACCESS, /**< wrong width, alignment or offset: the caller faults the guest */
};

/** An interrupt message that an ICR write sends; decoded so that the caller need not. */
struct vlapic_ipi {
	uint8_t vector;
	uint8_t mode;      /**< enum vlapic_delivery */
	uint8_t shorthand; /**< enum vlapic_shorthand */
	uint8_t dest;      /**< ICR bits 63:56 */
	bool logical;      /**< destination mode: logical (true) or physical */
};

/** What a target does with an accepted IPI beyond its IRR; the caller acts on the vCPU. */
enum vlapic_event {
	VLAPIC_EV_NONE,
	VLAPIC_EV_NMI,  /**< inject an NMI */
	VLAPIC_EV_INIT, /**< the vLAPIC was reset; the vCPU waits for a SIPI */
	VLAPIC_EV_SIPI, /**< start the vCPU at vector << 12 in real mode */
};

/** The state of one vLAPIC. Fields are private to vlapic.c; tests read them. */
struct vlapic {
	struct vlapic_config cfg;
	uint32_t tpr, ldr, dfr, svr, icr_lo, icr_hi;
	uint32_t esr;         /**< what ESR reads: latched by the last ESR write */
	uint32_t esr_pending; /**< errors since that write */
	uint32_t lvt[VLAPIC_LVT_COUNT];
	uint32_t irr[8], isr[8], tmr[8];
	uint8_t irr_summary, isr_summary; /**< bit i: word i of irr / isr is not zero */
	uint32_t timer_icr, timer_dcr;
	/**
	 * One-shot and periodic mode: the current period began at timer_start / bus_hz time
	 * units. Scaling by bus_hz keeps the start exact, so periodic reloads never drift.
	 */
	bool timer_armed;
	unsigned __int128 timer_start;
	uint32_t timer_divisor; /**< latched when the count was loaded */
	uint64_t tsc_deadline;  /**< IA32_TSC_DEADLINE; 0 = disarmed */
	/** tsc_deadline in the caller's unit, converted once when written (entries compare it). */
	uint64_t tsc_deadline_time;
};

bool vlapic_init(struct vlapic *l, const struct vlapic_config *cfg);
void vlapic_reset(struct vlapic *l);

enum vlapic_result vlapic_read(struct vlapic *l, uint64_t offset, unsigned size, uint64_t now,
                               uint32_t *value);
enum vlapic_result vlapic_write(struct vlapic *l, uint64_t offset, unsigned size, uint32_t value,
                                uint64_t now, struct vlapic_ipi *ipi);

uint64_t vlapic_ipi_targets(const struct vlapic_ipi *ipi, const struct vlapic *const *lapics,
                            size_t count, size_t self);
enum vlapic_event vlapic_ipi_accept(struct vlapic *target, const struct vlapic_ipi *ipi);
bool vlapic_raise(struct vlapic *l, uint8_t vector, bool level);

int vlapic_pending(const struct vlapic *l);
void vlapic_ack(struct vlapic *l, uint8_t vector);
uint32_t vlapic_ppr(const struct vlapic *l);
uint32_t vlapic_apr(const struct vlapic *l);

bool vlapic_next_deadline(const struct vlapic *l, uint64_t *when);
void vlapic_advance(struct vlapic *l, uint64_t now);
bool vlapic_tsc_deadline_read(const struct vlapic *l, uint64_t *value);
bool vlapic_tsc_deadline_write(struct vlapic *l, uint64_t value);

#endif /* X86_VLAPIC_H */
