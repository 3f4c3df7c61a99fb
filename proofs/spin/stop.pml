/*
 * Spin model of partition stop and fault handling: faults delivered as
 * kernel messages to a fault endpoint, handlers answering RESUME or STOP or
 * giving a fault up by receiving again, HC_EXIT, and partition_stop's
 * release of the faults and calls its vCPUs held (kernel/ipc.c,
 * kernel/partition.c, kernel/sched.c). Issue 8, defect 2: a STOP answer or
 * a released fault could stop the replier's own partition and the kernel
 * then queued or ran the stopped vCPU again.
 *
 * Two partitions A and B with two vCPUs each (vCPU v belongs to partition
 * v / 2). EA receives A's faults, EB receives B's. Who handles them is
 * chosen at the start, so both layouts are searched:
 *
 *   layout    A's vCPUs receive on   B's vCPUs receive on
 *   mutual    EB                     EA       (each handles the other's faults)
 *   self      EA                     EB       (a partition handles its own)
 *
 * Each vCPU then takes up to OPS steps, each any of: fault, receive on its
 * handler endpoint, reply_recv with RESUME or STOP, exit. A hypercall's
 * kernel part runs under the kernel lock: one atomic step here.
 *
 * Checked: the invariant `stopped` (every vCPU of a stopped partition is
 * STOPPED and on no queue, and nothing holds a reply right to it) in every
 * reachable state, by the watcher process; a vCPU never takes a step after
 * its partition stopped (assertion in the vCPU process).
 * Mutant (must be rejected): -DBUG_RESURRECT puts back the code before the
 * fix: one-pass partition_stop, release of a STOPPED caller makes it ready,
 * recv / reply_recv go on with a vCPU their own release or answer stopped.
 */

#define NV 4
#define NONE 255
#define OPS 3
#define EA 0
#define EB 1

/* vCPU states. */
#define RUN 0
#define B_RECV 1  /* waiting on an endpoint for a fault message */
#define B_SENDF 2 /* its fault is queued on its fault endpoint */
#define B_FAULT 3 /* its fault was taken by a handler: waiting for the answer */
#define STOPPED 4

#define RESUME 0
#define STOP 1

#define part(v) ((v) / 2)
#define fault_ep(v) (part(v))

byte st[NV];
byte caller[NV] = NONE; /* the faulted vCPU whose message this vCPU received */
bool recvq[NV];         /* queued as a receiver on endpoint handled[part(v)] */
bool sendq[NV];         /* its fault queued on fault_ep(v) */
bool stopped[2];
byte handled[2];        /* the endpoint each partition's vCPUs receive on */

hidden byte k, peer, c, w;

inline pop_receiver(ep, who) {
	who = NONE;
	k = 0;
	do
	:: k < NV && recvq[k] && handled[part(k)] == ep -> who = k; recvq[k] = false; break
	:: k < NV && !(recvq[k] && handled[part(k)] == ep) -> k++
	:: k >= NV -> break
	od
}

inline pop_sender(ep, who) {
	who = NONE;
	k = 0;
	do
	:: k < NV && sendq[k] && fault_ep(k) == ep -> who = k; sendq[k] = false; break
	:: k < NV && !(sendq[k] && fault_ep(k) == ep) -> k++
	:: k >= NV -> break
	od
}

/* sched_make_ready: the fixed kernel refuses a STOPPED vCPU. */
inline make_ready(x) {
#ifdef BUG_RESURRECT
	st[x] = RUN
#else
	if
	:: st[x] != STOPPED -> st[x] = RUN
	:: else -> skip
	fi
#endif
}

/*
 * The part of partition_stop that the fixed kernel does first for every
 * vCPU: off every queue, STOPPED. With the mutant, this and the release
 * below interleave vCPU by vCPU (stop_vcpu then cancel_vcpu for each).
 */
inline stop_vcpu(x) {
	recvq[x] = false;
	sendq[x] = false;
	st[x] = STOPPED;
	/* Servers holding x's reply right just lose it (ipc_cancel). */
	k = 0;
	do
	:: k < NV && caller[k] == x -> caller[k] = NONE; k++
	:: k < NV && caller[k] != x -> k++
	:: k >= NV -> break
	od
}

/*
 * ipc_release_caller for a caller whose handler gave it up. A faulted
 * caller's partition is stopped; the nested stop cannot recurse further
 * here: with two partitions its own release leads back into the first,
 * which is stopping already. So the inner stop is written out once.
 */
inline stop_inner(q) {
	if
	:: !stopped[q] ->
		stopped[q] = true;
#ifdef BUG_RESURRECT
		stop_vcpu(2 * q); release_inner(2 * q);
		stop_vcpu(2 * q + 1); release_inner(2 * q + 1)
#else
		stop_vcpu(2 * q); stop_vcpu(2 * q + 1);
		release_inner(2 * q); release_inner(2 * q + 1)
#endif
	:: else -> skip
	fi
}

