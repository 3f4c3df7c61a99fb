/**
 * The fake platform: every arch_* and plat_* function of the seam,
 * implemented on the host so the kernel core runs in unit tests under
 * ASan and UBSan (the approach of Hafnium's arch/fake).
 *
 * Stage-2 entries use a made-up encoding: bit 0 valid, bits 1-3 rights,
 * bit 4 device, bits 12+ the address.
 */
#include <arch/cpu.h>
#include <arch/stage2.h>
#include <arch/vcpu.h>
#include <arch/virq.h>
#include <fake.h>
#include <kernel/trap.h>
#include <plat/console.h>
#include <plat/cpu.h>
#include <plat/memory.h>
#include <plat/power.h>
#include <plat/timer.h>
#include <stdio.h>
#include <stdlib.h>

u32 fake_cpu;
u64 fake_now_ns;
u64 fake_timer_deadline;
u32 fake_kicks;
u32 fake_flushes;
jmp_buf fake_exit_jmp;
bool fake_exit_armed;
int fake_exit_status;

u32 fake_console_room = UINT32_MAX;
u64 fake_console_bytes;
u32 fake_console_waits;
u32 fake_console_refusals;

static char console_buf[1 << 16];
static size_t console_len;

const char *fake_console(void)
{
	return console_buf;
}

void fake_console_clear(void)
{
	console_len = 0;
	console_buf[0] = '\0';
}

/** The UART takes c: count it, and keep it (but CR) for fake_console(). */
static void fake_console_take(char c)
{
	fake_console_bytes++;
	if (fake_console_room != UINT32_MAX)
		fake_console_room--;
	if (getenv("FAKE_CONSOLE_ECHO") != NULL)
		fputc(c, stderr);
	if (c == '\r' || console_len + 1 >= sizeof(console_buf))
		return;
	console_buf[console_len++] = c;
	console_buf[console_len] = '\0';
}

/** A blocking write: on a full UART a real one would wait here, so count it. */
void plat_console_putc(char c)
{
	if (fake_console_room == 0) {
		fake_console_waits++;
		return;
	}
	fake_console_take(c);
}

const char *fake_console_rx;
u32 fake_console_rx_len;

bool plat_console_try_getc(char *c)
{
	if (fake_console_rx_len == 0)
		return false;
	*c = *fake_console_rx++;
	fake_console_rx_len--;
	return true;
}

bool plat_console_try_putc(char c)
{
	if (fake_console_room == 0) {
		fake_console_refusals++;
		return false;
	}
	fake_console_take(c);
	return true;
}

u32 arch_cpu_index(void)
{
	return fake_cpu;
}

void arch_wait_for_interrupt(void)
{
}

static _Noreturn void fake_exit(int status)
{
	fake_exit_status = status;
	if (fake_exit_armed)
		longjmp(fake_exit_jmp, 1);
	fprintf(stderr, "fake platform: unexpected exit (status %d)\n%s", status, console_buf);
	abort();
}

bool fake_relax_exits;
u32 fake_relaxes;

void arch_cpu_relax(void)
{
	fake_relaxes++;
	if (fake_relax_exits)
		fake_exit(-3); /* a CPU would wait here for another: the test asked to know */
}

_Noreturn void arch_halt_all(void)
{
	fake_exit(-1);
}

_Noreturn void plat_system_off(int status)
{
	fake_exit(status);
}

_Noreturn void plat_cpu_park(void)
{
	fake_exit(-2);
}

void plat_cpu_kick(unsigned cpu)
{
	(void)cpu;
	fake_kicks++;
}

void arch_vcpu_reset(struct vcpu_arch *a, enum partition_type type, u64 entry, u64 arg,
                     paddr_t s2_root, u32 vmid)
{
	*a = (struct vcpu_arch){ .pc = entry,
		                 .type = type,
		                 .s2_root = s2_root.pa,
		                 .vmid = vmid,
		                 .arg = arg,
		                 .reset_count = a->reset_count + 1 };
}

u32 fake_setup_calls;
u32 fake_setup_irqs;
const char *fake_setup_refuse;

