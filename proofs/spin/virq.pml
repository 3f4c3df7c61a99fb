/*
 * Spin model of waiting for a virtual interrupt (kernel/virq.c,
 * kernel/include/kernel/virq.h, platform/arm64/virq.c arm64_virq_wfi):
 * a vCPU that executes WFI blocks until an interrupt for it is pending, and
 * an interrupt raised from another CPU at any moment must never be lost.
 *
 *   vCPU's CPU (platform then core)         injector (another CPU)
 *   irq_wake = 0                             pend the interrupt in the model
 *   look at the model: pending? -> resume    kernel lock:
 *   else kernel lock:                           irq_wake = 1
 *     irq_wake? -> resume                        BLOCKED -> READY
 *     else BLOCKED                               RUNNING -> kick its CPU
 *
 * A kick makes the vCPU's CPU look at the model again before it enters the
 * vCPU (arm64: the exit path refreshes the list registers); a READY vCPU
 * looks at the model when it runs. The vCPU repeats: WFI, and once it sees
 * the interrupt it takes it (pending back to 0). The injector raises up to
 * RAISES times.
 *
 * Checked: once the injector has finished, the vCPU is never asleep
 * (BLOCKED) with an interrupt pending, i.e. no raise was lost. A vCPU asleep
 * with nothing pending is a valid end state.
 * Mutants (must be rejected): -DBUG_NO_WAKE_FLAG leaves out the flag: the
 * core blocks the vCPU whatever happened since the platform looked, which is
 * the lost wake-up the flag exists to prevent; -DBUG_CLEAR_LATE clears the
 * flag after the look instead of before it.
 */

#define RAISES 2
#define WFIS 3

#define RUNNING 0
#define BLOCKED 1
#define READY 2

byte state = RUNNING;
bit pending = 0;  /* the interrupt model: one interrupt line for the vCPU */
bit irq_wake = 0; /* vcpu.irq_wake */
bit lock = 0;     /* the kernel lock */
bit kicked = 0;   /* a kick (IPI) is on its way to the vCPU's CPU */
bit inj_done = 0;

inline acquire() { atomic { lock == 0 -> lock = 1 } }
inline release() { lock = 0 }

active proctype vcpu()
{
	byte w = 0;
	do
	:: w < WFIS ->
		w++;
		/* WFI traps: the platform's look, then the core's decision. */
#ifndef BUG_CLEAR_LATE
		irq_wake = 0;
#endif
		if
		:: pending -> skip /* resume: it takes the interrupt below */
		:: else ->
#ifdef BUG_CLEAR_LATE
			irq_wake = 0; /* cleared after the look: a raise in between is forgotten */
#endif
			acquire();
#ifdef BUG_NO_WAKE_FLAG
			state = BLOCKED;
#else
			if
			:: irq_wake -> skip /* raised after the look: resume */
			:: else -> state = BLOCKED
			fi;
#endif
			release();
			/* Blocked: its CPU runs others until the injector makes it ready. */
			if
			:: state == BLOCKED ->
end_blocked:		(state == READY)
			:: else -> skip
			fi;
			if
			:: state == READY -> state = RUNNING
			:: else -> skip
			fi
		fi;
		/* Running (or about to re-enter after a kick): take what is pending. */
		if
		:: state == RUNNING && pending -> pending = 0
		:: else -> skip
		fi;
		kicked = 0
	:: else -> break
	od
}

active proctype injector()
{
	byte r = 0;
	do
	:: r < RAISES ->
		r++;
		pending = 1;
		acquire();
		irq_wake = 1;
		if
		:: state == BLOCKED -> state = READY
		:: state == RUNNING -> kicked = 1
		:: else -> skip
		fi;
		release()
	:: else -> break
	od;
	inj_done = 1
}

/*
 * Once the injector is done, a vCPU asleep must have nothing pending: it
 * would sleep through it for good (a vCPU blocked with nothing pending is a
 * valid end, hence the end labels).
 */
active proctype watcher()
{
end_watch:
	atomic { inj_done && state == BLOCKED -> assert(!pending) }
}
