/**
 * Controls and observations of the fake platform, for host unit tests.
 *
 * plat_system_off, arch_halt_all and plat_cpu_park longjmp to fake_exit_jmp
 * when a test armed it (FAKE_EXPECT_EXIT), so a test can check that the
 * system powered off, a CPU was parked (or that it did not panic) and go on.
 */
#ifndef FAKE_FAKE_H
#define FAKE_FAKE_H

#include <kernel/types.h>
#include <setjmp.h>

extern u32 fake_cpu;              /**< what arch_cpu_index returns */
extern u64 fake_now_ns;           /**< what plat_timer_now_ns returns */
extern u64 fake_timer_deadline;   /**< last plat_timer_set, 0 when cancelled */
extern u32 fake_kicks;            /**< plat_cpu_kick calls */
extern u32 fake_flushes;          /**< arch_stage2_flush calls */
extern u32 fake_ipa_flushes;      /**< arch_stage2_invalidate_ipa calls */
extern u64 fake_last_flushed_ipa; /**< the IPA of the last of them */
extern u64 fake_fault_gla;        /**< what arch_vcpu_fault_info reports (0: unknown) */
extern u32 fake_trap_regs;        /**< the last arch_vcpu_trap_regs mask */
extern u32 fake_reg_done_count;   /**< arch_vcpu_reg_write_done calls, and the last one's: */
extern u32 fake_reg_done_reg;
extern u64 fake_reg_done_value;
extern bool fake_reg_done_commit;
extern bool fake_step;           /**< the last arch_vcpu_set_step */
extern u64 fake_vmi_regs[4];     /**< what arch_vcpu_vmi_regs gives */
extern u32 fake_vmi_pauses;      /**< arch_vcpu_vmi_pause calls */
extern u32 fake_trap_msr_count;  /**< the last arch_vcpu_trap_msrs' list length */
extern bool fake_trap_msrs_full; /**< arch_vcpu_trap_msrs has no room */
extern u32 fake_lpi_calls, fake_lpi_last_vcpu, fake_lpi_last_intid, fake_lpi_last_op;
extern u32 fake_setup_calls;          /**< arch_partition_setup calls */
extern u32 fake_setup_irqs;           /**< interrupts passed to it, summed */
extern const char *fake_setup_refuse; /**< what it answers (NULL: accept) */
/** arch_vcpu_mmio_complete / _abort calls and their last arguments. */
struct fake_mmio {
	u32 completions, aborts;
	u64 arch_info, value, address;
	u32 size;
	bool write;
};
extern struct fake_mmio fake_mmio;
/** arch_virq_inject: accepts SPIs 32-63 and names vCPU 0; counts and the last call. */
extern u32 fake_injects;
extern u32 fake_inject_last_intid;
extern bool fake_inject_last_level;
extern jmp_buf fake_exit_jmp;
extern bool fake_exit_armed;
/**
 * plat_system_off status, -1 for a halt (panic), -2 for a parked CPU
 * (plat_cpu_park), -3 for a CPU that would wait for another (below)
 */
extern int fake_exit_status;
/**
 * arch_cpu_relax calls; with fake_relax_exits set, the first one exits
 * (FAKE_EXPECT_EXIT, status -3): the host has one thread, so a wait for
 * another CPU (a spin on a lock it holds) would never end.
 */
extern u32 fake_relaxes;
extern bool fake_relax_exits;

/** The UART: bytes it takes before it reports full (UINT32_MAX: never full). */
extern u32 fake_console_room;
/** Keyboard bytes plat_console_try_getc returns, one per call, until rx_len. */
extern const char *fake_console_rx;
extern u32 fake_console_rx_len;
extern u64 fake_console_bytes;    /**< bytes the UART took, CRs included */
extern u32 fake_console_waits;    /**< blocking writes while full (a real UART would wait) */
extern u32 fake_console_refusals; /**< non-blocking writes refused while full */

/** The console output so far (NUL-terminated) and clearing it. */
const char *fake_console(void);
void fake_console_clear(void);

/** Run stmt; true if it ended in plat_system_off/arch_halt_all/plat_cpu_park. */
#define FAKE_EXPECT_EXIT(stmt)                    \
	({                                        \
		bool exited_ = false;             \
		fake_exit_armed = true;           \
		if (setjmp(fake_exit_jmp) == 0) { \
			stmt;                     \
		} else {                          \
			exited_ = true;           \
		}                                 \
		fake_exit_armed = false;          \
		exited_;                          \
	})

#endif /* FAKE_FAKE_H */
