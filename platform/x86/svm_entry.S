/*
 * One trip into a guest: svm_vmrun(RDI = struct vcpu_arch *a, RSI =
 * host_save_pa) runs the vCPU until its next #VMEXIT and returns with its
 * state saved. It preserves only RBP and RSP; its one caller (x86_run)
 * declares every other GPR clobbered, which is cheaper than saving the
 * callee-saved registers here on every trip.
 *
 * VMRUN saves and restores only part of the host's state (AMD APM vol 2
 * §15.5.1): RAX, RSP, RIP, RFLAGS, CR0/3/4, EFER, the segments the CPU
 * needs and GDTR/IDTR. The guest's other GPRs are swapped here, and its
 * FS/GS/TR/LDTR/KernelGSBase/STAR/SYSENTER state with VMLOAD/VMSAVE
 * (§15.5.2); the host's copy of that state is in host_save_pa (VMSAVEd once
 * at boot by x86_svm_init) and comes back with one VMLOAD after the exit,
 * which also restores FS_BASE for the stack protector's canary.
 *
 * The x87/SSE registers are not switched by VMRUN either: FXRSTOR before
 * and FXSAVE after every trip keep each vCPU's own (two instructions; the
 * host never touches them: it is built with -mgeneral-regs-only). XCR0
 * is pinned to 1 at boot (guests cannot XSETBV, svm.c), so AVX state cannot
 * be enabled and the FXSAVE image is the whole state. PKRU, outside XCR0,
 * is switched by x86_run.
 *
 * Interrupts: once x86_run starts, the host runs with GIF = 0 and IF = 1
 * (AMD APM vol 2 §15.17): GIF = 0 holds every interrupt off in the host,
 * and the IF = 1 that VMRUN saves as HIF lets a physical interrupt exit the
 * guest (V_INTR_MASKING, INTR intercept, §15.21.1-2). VMRUN sets GIF,
 * #VMEXIT clears it again, so a trip needs no CLGI/STI/CLI/STGI; the
 * interrupt stays pending until x86_run opens a GIF window to take it.
 */
#include <arch_vcpu.h>

#define GPR(r) (VCPU_ARCH_GPR_OFFSET + 8 * (r))

	.section .text
	.globl svm_vmrun
	.balign 16
svm_vmrun:
	push %rbp
	push %rsi /* host save area */

	mov %rdi, %rax /* the VMCB is at offset 0 of vcpu_arch, identity mapped */
	fxrstor64 VCPU_ARCH_FPU_OFFSET(%rax)
	vmload %rax
	mov GPR(1)(%rax), %rcx
	mov GPR(2)(%rax), %rdx
	mov GPR(3)(%rax), %rbx
	mov GPR(5)(%rax), %rbp
	mov GPR(6)(%rax), %rsi
	mov GPR(7)(%rax), %rdi
	mov GPR(8)(%rax), %r8
	mov GPR(9)(%rax), %r9
	mov GPR(10)(%rax), %r10
	mov GPR(11)(%rax), %r11
	mov GPR(12)(%rax), %r12
	mov GPR(13)(%rax), %r13
	mov GPR(14)(%rax), %r14
	mov GPR(15)(%rax), %r15
	vmrun %rax
	/* #VMEXIT: RAX and RSP are the host's again (RAX = the VMCB). */
	vmsave %rax
	fxsave64 VCPU_ARCH_FPU_OFFSET(%rax)
	mov %rcx, GPR(1)(%rax)
	mov %rdx, GPR(2)(%rax)
	mov %rbx, GPR(3)(%rax)
	mov %rbp, GPR(5)(%rax)
	mov %rsi, GPR(6)(%rax)
	mov %rdi, GPR(7)(%rax)
	mov %r8, GPR(8)(%rax)
	mov %r9, GPR(9)(%rax)
	mov %r10, GPR(10)(%rax)
	mov %r11, GPR(11)(%rax)
	mov %r12, GPR(12)(%rax)
	mov %r13, GPR(13)(%rax)
	mov %r14, GPR(14)(%rax)
	mov %r15, GPR(15)(%rax)
	pop %rax
	vmload %rax

	pop %rbp
	ret

	.section .note.GNU-stack, "", @progbits
