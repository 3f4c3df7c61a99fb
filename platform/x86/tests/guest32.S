/*
 * The smallest x86 test guest, written against the PVH-style start state
 * alone (32-bit protected mode, paging off, EBX = argument), so the
 * platform tests need nothing from the partition runtime:
 *
 *   TEST_UD unset: HC_NULL must return STATUS_OK in EAX with EBX (the
 *                  argument, 0) and the callee registers intact, then HC_EXIT 0.
 *   TEST_UD set:   UD2, which the kernel must stop as an undefined instruction.
 *   TEST_WAIT set: spin, without a hypercall, until the word at
 *                  guest-physical 0x200000 (shared memory) is non-zero; only
 *                  the timer interrupt can take the CPU away to let
 *   TEST_SIGNAL set: write 1 to that word.
 *   TEST_NPF set:  write to guest-physical 0x400000, which no manifest
 *                  mapping covers: a nested page fault, reported, stops it.
 *   TEST_FPU_A set: put 0x11111111 in XMM0, raise flag 1 (0x200000), spin
 *                  until flag 2 (0x200004), then XMM0 must still hold it.
 *   TEST_FPU_B set: wait for flag 1, XMM0 must not hold A's value, put
 *                  0x22222222 there and raise flag 2.
 *                  (the x87/SSE registers are swapped per vCPU)
 *   TEST_DR set:   write DR0, which VMRUN does not switch: must stop it.
 *   TEST_NTF_WAIT set: raise flag 1, then HC_WAIT on notification slot 0:
 *                  its CPU goes idle until the signal's kick IPI wakes it;
 *                  the call must return STATUS_OK with bits in EDI.
 *   TEST_NTF_SIGNAL set: wait for flag 1, give the waiter time to block
 *                  (a countdown), then HC_SIGNAL on slot 0.
 *   TEST_IO set:   write 0x7f to isa-debug-exit (port 0xf4): a guest must
 *                  not power the machine off; the partition is stopped.
 *   TEST_WBINVD set: WBINVD, which would flush every partition's cached
 *                  lines: must stop it.
 *   TEST_INVALID set: clear EFER.SVME (the MSR is the guest's own), then
 *                  HLT: the next VMRUN fails and the partition is
 *                  stopped for invalid guest state.
 *   STATE_WRITER / STATE_READER with one of TEST_PKRU, TEST_KGSBASE,
 *                  TEST_XCR0, TEST_TSC_AUX (docs/isolation-testing.md):
 *                  the writer puts STATE_MARKER in that state and raises
 *                  flag 1; the reader, run on the same CPU once the writer
 *                  is preempted or stopped, must not read the marker and
 *                  raises flag 2; the writer then still reads its own
 *                  marker. Where the state is intercepted, the write stops
 *                  the writer (it raises flag 1 first).
 * Then all of them do the HC_NULL checks and HC_EXIT 0.
 */
#define SHARED_FLAG 0x200000
#define SHARED_FLAG2 0x200004
#define HC_NULL 0
#define HC_EXIT 2
#define HC_SIGNAL 16
#define HC_WAIT 17
#define STATE_MARKER 0x5a5a5a54

#ifdef TEST_PKRU
/* Protection-key rights (AMD APM vol 2 §5.6.6): WRPKRU needs CR4.PKE. */
#define STATE_SETUP \
	mov %cr4, %eax; \
	or $0x400000, %eax; \
	mov %eax, %cr4
#define STATE_WRITE \
	mov $STATE_MARKER, %eax; \
	xor %ecx, %ecx; \
	xor %edx, %edx; \
	wrpkru
#define STATE_READ \
	xor %ecx, %ecx; \
	rdpkru
#endif
#ifdef TEST_KGSBASE
/* KernelGSbase, switched by VMLOAD/VMSAVE. */
#define STATE_SETUP
#define STATE_WRITE \
	mov $0xc0000102, %ecx; \
	mov $STATE_MARKER, %eax; \
	xor %edx, %edx; \
	wrmsr
#define STATE_READ \
	mov $0xc0000102, %ecx; \
	rdmsr
#endif
#ifdef TEST_XCR0
/* XCR0 is not switched: XSETBV is intercepted. */
#define STATE_INTERCEPTED
#define STATE_SETUP \
	mov %cr4, %eax; \
	or $0x40000, %eax; \
	mov %eax, %cr4
