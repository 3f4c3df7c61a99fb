/*
 * Spin model of the x86 stage-2 TLB flush protocol: arch_stage2_flush
 * (platform/x86/stage2.c) counts the vmid's generation up through
 * x86_svm_stage2_changed, and x86_run (platform/x86/svm.c) compares it with
 * the vCPU's s2_seen before each VMRUN, setting TLB_CONTROL = 3 (flush this
 * ASID, AMD APM vol 2 §15.16.1) when it moved; after the #VMEXIT, x86_run
 * sets TLB_CONTROL back to "nothing" for an owned ASID. Issue 8, defect 6:
 * the code before the fix had the requester store TLB_CONTROL into the
 * VMCB of every vCPU of the vmid instead, and a target CPU's post-VMRUN
 * store overwrote it: the flush was lost.
 *
 * One partition (one owned ASID) with three vCPUs on two CPUs, each CPU
 * with its own TLB; the page-table changes come from a kernel path on a
 * third CPU:
 *
 *   CPU 0: v0        CPU 1: v1, v2 (one at a time)        CPU 2: requester
 *
 *   tlb[c]   the partition's TLB entry for one guest page on CPU c: the
 *            version of the stage-2 entry it was filled from, or NONE
 *   pte_ver  that stage-2 entry's version: 0 mapped (frame F), 1 unmapped,
 *            2 mapped again (frame G); odd versions are not present
 *
 * The requester makes CHANGES changes (unmap, then map elsewhere), each
 * followed by a flush request. A CPU repeatedly picks one of its vCPUs,
 * prepares the entry (reads the generation, decides TLB_CONTROL), VMRUNs
 * (a flush drops tlb[c]), lets the guest use the page any number of times
 * (a TLB hit, or a nested walk that fills the TLB in two steps), and exits.
 *
 * Checked (assertions): an entry whose preparation began after a change's
 * flush request returned never uses a translation older than that change
 * (the ghost floor[v] is the last change whose request had returned when
 * the entry read the generation).
 * Rejected (each must fail):
 *   -DBUG_SHARED_TLBCTL  the old protocol: the requester stores FLUSH into
 *                        each vCPU's TLB_CONTROL, nobody compares
 *                        generations; the target's post-VMRUN store wins;
 *   -DBUG_FLUSH_FIRST    the good protocol with the generation counted up
 *                        before the entry store (stage2_map must store
 *                        first): an entry can read the new generation and
 *                        still walk the old entry;
 *   -DCHECK_RUNNING      the good protocol, but the assertion also covers
 *                        a run that was already under way when the request
 *                        returned: such a run keeps its stale translations
 *                        until it exits (nothing waits for it), which also
 *                        shows that stale hits are reachable in the model.
 */

#define NCPU 2
#define NV 3
#define CHANGES 2
#define NONE 255

/* TLB_CONTROL values of the VMCB (AMD APM vol 2 §15.16.1). */
#define TLB_NOTHING 0
#define TLB_FLUSH_ASID 3

#define present(ver) ((ver) % 2 == 0)

byte pte_ver;                      /* the stage-2 entry of the page */
byte tlb[NCPU] = NONE;             /* per CPU, under the partition's ASID */
byte gen;                          /* s2_generation[vmid] */
byte seen[NV];                     /* each vCPU's s2_seen */
byte tlb_control[NV] = TLB_FLUSH_ASID; /* arch_vcpu_reset sets it */

/* Ghost state for the property. */
byte done;      /* changes whose flush request has returned */
byte floor[NV]; /* done when the vCPU's current entry read the generation */

/*
 * The requester: the kernel changing the partition's stage-2 tables under
 * the kernel lock (the vCPUs' entry code below does not take it).
 */
proctype requester() {
	byte i = 0;
#ifdef BUG_SHARED_TLBCTL
	byte v;
#endif
	do
	:: i < CHANGES ->
#ifndef BUG_FLUSH_FIRST
		pte_ver++; /* the entry store: unmap, then map again */
#endif
#ifdef BUG_SHARED_TLBCTL
		/* Old arch_stage2_flush: one store per vCPU of the vmid. */
		v = 0;
		do
		:: v < NV -> tlb_control[v] = TLB_FLUSH_ASID; v++
		:: else -> break
		od;
#else
		gen++; /* x86_svm_stage2_changed: one atomic add */
#endif
#ifdef BUG_FLUSH_FIRST
		pte_ver++; /* the mutant stores the entry after the request */
#endif
		done = pte_ver; /* the request has returned */
		i++
	:: else -> break
	od
}

proctype cpu(byte c) {
	byte v, g, ver;
	do
	:: true ->
		/* The scheduler picks one of this CPU's vCPUs. */
		if
		:: c == 0 -> v = 0
		:: c == 1 -> v = 1
		:: c == 1 -> v = 2
		fi;
		/* x86_run before VMRUN: the generation load (ghost: floor). */
		atomic { floor[v] = done; g = gen };
#ifndef BUG_SHARED_TLBCTL
		if
		:: g != seen[v] -> seen[v] = g; tlb_control[v] = TLB_FLUSH_ASID
		:: else -> skip
		fi;
#endif
		g = 0; /* dead from here: keeps the state space small */
		/* VMRUN reads TLB_CONTROL: a flush drops this CPU's entries of the ASID. */
		if
		:: tlb_control[v] == TLB_FLUSH_ASID -> tlb[c] = NONE
		:: else -> skip
		fi;
		/* The guest runs and uses the page. */
		do
		:: tlb[c] != NONE ->
			/* A TLB hit. */
#ifdef CHECK_RUNNING
			assert(tlb[c] >= done)
#else
			assert(tlb[c] >= floor[v])
#endif
		:: tlb[c] == NONE ->
			/* The nested walk reads the entry, then fills the TLB. */
			ver = pte_ver;
			if
			:: present(ver) ->
				assert(ver >= floor[v]);
				tlb[c] = ver;
				ver = 0
			:: else -> ver = 0; break /* nested page fault: #VMEXIT */
			fi
		:: true -> break /* any other #VMEXIT */
		od;
		/* After VMRUN: an owned ASID needs no flush on the next entry. */
		tlb_control[v] = TLB_NOTHING
	od
}

init {
	atomic {
		run requester();
		run cpu(0);
		run cpu(1)
	}
}