/*
 * In the inner stop: a vCPU of the outer partition, released. That
 * partition is stopping already; the fixed kernel's vCPUs are all STOPPED
 * by now and make_ready refuses them.
 */
inline release_inner(x) {
	if
	:: caller[x] != NONE ->
		w = caller[x];
		caller[x] = NONE;
		if
		:: part(w) != part(x) -> make_ready(w)
		:: else -> skip
		fi
	:: else -> skip
	fi
}

inline release(x) {
#ifndef BUG_RESURRECT
	if
	:: st[x] == STOPPED -> skip
	:: else ->
#endif
		if
		:: st[x] == B_FAULT -> stop_inner(part(x))
		:: else -> make_ready(x)
		fi
#ifndef BUG_RESURRECT
	fi
#endif
}

/* ipc_cancel's release of what v held, in partition_stop. */
inline cancel_vcpu(x) {
	if
	:: caller[x] != NONE ->
		c = caller[x];
		caller[x] = NONE;
		if
		:: part(c) != part(x) -> release(c)
		:: else -> skip
		fi
	:: else -> skip
	fi
}

inline partition_stop(p) {
	if
	:: !stopped[p] ->
		stopped[p] = true;
#ifdef BUG_RESURRECT
		stop_vcpu(2 * p); cancel_vcpu(2 * p);
		stop_vcpu(2 * p + 1); cancel_vcpu(2 * p + 1)
#else
		stop_vcpu(2 * p); stop_vcpu(2 * p + 1);
		cancel_vcpu(2 * p); cancel_vcpu(2 * p + 1)
#endif
	:: else -> skip
	fi
}

/* A fault: a kernel call on the partition's fault endpoint. */
inline op_fault(v) {
	pop_receiver(fault_ep(v), peer);
	if
	:: peer == NONE -> st[v] = B_SENDF; sendq[v] = true
	:: else -> caller[peer] = v; st[v] = B_FAULT; st[peer] = RUN
	fi
}

/* The receive half: take a queued fault or block. */
inline recv_invoke(v) {
	pop_sender(handled[part(v)], peer);
	if
	:: peer != NONE -> caller[v] = peer; st[peer] = B_FAULT
	:: else -> st[v] = B_RECV; recvq[v] = true
	fi
}

/* HC_RECV: gives up a held fault first (the faulted partition stops). */
inline op_recv(v) {
	if
	:: caller[v] != NONE ->
		c = caller[v];
		caller[v] = NONE;
		release(c)
	:: else -> skip
	fi;
#ifdef BUG_RESURRECT
	recv_invoke(v)
#else
	if
	:: st[v] != STOPPED -> recv_invoke(v) /* else: its own partition stopped */
	:: else -> skip
	fi
#endif
}

/* HC_REPLY_RECV with an answer to the held fault. */
inline op_reply_recv(v, answer) {
	if
	:: caller[v] != NONE ->
		c = caller[v];
		caller[v] = NONE;
		if
		:: answer == RESUME -> make_ready(c)
		:: else -> partition_stop(part(c))
		fi
	:: else -> skip
	fi;
#ifdef BUG_RESURRECT
	recv_invoke(v)
#else
	if
	:: st[v] != STOPPED -> recv_invoke(v) /* else: the answer stopped its own partition */
	:: else -> skip
	fi
#endif
}

inline op_exit(v) {
	partition_stop(part(v))
}

proctype vcpu(byte me) {
	byte i = 0;
	do
	:: i < OPS ->
		/*
		 * It takes a step only while RUN, and the whole kernel entry is one
		 * atomic step: its partition must be live then.
		 */
end_wait:	atomic {
			st[me] == RUN ->
			assert(!stopped[part(me)]);
			if
			:: true -> op_fault(me)
			:: true -> op_recv(me)
			:: true -> op_reply_recv(me, RESUME)
			:: true -> op_reply_recv(me, STOP)
			:: true -> op_exit(me)
			fi
		};
		i++
	:: else -> break
	od
}

/* The invariant, in every reachable state. */
#define vcpu_ok(x) (!stopped[part(x)] || (st[x] == STOPPED && !recvq[x] && !sendq[x]))
#define held_ok(x) (caller[x] == NONE || st[caller[x]] == B_FAULT)
active proctype watcher() {
end_watch:
	atomic {
		!(vcpu_ok(0) && vcpu_ok(1) && vcpu_ok(2) && vcpu_ok(3) &&
		  held_ok(0) && held_ok(1) && held_ok(2) && held_ok(3)) -> assert(false)
	}
}

init {
	atomic {
		if
		:: handled[0] = EB; handled[1] = EA /* mutual */
		:: handled[0] = EA; handled[1] = EB /* self */
		fi;
		run vcpu(0);
		run vcpu(1);
		run vcpu(2);
		run vcpu(3)
	}
}