#define STATE_WRITE \
	mov $7, %eax; \
	xor %ecx, %ecx; \
	xor %edx, %edx; \
	xsetbv
#define STATE_READ \
	xor %ecx, %ecx; \
	xgetbv; \
	cmp $1, %eax; \
	jne fail; \
	mov $7, %eax
#endif
#ifdef TEST_TSC_AUX
/* TSC_AUX is not switched (RDTSCP reads it): WRMSR is intercepted. */
#define STATE_INTERCEPTED
#define STATE_SETUP
#define STATE_WRITE \
	mov $0xc0000103, %ecx; \
	mov $STATE_MARKER, %eax; \
	xor %edx, %edx; \
	wrmsr
#define STATE_READ \
	rdtscp; \
	mov %ecx, %eax
#endif

	.section .text.entry, "ax"
	.code32
	.globl _start
_start:
#ifdef TEST_UD
	ud2
#endif
#ifdef TEST_WAIT
1:	cmpl $0, SHARED_FLAG
	je 1b
#endif
#if defined(TEST_FPU_A) || defined(TEST_FPU_B)
	mov %cr4, %eax
	or $0x200, %eax /* OSFXSR: SSE instructions allowed */
	mov %eax, %cr4
#endif
#ifdef TEST_FPU_A
	mov $0x11111111, %eax
	movd %eax, %xmm0
	movl $1, SHARED_FLAG
2:	cmpl $0, SHARED_FLAG2
	je 2b
	movd %xmm0, %eax
	cmp $0x11111111, %eax
	jne fail
#endif
#ifdef TEST_FPU_B
3:	cmpl $0, SHARED_FLAG
	je 3b
	movd %xmm0, %eax
	cmp $0x11111111, %eax
	je fail
	mov $0x22222222, %eax
	movd %eax, %xmm0
	movl $1, SHARED_FLAG2
#endif
#ifdef STATE_WRITER
	STATE_SETUP
#ifdef STATE_INTERCEPTED
	movl $1, SHARED_FLAG
	STATE_WRITE
	jmp fail /* not reached: the write stops the partition */
#else
	STATE_WRITE
	movl $1, SHARED_FLAG
6:	cmpl $0, SHARED_FLAG2
	je 6b
	STATE_READ
	cmp $STATE_MARKER, %eax
	jne fail
#endif
#endif
#ifdef STATE_READER
7:	cmpl $0, SHARED_FLAG
	je 7b
	STATE_SETUP
	STATE_READ
	cmp $STATE_MARKER, %eax
	je fail
	movl $1, SHARED_FLAG2
#endif
#ifdef TEST_WBINVD
	wbinvd
#endif
#ifdef TEST_INVALID
	mov $0xc0000080, %ecx
	rdmsr
	and $~0x1000, %eax
	wrmsr
	hlt /* intercepted; VMMCALL would #UD without EFER.SVME */
#endif
#ifdef TEST_NTF_WAIT
	movl $1, SHARED_FLAG
	mov $HC_WAIT, %eax
	xor %edi, %edi
	vmmcall
	test %eax, %eax
	jnz fail
	test %edi, %edi
	jz fail
#endif
#ifdef TEST_NTF_SIGNAL
4:	cmpl $0, SHARED_FLAG
	je 4b
	mov $0x100000, %ecx
5:	dec %ecx
	jnz 5b
	mov $HC_SIGNAL, %eax
	xor %edi, %edi
	vmmcall
	test %eax, %eax
	jnz fail
#endif
#ifdef TEST_IO
	mov $0x7f, %eax
	out %eax, $0xf4
#endif
#ifdef TEST_DR
	mov $0x12345678, %eax
	mov %eax, %dr0
#endif
#ifdef TEST_NPF
	movl $1, 0x400000
#endif
#ifdef TEST_SIGNAL
	movl $1, SHARED_FLAG
#endif
	mov $0x12345678, %ebp
	mov $0x0badcafe, %esi
	mov $HC_NULL, %eax
	vmmcall
	test %eax, %eax
	jnz fail
	cmp $0x12345678, %ebp
	jne fail
	cmp $0x0badcafe, %esi
	jne fail
	test %ebx, %ebx
	jnz fail
	mov $HC_EXIT, %eax
	xor %edi, %edi
	vmmcall
	ud2
fail:
	mov $HC_EXIT, %eax
	mov $1, %edi
	vmmcall
	ud2

	.section .note.GNU-stack, "", @progbits