const char *arch_partition_setup(u32 vmid, enum partition_type type, struct vcpu *vcpus,
                                 u32 vcpu_count, const u32 *irqs, u32 irq_count, u32 lpi_count)
{
	(void)lpi_count;
	(void)vmid;
	(void)type;
	(void)vcpus;
	(void)vcpu_count;
	(void)irqs;
	fake_setup_calls++;
	fake_setup_irqs += irq_count;
	return fake_setup_refuse;
}

struct fake_mmio fake_mmio;

void arch_vcpu_mmio_complete(struct vcpu_arch *a, u64 arch_info, u32 size, bool write, u64 value)
{
	fake_mmio.completions++;
	fake_mmio.arch_info = arch_info;
	fake_mmio.size = size;
	fake_mmio.write = write;
	fake_mmio.value = value;
	a->pc += 4;
}

void arch_vcpu_mmio_abort(struct vcpu_arch *a, u64 arch_info, u64 address)
{
	(void)a;
	fake_mmio.aborts++;
	fake_mmio.arch_info = arch_info;
	fake_mmio.address = address;
}

u32 fake_injects;
u32 fake_inject_last_intid;
bool fake_inject_last_level;

u32 fake_lpi_calls, fake_lpi_last_vcpu, fake_lpi_last_intid, fake_lpi_last_op;

/** LPIs 8192..8255 on every VM; a SET reports it was pending if the same LPI was set last. */
int arch_virq_lpi(const struct partition *g, u32 vcpu, u32 intid, u32 op, bool *was_pending)
{
	(void)g;
	*was_pending = false;
	if (intid != 0 && (intid < 8192u || intid >= 8256u))
		return -2;
	if (intid == 0 && op != IPC_GUEST_IRQ_LPI_CONFIG)
		return -2;
	*was_pending = fake_lpi_calls != 0 && fake_lpi_last_intid == intid &&
	               fake_lpi_last_op == IPC_GUEST_IRQ_LPI_SET;
	fake_lpi_calls++;
	fake_lpi_last_vcpu = vcpu;
	fake_lpi_last_intid = intid;
	fake_lpi_last_op = op;
	return op == IPC_GUEST_IRQ_LPI_SET ? (int)vcpu : -1;
}

int arch_virq_inject(u32 vmid, u32 intid, bool level)
{
	(void)vmid;
	if (intid < 32u || intid >= 64u)
		return -2;
	fake_injects++;
	fake_inject_last_intid = intid;
	fake_inject_last_level = level;
	return 0; /* its vCPU 0 */
}

void arch_vcpu_power_on(struct vcpu_arch *a, enum partition_type type, u64 entry, u64 arg)
{
	arch_vcpu_reset(a, type, entry, arg, pa_init(a->s2_root), a->vmid);
}

void *plat_phys_to_virt(paddr_t pa)
{
	return (void *)(uintptr_t)pa.pa;
}

paddr_t plat_virt_to_phys(const void *p)
{
	return pa_init((u64)(uintptr_t)p);
}

u64 plat_timer_now_ns(void)
{
	return fake_now_ns;
}

void plat_timer_set(u64 deadline_ns)
{
	fake_timer_deadline = deadline_ns;
}

void plat_timer_cancel(void)
{
	fake_timer_deadline = 0;
}

u64 arch_stage2_table_entry(paddr_t pa)
{
	return pa.pa | 1u;
}

u64 arch_stage2_page_entry(paddr_t pa, u32 rights, bool device)
{
	return pa.pa | 1u | ((u64)(rights & 7u) << 1) | (device ? 0x10u : 0u) |
	       ((rights & STAGE2_WLOCK) ? 0x40u : 0u);
}

u64 arch_stage2_block_entry(paddr_t pa, u32 rights, bool device)
{
	return arch_stage2_page_entry(pa, rights, device) | 0x20u;
}

bool arch_stage2_entry_is_table(u64 entry)
{
	return (entry & 1u) != 0 && (entry & 0x20u) == 0;
}

