/*
 * Spin model of the lockless console calls against a partition's stop
 * (kernel/trap.c trap_console, kernel/vcpu.c vcpu_lockless_close,
 * kernel/partition.c partition_stop): a console call runs without the
 * kernel lock, while another CPU, holding it, may stop and restart the
 * calling vCPU, which resets its registers (a new life).
 *
 * One vCPU on CPU 1 (process cpu1) makes up to CALLS console calls; each
 * starts from a trap taken while the vCPU ran, in the life it ran in. The
 * call either enters the lockless way (compare-and-swap of `lockless` from
 * OPEN to IN) or, finding it CLOSED, takes the kernel lock, where it runs
 * only if the vCPU still runs (and opens the way again). Its work is two
 * steps (it reads its arguments, then writes its answer), so a stop can
 * fall between them. CPU 0 (process stopper) takes the kernel lock up to
 * STOPS times and, if the vCPU runs, stops it: it closes the vCPU's way
 * (waits while IN, swaps OPEN to CLOSED) and then restarts it (life + 1,
 * registers reset, ready again); CPU 1 enters it again under the lock.
 *
 * Checked (assertions): each step of a call's work happens while the vCPU
 * runs in the life the call trapped in, i.e. no call reads or writes the
 * registers of a vCPU that was stopped and reset meanwhile; no invalid end
 * state (the stop's wait always ends). Memory is sequentially consistent:
 * the two sides meet on the one byte `lockless` (one location, so its
 * changes are in one order for both CPUs).
 * Mutants (must be rejected): -DBUG_NO_CLOSE, the stop does not wait for
 * the call under way; -DBUG_SPLIT_ENTER, the call tests OPEN and then sets
 * IN in two steps instead of one compare-and-swap.
 */

#define CALLS 3
#define STOPS 3

#define OPEN 0
#define IN 1
#define CLOSED 2

#define RUNNING 0
#define STOPPED 1
#define READY 2

byte lockless = OPEN;
byte state = RUNNING;
byte life = 0;
bit klock = 0;

inline lock()
{
	atomic { klock == 0 -> klock = 1 }
}

inline unlock()
{
	klock = 0
}

/* A console call's work: its arguments, then its answer, in its own life. */
inline work(mine)
{
	assert(state == RUNNING && life == mine);
	assert(state == RUNNING && life == mine)
}

active proctype cpu1()
{
	byte calls = 0, mine;
	bit ran;
	do
	:: calls < CALLS ->
		if
		:: atomic { state == RUNNING -> mine = life; calls++ } ->
			/* It trapped for a console call. */
#ifdef BUG_SPLIT_ENTER
			if
			:: lockless == OPEN -> lockless = IN; ran = 1
			:: else -> ran = 0
			fi;
#else
			if
			:: atomic { lockless == OPEN -> lockless = IN; ran = 1 }
			:: atomic { lockless != OPEN -> ran = 0 }
			fi;
#endif
			if
			:: ran ->
				work(mine);
				lockless = OPEN
			:: else ->
				lock();
				if
				:: state == RUNNING ->
					lockless = OPEN;
					work(mine)
				:: else -> skip /* stopped: the old life's call, dropped */
				fi;
				unlock()
			fi
		:: atomic { state == READY -> skip } ->
			/* Restarted: this CPU enters it again (kernel_idle). */
			lock();
			if
			:: state == READY -> state = RUNNING
			:: else -> skip
			fi;
			unlock()
		fi
	:: calls == CALLS -> break
	od
}

active proctype stopper()
{
	byte tries = 0;
	do
	:: tries < STOPS ->
		tries++;
		lock();
		if
		:: state == RUNNING ->
#ifndef BUG_NO_CLOSE
			/* vcpu_lockless_close: wait while IN; OPEN becomes CLOSED. */
			if
			:: atomic { lockless == OPEN -> lockless = CLOSED }
			:: atomic { lockless == CLOSED -> skip }
			fi;
#endif
			state = STOPPED;
			life++; /* partition_revive: registers reset */
			state = READY
		:: else -> skip
		fi;
		unlock()
	:: tries == STOPS -> break
	od
}
