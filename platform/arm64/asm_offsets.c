/**
 * The struct offsets, sizes and ABI constants the assembly fastpath
 * (fastpath.S) uses, taken from the C definitions at build time: each
 * ASM_CONST becomes an absolute symbol of this object, which
 * tools/asm-offsets turns into asm_offsets.h (meson.build). No number in
 * fastpath.S is written by hand, so a changed struct changes the header.
 */
#include <arm64/cpu.h>
#include <arm64/sysreg.h>
#include <arm64/vgic.h>
#include <arm64/virq.h>
#include <kernel/cap.h>
#include <kernel/config.h>
#include <kernel/endpoint.h>
#include <kernel/kernel.h>
#include <kernel/partition.h>
#include <kernel/sched.h>
#include <kernel/vcpu.h>

/** An absolute symbol `name` of value `value` (an integer constant expression). */
#define ASM_CONST(name, value) \
	__asm__ volatile(".globl " #name "\n\t.set " #name ", %c0" ::"i"((u64)(value)))

#define ASM_SIZE(name, type, member) ASM_CONST(name, sizeof(((type *)0)->member))

_Static_assert((IPC_LABEL_KERNEL & (IPC_LABEL_KERNEL - 1u)) == 0, "the kernel bit is one bit");
_Static_assert((sizeof(struct endpoint) & (sizeof(struct endpoint) - 1u)) == 0,
               "fastpath.S indexes kernel.endpoints with a shift");

_Static_assert(ARM64_MMIO_LEN(ARM64_MMIO_INFO(0, 0, 0, 4)) == 4 &&
                       ARM64_MMIO_LEN(ARM64_MMIO_INFO(0, 0, 0, 2)) == 2 &&
                       ARM64_MMIO_RT(ARM64_MMIO_INFO(0x1f, 0, 0, 0)) == 0x1f,
               "fastpath.S decodes arch_info with the same fields");

void asm_offsets(void);

void asm_offsets(void)
{
	/* struct vcpu: the core's fields the fastpath reads and writes. */
	ASM_CONST(VCPU_PART, offsetof(struct vcpu, part));
	ASM_CONST(VCPU_ID, offsetof(struct vcpu, id));
	ASM_SIZE(VCPU_ID_SIZE, struct vcpu, id);
	ASM_CONST(VCPU_STATE, offsetof(struct vcpu, state));
	ASM_SIZE(VCPU_STATE_SIZE, struct vcpu, state);
	ASM_CONST(VCPU_CPU, offsetof(struct vcpu, cpu));
	ASM_SIZE(VCPU_CPU_SIZE, struct vcpu, cpu);
	ASM_CONST(VCPU_NEXT, offsetof(struct vcpu, next));
	ASM_CONST(VCPU_QUEUED_ON, offsetof(struct vcpu, queued_on));
	ASM_CONST(VCPU_CALLER, offsetof(struct vcpu, caller));
	ASM_CONST(VCPU_SEND_BADGE, offsetof(struct vcpu, send_badge));
	ASM_CONST(VCPU_KERNEL_SENDER, offsetof(struct vcpu, kernel_sender));
	ASM_SIZE(VCPU_KERNEL_SENDER_SIZE, struct vcpu, kernel_sender);
	ASM_CONST(VCPU_AFTER, offsetof(struct vcpu, after));
	ASM_SIZE(VCPU_AFTER_SIZE, struct vcpu, after);
	ASM_CONST(VCPU_STATE_RUNNING, VCPU_RUNNING);
	ASM_CONST(VCPU_STATE_BLOCKED_REPLY, VCPU_BLOCKED_REPLY);
	ASM_CONST(VCPU_STATE_BLOCKED_RECV, VCPU_BLOCKED_RECV);
	ASM_CONST(VCPU_STATE_BLOCKED_FAULT, VCPU_BLOCKED_FAULT);

	/* An emulated access waiting for its emulator's answer (emulate.c, arch_vcpu_mmio_complete). */
	ASM_CONST(VCPU_KMSG_LABEL, offsetof(struct vcpu, kmsg.label));
	ASM_CONST(VCPU_MMIO_ARCH_INFO, offsetof(struct vcpu, mmio.arch_info));
	ASM_CONST(VCPU_MMIO_SIZE, offsetof(struct vcpu, mmio.size));
	ASM_SIZE(VCPU_MMIO_SIZE_SIZE, struct vcpu, mmio.size);
	ASM_CONST(VCPU_MMIO_WRITE, offsetof(struct vcpu, mmio.write));
	ASM_SIZE(VCPU_MMIO_WRITE_SIZE, struct vcpu, mmio.write);
	ASM_CONST(MMIO_RT_SHIFT, __builtin_ctzll(ARM64_MMIO_INFO(1, 0, 0, 0)));
	ASM_CONST(MMIO_SSE_BIT, __builtin_ctzll(ARM64_MMIO_INFO(0, 1, 0, 0)));
	ASM_CONST(MMIO_SF_BIT, __builtin_ctzll(ARM64_MMIO_INFO(0, 0, 1, 0)));
	ASM_CONST(MMIO_IL_BIT, __builtin_ctzll(ARM64_MMIO_INFO(0, 0, 0, 4)));
	ASM_CONST(MMIO_WNR_BIT, __builtin_ctzll(ARM64_MMIO_WRITE_FLAG));
	ASM_CONST(ABI_LABEL_MMIO, IPC_LABEL_MMIO);
	ASM_CONST(ABI_MMIO_DONE, IPC_MMIO_DONE);

	/* struct vcpu_arch (first in struct vcpu): the saved registers and the hop's fields. */
	ASM_CONST(VCPU_X, offsetof(struct vcpu, arch.x));
	ASM_CONST(VCPU_PC, offsetof(struct vcpu, arch.pc));
	ASM_CONST(VCPU_PSTATE, offsetof(struct vcpu, arch.pstate));
	ASM_CONST(VCPU_VM, offsetof(struct vcpu, arch.vm));
	ASM_CONST(VCPU_HCR, offsetof(struct vcpu, arch.hcr));
	ASM_CONST(VCPU_VTTBR, offsetof(struct vcpu, arch.vttbr));
	ASM_CONST(VCPU_LIVE_ON, offsetof(struct vcpu, arch.live_on));
	ASM_SIZE(VCPU_LIVE_ON_SIZE, struct vcpu, arch.live_on);
	ASM_CONST(VCPU_FP_LIVE, offsetof(struct vcpu, arch.fp_live));
	ASM_SIZE(VCPU_FP_LIVE_SIZE, struct vcpu, arch.fp_live);
	ASM_CONST(VCPU_RESET_PENDING, offsetof(struct vcpu, arch.reset_pending));
	ASM_SIZE(VCPU_RESET_PENDING_SIZE, struct vcpu, arch.reset_pending);
	ASM_CONST(VCPU_PENDING_DABT, offsetof(struct vcpu, arch.pending_dabt));
	ASM_SIZE(VCPU_PENDING_DABT_SIZE, struct vcpu, arch.pending_dabt);
	ASM_CONST(VCPU_SP_EL0, offsetof(struct vcpu, arch.el1.sp_el0));
	ASM_CONST(VCPU_TPIDR_EL0, offsetof(struct vcpu, arch.el1.tpidr_el0));

	/* The service -> VM hop (arm64_exit_switch_to_vm's common case): what it tests and loads. */
	ASM_CONST(VCPU_SCTLR, offsetof(struct vcpu, arch.el1.sctlr));
	ASM_CONST(VCPU_CNTKCTL, offsetof(struct vcpu, arch.el1.cntkctl));
	ASM_CONST(VCPU_CPACR, offsetof(struct vcpu, arch.el1.cpacr));
	ASM_CONST(VCPU_TPIDRRO_EL0, offsetof(struct vcpu, arch.el1.tpidrro_el0));
	ASM_CONST(VCPU_CNTV_CTL, offsetof(struct vcpu, arch.el1.cntv_ctl));
	ASM_CONST(VCPU_TPIDR2, offsetof(struct vcpu, arch.el1.tpidr2));
	ASM_CONST(VCPU_LR_DIRTY, offsetof(struct vcpu, arch.lr_dirty));
	ASM_SIZE(VCPU_LR_DIRTY_SIZE, struct vcpu, arch.lr_dirty);
	ASM_CONST(VCPU_LR_HCR, offsetof(struct vcpu, arch.lr_hcr));
	ASM_CONST(VCPU_CNTVOFF, offsetof(struct vcpu, arch.cntvoff));
	ASM_CONST(VCPU_PTIMER_CTL, offsetof(struct vcpu, arch.ptimer_ctl));
	ASM_SIZE(VCPU_PTIMER_CTL_SIZE, struct vcpu, arch.ptimer_ctl);
	ASM_CONST(VCPU_PTIMER_LINE, offsetof(struct vcpu, arch.ptimer_line));
	ASM_SIZE(VCPU_PTIMER_LINE_SIZE, struct vcpu, arch.ptimer_line);
	ASM_CONST(VCPU_SYSREG_PENDING, offsetof(struct vcpu, arch.sysreg_pending));
	ASM_SIZE(VCPU_SYSREG_PENDING_SIZE, struct vcpu, arch.sysreg_pending);
	ASM_CONST(VCPU_VMI_STEP, offsetof(struct vcpu, arch.vmi_step));
	ASM_SIZE(VCPU_VMI_STEP_SIZE, struct vcpu, arch.vmi_step);
	ASM_CONST(ARM64_CPU_CNTVOFF, offsetof(struct arm64_cpu, cntvoff));
	ASM_CONST(ARM64_CPU_GUEST_DEADLINE, offsetof(struct arm64_cpu, guest_deadline_ns));
	ASM_CONST(ARM64_CPU_STEP_LIVE, offsetof(struct arm64_cpu, step_live));
	ASM_SIZE(ARM64_CPU_STEP_LIVE_SIZE, struct arm64_cpu, step_live);
	ASM_CONST(ARM64_CPU_HAS_SME, offsetof(struct arm64_cpu, has_sme));
	ASM_SIZE(ARM64_CPU_HAS_SME_SIZE, struct arm64_cpu, has_sme);
	ASM_SIZE(ARM64_CPU_SERVICE_CONTROLS_SIZE, struct arm64_cpu, service_controls);
	ASM_CONST(PTIMER_ENABLE_BIT, __builtin_ctzll(CNTV_ENABLE));

	/* The capability table (a partition's) and its slots. */
	ASM_CONST(PARTITION_CAPS, offsetof(struct partition, caps.slots));
	ASM_CONST(PARTITION_MEMO_CALL, offsetof(struct partition, ipc_memo[IPC_MEMO_CALL]));
	ASM_CONST(PARTITION_MEMO_ANSWER, offsetof(struct partition, ipc_memo[IPC_MEMO_ANSWER]));
	ASM_CONST(MEMO_SLOT, offsetof(struct ipc_memo, slot));
	ASM_CONST(MEMO_ENDPOINT, offsetof(struct ipc_memo, endpoint));
	ASM_CONST(MEMO_BADGE, offsetof(struct ipc_memo, badge));
	ASM_CONST(PARTITION_REPLIED, offsetof(struct partition, replied));
	ASM_SIZE(PARTITION_REPLIED_SIZE, struct partition, replied);
	ASM_CONST(CAP_SIZE, sizeof(struct cap));
	ASM_CONST(CAP_TYPE, offsetof(struct cap, type));
	ASM_CONST(CAP_RIGHTS, offsetof(struct cap, rights));
	ASM_SIZE(CAP_RIGHTS_SIZE, struct cap, rights);
	ASM_CONST(CAP_OBJECT, offsetof(struct cap, object));
	ASM_SIZE(CAP_OBJECT_SIZE, struct cap, object);
	ASM_CONST(CAP_BADGE, offsetof(struct cap, badge));

	/* Endpoints (kernel.endpoints[]) and their queues. */
	ASM_CONST(ENDPOINT_SHIFT, __builtin_ctzll(sizeof(struct endpoint)));
	ASM_CONST(ENDPOINT_SENDERS_HEAD, offsetof(struct endpoint, senders.head));
	ASM_CONST(ENDPOINT_RECEIVERS_HEAD, offsetof(struct endpoint, receivers.head));
	ASM_CONST(ENDPOINT_RECEIVERS_TAIL, offsetof(struct endpoint, receivers.tail));

	/* The scheduler: the donation table. */
	ASM_SIZE(SCHED_RUN_ON_SIZE, struct sched_state, run_on[0]);
	ASM_CONST(SCHED_NONE, SCHED_SC_NONE);
	ASM_SIZE(KERNEL_LOCK_SIZE, struct spinlock, value);

	/* This CPU's pointers to the kernel's tables (struct arm64_cpu, set by arm64_cpu_init). */
	ASM_CONST(ARM64_CPU_SCHED_CURRENT, offsetof(struct arm64_cpu, sched_current));
	ASM_CONST(ARM64_CPU_SCHED_RUN_ON, offsetof(struct arm64_cpu, sched_run_on));
	ASM_CONST(ARM64_CPU_ENDPOINTS, offsetof(struct arm64_cpu, endpoints));
	ASM_CONST(ARM64_CPU_KERNEL_LOCK, offsetof(struct arm64_cpu, kernel_lock));
	ASM_CONST(ARM64_CPU_HOP_HCR, offsetof(struct arm64_cpu, hop_hcr));

	/* The ABI (ipc/abi.h), whose enums an assembler cannot read. */
	ASM_CONST(ABI_HC_CALL, HC_CALL);
	ASM_CONST(ABI_HC_REPLY_RECV, HC_REPLY_RECV);
	ASM_CONST(ABI_STATUS_OK, STATUS_OK);
	ASM_CONST(ABI_CAP_ENDPOINT, CAP_ENDPOINT);
	ASM_CONST(ABI_CAP_SLOT_COUNT, CAP_SLOT_COUNT);
	ASM_CONST(ABI_RIGHT_EP_SEND, RIGHT_EP_SEND);
	ASM_CONST(ABI_RIGHT_EP_RECV, RIGHT_EP_RECV);
	ASM_CONST(ABI_LABEL_KERNEL_BIT, __builtin_ctzll(IPC_LABEL_KERNEL));
	ASM_CONST(ABI_REG_CAP, IPC_REG_CAP);
	ASM_CONST(ABI_REG_LABEL, IPC_REG_LABEL);
	ASM_CONST(ABI_REG_COUNT, IPC_REG_COUNT);

	/* The syndrome: a service's SVC (EL0 under HCR_EL2.TGE). */
	ASM_CONST(ESR_EC_SHIFT_ASM, ESR_EC_SHIFT);
	ASM_CONST(EC_SVC64_ASM, EC_SVC64);
}

/*
 * The emulation path's VM side in assembly (emulpath.S): what emul_send, ipc_kernel_call
 * and arm64_exit_switch_from_vm read and write, and the syndrome's fields.
 */
_Static_assert((IPC_MMIO_WRITE & (IPC_MMIO_WRITE - 1u)) == 0, "IPC_MMIO_WRITE is one bit");
_Static_assert(ARM64_MMIO_INFO(0x1fu, 1u, 1u, 4u) ==
                       ((UINT64_C(0x1f) << 16) | ISS_SSE | ISS_SF | ESR_IL),
               "emulpath.S stores ESR_EL2 itself as arch_info: the same bits");
_Static_assert(ARM64_MMIO_WRITE_FLAG == ISS_WNR, "arch_info's direction is the syndrome's WnR");
_Static_assert(ISS_SAS(UINT64_C(3) << 22) == 3u && ISS_SSE == UINT64_C(1) << 21,
               "emulpath.S reads SAS at bit 22, SRT at 16 with SSE just above it (21)");

void asm_offsets_emul(void);

void asm_offsets_emul(void)
{
	/* struct vcpu: the kernel message and the access (emulate.c emul_send). */
	ASM_CONST(VCPU_INDEX, offsetof(struct vcpu, index));
	ASM_SIZE(VCPU_INDEX_SIZE, struct vcpu, index);
	ASM_CONST(VCPU_KMSG_LABEL, offsetof(struct vcpu, kmsg.label));
	ASM_CONST(VCPU_KMSG_WORDS, offsetof(struct vcpu, kmsg.words));
	ASM_CONST(VCPU_KMSG_BADGE, offsetof(struct vcpu, kmsg.badge));
	ASM_CONST(VCPU_KMSG_ENDPOINT, offsetof(struct vcpu, kmsg_endpoint));
	ASM_SIZE(VCPU_KMSG_ENDPOINT_SIZE, struct vcpu, kmsg_endpoint);
	ASM_CONST(VCPU_MMIO_ADDRESS, offsetof(struct vcpu, mmio.address));
	ASM_CONST(VCPU_MMIO_ARCH_INFO, offsetof(struct vcpu, mmio.arch_info));
	ASM_CONST(VCPU_MMIO_SIZE, offsetof(struct vcpu, mmio.size));
	ASM_SIZE(VCPU_MMIO_SIZE_SIZE, struct vcpu, mmio.size);
	ASM_CONST(VCPU_MMIO_WRITE, offsetof(struct vcpu, mmio.write));
	ASM_SIZE(VCPU_MMIO_WRITE_SIZE, struct vcpu, mmio.write);
	ASM_CONST(VCPU_MMIO_SERIAL, offsetof(struct vcpu, mmio.serial));
	ASM_SIZE(VCPU_MMIO_SERIAL_SIZE, struct vcpu, mmio.serial);
	ASM_CONST(VCPU_STATE_BLOCKED_FAULT, VCPU_BLOCKED_FAULT);

	/* struct vcpu_arch: the access's FAR, the VM's vGIC, its EL0-visible registers. */
	ASM_CONST(VCPU_MMIO_FAR, offsetof(struct vcpu, arch.mmio_far));
	ASM_CONST(VCPU_EL1_SCTLR, offsetof(struct vcpu, arch.el1.sctlr));
	ASM_CONST(VCPU_EL1_CNTKCTL, offsetof(struct vcpu, arch.el1.cntkctl));
	ASM_CONST(VCPU_EL1_CPACR, offsetof(struct vcpu, arch.el1.cpacr));
	ASM_CONST(VCPU_EL1_TPIDRRO_EL0, offsetof(struct vcpu, arch.el1.tpidrro_el0));
	ASM_CONST(VCPU_EL1_CNTV_CTL, offsetof(struct vcpu, arch.el1.cntv_ctl));
	ASM_CONST(VCPU_EL1_TPIDR2, offsetof(struct vcpu, arch.el1.tpidr2));

	/* The VMs' runs of the manifest's MMIO ranges (emul_setup) and the partitions' stops. */
	ASM_CONST(KERNEL_EMUL_MMIO, offsetof(struct kernel_state, emul_mmio));
	ASM_CONST(EMUL_MMIO_SHIFT, __builtin_ctzll(sizeof(struct emul_mmio_range)));
	ASM_CONST(EMUL_MMIO_IPA, offsetof(struct emul_mmio_range, ipa));
	ASM_CONST(EMUL_MMIO_BADGE, offsetof(struct emul_mmio_range, badge));
	ASM_CONST(EMUL_MMIO_ENDPOINT, offsetof(struct emul_mmio_range, endpoint));
	ASM_CONST(EMUL_MMIO_ENDPOINT_PTR, offsetof(struct emul_mmio_range, endpoint_obj));
	ASM_CONST(EMUL_MMIO_INDEX, offsetof(struct emul_mmio_range, index));
	ASM_SIZE(EMUL_MMIO_ENDPOINT_SIZE, struct emul_mmio_range, endpoint);
	ASM_SIZE(EMUL_MMIO_INDEX_SIZE, struct emul_mmio_range, index);
	ASM_CONST(EMUL_MMIO_SIZE_OFF, offsetof(struct emul_mmio_range, size));
	ASM_CONST(PARTITION_EMUL_FIRST, offsetof(struct partition, emul_first));
	ASM_CONST(PARTITION_EMUL_COUNT, offsetof(struct partition, emul_count));
	ASM_SIZE(PARTITION_EMUL_FIRST_SIZE, struct partition, emul_first);
	ASM_CONST(PARTITION_STOPPED, offsetof(struct partition, stopped));
	ASM_SIZE(PARTITION_STOPPED_SIZE, struct partition, stopped);
	/* exit_dabt's syndrome test in one: EC, ISV, S1PTW and the FSC's type. */
	ASM_CONST(ESR_FAST_MASK,
	          ((u64)0x3fu << ESR_EC_SHIFT) | ISS_ISV | ISS_S1PTW | FSC_TYPE(ISS_FSC_MASK));
	ASM_CONST(ESR_FAST_WANT, ((u64)EC_DABT_LOW << ESR_EC_SHIFT) | ISS_ISV | FSC_TRANSLATION);

	/* This CPU's switch state (vcpu.c arm64_exit_switch_from_vm). */
	ASM_CONST(ARM64_CPU_GUEST_DEADLINE_NS, offsetof(struct arm64_cpu, guest_deadline_ns));
	ASM_SIZE(ARM64_CPU_FP_TRAPPING_SIZE, struct arm64_cpu, fp_trapping);
	ASM_SIZE(ARM64_CPU_SERVICE_CONTROLS_SIZE, struct arm64_cpu, service_controls);
	ASM_CONST(SCTLR_SERVICE_ASM, SCTLR_SERVICE);
	ASM_CONST(CNTKCTL_SERVICE_ASM, CNTKCTL_SERVICE);
	ASM_CONST(CPACR_FPEN_ASM, CPACR_FPEN);

	/* The message (ipc/abi.h) and the data abort's syndrome (DDI 0487 D13.2.37). */
	ASM_CONST(ABI_LABEL_MMIO, IPC_LABEL_MMIO);
	ASM_CONST(ABI_MMIO_WRITE_SHIFT, __builtin_ctzll(IPC_MMIO_WRITE));
	ASM_CONST(ABI_MMIO_SERIAL_SHIFT, IPC_MMIO_SERIAL_SHIFT);
	ASM_CONST(EC_DABT_LOW_ASM, EC_DABT_LOW);
	ASM_CONST(ISS_WNR_BIT, __builtin_ctzll(ISS_WNR));
	ASM_CONST(ISS_SSE_BIT, __builtin_ctzll(ISS_SSE));
	ASM_CONST(ISS_SF_BIT, __builtin_ctzll(ISS_SF));
	ASM_CONST(ESR_IL_BIT, __builtin_ctzll(ESR_IL));
	ASM_CONST(PAGE_SHIFT_ASM, __builtin_ctzll(PAGE_SIZE));
}