bool arch_stage2_entry_valid(u64 entry)
{
	return (entry & 1u) != 0;
}

paddr_t arch_stage2_entry_pa(u64 entry)
{
	return pa_init(entry & ~UINT64_C(0xfff));
}

u32 arch_stage2_entry_rights(u64 entry)
{
	return ((u32)(entry >> 1) & 7u) | ((entry & 0x40u) ? STAGE2_WLOCK : 0u);
}

void arch_clean_to_poc(const void *va, u64 size)
{
	(void)va;
	(void)size;
}

void arch_stage2_flush(u32 vmid)
{
	(void)vmid;
	fake_flushes++;
}

u32 fake_ipa_flushes;
u64 fake_last_flushed_ipa;

bool arch_stage2_entry_device(u64 entry)
{
	return (entry & 0x10u) != 0;
}

void arch_stage2_invalidate_ipa(u32 vmid, ipaddr_t ipa)
{
	(void)vmid;
	fake_ipa_flushes++;
	fake_last_flushed_ipa = ipa.ipa;
}

u32 arch_stage2_view_vmid(u32 base, u32 view)
{
	return base + view * 16u;
}

void arch_vcpu_set_stage2(struct vcpu_arch *a, paddr_t s2_root, u32 vmid)
{
	a->s2_root = s2_root.pa;
	a->vmid = vmid;
}

bool arch_vcpu_skip_insn(struct vcpu_arch *a, u64 arch_info)
{
	(void)arch_info;
	a->pc += 4;
	return true;
}

bool arch_vcpu_decode_store(struct vcpu_arch *a, struct trap *t)
{
	(void)a;
	return t->size != 0; /* what the test put in the trap */
}

u64 fake_fault_gla;

u32 arch_vcpu_fault_info(const struct vcpu_arch *a, u64 syndrome, u64 *gla)
{
	(void)a;
	(void)syndrome;
	*gla = fake_fault_gla;
	return fake_fault_gla != 0 ? IPC_VMI_GLA_VALID : 0u;
}

u32 fake_trap_regs;
u32 fake_reg_done_count, fake_reg_done_reg;
u64 fake_reg_done_value;
bool fake_reg_done_commit;

u32 arch_vmi_regs_supported(void)
{
	return 0xfu;
}

void arch_vcpu_trap_regs(struct vcpu_arch *a, u32 mask)
{
	(void)a;
	fake_trap_regs = mask;
}

void arch_vcpu_reg_write_done(struct vcpu_arch *a, u32 reg, u64 value, bool commit)
{
	a->pc += 4;
	fake_reg_done_count++;
	fake_reg_done_reg = reg;
	fake_reg_done_value = value;
	fake_reg_done_commit = commit;
}

bool fake_step;
u64 fake_vmi_regs[4];
u32 fake_vmi_pauses;

void arch_vcpu_vmi_pause(struct vcpu_arch *a)
{
	(void)a;
	fake_vmi_pauses++;
}

u32 fake_trap_msr_count;
bool fake_trap_msrs_full;

bool arch_vmi_msr_supported(u32 msr)
{
	return msr == 0x176u || msr == 0xc0000082u;
}

bool arch_vcpu_trap_msrs(struct vcpu_arch *a, const u32 *msrs, u32 n)
{
	(void)a;
	(void)msrs;
	if (n != 0 && fake_trap_msrs_full)
		return false;
	fake_trap_msr_count = n;
	return true;
}

void arch_vcpu_vmi_set_regs(struct vcpu_arch *a, u64 pc, const u64 gpr[3])
{
	a->pc = pc;
	for (u32 i = 0; i < 3u; i++)
		a->regs[i] = gpr[i];
}

void arch_vcpu_vmi_regs(const struct vcpu_arch *a, u64 out[4])
{
	(void)a;
	for (u32 i = 0; i < 4u; i++)
		out[i] = fake_vmi_regs[i];
}

bool arch_vcpu_set_step(struct vcpu_arch *a, bool on)
{
	(void)a;
	fake_step = on;
	return true;
}
